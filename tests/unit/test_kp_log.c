/* test_kp_log.c -- partition log: append, read, roll, lookups, retention, DeleteRecords, recovery of indexes */
#include <errno.h>
#include <fcntl.h>

#include "kp_log.h"
#include "kp_pagecache.h"
#include "logtest.h"
#include "tap.h"

#define NOW	1700000000000LL

static void
test_append_read(void)
{
	struct kp_log_append_info info;
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct kp_log_slice sl;
	struct lt_scan s;
	struct kp_log *l;
	char dir[PATH_MAX], p[PATH_MAX + 32];
	int bad = 0;

	lt_conf(&c);
	lt_tmpdir(dir, sizeof(dir), "log");
	snprintf(p, sizeof(p), "%s/t-0", dir);
	l = kp_log_open(p, &c, 0, NOW, &rec);
	ok(l == NULL && errno == ENOENT, "open without CREATE fails on a missing folder");
	l = kp_log_open(p, &c, KP_LOG_CREATE, NOW, &rec);
	ok(l != NULL, "open creates the folder");
	is_int(kp_log_end_offset(l), 0, "new log ends at 0");
	for (int i = 0; i < 10; i++) {
		if (lt_append(l, 100, i * 100, NOW + i, 50, NOW, &info) != 0 ||
		    info.base_offset != i * 100 ||
		    info.last_offset != i * 100 + 99 ||
		    info.log_append_time != -1 || info.records != 100)
			bad++;
	}
	is_int(bad, 0, "ten appends get offsets 0, 100, ... 900");
	is_int(kp_log_end_offset(l), 1000, "log end offset 1000");
	is_int(kp_log_high_watermark(l), 0, "the caller owns the high watermark");
	kp_log_set_high_watermark(l, 5000);
	is_int(kp_log_high_watermark(l), 1000, "high watermark clamps to the log end");

	lt_scan(l, 1 << 20, &s, NULL, NULL);
	ok(!s.err && s.records == 1000 && s.first == 0 && s.last == 999 &&
	    s.contiguous && s.crc_ok, "read back 1000 contiguous records");
	lt_scan(l, 1, &s, NULL, NULL);
	ok(!s.err && s.records == 1000 && s.batches == 10,
	    "max_bytes 1 still returns one whole batch per read");

	is_int(kp_log_read(l, 250, 1, 1000, &sl), KP_NONE, "read mid-batch");
	ok(sl.first_offset == 200 && sl.next_offset == 300 && sl.len > 0,
	    "slice starts with the batch holding the offset");
	is_int(kp_log_read(l, 1000, 1 << 20, 1000, &sl), KP_NONE, "read at the end");
	is_int(sl.len, 0, "nothing at the log end");
	is_int(kp_log_read(l, 1001, 1 << 20, 1000, &sl), KP_OFFSET_OUT_OF_RANGE,
	    "past the end is OFFSET_OUT_OF_RANGE");
	is_int(kp_log_read(l, 0, 1 << 20, 350, &sl), KP_NONE, "read bounded by a high watermark");
	ok(sl.next_offset == 300, "batches reaching the bound are left out (next %lld)",
	    (long long)sl.next_offset);
	is_int(kp_log_read(l, 0, 1 << 20, 50, &sl), KP_NONE, "bound inside the first batch");
	is_int(sl.len, 0, "a batch straddling the bound is not served");
	kp_log_close(l);

	l = kp_log_open(p, &c, 0, NOW, &rec);
	ok(l != NULL && kp_log_end_offset(l) == 1000, "reopen keeps 1000 records");
	ok(rec.clean && rec.truncated_bytes == 0, "clean reopen reports nothing done");
	is_int(kp_log_recovery_point(l), 1000, "recovery point at the end after a clean close");
	lt_scan(l, 4096, &s, NULL, NULL);
	ok(!s.err && s.records == 1000 && s.contiguous, "same records after reopen");
	kp_log_close(l);
	lt_rmrf(dir);
}

