/* redis_latency.c -- end-to-end latency of Redis Streams (XADD to XREAD BLOCK) at a fixed rate, the peer of rk_latency */
#include <arpa/inet.h>
#include <err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/*
 * The same measurement as rk_latency, with Redis as the log: one client
 * appends with XADD at a fixed rate (pipelined, replies read by a second
 * thread), another waits in XREAD BLOCK and takes receive time minus the
 * entry's scheduled send time.  Each entry's value starts with that time
 * on CLOCK_MONOTONIC and a warm-up flag, padded to the record size.
 */

#define MAXLINE	256

struct sink {
	FILE		*in;
	int		 fd;
	char		 last_id[64];
	int64_t		*lat_ns;
	size_t		 want;
	size_t		 got;
	int64_t		 deadline_ns;
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
sleep_until(int64_t t)
{
	struct timespec ts = { t / 1000000000, t % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

static int
dial(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		err(EX_UNAVAILABLE, "127.0.0.1:%d", port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	for (; n > 0; p += w, n -= (size_t)w)
		if ((w = write(fd, p, n)) <= 0)
			err(EX_IOERR, "write");
}

/* Sends one command as a RESP array of bulk strings, in one write. */
static void
command(int fd, int argc, const char **argv, const size_t *lens)
{
	size_t cap = 32, off;
	char *buf;
	int i;

	for (i = 0; i < argc; i++)
		cap += lens[i] + 32;
	if ((buf = malloc(cap)) == NULL)
		err(EX_OSERR, "malloc");
	off = (size_t)snprintf(buf, cap, "*%d\r\n", argc);
	for (i = 0; i < argc; i++) {
		off += (size_t)snprintf(buf + off, cap - off, "$%zu\r\n",
		    lens[i]);
		memcpy(buf + off, argv[i], lens[i]);
		off += lens[i];
		memcpy(buf + off, "\r\n", 2);
		off += 2;
	}
	send_all(fd, buf, off);
	free(buf);
}

/*
 * Reads one RESP value and calls bulk() for every bulk string in it, in
 * order, with its index among them. Returns -1 on a null reply.
 */
static int
read_value(FILE *in, void (*bulk)(void *, size_t, const char *, size_t),
    void *arg, size_t *nbulk)
{
	char line[MAXLINE], *buf;
	long long n, i;

	if (fgets(line, sizeof(line), in) == NULL)
		errx(EX_PROTOCOL, "redis closed the connection");
	n = strtoll(line + 1, NULL, 10);
	switch (line[0]) {
	case '*':
		if (n < 0)
			return -1;
		for (i = 0; i < n; i++)
			(void)read_value(in, bulk, arg, nbulk);
		return 0;
	case '$':
		if (n < 0)
			return -1;
		if ((buf = malloc((size_t)n + 2)) == NULL)
			err(EX_OSERR, "malloc");
		if (fread(buf, 1, (size_t)n + 2, in) != (size_t)n + 2)
			errx(EX_PROTOCOL, "short bulk string");
		buf[n] = '\0';		/* over the CR, so sscanf stops */
		if (bulk != NULL)
			bulk(arg, (*nbulk)++, buf, (size_t)n);
		free(buf);
		return 0;
	case '-':
		errx(EX_PROTOCOL, "redis: %s", line + 1);
	default:	/* + and : carry nothing we need */
		return 0;
	}
}

/* XREAD's bulk strings: stream name, then (id, field, value) per entry. */
static void
on_bulk(void *arg, size_t i, const char *p, size_t n)
{
	struct sink *s = arg;
	int64_t t = now_ns();
	long sched;
	int warm;

	if (i == 0)
		return;
	switch ((i - 1) % 3) {
	case 0:
		if (n < sizeof(s->last_id)) {
			memcpy(s->last_id, p, n);
			s->last_id[n] = '\0';
		}
		break;
	case 2:
		if (sscanf(p, "%ld %d", &sched, &warm) == 2 && !warm &&
		    s->got < s->want)
			s->lat_ns[s->got++] = t - sched;
		break;
	}
}

static void *
consume(void *arg)
{
	struct sink *s = arg;
	const char *av[7] = { "XREAD", "BLOCK", "100", "COUNT", "1000",
	    "STREAMS", "s" };
	const char *cmd[8];
	size_t lens[8], nb;
	int i;

	while (s->got < s->want && now_ns() < s->deadline_ns) {
		for (i = 0; i < 7; i++) {
			cmd[i] = av[i];
			lens[i] = strlen(av[i]);
		}
		cmd[7] = s->last_id;
		lens[7] = strlen(s->last_id);
		command(s->fd, 8, cmd, lens);
		nb = 0;
		(void)read_value(s->in, on_bulk, s, &nb);
	}
	return NULL;
}

/* Reads and drops the producer's XADD replies so its socket never fills. */
static void *
drain(void *arg)
{
	FILE *in = arg;
	size_t nb = 0;

	for (;;)
		(void)read_value(in, NULL, NULL, &nb);
	return NULL;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
pct_us(const int64_t *v, size_t n, double p)
{
	return (double)v[(size_t)(p * (double)(n - 1) + 0.5)] / 1e3;
}

static void
xadd(int fd, char *val, size_t size, int64_t sched, int warm)
{
	const char *av[5] = { "XADD", "s", "*", "t", val };
	size_t lens[5] = { 4, 1, 1, 1, size };
	int n;

	n = snprintf(val, size, "%ld %d ", (long)sched, warm);
	val[n] = 'x';		/* keep the padding after the header */
	command(fd, 5, av, lens);
}

static void
produce(int fd, char *val, size_t size, long long rate, long long count,
    int warm)
{
	int64_t t0 = now_ns(), sched;

	for (long long i = 0; i < count; i++) {
		sched = t0 + (int64_t)(i * 1000000000LL / rate);
		if (now_ns() < sched)
			sleep_until(sched);
		xadd(fd, val, size, sched, warm);
	}
}

int
main(int argc, char **argv)
{
	long long port = 0, rate = 10000, secs = 5, size = 100;
	const char *errstr = NULL;
	struct sink s;
	pthread_t ct, dt;
	FILE *pin;
	char *val;
	int c, pfd;

	while ((c = getopt(argc, argv, "d:p:r:s:")) != -1) {
		switch (c) {
		case 'd':
			secs = strtonum(optarg, 1, 3600, &errstr);
			break;
		case 'p':
			port = strtonum(optarg, 1, 65535, &errstr);
			break;
		case 'r':
			rate = strtonum(optarg, 1, 10000000, &errstr);
			break;
		case 's':
			size = strtonum(optarg, 32, 1 << 20, &errstr);
			break;
		default:
			goto usage;
		}
		if (errstr != NULL)
			errx(EX_USAGE, "-%c %s: %s", c, optarg, errstr);
	}
	if (optind != argc || port == 0)
		goto usage;

	if ((val = malloc((size_t)size + 1)) == NULL)
		err(EX_OSERR, "malloc");
	memset(val, 'x', (size_t)size);
	pfd = dial((int)port);
	s.fd = dial((int)port);
	if ((pin = fdopen(pfd, "r")) == NULL ||
	    (s.in = fdopen(s.fd, "r")) == NULL)
		err(EX_OSERR, "fdopen");

	/* One entry first; the reader starts right after its id. */
	xadd(pfd, val, (size_t)size, now_ns(), 1);
	{
		char line[MAXLINE];

		if (fgets(line, sizeof(line), pin) == NULL || line[0] != '$' ||
		    fgets(s.last_id, sizeof(s.last_id), pin) == NULL)
			errx(EX_PROTOCOL, "XADD: unexpected reply");
		s.last_id[strcspn(s.last_id, "\r\n")] = '\0';
	}
	s.want = (size_t)(rate * secs);
	s.got = 0;
	if ((s.lat_ns = calloc(s.want, sizeof(*s.lat_ns))) == NULL)
		err(EX_OSERR, "calloc");
	s.deadline_ns = now_ns() + (secs + 15) * 1000000000LL;
	if (pthread_create(&ct, NULL, consume, &s) != 0 ||
	    pthread_create(&dt, NULL, drain, pin) != 0)
		errx(EX_OSERR, "pthread_create");

	produce(pfd, val, (size_t)size, rate, rate / 2 > 0 ? rate / 2 : 1, 1);
	produce(pfd, val, (size_t)size, rate, (long long)s.want, 0);
	pthread_join(ct, NULL);

	if (s.got == 0)
		errx(EX_UNAVAILABLE, "no entry came back");
	qsort(s.lat_ns, s.got, sizeof(*s.lat_ns), cmp64);
	printf("sent=%zu received=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f "
	    "max_us=%.1f\n", s.want, s.got, pct_us(s.lat_ns, s.got, 0.50),
	    pct_us(s.lat_ns, s.got, 0.99), pct_us(s.lat_ns, s.got, 0.999),
	    (double)s.lat_ns[s.got - 1] / 1e3);
	/* The drain thread blocks in read; exiting ends it with us. */
	return s.got == s.want ? 0 : EX_TEMPFAIL;
usage:
	fprintf(stderr, "usage: redis_latency -p port [-d seconds] [-r rate] "
	    "[-s size]\n");
	return EX_USAGE;
}
