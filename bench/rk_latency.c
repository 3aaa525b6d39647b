/* rk_latency.c -- end-to-end (produce to consume) latency at a fixed rate, with librdkafka */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

/*
 * Every payload starts with a header: the record's scheduled send time on
 * CLOCK_MONOTONIC and whether it belongs to the warm-up.  Producer and
 * consumer share this process, so one clock serves both ends.  Latency is
 * taken from the scheduled time, not the moment produce() was called, so
 * a producer that falls behind shows up in the figures instead of hiding
 * (no coordinated omission).
 */
struct stamp {
	int64_t	sched_ns;
	int64_t	warm;
};

struct opts {
	const char	*brokers;
	const char	*topic;
	const char	*acks;
	const char	*linger;
	const char	*maxwait;
	long long	 rate;
	long long	 seconds;
	long long	 size;
};

struct sink {
	rd_kafka_topic_t *rkt;
	int64_t		*lat_ns;
	size_t		 want;
	size_t		 got;
	int64_t		 deadline_ns;
};

static const struct option longopts[] = {
	{ "acks",	required_argument,	NULL,	'a' },
	{ "brokers",	required_argument,	NULL,	'b' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "linger",	required_argument,	NULL,	'l' },
	{ "rate",	required_argument,	NULL,	'r' },
	{ "seconds",	required_argument,	NULL,	'd' },
	{ "size",	required_argument,	NULL,	's' },
	{ "topic",	required_argument,	NULL,	't' },
	{ "wait",	required_argument,	NULL,	'w' },
	{ NULL,		0,			NULL,	0 }
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: rk_latency -b brokers -t topic [-a acks] "
	    "[-d seconds] [-l linger-ms] [-r rate] [-s size]\n"
	    "                  [-w fetch-wait-ms]\n");
	exit(code);
}

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

static void
set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char e[256];

	if (rd_kafka_conf_set(conf, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK)
		errx(EX_USAGE, "%s=%s: %s", k, v, e);
}

static rd_kafka_t *
client(rd_kafka_type_t type, const struct opts *o)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	char e[256];

	set(conf, "bootstrap.servers", o->brokers);
	set(conf, "log_level", "3");
	/*
	 * librdkafka leaves Nagle on by default; the Java client and
	 * redis_latency, the peer, turn it off, and a latency measurement
	 * must not wait on delayed ACKs.
	 */
	set(conf, "socket.nagle.disable", "true");
	if (type == RD_KAFKA_PRODUCER) {
		set(conf, "linger.ms", o->linger);
		set(conf, "acks", o->acks);
	} else if (o->maxwait != NULL)
		set(conf, "fetch.wait.max.ms", o->maxwait);
	rk = rd_kafka_new(type, conf, e, sizeof(e));
	if (rk == NULL)
		errx(EX_SOFTWARE, "rd_kafka_new: %s", e);
	return rk;
}

/* One record per call: the batch call waits for a full batch or its
 * timeout, which would be measured as broker latency. */
static void *
consume(void *arg)
{
	struct sink *s = arg;
	rd_kafka_message_t *m;
	struct stamp st;
	int64_t t;

	while (s->got < s->want && now_ns() < s->deadline_ns) {
		if ((m = rd_kafka_consume(s->rkt, 0, 100)) == NULL)
			continue;
		t = now_ns();
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
		    m->len >= sizeof(st)) {
			memcpy(&st, m->payload, sizeof(st));
			if (!st.warm)
				s->lat_ns[s->got++] = t - st.sched_ns;
		}
		rd_kafka_message_destroy(m);
	}
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
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)v[i] / 1e3;
}

/* Produces count records paced at rate, from t0; a full local queue is
 * waited out, as a real client would. */
static void
produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const struct opts *o,
    char *payload, long long count, int warm, int64_t t0)
{
	struct stamp st;
	long long i;

	st.warm = warm;
	for (i = 0; i < count; i++) {
		st.sched_ns = t0 + (int64_t)(i * 1000000000LL / o->rate);
		if (now_ns() < st.sched_ns)
			sleep_until(st.sched_ns);
		memcpy(payload, &st, sizeof(st));
		while (rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, payload,
		    (size_t)o->size, NULL, 0, NULL) == -1) {
			if (rd_kafka_last_error() !=
			    RD_KAFKA_RESP_ERR__QUEUE_FULL)
				errx(EX_UNAVAILABLE, "produce: %s",
				    rd_kafka_err2str(rd_kafka_last_error()));
			rd_kafka_poll(rk, 1);
		}
		rd_kafka_poll(rk, 0);
	}
}