static void
test_validation(void)
{
	struct kp_logconf c;
	struct kp_buf b;
	struct kp_log *l;
	char dir[PATH_MAX];
	int e;

	lt_conf(&c);
	lt_tmpdir(dir, sizeof(dir), "val");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	kp_buf_init(&b);
	lt_batch(&b, 5, 0, NOW, 10);
	lt_batch(&b, 5, 5, NOW, 10);
	b.data[b.len - 1] ^= 1;		/* second batch's CRC breaks */
	e = kp_log_append(l, b.data, b.len, 0, NOW, NULL);
	is_int(e, KP_CORRUPT_MESSAGE, "bad CRC in the second batch: CORRUPT_MESSAGE");
	is_int(kp_log_end_offset(l), 0, "and nothing of the first batch was appended");
	is_int(kp_log_size(l), 0, "the file is still empty");
	e = kp_log_append(l, b.data, 30, 0, NOW, NULL);
	is_int(e, KP_CORRUPT_MESSAGE, "a truncated batch is CORRUPT_MESSAGE");
	kp_buf_reset(&b);
	lt_batch(&b, 50, 0, NOW, 1000);
	c.max_message_bytes = 1000;
	kp_log_set_conf(l, &c);
	is_int(kp_log_append(l, b.data, b.len, 0, NOW, NULL), KP_MESSAGE_TOO_LARGE,
	    "a batch over max.message.bytes is MESSAGE_TOO_LARGE");
	lt_conf(&c);
	c.cleanup_policy = KP_CLEANUP_COMPACT;
	kp_log_set_conf(l, &c);
	kp_buf_reset(&b);
	lt_batch(&b, 3, -1, NOW, 10);
	is_int(kp_log_append(l, b.data, b.len, 0, NOW, NULL), KP_INVALID_RECORD,
	    "a keyless record on a compacted topic is INVALID_RECORD");
	c.timestamp_type = KP_TS_LOG_APPEND_TIME;
	kp_log_set_conf(l, &c);
	{
		struct kp_log_append_info info;
		struct kp_batch_header h;
		struct kp_log_slice sl;
		struct kp_buf rb;

		is_int(lt_append(l, 3, 0, 5, 10, NOW + 7, &info), KP_NONE,
		    "LogAppendTime append");
		is_int(info.log_append_time, NOW + 7, "log append time returned");
		kp_buf_init(&rb);
		kp_log_read(l, 0, 1 << 20, 100, &sl);
		kp_log_slice_load(&sl, &rb);
		kp_batch_header_decode(rb.data, rb.len, &h);
		ok(h.max_timestamp == NOW + 7 &&
		    (h.attributes & KP_BATCH_ATTR_LOG_APPEND_TIME) &&
		    kp_batch_crc_ok(rb.data, rb.len),
		    "stored batch carries the append time and a valid CRC");
		kp_buf_release(&rb);
	}
	kp_buf_release(&b);
	kp_log_close(l);
	lt_rmrf(dir);
}

static int
count_files(const char *dir, const char *suffix)
{
	char cmd[PATH_MAX + 64];
	FILE *f;
	int n = 0, ch;

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '%s$'", dir, suffix);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	while ((ch = fgetc(f)) != EOF)
		;
	pclose(f);
	return n;
}

