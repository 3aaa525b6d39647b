/* test_kp_log_fault.c -- crash recovery: kill -9 mid-append, torn and corrupted tails, disk full */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "kp_log.h"
#include "logtest.h"
#include "tap.h"

#define NOW	1700000000000LL

/* keys are "k<offset>": check each record sits where it was written */
static void
check_key(const struct kp_record *r, void *arg)
{
	int *bad = arg;
	char k[32];
	int n = snprintf(k, sizeof(k), "k%lld", (long long)r->offset);

	if (r->key.len != n || memcmp(r->key.ptr, k, (size_t)n) != 0)
		(*bad)++;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The child: append forever, report each acknowledged log end. */
static void
child_append(const char *dir, int wfd, int flush_every)
{
	struct kp_logconf c;
	struct kp_log *l;

	kp_logconf_defaults(&c);
	c.segment_bytes = 64 * 1024;
	c.index_interval_bytes = 1024;
	c.retention_bytes = 512 * 1024;
	if (flush_every)
		c.flush_messages = 50;
	if ((l = kp_log_open(dir, &c, KP_LOG_CREATE, NOW, NULL)) == NULL)
		_exit(2);
	for (int i = 0;; i++) {
		int64_t end = kp_log_end_offset(l);
		int n = 1 + i % 20;

		if (lt_append(l, n, (int)end, NOW + i, 30 + i % 200, NOW,
		    NULL) != 0)
			_exit(3);
		end = kp_log_end_offset(l);
		if (write(wfd, &end, sizeof(end)) != sizeof(end))
			_exit(4);
		if (i % 37 == 0)
			kp_log_tick(l, NOW + i, 0);
	}
}

static void
test_kill9(void)
{
	char dir[PATH_MAX];
	int bad_rounds = 0, lost = 0, noncontig = 0, badkeys = 0, crc = 0;
	int64_t prev_end = 0;

	lt_tmpdir(dir, sizeof(dir), "kill");
	srand(12345);
	for (int round = 0; round < 20; round++) {
		struct kp_log_recovery rec;
		struct kp_logconf c;
		struct lt_scan s;
		struct kp_log *l;
		int64_t acked = -1, v;
		int pfd[2], st, kb = 0;
		pid_t pid;

		if (pipe(pfd) < 0)
			break;
		if ((pid = fork()) == 0) {
			close(pfd[0]);
			child_append(dir, pfd[1], round % 2);
		}
		close(pfd[1]);
		sleep_ms(5 + rand() % 40);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		while (read(pfd[0], &v, sizeof(v)) == sizeof(v))
			acked = v;
		close(pfd[0]);
		if (!WIFSIGNALED(st))
			bad_rounds++;
		kp_logconf_defaults(&c);
		c.segment_bytes = 64 * 1024;
		l = kp_log_open(dir, &c, 0, NOW, &rec);
		if (l == NULL) {
			bad_rounds++;
			continue;
		}
		if (kp_log_end_offset(l) < acked || kp_log_end_offset(l) < prev_end)
			lost++;
		lt_scan(l, 7000, &s, check_key, &kb);
		if (s.err || !s.contiguous ||
		    (s.records > 0 && s.last != kp_log_end_offset(l) - 1))
			noncontig++;
		if (!s.crc_ok)
			crc++;
		badkeys += kb;
		prev_end = kp_log_end_offset(l);
		kp_log_close(l);
	}
	is_int(bad_rounds, 0, "20 kill -9 rounds, each log reopens");
	is_int(lost, 0, "no acknowledged record lost (end %lld)", (long long)prev_end);
	is_int(noncontig, 0, "offsets contiguous from log start to log end every time");
	is_int(crc, 0, "no corrupt batch served");
	is_int(badkeys, 0, "every record at the offset it was written at");
	ok(prev_end > 100, "the children did append (%lld)", (long long)prev_end);
	lt_rmrf(dir);
}

/* Build a one-segment log of 40 batches; batch end positions out. */
static void
build(const char *dir, int64_t *ends, int64_t *recs, int nb)
{
	struct kp_logconf c;
	struct kp_log *l;

	kp_logconf_defaults(&c);
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int i = 0; i < nb; i++) {
		lt_append(l, 1 + i % 7, (int)kp_log_end_offset(l), NOW + i,
		    20 + i * 3, NOW, NULL);
		ends[i] = kp_log_size(l);
		recs[i] = kp_log_end_offset(l);
	}
	kp_log_close(l);
}

