/* repl_admin.c -- ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kp_err.h"
#include "kp_proto_repl.h"
#include "kp_store.h"
#include "cluster.h"
#include "kbroker.h"
#include "resp_array.h"

/*
 * These are controller requests in Kafka: kafka-leader-election.sh,
 * kafka-reassign-partitions.sh and the Java admin client send them to the
 * controller named in Metadata. A single kbroker is its own controller
 * and the only replica of every partition, so it answers as a one-broker
 * Kafka cluster would: every leader is already the preferred one, and
 * the only possible assignment is [this broker].
 *
 * In cluster mode only the controller acts (others answer
 * NOT_CONTROLLER, and clients ask Metadata again): it checks a request
 * against its view of ZooKeeper, then writes through kb_cluster_elect
 * and kb_cluster_reassign, which check again against ZooKeeper itself.
 * A reassignment in progress is the view's adding/removing replicas.
 */

#define MOVES_WAIT_MS	5000	/* at most, for our writes to reach the view */
#define ELECT_PREFERRED	0
#define ELECT_UNCLEAN	1

/* What a handler needs to know of one partition. */
struct pinfo {
	int32_t		 leader;	/* -1: offline */
	const int32_t	*replicas;	/* [0] is the preferred leader */
	int32_t		 nreplicas;
	const int32_t	*isr;
	int32_t		 nisr;
};

/* The view when this broker is the controller; NULL otherwise. */
static const struct kb_cl_view *
controller_view(struct kb_req *req)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);

	return v != NULL && v->controller == req->b->cfg->broker_id ? v :
	    NULL;
}

/* A message in the request's arena; an empty string if out of memory. */
static struct kp_str __attribute__((format(printf, 2, 3)))
msgf(struct kb_req *req, const char *fmt, ...)
{
	char tmp[512], *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	if ((s = kp_arena_calloc(req->arena, (size_t)n + 1, 1)) == NULL)
		return kb_str("");
	memcpy(s, tmp, (size_t)n);
	return kb_str(s);
}

static bool
in(const int32_t *v, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* "1, 2, 3" into buf, as Kafka's messages print replica lists. */
static const char *
idlist(char *buf, size_t len, const int32_t *v, int32_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int32_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d",
		    i ? ", " : "", v[i]);
	return buf;
}

/*
 * The partition as this broker knows it: KP_NONE,
 * KP_UNKNOWN_TOPIC_OR_PARTITION, or KP_INVALID_TOPIC_EXCEPTION for a
 * topic being deleted (as Kafka's controller answers for one).
 */
static int16_t
part_info(struct kb_req *req, const char *topic, int32_t part,
    struct pinfo *pi, int32_t *self)
{
	const struct kb_cl_topic *ct;
	const struct kb_cl_part *cp;
	struct kp_topic *t;

	*self = req->b->cfg->broker_id;
	if (topic == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (kb_cluster_mode(req->b)) {
		ct = kb_cl_topic(kb_cluster_view(req->b), topic);
		if (ct == NULL || part < 0 || part >= ct->nparts ||
		    ct->parts[part].nreplicas == 0)
			return KP_UNKNOWN_TOPIC_OR_PARTITION;
		if (ct->deleting)
			return KP_INVALID_TOPIC_EXCEPTION;
		cp = &ct->parts[part];
		pi->leader = cp->leader;
		pi->replicas = cp->replicas;
		pi->nreplicas = cp->nreplicas;
		pi->isr = cp->isr;
		pi->nisr = cp->nisr;
		return KP_NONE;
	}
	if ((t = kp_store_topic(req->b->store, topic)) == NULL || part < 0 ||
	    part >= t->partitions)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	pi->leader = *self;
	pi->replicas = pi->isr = self;
	pi->nreplicas = pi->nisr = 1;
	return KP_NONE;
}

/* Is broker id alive: registered in ZooKeeper, or this single broker? */
static bool
live(struct kb_req *req, int32_t id)
{
	if (kb_cluster_mode(req->b))
		return kb_cl_broker(kb_cluster_view(req->b), id) != NULL;
	return id == req->b->cfg->broker_id;
}

/* "0, 1, 2": the live brokers, for messages. */
static const char *
live_list(struct kb_req *req, char *buf, size_t len)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);
	size_t off = 0;

	if (!kb_cluster_mode(req->b) || v == NULL) {
		snprintf(buf, len, "%d", req->b->cfg->broker_id);
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < v->nbrokers && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d",
		    i ? ", " : "", v->brokers[i].id);
	return buf;
}

/* ---- ElectLeaders ---- */