static void
test_roll_and_indexes(void)
{
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	char dir[PATH_MAX], p[PATH_MAX + 64];
	int64_t off, ts;
	int fd;

	lt_conf(&c);
	c.segment_bytes = 16384;
	c.index_interval_bytes = 1024;
	lt_tmpdir(dir, sizeof(dir), "roll");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int i = 0; i < 100; i++)
		lt_append(l, 10, i * 10, NOW + i * 1000, 40, NOW, NULL);
	ok(kp_log_segment_count(l) > 3, "segment.bytes rolls segments (%d)",
	    kp_log_segment_count(l));
	is_int(count_files(dir, ".log"), kp_log_segment_count(l), "one .log per segment");
	is_int(count_files(dir, ".timeindex"), kp_log_segment_count(l), "one .timeindex per segment");
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	ok(access(p, F_OK) == 0, "first segment is 00000000000000000000.log");
	is_int(kp_log_offset_for_time(l, NOW + 50000, &off, &ts), KP_NONE, "offset for time");
	ok(off == 500 && ts == NOW + 50000, "first record at or after ts (%lld)", (long long)off);
	kp_log_offset_for_time(l, NOW + 50000 + 1, &off, &ts);
	ok(off == 501 && ts == NOW + 50001, "ts between batches finds the next record");
	kp_log_offset_for_time(l, NOW + 10000000, &off, &ts);
	ok(off == -1 && ts == -1, "a ts newer than all records gives -1");
	kp_log_offset_for_time(l, 0, &off, &ts);
	ok(off == 0, "an old ts gives the first offset");
	kp_log_max_timestamp(l, &ts, &off);
	ok(ts == NOW + 99009 && off == 999, "max timestamp and its offset");
	/* segment.ms roll */
	c.segment_ms = 1000;
	kp_log_set_conf(l, &c);
	{
		int before = kp_log_segment_count(l);

		lt_append(l, 1, 5000, NOW, 10, NOW + 1, NULL);
		kp_log_tick(l, NOW + 5000, 0);
		is_int(kp_log_segment_count(l), before + 1, "segment.ms rolls on tick");
	}
	kp_log_close(l);

	/* corrupt one index, delete another: both rebuilt */
	snprintf(p, sizeof(p), "%s/%020d.index", dir, 0);
	fd = open(p, O_WRONLY | O_APPEND);
	ok(fd >= 0 && write(fd, "xyz", 3) == 3, "corrupt the first .index");
	close(fd);
	snprintf(p, sizeof(p), "%s/%020d.timeindex", dir, 0);
	ok(unlink(p) == 0, "delete the first .timeindex");
	c.segment_ms = 604800000;
	l = kp_log_open(dir, &c, 0, NOW, &rec);
	ok(l != NULL && rec.indexes_rebuilt >= 1, "indexes rebuilt on open (%d)",
	    rec.indexes_rebuilt);
	ok(access(p, F_OK) == 0, "missing .timeindex is back");
	lt_scan(l, 2000, &s, NULL, NULL);
	ok(!s.err && s.records == 1001 && s.contiguous && s.crc_ok,
	    "all records readable after rebuild");
	kp_log_offset_for_time(l, NOW + 20000, &off, &ts);
	is_int(off, 200, "time lookup works on the rebuilt time index");
	kp_log_close(l);
	lt_rmrf(dir);
}

static void
test_retention(void)
{
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	char dir[PATH_MAX];
	int64_t low;
	int n, segs;

	lt_conf(&c);
	c.segment_bytes = 4096;
	lt_tmpdir(dir, sizeof(dir), "ret");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	/* 40 batches, one per "hour" of timestamps */
	for (int i = 0; i < 40; i++)
		lt_append(l, 10, 0, NOW + (int64_t)i * 3600000, 50, NOW, NULL);
	segs = kp_log_segment_count(l);
	ok(segs > 5, "%d segments", segs);
	c.retention_ms = 3600000LL * 20;
	kp_log_set_conf(l, &c);
	n = kp_log_enforce_retention(l, NOW + 3600000LL * 39);
	ok(n > 0, "retention.ms deletes old segments (%d)", n);
	ok(kp_log_start_offset(l) > 0 && kp_log_start_offset(l) <= 200,
	    "log start moved to a segment base (%lld)",
	    (long long)kp_log_start_offset(l));
	lt_scan(l, 1 << 20, &s, NULL, NULL);
	ok(!s.err && s.contiguous && s.first == kp_log_start_offset(l) &&
	    s.last == 399, "retained range has no hole");
	n = kp_log_enforce_retention(l, NOW + 3600000LL * 10000);
	is_int(kp_log_segment_count(l), 1, "everything old goes but the active segment");
	is_int(kp_log_end_offset(l), 400, "log end unchanged");

	/* size */
	c.retention_ms = -1;
	c.retention_bytes = 8192;
	kp_log_set_conf(l, &c);
	for (int i = 0; i < 40; i++)
		lt_append(l, 10, 0, NOW, 50, NOW, NULL);
	n = kp_log_enforce_retention(l, NOW);
	ok(n > 0 && kp_log_size(l) <= 8192 + 4096 && kp_log_size(l) >= 8192 - 4096,
	    "retention.bytes trims to about the limit (%lld bytes)",
	    (long long)kp_log_size(l));

	/* DeleteRecords */
	kp_log_set_high_watermark(l, kp_log_end_offset(l));
	is_int(kp_log_delete_records(l, 10000, &low), KP_OFFSET_OUT_OF_RANGE,
	    "DeleteRecords past the high watermark is refused");
	is_int(kp_log_delete_records(l, 745, &low), KP_NONE, "DeleteRecords 745");
	ok(low == 745 && kp_log_start_offset(l) == 745, "low watermark 745");
	{
		struct kp_log_slice sl;

		is_int(kp_log_read(l, 744, 100, 800, &sl), KP_OFFSET_OUT_OF_RANGE,
		    "reads below the log start fail");
	}
	kp_log_close(l);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	is_int(kp_log_start_offset(l), 745, "log start offset survives a reopen");
	is_int(kp_log_delete_records(l, -1, &low), KP_NONE, "DeleteRecords to the high watermark");
	is_int(low, 800, "low watermark = high watermark");
	is_int(kp_log_segment_count(l), 1, "segments below it deleted");
	is_int(kp_log_end_offset(l), 800, "the log end stays");
	kp_log_close(l);
	lt_rmrf(dir);
}

