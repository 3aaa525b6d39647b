/* metadata.c -- Metadata, and the topic lookup and auto-creation handlers share */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "kp_err.h"
#include "kp_offrec.h"
#include "kp_proto_meta.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "group.h"

char *
kb_arena_str(struct kp_arena *a, const struct kp_str *s)
{
	char *p;

	if (s->len < 0 || (p = kp_arena_calloc(a, (size_t)s->len + 1, 1)) ==
	    NULL)
		return NULL;
	memcpy(p, s->ptr, (size_t)s->len);
	return p;
}

struct kp_str
kb_str(const char *s)
{
	struct kp_str k = { s, s ? (int32_t)strlen(s) : -1 };

	return k;
}

/* A topic name as a C string on the stack; false if it cannot be one. */
static bool
name_copy(const struct kp_str *s, char *buf, size_t len)
{
	if (s->len < 0 || (size_t)s->len >= len ||
	    memchr(s->ptr, '\0', (size_t)s->len) != NULL)
		return false;
	memcpy(buf, s->ptr, (size_t)s->len);
	buf[s->len] = '\0';
	return true;
}

struct kp_log *
kb_log_for(struct kb_broker *b, const struct kp_str *topic, int32_t part)
{
	char name[KP_TOPIC_NAME_MAX + 1];

	if (!name_copy(topic, name, sizeof(name)))
		return NULL;
	return kp_store_log(b->store, name, part);
}

int
kb_auto_create(struct kb_broker *b, const struct kp_str *topic)
{
	char name[KP_TOPIC_NAME_MAX + 1];
	int rc;

	if (!name_copy(topic, name, sizeof(name)) || !kp_topic_name_valid(name))
		return KP_INVALID_TOPIC_EXCEPTION;
	if (kp_store_topic(b->store, name) != NULL)
		return KP_NONE;
	if (!b->cfg->auto_create)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	rc = kp_store_create_topic(b->store, name, b->cfg->num_partitions,
	    NULL, NULL, 0, NULL, false, NULL);
	if (rc == KP_NONE)
		kb_log("topic '%s': auto-created with %d partition(s)", name,
		    b->cfg->num_partitions);
	else if (rc != KP_TOPIC_ALREADY_EXISTS)
		kb_log("topic '%s': auto-create: %s", name, kp_kerr_name(
		    (int16_t)rc));
	return rc == KP_TOPIC_ALREADY_EXISTS ? KP_NONE : rc;
}

/* The broker entry: the address the client reached us at. */
static void
fill_broker(struct kb_req *req, struct kp_metadata_resp_broker *br)
{
	const struct kp_addr *a = &req->c->local;

	kp_metadata_resp_broker_init(br);
	br->node_id = req->b->cfg->broker_id;
	if (a->kind == KP_ADDR_UNIX) {
		/*
		 * Kafka clients cannot reach a Unix socket: point them at
		 * our first TCP listener, which is on this host too.
		 */
		for (size_t i = 0; i < req->b->nlis; i++) {
			if (req->b->lis[i].addr.kind == KP_ADDR_TCP) {
				a = &req->b->lis[i].addr;
				break;
			}
		}
	}
	if (a->kind == KP_ADDR_UNIX) {
		char *h = kp_arena_calloc(req->arena, strlen(a->path) + 6, 1);

		if (h != NULL) {
			memcpy(h, "unix:", 5);
			strcpy(h + 5, a->path);
		}
		br->host = kb_str(h ? h : "localhost");
		br->port = 0;
		return;
	}
	/* A wildcard bind reports 0.0.0.0; getsockname of the connection
	 * gives the real address, which kb_conn_new stored. */
	br->host = kb_str(a->host[0] ? a->host : "127.0.0.1");
	br->port = a->port;
}

static int
fill_topic(struct kb_req *req, struct kp_metadata_resp_topic *rt,
    struct kp_topic *t)
{
	int32_t id = req->b->cfg->broker_id;
	int32_t *one;

	rt->name = kb_str(t->name);
	memcpy(rt->topic_id, t->id, 16);
	rt->is_internal = strcmp(t->name, "__consumer_offsets") == 0;
	rt->topic_authorized_operations = INT32_MIN;
	rt->partitions = kp_arena_calloc(req->arena, (size_t)t->partitions,
	    sizeof(*rt->partitions));
	one = kp_arena_calloc(req->arena, 1, sizeof(*one));
	if (rt->partitions == NULL || one == NULL)
		return -1;
	*one = id;
	rt->n_partitions = t->partitions;
	for (int32_t p = 0; p < t->partitions; p++) {
		struct kp_metadata_resp_partition *rp = &rt->partitions[p];

		kp_metadata_resp_partition_init(rp);
		rp->partition_index = p;
		rp->leader_id = id;
		rp->leader_epoch = 0;
		rp->replica_nodes = one;
		rp->n_replica_nodes = 1;
		rp->isr_nodes = one;
		rp->n_isr_nodes = 1;
		rp->n_offline_replicas = 0;
	}
	return 0;
}

