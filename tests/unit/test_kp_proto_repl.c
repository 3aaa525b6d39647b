/* test_kp_proto_repl.c -- ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments codecs */
#include "kp_proto_repl.h"
#include "proto_test.h"

/*
 * No client on this machine sends these APIs (kafka-python 2.0.2,
 * librdkafka 2.0.2 and confluent-kafka 1.7.0 have none of them), so the
 * golden bytes below are worked out by hand from the JSON schemas:
 * ElectLeaders is classic at v0-1 (int16 strings, int32 counts) and
 * flexible at v2; the two reassignment APIs are flexible from v0
 * (uvarint length+1, a tag buffer after every struct).
 */

static const int32_t p01[] = { 0, 1 };
static const int32_t r231[] = { 2, 3, 1 };

#define T(s)	{ (s), (int32_t)sizeof(s) - 1 }

/* The whole encoding, length included (is_mem compares a prefix only). */
#define is_bytes(b, want, msg)						\
	ok((b)->len == sizeof(want) &&					\
	    memcmp((b)->data, (want), sizeof(want)) == 0, msg)

static void
test_elect_req(void)
{
	static const uint8_t v0[] = {
	    0, 0, 0, 1,			/* topic_partitions: 1 */
	    0, 1, 't',			/*   topic */
	    0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1,	/*   partitions [0,1] */
	    0, 0, 0xea, 0x60 };		/* timeout_ms 60000 */
	static const uint8_t v1[] = { 1,	/* election_type unclean */
	    0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1,
	    0, 0, 0xea, 0x60 };
	static const uint8_t v2[] = { 1, 2, 2, 't', 3, 0, 0, 0, 0, 0, 0, 0, 1,
	    0 /* topic tags */, 0, 0, 0xea, 0x60, 0 };
	static const uint8_t v2all[] = { 0, 0 /* null: every partition */,
	    0, 0, 0x27, 0x10, 0 };
	struct kp_elect_leaders_req_topic_partitions tp = {
	    T("t"), (int32_t *)p01, 2 };
	struct kp_elect_leaders_req r, d;
	struct kp_arena a;
	struct kp_buf b;

	kp_arena_init(&a);
	kp_buf_init(&b);
	kp_elect_leaders_req_init(&r);
	is_int(r.timeout_ms, 60000, "default timeout 60000");
	is_int(r.election_type, 0, "default election: preferred");
	r.topic_partitions = &tp;
	r.n_topic_partitions = 1;
	is_int(kp_elect_leaders_req_encode(&b, 0, &r), 0, "v0 encodes");
	is_bytes(&b, v0, "v0 bytes");
	kp_buf_reset(&b);
	r.election_type = 1;
	is_int(kp_elect_leaders_req_encode(&b, 0, &r), -1,
	    "v0 cannot ask for an unclean election");
	kp_buf_reset(&b);
	is_int(kp_elect_leaders_req_encode(&b, 1, &r), 0, "v1 encodes");
	is_bytes(&b, v1, "v1 bytes: election type first");
	kp_buf_reset(&b);
	is_int(kp_elect_leaders_req_encode(&b, 2, &r), 0, "v2 encodes");
	is_bytes(&b, v2, "v2 bytes: compact, tagged");

	is_int(kp_elect_leaders_req_decode(v2, sizeof(v2), 2, &d, &a), 0,
	    "v2 decodes");
	ok(d.election_type == 1 && d.n_topic_partitions == 1 &&
	    kp_str_eq(&d.topic_partitions[0].topic, "t") &&
	    d.topic_partitions[0].n_partitions == 2 &&
	    d.topic_partitions[0].partitions[1] == 1 && d.timeout_ms == 60000,
	    "v2 fields back");
	is_int(kp_elect_leaders_req_decode(v0, sizeof(v0), 0, &d, &a), 0,
	    "v0 decodes");
	is_int(d.election_type, 0, "v0: preferred");
	is_int(kp_elect_leaders_req_decode(v2all, sizeof(v2all), 2, &d, &a), 0,
	    "v2 null topics decodes");
	ok(d.n_topic_partitions == -1 && d.timeout_ms == 10000,
	    "null topic_partitions: every partition");
	is_int(kp_elect_leaders_req_decode(v2, sizeof(v2) - 1, 2, &d, &a), -1,
	    "truncated v2 is malformed");
	is_int(kp_elect_leaders_req_decode(v1, sizeof(v1), 2, &d, &a), -1,
	    "v1 bytes are not v2");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

static void
test_elect_resp(void)
{
	static const uint8_t v0[] = { 0, 0, 0, 0,	/* throttle */
	    0, 0, 0, 1, 0, 1, 't',			/* results: 1, "t" */
	    0, 0, 0, 1, 0, 0, 0, 0, 0, 0x54, 0xff, 0xff };	/* [0, 84, null] */
	/* partition 0 without error, message "x"; 1: 80, null message */
	static const uint8_t v2[] = { 0, 0, 0, 0, 0, 0,	/* throttle, error */
	    2, 2, 't', 3,				/* results: 1, "t", 2 */
	    0, 0, 0, 0, 0, 0, 2, 'x', 0,
	    0, 0, 0, 1, 0, 0x50, 0, 0,
	    0, 0 };
	uint8_t bad[sizeof(v2)];
	struct kp_elect_leaders_resp_partition_result pr[2] = {
	    { 0, 0, { "", 0 } }, { 1, 80, { NULL, -1 } } };
	struct kp_elect_leaders_resp_replica_election_result rr = {
	    T("t"), pr, 2 };
	struct kp_elect_leaders_resp r, d;
	struct kp_arena a;
	struct kp_buf b;

	kp_arena_init(&a);
	kp_buf_init(&b);
	kp_elect_leaders_resp_init(&r);
	r.replica_election_results = &rr;
	r.n_replica_election_results = 1;
	pr[0].error_code = 84;
	pr[0].error_message.ptr = NULL;
	pr[0].error_message.len = -1;
	r.n_replica_election_results = 1;
	rr.n_partition_result = 1;
	is_int(kp_elect_leaders_resp_encode(&b, 0, &r), 0, "v0 encodes");
	is_bytes(&b, v0, "v0 bytes: no top-level error");
	r.error_code = 41;
	kp_buf_reset(&b);
	is_int(kp_elect_leaders_resp_encode(&b, 0, &r), -1,
	    "v0 cannot carry a top-level error (not ignorable)");
	r.error_code = 0;
	pr[0].error_code = 0;
	pr[0].error_message.ptr = "x";
	pr[0].error_message.len = 1;
	rr.n_partition_result = 2;
	kp_buf_reset(&b);
	is_int(kp_elect_leaders_resp_encode(&b, 2, &r), 0, "v2 encodes");
	is_bytes(&b, v2, "v2 bytes");
	is_int(kp_elect_leaders_resp_decode(b.data, b.len, 2, &d, &a), 0,
	    "v2 decodes");
	ok(d.n_replica_election_results == 1 &&
	    d.replica_election_results[0].n_partition_result == 2 &&
	    d.replica_election_results[0].partition_result[1].error_code ==
	    80 && d.replica_election_results[0].partition_result[1]
	    .error_message.len == -1 &&
	    kp_str_eq(&d.replica_election_results[0].partition_result[0]
	    .error_message, "x"), "v2 results back");
	memcpy(bad, v2, sizeof(v2));
	bad[16] = 0x7f;		/* message length past the end */
	is_int(kp_elect_leaders_resp_decode(bad, sizeof(v2), 2, &d, &a), -1,
	    "a string running past the end is malformed");
	is_int(kp_elect_leaders_resp_decode(v2, sizeof(v2) - 1, 2, &d, &a), -1,
	    "a missing tag buffer is malformed");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

static void
test_alter_reassign(void)
{
	static const uint8_t req[] = { 0, 0, 0x75, 0x30,	/* timeout 30000 */
	    2, 2, 't',				/* topics: 1, "t" */
	    3,					/* partitions: 2 */
	    0, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 1, 0,
	    0, 0, 0, 1, 0 /* null: cancel */, 0,
	    0, 0 };
	static const uint8_t resp[] = { 0, 0, 0, 0, 0, 0, 0 /* null msg */,
	    2, 2, 't', 2,
	    0, 0, 0, 1, 0, 0x27, 4, 'b', 'a', 'd', 0,
	    0, 0 };
	struct kp_alter_partition_reassignments_req_reassignable_partition
	    rp[2] = { { 0, (int32_t *)r231, 3 }, { 1, NULL, -1 } };
	struct kp_alter_partition_reassignments_req_reassignable_topic rt = {
	    T("t"), rp, 2 };
	struct kp_alter_partition_reassignments_req r, d;
	struct kp_alter_partition_reassignments_resp_reassignable_partition_response
	    pr = { 1, 39, T("bad") };
	struct kp_alter_partition_reassignments_resp_reassignable_topic_response
	    tr = { T("t"), &pr, 1 };
	struct kp_alter_partition_reassignments_resp s, e;
	struct kp_arena a;
	struct kp_buf b;

	kp_arena_init(&a);
	kp_buf_init(&b);
	kp_alter_partition_reassignments_req_init(&r);
	is_int(r.timeout_ms, 60000, "default timeout 60000");
	r.timeout_ms = 30000;
	r.topics = &rt;
	r.n_topics = 1;
	is_int(kp_alter_partition_reassignments_req_encode(&b, 0, &r), 0,
	    "request encodes");
	is_bytes(&b, req, "request bytes");
	is_int(kp_alter_partition_reassignments_req_decode(req, sizeof(req), 0,
	    &d, &a), 0, "request decodes");
	ok(d.n_topics == 1 && d.topics[0].n_partitions == 2 &&
	    d.topics[0].partitions[0].n_replicas == 3 &&
	    d.topics[0].partitions[0].replicas[0] == 2 &&
	    d.topics[0].partitions[1].n_replicas == -1,
	    "replicas [2,3,1] and a cancel (null) back");
	is_int(kp_alter_partition_reassignments_req_decode(req, sizeof(req), 1,
	    &d, &a), -1, "no v1");

	kp_alter_partition_reassignments_resp_init(&s);
	is_int(s.error_message.len, 0, "message defaults to \"\" (no null default)");
	s.error_message.ptr = NULL;
	s.error_message.len = -1;
	s.responses = &tr;
	s.n_responses = 1;
	kp_buf_reset(&b);
	is_int(kp_alter_partition_reassignments_resp_encode(&b, 0, &s), 0,
	    "response encodes");
	is_bytes(&b, resp, "response bytes");
	is_int(kp_alter_partition_reassignments_resp_decode(resp, sizeof(resp),
	    0, &e, &a), 0, "response decodes");
	ok(e.error_message.len == -1 && e.responses[0].partitions[0]
	    .error_code == 39 && kp_str_eq(&e.responses[0].partitions[0]
	    .error_message, "bad"), "per-partition error back");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

static void
test_list_reassign(void)
{
	static const uint8_t req_all[] = { 0, 0, 0xea, 0x60, 0, 0 };
	static const uint8_t req_t[] = { 0, 0, 0xea, 0x60, 2, 2, 't',
	    2, 0, 0, 0, 0, 0, 0 };
	static const uint8_t resp[] = { 0, 0, 0, 0, 0, 0, 0,
	    2, 2, 't', 2,
	    0, 0, 0, 0,
	    4, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 1,	/* replicas */
	    2, 0, 0, 0, 2,				/* adding */
	    2, 0, 0, 0, 1,				/* removing */
	    0, 0, 0 };
	static const int32_t p0[] = { 0 }, add[] = { 2 }, rem[] = { 1 };
	struct kp_list_partition_reassignments_req_topics
	    lt = { T("t"), (int32_t *)p0, 1 };
	struct kp_list_partition_reassignments_req r, d;
	struct kp_list_partition_reassignments_resp_ongoing_partition_reassignment
	    op = { 0, (int32_t *)r231, 3, (int32_t *)add, 1, (int32_t *)rem,
	    1 };
	struct kp_list_partition_reassignments_resp_ongoing_topic_reassignment
	    ot = { T("t"), &op, 1 };
	struct kp_list_partition_reassignments_resp s, e;
	struct kp_arena a;
	struct kp_buf b;

	kp_arena_init(&a);
	kp_buf_init(&b);
	kp_list_partition_reassignments_req_init(&r);
	is_int(r.n_topics, -1, "default topics: null (everything)");
	is_int(kp_list_partition_reassignments_req_encode(&b, 0, &r), 0,
	    "request for everything encodes");
	is_bytes(&b, req_all, "null topics bytes");
	r.topics = &lt;
	r.n_topics = 1;
	kp_buf_reset(&b);
	kp_list_partition_reassignments_req_encode(&b, 0, &r);
	is_bytes(&b, req_t, "one topic's bytes");
	is_int(kp_list_partition_reassignments_req_decode(req_t, sizeof(req_t),
	    0, &d, &a), 0, "request decodes");
	ok(d.n_topics == 1 && d.topics[0].n_partition_indexes == 1,
	    "topic and partition back");

	kp_list_partition_reassignments_resp_init(&s);
	s.error_message.ptr = NULL;
	s.error_message.len = -1;
	s.topics = &ot;
	s.n_topics = 1;
	kp_buf_reset(&b);
	is_int(kp_list_partition_reassignments_resp_encode(&b, 0, &s), 0,
	    "response encodes");
	is_bytes(&b, resp, "response bytes");
	is_int(kp_list_partition_reassignments_resp_decode(resp, sizeof(resp),
	    0, &e, &a), 0, "response decodes");
	ok(e.n_topics == 1 && e.topics[0].partitions[0].n_replicas == 3 &&
	    e.topics[0].partitions[0].adding_replicas[0] == 2 &&
	    e.topics[0].partitions[0].removing_replicas[0] == 1,
	    "replicas, adding and removing back");
	/* a null where the schema has no null */
	{
		uint8_t bad[sizeof(resp)];

		memcpy(bad, resp, sizeof(resp));
		bad[28] = 0;	/* adding_replicas: null */
		is_int(kp_list_partition_reassignments_resp_decode(bad,
		    sizeof(bad), 0, &e, &a), -1, "null adding_replicas refused");
	}
	kp_buf_release(&b);
	kp_arena_release(&a);
}

int
main(void)
{
	test_elect_req();
	test_elect_resp();
	test_alter_reassign();
	test_list_reassign();
	pt_roundtrip(&kp_msg_elect_leaders_req, 0, 2);
	pt_roundtrip(&kp_msg_elect_leaders_resp, 0, 2);
	pt_roundtrip(&kp_msg_alter_partition_reassignments_req, 0, 0);
	pt_roundtrip(&kp_msg_alter_partition_reassignments_resp, 0, 0);
	pt_roundtrip(&kp_msg_list_partition_reassignments_req, 0, 0);
	pt_roundtrip(&kp_msg_list_partition_reassignments_resp, 0, 0);
	return tap_done();
}
