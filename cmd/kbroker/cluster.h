/* cluster.h -- cluster mode: brokers, partitions and leaders as ZooKeeper holds them, and what the loop does with them */
#ifndef KB_CLUSTER_H
#define KB_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kb_broker;
struct kb_req;
struct kp_log;
struct kp_str;

/*
 * Cluster mode is on when zookeeper.connect is set; without it kbroker is
 * the single-node broker it always was and none of this runs.
 *
 * ZooKeeper holds the truth in Kafka's own layout, so Kafka's tools could
 * read it: /brokers/ids/<id> (ephemeral registration), /controller
 * (ephemeral, the elected controller), /controller_epoch, /cluster/id,
 * /brokers/topics/<topic> (the replica assignment) and
 * /brokers/topics/<topic>/partitions/<p>/state (leader, leader_epoch,
 * isr, controller_epoch), /config/topics/<topic> (topic configs),
 * /admin/delete_topics/<topic>.
 *
 * One thread (zk.c) owns the ZooKeeper session. It watches those paths,
 * builds an immutable view of them and hands the newest to the loop
 * through an eventfd registered with the epoll tag KB_TAG_CLUSTER. The
 * loop thread alone reads views and touches logs; it writes to ZooKeeper
 * with the blocking calls below (admin requests and ISR changes are rare).
 * While this broker holds /controller, the same thread also runs the
 * controller (controller.c): states for new partitions, leader election
 * from the ISR when a leader's broker goes away, deletions.
 */
#define KB_TAG_CLUSTER	((uint64_t)1 << 60)

struct kb_cl_broker {
	int32_t		 id;
	char		*host;		/* as registered: advertised listener */
	int32_t		 port;
};

struct kb_cl_part {
	int32_t		 leader;	/* broker id, -1: offline */
	int32_t		 leader_epoch;
	int32_t		*replicas;	/* assignment order; [0] is preferred */
	int32_t		 nreplicas;
	int32_t		*isr;
	int32_t		 nisr;
	int32_t		 version;	/* of the state znode, -1: no state yet */
	/* A reassignment in progress (Kafka's adding/removing replicas): */
	int32_t		*adding;
	int32_t		 nadding;
	int32_t		*removing;
	int32_t		 nremoving;
};

struct kb_cl_topic {
	char		*name;
	struct kb_cl_part *parts;	/* index = partition id */
	int32_t		 nparts;
	bool		 deleting;	/* under /admin/delete_topics */
	int32_t		 version;	/* of the assignment znode */
	/*
	 * For apply.c and metadata.c: the topic id of
	 * /brokers/topics/<topic> ("topic_id", all zero: none known), so
	 * every broker reports the same one; and the overrides of
	 * /config/topics/<topic> ({"version":1,"config":{...}}), which
	 * apply.c gives the local logs: ncfg pairs (cfg_keys NULL: none).
	 */
	uint8_t		 id[16];
	char		**cfg_keys;
	char		**cfg_vals;
	size_t		 ncfg;
};

/* An immutable snapshot; the loop frees the old one when a new one comes. */
struct kb_cl_view {
	uint64_t	 gen;		/* grows with every new view */
	int32_t		 controller;	/* broker id, -1: none right now */
	struct kb_cl_broker *brokers;	/* live brokers, sorted by id */
	size_t		 nbrokers;
	struct kb_cl_topic *topics;	/* sorted by name */
	size_t		 ntopics;
};

/* ---- zk.c / controller.c / view.c ---- */

bool	 kb_cluster_mode(const struct kb_broker *);
/* The current view, NULL before the first one (or in single-node mode). */
const struct kb_cl_view *kb_cluster_view(const struct kb_broker *);
const struct kb_cl_topic *kb_cl_topic(const struct kb_cl_view *,
	    const char *);
const struct kb_cl_broker *kb_cl_broker(const struct kb_cl_view *, int32_t);
bool	 kb_cl_in(const int32_t *, int32_t, int32_t);	/* id in a list */
/*
 * Does partition p of topic (name: the same, as sent) exist? On a single
 * node its log is here; in a cluster the view says, since a coordinator
 * need not hold the partitions its groups and transactions name.
 */
bool	 kb_part_known(struct kb_broker *, const struct kp_str *name,
	    const char *topic, int32_t p);
/* The loop's KB_TAG_CLUSTER event: take the newest view, then apply it. */
void	 kb_cluster_on_event(struct kb_broker *);
/*
 * server.c: after the listeners are open (the registration advertises
 * their port) connect to ZooKeeper, create the persistent paths, take the
 * cluster id and start the session thread; -1 (logged) aborts startup.
 * Stop closes the session (the registration goes at once) and frees the
 * views. Both do nothing in single-node mode.
 */
