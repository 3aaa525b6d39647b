/* reassign.c -- kreplicate reassign: plan, start, follow and cancel replica moves */
#include <err.h>
#include <errno.h>
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
#include "kp_reassign.h"
#include "kreplicate.h"

enum { OPT_GENERATE = 256, OPT_EXECUTE, OPT_VERIFY, OPT_CANCEL, OPT_PLAN,
	OPT_BROKERS, OPT_TOPICS };

/* ---- reading the plan ---- */

static void
load_plan(const char *path, struct kp_reassign_plan *plan)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct kp_buf b;
	char tmp[8192], why[512];
	size_t n;

	if (f == NULL)
		err(EX_NOINPUT, "%s", path);
	kp_buf_init(&b);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		kp_buf_put(&b, tmp, n);
	if (ferror(f))
		err(EX_IOERR, "%s", path);
	if (f != stdin)
		fclose(f);
	if (b.err)
		errx(EX_OSERR, "%s: out of memory", path);
	if (kp_reassign_parse((const char *)b.data, b.len, plan, why,
	    sizeof(why)) < 0)
		errx(EX_DATAERR, "%s: %s", path, why);
	kp_buf_release(&b);
	if (plan->nparts == 0)
		errx(EX_DATAERR, "%s: no partitions in the plan", path);
}

/* ---- --execute and --cancel: AlterPartitionReassignments ---- */

static bool
alter_not_controller(const void *p)
{
	return ((const struct kp_alter_partition_reassignments_resp *)p)
	    ->error_code == KP_NOT_CONTROLLER;
}

/*
 * The plan as a request, topics in plan order, each once (Kafka keys
 * them by name); cancel sends null replica lists.
 */
static void
alter_req(const struct kp_reassign_plan *plan, bool cancel, int timeout_ms,
    struct kp_arena *a, struct kp_alter_partition_reassignments_req *rq)
{
	struct kp_alter_partition_reassignments_req_reassignable_topic *t;

	kp_alter_partition_reassignments_req_init(rq);
	rq->timeout_ms = timeout_ms;
	rq->topics = kp_arena_calloc(a, plan->nparts, sizeof(*rq->topics));
	if (rq->topics == NULL)
		err(EX_OSERR, "calloc");
	rq->n_topics = 0;
	for (size_t i = 0; i < plan->nparts; i++) {
		const struct kp_reassign_part *e = &plan->parts[i];
		struct kp_alter_partition_reassignments_req_reassignable_partition
		    *p;

		t = NULL;
		for (int32_t k = 0; k < rq->n_topics; k++)
			if (kp_str_eq(&rq->topics[k].name, e->topic))
				t = &rq->topics[k];
		if (t == NULL) {
			t = &rq->topics[rq->n_topics++];
			kp_alter_partition_reassignments_req_reassignable_topic_init(t);
			t->name.ptr = e->topic;
			t->name.len = (int32_t)strlen(e->topic);
			t->partitions = kp_arena_calloc(a, plan->nparts,
			    sizeof(*t->partitions));
			if (t->partitions == NULL)
				err(EX_OSERR, "calloc");
			t->n_partitions = 0;
		}
		p = &t->partitions[t->n_partitions++];
		p->partition_index = e->partition;
		p->replicas = cancel ? NULL : e->replicas;
		p->n_replicas = cancel ? -1 : e->nreplicas;
	}
}

static void
json_head(struct kp_buf *b, const char *topic, int32_t part)
{
	char tmp[32];

	kp_buf_put(b, "{\"topic\":", 9);
	kp_json_put_str(b, topic, strlen(topic));
	snprintf(tmp, sizeof(tmp), ",\"partition\":%" PRId32, part);
	kp_buf_put(b, tmp, strlen(tmp));
}

static void
json_str(struct kp_buf *b, const char *name, const char *s, int32_t len)
{
	kp_buf_put(b, ",", 1);
	kp_json_put_str(b, name, strlen(name));
	kp_buf_put(b, ":", 1);
	if (len < 0)
		kp_buf_put(b, "null", 4);
	else
		kp_json_put_bytes(b, s, len);
}

