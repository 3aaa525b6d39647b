/* kp_compact.h -- the log cleaner: newest record per key, rewritten segment by segment */
#ifndef KP_COMPACT_H
#define KP_COMPACT_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_log.h"

struct kp_buf;
struct kp_segment;

/* key bytes -> the newest offset seen for that key */
struct kp_keymap;

/* A new empty map (kp_keymap_free it), or NULL (ENOMEM). */
struct kp_keymap *kp_keymap_new(void);
void	 kp_keymap_free(struct kp_keymap *);
/* Record key (copied) at offset; a later put of the same key wins. 0/-1. */
int	 kp_keymap_put(struct kp_keymap *, const void *, size_t, int64_t);
/* The offset stored for key, or -1. */
int64_t	 kp_keymap_get(const struct kp_keymap *, const void *, size_t);
size_t	 kp_keymap_count(const struct kp_keymap *);
/*
 * Records of aborted transactions never count as their key's newest
 * (Kafka's cleaner discards them, so a rewrite drops them): fn says
 * whether producer pid's transactional batch at offset was aborted.
 * Without one, none was.
 */
typedef bool	 kp_compact_aborted_fn(void *, int64_t, int64_t);
void	 kp_keymap_set_aborted(struct kp_keymap *, kp_compact_aborted_fn *,
	    void *);

/*
 * Add every keyed record of the segment to the map (scratch is a work
 * buffer). Control batches and batches in codecs we cannot read are
 * skipped. 0 or -1 with errno.
 */
int	 kp_compact_scan(struct kp_keymap *, struct kp_segment *,
	    struct kp_buf *);
/*
 * Copy src into the empty segment dst keeping only records that are the
 * newest for their key (and tombstones unless drop_tombstones), with
 * their offsets: a batch is copied as is when nothing in it goes, dropped
 * when everything goes, else rebuilt (gzip again if it was gzip) with the
 * same baseOffset, baseTimestamp, maxTimestamp and lastOffsetDelta (so
 * offsets keep their gaps, as in Kafka). rep counts what happened. 0 or -1 with errno.
 *
 * Transaction markers: with drop_tombstones, a marker below markers_below
 * whose transaction has no record left goes too, as Kafka's cleaner
 * removes it. txns, a map of its own for the whole pass (segments oldest
 * first), remembers per producer its last marker and its last kept
 * transactional record. xi_out gets the .txnindex entries (34 bytes each)
 * of src's aborted transactions whose ABORT marker stays.
 */
int	 kp_compact_rewrite(const struct kp_keymap *, struct kp_keymap *,
	    int64_t, struct kp_segment *, struct kp_segment *,
	    struct kp_buf *, bool, struct kp_buf *,
	    struct kp_compact_report *);

#endif
