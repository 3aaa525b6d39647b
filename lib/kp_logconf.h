/* kp_logconf.h -- per-topic log configs with Kafka's names and defaults */
#ifndef KP_LOGCONF_H
#define KP_LOGCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cleanup.policy bits: "delete", "compact", "compact,delete". */
#define KP_CLEANUP_DELETE	0x1
#define KP_CLEANUP_COMPACT	0x2

/* message.timestamp.type */
#define KP_TS_CREATE_TIME	0
#define KP_TS_LOG_APPEND_TIME	1

/* Index of each config in the table (kp_logconf_name(i)). */
enum kp_logconf_key {
	KP_LC_CLEANUP_POLICY,
	KP_LC_DELETE_RETENTION_MS,
	KP_LC_FLUSH_MESSAGES,
	KP_LC_FLUSH_MS,
	KP_LC_INDEX_INTERVAL_BYTES,
	KP_LC_MAX_MESSAGE_BYTES,
	KP_LC_TIMESTAMP_TYPE,
	KP_LC_MIN_COMPACTION_LAG_MS,
	KP_LC_MIN_INSYNC_REPLICAS,
	KP_LC_RETENTION_BYTES,
	KP_LC_RETENTION_MS,
	KP_LC_SEGMENT_BYTES,
	KP_LC_SEGMENT_INDEX_BYTES,
	KP_LC_SEGMENT_MS,
	KP_LC_COUNT
};

/*
 * The effective configuration of one topic. Plain values, so the broker
 * and the log read fields directly. `set` has bit (1 << key) for each
 * config given explicitly (a topic override), which DescribeConfigs
 * reports as TOPIC_CONFIG instead of DEFAULT_CONFIG.
 */
struct kp_logconf {
	int	 cleanup_policy;	/* cleanup.policy: delete */
	int64_t	 delete_retention_ms;	/* delete.retention.ms: 86400000 */
	int64_t	 flush_messages;	/* flush.messages: INT64_MAX (never) */
	int64_t	 flush_ms;		/* flush.ms: INT64_MAX (never) */
	int64_t	 index_interval_bytes;	/* index.interval.bytes: 4096 */
	int64_t	 max_message_bytes;	/* max.message.bytes: 1048588 */
	int	 timestamp_type;	/* message.timestamp.type: CreateTime */
	int64_t	 min_compaction_lag_ms;	/* min.compaction.lag.ms: 0 */
	int32_t	 min_insync_replicas;	/* min.insync.replicas: 1 */
	int64_t	 retention_bytes;	/* retention.bytes: -1 (unlimited) */
	int64_t	 retention_ms;		/* retention.ms: 604800000, -1 unlimited */
	int64_t	 segment_bytes;		/* segment.bytes: 1073741824 */
	int64_t	 segment_index_bytes;	/* segment.index.bytes: 10485760 */
	int64_t	 segment_ms;		/* segment.ms: 604800000 */
	uint32_t set;			/* overridden keys, 1 << kp_logconf_key */
};

/* Kafka's defaults, nothing marked as set. */
void		 kp_logconf_defaults(struct kp_logconf *);
/* Number of configs, and the name of config i ("segment.bytes"). */
size_t		 kp_logconf_count(void);
const char	*kp_logconf_name(size_t);
/* The key of a name, or -1 for an unknown name. */
int		 kp_logconf_lookup(const char *);
/*
 * Parse and validate name=value into c (marking it set). Returns 0, or a
 * Kafka error: KP_INVALID_CONFIG for an unknown name or a bad value
 * (c unchanged).
 */
int		 kp_logconf_set(struct kp_logconf *, const char *, const char *);
/* Parse one "name=value" string, as kp_logconf_set. */
int		 kp_logconf_set_pair(struct kp_logconf *, const char *);
/* Back to the default of one config given by name, clearing its bit. */
int		 kp_logconf_reset(struct kp_logconf *, const char *);
/*
 * Format the value of config i into buf the way Kafka prints it
 * ("compact,delete", "CreateTime", "604800000"). Returns buf.
 */
char		*kp_logconf_format(const struct kp_logconf *, size_t, char *,
		    size_t);
static inline bool
kp_logconf_is_set(const struct kp_logconf *c, size_t key)
{
	return (c->set >> key) & 1;
}
/*
 * Apply the overridden entries of `over` on top of `base` into out: how a
 * topic's config is the broker defaults plus the topic's overrides.
 */
void		 kp_logconf_merge(struct kp_logconf *, const struct kp_logconf *,
		    const struct kp_logconf *);

#endif
