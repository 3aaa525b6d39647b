/* txn_log.c -- transactions on the partition side: markers, the LSO, aborted transactions, WriteTxnMarkers */
#include <errno.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_offrec.h"
#include "kp_proto_fetch.h"
#include "kp_proto_txn.h"
#include "kp_txnindex.h"
#include "kbroker.h"
#include "cluster.h"
#include "resp_array.h"
#include "txn_log.h"

/*
 * A marker at offset closed pid's transaction: an ABORT goes into the
 * index of aborted transactions with the LSO after it (Kafka's
 * ProducerStateManager.lastStableOffset(completedTxn)). A marker with
 * no open transaction (a partition added to the transaction but never
 * written) aborts the empty range at the marker, as Kafka records it.
 * A replayed one is added only when the crash lost it.
 */
static void
marker_appended(struct kb_broker *b, struct kp_log *log, int64_t pid,
    int16_t epoch, int32_t cepoch, int type, int64_t offset, bool replay)
{
	struct kp_txn_entry e;
	int64_t first = kb_pstate_txn_end(b, log, pid, epoch, cepoch), open;

	if (type != KP_CONTROL_ABORT)
		return;
	open = kb_pstate_txn_first(b, log);
	e.pid = pid;
	e.first_offset = first >= 0 ? first : offset;
	e.last_offset = offset;
	e.lso = open >= 0 && open <= offset ? open : offset + 1;
	if (replay && kp_log_txn_has(log, offset))
		return;
	if (kp_log_txn_add(log, &e) == -1)
		kb_log("%s: aborted transaction index: %s", kp_log_dir(log),
		    strerror(errno));
}

void
kb_txn_appended(struct kb_broker *b, struct kp_log *log, const uint8_t *p,
    size_t len)
{
	struct kp_batch_header h;
	int32_t cepoch;
	int type;

	if (kp_batch_header_decode(p, len, &h) <= 0 ||
	    !(h.attributes & KP_BATCH_ATTR_TRANSACTIONAL) || h.producer_id < 0)
		return;
	if (h.attributes & KP_BATCH_ATTR_CONTROL) {
		type = kp_batch_control_read(p, len, &cepoch);
		marker_appended(b, log, h.producer_id, h.producer_epoch,
		    cepoch, type, h.base_offset, true);
	} else
		kb_pstate_txn_begin(b, log, h.producer_id, h.base_offset);
}

void
kb_txn_replay_marker(struct kb_broker *b, struct kp_log *log,
    const struct kp_batch_header *h, int type, int32_t cepoch)
{
	if (h->producer_id >= 0 && (type == KP_CONTROL_ABORT ||
	    type == KP_CONTROL_COMMIT))
		marker_appended(b, log, h->producer_id, h->producer_epoch,
		    cepoch, type, h->base_offset, true);
}

/*
 * As Kafka's updateFirstUnstableOffset: never below the log start, so a
 * transaction whose first records retention deleted cannot hold
 * read_committed consumers before the start of the log.
 */
int64_t
kb_txn_lso(struct kb_broker *b, struct kp_log *log)
{
	int64_t hw = kp_log_high_watermark(log);
	int64_t first = kb_pstate_txn_first(b, log);

	if (first >= 0 && first < kp_log_start_offset(log))
		first = kp_log_start_offset(log);
	return first >= 0 && first < hw ? first : hw;
}

struct collect {
	struct kp_fetch_resp_aborted_transaction *v;
	int32_t		 n, max;
};

static void
collect_one(void *arg, const struct kp_txn_entry *e)
{
	struct collect *c = arg;

	if (c->n < c->max) {
		c->v[c->n].producer_id = e->pid;
		c->v[c->n].first_offset = e->first_offset;
		c->n++;
	}
}

int
kb_txn_aborted(struct kp_log *log, int64_t from, int64_t upto,
    struct kp_arena *a, struct kp_fetch_resp_aborted_transaction **out,
    int32_t *n)
{
	size_t count = kp_log_aborted_txns(log, from, upto, NULL, NULL);
	struct collect c;

	*out = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	if (count > INT32_MAX)
		count = INT32_MAX;
	c.max = (int32_t)count;
	c.n = 0;
	if ((c.v = kp_arena_calloc(a, count, sizeof(*c.v))) == NULL)
		return -1;
	(void)kp_log_aborted_txns(log, from, upto, collect_one, &c);
	*out = c.v;
	*n = c.n;
	return 0;
}

