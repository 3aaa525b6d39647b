/* test_kp_proto_group.c -- consumer group coordinator codecs */
#include "kp_proto_consumer.h"
#include "kp_proto_group.h"
#include "proto_test.h"

static void
test_golden(void)
{
	struct kp_find_coordinator_req fc;
	struct kp_join_group_req jg;
	struct kp_consumer_subscription sub;
	struct kp_arena a;
	const uint8_t *body;
	uint8_t *file;
	size_t len;
	int16_t sv;

	kp_arena_init(&a);
	body = pt_golden("proto-kafka-python-findcoordinator-v0.hex", 10, 0,
	    &kp_msg_find_coordinator_req, &len, &file);
	is_int(kp_find_coordinator_req_decode(body, len, 0, &fc, &a), 0,
	    "kafka-python FindCoordinator v0");
	ok(kp_str_eq(&fc.key, "g1"), "group key");
	is_int(fc.key_type, 0, "v0: key type defaults to group");
	free(file);

	body = pt_golden("proto-rdkafka-findcoordinator-v2.hex", 10, 2,
	    &kp_msg_find_coordinator_req, &len, &file);
	is_int(kp_find_coordinator_req_decode(body, len, 2, &fc, &a), 0,
	    "librdkafka FindCoordinator v2");
	ok(kp_str_eq(&fc.key, "g1"), "group key");
	is_int(fc.key_type, 0, "key type group");
	free(file);

	body = pt_golden("proto-rdkafka-joingroup-v5.hex", 11, 5,
	    &kp_msg_join_group_req, &len, &file);
	is_int(kp_join_group_req_decode(body, len, 5, &jg, &a), 0,
	    "librdkafka JoinGroup v5");
	ok(kp_str_eq(&jg.group_id, "g1"), "group g1");
	is_int(jg.session_timeout_ms, 45000, "session timeout 45 s");
	is_int(jg.rebalance_timeout_ms, 300000, "rebalance timeout 300 s");
	ok(kp_str_eq(&jg.member_id, ""), "new member: empty id");
	is_int(jg.group_instance_id.len, -1, "no static membership");
	ok(kp_str_eq(&jg.protocol_type, "consumer"), "protocol type consumer");
	is_int(jg.n_protocols, 2, "two assignors");
	ok(jg.n_protocols == 2 && kp_str_eq(&jg.protocols[0].name, "range") &&
	    kp_str_eq(&jg.protocols[1].name, "roundrobin"), "range, roundrobin");
	is_int(kp_consumer_subscription_decode(jg.protocols[0].metadata.ptr,
	    (size_t)jg.protocols[0].metadata.len, &sv, &sub, &a), 0,
	    "its subscription decodes");
	is_int(sv, 1, "subscription v1");
	ok(sub.n_topics == 1 && kp_str_eq(&sub.topics[0], "t1"), "topic t1");
	is_int(sub.n_owned_partitions, 0, "owns nothing yet");
	free(file);

	body = pt_golden("proto-kafka-python-joingroup-v2.hex", 11, 2,
	    &kp_msg_join_group_req, &len, &file);
	is_int(kp_join_group_req_decode(body, len, 2, &jg, &a), 0,
	    "kafka-python JoinGroup v2");
	ok(kp_str_eq(&jg.group_id, "g1"), "group g1");
	is_int(jg.session_timeout_ms, 10000, "session timeout 10 s");
	is_int(jg.rebalance_timeout_ms, 300000, "rebalance timeout 300 s");
	is_int(jg.group_instance_id.len, -1, "v2: no instance id");
	ok(jg.n_protocols == 2 && kp_str_eq(&jg.protocols[0].name, "range"),
	    "range first");
	is_int(kp_consumer_subscription_decode(jg.protocols[1].metadata.ptr,
	    (size_t)jg.protocols[1].metadata.len, &sv, &sub, &a), 0,
	    "its subscription decodes");
	is_int(sv, 0, "subscription v0");
	ok(sub.n_topics == 1 && kp_str_eq(&sub.topics[0], "t1"), "topic t1");
	free(file);
	kp_arena_release(&a);
}