static int64_t
expect_records(const int64_t *ends, const int64_t *recs, int nb, int64_t pos)
{
	int64_t r = 0;

	for (int i = 0; i < nb && ends[i] <= pos; i++)
		r = recs[i];
	return r;
}

/* Reopen as after a crash (no checkpoint): records and log end. */
static int
reopen_check(const char *dir, int64_t want, int64_t want_size)
{
	char p[PATH_MAX + 32];
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	int kb = 0, good;
	struct stat st;

	snprintf(p, sizeof(p), "%s/kpipe.checkpoint", dir);
	unlink(p);
	kp_logconf_defaults(&c);
	if ((l = kp_log_open(dir, &c, 0, NOW, NULL)) == NULL)
		return 0;
	lt_scan(l, 3000, &s, check_key, &kb);
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	good = kp_log_end_offset(l) == want && !s.err && s.crc_ok &&
	    s.contiguous && kb == 0 && (s.records == want) &&
	    stat(p, &st) == 0 && st.st_size == want_size &&
	    kp_log_size(l) == want_size;
	/* and the log takes appends again at the right offset */
	if (good && lt_append(l, 2, (int)want, NOW, 10, NOW, NULL) != 0)
		good = 0;
	good = good && kp_log_end_offset(l) == want + 2;
	kp_log_close(l);
	return good;
}

static void
test_torn(void)
{
	enum { NB = 40 };
	int64_t ends[NB], recs[NB];
	char dir[PATH_MAX], p[PATH_MAX + 32];
	uint8_t *orig;
	size_t olen;
	int fails[4] = { 0 };
	FILE *f;

	lt_tmpdir(dir, sizeof(dir), "torn");
	build(dir, ends, recs, NB);
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	olen = (size_t)ends[NB - 1];
	orig = malloc(olen);
	f = fopen(p, "rb");
	ok(f != NULL && fread(orig, 1, olen, f) == olen, "read the pristine segment");
	fclose(f);
	srand(777);
	for (int round = 0; round < 25; round++) {
		int64_t pos = rand() % (int64_t)olen;
		int64_t want = expect_records(ends, recs, NB, pos);
		int64_t wsize = 0;
		int fd;

		for (int i = 0; i < NB && ends[i] <= pos; i++)
			wsize = ends[i];
		/* 1. truncate at pos */
		fd = open(p, O_WRONLY | O_TRUNC);
		if (write(fd, orig, (size_t)pos) != pos)
			fails[0]++;
		close(fd);
		if (!reopen_check(dir, want, wsize))
			fails[0]++;
		/* 2. whole log plus garbage */
		fd = open(p, O_WRONLY | O_TRUNC);
		if (write(fd, orig, olen) != (ssize_t)olen)
			fails[1]++;
		for (int i = 0; i < 1 + rand() % 300; i++) {
			uint8_t g = (uint8_t)rand();

			if (write(fd, &g, 1) != 1)
				fails[1]++;
		}
		close(fd);
		if (!reopen_check(dir, recs[NB - 1], (int64_t)olen))
			fails[1]++;
		/* 3. flip one bit inside the CRC-covered part of a batch */
		{
			uint8_t *cp = malloc(olen);
			int64_t bstart = 0;
			int bi = 0;

			memcpy(cp, orig, olen);
			for (bi = 0; bi < NB && ends[bi] <= pos; bi++)
				bstart = ends[bi];
			if (pos - bstart < 21)
				pos = bstart + 21;	/* past baseOffset..crc */
			if (pos >= ends[bi])
				pos = ends[bi] - 1;
			cp[pos] ^= (uint8_t)(1u << (rand() % 8));
			fd = open(p, O_WRONLY | O_TRUNC);
			if (write(fd, cp, olen) != (ssize_t)olen)
				fails[2]++;
			close(fd);
			free(cp);
			if (!reopen_check(dir, bi > 0 ? recs[bi - 1] : 0,
			    bstart))
				fails[2]++;
		}
		/* 4. zero-fill from pos to the end */
		{
			uint8_t *cp = calloc(1, olen);

			pos = rand() % (int64_t)olen;
			memcpy(cp, orig, (size_t)pos);
			fd = open(p, O_WRONLY | O_TRUNC);
			if (write(fd, cp, olen) != (ssize_t)olen)
				fails[3]++;
			close(fd);
			free(cp);
			want = expect_records(ends, recs, NB, pos);
			wsize = 0;
			for (int i = 0; i < NB && ends[i] <= pos; i++)
				wsize = ends[i];
			if (!reopen_check(dir, want, wsize))
				fails[3]++;
		}
	}
	is_int(fails[0], 0, "truncated at 25 random positions: exactly the whole batches before stay");
	is_int(fails[1], 0, "garbage after the log: cut off, every batch stays");
	is_int(fails[2], 0, "a flipped bit: the log ends before the damaged batch");
	is_int(fails[3], 0, "zero-filled tail: exactly the valid prefix stays");
	free(orig);
	lt_rmrf(dir);
}

