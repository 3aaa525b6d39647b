/* kp_cli.c -- what client programs share: exit codes, progress, options, tables */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_cli.h"
#include "kp_client.h"
#include "kp_err.h"

int
kp_cli_exit_for(int16_t kerr)
{
	switch (kerr) {
	case KP_NONE:
	case KP_NETWORK_EXCEPTION:
	case KP_BROKER_NOT_AVAILABLE:
		return EX_UNAVAILABLE;
	case KP_MESSAGE_TOO_LARGE:
	case KP_RECORD_LIST_TOO_LARGE:
	case KP_CORRUPT_MESSAGE:
	case KP_INVALID_RECORD:
	case KP_INVALID_TIMESTAMP:
	case KP_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_INVALID_TOPIC_EXCEPTION:
	case KP_INVALID_PARTITIONS:
	case KP_INVALID_REPLICATION_FACTOR:
	case KP_INVALID_CONFIG:
	case KP_TOPIC_ALREADY_EXISTS:
	case KP_OFFSET_OUT_OF_RANGE:
	case KP_POLICY_VIOLATION:
	case KP_INVALID_REQUEST:
		return EX_DATAERR;
	default:
		return kp_kerr_retriable(kerr) || kerr == KP_REQUEST_TIMED_OUT ?
		    EX_TEMPFAIL : EX_UNAVAILABLE;
	}
}

void
kp_progress_init(struct kp_progress *p, bool on)
{
	memset(p, 0, sizeof(*p));
	p->on = on;
	p->start_ms = p->last_ms = kp_mono_ms();
}

void
kp_progress_add(struct kp_progress *p, uint64_t records, uint64_t bytes)
{
	p->records += records;
	p->bytes += bytes;
}

void
kp_progress_summary(const struct kp_progress *p, char *buf, size_t len)
{
	double s = (double)(kp_mono_ms() - p->start_ms) / 1000.0;

	if (s <= 0)
		s = 0.001;
	snprintf(buf, len, "%llu records, %.0f records/s, %.2f MB/s",
	    (unsigned long long)p->records, (double)p->records / s,
	    (double)p->bytes / s / (1024.0 * 1024.0));
}

bool
kp_progress_tick(struct kp_progress *p, char *buf, size_t len)
{
	int64_t now;

	if (!p->on)
		return false;
	now = kp_mono_ms();
	if (now - p->last_ms < 500)
		return false;
	p->last_ms = now;
	kp_progress_summary(p, buf, len);
	return true;
}

int64_t
kp_cli_size(const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;
	int64_t mul = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	switch (tolower((unsigned char)*end)) {
	case 'k': mul = 1024; end++; break;
	case 'm': mul = 1024 * 1024; end++; break;
	case 'g': mul = 1024 * 1024 * 1024; end++; break;
	}
	if (*end != '\0' || v > max / mul)
		return -1;
	v *= mul;
	if (v < min || v > max)
		return -1;
	return v;
}

enum kp_cli_global_how
kp_cli_global_parse(int argc, char **argv, const struct option *longopts,
    struct kp_cli_global *g, int *cmd, char *why, size_t len)
{
	const char *es;
	int ch;

	memset(g, 0, sizeof(*g));
	g->timeout_ms = 30000;
	while ((ch = getopt_long(argc, argv, "+b:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			g->brokers = optarg;
			break;
		case 'h':
			return KP_CLI_HELP;
		case 'V':
			return KP_CLI_VERSION;
		case KP_CLI_OPT_JSON:
			g->json = true;
			break;
		case KP_CLI_OPT_TIMEOUT:
			g->timeout_ms = (int)strtonum(optarg, 1, INT32_MAX,
			    &es);
			if (es != NULL) {
				snprintf(why, len, "timeout '%s': %s", optarg,
				    es);
				return KP_CLI_BADARG;
			}
			break;
		default:
			return KP_CLI_USAGE;
		}
	}
	if (optind >= argc)
		return KP_CLI_USAGE;
	*cmd = optind;
	return KP_CLI_RUN;
}

struct kp_client *
kp_cli_client_new(const struct kp_cli_global *g, const char *client_id,
    char *why, size_t len)
{
	struct kp_client_opts co = { 0 };

	co.brokers = g->brokers ? g->brokers : getenv("KPIPE_BROKERS");
	co.client_id = client_id;
	co.timeout_ms = g->timeout_ms;
	return kp_client_new(&co, why, len);
}

void
kp_table_init(struct kp_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void
kp_table_row(struct kp_table *t, ...)
{
	va_list ap;

	if (t->oom)
		return;
	if ((t->nrows + 1) * t->ncols > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : t->ncols * 16;
		char **v;

		while (ncap < (t->nrows + 1) * t->ncols)
			ncap *= 2;
		if ((v = reallocarray(t->cells, ncap, sizeof(*v))) == NULL) {
			t->oom = true;
			return;
		}
		t->cells = v;
		t->cap = ncap;
	}
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		char **c = &t->cells[t->nrows * t->ncols + i];

		if ((*c = strdup(s ? s : "")) == NULL) {
			/* keep the row's cells releasable */
			while (++i < t->ncols)
				t->cells[t->nrows * t->ncols + i] = NULL;
			t->oom = true;
			break;
		}
	}
	va_end(ap);
	t->nrows++;
}

int
kp_table_print(const struct kp_table *t, FILE *fp, bool aligned)
{
	size_t w[16] = { 0 }, n;

	if (t->oom)
		return -1;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols && i < 16; i++) {
			n = strlen(t->cells[r * t->ncols + i]);
			if (n > w[i])
				w[i] = n;
		}
	for (size_t r = aligned || !t->header ? 0 : 1; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			if (i + 1 == t->ncols)
				fprintf(fp, "%s\n", s);
			else if (aligned)
				fprintf(fp, "%-*s  ", (int)w[i < 16 ? i : 15],
				    s);
			else
				fprintf(fp, "%s\t", s);
		}
	}
	return 0;
}

void
kp_table_release(struct kp_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
