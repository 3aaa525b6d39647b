/* test_kp_bgio.c -- the background file thread: order, errors, coalescing, writeback and dropping, stop */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_bgio.h"
#include "logtest.h"
#include "tap.h"

/* The file's text, or "" when it cannot be read. */
static const char *
slurp(const char *path)
{
	static char buf[256];
	ssize_t n = -1;
	int fd;

	if ((fd = open(path, O_RDONLY)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_inline(const char *dir)
{
	char p[PATH_MAX + 16], got[PATH_MAX];

	snprintf(p, sizeof(p), "%s/inline", dir);
	ok(kp_bgio_write_file(p, "one\n", 4) == 0 &&
	    strcmp(slurp(p), "one\n") == 0,
	    "without the thread a write happens before it returns");
	snprintf(p, sizeof(p), "%s/no/such/dir", dir);
	ok(kp_bgio_write_file(p, "x", 1) == -1 && errno == ENOENT,
	    "and its failure is the caller's");
	ok(kp_bgio_failed(got, sizeof(got)) == 0,
	    "nothing queued failed");
}

static void
test_queued(const char *dir)
{
	char p[PATH_MAX + 16], bad[PATH_MAX + 16], got[PATH_MAX + 16];
	char text[32];
	int n, fails = 0;

	snprintf(p, sizeof(p), "%s/ckpt", dir);
	for (int i = 0; i < 200; i++) {
		n = snprintf(text, sizeof(text), "n=%d\n", i);
		if (kp_bgio_write_file(p, text, (size_t)n) != 0)
			fails++;
	}
	kp_bgio_drain();
	ok(fails == 0 && strcmp(slurp(p), "n=199\n") == 0,
	    "200 queued writes of one file: the last one stays");

	snprintf(bad, sizeof(bad), "%s/gone/ckpt", dir);
	ok(kp_bgio_write_file(bad, "x", 1) == 0, "a doomed write queues");
	kp_bgio_drain();
	ok(kp_bgio_failed(got, sizeof(got)) == ENOENT &&
	    strcmp(got, bad) == 0, "its failure is reported with its path");
	ok(kp_bgio_failed(got, sizeof(got)) == 0, "once");
}

/*
 * Behind a slow write, later writes of one file take the place of the
 * one still waiting: the queue holds one per path, the last data lands.
 */
static void
test_coalesce(const char *dir)
{
	const size_t big = (size_t)32 << 20;
	char pa[PATH_MAX + 16], pb[PATH_MAX + 16], pbig[PATH_MAX + 16];
	char text[32], want[32];
	size_t most = 0, n;
	char *data;
	int fails = 0;

	snprintf(pa, sizeof(pa), "%s/a", dir);
	snprintf(pb, sizeof(pb), "%s/b", dir);
	snprintf(pbig, sizeof(pbig), "%s/big", dir);
	if ((data = calloc(1, big)) == NULL ||
	    kp_bgio_write_file(pbig, data, big) != 0)
		fails++;
	free(data);
	for (int i = 0; i < 100; i++) {
		n = (size_t)snprintf(text, sizeof(text), "%c=%d\n",
		    i % 2 ? 'b' : 'a', i);
		if (kp_bgio_write_file(i % 2 ? pb : pa, text, n) != 0)
			fails++;
		if (kp_bgio_pending() > most)
			most = kp_bgio_pending();
	}
	ok(fails == 0 && most <= 3,
	    "100 writes of two files behind a 32 MiB one: at most 3 queued "
	    "(%zu)", most);
	kp_bgio_drain();
	ok(kp_bgio_pending() == 0, "none after drain");
	snprintf(want, sizeof(want), "a=98\n");
	ok(strcmp(slurp(pa), want) == 0, "the first file has its last data");
	snprintf(want, sizeof(want), "b=99\n");
	ok(strcmp(slurp(pb), want) == 0, "the second file has its last data");
	unlink(pbig);
}

/* Writeback then drop through the thread, the caller's fd closed at once. */
static void
test_drop(const char *dir)
{
	const int64_t len = (int64_t)8 << 20;
	char p[PATH_MAX + 16], chunk[65536];
	size_t res;
	int fd, bad = 0;

	snprintf(p, sizeof(p), "%s/seg", dir);
	memset(chunk, 'k', sizeof(chunk));
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	for (int64_t off = 0; off < len; off += (int64_t)sizeof(chunk))
		if (pwrite(fd, chunk, sizeof(chunk), (off_t)off) !=
		    (ssize_t)sizeof(chunk))
			bad++;
	ok(fd >= 0 && bad == 0, "8 MiB written");
	kp_bgio_writeback(fd, 0, len);
	kp_bgio_drop(fd, 0, len);
	close(fd);		/* the thread has its own descriptor */
	kp_bgio_drain();
	fd = open(p, O_RDONLY);
	res = lt_resident(fd, 0, len);
	/* pages still under writeback may stay: most must be gone */
	ok(fd >= 0 && res < (size_t)(len / 4096 / 4),
	    "the thread wrote the pages back and dropped them (%zu of %lld "
	    "stay)", res, (long long)(len / 4096));
	close(fd);
}

static void
test_stop(const char *dir)
{
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s/last", dir);
	ok(kp_bgio_write_file(p, "queued\n", 7) == 0, "one more queued");
	kp_bgio_stop();
	ok(strcmp(slurp(p), "queued\n") == 0, "stop finishes what is queued");
	ok(kp_bgio_write_file(p, "after\n", 6) == 0 &&
	    strcmp(slurp(p), "after\n") == 0,
	    "after stop writes happen inline again");
	kp_bgio_stop();
	ok(1, "stopping twice is harmless");
}

int
main(void)
{
	char dir[PATH_MAX];

	lt_tmpdir(dir, sizeof(dir), "bgio");
	test_inline(dir);
	ok(kp_bgio_start() == 0 && kp_bgio_start() == 0,
	    "the thread starts (twice: once)");
	test_queued(dir);
	test_coalesce(dir);
	test_drop(dir);
	test_stop(dir);
	lt_rmrf(dir);
	return tap_done();
}
