/* kp_offrec.h -- records of the __consumer_offsets topic, in Kafka's layout */
#ifndef KP_OFFREC_H
#define KP_OFFREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"

/*
 * Committed offsets live in the compacted topic __consumer_offsets, keyed
 * so compaction keeps the latest commit per (group, topic, partition), as
 * Kafka's GroupMetadataManager writes them:
 *   key   OffsetCommitKey v1: int16 1, string group, string topic,
 *         int32 partition
 *   value OffsetCommitValue v3: int16 3, int64 offset, int32 leader
 *         epoch, string metadata, int64 commit timestamp; or v1 (int16 1,
 *         int64 offset, string metadata, int64 commit ts, int64 expire ts)
 *         when an explicit expiry was asked (OffsetCommit v2-v4)
 *   a null value (tombstone) removes the offset.
 * Group membership records (key version 2) are kp_grouprec's: parsed here
 * as records to skip.
 */
#define KP_OFFSETS_TOPIC	"__consumer_offsets"

struct kp_offrec {
	char		 group[256];
	char		 topic[256];
	int32_t		 partition;
	bool		 tombstone;
	int64_t		 offset;
	int32_t		 leader_epoch;	/* -1 when unknown */
	char		 metadata[4096];
	int64_t		 commit_ts;
	int64_t		 expire_ts;	/* -1: by retention */
};

void	 kp_offrec_key(struct kp_buf *, const char *group, const char *topic,
	    int32_t partition);
void	 kp_offrec_value(struct kp_buf *, int64_t offset, int32_t epoch,
	    const char *metadata, int64_t commit_ts, int64_t expire_ts);
/*
 * Parse one record: 1 an offset commit (or tombstone, value NULL) filled
 * into r, 0 another kind of record to skip, -1 malformed.
 */
int	 kp_offrec_parse(const uint8_t *key, size_t klen,
	    const uint8_t *value, ssize_t vlen, struct kp_offrec *r);

/* Java's String.hashCode of a UTF-8 string (over its UTF-16 units). */
int32_t	 kp_java_hash(const char *);
/* The __consumer_offsets partition of a group: abs(hash) % n, as Kafka. */
int32_t	 kp_offsets_partition(const char *group, int32_t n);

#endif
