/* kp_store.h -- a data directory: topics, their partitions' logs, and topic metadata */
#ifndef KP_STORE_H
#define KP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_log.h"
#include "kp_logconf.h"

/*
 * A data directory holds one folder per partition, <topic>-<partition>/
 * (see kp_log.h), and one small file per topic under .topics/<topic>:
 *   topic_id=<32 hex digits>
 *   partitions=<count>
 *   <config name>=<value>        one line per topic override
 * written atomically (temp file, fsync, rename, fsync dir). The topic file
 * is what makes a topic exist: creation writes partition folders first and
 * the topic file last; deletion removes the topic file first, so partition
 * folders left by a crash either way are removed on the next open.
 *
 * Single-threaded, like kp_log.
 */

#define KP_TOPIC_NAME_MAX	249
#define KP_STORE_PARTITIONS_MAX	100000

struct kp_topic {
	char			*name;		/* owned by the store */
	uint8_t			 id[16];	/* topic id (UUID v4) */
	int32_t			 partitions;	/* partition count */
	struct kp_logconf	 overrides;	/* only the `set` entries count */
	struct kp_logconf	 conf;		/* effective: defaults + overrides */
	struct kp_log		**logs;		/* [partitions], owned by the store */
	bool			 partial;	/* cluster mode: logs[p] may be NULL */
};

struct kp_store;

/*
 * Called once per partition log opened by kp_store_open (and by later
 * creations), with what recovery did; the broker logs it. topic and the
 * report are borrowed for the call.
 */
typedef void	 kp_store_report_fn(void *, const char *, int32_t,
		    const struct kp_log_recovery *);

/*
 * Open the data directory dir (created if missing) and every topic in it,
 * recovering each partition log. defaults (copied) are the broker-wide
 * configs topic overrides apply on. report may be NULL. Returns a new
 * store (kp_store_close it) or NULL with errno; *bad_path, if not NULL,
 * is set to a new string (caller frees) naming the file that failed.
 */
struct kp_store	*kp_store_open(const char *, const struct kp_logconf *,
		    int64_t, kp_store_report_fn *, void *, char **);
/* Flush and close every log. NULL is ok. */
void		 kp_store_close(struct kp_store *);
/* Borrowed path of the data directory. */
const char	*kp_store_dir(const struct kp_store *);
/* Borrowed broker defaults. */
const struct kp_logconf *kp_store_defaults(const struct kp_store *);

/* Kafka's rule: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
bool		 kp_topic_name_valid(const char *);

/*
 * Create a topic with `partitions` partitions and n config overrides
 * (names[i]=values[i], Kafka names). id may be NULL (a random UUID is
 * made). With validate_only nothing is written. Returns KP_NONE or:
 *   KP_INVALID_TOPIC_EXCEPTION, KP_TOPIC_ALREADY_EXISTS,
 *   KP_INVALID_PARTITIONS (< 1 or > KP_STORE_PARTITIONS_MAX),
 *   KP_INVALID_CONFIG, KP_KAFKA_STORAGE_ERROR (errno set; nothing left).
 * *out, if not NULL, is set to the new topic (borrowed, see below).
 */
int		 kp_store_create_topic(struct kp_store *, const char *, int32_t,
		    const char *const *, const char *const *, size_t,
		    const uint8_t *, bool, struct kp_topic **);
/* Delete a topic and all its data. KP_NONE, KP_UNKNOWN_TOPIC_OR_PARTITION,
 * KP_KAFKA_STORAGE_ERROR. Its kp_topic and logs are freed. */
int		 kp_store_delete_topic(struct kp_store *, const char *);
/*
 * CreatePartitions: grow the topic to `total` partitions. KP_NONE,
 * KP_UNKNOWN_TOPIC_OR_PARTITION, KP_INVALID_PARTITIONS (not larger),
 * KP_KAFKA_STORAGE_ERROR. validate_only writes nothing. The topic's logs
 * array is reallocated: reload pointers from the topic afterwards.
 */
