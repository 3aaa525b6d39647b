/* test_kp_pstate_snap.c -- producer state snapshot: round trip, byte layout, and every rejection */
#include <string.h>

#include "kp_crc32c.h"
#include "kp_pstate_snap.h"
#include "tap.h"

static void
entry(struct kp_pstate_snap_entry *e, int64_t pid, int n)
{
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->epoch = (int16_t)(pid % 7);
	e->last_ms = 1700000000000LL + pid;
	e->txn_first = pid % 3 == 0 ? -1 : pid * 100 + 1;
	e->coord_epoch = pid % 5 == 0 ? -1 : (int32_t)(pid % 11) * 100000;
	e->n = n;
	for (int i = 0; i < n; i++) {
		e->batches[i].first_seq = i * 10;
		e->batches[i].last_seq = i * 10 + 9;
		e->batches[i].base_offset = pid * 100 + i;
	}
}

static void
encode(struct kp_buf *b, int64_t end, int count)
{
	struct kp_pstate_snap_entry e;

	kp_buf_init(b);
	kp_pstate_snap_begin(b, end);
	for (int i = 0; i < count; i++) {
		entry(&e, 1000 + i, i % (KP_PSTATE_SNAP_KEEP + 1));
		kp_pstate_snap_add(b, &e);
	}
	ok(kp_pstate_snap_finish(b) == 0, "finish %d entries", count);
}

static void
test_roundtrip(void)
{
	struct kp_pstate_snap_reader sr;
	struct kp_pstate_snap_entry e, want;
	struct kp_buf b;
	int i = 0;

	encode(&b, 4242, 13);
	is_int(kp_pstate_snap_open(&sr, b.data, b.len), 0, "open");
	is_int(sr.end_offset, 4242, "end offset");
	is_int(sr.count, 13, "count");
	while (kp_pstate_snap_next(&sr, &e) == 1) {
		entry(&want, 1000 + i, i % (KP_PSTATE_SNAP_KEEP + 1));
		if (memcmp(&e, &want, sizeof(e)) != 0)
			break;
		i++;
	}
	is_int(i, 13, "every entry comes back equal");
	is_int(kp_pstate_snap_next(&sr, &e), 0, "then none");
	kp_buf_release(&b);

	encode(&b, 0, 0);
	is_int(kp_pstate_snap_open(&sr, b.data, b.len), 0, "empty state");
	is_int(sr.count, 0, "no entries");
	kp_buf_release(&b);
}

static void
test_layout(void)
{
	/*
	 * version 3, crc, end 7, one producer 5 epoch 2 ms 9, one batch,
	 * its transaction open at 6, its last marker's coordinator epoch 258
	 */
	static const uint8_t want[] = {
	    0, 3, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1,
	    0, 0, 0, 0, 0, 0, 0, 5, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9, 1,
	    0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 6,
	    0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 1, 2 };
	uint8_t w[sizeof(want)];
	struct kp_pstate_snap_entry e = { .pid = 5, .epoch = 2, .last_ms = 9,
	    .txn_first = 6, .coord_epoch = 258, .n = 1,
	    .batches = { { 3, 4, 6 } } };
	struct kp_buf b;

	memcpy(w, want, sizeof(w));
	kp_put_be32(w + 2, (int32_t)kp_crc32c(0, w + 6, sizeof(w) - 6));
	kp_buf_init(&b);
	kp_pstate_snap_begin(&b, 7);
	kp_pstate_snap_add(&b, &e);
	kp_pstate_snap_finish(&b);
	is_int(b.len, sizeof(w), "size as documented");
	is_mem(b.data, w, sizeof(w), "bytes as documented");
	kp_buf_release(&b);
}

static void
expect_bad(const uint8_t *p, size_t len, const char *why, const char *what)
{
	struct kp_pstate_snap_reader sr;

	is_int(kp_pstate_snap_open(&sr, p, len), -1, "%s refused", what);
	ok(sr.why != NULL && strcmp(sr.why, why) == 0, "%s: %s (%s)", what,
	    why, sr.why ? sr.why : "null");
}

/* Re-sign the body so only the structural check can refuse it. */
static void
resign(uint8_t *p, size_t len)
{
	kp_put_be32(p + 2, (int32_t)kp_crc32c(0, p + 6, len - 6));
}

