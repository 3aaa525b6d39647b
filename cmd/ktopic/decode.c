/* decode.c -- ktopic dump's decoders: the internal topics' records as kafka-dump-log shows them */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_grouprec.h"
#include "kp_json.h"
#include "kp_offrec.h"
#include "kp_proto_consumer.h"
#include "kp_txnrec.h"
#include "ktopic.h"

/*
 * kafka-dump-log --offsets-decoder and --transaction-log-decoder print a
 * record's key as {"type":"<key version>","data":{...}} and its value as
 * {"version":"<value version>","data":{...}}, with Kafka's field names;
 * the subscriptions and assignments of consumer groups are opened too.
 */

static void
put(struct kp_buf *b, const char *s)
{
	kp_buf_put(b, s, strlen(s));
}

/* sep "name": (sep "" for an object's first member, else ",") */
static void
key(struct kp_buf *b, const char *sep, const char *name)
{
	put(b, sep);
	put(b, "\"");
	put(b, name);
	put(b, "\":");
}

static void
num(struct kp_buf *b, const char *sep, const char *name, int64_t v)
{
	char tmp[24];

	key(b, sep, name);
	snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	put(b, tmp);
}

/* A member of bytes (len -1: null), a string when they are UTF-8 text. */
static void
bytes(struct kp_buf *b, const char *sep, const char *name, const void *p,
    ssize_t len)
{
	key(b, sep, name);
	kp_json_put_bytes(b, p, len);
}

/* A C string member, NULL for null. */
static void
str(struct kp_buf *b, const char *sep, const char *name, const char *s)
{
	bytes(b, sep, name, s, s == NULL ? -1 : (ssize_t)strlen(s));
}

/* {"type":"N","data":{ or {"version":"N","data":{ for a record's bytes */
static void
head(struct kp_buf *b, const char *what, const struct kp_bytes *v)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), "{\"%s\":\"%d\",\"data\":{", what,
	    (int16_t)(v->ptr[0] << 8 | v->ptr[1]));
	put(b, tmp);
}

/* {"topic":T,"<pname>":[P,...]}, after a comma unless first */
static void
topic_parts(struct kp_buf *b, bool first, const struct kp_str *t,
    const char *pname, const int32_t *p, int32_t n)
{
	char tmp[16];

	put(b, first ? "{" : ",{");
	bytes(b, "", "topic", t->ptr, t->len);
	key(b, ",", pname);
	put(b, "[");
	for (int32_t j = 0; j < n; j++) {
		snprintf(tmp, sizeof(tmp), "%s%d", j ? "," : "", p[j]);
		put(b, tmp);
	}
	put(b, "]}");
}

/* A consumer member's subscription, opened; bytes when it is no such. */
static void
subscription(struct kp_buf *b, const uint8_t *p, size_t len)
{
	struct kp_consumer_subscription s;
	struct kp_arena a;
	int16_t ver;

	kp_arena_init(&a);
	kp_consumer_subscription_init(&s);
	if (kp_consumer_subscription_decode(p, len, &ver, &s, &a) != 0) {
		kp_json_put_bytes(b, p, (ssize_t)len);
	} else {
		put(b, "{\"topics\":[");
		for (int32_t i = 0; i < s.n_topics; i++) {
			if (i)
				put(b, ",");
			kp_json_put_bytes(b, s.topics[i].ptr, s.topics[i].len);
		}
		put(b, "]");
		bytes(b, ",", "userData", s.user_data.ptr, s.user_data.len);
		put(b, ",\"ownedPartitions\":[");
		for (int32_t i = 0; i < s.n_owned_partitions; i++)
			topic_parts(b, i == 0, &s.owned_partitions[i].topic,
			    "partitions", s.owned_partitions[i].partitions,
			    s.owned_partitions[i].n_partitions);
		put(b, "]}");
	}
	kp_arena_release(&a);
}

static void
assignment(struct kp_buf *b, const uint8_t *p, size_t len)
{
	struct kp_consumer_assignment s;
	struct kp_arena a;
	int16_t ver;

	kp_arena_init(&a);
	kp_consumer_assignment_init(&s);
	if (len == 0 ||
	    kp_consumer_assignment_decode(p, len, &ver, &s, &a) != 0) {
		kp_json_put_bytes(b, p, (ssize_t)len);
	} else {
		put(b, "{\"assignedPartitions\":[");
		for (int32_t i = 0; i < s.n_assigned_partitions; i++)
			topic_parts(b, i == 0, &s.assigned_partitions[i].topic,
			    "partitions", s.assigned_partitions[i].partitions,
			    s.assigned_partitions[i].n_partitions);
		put(b, "]");
		bytes(b, ",", "userData", s.user_data.ptr, s.user_data.len);
		put(b, "}");
	}
	kp_arena_release(&a);
}

