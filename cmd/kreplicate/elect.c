/* elect.c -- kreplicate elect: preferred or unclean leader election through the controller */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "kp_err.h"
#include "kp_json.h"
#include "kp_proto_repl.h"
#include "kreplicate.h"

enum { OPT_TYPE = 256, OPT_ALL };

#define ELECT_PREFERRED	0
#define ELECT_UNCLEAN	1

/* The request's topics, each once, with its partitions each once. */
struct sel {
	struct kp_elect_leaders_req_topic_partitions *t;
	int32_t		 n;
};

static struct kp_elect_leaders_req_topic_partitions *
sel_topic(struct sel *s, const char *name)
{
	struct kp_elect_leaders_req_topic_partitions *t;

	for (int32_t i = 0; i < s->n; i++)
		if (kp_str_eq(&s->t[i].topic, name))
			return &s->t[i];
	if ((t = reallocarray(s->t, (size_t)s->n + 1, sizeof(*t))) == NULL)
		err(EX_OSERR, "realloc");
	s->t = t;
	t = &s->t[s->n++];
	kp_elect_leaders_req_topic_partitions_init(t);
	t->topic.ptr = name;
	t->topic.len = (int32_t)strlen(name);
	t->partitions = NULL;
	t->n_partitions = 0;
	return t;
}

static void
sel_add(struct kp_elect_leaders_req_topic_partitions *t, int32_t p)
{
	int32_t *v;

	for (int32_t i = 0; i < t->n_partitions; i++)
		if (t->partitions[i] == p)
			return;
	if ((v = reallocarray(t->partitions, (size_t)t->n_partitions + 1,
	    sizeof(*v))) == NULL)
		err(EX_OSERR, "realloc");
	t->partitions = v;
	v[t->n_partitions++] = p;
}

static void
sel_free(struct sel *s)
{
	for (int32_t i = 0; i < s->n; i++)
		free(s->t[i].partitions);
	free(s->t);
}

/* "topic:3" splits at the last colon (topic names have none). */
static int32_t
split(char *arg)
{
	char *colon = strrchr(arg, ':'), *end;
	long p;

	if (colon == NULL)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 0 || p > INT32_MAX ||
	    colon == arg)
		errx(EX_USAGE, "elect: '%s': not topic or topic:partition",
		    arg);
	*colon = '\0';
	return (int32_t)p;
}

/*
 * The named partitions into s; a bare topic stands for all of its
 * partitions, as the cluster's metadata has them. 0, or 65 when a topic
 * is unknown (said on stderr; the others still go).
 */
static int
select_args(struct kr *kr, int argc, char **argv, struct sel *s)
{
	const struct kp_topic_meta *t;
	struct kp_client *c;
	bool meta = false;
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		int32_t p = split(argv[i]);

		if (argv[i][0] == '\0')
			errx(EX_USAGE, "elect: empty topic name");
		if (p >= 0) {
			sel_add(sel_topic(s, argv[i]), p);
			continue;
		}
		c = kr_client(kr);
		if (!meta && kp_client_metadata(c, NULL, 0, false) < 0)
			errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
		meta = true;
		if ((t = kp_client_topic(c, argv[i])) == NULL || t->err != 0) {
			warnx("topic '%s': %s", argv[i], kp_kerr_name(t ?
			    t->err : KP_UNKNOWN_TOPIC_OR_PARTITION));
			rc = EX_DATAERR;
			continue;
		}
		for (int32_t k = 0; k < t->nparts; k++)
			sel_add(sel_topic(s, argv[i]), k);
	}
	return rc;
}

/* NOT_CONTROLLER anywhere in the answer: ask the new controller. */
static bool
elect_not_controller(const void *p)
{
	const struct kp_elect_leaders_resp *r = p;

	if (r->error_code == KP_NOT_CONTROLLER)
		return true;
	for (int32_t i = 0; i < r->n_replica_election_results; i++)
		for (int32_t k = 0; k < r->replica_election_results[i]
		    .n_partition_result; k++)
			if (r->replica_election_results[i].partition_result[k]
			    .error_code == KP_NOT_CONTROLLER)
				return true;
	return false;
}

struct row {
	const struct kp_str	*topic;
	const struct kp_elect_leaders_resp_partition_result *pr;
};

static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int32_t n = x->topic->len < y->topic->len ? x->topic->len :
	    y->topic->len;
	int c = memcmp(x->topic->ptr, y->topic->ptr, (size_t)n);

	if (c != 0 || x->topic->len != y->topic->len)
		return c != 0 ? c : x->topic->len < y->topic->len ? -1 : 1;
	return x->pr->partition_id < y->pr->partition_id ? -1 :
	    x->pr->partition_id > y->pr->partition_id;
}

static const char *
result(int16_t e)
{
	if (e == KP_NONE)
		return "elected";
	if (e == KP_ELECTION_NOT_NEEDED)
		return "not-needed";
	return kp_kerr_name(e);
}

