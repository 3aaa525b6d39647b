/* reset.c -- kgroup reset, delete and delete-offsets: changing what a group has committed */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "kgroup.h"
#include "kp_err.h"
#include "kp_offspec.h"
#include "kp_proto_group.h"

/* A partition of the plan: where the group is and where it goes. */
struct plan {
	char	*topic;
	int32_t	 part;
	int64_t	 cur;		/* -1: nothing committed */
	int64_t	 next;		/* -1: cannot be computed */
};

struct plans {
	struct plan	*v;
	size_t		 n;
};

static struct plan *
plan_get(struct plans *ps, const char *topic, int32_t part)
{
	struct plan *v;

	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].part == part && strcmp(ps->v[i].topic, topic) == 0)
			return &ps->v[i];
	if ((v = reallocarray(ps->v, ps->n + 1, sizeof(*v))) == NULL)
		err(EX_OSERR, "reallocarray");
	ps->v = v;
	v = &ps->v[ps->n++];
	if ((v->topic = strdup(topic)) == NULL)
		err(EX_OSERR, "strdup");
	v->part = part;
	v->cur = -1;
	v->next = -1;
	return v;
}

static int
plan_cmp(const void *a, const void *b)
{
	const struct plan *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->part > y->part) - (x->part < y->part);
}

static void
plans_release(struct plans *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i].topic);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

/* State and member count; "Dead" for a group the coordinator lacks. */
static void
group_state(struct kg *kg, struct kp_conn *k, const char *group, char *state,
    size_t len, int32_t *members)
{
	struct kp_describe_groups_req rq;
	struct kp_describe_groups_resp rs;
	struct kp_str id = { group, (int32_t)strlen(group) };

	kp_describe_groups_req_init(&rq);
	rq.groups = &id;
	rq.n_groups = 1;
	kg_call(kg, k, KP_API_DESCRIBE_GROUPS, 0, 4,
	    &kp_msg_describe_groups_req, &rq, &kp_msg_describe_groups_resp,
	    &rs, NULL);
	if (rs.n_groups != 1 || rs.groups[0].error_code != KP_NONE)
		errx(EX_UNAVAILABLE, "group '%s': DescribeGroups: %s", group,
		    rs.n_groups == 1 ? kp_kerr_name(rs.groups[0].error_code) :
		    "no answer");
	snprintf(state, len, "%.*s", (int)rs.groups[0].group_state.len,
	    rs.groups[0].group_state.ptr);
	*members = rs.groups[0].n_members;
}

/* Every committed offset of the group into the plan (scope permitting). */
static void
fetch_committed(struct kg *kg, struct kp_conn *k, const char *group,
    struct plans *ps, const struct kg_scope *sc, size_t nsc, bool add)
{
	struct kp_offset_fetch_req rq;
	struct kp_offset_fetch_resp rs;

	kp_offset_fetch_req_init(&rq);
	rq.group_id.ptr = group;
	rq.group_id.len = (int32_t)strlen(group);
	rq.n_topics = -1;
	kg_call(kg, k, KP_API_OFFSET_FETCH, 2, 5, &kp_msg_offset_fetch_req,
	    &rq, &kp_msg_offset_fetch_resp, &rs, NULL);
	if (rs.error_code != KP_NONE)
		errx(EX_UNAVAILABLE, "group '%s': OffsetFetch: %s", group,
		    kp_kerr_name(rs.error_code));
	for (int32_t t = 0; t < rs.n_topics; t++) {
		char *topic = kp_str_dup(&rs.topics[t].name);

		if (topic == NULL)
			err(EX_OSERR, "strdup");
		for (int32_t p = 0; p < rs.topics[t].n_partitions; p++) {
			const struct kp_offset_fetch_resp_partition *rp =
			    &rs.topics[t].partitions[p];
			struct plan *pl = NULL;

			if (rp->error_code != KP_NONE ||
			    rp->committed_offset < 0 ||
			    !kg_scope_has(sc, nsc, topic, rp->partition_index))
				continue;
			if (add)
				pl = plan_get(ps, topic, rp->partition_index);
			else
				for (size_t i = 0; i < ps->n && !pl; i++)
					if (ps->v[i].part ==
					    rp->partition_index &&
					    !strcmp(ps->v[i].topic, topic))
						pl = &ps->v[i];
			if (pl != NULL)
				pl->cur = rp->committed_offset;
		}
		free(topic);
	}
}

