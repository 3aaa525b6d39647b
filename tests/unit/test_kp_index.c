/* test_kp_index.c -- offset and time index files: append, lookup, truncate, reload, sanity checks */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>

#include "kp_buf.h"
#include "kp_index.h"
#include "logtest.h"
#include "tap.h"

static void
test_offset_index(void)
{
	struct kp_index ix;
	char dir[PATH_MAX], p[PATH_MAX + 32];
	uint8_t raw[16];
	int fd, bad = 0;

	lt_tmpdir(dir, sizeof(dir), "idx");
	snprintf(p, sizeof(p), "%s/00000000000000000100.index", dir);
	is_int(kp_index_open(&ix, p, KP_INDEX_OFFSET, 100, 80, false), 1,
	    "a missing index opens empty, flagged for rebuild");
	for (int i = 0; i < 10; i++)
		if (kp_index_append(&ix, 100 + i * 10 + 9, i * 1000) < 0)
			bad++;
	is_int(bad, 0, "ten entries appended");
	ok(kp_index_full(&ix), "80 bytes hold ten 8-byte entries: full");
	is_int(kp_index_lookup(&ix, 99), -1, "offset below the first entry: none");
	is_int(kp_index_lookup(&ix, 109), 0, "exact key");
	is_int(kp_index_lookup(&ix, 125), 1, "between keys: the lower one");
	is_int(kp_index_lookup(&ix, 10000), 9, "past the end: the last");
	is_int(kp_index_lower_bound(&ix, 125), 2, "lower bound");
	kp_index_close(&ix);

	fd = open(p, O_RDONLY);
	ok(read(fd, raw, 16) == 16, "read the file");
	close(fd);
	is_mem(raw, "\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x13\x00\x00\x03\xe8",
	    16, "Kafka layout: relative offset, position, big-endian");

	is_int(kp_index_open(&ix, p, KP_INDEX_OFFSET, 100, 1 << 20, false), 0,
	    "reload");
	ok(ix.n == 10 && ix.key[9] == 199 && ix.val[9] == 9000, "entries back");
	ok(kp_index_truncate(&ix, 4) == 0 && ix.n == 4, "truncate to 4");
	kp_index_close(&ix);
	kp_index_open(&ix, p, KP_INDEX_OFFSET, 100, 1 << 20, false);
	is_int(ix.n, 4, "truncation reached the file");
	kp_index_close(&ix);

	/* a torn entry */
	fd = open(p, O_WRONLY | O_APPEND);
	ok(write(fd, "abc", 3) == 3, "append 3 bytes");
	close(fd);
	is_int(kp_index_open(&ix, p, KP_INDEX_OFFSET, 100, 1 << 20, false), 1,
	    "size not a multiple of 8: rebuild");
	is_int(ix.n, 0, "and empty");
	/* offsets going backwards */
	kp_index_append(&ix, 150, 10);
	kp_index_append(&ix, 160, 20);
	kp_index_close(&ix);
	fd = open(p, O_WRONLY | O_APPEND);
	ok(write(fd, "\x00\x00\x00\x01\x00\x00\x00\x30", 8) == 8, "append a backwards entry");
	close(fd);
	is_int(kp_index_open(&ix, p, KP_INDEX_OFFSET, 100, 1 << 20, false), 1,
	    "keys going backwards: rebuild");
	kp_index_close(&ix);
	lt_rmrf(dir);
}

static void
test_time_index(void)
{
	struct kp_index ix;
	char dir[PATH_MAX], p[PATH_MAX + 32];

	lt_tmpdir(dir, sizeof(dir), "tix");
	snprintf(p, sizeof(p), "%s/00000000000000000000.timeindex", dir);
	kp_index_open(&ix, p, KP_INDEX_TIME, 0, 1 << 20, false);
	kp_index_append(&ix, 1000, 5);
	kp_index_append(&ix, 2000, 9);
	kp_index_append(&ix, 3000, 20);
	kp_index_close(&ix);
	is_int(kp_index_open(&ix, p, KP_INDEX_TIME, 0, 1 << 20, false), 0, "reload");
	ok(ix.n == 3 && ix.key[1] == 2000 && ix.val[1] == 9, "12-byte entries round trip");
	is_int(kp_index_lookup(&ix, 2500), 1, "largest timestamp <= 2500");
	is_int(kp_index_lookup(&ix, 999), -1, "older than all");
	kp_index_close(&ix);
	ok(truncate(p, 30) == 0, "tear the last entry");
	is_int(kp_index_open(&ix, p, KP_INDEX_TIME, 0, 1 << 20, false), 1,
	    "torn time index: rebuild");
	kp_index_close(&ix);
	is_int(kp_index_open(&ix, p, KP_INDEX_TIME, 0, 1 << 20, true), 0,
	    "read-only open of the (now empty) file");
	kp_index_close(&ix);
	lt_rmrf(dir);
}

static off_t
fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/*
 * Entries reach the file in 4 KiB runs, and all of them on write, sync
 * and close; truncation below what is written cuts the file, above it
 * only drops pending entries.
 */
static void
test_pending_runs(void)
{
	struct kp_index ix;
	char dir[PATH_MAX], p[PATH_MAX + 32];
	int bad = 0;

	lt_tmpdir(dir, sizeof(dir), "idxrun");
	snprintf(p, sizeof(p), "%s/00000000000000000000.index", dir);
	kp_index_open(&ix, p, KP_INDEX_OFFSET, 0, 1 << 20, false);
	for (int i = 0; i < 3; i++)
		kp_index_append(&ix, i * 10, i * 100);
	ok(ix.n == 3 && fsize(p) == 0, "three entries pending, file empty");
	is_int(kp_index_write(&ix), 0, "write");
	is_int((int)fsize(p), 24, "three entries in the file");
	for (int i = 3; i < 600; i++)
		if (kp_index_append(&ix, i * 10, i * 100) < 0)
			bad++;
	is_int(bad, 0, "600 entries appended");
	ok(fsize(p) == 515 * 8 && ix.written == 515,
	    "a 4 KiB run went out by itself (%lld bytes)", (long long)fsize(p));
	is_int(kp_index_truncate(&ix, 550), 0, "truncate into the pending");
	ok(ix.n == 550 && fsize(p) == 515 * 8, "file untouched");
	is_int(kp_index_truncate(&ix, 500), 0, "truncate below the written");
	ok(ix.n == 500 && ix.written == 500 && fsize(p) == 500 * 8,
	    "file cut to 500 entries");
	kp_index_append(&ix, 5000, 50000);
	is_int(kp_index_sync(&ix), 0, "sync");
	is_int((int)fsize(p), 501 * 8, "sync wrote the pending entry");
	kp_index_append(&ix, 5010, 50100);
	kp_index_close(&ix);
	is_int(kp_index_open(&ix, p, KP_INDEX_OFFSET, 0, 1 << 20, false), 0,
	    "reload after close");
	ok(ix.n == 502 && ix.key[501] == 5010 && ix.val[501] == 50100 &&
	    ix.key[300] == 3000 && ix.val[300] == 30000,
	    "close wrote the last entry; all entries back");
	kp_index_close(&ix);
	lt_rmrf(dir);
}

int
main(void)
{
	test_offset_index();
	test_time_index();
	test_pending_runs();
	return tap_done();
}
