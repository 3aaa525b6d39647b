/* main.c -- kconsume: read a topic from any offset or time, once or following */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "consume.h"
#include "group.h"
#include "kp_cli.h"
#include "kp_client.h"

static volatile int stop;
static const char dflt_delim[] = "\n";

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kconsume [-ehuV] [-b brokers] [-c count] [-D delim] "
	    "[-f raw|json|format]\n"
	    "                [-K delim] [-o offset] [-p partitions]\n"
	    "                [--isolation-level read_committed|"
	    "read_uncommitted]\n"
	    "                [--null-str string] [--timeout-ms ms] "
	    "-t topic ...\n"
	    "       kconsume -g group [-ehuV] [-b brokers] [-c count] "
	    "[-D delim]\n"
	    "                [-f raw|json|format] [-K delim] [-o offset]\n"
	    "                [--assignor range|roundrobin] "
	    "[--commit none|auto|sync]\n"
	    "                [--isolation-level read_committed|"
	    "read_uncommitted]\n"
	    "                [--null-str string] [--session-timeout-ms ms]\n"
	    "                [--timeout-ms ms] -t topic ...\n"
	    "       kconsume --bench n [-b brokers] [-o offset] "
	    "[-p partitions]\n"
	    "                [--isolation-level read_committed|"
	    "read_uncommitted] -t topic ...\n");
}

static void
onsig(int sig)
{
	(void)sig;
	stop = 1;
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

/* "0,2,5-7" */
static void
parse_parts(struct consume_opts *o, const char *arg)
{
	char *s, *tok, *save, *dash;
	int64_t a, b;

	if ((s = strdup(arg)) == NULL)
		err(EX_OSERR, "strdup");
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((dash = strchr(tok, '-')) != NULL)
			*dash++ = '\0';
		a = num("partition", tok, 0, 1 << 20);
		b = dash ? num("partition", dash, a, 1 << 20) : a;
		for (; a <= b; a++) {
			int32_t *v = reallocarray(o->parts, o->nparts + 1,
			    sizeof(*v));

			if (v == NULL)
				err(EX_OSERR, "reallocarray");
			o->parts = v;
			o->parts[o->nparts++] = (int32_t)a;
		}
	}
	free(s);
}

static char *
unescape_opt(const char *what, const char *arg, size_t *len)
{
	char *s = kp_unescape(arg, len);

	if (s == NULL)
		errx(EX_USAGE, "%s '%s': bad escape", what, arg);
	return s;
}

enum { OPT_BENCH = 256, OPT_NULLSTR, OPT_TIMEOUT, OPT_ASSIGNOR, OPT_COMMIT,
    OPT_SESSION, OPT_ISOLATION };

