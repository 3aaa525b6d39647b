/* kp_gmember.c -- a consumer group member: join, sync, heartbeat, commit, leave */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_client.h"
#include "kp_err.h"
#include "kp_gmember.h"
#include "kp_proto_consumer.h"
#include "kp_proto_group.h"

#define JOIN_ATTEMPTS	200	/* rejoin rounds before giving up */
#define CONN_FAILURES	5	/* coordinator failures in a row */

struct kp_gmember {
	struct kp_client	*c;
	struct kp_gmember_opts	 o;
	char			*group;
	char			*instance_id;
	char			**topics;
	struct kp_buf		 sub;		/* our subscription bytes */
	struct kp_conn		*coord;
	char			*member_id;	/* "" before the first join */
	int32_t			 generation;
	bool			 leader;
	struct kp_assign_tp	*assigned;
	size_t			 nassigned;
	char			**anames;	/* owned topic names */
	size_t			 nanames;
	int64_t			 last_hb;
	int			 failures;
	volatile int		*stop;		/* during kp_gmember_join */
	char			 err[512];
	int16_t			 kerr;
	struct kp_arena		 arena;
	struct kp_buf		 body;
};

static int
fail(struct kp_gmember *m, int16_t kerr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct kp_gmember *m, int16_t kerr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	m->kerr = kerr;
	return -1;
}

const char *
kp_gmember_error(const struct kp_gmember *m)
{
	return m->err;
}

int16_t
kp_gmember_kerr(const struct kp_gmember *m)
{
	return m->kerr;
}

static void
set_member_id(struct kp_gmember *m, const struct kp_str *s)
{
	char *n = kp_str_dup(s);

	if (n == NULL)
		n = strdup("");
	if (n == NULL)
		return;
	free(m->member_id);
	m->member_id = n;
}

static void
clear_assignment(struct kp_gmember *m)
{
	for (size_t i = 0; i < m->nanames; i++)
		free(m->anames[i]);
	free(m->anames);
	free(m->assigned);
	m->anames = NULL;
	m->nanames = 0;
	m->assigned = NULL;
	m->nassigned = 0;
}

struct kp_gmember *
kp_gmember_new(const struct kp_gmember_opts *o, char *why, size_t whylen)
{
	struct kp_gmember *m = calloc(1, sizeof(*m));
	struct kp_client_opts co = { 0 };
	struct kp_consumer_subscription s;
	struct kp_str *ts = NULL;

	if (m == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	m->o = *o;
	if (m->o.session_ms <= 0)
		m->o.session_ms = 10000;
	if (m->o.rebalance_ms <= 0)
		m->o.rebalance_ms = 60000;
	if (m->o.heartbeat_ms <= 0)
		m->o.heartbeat_ms = m->o.session_ms / 3;
	kp_buf_init(&m->sub);
	kp_buf_init(&m->body);
	kp_arena_init(&m->arena);
	m->generation = -1;
	m->group = strdup(o->group);
	m->instance_id = o->instance_id ? strdup(o->instance_id) : NULL;
	m->member_id = strdup("");
	m->topics = calloc(o->ntopics + 1, sizeof(*m->topics));
	ts = calloc(o->ntopics + 1, sizeof(*ts));
	if (m->group == NULL || m->member_id == NULL || m->topics == NULL ||
	    ts == NULL || (o->instance_id && m->instance_id == NULL)) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < o->ntopics; i++) {
		if ((m->topics[i] = strdup(o->topics[i])) == NULL) {
			snprintf(why, whylen, "out of memory");
			goto fail;
		}
		ts[i].ptr = m->topics[i];
		ts[i].len = (int32_t)strlen(m->topics[i]);
	}
	m->o.topics = (const char *const *)m->topics;
	m->o.group = m->group;
	m->o.instance_id = m->instance_id;
	/* v0, which every client reads: topics and no user data. */
	kp_consumer_subscription_init(&s);
	s.topics = ts;
	s.n_topics = (int32_t)o->ntopics;
	s.user_data.ptr = NULL;
	s.user_data.len = -1;
	if (kp_consumer_subscription_encode(&m->sub, 0, &s) < 0 ||
	    m->sub.err) {
		snprintf(why, whylen, "cannot encode the subscription");
		goto fail;
	}
	free(ts);
	ts = NULL;
	co.brokers = o->brokers;
	co.client_id = o->client_id;
	/* A JoinGroup waits up to the group's rebalance timeout. */
	co.timeout_ms = m->o.rebalance_ms + m->o.session_ms + 5000;
	if ((m->c = kp_client_new(&co, why, whylen)) == NULL)
		goto fail;
	return m;
fail:
	free(ts);
	kp_gmember_free(m);
	return NULL;
}

