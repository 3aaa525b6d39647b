/* test_kp_compact.c -- the cleaner: newest value per key, tombstones, offsets kept, swap recovery */
#include <fcntl.h>

#include "kp_compact.h"
#include "kp_log.h"
#include "logtest.h"
#include "tap.h"

#define NOW	1700000000000LL
#define HOUR	3600000LL

/* newest[k] = offset of the newest record seen for key k; value check */
struct seen {
	int64_t	 offset_of[64];	/* last offset seen per key, -1 */
	int	 count[64];	/* records seen per key */
	int	 tombstones;
	int	 value_ok;	/* every value encodes its own offset */
	int64_t	 prev;
	int	 increasing;
};

static void
on_record(const struct kp_record *r, void *arg)
{
	struct seen *s = arg;
	int k;
	char buf[32];

	if (r->key.len < 2 || sscanf((const char *)r->key.ptr + 1, "%d", &k) != 1 ||
	    k < 0 || k >= 64)
		return;
	s->offset_of[k] = r->offset;
	s->count[k]++;
	if (r->offset <= s->prev)
		s->increasing = 0;
	s->prev = r->offset;
	if (r->value.len < 0) {
		s->tombstones++;
		return;
	}
	snprintf(buf, sizeof(buf), "v%lld", (long long)r->offset);
	if ((size_t)r->value.len != strlen(buf) ||
	    memcmp(r->value.ptr, buf, strlen(buf)) != 0)
		s->value_ok = 0;
}

static void
seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 64; i++)
		s->offset_of[i] = -1;
	s->value_ok = 1;
	s->prev = -1;
	s->increasing = 1;
}

/* One record "k<key>" = "v<offset>" (or a tombstone), at ts. */
static int
put(struct kp_log *l, int key, bool tomb, int64_t ts)
{
	struct kp_batch_builder b;
	struct kp_buf out;
	char k[16], v[32];
	int e;

	snprintf(k, sizeof(k), "k%d", key);
	snprintf(v, sizeof(v), "v%lld", (long long)kp_log_end_offset(l));
	kp_buf_init(&out);
	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	kp_batch_builder_add(&b, ts, k, (ssize_t)strlen(k), tomb ? NULL : v,
	    tomb ? -1 : (ssize_t)strlen(v), NULL, 0);
	kp_batch_builder_finish(&b, &out);
	e = kp_log_append(l, out.data, out.len, 0, ts, NULL);
	kp_batch_builder_release(&b);
	kp_buf_release(&out);
	return e;
}

static void
test_keymap(void)
{
	struct kp_keymap *m = kp_keymap_new();
	char k[16];
	int bad = 0;

	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "key%d", i % 1000);
		kp_keymap_put(m, k, strlen(k), i);
	}
	is_int(kp_keymap_count(m), 1000, "1000 distinct keys");
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		if (kp_keymap_get(m, k, strlen(k)) != 4000 + i)
			bad++;
	}
	is_int(bad, 0, "each key maps to its newest offset");
	is_int(kp_keymap_get(m, "nope", 4), -1, "unknown key is -1");
	kp_keymap_put(m, "key5", 4, 3);
	is_int(kp_keymap_get(m, "key5", 4), 4005, "an older offset never wins");
	kp_keymap_free(m);
}

