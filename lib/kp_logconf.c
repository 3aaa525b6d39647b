/* kp_logconf.c -- per-topic log configs with Kafka's names and defaults */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_logconf.h"

/* Sorted by name, the order DescribeConfigs lists them in. */
static const char *names[KP_LC_COUNT] = {
	[KP_LC_CLEANUP_POLICY] = "cleanup.policy",
	[KP_LC_DELETE_RETENTION_MS] = "delete.retention.ms",
	[KP_LC_FLUSH_MESSAGES] = "flush.messages",
	[KP_LC_FLUSH_MS] = "flush.ms",
	[KP_LC_INDEX_INTERVAL_BYTES] = "index.interval.bytes",
	[KP_LC_MAX_MESSAGE_BYTES] = "max.message.bytes",
	[KP_LC_TIMESTAMP_TYPE] = "message.timestamp.type",
	[KP_LC_MIN_COMPACTION_LAG_MS] = "min.compaction.lag.ms",
	[KP_LC_MIN_INSYNC_REPLICAS] = "min.insync.replicas",
	[KP_LC_RETENTION_BYTES] = "retention.bytes",
	[KP_LC_RETENTION_MS] = "retention.ms",
	[KP_LC_SEGMENT_BYTES] = "segment.bytes",
	[KP_LC_SEGMENT_INDEX_BYTES] = "segment.index.bytes",
	[KP_LC_SEGMENT_MS] = "segment.ms",
};

void
kp_logconf_defaults(struct kp_logconf *c)
{
	memset(c, 0, sizeof(*c));
	c->cleanup_policy = KP_CLEANUP_DELETE;
	c->delete_retention_ms = 86400000;
	c->flush_messages = INT64_MAX;
	c->flush_ms = INT64_MAX;
	c->index_interval_bytes = 4096;
	c->max_message_bytes = 1048588;
	c->timestamp_type = KP_TS_CREATE_TIME;
	c->min_compaction_lag_ms = 0;
	c->min_insync_replicas = 1;
	c->retention_bytes = -1;
	c->retention_ms = 604800000;
	c->segment_bytes = 1073741824;
	c->segment_index_bytes = 10485760;
	c->segment_ms = 604800000;
}

size_t
kp_logconf_count(void)
{
	return KP_LC_COUNT;
}

const char *
kp_logconf_name(size_t i)
{
	return i < KP_LC_COUNT ? names[i] : NULL;
}

