/* main.c -- kproduce: append records from stdin or files to a topic */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_cli.h"
#include "kp_client.h"
#include "kp_err.h"
#include "kp_fmt.h"
#include "kp_json.h"
#include "producer.h"

struct opts {
	const char	*brokers;
	const char	*topic;
	int32_t		 partition;
	char		*delim;
	size_t		 delim_len;
	char		*kdelim;
	size_t		 kdelim_len;
	const char	*key;
	struct kp_record_header *hdrs;
	size_t		 nhdrs;
	bool		 null_empty;		/* -Z */
	const char	*null_marker;
	bool		 json;
	bool		 whole;
	bool		 progress;
	int64_t		 bench_n;
	int64_t		 record_size;
	int64_t		 throughput;
	int64_t		 commit_ms;		/* --commit-interval-ms */
	struct producer_opts po;
};

static struct opts o;
static struct producer *prod;
static struct kp_progress prog;
static volatile sig_atomic_t stop;
static volatile sig_atomic_t signalled;
static int input_err;		/* sysexits code of an input failure */
static char *held;		/* --print-offsets of the open transaction */
static size_t heldlen;
static int64_t txn_start;	/* mono ms the open transaction began */
static int txn_err;		/* exit status of a failed interval commit */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kproduce [-hVwZ] [-b brokers] [-D delim] [-f lines|json] "
	    "[-H name=value]\n"
	    "                [-K delim] [-k key] [-p partition] [-t topic] "
	    "[-z none|gzip]\n"
	    "                [--acks 0|1|all] [--batch-size bytes] "
	    "[--linger-ms ms]\n"
	    "                [--no-idempotence] [--null-marker string] "
	    "[--print-offsets]\n"
	    "                [--progress] [--retries n] [--timeout-ms ms]\n"
	    "                [--transactional-id id "
	    "[--commit-interval-ms ms]\n"
	    "                [--transaction-timeout-ms ms]] [file ...]\n"
	    "       kproduce --bench n --record-size bytes [--throughput n] "
	    "-t topic\n"
	    "                [-b brokers] [--acks 0|1|all] [-z none|gzip]\n");
}

static void
onsig(int sig)
{
	stop = 1;
	signalled = 1;
	/* a second one ends a stuck abort; the coordinator's timeout finishes it */
	if (o.po.txn_id != NULL)
		signal(sig, SIG_DFL);
}

/* The offsets of a committed transaction go out; the next one's are held. */
static void
release_held(bool commit)
{
	if (o.po.offsets_out == NULL)
		return;
	if (fflush(o.po.offsets_out) == EOF)
		err(EX_OSERR, "offsets");
	if (commit && heldlen > 0)
		fwrite(held, 1, heldlen, stdout);
	if (fseeko(o.po.offsets_out, 0, SEEK_SET) < 0)
		err(EX_OSERR, "offsets");
	fflush(stdout);
}

/*
 * --commit-interval-ms: commit what the input gave so far and go on in a
 * new transaction. Called between records only, so none is split.
 */
static void
commit_due(void)
{
	char why[512];

	if (o.commit_ms <= 0 || stop || kp_mono_ms() - txn_start < o.commit_ms)
		return;
	txn_start = kp_mono_ms();
	if (!producer_busy(prod) && !producer_in_txn(prod))
		return;		/* nothing written since the last commit */
	if (producer_end(prod, true, why, sizeof(why)) < 0) {
		warnx("transaction %s: %s", producer_stats(prod)->failed ?
		    "aborted" : "not committed", why);
		txn_err = kp_cli_exit_for(producer_stats(prod)->failed ?
		    producer_stats(prod)->last_kerr :
		    kp_client_kerr(producer_client(prod)));
		release_held(false);
		stop = 1;
		return;
	}
	release_held(true);
}

/* A key or value, with -Z and --null-marker turning some into null. */
static ssize_t
field_len(const char *p, size_t n)
{
	if (o.null_empty && n == 0)
		return -1;
	if (o.null_marker != NULL && strlen(o.null_marker) == n &&
	    memcmp(p, o.null_marker, n) == 0)
		return -1;
	return (ssize_t)n;
}

static void
report_progress(void)
{
	char line[128];

	/* a transaction with a failed record can only abort: stop reading */
	if (o.po.txn_id != NULL && producer_stats(prod)->failed > 0)
		stop = 1;

	kp_progress_add(&prog, 0, 0);
	if (kp_progress_tick(&prog, line, sizeof(line)))
		fprintf(stderr, "\rkproduce: %s ", line);
}

