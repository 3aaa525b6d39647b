/* kp_epoch.h -- a partition's leader-epoch cache: which epoch started at which offset, as Kafka's leader-epoch-checkpoint */
#ifndef KP_EPOCH_H
#define KP_EPOCH_H

#include <stddef.h>
#include <stdint.h>

struct kp_log;

/*
 * Every batch carries the leader epoch it was appended under
 * (partitionLeaderEpoch). The cache keeps, per epoch, the first offset
 * written in it, so a leader can tell a returning replica where that
 * replica's last epoch ended (OffsetForLeaderEpoch) and the replica cuts
 * what it holds beyond that: its divergent tail (KIP-101, KIP-279).
 *
 * On disk it is Kafka's file "leader-epoch-checkpoint" in the partition
 * folder, so Kafka's tools read it:
 *     0               version
 *     N               number of entries
 *     <epoch> <startOffset>   N lines, epochs and offsets increasing
 * written atomically (temp file, fsync, rename).
 */
#define KP_EPOCH_FILE	"leader-epoch-checkpoint"

struct kp_epoch_entry {
	int32_t		 epoch;
	int64_t		 start;		/* first offset of the epoch */
};

struct kp_epoch_cache {
	struct kp_epoch_entry *e;	/* increasing epoch and start */
	size_t		 n, cap;
};

void	 kp_epoch_init(struct kp_epoch_cache *);
void	 kp_epoch_release(struct kp_epoch_cache *);
/* Latest epoch, -1 when empty. */
int32_t	 kp_epoch_latest(const struct kp_epoch_cache *);
/*
 * An epoch starts at start (Kafka's assign): nothing when it is the
 * latest epoch already at or before start; else entries with an epoch >=
 * epoch or a start >= start go (they conflict) and it is added. Negative
 * epochs are ignored. Returns 1 if the cache changed, 0 if not, -1 ENOMEM.
 */
int	 kp_epoch_assign(struct kp_epoch_cache *, int32_t, int64_t);
/* The log was cut at end: forget epochs starting at or after it. 1/0. */
int	 kp_epoch_truncate(struct kp_epoch_cache *, int64_t);
/*
 * Kafka's endOffsetFor: for requested epoch e and log end leo, the
 * largest epoch <= e this cache knows and the offset where it ended (the
 * next epoch's start, or leo for the latest epoch). Unknown (e newer than
 * every epoch, e < 0, or an empty cache): epoch -1, offset -1. e older
 * than every epoch: e and the first epoch's start.
 */
void	 kp_epoch_end_for(const struct kp_epoch_cache *, int32_t, int64_t,
	    int32_t *, int64_t *);
/*
 * Read dir/leader-epoch-checkpoint. 0; -1 with errno ENOENT when there is
 * none, EINVAL when malformed, or another errno. The cache is replaced.
 */
int	 kp_epoch_load(struct kp_epoch_cache *, const char *);
/* Write it atomically. 0 or -1 with errno. */
int	 kp_epoch_save(const struct kp_epoch_cache *, const char *);
/*
 * Rebuild from the batches' partitionLeaderEpoch (the file was missing):
 * reads the whole log. 0 or -1 with errno.
 */
int	 kp_epoch_rebuild(struct kp_epoch_cache *, struct kp_log *);

#endif