/* The answer for one partition of the plan, or NULL. */
static const struct kp_alter_partition_reassignments_resp_reassignable_partition_response *
alter_find(const struct kp_alter_partition_reassignments_resp *rs,
    const char *topic, int32_t part)
{
	for (int32_t i = 0; i < rs->n_responses; i++) {
		if (!kp_str_eq(&rs->responses[i].name, topic))
			continue;
		for (int32_t k = 0; k < rs->responses[i].n_partitions; k++)
			if (rs->responses[i].partitions[k].partition_index ==
			    part)
				return &rs->responses[i].partitions[k];
	}
	return NULL;
}

/*
 * One row per plan partition: started (cancelled), not-in-progress for a
 * cancel with nothing to cancel, or the broker's error.
 */
static int
alter(struct kr *kr, const struct kp_reassign_plan *plan, bool cancel)
{
	struct kp_alter_partition_reassignments_req rq;
	struct kp_alter_partition_reassignments_resp rs;
	struct kp_arena reqa, arena;
	struct kp_buf body, b;
	struct kp_table tab;
	char part[16];
	int rc = 0;

	kp_arena_init(&reqa);
	kp_arena_init(&arena);
	kp_buf_init(&body);
	kp_buf_init(&b);
	alter_req(plan, cancel, kr->g.timeout_ms, &reqa, &rq);
	kr_controller_call(kr, KP_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0,
	    &kp_msg_alter_partition_reassignments_req, &rq,
	    &kp_msg_alter_partition_reassignments_resp, &rs, &arena, &body,
	    alter_not_controller);
	if (rs.error_code != KP_NONE) {
		if (rs.error_message.len > 0)
			warnx("reassign: %s: %.*s", kp_kerr_name(rs.error_code),
			    (int)rs.error_message.len, rs.error_message.ptr);
		else
			warnx("reassign: %s", kp_kerr_name(rs.error_code));
		rc = kp_cli_exit_for(rs.error_code);
		goto done;
	}
	kp_table_init(&tab, 3);
	kp_table_row(&tab, "TOPIC", "PARTITION", "RESULT");
	tab.header = true;
	for (size_t i = 0; i < plan->nparts; i++) {
		const struct kp_reassign_part *e = &plan->parts[i];
		const struct kp_alter_partition_reassignments_resp_reassignable_partition_response
		    *pr = alter_find(&rs, e->topic, e->partition);
		int16_t ec = pr ? pr->error_code : KP_UNKNOWN_SERVER_ERROR;
		const char *res = kp_kerr_name(ec);

		if (ec == KP_NONE)
			res = cancel ? "cancelled" : "started";
		else if (cancel && ec == KP_NO_REASSIGNMENT_IN_PROGRESS)
			res = "not-in-progress";
		else {
			if (pr == NULL)
				warnx("%s:%" PRId32 ": no answer from the "
				    "controller", e->topic, e->partition);
			else if (pr->error_message.len > 0)
				warnx("%s:%" PRId32 ": %s: %.*s", e->topic,
				    e->partition, res,
				    (int)pr->error_message.len,
				    pr->error_message.ptr);
			if (rc == 0)
				rc = ec == KP_INVALID_REPLICA_ASSIGNMENT ?
				    EX_DATAERR : kp_cli_exit_for(ec);
		}
		if (kr->g.json) {
			json_head(&b, e->topic, e->partition);
			json_str(&b, "result", res, (int32_t)strlen(res));
			if (pr != NULL && pr->error_message.len >= 0)
				json_str(&b, "message", pr->error_message.ptr,
				    pr->error_message.len);
			kp_buf_put(&b, "}", 1);
			kr_json_line(&b);
			continue;
		}
		snprintf(part, sizeof(part), "%" PRId32, e->partition);
		kp_table_row(&tab, e->topic, part, res);
	}
	if (!kr->g.json && kp_table_print(&tab, stdout, kr->table) < 0)
		errx(EX_OSERR, "table: out of memory");
	kp_table_release(&tab);
done:
	kp_buf_release(&b);
	kp_buf_release(&body);
	kp_arena_release(&arena);
	kp_arena_release(&reqa);
	return rc;
}

/* ---- --verify: ListPartitionReassignments and the metadata ---- */

static bool
list_not_controller(const void *p)
{
	return ((const struct kp_list_partition_reassignments_resp *)p)
	    ->error_code == KP_NOT_CONTROLLER;
}