void
kp_gmember_free(struct kp_gmember *m)
{
	if (m == NULL)
		return;
	kp_client_free(m->c);
	clear_assignment(m);
	for (size_t i = 0; m->topics != NULL && i < m->o.ntopics; i++)
		free(m->topics[i]);
	free(m->topics);
	free(m->group);
	free(m->instance_id);
	free(m->member_id);
	kp_buf_release(&m->sub);
	kp_buf_release(&m->body);
	kp_arena_release(&m->arena);
	free(m);
}

const struct kp_assign_tp *
kp_gmember_assigned(const struct kp_gmember *m, size_t *n)
{
	*n = m->nassigned;
	return m->assigned;
}

int32_t
kp_gmember_generation(const struct kp_gmember *m)
{
	return m->generation;
}

const char *
kp_gmember_member_id(const struct kp_gmember *m)
{
	return m->member_id;
}

bool
kp_gmember_is_leader(const struct kp_gmember *m)
{
	return m->leader;
}

static struct kp_str
str(const char *s)
{
	struct kp_str k = { s, s ? (int32_t)strlen(s) : -1 };

	return k;
}

/* FindCoordinator and a connection to it. */
static int
find_coordinator(struct kp_gmember *m)
{
	struct kp_find_coordinator_req rq;
	struct kp_find_coordinator_resp rs;
	struct kp_conn *k;
	int16_t v;

	m->coord = NULL;
	if ((k = kp_client_conn(m->c, -1)) == NULL)
		return fail(m, 0, "%s", kp_client_error(m->c));
	if ((v = kp_conn_version(k, KP_API_FIND_COORDINATOR, 0, 2)) < 0)
		return fail(m, 0, "%s", kp_client_error(m->c));
	kp_find_coordinator_req_init(&rq);
	rq.key = str(m->group);
	kp_arena_reset(&m->arena);
	if (kp_conn_exchange(k, KP_API_FIND_COORDINATOR, v,
	    &kp_msg_find_coordinator_req, &rq, &kp_msg_find_coordinator_resp,
	    &rs, &m->arena, &m->body) < 0)
		return fail(m, kp_client_kerr(m->c), "%s",
		    kp_client_error(m->c));
	if (rs.error_code != KP_NONE)
		return fail(m, rs.error_code, "group '%s': FindCoordinator: %s",
		    m->group, kp_kerr_name(rs.error_code));
	if (kp_client_metadata(m->c, NULL, 0, false) == 0 &&
	    (m->coord = kp_client_conn(m->c, rs.node_id)) != NULL)
		return 0;
	/* A single broker reached by another address: use that. */
	if ((m->coord = kp_client_conn(m->c, -1)) == NULL)
		return fail(m, 0, "%s", kp_client_error(m->c));
	return 0;
}

static int
coordinator(struct kp_gmember *m)
{
	if (m->coord != NULL && kp_conn_inflight(m->coord) == 0)
		return 0;
	return find_coordinator(m);
}

struct waitcall {
	struct kp_buf	*body;
	bool		 done;
	int		 err;
};

static void
wait_cb(void *arg, struct kp_conn *k, int16_t api, int16_t ver,
    const uint8_t *body, size_t len, int err)
{
	struct waitcall *w = arg;

	(void)k, (void)api, (void)ver;
	w->done = true;
	w->err = err;
	if (body != NULL) {
		kp_buf_reset(w->body);
		kp_buf_put(w->body, body, len);
		if (w->body->err)
			w->err = ENOMEM;
	} else if (err == 0) {
		w->err = EIO;
	}
}