/* The partitions a -t names: listed ones, else all the topic has. */
static void
scope_partitions(struct kg *kg, const struct kg_scope *s, struct plans *ps)
{
	const struct kp_topic_meta *tm;

	if (s->nparts > 0) {
		for (size_t i = 0; i < s->nparts; i++)
			plan_get(ps, s->topic, s->parts[i]);
		return;
	}
	if ((tm = kp_client_topic_wait(kg_client(kg), s->topic, false)) ==
	    NULL)
		errx(EX_DATAERR, "%s", kp_client_error(kg->c));
	for (int32_t p = 0; p < tm->nparts; p++)
		plan_get(ps, s->topic, p);
}

/* "topic,partition,offset" lines (kafka-consumer-groups' CSV). */
static void
read_plan_file(const char *path, struct plans *ps)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[1024];
	int lineno = 0;

	if (f == NULL)
		err(EX_NOINPUT, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *topic, *ps_, *os, *end;
		long long p, o;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		topic = strtok(line, ",");
		ps_ = strtok(NULL, ",");
		os = strtok(NULL, ",");
		if (topic == NULL || ps_ == NULL || os == NULL)
			errx(EX_DATAERR, "%s:%d: want topic,partition,offset",
			    path, lineno);
		p = strtoll(ps_, &end, 10);
		if (*end != '\0' || p < 0 || p > INT32_MAX)
			errx(EX_DATAERR, "%s:%d: bad partition '%s'", path,
			    lineno, ps_);
		o = strtoll(os, &end, 10);
		if (*end != '\0' || o < 0)
			errx(EX_DATAERR, "%s:%d: bad offset '%s'", path,
			    lineno, os);
		plan_get(ps, topic, (int32_t)p)->next = o;
	}
	if (ferror(f))
		err(EX_IOERR, "%s", path);
	if (f != stdin)
		fclose(f);
}

enum how { TO_NONE, TO_EARLIEST, TO_LATEST, TO_DATETIME, TO_OFFSET, SHIFT_BY,
    FROM_FILE };

/* New offsets of one topic's run of the plan, clamped to the log. */
static int
compute_topic(struct kg *kg, struct plan *v, size_t n, enum how how,
    int64_t arg)
{
	struct kp_client *c = kg_client(kg);
	int32_t *ids = calloc(n, sizeof(*ids));
	int64_t *lo = calloc(n, sizeof(*lo)), *hi = calloc(n, sizeof(*hi));
	int64_t *at = calloc(n, sizeof(*at));
	int rc = 0;

	if (ids == NULL || lo == NULL || hi == NULL || at == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < n; i++)
		ids[i] = v[i].part;
	if (kp_client_metadata(c, (const char **)&v[0].topic, 1, false) < 0 ||
	    kp_client_log_bounds(c, v[0].topic, ids, n,
	    how == TO_DATETIME ? &arg : NULL, lo, hi, at) < 0) {
		warnx("%s", kp_client_error(c));
		rc = EX_DATAERR;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct plan *p = &v[i];
		int64_t o = -1;

		switch (how) {
		case TO_EARLIEST:
			o = lo[i];
			break;
		case TO_LATEST:
			o = hi[i];
			break;
		case TO_DATETIME:
			o = at[i] >= 0 ? at[i] : hi[i];
			break;
		case TO_OFFSET:
			o = arg;
			break;
		case SHIFT_BY:
			if (p->cur < 0) {
				warnx("topic '%s' partition %d: nothing "
				    "committed to shift", p->topic, p->part);
				rc = EX_DATAERR;
				continue;
			}
			o = p->cur + arg;
			break;
		case FROM_FILE:
			o = p->next;
			break;
		default:
			break;
		}
		p->next = o < lo[i] ? lo[i] : o > hi[i] ? hi[i] : o;
	}
out:
	free(ids);
	free(lo);
	free(hi);
	free(at);
	return rc;
}

