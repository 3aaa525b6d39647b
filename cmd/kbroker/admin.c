/* admin.c -- topic administration: create/delete topics and partitions, configs, DeleteRecords */
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_admin.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "resp_array.h"

#define RESOURCE_TOPIC	2
#define RESOURCE_BROKER	4

/* DescribeConfigs ConfigSource values. */
#define SRC_TOPIC	1
#define SRC_STATIC	4
#define SRC_DEFAULT	5

static int
store_error(struct kb_broker *b, const char *what, const char *name, int rc)
{
	if (rc == KP_KAFKA_STORAGE_ERROR)
		kb_log("topic '%s': %s: %s", name, what, strerror(errno));
	else if (rc == KP_NONE)
		kb_log("topic '%s': %s", name, what);
	(void)b;
	return rc;
}

/* Arrays of C strings from a request's name/value pairs, in the arena. */
static int
cstr_pairs(struct kp_arena *a, size_t n, const char ***names,
    const char ***values)
{
	*names = kp_arena_calloc(a, n ? n : 1, sizeof(**names));
	*values = kp_arena_calloc(a, n ? n : 1, sizeof(**values));
	return *names && *values ? 0 : -1;
}

/* ---- cluster mode: answers once the view shows the change ---- */

/*
 * As Kafka's controller answers CreateTopics only when the new metadata
 * has spread, so `ktopic create t && kproduce t` just works: the first
 * run writes to ZooKeeper and keeps each item's result here, keyed by
 * the response; runs after each new view (apply.c wakes waiters) check
 * the view, until the request's timeout (then REQUEST_TIMED_OUT, the
 * change itself still under way).
 */
struct admin_wait {
	TAILQ_ENTRY(admin_wait) link;
	const struct kb_resp *r;
	int64_t		 deadline;
	int16_t		*errs;
	const char	**msgs;		/* static strings */
	int32_t		*want;		/* partitions to see; -1: gone */
	int32_t		 n;
};

static TAILQ_HEAD(, admin_wait) waits = TAILQ_HEAD_INITIALIZER(waits);

static void
wait_free(struct admin_wait *w)
{
	TAILQ_REMOVE(&waits, w, link);
	free(w->errs);
	free(w->msgs);
	free(w->want);
	free(w);
}

static struct admin_wait *
wait_find(const struct kb_resp *r)
{
	struct admin_wait *w;

	TAILQ_FOREACH(w, &waits, link)
		if (w->r == r)
			return w;
	return NULL;
}

/* Entries of requests whose connection closed are never run again. */
static void
wait_purge(int64_t now)
{
	struct admin_wait *w, *t;

	TAILQ_FOREACH_SAFE(w, &waits, link, t)
		if (now > w->deadline + 60000)
			wait_free(w);
}

static void
admin_fini(struct kb_broker *b)
{
	(void)b;
	while (!TAILQ_EMPTY(&waits))
		wait_free(TAILQ_FIRST(&waits));
}

KB_HOOK(admin_wait, NULL, NULL, admin_fini)

/*
 * After the first run: keep errs/want and wait (KB_DEFER), or KB_DONE
 * when nothing is to be seen (errs left as they are). -1: no memory.
 */
static int
wait_begin(struct kb_req *req, const int16_t *errs, const char **msgs,
    const int32_t *want, int32_t n, int32_t timeout_ms)
{
	struct admin_wait *w;
	int64_t now = kb_now_mono();
	bool any = false;

	for (int32_t i = 0; i < n; i++)
		if (errs[i] == KP_NONE)
			any = true;
	if (!any || timeout_ms <= 0)
		return KB_DONE;
	wait_purge(now);
	if ((w = wait_find(req->resp)) != NULL)
		wait_free(w);
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->errs = calloc((size_t)n, sizeof(*w->errs))) == NULL ||
	    (w->msgs = calloc((size_t)n, sizeof(*w->msgs))) == NULL ||
	    (w->want = calloc((size_t)n, sizeof(*w->want))) == NULL) {
		if (w != NULL) {
			free(w->errs);
			free(w->msgs);
		}
		free(w);
		return -1;
	}
	memcpy(w->errs, errs, (size_t)n * sizeof(*errs));
	if (msgs != NULL)
		memcpy(w->msgs, msgs, (size_t)n * sizeof(*msgs));
	memcpy(w->want, want, (size_t)n * sizeof(*want));
	w->n = n;
	w->r = req->resp;
	w->deadline = now + timeout_ms;
	req->resp->deadline = w->deadline;
	TAILQ_INSERT_TAIL(&waits, w, link);
	return KB_DEFER;
}

/* Does the view show item name as wanted (want partitions, or gone)? */
static bool
view_shows(struct kb_broker *b, const char *name, int32_t want)
{
	const struct kb_cl_view *v = kb_cluster_view(b);
	const struct kb_cl_topic *t = v && name ? kb_cl_topic(v, name) : NULL;

	if (want < 0)
		return t == NULL;
	if (t == NULL || t->deleting || t->nparts < want)
		return false;
	for (int32_t p = 0; p < t->nparts; p++)
		if (t->parts[p].version < 0)
			return false;
	return true;
}

/*
 * A later run: fill errs from the first run's results; KB_DEFER while
 * some change is not in the view yet and the deadline is ahead.
 */
