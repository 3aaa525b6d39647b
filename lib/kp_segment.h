/* kp_segment.h -- one log segment: its .log file and its two indexes */
#ifndef KP_SEGMENT_H
#define KP_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kp_index.h"
#include "kp_txnindex.h"

/* "<20 digits>" plus the longest suffix, ".timeindex.cleaned". */
#define KP_SEGMENT_NAME_MAX	48

/*
 * A segment in memory. size is the byte length of the valid batches (the
 * file is never longer once opened read-write); next_offset is one past
 * the last record's offset (base when empty).
 */
struct kp_segment {
	int64_t		 base;
	char		*prefix;	/* "<dir>/<20 digits>", owned */
	const char	*tag;		/* "" or ".cleaned": after the suffix */
	int		 fd;		/* the .log */
	bool		 rdonly;
	int64_t		 size;
	int64_t		 next_offset;
	int64_t		 max_ts;	/* largest batch maxTimestamp, -1 */
	int64_t		 max_ts_offset;	/* the offset carrying it */
	int64_t		 first_ts;	/* first batch's maxTimestamp, -1 */
	int64_t		 created_ms;	/* wall clock at creation or load */
	int64_t		 since_index;	/* bytes since the last index entry */
	int64_t		 index_interval;
	bool		 index_rebuilt;	/* an index was missing or bad */
	bool		 dirty;		/* written since the last sync */
	bool		 idx_unsynced;	/* index files written, not synced */
	struct kp_index	 oi;		/* .index */
	struct kp_index	 ti;		/* .timeindex */
	struct kp_txnindex xi;		/* .txnindex (untagged segments) */
	/*
	 * Batch boundaries remembered so a consumer tailing the log finds
	 * its offset without reading headers from the last index entry: at
	 * [0] the last appended batch, at [1] the end of the last read.
	 * Every batch before hint_pos[k] ends below hint_off[k];
	 * hint_off[k] is INT64_MAX when unset.
	 */
	int64_t		 hint_off[2];
	int64_t		 hint_pos[2];
	int64_t		 wb_mark;	/* writeback started below this */
	int64_t		 drop_mark;	/* dropped from the page cache below */
	int64_t		 alloc_end;	/* blocks reserved (fallocate) below */
	bool		 appending;	/* counted in kp_pagecache_writers */
};

/* What kp_segment_scan found. */
struct kp_segment_scan {
	int64_t		 batches;	/* batches accepted */
	int64_t		 checked;	/* of which CRC-checked */
	int64_t		 truncated;	/* bytes cut off (or ignored, rdonly) */
	bool		 torn;		/* scan stopped before the file end */
};

/* Paths: "<dir>/<20 digit base><suffix>" into buf (KP_SEGMENT_NAME_MAX + dir). */
void	 kp_segment_path(char *, size_t, const char *, int64_t, const char *);

/*
 * Open segment base in dir (creating an empty one when create), loading
 * both indexes (missing or insane ones come back empty with
 * index_rebuilt set; kp_segment_scan fills them). Returns a new segment
 * (kp_segment_close it) or NULL with errno.
 */
struct kp_segment *kp_segment_open(const char *, int64_t, int64_t, int64_t,
	    bool, bool, int64_t);
/*
 * The same for files named "<base>.log<tag>" and so on; tag (a string
 * constant, borrowed) is ".cleaned" for the cleaner's copies.
 */
struct kp_segment *kp_segment_open_tagged(const char *, int64_t,
	    const char *, int64_t, int64_t, bool, bool, int64_t);
/*
 * Remember that every batch before byte pos ends below offset (a read
 * ended there), so a later kp_segment_find at or past offset can start at
 * pos. pos must be a batch boundary.
 */
void	 kp_segment_hint(struct kp_segment *, int64_t, int64_t);
/* Close the files; NULL is ok. */
void	 kp_segment_close(struct kp_segment *);
/* Close and unlink .log then the indexes. 0 or -1 with errno. */
int	 kp_segment_delete(struct kp_segment *);

/*
 * Walk every batch from the start, rebuilding both indexes and the
 * in-memory state; batches with baseOffset >= crc_from are CRC-checked.
 * Stops at the first torn, corrupt or out-of-order batch and (unless
 * read-only) truncates the file there. 0 or -1 with errno (I/O).
 */
int	 kp_segment_scan(struct kp_segment *, int64_t,
	    struct kp_segment_scan *);
/*
 * For a closed segment trusted as is: take size from the file, the
 * largest timestamp from the last time index entry, next_offset from
 * next_base (the following segment's base). Falls back to kp_segment_scan
 * (no CRC) when an index was rebuilt. 0 or -1.
 */
int	 kp_segment_load_closed(struct kp_segment *, int64_t);

/*
 * Take the state a clean close recorded (size, next offset, largest
 * timestamp and its offset) instead of scanning, when the file still has
 * that size, the indexes agree, and the batch headers after the last
 * offset index entry frame exactly up to the end and end at the recorded
 * next offset. 1 when taken, 0 when a scan is needed.
 */
int	 kp_segment_load_clean(struct kp_segment *, int64_t, int64_t, int64_t,
	    int64_t);

/*
 * Append whole batches already validated and carrying their final
 * offsets; updates indexes. All or nothing: on error the file and the
 * indexes are cut back. 0 or -1 with errno.
 */
int	 kp_segment_append(struct kp_segment *, const uint8_t *, size_t);
/*
 * With a page cache limit (kp_pagecache.h), drop what is left of a segment
 * that no longer takes appends from the page cache.
 */
void	 kp_segment_uncache(struct kp_segment *);
/*
 * The final time index entry Kafka writes when a segment is closed,
 * written to the file at once (kp_segment_sync makes it durable).
 */
int	 kp_segment_seal(struct kp_segment *);
/* fdatasync the .log and both index files. 0 or -1 with errno. */
int	 kp_segment_sync(struct kp_segment *);
/*
 * fdatasync the .log only; the index files are written but not synced
 * (a later kp_segment_sync does it). Only for the active segment, whose
 * indexes recovery rebuilds from the .log whenever it was not closed
 * cleanly. 0 or -1 with errno.
 */
int	 kp_segment_sync_data(struct kp_segment *);
/* Drop every batch at or after offset (a batch-aligned cut). 0 or -1. */
int	 kp_segment_truncate_offset(struct kp_segment *, int64_t);

/*
 * Position of the first batch whose last offset is >= offset, or -1 when
 * no such batch is in the segment (or on I/O error, errno set; else 0).
 * *hdr_base / *hdr_last get that batch's offsets, *blen its size.
 */
int64_t	 kp_segment_find(struct kp_segment *, int64_t, int64_t *,
	    int64_t *, int64_t *);
/*
 * Read the batch header at pos: returns the batch size, 0 at the end
 * of the segment, -1 on error. base/last offsets and maxTimestamp out.
 */
int64_t	 kp_segment_header_at(struct kp_segment *, int64_t, int64_t *,
	    int64_t *, int64_t *);
/* Position of the first batch at or after the entry for timestamp ts. */
int64_t	 kp_segment_time_start(struct kp_segment *, int64_t);

#endif