/* Kafka's words for an election that did not happen, or none. */
static struct kp_str
elect_msg(struct kb_req *req, int16_t rc, const char *topic, int32_t part)
{
	struct kp_str none = { NULL, -1 };

	switch (rc) {
	case KP_PREFERRED_LEADER_NOT_AVAILABLE:
		return msgf(req, "Failed to elect leader for partition %s-%d "
		    "under strategy PreferredReplicaPartitionLeaderElection"
		    "Strategy", topic, part);
	case KP_ELIGIBLE_LEADERS_NOT_AVAILABLE:
		return msgf(req, "No live replica of %s-%d can lead it", topic,
		    part);
	case KP_NOT_CONTROLLER:
		return kb_str("This is not the correct controller for this "
		    "cluster.");
	case KP_UNKNOWN_TOPIC_OR_PARTITION:
		return kb_str("The partition does not exist.");
	case KP_INVALID_TOPIC_EXCEPTION:
		return kb_str("The topic is being deleted");
	default:
		return none;
	}
}

/*
 * One partition's election, as KafkaController.processReplicaLeaderElection
 * decides it: nothing to do when the preferred replica leads already
 * (preferred) or some live replica leads (unclean). A single broker
 * always leads: its answer is always "not needed" or "no such partition".
 */
static int16_t
elect_decide(struct kb_req *req, const char *topic, int32_t part,
    int8_t type)
{
	struct pinfo pi;
	int32_t self;
	int16_t rc;

	if (kb_cluster_mode(req->b) && controller_view(req) == NULL)
		return KP_NOT_CONTROLLER;
	if ((rc = part_info(req, topic, part, &pi, &self)) != KP_NONE)
		return rc;
	if (type == ELECT_PREFERRED ? pi.leader == pi.replicas[0] :
	    pi.leader >= 0 && live(req, pi.leader))
		return KP_ELECTION_NOT_NEEDED;
	if (type == ELECT_PREFERRED && (!live(req, pi.replicas[0]) ||
	    !in(pi.isr, pi.nisr, pi.replicas[0])))
		return KP_PREFERRED_LEADER_NOT_AVAILABLE;
	if (!kb_cluster_mode(req->b))
		return KP_ELIGIBLE_LEADERS_NOT_AVAILABLE;	/* not reached */
	rc = (int16_t)kb_cluster_elect(req->b, topic, part,
	    type == ELECT_UNCLEAN);
	if (rc == KP_NONE)
		kb_log("topic '%s': %s election of partition %d asked for",
		    topic, type == ELECT_PREFERRED ? "preferred" : "unclean",
		    part);
	return rc;
}

static int16_t
elect_one(struct kb_req *req, const char *topic, int32_t part, int8_t type,
    struct kp_str *msg)
{
	int16_t rc = elect_decide(req, topic, part, type);

	*msg = elect_msg(req, rc, topic, part);
	return rc;
}

/* A topic's name and partition count, for walking "every partition". */
struct tname {
	const char	*name;
	int32_t		 nparts;
};

/*
 * The topics: the view's in cluster mode (those being deleted left
 * out: they are going), else the store's. *n set; NULL out of memory.
 */
static struct tname *
all_topics(struct kb_req *req, size_t *n)
{
	const struct kb_cl_view *v = kb_cluster_view(req->b);
	struct kp_topic *t = NULL;
	struct tname *a;
	size_t max;

	*n = 0;
	if (kb_cluster_mode(req->b)) {
		max = v != NULL ? v->ntopics : 0;
		if ((a = kp_arena_calloc(req->arena, max + 1, sizeof(*a))) ==
		    NULL)
			return NULL;
		for (size_t i = 0; i < max; i++)
			if (!v->topics[i].deleting) {
				a[*n].name = v->topics[i].name;
				a[(*n)++].nparts = v->topics[i].nparts;
			}
		return a;
	}
	max = kp_store_topic_count(req->b->store);
	if ((a = kp_arena_calloc(req->arena, max + 1, sizeof(*a))) == NULL)
		return NULL;
	while ((t = kp_store_topic_next(req->b->store, t)) != NULL &&
	    *n < max) {
		a[*n].name = t->name;
		a[(*n)++].nparts = t->partitions;
	}
	return a;
}

/*
 * Every partition, one result per topic; those that need no election
 * are left out, as Kafka leaves them out of an answer to "all
 * partitions" (KafkaApis.handleElectLeaders).
 */
