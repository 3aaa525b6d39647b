/* txn_offsets.c -- TxnOffsetCommit: offsets that commit or abort with their producer's transaction */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_coord.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_offrec.h"
#include "kp_proto_txn.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "group.h"
#include "resp_array.h"
#include "txn.h"
#include "txn_coord.h"
#include "txn_log.h"

#define METADATA_MAX	4096	/* offset.metadata.max.bytes, as offsets.c */

/*
 * An offset a transaction stored in __consumer_offsets, waiting for its
 * producer's marker on that partition. Kept in arrival order so the last
 * of several commits of one partition wins, as it would in the log.
 */
struct pending {
	struct pending	*next;
	int32_t		 part;		/* of __consumer_offsets */
	int64_t		 pid;
	char		*group;
	struct kp_coord_offset o;	/* topic and metadata owned */
};

/* One broker per process, as the coordinator's table. */
static struct pending *pending_head, **pending_tail = &pending_head;

static void
pending_free(struct pending *p)
{
	free(p->group);
	free(p->o.topic);
	free(p->o.metadata);
	free(p);
}

static int
pending_add(int32_t part, int64_t pid, const char *group,
    const struct kp_coord_offset *o)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	p->part = part;
	p->pid = pid;
	p->o = *o;
	p->group = strdup(group);
	p->o.topic = strdup(o->topic);
	p->o.metadata = strdup(o->metadata ? o->metadata : "");
	if (p->group == NULL || p->o.topic == NULL || p->o.metadata == NULL) {
		pending_free(p);
		return -1;
	}
	*pending_tail = p;
	pending_tail = &p->next;
	return 0;
}

void
kb_offsets_txn_marker(struct kb_broker *b, int32_t partition, int64_t pid,
    bool commit)
{
	struct kb_group *G = kb_group_of(b);
	struct pending **pp = &pending_head, *p;
	int64_t wall = kb_now_wall();

	while ((p = *pp) != NULL) {
		if (p->part != partition || p->pid != pid) {
			pp = &p->next;
			continue;
		}
		/* Already in the log: the coordinator takes it unlogged. */
		if (commit && G != NULL && kp_coord_load(&G->coord, p->group,
		    p->o.topic, p->o.partition, &p->o, wall) == -1)
			kb_log("group '%s': %s-%d: out of memory committing "
			    "a transactional offset", p->group, p->o.topic,
			    p->o.partition);
		*pp = p->next;
		pending_free(p);
	}
	pending_tail = &pending_head;
	for (p = pending_head; p != NULL; p = p->next)
		pending_tail = &p->next;
}

void
kb_txn_offsets_replayed(struct kb_broker *b, int32_t part, int64_t pid,
    const char *group, const struct kp_coord_offset *o)
{
	if (pending_add(part, pid, group, o) == -1)
		kb_log("group '%s': out of memory replaying a transactional "
		    "offset", group);
	(void)b;
}

/* ---- TxnOffsetCommit (v0-3) ---- */

/* The request's whole-request error, KP_NONE to go on. */
static int16_t
check_request(struct kb_req *req, const struct kp_txn_offset_commit_req *rq,
    const char *id, const char *group, int32_t op)
{
	struct kb_group *G = kb_group_of(req->b);
	int16_t err;

	if (G == NULL)
		return KP_COORDINATOR_NOT_AVAILABLE;
	if (group[0] == '\0')
		return KP_INVALID_GROUP_ID;
	if ((err = kb_group_check_coordinator(req->b, group)) != KP_NONE)
		return err;
	/*
	 * A cluster's transaction coordinator is often another broker: as
	 * Kafka's group coordinator, trust the request and let the
	 * partition's producer state fence an old epoch.
	 */
	if (kb_cluster_mode(req->b)) {
		struct kp_log *log = kp_store_log(req->b->store,
		    KP_OFFSETS_TOPIC, op);

		if (log == NULL)
			return KP_COORDINATOR_LOAD_IN_PROGRESS;
		if (rq->producer_epoch < kb_pstate_epoch(req->b, log,
		    rq->producer_id))
			return KP_PRODUCER_FENCED;
	} else if ((err = kb_txn_check_producer(req->b, id, rq->producer_id,
	    rq->producer_epoch)) != KP_NONE)
		return err;
	else if (!kb_txn_has_partition(req->b, id, KP_OFFSETS_TOPIC, op))
		return KP_INVALID_TXN_STATE;	/* no AddOffsetsToTxn first */
	/* v3 carries the consumer's generation: a zombie member is fenced. */
	if (req->hdr.api_version >= 3)
		return kp_coord_commit_check(&G->coord, group,
		    rq->generation_id, kb_arena_str(req->arena,
		    &rq->member_id), rq->group_instance_id.len < 0 ? NULL :
		    kb_arena_str(req->arena, &rq->group_instance_id),
		    kb_now_mono(), kb_now_wall());
	return KP_NONE;
}

