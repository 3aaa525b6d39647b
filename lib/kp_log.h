/* kp_log.h -- one partition's commit log: segments, append, read, retention, recovery */
#ifndef KP_LOG_H
#define KP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kp_logconf.h"

/*
 * LAYOUT. A partition is a folder <topic>-<partition>/ holding segments
 * named by their base offset in 20 digits, as Kafka does:
 *   00000000000000000000.log        record batches (magic 2) exactly as
 *                                   the protocol carries them
 *   00000000000000000000.index      8-byte entries: relative offset of a
 *                                   batch's last record (int32 BE), file
 *                                   position of that batch (int32 BE); one
 *                                   per index.interval.bytes of log
 *   00000000000000000000.timeindex  12-byte entries: max timestamp so far
 *                                   (int64 BE), relative offset (int32 BE)
 *   00000000000000000000.txnindex   aborted transactions whose ABORT
 *                                   marker is in the segment (kp_txnindex.h),
 *                                   only once there is one
 *   partition.metadata              Kafka's "version: 0 / topic_id: <b64>"
 *   kpipe.checkpoint                recovery point, log start offset, high
 *                                   watermark, cleaner offset, and after a
 *                                   clean close the active segment's size,
 *                                   next offset and largest timestamp (so
 *                                   reopening need not read it); written
 *                                   atomically (temp file "~", fsync,
 *                                   rename, fsync dir)
 * Other files (the broker's kpipe.producers) are left alone.
 * Leftovers of an interrupted operation (*.cleaned, *~, index files
 * without their .log) are removed on open; a complete *.log.swap (the
 * cleaner's replacement of a segment) is moved into place, with its
 * index .swap files.
 *
 * WHAT A CRASH CAN LOSE. "Acknowledged" means kp_log_append returned
 * KP_NONE. Batches are written with pwrite(2) into the page cache;
 * kp_log_flush() fdatasync(2)s the segment files and moves the recovery
 * point. The active segment's .index and .timeindex are synced only at
 * roll and clean close: after a crash recovery always rescans the active
 * segment and rebuilds them, so they need not be durable before.
 *  - The process dies (kill -9, abort) but the kernel keeps running: no
 *    acknowledged batch is lost under any setting; the page cache holds it.
 *  - The machine loses power or the kernel crashes:
 *    - flush.messages and flush.ms unset (Kafka's default, no fsync on the
 *      append path): every batch appended since the last flush can be lost
 *      -- since the last segment roll (a roll flushes the old segment),
 *      a clean close, or an explicit kp_log_flush(). Up to one whole
 *      active segment (segment.bytes).
 *    - flush.messages=N: the log is flushed before append returns once N
 *      or more records are unflushed, so at most the last N-1 acknowledged
 *      records are lost (N=1: none).
 *    - flush.ms=T: kp_log_tick() flushes when the oldest unflushed batch is
 *      T ms old, so the loss is at most T ms of appends plus the interval
 *      between two ticks.
 *    In every case what survives is a prefix: recovery CRC-checks every
 *    batch after the recovery point and truncates at the first torn or
 *    corrupt one, so a batch written after a lost one never reappears
 *    alone, and offsets stay contiguous.
 *  - Segment creation and deletion (roll, retention, DeleteRecords,
 *    compaction swap) fsync the folder, and the log start offset is
 *    checkpointed before kp_log_delete_records returns, so deleted records
 *    never come back after a crash. A crash in the middle of a compaction
 *    swap leaves either the old or the new segment, both valid.
 *  - ENOSPC / EIO while appending: the partial write is cut off again
 *    (ftruncate) before the error returns; nothing acknowledged is lost and
 *    the next append retries on a consistent log.
 *
 * THREADS. None: one caller at a time (the broker's event loop, or an
 * offline reader such as `ktopic dump` opening with KP_LOG_RDONLY, which
 * is safe while a broker appends: a half-written tail is skipped, never
 * cut). Everything is synchronous: a cleaning pass in kp_log_tick reads
 * the whole log, so the caller's loop waits for it.
 */

struct kp_log;