/* OffsetFetch v2+ may ask for all topics with null; v1 may not. */
static void
test_offset_fetch_null(void)
{
	struct kp_offset_fetch_req r, d;
	struct kp_arena a;
	struct kp_buf b;

	kp_offset_fetch_req_init(&r);
	r.group_id.ptr = "g";
	r.group_id.len = 1;
	r.n_topics = -1;
	kp_buf_init(&b);
	kp_arena_init(&a);
	is_int(kp_offset_fetch_req_encode(&b, 1, &r), -1, "v1 null refused");
	kp_buf_reset(&b);
	is_int(kp_offset_fetch_req_encode(&b, 2, &r), 0, "v2 null ok");
	is_int(kp_offset_fetch_req_decode(b.data, b.len, 2, &d, &a), 0,
	    "decodes");
	is_int(d.n_topics, -1, "null = all topics");
	is_int(kp_offset_fetch_req_decode(b.data, b.len, 1, &d, &a), -1,
	    "null is malformed at v1");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

/* OffsetCommit v2-4 carry RetentionTimeMs; v5 dropped it. */
static void
test_offset_commit_retention(void)
{
	struct kp_offset_commit_req r, d;
	struct kp_arena a;
	struct kp_buf b;
	size_t len4;

	kp_offset_commit_req_init(&r);
	is_int(r.retention_time_ms, -1, "init: retention -1");
	is_int(r.generation_id_or_member_epoch, -1, "init: generation -1");
	kp_buf_init(&b);
	kp_arena_init(&a);
	r.retention_time_ms = 1234;
	kp_offset_commit_req_encode(&b, 4, &r);
	len4 = b.len;
	is_int(kp_offset_commit_req_decode(b.data, b.len, 4, &d, &a), 0, "v4");
	is_int(d.retention_time_ms, 1234, "v4 retention back");
	kp_buf_reset(&b);
	is_int(kp_offset_commit_req_encode(&b, 5, &r), 0,
	    "v5 drops retention (ignorable)");
	is_int(b.len, len4 - 8, "8 bytes shorter");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

/* Heartbeat v0 response is only an error code. */
static void
test_heartbeat(void)
{
	struct kp_heartbeat_resp r;
	struct kp_buf b;

	kp_heartbeat_resp_init(&r);
	r.error_code = 27;
	kp_buf_init(&b);
	kp_heartbeat_resp_encode(&b, 0, &r);
	ok(b.len == 2 && kp_be16(b.data) == 27, "v0: error only");
	kp_buf_reset(&b);
	kp_heartbeat_resp_encode(&b, 1, &r);
	ok(b.len == 6 && kp_be16(b.data + 4) == 27, "v1: throttle, error");
	kp_buf_release(&b);
}

int
main(void)
{
	static const int16_t keys[] = { KP_API_FIND_COORDINATOR, KP_API_JOIN_GROUP,
	    KP_API_SYNC_GROUP, KP_API_HEARTBEAT, KP_API_LEAVE_GROUP,
	    KP_API_OFFSET_COMMIT, KP_API_OFFSET_FETCH, KP_API_LIST_GROUPS,
	    KP_API_DESCRIBE_GROUPS, KP_API_DELETE_GROUPS, KP_API_OFFSET_DELETE };

	test_golden();
	test_offset_fetch_null();
	test_offset_commit_retention();
	test_heartbeat();
	pt_roundtrip(&kp_msg_find_coordinator_req, 0, 2);
	pt_roundtrip(&kp_msg_find_coordinator_resp, 0, 2);
	pt_roundtrip(&kp_msg_join_group_req, 0, 5);
	pt_roundtrip(&kp_msg_join_group_resp, 0, 5);
	pt_roundtrip(&kp_msg_sync_group_req, 0, 3);
	pt_roundtrip(&kp_msg_sync_group_resp, 0, 3);
	pt_roundtrip(&kp_msg_heartbeat_req, 0, 3);
	pt_roundtrip(&kp_msg_heartbeat_resp, 0, 3);
	pt_roundtrip(&kp_msg_leave_group_req, 0, 2);
	pt_roundtrip(&kp_msg_leave_group_resp, 0, 2);
	pt_roundtrip(&kp_msg_offset_commit_req, 2, 7);
	pt_roundtrip(&kp_msg_offset_commit_resp, 2, 7);
	pt_roundtrip(&kp_msg_offset_fetch_req, 1, 5);
	pt_roundtrip(&kp_msg_offset_fetch_resp, 1, 5);
	pt_roundtrip(&kp_msg_list_groups_req, 0, 2);
	pt_roundtrip(&kp_msg_list_groups_resp, 0, 2);
	pt_roundtrip(&kp_msg_describe_groups_req, 0, 4);
	pt_roundtrip(&kp_msg_describe_groups_resp, 0, 4);
	pt_roundtrip(&kp_msg_delete_groups_req, 0, 1);
	pt_roundtrip(&kp_msg_delete_groups_resp, 0, 1);
	pt_roundtrip(&kp_msg_offset_delete_req, 0, 0);
	pt_roundtrip(&kp_msg_offset_delete_resp, 0, 0);
	pt_kafka_python(keys, sizeof(keys) / sizeof(keys[0]));
	return tap_done();
}