/*
 * kp_conn_exchange that gives up when *m->stop is set: a JoinGroup may
 * wait for the slowest member of the group, and an interrupted kconsume
 * must not wait with it. Giving up drops the connections (the answer
 * would come to nobody).
 */
static int
exchange_stoppable(struct kp_gmember *m, int16_t api, int16_t v,
    const struct kp_msg *reqm, const void *req, const struct kp_msg *respm,
    void *resp)
{
	struct waitcall w = { &m->body, false, 0 };
	int64_t end = kp_mono_ms() + m->o.rebalance_ms + m->o.session_ms +
	    5000;
	struct kp_buf tmp, *b;

	kp_buf_init(&tmp);
	if (kp_proto_encode(&tmp, reqm, v, req) < 0 || tmp.err) {
		kp_buf_release(&tmp);
		return fail(m, 0, "cannot encode %s v%d", kp_api_name(api), v);
	}
	if ((b = kp_conn_request_begin(m->coord, api, v)) == NULL) {
		kp_buf_release(&tmp);
		m->coord = NULL;
		return fail(m, 0, "%s", kp_client_error(m->c));
	}
	kp_buf_put(b, tmp.data, tmp.len);
	kp_buf_release(&tmp);
	if (kp_conn_request_end(m->coord, wait_cb, &w) < 0) {
		m->coord = NULL;
		return fail(m, 0, "%s", kp_client_error(m->c));
	}
	while (!w.done) {
		bool stopped = *m->stop != 0;

		if (stopped || kp_mono_ms() >= end) {
			kp_client_abort(m->c);	/* calls wait_cb now */
			m->coord = NULL;
			return fail(m, stopped ? 0 : KP_REQUEST_TIMED_OUT,
			    "group '%s': %s: %s", m->group, kp_api_name(api),
			    stopped ? "interrupted" : "timed out");
		}
		if (kp_client_poll(m->c, 200) < 0 && errno != EINTR)
			kp_client_abort(m->c);
	}
	if (w.err != 0) {
		m->coord = NULL;
		return fail(m, KP_NETWORK_EXCEPTION, "group '%s': %s: %s",
		    m->group, kp_api_name(api), strerror(w.err));
	}
	kp_proto_init(respm, resp);
	if (kp_proto_decode(m->body.data, m->body.len, respm, v, resp,
	    &m->arena) < 0)
		return fail(m, 0, "group '%s': malformed %s response",
		    m->group, kp_api_name(api));
	return 0;
}

/* One exchange with the coordinator; -1 drops it for next time. */
static int
call(struct kp_gmember *m, int16_t api, int16_t vmin, int16_t vmax,
    const struct kp_msg *reqm, const void *req, const struct kp_msg *respm,
    void *resp, int16_t *ver)
{
	int16_t v;

	if (coordinator(m) < 0)
		return -1;
	if ((v = kp_conn_version(m->coord, api, vmin, vmax)) < 0)
		return fail(m, 0, "%s", kp_client_error(m->c));
	kp_arena_reset(&m->arena);
	if (m->stop != NULL) {
		if (exchange_stoppable(m, api, v, reqm, req, respm, resp) < 0)
			return -1;
	} else if (kp_conn_exchange(m->coord, api, v, reqm, req, respm, resp,
	    &m->arena, &m->body) < 0) {
		m->coord = NULL;
		return fail(m, kp_client_kerr(m->c), "%s",
		    kp_client_error(m->c));
	}
	if (ver != NULL)
		*ver = v;
	return 0;
}

static bool
coordinator_moved(int16_t e)
{
	return e == KP_COORDINATOR_NOT_AVAILABLE || e == KP_NOT_COORDINATOR ||
	    e == KP_COORDINATOR_LOAD_IN_PROGRESS;
}

/* ---- the leader's assignment ---- */

static int
tp_cmp(const void *a, const void *b)
{
	const struct kp_assign_tp *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c : (x->partition > y->partition) -
	    (x->partition < y->partition);
}

/* Encode one member's ConsumerProtocolAssignment v0 into out. */
static int
encode_assignment(const struct kp_assign_member *am, struct kp_buf *out,
    struct kp_arena *a)
{
	struct kp_consumer_assignment ca;
	struct kp_consumer_assignment_topic_partition *tps;
	int32_t nt = 0;