/* What recovery did on open, for the caller to log. */
struct kp_log_recovery {
	int		 segments;		/* segments loaded */
	int64_t		 recovered_from;	/* offset recovery started at */
	int64_t		 batches_checked;	/* batches CRC-checked */
	int64_t		 truncated_bytes;	/* bytes cut off torn/corrupt tails */
	int64_t		 truncated_at;		/* offset cut at, -1 if none */
	int		 segments_dropped;	/* whole segments after the cut */
	int		 indexes_rebuilt;	/* .index/.timeindex rebuilt */
	int		 swaps_completed;	/* cleaner swaps finished */
	int		 leftovers_removed;	/* stray temp/orphan files */
	int64_t		 end_offset;		/* log end after recovery */
	int64_t		 checkpoint_hw;		/* checkpointed high watermark,
						   -1 none */
	bool		 short_of_checkpoint;	/* end_offset < checkpoint_hw:
						   acknowledged records lost
						   (a machine crash) */
	bool		 clean;			/* nothing needed doing */
};

/* flags for kp_log_open */
#define KP_LOG_CREATE	0x1	/* create the folder if missing */
#define KP_LOG_RDONLY	0x2	/* never write: serve the valid prefix only */

/*
 * Open (and recover) the partition log in folder dir with config conf
 * (copied). now_ms is the wall clock in ms (segment.ms counts from it).
 * rec, if not NULL, is filled with what recovery did. Returns a new log
 * (kp_log_close it), or NULL with errno set (ENOENT without KP_LOG_CREATE,
 * EIO, ENOSPC, ENOMEM...).
 */
struct kp_log	*kp_log_open(const char *, const struct kp_logconf *, int,
		    int64_t, struct kp_log_recovery *);
/* Flush (unless read-only), checkpoint and close every file. NULL is ok. */
void		 kp_log_close(struct kp_log *);
/* Replace the config (an AlterConfigs); takes effect at the next append. */
void		 kp_log_set_conf(struct kp_log *, const struct kp_logconf *);
/* Borrowed: valid until kp_log_set_conf or kp_log_close. */
const struct kp_logconf *kp_log_conf(const struct kp_log *);
/* Borrowed folder path, valid until close. */
const char	*kp_log_dir(const struct kp_log *);

/* What kp_log_append did. */
struct kp_log_append_info {
	int64_t		 base_offset;	/* offset of the first record */
	int64_t		 last_offset;	/* offset of the last record */
	int64_t		 log_append_time;  /* now_ms with LogAppendTime, else -1 */
	int64_t		 log_start_offset;
	int		 records;	/* records appended */
};

/*
 * Append one or more whole record batches (a produce request's records)
 * as leader: every batch is validated first (kp_batch_validate, sizes
 * against max.message.bytes, keys present on compacted topics), then
 * baseOffset and partitionLeaderEpoch are rewritten in place in buf
 * (outside the CRC; with LogAppendTime the timestamp too, and the CRC is
 * recomputed), the bytes are written and the indexes updated. buf is
 * modified but stays the caller's. Returns KP_NONE, or a Kafka error with
 * nothing appended:
 *   KP_CORRUPT_MESSAGE	bad framing, magic or CRC
 *   KP_INVALID_RECORD	bad records, or a null key on a compacted topic
 *   KP_MESSAGE_TOO_LARGE	a batch over max.message.bytes
 *   KP_UNSUPPORTED_COMPRESSION_TYPE, KP_INVALID_TIMESTAMP
 *   KP_KAFKA_STORAGE_ERROR	I/O failure (errno says which: ENOSPC, EIO,
 *				EROFS for a read-only log); the log stays
 *				consistent and later appends may succeed
 * info may be NULL.
 */
int		 kp_log_append(struct kp_log *, uint8_t *, size_t, int32_t,
		    int64_t, struct kp_log_append_info *);
/*
 * Append batches that already carry their offsets (a follower copying its
 * leader, kreplicate): validated the same way, offsets kept; the first
 * batch's baseOffset must be >= the log end offset (a gap is allowed,
 * as after compaction). KP_NONE or a Kafka error as above;
 * KP_OFFSET_OUT_OF_RANGE when the offsets go backwards.
 */
int		 kp_log_append_raw(struct kp_log *, const uint8_t *, size_t,
		    int64_t, struct kp_log_append_info *);