static void
add(const char *topic, int32_t part, int64_t ts, const char *k, ssize_t kl,
    const char *v, ssize_t vl, const struct kp_record_header *h, size_t nh)
{
	char why[512];

	if (producer_add(prod, topic, part, ts, k, kl, v, vl, h, nh, why,
	    sizeof(why)) < 0) {
		warnx("%s", why);
		if (!input_err)
			input_err = kp_cli_exit_for(
			    producer_stats(prod)->last_kerr);
		stop = 1;
		return;
	}
	kp_progress_add(&prog, 1, (uint64_t)(kl > 0 ? kl : 0) +
	    (uint64_t)(vl > 0 ? vl : 0));
}

static void
line_record(const char *p, size_t n, int64_t now)
{
	const char *k = o.key, *v = p, *d;
	ssize_t kl = o.key ? (ssize_t)strlen(o.key) : -1, vl;

	if (o.kdelim != NULL) {
		d = memmem(p, n, o.kdelim, o.kdelim_len);
		if (d != NULL) {
			k = p;
			kl = field_len(p, (size_t)(d - p));
			v = d + o.kdelim_len;
			n -= (size_t)(v - p);
		}
		/* no delimiter: the whole record is the value, as kcat */
	}
	vl = field_len(v, n);
	add(o.topic, o.partition, now, k, kl, v, vl, o.hdrs, o.nhdrs);
}

static void
json_record(const char *src, uint64_t lineno, const char *p, size_t n)
{
	struct kp_json_rec r;
	struct kp_record_header *h = NULL;
	const char *topic;
	char why[256];
	int32_t part;
	size_t i;

	if (kp_json_parse(p, n, &r, why, sizeof(why)) < 0) {
		warnx("%s:%" PRIu64 ": %s", src, lineno, why);
		input_err = EX_DATAERR;
		stop = 1;
		return;
	}
	topic = o.topic ? o.topic : r.topic;
	if (topic == NULL) {
		warnx("%s:%" PRIu64 ": no topic: give -t or a \"topic\" member",
		    src, lineno);
		input_err = EX_DATAERR;
		stop = 1;
		goto out;
	}
	if (r.nheaders + o.nhdrs > 0 &&
	    (h = calloc(r.nheaders + o.nhdrs, sizeof(*h))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < o.nhdrs; i++)
		h[i] = o.hdrs[i];
	for (i = 0; i < r.nheaders; i++) {
		h[o.nhdrs + i].key.ptr = (const char *)r.headers[i].key.ptr;
		h[o.nhdrs + i].key.len = (int32_t)r.headers[i].key.len;
		h[o.nhdrs + i].value.ptr = r.headers[i].value.ptr;
		h[o.nhdrs + i].value.len = (int32_t)r.headers[i].value.len;
	}
	/*
	 * The record's partition when the topic has it (a copy between
	 * topics of the same shape keeps every record in place); else it is
	 * placed like a new record, by key or sticky.
	 */
	part = o.partition;
	if (part < 0 && r.partition >= 0) {
		int32_t np = producer_partitions(prod, topic, why,
		    sizeof(why));

		part = np > r.partition ? r.partition : -1;
	}
	add(topic, part, r.timestamp >= 0 ? r.timestamp : kp_now_ms(),
	    o.key && r.key.len < 0 ? o.key : (const char *)r.key.ptr,
	    o.key && r.key.len < 0 ? (ssize_t)strlen(o.key) : r.key.len,
	    (const char *)r.value.ptr, r.value.len, h, r.nheaders + o.nhdrs);
	free(h);
out:
	kp_json_rec_release(&r);
}

/* Split what is buffered into records; keep an unfinished tail. */
static void
split(const char *src, struct kp_buf *in, uint64_t *lineno, bool eof)
{
	const char *p = (const char *)in->data, *end = p + in->len, *d;
	const char *dl = o.json ? "\n" : o.delim;
	size_t dlen = o.json ? 1 : o.delim_len;
	int64_t now = kp_now_ms();

	while (p < end && !stop) {
		d = memmem(p, (size_t)(end - p), dl, dlen);
		if (d == NULL) {
			if (!eof)
				break;
			d = end;	/* last record without delimiter */
		}
		++*lineno;
		if (o.json) {
			size_t n = (size_t)(d - p);

			while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
				n--;
			if (n > 0)
				json_record(src, *lineno, p, n);
		} else
			line_record(p, (size_t)(d - p), now);
		p = d == end ? end : d + dlen;
	}
	kp_buf_consume(in, (size_t)(p - (const char *)in->data));
}

/* Wait for input, serving the producer meanwhile. */
static int
wait_input(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int rc;

	for (;;) {
		/* short naps only while batches linger or answers are due */
		rc = poll(&pfd, 1, !producer_busy(prod) ? 1000 :
		    o.po.linger_ms > 0 && o.po.linger_ms < 100 ?
		    o.po.linger_ms : 100);
		if (rc != 0 || stop)
			return rc < 0 && errno != EINTR ? -1 : 0;
		producer_service(prod, 0);
		report_progress();
		commit_due();
	}
}

static void
read_stream(int fd, const char *src)
{
	struct kp_buf in;
	uint64_t lineno = 0;
	ssize_t n;

	kp_buf_init(&in);
	while (!stop) {
		if (kp_buf_reserve(&in, 1 << 20) < 0)
			err(EX_OSERR, "read buffer");
		n = read(fd, in.data + in.len, in.cap - in.len);
		if (n < 0 && errno == EAGAIN) {
			wait_input(fd);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			warn("%s", src);
			input_err = EX_IOERR;
			break;
		}
		if (n == 0) {
			if (!o.whole)
				split(src, &in, &lineno, true);
			break;
		}
		in.len += (size_t)n;
		if (!o.whole)
			split(src, &in, &lineno, false);
		/* failures are counted in the stats; carry on like cat(1) */
		producer_service(prod, 0);
		report_progress();
		commit_due();
	}
	if (o.whole && !stop && input_err == 0) {
		ssize_t kl = o.key ? (ssize_t)strlen(o.key) : -1;

		add(o.topic, o.partition, kp_now_ms(), o.key, kl,
		    in.data ? (const char *)in.data : "",
		    field_len((const char *)in.data, in.len), o.hdrs, o.nhdrs);
	}
	kp_buf_release(&in);
}

static void
read_input(int argc, char **argv)
{
	int i, fd;

	if (argc == 0) {
		/*
		 * Non-blocking, so lingering batches go out while input is
		 * idle; the flag is shared with whoever else holds this
		 * terminal or pipe, so it is put back.
		 */
		int fl = fcntl(0, F_GETFL);

		if (fl >= 0)
			fcntl(0, F_SETFL, fl | O_NONBLOCK);
		read_stream(0, "stdin");
		if (fl >= 0)
			fcntl(0, F_SETFL, fl);
		return;
	}
	for (i = 0; i < argc && !stop; i++) {
		if (strcmp(argv[i], "-") == 0) {
			read_stream(0, "stdin");
			continue;
		}
		if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) < 0) {
			warn("%s", argv[i]);
			input_err = EX_NOINPUT;
			continue;
		}
		read_stream(fd, argv[i]);
		close(fd);
	}
}