	tps = kp_arena_calloc(a, am->nparts + 1, sizeof(*tps));
	if (tps == NULL)
		return -1;
	for (size_t i = 0; i < am->nparts; i++) {
		if (nt == 0 || strcmp(tps[nt - 1].topic.ptr,
		    am->parts[i].topic) != 0) {
			kp_consumer_assignment_topic_partition_init(&tps[nt]);
			tps[nt].topic = str(am->parts[i].topic);
			tps[nt].partitions = kp_arena_calloc(a, am->nparts,
			    sizeof(int32_t));
			if (tps[nt].partitions == NULL)
				return -1;
			nt++;
		}
		tps[nt - 1].partitions[tps[nt - 1].n_partitions++] =
		    am->parts[i].partition;
	}
	kp_consumer_assignment_init(&ca);
	ca.assigned_partitions = tps;
	ca.n_assigned_partitions = nt;
	ca.user_data.ptr = NULL;
	ca.user_data.len = -1;
	return kp_consumer_assignment_encode(out, 0, &ca) < 0 || out->err ?
	    -1 : 0;
}

/*
 * Run the assignor the group chose over every member's subscription.
 * Fills the SyncGroup assignments (arena memory; bytes in bufs[]).
 */
static int
lead(struct kp_gmember *m, const struct kp_join_group_resp *jr,
    struct kp_sync_group_req *sr, struct kp_buf *bufs, struct kp_arena *la)
{
	size_t n = (size_t)(jr->n_members > 0 ? jr->n_members : 0), nt = 0;
	struct kp_assign_member *am;
	struct kp_assign_topic *at;
	const char **names;
	char *proto = kp_str_dup(&jr->protocol_name);
	int a = proto ? kp_assignor_parse(proto) : -1;
	int rc = -1;

	free(proto);
	if (a < 0)
		return fail(m, KP_INCONSISTENT_GROUP_PROTOCOL,
		    "group '%s': unknown assignor chosen", m->group);
	am = kp_arena_calloc(la, n + 1, sizeof(*am));
	names = kp_arena_calloc(la, 1024, sizeof(*names));
	sr->assignments = kp_arena_calloc(la, n + 1,
	    sizeof(*sr->assignments));
	if (am == NULL || names == NULL || sr->assignments == NULL)
		return fail(m, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct kp_join_group_resp_member *jm = &jr->members[i];
		struct kp_consumer_subscription s;
		const char **ts;
		int16_t ver;

		am[i].member_id = kp_arena_calloc(la,
		    (size_t)jm->member_id.len + 1, 1);
		if (am[i].member_id == NULL)
			return fail(m, 0, "out of memory");
		memcpy((char *)am[i].member_id, jm->member_id.ptr,
		    (size_t)jm->member_id.len);
		if (jm->group_instance_id.len >= 0) {
			char *iid = kp_arena_calloc(la,
			    (size_t)jm->group_instance_id.len + 1, 1);

			if (iid == NULL)
				return fail(m, 0, "out of memory");
			memcpy(iid, jm->group_instance_id.ptr,
			    (size_t)jm->group_instance_id.len);
			am[i].instance_id = iid;
		}
		if (jm->metadata.len <= 0 || kp_consumer_subscription_decode(
		    jm->metadata.ptr, (size_t)jm->metadata.len, &ver, &s,
		    la) < 0)
			continue;	/* subscribes to nothing we can read */
		ts = kp_arena_calloc(la, (size_t)s.n_topics + 1,
		    sizeof(*ts));
		if (ts == NULL)
			return fail(m, 0, "out of memory");
		for (int32_t k = 0; k < s.n_topics; k++) {
			char *t = kp_arena_calloc(la,
			    (size_t)s.topics[k].len + 1, 1);
			size_t j;

			if (t == NULL)
				return fail(m, 0, "out of memory");
			memcpy(t, s.topics[k].ptr, (size_t)s.topics[k].len);
			ts[k] = t;
			for (j = 0; j < nt && strcmp(names[j], t) != 0; j++)
				;
			if (j == nt && nt < 1024)
				names[nt++] = t;
		}
		am[i].topics = ts;
		am[i].ntopics = (size_t)s.n_topics;
	}
	if ((at = kp_arena_calloc(la, nt + 1, sizeof(*at))) == NULL)
		return fail(m, 0, "out of memory");
	if (nt > 0 && kp_client_metadata(m->c, names, nt, false) < 0)
		return fail(m, kp_client_kerr(m->c), "%s",
		    kp_client_error(m->c));
	for (size_t i = 0; i < nt; i++) {
		const struct kp_topic_meta *tm = kp_client_topic(m->c,
		    names[i]);

		at[i].name = names[i];
		at[i].partitions = tm && tm->err == 0 ? tm->nparts : 0;
	}
	if (kp_assign((enum kp_assignor)a, am, n, at, nt) < 0)
		return fail(m, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		kp_buf_init(&bufs[i]);
		if (encode_assignment(&am[i], &bufs[i], la) < 0)
			goto out;
		kp_sync_group_req_assignment_init(&sr->assignments[i]);
		sr->assignments[i].member_id = jr->members[i].member_id;
		sr->assignments[i].assignment.ptr = bufs[i].data;
		sr->assignments[i].assignment.len = (int32_t)bufs[i].len;
	}
	sr->n_assignments = (int32_t)n;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		kp_assign_member_release(&am[i]);
	if (rc < 0)
		fail(m, 0, "cannot encode assignments");
	return rc;
}