static void
parse(int argc, char **argv, struct opts *o)
{
	const char *errstr = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "a:b:d:hl:r:s:t:w:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			o->acks = optarg;
			break;
		case 'b':
			o->brokers = optarg;
			break;
		case 'd':
			o->seconds = strtonum(optarg, 1, 3600, &errstr);
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'l':
			o->linger = optarg;
			break;
		case 'r':
			o->rate = strtonum(optarg, 1, 10000000, &errstr);
			break;
		case 's':
			o->size = strtonum(optarg, (long long)sizeof(struct stamp),
			    1 << 20, &errstr);
			break;
		case 't':
			o->topic = optarg;
			break;
		case 'w':
			o->maxwait = optarg;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
		if (errstr != NULL)
			errx(EX_USAGE, "-%c %s: %s", c, optarg, errstr);
	}
	if (optind != argc || o->brokers == NULL || o->topic == NULL)
		usage(stderr, EX_USAGE);
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, NULL, "1", "0", NULL, 10000, 5, 100 };
	struct sink s;
	rd_kafka_t *prk, *crk;
	rd_kafka_topic_t *prkt;
	rd_kafka_resp_err_t e;
	pthread_t th;
	int64_t lo, hi, t0;
	long long warmn;
	char *payload;

	parse(argc, argv, &o);
	if ((payload = calloc(1, (size_t)o.size)) == NULL)
		err(EX_OSERR, "calloc");
	memset(payload + sizeof(struct stamp), 'x',
	    (size_t)o.size - sizeof(struct stamp));
	prk = client(RD_KAFKA_PRODUCER, &o);
	crk = client(RD_KAFKA_CONSUMER, &o);
	prkt = rd_kafka_topic_new(prk, o.topic, NULL);

	/* One record first, so the topic exists and connections are up,
	 * then read from the end the broker reports. */
	produce(prk, prkt, &o, payload, 1, 1, now_ns());
	if ((e = rd_kafka_flush(prk, 10000)) != RD_KAFKA_RESP_ERR_NO_ERROR)
		errx(EX_UNAVAILABLE, "flush: %s", rd_kafka_err2str(e));
	e = rd_kafka_query_watermark_offsets(crk, o.topic, 0, &lo, &hi, 10000);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		errx(EX_UNAVAILABLE, "watermarks: %s", rd_kafka_err2str(e));

	s.rkt = rd_kafka_topic_new(crk, o.topic, NULL);
	s.want = (size_t)(o.rate * o.seconds);
	s.got = 0;
	if ((s.lat_ns = calloc(s.want, sizeof(*s.lat_ns))) == NULL)
		err(EX_OSERR, "calloc");
	if (rd_kafka_consume_start(s.rkt, 0, hi) == -1)
		errx(EX_UNAVAILABLE, "consume_start: %s",
		    rd_kafka_err2str(rd_kafka_last_error()));
	s.deadline_ns = now_ns() + (o.seconds + 15) * 1000000000LL;
	if (pthread_create(&th, NULL, consume, &s) != 0)
		errx(EX_OSERR, "pthread_create");

	/* Half a second of warm-up traffic that the sink ignores: it lets the
	 * consumer's first fetches and both clients' buffers settle. */
	warmn = o.rate / 2 > 0 ? o.rate / 2 : 1;
	t0 = now_ns();
	produce(prk, prkt, &o, payload, warmn, 1, t0);
	produce(prk, prkt, &o, payload, (long long)s.want, 0, now_ns());
	rd_kafka_flush(prk, 10000);
	pthread_join(th, NULL);
	rd_kafka_consume_stop(s.rkt, 0);

	if (s.got == 0)
		errx(EX_UNAVAILABLE, "no record came back");
	qsort(s.lat_ns, s.got, sizeof(*s.lat_ns), cmp64);
	printf("sent=%zu received=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f "
	    "max_us=%.1f\n", s.want, s.got, pct_us(s.lat_ns, s.got, 0.50),
	    pct_us(s.lat_ns, s.got, 0.99), pct_us(s.lat_ns, s.got, 0.999),
	    (double)s.lat_ns[s.got - 1] / 1e3);

	free(s.lat_ns);
	free(payload);
	rd_kafka_topic_destroy(s.rkt);
	rd_kafka_topic_destroy(prkt);
	rd_kafka_destroy(crk);
	rd_kafka_destroy(prk);
	return s.got == s.want ? 0 : EX_TEMPFAIL;
}