int	 kb_cluster_start(struct kb_broker *);
void	 kb_cluster_stop(struct kb_broker *);
/*
 * Writes, from the loop thread; each returns KP_NONE or a Kafka error
 * code (KP_TOPIC_ALREADY_EXISTS, KP_INVALID_REPLICATION_FACTOR,
 * KP_UNKNOWN_TOPIC_OR_PARTITION, KP_NOT_CONTROLLER, KP_REQUEST_TIMED_OUT
 * when ZooKeeper does not answer within the session timeout, ...).
 * assign: NULL to spread replicas over the live brokers as Kafka does,
 * else nparts arrays of rf broker ids.
 */
int	 kb_cluster_create_topic(struct kb_broker *, const char *,
	    int32_t nparts, int16_t rf, int32_t *const *assign,
	    const char *const *cfg_keys, const char *const *cfg_vals,
	    size_t ncfg);
int	 kb_cluster_delete_topic(struct kb_broker *, const char *);
int	 kb_cluster_add_partitions(struct kb_broker *, const char *,
	    int32_t total);
/*
 * A topic's complete overrides into /config/topics/<topic> (replacing
 * what was there); the next view carries them to every broker. KP_NONE,
 * KP_UNKNOWN_TOPIC_OR_PARTITION or KP_REQUEST_TIMED_OUT.
 */
int	 kb_cluster_set_topic_configs(struct kb_broker *, const char *,
	    const char *const *, const char *const *, size_t);
/*
 * A leader's ISR change (Kafka's AlterPartition done the ZooKeeper way):
 * a conditional write on the state znode's version; KP_NONE, or
 * KP_FENCED_LEADER_EPOCH / KP_NOT_LEADER_OR_FOLLOWER when the state moved
 * on (the next view tells the new truth).
 */
int	 kb_cluster_set_isr(struct kb_broker *, const char *, int32_t part,
	    const int32_t *isr, int32_t nisr);
/* kreplicate: new replica lists; preferred or unclean leader election. */
int	 kb_cluster_reassign(struct kb_broker *, const char *, int32_t part,
	    const int32_t *replicas, int32_t n);
int	 kb_cluster_elect(struct kb_broker *, const char *, int32_t part,
	    bool unclean);
/*
 * Does the view show every reassignment (or cancellation) this broker
 * wrote to topic (NULL: to any topic)? Kafka's controller answers
 * ListPartitionReassignments from the context its own writes update; the
 * view follows ZooKeeper a moment later, so the list waits for it.
 */
bool	 kb_cluster_moves_seen(struct kb_broker *, const char *);

/*
 * group.c: internal topics (__consumer_offsets, __transaction_state).
 * Create one through ZooKeeper, compacted, nparts partitions, replication
 * factor from config key rf_key (default 3) capped at the live brokers:
 * KP_NONE or a Kafka error. The partition key hashes to and its leader
 * (-1: none now): false when the topic is not in the view (yet).
 */
int	 kb_cluster_create_internal(struct kb_broker *, const char *topic,
	    int32_t nparts, const char *rf_key);
bool	 kb_cluster_key_partition(struct kb_broker *, const char *topic,
	    const char *key, int32_t *part, int32_t *leader);

/* ---- apply.c: what this broker does with a new view ---- */

/*
 * Called by kb_cluster_on_event with the previous view (NULL the first
 * time) and the new one: open logs for partitions this broker now
 * replicates, remove those of deleted topics or moved-away replicas,
 * become leader (new epoch) or follower (truncate, then fetch).
 */
void	 kb_cluster_apply(struct kb_broker *, const struct kb_cl_view *,
	    const struct kb_cl_view *);
/*
 * May this broker serve topic/part to a client (produce, consumer fetch,
 * ListOffsets, DeleteRecords)? KP_NONE when it leads it,
 * KP_NOT_LEADER_OR_FOLLOWER, KP_LEADER_NOT_AVAILABLE (offline), or
 * KP_UNKNOWN_TOPIC_OR_PARTITION. Always KP_NONE in single-node mode.
 */
int	 kb_cluster_check_leader(struct kb_broker *, const char *, int32_t);
/* The leader epoch to report for a partition (0 in single-node mode). */
int32_t	 kb_cluster_leader_epoch(struct kb_broker *, const char *, int32_t);
/*
 * The same two for a request's topic (a kp_str).
 */
int	 kb_cluster_check_leader_s(struct kb_broker *, const struct kp_str *,
	    int32_t);
int32_t	 kb_cluster_leader_epoch_s(struct kb_broker *, const struct kp_str *,
	    int32_t);
/* default.replication.factor (metadata.c; 1 unless set). */
int16_t	 kb_cluster_default_rf(struct kb_broker *);
/*
 * kb_cluster_check_leader_s, then the request's current leader epoch
 * (-1: none given) against ours: KP_FENCED_LEADER_EPOCH when older,
 * KP_UNKNOWN_LEADER_EPOCH when newer (KIP-320).
 */