static const struct kp_list_partition_reassignments_resp_ongoing_partition_reassignment *
list_find(const struct kp_list_partition_reassignments_resp *rs,
    const char *topic, int32_t part)
{
	for (int32_t i = 0; i < rs->n_topics; i++) {
		if (!kp_str_eq(&rs->topics[i].name, topic))
			continue;
		for (int32_t k = 0; k < rs->topics[i].n_partitions; k++)
			if (rs->topics[i].partitions[k].partition_index == part)
				return &rs->topics[i].partitions[k];
	}
	return NULL;
}

static void
list_req(const struct kp_reassign_plan *plan, int timeout_ms,
    struct kp_arena *a, struct kp_list_partition_reassignments_req *rq)
{
	struct kp_list_partition_reassignments_req_topics *t;

	kp_list_partition_reassignments_req_init(rq);
	rq->timeout_ms = timeout_ms;
	rq->topics = kp_arena_calloc(a, plan->nparts, sizeof(*rq->topics));
	if (rq->topics == NULL)
		err(EX_OSERR, "calloc");
	rq->n_topics = 0;
	for (size_t i = 0; i < plan->nparts; i++) {
		const struct kp_reassign_part *e = &plan->parts[i];

		t = NULL;
		for (int32_t k = 0; k < rq->n_topics; k++)
			if (kp_str_eq(&rq->topics[k].name, e->topic))
				t = &rq->topics[k];
		if (t == NULL) {
			t = &rq->topics[rq->n_topics++];
			t->name.ptr = e->topic;
			t->name.len = (int32_t)strlen(e->topic);
			t->partition_indexes = kp_arena_calloc(a, plan->nparts,
			    sizeof(int32_t));
			if (t->partition_indexes == NULL)
				err(EX_OSERR, "calloc");
			t->n_partition_indexes = 0;
		}
		t->partition_indexes[t->n_partition_indexes++] = e->partition;
	}
}

static bool
same(const int32_t *a, int32_t na, const int32_t *b, int32_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, (size_t)na *
	    sizeof(*a)) == 0);
}

/*
 * As Kafka's --verify: a partition the controller lists is in progress;
 * one it does not is done when its replicas are the plan's, in the
 * plan's order (the first is the preferred leader), and otherwise
 * differs (the move was cancelled or another one replaced it).
 */
