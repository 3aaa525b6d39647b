/* test_kp_proto_fetch.c -- Fetch, ListOffsets and OffsetForLeaderEpoch codecs */
#include "kp_proto_fetch.h"
#include "proto_test.h"

/*
 * The pieces the broker writes around sendfile'd records must add up to
 * exactly what the one-shot encoder produces, at every version.
 */
static void
test_fetch_pieces(void)
{
	static const uint8_t rec1[] = "first-batch", rec2[] = "2nd";
	struct kp_fetch_resp r;
	struct kp_fetch_resp_fetchable_topic_response t[2];
	struct kp_fetch_resp_partition_data p[3];
	struct kp_fetch_resp_aborted_transaction at = { 77, 5 };
	struct kp_buf whole, parts;
	int16_t v;
	int i, same = 0, rc;

	kp_fetch_resp_init(&r);
	for (i = 0; i < 3; i++) {
		kp_fetch_resp_partition_data_init(&p[i]);
		p[i].partition_index = i;
		p[i].high_watermark = 100 + i;
		p[i].last_stable_offset = 90 + i;
		p[i].log_start_offset = i;
	}
	p[0].records.ptr = rec1;
	p[0].records.len = sizeof(rec1);
	p[1].records.ptr = NULL;
	p[1].records.len = -1;
	p[2].records.ptr = rec2;
	p[2].records.len = sizeof(rec2);
	p[2].aborted_transactions = &at;
	p[2].n_aborted_transactions = 1;
	for (i = 0; i < 2; i++)
		kp_fetch_resp_fetchable_topic_response_init(&t[i]);
	t[0].topic.ptr = "a";
	t[0].topic.len = 1;
	t[0].partitions = p;
	t[0].n_partitions = 2;
	t[1].topic.ptr = "bb";
	t[1].topic.len = 2;
	t[1].partitions = p + 2;
	t[1].n_partitions = 1;
	r.responses = t;
	r.n_responses = 2;
	r.session_id = 0;
	for (v = 4; v <= 16; v++) {
		int j, k;

		kp_buf_init(&whole);
		kp_buf_init(&parts);
		/* v13+ identify topics by id only: names must go. */
		for (j = 0; j < 2; j++)
			t[j].topic.len = v >= 13 ? 0 : j + 1;
		rc = kp_fetch_resp_encode(&whole, v, &r);
		rc |= kp_fetch_resp_begin(&parts, v, &r, 2);
		for (j = 0; j < 2; j++) {
			rc |= kp_fetch_resp_topic_begin(&parts, v, &t[j],
			    t[j].n_partitions);
			for (k = 0; k < t[j].n_partitions; k++) {
				const struct kp_fetch_resp_partition_data *q =
				    &t[j].partitions[k];

				rc |= kp_fetch_resp_partition_begin(&parts, v,
				    q, q->records.len);
				if (q->records.len > 0)
					kp_buf_put(&parts, q->records.ptr,
					    (size_t)q->records.len);
				rc |= kp_fetch_resp_partition_end(&parts, v, q);
			}
			rc |= kp_fetch_resp_topic_end(&parts, v, &t[j]);
		}
		rc |= kp_fetch_resp_end(&parts, v, &r);
		if (rc == 0 && whole.len == parts.len &&
		    memcmp(whole.data, parts.data, whole.len) == 0)
			same++;
		else
			printf("# fetch pieces differ at v%d\n", v);
		kp_buf_release(&whole);
		kp_buf_release(&parts);
	}
	is_int(same, 13, "Fetch v4-16 pieces == whole response");
}