/* A later segment after a torn one would leave a hole: it goes too. */
static void
test_torn_middle(void)
{
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	char dir[PATH_MAX], p[PATH_MAX + 32];
	int segs;

	lt_tmpdir(dir, sizeof(dir), "mid");
	kp_logconf_defaults(&c);
	c.segment_bytes = 2048;
	l = kp_log_open(dir, &c, 0, NOW, NULL);
	for (int i = 0; i < 40; i++)
		lt_append(l, 3, (int)kp_log_end_offset(l), NOW, 40, NOW, NULL);
	segs = kp_log_segment_count(l);
	kp_log_close(l);
	snprintf(p, sizeof(p), "%s/kpipe.checkpoint", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	ok(truncate(p, 1000) == 0, "tear the first of %d segments", segs);
	l = kp_log_open(dir, &c, 0, NOW, &rec);
	ok(l != NULL && rec.segments_dropped == segs - 1 && rec.truncated_at >= 0,
	    "recovery drops the later segments (%d dropped)", rec.segments_dropped);
	ok(!rec.clean && rec.truncated_bytes > 0, "and reports the bytes cut");
	lt_scan(l, 1 << 20, &s, NULL, NULL);
	ok(!s.err && s.contiguous && s.last + 1 == kp_log_end_offset(l),
	    "what is left is a contiguous prefix (end %lld)",
	    (long long)kp_log_end_offset(l));
	kp_log_close(l);
	lt_rmrf(dir);
}

/* A segment of pure noise: recovery keeps nothing and never crashes. */
static void
test_noise(void)
{
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct kp_log *l;
	char dir[PATH_MAX], p[PATH_MAX + 32];
	int bad = 0;

	kp_logconf_defaults(&c);
	lt_tmpdir(dir, sizeof(dir), "noise");
	snprintf(p, sizeof(p), "%s/%020d.log", dir, 0);
	srand(99);
	for (int round = 0; round < 20; round++) {
		FILE *f = fopen(p, "wb");
		int n = rand() % 5000;

		for (int i = 0; i < n; i++)
			fputc(rand() & 0xff, f);
		fclose(f);
		l = kp_log_open(dir, &c, 0, NOW, &rec);
		if (l == NULL || kp_log_end_offset(l) != 0 || kp_log_size(l) != 0 ||
		    rec.truncated_bytes != n)
			bad++;
		kp_log_close(l);
	}
	is_int(bad, 0, "20 noise segments: each recovers to an empty log");
	lt_rmrf(dir);
}

static void
test_disk_full(void)
{
	char dir[PATH_MAX], fill[PATH_MAX + 16], logd[PATH_MAX + 16];
	struct kp_log_append_info info;
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	int64_t end_ok = 0;
	int e = 0, errs = 0, fd, mounted;

	lt_tmpdir(dir, sizeof(dir), "full");
	mounted = mount("kp-full", dir, "tmpfs", 0, "size=2m") == 0;
	ok(mounted, "mount a 2 MiB tmpfs (needs root: %s)", mounted ? "ok" : strerror(errno));
	if (!mounted) {
		lt_rmrf(dir);
		return;
	}
	snprintf(fill, sizeof(fill), "%s/filler", dir);
	snprintf(logd, sizeof(logd), "%s/t-0", dir);
	kp_logconf_defaults(&c);
	c.segment_bytes = 256 * 1024;
	l = kp_log_open(logd, &c, KP_LOG_CREATE, NOW, NULL);
	ok(l != NULL, "log on the tmpfs");
	/* take 1 MiB so freeing it later makes room */
	fd = open(fill, O_CREAT | O_WRONLY, 0644);
	{
		static char z[65536];

		for (int i = 0; i < 16; i++)
			if (write(fd, z, sizeof(z)) != sizeof(z))
				break;
	}
	close(fd);
	for (int i = 0; i < 2000; i++) {
		e = lt_append(l, 10, (int)kp_log_end_offset(l), NOW, 1000, NOW,
		    &info);
		if (e != 0)
			break;
		end_ok = info.last_offset + 1;
	}
	ok(e == KP_KAFKA_STORAGE_ERROR && errno == ENOSPC,
	    "the disk fills: KAFKA_STORAGE_ERROR with ENOSPC (%d)", e);
	is_int(kp_log_end_offset(l), end_ok, "log end is the last acknowledged append");
	for (int i = 0; i < 5; i++)
		if (lt_append(l, 10, (int)kp_log_end_offset(l), NOW, 1000, NOW,
		    NULL) != KP_KAFKA_STORAGE_ERROR)
			errs++;
	is_int(errs, 0, "appends keep failing while full");
	lt_scan(l, 1 << 20, &s, check_key, &errs);
	ok(!s.err && s.contiguous && s.crc_ok && s.last + 1 == end_ok && errs == 0,
	    "the log stays consistent and readable");
	ok(unlink(fill) == 0, "free space");
	is_int(lt_append(l, 10, (int)kp_log_end_offset(l), NOW, 1000, NOW, &info),
	    KP_NONE, "appends work again");
	is_int(info.base_offset, end_ok, "at the right offset");
	kp_log_close(l);
	l = kp_log_open(logd, &c, 0, NOW, NULL);
	lt_scan(l, 1 << 20, &s, check_key, &errs);
	ok(l != NULL && !s.err && s.contiguous && s.crc_ok && errs == 0 &&
	    kp_log_end_offset(l) == end_ok + 10, "reopen after the episode is consistent");
	kp_log_close(l);
	ok(umount(dir) == 0, "unmount");
	lt_rmrf(dir);
}

static off_t
file_size(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/*
 * flush.messages=1 syncs the active segment's .log but not its indexes:
 * a power cut may leave them short or empty. Recovery must not care:
 * the process dies after its flushed appends, the index files are cut
 * to nothing (the worst a power cut leaves), and the reopened log still
 * has every record, finds offsets by time and knows its max timestamp.
 */
static void
test_lost_active_index(void)
{
	static const char *ix = "00000000000000000000.index";
	static const char *tix = "00000000000000000000.timeindex";
	char dir[PATH_MAX], p[PATH_MAX + 64];
	struct kp_log_recovery rec;
	struct kp_logconf c;
	struct lt_scan s;
	struct kp_log *l;
	int64_t off = -1, ts = -1;
	int st = 0, kb = 0;
	pid_t pid;

	lt_tmpdir(dir, sizeof(dir), "lostidx");
	kp_logconf_defaults(&c);
	c.index_interval_bytes = 512;
	c.flush_messages = 1;
	if ((pid = fork()) == 0) {
		if ((l = kp_log_open(dir, &c, KP_LOG_CREATE, NOW, NULL)) == NULL)
			_exit(2);
		for (int i = 0; i < 60; i++)
			if (lt_append(l, 5, i * 5, NOW + 1000 * i, 100, NOW,
			    NULL) != 0)
				_exit(3);
		_exit(0);	/* no close: a crash right after the flushes */
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child appended 60 flushed batches");
	ok(file_size(dir, ix) >= 8 * 50 && file_size(dir, tix) >= 12 * 50,
	    "index files written for readers (%lld, %lld bytes)",
	    (long long)file_size(dir, ix), (long long)file_size(dir, tix));
	snprintf(p, sizeof(p), "%s/%s", dir, ix);
	ok(truncate(p, 0) == 0, "lose the .index");
	snprintf(p, sizeof(p), "%s/%s", dir, tix);
	ok(truncate(p, 0) == 0, "lose the .timeindex");
	l = kp_log_open(dir, &c, 0, NOW, &rec);
	ok(l != NULL && kp_log_end_offset(l) == 300, "all 300 records back");
	if (l == NULL)
		return;
	lt_scan(l, 3000, &s, check_key, &kb);
	ok(!s.err && s.contiguous && s.crc_ok && s.records == 300 && kb == 0,
	    "every record readable where it was written");
	kp_log_offset_for_time(l, NOW + 30000, &off, &ts);
	ok(off == 150 && ts == NOW + 30000, "offset for time from the rebuilt "
	    "time index (%lld)", (long long)off);
	kp_log_max_timestamp(l, &ts, &off);
	ok(ts == NOW + 59004 && off == 299, "max timestamp and its offset");
	kp_log_close(l);
	ok(file_size(dir, ix) >= 8 * 50 && file_size(dir, tix) >= 12 * 50,
	    "indexes rebuilt on disk");
	lt_rmrf(dir);
}

int
main(void)
{
	test_torn();
	test_torn_middle();
	test_noise();
	test_kill9();
	test_disk_full();
	test_lost_active_index();
	return tap_done();
}
