/* test_kp_txnindex.c -- aborted transaction index: layout, file, and its life with the segments of a log */
#include <errno.h>
#include <fcntl.h>

#include "kp_txnindex.h"
#include "logtest.h"
#include "tap.h"

#define NOW	1700000000000LL

static struct kp_txn_entry
ent(int64_t pid, int64_t first, int64_t last, int64_t lso)
{
	struct kp_txn_entry e = { pid, first, last, lso };

	return e;
}

static void
test_layout(void)
{
	static const uint8_t want[KP_TXNINDEX_ENTRY] = {
	    0, 0,
	    0, 0, 0, 0, 0, 0, 0x03, 0xe8,
	    0, 0, 0, 0, 0, 0, 0, 5,
	    0, 0, 0, 0, 0, 0, 0x01, 0x00,
	    0, 0, 0, 0, 0, 0, 0, 7 };
	struct kp_txn_entry e = ent(1000, 5, 256, 7), d;
	uint8_t p[KP_TXNINDEX_ENTRY + 1];

	kp_txnindex_encode(p, &e);
	is_mem(p, want, sizeof(want), "34 bytes as Kafka's TransactionIndex");
	is_int(kp_txnindex_decode(p, sizeof(want), &d), 34, "decodes");
	ok(d.pid == 1000 && d.first_offset == 5 && d.last_offset == 256 &&
	    d.lso == 7, "same entry back");
	is_int(kp_txnindex_decode(p, 33, &d), 0, "33 bytes: need more");
	p[1] = 1;
	is_int(kp_txnindex_decode(p, 34, &d), -1, "version 1 refused");
	p[1] = 0;
	kp_put_be64(p + 2, -1);
	is_int(kp_txnindex_decode(p, 34, &d), -1, "negative producer id");
	kp_put_be64(p + 2, 1000);
	kp_put_be64(p + 10, 300);
	is_int(kp_txnindex_decode(p, 34, &d), -1, "first after last");
	kp_put_be64(p + 10, 5);
	kp_put_be64(p + 26, -1);
	is_int(kp_txnindex_decode(p, 34, &d), -1, "negative LSO");
}

static off_t
fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
test_file(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct kp_txnindex x;
	struct kp_txn_entry e;
	int fd;

	lt_tmpdir(dir, sizeof(dir), "txi");
	snprintf(path, sizeof(path), "%s/00000000000000000000.txnindex", dir);
	is_int(kp_txnindex_open(&x, path, false), 0, "missing file: empty");
	ok(x.n == 0 && fsize(path) == -1, "and not created");
	e = ent(7, 0, 3, 4);
	is_int(kp_txnindex_add(&x, &e), 0, "add");
	is_int((int)fsize(path), 34, "file created with the first entry");
	e = ent(8, 2, 9, 10);
	kp_txnindex_add(&x, &e);
	e = ent(9, 5, 6, 2);
	is_int(kp_txnindex_add(&x, &e), 0, "an earlier marker (a rebuild)");
	ok(x.n == 3 && x.e[1].last_offset == 6 && x.e[2].last_offset == 9,
	    "goes in marker order");
	e = ent(9, 5, 6, 2);
	is_int(kp_txnindex_add(&x, &e), -1, "the same marker twice refused");
	ok(kp_txnindex_has(&x, 6) && !kp_txnindex_has(&x, 5),
	    "has by marker offset");
	kp_txnindex_close(&x);

	is_int(kp_txnindex_open(&x, path, false), 0, "reopen");
	ok(x.n == 3 && x.e[0].pid == 7 && x.e[1].pid == 9 && x.e[2].pid == 8,
	    "entries in the file in order");
	is_int(kp_txnindex_truncate(&x, 6), 0, "truncate at 6");
	ok(x.n == 1 && fsize(path) == 34, "markers at or after 6 gone");
	kp_txnindex_close(&x);

	/* a torn tail and a backwards entry are cut */
	fd = open(path, O_WRONLY | O_APPEND);
	{
		uint8_t p[KP_TXNINDEX_ENTRY];

		e = ent(1, 0, 2, 2);		/* marker 2 < 3: backwards */
		kp_txnindex_encode(p, &e);
		ok(write(fd, p, sizeof(p)) == 34 && write(fd, p, 5) == 5,
		    "appended junk");
	}
	close(fd);
	is_int(kp_txnindex_open(&x, path, true), 1, "read-only: cut noticed");
	ok(x.n == 1 && fsize(path) == 34 + 39, "but the file left alone");
	kp_txnindex_close(&x);
	is_int(kp_txnindex_open(&x, path, false), 1, "read-write: cut");
	ok(x.n == 1 && fsize(path) == 34, "file cut to the good prefix");
	kp_txnindex_close(&x);
	lt_rmrf(dir);
}

