/* test_kp_segment.c -- one segment: append, find, scan, seal, truncate, read-only */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "kp_pagecache.h"
#include "kp_segment.h"
#include "logtest.h"
#include "tap.h"

/* A batch whose offsets start at base (as the log would set them). */
static void
batch_at(struct kp_buf *b, int64_t base, int n, int64_t ts)
{
	size_t at = b->len;

	lt_batch(b, n, (int)base, ts, 100);
	kp_batch_set_base_offset(b->data + at, base);
}

static void
test_segment(void)
{
	struct kp_segment_scan sc;
	struct kp_segment *s;
	struct kp_buf b;
	char dir[PATH_MAX];
	int64_t pos, base, last, n, ends[20];
	int bad = 0;

	lt_tmpdir(dir, sizeof(dir), "seg");
	kp_buf_init(&b);
	s = kp_segment_open(dir, 1000, 500, 1 << 20, true, false, 0);
	ok(s != NULL && s->size == 0 && s->next_offset == 1000, "new empty segment at 1000");
	for (int i = 0; i < 20; i++) {
		kp_buf_reset(&b);
		batch_at(&b, 1000 + i * 5, 5, 100 + i);
		if (kp_segment_append(s, b.data, b.len) < 0)
			bad++;
		ends[i] = s->size;
	}
	is_int(bad, 0, "20 batches appended");
	is_int(s->next_offset, 1100, "next offset 1100");
	ok(s->oi.n > 5 && s->oi.n < 20, "sparse offset index (%zu entries)", s->oi.n);
	is_int(s->max_ts, 123, "largest timestamp (last batch 119 + 4)");
	pos = kp_segment_find(s, 1052, &base, &last, &n);
	ok(pos == ends[9] && base == 1050 && last == 1054 && n == ends[10] - ends[9],
	    "find: batch holding 1052");
	pos = kp_segment_find(s, 1100, &base, &last, &n);
	ok(pos == -1 && errno == 0, "find past the end: none");
	ok(kp_segment_seal(s) == 0, "seal");
	kp_segment_close(s);

	s = kp_segment_open(dir, 1000, 500, 1 << 20, false, false, 0);
	ok(s != NULL && !s->index_rebuilt, "reopen with indexes intact");
	ok(kp_segment_scan(s, 0, &sc) == 0 && sc.batches == 20 && sc.checked == 20 &&
	    !sc.torn, "scan: 20 batches CRC-checked");
	ok(s->next_offset == 1100 && s->size == ends[19], "state rebuilt");
	ok(kp_segment_truncate_offset(s, 1050) == 0, "truncate at 1050");
	ok(s->next_offset == 1050 && s->size == ends[9], "cut at the batch boundary");
	kp_segment_close(s);

	s = kp_segment_open(dir, 1000, 500, 1 << 20, false, true, 0);
	ok(s != NULL && s->rdonly, "read-only open");
	ok(kp_segment_scan(s, 0, &sc) == 0 && s->next_offset == 1050, "read-only scan");
	kp_buf_reset(&b);
	batch_at(&b, 1050, 1, 0);
	ok(kp_segment_append(s, b.data, b.len) < 0 && errno == EROFS, "no writes when read-only");
	kp_segment_close(s);
	s = kp_segment_open(dir, 1000, 500, 1 << 20, false, false, 0);
	ok(kp_segment_delete(s) == 0, "delete");
	{
		char p[PATH_MAX + 40];

		kp_segment_path(p, sizeof(p), dir, 1000, ".log");
		ok(access(p, F_OK) != 0, "files gone");
	}
	kp_buf_release(&b);
	lt_rmrf(dir);
}

