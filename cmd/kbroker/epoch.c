/* epoch.c -- OffsetForLeaderEpoch: where a leader epoch ended in this leader's log */
#include <string.h>

#include "kp_epoch.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_fetch.h"
#include "kbroker.h"
#include "cluster.h"
#include "repl.h"
#include "resp_array.h"

/*
 * A returning follower asks for its last epoch and cuts its log where the
 * leader says that epoch ended (KIP-101, KIP-279); a consumer asks the
 * same to detect truncation after a leader change (KIP-320). Only the
 * leader answers. A single node keeps no checkpoint file: it reads the
 * epochs from its batches for this rare question.
 */
static void
end_offset(struct kb_req *req, const struct kp_str *topic, int32_t part,
    int32_t current, int32_t epoch,
    struct kp_offset_for_leader_epoch_resp_epoch_end_offset *out)
{
	struct kb_broker *b = req->b;
	struct kp_log *log = kb_log_for(b, topic, part);
	struct kp_epoch_cache tmp, *ec = NULL;
	struct kb_rp *rp;
	char *name;
	int rc;

	rc = kb_cluster_serve_check(b, topic, part, current);
	if (rc != KP_NONE) {
		out->error_code = (int16_t)rc;
		return;
	}
	if (log == NULL) {
		out->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	if (!kb_cluster_mode(b)) {
		kp_epoch_init(&tmp);
		if (kp_epoch_rebuild(&tmp, log) == 0)
			kp_epoch_end_for(&tmp, epoch, kp_log_end_offset(log),
			    &out->leader_epoch, &out->end_offset);
		else
			out->error_code = KP_KAFKA_STORAGE_ERROR;
		kp_epoch_release(&tmp);
		return;
	}
	if ((name = kb_arena_str(req->arena, topic)) == NULL ||
	    (rp = kb_rp_get(b, name, part)) == NULL ||
	    (ec = kb_rp_epochs(b, rp, log)) == NULL) {
		out->error_code = KP_KAFKA_STORAGE_ERROR;
		return;
	}
	kp_epoch_end_for(ec, epoch, kp_log_end_offset(log), &out->leader_epoch,
	    &out->end_offset);
}

static int
handle_offset_for_leader_epoch(struct kb_req *req)
{
	struct kp_offset_for_leader_epoch_req rq;
	struct kp_offset_for_leader_epoch_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t nt;

	if (kp_offset_for_leader_epoch_req_decode(req->body, req->body_len, v,
	    &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_offset_for_leader_epoch_resp_init(&rs);
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &nt,
	    sizeof(*rs.topics));
	rs.n_topics = nt;
	if (rs.topics == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_offset_for_leader_epoch_req_offset_for_leader_topic *t =
		    &rq.topics[i];
		struct kp_offset_for_leader_epoch_resp_offset_for_leader_topic_result
		    *tr = &rs.topics[i];
		int32_t np;

		kp_offset_for_leader_epoch_resp_offset_for_leader_topic_result_init(
		    tr);
		tr->topic = t->topic;
		tr->partitions = kb_resp_array(req->arena, t->n_partitions,
		    &np, sizeof(*tr->partitions));
		tr->n_partitions = np;
		if (tr->partitions == NULL)
			return KB_CLOSE;
		for (int32_t j = 0; j < np; j++) {
			struct kp_offset_for_leader_epoch_req_offset_for_leader_partition
			    *p = &t->partitions[j];
			struct kp_offset_for_leader_epoch_resp_epoch_end_offset
			    *pr = &tr->partitions[j];

			kp_offset_for_leader_epoch_resp_epoch_end_offset_init(
			    pr);
			pr->partition = p->partition;
			pr->leader_epoch = -1;
			pr->end_offset = -1;
			end_offset(req, &t->topic, p->partition,
			    v >= 2 ? p->current_leader_epoch : -1,
			    p->leader_epoch, pr);
		}
	}
	if (kp_offset_for_leader_epoch_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(offset_for_leader_epoch, KP_API_OFFSET_FOR_LEADER_EPOCH, 0, 4,
    handle_offset_for_leader_epoch)
