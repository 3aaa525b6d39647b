/* describe.c -- kgroup list and describe: groups, members, offsets and lag */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "kgroup.h"
#include "kp_err.h"
#include "kp_proto_consumer.h"
#include "kp_proto_group.h"

/* ---- list ---- */

struct lgroup {
	char	*id;
	char	*state;		/* NULL when the broker does not say */
	char	*ptype;
};

static int
lgroup_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lgroup *)a)->id,
	    ((const struct lgroup *)b)->id);
}

int
kg_list(struct kg *kg, int argc, char **argv)
{
	struct kp_client *c = kg_client(kg);
	const struct kp_broker_meta *bm;
	struct lgroup *v = NULL;
	struct kp_table t;
	struct kp_buf b;
	size_t nb, n = 0;

	(void)argv;
	if (argc > 1)
		errx(EX_USAGE, "list takes no arguments");
	if (kp_client_metadata(c, NULL, 0, false) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	bm = kp_client_brokers(c, &nb);
	/* Each broker knows the groups it coordinates. */
	for (size_t i = 0; i < (nb ? nb : 1); i++) {
		struct kp_list_groups_req rq;
		struct kp_list_groups_resp rs;
		struct kp_conn *k = nb ? kp_client_conn(c, bm[i].id) : NULL;

		if (k == NULL && (k = kp_client_conn(c, -1)) == NULL)
			errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
		kp_list_groups_req_init(&rq);
		kg_call(kg, k, KP_API_LIST_GROUPS, 0, 4,
		    &kp_msg_list_groups_req, &rq, &kp_msg_list_groups_resp,
		    &rs, NULL);
		if (rs.error_code != KP_NONE)
			errx(EX_UNAVAILABLE, "%s: ListGroups: %s",
			    kp_conn_name(k), kp_kerr_name(rs.error_code));
		for (int32_t g = 0; g < rs.n_groups; g++) {
			struct lgroup *nv = reallocarray(v, n + 1, sizeof(*v));

			if (nv == NULL)
				err(EX_OSERR, "reallocarray");
			v = nv;
			v[n].id = kp_str_dup(&rs.groups[g].group_id);
			v[n].state = kp_str_dup(&rs.groups[g].group_state);
			v[n].ptype = kp_str_dup(&rs.groups[g].protocol_type);
			if (v[n].id == NULL)
				err(EX_OSERR, "strdup");
			n++;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), lgroup_cmp);
	kp_buf_init(&b);
	kp_table_init(&t, 3);
	t.header = true;
	kp_table_row(&t, "GROUP", "STATE", "PROTOCOL-TYPE");
	for (size_t i = 0; i < n; i++) {
		const char *st = v[i].state && v[i].state[0] ? v[i].state :
		    "-";
		const char *pt = v[i].ptype && v[i].ptype[0] ? v[i].ptype :
		    "-";

		if (kg->g.json) {
			kp_buf_put(&b, "{", 1);
			kg_jstr(&b, "group", v[i].id, true);
			kg_jstr(&b, "state", v[i].state && v[i].state[0] ?
			    v[i].state : NULL, true);
			kg_jstr(&b, "protocol_type", v[i].ptype ? v[i].ptype :
			    "", false);
			kp_buf_put(&b, "}", 1);
			kg_jflush(&b);
		} else if (kg->table)
			kp_table_row(&t, v[i].id, st, pt);
		else
			printf("%s\n", v[i].id);
		free(v[i].id);
		free(v[i].state);
		free(v[i].ptype);
	}
	if (kg->table)
		kg_table_print(&t, true);
	kp_table_release(&t);
	kp_buf_release(&b);
	free(v);
	return 0;
}

/* ---- describe ---- */

struct drow {
	char		*topic;
	int32_t		 part;
	int64_t		 cur;		/* -1: nothing committed */
	int64_t		 leo;		/* -1: unknown */
	int		 member;	/* index into the members, -1 none */
};

struct dmember {
	char	*id;
	char	*instance;
	char	*host;
	char	*client;
	size_t	 nparts;
	char	*assign;	/* "t(0,1) u(2)" */
};

struct dgroup {
	char		*id;
	char		*state;
	char		*ptype;
	char		*proto;
	struct dmember	*m;
	size_t		 nm;
	struct drow	*r;
	size_t		 nr;
	char		 coord[128];
};

static int
drow_cmp(const void *a, const void *b)
{
	const struct drow *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->part > y->part) - (x->part < y->part);
}

