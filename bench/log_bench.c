/* log_bench.c -- partition log throughput: append under three flush policies, read via sendfile vs pread+write */
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_log.h"

#define RECORDS		1000
#define VALUE_SIZE	100
#define READ_CHUNK	(1 << 20)

static int reps = 7;	/* each timing is the best of this many: a busy host */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
make_batch(struct kp_buf *out)
{
	struct kp_batch_builder b;
	char val[VALUE_SIZE];

	memset(val, 'x', sizeof(val));
	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	for (int i = 0; i < RECORDS; i++)
		if (kp_batch_builder_add(&b, 1700000000000LL + i, NULL, -1,
		    val, sizeof(val), NULL, 0) < 0)
			errx(EX_SOFTWARE, "builder");
	if (kp_batch_builder_finish(&b, out) < 0)
		errx(EX_SOFTWARE, "builder finish");
	kp_batch_builder_release(&b);
}

static void
rmrf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		warnx("could not remove %s", dir);
}

static double
write_pass(int fd, const struct kp_buf *proto, int batches)
{
	double t0 = now_s();

	for (int i = 0; i < batches; i++)
		for (size_t done = 0; done < proto->len;) {
			ssize_t n = write(fd, proto->data + done,
			    proto->len - done);

			if (n <= 0)
				err(EX_IOERR, "write");
			done += (size_t)n;
		}
	return now_s() - t0;
}

/*
 * The buffered-write limit as issue 3 and research/baselines.md define
 * it (fio --rw=write --bs=1M into a new file, just after a previous one
 * was deleted, ~7.9 GB/s there): the same number of bytes in 1 MiB
 * write(2)s, best of reps. MB/s.
 */
static double
write_limit_1m(const char *dir, size_t bytes)
{
	char path[PATH_MAX + 16];
	struct kp_buf big;
	double best = 0;

	snprintf(path, sizeof(path), "%s/limit-1m", dir);
	kp_buf_init(&big);
	if (kp_buf_extend(&big, 1 << 20) == NULL)
		errx(EX_OSERR, "out of memory");
	memset(big.data, 'x', big.len);
	for (int k = 0; k < reps; k++) {
		int fd;
		double dt;

		unlink(path);
		if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644)) < 0)
			err(EX_CANTCREAT, "%s", path);
		dt = write_pass(fd, &big, (int)((bytes + big.len - 1) /
		    big.len));
		if (bytes / dt / 1e6 > best)
			best = (double)bytes / dt / 1e6;
		close(fd);
	}
	unlink(path);
	kp_buf_release(&big);
	printf("limit  write(2) 1 MiB, new file %9.1f MB/s  (the issue's buffered-write limit, best of %d)\n",
	    best, reps);
	return best;
}

/*
 * What append itself does, for comparison: write(2) of batch-sized
 * chunks, once extending a new file (as the log does) and once over the
 * same, now warm, pages. Returns warm MB/s.
 */
static double
write_limit(const char *dir, const struct kp_buf *proto, int batches,
    double *newfile)
{
	char path[PATH_MAX + 16];
	double bytes = (double)batches * (double)proto->len, dt, cold = 0;
	double warm = 0;
	int fd = -1;

	snprintf(path, sizeof(path), "%s/limit", dir);
	for (int k = 0; k < reps; k++) {	/* a ceiling: take the best */
		if (fd >= 0)
			close(fd);
		if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644)) < 0)
			err(EX_CANTCREAT, "%s", path);
		dt = write_pass(fd, proto, batches);
		if (bytes / dt / 1e6 > cold)
			cold = bytes / dt / 1e6;
	}
	printf("limit  write(2), new file       %9.1f MB/s  (%zu-byte writes, best of %d)\n",
	    cold, proto->len, reps);
	*newfile = cold;
	for (int k = 0; k < reps; k++) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			err(EX_IOERR, "lseek");
		dt = write_pass(fd, proto, batches);
		if (bytes / dt / 1e6 > warm)
			warm = bytes / dt / 1e6;
	}
	printf("limit  write(2), warm file      %9.1f MB/s  (best of %d)\n",
	    warm, reps);
	close(fd);
	unlink(path);
	return warm;
}

