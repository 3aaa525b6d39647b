/* kp_txnrec.c -- records of the __transaction_state topic, in Kafka's layout */
#include <string.h>

#include "kp_offrec.h"
#include "kp_txnrec.h"

static const char *const state_names[KP_TXN_NSTATES] = {
	"Empty", "Ongoing", "PrepareCommit", "PrepareAbort",
	"CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence",
};

void
kp_txnrec_key(struct kp_buf *b, const char *id)
{
	kp_buf_put_i16(b, 0);
	kp_put_string(b, id, (ssize_t)strlen(id));
}

/* How many topics: a topic's partitions need not be adjacent in r. */
static bool
seen_before(const struct kp_txnrec *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (r->parts[j].topic.len == r->parts[i].topic.len &&
		    memcmp(r->parts[j].topic.ptr, r->parts[i].topic.ptr,
		    (size_t)r->parts[i].topic.len) == 0)
			return true;
	return false;
}

static bool
same_topic(const struct kp_str *a, const struct kp_str *b)
{
	return a->len == b->len && memcmp(a->ptr, b->ptr, (size_t)a->len) == 0;
}

void
kp_txnrec_value(struct kp_buf *b, const struct kp_txnrec *r)
{
	int32_t ntopics = 0;

	kp_buf_put_i16(b, 0);
	kp_buf_put_i64(b, r->producer_id);
	kp_buf_put_i16(b, r->producer_epoch);
	kp_buf_put_i32(b, r->timeout_ms);
	kp_buf_put_i8(b, r->state);
	for (size_t i = 0; i < r->nparts; i++)
		if (!seen_before(r, i))
			ntopics++;
	kp_put_array(b, ntopics);
	for (size_t i = 0; i < r->nparts; i++) {
		int32_t n = 0;

		if (seen_before(r, i))
			continue;
		for (size_t j = i; j < r->nparts; j++)
			if (same_topic(&r->parts[i].topic, &r->parts[j].topic))
				n++;
		kp_put_string(b, r->parts[i].topic.ptr, r->parts[i].topic.len);
		kp_put_array(b, n);
		for (size_t j = i; j < r->nparts; j++)
			if (same_topic(&r->parts[i].topic, &r->parts[j].topic))
				kp_buf_put_i32(b, r->parts[j].partition);
	}
	kp_buf_put_i64(b, r->last_update_ms);
	kp_buf_put_i64(b, r->start_ms);
}

static bool
str_ok(const struct kp_str *s)
{
	return s->len >= 0 && memchr(s->ptr, '\0', (size_t)s->len) == NULL;
}

static int
parse_parts(struct kp_reader *rd, struct kp_txnrec *r, struct kp_arena *a)
{
	/* each topic takes at least 6 bytes, each partition 4 */
	int32_t nt = kp_read_array(rd, 6);
	size_t cap = 0;
	struct kp_reader probe;

	if (rd->err || nt < 0)
		return nt < 0 && !rd->err ? 0 : -1;
	/* Count the partitions first, on a copy of the reader. */
	probe = *rd;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_str t;
		int32_t np;

		kp_read_string(&probe, &t);
		np = kp_read_array(&probe, 4);
		if (probe.err || np < 0)
			return -1;
		cap += (size_t)np;
		if (kp_reader_take(&probe, (size_t)np * 4) == NULL)
			return -1;
	}
	r->parts = kp_arena_calloc(a, cap + 1, sizeof(*r->parts));
	if (r->parts == NULL)
		return -1;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_str t;
		int32_t np;

		kp_read_string(rd, &t);
		np = kp_read_array(rd, 4);
		if (rd->err || !str_ok(&t))
			return -1;
		for (int32_t j = 0; j < np; j++) {
			r->parts[r->nparts].topic = t;
			r->parts[r->nparts++].partition = kp_read_i32(rd);
		}
	}
	return rd->err ? -1 : 0;
}

int
kp_txnrec_parse(const uint8_t *key, size_t klen, const uint8_t *value,
    ssize_t vlen, struct kp_txnrec *r, struct kp_arena *a)
{
	struct kp_reader rd;
	int16_t kv, vv;

	memset(r, 0, sizeof(*r));
	if ((kv = kp_read_version(&rd, key, klen)) < 0)
		return -1;
	if (kv != 0)
		return 0;
	kp_read_string(&rd, &r->id);
	if (rd.err || kp_reader_left(&rd) != 0 || !str_ok(&r->id))
		return -1;
	if (value == NULL || vlen < 0) {
		r->tombstone = true;
		return 1;
	}
	kp_reader_init(&rd, value, (size_t)vlen);
	vv = kp_read_i16(&rd);
	if (rd.err)
		return -1;
	if (vv != 0)
		return 0;	/* a newer broker's value: not ours to read */
	r->producer_id = kp_read_i64(&rd);
	r->producer_epoch = kp_read_i16(&rd);
	r->timeout_ms = kp_read_i32(&rd);
	r->state = kp_read_i8(&rd);
	if (rd.err || r->state < 0 || r->state >= KP_TXN_NSTATES ||
	    parse_parts(&rd, r, a) == -1)
		return -1;
	r->last_update_ms = kp_read_i64(&rd);
	r->start_ms = kp_read_i64(&rd);
	if (rd.err || kp_reader_left(&rd) != 0)
		return -1;
	return 1;
}

const char *
kp_txn_state_name(int s)
{
	return s >= 0 && s < KP_TXN_NSTATES ? state_names[s] : NULL;
}

int
kp_txn_state_parse(const char *p, size_t n)
{
	for (int i = 0; i < KP_TXN_NSTATES; i++)
		if (strlen(state_names[i]) == n &&
		    memcmp(state_names[i], p, n) == 0)
			return i;
	return -1;
}

int32_t
kp_txn_partition(const char *id, int32_t n)
{
	return kp_offsets_partition(id, n);
}