static struct drow *
row_get(struct dgroup *g, const char *topic, int32_t part)
{
	struct drow *v;

	for (size_t i = 0; i < g->nr; i++)
		if (g->r[i].part == part && strcmp(g->r[i].topic, topic) == 0)
			return &g->r[i];
	if ((v = reallocarray(g->r, g->nr + 1, sizeof(*v))) == NULL)
		err(EX_OSERR, "reallocarray");
	g->r = v;
	v = &g->r[g->nr++];
	if ((v->topic = strdup(topic)) == NULL)
		err(EX_OSERR, "strdup");
	v->part = part;
	v->cur = -1;
	v->leo = -1;
	v->member = -1;
	return v;
}

static char *
dupstr(const struct kp_str *s)
{
	char *p = kp_str_dup(s);

	if (p == NULL && s->len >= 0)
		err(EX_OSERR, "strdup");
	return p;
}

/* A member's partitions from its ConsumerProtocolAssignment. */
static void
take_member_assignment(struct kg *kg, struct dgroup *g, size_t mi,
    const struct kp_bytes *a)
{
	struct kp_consumer_assignment ca;
	struct kp_buf s;
	int16_t ver;

	if (a->len <= 0 || kp_consumer_assignment_decode(a->ptr,
	    (size_t)a->len, &ver, &ca, &kg->arena) < 0)
		return;
	kp_buf_init(&s);
	for (int32_t t = 0; t < ca.n_assigned_partitions; t++) {
		const struct kp_consumer_assignment_topic_partition *tp =
		    &ca.assigned_partitions[t];
		char *topic = dupstr(&tp->topic);

		if (topic == NULL)
			continue;
		if (s.len > 0)
			kp_buf_put(&s, " ", 1);
		kp_buf_put(&s, topic, strlen(topic));
		kp_buf_put(&s, "(", 1);
		for (int32_t k = 0; k < tp->n_partitions; k++) {
			char num[16];

			snprintf(num, sizeof(num), "%s%d", k ? "," : "",
			    tp->partitions[k]);
			kp_buf_put(&s, num, strlen(num));
			row_get(g, topic, tp->partitions[k])->member = (int)mi;
			g->m[mi].nparts++;
		}
		kp_buf_put(&s, ")", 1);
		free(topic);
	}
	kp_buf_put(&s, "", 1);
	g->m[mi].assign = strdup(s.err ? "" : (char *)s.data);
	kp_buf_release(&s);
}

static void
describe_state(struct kg *kg, struct kp_conn *k, struct dgroup *g)
{
	struct kp_describe_groups_req rq;
	struct kp_describe_groups_resp rs;
	struct kp_str id = { g->id, (int32_t)strlen(g->id) };
	const struct kp_describe_groups_resp_described_group *d;

	kp_describe_groups_req_init(&rq);
	rq.groups = &id;
	rq.n_groups = 1;
	kg_call(kg, k, KP_API_DESCRIBE_GROUPS, 0, 4,
	    &kp_msg_describe_groups_req, &rq, &kp_msg_describe_groups_resp,
	    &rs, NULL);
	if (rs.n_groups != 1)
		errx(EX_PROTOCOL, "group '%s': DescribeGroups: no answer",
		    g->id);
	d = &rs.groups[0];
	if (d->error_code != KP_NONE)
		errx(EX_UNAVAILABLE, "group '%s': %s", g->id,
		    kp_kerr_name(d->error_code));
	g->state = dupstr(&d->group_state);
	g->ptype = dupstr(&d->protocol_type);
	g->proto = dupstr(&d->protocol_data);
	g->nm = (size_t)(d->n_members > 0 ? d->n_members : 0);
	if ((g->m = calloc(g->nm + 1, sizeof(*g->m))) == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < g->nm; i++) {
		const struct kp_describe_groups_resp_described_group_member
		    *dm = &d->members[i];

		g->m[i].id = dupstr(&dm->member_id);
		g->m[i].instance = dupstr(&dm->group_instance_id);
		g->m[i].host = dupstr(&dm->client_host);
		g->m[i].client = dupstr(&dm->client_id);
		if (g->ptype != NULL && strcmp(g->ptype, "consumer") == 0)
			take_member_assignment(kg, g, i,
			    &dm->member_assignment);
	}
}