static void
test_truncate_and_raw(void)
{
	struct kp_logconf c;
	struct kp_log *l, *f;
	struct lt_scan s;
	struct kp_buf b;
	char dir[PATH_MAX], d2[PATH_MAX];

	lt_conf(&c);
	c.segment_bytes = 2048;
	lt_tmpdir(dir, sizeof(dir), "trunc");
	lt_tmpdir(d2, sizeof(d2), "raw");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	f = kp_log_open(d2, &c, 0, NOW, NULL);
	for (int i = 0; i < 30; i++)
		lt_append(l, 5, i * 5, NOW, 30, NOW, NULL);
	/* a follower copies the leader's batches with their offsets */
	kp_buf_init(&b);
	for (int64_t off = 0; off < kp_log_end_offset(l);) {
		struct kp_log_slice sl;

		kp_log_read(l, off, 1 << 20, kp_log_end_offset(l), &sl);
		kp_buf_reset(&b);
		kp_log_slice_load(&sl, &b);
		if (kp_log_append_raw(f, b.data, b.len, NOW, NULL) != KP_NONE)
			break;
		off = sl.next_offset;
	}
	is_int(kp_log_end_offset(f), 150, "follower copied 150 offsets");
	kp_log_set_high_watermark(f, 150);
	is_int(kp_log_append_raw(f, b.data, b.len, NOW, NULL), KP_OFFSET_OUT_OF_RANGE,
	    "raw append going backwards is refused");
	ok(kp_log_truncate(f, 72) == 0, "truncate to 72");
	is_int(kp_log_end_offset(f), 70, "the batch holding 72 goes whole (log end 70)");
	ok(kp_log_high_watermark(f) <= 70, "high watermark follows down");
	lt_scan(f, 1 << 20, &s, NULL, NULL);
	ok(!s.err && s.last == 69 && s.contiguous, "70 records left");
	is_int(lt_append(f, 5, 0, NOW, 30, NOW, NULL), KP_NONE, "appending continues");
	is_int(kp_log_end_offset(f), 75, "at 70");
	ok(kp_log_truncate(f, 0) == 0 && kp_log_end_offset(f) == 0 &&
	    kp_log_segment_count(f) == 1, "truncate to 0: one empty segment");
	for (int i = 0; i < 20; i++)
		lt_append(f, 3, i * 3, NOW, 200, NOW, NULL);
	lt_scan(f, 1, &s, NULL, NULL);
	ok(!s.err && s.records == 60 && s.contiguous && s.first == 0,
	    "a fresh start at the same base reads right (no stale index)");
	kp_log_close(f);
	{
		struct kp_log_recovery rec;
		char p[PATH_MAX + 32];
		struct stat st;

		snprintf(p, sizeof(p), "%s/kpipe.checkpoint", d2);
		unlink(p);	/* force a full scan */
		f = kp_log_open(d2, &c, 0, NOW, &rec);
		snprintf(p, sizeof(p), "%s/%020d.log", d2, 0);
		ok(f != NULL && stat(p, &st) == 0 && rec.indexes_rebuilt == 0 &&
		    rec.truncated_bytes == 0 && kp_log_end_offset(f) == 60,
		    "after reopen: no old bytes or index entries were left behind");
	}
	kp_buf_release(&b);
	kp_log_close(l);
	kp_log_close(f);
	lt_rmrf(dir);
	lt_rmrf(d2);
}