static int
bench(void)
{
	const struct producer_stats *st;
	char *val;
	int64_t i, start, now, sent_bytes = 0;
	double secs, pct[4] = { 0.5, 0.95, 0.99, 0.999 };
	uint64_t want, seen, lat[4];
	size_t b;
	int k;

	if ((val = malloc((size_t)o.record_size + 1)) == NULL)
		err(EX_OSERR, "malloc");
	for (i = 0; i < o.record_size; i++)
		val[i] = (char)('A' + i % 26);
	start = kp_mono_ms();
	for (i = 0; i < o.bench_n && !stop; i++) {
		if (o.throughput > 0) {
			/* hold the rate: sleep while ahead of schedule */
			while ((now = kp_mono_ms() - start) * o.throughput <
			    i * 1000) {
				int64_t ahead = i * 1000 / o.throughput - now;

				producer_service(prod, 0);
				poll(NULL, 0, ahead > 10 ? 10 : ahead > 0 ?
				    (int)ahead : 1);
			}
		}
		add(o.topic, o.partition, kp_now_ms(), NULL, -1, val,
		    (ssize_t)o.record_size, o.hdrs, o.nhdrs);
		sent_bytes += o.record_size;
		if (i % 1024 == 0)
			producer_service(prod, 0);
	}
	producer_flush(prod);
	secs = (double)(kp_mono_ms() - start) / 1000.0;
	if (secs <= 0)
		secs = 0.001;
	st = producer_stats(prod);
	for (k = 0; k < 4; k++) {
		want = (uint64_t)((double)st->lat_n * pct[k]);
		seen = 0;
		for (b = 0; b < 60000; b++) {
			seen += st->lat_hist[b];
			if (seen > want)
				break;
		}
		lat[k] = b;
	}
	printf("%" PRIu64 " records sent, %.1f records/sec (%.2f MB/sec), "
	    "%.2f ms avg latency, %.2f ms max latency, %" PRIu64 " ms 50th, "
	    "%" PRIu64 " ms 95th, %" PRIu64 " ms 99th, %" PRIu64
	    " ms 99.9th.\n", st->acked, (double)st->acked / secs,
	    (double)st->acked * (double)o.record_size / secs / (1024 * 1024),
	    st->lat_n ? st->lat_sum / (double)st->lat_n : 0.0,
	    (double)st->lat_max, lat[0], lat[1], lat[2], lat[3]);
	(void)sent_bytes;
	free(val);
	return 0;
}

