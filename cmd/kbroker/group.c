/* group.c -- group coordinator APIs: FindCoordinator, Join/Sync/Heartbeat/LeaveGroup, List/Describe/DeleteGroups */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_store.h"
#include "kp_proto_group.h"
#include "kbroker.h"
#include "resp_array.h"
#include "group.h"
#include "cluster.h"
#include "kp_offrec.h"
#include "kp_txnrec.h"
#include "txn_coord.h"

/* Longest a JoinGroup/SyncGroup waits beyond the group's own timeouts. */
#define PARK_SLACK_MS	30000

/* A C string in the arena; NULL for a null string or no memory. */
static char *
cstr(struct kb_req *req, const struct kp_str *s)
{
	if (s->len < 0)
		return NULL;
	return kb_arena_str(req->arena, s);
}

/* Like cstr, but "" for null (member ids, names). */
static char *
cstr0(struct kb_req *req, const struct kp_str *s)
{
	char *p = cstr(req, s);

	return p != NULL ? p : (char *)"";
}

static int	join_sync_error(struct kb_req *, int16_t);

static struct kb_park *
park_find(struct kb_group *G, const struct kb_resp *r)
{
	struct kb_park *p;

	TAILQ_FOREACH(p, &G->parked, link)
		if (p->r == r)
			return p;
	return NULL;
}

static struct kb_park *
park_new(struct kb_group *G, struct kb_req *req)
{
	struct kb_park *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->r = req->resp;
	p->api = req->hdr.api_key;
	p->version = req->hdr.api_version;
	kp_buf_init(&p->body);
	TAILQ_INSERT_TAIL(&G->parked, p, link);
	return p;
}

static void
park_free(struct kb_group *G, struct kb_park *p)
{
	TAILQ_REMOVE(&G->parked, p, link);
	kp_buf_release(&p->body);
	free(p);
}

/*
 * A parked request ran again: copy out its answer, or keep waiting.
 * At its deadline with no answer (should not happen: the coordinator
 * answers within the rebalance timeout) it gets a retriable error.
 */
static int
park_settle(struct kb_req *req, struct kb_park *p, int16_t timeout_err)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_buf *out = kb_resp_buf(req->resp);

	if (p != NULL && p->done) {
		kp_buf_put(out, p->body.data, p->body.len);
		park_free(G, p);
		return out->err ? KB_CLOSE : KB_DONE;
	}
	if (!req->expired)
		return KB_DEFER;
	kp_coord_forget(&G->coord, req->resp);
	if (p != NULL)
		park_free(G, p);
	return join_sync_error(req, timeout_err);
}

/* A JoinGroup or SyncGroup answered with an error alone. */
static int
join_sync_error(struct kb_req *req, int16_t err)
{
	struct kp_buf *out = kb_resp_buf(req->resp);

	if (req->hdr.api_key == KP_API_JOIN_GROUP) {
		struct kp_join_group_resp rs;

		kp_join_group_resp_init(&rs);
		rs.error_code = err;
		rs.generation_id = -1;
		rs.protocol_name = kb_str(req->hdr.api_version >= 7 ? NULL :
		    "");
		rs.leader = kb_str("");
		rs.member_id = kb_str("");
		return kp_join_group_resp_encode(out, req->hdr.api_version,
		    &rs) == -1 ? KB_CLOSE : KB_DONE;
	} else {
		struct kp_sync_group_resp rs;

		kp_sync_group_resp_init(&rs);
		rs.error_code = err;
		rs.assignment.ptr = (const uint8_t *)"";
		rs.assignment.len = 0;
		return kp_sync_group_resp_encode(out, req->hdr.api_version,
		    &rs) == -1 ? KB_CLOSE : KB_DONE;
	}
}

/* ---- coordinator callbacks ---- */

