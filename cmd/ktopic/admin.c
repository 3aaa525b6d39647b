/* admin.c -- ktopic's commands that talk to the cluster */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "kp_cli.h"
#include "kp_err.h"
#include "kp_json.h"
#include "kp_offspec.h"
#include "kp_proto_admin.h"
#include "ktopic.h"

#define RESOURCE_TOPIC	2

/* long-only options: values no short option can take */
enum { OPT_IF = 256, OPT_TIME };

struct cfg {
	char	*name;
	char	*value;		/* NULL: delete */
};

static void
put_json(struct kp_buf *b)
{
	fwrite(b->data, 1, b->len, stdout);
	fputc('\n', stdout);
	kp_buf_reset(b);
}

static void
jstr(struct kp_buf *b, const char *s)
{
	kp_json_put_str(b, s, strlen(s));
}

static void
jkstr(struct kp_buf *b, const struct kp_str *s)
{
	if (s->len < 0)
		kp_buf_put(b, "null", 4);
	else
		kp_json_put_bytes(b, s->ptr, s->len);
}

static void
jint(struct kp_buf *b, const char *name, int64_t v, bool comma)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "\"%s\":%" PRId64 "%s", name, v,
	    comma ? "," : "");

	kp_buf_put(b, tmp, (size_t)n);
}

/*
 * One exchange on k, its answer decoded into arena and body (set up
 * here; the caller releases them); exits 69 when it fails.
 */