/*
 * kp_log_read starts its header walk at a remembered batch boundary when
 * it can (the last append, the end of the last read). With a sparse index
 * every wrong boundary shows as a slice that does not start at the batch
 * holding the offset; random appends, reads and truncations against a
 * model of where each offset's batch starts.
 */
static void
test_read_hints(void)
{
	struct kp_logconf c;
	struct kp_log *l;
	struct kp_buf b;
	char dir[PATH_MAX];
	int64_t base_of[4096];	/* offset -> its batch's base offset */
	int64_t end = 0;
	unsigned seed = 7;
	int bad = 0, reads = 0, truncs = 0;

	lt_conf(&c);
	c.index_interval_bytes = 1 << 20;	/* the index never helps */
	lt_tmpdir(dir, sizeof(dir), "hint");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	kp_buf_init(&b);
	for (int step = 0; step < 4000 && end < 4000 && l != NULL; step++) {
		int op = (int)(rand_r(&seed) % 10);

		if (op < 5 || end == 0) {
			int n = 1 + (int)(rand_r(&seed) % 5);

			if (lt_append(l, n, 0, NOW, (int)(rand_r(&seed) % 50),
			    NOW, NULL) != KP_NONE) {
				bad++;
				break;
			}
			for (int i = 0; i < n; i++)
				base_of[end + i] = end;
			end += n;
		} else if (op < 9) {
			int64_t off = (int64_t)(rand_r(&seed) % (unsigned)end);
			int64_t maxo = off + 1 + (int64_t)(rand_r(&seed) %
			    (unsigned)(end - off));
			size_t maxb = 1 + rand_r(&seed) % 600;
			struct kp_log_slice sl;
			struct kp_batch_header h;

			reads++;
			kp_buf_reset(&b);
			if (kp_log_read(l, off, maxb, maxo, &sl) != KP_NONE ||
			    (sl.len > 0 && (kp_log_slice_load(&sl, &b) < 0 ||
			    kp_batch_header_decode(b.data, b.len, &h) <= 0 ||
			    h.base_offset != base_of[off] ||
			    sl.first_offset != base_of[off] ||
			    sl.next_offset > maxo)))
				bad++;
		} else {
			int64_t to = (int64_t)(rand_r(&seed) % (unsigned)end);

			truncs++;
			if (kp_log_truncate(l, to) != 0) {
				bad++;
				continue;
			}
			if ((end = kp_log_end_offset(l)) != base_of[to])
				bad++;	/* to's batch goes whole */
		}
	}
	ok(l != NULL && bad == 0 && reads > 1000 && truncs > 100,
	    "%d random reads and %d truncations: every slice starts at its "
	    "offset's batch", reads, truncs);
	kp_buf_release(&b);
	kp_log_close(l);
	lt_rmrf(dir);
}

static void
test_flush_policies(void)
{
	struct kp_logconf c;
	struct kp_log *l;
	char dir[PATH_MAX];
	int before;

	lt_conf(&c);
	c.flush_messages = 25;
	lt_tmpdir(dir, sizeof(dir), "flush");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	lt_append(l, 10, 0, NOW, 10, NOW, NULL);
	lt_append(l, 10, 10, NOW, 10, NOW, NULL);
	is_int(kp_log_recovery_point(l), 0, "20 records < flush.messages 25: not flushed");
	lt_append(l, 10, 20, NOW, 10, NOW, NULL);
	is_int(kp_log_recovery_point(l), 30, "the 25th record flushes: recovery point 30");
	lt_conf(&c);
	c.flush_ms = 1000;
	kp_log_set_conf(l, &c);
	lt_append(l, 5, 30, NOW, 10, NOW + 100, NULL);
	kp_log_tick(l, NOW + 600, 0);
	is_int(kp_log_recovery_point(l), 30, "flush.ms not yet due");
	kp_log_tick(l, NOW + 1100, 0);
	is_int(kp_log_recovery_point(l), 35, "flush.ms due: flushed on tick");
	lt_conf(&c);
	c.segment_index_bytes = 8 * 4;	/* four offset index entries */
	c.index_interval_bytes = 0;	/* an entry for every batch */
	kp_log_set_conf(l, &c);
	kp_log_roll(l, NOW);
	is_int(kp_log_recovery_point(l), 35, "a roll leaves everything flushed");
	before = kp_log_segment_count(l);
	for (int i = 0; i < 12; i++)
		lt_append(l, 1, 35 + i, NOW, 10, NOW, NULL);
	ok(kp_log_segment_count(l) >= before + 2, "a full index rolls the segment (%d -> %d)",
	    before, kp_log_segment_count(l));
	kp_log_close(l);
	lt_rmrf(dir);
}

