/* kbroker.h -- the broker's shared types: config, server, connections, API handlers */
#ifndef KBROKER_H
#define KBROKER_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_logconf.h"
#include "kp_net.h"
#include "kp_wire.h"

struct kp_store;
struct kp_log;

/* ---- config.c: server.properties names, -o overrides ---- */

struct kb_kv {
	char	*key;
	char	*value;
};

struct kb_config {
	struct kb_kv	*kv;		/* every key=value given, last wins */
	size_t		 nkv;
	/* Parsed from kv by kb_config_finish: */
	char		*data_dir;	/* log.dirs (first entry) */
	struct kp_addr	*listen;	/* listeners / --listen */
	size_t		 nlisten;
	char		*socket_path;	/* --socket, NULL: from listeners */
	bool		 no_socket;	/* --no-socket */
	int32_t		 broker_id;	/* broker.id / node.id */
	int32_t		 num_partitions;
	bool		 auto_create;	/* auto.create.topics.enable */
	bool		 delete_enable;	/* delete.topic.enable */
	int64_t		 request_max;	/* socket.request.max.bytes */
	int64_t		 max_connections;
	int64_t		 queued_max;	/* queued.max.request.bytes */
	int64_t		 idle_ms;	/* connections.max.idle.ms */
	int64_t		 tick_ms;	/* log.retention.check.interval.ms */
	/* replica.high.watermark.checkpoint.interval.ms */
	int64_t		 ckpt_ms;
	bool		 acks_all_fsync; /* kpipe.acks.all.fsync */
	int64_t		 log_cache_bytes; /* kpipe.log.cache.bytes */
	/* Cluster mode (cluster.h), on when zk_connect is set: */
	char		*zk_connect;	/* zookeeper.connect */
	int64_t		 zk_session_ms;	/* zookeeper.session.timeout.ms */
	int64_t		 zk_connect_ms;	/* zookeeper.connection.timeout.ms */
	int64_t		 replica_lag_ms; /* replica.lag.time.max.ms */
	int16_t		 default_rf;	/* default.replication.factor */
	bool		 unclean_election; /* unclean.leader.election.enable */
	struct kp_logconf log;		/* log.* defaults for topics */
	int		 verbose;
};

void	 kb_config_init(struct kb_config *);
void	 kb_config_release(struct kb_config *);
/* Record key=value (last one wins). 0, or -1 with errno. */
int	 kb_config_set(struct kb_config *, const char *, const char *);
/* "key=value" as -o takes it. 0, or -1 (EINVAL without '='). */
int	 kb_config_set_pair(struct kb_config *, const char *);
/*
 * Read a properties file (key=value or key: value, # and ! comments,
 * blank lines). 0, or -1 with errno; *line is set to the bad line number
 * (0 for an I/O error).
 */
int	 kb_config_load(struct kb_config *, const char *, int *);
/* The raw value of a key, or def (borrowed). For handler files' own keys. */
const char *kb_config_get(const struct kb_config *, const char *,
	    const char *);
/*
 * Turn the recorded pairs into the typed fields above. Returns 0, or -1
 * with a message in err (for "kbroker: %s").
 */
int	 kb_config_finish(struct kb_config *, char *, size_t);
/* True when a key is one kbroker knows (topic, log.* or server key). */
bool	 kb_config_known(const char *);

/* ---- server.c / conn.c ---- */

struct kb_listener {
	int		 fd;
	struct kp_addr	 addr;		/* as bound (the real port) */
	char		 name[KP_ADDR_STR_MAX];
};

struct kb_conn;
struct kb_resp;
struct kb_broker;

/* One piece of an outgoing response: memory or a file region. */
struct kb_chunk {
	int		 fd;		/* -1: bytes [off, off+len) of buf */
	off_t		 off;
	size_t		 len;
};

