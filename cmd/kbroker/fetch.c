/* fetch.c -- Fetch (long polling, zero-copy from segment files) and ListOffsets */
#include <errno.h>
#include <string.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_fetch.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "resp_array.h"
#include "txn_log.h"

#define SLICES_MAX	16	/* segment slices per partition and response */

/* What one partition contributes, found before anything is encoded. */
struct part_plan {
	int16_t			 error;
	int64_t			 hwm, lso, log_start;
	struct kp_fetch_resp_aborted_transaction *aborted;
	int32_t			 naborted;	/* -1: null (read_uncommitted) */
	struct kp_log_slice	 slices[SLICES_MAX];
	int			 nslices;
	size_t			 bytes;
};

/*
 * Find the record bytes for one partition: whole batches from offset up to
 * the high watermark (a follower: the log end; read_committed: the LSO),
 * at most max bytes, in as many slices as segments they span. first: the
 * response has no bytes yet, so one batch goes even if larger than the
 * limits (KIP-74), so a consumer never sticks.
 */
static void
plan_partition(struct kb_req *req, struct kp_log *log, int64_t offset,
    size_t max, bool first, bool follower, bool committed,
    struct part_plan *pp)
{
	int64_t hwm = kp_log_high_watermark(log), from = offset;
	int rc;

	pp->hwm = hwm;
	pp->lso = kb_txn_lso(req->b, log);
	pp->naborted = -1;
	if (follower)
		hwm = kp_log_end_offset(log);
	else if (committed)
		hwm = pp->lso;
	pp->log_start = kp_log_start_offset(log);
	while (pp->nslices < SLICES_MAX && offset < hwm) {
		struct kp_log_slice *s = &pp->slices[pp->nslices];
		size_t left = max > pp->bytes ? max - pp->bytes : 0;

		if (left == 0 && !(first && pp->bytes == 0))
			break;
		rc = kp_log_read(log, offset, left ? left : 1, hwm, s);
		if (rc != KP_NONE) {
			if (pp->nslices == 0)
				pp->error = (int16_t)rc;
			break;
		}
		if (s->len == 0 || s->next_offset <= offset)
			break;
		if (pp->bytes + s->len > max && !(first && pp->bytes == 0))
			break;
		pp->bytes += s->len;
		pp->nslices++;
		offset = s->next_offset;
	}
	if (pp->nslices == 0 && pp->error == KP_NONE &&
	    (offset < pp->log_start || offset > kp_log_end_offset(log)))
		pp->error = KP_OFFSET_OUT_OF_RANGE;
	/* which of the returned records a read_committed consumer drops */
	if (!committed || follower || pp->error != KP_NONE)
		return;
	pp->naborted = 0;
	if (pp->nslices > 0 && kb_txn_aborted(log, from,
	    pp->slices[pp->nslices - 1].next_offset, req->arena,
	    &pp->aborted, &pp->naborted) == -1)
		pp->error = KP_UNKNOWN_SERVER_ERROR;	/* ENOMEM */
}

static int
encode_fetch(struct kb_req *req, const struct kp_fetch_req *rq,
    struct part_plan **plans)
{
	struct kp_buf *b = kb_resp_buf(req->resp);
	int16_t v = req->hdr.api_version;
	struct kp_fetch_resp rs;
	int32_t nt = rq->n_topics < 0 ? 0 : rq->n_topics;

	kp_fetch_resp_init(&rs);
	rs.session_id = 0;
	if (kp_fetch_resp_begin(b, v, &rs, nt) == -1)
		return -1;
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_fetch_req_topic *t = &rq->topics[i];
		struct kp_fetch_resp_fetchable_topic_response tr;
		int32_t np = t->n_partitions < 0 ? 0 : t->n_partitions;