int16_t
kb_txn_write_marker(struct kb_broker *b, const char *topic,
    int32_t partition, int64_t pid, int16_t epoch, bool commit,
    int32_t coordinator_epoch)
{
	struct kp_str name = kb_str(topic);
	struct kp_log_append_info info;
	struct kp_log *log;
	struct kp_buf buf;
	int64_t prev_end;
	int rc;

	if ((rc = kb_cluster_check_leader(b, topic, partition)) != KP_NONE)
		return (int16_t)rc;
	if ((log = kb_log_for(b, &name, partition)) == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (pid < 0 || epoch < 0 || epoch < kb_pstate_epoch(b, log, pid))
		return KP_INVALID_PRODUCER_EPOCH;
	/*
	 * A zombie coordinator (an old leader of the state partition) after
	 * its successor's marker: refused, as Kafka's appendEndTxnMarker.
	 */
	if (coordinator_epoch < kb_pstate_coord_epoch(b, log, pid))
		return KP_TRANSACTION_COORDINATOR_FENCED;
	kp_buf_init(&buf);
	if (kp_batch_control_build(&buf, pid, epoch, commit ?
	    KP_CONTROL_COMMIT : KP_CONTROL_ABORT, coordinator_epoch,
	    kb_now_wall()) == -1) {
		kp_buf_release(&buf);
		return KP_KAFKA_STORAGE_ERROR;	/* ENOMEM */
	}
	prev_end = kp_log_end_offset(log);
	rc = kp_log_append(log, buf.data, buf.len,
	    kb_cluster_leader_epoch(b, topic, partition), kb_now_wall(), &info);
	kp_buf_release(&buf);
	if (rc != KP_NONE) {
		if (rc == KP_KAFKA_STORAGE_ERROR)
			kb_log("%s: transaction marker: %s", kp_log_dir(log),
			    strerror(errno));
		return (int16_t)rc;
	}
	marker_appended(b, log, pid, epoch, coordinator_epoch, commit ?
	    KP_CONTROL_COMMIT : KP_CONTROL_ABORT, info.base_offset, false);
	/* as a Produce with acks=all: committed once replicated or synced */
	if (kb_cluster_mode(b))
		kb_repl_appended(b, topic, partition);
	else if (!kb_durable_wanted(b, -1))
		kp_log_set_high_watermark(log, kp_log_end_offset(log));
	else if (kb_durable_dirty(b, log) == -1)
		return KP_KAFKA_STORAGE_ERROR;	/* ENOMEM */
	kb_pstate_appended(b, log, prev_end);
	if (strcmp(topic, KP_OFFSETS_TOPIC) == 0)
		kb_offsets_txn_marker(b, partition, pid, commit);
	b->wake = true;		/* read_committed fetches: the LSO moved */
	return KP_NONE;
}

/* ---- WriteTxnMarkers (API 27): a coordinator's markers over the wire ---- */

static int
marker_topics(struct kb_req *req,
    const struct kp_write_txn_markers_req_writable_txn_marker *m,
    struct kp_write_txn_markers_resp_writable_txn_marker_result *mr)
{
	mr->producer_id = m->producer_id;
	mr->topics = kb_resp_array(req->arena, m->n_topics, &mr->n_topics,
	    sizeof(*mr->topics));
	if (mr->topics == NULL)
		return -1;
	for (int32_t j = 0; j < mr->n_topics; j++) {
		const struct kp_write_txn_markers_req_writable_txn_marker_topic
		    *t = &m->topics[j];
		struct kp_write_txn_markers_resp_writable_txn_marker_topic_result
		    *tr = &mr->topics[j];
		char *name = kb_arena_str(req->arena, &t->name);

		kp_write_txn_markers_resp_writable_txn_marker_topic_result_init(
		    tr);
		tr->name = t->name;
		tr->partitions = kb_resp_array(req->arena,
		    t->n_partition_indexes, &tr->n_partitions,
		    sizeof(*tr->partitions));
		if (tr->partitions == NULL || name == NULL)
			return -1;
		for (int32_t k = 0; k < tr->n_partitions; k++) {
			int32_t part = t->partition_indexes[k];

			tr->partitions[k].partition_index = part;
			tr->partitions[k].error_code = kb_txn_write_marker(
			    req->b, name, part, m->producer_id,
			    m->producer_epoch, m->transaction_result,
			    m->coordinator_epoch);
		}
	}
	return 0;
}

static int
handle_write_txn_markers(struct kb_req *req)
{
	struct kp_write_txn_markers_req rq;
	struct kp_write_txn_markers_resp rs;
	int16_t v = req->hdr.api_version;

	if (kp_write_txn_markers_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_write_txn_markers_resp_init(&rs);
	rs.markers = kb_resp_array(req->arena, rq.n_markers, &rs.n_markers,
	    sizeof(*rs.markers));
	if (rs.markers == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < rs.n_markers; i++) {
		kp_write_txn_markers_resp_writable_txn_marker_result_init(
		    &rs.markers[i]);
		if (marker_topics(req, &rq.markers[i], &rs.markers[i]) == -1)
			return KB_CLOSE;
	}
	if (kp_write_txn_markers_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(write_txn_markers, KP_API_WRITE_TXN_MARKERS, 0, 1,
    handle_write_txn_markers)