static void
describe_offsets(struct kg *kg, struct kp_conn *k, struct dgroup *g)
{
	struct kp_offset_fetch_req rq;
	struct kp_offset_fetch_resp rs;

	kp_offset_fetch_req_init(&rq);
	rq.group_id.ptr = g->id;
	rq.group_id.len = (int32_t)strlen(g->id);
	rq.topics = NULL;
	rq.n_topics = -1;		/* every committed offset (v2+) */
	kg_call(kg, k, KP_API_OFFSET_FETCH, 2, 5, &kp_msg_offset_fetch_req,
	    &rq, &kp_msg_offset_fetch_resp, &rs, NULL);
	if (rs.error_code != KP_NONE)
		errx(EX_UNAVAILABLE, "group '%s': OffsetFetch: %s", g->id,
		    kp_kerr_name(rs.error_code));
	for (int32_t t = 0; t < rs.n_topics; t++) {
		char *topic = dupstr(&rs.topics[t].name);

		for (int32_t p = 0; p < rs.topics[t].n_partitions; p++) {
			const struct kp_offset_fetch_resp_partition *rp =
			    &rs.topics[t].partitions[p];

			if (rp->error_code == KP_NONE &&
			    rp->committed_offset >= 0)
				row_get(g, topic, rp->partition_index)->cur =
				    rp->committed_offset;
		}
		free(topic);
	}
}

/* Log end offsets, topic by topic; unknown topics stay "-". */
static void
describe_ends(struct kg *kg, struct dgroup *g)
{
	struct kp_client *c = kg_client(kg);

	if (g->nr > 1)
		qsort(g->r, g->nr, sizeof(*g->r), drow_cmp);
	for (size_t i = 0, j; i < g->nr; i = j) {
		int32_t *ids;
		int64_t *out;
		int16_t *fail;
		const char *topic = g->r[i].topic;

		for (j = i; j < g->nr && strcmp(g->r[j].topic, topic) == 0; j++)
			;
		ids = calloc(j - i, sizeof(*ids));
		out = calloc(j - i, sizeof(*out));
		fail = calloc(j - i, sizeof(*fail));
		if (ids == NULL || out == NULL || fail == NULL)
			err(EX_OSERR, "calloc");
		for (size_t k = i; k < j; k++)
			ids[k - i] = g->r[k].part;
		/* an offline partition's end stays "-", not the topic's */
		if (kp_client_metadata(c, &topic, 1, false) == 0 &&
		    kp_client_list_offsets_some(c, topic, ids, j - i, -1, out,
		    fail) == 0)
			for (size_t k = i; k < j; k++)
				if (fail[k - i] == 0)
					g->r[k].leo = out[k - i];
		free(ids);
		free(out);
		free(fail);
	}
}

static void
dgroup_release(struct dgroup *g)
{
	for (size_t i = 0; i < g->nm; i++) {
		free(g->m[i].id);
		free(g->m[i].instance);
		free(g->m[i].host);
		free(g->m[i].client);
		free(g->m[i].assign);
	}
	for (size_t i = 0; i < g->nr; i++)
		free(g->r[i].topic);
	free(g->m);
	free(g->r);
	free(g->state);
	free(g->ptype);
	free(g->proto);
}

