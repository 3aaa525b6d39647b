/* status.c -- kreplicate status: leader, replicas and ISR of every partition */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "kp_err.h"
#include "kp_json.h"
#include "kreplicate.h"

enum { OPT_UNDER = 256 };

/* "1,2,3" into buf, "-" when empty. */
static void
ids(char *buf, size_t len, const int32_t *v, int32_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int32_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d",
		    i ? "," : "", v[i]);
	if (n == 0)
		strlcpy(buf, "-", len);
}

static void
jids(struct kp_buf *b, const char *name, const int32_t *v, int32_t n)
{
	char tmp[32];

	kp_json_put_str(b, name, strlen(name));
	kp_buf_put(b, ":[", 2);
	for (int32_t i = 0; i < n; i++) {
		int k = snprintf(tmp, sizeof(tmp), "%s%d", i ? "," : "", v[i]);

		kp_buf_put(b, tmp, (size_t)k);
	}
	kp_buf_put(b, "],", 2);
}

static void
jint(struct kp_buf *b, const char *name, int64_t v)
{
	char tmp[64];
	int k = snprintf(tmp, sizeof(tmp), "\"%s\":%" PRId64 ",", name, v);

	kp_buf_put(b, tmp, (size_t)k);
}

/*
 * Under-replicated: fewer replicas in sync than assigned. A partition
 * without a leader cannot be read or written at all: offline.
 */
static const char *
health(const struct kp_partition_meta *pm, bool *under, bool *offline)
{
	*offline = pm->leader < 0;
	*under = pm->nisr < pm->nreplicas;
	if (*offline)
		return "offline";
	return *under ? "under-replicated" : "ok";
}

/*
 * High watermarks of the partitions that have a leader (-1 for the
 * others, or when the leader does not answer: status is about replicas,
 * an unreadable offset is no reason to fail). name is not t's own: the
 * lookup may refresh the cache t lives in.
 */
