/* validate_bench.c -- kp_batch_validate on uncompressed batches of a few record shapes */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "kp_batch.h"
#include "kp_buf.h"

/*
 * Under valgrind --tool=callgrind, run with -n 1 -r 1 for a stable
 * instruction count per record (the wall clock on a busy host is not).
 */

struct shape {
	const char	*name;
	int		 records;
	ssize_t		 klen;		/* -1 null */
	ssize_t		 vlen;
	int		 headers;
	int		 mixed;		/* value 20-299 B, timestamps jitter */
};

static const struct shape shapes[] = {
	{ "null key, 100 B value (log_bench)", 1000, -1, 100, 0, 0 },
	{ "8 B key, 10 B value", 1000, 8, 10, 0, 0 },
	{ "16 B key, 200 B value, 2 headers", 1000, 16, 200, 2, 0 },
	{ "null key, 1000 B value", 500, -1, 1000, 0, 0 },
	{ "8 B key, 20-299 B value, jitter", 1000, 8, 0, 0, 1 },
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
make_batch(const struct shape *s, struct kp_buf *out)
{
	struct kp_batch_builder b;
	struct kp_record_header hd[2] = {
		{ { "trace-id", 8 }, { (const uint8_t *)"0123456789abcdef", 16 } },
		{ { "src", 3 }, { NULL, -1 } },
	};
	static char val[4096];

	memset(val, 'x', sizeof(val));
	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	srandom(1);
	for (int i = 0; i < s->records; i++) {
		/* mixed: one- and two-byte lengths and deltas interleaved */
		ssize_t vlen = s->mixed ? 20 + random() % 280 : s->vlen;
		int64_t ts = 1700000000000LL + (s->mixed ?
		    random() % 100 : i * 3);

		if (kp_batch_builder_add(&b, ts,
		    s->klen < 0 ? NULL : val, s->klen,
		    val, vlen, hd, (size_t)s->headers) < 0)
			errx(EX_SOFTWARE, "builder");
	}
	if (kp_batch_builder_finish(&b, out) < 0)
		errx(EX_SOFTWARE, "builder finish");
	kp_batch_builder_release(&b);
}

static void
usage(void)
{
	fprintf(stderr, "usage: validate_bench [-n batches] [-r reps] [-s shape]\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	long n = 20000, reps = 5, only = -1;
	int ch;

	while ((ch = getopt(argc, argv, "n:r:s:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'r':
			reps = strtol(optarg, NULL, 10);
			break;
		case 's':
			only = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (n < 1 || reps < 1)
		usage();
	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		struct kp_buf b;
		double best = 0;
		int e = 0;

		if (only >= 0 && (size_t)only != k)
			continue;
		kp_buf_init(&b);
		make_batch(&shapes[k], &b);
		for (long r = 0; r < reps; r++) {
			double t = now_s();

			for (long i = 0; i < n; i++)
				e |= kp_batch_validate(b.data, b.len, 1u << 20);
			t = now_s() - t;
			if (r == 0 || t < best)
				best = t;
		}
		printf("%-36s %6zu B/batch %12.0f records/s %8.1f MB/s%s\n",
		    shapes[k].name, b.len,
		    (double)n * shapes[k].records / best,
		    (double)n * (double)b.len / best / 1e6,
		    e ? " (failed!)" : "");
		kp_buf_release(&b);
	}
	return 0;
}