static int
file_has(const char *path, const char *needle)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* A clean close records the active segment's state; a grown file voids it. */
static void
test_clean_close(void)
{
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	char dir[PATH_MAX], ck[PATH_MAX + 32], p[PATH_MAX + 32];
	int64_t ts, off;
	FILE *f;

	lt_conf(&c);
	lt_tmpdir(dir, sizeof(dir), "clean");
	snprintf(ck, sizeof(ck), "%s/kpipe.checkpoint", dir);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int i = 0; i < 20; i++)
		lt_append(l, 10, i * 10, NOW + i * 100, 30, NOW, NULL);
	ok(!file_has(ck, "clean_size="), "an open log's checkpoint claims no clean state");
	kp_log_close(l);
	ok(file_has(ck, "clean_size=") && file_has(ck, "clean_next=200"),
	    "a clean close records the active segment");
	l = kp_log_open(dir, &c, 0, NOW, &rec);
	ok(l != NULL && rec.clean && kp_log_end_offset(l) == 200, "reopen from the clean state");
	kp_log_max_timestamp(l, &ts, &off);
	ok(ts == NOW + 1909 && off == 199, "largest timestamp from the clean state");
	ok(file_has(ck, "clean_size=") && file_has(ck, "clean_next=200"),
	    "an unchanged clean open leaves the checkpoint as it was");
	is_int(lt_append(l, 10, 200, NOW, 30, NOW, NULL), KP_NONE, "append after a clean open");
	{
		/* a crash now: the grown segment no longer matches the claim */
		struct kp_log *r = kp_log_open(dir, &c, KP_LOG_RDONLY, NOW, &rec);

		ok(r != NULL && rec.batches_checked > 0 &&
		    kp_log_end_offset(r) == 210,
		    "the stale claim is not trusted after an append (%lld checked)",
		    (long long)rec.batches_checked);
		kp_log_close(r);
	}
	kp_log_close(l);
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	f = fopen(p, "ab");
	fputs("garbage after a clean close", f);
	fclose(f);
	l = kp_log_open(dir, &c, 0, NOW, &rec);
	ok(l != NULL && rec.truncated_bytes == 27 && kp_log_end_offset(l) == 210,
	    "a file that grew since is scanned and cut (%lld bytes)",
	    (long long)rec.truncated_bytes);
	lt_scan(l, 1 << 20, &s, NULL, NULL);
	ok(!s.err && s.records == 210 && s.contiguous, "all 210 records");
	kp_log_close(l);
	{
		/* nothing changed between a clean open and its close */
		struct stat a, b;
		int same;

		stat(ck, &a);
		l = kp_log_open(dir, &c, 0, NOW, &rec);
		kp_log_close(l);
		stat(ck, &b);
		same = a.st_ino == b.st_ino;
		ok(rec.clean && same, "closing an unchanged log leaves its checkpoint file");
		l = kp_log_open(dir, &c, 0, NOW, &rec);
		lt_append(l, 1, 210, NOW, 30, NOW, NULL);
		kp_log_close(l);
		stat(ck, &a);
		ok(a.st_ino != b.st_ino && file_has(ck, "clean_next=211"),
		    "closing after an append rewrites it");
	}
	lt_rmrf(dir);
}

