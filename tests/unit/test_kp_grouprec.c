/* test_kp_grouprec.c -- group membership records of __consumer_offsets: layout, older versions, bad input */
#include <string.h>

#include "kp_grouprec.h"
#include "tap.h"

/* GroupMetadataKey v2 and GroupMetadataValue v3, written by hand. */
static const uint8_t key[] = { 0, 2, 0, 1, 'g' };
static const uint8_t val[] = {
	0, 3,					/* version */
	0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
	0, 0, 0, 7,				/* generation */
	0, 5, 'r', 'a', 'n', 'g', 'e',
	0, 2, 'm', '1',				/* leader */
	0, 0, 0, 0, 0, 0, 0x03, 0xe8,		/* state timestamp */
	0, 0, 0, 1,				/* one member */
	0, 2, 'm', '1',
	0xff, 0xff,				/* no instance id */
	0, 1, 'c',
	0, 2, '/', 'h',
	0, 0x04, 0x93, 0xe0,			/* rebalance 300000 */
	0, 0, 0xaf, 0xc8,			/* session 45000 */
	0, 0, 0, 1, 'S',
	0, 0, 0, 1, 'A',
};

/* A Stable group of one member, as kp_coord holds it. */
static void
one_member(struct kp_coord_group *g, struct kp_coord_member *m,
    struct kp_coord_proto *p)
{
	memset(g, 0, sizeof(*g));
	memset(m, 0, sizeof(*m));
	*p = (struct kp_coord_proto){ (char *)"range", (uint8_t *)"S", 1 };
	TAILQ_INIT(&g->members);
	m->member_id = (char *)"m1";
	m->client_id = (char *)"c";
	m->client_host = (char *)"/h";
	m->rebalance_ms = 300000;
	m->session_ms = 45000;
	m->protos = p;
	m->nprotos = 1;
	m->assign = (uint8_t *)"A";
	m->assign_len = 1;
	TAILQ_INSERT_TAIL(&g->members, m, link);
	g->nmembers = 1;
	g->protocol_type = (char *)"consumer";
	g->generation = 7;
	g->protocol = (char *)"range";
	g->leader = (char *)"m1";
	g->state_ts = 1000;
}

static void
test_layout(void)
{
	struct kp_coord_group g;
	struct kp_coord_member m;
	struct kp_coord_proto p;
	struct kp_grouprec r;
	const struct kp_coord_saved_member *sm;
	struct kp_buf k, v;

	one_member(&g, &m, &p);
	kp_buf_init(&k);
	kp_buf_init(&v);
	kp_grouprec_key(&k, "g");
	kp_grouprec_value(&v, &g);
	ok(k.len == sizeof(key) && memcmp(k.data, key, k.len) == 0,
	    "key is GroupMetadataKey v2");
	ok(v.len == sizeof(val) && memcmp(v.data, val, v.len) == 0,
	    "value is GroupMetadataValue v3");
	is_int(kp_grouprec_parse(key, sizeof(key), val, sizeof(val), &r), 1,
	    "parses");
	sm = r.saved.members;
	ok(strcmp(r.group, "g") == 0 && !r.tombstone &&
	    strcmp(r.saved.protocol_type, "consumer") == 0 &&
	    r.saved.generation == 7 && strcmp(r.saved.protocol, "range") == 0 &&
	    strcmp(r.saved.leader, "m1") == 0 && r.saved.state_ts == 1000 &&
	    r.saved.nmembers == 1, "group fields round-trip");
	ok(strcmp(sm->member_id, "m1") == 0 && sm->instance_id == NULL &&
	    strcmp(sm->client_id, "c") == 0 &&
	    strcmp(sm->client_host, "/h") == 0 &&
	    sm->rebalance_ms == 300000 && sm->session_ms == 45000 &&
	    sm->sub_len == 1 && sm->subscription[0] == 'S' &&
	    sm->assign_len == 1 && sm->assign[0] == 'A',
	    "member fields round-trip");
	kp_grouprec_release(&r);

	/* an Empty group: no protocol, no leader, no members */
	TAILQ_INIT(&g.members);
	g.nmembers = 0;
	g.protocol = g.leader = NULL;
	kp_buf_reset(&v);
	kp_grouprec_value(&v, &g);
	is_int(kp_grouprec_parse(key, sizeof(key), v.data, (ssize_t)v.len,
	    &r), 1, "an Empty group parses");
	ok(r.saved.protocol == NULL && r.saved.leader == NULL &&
	    r.saved.nmembers == 0 && r.saved.generation == 7,
	    "with null protocol and leader");
	kp_grouprec_release(&r);
	is_int(kp_grouprec_parse(key, sizeof(key), NULL, -1, &r), 1,
	    "tombstone");
	ok(r.tombstone && strcmp(r.group, "g") == 0, "is a tombstone");
	kp_grouprec_release(&r);
	kp_buf_release(&k);
	kp_buf_release(&v);
}

