/* memcpy_bw.c -- single-thread memcpy bandwidth, the ceiling for any copy of record bytes */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	long long mib = 256, passes = 8;
	const char *errstr = NULL;
	char *a, *b;
	size_t n;
	double t0, best = 0;

	if (argc > 1 && (mib = strtonum(argv[1], 1, 1 << 16, &errstr)) == 0)
		errx(EX_USAGE, "MiB %s: %s", argv[1], errstr);
	if (argc > 2 && (passes = strtonum(argv[2], 1, 1000, &errstr)) == 0)
		errx(EX_USAGE, "passes %s: %s", argv[2], errstr);
	n = (size_t)mib << 20;
	if ((a = malloc(n)) == NULL || (b = malloc(n)) == NULL)
		err(EX_OSERR, "malloc");
	/* Touch both buffers first: a first touch on this VM faults memory
	 * in from the host at well under memcpy speed. */
	memset(a, 1, n);
	memset(b, 2, n);
	for (long long i = 0; i < passes; i++) {
		double t;

		t0 = now();
		memcpy(i % 2 ? a : b, i % 2 ? b : a, n);
		t = (double)n / (now() - t0) / 1e9;
		if (t > best)
			best = t;
	}
	/* Keeps the copies observable so they are not optimised away. */
	if (a[n / 2] == 3)
		putchar('\0');
	printf("%.1f\n", best);
	free(a);
	free(b);
	return 0;
}