static void
print_plan(struct kg *kg, const char *group, const struct plans *ps)
{
	struct kp_table t;
	struct kp_buf b;

	kp_buf_init(&b);
	kp_table_init(&t, 5);
	t.header = true;
	kp_table_row(&t, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
	    "NEW-OFFSET");
	for (size_t i = 0; i < ps->n; i++) {
		const struct plan *p = &ps->v[i];
		char part[16], cur[24], next[24];

		if (p->next < 0)
			continue;
		if (kg->g.json) {
			kp_buf_put(&b, "{", 1);
			kg_jstr(&b, "group", group, true);
			kg_jstr(&b, "topic", p->topic, true);
			kg_jint(&b, "partition", p->part, true);
			if (p->cur < 0)
				kp_buf_put(&b, "\"current_offset\":null,", 22);
			else
				kg_jint(&b, "current_offset", p->cur, true);
			kg_jint(&b, "new_offset", p->next, false);
			kp_buf_put(&b, "}", 1);
			kg_jflush(&b);
			continue;
		}
		snprintf(part, sizeof(part), "%d", p->part);
		if (p->cur < 0)
			snprintf(cur, sizeof(cur), "-");
		else
			snprintf(cur, sizeof(cur), "%lld", (long long)p->cur);
		snprintf(next, sizeof(next), "%lld", (long long)p->next);
		kp_table_row(&t, group, p->topic, part, cur, next);
	}
	if (!kg->g.json)
		kg_table_print(&t, kg->table);
	kp_table_release(&t);
	kp_buf_release(&b);
}

/* OffsetCommit outside any generation: only an inactive group takes it. */
static int
execute_plan(struct kg *kg, struct kp_conn *k, const char *group,
    const struct plans *ps)
{
	struct kp_offset_commit_req rq;
	struct kp_offset_commit_resp rs;
	struct kp_offset_commit_req_topic *ts;
	struct kp_offset_commit_req_partition *pp;
	size_t nt = 0, np = 0;
	int rc = 0;

	ts = calloc(ps->n + 1, sizeof(*ts));
	pp = calloc(ps->n + 1, sizeof(*pp));
	if (ts == NULL || pp == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < ps->n; i++) {
		const struct plan *p = &ps->v[i];

		if (p->next < 0)
			continue;
		if (nt == 0 || strcmp(ts[nt - 1].name.ptr, p->topic) != 0) {
			kp_offset_commit_req_topic_init(&ts[nt]);
			ts[nt].name.ptr = p->topic;
			ts[nt].name.len = (int32_t)strlen(p->topic);
			ts[nt].partitions = &pp[np];
			nt++;
		}
		kp_offset_commit_req_partition_init(&pp[np]);
		pp[np].partition_index = p->part;
		pp[np].committed_offset = p->next;
		pp[np].committed_leader_epoch = -1;
		pp[np].committed_metadata.ptr = "";
		pp[np].committed_metadata.len = 0;
		ts[nt - 1].n_partitions++;
		np++;
	}
	kp_offset_commit_req_init(&rq);
	rq.group_id.ptr = group;
	rq.group_id.len = (int32_t)strlen(group);
	rq.generation_id_or_member_epoch = -1;
	rq.member_id.ptr = "";
	rq.member_id.len = 0;
	rq.retention_time_ms = -1;
	rq.topics = ts;
	rq.n_topics = (int32_t)nt;
	kg_call(kg, k, KP_API_OFFSET_COMMIT, 2, 7, &kp_msg_offset_commit_req,
	    &rq, &kp_msg_offset_commit_resp, &rs, NULL);
	for (int32_t t = 0; t < rs.n_topics; t++)
		for (int32_t p = 0; p < rs.topics[t].n_partitions; p++) {
			int16_t e = rs.topics[t].partitions[p].error_code;

			if (e == KP_NONE)
				continue;
			warnx("group '%s': topic '%.*s' partition %d: %s%s",
			    group, (int)rs.topics[t].name.len,
			    rs.topics[t].name.ptr,
			    rs.topics[t].partitions[p].partition_index,
			    kp_kerr_name(e), e == KP_UNKNOWN_MEMBER_ID ?
			    " (the group has active members)" : "");
			rc = e == KP_UNKNOWN_MEMBER_ID ||
			    e == KP_REBALANCE_IN_PROGRESS ? EX_TEMPFAIL :
			    EX_DATAERR;
		}
	free(ts);
	free(pp);
	return rc;
}