static void
on_join_done(void *arg, void *waiter, const struct kp_coord_join_result *r)
{
	struct kb_group *G = arg;
	struct kb_park *p = park_find(G, waiter);
	struct kp_join_group_resp rs;
	struct kp_join_group_resp_member *ms = NULL;

	if (p == NULL)
		return;
	kp_join_group_resp_init(&rs);
	rs.error_code = r->error;
	rs.generation_id = r->generation;
	rs.protocol_type = kb_str(r->protocol_type);
	if (p->version < 7)
		rs.protocol_name = kb_str(r->protocol ? r->protocol : "");
	else
		rs.protocol_name = kb_str(r->protocol);
	rs.leader = kb_str(r->leader);
	rs.member_id = kb_str(r->member_id);
	if (r->nmembers > 0 &&
	    (ms = calloc(r->nmembers, sizeof(*ms))) != NULL) {
		for (size_t i = 0; i < r->nmembers; i++) {
			const struct kp_coord_member *m = r->members[i];
			const struct kp_coord_proto *pr =
			    kp_coord_member_proto(m, r->protocol);

			kp_join_group_resp_member_init(&ms[i]);
			ms[i].member_id = kb_str(m->member_id);
			ms[i].group_instance_id = kb_str(m->instance_id);
			ms[i].metadata.ptr = pr ? pr->meta : (const uint8_t *)"";
			ms[i].metadata.len = pr ? (int32_t)pr->len : 0;
		}
		rs.members = ms;
		rs.n_members = (int32_t)r->nmembers;
	}
	if (kp_join_group_resp_encode(&p->body, p->version, &rs) == -1 ||
	    p->body.err) {
		kb_log("JoinGroup v%d response: cannot encode", p->version);
		kp_buf_reset(&p->body);
		kp_join_group_resp_init(&rs);
		rs.error_code = KP_UNKNOWN_SERVER_ERROR;
		rs.protocol_name = kb_str(p->version >= 7 ? NULL : "");
		rs.leader = kb_str("");
		rs.member_id = kb_str("");
		kp_join_group_resp_encode(&p->body, p->version, &rs);
	}
	free(ms);
	p->done = true;
	G->b->wake = true;
}

static void
on_sync_done(void *arg, void *waiter, int16_t err, const char *ptype,
    const char *proto, const uint8_t *assign, size_t len)
{
	struct kb_group *G = arg;
	struct kb_park *p = park_find(G, waiter);
	struct kp_sync_group_resp rs;

	if (p == NULL)
		return;
	kp_sync_group_resp_init(&rs);
	rs.error_code = err;
	rs.protocol_type = kb_str(ptype);
	rs.protocol_name = kb_str(proto);
	rs.assignment.ptr = assign ? assign : (const uint8_t *)"";
	rs.assignment.len = (int32_t)len;
	kp_sync_group_resp_encode(&p->body, p->version, &rs);
	p->done = true;
	G->b->wake = true;
}

/* ---- startup, timers, connection loss ---- */

static int32_t
conf_int(struct kb_broker *b, const char *key, int64_t def, int64_t lo,
    int64_t hi)
{
	const char *v = kb_config_get(b->cfg, key, NULL);
	const char *errstr;
	long long n;

	if (v == NULL)
		return (int32_t)def;
	n = strtonum(v, lo, hi, &errstr);
	if (errstr != NULL) {
		kb_log("%s=%s: %s, using %lld", key, v, errstr, (long long)def);
		return (int32_t)def;
	}
	return (int32_t)n;
}

