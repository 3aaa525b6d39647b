/* kp_index.h -- a segment's offset index and time index files */
#ifndef KP_INDEX_H
#define KP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Kafka's two sparse indexes, kept in memory and mirrored to their file
 * with pwrite(2) in runs of 4 KiB, and whatever is pending on
 * kp_index_write, kp_index_sync and kp_index_close:
 *   offset index (.index): relative offset int32 BE, position int32 BE
 *   time index (.timeindex): timestamp int64 BE, relative offset int32 BE
 * In memory key/val hold absolute values: for the offset index key is the
 * offset and val the file position; for the time index key is the
 * timestamp and val the offset.
 */
#define KP_INDEX_OFFSET	0
#define KP_INDEX_TIME	1

#define KP_INDEX_OFFSET_ENTRY	8
#define KP_INDEX_TIME_ENTRY	12

struct kp_index {
	int	 fd;
	int	 kind;
	int64_t	 base;		/* the segment's base offset */
	size_t	 n;		/* entries */
	size_t	 written;	/* of them in the file; the rest pending */
	size_t	 cap;
	size_t	 max;		/* entries allowed (segment.index.bytes) */
	int64_t	*key;
	int64_t	*val;
};

/*
 * Open (creating with O_CREAT when create) and load the index at path.
 * Returns 0 when loaded, 1 when the file was missing or failed its
 * sanity checks (size not a multiple of the entry, keys going backwards,
 * offsets below base): the index is then empty and the caller rebuilds
 * it; -1 with errno on I/O or memory errors. rdonly opens O_RDONLY (an
 * index found bad is then only emptied in memory).
 */
int	 kp_index_open(struct kp_index *, const char *, int, int64_t, size_t,
	    bool);
void	 kp_index_close(struct kp_index *);
/*
 * Append one entry (memory; the file when a run is due). 0 or -1 with
 * errno (nothing added).
 */
int	 kp_index_append(struct kp_index *, int64_t, int64_t);
/* Write pending entries to the file (no fsync). 0 or -1 with errno. */
int	 kp_index_write(struct kp_index *);
/* Keep the first n entries (memory and file). 0 or -1. */
int	 kp_index_truncate(struct kp_index *, size_t);
/* Index of the last entry with key <= k, or -1 when none. */
ssize_t	 kp_index_lookup(const struct kp_index *, int64_t);
/* Index of the first entry with key >= k, or n when none. */
size_t	 kp_index_lower_bound(const struct kp_index *, int64_t);
/* Write pending entries, then fdatasync. */
int	 kp_index_sync(struct kp_index *);
static inline bool
kp_index_full(const struct kp_index *ix)
{
	return ix->n >= ix->max;
}

#endif
