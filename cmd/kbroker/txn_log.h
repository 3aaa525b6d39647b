/* txn_log.h -- the partition side of transactions: what produce, fetch and replay call */
#ifndef KB_TXN_LOG_H
#define KB_TXN_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "txn.h"

struct kb_broker;
struct kp_arena;
struct kp_batch_header;
struct kp_fetch_resp_aborted_transaction;
struct kp_log;

/*
 * After appending batches (a leader's produce, a follower's copy): a
 * transactional data batch opens its producer's transaction, a marker
 * closes it. len covers the whole batch at batch.
 */
void	 kb_txn_appended(struct kb_broker *, struct kp_log *,
	    const uint8_t *, size_t);
/*
 * A marker read back at startup (producer_state.c); type is its control
 * type (KP_CONTROL_*, -1 unreadable), then its coordinator epoch (-1
 * unreadable). An ABORT missing from the .txnindex (a crash between the
 * two writes) is added.
 */
void	 kb_txn_replay_marker(struct kb_broker *, struct kp_log *,
	    const struct kp_batch_header *, int, int32_t);
/*
 * Fetch, read_committed: the aborted transactions overlapping [from,
 * upto), in arena memory. 0, or -1 (ENOMEM).
 */
int	 kb_txn_aborted(struct kp_log *, int64_t, int64_t, struct kp_arena *,
	    struct kp_fetch_resp_aborted_transaction **, int32_t *);

/* producer_state.c: the transactional part of the producer state. */
/* The producer's epoch on the partition, -1 when unknown there. */
int16_t	 kb_pstate_epoch(struct kb_broker *, struct kp_log *, int64_t);
/* Open the producer's transaction at first unless one is open. */
void	 kb_pstate_txn_begin(struct kb_broker *, struct kp_log *, int64_t,
	    int64_t);
/*
 * Close it (a marker at epoch, which may raise the producer's epoch,
 * from a coordinator at coordinator epoch, which is recorded when higher):
 * returns its first offset, -1 when none was open.
 */
int64_t	 kb_pstate_txn_end(struct kb_broker *, struct kp_log *, int64_t,
	    int16_t, int32_t);
/*
 * The coordinator epoch of the producer's last marker on the partition,
 * -1 none: a marker below it is a stale coordinator's (Kafka's
 * ProducerStateEntry.coordinatorEpoch).
 */
int32_t	 kb_pstate_coord_epoch(struct kb_broker *, struct kp_log *, int64_t);
/* First offset of the oldest open transaction, -1 none. */
int64_t	 kb_pstate_txn_first(struct kb_broker *, struct kp_log *);

#endif