/* Rows sorted by topic and partition; returns the exit status. */
static int
report(struct kr *kr, const struct kp_elect_leaders_resp *rs)
{
	struct row *rows;
	struct kp_table tab;
	struct kp_buf b;
	size_t n = 0;
	char part[16];
	int rc = 0;

	for (int32_t i = 0; i < rs->n_replica_election_results; i++)
		n += (size_t)rs->replica_election_results[i]
		    .n_partition_result;
	if ((rows = calloc(n + 1, sizeof(*rows))) == NULL)
		err(EX_OSERR, "calloc");
	n = 0;
	for (int32_t i = 0; i < rs->n_replica_election_results; i++) {
		const struct kp_elect_leaders_resp_replica_election_result *r =
		    &rs->replica_election_results[i];

		for (int32_t k = 0; k < r->n_partition_result; k++) {
			rows[n].topic = &r->topic;
			rows[n++].pr = &r->partition_result[k];
		}
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	kp_table_init(&tab, 3);
	kp_table_row(&tab, "TOPIC", "PARTITION", "RESULT");
	tab.header = true;
	kp_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		const struct kp_elect_leaders_resp_partition_result *pr =
		    rows[i].pr;
		char *topic = kp_str_dup(rows[i].topic);
		int16_t e = pr->error_code;

		if (topic == NULL)
			err(EX_OSERR, "strdup");
		if (e != KP_NONE && e != KP_ELECTION_NOT_NEEDED) {
			if (pr->error_message.len > 0)
				warnx("%s:%" PRId32 ": %s: %.*s", topic,
				    pr->partition_id, kp_kerr_name(e),
				    (int)pr->error_message.len,
				    pr->error_message.ptr);
			if (rc == 0)
				rc = kp_cli_exit_for(e);
		}
		if (kr->g.json) {
			kp_buf_put(&b, "{\"topic\":", 9);
			kp_json_put_str(&b, topic, strlen(topic));
			snprintf(part, sizeof(part), "%" PRId32,
			    pr->partition_id);
			kp_buf_put(&b, ",\"partition\":", 13);
			kp_buf_put(&b, part, strlen(part));
			kp_buf_put(&b, ",\"result\":", 10);
			kp_json_put_str(&b, result(e), strlen(result(e)));
			if (pr->error_message.len >= 0) {
				kp_buf_put(&b, ",\"message\":", 11);
				kp_json_put_bytes(&b, pr->error_message.ptr,
				    pr->error_message.len);
			}
			kp_buf_put(&b, "}", 1);
			kr_json_line(&b);
		} else {
			snprintf(part, sizeof(part), "%" PRId32,
			    pr->partition_id);
			kp_table_row(&tab, topic, part, result(e));
		}
		free(topic);
	}
	if (!kr->g.json && kp_table_print(&tab, stdout, kr->table) < 0)
		errx(EX_OSERR, "table: out of memory");
	kp_table_release(&tab);
	kp_buf_release(&b);
	free(rows);
	return rc;
}

int
kr_elect(struct kr *kr, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all",	no_argument,	   NULL, OPT_ALL },
		{ "type",	required_argument, NULL, OPT_TYPE },
		{ NULL, 0, NULL, 0 }
	};
	struct kp_elect_leaders_req rq;
	struct kp_elect_leaders_resp rs;
	struct kp_arena arena;
	struct kp_buf body;
	struct sel s = { NULL, 0 };
	bool all = false;
	int8_t type = ELECT_PREFERRED;
	int ch, rc, r;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_ALL:
			all = true;
			break;
		case OPT_TYPE:
			if (strcmp(optarg, "preferred") == 0)
				type = ELECT_PREFERRED;
			else if (strcmp(optarg, "unclean") == 0)
				type = ELECT_UNCLEAN;
			else
				errx(EX_USAGE, "elect: --type is preferred or "
				    "unclean, not '%s'", optarg);
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (all == (argc > 0))
		errx(EX_USAGE, "elect: name partitions or give --all");
	rc = select_args(kr, argc, argv, &s);
	if (!all && s.n == 0) {
		sel_free(&s);
		return rc;
	}
	kp_elect_leaders_req_init(&rq);
	rq.election_type = type;
	rq.topic_partitions = all ? NULL : s.t;
	rq.n_topic_partitions = all ? -1 : s.n;
	rq.timeout_ms = kr->g.timeout_ms;
	kp_arena_init(&arena);
	kp_buf_init(&body);
	/* v0 knows only preferred elections */
	kr_controller_call(kr, KP_API_ELECT_LEADERS,
	    type == ELECT_UNCLEAN ? 1 : 0, 2, &kp_msg_elect_leaders_req, &rq,
	    &kp_msg_elect_leaders_resp, &rs, &arena, &body,
	    elect_not_controller);
	if (rs.error_code != KP_NONE) {
		warnx("elect: %s", kp_kerr_name(rs.error_code));
		r = kp_cli_exit_for(rs.error_code);
	} else {
		r = report(kr, &rs);
		/* an answer for every partition lists only what it did */
		if (all && rs.n_replica_election_results == 0)
			warnx("elect: no election needed: every partition "
			    "has its %s", type == ELECT_PREFERRED ?
			    "preferred leader" : "leader");
	}
	kp_buf_release(&body);
	kp_arena_release(&arena);
	sel_free(&s);
	return rc != 0 ? rc : r;
}