/*
 * A region of one segment's .log file holding whole batches, for
 * sendfile(2) or pread(2). fd is BORROWED: it stays valid until the next
 * call that can remove segments (kp_log_tick, kp_log_enforce_retention,
 * kp_log_delete_records, kp_log_compact, kp_log_truncate, kp_log_close);
 * dup(2) it if a send may outlive that.
 */
struct kp_log_slice {
	int		 fd;
	off_t		 pos;
	size_t		 len;		/* 0: nothing to read */
	int64_t		 first_offset;	/* baseOffset of the first batch */
	int64_t		 next_offset;	/* after the last batch in the slice */
};

/*
 * Read from offset: the slice starts with the batch containing offset (or
 * the first batch after it when compaction removed it) and holds whole
 * batches up to max_bytes, but always at least one whole batch so a
 * consumer can make progress (Kafka's KIP-74 rule). Batches whose last
 * offset is at or beyond max_offset (exclusive; pass the high watermark
 * to consumers, the log end offset to followers) are left out. A slice
 * never spans two segments: call again from next_offset. Returns KP_NONE
 * (len 0 when offset == max_offset or nothing is there yet), or
 * KP_OFFSET_OUT_OF_RANGE when offset < log start or > log end.
 */
int		 kp_log_read(struct kp_log *, int64_t, size_t, int64_t,
		    struct kp_log_slice *);
/*
 * Copy a slice's bytes into out (appended), for callers that want the
 * batches in memory (ktopic dump, tests, the cleaner). 0 or -1 and errno.
 */
struct kp_buf;
int		 kp_log_slice_load(const struct kp_log_slice *, struct kp_buf *);
/*
 * Replay a whole log, start to end, batch by batch (the coordinators'
 * state topics at startup): fn gets each batch in memory and returns 0
 * with *used its size to go on, nonzero to leave the rest of that read.
 * *nbatch counts the batches taken. 0, or -1 on a read error.
 */
typedef int	 kp_log_batch_fn(void *, const uint8_t *, size_t, size_t *);
int		 kp_log_replay(struct kp_log *, kp_log_batch_fn *, void *,
		    size_t *nbatch);

/*
 * ListOffsets by timestamp: the first offset whose record timestamp is at
 * or after ts, and that record's timestamp, via the time index. Returns
 * KP_NONE with *offset = -1, *timestamp = -1 when no record is that new,
 * or KP_KAFKA_STORAGE_ERROR.
 */
int		 kp_log_offset_for_time(struct kp_log *, int64_t, int64_t *,
		    int64_t *);
/* Largest timestamp in the log and the offset carrying it (-1 if empty). */
void		 kp_log_max_timestamp(const struct kp_log *, int64_t *,
		    int64_t *);

int64_t		 kp_log_start_offset(const struct kp_log *);
int64_t		 kp_log_end_offset(const struct kp_log *);	/* next offset */
int64_t		 kp_log_high_watermark(const struct kp_log *);
/* The caller (the broker) owns the HW: clamped to [log start, log end]. */
void		 kp_log_set_high_watermark(struct kp_log *, int64_t);
int64_t		 kp_log_recovery_point(const struct kp_log *);
/* Bytes of all segments, and how many segments there are. */
int64_t		 kp_log_size(const struct kp_log *);
int		 kp_log_segment_count(const struct kp_log *);
/*
 * Base offset of the active segment: it moves up only when the log rolls,
 * so a caller keeping state per segment (the broker's producer state
 * snapshot) can tell a roll from an append.
 */
int64_t		 kp_log_active_base(const struct kp_log *);

/*
 * The active segment's .log descriptor, borrowed as a slice's fd is: for
 * a caller that fdatasyncs appended batches from another thread (dup it
 * first; older segments were synced when they were rolled). The log's
 * recovery point does not move then, so recovery after a crash scans a
 * little more. -1 for a read-only log.
 */
int		 kp_log_active_fd(const struct kp_log *);
/*
 * fdatasync the unflushed segments, move the recovery point to the log end
 * and checkpoint it. 0, or -1 with errno.
 */