enum { OPT_EXECUTE = 256, OPT_EARLIEST, OPT_LATEST, OPT_DATETIME,
    OPT_OFFSET, OPT_SHIFT, OPT_FILE };

static void
set_how(enum how *how, enum how v)
{
	if (*how != TO_NONE)
		errx(EX_USAGE, "reset: give one of --to-earliest, --to-latest, "
		    "--to-datetime, --to-offset, --shift-by, --from-file");
	*how = v;
}

int
kg_reset(struct kg *kg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "execute",	 no_argument,	    NULL, OPT_EXECUTE },
		{ "from-file",	 required_argument, NULL, OPT_FILE },
		{ "shift-by",	 required_argument, NULL, OPT_SHIFT },
		{ "to-datetime", required_argument, NULL, OPT_DATETIME },
		{ "to-earliest", no_argument,	    NULL, OPT_EARLIEST },
		{ "to-latest",	 no_argument,	    NULL, OPT_LATEST },
		{ "to-offset",	 required_argument, NULL, OPT_OFFSET },
		{ "topic",	 required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct kg_scope *sc = NULL;
	struct plans ps = { NULL, 0 };
	enum how how = TO_NONE;
	const char *group, *file = NULL, *es, *tp;
	bool execute = false;
	size_t nsc = 0;
	int64_t arg = 0;
	int32_t members;
	char state[64];
	struct kp_conn *k;
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			kg_scope_add(&sc, &nsc, optarg);
			break;
		case OPT_EXECUTE:
			execute = true;
			break;
		case OPT_EARLIEST:
			set_how(&how, TO_EARLIEST);
			break;
		case OPT_LATEST:
			set_how(&how, TO_LATEST);
			break;
		case OPT_DATETIME:
			set_how(&how, TO_DATETIME);
			tp = optarg;
			if (kp_time_parse(&tp, kp_now_ms(), &arg) < 0 ||
			    *tp != '\0')
				errx(EX_USAGE, "time '%s': not a time", optarg);
			break;
		case OPT_OFFSET:
			set_how(&how, TO_OFFSET);
			arg = strtonum(optarg, 0, INT64_MAX, &es);
			if (es != NULL)
				errx(EX_USAGE, "offset '%s': %s", optarg, es);
			break;
		case OPT_SHIFT:
			set_how(&how, SHIFT_BY);
			arg = strtonum(optarg, INT64_MIN / 2, INT64_MAX / 2,
			    &es);
			if (es != NULL)
				errx(EX_USAGE, "shift '%s': %s", optarg, es);
			break;
		case OPT_FILE:
			set_how(&how, FROM_FILE);
			file = optarg;
			break;
		default:
			return EX_USAGE;
		}
	}
	if (how == TO_NONE)
		errx(EX_USAGE, "reset: say where to: --to-earliest, "
		    "--to-latest, --to-datetime, --to-offset, --shift-by or "
		    "--from-file");
	if (how == FROM_FILE && nsc > 0)
		errx(EX_USAGE, "reset: --from-file names its own partitions");
	if (optind + 1 != argc)
		errx(EX_USAGE, "reset: give exactly one group");
	group = argv[optind];
	k = kg_coordinator(kg, group);
	group_state(kg, k, group, state, sizeof(state), &members);
	if (strcmp(state, "Empty") != 0 && strcmp(state, "Dead") != 0)
		errx(EX_TEMPFAIL, "group '%s': %s with %d active member(s); "
		    "offsets can be reset only while no consumer is in it",
		    group, state, members);
	if (how == FROM_FILE) {
		read_plan_file(file, &ps);
		fetch_committed(kg, k, group, &ps, NULL, 0, false);
	} else if (nsc > 0) {
		for (size_t i = 0; i < nsc; i++)
			scope_partitions(kg, &sc[i], &ps);
		fetch_committed(kg, k, group, &ps, sc, nsc, false);
	} else {
		fetch_committed(kg, k, group, &ps, NULL, 0, true);
		if (ps.n == 0)
			errx(EX_DATAERR, "group '%s': no committed offsets; "
			    "name the topics with -t", group);
	}
	if (ps.n > 1)
		qsort(ps.v, ps.n, sizeof(*ps.v), plan_cmp);
	for (size_t i = 0, j; i < ps.n; i = j) {
		int r;

		for (j = i; j < ps.n && !strcmp(ps.v[j].topic, ps.v[i].topic);
		    j++)
			;
		if ((r = compute_topic(kg, &ps.v[i], j - i, how, arg)) != 0)
			rc = r;
	}
	print_plan(kg, group, &ps);
	if (execute) {
		int r = execute_plan(kg, k, group, &ps);

		if (r != 0)
			rc = r;
	} else if (isatty(2)) {
		fprintf(stderr, "%s: dry run, nothing changed: add --execute "
		    "to apply\n", getprogname());
	}
	plans_release(&ps);
	for (size_t i = 0; i < nsc; i++) {
		free(sc[i].topic);
		free(sc[i].parts);
	}
	free(sc);
	return rc;
}