static void
test_compact(void)
{
	struct kp_compact_report rep;
	struct kp_logconf c;
	struct lt_scan s;
	struct seen sn;
	struct kp_log *l;
	char dir[PATH_MAX];
	int64_t size_before, end;
	int bad = 0;

	lt_conf(&c);
	c.cleanup_policy = KP_CLEANUP_COMPACT;
	c.segment_bytes = 1024;
	c.delete_retention_ms = 10 * HOUR;
	lt_tmpdir(dir, sizeof(dir), "compact");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	/* 10 keys written 20 times each: 200 records */
	for (int round = 0; round < 20; round++)
		for (int k = 0; k < 10; k++)
			if (put(l, k, false, NOW + round) != 0)
				bad++;
	/* key 3 deleted */
	if (put(l, 3, true, NOW + 100) != 0)
		bad++;
	/* a few more so the tombstone is in a closed segment */
	for (int i = 0; i < 30; i++)
		if (put(l, 20 + (i % 5), false, NOW + 200) != 0)
			bad++;
	is_int(bad, 0, "231 appends");
	end = kp_log_end_offset(l);
	is_int(end, 231, "log end 231");
	ok(kp_log_segment_count(l) > 5, "several segments (%d)", kp_log_segment_count(l));
	size_before = kp_log_size(l);

	ok(kp_log_compact(l, NOW + HOUR, &rep) == 0, "compaction pass");
	ok(rep.segments_cleaned > 0 && rep.records_removed > 150,
	    "superseded records removed (%lld, %d segments)",
	    (long long)rep.records_removed, rep.segments_cleaned);
	is_int(rep.tombstones_removed, 0, "young tombstone kept");
	ok(kp_log_size(l) < size_before, "log shrank (%lld -> %lld)",
	    (long long)size_before, (long long)kp_log_size(l));
	is_int(kp_log_end_offset(l), end, "log end unchanged");

	seen_init(&sn);
	lt_scan(l, 1 << 20, &s, on_record, &sn);
	ok(!s.err && s.crc_ok, "compacted log reads with valid CRCs");
	ok(sn.value_ok, "every value still sits at its original offset");
	ok(sn.increasing, "offsets increase");
	ok(!s.contiguous, "compaction left gaps in offsets, as Kafka");
	for (int k = 0; k < 10; k++)
		if (k != 3 && (sn.count[k] != 1 || sn.offset_of[k] != 190 + k))
			bad++;
	is_int(bad, 0, "exactly the newest record per key survives");
	ok(sn.count[3] == 1 && sn.tombstones == 1 && sn.offset_of[3] == 200,
	    "the tombstone is the only record left for key 3");
	kp_log_close(l);

	/* reopen: the swapped segments load as they are */
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	seen_init(&sn);
	lt_scan(l, 100, &s, on_record, &sn);
	ok(l != NULL && !s.err && sn.value_ok && sn.count[0] == 1 && sn.tombstones == 1,
	    "compacted log reopens the same");

	ok(kp_log_compact(l, NOW + 11 * HOUR, &rep) == 0, "second pass after delete.retention.ms");
	is_int(rep.tombstones_removed, 1, "expired tombstone dropped");
	seen_init(&sn);
	lt_scan(l, 1 << 20, &s, on_record, &sn);
	ok(!s.err && sn.count[3] == 0 && sn.tombstones == 0 && sn.count[4] == 1,
	    "key 3 is gone entirely, key 4 stays");
	is_int(kp_log_end_offset(l), end, "log end unchanged");
	kp_log_close(l);
	lt_rmrf(dir);
}

static void
test_lag_and_tick(void)
{
	struct kp_compact_report rep;
	struct kp_logconf c;
	struct lt_scan s;
	struct seen sn;
	struct kp_log *l;
	char dir[PATH_MAX];

	lt_conf(&c);
	c.cleanup_policy = KP_CLEANUP_COMPACT | KP_CLEANUP_DELETE;
	c.segment_bytes = 512;
	c.min_compaction_lag_ms = 2 * HOUR;
	lt_tmpdir(dir, sizeof(dir), "lag");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int i = 0; i < 60; i++)
		put(l, i % 3, false, NOW);
	kp_log_compact(l, NOW + HOUR, &rep);
	is_int(rep.segments_cleaned, 0, "min.compaction.lag.ms holds young segments back");
	ok(kp_log_tick(l, NOW + 3 * HOUR, 0) == 0, "tick runs the cleaner");
	seen_init(&sn);
	lt_scan(l, 1 << 20, &s, on_record, &sn);
	ok(sn.count[0] < 20 && sn.value_ok, "compact,delete topic got compacted on tick (%d left of key 0)",
	    sn.count[0]);
	kp_log_close(l);
	lt_rmrf(dir);
}

/* n bytes of an aborted-transaction entry's shape (version 0, small ids) */
static int
write_file(const char *path, size_t n)
{
	uint8_t e[34] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 };
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	int rc = fd < 0 || write(fd, e, n) != (ssize_t)n ? -1 : 0;

	if (fd >= 0)
		close(fd);
	return rc;
}

