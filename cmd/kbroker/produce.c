/* produce.c -- Produce: validate each partition's batch, idempotence checks, append, wake fetchers */
#include <errno.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_produce.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "resp_array.h"
#include "txn_log.h"

/*
 * One partition's records: exactly one magic-2 batch (Produce v3+,
 * apache/kafka ProduceRequest.validateRecords), checked and appended.
 * The batch bytes sit in the connection's input buffer, which is ours to
 * rewrite (baseOffset, partitionLeaderEpoch) before they go to disk.
 */
/*
 * acks=all: enough replicas in sync? One node is the only replica, so
 * min.insync.replicas > 1 can never be met; a cluster counts its ISR.
 */
static bool
min_isr_ok(struct kb_req *req, struct kp_log *log, const char *topic,
    int32_t part)
{
	if (kb_cluster_mode(req->b))
		return topic != NULL && kb_repl_min_isr_ok(req->b, topic, part);
	return kp_log_conf(log)->min_insync_replicas <= 1;
}

/* acks=all in a cluster: the answer waits for the ISR to have it all. */
static int
park_for_hw(struct kb_req *req, int16_t acks, const char *topic,
    int32_t part, int64_t end)
{
	if (acks != -1 || !kb_cluster_mode(req->b))
		return 0;
	return kb_repl_park_for_hw(req->b, req, topic, part, end);
}

static void
produce_partition(struct kb_req *req, struct kp_log *log, int16_t acks,
    const struct kp_str *name, int32_t part, const struct kp_bytes *records,
    struct kp_produce_resp_partition_produce_response *pr)
{
	struct kb_broker *b = req->b;
	struct kp_batch_header h;
	struct kp_log_append_info info;
	ssize_t n;
	int rc;
	int64_t dup, prev_end;
	bool idem;
	/* the name and epoch matter only to a cluster's replication */
	const char *topic = NULL;
	int32_t epoch = 0;

	if (records->len <= 0) {
		pr->error_code = KP_INVALID_RECORD;
		return;
	}
	if (kb_cluster_mode(b)) {
		if ((topic = kb_arena_str(req->arena, name)) == NULL) {
			pr->error_code = KP_UNKNOWN_SERVER_ERROR; /* ENOMEM */
			return;
		}
		epoch = kb_cluster_leader_epoch(b, topic, part);
	}
	n = kp_batch_header_decode(records->ptr, (size_t)records->len, &h);
	if (n <= 0 || n > records->len) {
		pr->error_code = KP_CORRUPT_MESSAGE;
		return;
	}
	if (n != records->len) {
		pr->error_code = KP_INVALID_RECORD;	/* more than one batch */
		return;
	}
	if (kp_batch_codec(&h) == KP_CODEC_ZSTD && req->hdr.api_version < 7) {
		pr->error_code = KP_UNSUPPORTED_COMPRESSION_TYPE;
		return;
	}
	if (acks == -1 && !min_isr_ok(req, log, topic, part)) {
		pr->error_code = KP_NOT_ENOUGH_REPLICAS;
		return;
	}
	idem = h.producer_id >= 0 && h.base_sequence >= 0;
	/*
	 * Markers are the coordinator's (WriteTxnMarkers), and a
	 * transaction belongs to an idempotent producer (Kafka's
	 * LogValidator says the same).
	 */
	if ((h.attributes & KP_BATCH_ATTR_CONTROL) ||
	    ((h.attributes & KP_BATCH_ATTR_TRANSACTIONAL) && !idem)) {
		pr->error_code = KP_INVALID_RECORD;
		return;
	}
	if (idem) {
		rc = kb_pstate_check(b, log, h.producer_id, h.producer_epoch,
		    h.base_sequence, h.last_offset_delta + 1, &dup);
		/*
		 * A corrupt batch is refused as corrupt whatever its sequence
		 * says. An in-order one gets its CRC checked by the append,
		 * so only the answers given without appending check it here.
		 */
		if (rc != KP_NONE &&
		    !kp_batch_crc_ok(records->ptr, (size_t)records->len)) {
			pr->error_code = KP_CORRUPT_MESSAGE;
			return;
		}
		if (rc == KP_DUPLICATE_SEQUENCE_NUMBER) {
			/* A retry of a batch we have: success, same offset. */
			if (kb_durable_wanted(b, acks) &&
			    kb_durable_dirty(b, log) == -1) {
				pr->error_code = KP_KAFKA_STORAGE_ERROR;
				return;
			}
			if (park_for_hw(req, acks, topic, part, dup +
			    h.last_offset_delta + 1) == -1) {
				pr->error_code = KP_KAFKA_STORAGE_ERROR;
				return;
			}
			pr->base_offset = dup;
			pr->log_start_offset = kp_log_start_offset(log);
			return;
		}
		if (rc != KP_NONE) {
			pr->error_code = (int16_t)rc;
			return;
		}
	}
	prev_end = kp_log_end_offset(log);
	/* the leader epoch goes into the batch: followers truncate by it */
	rc = kp_log_append(log, (uint8_t *)(uintptr_t)records->ptr,
	    (size_t)records->len, epoch, kb_now_wall(), &info);
	if (rc != KP_NONE) {
		if (rc == KP_KAFKA_STORAGE_ERROR)
			kb_log("%s: append: %s", kp_log_dir(log),
			    strerror(errno));
		pr->error_code = (int16_t)rc;
		return;
	}
	/*
	 * One replica: everything appended is committed -- in the fsync
	 * mode once durable.c has synced it.
	 */
	if (kb_cluster_mode(b))
		kb_repl_appended(b, topic, part);	/* HW: min over ISR */
	else if (!kb_durable_wanted(b, acks))
		kp_log_set_high_watermark(log, kp_log_end_offset(log));
	if (kb_durable_wanted(b, acks) && kb_durable_dirty(b, log) == -1) {
		pr->error_code = KP_KAFKA_STORAGE_ERROR;	/* ENOMEM */
		return;
	}
	if (park_for_hw(req, acks, topic, part, info.last_offset + 1) == -1) {
		pr->error_code = KP_KAFKA_STORAGE_ERROR;	/* ENOMEM */
		return;
	}
	if (idem)
		kb_pstate_update(b, log, h.producer_id, h.producer_epoch,
		    h.base_sequence, h.last_offset_delta + 1, info.base_offset);
	if (h.attributes & KP_BATCH_ATTR_TRANSACTIONAL)
		kb_pstate_txn_begin(b, log, h.producer_id, info.base_offset);
	kb_pstate_appended(b, log, prev_end);
	pr->base_offset = info.base_offset;
	pr->log_append_time_ms = info.log_append_time;
	pr->log_start_offset = info.log_start_offset;
	b->wake = true;
}