int	 kb_cluster_serve_check(struct kb_broker *, const struct kp_str *,
	    int32_t, int32_t);

/* ---- replica.c / isr.c: replication ---- */

/*
 * Leader side. A Fetch with replica_id >= 0 is a follower's: its fetch
 * offset is that replica's log end offset. The high watermark is the
 * smallest log end offset in the ISR; a follower caught up to the log end
 * joins the ISR, one that has not caught up for replica.lag.time.max.ms
 * leaves it (kb_cluster_set_isr). Consumers read below the high
 * watermark; followers up to the log end.
 */
void	 kb_repl_follower_fetched(struct kb_broker *, int32_t replica,
	    const char *, int32_t part, int64_t fetch_offset);
/*
 * acks=all in cluster mode: the response waits until the high watermark
 * passes end (the appended batches' next offset) or the request times out
 * (KP_REQUEST_TIMED_OUT); KP_NOT_ENOUGH_REPLICAS is answered before
 * appending when the ISR is smaller than min.insync.replicas.
 */
int	 kb_repl_min_isr_ok(struct kb_broker *, const char *, int32_t);
int	 kb_repl_park_for_hw(struct kb_broker *, struct kb_req *,
	    const char *, int32_t part, int64_t end);
/*
 * The same wait for an encoded response that lists per topic its
 * partitions' error codes (OffsetCommit, TxnOffsetCommit,
 * AddPartitionsToTxn) whose records went to partition part of an
 * internal topic, for timeout_ms at most. A failure sets every partition
 * answered without error to Kafka's error for the API (OffsetCommit's:
 * REQUEST_TIMED_OUT, COORDINATOR_NOT_AVAILABLE for too small an ISR,
 * NOT_COORDINATOR for lost leadership; AddPartitionsToTxn's: the
 * coordinator's COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR). done(arg,
 * failed), when not NULL, is called exactly once: failed when the client
 * is told the write failed, false when it succeeded or its answer was
 * dropped.
 */
typedef void	 kb_park_done_fn(void *arg, bool failed);
#define KB_COMMIT_TIMEOUT_MS 5000	/* Kafka's offsets.commit.timeout.ms */
int	 kb_repl_park_parts(struct kb_broker *, struct kb_req *,
	    const char *, int32_t part, int64_t end, int64_t timeout_ms,
	    kb_park_done_fn *done, void *arg);
/*
 * KIP-207: a new leader's high watermark may lag the start of its epoch
 * until its followers fetch from it; meanwhile a client's ListOffsets
 * gets KP_OFFSET_NOT_AVAILABLE (retriable), not an end that is too small
 * (a consumer reading "to the end" would stop before records it was
 * told are committed). KP_NONE otherwise, and in single-node mode.
 */
int	 kb_repl_offsets_check(struct kb_broker *, const struct kp_str *,
	    int32_t part);
/*
 * The same wait for another request whose own write must be replicated
 * first (the transaction coordinator's state): its answer waits until
 * the HW passes end or timeout_ms; a failure is written, as the
 * coordinator answers it, as the int16 at byte errpos of the encoded
 * response (size prefix included).
 */
int	 kb_repl_park_resp(struct kb_broker *, struct kb_req *,
	    const char *, int32_t part, int64_t end, int64_t timeout_ms,
	    size_t errpos);
/* Follower side: fetcher connections to leaders, driven by the loop. */
void	 kb_repl_follow(struct kb_broker *, const char *, int32_t part,
	    int32_t leader, int32_t leader_epoch);
void	 kb_repl_unfollow(struct kb_broker *, const char *, int32_t part);


/*
 * kb_repl_lead: apply.c, for every view in which this
 * broker leads the partition (a new epoch resets the followers' state
 * and starts the epoch in the leader-epoch cache; the same epoch only
 * catches up with the view's ISR). kb_repl_appended: produce.c after a
 * leader's append, in cluster mode (the high watermark moves only here
 * and on follower fetches). The fetchers' sockets and the replication
 * timer carry KB_TAG_REPL in epoll (server.c calls kb_repl_on_event);
 * a closing connection's parked acks=all responses are forgotten.
 */
#define KB_TAG_REPL	((uint64_t)1 << 59)
#define KB_TAG_IS_REPL(t) (((t) & ~(uint64_t)0xffffffff) == KB_TAG_REPL)
struct kb_conn;
void	 kb_repl_lead(struct kb_broker *, const char *, int32_t part,
	    int32_t leader_epoch);
void	 kb_repl_appended(struct kb_broker *, const char *, int32_t part);
void	 kb_repl_on_event(struct kb_broker *, uint64_t, uint32_t);
void	 kb_repl_forget_conn(struct kb_broker *, struct kb_conn *);

#endif