static int
elect_all(struct kb_req *req, int8_t type, struct kp_elect_leaders_resp *rs)
{
	struct tname *tn;
	size_t nt;

	if ((tn = all_topics(req, &nt)) == NULL)
		return -1;
	rs->replica_election_results = kp_arena_calloc(req->arena,
	    nt ? nt : 1, sizeof(*rs->replica_election_results));
	if (rs->replica_election_results == NULL)
		return -1;
	rs->n_replica_election_results = 0;
	for (size_t i = 0; i < nt; i++) {
		struct kp_elect_leaders_resp_replica_election_result *r =
		    &rs->replica_election_results[
		    rs->n_replica_election_results];

		kp_elect_leaders_resp_replica_election_result_init(r);
		r->topic = kb_str(tn[i].name);
		r->partition_result = kp_arena_calloc(req->arena,
		    (size_t)tn[i].nparts + 1, sizeof(*r->partition_result));
		if (r->partition_result == NULL)
			return -1;
		for (int32_t p = 0; p < tn[i].nparts; p++) {
			struct kp_elect_leaders_resp_partition_result *pr =
			    &r->partition_result[r->n_partition_result];
			struct kp_str msg = { NULL, -1 };
			int16_t rc = elect_one(req, tn[i].name, p, type, &msg);

			if (rc == KP_ELECTION_NOT_NEEDED)
				continue;
			kp_elect_leaders_resp_partition_result_init(pr);
			pr->partition_id = p;
			pr->error_code = rc;
			pr->error_message = msg;
			r->n_partition_result++;
		}
		if (r->n_partition_result > 0)
			rs->n_replica_election_results++;
	}
	return 0;
}

static int
elect_listed(struct kb_req *req, const struct kp_elect_leaders_req *rq,
    struct kp_elect_leaders_resp *rs)
{
	int32_t n;

	rs->replica_election_results = kb_resp_array(req->arena,
	    rq->n_topic_partitions, &n, sizeof(*rs->replica_election_results));
	rs->n_replica_election_results = n;
	if (rs->replica_election_results == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_elect_leaders_req_topic_partitions *tp =
		    &rq->topic_partitions[i];
		struct kp_elect_leaders_resp_replica_election_result *r =
		    &rs->replica_election_results[i];
		char *name = kb_arena_str(req->arena, &tp->topic);
		int32_t np;

		kp_elect_leaders_resp_replica_election_result_init(r);
		r->topic = tp->topic;
		r->partition_result = kb_resp_array(req->arena,
		    tp->n_partitions, &np, sizeof(*r->partition_result));
		r->n_partition_result = np;
		if (r->partition_result == NULL)
			return -1;
		for (int32_t k = 0; k < np; k++) {
			struct kp_elect_leaders_resp_partition_result *pr =
			    &r->partition_result[k];

			kp_elect_leaders_resp_partition_result_init(pr);
			pr->partition_id = tp->partitions[k];
			pr->error_message.ptr = NULL;
			pr->error_message.len = -1;
			pr->error_code = elect_one(req, name, tp->partitions[k],
			    rq->election_type, &pr->error_message);
		}
	}
	return 0;
}