/* ---- delete ---- */

int
kg_delete(struct kg *kg, int argc, char **argv)
{
	int rc = 0;

	if (argc < 2)
		errx(EX_USAGE, "delete: which group?");
	for (int i = 1; i < argc; i++) {
		struct kp_delete_groups_req rq;
		struct kp_delete_groups_resp rs;
		struct kp_str id = { argv[i], (int32_t)strlen(argv[i]) };
		struct kp_conn *k = kg_coordinator(kg, argv[i]);
		int16_t e;

		kp_delete_groups_req_init(&rq);
		rq.groups_names = &id;
		rq.n_groups_names = 1;
		kg_call(kg, k, KP_API_DELETE_GROUPS, 0, 1,
		    &kp_msg_delete_groups_req, &rq, &kp_msg_delete_groups_resp,
		    &rs, NULL);
		e = rs.n_results == 1 ? rs.results[0].error_code :
		    KP_UNKNOWN_SERVER_ERROR;
		if (e == KP_NONE)
			continue;
		warnx("group '%s': %s", argv[i], kp_kerr_name(e));
		rc = e == KP_GROUP_ID_NOT_FOUND ? EX_DATAERR :
		    e == KP_NON_EMPTY_GROUP ? EX_TEMPFAIL : EX_UNAVAILABLE;
	}
	return rc;
}

/* ---- delete-offsets ---- */