static long long
fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* A crash between the renames: the .swap files finish on open. */
static void
test_swap_recovery(void)
{
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	char dir[PATH_MAX], a[2 * PATH_MAX + 128], b[PATH_MAX + 64];
	int64_t end;

	lt_conf(&c);
	c.cleanup_policy = KP_CLEANUP_COMPACT;
	c.segment_bytes = 512;
	lt_tmpdir(dir, sizeof(dir), "swap");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int i = 0; i < 40; i++)
		put(l, i % 2, false, NOW);
	end = kp_log_end_offset(l);
	kp_log_close(l);
	/* fake a half-done swap: a copy of segment 0 as .log.swap */
	snprintf(a, sizeof(a), "cp %s/%020d.log %s/%020d.log.swap", dir, 0, dir, 0);
	ok(system(a) == 0, "stage a .log.swap");
	snprintf(a, sizeof(a), "%s/%020d.index.cleaned", dir, 0);
	close(open(a, O_CREAT | O_WRONLY, 0644));
	/* an aborted transaction the cleaning removed: an empty index */
	snprintf(b, sizeof(b), "%s/%020d.txnindex", dir, 0);
	ok(write_file(b, 34) == 0, "an old .txnindex");
	snprintf(b, sizeof(b), "%s/%020d.txnindex.swap", dir, 0);
	ok(write_file(b, 0) == 0, "an empty .txnindex.swap");
	l = kp_log_open(dir, &c, 0, NOW, &rec);
	is_int(rec.swaps_completed, 1, "swap completed on open");
	ok(rec.leftovers_removed >= 1, "the .cleaned leftover removed");
	ok(access(a, F_OK) != 0, "no .cleaned file remains");
	ok(access(b, F_OK) != 0, "no .txnindex.swap remains");
	snprintf(b, sizeof(b), "%s/%020d.txnindex", dir, 0);
	is_int(fsize(b), 0, "the .txnindex is the swapped-in one");
	snprintf(b, sizeof(b), "%s/%020d.log.swap", dir, 0);
	ok(access(b, F_OK) != 0, "no .swap file remains");
	lt_scan(l, 1 << 20, &s, NULL, NULL);
	ok(!s.err && s.contiguous && s.records == end, "log intact");
	kp_log_close(l);
	lt_rmrf(dir);
}

/* gzip batches stay gzip after a rewrite, with the same offsets */
static void
test_gzip(void)
{
	struct kp_compact_report rep;
	struct kp_logconf c;
	struct lt_scan s;
	struct seen sn;
	struct kp_log *l;
	char dir[PATH_MAX];
	int gz = 0, batches = 0;

	lt_conf(&c);
	c.cleanup_policy = KP_CLEANUP_COMPACT;
	c.segment_bytes = 200;
	lt_tmpdir(dir, sizeof(dir), "gz");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int round = 0; round < 8; round++) {
		struct kp_batch_builder b;
		struct kp_buf out;

		kp_buf_init(&out);
		kp_batch_builder_init(&b, KP_CODEC_GZIP, -1, -1, -1);
		for (int k = 0; k < 4; k++) {
			char key[8], v[32];

			snprintf(key, sizeof(key), "k%d", k + (round % 2) * 4);
			snprintf(v, sizeof(v), "v%lld",
			    (long long)kp_log_end_offset(l) + k);
			kp_batch_builder_add(&b, NOW, key, (ssize_t)strlen(key),
			    v, (ssize_t)strlen(v), NULL, 0);
		}
		kp_batch_builder_finish(&b, &out);
		kp_log_append(l, out.data, out.len, 0, NOW, NULL);
		kp_batch_builder_release(&b);
		kp_buf_release(&out);
	}
	ok(kp_log_segment_count(l) > 2, "gzip batches over %d segments",
	    kp_log_segment_count(l));
	kp_log_compact(l, NOW, &rep);
	ok(rep.records_removed > 0, "superseded gzip records removed (%lld)",
	    (long long)rep.records_removed);
	seen_init(&sn);
	lt_scan(l, 1 << 20, &s, on_record, &sn);
	ok(!s.err && s.crc_ok && sn.value_ok && sn.increasing,
	    "rewritten gzip batches decode, values at their offsets");
	for (int64_t off = kp_log_start_offset(l); off < kp_log_end_offset(l);) {
		struct kp_log_slice sl;
		struct kp_batch_header h;
		struct kp_buf rb;

		kp_buf_init(&rb);
		if (kp_log_read(l, off, 1, kp_log_end_offset(l), &sl) != 0 ||
		    sl.len == 0)
			break;
		kp_log_slice_load(&sl, &rb);
		kp_batch_header_decode(rb.data, rb.len, &h);
		batches++;
		gz += kp_batch_codec(&h) == KP_CODEC_GZIP;
		kp_buf_release(&rb);
		off = sl.next_offset;
	}
	ok(batches > 0 && gz == batches, "every batch is still gzip (%d of %d)", gz,
	    batches);
	for (int k = 0; k < 8; k++)
		if (sn.count[k] < 1)
			gz = -1;
	ok(gz >= 0, "every key still has its newest value");
	kp_log_close(l);
	lt_rmrf(dir);
}

int
main(void)
{
	test_gzip();
	test_keymap();
	test_compact();
	test_lag_and_tick();
	test_swap_recovery();
	return tap_done();
}