struct kb_resp {
	TAILQ_ENTRY(kb_resp) link;
	struct kb_conn	*conn;
	struct kp_buf	 buf;		/* memory bytes of the response */
	struct kb_chunk	*chunks;
	size_t		 nchunks, chunks_cap;
	size_t		 cur;		/* chunk being sent */
	size_t		 total;		/* bytes of all chunks */
	size_t		 mem_mark;	/* buf bytes already in chunks */
	size_t		 cost;		/* memory held beyond the wire bytes */
	bool		 ready;		/* complete, may be sent */
	bool		 parked;	/* complete, held for a sync (durable.c) */
	bool		 hw_parked;	/* and/or for the high watermark (isr.c) */
	/* A deferred (long-polling) request waits here: */
	uint8_t		*req;		/* a copy of the request payload */
	size_t		 req_len;
	int64_t		 deadline;	/* monotonic ms */
	TAILQ_ENTRY(kb_resp) wait_link;
	bool		 waiting;
};

TAILQ_HEAD(kb_resp_q, kb_resp);

struct kb_conn {
	TAILQ_ENTRY(kb_conn) link;
	struct kb_broker *b;
	int		 fd;
	struct kb_listener *lis;
	struct kp_addr	 local;		/* getsockname: what we advertise */
	char		 peer[KP_ADDR_STR_MAX];
	struct kp_buf	 in;
	struct kb_resp_q resps;		/* in request order */
	size_t		 queued;	/* bytes not yet sent */
	size_t		 accounted;	/* part of queued in b->queued_total */
	int64_t		 last_active;
	uint32_t	 events;	/* registered with epoll */
	bool		 closing;	/* close once the queue is sent */
	bool		 backlog;	/* whole frames left for the next round */
	uint64_t	 round;		/* loop round of round_reqs */
	int		 round_reqs;	/* requests handled in that round */
	bool		 dead;
	bool		 is_unix;
};

TAILQ_HEAD(kb_conn_q, kb_conn);

struct kb_broker {
	struct kb_config *cfg;
	struct kp_store	*store;
	int		 epfd;
	int		 sigfd;
	struct kb_listener *lis;
	size_t		 nlis;
	struct kb_conn_q conns;
	size_t		 nconns;
	size_t		 queued_total;	/* output queued on all connections */
	struct kb_resp_q waiting;	/* deferred requests (long polls) */
	struct kp_arena	 arena;		/* per request */
	struct kp_arena	 wait_arena;	/* for deferred requests run again */
	bool		 wake;		/* data arrived: run waiters */
	uint64_t	 round;		/* event loop rounds */
	size_t		 backlogged;	/* connections with c->backlog */
	bool		 stopping;
	int64_t		 next_tick;
	char		 cluster_id[32];
	struct kb_repl	*repl;		/* isr.c, replica.c: cluster mode */
	int64_t		 next_pid;	/* InitProducerId */
	struct kb_pstate *pstate;	/* producer_state.c */
	void		*group;		/* for group.c */
	struct kb_durable *durable;	/* durable.c */
	struct kb_cluster *cluster;	/* zk.c, NULL in single-node mode */
};

/* Monotonic and wall clock, in ms. */
int64_t	 kb_now_mono(void);
int64_t	 kb_now_wall(void);