static int
verify(struct kr *kr, const struct kp_reassign_plan *plan)
{
	struct kp_list_partition_reassignments_req rq;
	struct kp_list_partition_reassignments_resp rs;
	struct kp_arena reqa, arena;
	struct kp_buf body, b;
	struct kp_table tab;
	struct kp_client *c;
	char part[16], cur[256], tgt[256];
	int rc = 0, busy = 0;

	kp_arena_init(&reqa);
	kp_arena_init(&arena);
	kp_buf_init(&body);
	kp_buf_init(&b);
	list_req(plan, kr->g.timeout_ms, &reqa, &rq);
	kr_controller_call(kr, KP_API_LIST_PARTITION_REASSIGNMENTS, 0, 0,
	    &kp_msg_list_partition_reassignments_req, &rq,
	    &kp_msg_list_partition_reassignments_resp, &rs, &arena, &body,
	    list_not_controller);
	if (rs.error_code != KP_NONE) {
		warnx("reassign: %s", kp_kerr_name(rs.error_code));
		rc = kp_cli_exit_for(rs.error_code);
		goto done;
	}
	/* replicas now: the controller's call refreshed the metadata */
	c = kr_client(kr);
	kp_table_init(&tab, 5);
	kp_table_row(&tab, "TOPIC", "PARTITION", "STATUS", "REPLICAS",
	    "TARGET");
	tab.header = true;
	for (size_t i = 0; i < plan->nparts; i++) {
		const struct kp_reassign_part *e = &plan->parts[i];
		const struct kp_list_partition_reassignments_resp_ongoing_partition_reassignment
		    *op = list_find(&rs, e->topic, e->partition);
		const struct kp_topic_meta *t = kp_client_topic(c, e->topic);
		const struct kp_partition_meta *pm = NULL;
		const int32_t *r = NULL;
		int32_t nr = 0;
		const char *st;

		if (t != NULL && t->err == 0 && e->partition < t->nparts)
			pm = &t->parts[e->partition];
		if (op != NULL) {
			st = "in-progress";
			r = op->replicas;
			nr = op->n_replicas;
			busy = 1;
		} else if (pm == NULL) {
			st = kp_kerr_name(KP_UNKNOWN_TOPIC_OR_PARTITION);
			rc = EX_DATAERR;
		} else {
			r = pm->replicas;
			nr = pm->nreplicas;
			st = "done";
			if (!same(r, nr, e->replicas, e->nreplicas)) {
				st = "differs";
				warnx("%s:%" PRId32 ": no reassignment in "
				    "progress, but the replicas are %s, not "
				    "%s", e->topic, e->partition,
				    kr_ids(cur, sizeof(cur), r, nr),
				    kr_ids(tgt, sizeof(tgt), e->replicas,
				    e->nreplicas));
				rc = EX_DATAERR;
			}
		}
		if (kr->g.json) {
			json_head(&b, e->topic, e->partition);
			json_str(&b, "status", st, (int32_t)strlen(st));
			kr_json_ids(&b, "replicas", r, nr);
			kr_json_ids(&b, "target", e->replicas, e->nreplicas);
			if (op != NULL) {
				kr_json_ids(&b, "adding", op->adding_replicas,
				    op->n_adding_replicas);
				kr_json_ids(&b, "removing",
				    op->removing_replicas,
				    op->n_removing_replicas);
			}
			kp_buf_put(&b, "}", 1);
			kr_json_line(&b);
			continue;
		}
		snprintf(part, sizeof(part), "%" PRId32, e->partition);
		kp_table_row(&tab, e->topic, part, st,
		    kr_ids(cur, sizeof(cur), r, nr),
		    kr_ids(tgt, sizeof(tgt), e->replicas, e->nreplicas));
	}
	if (!kr->g.json && kp_table_print(&tab, stdout, kr->table) < 0)
		errx(EX_OSERR, "table: out of memory");
	kp_table_release(&tab);
	if (rc == 0 && busy)
		rc = EX_TEMPFAIL;	/* not yet: ask again later */
done:
	kp_buf_release(&b);
	kp_buf_release(&body);
	kp_arena_release(&arena);
	kp_arena_release(&reqa);
	return rc;
}

/* ---- --generate: a balanced plan ---- */

static int
cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

/* "1,2,3" into a sorted list without duplicates; exits 64 if malformed. */
static int32_t *
parse_ids(const char *s, size_t *n)
{
	char *copy = strdup(s), *p, *tok, *end;
	int32_t *v = NULL, *nv;
	size_t k = 0;
	long x;

	if (copy == NULL)
		err(EX_OSERR, "strdup");
	for (p = copy; (tok = strsep(&p, ",")) != NULL; ) {
		errno = 0;
		x = strtol(tok, &end, 10);
		if (*tok == '\0' || *end != '\0' || errno || x < 0 ||
		    x > INT32_MAX)
			errx(EX_USAGE, "reassign: --brokers: '%s' is not a "
			    "broker id", tok);
		if ((nv = reallocarray(v, k + 1, sizeof(*v))) == NULL)
			err(EX_OSERR, "realloc");
		v = nv;
		v[k++] = (int32_t)x;
	}
	free(copy);
	qsort(v, k, sizeof(*v), cmp_id);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || v[*n - 1] != v[i])
			v[(*n)++] = v[i];
	return v;
}

/*
 * Kafka's rack-unaware assignment of each topic over the given brokers,
 * keeping its replication factor. Where Kafka starts each topic at a
 * random broker, the start here carries on from the previous topic's
 * partitions: the same input gives the same plan, and leaders still go
 * round all the brokers.
 */