		kp_fetch_resp_fetchable_topic_response_init(&tr);
		tr.topic = t->topic;
		memcpy(tr.topic_id, t->topic_id, 16);
		if (kp_fetch_resp_topic_begin(b, v, &tr, np) == -1)
			return -1;
		for (int32_t j = 0; j < np; j++) {
			struct part_plan *pp = &plans[i][j];
			struct kp_fetch_resp_partition_data pd;

			kp_fetch_resp_partition_data_init(&pd);
			pd.partition_index = t->partitions[j].partition;
			pd.error_code = pp->error;
			pd.high_watermark = pp->hwm;
			pd.last_stable_offset = pp->lso;
			pd.log_start_offset = pp->log_start;
			pd.aborted_transactions = pp->aborted;
			pd.n_aborted_transactions = pp->error ? -1 :
			    pp->naborted;
			pd.preferred_read_replica = -1;
			if (kp_fetch_resp_partition_begin(b, v, &pd,
			    (int32_t)pp->bytes) == -1)
				return -1;
			for (int k = 0; k < pp->nslices; k++)
				if (kb_resp_add_file(req->resp,
				    pp->slices[k].fd, pp->slices[k].pos,
				    pp->slices[k].len) == -1)
					return -1;
			if (kp_fetch_resp_partition_end(b, v, &pd) == -1)
				return -1;
		}
		if (kp_fetch_resp_topic_end(b, v, &tr) == -1)
			return -1;
	}
	return kp_fetch_resp_end(b, v, &rs);
}

/*
 * May this fetch read the partition? A consumer reads from the leader
 * only, at the leader epoch it knows (KIP-320). A fetch with replica_id
 * >= 0 is a follower's: replication (isr.c) takes it over here, one
 * call per partition.
 */
static int16_t
fetch_check(struct kb_req *req, const struct kp_str *topic,
    const struct kp_fetch_req_partition *p)
{
	return (int16_t)kb_cluster_serve_check(req->b, topic, p->partition,
	    req->hdr.api_version >= 9 ? p->current_leader_epoch : -1);
}

/*
 * A follower's fetch offset is its log end: the leader's ISR and high
 * watermark move with it (isr.c), before the reading, so the response
 * carries the new high watermark.
 */
static void
follower_fetched(struct kb_req *req, const struct kp_fetch_req *rq,
    const struct kp_str *topic, const struct kp_fetch_req_partition *p)
{
	char *name = kb_arena_str(req->arena, topic);

	if (name != NULL)
		kb_repl_follower_fetched(req->b, rq->replica_id, name,
		    p->partition, p->fetch_offset);
}