static void
group_value(struct kp_buf *b, const struct kp_coord_saved *g)
{
	bool consumer = strcmp(g->protocol_type, "consumer") == 0;

	str(b, "", "protocolType", g->protocol_type);
	num(b, ",", "generation", g->generation);
	str(b, ",", "protocol", g->protocol);
	str(b, ",", "leader", g->leader);
	num(b, ",", "currentStateTimestamp", g->state_ts);
	put(b, ",\"members\":[");
	for (size_t i = 0; i < g->nmembers; i++) {
		const struct kp_coord_saved_member *m = &g->members[i];

		put(b, i ? ",{" : "{");
		str(b, "", "memberId", m->member_id);
		str(b, ",", "groupInstanceId", m->instance_id);
		str(b, ",", "clientId", m->client_id);
		str(b, ",", "clientHost", m->client_host);
		num(b, ",", "rebalanceTimeout", m->rebalance_ms);
		num(b, ",", "sessionTimeout", m->session_ms);
		key(b, ",", "subscription");
		if (consumer)
			subscription(b, m->subscription, m->sub_len);
		else
			kp_json_put_bytes(b, m->subscription,
			    (ssize_t)m->sub_len);
		key(b, ",", "assignment");
		if (consumer)
			assignment(b, m->assign, m->assign_len);
		else
			kp_json_put_bytes(b, m->assign, (ssize_t)m->assign_len);
		put(b, "}");
	}
	put(b, "]");
}

static int
offsets(const struct kp_bytes *k, const struct kp_bytes *v,
    struct kp_buf *kb, struct kp_buf *vb)
{
	struct kp_offrec o;
	struct kp_grouprec g;
	int16_t vv;

	if (kp_offrec_parse(k->ptr, (size_t)k->len, v->ptr, v->len, &o) == 1) {
		head(kb, "type", k);
		str(kb, "", "group", o.group);
		str(kb, ",", "topic", o.topic);
		num(kb, ",", "partition", o.partition);
		put(kb, "}}");
		if (o.tombstone)
			return 0;
		vv = (int16_t)(v->ptr[0] << 8 | v->ptr[1]);
		head(vb, "version", v);
		num(vb, "", "offset", o.offset);
		if (vv >= 3)
			num(vb, ",", "leaderEpoch", o.leader_epoch);
		str(vb, ",", "metadata", o.metadata);
		num(vb, ",", "commitTimestamp", o.commit_ts);
		if (vv == 1)
			num(vb, ",", "expireTimestamp", o.expire_ts);
		put(vb, "}}");
		return 0;
	}
	if (kp_grouprec_parse(k->ptr, (size_t)k->len, v->ptr, v->len,
	    &g) != 1) {
		kp_grouprec_release(&g);
		return -1;
	}
	head(kb, "type", k);
	str(kb, "", "group", g.group);
	put(kb, "}}");
	if (!g.tombstone) {
		head(vb, "version", v);
		group_value(vb, &g.saved);
		put(vb, "}}");
	}
	kp_grouprec_release(&g);
	return 0;
}

static bool
same(const struct kp_str *x, const struct kp_str *y)
{
	return x->len == y->len && memcmp(x->ptr, y->ptr, (size_t)x->len) == 0;
}

static int
transactions(const struct kp_bytes *k, const struct kp_bytes *v,
    struct kp_buf *kb, struct kp_buf *vb)
{
	struct kp_txnrec t;
	struct kp_arena a;
	size_t i, j;

	kp_arena_init(&a);
	if (kp_txnrec_parse(k->ptr, (size_t)k->len, v->ptr, v->len, &t,
	    &a) != 1) {
		kp_arena_release(&a);
		return -1;
	}
	head(kb, "type", k);
	bytes(kb, "", "transactionalId", t.id.ptr, t.id.len);
	put(kb, "}}");
	if (!t.tombstone) {
		head(vb, "version", v);
		num(vb, "", "producerId", t.producer_id);
		num(vb, ",", "producerEpoch", t.producer_epoch);
		num(vb, ",", "transactionTimeoutMs", t.timeout_ms);
		num(vb, ",", "transactionStatus", t.state);
		put(vb, ",\"transactionPartitions\":[");
		/* one entry per run of one topic, as the value lists them */
		for (i = 0; i < t.nparts; i = j) {
			int32_t *ids = kp_arena_calloc(&a, t.nparts - i,
			    sizeof(*ids));

			for (j = i; j < t.nparts && same(&t.parts[j].topic,
			    &t.parts[i].topic); j++)
				if (ids != NULL)
					ids[j - i] = t.parts[j].partition;
			topic_parts(vb, i == 0, &t.parts[i].topic,
			    "partitionIds", ids, ids != NULL ? (int32_t)(j - i) :
			    0);
		}
		put(vb, "]");
		num(vb, ",", "transactionLastUpdateTimestampMs",
		    t.last_update_ms);
		num(vb, ",", "transactionStartTimestampMs", t.start_ms);
		put(vb, "}}");
	}
	kp_arena_release(&a);
	return 0;
}

int
kt_decode(enum kt_decoder d, const struct kp_bytes *k,
    const struct kp_bytes *v, struct kp_buf *kb, struct kp_buf *vb)
{
	/* a version needs two bytes; a tombstone has none */
	if (k->len < 2 || (v->len >= 0 && v->len < 2))
		return -1;
	switch (d) {
	case KT_DECODE_OFFSETS:
		return offsets(k, v, kb, vb);
	case KT_DECODE_TXN:
		return transactions(k, v, kb, vb);
	default:
		return -1;
	}
}