static void
exchange_or_exit(struct kp_client *c, struct kp_conn *k, int16_t api,
    int16_t v, const struct kp_msg *reqm, const void *req,
    const struct kp_msg *respm, void *resp, struct kp_arena *arena,
    struct kp_buf *body)
{
	kp_arena_init(arena);
	kp_buf_init(body);
	if (kp_conn_exchange(k, api, v, reqm, req, respm, resp, arena,
	    body) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
}

/*
 * Says what the broker refused for one topic, with the message it sent
 * if any, and returns the exit code for it.
 */
static int
topic_refused(struct kp_str name, int16_t e, const struct kp_str *msg)
{
	if (msg != NULL && msg->len > 0)
		warnx("topic '%.*s': %s: %.*s", (int)name.len, name.ptr,
		    kp_kerr_name(e), (int)msg->len, msg->ptr);
	else
		warnx("topic '%.*s': %s", (int)name.len, name.ptr,
		    kp_kerr_name(e));
	return kp_cli_exit_for(e);
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

static void
add_cfg(struct cfg **v, size_t *n, const char *arg, bool del)
{
	const char *eq = strchr(arg, '=');
	struct cfg *c;

	if (!del && (eq == NULL || eq == arg))
		errx(EX_USAGE, "config '%s': expected key=value", arg);
	if ((c = reallocarray(*v, *n + 1, sizeof(*c))) == NULL)
		err(EX_OSERR, "reallocarray");
	*v = c;
	c = &(*v)[(*n)++];
	c->name = del ? strdup(arg) : strndup(arg, (size_t)(eq - arg));
	c->value = del ? NULL : strdup(eq + 1);
	if (c->name == NULL || (!del && c->value == NULL))
		err(EX_OSERR, "strdup");
}

static void
free_cfgs(struct cfg *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static struct kp_str
kstr(const char *s)
{
	struct kp_str k = { s, s ? (int32_t)strlen(s) : -1 };

	return k;
}

/* "0,1,4-6" into a new array. */
static int32_t *
parse_parts(const char *arg, size_t *n)
{
	char *s, *tok, *save, *dash;
	int32_t *v = NULL, *nv;
	int64_t a, b;

	*n = 0;
	if ((s = strdup(arg)) == NULL)
		err(EX_OSERR, "strdup");
	for (tok = strtok_r(s, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((dash = strchr(tok, '-')) != NULL)
			*dash++ = '\0';
		a = num("partition", tok, 0, 1 << 20);
		b = dash ? num("partition", dash, a, 1 << 20) : a;
		for (; a <= b; a++) {
			if ((nv = reallocarray(v, *n + 1, sizeof(*v))) == NULL)
				err(EX_OSERR, "reallocarray");
			v = nv;
			v[(*n)++] = (int32_t)a;
		}
	}
	free(s);
	return v;
}

/* The controller's connection (admin requests go there). */
static struct kp_conn *
controller(struct kt *kt)
{
	struct kp_client *c = kt_client(kt);
	struct kp_conn *k;
	int32_t id;

	if (kp_client_metadata(c, NULL, 0, false) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	id = kp_client_controller(c);
	if ((k = kp_client_conn(c, id >= 0 ? id : -1)) == NULL)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	return k;
}

static int16_t
version(struct kp_client *c, struct kp_conn *k, int16_t api, int16_t lo,
    int16_t hi)
{
	int16_t v = kp_conn_version(k, api, lo, hi);

	if (v < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	return v;
}

/* --- list -------------------------------------------------------------- */

static int
cmp_topic(const void *a, const void *b)
{
	const struct kp_topic_meta *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* The topics in name order (borrowed from the metadata cache). */
static const struct kp_topic_meta **
sorted_topics(struct kp_client *c, size_t *n)
{
	const struct kp_topic_meta *t = kp_client_topics(c, n), **v;
	size_t i;

	if ((v = calloc(*n + 1, sizeof(*v))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < *n; i++)
		v[i] = &t[i];
	qsort(v, *n, sizeof(*v), cmp_topic);
	return v;
}

int
kt_list(struct kt *kt, int argc, char **argv)
{
	struct kp_client *c = kt_client(kt);
	const struct kp_topic_meta **t;
	struct kp_table tab;
	struct kp_buf b;
	char np[16], rf[16];
	size_t n, i;

	(void)argv;
	if (argc > 1)
		errx(EX_USAGE, "list takes no arguments");
	if (kp_client_metadata(c, NULL, 0, false) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	t = sorted_topics(c, &n);
	kp_buf_init(&b);
	kp_table_init(&tab, 3);
	if (kt->table)
		kp_table_row(&tab, "TOPIC", "PARTITIONS", "REPLICAS");
	for (i = 0; i < n; i++) {
		int32_t r = t[i]->nparts > 0 ? t[i]->parts[0].nreplicas : 0;

		if (kt->g.json) {
			kp_buf_put(&b, "{\"topic\":", 9);
			jstr(&b, t[i]->name);
			kp_buf_put(&b, ",", 1);
			jint(&b, "partitions", t[i]->nparts, true);
			jint(&b, "replication_factor", r, true);
			kp_buf_put(&b, "\"internal\":", 11);
			kp_buf_put(&b, t[i]->internal ? "true}" : "false}",
			    t[i]->internal ? 5 : 6);
			put_json(&b);
		} else if (kt->table) {
			snprintf(np, sizeof(np), "%d", t[i]->nparts);
			snprintf(rf, sizeof(rf), "%d", r);
			kp_table_row(&tab, t[i]->name, np, rf);
		} else
			printf("%s\n", t[i]->name);
	}
	kt_table_print(&tab);
	kp_table_release(&tab);
	kp_buf_release(&b);
	free(t);
	return 0;
}

/* --- create ------------------------------------------------------------ */

int
kt_create(struct kt *kt, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "if-not-exists", no_argument, NULL, OPT_IF },
		{ "partitions", required_argument, NULL, 'p' },
		{ "replication-factor", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct kp_create_topics_req req;
	struct kp_create_topics_resp resp;
	struct kp_create_topics_req_creatable_topic *tv;
	struct kp_create_topics_req_createable_topic_config *cv = NULL;
	struct kp_client *c;
	struct kp_conn *k;
	struct kp_arena arena;
	struct kp_buf body;
	struct cfg *cfgs = NULL;
	size_t ncfg = 0, i;
	int64_t parts = -1, rf = -1;
	int ch, rc = 0;
	bool if_not = false;
	int16_t v;
	int32_t j;

	while ((ch = getopt_long(argc, argv, "c:p:r:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			add_cfg(&cfgs, &ncfg, optarg, false);
			break;
		case OPT_IF:
			if_not = true;
			break;
		case 'p':
			parts = num("partitions", optarg, 1, 1 << 20);
			break;
		case 'r':
			rf = num("replication factor", optarg, 1, 32767);
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		errx(EX_USAGE, "create: no topic named");
	k = controller(kt);
	c = kt->c;
	v = version(c, k, KP_API_CREATE_TOPICS, 0, 4);
	if (v < 4) {
		/* before v4 there is no "broker default" (-1) */
		parts = parts < 0 ? 1 : parts;
		rf = rf < 0 ? 1 : rf;
	}
	if ((tv = calloc((size_t)argc, sizeof(*tv))) == NULL ||
	    (ncfg && (cv = calloc(ncfg, sizeof(*cv))) == NULL))
		err(EX_OSERR, "calloc");
	for (i = 0; i < ncfg; i++) {
		kp_create_topics_req_createable_topic_config_init(&cv[i]);
		cv[i].name = kstr(cfgs[i].name);
		cv[i].value = kstr(cfgs[i].value);
	}
	for (j = 0; j < argc; j++) {
		kp_create_topics_req_creatable_topic_init(&tv[j]);
		tv[j].name = kstr(argv[j]);
		tv[j].num_partitions = (int32_t)parts;
		tv[j].replication_factor = (int16_t)rf;
		tv[j].configs = cv;
		tv[j].n_configs = (int32_t)ncfg;
	}
	kp_create_topics_req_init(&req);
	req.topics = tv;
	req.n_topics = argc;
	req.timeout_ms = kt->g.timeout_ms;
	exchange_or_exit(c, k, KP_API_CREATE_TOPICS, v,
	    &kp_msg_create_topics_req, &req, &kp_msg_create_topics_resp, &resp,
	    &arena, &body);
	for (j = 0; j < resp.n_topics; j++) {
		int16_t e = resp.topics[j].error_code;

		if (e == 0 || (e == KP_TOPIC_ALREADY_EXISTS && if_not))
			continue;
		rc = topic_refused(resp.topics[j].name, e,
		    &resp.topics[j].error_message);
	}
	kp_arena_release(&arena);
	kp_buf_release(&body);
	free(tv);
	free(cv);
	free_cfgs(cfgs, ncfg);
	return rc;
}

/* --- delete ------------------------------------------------------------ */

int
kt_delete(struct kt *kt, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "if-exists", no_argument, NULL, OPT_IF },
		{ NULL, 0, NULL, 0 }
	};
	struct kp_delete_topics_req req;
	struct kp_delete_topics_resp resp;
	struct kp_str *names;
	struct kp_client *c;
	struct kp_conn *k;
	struct kp_arena arena;
	struct kp_buf body;
	bool if_exists = false;
	int ch, rc = 0;
	int16_t v;
	int32_t j;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != OPT_IF)
			return EX_USAGE;
		if_exists = true;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		errx(EX_USAGE, "delete: no topic named");
	k = controller(kt);
	c = kt->c;
	v = version(c, k, KP_API_DELETE_TOPICS, 0, 3);
	if ((names = calloc((size_t)argc, sizeof(*names))) == NULL)
		err(EX_OSERR, "calloc");
	for (j = 0; j < argc; j++)
		names[j] = kstr(argv[j]);
	kp_delete_topics_req_init(&req);
	req.topic_names = names;
	req.n_topic_names = argc;
	req.timeout_ms = kt->g.timeout_ms;
	exchange_or_exit(c, k, KP_API_DELETE_TOPICS, v,
	    &kp_msg_delete_topics_req, &req, &kp_msg_delete_topics_resp, &resp,
	    &arena, &body);
	for (j = 0; j < resp.n_responses; j++) {
		int16_t e = resp.responses[j].error_code;

		if (e == 0 || (e == KP_UNKNOWN_TOPIC_OR_PARTITION && if_exists))
			continue;
		rc = topic_refused(resp.responses[j].name, e, NULL);
	}
	kp_arena_release(&arena);
	kp_buf_release(&body);
	free(names);
	return rc;
}

/* --- describe ---------------------------------------------------------- */

static void
ids(char *buf, size_t len, const int32_t *v, int32_t n)
{
	size_t off = 0;
	int32_t i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d",
		    i ? "," : "", v[i]);
}

static void
jids(struct kp_buf *b, const char *name, const int32_t *v, int32_t n)
{
	char tmp[32];
	int32_t i;

	kp_buf_put(b, "\"", 1);
	kp_buf_put(b, name, strlen(name));
	kp_buf_put(b, "\":[", 3);
	for (i = 0; i < n; i++) {
		int l = snprintf(tmp, sizeof(tmp), "%s%d", i ? "," : "", v[i]);

		kp_buf_put(b, tmp, (size_t)l);
	}
	kp_buf_put(b, "]", 1);
}

/* "name":N, or "name":null for an offset not known (-1), then a comma. */
static void
joff(struct kp_buf *b, const char *name, int64_t v)
{
	if (v >= 0) {
		jint(b, name, v, true);
		return;
	}
	kp_buf_put(b, "\"", 1);
	kp_buf_put(b, name, strlen(name));
	kp_buf_put(b, "\":null,", 7);
}

/* Configs of one topic; *resp and body stay valid for the caller. */
static int
describe_configs(struct kt *kt, const char *topic,
    struct kp_describe_configs_resp *resp, struct kp_arena *arena,
    struct kp_buf *body)
{
	struct kp_describe_configs_req req;
	struct kp_describe_configs_req_resource r;
	struct kp_client *c = kt->c;
	struct kp_conn *k;
	int16_t v;

	if ((k = kp_client_conn(c, -1)) == NULL)
		return -1;
	if ((v = kp_conn_version(k, KP_API_DESCRIBE_CONFIGS, 0, 2)) < 0)
		return -1;
	kp_describe_configs_req_resource_init(&r);
	r.resource_type = RESOURCE_TOPIC;
	r.resource_name = kstr(topic);
	r.configuration_keys = NULL;
	r.n_configuration_keys = -1;
	kp_describe_configs_req_init(&req);
	req.resources = &r;
	req.n_resources = 1;
	return kp_conn_exchange(k, KP_API_DESCRIBE_CONFIGS, v,
	    &kp_msg_describe_configs_req, &req, &kp_msg_describe_configs_resp,
	    resp, arena, body);
}

static bool
config_is_default(const struct kp_describe_configs_resp_resource_result *r)
{
	/* v0 says is_default; v1+ has config_source (5 = default) */
	return r->is_default || r->config_source == 5;
}

/*
 * One topic, by name: lookups may refresh the metadata cache, so no
 * pointer into it is kept across them.
 */
static int
describe_one(struct kt *kt, const char *name)
{
	const struct kp_topic_meta *t;
	struct kp_client *c = kt->c;
	struct kp_describe_configs_resp resp;
	struct kp_arena arena;
	struct kp_buf body, b;
	struct kp_table tab;
	int32_t *pids, p;
	int64_t *lo, *hi;
	int16_t *fail;
	char rep[256], isr[256], s1[24], s2[24], s3[24], s4[24];
	bool have_cfg;
	int32_t i, j;
	int rc = 0;

	int32_t np;

	if ((t = kp_client_topic(c, name)) == NULL &&
	    (t = kp_client_topic_wait(c, name, false)) == NULL) {
		warnx("%s", kp_client_error(c));
		return kp_cli_exit_for(kp_client_kerr(c));
	}
	np = t->nparts;
	pids = calloc((size_t)np + 1, sizeof(*pids));
	lo = calloc((size_t)np + 1, sizeof(*lo));
	hi = calloc((size_t)np + 1, sizeof(*hi));
	fail = calloc((size_t)np + 1, sizeof(*fail));
	if (pids == NULL || lo == NULL || hi == NULL || fail == NULL)
		err(EX_OSERR, "calloc");
	for (p = 0; p < np; p++) {
		pids[p] = p;
		lo[p] = hi[p] = -1;
	}
	/* an offline partition has no offsets to show; the rest do */
	if (kp_client_log_bounds_some(c, name, pids, (size_t)np, NULL, lo, hi,
	    NULL, fail) < 0) {
		warnx("%s", kp_client_error(c));
		rc = kp_cli_exit_for(kp_client_kerr(c));
	}
	kp_arena_init(&arena);
	kp_buf_init(&body);
	kp_buf_init(&b);
	have_cfg = describe_configs(kt, name, &resp, &arena, &body) == 0 &&
	    resp.n_results == 1 && resp.results[0].error_code == 0;
	/* look again: the calls above may have refreshed the cache */
	if ((t = kp_client_topic(c, name)) == NULL || t->nparts != np) {
		warnx("topic '%s': changed while described", name);
		rc = EX_TEMPFAIL;
		goto out;
	}
	if (kt->g.json) {
		kp_buf_put(&b, "{\"topic\":", 9);
		jstr(&b, t->name);
		kp_buf_put(&b, ",", 1);
		jint(&b, "partitions", t->nparts, true);
		jint(&b, "replication_factor", t->nparts > 0 ?
		    t->parts[0].nreplicas : 0, true);
		kp_buf_put(&b, "\"partition_info\":[", 18);
		for (p = 0; p < t->nparts; p++) {
			const struct kp_partition_meta *pm = &t->parts[p];

			kp_buf_put(&b, p ? ",{" : "{", p ? 2 : 1);
			jint(&b, "partition", p, true);
			jint(&b, "leader", pm->leader, true);
			jids(&b, "replicas", pm->replicas, pm->nreplicas);
			kp_buf_put(&b, ",", 1);
			jids(&b, "isr", pm->isr, pm->nisr);
			kp_buf_put(&b, ",", 1);
			joff(&b, "log_start_offset", fail[p] ? -1 : lo[p]);
			joff(&b, "high_watermark", fail[p] ? -1 : hi[p]);
			kp_buf_put(&b, "\"offline\":", 10);
			kp_buf_put(&b, pm->leader < 0 ? "true}" : "false}",
			    pm->leader < 0 ? 5 : 6);
		}
		kp_buf_put(&b, "],\"configs\":{", 13);
		for (i = 0, j = 0; have_cfg && i < resp.results[0].n_configs;
		    i++) {
			const struct kp_describe_configs_resp_resource_result
			    *r = &resp.results[0].configs[i];

			if (j++)
				kp_buf_put(&b, ",", 1);
			jkstr(&b, &r->name);
			kp_buf_put(&b, ":", 1);
			jkstr(&b, &r->value);
		}
		kp_buf_put(&b, "}}", 2);
		put_json(&b);
		goto out;
	}
	printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\t"
	    "Configs: ", t->name, t->nparts,
	    t->nparts > 0 ? t->parts[0].nreplicas : 0);
	for (i = 0, j = 0; have_cfg && i < resp.results[0].n_configs; i++) {
		const struct kp_describe_configs_resp_resource_result *r =
		    &resp.results[0].configs[i];

		if (config_is_default(r))
			continue;
		printf("%s%.*s=%.*s", j++ ? "," : "", (int)r->name.len,
		    r->name.ptr, r->value.len < 0 ? 0 : (int)r->value.len,
		    r->value.ptr ? r->value.ptr : "");
	}
	printf("\n");
	kp_table_init(&tab, 7);
	kp_table_row(&tab, "PARTITION", "LEADER", "REPLICAS", "ISR",
	    "LOG-START-OFFSET", "HIGH-WATERMARK", "ERROR");
	for (p = 0; p < t->nparts; p++) {
		const struct kp_partition_meta *pm = &t->parts[p];

		ids(rep, sizeof(rep), pm->replicas, pm->nreplicas);
		ids(isr, sizeof(isr), pm->isr, pm->nisr);
		snprintf(s1, sizeof(s1), "%d", p);
		snprintf(s2, sizeof(s2), "%d", pm->leader);
		if (pm->leader < 0)
			strlcpy(s2, "none", sizeof(s2));
		snprintf(s3, sizeof(s3), "%" PRId64, lo[p]);
		snprintf(s4, sizeof(s4), "%" PRId64, hi[p]);
		if (fail[p] != 0 || lo[p] < 0)
			strlcpy(s3, "-", sizeof(s3));
		if (fail[p] != 0 || hi[p] < 0)
			strlcpy(s4, "-", sizeof(s4));
		kp_table_row(&tab, s1, s2, rep, isr, s3, s4,
		    pm->err ? kp_kerr_name(pm->err) : "-");
	}
	kt_table_print(&tab);
	kp_table_release(&tab);
out:
	kp_buf_release(&b);
	kp_buf_release(&body);
	kp_arena_release(&arena);
	free(pids);
	free(lo);
	free(hi);
	free(fail);
	return rc;
}

int
kt_describe(struct kt *kt, int argc, char **argv)
{
	struct kp_client *c = kt_client(kt);
	const struct kp_topic_meta **all, *t;
	char **names;
	size_t n, i;
	int j, rc = 0, r;

	if (getopt_long(argc, argv, "", NULL, NULL) != -1)
		return EX_USAGE;
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		if (kp_client_metadata(c, NULL, 0, false) < 0)
			errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
		all = sorted_topics(c, &n);
		/* names copied: describing refreshes the cache */
		if ((names = calloc(n + 1, sizeof(*names))) == NULL)
			err(EX_OSERR, "calloc");
		for (i = 0; i < n; i++)
			if ((names[i] = strdup(all[i]->name)) == NULL)
				err(EX_OSERR, "strdup");
		free(all);
		for (i = 0; i < n; i++) {
			if ((r = describe_one(kt, names[i])) != 0)
				rc = r;
			free(names[i]);
		}
		free(names);
		return rc;
	}
	for (j = 0; j < argc; j++) {
		if ((t = kp_client_topic_wait(c, argv[j], false)) == NULL) {
			warnx("%s", kp_client_error(c));
			rc = kp_cli_exit_for(kp_client_kerr(c));
			continue;
		}
		if ((r = describe_one(kt, argv[j])) != 0)
			rc = r;
	}
	return rc;
}

/* --- alter ------------------------------------------------------------- */

static int
alter_partitions(struct kt *kt, struct kp_conn *k, char **names, int n,
    int32_t count)
{
	struct kp_create_partitions_req req;
	struct kp_create_partitions_resp resp;
	struct kp_create_partitions_req_topic *tv;
	struct kp_arena arena;
	struct kp_buf body;
	int16_t v = version(kt->c, k, KP_API_CREATE_PARTITIONS, 0, 1);
	int32_t j;
	int rc = 0;

	if ((tv = calloc((size_t)n, sizeof(*tv))) == NULL)
		err(EX_OSERR, "calloc");
	for (j = 0; j < n; j++) {
		kp_create_partitions_req_topic_init(&tv[j]);
		tv[j].name = kstr(names[j]);
		tv[j].count = count;
		tv[j].assignments = NULL;
		tv[j].n_assignments = -1;
	}
	kp_create_partitions_req_init(&req);
	req.topics = tv;
	req.n_topics = n;
	req.timeout_ms = kt->g.timeout_ms;
	exchange_or_exit(kt->c, k, KP_API_CREATE_PARTITIONS, v,
	    &kp_msg_create_partitions_req, &req,
	    &kp_msg_create_partitions_resp, &resp, &arena, &body);
	for (j = 0; j < resp.n_results; j++) {
		int16_t e = resp.results[j].error_code;

		if (e == 0)
			continue;
		rc = topic_refused(resp.results[j].name, e,
		    &resp.results[j].error_message);
	}
	kp_arena_release(&arena);
	kp_buf_release(&body);
	free(tv);
	return rc;
}

static int
alter_configs_incremental(struct kt *kt, struct kp_conn *k, int16_t v,
    const char *topic, const struct cfg *cfgs, size_t ncfg)
{
	struct kp_incremental_alter_configs_req req;
	struct kp_incremental_alter_configs_resp resp;
	struct kp_incremental_alter_configs_req_alter_configs_resource r;
	struct kp_incremental_alter_configs_req_alterable_config *cv;
	struct kp_arena arena;
	struct kp_buf body;
	size_t i;
	int rc = 0;

	if ((cv = calloc(ncfg, sizeof(*cv))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < ncfg; i++) {
		kp_incremental_alter_configs_req_alterable_config_init(&cv[i]);
		cv[i].name = kstr(cfgs[i].name);
		cv[i].config_operation = cfgs[i].value ? 0 : 1; /* SET, DELETE */
		cv[i].value = kstr(cfgs[i].value);
	}
	kp_incremental_alter_configs_req_alter_configs_resource_init(&r);
	r.resource_type = RESOURCE_TOPIC;
	r.resource_name = kstr(topic);
	r.configs = cv;
	r.n_configs = (int32_t)ncfg;
	kp_incremental_alter_configs_req_init(&req);
	req.resources = &r;
	req.n_resources = 1;
	exchange_or_exit(kt->c, k, KP_API_INCREMENTAL_ALTER_CONFIGS, v,
	    &kp_msg_incremental_alter_configs_req, &req,
	    &kp_msg_incremental_alter_configs_resp, &resp, &arena, &body);
	if (resp.n_responses > 0 && resp.responses[0].error_code != 0)
		rc = topic_refused(kstr(topic), resp.responses[0].error_code,
		    &resp.responses[0].error_message);
	kp_arena_release(&arena);
	kp_buf_release(&body);
	free(cv);
	return rc;
}

/*
 * AlterConfigs replaces the whole set: read the overrides, apply the
 * changes, send everything back.
 */
static int
alter_configs_full(struct kt *kt, struct kp_conn *k, int16_t v,
    const char *topic, const struct cfg *cfgs, size_t ncfg)
{
	struct kp_describe_configs_resp dresp;
	struct kp_alter_configs_req req;
	struct kp_alter_configs_resp resp;
	struct kp_alter_configs_req_resource r;
	struct kp_alter_configs_req_alterable_config *cv;
	struct kp_arena arena, darena;
	struct kp_buf body, dbody;
	size_t i, n = 0;
	int32_t j;
	int rc = 0;

	kp_arena_init(&darena);
	kp_buf_init(&dbody);
	if (describe_configs(kt, topic, &dresp, &darena, &dbody) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(kt->c));
	if (dresp.n_results != 1 || dresp.results[0].error_code != 0) {
		int16_t e = dresp.n_results ? dresp.results[0].error_code :
		    KP_UNKNOWN_SERVER_ERROR;

		warnx("topic '%s': %s", topic, kp_kerr_name(e));
		return kp_cli_exit_for(e);
	}
	if ((cv = calloc((size_t)dresp.results[0].n_configs + ncfg + 1,
	    sizeof(*cv))) == NULL)
		err(EX_OSERR, "calloc");
	for (j = 0; j < dresp.results[0].n_configs; j++) {
		const struct kp_describe_configs_resp_resource_result *d =
		    &dresp.results[0].configs[j];

		if (config_is_default(d) || d->read_only)
			continue;
		for (i = 0; i < ncfg; i++)
			if (kp_str_eq(&d->name, cfgs[i].name))
				break;
		if (i < ncfg)
			continue;	/* changed below */
		kp_alter_configs_req_alterable_config_init(&cv[n]);
		cv[n].name = d->name;
		cv[n++].value = d->value;
	}
	for (i = 0; i < ncfg; i++) {
		if (cfgs[i].value == NULL)
			continue;
		kp_alter_configs_req_alterable_config_init(&cv[n]);
		cv[n].name = kstr(cfgs[i].name);
		cv[n++].value = kstr(cfgs[i].value);
	}
	kp_alter_configs_req_resource_init(&r);
	r.resource_type = RESOURCE_TOPIC;
	r.resource_name = kstr(topic);
	r.configs = cv;
	r.n_configs = (int32_t)n;
	kp_alter_configs_req_init(&req);
	req.resources = &r;
	req.n_resources = 1;
	exchange_or_exit(kt->c, k, KP_API_ALTER_CONFIGS, v,
	    &kp_msg_alter_configs_req, &req, &kp_msg_alter_configs_resp, &resp,
	    &arena, &body);
	if (resp.n_responses > 0 && resp.responses[0].error_code != 0)
		rc = topic_refused(kstr(topic), resp.responses[0].error_code,
		    NULL);
	kp_arena_release(&arena);
	kp_buf_release(&body);
	kp_arena_release(&darena);
	kp_buf_release(&dbody);
	free(cv);
	return rc;
}

int
kt_alter(struct kt *kt, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "delete-config", required_argument, NULL, 'd' },
		{ "partitions", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct cfg *cfgs = NULL;
	struct kp_conn *k;
	size_t ncfg = 0;
	int64_t parts = -1;
	int ch, j, rc = 0, r;
	int16_t v;

	while ((ch = getopt_long(argc, argv, "c:d:p:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			add_cfg(&cfgs, &ncfg, optarg, false);
			break;
		case 'd':
			add_cfg(&cfgs, &ncfg, optarg, true);
			break;
		case 'p':
			parts = num("partitions", optarg, 1, 1 << 20);
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		errx(EX_USAGE, "alter: no topic named");
	if (parts < 0 && ncfg == 0)
		errx(EX_USAGE, "alter: nothing to change (-p, -c or -d)");
	k = controller(kt);
	if (parts > 0 && (r = alter_partitions(kt, k, argv, argc,
	    (int32_t)parts)) != 0)
		rc = r;
	for (j = 0; j < argc && ncfg > 0; j++) {
		if ((v = kp_conn_version(k, KP_API_INCREMENTAL_ALTER_CONFIGS,
		    0, 1)) >= 0)
			r = alter_configs_incremental(kt, k, v, argv[j], cfgs,
			    ncfg);
		else
			r = alter_configs_full(kt, k, version(kt->c, k,
			    KP_API_ALTER_CONFIGS, 0, 1), argv[j], cfgs, ncfg);
		if (r != 0)
			rc = r;
	}
	free_cfgs(cfgs, ncfg);
	return rc;
}

/* --- offsets, trim ----------------------------------------------------- */

static const struct kp_topic_meta *
need_topic(struct kt *kt, const char *name)
{
	const struct kp_topic_meta *t;

	if ((t = kp_client_topic_wait(kt_client(kt), name, false)) == NULL)
		errx(kp_cli_exit_for(kp_client_kerr(kt->c)), "%s",
		    kp_client_error(kt->c));
	return t;
}

/* Partitions to act on: -p, or all; checked against the topic. */
static int32_t *
pick_parts(const struct kp_topic_meta *t, const char *arg, size_t *n)
{
	int32_t *v;
	size_t i;

	if (arg != NULL) {
		v = parse_parts(arg, n);
		for (i = 0; i < *n; i++)
			if (v[i] >= t->nparts)
				errx(EX_DATAERR, "topic '%s' partition %d: "
				    "UNKNOWN_TOPIC_OR_PARTITION (the topic has "
				    "%d)", t->name, v[i], t->nparts);
		return v;
	}
	if ((v = calloc((size_t)t->nparts + 1, sizeof(*v))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < (size_t)t->nparts; i++)
		v[i] = (int32_t)i;
	*n = (size_t)t->nparts;
	return v;
}

int
kt_offsets(struct kt *kt, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "partitions", required_argument, NULL, 'p' },
		{ "time", required_argument, NULL, OPT_TIME },
		{ NULL, 0, NULL, 0 }
	};
	const struct kp_topic_meta *t;
	const char *parg = NULL, *s;
	int64_t ts = -1, *off;
	int32_t *parts;
	size_t n, i;
	int ch, j, rc = 0;

	while ((ch = getopt_long(argc, argv, "p:", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			parg = optarg;
			break;
		case OPT_TIME:
			s = optarg;
			if (strcmp(optarg, "earliest") == 0)
				ts = -2;
			else if (strcmp(optarg, "latest") == 0)
				ts = -1;
			else if (kp_time_parse(&s, kp_now_ms(), &ts) < 0 ||
			    *s != '\0')
				errx(EX_USAGE, "time '%s': expected earliest, "
				    "latest, ms, ISO 8601 or -DURATION", optarg);
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		errx(EX_USAGE, "offsets: no topic named");
	for (j = 0; j < argc; j++) {
		t = need_topic(kt, argv[j]);
		parts = pick_parts(t, parg, &n);
		if ((off = calloc(n + 1, sizeof(*off))) == NULL)
			err(EX_OSERR, "calloc");
		if (kp_client_list_offsets(kt->c, argv[j], parts, n, ts,
		    off) < 0) {
			warnx("%s", kp_client_error(kt->c));
			rc = kp_cli_exit_for(kp_client_kerr(kt->c));
		} else
			for (i = 0; i < n; i++) {
				if (kt->g.json)
					printf("{\"topic\":\"%s\",\"partition\":"
					    "%d,\"offset\":%" PRId64 "}\n",
					    argv[j], parts[i], off[i]);
				else
					printf("%s:%d:%" PRId64 "\n", argv[j],
					    parts[i], off[i]);
			}
		free(off);
		free(parts);
	}
	return rc;
}

int
kt_trim(struct kt *kt, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "partitions", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const struct kp_topic_meta *t;
	struct kp_delete_records_req req;
	struct kp_delete_records_resp resp;
	struct kp_delete_records_req_topic rt;
	struct kp_delete_records_req_partition rp;
	struct kp_arena arena;
	struct kp_buf body;
	struct kp_conn *k;
	const char *parg = NULL, *oarg = NULL;
	int64_t off;
	int32_t *parts, i, j;
	size_t n, x;
	int ch, rc = 0;
	int16_t v;

	while ((ch = getopt_long(argc, argv, "o:p:", lo, NULL)) != -1) {
		switch (ch) {
		case 'o':
			oarg = optarg;
			break;
		case 'p':
			parg = optarg;
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || oarg == NULL)
		errx(EX_USAGE, "trim: give -o offset and one topic");
	/* "end" is -1: everything up to the high watermark */
	off = strcmp(oarg, "end") == 0 ? -1 : num("offset", oarg, 0,
	    INT64_MAX);
	t = need_topic(kt, argv[0]);
	parts = pick_parts(t, parg, &n);
	kp_arena_init(&arena);
	kp_buf_init(&body);
	for (x = 0; x < n; x++) {
		/* one request per partition, to its leader */
		if ((k = kp_client_leader(kt->c, argv[0], parts[x])) == NULL) {
			warnx("%s", kp_client_error(kt->c));
			rc = EX_UNAVAILABLE;
			continue;
		}
		v = version(kt->c, k, KP_API_DELETE_RECORDS, 0, 1);
		kp_delete_records_req_partition_init(&rp);
		rp.partition_index = parts[x];
		rp.offset = off;
		kp_delete_records_req_topic_init(&rt);
		rt.name = kstr(argv[0]);
		rt.partitions = &rp;
		rt.n_partitions = 1;
		kp_delete_records_req_init(&req);
		req.topics = &rt;
		req.n_topics = 1;
		req.timeout_ms = kt->g.timeout_ms;
		if (kp_conn_exchange(k, KP_API_DELETE_RECORDS, v,
		    &kp_msg_delete_records_req, &req,
		    &kp_msg_delete_records_resp, &resp, &arena, &body) < 0)
			errx(EX_UNAVAILABLE, "%s", kp_client_error(kt->c));
		for (i = 0; i < resp.n_topics; i++)
			for (j = 0; j < resp.topics[i].n_partitions; j++) {
				const struct
				    kp_delete_records_resp_partition_result *pr =
				    &resp.topics[i].partitions[j];

				if (pr->error_code != 0) {
					warnx("topic '%s' partition %d: %s",
					    argv[0], pr->partition_index,
					    kp_kerr_name(pr->error_code));
					rc = kp_cli_exit_for(pr->error_code);
					continue;
				}
				printf("%s:%d:%" PRId64 "\n", argv[0],
				    pr->partition_index, pr->low_watermark);
			}
		kp_arena_reset(&arena);
	}
	kp_arena_release(&arena);
	kp_buf_release(&body);
	free(parts);
	return rc;
}