/*
 * Append the offsets as one transactional batch of the producer to the
 * group's partition op: the partition's open transaction then holds
 * them, its marker settles them.
 */
static int
append_offsets(struct kb_req *req, const struct kp_txn_offset_commit_req *rq,
    const char *group, int32_t op, struct kp_log *log,
    const struct kp_coord_offset *os, size_t n)
{
	struct kp_batch_builder bb;
	struct kp_log_append_info info;
	struct kp_buf k, v, batch;
	int64_t now = kb_now_wall(), prev_end;
	int rc = KP_NONE;

	kp_buf_init(&k);
	kp_buf_init(&v);
	kp_buf_init(&batch);
	kp_batch_builder_init(&bb, KP_CODEC_NONE, rq->producer_id,
	    rq->producer_epoch, -1);
	bb.attributes |= KP_BATCH_ATTR_TRANSACTIONAL;
	for (size_t i = 0; i < n && rc == KP_NONE; i++) {
		kp_buf_reset(&k);
		kp_buf_reset(&v);
		kp_offrec_key(&k, group, os[i].topic, os[i].partition);
		kp_offrec_value(&v, os[i].offset, os[i].leader_epoch,
		    os[i].metadata, os[i].commit_ts, -1);
		if (k.err || v.err || kp_batch_builder_add(&bb, now, k.data,
		    (ssize_t)k.len, v.data, (ssize_t)v.len, NULL, 0) == -1)
			rc = KP_UNKNOWN_SERVER_ERROR;
	}
	if (rc == KP_NONE && kp_batch_builder_finish(&bb, &batch) == -1)
		rc = KP_UNKNOWN_SERVER_ERROR;
	prev_end = kp_log_end_offset(log);
	if (rc == KP_NONE)
		rc = kp_log_append(log, batch.data, batch.len,
		    kb_cluster_leader_epoch(req->b, KP_OFFSETS_TOPIC, op), now,
		    &info);
	if (rc == KP_NONE && kb_durable_wanted(req->b, -1) &&
	    kp_log_flush(log) == -1)
		rc = KP_KAFKA_STORAGE_ERROR;	/* as the coordinator's state */
	if (rc == KP_NONE) {
		/* the partition's LSO holds until the marker, as any batch */
		kb_pstate_txn_begin(req->b, log, rq->producer_id,
		    info.base_offset);
		kb_pstate_appended(req->b, log, prev_end);
		if (kb_cluster_mode(req->b)) {
			/* acks=all as Kafka's: answered once the ISR has it */
			kb_repl_appended(req->b, KP_OFFSETS_TOPIC, op);
			if (kb_repl_park_parts(req->b, req, KP_OFFSETS_TOPIC,
			    op, kp_log_end_offset(log), KB_COMMIT_TIMEOUT_MS,
			    NULL, NULL) == -1)
				rc = KP_UNKNOWN_SERVER_ERROR;
		} else
			kp_log_set_high_watermark(log, kp_log_end_offset(log));
	} else
		kb_log("group '%s': cannot log transactional offsets: %s",
		    group, kp_kerr_name((int16_t)rc));
	kp_batch_builder_release(&bb);
	kp_buf_release(&k);
	kp_buf_release(&v);
	kp_buf_release(&batch);
	return rc;
}