int		 kp_store_add_partitions(struct kp_store *, const char *,
		    int32_t, bool);
/*
 * Alter a topic's configs. ops[i] is 0 SET, 1 DELETE (back to default),
 * as IncrementalAlterConfigs' OpType (APPEND/SUBTRACT are not supported:
 * KP_INVALID_REQUEST); with `replace` (legacy AlterConfigs) every override
 * not listed is removed first. All or nothing: KP_NONE,
 * KP_UNKNOWN_TOPIC_OR_PARTITION, KP_INVALID_CONFIG, KP_INVALID_REQUEST,
 * KP_KAFKA_STORAGE_ERROR. The new config is pushed to every log.
 */
int		 kp_store_alter_configs(struct kp_store *, const char *,
		    const char *const *, const char *const *, const int8_t *,
		    size_t, bool, bool);

/*
 * Cluster mode: a broker holds only the partitions it replicates. A
 * partial topic knows its partition count, but a partition's log exists
 * only once opened here (logs[p] is NULL for the others), and a store
 * opened again brings back only the partitions whose folders exist. The
 * topic file says `partial=1`. Single-node topics are never partial.
 *
 * kp_store_adopt_topic makes name a partial topic of at least `parts`
 * partitions (counts only grow) with topic id id (NULL: keep the one it
 * has, or make one) and, when names is not NULL, exactly these n
 * overrides. An existing topic with another id (deleted and made again
 * while this broker was away) is deleted first, data and all; an existing
 * whole topic becomes partial, keeping its logs. KP_NONE,
 * KP_INVALID_TOPIC_EXCEPTION, KP_INVALID_PARTITIONS, KP_INVALID_CONFIG,
 * KP_KAFKA_STORAGE_ERROR. *out as kp_store_create_topic.
 */
int		 kp_store_adopt_topic(struct kp_store *, const char *, int32_t,
		    const uint8_t *, const char *const *, const char *const *,
		    size_t, struct kp_topic **);
/*
 * Open partition p of a partial topic (its folder created if missing),
 * or close it and remove its folder. Both are no-ops when already so.
 * KP_NONE, KP_UNKNOWN_TOPIC_OR_PARTITION, KP_KAFKA_STORAGE_ERROR (errno).
 */
int		 kp_store_open_partition(struct kp_store *, const char *,
		    int32_t);
int		 kp_store_drop_partition(struct kp_store *, const char *,
		    int32_t);

/*
 * Lookups. Returned pointers are BORROWED: valid until the topic is
 * deleted, its partitions added (logs array), or the store closed.
 */
struct kp_topic	*kp_store_topic(struct kp_store *, const char *);
struct kp_topic	*kp_store_topic_by_id(struct kp_store *, const uint8_t *);
/* NULL for an unknown topic or partition, or one not held here. */
struct kp_log	*kp_store_log(struct kp_store *, const char *, int32_t);
/* Topics in name order: first with NULL, then the previous; NULL at end. */
struct kp_topic	*kp_store_topic_next(struct kp_store *,
		    const struct kp_topic *);
size_t		 kp_store_topic_count(const struct kp_store *);

/*
 * kp_log_tick(log, now_ms, ckpt_ms) on every log. Returns 0, or -1 with
 * errno when some log failed (the others still ran); *bad, if not NULL,
 * is set to a failing log (borrowed).
 */
int		 kp_store_tick(struct kp_store *, int64_t, int64_t,
		    struct kp_log **);
/* kp_log_flush on every log. 0 or -1 with errno. */
int		 kp_store_flush(struct kp_store *);

/*
 * Write a small file atomically: "<path>~", fsync, rename over path,
 * fsync the folder. 0 or -1 with errno (the temp file removed).
 */
int		 kp_write_file_atomic(const char *, const void *, size_t);
/* fsync a directory. 0 or -1 with errno. */
int		 kp_fsync_dir(const char *);

#endif