static int
wait_settle(struct kb_req *req, int16_t *errs, const char **msgs,
    char *const *names, int32_t n)
{
	struct admin_wait *w = wait_find(req->resp);
	bool all = true;

	if (w == NULL || w->n != n) {
		for (int32_t i = 0; i < n; i++)
			errs[i] = KP_UNKNOWN_SERVER_ERROR;
		return KB_DONE;
	}
	for (int32_t i = 0; i < n; i++) {
		errs[i] = w->errs[i];
		if (msgs != NULL)
			msgs[i] = w->msgs[i];
		if (errs[i] == KP_NONE && !view_shows(req->b, names[i],
		    w->want[i])) {
			all = false;
			errs[i] = KP_REQUEST_TIMED_OUT;
		}
	}
	if (!all && !req->expired)
		return KB_DEFER;
	wait_free(w);
	return KB_DONE;
}

/* ---- cluster mode: CreateTopics checks before ZooKeeper ---- */

/* Kafka refuses "a.b" next to "a_b": metric names would collide. */
static bool
name_collides(const struct kb_cl_view *v, const char *name)
{
	for (size_t i = 0; i < v->ntopics; i++) {
		const char *a = v->topics[i].name, *c = name;

		for (; *a && *c; a++, c++)
			if ((*a == '.' ? '_' : *a) != (*c == '.' ? '_' : *c))
				break;
		if (*a == '\0' && *c == '\0' && strcmp(v->topics[i].name,
		    name) != 0)
			return true;
	}
	return false;
}

/* Explicit replica lists: one per partition, same length, live brokers. */
static int16_t
cluster_assignments(struct kb_req *req,
    const struct kp_create_topics_req_creatable_topic *t,
    const struct kb_cl_view *v, int32_t ***assign, int16_t *rf,
    const char **msg)
{
	int32_t n = t->n_assignments;

	if (t->num_partitions != -1 || t->replication_factor != -1) {
		*msg = "give either partitions and replication factor or "
		    "assignments";
		return KP_INVALID_REQUEST;
	}
	if ((*assign = kp_arena_calloc(req->arena, (size_t)n,
	    sizeof(**assign))) == NULL)
		return KP_UNKNOWN_SERVER_ERROR;
	*rf = (int16_t)t->assignments[0].n_broker_ids;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_create_topics_req_creatable_replica_assignment
		    *as = &t->assignments[i];

		if (as->partition_index != i || as->n_broker_ids != *rf ||
		    *rf < 1) {
			*msg = "partitions 0..n-1, each with as many replicas";
			return KP_INVALID_REPLICA_ASSIGNMENT;
		}
		for (int32_t j = 0; j < as->n_broker_ids; j++) {
			if (kb_cl_broker(v, as->broker_ids[j]) == NULL) {
				*msg = "a replica is not a live broker";
				return KP_INVALID_REPLICA_ASSIGNMENT;
			}
			for (int32_t k = 0; k < j; k++)
				if (as->broker_ids[k] == as->broker_ids[j]) {
					*msg = "a broker twice in a partition";
					return KP_INVALID_REPLICA_ASSIGNMENT;
				}
		}
		(*assign)[i] = as->broker_ids;
	}
	return KP_NONE;
}

/*
 * Everything ZooKeeper will not check: name, counts, replication factor
 * against the live brokers, configs. *nparts and *rf come back resolved.
 */
static int16_t
cluster_create_check(struct kb_req *req,
    const struct kp_create_topics_req_creatable_topic *t, const char *name,
    const char *const *names, const char *const *values, size_t ncfg,
    int32_t *nparts, int16_t *rf, int32_t ***assign, const char **msg)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);
	const struct kb_cl_topic *vt;
	struct kp_logconf over;
	int16_t rc;

	*assign = NULL;
	if (!kp_topic_name_valid(name))
		return KP_INVALID_TOPIC_EXCEPTION;
	if (v == NULL) {
		*msg = "not connected to ZooKeeper yet";
		return KP_NOT_CONTROLLER;
	}
	if ((vt = kb_cl_topic(v, name)) != NULL) {
		if (vt->deleting)
			*msg = "the topic is being deleted";
		return KP_TOPIC_ALREADY_EXISTS;
	}
	if (name_collides(v, name)) {
		*msg = "collides with an existing topic ('.' and '_')";
		return KP_INVALID_TOPIC_EXCEPTION;
	}
	if (t->n_assignments > 0) {
		if ((rc = cluster_assignments(req, t, v, assign, rf, msg)) !=
		    KP_NONE)
			return rc;
		*nparts = t->n_assignments;
	} else {
		*nparts = t->num_partitions == -1 ? req->b->cfg->num_partitions :
		    t->num_partitions;
		*rf = t->replication_factor == -1 ?
		    kb_cluster_default_rf(req->b) : t->replication_factor;
	}
	if (*nparts < 1 || *nparts > KP_STORE_PARTITIONS_MAX)
		return KP_INVALID_PARTITIONS;
	if (*rf < 1) {
		*msg = "the replication factor must be at least 1";
		return KP_INVALID_REPLICATION_FACTOR;
	}
	if ((size_t)*rf > v->nbrokers) {
		*msg = "replication factor larger than the live brokers";
		return KP_INVALID_REPLICATION_FACTOR;
	}
	kp_logconf_defaults(&over);
	for (size_t i = 0; i < ncfg; i++)
		if (kp_logconf_set(&over, names[i], values[i]) != KP_NONE) {
			*msg = "unknown config or invalid value";
			return KP_INVALID_CONFIG;
		}
	return KP_NONE;
}