static void
num(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld", (long long)v);
}

static int64_t
lag_of(const struct drow *r)
{
	if (r->cur < 0 || r->leo < 0)
		return -1;
	return r->leo > r->cur ? r->leo - r->cur : 0;
}

static void
print_offsets(struct kg *kg, struct dgroup *g)
{
	struct kp_table t;
	struct kp_buf b;
	int64_t total = 0;

	kp_buf_init(&b);
	kp_table_init(&t, 9);
	t.header = true;
	kp_table_row(&t, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
	    "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");
	if (kg->g.json) {
		kp_buf_put(&b, "{", 1);
		kg_jstr(&b, "group", g->id, true);
		kg_jstr(&b, "state", g->state, true);
		kp_buf_put(&b, "\"partitions\":[", 14);
	}
	for (size_t i = 0; i < g->nr; i++) {
		const struct drow *r = &g->r[i];
		const struct dmember *m = r->member >= 0 ? &g->m[r->member] :
		    NULL;
		char p[16], cur[24], leo[24], lag[24];
		int64_t l = lag_of(r);

		if (l > 0)
			total += l;
		if (kg->g.json) {
			kp_buf_put(&b, i ? ",{" : "{", i ? 2 : 1);
			kg_jstr(&b, "topic", r->topic, true);
			kg_jint(&b, "partition", r->part, true);
			kp_buf_put(&b, "\"current_offset\":", 17);
			num(cur, sizeof(cur), r->cur);
			kp_buf_put(&b, r->cur < 0 ? "null" : cur,
			    strlen(r->cur < 0 ? "null" : cur));
			kp_buf_put(&b, ",\"log_end_offset\":", 18);
			num(leo, sizeof(leo), r->leo);
			kp_buf_put(&b, r->leo < 0 ? "null" : leo,
			    strlen(r->leo < 0 ? "null" : leo));
			kp_buf_put(&b, ",\"lag\":", 7);
			num(lag, sizeof(lag), l);
			kp_buf_put(&b, l < 0 ? "null" : lag,
			    strlen(l < 0 ? "null" : lag));
			kp_buf_put(&b, ",", 1);
			kg_jstr(&b, "consumer_id", m ? m->id : NULL, true);
			kg_jstr(&b, "host", m ? m->host : NULL, true);
			kg_jstr(&b, "client_id", m ? m->client : NULL, false);
			kp_buf_put(&b, "}", 1);
			continue;
		}
		snprintf(p, sizeof(p), "%d", r->part);
		num(cur, sizeof(cur), r->cur);
		num(leo, sizeof(leo), r->leo);
		num(lag, sizeof(lag), l);
		kp_table_row(&t, g->id, r->topic, p, cur, leo, lag,
		    m ? m->id : "-", m ? m->host : "-", m ? m->client : "-");
	}
	if (kg->g.json) {
		kp_buf_put(&b, "],", 2);
		kg_jint(&b, "total_lag", total, false);
		kp_buf_put(&b, "}", 1);
		kg_jflush(&b);
	} else {
		kg_table_print(&t, kg->table);
		if (kg->table)
			printf("\nTOTAL-LAG %lld (group '%s', %s, %zu "
			    "member(s))\n", (long long)total, g->id, g->state,
			    g->nm);
	}
	kp_table_release(&t);
	kp_buf_release(&b);
}

