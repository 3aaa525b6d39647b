/* kp_txnrec.h -- records of the __transaction_state topic, in Kafka's layout */
#ifndef KP_TXNREC_H
#define KP_TXNREC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_wire.h"

/*
 * The transaction coordinator keeps one record per transactional id in the
 * compacted topic __transaction_state, as Kafka's TransactionLog writes
 * them:
 *   key   TransactionLogKey v0: int16 0, string transactional_id
 *   value TransactionLogValue v0: int16 0, int64 producer_id, int16
 *         producer_epoch, int32 transaction_timeout_ms, int8 state,
 *         array of (string topic, array of int32 partition),
 *         int64 last_update_ms, int64 start_ms
 *   a null value (tombstone) removes the id.
 */
#define KP_TXN_STATE_TOPIC	"__transaction_state"

enum kp_txn_state {
	KP_TXN_EMPTY = 0,
	KP_TXN_ONGOING = 1,
	KP_TXN_PREPARE_COMMIT = 2,
	KP_TXN_PREPARE_ABORT = 3,
	KP_TXN_COMPLETE_COMMIT = 4,
	KP_TXN_COMPLETE_ABORT = 5,
	KP_TXN_DEAD = 6,
	KP_TXN_PREPARE_EPOCH_FENCE = 7
};
#define KP_TXN_NSTATES	8

struct kp_txnrec_part {
	struct kp_str	 topic;		/* borrowed from the value */
	int32_t		 partition;
};

struct kp_txnrec {
	struct kp_str	 id;		/* borrowed from the key */
	bool		 tombstone;
	int64_t		 producer_id;
	int16_t		 producer_epoch;
	int32_t		 timeout_ms;
	int8_t		 state;
	struct kp_txnrec_part *parts;	/* from the arena */
	size_t		 nparts;
	int64_t		 last_update_ms;
	int64_t		 start_ms;
};

void	 kp_txnrec_key(struct kp_buf *, const char *id);
/*
 * The value of r (its id and tombstone are not used). Partitions of one
 * topic are grouped however r lists them.
 */
void	 kp_txnrec_value(struct kp_buf *, const struct kp_txnrec *r);
/*
 * Parse one record: 1 a transaction (or tombstone, value NULL) filled into
 * r, 0 another record version to skip, -1 malformed. r's strings borrow
 * key and value; its partitions come from the arena.
 */
int	 kp_txnrec_parse(const uint8_t *key, size_t klen,
	    const uint8_t *value, ssize_t vlen, struct kp_txnrec *r,
	    struct kp_arena *);

/* Kafka's names ("Empty", "Ongoing", ...); NULL for an unknown state. */
const char *kp_txn_state_name(int);
/* The state of a name, -1 if none. */
int	 kp_txn_state_parse(const char *, size_t);
/* The __transaction_state partition of an id: abs(hash) % n, as Kafka. */
int32_t	 kp_txn_partition(const char *id, int32_t n);

#endif