static int
handle_elect_leaders(struct kb_req *req)
{
	struct kp_elect_leaders_req rq;
	struct kp_elect_leaders_resp rs;
	int16_t v = req->hdr.api_version;
	int rc = 0;

	if (kp_elect_leaders_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_elect_leaders_resp_init(&rs);
	if (rq.election_type != ELECT_PREFERRED &&
	    rq.election_type != ELECT_UNCLEAN)
		rs.error_code = KP_INVALID_REQUEST;	/* v1+: has the field */
	else if (rq.n_topic_partitions < 0 && v >= 1 &&
	    kb_cluster_mode(req->b) && controller_view(req) == NULL)
		rs.error_code = KP_NOT_CONTROLLER;	/* list nothing */
	else if (rq.n_topic_partitions < 0)
		rc = elect_all(req, rq.election_type, &rs);
	else
		rc = elect_listed(req, &rq, &rs);
	if (rs.error_code == KP_NONE && rc == -1)
		return KB_CLOSE;
	if (kp_elect_leaders_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(elect_leaders, KP_API_ELECT_LEADERS, 0, 2, handle_elect_leaders)

/* ---- AlterPartitionReassignments ---- */

/*
 * A new replica list, checked as KafkaController.validateReassignment
 * does (same words, so scripts written for Kafka read them alike).
 */
static int16_t
check_replicas(struct kb_req *req, const int32_t *r, int32_t n,
    struct kp_str *msg)
{
	char a[256], b[256];

	if (n == 0) {
		*msg = kb_str("Empty replica list specified in partition "
		    "reassignment.");
		return KP_INVALID_REPLICA_ASSIGNMENT;
	}
	for (int32_t i = 0; i < n; i++) {
		if (in(r, i, r[i])) {
			*msg = msgf(req, "Duplicate replica ids in partition "
			    "reassignment replica list: [%s]",
			    idlist(a, sizeof(a), r, n));
			return KP_INVALID_REPLICA_ASSIGNMENT;
		}
		if (r[i] < 0) {
			*msg = msgf(req, "Invalid broker id in replica "
			    "assignment: [%s]", idlist(a, sizeof(a), r, n));
			return KP_INVALID_REPLICA_ASSIGNMENT;
		}
	}
	for (int32_t i = 0; i < n; i++)
		if (!live(req, r[i])) {
			*msg = msgf(req, "Replica assignment has brokers that "
			    "are not alive. Replica list: [%s], live broker "
			    "list: [%s]", idlist(a, sizeof(a), r, n),
			    live_list(req, b, sizeof(b)));
			return KP_INVALID_REPLICA_ASSIGNMENT;
		}
	return KP_NONE;
}

/*
 * One partition: replicas NULL (count -1) cancels the reassignment in
 * progress. On a single broker nothing is ever in progress and the only
 * valid target, [this broker], is where the partition already is: done
 * at once, as Kafka finishes a reassignment to the current replicas.
 */
static int16_t
reassign_one(struct kb_req *req, const char *topic,
    const struct kp_alter_partition_reassignments_req_reassignable_partition
    *p, struct kp_str *msg)
{
	struct pinfo pi;
	int32_t self;
	int16_t rc;

	if ((rc = part_info(req, topic, p->partition_index, &pi, &self)) !=
	    KP_NONE) {
		*msg = kb_str(rc == KP_INVALID_TOPIC_EXCEPTION ?
		    "The topic is being deleted" :
		    "The partition does not exist.");
		return rc;
	}
	if (p->n_replicas >= 0 && (rc = check_replicas(req, p->replicas,
	    p->n_replicas, msg)) != KP_NONE)
		return rc;
	if (!kb_cluster_mode(req->b)) {
		if (p->n_replicas >= 0)
			return KP_NONE;
		*msg = kb_str("No reassignment in progress");
		return KP_NO_REASSIGNMENT_IN_PROGRESS;
	}
	/* null replicas: cancel, which kb_cluster_reassign spells n 0 */
	rc = (int16_t)kb_cluster_reassign(req->b, topic, p->partition_index,
	    p->n_replicas < 0 ? NULL : p->replicas,
	    p->n_replicas < 0 ? 0 : p->n_replicas);
	if (rc == KP_NO_REASSIGNMENT_IN_PROGRESS)
		*msg = kb_str("No reassignment in progress");
	else if (rc == KP_INVALID_REPLICA_ASSIGNMENT)
		*msg = kb_str("Replica assignment has brokers that are not "
		    "alive");
	return rc;
}

static int
handle_alter_reassignments(struct kb_req *req)
{
	struct kp_alter_partition_reassignments_req rq;
	struct kp_alter_partition_reassignments_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n, np;

	if (kp_alter_partition_reassignments_req_decode(req->body,
	    req->body_len, v, &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_alter_partition_reassignments_resp_init(&rs);
	rs.error_message.ptr = NULL;
	rs.error_message.len = -1;
	if (kb_cluster_mode(req->b) && controller_view(req) == NULL) {
		rs.error_code = KP_NOT_CONTROLLER;
		rs.error_message = kb_str("This is not the correct controller "
		    "for this cluster.");
		rq.n_topics = 0;
	}
	rs.responses = kb_resp_array(req->arena, rq.n_topics, &n,
	    sizeof(*rs.responses));
	rs.n_responses = n;
	if (rs.responses == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_alter_partition_reassignments_req_reassignable_topic
		    *t = &rq.topics[i];
		struct kp_alter_partition_reassignments_resp_reassignable_topic_response
		    *r = &rs.responses[i];
		char *name = kb_arena_str(req->arena, &t->name);

		kp_alter_partition_reassignments_resp_reassignable_topic_response_init(r);
		r->name = t->name;
		r->partitions = kb_resp_array(req->arena, t->n_partitions, &np,
		    sizeof(*r->partitions));
		r->n_partitions = np;
		if (r->partitions == NULL)
			return KB_CLOSE;
		for (int32_t k = 0; k < np; k++) {
			struct kp_alter_partition_reassignments_resp_reassignable_partition_response
			    *pr = &r->partitions[k];

			kp_alter_partition_reassignments_resp_reassignable_partition_response_init(pr);
			pr->partition_index = t->partitions[k].partition_index;
			pr->error_message.ptr = NULL;
			pr->error_message.len = -1;
			pr->error_code = reassign_one(req, name,
			    &t->partitions[k], &pr->error_message);
		}
	}
	if (kp_alter_partition_reassignments_resp_encode(kb_resp_buf(
	    req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(alter_partition_reassignments, KP_API_ALTER_PARTITION_REASSIGNMENTS,
    0, 0, handle_alter_reassignments)

/* ---- ListPartitionReassignments ---- */

static bool
moving(const struct kb_cl_part *p)
{
	return p->nadding > 0 || p->nremoving > 0;
}

/*
 * One topic's partitions in progress into r: all of them (parts NULL)
 * or those listed. Returns how many; -1 out of memory.
 */
static int
list_topic(struct kb_req *req, const struct kb_cl_topic *t,
    const int32_t *parts, int32_t nparts,
    struct kp_list_partition_reassignments_resp_ongoing_topic_reassignment *r)
{
	int32_t n = parts != NULL ? nparts : t->nparts;

	kp_list_partition_reassignments_resp_ongoing_topic_reassignment_init(r);
	r->name = kb_str(t->name);
	r->partitions = kp_arena_calloc(req->arena, (size_t)n + 1,
	    sizeof(*r->partitions));
	if (r->partitions == NULL)
		return -1;
	r->n_partitions = 0;
	for (int32_t i = 0; i < n; i++) {
		int32_t p = parts != NULL ? parts[i] : i;
		const struct kb_cl_part *cp;
		struct kp_list_partition_reassignments_resp_ongoing_partition_reassignment
		    *o;

		if (p < 0 || p >= t->nparts || !moving(&t->parts[p]))
			continue;
		cp = &t->parts[p];
		o = &r->partitions[r->n_partitions++];
		kp_list_partition_reassignments_resp_ongoing_partition_reassignment_init(o);
		o->partition_index = p;
		o->replicas = cp->replicas;
		o->n_replicas = cp->nreplicas;
		o->adding_replicas = cp->adding;
		o->n_adding_replicas = cp->nadding;
		o->removing_replicas = cp->removing;
		o->n_removing_replicas = cp->nremoving;
	}
	return r->n_partitions;
}

/*
 * The controller's view of what is moving, as Kafka lists it: the
 * partitions asked for (or all) that are being reassigned; unknown ones
 * are simply not moving. Nothing moves on a single broker.
 */
static int
handle_list_reassignments(struct kb_req *req)
{
	struct kp_list_partition_reassignments_req rq;
	struct kp_list_partition_reassignments_resp rs;
	const struct kb_cl_view *v;
	int16_t ver = req->hdr.api_version;
	size_t max;

	if (kp_list_partition_reassignments_req_decode(req->body,
	    req->body_len, ver, &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_list_partition_reassignments_resp_init(&rs);
	rs.error_message.ptr = NULL;
	rs.error_message.len = -1;
	v = controller_view(req);
	/* our own reassignment writes first reach the view (briefly) */
	if (v != NULL && !req->expired &&
	    !kb_cluster_moves_seen(req->b, NULL)) {
		if (!req->retry)
			req->resp->deadline = kb_now_mono() + MOVES_WAIT_MS;
		return KB_DEFER;
	}
	if (kb_cluster_mode(req->b) && v == NULL) {
		rs.error_code = KP_NOT_CONTROLLER;
		rs.error_message = kb_str("This is not the correct controller "
		    "for this cluster.");
	} else if (v != NULL) {
		max = rq.n_topics >= 0 ? (size_t)rq.n_topics : v->ntopics;
		rs.topics = kp_arena_calloc(req->arena, max + 1,
		    sizeof(*rs.topics));
		if (rs.topics == NULL)
			return KB_CLOSE;
		for (size_t i = 0; i < max; i++) {
			const struct kb_cl_topic *t;
			char *name = NULL;
			int n;

			if (rq.n_topics >= 0) {
				name = kb_arena_str(req->arena,
				    &rq.topics[i].name);
				t = name ? kb_cl_topic(v, name) : NULL;
			} else
				t = &v->topics[i];
			if (t == NULL)
				continue;
			n = list_topic(req, t, rq.n_topics >= 0 ?
			    rq.topics[i].partition_indexes : NULL,
			    rq.n_topics >= 0 ?
			    rq.topics[i].n_partition_indexes : 0,
			    &rs.topics[rs.n_topics]);
			if (n < 0)
				return KB_CLOSE;
			if (n > 0)
				rs.n_topics++;
		}
	}
	if (kp_list_partition_reassignments_resp_encode(kb_resp_buf(
	    req->resp), ver, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(list_partition_reassignments, KP_API_LIST_PARTITION_REASSIGNMENTS,
    0, 0, handle_list_reassignments)