static void
print_members(struct kg *kg, struct dgroup *g)
{
	struct kp_table t;
	struct kp_buf b;

	kp_buf_init(&b);
	kp_table_init(&t, 7);
	t.header = true;
	kp_table_row(&t, "GROUP", "CONSUMER-ID", "INSTANCE-ID", "HOST",
	    "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT");
	for (size_t i = 0; i < g->nm; i++) {
		const struct dmember *m = &g->m[i];
		char np[16];

		if (kg->g.json) {
			kp_buf_put(&b, "{", 1);
			kg_jstr(&b, "group", g->id, true);
			kg_jstr(&b, "consumer_id", m->id, true);
			kg_jstr(&b, "instance_id", m->instance, true);
			kg_jstr(&b, "host", m->host, true);
			kg_jstr(&b, "client_id", m->client, true);
			kg_jint(&b, "partitions", (int64_t)m->nparts, true);
			kg_jstr(&b, "assignment", m->assign ? m->assign : "",
			    false);
			kp_buf_put(&b, "}", 1);
			kg_jflush(&b);
			continue;
		}
		snprintf(np, sizeof(np), "%zu", m->nparts);
		kp_table_row(&t, g->id, m->id, m->instance ? m->instance : "-",
		    m->host, m->client, np, m->assign && m->assign[0] ?
		    m->assign : "-");
	}
	if (!kg->g.json)
		kg_table_print(&t, kg->table);
	kp_table_release(&t);
	kp_buf_release(&b);
}

static void
print_state(struct kg *kg, struct dgroup *g)
{
	struct kp_table t;
	struct kp_buf b;
	char nm[16];

	if (kg->g.json) {
		kp_buf_init(&b);
		kp_buf_put(&b, "{", 1);
		kg_jstr(&b, "group", g->id, true);
		kg_jstr(&b, "coordinator", g->coord, true);
		kg_jstr(&b, "protocol_type", g->ptype, true);
		kg_jstr(&b, "assignment_strategy", g->proto, true);
		kg_jstr(&b, "state", g->state, true);
		kg_jint(&b, "members", (int64_t)g->nm, false);
		kp_buf_put(&b, "}", 1);
		kg_jflush(&b);
		kp_buf_release(&b);
		return;
	}
	kp_table_init(&t, 5);
	t.header = true;
	kp_table_row(&t, "GROUP", "COORDINATOR", "ASSIGNMENT-STRATEGY",
	    "STATE", "#MEMBERS");
	snprintf(nm, sizeof(nm), "%zu", g->nm);
	kp_table_row(&t, g->id, g->coord, g->proto && g->proto[0] ? g->proto :
	    "-", g->state, nm);
	kg_table_print(&t, kg->table);
	kp_table_release(&t);
}

enum { OPT_MEMBERS = 256, OPT_STATE };

int
kg_describe(struct kg *kg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "members",	no_argument,	NULL, OPT_MEMBERS },
		{ "state",	no_argument,	NULL, OPT_STATE },
		{ NULL, 0, NULL, 0 }
	};
	bool members = false, state = false;
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_MEMBERS:
			members = true;
			break;
		case OPT_STATE:
			state = true;
			break;
		default:
			return EX_USAGE;
		}
	}
	if (members && state)
		errx(EX_USAGE, "--members and --state are exclusive");
	if (optind >= argc)
		errx(EX_USAGE, "describe: which group?");
	for (int i = optind; i < argc; i++) {
		struct dgroup g;
		struct kp_conn *k = kg_coordinator(kg, argv[i]);

		memset(&g, 0, sizeof(g));
		g.id = argv[i];
		snprintf(g.coord, sizeof(g.coord), "%s (%d)", kp_conn_name(k),
		    kp_conn_node(k));
		describe_state(kg, k, &g);
		if (!members && !state)
			describe_offsets(kg, k, &g);
		if (g.state != NULL && strcmp(g.state, "Dead") == 0 &&
		    g.nr == 0) {
			warnx("group '%s': %s", argv[i],
			    kp_kerr_name(KP_GROUP_ID_NOT_FOUND));
			rc = EX_DATAERR;
			dgroup_release(&g);
			continue;
		}
		if (kg->table && i > optind)
			printf("\n");
		if (members) {
			print_members(kg, &g);
		} else if (state) {
			print_state(kg, &g);
		} else {
			describe_ends(kg, &g);
			print_offsets(kg, &g);
		}
		dgroup_release(&g);
	}
	return rc;
}