int
kp_logconf_lookup(const char *name)
{
	for (int i = 0; i < KP_LC_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static int
parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	if (*s == '\0' || *s == ' ')
		return -1;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_policy(const char *s, int *out)
{
	if (strcmp(s, "delete") == 0)
		*out = KP_CLEANUP_DELETE;
	else if (strcmp(s, "compact") == 0)
		*out = KP_CLEANUP_COMPACT;
	else if (strcmp(s, "compact,delete") == 0 ||
	    strcmp(s, "delete,compact") == 0)
		*out = KP_CLEANUP_COMPACT | KP_CLEANUP_DELETE;
	else
		return -1;
	return 0;
}

/* Lower bounds as Kafka's LogConfig declares them. */
static int
set_key(struct kp_logconf *c, int key, const char *v)
{
	int64_t n;
	int p;

	switch (key) {
	case KP_LC_CLEANUP_POLICY:
		if (parse_policy(v, &p) < 0)
			return -1;
		c->cleanup_policy = p;
		return 0;
	case KP_LC_TIMESTAMP_TYPE:
		if (strcmp(v, "CreateTime") == 0)
			c->timestamp_type = KP_TS_CREATE_TIME;
		else if (strcmp(v, "LogAppendTime") == 0)
			c->timestamp_type = KP_TS_LOG_APPEND_TIME;
		else
			return -1;
		return 0;
	case KP_LC_DELETE_RETENTION_MS:
		if (parse_i64(v, 0, INT64_MAX, &n) < 0)
			return -1;
		c->delete_retention_ms = n;
		return 0;
	case KP_LC_FLUSH_MESSAGES:
		if (parse_i64(v, 1, INT64_MAX, &n) < 0)
			return -1;
		c->flush_messages = n;
		return 0;
	case KP_LC_FLUSH_MS:
		if (parse_i64(v, 0, INT64_MAX, &n) < 0)
			return -1;
		c->flush_ms = n;
		return 0;
	case KP_LC_INDEX_INTERVAL_BYTES:
		if (parse_i64(v, 0, INT32_MAX, &n) < 0)
			return -1;
		c->index_interval_bytes = n;
		return 0;
	case KP_LC_MAX_MESSAGE_BYTES:
		if (parse_i64(v, 0, INT32_MAX, &n) < 0)
			return -1;
		c->max_message_bytes = n;
		return 0;
	case KP_LC_MIN_COMPACTION_LAG_MS:
		if (parse_i64(v, 0, INT64_MAX, &n) < 0)
			return -1;
		c->min_compaction_lag_ms = n;
		return 0;
	case KP_LC_MIN_INSYNC_REPLICAS:
		if (parse_i64(v, 1, INT32_MAX, &n) < 0)
			return -1;
		c->min_insync_replicas = (int32_t)n;
		return 0;
	case KP_LC_RETENTION_BYTES:
		if (parse_i64(v, INT64_MIN, INT64_MAX, &n) < 0)
			return -1;
		c->retention_bytes = n < 0 ? -1 : n;
		return 0;
	case KP_LC_RETENTION_MS:
		if (parse_i64(v, -1, INT64_MAX, &n) < 0)
			return -1;
		c->retention_ms = n;
		return 0;
	case KP_LC_SEGMENT_BYTES:
		/* Kafka's minimum is 14 bytes (one legacy message header). */
		if (parse_i64(v, 14, INT32_MAX, &n) < 0)
			return -1;
		c->segment_bytes = n;
		return 0;
	case KP_LC_SEGMENT_INDEX_BYTES:
		if (parse_i64(v, 4, INT32_MAX, &n) < 0)
			return -1;
		c->segment_index_bytes = n;
		return 0;
	case KP_LC_SEGMENT_MS:
		if (parse_i64(v, 1, INT64_MAX, &n) < 0)
			return -1;
		c->segment_ms = n;
		return 0;
	}
	return -1;
}

int
kp_logconf_set(struct kp_logconf *c, const char *name, const char *value)
{
	int key;

	if (name == NULL || value == NULL ||
	    (key = kp_logconf_lookup(name)) < 0)
		return KP_INVALID_CONFIG;
	if (set_key(c, key, value) < 0)
		return KP_INVALID_CONFIG;
	c->set |= 1u << key;
	return KP_NONE;
}

int
kp_logconf_set_pair(struct kp_logconf *c, const char *pair)
{
	const char *eq = strchr(pair, '=');
	char name[64];
	size_t n;

	if (eq == NULL || (n = (size_t)(eq - pair)) >= sizeof(name))
		return KP_INVALID_CONFIG;
	memcpy(name, pair, n);
	name[n] = '\0';
	return kp_logconf_set(c, name, eq + 1);
}

int
kp_logconf_reset(struct kp_logconf *c, const char *name)
{
	struct kp_logconf d;
	char buf[64];
	int key;

	if ((key = kp_logconf_lookup(name)) < 0)
		return KP_INVALID_CONFIG;
	kp_logconf_defaults(&d);
	(void)set_key(c, key, kp_logconf_format(&d, (size_t)key, buf,
	    sizeof(buf)));
	c->set &= ~(1u << key);
	return KP_NONE;
}

static int64_t
value_i64(const struct kp_logconf *c, size_t key)
{
	switch (key) {
	case KP_LC_DELETE_RETENTION_MS: return c->delete_retention_ms;
	case KP_LC_FLUSH_MESSAGES: return c->flush_messages;
	case KP_LC_FLUSH_MS: return c->flush_ms;
	case KP_LC_INDEX_INTERVAL_BYTES: return c->index_interval_bytes;
	case KP_LC_MAX_MESSAGE_BYTES: return c->max_message_bytes;
	case KP_LC_MIN_COMPACTION_LAG_MS: return c->min_compaction_lag_ms;
	case KP_LC_MIN_INSYNC_REPLICAS: return c->min_insync_replicas;
	case KP_LC_RETENTION_BYTES: return c->retention_bytes;
	case KP_LC_RETENTION_MS: return c->retention_ms;
	case KP_LC_SEGMENT_BYTES: return c->segment_bytes;
	case KP_LC_SEGMENT_INDEX_BYTES: return c->segment_index_bytes;
	case KP_LC_SEGMENT_MS: return c->segment_ms;
	}
	return 0;
}

char *
kp_logconf_format(const struct kp_logconf *c, size_t key, char *buf,
    size_t len)
{
	const char *s = NULL;

	if (key == KP_LC_CLEANUP_POLICY) {
		if (c->cleanup_policy == KP_CLEANUP_COMPACT)
			s = "compact";
		else if (c->cleanup_policy == KP_CLEANUP_DELETE)
			s = "delete";
		else
			s = "compact,delete";
	} else if (key == KP_LC_TIMESTAMP_TYPE)
		s = c->timestamp_type == KP_TS_LOG_APPEND_TIME ?
		    "LogAppendTime" : "CreateTime";
	if (s != NULL)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%" PRId64, value_i64(c, key));
	return buf;
}

void
kp_logconf_merge(struct kp_logconf *out, const struct kp_logconf *base,
    const struct kp_logconf *over)
{
	struct kp_logconf r = *base;
	char buf[64];

	for (size_t k = 0; k < KP_LC_COUNT; k++) {
		if (!kp_logconf_is_set(over, k))
			continue;
		(void)set_key(&r, (int)k, kp_logconf_format(over, k, buf,
		    sizeof(buf)));
	}
	/* Only the topic's own overrides count as set (TOPIC_CONFIG). */
	r.set = over->set;
	*out = r;
}