static void
watermarks(struct kp_client *c, const char *name,
    const struct kp_topic_meta *t, int64_t *hw)
{
	int32_t *pids;
	int64_t *lo, *hi;
	size_t n = 0;

	for (int32_t p = 0; p < t->nparts; p++)
		hw[p] = -1;
	pids = calloc((size_t)t->nparts + 1, sizeof(*pids));
	lo = calloc((size_t)t->nparts + 1, sizeof(*lo));
	hi = calloc((size_t)t->nparts + 1, sizeof(*hi));
	if (pids == NULL || lo == NULL || hi == NULL)
		err(EX_OSERR, "calloc");
	for (int32_t p = 0; p < t->nparts; p++)
		if (t->parts[p].leader >= 0 && t->parts[p].err == 0)
			pids[n++] = p;
	if (n > 0 && kp_client_log_bounds(c, name, pids, n, NULL, lo, hi,
	    NULL) == 0)
		for (size_t i = 0; i < n; i++)
			hw[pids[i]] = hi[i];
	free(pids);
	free(lo);
	free(hi);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every topic of the cluster, sorted by name: new array (caller frees). */
static char **
all_topics(struct kp_client *c, size_t *n)
{
	const struct kp_topic_meta *t;
	char **names;

	if (kp_client_metadata(c, NULL, 0, false) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	t = kp_client_topics(c, n);
	if ((names = calloc(*n + 1, sizeof(*names))) == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < *n; i++)
		if ((names[i] = strdup(t[i].name)) == NULL)
			err(EX_OSERR, "strdup");
	qsort(names, *n, sizeof(*names), cmp_name);
	return names;
}

/* The rows of one topic into tab or as JSON lines; 0 or an exit code. */
static int
status_topic(struct kr *kr, const char *name, bool only_under,
    struct kp_table *tab)
{
	const struct kp_topic_meta *t;
	struct kp_client *c = kr->c;
	struct kp_buf b;
	int64_t *hw;
	char rep[256], isr[256], s1[24], s2[24], s3[24];
	bool under, offline;
	int32_t np;

	if ((t = kp_client_topic(c, name)) == NULL || t->err != 0) {
		if ((t = kp_client_topic_wait(c, name, false)) == NULL) {
			warnx("%s", kp_client_error(c));
			return kp_cli_exit_for(kp_client_kerr(c));
		}
	}
	np = t->nparts;
	if ((hw = calloc((size_t)np + 1, sizeof(*hw))) == NULL)
		err(EX_OSERR, "calloc");
	watermarks(c, name, t, hw);
	/* ListOffsets may have refreshed the cache */
	if ((t = kp_client_topic(c, name)) == NULL || t->nparts != np) {
		warnx("topic '%s': changed while looked at", name);
		free(hw);
		return EX_TEMPFAIL;
	}
	kp_buf_init(&b);
	for (int32_t p = 0; p < np; p++) {
		const struct kp_partition_meta *pm = &t->parts[p];
		const char *h = health(pm, &under, &offline);

		if (only_under && !under && !offline)
			continue;
		if (kr->g.json) {
			kp_buf_put(&b, "{\"topic\":", 9);
			kp_json_put_str(&b, name, strlen(name));
			kp_buf_put(&b, ",", 1);
			jint(&b, "partition", p);
			jint(&b, "leader", pm->leader);
			jids(&b, "replicas", pm->replicas, pm->nreplicas);
			jids(&b, "isr", pm->isr, pm->nisr);
			jint(&b, "high_watermark", hw[p]);
			kp_buf_put(&b, "\"under_replicated\":", 19);
			kp_buf_put(&b, under ? "true," : "false,",
			    under ? 5 : 6);
			kp_buf_put(&b, "\"offline\":", 10);
			kp_buf_put(&b, offline ? "true}\n" : "false}\n",
			    offline ? 6 : 7);
			continue;
		}
		ids(rep, sizeof(rep), pm->replicas, pm->nreplicas);
		ids(isr, sizeof(isr), pm->isr, pm->nisr);
		snprintf(s1, sizeof(s1), "%d", p);
		if (pm->leader < 0)
			strlcpy(s2, "none", sizeof(s2));
		else
			snprintf(s2, sizeof(s2), "%d", pm->leader);
		if (hw[p] < 0)
			strlcpy(s3, "-", sizeof(s3));
		else
			snprintf(s3, sizeof(s3), "%" PRId64, hw[p]);
		kp_table_row(tab, name, s1, s2, rep, isr, s3, h);
	}
	if (b.len > 0)
		fwrite(b.data, 1, b.len, stdout);
	kp_buf_release(&b);
	free(hw);
	return 0;
}

int
kr_status(struct kr *kr, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "under-replicated", no_argument, NULL, OPT_UNDER },
		{ NULL, 0, NULL, 0 }
	};
	struct kp_client *c;
	struct kp_table tab;
	char **names;
	size_t n, i;
	bool only_under = false;
	int ch, rc = 0, r;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_UNDER:
			only_under = true;
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	c = kr_client(kr);
	if (argc == 0)
		names = all_topics(c, &n);
	else {
		n = (size_t)argc;
		if ((names = calloc(n + 1, sizeof(*names))) == NULL)
			err(EX_OSERR, "calloc");
		for (i = 0; i < n; i++)
			if ((names[i] = strdup(argv[i])) == NULL)
				err(EX_OSERR, "strdup");
		if (kp_client_metadata(c, (const char *const *)names, n,
		    false) < 0)
			errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	}
	kp_table_init(&tab, 7);
	kp_table_row(&tab, "TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR",
	    "HIGH-WATERMARK", "STATUS");
	tab.header = true;
	for (i = 0; i < n; i++)
		if ((r = status_topic(kr, names[i], only_under, &tab)) != 0)
			rc = r;	/* carry on with the other topics */
	if (!kr->g.json && kp_table_print(&tab, stdout, kr->table) < 0)
		errx(EX_OSERR, "table: out of memory");
	kp_table_release(&tab);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
