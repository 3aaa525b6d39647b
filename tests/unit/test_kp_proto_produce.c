/* test_kp_proto_produce.c -- Produce codecs */
#include "kp_proto_produce.h"
#include "proto_test.h"

/* Pitfall 7: Produce puts throttle_time_ms at the end (v1+). */
static void
test_produce_resp_layout(void)
{
	static const uint8_t want[] = {
	    0, 0, 0, 1, 0, 2, 't', '1',		/* [1] "t1" */
	    0, 0, 0, 1, 0, 0, 0, 0,		/* [1] partition 0 */
	    0, 0,				/* error 0 */
	    0, 0, 0, 0, 0, 0, 0, 42,		/* base offset 42 */
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* append -1 */
	    0, 0, 0, 0, 0, 0, 0, 7,		/* log start 7 */
	    0, 0, 0, 9 };			/* throttle last */
	struct kp_produce_resp r, d;
	struct kp_produce_resp_topic_produce_response t;
	struct kp_produce_resp_partition_produce_response p;
	struct kp_arena a;
	struct kp_buf b;

	kp_produce_resp_init(&r);
	kp_produce_resp_topic_produce_response_init(&t);
	kp_produce_resp_partition_produce_response_init(&p);
	p.base_offset = 42;
	p.log_start_offset = 7;
	t.name.ptr = "t1";
	t.name.len = 2;
	t.partition_responses = &p;
	t.n_partition_responses = 1;
	r.responses = &t;
	r.n_responses = 1;
	r.throttle_time_ms = 9;
	kp_buf_init(&b);
	kp_arena_init(&a);
	is_int(kp_produce_resp_encode(&b, 7, &r), 0, "Produce v7 response encodes");
	ok(b.len == sizeof(want) && memcmp(b.data, want, b.len) == 0,
	    "v7 bytes: throttle at the end");
	is_int(p.log_append_time_ms, -1, "init: LogAppendTimeMs -1");
	is_int(kp_produce_resp_decode(b.data, b.len, 7, &d, &a), 0, "v7 decodes");
	is_int(d.responses[0].partition_responses[0].base_offset, 42, "offset");
	is_int(d.throttle_time_ms, 9, "throttle");
	kp_buf_reset(&b);
	r.throttle_time_ms = 0;
	is_int(kp_produce_resp_encode(&b, 0, &r), 0, "v0 encodes");
	is_int(b.len, 8 + 8 + 2 + 8, "v0: no log append time, start, throttle");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

static void
test_produce_req_nulls(void)
{
	struct kp_produce_req r, d;
	struct kp_produce_req_topic_produce_data t;
	struct kp_produce_req_partition_produce_data p;
	struct kp_arena a;
	struct kp_buf b;

	kp_produce_req_init(&r);
	kp_produce_req_topic_produce_data_init(&t);
	p.index = 3;
	p.records.ptr = NULL;
	p.records.len = -1;
	t.name.ptr = "t";
	t.name.len = 1;
	t.partition_data = &p;
	t.n_partition_data = 1;
	r.topic_data = &t;
	r.n_topic_data = 1;
	r.acks = -1;
	r.timeout_ms = 1000;
	kp_buf_init(&b);
	kp_arena_init(&a);
	is_int(r.transactional_id.len, -1, "init: TransactionalId null");
	is_int(kp_produce_req_encode(&b, 7, &r), 0, "null records encode");
	is_int(kp_produce_req_decode(b.data, b.len, 7, &d, &a), 0, "and decode");
	is_int(d.topic_data[0].partition_data[0].records.len, -1, "records null");
	is_int(d.transactional_id.len, -1, "transactional id null");
	kp_buf_reset(&b);
	r.transactional_id.ptr = "tx";
	r.transactional_id.len = 2;
	is_int(kp_produce_req_encode(&b, 2, &r), -1,
	    "v2 cannot carry a transactional id (not ignorable)");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

/* Fields common to both clients' Produce v7: one magic-2 batch. */
static void
check_produce(const char *file, int16_t acks, int32_t records_len,
    int32_t nrecords)
{
	struct kp_produce_req r;
	struct kp_arena a;
	const struct kp_bytes *rec;
	const uint8_t *body;
	uint8_t *buf;
	size_t len;

	kp_arena_init(&a);
	body = pt_golden(file, 0, 7, &kp_msg_produce_req, &len, &buf);
	is_int(kp_produce_req_decode(body, len, 7, &r, &a), 0, "%s decodes", file);
	is_int(r.transactional_id.len, -1, "transactional id null");
	is_int(r.acks, acks, "acks");
	is_int(r.timeout_ms, 30000, "timeout 30 s");
	is_int(r.n_topic_data, 1, "one topic");
	ok(r.n_topic_data == 1 && kp_str_eq(&r.topic_data[0].name, "t1"),
	    "topic t1");
	is_int(r.topic_data[0].n_partition_data, 1, "one partition");
	rec = &r.topic_data[0].partition_data[0].records;
	is_int(r.topic_data[0].partition_data[0].index, 0, "partition 0");
	is_int(rec->len, records_len, "records length");
	ok(rec->ptr >= body && rec->ptr + rec->len == body + len,
	    "records borrowed from the input, at its end");
	is_int(kp_be64(rec->ptr), 0, "batch base offset 0");
	is_int(kp_be32(rec->ptr + 8), records_len - 12, "batch length");
	is_int(rec->ptr[16], 2, "magic 2");
	is_int(kp_be32(rec->ptr + 57), nrecords, "record count");
	free(buf);
	kp_arena_release(&a);
}

int
main(void)
{
	static const int16_t keys[] = { KP_API_PRODUCE };

	check_produce("proto-kafka-python-produce-v7.hex", 1, 90, 2);
	check_produce("proto-rdkafka-produce-v7.hex", -1, 83, 2);
	test_produce_resp_layout();
	test_produce_req_nulls();
	pt_roundtrip(&kp_msg_produce_req, 0, 7);
	pt_roundtrip(&kp_msg_produce_resp, 0, 7);
	pt_kafka_python(keys, sizeof(keys) / sizeof(keys[0]));
	return tap_done();
}