/* Log one line to stderr, "kbroker: ..."; kb_debug only with -v. */
void	 kb_log(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 kb_debug(const struct kb_broker *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

int	 kb_server_run(struct kb_broker *);

/* conn.c */
struct kb_conn	*kb_conn_new(struct kb_broker *, int, struct kb_listener *);
void		 kb_conn_free(struct kb_conn *);
/* Read what is there and answer whole frames. -1: close the connection. */
int		 kb_conn_on_read(struct kb_conn *);
/* Send queued responses. -1: close the connection. */
int		 kb_conn_on_write(struct kb_conn *);
/* Re-register epoll interest from the queue state. */
void		 kb_conn_update_events(struct kb_conn *);
/* Take a closing connection's queue out of the broker's total. */
void		 kb_conn_forget_queue(struct kb_conn *);

/* ---- request dispatch (dispatch.c) ---- */

/*
 * What a handler sees: the decoded header, the body after it, the
 * per-request arena, the response being built (header already written),
 * and whether this is a deferred request run again (woken or timed out).
 */
struct kb_req {
	struct kb_broker	*b;
	struct kb_conn		*c;
	struct kp_req_header	 hdr;
	const uint8_t		*body;
	size_t			 body_len;
	struct kp_arena		*arena;
	struct kb_resp		*resp;
	bool			 retry;		/* run again after a defer */
	bool			 expired;	/* its deadline has passed */
};

/* Handler results. */
/*
 * kpipe.log.cache.bytes by default: the newest appended bytes kept in the
 * page cache, shared by the partitions being written (see kp_pagecache.c).
 */
#define KB_LOG_CACHE_BYTES	((int64_t)256 << 20)
/*
 * group.initial.rebalance.delay.ms: 0, as in the server.properties Kafka
 * ships, not its code's 3000: with 3000 every `kconsume -g ... -e` of a
 * script waited 3 s for members that never come.
 */
#define KB_GROUP_INITIAL_DELAY_MS	0

#define KB_DONE		0	/* the response body is in resp */
#define KB_CLOSE	(-1)	/* close the connection */
#define KB_NO_RESPONSE	1	/* no response at all (acks=0) */
#define KB_DEFER	2	/* wait: run again on wake or at deadline */

typedef int	kb_handler_fn(struct kb_req *);

struct kb_api {
	int16_t		 key;
	int16_t		 min, max;	/* advertised in ApiVersions */
	kb_handler_fn	*fn;
};

/*
 * Handler files register their APIs from a constructor, so adding an API
 * area is adding a file: KB_API(produce, KP_API_PRODUCE, 0, 7, fn).
 * ApiVersions is generated from the registered table: nothing
 * unregistered is ever advertised.
 */
void	 kb_api_register(const struct kb_api *);
const struct kb_api *kb_api_find(int16_t);
size_t	 kb_api_count(void);
const struct kb_api *kb_api_at(size_t);	/* sorted by key */

#define KB_API(name, key_, min_, max_, fn_)				\
	static const struct kb_api kb_api_##name = {			\
		(key_), (min_), (max_), (fn_) };			\
	__attribute__((constructor)) static void			\
	kb_api_reg_##name(void) { kb_api_register(&kb_api_##name); }

/*
 * Handle one request frame's payload (header + body). Returns KB_CLOSE
 * to close the connection, else 0.
 */
int	 kb_dispatch(struct kb_conn *, const uint8_t *, size_t);
/* Run deferred requests again: woken is false when only timing out. */
void	 kb_wake_waiters(struct kb_broker *, bool);
/* Wait time until the next deferred request's deadline (ms, -1 none). */
int	 kb_waiters_timeout(struct kb_broker *);
/* Drop a connection's deferred requests (it is closing). */
void	 kb_waiters_forget(struct kb_broker *, struct kb_conn *);

/* Response building (conn.c). */
struct kb_resp	*kb_resp_new(struct kb_conn *);
void		 kb_resp_free(struct kb_resp *);
/* The memory buffer handlers encode into. */
static inline struct kp_buf *
kb_resp_buf(struct kb_resp *r)
{
	return &r->buf;
}
/*
 * Append a region of an open file (sent with sendfile). fd is dup'ed, so
 * the caller's fd may close. 0, or -1 with errno.
 */
int		 kb_resp_add_file(struct kb_resp *, int, off_t, size_t);
/* Seal: set the frame size and mark ready to send. 0, or -1 (ENOMEM). */
int		 kb_resp_finish(struct kb_resp *);

/*
 * Hooks for handler files that keep state (the group coordinator, the
 * producer state): init after the store is open and before listening
 * (-1 aborts startup), tick with the periodic log work, fini before the
 * store closes. Any of them may be NULL.
 */
struct kb_hook {
	const char	*name;
	int		(*init)(struct kb_broker *);
	void		(*tick)(struct kb_broker *, int64_t now_ms);
	void		(*fini)(struct kb_broker *);
};

void	 kb_hook_register(const struct kb_hook *);
int	 kb_init_hooks(struct kb_broker *);
void	 kb_tick_hooks(struct kb_broker *, int64_t);
void	 kb_fini_hooks(struct kb_broker *);

#define KB_HOOK(name, init_, tick_, fini_)				\
	static const struct kb_hook kb_hook_##name = {			\
		#name, (init_), (tick_), (fini_) };			\
	__attribute__((constructor)) static void			\
	kb_hook_reg_##name(void) { kb_hook_register(&kb_hook_##name); }

/*
 * group.c: the coordinator's timers (ms until the next, -1 none; fire
 * what is due) and forgetting a closing connection's parked requests.
 */
int	 kb_group_timeout(struct kb_broker *);
void	 kb_group_poll(struct kb_broker *);
void	 kb_group_forget_conn(struct kb_broker *, struct kb_conn *);

/* ---- shared helpers for handlers ---- */

/* The store's log for topic/partition, NULL if unknown. */
struct kp_log	*kb_log_for(struct kb_broker *, const struct kp_str *,
		    int32_t);
/*
 * Create a topic with the broker defaults if auto-creation is on and the
 * name is valid. Returns KP_NONE or a Kafka error.
 */
int		 kb_auto_create(struct kb_broker *, const struct kp_str *);
/* A NUL-terminated copy of a borrowed string in the arena, or NULL. */
char		*kb_arena_str(struct kp_arena *, const struct kp_str *);
/* A kp_str view of a C string. */
struct kp_str	 kb_str(const char *);

/*
 * durable.c: kpipe.acks.all.fsync. A Produce with acks=all marks the logs
 * it appended to dirty and parks its response; kb_durable_commit, at the
 * end of each loop round, hands the round's logs to the sync thread,
 * which fdatasyncs each once (group commit) and wakes the loop through
 * the epoll tag KB_TAG_DURABLE: kb_durable_on_event releases the parked
 * responses.
 */
#define KB_TAG_DURABLE	((uint64_t)1 << 61)
bool	 kb_durable_wanted(const struct kb_broker *, int16_t acks);
int	 kb_durable_dirty(struct kb_broker *, struct kp_log *);
int	 kb_durable_park(struct kb_broker *, struct kb_resp *);
void	 kb_durable_commit(struct kb_broker *);
void	 kb_durable_on_event(struct kb_broker *);
void	 kb_durable_forget(struct kb_broker *, struct kb_conn *);
void	 kb_durable_drop_log(struct kb_broker *, struct kp_log *);

/* producer_state.c: idempotent producers. */
struct kb_pstate;
struct kb_pstate *kb_pstate_new(void);
void		 kb_pstate_free(struct kb_pstate *);
/*
 * Before appending a batch from an idempotent producer: KP_NONE to
 * append, KP_DUPLICATE_SEQUENCE_NUMBER with *dup_offset the original base
 * offset, or KP_OUT_OF_ORDER_SEQUENCE_NUMBER / KP_INVALID_PRODUCER_EPOCH
 * / KP_UNKNOWN_PRODUCER_ID.
 */
int		 kb_pstate_check(struct kb_broker *, struct kp_log *,
		    int64_t pid, int16_t epoch, int32_t seq, int32_t count,
		    int64_t *dup_offset);
/* After a successful append. */
void		 kb_pstate_update(struct kb_broker *, struct kp_log *,
		    int64_t pid, int16_t epoch, int32_t seq, int32_t count,
		    int64_t base_offset);
/*
 * Forget a log's producers and delete its snapshot (the log was cut or
 * is going away).
 */
void		 kb_pstate_drop_log(struct kb_broker *, struct kp_log *);
/*
 * Call after appending to log (leader or follower, after
 * kb_pstate_update) with its log end before the append: writes the
 * partition's producer state snapshot when the log rolled.
 */
void		 kb_pstate_appended(struct kb_broker *, struct kp_log *,
		    int64_t prev_end);

#endif
