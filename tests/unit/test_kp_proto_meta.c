/* test_kp_proto_meta.c -- ApiVersions and Metadata codecs */
#include "kp_proto_meta.h"
#include "proto_test.h"

/* Pitfall 1: a too-new ApiVersions gets error 35 in the v0 body layout. */
static void
test_apiversions_error_v0(void)
{
	static const uint8_t want[] = { 0x00, 0x23, 0, 0, 0, 1,
	    0x00, 0x12, 0x00, 0x00, 0x00, 0x03 };
	struct kp_api_versions_resp r;
	struct kp_api_versions_resp_api_version k = { 18, 0, 3 };
	struct kp_buf b;

	kp_api_versions_resp_init(&r);
	r.error_code = 35;
	r.api_keys = &k;
	r.n_api_keys = 1;
	r.throttle_time_ms = 0;
	kp_buf_init(&b);
	is_int(kp_api_versions_resp_encode(&b, 0, &r), 0, "ApiVersions v0 error encodes");
	is_int(b.len, sizeof(want), "v0 body: error, int32 count, one entry");
	ok(b.len == sizeof(want) && memcmp(b.data, want, b.len) == 0,
	    "v0 error body bytes");
	kp_buf_release(&b);
}

/* Pitfall 2: v3 uses a compact array and tag buffers. */
static void
test_apiversions_v3_bytes(void)
{
	static const uint8_t want[] = { 0x00, 0x00, 0x03,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00,
	    0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00 };
	struct kp_api_versions_resp_api_version k[2] = {
		{ 0, 0, 7 }, { 18, 0, 3 } };
	struct kp_api_versions_resp r, d;
	struct kp_arena a;
	struct kp_buf b;

	kp_api_versions_resp_init(&r);
	r.api_keys = k;
	r.n_api_keys = 2;
	kp_buf_init(&b);
	kp_arena_init(&a);
	is_int(kp_api_versions_resp_encode(&b, 3, &r), 0, "ApiVersions v3 encodes");
	ok(b.len == sizeof(want) && memcmp(b.data, want, b.len) == 0,
	    "v3 body: compact array, entry tags, throttle, tags");
	is_int(kp_api_versions_resp_decode(b.data, b.len, 3, &d, &a), 0,
	    "v3 decodes");
	is_int(d.n_api_keys, 2, "two keys back");
	is_int(d.api_keys[1].max_version, 3, "ApiVersions max 3");
	is_int(d.finalized_features_epoch, -1, "absent tag keeps its default -1");

	/* A tagged field: FinalizedFeaturesEpoch is tag 1. */
	r.finalized_features_epoch = 5;
	kp_buf_reset(&b);
	kp_api_versions_resp_encode(&b, 3, &r);
	ok(b.len == sizeof(want) + 10 && b.data[sizeof(want) - 1] == 1 &&
	    b.data[sizeof(want)] == 1 && b.data[sizeof(want) + 1] == 8,
	    "tagged epoch written as count 1, tag 1, size 8");
	is_int(kp_api_versions_resp_decode(b.data, b.len, 3, &d, &a), 0,
	    "v3 with a tag decodes");
	is_int(d.finalized_features_epoch, 5, "tag value read back");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

static void
test_metadata_topics(void)
{
	struct kp_metadata_req r, d;
	struct kp_arena a;
	struct kp_buf b;

	kp_buf_init(&b);
	kp_arena_init(&a);
	kp_metadata_req_init(&r);
	is_int(r.allow_auto_topic_creation, 1, "init: allow auto-create true");
	r.n_topics = 0;
	kp_metadata_req_encode(&b, 0, &r);
	ok(b.len == 4 && kp_be32(b.data) == 0, "v0 empty topics (= all)");
	r.n_topics = -1;
	kp_buf_reset(&b);
	is_int(kp_metadata_req_encode(&b, 0, &r), -1, "v0 cannot send null");
	kp_buf_reset(&b);
	is_int(kp_metadata_req_encode(&b, 1, &r), 0, "v1 sends null");
	ok(b.len == 4 && kp_be32(b.data) == -1, "v1 null = all topics");
	is_int(kp_metadata_req_decode(b.data, b.len, 1, &d, &a), 0, "v1 null decodes");
	is_int(d.n_topics, -1, "null stays null");
	is_int(d.allow_auto_topic_creation, 1, "v1 has no flag: default true");
	is_int(kp_metadata_req_decode(b.data, b.len, 0, &d, &a), -1,
	    "v0 null is malformed");

	/* AllowAutoTopicCreation is not ignorable: false cannot go as v3. */
	r.allow_auto_topic_creation = false;
	kp_buf_reset(&b);
	is_int(kp_metadata_req_encode(&b, 3, &r), -1,
	    "non-default non-ignorable field refused below its version");
	kp_buf_reset(&b);
	is_int(kp_metadata_req_encode(&b, 4, &r), 0, "v4 carries it");
	ok(b.len == 5 && b.data[4] == 0, "v4: null array, then false");
	is_int(kp_metadata_req_encode(&b, 13, &r), -1, "v13 is not a version");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

/* Pitfall 7: Metadata v3+ throttle time comes first. */
static void
test_metadata_resp_throttle(void)
{
	struct kp_metadata_resp r;
	struct kp_buf b;

	kp_metadata_resp_init(&r);
	r.throttle_time_ms = 0x01020304;
	kp_buf_init(&b);
	kp_metadata_resp_encode(&b, 3, &r);
	ok(b.len > 4 && kp_be32(b.data) == 0x01020304, "v3 throttle first");
	kp_buf_reset(&b);
	kp_metadata_resp_encode(&b, 2, &r);
	ok(b.len > 4 && kp_be32(b.data) == 0, "v2 has none: brokers count first");
	kp_buf_release(&b);
}

static void
test_api_table(void)
{
	const struct kp_proto_api *api = kp_proto_api_find(KP_API_API_VERSIONS);

	ok(api && api->min == 0 && api->max == 3, "ApiVersions advertised 0-3");
	api = kp_proto_api_find(KP_API_INIT_PRODUCER_ID);
	ok(api && api->min == 0 && api->max == 4, "InitProducerId 0-4");
	ok(kp_proto_api_find(KP_API_SASL_HANDSHAKE) == NULL, "no SaslHandshake");
	api = kp_proto_api_find(KP_API_OFFSET_FOR_LEADER_EPOCH);
	ok(api && api->min == 0 && api->max == 4, "OffsetForLeaderEpoch 0-4");
	api = kp_proto_api_find(KP_API_ELECT_LEADERS);
	ok(api && api->min == 0 && api->max == 2, "ElectLeaders 0-2");
	api = kp_proto_api_find(KP_API_END_TXN);
	ok(api && api->min == 0 && api->max == 3, "EndTxn 0-3");
	is_int(kp_proto_napis, 35, "35 APIs (the 7 transaction APIs added)");
}

static void
test_golden(void)
{
	struct kp_api_versions_req av;
	struct kp_metadata_req md;
	struct kp_arena a;
	const uint8_t *body;
	uint8_t *file;
	size_t len;

	kp_arena_init(&a);
	body = pt_golden("proto-rdkafka-apiversions-v3.hex", 18, 3,
	    &kp_msg_api_versions_req, &len, &file);
	is_int(kp_api_versions_req_decode(body, len, 3, &av, &a), 0,
	    "librdkafka ApiVersions v3");
	ok(kp_str_eq(&av.client_software_name, "librdkafka"), "software name");
	ok(kp_str_eq(&av.client_software_version, "2.0.2"), "software version");
	free(file);

	body = pt_golden("proto-rdkafka-metadata-v4.hex", 3, 4,
	    &kp_msg_metadata_req, &len, &file);
	is_int(kp_metadata_req_decode(body, len, 4, &md, &a), 0,
	    "librdkafka Metadata v4");
	is_int(md.n_topics, 0, "brokers-only request: empty topics");
	is_int(md.allow_auto_topic_creation, 0, "no auto-create");
	free(file);

	body = pt_golden("proto-kafka-python-metadata-v0.hex", 3, 0,
	    &kp_msg_metadata_req, &len, &file);
	is_int(kp_metadata_req_decode(body, len, 0, &md, &a), 0,
	    "kafka-python Metadata v0");
	is_int(md.n_topics, 0, "v0 empty = all topics");
	is_int(md.allow_auto_topic_creation, 1, "v0: default true");
	free(file);

	body = pt_golden("proto-kafka-python-metadata-v1.hex", 3, 1,
	    &kp_msg_metadata_req, &len, &file);
	is_int(kp_metadata_req_decode(body, len, 1, &md, &a), 0,
	    "kafka-python Metadata v1");
	is_int(md.n_topics, -1, "v1 null = all topics");
	free(file);
	kp_arena_release(&a);
}

int
main(void)
{
	static const int16_t keys[] = { KP_API_API_VERSIONS, KP_API_METADATA };

	test_golden();
	test_apiversions_error_v0();
	test_apiversions_v3_bytes();
	test_metadata_topics();
	test_metadata_resp_throttle();
	test_api_table();
	pt_roundtrip(&kp_msg_api_versions_req, 0, 3);
	pt_roundtrip(&kp_msg_api_versions_resp, 0, 3);
	pt_roundtrip(&kp_msg_metadata_req, 0, 8);
	pt_roundtrip(&kp_msg_metadata_resp, 0, 8);
	pt_kafka_python(keys, sizeof(keys) / sizeof(keys[0]));
	return tap_done();
}