static int
group_init(struct kb_broker *b)
{
	struct kb_group *G = calloc(1, sizeof(*G));
	struct kp_coord_conf conf;
	struct kp_coord_cb cb = { on_join_done, on_sync_done,
	    kb_offsets_persist, kb_groups_persist, NULL };

	if (G == NULL)
		return -1;
	kp_coord_conf_default(&conf);
	conf.initial_delay_ms = conf_int(b, "group.initial.rebalance.delay.ms",
	    KB_GROUP_INITIAL_DELAY_MS, 0, INT32_MAX);
	conf.min_session_ms = conf_int(b, "group.min.session.timeout.ms",
	    conf.min_session_ms, 1, INT32_MAX);
	conf.max_session_ms = conf_int(b, "group.max.session.timeout.ms",
	    conf.max_session_ms, 1, INT32_MAX);
	conf.retention_ms = (int64_t)conf_int(b, "offsets.retention.minutes",
	    7 * 24 * 60, 1, INT32_MAX / 60) * 60000;
	cb.arg = G;
	G->b = b;
	G->offsets_parts = conf_int(b, "offsets.topic.num.partitions", 50, 1,
	    1000);
	TAILQ_INIT(&G->parked);
	TAILQ_INIT(&G->commits);
	kp_coord_init(&G->coord, &conf, &cb);
	b->group = G;
	if (kb_offsets_load(G) == -1)
		return -1;
	return 0;
}

static void
group_fini(struct kb_broker *b)
{
	struct kb_group *G = kb_group_of(b);
	struct kb_park *p;

	if (G == NULL)
		return;
	while ((p = TAILQ_FIRST(&G->parked)) != NULL)
		park_free(G, p);
	kp_coord_release(&G->coord);
	free(G);
	b->group = NULL;
}

KB_HOOK(group, group_init, NULL, group_fini)

int
kb_group_timeout(struct kb_broker *b)
{
	struct kb_group *G = kb_group_of(b);
	int64_t d, left;

	if (G == NULL || (d = kp_coord_next_deadline(&G->coord)) < 0)
		return -1;
	left = d - kb_now_mono();
	if (left < 0)
		left = 0;
	return left > 60000 ? 60000 : (int)left;
}

void
kb_group_poll(struct kb_broker *b)
{
	struct kb_group *G = kb_group_of(b);
	int64_t d;

	if (G == NULL)
		return;
	d = kp_coord_next_deadline(&G->coord);
	if (d >= 0 && d <= kb_now_mono())
		kp_coord_tick(&G->coord, kb_now_mono(), kb_now_wall());
}

void
kb_group_forget_conn(struct kb_broker *b, struct kb_conn *c)
{
	struct kb_group *G = kb_group_of(b);
	struct kb_park *p, *t;

	if (G == NULL)
		return;
	TAILQ_FOREACH_SAFE(p, &G->parked, link, t) {
		if (p->r->conn == c) {
			kp_coord_forget(&G->coord, p->r);
			park_free(G, p);
		}
	}
}

/* Offsets expire with the periodic log work (KB_HOOK tick). */
static void
group_tick(struct kb_broker *b, int64_t wall)
{
	struct kb_group *G = kb_group_of(b);

	if (G != NULL)
		kp_coord_tick(&G->coord, kb_now_mono(), wall);
}

KB_HOOK(group_expiry, NULL, group_tick, NULL)

/* ---- cluster mode: which broker coordinates a group ---- */

/*
 * An internal topic through ZooKeeper, as Kafka makes __consumer_offsets
 * and __transaction_state on first use: nparts partitions, compacted,
 * with rf_key replicas (default 3) but no more than the live brokers.
 */
int
kb_cluster_create_internal(struct kb_broker *b, const char *topic,
    int32_t nparts, const char *rf_key)
{
	static const char *const names[] = { "cleanup.policy" };
	static const char *const values[] = { "compact" };
	const struct kb_cl_view *v = kb_cluster_view(b);
	int32_t rf = conf_int(b, rf_key, 3, 1, INT16_MAX);
	int rc;

	if (v == NULL || v->nbrokers == 0 || nparts <= 0)
		return KP_COORDINATOR_NOT_AVAILABLE;
	if ((size_t)rf > v->nbrokers)
		rf = (int32_t)v->nbrokers;
	rc = kb_cluster_create_topic(b, topic, nparts, (int16_t)rf, NULL,
	    names, values, 1);
	if (rc == KP_NONE)
		kb_log("topic '%s': created with %d partition(s), replication "
		    "factor %d", topic, nparts, rf);
	return rc;
}