/* ---- cluster mode: the view's brokers, topics and leaders ---- */

int16_t
kb_cluster_default_rf(struct kb_broker *b)
{
	return b->cfg->default_rf > 0 ? b->cfg->default_rf : 1;
}

/*
 * A topic the cluster does not have, asked for with auto-creation on:
 * made through ZooKeeper with the broker defaults. Like Kafka, the
 * answer is LEADER_NOT_AVAILABLE until its leaders are known (the
 * client asks again).
 */
static int16_t
cluster_auto_create(struct kb_req *req, const char *name)
{
	struct kb_broker *b = req->b;
	int16_t rf = kb_cluster_default_rf(b);
	int rc;

	if (strcmp(name, KP_OFFSETS_TOPIC) == 0)
		rc = kb_group_create_offsets_topic(b);
	else
		rc = kb_cluster_create_topic(b, name, b->cfg->num_partitions,
		    rf, NULL, NULL, NULL, 0);
	if (rc == KP_NONE)
		kb_log("topic '%s': auto-created with %d partition(s), "
		    "replication factor %d", name, b->cfg->num_partitions, rf);
	else if (rc != KP_TOPIC_ALREADY_EXISTS) {
		kb_log("topic '%s': auto-create: %s", name,
		    kp_kerr_name((int16_t)rc));
		return (int16_t)rc;
	}
	return KP_LEADER_NOT_AVAILABLE;
}

static int
cluster_brokers(struct kb_req *req, const struct kb_cl_view *v,
    struct kp_metadata_resp *rs)
{
	size_t n = v != NULL ? v->nbrokers : 0;

	rs->brokers = kp_arena_calloc(req->arena, n ? n : 1,
	    sizeof(*rs->brokers));
	if (rs->brokers == NULL)
		return -1;
	rs->controller_id = v != NULL ? v->controller : -1;
	if (n == 0) {
		/* not in ZooKeeper yet: at least where to ask again */
		fill_broker(req, &rs->brokers[0]);
		rs->n_brokers = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct kp_metadata_resp_broker *br = &rs->brokers[i];

		kp_metadata_resp_broker_init(br);
		br->node_id = v->brokers[i].id;
		br->host = kb_str(v->brokers[i].host);
		br->port = v->brokers[i].port;
	}
	rs->n_brokers = (int32_t)n;
	return 0;
}

static int
cluster_partition(struct kb_req *req, const struct kb_cl_view *v,
    const struct kb_cl_part *pt, int32_t p,
    struct kp_metadata_resp_partition *rp)
{
	int32_t *off;

	kp_metadata_resp_partition_init(rp);
	rp->partition_index = p;
	rp->leader_id = pt->version < 0 ? -1 : pt->leader;
	rp->leader_epoch = pt->leader_epoch;
	rp->replica_nodes = pt->replicas;
	rp->n_replica_nodes = pt->nreplicas;
	rp->isr_nodes = pt->isr;
	rp->n_isr_nodes = pt->nisr;
	off = kp_arena_calloc(req->arena, pt->nreplicas > 0 ?
	    (size_t)pt->nreplicas : 1, sizeof(*off));
	if (off == NULL)
		return -1;
	rp->offline_replicas = off;
	rp->n_offline_replicas = 0;
	for (int32_t i = 0; i < pt->nreplicas; i++)
		if (kb_cl_broker(v, pt->replicas[i]) == NULL)
			off[rp->n_offline_replicas++] = pt->replicas[i];
	if (rp->leader_id < 0)
		rp->error_code = KP_LEADER_NOT_AVAILABLE;
	return 0;
}

static int
cluster_topic(struct kb_req *req, const struct kb_cl_view *v,
    const struct kb_cl_topic *t, struct kp_metadata_resp_topic *rt)
{
	rt->name = kb_str(t->name);
	memcpy(rt->topic_id, t->id, 16);
	rt->is_internal = strcmp(t->name, KP_OFFSETS_TOPIC) == 0;
	rt->topic_authorized_operations = INT32_MIN;
	rt->partitions = kp_arena_calloc(req->arena, t->nparts > 0 ?
	    (size_t)t->nparts : 1, sizeof(*rt->partitions));
	if (rt->partitions == NULL)
		return -1;
	rt->n_partitions = t->nparts;
	for (int32_t p = 0; p < t->nparts; p++)
		if (cluster_partition(req, v, &t->parts[p], p,
		    &rt->partitions[p]) == -1)
			return -1;
	return 0;
}