/* ---- CreateTopics ---- */

/* Configs of a CreateTopics entry as C strings; -1 for a null value. */
static int
topic_configs(struct kb_req *req,
    const struct kp_create_topics_req_creatable_topic *t, const char ***names,
    const char ***values, size_t *n)
{
	*n = (size_t)(t->n_configs > 0 ? t->n_configs : 0);
	if (cstr_pairs(req->arena, *n, names, values) == -1)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		(*names)[i] = kb_arena_str(req->arena, &t->configs[i].name);
		(*values)[i] = kb_arena_str(req->arena, &t->configs[i].value);
		if ((*names)[i] == NULL || (*values)[i] == NULL)
			return -1;
	}
	return 0;
}

static int16_t
create_one_cluster(struct kb_req *req,
    const struct kp_create_topics_req_creatable_topic *t, const char *name,
    bool validate_only, int32_t *want, const char **msg)
{
	const char **names, **values;
	int32_t **assign, nparts;
	int16_t rf = 0, rc;
	size_t ncfg;

	if (topic_configs(req, t, &names, &values, &ncfg) == -1) {
		*msg = "config without a value";
		return KP_INVALID_CONFIG;
	}
	rc = cluster_create_check(req, t, name, names, values, ncfg, &nparts,
	    &rf, &assign, msg);
	if (rc != KP_NONE || validate_only)
		return rc;
	rc = (int16_t)kb_cluster_create_topic(req->b, name, nparts, rf,
	    (int32_t *const *)assign, names, values, ncfg);
	if (rc == KP_NONE) {
		*want = nparts;
		kb_log("topic '%s': created with %d partition(s), replication "
		    "factor %d", name, nparts, rf);
	} else
		kb_log("topic '%s': create: %s", name, kp_kerr_name(rc));
	return rc;
}

static int16_t
create_one(struct kb_req *req, const struct kp_create_topics_req_creatable_topic *t,
    bool validate_only, int32_t *want, const char **msg)
{
	struct kb_broker *b = req->b;
	const char **names, **values;
	char *name = kb_arena_str(req->arena, &t->name);
	int32_t parts = t->num_partitions;
	int rc;

	*msg = NULL;
	if (name == NULL)
		return KP_INVALID_TOPIC_EXCEPTION;
	if (kb_cluster_mode(b))
		return create_one_cluster(req, t, name, validate_only, want, msg);
	if (t->replication_factor != -1 && t->replication_factor != 1) {
		*msg = "replication factor must be 1 on a single broker";
		return KP_INVALID_REPLICATION_FACTOR;
	}
	if (t->n_assignments > 0) {
		if (parts != -1) {
			*msg = "give either partitions or assignments";
			return KP_INVALID_REQUEST;
		}
		for (int32_t i = 0; i < t->n_assignments; i++) {
			const struct kp_create_topics_req_creatable_replica_assignment
			    *as = &t->assignments[i];

			if (as->partition_index != i || as->n_broker_ids != 1 ||
			    as->broker_ids[0] != b->cfg->broker_id) {
				*msg = "replicas must be this broker";
				return KP_INVALID_REPLICA_ASSIGNMENT;
			}
		}
		parts = t->n_assignments;
	}
	if (parts == -1)
		parts = b->cfg->num_partitions;
	if (cstr_pairs(req->arena, (size_t)(t->n_configs > 0 ? t->n_configs :
	    0), &names, &values) == -1)
		return KP_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; i < t->n_configs; i++) {
		names[i] = kb_arena_str(req->arena, &t->configs[i].name);
		values[i] = kb_arena_str(req->arena, &t->configs[i].value);
		if (names[i] == NULL || values[i] == NULL) {
			*msg = "config without a value";
			return KP_INVALID_CONFIG;
		}
	}
	rc = kp_store_create_topic(b->store, name, parts, names, values,
	    (size_t)(t->n_configs > 0 ? t->n_configs : 0), NULL,
	    validate_only, NULL);
	if (rc == KP_NONE && !validate_only)
		kb_log("topic '%s': created with %d partition(s)", name, parts);
	else if (rc == KP_KAFKA_STORAGE_ERROR)
		store_error(b, "create", name, rc);
	return (int16_t)rc;
}

/* The same name twice in one request: Kafka refuses both. */
static bool
named_twice(const struct kp_create_topics_req *rq, int32_t i)
{
	for (int32_t j = 0; j < rq->n_topics; j++)
		if (j != i && rq->topics[j].name.len == rq->topics[i].name.len &&
		    rq->topics[i].name.len >= 0 && memcmp(rq->topics[j].name.ptr,
		    rq->topics[i].name.ptr, (size_t)rq->topics[i].name.len) == 0)
			return true;
	return false;
}

