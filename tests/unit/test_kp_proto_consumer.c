/* test_kp_proto_consumer.c -- ConsumerProtocol subscription and assignment */
#include "kp_proto_consumer.h"
#include "proto_test.h"

/* kafka-python's own encodings (see proto-capture.py). */
static void
test_kafka_python(void)
{
	struct kp_consumer_subscription s;
	struct kp_consumer_assignment as;
	struct kp_arena a;
	struct kp_buf b;
	uint8_t *buf;
	size_t len, cut;
	int16_t v = -1;
	int bad = 0;

	kp_arena_init(&a);
	kp_buf_init(&b);
	buf = pt_load_hex("proto-kafka-python-subscription-v0.hex", &len);
	is_int(kp_consumer_subscription_decode(buf, len, &v, &s, &a), 0,
	    "kafka-python subscription decodes");
	is_int(v, 0, "version 0");
	is_int(s.n_topics, 2, "two topics");
	ok(s.n_topics == 2 && kp_str_eq(&s.topics[0], "t1") &&
	    kp_str_eq(&s.topics[1], "topic-2"), "t1, topic-2");
	ok(s.user_data.len == 2 && memcmp(s.user_data.ptr, "ud", 2) == 0,
	    "user data");
	is_int(s.n_owned_partitions, 0, "v0: no owned partitions");
	is_int(s.generation_id, -1, "v0: generation -1");
	is_int(s.rack_id.len, -1, "v0: rack null");
	kp_consumer_subscription_encode(&b, 0, &s);
	ok(b.len == len && memcmp(b.data, buf, len) == 0, "re-encodes");
	for (cut = 0; cut < len; cut++)
		if (kp_consumer_subscription_decode(buf, cut, NULL, &s, &a) != -1)
			bad++;
	is_int(bad, 0, "truncations decode to -1");
	free(buf);

	buf = pt_load_hex("proto-kafka-python-assignment-v0.hex", &len);
	is_int(kp_consumer_assignment_decode(buf, len, &v, &as, &a), 0,
	    "kafka-python assignment decodes");
	is_int(as.n_assigned_partitions, 2, "two topics");
	ok(kp_str_eq(&as.assigned_partitions[0].topic, "t1") &&
	    as.assigned_partitions[0].n_partitions == 2 &&
	    as.assigned_partitions[0].partitions[1] == 2, "t1: 0, 2");
	ok(kp_str_eq(&as.assigned_partitions[1].topic, "topic-2") &&
	    as.assigned_partitions[1].n_partitions == 1 &&
	    as.assigned_partitions[1].partitions[0] == 1, "topic-2: 1");
	is_int(as.user_data.len, 0, "empty user data");
	kp_buf_reset(&b);
	kp_consumer_assignment_encode(&b, 0, &as);
	ok(b.len == len && memcmp(b.data, buf, len) == 0, "re-encodes");
	for (bad = 0, cut = 0; cut < len; cut++)
		if (kp_consumer_assignment_decode(buf, cut, NULL, &as, &a) != -1)
			bad++;
	is_int(bad, 0, "truncations decode to -1");
	free(buf);
	kp_buf_release(&b);
	kp_arena_release(&a);
}

/* A newer member's v9 subscription reads as v3; what follows is skipped. */
static void
test_future_version(void)
{
	struct kp_consumer_subscription s, d;
	struct kp_str topic = { "t", 1 };
	struct kp_arena a;
	struct kp_buf b;
	int16_t v;

	kp_consumer_subscription_init(&s);
	s.topics = &topic;
	s.n_topics = 1;
	s.generation_id = 7;
	kp_buf_init(&b);
	kp_arena_init(&a);
	kp_consumer_subscription_encode(&b, 3, &s);
	b.data[1] = 9;
	kp_buf_put(&b, "future", 6);
	is_int(kp_consumer_subscription_decode(b.data, b.len, &v, &d, &a), 0,
	    "v9 decodes as v3");
	is_int(v, 9, "reports the version sent");
	is_int(d.generation_id, 7, "v3 fields read");
	b.data[0] = 0x80;
	is_int(kp_consumer_subscription_decode(b.data, b.len, &v, &d, &a), -1,
	    "negative version is malformed");
	kp_buf_reset(&b);
	is_int(kp_consumer_subscription_encode(&b, 4, &s), -1, "cannot send v4");
	kp_buf_release(&b);
	kp_arena_release(&a);
}

int
main(void)
{
	test_kafka_python();
	test_future_version();
	pt_roundtrip(&kp_msg_consumer_subscription, 0, 3);
	pt_roundtrip(&kp_msg_consumer_assignment, 0, 3);
	return tap_done();
}