int
kb_group_create_offsets_topic(struct kb_broker *b)
{
	struct kb_group *G = kb_group_of(b);

	if (G == NULL)
		return KP_COORDINATOR_NOT_AVAILABLE;
	return kb_cluster_create_internal(b, KP_OFFSETS_TOPIC,
	    G->offsets_parts, "offsets.topic.replication.factor");
}

/*
 * The leader (-1: none now) of the partition of internal topic that key
 * hashes to (Kafka's Utils.abs(key.hashCode) % partitions). false when
 * the topic is not there (yet).
 */
bool
kb_cluster_key_partition(struct kb_broker *b, const char *topic,
    const char *key, int32_t *part, int32_t *leader)
{
	const struct kb_cl_view *v = kb_cluster_view(b);
	const struct kb_cl_topic *t = v ? kb_cl_topic(v, topic) : NULL;

	if (t == NULL || t->deleting || t->nparts <= 0)
		return false;
	/* groups and transactional ids are placed alike */
	*part = kp_offsets_partition(key, t->nparts);
	*leader = t->parts[*part].version < 0 ? -1 : t->parts[*part].leader;
	return true;
}

static bool
group_partition(struct kb_broker *b, const char *group, int32_t *part,
    int32_t *leader)
{
	return kb_cluster_key_partition(b, KP_OFFSETS_TOPIC, group, part,
	    leader);
}

int16_t
kb_group_check_coordinator(struct kb_broker *b, const char *group)
{
	int32_t part, leader;

	if (!kb_cluster_mode(b))
		return KP_NONE;
	if (!group_partition(b, group, &part, &leader))
		return KP_COORDINATOR_NOT_AVAILABLE;
	if (leader != b->cfg->broker_id)
		return KP_NOT_COORDINATOR;
	/* led here but its log not open: the view is still being applied */
	if (kp_store_log(b->store, KP_OFFSETS_TOPIC, part) == NULL)
		return KP_COORDINATOR_LOAD_IN_PROGRESS;
	return KP_NONE;
}

/* ---- FindCoordinator ---- */

static void
coordinator_addr(struct kb_req *req, struct kp_str *host, int32_t *port)
{
	const struct kp_addr *a = &req->c->local;

	if (a->kind == KP_ADDR_UNIX) {
		for (size_t i = 0; i < req->b->nlis; i++) {
			if (req->b->lis[i].addr.kind == KP_ADDR_TCP) {
				a = &req->b->lis[i].addr;
				break;
			}
		}
	}
	if (a->kind == KP_ADDR_UNIX) {
		char *h = kp_arena_calloc(req->arena, strlen(a->path) + 6, 1);

		if (h != NULL)
			snprintf(h, strlen(a->path) + 6, "unix:%s", a->path);
		*host = kb_str(h ? h : "localhost");
		*port = 0;
		return;
	}
	*host = kb_str(a->host[0] ? a->host : "127.0.0.1");
	*port = a->port;
}

/*
 * The leader of the key's partition of its internal topic: a group's of
 * __consumer_offsets, a transactional id's of __transaction_state, as
 * single-node mode files them. The topic is made on first use.
 */
static void
cluster_coordinator(struct kb_req *req, const struct kp_find_coordinator_req
    *rq, struct kp_find_coordinator_resp *rs)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);
	const struct kb_cl_broker *br = NULL;
	const char *key = cstr0(req, &rq->key);
	const char *topic = rq->key_type == 1 ? KP_TXN_STATE_TOPIC :
	    KP_OFFSETS_TOPIC;
	int32_t part, leader;

	rs->node_id = -1;
	rs->host = kb_str("");
	rs->port = -1;
	if (v == NULL) {
		rs->error_code = KP_COORDINATOR_NOT_AVAILABLE;
		return;
	}
	if (!kb_cluster_key_partition(req->b, topic, key, &part, &leader)) {
		int rc = rq->key_type == 1 ? kb_txn_create_state_topic(req->b) :
		    kb_group_create_offsets_topic(req->b);

		if (rc != KP_NONE && rc != KP_TOPIC_ALREADY_EXISTS)
			kb_log("topic '%s': create: %s", topic,
			    kp_kerr_name((int16_t)rc));
		rs->error_code = KP_COORDINATOR_NOT_AVAILABLE;
		return;
	}
	if (leader < 0 || (br = kb_cl_broker(v, leader)) == NULL) {
		rs->error_code = KP_COORDINATOR_NOT_AVAILABLE;
		return;
	}
	rs->node_id = br->id;
	rs->host = kb_str(br->host);
	rs->port = br->port;
}