static void
add_header(const char *arg)
{
	struct kp_record_header *h;
	const char *eq = strchr(arg, '=');

	h = reallocarray(o.hdrs, o.nhdrs + 1, sizeof(*h));
	if (h == NULL)
		err(EX_OSERR, "reallocarray");
	o.hdrs = h;
	h = &o.hdrs[o.nhdrs++];
	h->key.ptr = arg;
	h->key.len = (int32_t)(eq ? (size_t)(eq - arg) : strlen(arg));
	h->value.ptr = eq ? (const uint8_t *)eq + 1 : NULL;
	h->value.len = eq ? (int32_t)strlen(eq + 1) : -1;
	if (h->key.len == 0)
		errx(EX_USAGE, "header '%s': expected name=value", arg);
}

static char *
unescape_opt(const char *what, const char *arg, size_t *len)
{
	char *s = kp_unescape(arg, len);

	if (s == NULL || *len == 0)
		errx(EX_USAGE, "%s '%s': empty or bad escape", what, arg);
	return s;
}

static int64_t
num(const char *what, const char *arg, int64_t min, int64_t max)
{
	const char *es;
	long long v = strtonum(arg, min, max, &es);

	if (es != NULL)
		errx(EX_USAGE, "%s '%s': %s", what, arg, es);
	return v;
}

enum {
	OPT_ACKS = 256, OPT_BATCH, OPT_BENCH, OPT_LINGER, OPT_NOIDEM,
	OPT_NULLMARK, OPT_OFFSETS, OPT_PROGRESS, OPT_RECSIZE, OPT_RETRIES,
	OPT_THROUGHPUT, OPT_TIMEOUT, OPT_TXNID, OPT_TXNTIMEOUT, OPT_COMMITIVL
};

static const struct option longopts[] = {
	{ "acks",		required_argument, NULL, OPT_ACKS },
	{ "batch-size",		required_argument, NULL, OPT_BATCH },
	{ "bench",		required_argument, NULL, OPT_BENCH },
	{ "broker",		required_argument, NULL, 'b' },
	{ "commit-interval-ms",	required_argument, NULL, OPT_COMMITIVL },
	{ "compression",	required_argument, NULL, 'z' },
	{ "delimiter",		required_argument, NULL, 'D' },
	{ "format",		required_argument, NULL, 'f' },
	{ "header",		required_argument, NULL, 'H' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "key",		required_argument, NULL, 'k' },
	{ "key-delimiter",	required_argument, NULL, 'K' },
	{ "linger-ms",		required_argument, NULL, OPT_LINGER },
	{ "no-idempotence",	no_argument,	   NULL, OPT_NOIDEM },
	{ "null-empty",		no_argument,	   NULL, 'Z' },
	{ "null-marker",	required_argument, NULL, OPT_NULLMARK },
	{ "partition",		required_argument, NULL, 'p' },
	{ "print-offsets",	no_argument,	   NULL, OPT_OFFSETS },
	{ "progress",		no_argument,	   NULL, OPT_PROGRESS },
	{ "record-size",	required_argument, NULL, OPT_RECSIZE },
	{ "retries",		required_argument, NULL, OPT_RETRIES },
	{ "throughput",		required_argument, NULL, OPT_THROUGHPUT },
	{ "timeout-ms",		required_argument, NULL, OPT_TIMEOUT },
	{ "topic",		required_argument, NULL, 't' },
	{ "transaction-timeout-ms", required_argument, NULL, OPT_TXNTIMEOUT },
	{ "transactional-id",	required_argument, NULL, OPT_TXNID },
	{ "version",		no_argument,	   NULL, 'V' },
	{ "whole",		no_argument,	   NULL, 'w' },
	{ NULL, 0, NULL, 0 }
};