/* Pitfalls 7 and 8: throttle first; v4 LSO + aborted, v5 log start... */
static void
test_fetch_resp_fields(void)
{
	struct kp_fetch_resp r, d;
	struct kp_fetch_resp_fetchable_topic_response t;
	struct kp_fetch_resp_partition_data p;
	struct kp_arena a;
	struct kp_buf b;
	size_t len4;

	kp_fetch_resp_init(&r);
	kp_fetch_resp_fetchable_topic_response_init(&t);
	kp_fetch_resp_partition_data_init(&p);
	is_int(p.preferred_read_replica, -1, "init: preferred replica -1");
	is_int(p.last_stable_offset, -1, "init: LSO -1");
	p.high_watermark = 10;
	p.last_stable_offset = 10;
	p.log_start_offset = 2;
	p.n_aborted_transactions = -1;
	t.topic.ptr = "t";
	t.topic.len = 1;
	t.partitions = &p;
	t.n_partitions = 1;
	r.responses = &t;
	r.n_responses = 1;
	r.throttle_time_ms = 0x11223344;
	kp_buf_init(&b);
	kp_arena_init(&a);
	is_int(kp_fetch_resp_encode(&b, 4, &r), 0, "v4 encodes");
	ok(kp_be32(b.data) == 0x11223344, "throttle first");
	len4 = b.len;
	/* 4 throttle, 4+3 topic, 4 count, 4 idx, 2 err, 8 hwm, 8 lso,
	 * 4 aborted null, 4 records */
	is_int(len4, 4 + 4 + 3 + 4 + 4 + 2 + 8 + 8 + 4 + 4,
	    "v4 size: no log start, no session, no replica");
	is_int(kp_fetch_resp_decode(b.data, b.len, 4, &d, &a), 0, "v4 decodes");
	is_int(d.responses[0].partitions[0].n_aborted_transactions, -1,
	    "aborted null");
	is_int(d.responses[0].partitions[0].log_start_offset, -1,
	    "v4 log start default -1");
	kp_buf_reset(&b);
	kp_fetch_resp_encode(&b, 5, &r);
	is_int(b.len, len4 + 8, "v5 adds log start");
	kp_buf_reset(&b);
	kp_fetch_resp_encode(&b, 7, &r);
	is_int(b.len, len4 + 8 + 6, "v7 adds error and session id");
	kp_buf_reset(&b);
	kp_fetch_resp_encode(&b, 11, &r);
	is_int(b.len, len4 + 8 + 6 + 4, "v11 adds preferred replica");
	is_int(kp_be32(b.data + b.len - 8), -1, "preferred replica -1");
	p.n_aborted_transactions = 0;
	kp_buf_reset(&b);
	is_int(kp_fetch_resp_encode(&b, 4, &r), 0, "empty aborted list");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

static void
test_fetch_req_defaults(void)
{
	struct kp_fetch_req r, d;
	struct kp_arena a;
	struct kp_buf b;

	kp_fetch_req_init(&r);
	is_int(r.replica_id, -1, "init: replica -1");
	is_int(r.max_bytes, 0x7fffffff, "init: max bytes");
	is_int(r.session_epoch, -1, "init: session epoch -1");
	kp_buf_init(&b);
	kp_arena_init(&a);
	r.isolation_level = 1;
	is_int(kp_fetch_req_encode(&b, 4, &r), 0, "v4 request");
	is_int(kp_fetch_req_decode(b.data, b.len, 4, &d, &a), 0, "decodes");
	is_int(d.isolation_level, 1, "v4 isolation level");
	is_int(d.session_epoch, -1, "v4 has no session: default -1");
	kp_buf_reset(&b);
	is_int(kp_fetch_req_encode(&b, 3, &r), 0,
	    "v3 drops isolation level (ignorable)");
	is_int(kp_fetch_req_decode(b.data, b.len, 3, &d, &a), 0, "v3 decodes");
	is_int(d.isolation_level, 0, "v3 isolation level defaults to 0");
	r.isolation_level = 0;
	r.session_epoch = 4;
	kp_buf_reset(&b);
	is_int(kp_fetch_req_encode(&b, 6, &r), 0,
	    "v6 drops the session epoch (ignorable)");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

/* ListOffsets v2+ throttle first; v1 none. */
static void
test_list_offsets_resp(void)
{
	struct kp_list_offsets_req q;

	struct kp_list_offsets_resp r;
	struct kp_buf b;

	kp_list_offsets_resp_init(&r);
	r.throttle_time_ms = 3;
	kp_buf_init(&b);
	kp_list_offsets_resp_encode(&b, 2, &r);
	ok(b.len == 8 && kp_be32(b.data) == 3, "v2: throttle, topics");
	kp_buf_reset(&b);
	is_int(kp_list_offsets_resp_encode(&b, 1, &r), 0,
	    "v1 drops throttle (ignorable)");
	is_int(b.len, 4, "v1: topics only");
	kp_list_offsets_req_init(&q);
	is_int(q.replica_id, 0, "ReplicaId has no default: 0");
	q.isolation_level = 1;
	kp_buf_reset(&b);
	is_int(kp_list_offsets_req_encode(&b, 1, &q), -1,
	    "v1 cannot carry read_committed (not ignorable)");
	kp_buf_reset(&b);
	is_int(kp_list_offsets_req_encode(&b, 2, &q), 0, "v2 can");
	ok(b.len == 9 && b.data[4] == 1, "v2: replica, isolation, topics");
	kp_buf_release(&b);
}

static void
test_golden(void)
{
	struct kp_fetch_req f;
	struct kp_list_offsets_req lo;
	const struct kp_fetch_req_partition *fp;
	struct kp_arena a;
	const uint8_t *body;
	uint8_t *file;
	size_t len;

	kp_arena_init(&a);
	body = pt_golden("proto-rdkafka-fetch-v11.hex", 1, 11,
	    &kp_msg_fetch_req, &len, &file);
	is_int(kp_fetch_req_decode(body, len, 11, &f, &a), 0,
	    "librdkafka Fetch v11");
	is_int(f.replica_id, -1, "replica -1");
	is_int(f.max_wait_ms, 500, "max wait 500");
	is_int(f.min_bytes, 1, "min bytes 1");
	is_int(f.max_bytes, 52428800, "max bytes 50 MiB");
	is_int(f.isolation_level, 1, "read_committed");
	is_int(f.session_id, 0, "no session");
	is_int(f.session_epoch, -1, "full fetch epoch -1");
	is_int(f.n_topics, 1, "one topic");
	ok(f.n_topics == 1 && kp_str_eq(&f.topics[0].topic, "t1"), "topic t1");
	is_int(f.topics[0].n_partitions, 1, "one partition");
	fp = &f.topics[0].partitions[0];
	is_int(fp->partition, 0, "partition 0");
	is_int(fp->current_leader_epoch, -1, "leader epoch -1");
	is_int(fp->fetch_offset, 0, "fetch offset 0");
	is_int(fp->log_start_offset, -1, "log start -1");
	is_int(fp->partition_max_bytes, 1048576, "partition max 1 MiB");
	is_int(f.n_forgotten_topics_data, 0, "nothing forgotten");
	ok(kp_str_eq(&f.rack_id, ""), "rack empty");
	free(file);

	body = pt_golden("proto-rdkafka-listoffsets-v2.hex", 2, 2,
	    &kp_msg_list_offsets_req, &len, &file);
	is_int(kp_list_offsets_req_decode(body, len, 2, &lo, &a), 0,
	    "librdkafka ListOffsets v2");
	is_int(lo.replica_id, -1, "replica -1");
	is_int(lo.isolation_level, 1, "read_committed");
	ok(lo.n_topics == 1 && kp_str_eq(&lo.topics[0].name, "t1"), "topic t1");
	ok(lo.topics[0].n_partitions == 1 &&
	    lo.topics[0].partitions[0].partition_index == 0, "partition 0");
	is_int(lo.topics[0].partitions[0].timestamp, -2, "earliest (-2)");
	is_int(lo.topics[0].partitions[0].current_leader_epoch, -1,
	    "v2 has no leader epoch: default -1");
	free(file);

	body = pt_golden("proto-kafka-python-fetch-v4.hex", 1, 4,
	    &kp_msg_fetch_req, &len, &file);
	is_int(kp_fetch_req_decode(body, len, 4, &f, &a), 0,
	    "kafka-python Fetch v4");
	is_int(f.max_wait_ms, 500, "max wait 500");
	is_int(f.max_bytes, 52428800, "max bytes 50 MiB");
	is_int(f.isolation_level, 0, "read_uncommitted");
	is_int(f.session_epoch, -1, "v4 has no session: default");
	ok(f.n_topics == 1 && kp_str_eq(&f.topics[0].topic, "t1") &&
	    f.topics[0].n_partitions == 1, "t1, one partition");
	fp = &f.topics[0].partitions[0];
	is_int(fp->fetch_offset, 0, "fetch offset 0");
	is_int(fp->partition_max_bytes, 1048576, "partition max 1 MiB");
	is_int(fp->log_start_offset, -1, "v4 has no log start: default");
	free(file);

	body = pt_golden("proto-kafka-python-listoffsets-v1.hex", 2, 1,
	    &kp_msg_list_offsets_req, &len, &file);
	is_int(kp_list_offsets_req_decode(body, len, 1, &lo, &a), 0,
	    "kafka-python ListOffsets v1");
	is_int(lo.replica_id, -1, "replica -1");
	is_int(lo.isolation_level, 0, "v1 has no isolation level");
	ok(lo.n_topics == 1 && kp_str_eq(&lo.topics[0].name, "t1") &&
	    lo.topics[0].n_partitions == 1, "t1, one partition");
	is_int(lo.topics[0].partitions[0].timestamp, -2, "earliest (-2)");
	free(file);
	kp_arena_release(&a);
}

/*
 * OffsetForLeaderEpoch as a follower sends it (v3, replica_id) and the
 * flexible v4, bytes worked out by hand from the schema.
 */
static void
test_offset_for_leader_epoch(void)
{
	static const uint8_t v3[] = { 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 't',
	    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 4 };
	static const uint8_t v4[] = { 0, 0, 0, 2, 2, 2, 't', 2, 0, 0, 0, 0,
	    0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0 };
	static const uint8_t r3[] = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't',
	    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0,
	    20 };
	struct kp_offset_for_leader_epoch_req rq, back;
	struct kp_offset_for_leader_epoch_req_offset_for_leader_topic t;
	struct kp_offset_for_leader_epoch_req_offset_for_leader_partition p;
	struct kp_offset_for_leader_epoch_resp rs;
	struct kp_buf b;
	struct kp_arena a;

	kp_arena_init(&a);
	kp_buf_init(&b);
	kp_offset_for_leader_epoch_req_init(&rq);
	kp_offset_for_leader_epoch_req_offset_for_leader_topic_init(&t);
	kp_offset_for_leader_epoch_req_offset_for_leader_partition_init(&p);
	is_int(rq.replica_id, -2, "replica_id defaults to -2");
	is_int(p.current_leader_epoch, -1, "current_leader_epoch defaults -1");
	rq.replica_id = 2;
	rq.topics = &t;
	rq.n_topics = 1;
	t.topic.ptr = "t";
	t.topic.len = 1;
	t.partitions = &p;
	t.n_partitions = 1;
	p.current_leader_epoch = 5;
	p.leader_epoch = 4;
	is_int(kp_offset_for_leader_epoch_req_encode(&b, 3, &rq), 0,
	    "encode v3");
	ok(b.len == sizeof(v3) && memcmp(b.data, v3, b.len) == 0,
	    "v3 request bytes");
	kp_buf_reset(&b);
	is_int(kp_offset_for_leader_epoch_req_encode(&b, 4, &rq), 0,
	    "encode v4");
	ok(b.len == sizeof(v4) && memcmp(b.data, v4, b.len) == 0,
	    "v4 (flexible) request bytes");
	is_int(kp_offset_for_leader_epoch_req_decode(v4, sizeof(v4), 4,
	    &back, &a), 0, "decode v4");
	ok(back.replica_id == 2 && back.n_topics == 1 &&
	    back.topics[0].partitions[0].current_leader_epoch == 5 &&
	    back.topics[0].partitions[0].leader_epoch == 4, "v4 fields back");
	is_int(kp_offset_for_leader_epoch_resp_decode(r3, sizeof(r3), 3, &rs,
	    &a), 0, "decode a v3 response");
	ok(rs.n_topics == 1 && rs.topics[0].n_partitions == 1 &&
	    rs.topics[0].partitions[0].error_code == 0 &&
	    rs.topics[0].partitions[0].leader_epoch == 4 &&
	    rs.topics[0].partitions[0].end_offset == 20,
	    "epoch 4 ends at 20");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

int
main(void)
{
	static const int16_t keys[] = { KP_API_FETCH, KP_API_LIST_OFFSETS };

	test_golden();
	test_fetch_pieces();
	test_fetch_resp_fields();
	test_fetch_req_defaults();
	test_list_offsets_resp();
	test_offset_for_leader_epoch();
	pt_roundtrip(&kp_msg_offset_for_leader_epoch_req, 0, 4);
	pt_roundtrip(&kp_msg_offset_for_leader_epoch_resp, 0, 4);
	pt_roundtrip(&kp_msg_fetch_req, 4, 11);
	pt_roundtrip(&kp_msg_fetch_resp, 4, 11);
	pt_roundtrip(&kp_msg_list_offsets_req, 1, 5);
	pt_roundtrip(&kp_msg_list_offsets_resp, 1, 5);
	pt_kafka_python(keys, sizeof(keys) / sizeof(keys[0]));
	return tap_done();
}
