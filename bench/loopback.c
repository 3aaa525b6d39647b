/* loopback.c -- loopback TCP bandwidth of one stream and the round trip of a small message */
#include <err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static size_t chunk = 128 * 1024;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads until the writer closes; the receiver is the other half of the
 * cost, so it runs concurrently like a real peer would. */
static void *
reader(void *arg)
{
	int fd = *(int *)arg;
	char *buf = malloc(chunk);
	ssize_t n;

	if (buf == NULL)
		err(EX_OSERR, "malloc");
	while ((n = read(fd, buf, chunk)) > 0)
		;
	if (n < 0)
		err(EX_IOERR, "read");
	free(buf);
	return NULL;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Echoes fixed-size messages back until the peer closes. */
static void *
echo(void *arg)
{
	int fd = *(int *)arg;
	char buf[100];
	size_t got;
	ssize_t n;

	for (;;) {
		for (got = 0; got < sizeof(buf); got += (size_t)n)
			if ((n = read(fd, buf + got, sizeof(buf) - got)) <= 0)
				return NULL;
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return NULL;
	}
}

/*
 * Ping-pong of 100-byte messages with TCP_NODELAY, one at a time: the
 * floor under any request/response latency on this machine.  Prints the
 * p50, p99 and p99.9 round trip in microseconds.
 */
static int
rtt(int cfd, int afd, long long count)
{
	char buf[100];
	double *v, t;
	pthread_t th;
	size_t got;
	ssize_t n;
	int one = 1;

	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((v = calloc((size_t)count, sizeof(*v))) == NULL)
		err(EX_OSERR, "calloc");
	if (pthread_create(&th, NULL, echo, &afd) != 0)
		errx(EX_OSERR, "pthread_create");
	memset(buf, 'p', sizeof(buf));
	for (long long i = 0; i < count; i++) {
		t = now();
		if (write(cfd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			err(EX_IOERR, "write");
		for (got = 0; got < sizeof(buf); got += (size_t)n)
			if ((n = read(cfd, buf + got, sizeof(buf) - got)) <= 0)
				err(EX_IOERR, "read");
		v[i] = (now() - t) * 1e6;
	}
	close(cfd);
	pthread_join(th, NULL);
	qsort(v, (size_t)count, sizeof(*v), cmpd);
	printf("%.1f %.1f %.1f\n", v[(size_t)(0.50 * (double)(count - 1))],
	    v[(size_t)(0.99 * (double)(count - 1))],
	    v[(size_t)(0.999 * (double)(count - 1))]);
	free(v);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loopback [MiB [write-KiB]]\n"
	    "       loopback -r count\n");
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	long long mib = 4096, kib = 128, count = 0;
	const char *errstr = NULL;
	int lfd, cfd, afd;
	pthread_t th;
	char *buf;
	size_t left, off;
	ssize_t n;
	double t0, t1;

	if (argc > 1 && strcmp(argv[1], "-r") == 0) {
		if (argc != 3)
			usage();
		if ((count = strtonum(argv[2], 1, 10000000, &errstr)) == 0)
			errx(EX_USAGE, "count %s: %s", argv[2], errstr);
	} else if (argc > 3)
		usage();
	else if (argc > 1 &&
	    (mib = strtonum(argv[1], 1, 1 << 20, &errstr)) == 0)
		errx(EX_USAGE, "MiB %s: %s", argv[1], errstr);
	if (count == 0 && argc > 2 && (kib = strtonum(argv[2], 1, 1 << 16, &errstr)) == 0)
		errx(EX_USAGE, "KiB %s: %s", argv[2], errstr);
	chunk = (size_t)kib * 1024;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) == -1)
		err(EX_OSERR, "listen 127.0.0.1:0");
	if ((cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		err(EX_OSERR, "connect");
	if ((afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		err(EX_OSERR, "accept");
	if (count > 0)
		return rtt(cfd, afd, count);
	if (pthread_create(&th, NULL, reader, &afd) != 0)
		errx(EX_OSERR, "pthread_create");
	if ((buf = malloc(chunk)) == NULL)
		err(EX_OSERR, "malloc");
	memset(buf, 'x', chunk);

	t0 = now();
	for (left = (size_t)mib << 20; left > 0; left -= off) {
		off = left < chunk ? left : chunk;
		for (size_t w = 0; w < off; w += (size_t)n)
			if ((n = write(cfd, buf + w, off - w)) <= 0)
				err(EX_IOERR, "write");
	}
	close(cfd);
	pthread_join(th, NULL);
	t1 = now();
	/* GB/s in 10^9 bytes, like iperf3. */
	printf("%.2f\n", (double)((size_t)mib << 20) / (t1 - t0) / 1e9);
	free(buf);
	close(afd);
	close(lfd);
	return 0;
}