/*
 * Append `batches` times into a new log, `reps` times over; print the
 * best. Returns the last log when keep, and *mbs the best rate. The same
 * buffer goes in every time, no copy: append rewrites only baseOffset and
 * the epoch, outside the CRC, so it stays valid; copying it in is the
 * network's cost, not the log's.
 */
static struct kp_log *
append_run(const char *label, const char *dir, int64_t flush_messages,
    int batches, struct kp_buf *proto, int keep, int raw, double *mbs)
{
	struct kp_logconf c;
	struct kp_log *l = NULL;
	uint8_t *buf = proto->data;
	double best = 0;

	kp_logconf_defaults(&c);
	c.flush_messages = flush_messages;
	for (int r = 0; r < reps; r++) {
		double t0, dt;

		if (l != NULL) {
			kp_log_close(l);
			rmrf(dir);
		}
		if ((l = kp_log_open(dir, &c, KP_LOG_CREATE, 0, NULL)) == NULL)
			err(EX_IOERR, "%s", dir);
		t0 = now_s();
		for (int i = 0; i < batches; i++) {
			int e;

			if (raw)
				kp_batch_set_base_offset(buf,
				    kp_log_end_offset(l));
			e = raw ? kp_log_append_raw(l, buf, proto->len, 0,
			    NULL) : kp_log_append(l, buf, proto->len, 0, 0,
			    NULL);
			if (e != 0)
				errx(EX_IOERR, "append: %s",
				    kp_kerr_name((int16_t)e));
		}
		dt = now_s() - t0;
		if (r == 0 || dt < best)
			best = dt;
	}
	printf("append %-24s %10.0f records/s %9.1f MB/s  (%d batches of %d x %dB, %.3fs, best of %d)\n",
	    label, (double)batches * RECORDS / best,
	    (double)batches * (double)proto->len / best / 1e6, batches, RECORDS,
	    VALUE_SIZE, best, reps);
	if (mbs != NULL)
		*mbs = (double)batches * (double)proto->len / best / 1e6;
	if (!keep) {
		kp_log_close(l);
		rmrf(dir);
		return NULL;
	}
	return l;
}

static void *
drain(void *arg)
{
	int fd = *(int *)arg;
	char *b = malloc(READ_CHUNK);

	while (read(fd, b, READ_CHUNK) > 0)
		;
	free(b);
	return NULL;
}