static void
parse_args(int argc, char **argv)
{
	int ch;

	o.partition = -1;
	o.delim = "\n";
	o.delim_len = 1;
	o.po.acks = -1;
	o.po.linger_ms = 5;
	o.po.batch_size = 256 * 1024;
	o.po.codec = KP_CODEC_NONE;
	o.po.idempotent = true;
	o.po.auto_create = true;
	o.po.retries = 5;
	o.po.timeout_ms = 30000;
	o.po.txn_timeout_ms = -1;
	o.throughput = -1;
	while ((ch = getopt_long(argc, argv, "b:D:f:H:hK:k:p:t:Vwz:Z", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			o.brokers = optarg;
			break;
		case 'D':
			o.delim = unescape_opt("delimiter", optarg,
			    &o.delim_len);
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				o.json = true;
			else if (strcmp(optarg, "lines") != 0)
				errx(EX_USAGE, "format '%s': expected lines "
				    "or json", optarg);
			break;
		case 'H':
			add_header(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'K':
			o.kdelim = unescape_opt("key delimiter", optarg,
			    &o.kdelim_len);
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'p':
			o.partition = (int32_t)num("partition", optarg, 0,
			    INT32_MAX);
			break;
		case 't':
			o.topic = optarg;
			break;
		case 'V':
			printf("kproduce %s\n", KP_VERSION);
			exit(0);
		case 'w':
			o.whole = true;
			break;
		case 'z':
			if (strcmp(optarg, "gzip") == 0)
				o.po.codec = KP_CODEC_GZIP;
			else if (strcmp(optarg, "none") != 0)
				errx(EX_USAGE, "compression '%s': expected "
				    "none or gzip", optarg);
			break;
		case 'Z':
			o.null_empty = true;
			break;
		case OPT_ACKS:
			if (strcmp(optarg, "all") == 0 ||
			    strcmp(optarg, "-1") == 0)
				o.po.acks = -1;
			else
				o.po.acks = (int16_t)num("acks", optarg, 0, 1);
			break;
		case OPT_BATCH:
			if ((int64_t)(o.po.batch_size = (size_t)kp_cli_size(
			    optarg, 1, 64 << 20)) < 0)
				errx(EX_USAGE, "batch size '%s': expected 1 "
				    "to 64m bytes", optarg);
			break;
		case OPT_COMMITIVL:
			o.commit_ms = num("commit interval", optarg, 1,
			    INT32_MAX);
			break;
		case OPT_BENCH:
			o.bench_n = num("bench", optarg, 1, INT64_MAX);
			break;
		case OPT_LINGER:
			o.po.linger_ms = (int)num("linger", optarg, 0,
			    3600000);
			break;
		case OPT_NOIDEM:
			o.po.idempotent = false;
			break;
		case OPT_NULLMARK:
			o.null_marker = optarg;
			break;
		case OPT_OFFSETS:
			o.po.offsets_out = stdout;
			break;
		case OPT_PROGRESS:
			o.progress = true;
			break;
		case OPT_RECSIZE:
			o.record_size = num("record size", optarg, 0,
			    64 << 20);
			break;
		case OPT_RETRIES:
			o.po.retries = (int)num("retries", optarg, 0, 1000);
			break;
		case OPT_THROUGHPUT:
			o.throughput = num("throughput", optarg, -1,
			    INT32_MAX);
			break;
		case OPT_TIMEOUT:
			o.po.timeout_ms = (int)num("timeout", optarg, 1,
			    INT32_MAX);
			break;
		case OPT_TXNID:
			if (*optarg == '\0')
				errx(EX_USAGE, "transactional id: empty");
			o.po.txn_id = optarg;
			break;
		case OPT_TXNTIMEOUT:
			o.po.txn_timeout_ms = (int32_t)num("transaction "
			    "timeout", optarg, 1, INT32_MAX);
			break;
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (o.bench_n > 0 && (o.topic == NULL || o.record_size == 0))
		errx(EX_USAGE, "--bench needs -t and --record-size");
	if (o.bench_n == 0 && (o.record_size || o.throughput != -1))
		errx(EX_USAGE, "--record-size and --throughput go with --bench");
	if (o.topic == NULL && !o.json)
		errx(EX_USAGE, "no topic: give -t topic");
	if (o.json && (o.whole || o.kdelim || o.delim_len != 1 ||
	    o.delim[0] != '\n'))
		errx(EX_USAGE, "-f json takes neither -w, -K nor -D");
	if (o.whole && o.kdelim)
		errx(EX_USAGE, "-w and -K do not mix");
	if (o.po.txn_id != NULL && (o.po.acks != -1 || !o.po.idempotent))
		errx(EX_USAGE, "--transactional-id needs --acks all and "
		    "idempotence");
	if (o.po.txn_id == NULL && (o.po.txn_timeout_ms != -1 ||
	    o.commit_ms > 0))
		errx(EX_USAGE, "--%s goes with --transactional-id",
		    o.commit_ms > 0 ? "commit-interval-ms" :
		    "transaction-timeout-ms");
	/* Kafka's transaction.timeout.ms */
	if (o.po.txn_timeout_ms == -1)
		o.po.txn_timeout_ms = 60000;
}

/*
 * The end of a transactional run: commit when all went well, else
 * abort. The offsets --print-offsets held back are printed only once
 * committed: before that they may still vanish. Returns the exit code.
 */
static int
end_txn(void)
{
	const struct producer_stats *st = producer_stats(prod);
	bool commit = !stop && input_err == 0 && st->failed == 0;
	char why[512];
	int rc = 0;

	if (txn_err) {
		/*
		 * An interval commit failed, said so and ended the run; an
		 * abort may still be due, and its failure is no news.
		 */
		producer_end(prod, false, why, sizeof(why));
		commit = false;
		rc = txn_err;
	} else if (producer_end(prod, commit, why, sizeof(why)) < 0) {
		/* failed records turn a commit into an abort */
		warnx("transaction %s: %s", commit && st->failed == 0 ?
		    "not committed" : "aborted", why);
		rc = kp_cli_exit_for(st->failed ? st->last_kerr :
		    kp_client_kerr(producer_client(prod)));
		commit = false;
	} else if (!commit)
		warnx("transaction aborted%s", signalled ? ": interrupted" :
		    "");
	if (o.po.offsets_out != NULL) {
		release_held(commit);
		fclose(o.po.offsets_out);
		free(held);
	}
	if (!commit && rc == 0)
		rc = input_err ? input_err : signalled ? EX_TEMPFAIL :
		    kp_cli_exit_for(st->last_kerr);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct kp_client_opts co = { 0 };
	const struct producer_stats *st;
	struct kp_client *c;
	char why[512];
	int rc = 0;

	parse_args(argc, argv);
	argc -= optind;
	argv += optind;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, onsig);
	signal(SIGTERM, onsig);
	co.brokers = o.brokers ? o.brokers : getenv("KPIPE_BROKERS");
	co.client_id = "kproduce";
	co.timeout_ms = o.po.timeout_ms;
	if ((c = kp_client_new(&co, why, sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "%s", why);
	o.po.latency = o.bench_n > 0;
	txn_start = kp_mono_ms();
	if (o.po.txn_id != NULL && o.po.offsets_out != NULL &&
	    (o.po.offsets_out = open_memstream(&held, &heldlen)) == NULL)
		err(EX_OSERR, "open_memstream");
	if ((prod = producer_new(c, &o.po, why, sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "%s", why);
	kp_progress_init(&prog, o.progress || (isatty(2) && o.bench_n == 0 &&
	    o.po.offsets_out == NULL));
	if (o.bench_n > 0)
		bench();
	else
		read_input(argc, argv);
	if (o.po.txn_id != NULL)
		rc = end_txn();
	else
		producer_flush(prod);
	st = producer_stats(prod);
	if (prog.on && prog.records > 0) {
		kp_progress_summary(&prog, why, sizeof(why));
		fprintf(stderr, "\rkproduce: %s\n", why);
	}
	if (o.po.txn_id != NULL) {
		/* end_txn said it all */
	} else if (st->failed > 0) {
		warnx("%" PRIu64 " of %" PRIu64 " records not delivered: %s",
		    st->failed, st->queued, st->last_err);
		rc = kp_cli_exit_for(st->last_kerr);
	}
	if (input_err && rc == 0)
		rc = input_err;
	if (rc == 0 && stop && st->acked < st->queued)
		rc = EX_TEMPFAIL;
	kp_client_abort(c);	/* answers still due would point at prod */
	producer_free(prod);
	kp_client_free(c);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EX_IOERR, "stdout");
	return rc;
}