static int
handle_fetch(struct kb_req *req)
{
	struct kp_fetch_req rq;
	struct part_plan **plans;
	int16_t v = req->hdr.api_version;
	size_t total = 0, max_bytes;
	int32_t nt;
	bool errors = false, follower;

	if (kp_fetch_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	follower = rq.replica_id >= 0 && kb_cluster_mode(req->b);
	max_bytes = rq.max_bytes > 0 ? (size_t)rq.max_bytes : 0;
	plans = kb_resp_array(req->arena, rq.n_topics, &nt, sizeof(*plans));
	if (plans == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_fetch_req_topic *t = &rq.topics[i];
		int32_t np;

		plans[i] = kb_resp_array(req->arena, t->n_partitions, &np,
		    sizeof(**plans));
		if (plans[i] == NULL)
			return KB_CLOSE;
		for (int32_t j = 0; j < np; j++) {
			struct kp_fetch_req_partition *p = &t->partitions[j];
			struct part_plan *pp = &plans[i][j];
			struct kp_log *log = kb_log_for(req->b, &t->topic,
			    p->partition);
			size_t pmax, left;

			pp->hwm = pp->lso = pp->log_start = -1;
			if ((pp->error = fetch_check(req, &t->topic, p)) !=
			    KP_NONE) {
				errors = true;
				continue;
			}
			if (log == NULL) {
				pp->error = KP_UNKNOWN_TOPIC_OR_PARTITION;
				errors = true;
				continue;
			}
			pmax = p->partition_max_bytes > 0 ?
			    (size_t)p->partition_max_bytes : 0;
			left = max_bytes > total ? max_bytes - total : 0;
			/* a long poll run again is not a new fetch */
			if (follower && !req->retry)
				follower_fetched(req, &rq, &t->topic, p);
			plan_partition(req, log, p->fetch_offset,
			    pmax < left ? pmax : left, total == 0, follower,
			    rq.isolation_level == 1, pp);
			if (pp->error != KP_NONE)
				errors = true;
			total += pp->bytes;
		}
	}
	/* Long poll: wait for min_bytes, up to max_wait_ms. */
	if (!errors && total < (size_t)(rq.min_bytes > 0 ? rq.min_bytes : 0) &&
	    rq.max_wait_ms > 0 && !req->expired) {
		if (!req->retry)
			req->resp->deadline = kb_now_mono() + rq.max_wait_ms;
		return KB_DEFER;
	}
	if (encode_fetch(req, &rq, plans) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(fetch, KP_API_FETCH, 4, 11, handle_fetch)

/* ---- ListOffsets ---- */

static void
list_offset(struct kb_req *req, struct kp_log *log, int64_t ts,
    int32_t epoch, bool committed,
    struct kp_list_offsets_resp_partition_response *pr)
{
	int64_t off = -1, t = -1;

	pr->leader_epoch = epoch;
	if (ts == -1) {				/* latest */
		off = committed ? kb_txn_lso(req->b, log) :
		    kp_log_high_watermark(log);
	} else if (ts == -2) {			/* earliest */
		off = kp_log_start_offset(log);
	} else if (ts == -3) {			/* max timestamp (KIP-734) */
		kp_log_max_timestamp(log, &t, &off);
	} else if (ts >= 0) {
		int rc = kp_log_offset_for_time(log, ts, &off, &t);

		if (rc != KP_NONE) {
			pr->error_code = (int16_t)rc;
			off = t = -1;
		}
	} else {
		pr->error_code = KP_INVALID_REQUEST;
	}
	pr->offset = off;
	pr->timestamp = ts < 0 && ts != -3 ? -1 : t;
	/* Leader epochs exist from v4; older versions must keep the default. */
	if (off < 0 || req->hdr.api_version < 4)
		pr->leader_epoch = -1;
}

static int
handle_list_offsets(struct kb_req *req)
{
	struct kp_list_offsets_req rq;
	struct kp_list_offsets_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t nt;

	if (kp_list_offsets_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_list_offsets_resp_init(&rs);
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &nt,
	    sizeof(*rs.topics));
	rs.n_topics = nt;
	if (rs.topics == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_list_offsets_req_topic *t = &rq.topics[i];
		struct kp_list_offsets_resp_topic_response *tr = &rs.topics[i];
		int32_t np;

		kp_list_offsets_resp_topic_response_init(tr);
		tr->name = t->name;
		tr->partitions = kb_resp_array(req->arena, t->n_partitions,
		    &np, sizeof(*tr->partitions));
		tr->n_partitions = np;
		if (tr->partitions == NULL)
			return KB_CLOSE;
		for (int32_t j = 0; j < np; j++) {
			struct kp_list_offsets_req_partition *p =
			    &t->partitions[j];
			struct kp_list_offsets_resp_partition_response *pr =
			    &tr->partitions[j];
			struct kp_log *log = kb_log_for(req->b, &t->name,
			    p->partition_index);
			int rc;

			kp_list_offsets_resp_partition_response_init(pr);
			pr->partition_index = p->partition_index;
			pr->offset = -1;
			pr->timestamp = -1;
			pr->leader_epoch = -1;
			/* only the leader answers, but to a debugging
			 * request (replica_id -2), as Kafka */
			rc = rq.replica_id == -2 ? KP_NONE :
			    kb_cluster_serve_check(req->b, &t->name,
			    p->partition_index, v >= 4 ?
			    p->current_leader_epoch : -1);
			/* a consumer's, as Kafka (KIP-207) */
			if (rc == KP_NONE && rq.replica_id == -1)
				rc = kb_repl_offsets_check(req->b, &t->name,
				    p->partition_index);
			if (rc != KP_NONE)
				pr->error_code = (int16_t)rc;
			else if (log == NULL)
				pr->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
			else
				list_offset(req, log, p->timestamp,
				    kb_cluster_leader_epoch_s(req->b, &t->name,
				    p->partition_index), v >= 2 &&
				    rq.isolation_level == 1, pr);
		}
	}
	if (kp_list_offsets_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(list_offsets, KP_API_LIST_OFFSETS, 1, 5, handle_list_offsets)