int		 kp_log_flush(struct kp_log *);
/*
 * Periodic work, called by the broker about once a second: flush.ms,
 * roll by segment.ms when the active segment has aged, retention
 * (kp_log_enforce_retention) and, for compacted topics, a cleaning pass
 * when closed segments hold uncleaned data, and the checkpoint if its
 * state moved and the last tick to write it was ckpt_ms or more ago.
 * 0 or -1 with errno.
 */
int		 kp_log_tick(struct kp_log *, int64_t, int64_t);
/*
 * Delete whole closed segments (never the active one) from the oldest:
 * those whose largest timestamp is older than now - retention.ms, then
 * while the log is larger than retention.bytes by a whole segment. Only for
 * cleanup.policy containing delete. Returns segments deleted, or -1.
 */
int		 kp_log_enforce_retention(struct kp_log *, int64_t);
/*
 * DeleteRecords: move the log start offset forward to offset (-1 means
 * the high watermark), checkpoint it, delete segments wholly below it.
 * Returns KP_NONE with *low_watermark set, KP_OFFSET_OUT_OF_RANGE past
 * the high watermark, KP_KAFKA_STORAGE_ERROR.
 */
int		 kp_log_delete_records(struct kp_log *, int64_t, int64_t *);
/*
 * Drop everything at and after offset (a follower cutting a divergent
 * tail). 0 or -1 with errno.
 */
int		 kp_log_truncate(struct kp_log *, int64_t);
/* Close the active segment and start a new one at the log end. */
int		 kp_log_roll(struct kp_log *, int64_t);

/*
 * The owner keeps the producer state of the log saved up to offset (the
 * broker's snapshot): a restart replays only the batches from there, and
 * must still find the COMMIT marker of every transaction the snapshot has
 * open. So kp_log_compact removes markers only below it; 0 (the default)
 * keeps them all.
 */
void		 kp_log_set_marker_horizon(struct kp_log *, int64_t);

/* What one cleaning pass did. */
struct kp_compact_report {
	int		 segments_cleaned;
	int64_t		 records_kept;
	int64_t		 records_removed;	/* superseded by a newer key */
	int64_t		 tombstones_removed;
	int64_t		 tombstones_kept;	/* not yet delete.retention.ms old */
	int64_t		 markers_removed;	/* of emptied transactions */
	int64_t		 bytes_before;
	int64_t		 bytes_after;
};

/*
 * One compaction pass over the closed segments (cleanup.policy containing
 * compact): keep the newest record per key, drop tombstones whose segment
 * is older than delete.retention.ms, skip segments younger than
 * min.compaction.lag.ms, keep offsets, rewrite each segment into new files
 * and swap them in. rep may be NULL. 0, or -1 with errno (the log is
 * unchanged then).
 */
int		 kp_log_compact(struct kp_log *, int64_t,
		    struct kp_compact_report *);

/*
 * Aborted transactions (kp_txnindex.h): each in the .txnindex of the
 * segment holding its ABORT marker, created, cut and deleted with that
 * segment, and rewritten with it by the cleaner when it removes the
 * marker. Add an entry whose marker is in the log: 0, or -1 with errno
 * (ERANGE: the marker offset is not in the log; EEXIST: already there).
 */
struct kp_txn_entry;
int		 kp_log_txn_add(struct kp_log *, const struct kp_txn_entry *);
/* True when an entry with this marker offset is there. */
bool		 kp_log_txn_has(const struct kp_log *, int64_t);
/*
 * Call fn for every aborted transaction overlapping [from, upto): marker
 * at or after from, first offset before upto; in marker order. Returns
 * how many (fn may be NULL to count).
 */
typedef void	 kp_log_txn_fn(void *, const struct kp_txn_entry *);
size_t		 kp_log_aborted_txns(const struct kp_log *, int64_t, int64_t,
		    kp_log_txn_fn *, void *);

/*
 * The broker's last stable offset: compaction never cleans a segment
 * reaching past it, so an open transaction's records cannot displace
 * the committed value of their key before the transaction ends.
 * INT64_MAX (the default) without transactions open.
 */
void		 kp_log_set_stable_offset(struct kp_log *, int64_t);

/* Remove a closed log's folder and everything in it. 0 or -1 / errno. */
int		 kp_log_remove_dir(const char *);

#endif