/* Take our part from a SyncGroup answer. */
static int
take_assignment(struct kp_gmember *m, const struct kp_bytes *b)
{
	struct kp_consumer_assignment ca;
	struct kp_arena a;
	int16_t ver;
	size_t n = 0;
	int rc = -1;

	clear_assignment(m);
	if (b->len <= 0)
		return 0;	/* nothing for us */
	kp_arena_init(&a);
	if (kp_consumer_assignment_decode(b->ptr, (size_t)b->len, &ver, &ca,
	    &a) < 0) {
		fail(m, 0, "group '%s': malformed assignment", m->group);
		goto out;
	}
	for (int32_t i = 0; i < ca.n_assigned_partitions; i++)
		n += (size_t)(ca.assigned_partitions[i].n_partitions > 0 ?
		    ca.assigned_partitions[i].n_partitions : 0);
	m->assigned = calloc(n + 1, sizeof(*m->assigned));
	m->anames = calloc((size_t)ca.n_assigned_partitions + 1,
	    sizeof(*m->anames));
	if (m->assigned == NULL || m->anames == NULL) {
		fail(m, 0, "out of memory");
		goto out;
	}
	for (int32_t i = 0; i < ca.n_assigned_partitions; i++) {
		const struct kp_consumer_assignment_topic_partition *tp =
		    &ca.assigned_partitions[i];
		char *t = kp_str_dup(&tp->topic);

		if (t == NULL) {
			fail(m, 0, "out of memory");
			goto out;
		}
		m->anames[m->nanames++] = t;
		for (int32_t k = 0; k < tp->n_partitions; k++) {
			m->assigned[m->nassigned].topic = t;
			m->assigned[m->nassigned].partition =
			    tp->partitions[k];
			m->nassigned++;
		}
	}
	qsort(m->assigned, m->nassigned, sizeof(*m->assigned), tp_cmp);
	rc = 0;
out:
	if (rc < 0)
		clear_assignment(m);
	kp_arena_release(&a);
	return rc;
}

/* ---- join ---- */