static const struct option longopts[] = {
	{ "assignor",		required_argument, NULL, OPT_ASSIGNOR },
	{ "bench",		required_argument, NULL, OPT_BENCH },
	{ "broker",		required_argument, NULL, 'b' },
	{ "commit",		required_argument, NULL, OPT_COMMIT },
	{ "count",		required_argument, NULL, 'c' },
	{ "delimiter",		required_argument, NULL, 'D' },
	{ "exit",		no_argument,	   NULL, 'e' },
	{ "format",		required_argument, NULL, 'f' },
	{ "group",		required_argument, NULL, 'g' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "isolation-level",	required_argument, NULL, OPT_ISOLATION },
	{ "key-delimiter",	required_argument, NULL, 'K' },
	{ "null-str",		required_argument, NULL, OPT_NULLSTR },
	{ "offset",		required_argument, NULL, 'o' },
	{ "partition",		required_argument, NULL, 'p' },
	{ "session-timeout-ms",	required_argument, NULL, OPT_SESSION },
	{ "timeout-ms",		required_argument, NULL, OPT_TIMEOUT },
	{ "topic",		required_argument, NULL, 't' },
	{ "unbuffered",		no_argument,	   NULL, 'u' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct consume_opts o;
	struct group_opts g = { .commit = COMMIT_AUTO,
	    .commit_interval_ms = 5000, .session_ms = 10000 };
	const char *commit = NULL;
	struct consume_stats st;
	struct kp_client_opts co = { 0 };
	struct kp_client *c;
	const char *brokers = NULL, *offset = "beginning", *fmt = "raw";
	const char *null_str = NULL;
	char why[512];
	int64_t bench = 0;
	int ch, rc, timeout_ms = 30000;
	bool unbuffered = false;

	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	o.delim = dflt_delim;
	o.delim_len = 1;
	o.retries = 5;
	o.max_wait_ms = 500;
	while ((ch = getopt_long(argc, argv, "b:c:D:ef:g:hK:o:p:t:uV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			brokers = optarg;
			break;
		case 'c':
			o.count = num("count", optarg, 1, INT64_MAX);
			break;
		case 'D':
			o.delim = unescape_opt("delimiter", optarg,
			    &o.delim_len);
			break;
		case 'e':
			o.exit_at_end = true;
			break;
		case 'f':
			fmt = optarg;
			break;
		case 'g':
			g.group = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'K':
			o.kdelim = unescape_opt("key delimiter", optarg,
			    &o.kdelim_len);
			break;
		case 'o':
			offset = optarg;
			break;
		case 'p':
			parse_parts(&o, optarg);
			break;
		case 't': {
			const char **v = reallocarray(o.topics, o.ntopics + 1,
			    sizeof(*v));

			if (v == NULL)
				err(EX_OSERR, "reallocarray");
			o.topics = v;
			o.topics[o.ntopics++] = optarg;
			break;
		}
		case 'u':
			unbuffered = true;
			break;
		case 'V':
			printf("kconsume %s\n", KP_VERSION);
			return 0;
		case OPT_ASSIGNOR:
			if (kp_assignor_parse(optarg) < 0)
				errx(EX_USAGE, "assignor '%s': not range or "
				    "roundrobin", optarg);
			g.assignor = kp_assignor_parse(optarg);
			break;
		case OPT_COMMIT:
			commit = optarg;
			if (strcmp(optarg, "none") == 0)
				g.commit = COMMIT_NONE;
			else if (strcmp(optarg, "auto") == 0)
				g.commit = COMMIT_AUTO;
			else if (strcmp(optarg, "sync") == 0)
				g.commit = COMMIT_SYNC;
			else
				errx(EX_USAGE, "commit '%s': not none, auto "
				    "or sync", optarg);
			break;
		case OPT_ISOLATION:
			/* Kafka's isolation.level values, and its default */
			if (strcmp(optarg, "read_committed") == 0)
				o.isolation = KP_READ_COMMITTED;
			else if (strcmp(optarg, "read_uncommitted") == 0)
				o.isolation = KP_READ_UNCOMMITTED;
			else
				errx(EX_USAGE, "isolation level '%s': not "
				    "read_committed or read_uncommitted",
				    optarg);
			break;
		case OPT_SESSION:
			g.session_ms = (int)num("session timeout", optarg,
			    1, INT32_MAX);
			break;
		case OPT_BENCH:
			bench = num("bench", optarg, 1, INT64_MAX);
			break;
		case OPT_NULLSTR:
			null_str = optarg;
			break;
		case OPT_TIMEOUT:
			timeout_ms = (int)num("timeout", optarg, 1, INT32_MAX);
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	if (o.ntopics == 0) {
		warnx("no topic: give -t topic");
		usage(stderr);
		return EX_USAGE;
	}
	if (g.group != NULL && (o.nparts > 0 || bench > 0))
		errx(EX_USAGE, "-g takes its partitions from the group: no -p "
		    "or --bench");
	if (g.group == NULL && commit != NULL)
		errx(EX_USAGE, "--commit goes with -g");
	if (kp_offspec_parse(offset, kp_now_ms(), &o.spec, why,
	    sizeof(why)) < 0)
		errx(EX_USAGE, "%s", why);
	if (strcmp(fmt, "raw") == 0)
		o.mode = OUT_RAW;
	else if (strcmp(fmt, "json") == 0)
		o.mode = OUT_JSON;
	else {
		o.mode = OUT_FMT;
		if (kp_fmt_compile(&o.fmt, fmt, why, sizeof(why)) < 0)
			errx(EX_USAGE, "%s", why);
	}
	if (o.mode != OUT_RAW && o.kdelim != NULL)
		errx(EX_USAGE, "-K goes with raw output only");
	o.null_str = null_str ? null_str : "";
	o.null_len = strlen(o.null_str);
	o.fmt.null_str = o.null_str;
	o.fmt.null_len = o.null_len;
	if (bench > 0) {
		o.count = bench;
		o.mode = OUT_NONE;
	}
	o.flush_each = unbuffered || isatty(1);
	signal(SIGINT, onsig);
	signal(SIGTERM, onsig);
	co.brokers = brokers ? brokers : getenv("KPIPE_BROKERS");
	co.client_id = "kconsume";
	co.timeout_ms = timeout_ms;
	o.timeout_ms = timeout_ms;
	if ((c = kp_client_new(&co, why, sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "%s", why);
	/* -e and "end" then mean the last stable offset */
	kp_client_set_isolation(c, o.isolation);
	g.brokers = co.brokers;
	if (g.group != NULL)
		rc = group_run(c, &o, &g, &st, &stop);
	else
		rc = consume_run(c, &o, &st, &stop);
	if (bench > 0 && rc == 0) {
		int64_t end = kp_mono_ms(), now = kp_now_ms();
		double secs = (double)(end - st.start_ms) / 1000.0;
		double fsecs = (double)(end - (st.first_fetch_ms ?
		    st.first_fetch_ms : st.start_ms)) / 1000.0;
		double mb = (double)st.bytes / (1024.0 * 1024.0);
		char t0[32], t1[32];
		time_t a = (time_t)((now - (end - st.start_ms)) / 1000);
		time_t b = (time_t)(now / 1000);

		if (secs <= 0)
			secs = 0.001;
		if (fsecs <= 0)
			fsecs = 0.001;
		strftime(t0, sizeof(t0), "%Y-%m-%d %H:%M:%S", localtime(&a));
		strftime(t1, sizeof(t1), "%Y-%m-%d %H:%M:%S", localtime(&b));
		printf("start.time, end.time, data.consumed.in.MB, MB.sec, "
		    "data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, "
		    "fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n");
		printf("%s, %s, %.4f, %.4f, %" PRIu64 ", %.4f, 0, %.0f, %.4f, "
		    "%.4f\n", t0, t1, mb, mb / secs, st.records,
		    (double)st.records / secs, fsecs * 1000, mb / fsecs,
		    (double)st.records / fsecs);
	}
	kp_client_free(c);
	kp_fmt_release(&o.fmt);
	free(o.topics);
	free(o.parts);
	if (o.delim != dflt_delim)
		free((char *)o.delim);
	free((char *)o.kdelim);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		return EX_IOERR;
	}
	return rc;
}
