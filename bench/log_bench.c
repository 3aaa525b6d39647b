/* log_bench.c -- partition log throughput: append under three flush policies, read via sendfile vs pread+write */
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
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

/* Append `batches` copies; print one line; returns the open log. */
static struct kp_log *
append_run(const char *label, const char *dir, int64_t flush_messages,
    int batches, const struct kp_buf *proto, int keep, int raw)
{
	struct kp_logconf c;
	struct kp_log *l;
	uint8_t *buf = malloc(proto->len);
	double t0, dt;

	kp_logconf_defaults(&c);
	c.flush_messages = flush_messages;
	if ((l = kp_log_open(dir, &c, KP_LOG_CREATE, 0, NULL)) == NULL)
		err(EX_IOERR, "%s", dir);
	t0 = now_s();
	for (int i = 0; i < batches; i++) {
		int e;

		memcpy(buf, proto->data, proto->len);
		if (raw)
			kp_batch_set_base_offset(buf, kp_log_end_offset(l));
		e = raw ? kp_log_append_raw(l, buf, proto->len, 0, NULL) :
		    kp_log_append(l, buf, proto->len, 0, 0, NULL);
		if (e != 0)
			errx(EX_IOERR, "append: %s", kp_kerr_name((int16_t)e));
	}
	dt = now_s() - t0;
	printf("append %-24s %10.0f records/s %9.1f MB/s  (%d batches of %d x %dB, %.2fs)\n",
	    label, (double)batches * RECORDS / dt,
	    (double)batches * (double)proto->len / dt / 1e6, batches, RECORDS,
	    VALUE_SIZE, dt);
	free(buf);
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
	fprintf(stderr, "usage: log_bench [-b batches] [-d dir]\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR");
	struct kp_buf proto;
	struct kp_log *l;
	char dir[PATH_MAX], d[PATH_MAX + 16];
	int batches = 1000, ch;
	int64_t per_mib;

	while ((ch = getopt(argc, argv, "b:d:")) != -1) {
		switch (ch) {
		case 'b':
			batches = atoi(optarg);
			if (batches < 1)
				usage();
			break;
		case 'd':
			base = optarg;
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

	snprintf(d, sizeof(d), "%s/nf-0", dir);
	l = append_run("no flush", d, INT64_MAX, batches, &proto, 1, 0);
	read_run(l, 1);
	read_run(l, 0);
	read_run(l, 1);
	read_run(l, 0);
	kp_log_close(l);
	rmrf(d);
	snprintf(d, sizeof(d), "%s/mb-0", dir);
	append_run("flush every 1 MiB", d, per_mib, batches, &proto, 0, 0);
	snprintf(d, sizeof(d), "%s/fb-0", dir);
	append_run("flush every batch", d, RECORDS, batches / 4 > 0 ?
	    batches / 4 : 1, &proto, 0, 0);
	snprintf(d, sizeof(d), "%s/raw-0", dir);
	append_run("raw, no flush (CRC only)", d, INT64_MAX, batches, &proto, 0, 1);
	{
		double t0 = now_s();
		int e = 0;

		for (int i = 0; i < batches; i++)
			e |= kp_batch_validate(proto.data, proto.len, 64u << 20);
		t0 = now_s() - t0;
		printf("cpu    kp_batch_validate only %10.0f records/s %9.1f MB/s%s\n",
		    (double)batches * RECORDS / t0,
		    (double)batches * (double)proto.len / t0 / 1e6,
		    e ? " (failed!)" : "");
	}
	kp_buf_release(&proto);
	rmrf(dir);
	return 0;
}
