/* txn.h -- transactions: the partition side (txn_log.c) and the coordinator (txn_coord.c) */
#ifndef KB_TXN_H
#define KB_TXN_H

#include <stdbool.h>
#include <stdint.h>

struct kb_broker;
struct kp_log;

/*
 * The partition side (txn_log.c). A transactional batch (attribute bit 4)
 * opens its producer's transaction on the partition at the batch's base
 * offset; a marker (a control batch, COMMIT or ABORT) closes it. The last
 * stable offset (LSO) is the first offset of the oldest open transaction,
 * else the high watermark; read_committed consumers read below it and
 * are told which aborted transactions their range holds.
 */

/*
 * Write a marker for producer pid at epoch to a partition this broker
 * leads and close that producer's transaction there (an ABORT also goes
 * into the partition's aborted-transaction index). Returns KP_NONE or a
 * Kafka error: KP_UNKNOWN_TOPIC_OR_PARTITION, KP_NOT_LEADER_OR_FOLLOWER,
 * KP_INVALID_PRODUCER_EPOCH (epoch older than the partition has seen),
 * KP_KAFKA_STORAGE_ERROR. A marker on a __consumer_offsets partition
 * also calls kb_offsets_txn_marker.
 */
int16_t	 kb_txn_write_marker(struct kb_broker *, const char *topic,
	    int32_t partition, int64_t pid, int16_t epoch, bool commit,
	    int32_t coordinator_epoch);

/* The log's last stable offset (<= its high watermark). */
int64_t	 kb_txn_lso(struct kb_broker *, struct kp_log *);

/*
 * The group side (txn_offsets.c): offsets a TxnOffsetCommit stored for
 * producer pid on __consumer_offsets partition become the group's
 * committed offsets (commit) or are dropped (abort).
 */
void	 kb_offsets_txn_marker(struct kb_broker *, int32_t partition,
	    int64_t pid, bool commit);

#endif