/* 0 joined, 1 try again, -1 give up. */
static int
join_once(struct kp_gmember *m)
{
	struct kp_join_group_req jq;
	struct kp_join_group_resp jr;
	struct kp_join_group_req_protocol pr[2];
	struct kp_sync_group_req sq;
	struct kp_sync_group_resp sr;
	struct kp_buf *bufs = NULL;
	struct kp_arena la;
	int16_t v, e;
	int32_t nm = 0;
	int rc = 1;

	for (int i = 0; i < 2; i++) {
		enum kp_assignor a = i == 0 ? m->o.assignor :
		    m->o.assignor == KP_ASSIGN_RANGE ? KP_ASSIGN_ROUNDROBIN :
		    KP_ASSIGN_RANGE;

		kp_join_group_req_protocol_init(&pr[i]);
		pr[i].name = str(kp_assignor_name(a));
		pr[i].metadata.ptr = m->sub.data;
		pr[i].metadata.len = (int32_t)m->sub.len;
	}
	kp_join_group_req_init(&jq);
	jq.group_id = str(m->group);
	jq.session_timeout_ms = m->o.session_ms;
	jq.rebalance_timeout_ms = m->o.rebalance_ms;
	jq.member_id = str(m->member_id);
	jq.group_instance_id = str(m->instance_id);
	jq.protocol_type = str("consumer");
	jq.protocols = pr;
	jq.n_protocols = 2;
	if (call(m, KP_API_JOIN_GROUP, 0, 5, &kp_msg_join_group_req, &jq,
	    &kp_msg_join_group_resp, &jr, &v) < 0)
		return ++m->failures > CONN_FAILURES ? -1 : 1;
	m->failures = 0;
	e = jr.error_code;
	if (e == KP_MEMBER_ID_REQUIRED) {
		set_member_id(m, &jr.member_id);
		return 1;
	}
	if (e == KP_UNKNOWN_MEMBER_ID) {
		set_member_id(m, &(struct kp_str){ "", 0 });
		return 1;
	}
	if (e == KP_REBALANCE_IN_PROGRESS)
		return 1;
	if (coordinator_moved(e)) {
		m->coord = NULL;
		return 1;
	}
	if (e != KP_NONE)
		return fail(m, e, "group '%s': JoinGroup: %s", m->group,
		    kp_kerr_name(e));
	set_member_id(m, &jr.member_id);
	m->generation = jr.generation_id;
	m->leader = kp_str_eq(&jr.leader, m->member_id);
	kp_sync_group_req_init(&sq);
	sq.group_id = str(m->group);
	sq.generation_id = m->generation;
	sq.member_id = str(m->member_id);
	sq.group_instance_id = str(m->instance_id);
	/*
	 * The SyncGroup request must not point into the JoinGroup answer:
	 * the next exchange reuses its buffer and arena.
	 */
	kp_arena_init(&la);
	if (m->leader) {
		size_t n = (size_t)(jr.n_members > 0 ? jr.n_members : 0);

		nm = jr.n_members;
		if ((bufs = calloc(n + 1, sizeof(*bufs))) == NULL) {
			kp_arena_release(&la);
			return fail(m, 0, "out of memory");
		}
		if (lead(m, &jr, &sq, bufs, &la) < 0) {
			rc = -1;
			goto out;
		}
		for (int32_t i = 0; i < sq.n_assignments; i++) {
			struct kp_str *id = &sq.assignments[i].member_id;
			char *c = kp_arena_calloc(&la, (size_t)id->len + 1, 1);

			if (c == NULL) {
				rc = fail(m, 0, "out of memory");
				goto out;
			}
			memcpy(c, id->ptr, (size_t)id->len);
			id->ptr = c;
		}
	}
	if (call(m, KP_API_SYNC_GROUP, 0, 3, &kp_msg_sync_group_req, &sq,
	    &kp_msg_sync_group_resp, &sr, NULL) < 0) {
		rc = ++m->failures > CONN_FAILURES ? -1 : 1;
		goto out;
	}
	e = sr.error_code;
	if (e == KP_UNKNOWN_MEMBER_ID)
		set_member_id(m, &(struct kp_str){ "", 0 });
	if (coordinator_moved(e))
		m->coord = NULL;
	if (e == KP_NONE) {
		rc = take_assignment(m, &sr.assignment);
		m->last_hb = kp_mono_ms();
	} else if (e != KP_REBALANCE_IN_PROGRESS && e != KP_UNKNOWN_MEMBER_ID &&
	    e != KP_ILLEGAL_GENERATION && !coordinator_moved(e)) {
		rc = fail(m, e, "group '%s': SyncGroup: %s", m->group,
		    kp_kerr_name(e));
	}
out:
	if (bufs != NULL) {
		for (int32_t i = 0; i < nm; i++)
			kp_buf_release(&bufs[i]);
		free(bufs);
	}
	kp_arena_release(&la);
	return rc;
}