static off_t
index_size(const char *dir, const char *sfx)
{
	char p[PATH_MAX + 40];
	struct stat st;

	kp_segment_path(p, sizeof(p), dir, 0, sfx);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/*
 * sync_data (the active segment's flush) syncs the .log and leaves the
 * index files written but owed a sync; seal writes its entry at once;
 * a full sync then pays what is owed even with no new data.
 */
static void
test_sync_data(void)
{
	struct kp_segment *s;
	struct kp_buf b;
	char dir[PATH_MAX];
	size_t n;
	int bad = 0;

	lt_tmpdir(dir, sizeof(dir), "segsync");
	kp_buf_init(&b);
	s = kp_segment_open(dir, 0, 1000, 1 << 20, true, false, 0);
	for (int i = 0; i < 10; i++) {
		kp_buf_reset(&b);
		batch_at(&b, i * 5, 5, 100 + i * 10);
		if (kp_segment_append(s, b.data, b.len) < 0)
			bad++;
	}
	ok(bad == 0 && s->dirty && s->oi.n >= 3 && s->ti.n >= 3 &&
	    s->ti.key[s->ti.n - 1] < s->max_ts,
	    "10 batches, an entry every other (%zu, %zu)", s->oi.n, s->ti.n);
	is_int((int)index_size(dir, ".index"), 0, "entries pending, not yet in the file");
	ok(kp_segment_sync_data(s) == 0 && !s->dirty && s->idx_unsynced,
	    "sync_data: .log synced, indexes owed a sync");
	ok(index_size(dir, ".index") == (off_t)(8 * s->oi.n) &&
	    index_size(dir, ".timeindex") == (off_t)(12 * s->ti.n),
	    "but written, for an offline reader");
	n = s->ti.n;
	ok(kp_segment_seal(s) == 0 && s->ti.n == n + 1 &&
	    index_size(dir, ".timeindex") == (off_t)(12 * s->ti.n),
	    "seal's entry is in the file at once");
	ok(kp_segment_sync(s) == 0 && !s->idx_unsynced && !s->dirty,
	    "a full sync with no new data still syncs the indexes");
	ok(kp_segment_sync_data(s) == 0 && !s->idx_unsynced,
	    "nothing written since: sync_data is a no-op");
	kp_segment_close(s);
	kp_buf_release(&b);
	lt_rmrf(dir);
}

/*
 * Writeback is started every 8 MiB appended, so a roll's sync never finds
 * a whole segment to write; the mark follows a truncation back.
 */
static void
test_writeback(void)
{
	struct kp_segment *s;
	struct kp_buf b;
	char dir[PATH_MAX];
	int64_t base = 0, marks = 0, last = 0;
	int bad = 0;

	lt_tmpdir(dir, sizeof(dir), "segwb");
	kp_buf_init(&b);
	s = kp_segment_open(dir, 0, 1 << 20, 1 << 20, true, false, 0);
	/* 1,000 records of ~1 KiB a batch: about 1 MiB per append */
	for (int i = 0; i < 20; i++) {
		kp_buf_reset(&b);
		lt_batch(&b, 1000, 0, 100 + i, 1000);
		kp_batch_set_base_offset(b.data, base);
		base += 1000;
		if (kp_segment_append(s, b.data, b.len) < 0)
			bad++;
		if (s->wb_mark != last) {
			marks++;
			if (s->wb_mark != s->size || s->wb_mark - last <
			    ((int64_t)8 << 20))
				bad++;
			last = s->wb_mark;
		}
		if (s->size - s->wb_mark >= ((int64_t)8 << 20))
			bad++;
	}
	ok(bad == 0 && marks == 2 && s->size > ((int64_t)19 << 20),
	    "20 MiB appended: writeback started twice, 8 MiB apart (%lld)",
	    (long long)marks);
	ok(kp_segment_truncate_offset(s, 5000) == 0 && s->wb_mark == s->size &&
	    s->drop_mark == s->size, "truncated below the marks: they follow");
	kp_buf_reset(&b);
	lt_batch(&b, 1000, 0, 200, 1000);
	kp_batch_set_base_offset(b.data, 5000);
	ok(kp_segment_append(s, b.data, b.len) == 0 && s->wb_mark <= s->size,
	    "the next append brings the mark back inside the file");
	kp_segment_close(s);
	kp_buf_release(&b);
	lt_rmrf(dir);
}

static void
test_pagecache(void)
{
	const int64_t mib = (int64_t)1 << 20;
	struct kp_segment *s, *t;
	struct kp_buf b;
	char dir[PATH_MAX];
	int64_t base = 0;
	size_t old, recent;
	int bad = 0;

	kp_pagecache_set_limit(-1);
	ok(kp_pagecache_share() == -1, "no limit: no share");
	kp_pagecache_set_limit(8 * mib);
	ok(kp_pagecache_share() == 8 * mib, "one writer or none: all of it");
	kp_pagecache_writers(4);
	ok(kp_pagecache_share() == 2 * mib, "four writers: a quarter each");
	kp_pagecache_writers(60);
	ok(kp_pagecache_share() == KP_PAGECACHE_MIN_SHARE,
	    "many writers: never below the smallest share");
	kp_pagecache_writers(-64);

	lt_tmpdir(dir, sizeof(dir), "segpc");
	kp_buf_init(&b);
	s = kp_segment_open(dir, 0, 1 << 20, 1 << 20, true, false, 0);
	t = kp_segment_open(dir, 1000000, 1 << 20, 1 << 20, true, false, 0);
	kp_pagecache_set_limit(4 * mib);
	/* two segments taking appends: 2 MiB behind each end stay cached */
	for (int i = 0; i < 24; i++) {
		struct kp_segment *x = i % 2 ? t : s;

		kp_buf_reset(&b);
		lt_batch(&b, 1000, 0, 100 + i, 1000);
		kp_batch_set_base_offset(b.data, x->base + base);
		if (i % 2)
			base += 1000;
		if (kp_segment_append(x, b.data, b.len) < 0)
			bad++;
	}
	ok(bad == 0 && kp_pagecache_share() == 2 * mib,
	    "12 MiB into each of two segments");
	old = lt_resident(s->fd, 0, s->size - 4 * mib);
	recent = lt_resident(s->fd, s->size - mib, s->size);
	/* pages still under writeback may stay: most must be gone */
	ok(old < (size_t)(s->size - 4 * mib) / 4096 / 4,
	    "pages well behind the end left the page cache (%zu of %lld)",
	    old, (long long)((s->size - 4 * mib) / 4096));
	ok(recent != SIZE_MAX && recent >= (size_t)(mib / 4096),
	    "the last MiB is still cached");
	ok(kp_segment_seal(s) == 0 && kp_pagecache_share() == 4 * mib,
	    "a rolled segment gives its share back");
	kp_segment_close(s);
	kp_segment_close(t);
	ok(kp_pagecache_share() == 4 * mib, "so does a closed one");
	kp_pagecache_set_limit(-1);
	kp_buf_release(&b);
	lt_rmrf(dir);
}

/* Bytes of disk the file holds, and its size. */
static int64_t
disk_bytes(int fd, int64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	*size = st.st_size;
	return (int64_t)st.st_blocks * 512;
}

static void
test_reserve(void)
{
	struct kp_segment *s;
	struct kp_buf b;
	char dir[PATH_MAX], path[PATH_MAX + KP_SEGMENT_NAME_MAX];
	int64_t disk, size;
	int fd;

	lt_tmpdir(dir, sizeof(dir), "segres");
	kp_buf_init(&b);
	s = kp_segment_open(dir, 0, 1 << 20, 1 << 20, true, false, 0);
	lt_batch(&b, 10, 0, 100, 100);
	ok(kp_segment_append(s, b.data, b.len) == 0, "a small append");
	disk = disk_bytes(s->fd, &size);
	/* a file system without fallocate reserves nothing: still right */
	ok(size == s->size && (disk > size + 4096 ||
	    s->alloc_end == INT64_MAX), "blocks reserved past the end "
	    "(%lld on disk for %lld)", (long long)disk, (long long)size);
	ok(kp_segment_seal(s) == 0 && disk_bytes(s->fd, &size) < size + 8192 &&
	    size == s->size, "the roll gives them back, size unchanged");
	kp_buf_reset(&b);
	lt_batch(&b, 10, 0, 200, 100);
	kp_batch_set_base_offset(b.data, 10);
	ok(kp_segment_append(s, b.data, b.len) == 0, "appends go on");
	kp_segment_path(path, sizeof(path), dir, 0, ".log");
	kp_segment_close(s);
	fd = open(path, O_RDONLY);
	disk = disk_bytes(fd, &size);
	ok(fd >= 0 && size > 0 && disk < size + 8192,
	    "the close gives them back too (%lld on disk for %lld)",
	    (long long)disk, (long long)size);
	close(fd);
	kp_buf_release(&b);
	lt_rmrf(dir);
}

int
main(void)
{
	test_segment();
	test_sync_data();
	test_writeback();
	test_pagecache();
	test_reserve();
	return tap_done();
}
