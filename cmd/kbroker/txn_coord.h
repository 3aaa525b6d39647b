/* txn_coord.h -- the transaction coordinator's calls for other handler files */
#ifndef KB_TXN_COORD_H
#define KB_TXN_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_coord.h"
#include "kp_proto_admin.h"
#include "kbroker.h"

struct kp_topic;

/*
 * txn_coord.c. InitProducerId with a transactional id (producer_state.c
 * hands its transactional branch here): fills rs and returns KB_DONE, or
 * KB_CLOSE.
 */
int	 kb_txn_init_producer_id(struct kb_req *,
	    const struct kp_init_producer_id_req *,
	    struct kp_init_producer_id_resp *);
/*
 * May producer pid at epoch act for transactional id now (TxnOffsetCommit)?
 * KP_NONE, KP_INVALID_PRODUCER_ID_MAPPING (unknown id, another producer),
 * KP_PRODUCER_FENCED (an older epoch), KP_CONCURRENT_TRANSACTIONS
 * (ending), KP_INVALID_TXN_STATE (no transaction open).
 */
int16_t	 kb_txn_check_producer(struct kb_broker *, const char *id,
	    int64_t pid, int16_t epoch);
/* Is topic/partition part of the id's transaction? */
bool	 kb_txn_has_partition(struct kb_broker *, const char *id,
	    const char *topic, int32_t partition);

/*
 * txn_offsets.c. The offsets loader replays an offset a transactional batch of producer
 * pid stored on __consumer_offsets partition part: pending until that
 * producer's marker there (kb_offsets_txn_marker).
 */
void	 kb_txn_offsets_replayed(struct kb_broker *, int32_t part,
	    int64_t pid, const char *group, const struct kp_coord_offset *);

/*
 * Cluster mode. kb_txn_create_state_topic: __transaction_state through
 * ZooKeeper (FindCoordinator key_type 1 on first use). kb_txn_coord_poll:
 * isr.c's replication timer (every 100 ms): load the state of
 * __transaction_state partitions this broker came to lead, forget those
 * it lost, move ending transactions on as their markers are answered,
 * abort timed-out ones.
 */
int	 kb_txn_create_state_topic(struct kb_broker *);
void	 kb_txn_coord_poll(struct kb_broker *);
/*
 * Cluster mode: something an ending transaction may wait for happened
 * (isr.c moved the high watermark of __transaction_state, txn_markers.c
 * got answers); kb_txn_coord_round, at the end of the loop round, moves
 * ending transactions on.
 */
void	 kb_txn_coord_nudge(void);
void	 kb_txn_coord_round(void);

/*
 * txn_markers.c: a marker for a partition another broker leads, sent as
 * WriteTxnMarkers by a sender thread once kb_txn_markers_send is called.
 * Call again with the same arguments to poll: KB_TXN_MARKER_PENDING while
 * in flight (the first call queues it), then the leader's answer
 * (KP_NONE, KP_NOT_LEADER_OR_FOLLOWER...) or KP_NETWORK_EXCEPTION, once;
 * a later call sends it again.
 */
#define KB_TXN_MARKER_PENDING	(-2)
int16_t	 kb_txn_marker_remote(struct kb_broker *, const char *topic,
	    int32_t part, int64_t pid, int16_t epoch, bool commit,
	    int32_t coord_epoch);
/* Send the markers queued since the last call (one request per leader). */
void	 kb_txn_markers_send(void);
/*
 * The sender's eventfd carries this epoll tag; server.c calls
 * kb_txn_markers_on_event, which nudges the coordinator.
 */
#define KB_TAG_MARKERS	((uint64_t)1 << 58)
void	 kb_txn_markers_on_event(struct kb_broker *);

/*
 * pid_block.c: the next producer id. Single node: b->next_pid++. Cluster
 * mode: from a block of ids this broker took in ZooKeeper
 * (/latest_producer_id_block, as Kafka's ProducerIdManager), unique in the
 * cluster; -1 when no block can be had now (ZooKeeper away).
 */
int64_t	 kb_next_producer_id(struct kb_broker *);

#endif