static int
handle_create_topics(struct kb_req *req)
{
	struct kp_create_topics_req rq;
	struct kp_create_topics_resp rs;
	int16_t v = req->hdr.api_version, *errs;
	const char **msgs;
	char **names;
	int32_t n, *want;
	int rc = KB_DONE;

	if (kp_create_topics_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_create_topics_resp_init(&rs);
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &n,
	    sizeof(*rs.topics));
	rs.n_topics = n;
	errs = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*errs));
	msgs = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*msgs));
	names = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*names));
	want = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*want));
	if (rs.topics == NULL || errs == NULL || msgs == NULL ||
	    names == NULL || want == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++)
		names[i] = kb_arena_str(req->arena, &rq.topics[i].name);
	if (req->retry) {
		rc = wait_settle(req, errs, msgs, names, n);
	} else {
		for (int32_t i = 0; i < n; i++) {
			if (named_twice(&rq, i)) {
				errs[i] = KP_INVALID_REQUEST;
				msgs[i] = "topic named twice in one request";
			} else
				errs[i] = create_one(req, &rq.topics[i],
				    rq.validate_only, &want[i], &msgs[i]);
		}
		if (kb_cluster_mode(req->b) && !rq.validate_only)
			rc = wait_begin(req, errs, msgs, want, n,
			    rq.timeout_ms);
	}
	if (rc == KB_DEFER || rc == -1)
		return rc == -1 ? KB_CLOSE : KB_DEFER;
	for (int32_t i = 0; i < n; i++) {
		struct kp_create_topics_resp_creatable_topic_result *r =
		    &rs.topics[i];

		kp_create_topics_resp_creatable_topic_result_init(r);
		r->name = rq.topics[i].name;
		r->error_code = errs[i];
		if (v >= 1 && msgs[i] != NULL)
			r->error_message = kb_str(msgs[i]);
	}
	if (kp_create_topics_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(create_topics, KP_API_CREATE_TOPICS, 0, 4, handle_create_topics)

/* ---- DeleteTopics ---- */

static int16_t
delete_one(struct kb_req *req, const struct kp_str *topic)
{
	struct kb_broker *b = req->b;
	char *name = kb_arena_str(req->arena, topic);
	struct kp_topic *t;
	int rc;

	if (!b->cfg->delete_enable)
		return KP_TOPIC_DELETION_DISABLED;
	if (name == NULL || (t = kp_store_topic(b->store, name)) == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	for (int32_t p = 0; p < t->partitions; p++) {
		kb_pstate_drop_log(b, t->logs[p]);
		kb_durable_drop_log(b, t->logs[p]);
	}
	rc = kp_store_delete_topic(b->store, name);
	if (rc == KP_NONE)
		kb_log("topic '%s': deleted", name);
	else
		store_error(b, "delete", name, rc);
	b->wake = true;		/* long polls on it answer now */
	return (int16_t)rc;
}

/* Cluster mode: mark for deletion; the controller and apply.c do it. */
static int16_t
delete_one_cluster(struct kb_req *req, const char *name)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);
	const struct kb_cl_topic *t;
	int rc;

	if (!req->b->cfg->delete_enable)
		return KP_TOPIC_DELETION_DISABLED;
	if (v == NULL)
		return KP_NOT_CONTROLLER;
	if (name == NULL || (t = kb_cl_topic(v, name)) == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (t->deleting)
		return KP_NONE;		/* under way already: wait for it */
	rc = kb_cluster_delete_topic(req->b, name);
	if (rc == KP_NONE)
		kb_log("topic '%s': marked for deletion", name);
	else
		kb_log("topic '%s': delete: %s", name,
		    kp_kerr_name((int16_t)rc));
	return (int16_t)rc;
}

static int
handle_delete_topics(struct kb_req *req)
{
	struct kp_delete_topics_req rq;
	struct kp_delete_topics_resp rs;
	int16_t v = req->hdr.api_version, *errs;
	char **names;
	int32_t n, *want;
	int rc = KB_DONE;

	if (kp_delete_topics_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_delete_topics_resp_init(&rs);
	rs.responses = kb_resp_array(req->arena, rq.n_topic_names, &n,
	    sizeof(*rs.responses));
	rs.n_responses = n;
	errs = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*errs));
	names = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*names));
	want = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*want));
	if (rs.responses == NULL || errs == NULL || names == NULL ||
	    want == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		names[i] = kb_arena_str(req->arena, &rq.topic_names[i]);
		want[i] = -1;
	}
	if (!kb_cluster_mode(req->b)) {
		for (int32_t i = 0; i < n; i++)
			errs[i] = delete_one(req, &rq.topic_names[i]);
	} else if (req->retry) {
		rc = wait_settle(req, errs, NULL, names, n);
	} else {
		for (int32_t i = 0; i < n; i++)
			errs[i] = delete_one_cluster(req, names[i]);
		rc = wait_begin(req, errs, NULL, want, n, rq.timeout_ms);
	}
	if (rc == KB_DEFER || rc == -1)
		return rc == -1 ? KB_CLOSE : KB_DEFER;
	for (int32_t i = 0; i < n; i++) {
		kp_delete_topics_resp_deletable_topic_result_init(
		    &rs.responses[i]);
		rs.responses[i].name = rq.topic_names[i];
		rs.responses[i].error_code = errs[i];
	}
	if (kp_delete_topics_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(delete_topics, KP_API_DELETE_TOPICS, 0, 3, handle_delete_topics)

/* ---- CreatePartitions ---- */

/* Cluster mode: new partitions through ZooKeeper, replicas spread. */
static int16_t
add_partitions_cluster(struct kb_req *req,
    const struct kp_create_partitions_req_topic *t, const char *name,
    bool validate_only, const char **msg)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);
	const struct kb_cl_topic *vt;
	int rc;

	if (v == NULL) {
		*msg = "not connected to ZooKeeper yet";
		return KP_NOT_CONTROLLER;
	}
	if ((vt = kb_cl_topic(v, name)) == NULL || vt->deleting)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (t->count <= vt->nparts || t->count > KP_STORE_PARTITIONS_MAX) {
		*msg = "the partition count can only grow";
		return KP_INVALID_PARTITIONS;
	}
	if (t->n_assignments > 0) {
		*msg = "explicit assignments are not supported: leave them out "
		    "to spread the new replicas";
		return KP_INVALID_REPLICA_ASSIGNMENT;
	}
	if (validate_only)
		return KP_NONE;
	rc = kb_cluster_add_partitions(req->b, name, t->count);
	if (rc == KP_NONE)
		kb_log("topic '%s': now %d partition(s)", name, t->count);
	else
		kb_log("topic '%s': add partitions: %s", name,
		    kp_kerr_name((int16_t)rc));
	return (int16_t)rc;
}

