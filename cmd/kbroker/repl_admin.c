/* repl_admin.c -- ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kp_err.h"
#include "kp_proto_repl.h"
#include "kp_store.h"
#include "kbroker.h"
#include "resp_array.h"

/*
 * These are controller requests in Kafka: kafka-leader-election.sh,
 * kafka-reassign-partitions.sh and the Java admin client send them to the
 * controller named in Metadata. A single kbroker is its own controller
 * and the only replica of every partition, so it answers as a one-broker
 * Kafka cluster would: every leader is already the preferred one, and
 * the only possible assignment is [this broker].
 */

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
 * The partition as this broker knows it: KP_NONE, or
 * KP_UNKNOWN_TOPIC_OR_PARTITION.
 */
static int16_t
part_info(struct kb_req *req, const char *topic, int32_t part,
    struct pinfo *pi, int32_t *self)
{
	struct kp_topic *t;

	*self = req->b->cfg->broker_id;
	if (topic == NULL || (t = kp_store_topic(req->b->store, topic)) ==
	    NULL || part < 0 || part >= t->partitions)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	pi->leader = *self;
	pi->replicas = pi->isr = self;
	pi->nreplicas = pi->nisr = 1;
	return KP_NONE;
}

/* The live brokers: this one alone. */
static bool
live(struct kb_req *req, int32_t id)
{
	return id == req->b->cfg->broker_id;
}

/* ---- ElectLeaders ---- */

/*
 * One partition's election, as KafkaController.processReplicaLeaderElection
 * decides it: nothing to do when the preferred replica leads already
 * (preferred) or some live replica leads (unclean).
 */
static int16_t
elect_one(struct kb_req *req, const char *topic, int32_t part, int8_t type,
    struct kp_str *msg)
{
	struct pinfo pi;
	int32_t self;
	int16_t rc;

	if ((rc = part_info(req, topic, part, &pi, &self)) != KP_NONE) {
		*msg = kb_str("The partition does not exist.");
		return rc;
	}
	if (type == ELECT_PREFERRED ? pi.leader == pi.replicas[0] :
	    pi.leader >= 0 && live(req, pi.leader))
		return KP_ELECTION_NOT_NEEDED;
	if (type == ELECT_PREFERRED && (!live(req, pi.replicas[0]) ||
	    !in(pi.isr, pi.nisr, pi.replicas[0]))) {
		*msg = msgf(req, "Failed to elect leader for partition "
		    "%s-%d under strategy PreferredReplicaPartitionLeader"
		    "ElectionStrategy", topic, part);
		return KP_PREFERRED_LEADER_NOT_AVAILABLE;
	}
	/* a single broker is never without a leader */
	*msg = msgf(req, "No live replica of %s-%d can lead it", topic, part);
	return KP_ELIGIBLE_LEADERS_NOT_AVAILABLE;
}

/*
 * Every partition this broker knows, one result per topic; those that
 * need no election are left out, as Kafka leaves them out of an answer
 * to "all partitions" (KafkaApis.handleElectLeaders).
 */
static int
elect_all(struct kb_req *req, int8_t type, struct kp_elect_leaders_resp *rs)
{
	struct kp_store *s = req->b->store;
	struct kp_topic *t = NULL;
	size_t nt = kp_store_topic_count(s);

	rs->replica_election_results = kp_arena_calloc(req->arena,
	    nt ? nt : 1, sizeof(*rs->replica_election_results));
	if (rs->replica_election_results == NULL)
		return -1;
	rs->n_replica_election_results = 0;
	while ((t = kp_store_topic_next(s, t)) != NULL &&
	    (size_t)rs->n_replica_election_results < nt) {
		struct kp_elect_leaders_resp_replica_election_result *r =
		    &rs->replica_election_results[
		    rs->n_replica_election_results];

		kp_elect_leaders_resp_replica_election_result_init(r);
		r->topic = kb_str(t->name);
		r->partition_result = kp_arena_calloc(req->arena,
		    (size_t)t->partitions + 1, sizeof(*r->partition_result));
		if (r->partition_result == NULL)
			return -1;
		for (int32_t p = 0; p < t->partitions; p++) {
			struct kp_elect_leaders_resp_partition_result *pr =
			    &r->partition_result[r->n_partition_result];
			struct kp_str msg = { NULL, -1 };
			int16_t rc = elect_one(req, t->name, p, type, &msg);

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
	char a[256];

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
			    "list: [%d]", idlist(a, sizeof(a), r, n),
			    req->b->cfg->broker_id);
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
		*msg = kb_str("The partition does not exist.");
		return rc;
	}
	if (p->n_replicas < 0) {
		*msg = kb_str("No reassignment in progress");
		return KP_NO_REASSIGNMENT_IN_PROGRESS;
	}
	return check_replicas(req, p->replicas, p->n_replicas, msg);
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

/* Nothing moves on a single broker: the list is always empty. */
static int
handle_list_reassignments(struct kb_req *req)
{
	struct kp_list_partition_reassignments_req rq;
	struct kp_list_partition_reassignments_resp rs;
	int16_t v = req->hdr.api_version;

	if (kp_list_partition_reassignments_req_decode(req->body,
	    req->body_len, v, &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_list_partition_reassignments_resp_init(&rs);
	rs.error_message.ptr = NULL;
	rs.error_message.len = -1;
	if (kp_list_partition_reassignments_resp_encode(kb_resp_buf(
	    req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(list_partition_reassignments, KP_API_LIST_PARTITION_REASSIGNMENTS,
    0, 0, handle_list_reassignments)