static int
cluster_metadata(struct kb_req *req, const struct kp_metadata_req *rq,
    struct kp_metadata_resp *rs, bool all, bool allow)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);
	size_t n;

	if (cluster_brokers(req, v, rs) == -1)
		return -1;
	n = all ? (v != NULL ? v->ntopics : 0) : (size_t)rq->n_topics;
	rs->topics = kp_arena_calloc(req->arena, n ? n : 1,
	    sizeof(*rs->topics));
	if (rs->topics == NULL)
		return -1;
	rs->n_topics = 0;
	for (size_t i = 0; i < n; i++) {
		struct kp_metadata_resp_topic *rt = &rs->topics[rs->n_topics];
		const struct kb_cl_topic *t;
		char cname[KP_TOPIC_NAME_MAX + 1];

		kp_metadata_resp_topic_init(rt);
		rt->topic_authorized_operations = INT32_MIN;
		if (all) {
			if (v->topics[i].deleting)
				continue;
			rs->n_topics++;
			if (cluster_topic(req, v, &v->topics[i], rt) == -1)
				return -1;
			continue;
		}
		rs->n_topics++;
		rt->name = rq->topics[i].name.len >= 0 ? rq->topics[i].name :
		    kb_str("");
		if (!name_copy(&rq->topics[i].name, cname, sizeof(cname)) ||
		    !kp_topic_name_valid(cname)) {
			rt->error_code = KP_INVALID_TOPIC_EXCEPTION;
			continue;
		}
		t = v != NULL ? kb_cl_topic(v, cname) : NULL;
		if (t != NULL && !t->deleting) {
			if (cluster_topic(req, v, t, rt) == -1)
				return -1;
		} else if (v == NULL)
			rt->error_code = KP_LEADER_NOT_AVAILABLE;
		else if (t == NULL && allow && req->b->cfg->auto_create)
			rt->error_code = cluster_auto_create(req, cname);
		else
			rt->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
	}
	return 0;
}

static int
handle_metadata(struct kb_req *req)
{
	struct kp_metadata_req rq;
	struct kp_metadata_resp rs;
	struct kb_broker *b = req->b;
	int16_t v = req->hdr.api_version;
	bool all, allow;
	size_t n;

	if (kp_metadata_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_metadata_resp_init(&rs);
	rs.cluster_id = kb_str(b->cluster_id);
	rs.cluster_authorized_operations = INT32_MIN;
	/* v0: an empty list means all topics; v1+: null means all. */
	all = rq.n_topics < 0 || (v == 0 && rq.n_topics == 0);
	allow = v < 4 ? true : rq.allow_auto_topic_creation;
	if (kb_cluster_mode(b)) {
		if (cluster_metadata(req, &rq, &rs, all, allow) == -1)
			return KB_CLOSE;
		goto encode;
	}
	rs.brokers = kp_arena_calloc(req->arena, 1, sizeof(*rs.brokers));
	if (rs.brokers == NULL)
		return KB_CLOSE;
	fill_broker(req, &rs.brokers[0]);
	rs.n_brokers = 1;
	rs.controller_id = b->cfg->broker_id;
	if (all) {
		struct kp_topic *t = NULL;

		n = kp_store_topic_count(b->store);
		rs.topics = kp_arena_calloc(req->arena, n ? n : 1,
		    sizeof(*rs.topics));
		if (rs.topics == NULL)
			return KB_CLOSE;
		rs.n_topics = 0;
		while ((t = kp_store_topic_next(b->store, t)) != NULL &&
		    (size_t)rs.n_topics < n) {
			struct kp_metadata_resp_topic *rt =
			    &rs.topics[rs.n_topics++];

			kp_metadata_resp_topic_init(rt);
			if (fill_topic(req, rt, t) == -1)
				return KB_CLOSE;
		}
	} else {
		n = (size_t)rq.n_topics;
		rs.topics = kp_arena_calloc(req->arena, n ? n : 1,
		    sizeof(*rs.topics));
		if (rs.topics == NULL)
			return KB_CLOSE;
		rs.n_topics = rq.n_topics;
		for (size_t i = 0; i < n; i++) {
			struct kp_metadata_resp_topic *rt = &rs.topics[i];
			const struct kp_str *name = &rq.topics[i].name;
			char cname[KP_TOPIC_NAME_MAX + 1];
			struct kp_topic *t = NULL;
			int err = KP_UNKNOWN_TOPIC_OR_PARTITION;

			kp_metadata_resp_topic_init(rt);
			rt->name = name->len >= 0 ? *name : kb_str("");
			rt->topic_authorized_operations = INT32_MIN;
			if (name_copy(name, cname, sizeof(cname)))
				t = kp_store_topic(b->store, cname);
			if (t == NULL && allow && b->cfg->auto_create)
				err = kb_auto_create(b, name);
			else if (t == NULL && name->len >= 0 &&
			    !name_copy(name, cname, sizeof(cname)))
				err = KP_INVALID_TOPIC_EXCEPTION;
			if (t == NULL && err == KP_NONE)
				t = kp_store_topic(b->store, cname);
			if (t == NULL) {
				rt->error_code = (int16_t)(err == KP_NONE ?
				    KP_UNKNOWN_TOPIC_OR_PARTITION : err);
				continue;
			}
			if (fill_topic(req, rt, t) == -1)
				return KB_CLOSE;
		}
	}
encode:
	if (kp_metadata_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(metadata, KP_API_METADATA, 0, 8, handle_metadata)