struct seen {
	int64_t	 pid[16];
	int	 n;
};

static void
seen_cb(void *arg, const struct kp_txn_entry *e)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->pid[s->n++] = e->pid;
}

static int
exists(const char *dir, int64_t base)
{
	char p[PATH_MAX + 40];

	snprintf(p, sizeof(p), "%s/%020lld.txnindex", dir, (long long)base);
	return fsize(p) >= 0;
}

/* ten records per batch, offsets 10 i .. 10 i + 9 */
static void
fill(struct kp_log *l, int batches)
{
	for (int i = 0; i < batches; i++)
		lt_append(l, 10, -1, NOW, 100, NOW, NULL);
}

static void
test_log(void)
{
	struct kp_logconf c;
	struct kp_log *l;
	struct kp_txn_entry e;
	struct seen s;
	char dir[PATH_MAX];
	int64_t low;

	lt_conf(&c);
	c.segment_bytes = 2048;		/* about 1 batch of ~1.1 KiB each */
	lt_tmpdir(dir, sizeof(dir), "txl");
	l = kp_log_open(dir, &c, KP_LOG_CREATE, NOW, NULL);
	fill(l, 6);
	ok(kp_log_segment_count(l) >= 3, "%d segments",
	    kp_log_segment_count(l));
	e = ent(1, 0, 15, 12);	/* the one from 12 still open */
	is_int(kp_log_txn_add(l, &e), 0, "abort marked at 15");
	e = ent(2, 12, 25, 26);
	is_int(kp_log_txn_add(l, &e), 0, "abort marked at 25");
	e = ent(3, 30, 45, 46);
	is_int(kp_log_txn_add(l, &e), 0, "abort marked at 45");
	e = ent(4, 50, 60, 61);
	is_int(kp_log_txn_add(l, &e), -1, "a marker past the log end");
	is_int(errno, ERANGE, "ERANGE");
	ok(kp_log_txn_has(l, 25) && !kp_log_txn_has(l, 24), "has");
	ok(!exists(dir, 0) && exists(dir, 10) && exists(dir, 20) &&
	    exists(dir, 40), "each in the file of its marker's segment");

	memset(&s, 0, sizeof(s));
	is_int((int)kp_log_aborted_txns(l, 0, 60, seen_cb, &s), 3, "all 3");
	ok(s.pid[0] == 1 && s.pid[1] == 2 && s.pid[2] == 3, "marker order");
	is_int((int)kp_log_aborted_txns(l, 16, 20, NULL, NULL), 1,
	    "[16, 20): only the one marked at 25 overlaps");
	is_int((int)kp_log_aborted_txns(l, 15, 16, NULL, NULL), 2,
	    "[15, 16): the one marked there and the one open over it");
	is_int((int)kp_log_aborted_txns(l, 26, 30, NULL, NULL), 0,
	    "[26, 30): none");
	is_int((int)kp_log_aborted_txns(l, 0, 12, NULL, NULL), 1,
	    "[0, 12): the LSO 12 of the first ends the walk");

	/* reopen: the entries come back from the files */
	kp_log_close(l);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	is_int((int)kp_log_aborted_txns(l, 0, 60, NULL, NULL), 3,
	    "3 after reopening");

	/* a follower cutting its tail cuts the index with it */
	is_int(kp_log_truncate(l, 25), 0, "truncate at 25");
	ok(kp_log_txn_has(l, 15) && !kp_log_txn_has(l, 25) &&
	    !kp_log_txn_has(l, 45) && !exists(dir, 40),
	    "markers at or after 25 gone, with the segments");
	kp_log_close(l);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	is_int((int)kp_log_aborted_txns(l, 0, 60, NULL, NULL), 1,
	    "1 after reopening");

	/* retention: the index goes with its segment */
	fill(l, 4);
	kp_log_set_high_watermark(l, kp_log_end_offset(l));
	is_int(kp_log_delete_records(l, 30, &low), KP_NONE, "DeleteRecords 30");
	ok(!exists(dir, 10), "the segment of marker 15 went with its index");
	is_int((int)kp_log_aborted_txns(l, 30, 1000, NULL, NULL), 0, "none left");
	kp_log_close(l);
	lt_rmrf(dir);
}