static void
test_rejects(void)
{
	struct kp_buf b;
	uint8_t *p;

	encode(&b, 99, 4);
	p = b.data;
	expect_bad(p, 0, "short", "empty file");
	expect_bad(p, 17, "short", "cut header");
	p[b.len / 2] ^= 0x10;
	expect_bad(p, b.len, "checksum mismatch", "flipped bit");
	p[b.len / 2] ^= 0x10;
	expect_bad(p, b.len - 1, "checksum mismatch", "cut tail");
	resign(p, b.len - 1);
	expect_bad(p, b.len - 1, "malformed", "cut tail, re-signed");
	resign(p, b.len);
	p[1] = 4;
	expect_bad(p, b.len, "unknown version", "version 4");
	p[1] = 0;
	expect_bad(p, b.len, "unknown version", "version 0");
	p[1] = 3;
	kp_put_be32(p + 14, 5);
	resign(p, b.len);
	expect_bad(p, b.len, "malformed", "count too high");
	kp_put_be32(p + 14, 3);
	resign(p, b.len);
	expect_bad(p, b.len, "malformed", "count too low");
	kp_put_be32(p + 14, 4);
	p[18 + 18] = 6;			/* first entry: 6 batches */
	resign(p, b.len);
	expect_bad(p, b.len, "malformed", "more batches than kept");
	p[18 + 18] = 0;
	kp_put_be64(p + 18, -1);	/* first entry: pid -1 */
	resign(p, b.len);
	expect_bad(p, b.len, "malformed", "negative producer id");
	kp_put_be64(p + 18, 1000);
	kp_put_be64(p + 18 + 19, -2);	/* first entry: transaction at -2 */
	resign(p, b.len);
	expect_bad(p, b.len, "malformed", "transaction before offset 0");
	kp_put_be64(p + 18 + 19, -1);
	kp_put_be32(p + 18 + 27, -2);	/* first entry: coordinator epoch */
	resign(p, b.len);
	expect_bad(p, b.len, "malformed", "coordinator epoch below -1");
	kp_put_be32(p + 18 + 27, -1);
	kp_put_be64(p + 6, -5);
	resign(p, b.len);
	expect_bad(p, b.len, "malformed", "negative end offset");
	kp_buf_release(&b);
}

/* A version 1 file (before transactions) still loads: none open. */
static void
test_version1(void)
{
	uint8_t v1[] = {
	    0, 1, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1,
	    0, 0, 0, 0, 0, 0, 0, 5, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9, 1,
	    0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 6 };
	struct kp_pstate_snap_reader sr;
	struct kp_pstate_snap_entry e;

	resign(v1, sizeof(v1));
	is_int(kp_pstate_snap_open(&sr, v1, sizeof(v1)), 0, "version 1 opens");
	is_int(kp_pstate_snap_next(&sr, &e), 1, "its entry");
	ok(e.pid == 5 && e.epoch == 2 && e.n == 1 &&
	    e.batches[0].base_offset == 6, "as written");
	is_int(e.txn_first, -1, "no open transaction");
	is_int(e.coord_epoch, -1, "no coordinator epoch");
	is_int(kp_pstate_snap_next(&sr, &e), 0, "then none");
}

/*
 * A version 2 file (before coordinator epochs) still loads: -1, so the
 * first marker after the upgrade is accepted whatever its epoch.
 */
static void
test_version2(void)
{
	uint8_t v2[] = {
	    0, 2, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2,
	    0, 0, 0, 0, 0, 0, 0, 5, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9, 1,
	    0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 6,
	    0, 0, 0, 0, 0, 0, 0, 6,
	    0, 0, 0, 0, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct kp_pstate_snap_reader sr;
	struct kp_pstate_snap_entry e;

	resign(v2, sizeof(v2));
	is_int(kp_pstate_snap_open(&sr, v2, sizeof(v2)), 0, "version 2 opens");
	is_int(sr.version, 2, "read as version 2");
	is_int(kp_pstate_snap_next(&sr, &e), 1, "its first entry");
	ok(e.pid == 5 && e.epoch == 2 && e.n == 1 && e.txn_first == 6 &&
	    e.batches[0].base_offset == 6, "as written");
	is_int(e.coord_epoch, -1, "no coordinator epoch");
	is_int(kp_pstate_snap_next(&sr, &e), 1, "its second entry");
	ok(e.pid == 8 && e.epoch == 1 && e.n == 0 && e.txn_first == -1,
	    "as written");
	is_int(e.coord_epoch, -1, "no coordinator epoch either");
	is_int(kp_pstate_snap_next(&sr, &e), 0, "then none");
	/* read as version 3 the same bytes are 4 short per entry */
	v2[1] = 3;
	resign(v2, sizeof(v2));
	is_int(kp_pstate_snap_open(&sr, v2, sizeof(v2)), -1,
	    "the same bytes as version 3 are refused");
}

int
main(void)
{
	test_roundtrip();
	test_layout();
	test_version1();
	test_version2();
	test_rejects();
	return tap_done();
}