static int
handle_find_coordinator(struct kb_req *req)
{
	struct kp_find_coordinator_req rq;
	struct kp_find_coordinator_resp rs;
	int16_t v = req->hdr.api_version;

	if (kp_find_coordinator_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_find_coordinator_resp_init(&rs);
	/* key_type 0: a group; 1: a transactional id (txn_coord.c) */
	if (rq.key_type != 0 && rq.key_type != 1) {
		rs.error_code = KP_INVALID_REQUEST;
		rs.node_id = -1;
		rs.host = kb_str("");
		rs.port = -1;
		if (v >= 1)
			rs.error_message = kb_str("unknown coordinator key "
			    "type");
	} else if (kb_cluster_mode(req->b)) {
		cluster_coordinator(req, &rq, &rs);
	} else {
		rs.node_id = req->b->cfg->broker_id;
		coordinator_addr(req, &rs.host, &rs.port);
	}
	return kp_find_coordinator_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1 ? KB_CLOSE : KB_DONE;
}

KB_API(find_coordinator, KP_API_FIND_COORDINATOR, 0, 2,
    handle_find_coordinator)

/* ---- JoinGroup ---- */

/*
 * The member's host as Kafka shows it: "/" and the peer's address
 * without the port ("/127.0.0.1"); "localhost" over the Unix socket.
 */
static const char *
client_host(struct kb_req *req)
{
	const char *peer = req->c->peer, *colon = strrchr(peer, ':');
	char *h;

	if (req->c->is_unix || colon == NULL)
		return "localhost";
	if ((h = kp_arena_calloc(req->arena, (size_t)(colon - peer) + 2, 1)) ==
	    NULL)
		return "";
	h[0] = '/';
	memcpy(h + 1, peer, (size_t)(colon - peer));
	return h;
}

static int
handle_join_group(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_join_group_req rq;
	struct kp_coord_join_req jr;
	struct kp_coord_proto *protos;
	struct kb_park *p;
	int16_t v = req->hdr.api_version, cerr;
	int32_t np;

	if (req->retry)
		return park_settle(req, park_find(G, req->resp),
		    KP_REBALANCE_IN_PROGRESS);
	if (kp_join_group_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	if ((cerr = kb_group_check_coordinator(req->b, cstr0(req,
	    &rq.group_id))) != KP_NONE)
		return join_sync_error(req, cerr);
	np = rq.n_protocols < 0 ? 0 : rq.n_protocols;
	protos = kp_arena_calloc(req->arena, np ? (size_t)np : 1,
	    sizeof(*protos));
	if (protos == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < np; i++) {
		protos[i].name = cstr0(req, &rq.protocols[i].name);
		protos[i].meta = (uint8_t *)(uintptr_t)
		    rq.protocols[i].metadata.ptr;
		protos[i].len = rq.protocols[i].metadata.len < 0 ? 0 :
		    (size_t)rq.protocols[i].metadata.len;
	}
	memset(&jr, 0, sizeof(jr));
	jr.group_id = cstr0(req, &rq.group_id);
	jr.member_id = cstr0(req, &rq.member_id);
	jr.instance_id = cstr(req, &rq.group_instance_id);
	jr.client_id = cstr0(req, &req->hdr.client_id);
	jr.client_host = client_host(req);
	jr.session_ms = rq.session_timeout_ms;
	jr.rebalance_ms = v >= 1 ? rq.rebalance_timeout_ms :
	    rq.session_timeout_ms;
	jr.protocol_type = cstr0(req, &rq.protocol_type);
	jr.protos = protos;
	jr.nprotos = (size_t)np;
	jr.require_known_id = v >= 4;
	if ((p = park_new(G, req)) == NULL)
		return KB_CLOSE;
	kp_coord_join(&G->coord, &jr, req->resp, kb_now_mono(),
	    kb_now_wall());
	req->resp->deadline = kb_now_mono() + (jr.rebalance_ms > 0 ?
	    jr.rebalance_ms : 0) + G->coord.conf.initial_delay_ms +
	    PARK_SLACK_MS;
	return park_settle(req, p, KP_REBALANCE_IN_PROGRESS);
}

KB_API(join_group, KP_API_JOIN_GROUP, 0, 5, handle_join_group)

/* ---- SyncGroup ---- */

static int
handle_sync_group(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_sync_group_req rq;
	struct kb_park *p;
	const char **ids;
	const uint8_t **as;
	size_t *lens;
	int16_t v = req->hdr.api_version, cerr;
	int32_t n;

	if (req->retry)
		return park_settle(req, park_find(G, req->resp),
		    KP_REBALANCE_IN_PROGRESS);
	if (kp_sync_group_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	if ((cerr = kb_group_check_coordinator(req->b, cstr0(req,
	    &rq.group_id))) != KP_NONE)
		return join_sync_error(req, cerr);
	n = rq.n_assignments < 0 ? 0 : rq.n_assignments;
	ids = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*ids));
	as = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*as));
	lens = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*lens));
	if (ids == NULL || as == NULL || lens == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		ids[i] = cstr0(req, &rq.assignments[i].member_id);
		as[i] = rq.assignments[i].assignment.ptr;
		lens[i] = rq.assignments[i].assignment.len < 0 ? 0 :
		    (size_t)rq.assignments[i].assignment.len;
	}
	if ((p = park_new(G, req)) == NULL)
		return KB_CLOSE;
	kp_coord_sync(&G->coord, cstr0(req, &rq.group_id), rq.generation_id,
	    cstr0(req, &rq.member_id), cstr(req, &rq.group_instance_id),
	    cstr(req, &rq.protocol_type), cstr(req, &rq.protocol_name), ids,
	    as, lens, (size_t)n, req->resp, kb_now_mono(), kb_now_wall());
	/* The leader syncs within the session timeout or is expired. */
	req->resp->deadline = kb_now_mono() + G->coord.conf.max_session_ms +
	    PARK_SLACK_MS;
	return park_settle(req, p, KP_REBALANCE_IN_PROGRESS);
}