/* Recovery: an entry whose marker a crash cut off goes; an orphan goes. */
static void
test_recovery(void)
{
	struct kp_logconf c;
	struct kp_log *l;
	struct kp_txn_entry e;
	char dir[PATH_MAX], p[PATH_MAX + 40];
	int fd;

	lt_conf(&c);
	lt_tmpdir(dir, sizeof(dir), "txr");
	l = kp_log_open(dir, &c, KP_LOG_CREATE, NOW, NULL);
	fill(l, 3);
	e = ent(1, 0, 25, 26);
	kp_log_txn_add(l, &e);
	e = ent(2, 5, 29, 30);
	kp_log_txn_add(l, &e);
	kp_log_flush(l);
	kp_log_close(l);
	/* a crash: the last batch (20-29) torn */
	snprintf(p, sizeof(p), "%s/00000000000000000000.log", dir);
	ok(truncate(p, fsize(p) - 7) == 0, "tear the last batch");
	snprintf(p, sizeof(p), "%s/kpipe.checkpoint", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/00000000000000000099.txnindex", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	close(fd);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	is_int(kp_log_end_offset(l), 20, "log ends at 20");
	is_int((int)kp_log_aborted_txns(l, 0, 100, NULL, NULL), 0,
	    "entries of lost markers gone");
	ok(fsize(p) == -1, "an orphan .txnindex removed");
	snprintf(p, sizeof(p), "%s/00000000000000000000.txnindex", dir);
	is_int((int)fsize(p), 0, "and cut in the file");
	kp_log_close(l);
	lt_rmrf(dir);
}

#define HOUR	3600000LL

/* One keyed record, from producer pid (transactional) or none (pid -1). */
static int64_t
put(struct kp_log *l, const char *key, const char *val, int64_t pid)
{
	struct kp_batch_builder bb;
	struct kp_log_append_info info;
	struct kp_buf b;

	kp_buf_init(&b);
	kp_batch_builder_init(&bb, KP_CODEC_NONE, pid, pid < 0 ? -1 : 0,
	    pid < 0 ? -1 : 0);
	if (pid >= 0)
		bb.attributes = KP_BATCH_ATTR_TRANSACTIONAL;
	kp_batch_builder_add(&bb, NOW, key, (ssize_t)strlen(key), val,
	    (ssize_t)strlen(val), NULL, 0);
	kp_batch_builder_finish(&bb, &b);
	kp_batch_builder_release(&bb);
	info.base_offset = -1;
	(void)kp_log_append(l, b.data, b.len, 0, NOW, &info);
	kp_buf_release(&b);
	return info.base_offset;
}

static int64_t
mark(struct kp_log *l, int64_t pid, bool commit)
{
	struct kp_log_append_info info;
	struct kp_buf b;

	kp_buf_init(&b);
	kp_batch_control_build(&b, pid, 0, commit ? KP_CONTROL_COMMIT :
	    KP_CONTROL_ABORT, 1, NOW);
	info.base_offset = -1;
	(void)kp_log_append(l, b.data, b.len, 0, NOW, &info);
	kp_buf_release(&b);
	return info.base_offset;
}

struct vals {
	char	 v[16][8];
	int	 n;
};

static void
val_cb(const struct kp_record *r, void *arg)
{
	struct vals *v = arg;

	if (v->n < 16 && r->value.len > 0 && r->value.len < 8) {
		memcpy(v->v[v->n], r->value.ptr, (size_t)r->value.len);
		v->v[v->n][r->value.len] = '\0';
		v->n++;
	}
}

static bool
has_val(struct kp_log *l, const char *want)
{
	struct lt_scan sc;
	struct vals v;

	memset(&v, 0, sizeof(v));
	lt_scan(l, 1 << 20, &sc, val_cb, &v);
	for (int i = 0; i < v.n; i++)
		if (strcmp(v.v[i], want) == 0)
			return true;
	return false;
}

/*
 * The cleaner: an aborted record never displaces its key's committed
 * value, and nothing past the LSO counts until the transaction ends.
 */
static void
test_compact(void)
{
	struct kp_logconf c;
	struct kp_log *l;
	struct kp_txn_entry e;
	char dir[PATH_MAX];
	int64_t first, m;

	lt_conf(&c);
	c.cleanup_policy = KP_CLEANUP_COMPACT;
	c.min_compaction_lag_ms = 0;
	lt_tmpdir(dir, sizeof(dir), "txc");
	l = kp_log_open(dir, &c, KP_LOG_CREATE, NOW, NULL);
	put(l, "k1", "v1", -1);				/* 0 */
	first = put(l, "k1", "bad", 7);			/* 1 */
	m = mark(l, 7, false);				/* 2 */
	e = ent(7, first, m, m + 1);
	is_int(kp_log_txn_add(l, &e), 0, "producer 7 aborted");
	put(l, "k2", "w1", -1);				/* 3 */
	kp_log_roll(l, NOW);
	first = put(l, "k2", "open", 8);		/* 4: left open */
	kp_log_set_stable_offset(l, first);
	kp_log_roll(l, NOW);
	put(l, "k3", "x", -1);
	kp_log_roll(l, NOW);
	is_int(kp_log_compact(l, NOW + 1, NULL), 0, "clean with 8 open");
	ok(has_val(l, "v1") && !has_val(l, "bad"),
	    "the aborted record went, the committed one stayed");
	ok(has_val(l, "w1") && has_val(l, "open"),
	    "the open transaction displaced nothing");
	m = mark(l, 8, true);
	kp_log_set_stable_offset(l, INT64_MAX);
	kp_log_roll(l, NOW);
	is_int(kp_log_compact(l, NOW + 1, NULL), 0, "clean once committed");
	ok(!has_val(l, "w1") && has_val(l, "open"),
	    "now the committed transaction's record is k2's newest");
	kp_log_close(l);
	lt_rmrf(dir);
}

static void
marker_cb(const struct kp_record *r, void *arg)
{
	struct vals *v = arg;

	int t = kp_record_control_type(r);

	if (t != -1 && v->n < 16)
		snprintf(v->v[v->n++], sizeof(v->v[0]), "%lld%c",
		    (long long)r->offset, t == KP_CONTROL_COMMIT ? 'c' : 'a');
}

/* The markers left: offset and c(ommit) or a(bort), "1c 7a". */
static void
markers(struct kp_log *l, char *buf, size_t len)
{
	struct lt_scan sc;
	struct vals v;
	size_t at = 0;

	memset(&v, 0, sizeof(v));
	lt_scan(l, 1 << 20, &sc, marker_cb, &v);
	buf[0] = '\0';
	for (int i = 0; i < v.n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s",
		    i ? " " : "", v.v[i]);
}

/*
 * The cleaner removes a marker once its transaction has no record left and
 * delete.retention.ms has passed, as Kafka's, and an ABORT marker's entry
 * in the .txnindex with it; never above the producer state horizon.
 */
static void
test_compact_markers(void)
{
	struct kp_compact_report rep;
	struct kp_logconf c;
	struct kp_log *l;
	struct kp_txn_entry e;
	char dir[PATH_MAX], got[128];
	int64_t first, m;

	lt_conf(&c);
	c.cleanup_policy = KP_CLEANUP_COMPACT;
	c.min_compaction_lag_ms = 0;
	c.delete_retention_ms = HOUR;
	lt_tmpdir(dir, sizeof(dir), "txm");
	l = kp_log_open(dir, &c, KP_LOG_CREATE, NOW, NULL);
	put(l, "k1", "a", 5);				/* 0 */
	mark(l, 5, true);				/* 1 */
	put(l, "k1", "b", 5);				/* 2: supersedes a */
	mark(l, 5, true);				/* 3 */
	put(l, "k2", "c", 6);				/* 4 */
	mark(l, 6, true);				/* 5 */
	first = put(l, "k3", "d", 7);			/* 6 */
	m = mark(l, 7, false);				/* 7 */
	e = ent(7, first, m, m + 1);
	is_int(kp_log_txn_add(l, &e), 0, "producer 7 aborted");
	put(l, "k4", "e", -1);				/* 8 */
	kp_log_roll(l, NOW);
	first = put(l, "k5", "f", 8);			/* 9 */
	m = mark(l, 8, false);				/* 10 */
	e = ent(8, first, m, m + 1);
	is_int(kp_log_txn_add(l, &e), 0, "producer 8 aborted");
	put(l, "k6", "g", -1);				/* 11 */
	kp_log_roll(l, NOW);
	markers(l, got, sizeof(got));
	ok(strcmp(got, "1c 3c 5c 7a 10a") == 0, "five markers written (%s)", got);
	is_int(kp_log_compact(l, NOW + 1, &rep), 0, "clean before delete.retention.ms");
	markers(l, got, sizeof(got));
	ok(rep.markers_removed == 0 && strcmp(got, "1c 3c 5c 7a 10a") == 0,
	    "young markers stay, even those whose records went (%s)", got);
	ok(!has_val(l, "a") && has_val(l, "b") && !has_val(l, "d"),
	    "superseded and aborted records went");
	is_int(kp_log_compact(l, NOW + 2 * HOUR, &rep), 0, "clean after it");
	markers(l, got, sizeof(got));
	ok(rep.markers_removed == 0 && strcmp(got, "1c 3c 5c 7a 10a") == 0,
	    "no marker goes with no producer state saved past it (%s)", got);
	kp_log_set_marker_horizon(l, 9);
	is_int(kp_log_compact(l, NOW + 2 * HOUR, &rep), 0, "saved up to 9");
	markers(l, got, sizeof(got));
	ok(rep.markers_removed == 2 && strcmp(got, "3c 5c 10a") == 0,
	    "the markers of the emptied transactions below it went (%s)", got);
	ok(!kp_log_txn_has(l, 7) && kp_log_txn_has(l, 10),
	    "the removed ABORT marker's transaction left the .txnindex");
	ok(has_val(l, "b") && has_val(l, "c") && has_val(l, "e") &&
	    has_val(l, "g"), "every kept record stays");
	kp_log_close(l);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	markers(l, got, sizeof(got));
	ok(strcmp(got, "3c 5c 10a") == 0 && !kp_log_txn_has(l, 7) &&
	    kp_log_txn_has(l, 10), "and so after a reopen (%s)", got);
	kp_log_close(l);
	lt_rmrf(dir);
}

int
main(void)
{
	test_layout();
	test_file();
	test_log();
	test_recovery();
	test_compact();
	test_compact_markers();
	return tap_done();
}
