/* disk_bw.c -- sequential write bandwidth: buffered, with a final fsync, and fdatasync per group */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: disk_bw buffered|fsync|dsync file MiB "
	    "[block-KiB]\n");
	exit(EX_USAGE);
}

/*
 * buffered: write(2) only, what the page cache absorbs;
 * fsync: the same plus one fsync at the end, bulk device bandwidth;
 * dsync: fdatasync after every block, the cost of flush-before-ack
 * with that group size.  Prints MB/s (10^6 B/s).
 */
int
main(int argc, char **argv)
{
	long long mib, kib = 1024;
	const char *errstr = NULL, *mode;
	int fd, dsync;
	char *buf;
	size_t bs, total, done;
	double t0, t1;

	if (argc < 4 || argc > 5)
		usage();
	mode = argv[1];
	if (strcmp(mode, "buffered") != 0 && strcmp(mode, "fsync") != 0 &&
	    strcmp(mode, "dsync") != 0)
		usage();
	dsync = strcmp(mode, "dsync") == 0;
	if ((mib = strtonum(argv[3], 1, 1 << 20, &errstr)) == 0)
		errx(EX_USAGE, "MiB %s: %s", argv[3], errstr);
	if (argc == 5 && (kib = strtonum(argv[4], 4, 1 << 20, &errstr)) == 0)
		errx(EX_USAGE, "block KiB %s: %s", argv[4], errstr);
	bs = (size_t)kib * 1024;
	total = (size_t)mib << 20;
	if ((buf = malloc(bs)) == NULL)
		err(EX_OSERR, "malloc");
	memset(buf, 'k', bs);
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		err(EX_CANTCREAT, "%s", argv[2]);

	t0 = now();
	for (done = 0; done < total; done += bs) {
		size_t n = total - done < bs ? total - done : bs;

		if (write(fd, buf, n) != (ssize_t)n)
			err(EX_IOERR, "%s: write", argv[2]);
		if (dsync && fdatasync(fd) == -1)
			err(EX_IOERR, "%s: fdatasync", argv[2]);
	}
	if (strcmp(mode, "fsync") == 0 && fsync(fd) == -1)
		err(EX_IOERR, "%s: fsync", argv[2]);
	t1 = now();
	if (close(fd) == -1)
		err(EX_IOERR, "%s: close", argv[2]);
	printf("%.0f\n", (double)total / (t1 - t0) / 1e6);
	free(buf);
	return 0;
}