/*
 * Older values Kafka still reads: v0 (no rebalance timeout: the session
 * timeout stands in), v1 (+ rebalance timeout), v2 (+ state timestamp).
 */
static void
test_versions(void)
{
	static const uint8_t v0[] = {
		0, 0, 0, 1, 'x', 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff,
		0, 0, 0, 1,
		0, 1, 'a', 0, 1, 'c', 0, 1, 'h', 0, 0, 0x27, 0x10,
		0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t v2[] = {
		0, 2, 0, 1, 'x', 0, 0, 0, 2, 0, 1, 'r', 0, 1, 'a',
		0, 0, 0, 0, 0, 0, 0, 9,
		0, 0, 0, 1,
		0, 1, 'a', 0, 1, 'c', 0, 1, 'h', 0, 0, 0x4e, 0x20,
		0, 0, 0x27, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	struct kp_grouprec r;

	is_int(kp_grouprec_parse(key, sizeof(key), v0, sizeof(v0), &r), 1,
	    "v0 parses");
	ok(r.saved.nmembers == 1 && r.saved.members[0].session_ms == 10000 &&
	    r.saved.members[0].rebalance_ms == 10000 &&
	    r.saved.state_ts == -1 && r.saved.protocol == NULL,
	    "v0: the session timeout stands for the rebalance timeout");
	kp_grouprec_release(&r);
	is_int(kp_grouprec_parse(key, sizeof(key), v2, sizeof(v2), &r), 1,
	    "v2 parses");
	ok(r.saved.state_ts == 9 && r.saved.members[0].rebalance_ms == 20000 &&
	    r.saved.members[0].session_ms == 10000 &&
	    r.saved.members[0].instance_id == NULL &&
	    strcmp(r.saved.leader, "a") == 0, "v2 fields");
	kp_grouprec_release(&r);
}

static void
test_refused(void)
{
	static const uint8_t okey[] = { 0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 0 };
	static const uint8_t v4[] = { 0, 4, 0, 0 };
	static const uint8_t nul[] = { 0, 2, 0, 2, 'g', 0 };
	uint8_t bad[sizeof(val) + 1];
	struct kp_grouprec r;

	is_int(kp_grouprec_parse(okey, sizeof(okey), NULL, -1, &r), 0,
	    "an offset commit key is not ours");
	kp_grouprec_release(&r);
	is_int(kp_grouprec_parse(key, sizeof(key), v4, sizeof(v4), &r), 0,
	    "an unknown value version is skipped");
	kp_grouprec_release(&r);
	is_int(kp_grouprec_parse(nul, sizeof(nul), NULL, -1, &r), -1,
	    "a NUL in the group id");
	kp_grouprec_release(&r);
	for (size_t n = 0; n < sizeof(key); n++) {
		if (kp_grouprec_parse(key, n, val, sizeof(val), &r) != -1)
			ok(0, "truncated key %zu accepted", n);
		kp_grouprec_release(&r);
	}
	for (size_t n = 0; n < sizeof(val); n++) {
		if (kp_grouprec_parse(key, sizeof(key), val, (ssize_t)n,
		    &r) != -1)
			ok(0, "truncated value %zu accepted", n);
		kp_grouprec_release(&r);
	}
	ok(1, "every truncation refused");
	/* a null member id (non-nullable), then one byte too many */
	memcpy(bad, val, sizeof(val));
	bad[sizeof(val)] = 0;
	is_int(kp_grouprec_parse(key, sizeof(key), bad, sizeof(bad), &r), -1,
	    "a byte after the last member");
	kp_grouprec_release(&r);
	bad[39] = bad[40] = 0xff;
	is_int(kp_grouprec_parse(key, sizeof(key), bad, sizeof(val), &r), -1,
	    "a null member id");
	kp_grouprec_release(&r);
}

int
main(void)
{
	test_layout();
	test_versions();
	test_refused();
	return tap_done();
}