static void
read_run(struct kp_log *l, int use_sendfile)
{
	int64_t off = kp_log_start_offset(l), end = kp_log_end_offset(l);
	int64_t bytes = 0;
	char *buf = malloc(READ_CHUNK);
	pthread_t th;
	int sv[2];
	double t0, dt;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		err(EX_OSERR, "socketpair");
	pthread_create(&th, NULL, drain, &sv[1]);
	t0 = now_s();
	while (off < end) {
		struct kp_log_slice sl;
		size_t done = 0;

		if (kp_log_read(l, off, READ_CHUNK, end, &sl) != 0 || sl.len == 0)
			errx(EX_SOFTWARE, "read at %" PRId64, off);
		while (done < sl.len) {
			ssize_t n;

			if (use_sendfile) {
				off_t p = sl.pos + (off_t)done;

				n = sendfile(sv[0], sl.fd, &p, sl.len - done);
			} else {
				n = pread(sl.fd, buf, sl.len - done,
				    sl.pos + (off_t)done);
				if (n > 0) {
					ssize_t w = 0;

					while (w < n) {
						ssize_t k = write(sv[0], buf + w,
						    (size_t)(n - w));

						if (k <= 0)
							err(EX_IOERR, "write");
						w += k;
					}
				}
			}
			if (n <= 0)
				err(EX_IOERR, "send");
			done += (size_t)n;
		}
		bytes += (int64_t)sl.len;
		off = sl.next_offset;
	}
	dt = now_s() - t0;
	shutdown(sv[0], SHUT_WR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	free(buf);
	printf("read   %-24s %10.0f records/s %9.1f MB/s  (%.2fs, 1 MiB reads)\n",
	    use_sendfile ? "sendfile" : "pread+write",
	    (double)(end - kp_log_start_offset(l)) / dt, (double)bytes / dt / 1e6,
	    dt);
}

static void
usage(void)
{
	fprintf(stderr, "usage: log_bench [-a] [-b batches] [-d dir] [-r repeats]\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR");
	struct kp_buf proto;
	struct kp_log *l;
	char dir[PATH_MAX], d[PATH_MAX + 16];
	int batches = 1000, ch, only_append = 0;
	int64_t per_mib;
	double limit, limit_new, limit_1m, nf;

	while ((ch = getopt(argc, argv, "ab:d:r:")) != -1) {
		switch (ch) {
		case 'a':	/* just the no-flush append, for a profiler */
			only_append = 1;
			break;
		case 'b':
			batches = atoi(optarg);
			if (batches < 1)
				usage();
			break;
		case 'd':
			base = optarg;
			break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1)
				usage();
			break;
		default:
			usage();
		}
	}
	snprintf(dir, sizeof(dir), "%s/kp-bench-XXXXXX",
	    base && *base ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		err(EX_CANTCREAT, "mkdtemp");
	kp_buf_init(&proto);
	make_batch(&proto);
	per_mib = (int64_t)((1 << 20) / ((double)proto.len / RECORDS));
	printf("batch: %d records of %d bytes = %zu bytes on disk\n", RECORDS,
	    VALUE_SIZE, proto.len);

	if (only_append) {
		snprintf(d, sizeof(d), "%s/nf-0", dir);
		append_run("no flush", d, INT64_MAX, batches, &proto, 0, 0,
		    NULL);
		kp_buf_release(&proto);
		rmrf(dir);
		return 0;
	}
	limit_1m = write_limit_1m(dir, (size_t)batches * proto.len);
	limit = write_limit(dir, &proto, batches, &limit_new);
	snprintf(d, sizeof(d), "%s/nf-0", dir);
	l = append_run("no flush", d, INT64_MAX, batches, &proto, 1, 0, &nf);
	read_run(l, 1);
	read_run(l, 0);
	read_run(l, 1);
	read_run(l, 0);
	kp_log_close(l);
	rmrf(d);
	snprintf(d, sizeof(d), "%s/mb-0", dir);
	append_run("flush every 1 MiB", d, per_mib, batches, &proto, 0, 0,
	    NULL);
	snprintf(d, sizeof(d), "%s/fb-0", dir);
	append_run("flush every batch", d, RECORDS, batches / 4 > 0 ?
	    batches / 4 : 1, &proto, 0, 0, NULL);
	snprintf(d, sizeof(d), "%s/raw-0", dir);
	append_run("raw, no flush (CRC only)", d, INT64_MAX, batches, &proto, 0, 1,
	    NULL);
	{
		double t0 = 0;
		int e = 0;

		for (int r = 0; r < reps; r++) {
			double t1 = now_s();

			for (int i = 0; i < batches; i++)
				e |= kp_batch_validate(proto.data, proto.len,
				    64u << 20);
			t1 = now_s() - t1;
			if (r == 0 || t1 < t0)
				t0 = t1;
		}
		printf("cpu    kp_batch_validate only %10.0f records/s %9.1f MB/s%s\n",
		    (double)batches * RECORDS / t0,
		    (double)batches * (double)proto.len / t0 / 1e6,
		    e ? " (failed!)" : "");
	}
	printf("ratio  buffered-write limit (1 MiB, new file) / append no flush = %.2fx  (issue 3 bar: <= 2x)\n",
	    limit_1m / nf);
	printf("ratio  warm write(2) limit / append no flush = %.2fx\n",
	    limit / nf);
	printf("ratio  new-file write(2) limit / append no flush = %.2fx\n",
	    limit_new / nf);
	kp_buf_release(&proto);
	rmrf(dir);
	return 0;
}
