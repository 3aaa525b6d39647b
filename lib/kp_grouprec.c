/* kp_grouprec.c -- group membership records of __consumer_offsets, in Kafka's layout */
#include <stdlib.h>
#include <string.h>

#include "kp_grouprec.h"
#include "kp_wire.h"

#define KEY_VERSION	2
#define VALUE_VERSION	3

void
kp_grouprec_key(struct kp_buf *b, const char *group)
{
	kp_buf_put_i16(b, KEY_VERSION);
	kp_put_string(b, group, -1);
}

void
kp_grouprec_value(struct kp_buf *b, const struct kp_coord_group *g)
{
	const struct kp_coord_member *m;

	kp_buf_put_i16(b, VALUE_VERSION);
	kp_put_string(b, g->protocol_type ? g->protocol_type : "", -1);
	kp_buf_put_i32(b, g->generation);
	kp_put_string(b, g->protocol, -1);
	kp_put_string(b, g->leader, -1);
	kp_buf_put_i64(b, g->state_ts);
	kp_put_array(b, (int32_t)g->nmembers);
	TAILQ_FOREACH(m, &g->members, link) {
		/* only the chosen protocol's metadata, as Kafka keeps it */
		const struct kp_coord_proto *p = g->protocol != NULL ?
		    kp_coord_member_proto(m, g->protocol) : NULL;

		kp_put_string(b, m->member_id, -1);
		kp_put_string(b, m->instance_id, -1);
		kp_put_string(b, m->client_id ? m->client_id : "", -1);
		kp_put_string(b, m->client_host ? m->client_host : "", -1);
		kp_buf_put_i32(b, m->rebalance_ms);
		kp_buf_put_i32(b, m->session_ms);
		kp_put_bytes(b, p != NULL ? p->meta : NULL,
		    p != NULL ? (ssize_t)p->len : 0);
		kp_put_bytes(b, m->assign, (ssize_t)m->assign_len);
	}
}

/*
 * The strings of a value all go into one allocation, NUL-terminated: at
 * most the value's bytes plus one terminator per string.
 */
struct strs {
	char	*base;
	size_t	 used, cap;
};

/* A copy of s in st; NULL for a null string (*bad set if not nullable). */
static const char *
str_put(struct strs *st, const struct kp_str *s, bool nullable, bool *bad)
{
	char *p;

	if (s->len < 0) {
		if (!nullable)
			*bad = true;
		return NULL;
	}
	if (memchr(s->ptr, '\0', (size_t)s->len) != NULL ||
	    st->used + (size_t)s->len + 1 > st->cap) {
		*bad = true;
		return NULL;
	}
	p = st->base + st->used;
	memcpy(p, s->ptr, (size_t)s->len);
	p[s->len] = '\0';
	st->used += (size_t)s->len + 1;
	return p;
}

static int
parse_member(struct kp_reader *rd, int16_t vv, struct strs *st,
    struct kp_coord_saved_member *m)
{
	struct kp_str id, iid = { NULL, -1 }, cid, host;
	struct kp_bytes sub, asg;
	bool bad = false;

	kp_read_string(rd, &id);
	if (vv >= 3)
		kp_read_nstring(rd, &iid);
	kp_read_string(rd, &cid);
	kp_read_string(rd, &host);
	m->rebalance_ms = vv >= 1 ? kp_read_i32(rd) : -1;
	m->session_ms = kp_read_i32(rd);
	if (vv == 0)
		m->rebalance_ms = m->session_ms;	/* as Kafka reads v0 */
	kp_read_bytes(rd, &sub);
	kp_read_bytes(rd, &asg);
	if (rd->err || m->session_ms <= 0 || m->rebalance_ms < 0)
		return -1;
	m->member_id = str_put(st, &id, false, &bad);
	m->instance_id = str_put(st, &iid, true, &bad);
	m->client_id = str_put(st, &cid, false, &bad);
	m->client_host = str_put(st, &host, false, &bad);
	m->subscription = sub.ptr;
	m->sub_len = (size_t)sub.len;
	m->assign = asg.ptr;
	m->assign_len = (size_t)asg.len;
	return bad || m->member_id[0] == '\0' ? -1 : 0;
}

static int
parse_value(const uint8_t *value, size_t vlen, struct kp_grouprec *r)
{
	struct kp_coord_saved *s = &r->saved;
	struct kp_reader rd;
	struct kp_str pt, proto, leader;
	struct strs st;
	bool bad = false;
	int16_t vv;
	int32_t n;

	if ((vv = kp_read_version(&rd, value, vlen)) < 0)
		return -1;
	if (vv > VALUE_VERSION)
		return 0;
	kp_read_string(&rd, &pt);
	s->generation = kp_read_i32(&rd);
	kp_read_nstring(&rd, &proto);
	kp_read_nstring(&rd, &leader);
	s->state_ts = vv >= 2 ? kp_read_i64(&rd) : -1;
	/* a v0 member: 3 strings, an int and 2 bytes, 18 bytes at least */
	n = kp_read_array(&rd, 18);
	if (rd.err || n < 0)
		return -1;
	st.cap = vlen + 4 + 4 * (size_t)n;
	st.used = 0;
	if ((r->strs = st.base = malloc(st.cap)) == NULL ||
	    (n > 0 && (r->members = calloc((size_t)n,
	    sizeof(*r->members))) == NULL))
		return -1;
	s->protocol_type = str_put(&st, &pt, false, &bad);
	s->protocol = str_put(&st, &proto, true, &bad);
	s->leader = str_put(&st, &leader, true, &bad);
	if (bad)
		return -1;
	for (int32_t i = 0; i < n; i++)
		if (parse_member(&rd, vv, &st, &r->members[i]) == -1)
			return -1;
	if (kp_reader_left(&rd) != 0)
		return -1;
	s->members = r->members;
	s->nmembers = (size_t)n;
	return 1;
}

int
kp_grouprec_parse(const uint8_t *key, size_t klen, const uint8_t *value,
    ssize_t vlen, struct kp_grouprec *r)
{
	struct kp_reader rd;
	struct kp_str g;
	int16_t kv;

	memset(r, 0, sizeof(*r));
	if ((kv = kp_read_version(&rd, key, klen)) < 0)
		return -1;
	if (kv != KEY_VERSION)
		return 0;
	kp_read_string(&rd, &g);
	if (rd.err || kp_reader_left(&rd) != 0 || g.len == 0 ||
	    (size_t)g.len >= sizeof(r->group) ||
	    memchr(g.ptr, '\0', (size_t)g.len) != NULL)
		return -1;
	memcpy(r->group, g.ptr, (size_t)g.len);
	r->group[g.len] = '\0';
	if (value == NULL || vlen < 0) {
		r->tombstone = true;
		return 1;
	}
	return parse_value(value, (size_t)vlen, r);
}

void
kp_grouprec_release(struct kp_grouprec *r)
{
	free(r->strs);
	free(r->members);
	r->strs = NULL;
	r->members = NULL;
}