KB_API(sync_group, KP_API_SYNC_GROUP, 0, 3, handle_sync_group)

/* ---- Heartbeat, LeaveGroup ---- */

static int
handle_heartbeat(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_heartbeat_req rq;
	struct kp_heartbeat_resp rs;
	int16_t v = req->hdr.api_version;

	if (kp_heartbeat_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_heartbeat_resp_init(&rs);
	rs.error_code = kb_group_check_coordinator(req->b, cstr0(req,
	    &rq.group_id));
	if (rs.error_code == KP_NONE)
		rs.error_code = kp_coord_heartbeat(&G->coord, cstr0(req, &rq.group_id),
	    rq.generation_id, cstr0(req, &rq.member_id),
	    cstr(req, &rq.group_instance_id), kb_now_mono(), kb_now_wall());
	return kp_heartbeat_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1 ?
	    KB_CLOSE : KB_DONE;
}

KB_API(heartbeat, KP_API_HEARTBEAT, 0, 3, handle_heartbeat)

static int
handle_leave_group(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_leave_group_req rq;
	struct kp_leave_group_resp rs;
	int16_t v = req->hdr.api_version;
	char *group;

	if (kp_leave_group_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_leave_group_resp_init(&rs);
	group = cstr0(req, &rq.group_id);
	if ((rs.error_code = kb_group_check_coordinator(req->b, group)) !=
	    KP_NONE) {
		rs.members = NULL;
		rs.n_members = 0;
	} else if (v < 3) {
		rs.error_code = kp_coord_leave(&G->coord, group,
		    cstr0(req, &rq.member_id), NULL, kb_now_mono(),
		    kb_now_wall());
	} else {
		int32_t n = rq.n_members < 0 ? 0 : rq.n_members;

		rs.members = kp_arena_calloc(req->arena, n ? (size_t)n : 1,
		    sizeof(*rs.members));
		if (rs.members == NULL)
			return KB_CLOSE;
		rs.n_members = n;
		if (kp_coord_group(&G->coord, group) == NULL)
			rs.error_code = KP_UNKNOWN_MEMBER_ID;
		for (int32_t i = 0; i < n && rs.error_code == KP_NONE; i++) {
			struct kp_leave_group_req_member_identity *m =
			    &rq.members[i];

			kp_leave_group_resp_member_response_init(
			    &rs.members[i]);
			rs.members[i].member_id = m->member_id;
			rs.members[i].group_instance_id = m->group_instance_id;
			rs.members[i].error_code = kp_coord_leave(&G->coord,
			    group, cstr0(req, &m->member_id),
			    cstr(req, &m->group_instance_id), kb_now_mono(),
			    kb_now_wall());
		}
		if (rs.error_code != KP_NONE)
			rs.n_members = 0;
	}
	return kp_leave_group_resp_encode(kb_resp_buf(req->resp), v, &rs) ==
	    -1 ? KB_CLOSE : KB_DONE;
}

KB_API(leave_group, KP_API_LEAVE_GROUP, 0, 4, handle_leave_group)

/* ---- ListGroups, DescribeGroups, DeleteGroups ---- */

static bool
state_wanted(const struct kp_list_groups_req *rq, const char *state)
{
	if (rq->n_states_filter <= 0)
		return true;
	for (int32_t i = 0; i < rq->n_states_filter; i++) {
		const struct kp_str *s = &rq->states_filter[i];

		if ((size_t)s->len == strlen(state) &&
		    strncasecmp(s->ptr, state, (size_t)s->len) == 0)
			return true;
	}
	return false;
}

static int
handle_list_groups(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_list_groups_req rq;
	struct kp_list_groups_resp rs;
	struct kp_coord_group *g;
	int16_t v = req->hdr.api_version;
	int32_t n = 0;

	if (kp_list_groups_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_list_groups_resp_init(&rs);
	rs.groups = kp_arena_calloc(req->arena, G->coord.ngroups + 1,
	    sizeof(*rs.groups));
	if (rs.groups == NULL)
		return KB_CLOSE;
	TAILQ_FOREACH(g, &G->coord.groups, link) {
		const char *st = kp_coord_state_name(g->state);

		if (g->state == KP_GROUP_DEAD || !state_wanted(&rq, st) ||
		    kb_group_check_coordinator(req->b, g->id) != KP_NONE)
			continue;	/* a cluster lists its own groups */
		kp_list_groups_resp_listed_group_init(&rs.groups[n]);
		rs.groups[n].group_id = kb_str(g->id);
		rs.groups[n].protocol_type = kb_str(g->protocol_type ?
		    g->protocol_type : "");
		rs.groups[n].group_state = kb_str(st);
		n++;
	}
	rs.n_groups = n;
	return kp_list_groups_resp_encode(kb_resp_buf(req->resp), v, &rs) ==
	    -1 ? KB_CLOSE : KB_DONE;
}

KB_API(list_groups, KP_API_LIST_GROUPS, 0, 4, handle_list_groups)

/*
 * GroupMetadata.summary: members' metadata and assignments only when
 * Stable; an unknown group is reported Dead without an error.
 */
static int
describe_one(struct kb_req *req, struct kb_group *G, const struct kp_str *id,
    struct kp_describe_groups_resp_described_group *d)
{
	struct kp_coord_group *g = kp_coord_group(&G->coord, cstr0(req, id));
	struct kp_coord_member *m;
	bool stable;
	int32_t i = 0;

	kp_describe_groups_resp_described_group_init(d);
	d->group_id = *id;
	d->authorized_operations = INT32_MIN;
	d->protocol_type = kb_str("");
	d->protocol_data = kb_str("");
	if ((d->error_code = kb_group_check_coordinator(req->b, cstr0(req,
	    id))) != KP_NONE) {
		d->group_state = kb_str("");
		return 0;
	}
	if (g == NULL) {
		d->group_state = kb_str("Dead");
		return 0;
	}
	stable = g->state == KP_GROUP_STABLE;
	d->group_state = kb_str(kp_coord_state_name(g->state));
	d->protocol_type = kb_str(g->protocol_type ? g->protocol_type : "");
	d->protocol_data = kb_str(stable && g->protocol ? g->protocol : "");
	d->members = kp_arena_calloc(req->arena, g->nmembers + 1,
	    sizeof(*d->members));
	if (d->members == NULL)
		return -1;
	TAILQ_FOREACH(m, &g->members, link) {
		struct kp_describe_groups_resp_described_group_member *dm =
		    &d->members[i++];
		const struct kp_coord_proto *p = stable ?
		    kp_coord_member_proto(m, g->protocol) : NULL;

		kp_describe_groups_resp_described_group_member_init(dm);
		dm->member_id = kb_str(m->member_id);
		dm->group_instance_id = kb_str(m->instance_id);
		dm->client_id = kb_str(m->client_id);
		dm->client_host = kb_str(m->client_host);
		dm->member_metadata.ptr = p ? p->meta : (const uint8_t *)"";
		dm->member_metadata.len = p ? (int32_t)p->len : 0;
		dm->member_assignment.ptr = stable && m->assign ? m->assign :
		    (const uint8_t *)"";
		dm->member_assignment.len = stable ? (int32_t)m->assign_len : 0;
	}
	d->n_members = i;
	return 0;
}

static int
handle_describe_groups(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_describe_groups_req rq;
	struct kp_describe_groups_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_describe_groups_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_describe_groups_resp_init(&rs);
	rs.groups = kb_resp_array(req->arena, rq.n_groups, &n,
	    sizeof(*rs.groups));
	if (rs.groups == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++)
		if (describe_one(req, G, &rq.groups[i], &rs.groups[i]) == -1)
			return KB_CLOSE;
	rs.n_groups = n;
	return kp_describe_groups_resp_encode(kb_resp_buf(req->resp), v, &rs)
	    == -1 ? KB_CLOSE : KB_DONE;
}

KB_API(describe_groups, KP_API_DESCRIBE_GROUPS, 0, 4, handle_describe_groups)

static int
handle_delete_groups(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_delete_groups_req rq;
	struct kp_delete_groups_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_delete_groups_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_delete_groups_resp_init(&rs);
	rs.results = kb_resp_array(req->arena, rq.n_groups_names, &n,
	    sizeof(*rs.results));
	if (rs.results == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		const char *id = cstr0(req, &rq.groups_names[i]);

		kp_delete_groups_resp_deletable_group_result_init(
		    &rs.results[i]);
		rs.results[i].group_id = rq.groups_names[i];
		rs.results[i].error_code = kb_group_check_coordinator(req->b,
		    id);
		if (rs.results[i].error_code == KP_NONE)
			rs.results[i].error_code = kp_coord_delete_group(
			    &G->coord, id, kb_now_wall());
		if (rs.results[i].error_code == KP_NONE)
			kb_log("group '%s': deleted", id);
	}
	rs.n_results = n;
	return kp_delete_groups_resp_encode(kb_resp_buf(req->resp), v, &rs) ==
	    -1 ? KB_CLOSE : KB_DONE;
}

KB_API(delete_groups, KP_API_DELETE_GROUPS, 0, 1, handle_delete_groups)