int
kg_delete_offsets(struct kg *kg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic",	required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct kp_offset_delete_req rq;
	struct kp_offset_delete_resp rs;
	struct kp_offset_delete_req_topic *ts;
	struct kp_offset_delete_req_partition *pp;
	struct kg_scope *sc = NULL;
	struct plans ps = { NULL, 0 };
	struct kp_table t;
	struct kp_buf b;
	struct kp_conn *k;
	const char *group;
	size_t nsc = 0, nt = 0;
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			kg_scope_add(&sc, &nsc, optarg);
			break;
		default:
			return EX_USAGE;
		}
	}
	if (nsc == 0)
		errx(EX_USAGE, "delete-offsets: name topics with -t");
	if (optind + 1 != argc)
		errx(EX_USAGE, "delete-offsets: give exactly one group");
	group = argv[optind];
	k = kg_coordinator(kg, group);
	for (size_t i = 0; i < nsc; i++)
		scope_partitions(kg, &sc[i], &ps);
	if (ps.n > 1)
		qsort(ps.v, ps.n, sizeof(*ps.v), plan_cmp);
	ts = calloc(ps.n + 1, sizeof(*ts));
	pp = calloc(ps.n + 1, sizeof(*pp));
	if (ts == NULL || pp == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < ps.n; i++) {
		if (nt == 0 || strcmp(ts[nt - 1].name.ptr, ps.v[i].topic)) {
			kp_offset_delete_req_topic_init(&ts[nt]);
			ts[nt].name.ptr = ps.v[i].topic;
			ts[nt].name.len = (int32_t)strlen(ps.v[i].topic);
			ts[nt].partitions = &pp[i];
			nt++;
		}
		kp_offset_delete_req_partition_init(&pp[i]);
		pp[i].partition_index = ps.v[i].part;
		ts[nt - 1].n_partitions++;
	}
	kp_offset_delete_req_init(&rq);
	rq.group_id.ptr = group;
	rq.group_id.len = (int32_t)strlen(group);
	rq.topics = ts;
	rq.n_topics = (int32_t)nt;
	kg_call(kg, k, KP_API_OFFSET_DELETE, 0, 0, &kp_msg_offset_delete_req,
	    &rq, &kp_msg_offset_delete_resp, &rs, NULL);
	if (rs.error_code != KP_NONE)
		errx(rs.error_code == KP_GROUP_ID_NOT_FOUND ? EX_DATAERR :
		    EX_TEMPFAIL, "group '%s': %s", group,
		    kp_kerr_name(rs.error_code));
	kp_buf_init(&b);
	kp_table_init(&t, 3);
	t.header = true;
	kp_table_row(&t, "TOPIC", "PARTITION", "STATUS");
	for (int32_t i = 0; i < rs.n_topics; i++) {
		char topic[256], part[16];

		snprintf(topic, sizeof(topic), "%.*s",
		    (int)rs.topics[i].name.len, rs.topics[i].name.ptr);
		for (int32_t p = 0; p < rs.topics[i].n_partitions; p++) {
			int16_t e = rs.topics[i].partitions[p].error_code;
			const char *st = e == KP_NONE ? "deleted" :
			    kp_kerr_name(e);

			if (e != KP_NONE)
				rc = e == KP_GROUP_SUBSCRIBED_TO_TOPIC ?
				    EX_TEMPFAIL : EX_DATAERR;
			snprintf(part, sizeof(part), "%d",
			    rs.topics[i].partitions[p].partition_index);
			if (kg->g.json) {
				kp_buf_put(&b, "{", 1);
				kg_jstr(&b, "group", group, true);
				kg_jstr(&b, "topic", topic, true);
				kg_jint(&b, "partition", rs.topics[i].
				    partitions[p].partition_index, true);
				kg_jstr(&b, "error", e == KP_NONE ? NULL : st,
				    false);
				kp_buf_put(&b, "}", 1);
				kg_jflush(&b);
			} else
				kp_table_row(&t, topic, part, st);
		}
	}
	if (!kg->g.json)
		kg_table_print(&t, kg->table);
	kp_table_release(&t);
	kp_buf_release(&b);
	plans_release(&ps);
	free(ts);
	free(pp);
	for (size_t i = 0; i < nsc; i++) {
		free(sc[i].topic);
		free(sc[i].parts);
	}
	free(sc);
	return rc;
}
