/* kp_pstate_snap.h -- the producer state snapshot file of one partition, encoded and checked */
#ifndef KP_PSTATE_SNAP_H
#define KP_PSTATE_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"

/*
 * A broker rebuilds its idempotent-producer state at startup from the
 * snapshot plus the batches after the snapshot's offset, instead of every
 * batch header of the log (Kafka's <offset>.snapshot files; one current
 * file per partition here). All integers big-endian:
 *   int16  version (3; 1 and 2 are read too: coordinator epoch -1, and
 *          for 1 no transactions)
 *   uint32 crc32c of every byte after this field
 *   int64  end_offset: the log end offset the state covers (batches below
 *          it are in the state, none at or above it)
 *   int32  entry count, then each entry:
 *     int64 producer_id, int16 producer_epoch, int64 last_update_ms
 *     (wall clock, for producer.id.expiration.ms), int8 n (0..5) and n
 *     batches, oldest first: int32 first_seq, int32 last_seq, int64
 *     base_offset; then (version 2) int64 txn_first_offset: the first
 *     offset of the producer's open transaction on the partition, -1
 *     none (Kafka's currentTxnFirstOffset), so a restart keeps the LSO;
 *     then (version 3) int32 coordinator_epoch: of the last marker
 *     accepted, -1 none (Kafka's snapshot field), so a restart still
 *     fences a stale coordinator's marker
 * The file's size must be exactly what the count says.
 */
#define KP_PSTATE_SNAP_FILE	"kpipe.producers"
#define KP_PSTATE_SNAP_VERSION	3
#define KP_PSTATE_SNAP_KEEP	5	/* batches per producer, as Kafka */

struct kp_pstate_snap_batch {
	int32_t		 first_seq;
	int32_t		 last_seq;
	int64_t		 base_offset;
};

struct kp_pstate_snap_entry {
	int64_t		 pid;
	int16_t		 epoch;
	int64_t		 last_ms;
	int64_t		 txn_first;	/* -1: no open transaction */
	int32_t		 coord_epoch;	/* last marker's, -1: none */
	int		 n;		/* 0..KP_PSTATE_SNAP_KEEP */
	struct kp_pstate_snap_batch batches[KP_PSTATE_SNAP_KEEP];
};

/* Encoding: begin, add each entry, finish (fills count and CRC). */
void	 kp_pstate_snap_begin(struct kp_buf *, int64_t end_offset);
void	 kp_pstate_snap_add(struct kp_buf *,
	    const struct kp_pstate_snap_entry *);
/* 0, or -1 when the buffer failed (its err says why). */
int	 kp_pstate_snap_finish(struct kp_buf *);

/* Decoding: open checks everything, next hands out the entries. */
struct kp_pstate_snap_reader {
	struct kp_reader r;
	int64_t		 end_offset;
	int32_t		 count;
	int32_t		 left;
	int16_t		 version;
	const char	*why;		/* why open failed */
};

/*
 * 0 when the bytes (borrowed) are a whole valid snapshot, else -1 with
 * why set ("short", "unknown version", "checksum mismatch", "malformed").
 */
int	 kp_pstate_snap_open(struct kp_pstate_snap_reader *, const uint8_t *,
	    size_t);
/* 1 an entry, 0 no more. Only after a successful open. */
int	 kp_pstate_snap_next(struct kp_pstate_snap_reader *,
	    struct kp_pstate_snap_entry *);

#endif