static int16_t
add_partitions_local(struct kb_req *req,
    const struct kp_create_partitions_req_topic *t, const char *name,
    bool validate_only, const char **msg)
{
	int rc = kp_store_add_partitions(req->b->store, name, t->count,
	    validate_only);

	if (rc == KP_INVALID_PARTITIONS)
		*msg = "the partition count can only grow";
	else if (rc == KP_NONE && !validate_only)
		kb_log("topic '%s': now %d partition(s)", name, t->count);
	else if (rc == KP_KAFKA_STORAGE_ERROR)
		store_error(req->b, "add partitions", name, rc);
	return (int16_t)rc;
}

static int
handle_create_partitions(struct kb_req *req)
{
	struct kp_create_partitions_req rq;
	struct kp_create_partitions_resp rs;
	int16_t v = req->hdr.api_version, *errs;
	bool cluster = kb_cluster_mode(req->b);
	const char **msgs;
	char **names;
	int32_t n, *want;
	int rc = KB_DONE;

	if (kp_create_partitions_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_create_partitions_resp_init(&rs);
	rs.results = kb_resp_array(req->arena, rq.n_topics, &n,
	    sizeof(*rs.results));
	rs.n_results = n;
	errs = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*errs));
	msgs = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*msgs));
	names = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*names));
	want = kp_arena_calloc(req->arena, n ? (size_t)n : 1, sizeof(*want));
	if (rs.results == NULL || errs == NULL || msgs == NULL ||
	    names == NULL || want == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		names[i] = kb_arena_str(req->arena, &rq.topics[i].name);
		want[i] = rq.topics[i].count;
	}
	if (req->retry) {
		rc = wait_settle(req, errs, msgs, names, n);
	} else {
		for (int32_t i = 0; i < n; i++) {
			if (names[i] == NULL)
				errs[i] = KP_UNKNOWN_TOPIC_OR_PARTITION;
			else if (cluster)
				errs[i] = add_partitions_cluster(req,
				    &rq.topics[i], names[i], rq.validate_only,
				    &msgs[i]);
			else
				errs[i] = add_partitions_local(req,
				    &rq.topics[i], names[i], rq.validate_only,
				    &msgs[i]);
		}
		if (cluster && !rq.validate_only)
			rc = wait_begin(req, errs, msgs, want, n,
			    rq.timeout_ms);
	}
	if (rc == KB_DEFER || rc == -1)
		return rc == -1 ? KB_CLOSE : KB_DEFER;
	for (int32_t i = 0; i < n; i++) {
		struct kp_create_partitions_resp_topic_result *r =
		    &rs.results[i];

		kp_create_partitions_resp_topic_result_init(r);
		r->name = rq.topics[i].name;
		r->error_code = errs[i];
		if (msgs[i] != NULL)
			r->error_message = kb_str(msgs[i]);
	}
	if (kp_create_partitions_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(create_partitions, KP_API_CREATE_PARTITIONS, 0, 1,
    handle_create_partitions)

/* ---- DescribeConfigs ---- */

static bool
key_wanted(const struct kp_describe_configs_req_resource *res,
    const char *name)
{
	if (res->n_configuration_keys < 0)
		return true;
	for (int32_t i = 0; i < res->n_configuration_keys; i++)
		if (kp_str_eq(&res->configuration_keys[i], name))
			return true;
	return false;
}

static void
config_entry(struct kb_req *req,
    struct kp_describe_configs_resp_resource_result *c, const char *name,
    const char *value, bool is_default, int8_t source, bool read_only)
{
	kp_describe_configs_resp_resource_result_init(c);
	c->name = kb_str(name);
	c->value = kb_str(value);
	c->read_only = read_only;
	if (req->hdr.api_version == 0)
		c->is_default = is_default;
	else {
		c->config_source = source;
		c->n_synonyms = 0;
	}
}

/* A copy of s in the arena (config values outlive the loop's buffer). */
static char *
arena_dup(struct kp_arena *a, const char *s)
{
	struct kp_str k = kb_str(s);

	return kb_arena_str(a, &k);
}

/* Cluster mode: a topic's overrides as ZooKeeper has them (the view). */
static bool
cluster_overrides(struct kb_broker *b, const char *name,
    struct kp_logconf *over)
{
	const struct kb_cl_view *v = kb_cluster_view(b);
	const struct kb_cl_topic *vt = v && name ? kb_cl_topic(v, name) : NULL;

	kp_logconf_defaults(over);
	over->set = 0;
	if (vt == NULL || vt->deleting)
		return false;
	for (size_t i = 0; vt->cfg_keys != NULL && i < vt->ncfg; i++)
		(void)kp_logconf_set(over, vt->cfg_keys[i], vt->cfg_vals[i]);
	return true;
}

static int
describe_topic(struct kb_req *req,
    const struct kp_describe_configs_req_resource *res,
    struct kp_describe_configs_resp_result *r)
{
	char *name = kb_arena_str(req->arena, &res->resource_name);
	struct kp_topic *t = name ? kp_store_topic(req->b->store, name) : NULL;
	size_t n = kp_logconf_count(), k = 0;
	struct kp_topic ct;
	char buf[64];

	if (kb_cluster_mode(req->b)) {
		/* every broker answers alike, replica here or not */
		memset(&ct, 0, sizeof(ct));
		t = NULL;
		if (cluster_overrides(req->b, name, &ct.overrides)) {
			kp_logconf_merge(&ct.conf, &req->b->cfg->log,
			    &ct.overrides);
			t = &ct;
		}
	}
	if (t == NULL) {
		r->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
		return 0;
	}
	r->configs = kp_arena_calloc(req->arena, n, sizeof(*r->configs));
	if (r->configs == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *cn = kp_logconf_name(i);
		bool set = kp_logconf_is_set(&t->conf, i) ||
		    kp_logconf_is_set(&t->overrides, i);

		if (!key_wanted(res, cn))
			continue;
		kp_logconf_format(&t->conf, i, buf, sizeof(buf));
		config_entry(req, &r->configs[k++], cn,
		    arena_dup(req->arena, buf), !set,
		    set ? SRC_TOPIC : SRC_DEFAULT, false);
	}
	r->n_configs = (int32_t)k;
	return 0;
}

/* The broker's own settings that describe it best. */
static const char *broker_keys[] = {
	"auto.create.topics.enable", "broker.id", "connections.max.idle.ms",
	"delete.topic.enable", "group.initial.rebalance.delay.ms", "listeners",
	"log.dirs",
	"log.retention.check.interval.ms", "max.connections", "num.partitions",
	"replica.high.watermark.checkpoint.interval.ms",
	"socket.request.max.bytes",
};

static const char *
broker_value(struct kb_broker *b, const char *key, char *buf, size_t len)
{
	const struct kb_config *c = b->cfg;

	if (strcmp(key, "auto.create.topics.enable") == 0)
		return c->auto_create ? "true" : "false";
	if (strcmp(key, "delete.topic.enable") == 0)
		return c->delete_enable ? "true" : "false";
	if (strcmp(key, "broker.id") == 0)
		snprintf(buf, len, "%d", c->broker_id);
	else if (strcmp(key, "num.partitions") == 0)
		snprintf(buf, len, "%d", c->num_partitions);
	else if (strcmp(key, "socket.request.max.bytes") == 0)
		snprintf(buf, len, "%lld", (long long)c->request_max);
	else if (strcmp(key, "max.connections") == 0)
		snprintf(buf, len, "%lld", (long long)c->max_connections);
	else if (strcmp(key, "connections.max.idle.ms") == 0)
		snprintf(buf, len, "%lld", (long long)c->idle_ms);
	else if (strcmp(key, "log.retention.check.interval.ms") == 0)
		snprintf(buf, len, "%lld", (long long)c->tick_ms);
	else if (strcmp(key, "group.initial.rebalance.delay.ms") == 0) {
		const char *v = kb_config_get(c, key, NULL);

		if (v != NULL)
			return v;
		snprintf(buf, len, "%d", KB_GROUP_INITIAL_DELAY_MS);
	}
	else if (strcmp(key, "replica.high.watermark.checkpoint.interval.ms") ==
	    0)
		snprintf(buf, len, "%lld", (long long)c->ckpt_ms);
	else if (strcmp(key, "log.dirs") == 0)
		return c->data_dir;
	else if (strcmp(key, "listeners") == 0) {
		size_t off = 0;

		buf[0] = '\0';
		for (size_t i = 0; i < b->nlis && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    i ? "," : "", b->lis[i].name);
	} else
		return NULL;
	return buf;
}

static int
describe_broker(struct kb_req *req,
    const struct kp_describe_configs_req_resource *res,
    struct kp_describe_configs_resp_result *r)
{
	struct kb_broker *b = req->b;
	size_t nb = sizeof(broker_keys) / sizeof(broker_keys[0]);
	size_t nl = kp_logconf_count(), k = 0;
	char id[16], buf[1024];

	snprintf(id, sizeof(id), "%d", b->cfg->broker_id);
	if (res->resource_name.len > 0 && !kp_str_eq(&res->resource_name, id)) {
		r->error_code = KP_INVALID_REQUEST;
		r->error_message = kb_str("not this broker's id");
		return 0;
	}
	r->configs = kp_arena_calloc(req->arena, nb + nl, sizeof(*r->configs));
	if (r->configs == NULL)
		return -1;
	for (size_t i = 0; i < nb; i++) {
		const char *v;
		bool given = kb_config_get(b->cfg, broker_keys[i], NULL) != NULL;

		if (!key_wanted(res, broker_keys[i]))
			continue;
		v = broker_value(b, broker_keys[i], buf, sizeof(buf));
		config_entry(req, &r->configs[k++], broker_keys[i],
		    arena_dup(req->arena, v ? v : ""), !given,
		    given ? SRC_STATIC : SRC_DEFAULT, true);
	}
	/* Topic defaults, under their topic names as Kafka lists synonyms. */
	for (size_t i = 0; i < nl; i++) {
		const char *cn = kp_logconf_name(i);

		if (!key_wanted(res, cn))
			continue;
		kp_logconf_format(&b->cfg->log, i, buf, sizeof(buf));
		config_entry(req, &r->configs[k++], cn,
		    arena_dup(req->arena, buf), true, SRC_DEFAULT, true);
	}
	r->n_configs = (int32_t)k;
	return 0;
}

static int
handle_describe_configs(struct kb_req *req)
{
	struct kp_describe_configs_req rq;
	struct kp_describe_configs_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_describe_configs_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_describe_configs_resp_init(&rs);
	rs.results = kb_resp_array(req->arena, rq.n_resources, &n,
	    sizeof(*rs.results));
	rs.n_results = n;
	if (rs.results == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_describe_configs_req_resource *res =
		    &rq.resources[i];
		struct kp_describe_configs_resp_result *r = &rs.results[i];
		int rc = 0;

		kp_describe_configs_resp_result_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		r->n_configs = 0;
		if (res->resource_type == RESOURCE_TOPIC)
			rc = describe_topic(req, res, r);
		else if (res->resource_type == RESOURCE_BROKER)
			rc = describe_broker(req, res, r);
		else
			r->error_code = KP_INVALID_REQUEST;
		if (rc == -1)
			return KB_CLOSE;
	}
	if (kp_describe_configs_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(describe_configs, KP_API_DESCRIBE_CONFIGS, 0, 2,
    handle_describe_configs)

/* ---- AlterConfigs and IncrementalAlterConfigs ---- */

/*
 * Cluster mode: the topic's new complete overrides, checked here, go to
 * ZooKeeper; every replica takes them from the next view (apply.c).
 */
static int16_t
alter_cluster(struct kb_req *req, const char *name, const char **names,
    const char **values, const int8_t *ops, size_t n, bool replace,
    bool validate_only, const char **msg)
{
	struct kp_logconf over;
	const char **keys, **vals;
	size_t nk = 0, nc = kp_logconf_count();
	int rc;

	if (!cluster_overrides(req->b, name, &over))
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (replace) {
		kp_logconf_defaults(&over);
		over.set = 0;
	}
	for (size_t i = 0; i < n; i++) {
		int op = ops != NULL ? ops[i] : 0;

		if (op == 0 && kp_logconf_set(&over, names[i], values[i]) !=
		    KP_NONE) {
			*msg = "unknown config or invalid value";
			return KP_INVALID_CONFIG;
		}
		if (op == 1 && kp_logconf_reset(&over, names[i]) != KP_NONE) {
			*msg = "unknown config or invalid value";
			return KP_INVALID_CONFIG;
		}
		if (op != 0 && op != 1) {
			*msg = "APPEND and SUBTRACT are not supported";
			return KP_INVALID_REQUEST;
		}
	}
	if (validate_only)
		return KP_NONE;
	keys = kp_arena_calloc(req->arena, nc, sizeof(*keys));
	vals = kp_arena_calloc(req->arena, nc, sizeof(*vals));
	if (keys == NULL || vals == NULL)
		return KP_UNKNOWN_SERVER_ERROR;
	for (size_t k = 0; k < nc; k++) {
		char buf[64];

		if (!kp_logconf_is_set(&over, k))
			continue;
		keys[nk] = kp_logconf_name(k);
		vals[nk++] = arena_dup(req->arena, kp_logconf_format(&over, k,
		    buf, sizeof(buf)));
	}
	rc = kb_cluster_set_topic_configs(req->b, name, keys, vals, nk);
	if (rc == KP_NONE)
		kb_log("topic '%s': configs altered", name);
	return (int16_t)rc;
}

/*
 * One resource: topics go to the store (all or nothing); broker configs
 * are static in kbroker (set them in the config file).
 */
static int16_t
alter_resource(struct kb_req *req, int8_t type, const struct kp_str *rname,
    const char **names, const char **values, const int8_t *ops, size_t n,
    bool replace, bool validate_only, const char **msg)
{
	char *name;
	int rc;

	*msg = NULL;
	if (type == RESOURCE_BROKER) {
		*msg = "broker configs are static: edit the config file";
		return KP_INVALID_REQUEST;
	}
	if (type != RESOURCE_TOPIC)
		return KP_INVALID_REQUEST;
	for (size_t i = 0; i < n; i++)
		if (names[i] == NULL || (values[i] == NULL &&
		    (ops == NULL || ops[i] == 0))) {
			*msg = "config without a name or value";
			return KP_INVALID_CONFIG;
		}
	if ((name = kb_arena_str(req->arena, rname)) == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (kb_cluster_mode(req->b))
		return alter_cluster(req, name, names, values, ops, n, replace,
		    validate_only, msg);
	rc = kp_store_alter_configs(req->b->store, name, names, values, ops, n,
	    replace, validate_only);
	if (rc == KP_NONE && !validate_only)
		kb_log("topic '%s': configs altered", name);
	else if (rc == KP_INVALID_CONFIG)
		*msg = "unknown config or invalid value";
	else if (rc == KP_INVALID_REQUEST)
		*msg = "APPEND and SUBTRACT are not supported";
	else if (rc == KP_KAFKA_STORAGE_ERROR)
		store_error(req->b, "alter configs", name, rc);
	return (int16_t)rc;
}

static int
handle_alter_configs(struct kb_req *req)
{
	struct kp_alter_configs_req rq;
	struct kp_alter_configs_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_alter_configs_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_alter_configs_resp_init(&rs);
	rs.responses = kb_resp_array(req->arena, rq.n_resources, &n,
	    sizeof(*rs.responses));
	rs.n_responses = n;
	if (rs.responses == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_alter_configs_req_resource *res = &rq.resources[i];
		struct kp_alter_configs_resp_resource_response *r =
		    &rs.responses[i];
		size_t nc = (size_t)(res->n_configs > 0 ? res->n_configs : 0);
		const char **names, **values, *msg;

		kp_alter_configs_resp_resource_response_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		if (cstr_pairs(req->arena, nc, &names, &values) == -1)
			return KB_CLOSE;
		for (size_t j = 0; j < nc; j++) {
			names[j] = kb_arena_str(req->arena,
			    &res->configs[j].name);
			values[j] = kb_arena_str(req->arena,
			    &res->configs[j].value);
		}
		r->error_code = alter_resource(req, res->resource_type,
		    &res->resource_name, names, values, NULL, nc, true,
		    rq.validate_only, &msg);
		if (msg != NULL)
			r->error_message = kb_str(msg);
	}
	if (kp_alter_configs_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(alter_configs, KP_API_ALTER_CONFIGS, 0, 1, handle_alter_configs)

static int
handle_incremental_alter_configs(struct kb_req *req)
{
	struct kp_incremental_alter_configs_req rq;
	struct kp_incremental_alter_configs_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_incremental_alter_configs_req_decode(req->body, req->body_len,
	    v, &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_incremental_alter_configs_resp_init(&rs);
	rs.responses = kb_resp_array(req->arena, rq.n_resources, &n,
	    sizeof(*rs.responses));
	rs.n_responses = n;
	if (rs.responses == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_incremental_alter_configs_req_alter_configs_resource
		    *res = &rq.resources[i];
		struct kp_incremental_alter_configs_resp_alter_configs_resource_response
		    *r = &rs.responses[i];
		size_t nc = (size_t)(res->n_configs > 0 ? res->n_configs : 0);
		const char **names, **values, *msg;
		int8_t *ops;

		kp_incremental_alter_configs_resp_alter_configs_resource_response_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		ops = kp_arena_calloc(req->arena, nc ? nc : 1, sizeof(*ops));
		if (ops == NULL || cstr_pairs(req->arena, nc, &names,
		    &values) == -1)
			return KB_CLOSE;
		for (size_t j = 0; j < nc; j++) {
			names[j] = kb_arena_str(req->arena,
			    &res->configs[j].name);
			values[j] = kb_arena_str(req->arena,
			    &res->configs[j].value);
			ops[j] = res->configs[j].config_operation;
		}
		r->error_code = alter_resource(req, res->resource_type,
		    &res->resource_name, names, values, ops, nc, false,
		    rq.validate_only, &msg);
		if (msg != NULL)
			r->error_message = kb_str(msg);
	}
	if (kp_incremental_alter_configs_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(incremental_alter_configs, KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1,
    handle_incremental_alter_configs)

/* ---- DeleteRecords ---- */

static int
handle_delete_records(struct kb_req *req)
{
	struct kp_delete_records_req rq;
	struct kp_delete_records_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_delete_records_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_delete_records_resp_init(&rs);
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &n,
	    sizeof(*rs.topics));
	rs.n_topics = n;
	if (rs.topics == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_delete_records_req_topic *t = &rq.topics[i];
		struct kp_delete_records_resp_topic_result *tr = &rs.topics[i];
		int32_t np;

		kp_delete_records_resp_topic_result_init(tr);
		tr->name = t->name;
		tr->partitions = kb_resp_array(req->arena, t->n_partitions, &np,
		    sizeof(*tr->partitions));
		tr->n_partitions = np;
		if (tr->partitions == NULL)
			return KB_CLOSE;
		for (int32_t j = 0; j < np; j++) {
			struct kp_delete_records_resp_partition_result *pr =
			    &tr->partitions[j];
			struct kp_log *log = kb_log_for(req->b, &t->name,
			    t->partitions[j].partition_index);
			int64_t low = -1;
			int rc;

			kp_delete_records_resp_partition_result_init(pr);
			pr->partition_index = t->partitions[j].partition_index;
			if ((rc = kb_cluster_check_leader_s(req->b, &t->name,
			    pr->partition_index)) != KP_NONE) {
				pr->error_code = (int16_t)rc;
				pr->low_watermark = -1;
				continue;
			}
			if (log == NULL) {
				pr->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
				pr->low_watermark = -1;
				continue;
			}
			pr->error_code = (int16_t)kp_log_delete_records(log,
			    t->partitions[j].offset, &low);
			pr->low_watermark = low;
			if (pr->error_code == KP_NONE)
				kb_log("%s: records before %lld deleted",
				    kp_log_dir(log), (long long)low);
		}
	}
	if (kp_delete_records_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(delete_records, KP_API_DELETE_RECORDS, 0, 1, handle_delete_records)