int
kp_gmember_join(struct kp_gmember *m, volatile int *stop)
{
	int rc = 1;

	clear_assignment(m);
	m->stop = stop;
	for (int i = 0; i < JOIN_ATTEMPTS && rc == 1; i++) {
		if (stop != NULL && *stop) {
			rc = fail(m, 0, "interrupted");
			break;
		}
		rc = join_once(m);
		if (rc == 1 && stop != NULL && *stop)
			rc = fail(m, 0, "interrupted");
		if (rc == 1 && m->coord == NULL)
			kp_client_backoff(i < 4 ? i : 4);
	}
	m->stop = NULL;
	if (rc == 1)
		return fail(m, KP_REBALANCE_IN_PROGRESS,
		    "group '%s': no stable generation after %d attempts",
		    m->group, JOIN_ATTEMPTS);
	return rc;
}

/* ---- offsets, heartbeats, leaving ---- */

int
kp_gmember_committed(struct kp_gmember *m, int64_t *out)
{
	struct kp_offset_fetch_req rq;
	struct kp_offset_fetch_resp rs;
	struct kp_offset_fetch_req_topic *ts;
	int32_t *ps;
	size_t nt = 0;
	int rc = -1;

	for (size_t i = 0; i < m->nassigned; i++)
		out[i] = -1;
	if (m->nassigned == 0)
		return 0;
	ts = calloc(m->nassigned, sizeof(*ts));
	ps = calloc(m->nassigned, sizeof(*ps));
	if (ts == NULL || ps == NULL) {
		fail(m, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->nassigned; i++) {
		if (nt == 0 || strcmp(ts[nt - 1].name.ptr,
		    m->assigned[i].topic) != 0) {
			kp_offset_fetch_req_topic_init(&ts[nt]);
			ts[nt].name = str(m->assigned[i].topic);
			ts[nt].partition_indexes = &ps[i];
			nt++;
		}
		ps[i] = m->assigned[i].partition;
		ts[nt - 1].n_partition_indexes++;
	}
	kp_offset_fetch_req_init(&rq);
	rq.group_id = str(m->group);
	rq.topics = ts;
	rq.n_topics = (int32_t)nt;
	if (call(m, KP_API_OFFSET_FETCH, 1, 5, &kp_msg_offset_fetch_req, &rq,
	    &kp_msg_offset_fetch_resp, &rs, NULL) < 0)
		goto out;
	if (rs.error_code != KP_NONE) {
		fail(m, rs.error_code, "group '%s': OffsetFetch: %s", m->group,
		    kp_kerr_name(rs.error_code));
		goto out;
	}
	for (int32_t t = 0; t < rs.n_topics; t++) {
		const struct kp_offset_fetch_resp_topic *rt = &rs.topics[t];

		for (int32_t k = 0; k < rt->n_partitions; k++) {
			const struct kp_offset_fetch_resp_partition *rp =
			    &rt->partitions[k];

			for (size_t i = 0; i < m->nassigned; i++)
				if (m->assigned[i].partition ==
				    rp->partition_index &&
				    kp_str_eq(&rt->name, m->assigned[i].topic) &&
				    rp->error_code == KP_NONE)
					out[i] = rp->committed_offset;
		}
	}
	rc = 0;
out:
	free(ts);
	free(ps);
	return rc;
}

static bool
rejoin_error(int16_t e)
{
	return e == KP_REBALANCE_IN_PROGRESS || e == KP_UNKNOWN_MEMBER_ID ||
	    e == KP_ILLEGAL_GENERATION;
}

int
kp_gmember_heartbeat(struct kp_gmember *m, int64_t now)
{
	struct kp_heartbeat_req rq;
	struct kp_heartbeat_resp rs;

	if (now - m->last_hb < m->o.heartbeat_ms)
		return 0;
	kp_heartbeat_req_init(&rq);
	rq.group_id = str(m->group);
	rq.generation_id = m->generation;
	rq.member_id = str(m->member_id);
	rq.group_instance_id = str(m->instance_id);
	if (call(m, KP_API_HEARTBEAT, 0, 3, &kp_msg_heartbeat_req, &rq,
	    &kp_msg_heartbeat_resp, &rs, NULL) < 0)
		return ++m->failures > CONN_FAILURES ? -1 : 0;
	m->failures = 0;
	m->last_hb = now;
	if (rs.error_code == KP_NONE)
		return 0;
	if (rs.error_code == KP_UNKNOWN_MEMBER_ID)
		set_member_id(m, &(struct kp_str){ "", 0 });
	if (coordinator_moved(rs.error_code)) {
		m->coord = NULL;
		return 1;
	}
	if (rejoin_error(rs.error_code))
		return 1;
	return fail(m, rs.error_code, "group '%s': Heartbeat: %s", m->group,
	    kp_kerr_name(rs.error_code));
}

int
kp_gmember_commit(struct kp_gmember *m, const int64_t *offsets)
{
	struct kp_offset_commit_req rq;
	struct kp_offset_commit_resp rs;
	struct kp_offset_commit_req_topic *ts;
	struct kp_offset_commit_req_partition *ps;
	size_t nt = 0, np = 0;
	int rc = -1;

	ts = calloc(m->nassigned + 1, sizeof(*ts));
	ps = calloc(m->nassigned + 1, sizeof(*ps));
	if (ts == NULL || ps == NULL) {
		fail(m, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->nassigned; i++) {
		if (offsets[i] < 0)
			continue;
		if (nt == 0 || strcmp(ts[nt - 1].name.ptr,
		    m->assigned[i].topic) != 0) {
			kp_offset_commit_req_topic_init(&ts[nt]);
			ts[nt].name = str(m->assigned[i].topic);
			ts[nt].partitions = &ps[np];
			nt++;
		}
		kp_offset_commit_req_partition_init(&ps[np]);
		ps[np].partition_index = m->assigned[i].partition;
		ps[np].committed_offset = offsets[i];
		ps[np].committed_leader_epoch = -1;
		ps[np].committed_metadata = str("");
		ts[nt - 1].n_partitions++;
		np++;
	}
	if (np == 0) {
		rc = 0;
		goto out;
	}
	kp_offset_commit_req_init(&rq);
	rq.group_id = str(m->group);
	rq.generation_id_or_member_epoch = m->generation;
	rq.member_id = str(m->member_id);
	rq.group_instance_id = str(m->instance_id);
	rq.retention_time_ms = -1;
	rq.topics = ts;
	rq.n_topics = (int32_t)nt;
	if (call(m, KP_API_OFFSET_COMMIT, 2, 7, &kp_msg_offset_commit_req, &rq,
	    &kp_msg_offset_commit_resp, &rs, NULL) < 0)
		goto out;
	rc = 0;
	for (int32_t t = 0; t < rs.n_topics && rc == 0; t++) {
		for (int32_t k = 0; k < rs.topics[t].n_partitions; k++) {
			int16_t e = rs.topics[t].partitions[k].error_code;

			if (e == KP_NONE)
				continue;
			if (rejoin_error(e) || coordinator_moved(e)) {
				if (coordinator_moved(e))
					m->coord = NULL;
				fail(m, e, "group '%s': OffsetCommit: %s",
				    m->group, kp_kerr_name(e));
				rc = 1;
			} else {
				rc = fail(m, e, "group '%s': OffsetCommit: %s",
				    m->group, kp_kerr_name(e));
			}
			break;
		}
	}
out:
	free(ts);
	free(ps);
	return rc;
}

int
kp_gmember_leave(struct kp_gmember *m)
{
	struct kp_leave_group_req rq;
	struct kp_leave_group_resp rs;

	if (m->instance_id != NULL || m->member_id[0] == '\0')
		return 0;
	kp_leave_group_req_init(&rq);
	rq.group_id = str(m->group);
	rq.member_id = str(m->member_id);
	if (call(m, KP_API_LEAVE_GROUP, 0, 2, &kp_msg_leave_group_req, &rq,
	    &kp_msg_leave_group_resp, &rs, NULL) < 0)
		return -1;
	clear_assignment(m);
	m->generation = -1;
	if (rs.error_code != KP_NONE && rs.error_code != KP_UNKNOWN_MEMBER_ID)
		return fail(m, rs.error_code, "group '%s': LeaveGroup: %s",
		    m->group, kp_kerr_name(rs.error_code));
	return 0;
}
