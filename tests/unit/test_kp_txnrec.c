/* test_kp_txnrec.c -- __transaction_state key/value layout, states, partition */
#include <string.h>

#include "kp_txnrec.h"
#include "tap.h"

/* TransactionLogKey v0 / TransactionLogValue v0, written by hand. */
static const uint8_t key[] = { 0, 0, 0, 2, 't', 'x' };
static const uint8_t val[] = {
	0, 0,					/* version 0 */
	0, 0, 0, 0, 0, 0, 0x03, 0xe8,		/* producer id 1000 */
	0, 2,					/* epoch 2 */
	0, 0, 0xea, 0x60,			/* timeout 60000 */
	1,					/* Ongoing */
	0, 0, 0, 2,				/* 2 topics */
	0, 1, 'a', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 1, 'b', 0, 0, 0, 1, 0, 0, 0, 3,
	0, 0, 0, 0, 0, 0, 0, 5,			/* last update */
	0, 0, 0, 0, 0, 0, 0, 4,			/* start */
};

static void
test_layout(void)
{
	struct kp_txnrec r, p;
	struct kp_txnrec_part parts[3] = {
		{ { "a", 1 }, 0 }, { { "b", 1 }, 3 }, { { "a", 1 }, 1 },
	};
	struct kp_arena a;
	struct kp_buf k, v;

	kp_arena_init(&a);
	kp_buf_init(&k);
	kp_buf_init(&v);
	memset(&r, 0, sizeof(r));
	r.producer_id = 1000;
	r.producer_epoch = 2;
	r.timeout_ms = 60000;
	r.state = KP_TXN_ONGOING;
	r.parts = parts;
	r.nparts = 3;
	r.last_update_ms = 5;
	r.start_ms = 4;
	kp_txnrec_key(&k, "tx");
	kp_txnrec_value(&v, &r);
	ok(k.len == sizeof(key) && memcmp(k.data, key, k.len) == 0,
	    "key is TransactionLogKey v0");
	ok(v.len == sizeof(val) && memcmp(v.data, val, v.len) == 0,
	    "value is TransactionLogValue v0, partitions grouped by topic");
	is_int(kp_txnrec_parse(key, sizeof(key), val, sizeof(val), &p, &a), 1,
	    "parses");
	ok(p.id.len == 2 && memcmp(p.id.ptr, "tx", 2) == 0 && !p.tombstone,
	    "id");
	ok(p.producer_id == 1000 && p.producer_epoch == 2 &&
	    p.timeout_ms == 60000 && p.state == KP_TXN_ONGOING &&
	    p.last_update_ms == 5 && p.start_ms == 4, "fields round-trip");
	is_int((int)p.nparts, 3, "three partitions");
	ok(p.nparts == 3 && p.parts[0].partition == 0 &&
	    p.parts[1].partition == 1 && p.parts[2].partition == 3 &&
	    p.parts[2].topic.len == 1 && p.parts[2].topic.ptr[0] == 'b',
	    "partitions in order");
	is_int(kp_txnrec_parse(key, sizeof(key), NULL, -1, &p, &a), 1,
	    "tombstone parses");
	ok(p.tombstone, "is a tombstone");
	for (size_t n = 0; n < sizeof(key); n++)
		if (kp_txnrec_parse(key, n, val, sizeof(val), &p, &a) != -1)
			ok(0, "truncated key %zu accepted", n);
	for (size_t n = 0; n < sizeof(val); n++)
		if (kp_txnrec_parse(key, sizeof(key), val, (ssize_t)n, &p,
		    &a) != -1)
			ok(0, "truncated value %zu accepted", n);
	ok(1, "every truncation refused");
	uint8_t bad[sizeof(val)];

	memcpy(bad, val, sizeof(val));
	bad[16] = 9;
	is_int(kp_txnrec_parse(key, sizeof(key), bad, sizeof(bad), &p, &a), -1,
	    "unknown state refused");
	memcpy(bad, val, sizeof(val));
	bad[1] = 1;
	is_int(kp_txnrec_parse(key, sizeof(key), bad, sizeof(bad), &p, &a), 0,
	    "a newer value version is skipped");
	/* An empty transaction: no partitions. */
	r.nparts = 0;
	r.state = KP_TXN_EMPTY;
	kp_buf_reset(&v);
	kp_txnrec_value(&v, &r);
	is_int(kp_txnrec_parse(key, sizeof(key), v.data, (ssize_t)v.len, &p,
	    &a), 1, "empty parses");
	ok(p.nparts == 0 && p.state == KP_TXN_EMPTY, "no partitions");
	kp_buf_release(&k);
	kp_buf_release(&v);
	kp_arena_release(&a);
}

static void
test_names(void)
{
	static const char *const names[] = { "Empty", "Ongoing",
	    "PrepareCommit", "PrepareAbort", "CompleteCommit",
	    "CompleteAbort", "Dead", "PrepareEpochFence" };

	for (int i = 0; i < KP_TXN_NSTATES; i++) {
		ok(strcmp(kp_txn_state_name(i), names[i]) == 0, "name %d", i);
		is_int(kp_txn_state_parse(names[i], strlen(names[i])), i,
		    "parse %s", names[i]);
	}
	ok(kp_txn_state_name(8) == NULL && kp_txn_state_name(-1) == NULL,
	    "no name out of range");
	is_int(kp_txn_state_parse("Ongo", 4), -1, "prefix is no name");
	/* As __consumer_offsets: Utils.abs("my-txn".hashCode -1061187895) % 50. */
	is_int(kp_txn_partition("my-txn", 50), 45, "partition of my-txn");
}

int
main(void)
{
	test_layout();
	test_names();
	return tap_done();
}
