/* test_kp_proto_admin.c -- topic, config, record and producer-id admin codecs */
#include "kp_proto_admin.h"
#include "proto_test.h"

/* InitProducerId turns flexible at v2: compact strings and tag buffers. */
static void
test_init_producer_id(void)
{
	static const uint8_t req_v1[] = { 0xff, 0xff, 0, 0, 0xea, 0x60 };
	static const uint8_t req_v2[] = { 0x00, 0, 0, 0xea, 0x60, 0x00 };
	static const uint8_t req_v3[] = { 0x03, 't', 'x', 0, 0, 0xea, 0x60,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t resp_v4[] = { 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0x00 };
	struct kp_init_producer_id_req r, d;
	struct kp_init_producer_id_resp s, e;
	struct kp_arena a;
	struct kp_buf b;

	kp_buf_init(&b);
	kp_arena_init(&a);
	kp_init_producer_id_req_init(&r);
	is_int(r.transactional_id.len, 0, "init: transactional id \"\" (no null default)");
	is_int(r.producer_id, -1, "init: producer id -1");
	r.transactional_id.ptr = NULL;
	r.transactional_id.len = -1;
	r.transaction_timeout_ms = 60000;
	kp_init_producer_id_req_encode(&b, 1, &r);
	ok(b.len == sizeof(req_v1) && memcmp(b.data, req_v1, b.len) == 0,
	    "v1: int16 null string, timeout");
	kp_buf_reset(&b);
	kp_init_producer_id_req_encode(&b, 2, &r);
	ok(b.len == sizeof(req_v2) && memcmp(b.data, req_v2, b.len) == 0,
	    "v2: compact null, timeout, empty tags");
	r.transactional_id.ptr = "tx";
	r.transactional_id.len = 2;
	kp_buf_reset(&b);
	kp_init_producer_id_req_encode(&b, 3, &r);
	ok(b.len == sizeof(req_v3) && memcmp(b.data, req_v3, b.len) == 0,
	    "v3: compact \"tx\", timeout, pid -1, epoch -1, tags");
	is_int(kp_init_producer_id_req_decode(b.data, b.len, 3, &d, &a), 0,
	    "v3 decodes");
	ok(kp_str_eq(&d.transactional_id, "tx"), "transactional id back");
	is_int(kp_init_producer_id_req_decode(req_v1, sizeof(req_v1), 2, &d, &a),
	    -1, "v1 bytes are not a v2 request");
	is_int(kp_init_producer_id_req_decode(req_v2, sizeof(req_v2), 2, &d, &a),
	    0, "v2 bytes decode");
	is_int(d.transactional_id.len, -1, "null transactional id");
	is_int(d.producer_id, -1, "v2 has no producer id: -1");

	kp_init_producer_id_resp_init(&s);
	s.producer_id = 0x1001;
	s.producer_epoch = 0;
	kp_buf_reset(&b);
	kp_init_producer_id_resp_encode(&b, 4, &s);
	ok(b.len == sizeof(resp_v4) && memcmp(b.data, resp_v4, b.len) == 0,
	    "v4 response: throttle, error, pid, epoch, tags");
	is_int(kp_init_producer_id_resp_decode(b.data, b.len, 4, &e, &a), 0,
	    "v4 response decodes");
	is_int(e.producer_id, 0x1001, "pid back");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

/* DescribeConfigs: v0 has IsDefault, v1+ ConfigSource and synonyms. */
static void
test_describe_configs(void)
{
	struct kp_describe_configs_resp r, d;
	struct kp_describe_configs_resp_result res;
	struct kp_describe_configs_resp_resource_result c;
	struct kp_describe_configs_resp_synonym syn = {
		{ "retention.ms", 12 }, { "1000", 4 }, 1 };
	struct kp_arena a;
	struct kp_buf b;

	kp_describe_configs_resp_init(&r);
	kp_describe_configs_resp_result_init(&res);
	kp_describe_configs_resp_resource_result_init(&c);
	c.name.ptr = "retention.ms";
	c.name.len = 12;
	c.value.ptr = "1000";
	c.value.len = 4;
	c.config_source = 1;
	c.synonyms = &syn;
	c.n_synonyms = 1;
	res.resource_type = 2;
	res.resource_name.ptr = "t1";
	res.resource_name.len = 2;
	res.configs = &c;
	res.n_configs = 1;
	r.results = &res;
	r.n_results = 1;
	kp_buf_init(&b);
	kp_arena_init(&a);
	is_int(kp_describe_configs_resp_encode(&b, 1, &r), 0, "v1 encodes");
	is_int(kp_describe_configs_resp_decode(b.data, b.len, 1, &d, &a), 0,
	    "v1 decodes");
	is_int(d.results[0].configs[0].config_source, 1, "config source");
	ok(d.results[0].configs[0].n_synonyms == 1 &&
	    kp_str_eq(&d.results[0].configs[0].synonyms[0].value, "1000"),
	    "synonym back");
	kp_buf_reset(&b);
	c.is_default = true;
	is_int(kp_describe_configs_resp_encode(&b, 0, &r), 0,
	    "v0 drops source and synonyms (ignorable)");
	is_int(kp_describe_configs_resp_decode(b.data, b.len, 0, &d, &a), 0,
	    "v0 decodes");
	is_int(d.results[0].configs[0].is_default, 1, "v0 IsDefault");
	is_int(d.results[0].configs[0].config_source, -1, "v0: source -1");
	is_int(d.results[0].configs[0].n_synonyms, 0, "v0: no synonyms");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

int
main(void)
{
	static const int16_t keys[] = { KP_API_CREATE_TOPICS, KP_API_DELETE_TOPICS,
	    KP_API_CREATE_PARTITIONS, KP_API_DESCRIBE_CONFIGS,
	    KP_API_ALTER_CONFIGS, KP_API_INCREMENTAL_ALTER_CONFIGS,
	    KP_API_DELETE_RECORDS, KP_API_INIT_PRODUCER_ID };

	test_init_producer_id();
	test_describe_configs();
	pt_roundtrip(&kp_msg_create_topics_req, 0, 4);
	pt_roundtrip(&kp_msg_create_topics_resp, 0, 4);
	pt_roundtrip(&kp_msg_delete_topics_req, 0, 3);
	pt_roundtrip(&kp_msg_delete_topics_resp, 0, 3);
	pt_roundtrip(&kp_msg_create_partitions_req, 0, 1);
	pt_roundtrip(&kp_msg_create_partitions_resp, 0, 1);
	pt_roundtrip(&kp_msg_describe_configs_req, 0, 2);
	pt_roundtrip(&kp_msg_describe_configs_resp, 0, 2);
	pt_roundtrip(&kp_msg_alter_configs_req, 0, 1);
	pt_roundtrip(&kp_msg_alter_configs_resp, 0, 1);
	pt_roundtrip(&kp_msg_incremental_alter_configs_req, 0, 1);
	pt_roundtrip(&kp_msg_incremental_alter_configs_resp, 0, 1);
	pt_roundtrip(&kp_msg_delete_records_req, 0, 1);
	pt_roundtrip(&kp_msg_delete_records_resp, 0, 1);
	pt_roundtrip(&kp_msg_init_producer_id_req, 0, 4);
	pt_roundtrip(&kp_msg_init_producer_id_resp, 0, 4);
	pt_kafka_python(keys, sizeof(keys) / sizeof(keys[0]));
	return tap_done();
}