static int
generate(struct kr *kr, const char *brokers, const char *topics)
{
	struct kp_client *c;
	struct kp_reassign_plan plan;
	const struct kp_broker_meta *bm;
	struct kp_buf b;
	char *list, *p, *name;
	int32_t *ids, *out;
	size_t nids, nbm, start = 0;

	ids = parse_ids(brokers, &nids);	/* usage errors first */
	c = kr_client(kr);
	if (kp_client_metadata(c, NULL, 0, false) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	bm = kp_client_brokers(c, &nbm);
	for (size_t i = 0; i < nids; i++) {
		size_t k = 0;

		while (k < nbm && bm[k].id != ids[i])
			k++;
		if (k == nbm)
			errx(EX_DATAERR, "reassign: broker %" PRId32 " is not "
			    "in the cluster", ids[i]);
	}
	kp_reassign_plan_init(&plan);
	if ((list = strdup(topics)) == NULL)
		err(EX_OSERR, "strdup");
	for (p = list; (name = strsep(&p, ",")) != NULL; ) {
		const struct kp_topic_meta *t = kp_client_topic(c, name);
		int32_t rf;

		if (t == NULL || t->err != 0 || t->nparts == 0)
			errx(EX_DATAERR, "topic '%s': %s", name, kp_kerr_name(
			    t && t->err ? t->err :
			    KP_UNKNOWN_TOPIC_OR_PARTITION));
		rf = t->parts[0].nreplicas;
		if (rf < 1 || (size_t)rf > nids)
			errx(EX_DATAERR, "topic '%s': %" PRId32 " replicas, "
			    "more than the %zu broker(s) given", name, rf,
			    nids);
		if ((out = calloc((size_t)t->nparts * (size_t)rf,
		    sizeof(*out))) == NULL)
			err(EX_OSERR, "calloc");
		kp_reassign_spread(ids, nids, t->nparts, rf, start % nids, out);
		start += (size_t)t->nparts;
		for (int32_t k = 0; k < t->nparts; k++)
			if (kp_reassign_add(&plan, name, k, out +
			    (size_t)k * (size_t)rf, rf) < 0)
				err(EX_OSERR, "plan");
		free(out);
	}
	kp_buf_init(&b);
	kp_reassign_write(&b, &plan);
	if (b.err || fwrite(b.data, 1, b.len, stdout) != b.len)
		errx(EX_IOERR, "stdout: cannot write");
	kp_buf_release(&b);
	kp_reassign_plan_release(&plan);
	free(list);
	free(ids);
	return 0;
}

int
kr_reassign(struct kr *kr, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "brokers",	required_argument, NULL, OPT_BROKERS },
		{ "cancel",	no_argument,	   NULL, OPT_CANCEL },
		{ "execute",	no_argument,	   NULL, OPT_EXECUTE },
		{ "generate",	no_argument,	   NULL, OPT_GENERATE },
		{ "plan",	required_argument, NULL, OPT_PLAN },
		{ "topics",	required_argument, NULL, OPT_TOPICS },
		{ "verify",	no_argument,	   NULL, OPT_VERIFY },
		{ NULL, 0, NULL, 0 }
	};
	struct kp_reassign_plan plan;
	const char *path = NULL, *brokers = NULL, *topics = NULL;
	int ch, mode = 0, rc;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_GENERATE:
		case OPT_EXECUTE:
		case OPT_VERIFY:
		case OPT_CANCEL:
			if (mode != 0 && mode != ch)
				errx(EX_USAGE, "reassign: one of --generate, "
				    "--execute, --verify or --cancel");
			mode = ch;
			break;
		case OPT_PLAN:
			path = optarg;
			break;
		case OPT_BROKERS:
			brokers = optarg;
			break;
		case OPT_TOPICS:
			topics = optarg;
			break;
		default:
			return EX_USAGE;
		}
	}
	if (optind < argc)
		errx(EX_USAGE, "reassign: unexpected '%s'", argv[optind]);
	if (mode == 0)
		errx(EX_USAGE, "reassign: one of --generate, --execute, "
		    "--verify or --cancel");
	if (mode == OPT_GENERATE) {
		if (brokers == NULL || topics == NULL || path != NULL)
			errx(EX_USAGE, "reassign: --generate takes --brokers "
			    "and --topics");
		return generate(kr, brokers, topics);
	}
	if (path == NULL || brokers != NULL || topics != NULL)
		errx(EX_USAGE, "reassign: --execute, --verify and --cancel "
		    "take --plan");
	load_plan(path, &plan);
	if (mode == OPT_VERIFY)
		rc = verify(kr, &plan);
	else
		rc = alter(kr, &plan, mode == OPT_CANCEL);
	kp_reassign_plan_release(&plan);
	return rc;
}