/* ktopic dump opens logs read-only: torn tails are skipped, not cut. */
static void
test_rdonly(void)
{
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	struct stat st;
	char dir[PATH_MAX], p[PATH_MAX + 32];
	int64_t size;

	lt_conf(&c);
	lt_tmpdir(dir, sizeof(dir), "ro");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int i = 0; i < 10; i++)
		lt_append(l, 10, i * 10, NOW, 30, NOW, NULL);
	kp_log_close(l);
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	stat(p, &st);
	size = st.st_size;
	ok(truncate(p, size - 7) == 0, "tear the tail");
	snprintf(p, sizeof(p), "%s/kpipe.checkpoint", dir);
	unlink(p);
	l = kp_log_open(dir, &c, KP_LOG_RDONLY, NOW, &rec);
	ok(l != NULL && kp_log_end_offset(l) == 90 && rec.truncated_bytes > 0,
	    "read-only open serves the valid prefix (end %lld)",
	    l ? (long long)kp_log_end_offset(l) : -1LL);
	lt_scan(l, 1 << 20, &s, NULL, NULL);
	ok(!s.err && s.records == 90 && s.crc_ok, "90 records readable");
	ok(lt_append(l, 1, 0, NOW, 1, NOW, NULL) == KP_KAFKA_STORAGE_ERROR &&
	    errno == EROFS, "appends refused with EROFS");
	kp_log_close(l);
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	stat(p, &st);
	is_int(st.st_size, size - 7, "the file was not touched");
	snprintf(p, sizeof(p), "%s/kpipe.checkpoint", dir);
	ok(access(p, F_OK) != 0, "no checkpoint written");
	lt_rmrf(dir);
}

/* The tick rewrites a changed checkpoint at most once per interval. */
static void
test_checkpoint_interval(void)
{
	struct kp_logconf c;
	struct kp_log *l;
	char dir[PATH_MAX], ck[PATH_MAX + 32];

	lt_conf(&c);
	lt_tmpdir(dir, sizeof(dir), "ckint");
	snprintf(ck, sizeof(ck), "%s/kpipe.checkpoint", dir);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	lt_append(l, 10, 0, NOW, 10, NOW, NULL);
	kp_log_set_high_watermark(l, 10);
	kp_log_tick(l, NOW, 5000);
	ok(file_has(ck, "high_watermark=10\n"), "the first tick writes the new high watermark");
	lt_append(l, 10, 10, NOW, 10, NOW, NULL);
	kp_log_set_high_watermark(l, 20);
	kp_log_tick(l, NOW + 1000, 5000);
	kp_log_tick(l, NOW + 4999, 5000);
	ok(file_has(ck, "high_watermark=10\n"), "ticks within the interval leave it");
	kp_log_tick(l, NOW + 5000, 5000);
	ok(file_has(ck, "high_watermark=20\n"), "the tick after the interval writes it");
	lt_append(l, 10, 20, NOW, 10, NOW, NULL);
	kp_log_set_high_watermark(l, 30);
	kp_log_roll(l, NOW + 5001);
	ok(file_has(ck, "high_watermark=30\n"), "a roll writes it within the interval");
	kp_log_close(l);
	lt_rmrf(dir);
}

/* With a page cache limit, rolled segments leave the cache too. */
static void
test_pagecache(void)
{
	const int64_t mib = (int64_t)1 << 20;
	struct kp_logconf c;
	struct kp_log *l;
	char dir[PATH_MAX], p[PATH_MAX + 64];
	size_t res;
	int fd, bad = 0;

	lt_conf(&c);
	c.segment_bytes = 4 * mib;
	lt_tmpdir(dir, sizeof(dir), "logpc");
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	kp_pagecache_set_limit(2 * mib);
	/* ~1 MiB a batch: four segments, the last one dropping pages */
	for (int i = 0; i < 15; i++)
		if (lt_append(l, 1000, i * 1000, NOW + i, 1000, NOW, NULL) != 0)
			bad++;
	ok(bad == 0 && kp_log_segment_count(l) >= 4,
	    "15 MiB in segments of 4 MiB (%d)", kp_log_segment_count(l));
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	fd = open(p, O_RDONLY);
	res = lt_resident(fd, 0, 4 * mib);
	ok(fd >= 0 && res < (size_t)(mib / 4096),
	    "the first segment left the page cache (%zu pages stay)", res);
	close(fd);
	kp_pagecache_set_limit(-1);
	kp_log_close(l);
	lt_rmrf(dir);
}

int
main(void)
{
	test_flush_policies();
	test_clean_close();
	test_rdonly();
	test_append_read();
	test_validation();
	test_roll_and_indexes();
	test_retention();
	test_truncate_and_raw();
	test_read_hints();
	test_pagecache();
	test_checkpoint_interval();
	return tap_done();
}