static int
handle_produce(struct kb_req *req)
{
	struct kp_produce_req rq;
	struct kp_produce_resp rs;
	int16_t v = req->hdr.api_version;
	bool failed = false;

	/* v0-2 are advertised only for librdkafka's compression check. */
	if (v < 3)
		return KB_CLOSE;
	if (kp_produce_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_produce_resp_init(&rs);
	rs.responses = kb_resp_array(req->arena, rq.n_topic_data,
	    &rs.n_responses, sizeof(*rs.responses));
	if (rs.responses == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < rs.n_responses; i++) {
		struct kp_produce_req_topic_produce_data *td = &rq.topic_data[i];
		struct kp_produce_resp_topic_produce_response *tr =
		    &rs.responses[i];

		kp_produce_resp_topic_produce_response_init(tr);
		tr->name = td->name;
		tr->partition_responses = kb_resp_array(req->arena,
		    td->n_partition_data, &tr->n_partition_responses,
		    sizeof(*tr->partition_responses));
		if (tr->partition_responses == NULL)
			return KB_CLOSE;
		for (int32_t j = 0; j < tr->n_partition_responses; j++) {
			struct kp_produce_req_partition_produce_data *pd =
			    &td->partition_data[j];
			struct kp_produce_resp_partition_produce_response *pr =
			    &tr->partition_responses[j];
			struct kp_log *log;
			int rc;

			kp_produce_resp_partition_produce_response_init(pr);
			pr->index = pd->index;
			pr->base_offset = -1;
			pr->log_append_time_ms = -1;
			pr->log_start_offset = -1;
			if (rq.acks != 0 && rq.acks != 1 && rq.acks != -1)
				pr->error_code = KP_INVALID_REQUIRED_ACKS;
			else if ((rc = kb_cluster_check_leader_s(req->b,
			    &td->name, pd->index)) != KP_NONE)
				pr->error_code = (int16_t)rc;
			else if ((log = kb_log_for(req->b, &td->name,
			    pd->index)) == NULL)
				pr->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
			else
				produce_partition(req, log, rq.acks, &td->name,
				    pd->index, &pd->records, pr);
			if (pr->error_code != KP_NONE) {
				failed = true;
				kb_debug(req->b, "%s: produce %.*s-%d: %s",
				    req->c->peer, td->name.len > 0 ?
				    (int)td->name.len : 0, td->name.ptr,
				    pd->index, kp_kerr_name(pr->error_code));
			}
		}
	}
	if (rq.acks == 0) {
		/*
		 * No response at all; on an error Kafka closes the
		 * connection so the producer notices.
		 */
		return failed ? KB_CLOSE : KB_NO_RESPONSE;
	}
	if (kp_produce_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	/* Answer once the appended batches are on disk. */
	if (kb_durable_wanted(req->b, rq.acks) &&
	    kb_durable_park(req->b, req->resp) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(produce, KP_API_PRODUCE, 0, 7, handle_produce)