static int
handle_txn_offset_commit(struct kb_req *req)
{
	struct kp_txn_offset_commit_req rq;
	struct kp_txn_offset_commit_resp rs;
	struct kp_coord_offset *os;
	struct kp_topic *ot = NULL;
	int16_t v = req->hdr.api_version, err = KP_NONE;
	char *id, *group;
	int32_t nt, op = -1;
	size_t total = 0, n = 0;
	int64_t wall = kb_now_wall();

	if (kp_txn_offset_commit_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_txn_offset_commit_resp_init(&rs);
	if ((id = kb_arena_str(req->arena, &rq.transactional_id)) == NULL ||
	    (group = kb_arena_str(req->arena, &rq.group_id)) == NULL)
		return KB_CLOSE;
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &nt,
	    sizeof(*rs.topics));
	if (rs.topics == NULL)
		return KB_CLOSE;
	rs.n_topics = nt;
	for (int32_t i = 0; i < nt; i++)
		if (rq.topics[i].n_partitions > 0)
			total += (size_t)rq.topics[i].n_partitions;
	if ((os = kp_arena_calloc(req->arena, total + 1, sizeof(*os))) == NULL)
		return KB_CLOSE;
	if ((ot = kb_offsets_topic(req->b)) == NULL)
		err = kb_cluster_mode(req->b) ? KP_NOT_COORDINATOR :
		    KP_COORDINATOR_NOT_AVAILABLE;
	else
		err = check_request(req, &rq, id, group,
		    op = kp_offsets_partition(group, ot->partitions));
	if (err == KP_PRODUCER_FENCED && v < 2)
		err = KP_INVALID_PRODUCER_EPOCH;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_txn_offset_commit_req_topic *t = &rq.topics[i];
		struct kp_txn_offset_commit_resp_topic *rt = &rs.topics[i];
		char *topic = kb_arena_str(req->arena, &t->name);
		int32_t np;

		rt->name = t->name;
		rt->partitions = kb_resp_array(req->arena, t->n_partitions,
		    &np, sizeof(*rt->partitions));
		if (rt->partitions == NULL || topic == NULL)
			return KB_CLOSE;
		rt->n_partitions = np;
		for (int32_t j = 0; j < np; j++) {
			struct kp_txn_offset_commit_req_partition *p =
			    &t->partitions[j];
			int16_t e = err;

			rt->partitions[j].partition_index = p->partition_index;
			if (e == KP_NONE && !kb_part_known(req->b, &t->name,
			    topic, p->partition_index))
				e = KP_UNKNOWN_TOPIC_OR_PARTITION;
			if (e == KP_NONE && p->committed_metadata.len >
			    METADATA_MAX)
				e = KP_OFFSET_METADATA_TOO_LARGE;
			rt->partitions[j].error_code = e;
			if (e != KP_NONE)
				continue;
			os[n].topic = topic;
			os[n].partition = p->partition_index;
			os[n].offset = p->committed_offset;
			os[n].leader_epoch = v >= 2 ?
			    p->committed_leader_epoch : -1;
			os[n].metadata = p->committed_metadata.len < 0 ? "" :
			    kb_arena_str(req->arena, &p->committed_metadata);
			if (os[n].metadata == NULL)
				return KB_CLOSE;
			os[n].commit_ts = wall;
			os[n].expire_ts = -1;
			n++;
		}
	}
	if (n > 0) {
		int rc = append_offsets(req, &rq, group, op, ot->logs[op], os,
		    n);

		for (size_t i = 0; i < n && rc == KP_NONE; i++)
			if (pending_add(op, rq.producer_id, group, &os[i]) ==
			    -1)
				rc = KP_UNKNOWN_SERVER_ERROR;
		for (int32_t i = 0; i < nt && rc != KP_NONE; i++)
			for (int32_t j = 0; j < rs.topics[i].n_partitions; j++)
				if (rs.topics[i].partitions[j].error_code ==
				    KP_NONE)
					rs.topics[i].partitions[j].error_code =
					    (int16_t)rc;
	}
	return kp_txn_offset_commit_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1 ? KB_CLOSE : KB_DONE;
}

KB_API(txn_offset_commit, KP_API_TXN_OFFSET_COMMIT, 0, 3,
    handle_txn_offset_commit)

static void
offsets_fini(struct kb_broker *b)
{
	struct pending *p, *next;

	(void)b;
	for (p = pending_head; p != NULL; p = next) {
		next = p->next;
		pending_free(p);
	}
	pending_head = NULL;
	pending_tail = &pending_head;
}

KB_HOOK(txn_offsets, NULL, NULL, offsets_fini)
