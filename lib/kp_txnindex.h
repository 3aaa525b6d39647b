/* kp_txnindex.h -- a segment's aborted transaction index (.txnindex) */
#ifndef KP_TXNINDEX_H
#define KP_TXNINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Kafka's TransactionIndex: one entry per aborted transaction, in the
 * segment that holds its ABORT marker, in marker order. 34 bytes each,
 * big-endian:
 *   int16 version (0), int64 producer_id, int64 first_offset (the
 *   transaction's first batch), int64 last_offset (the marker's),
 *   int64 last_stable_offset (the partition's LSO once it was aborted)
 * read_committed consumers learn from it which records to drop. The file
 * is created with the first entry: most segments never have one.
 */
#define KP_TXNINDEX_SUFFIX	".txnindex"
#define KP_TXNINDEX_ENTRY	34

struct kp_txn_entry {
	int64_t		 pid;
	int64_t		 first_offset;
	int64_t		 last_offset;
	int64_t		 lso;
};

/* Encode one entry into 34 bytes. */
void	 kp_txnindex_encode(uint8_t *, const struct kp_txn_entry *);
/*
 * Decode one entry: 34 bytes consumed, 0 need more, -1 malformed (a
 * version other than 0, a negative producer id or offset, first offset
 * after the last, LSO below the first).
 */
int	 kp_txnindex_decode(const uint8_t *, size_t, struct kp_txn_entry *);

/* The entries of one file, in memory and mirrored to it. */
struct kp_txnindex {
	int		 fd;		/* -1 until the file exists */
	char		*path;		/* owned */
	bool		 rdonly;
	bool		 dirty;		/* written, not synced */
	struct kp_txn_entry *e;
	size_t		 n, cap;
};

/*
 * Load the file at path if it is there (a missing file is an empty
 * index). Entries are taken up to the first malformed one or one whose
 * marker is not after the previous one's; the rest is cut off the file
 * (left alone when rdonly). Returns 0, 1 when something was cut, -1
 * with errno.
 */
int	 kp_txnindex_open(struct kp_txnindex *, const char *, bool);
/*
 * The same from bytes (the fuzz harness and open): returns the bytes of
 * the valid prefix taken, or -1 (ENOMEM).
 */
ssize_t	 kp_txnindex_load(struct kp_txnindex *, const uint8_t *, size_t);
void	 kp_txnindex_close(struct kp_txnindex *);
/*
 * Add an entry, creating the file when needed. An entry whose marker is
 * not after the last one's (a rebuild) is put in order and the file
 * rewritten from there. 0 or -1 with errno (nothing added).
 */
int	 kp_txnindex_add(struct kp_txnindex *, const struct kp_txn_entry *);
/* Drop entries whose marker is at or after offset (memory and file). */
int	 kp_txnindex_truncate(struct kp_txnindex *, int64_t);
/* True when an entry has this marker offset. */
bool	 kp_txnindex_has(const struct kp_txnindex *, int64_t);
/* fdatasync what was written. 0 or -1 with errno. */
int	 kp_txnindex_sync(struct kp_txnindex *);

#endif
