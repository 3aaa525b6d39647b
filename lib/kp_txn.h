/* kp_txn.h -- client side of Kafka transactions: the transactional producer's calls and read_committed filtering */
#ifndef KP_TXN_H
#define KP_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_client.h"
#include "kp_proto_fetch.h"

/*
 * A transactional producer (KIP-98) over a kp_client: kp_txn_init finds
 * the transaction coordinator of the transactional id and gets the
 * producer id and epoch (fencing any older producer with the same id);
 * then, per transaction, every partition is registered with
 * kp_txn_add_partitions before its first Produce (batches carry the
 * transactional attribute, the id and the epoch), consumer offsets may
 * join with kp_txn_send_offsets, and kp_txn_end commits or aborts.
 * Produce requests themselves are the caller's. Calls are synchronous
 * and retry what Kafka retries (coordinator moving or loading,
 * CONCURRENT_TRANSACTIONS) for up to the client's timeout. On failure
 * they return -1 with kp_client_error / kp_client_kerr set;
 * kp_txn_fatal() says whether the producer may still abort and go on.
 */
struct kp_txn_part {
	char	*topic;
	int32_t	 partition;
};

struct kp_txn {
	struct kp_client	*c;
	char			*id;		/* transactional.id */
	int32_t			 timeout_ms;	/* transaction.timeout.ms */
	int64_t			 pid;		/* -1 before init */
	int16_t			 epoch;
	int32_t			 coord;		/* coordinator node, -1 unknown */
	bool			 offsets;	/* offsets joined this transaction */
	int16_t			 fatal;		/* a fencing error, or 0 */
	struct kp_txn_part	*parts;		/* in this transaction */
	size_t			 nparts;
	struct kp_arena		 arena;
	struct kp_buf		 body;
};

/*
 * Find the coordinator and run InitProducerId for id with the given
 * transaction timeout (ms; the broker rejects one above its
 * transaction.max.timeout.ms with INVALID_TRANSACTION_TIMEOUT). The
 * struct is initialized either way: kp_txn_release it. 0 or -1.
 */
int	 kp_txn_init(struct kp_txn *, struct kp_client *, const char *id,
	    int32_t timeout_ms);
void	 kp_txn_release(struct kp_txn *);

/* Whether the partition is already part of the current transaction. */
bool	 kp_txn_has(const struct kp_txn *, const char *topic,
	    int32_t partition);
/* True when anything (partitions or offsets) joined the transaction. */
bool	 kp_txn_open(const struct kp_txn *);

/*
 * AddPartitionsToTxn for those of the n (topics[i], parts[i]) not yet in
 * the transaction, in one request. 0, or -1 with the error of the first
 * failed partition (UNKNOWN_TOPIC_OR_PARTITION, PRODUCER_FENCED...).
 */
int	 kp_txn_add_partitions(struct kp_txn *, const char *const *topics,
	    const int32_t *parts, size_t n);

/*
 * Make the consumer group's offsets for n partitions part of the
 * transaction (AddOffsetsToTxn, then TxnOffsetCommit to the group's
 * coordinator): they become the group's committed offsets if and only if
 * the transaction commits. offsets[i] is the next offset to read, as in
 * OffsetCommit. 0 or -1.
 */
int	 kp_txn_send_offsets(struct kp_txn *, const char *group,
	    const char *const *topics, const int32_t *parts,
	    const int64_t *offsets, size_t n);

/*
 * EndTxn: commit or abort the current transaction and start the next
 * one. Every Produce of the transaction must have been answered first.
 * A transaction nothing joined ends without a request. 0 or -1.
 */
int	 kp_txn_end(struct kp_txn *, bool commit);

/*
 * The error behind the last failure when it leaves the producer unable
 * to go on (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, ...; a newer producer
 * took the id or the coordinator aborted the transaction), else 0.
 */
int16_t	 kp_txn_fatal(const struct kp_txn *);
/* Whether a Kafka error from Produce or a coordinator call is one of those. */
bool	 kp_txn_kerr_fatal(int16_t);

/*
 * read_committed: the records of aborted transactions, which a broker
 * returns below the last stable offset along with a list of the aborted
 * transactions (producer id, first offset) in the fetched range, are
 * dropped by the consumer. Per partition answer: kp_txn_filter_set with
 * the list, then kp_txn_filter_skip for each batch in order (it also
 * follows the ABORT markers that end those transactions, as Kafka's
 * Fetcher does).
 */
struct kp_txn_aborted {
	int64_t	pid;
	int64_t	first_offset;
};

struct kp_txn_filter {
	struct kp_txn_aborted	*ab;		/* by first offset */
	size_t			 nab, next;	/* next not yet active */
	int64_t			*active;	/* pids being dropped */
	size_t			 nactive;
	size_t			 cap;
};

void	 kp_txn_filter_init(struct kp_txn_filter *);
void	 kp_txn_filter_release(struct kp_txn_filter *);
/*
 * Start a partition's answer with its aborted transactions (copied; a
 * null list, n -1, or an empty one for none). 0, or -1 out of memory.
 */
int	 kp_txn_filter_set(struct kp_txn_filter *,
	    const struct kp_fetch_resp_aborted_transaction *, int32_t n);
/*
 * Whether to drop the batch (its header h, total bytes batch/len): a
 * control batch, or a transactional batch of an aborted transaction.
 */
bool	 kp_txn_filter_skip(struct kp_txn_filter *,
	    const struct kp_batch_header *, const uint8_t *batch, size_t len);

#endif
