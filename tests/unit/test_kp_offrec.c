/* test_kp_offrec.c -- __consumer_offsets key/value layout and the group partition hash */
#include <stdint.h>
#include <string.h>

#include "kp_offrec.h"
#include "tap.h"

/*
 * Java String.hashCode values (computed over UTF-16 by Python's codec),
 * and the partition Kafka's Utils.abs(hash) % 50 gives.
 */
static const struct {
	const char	*s;
	int32_t		 hash, p50;
} vec[] = {
	{ "my-group", -1906497762, 12 },
	{ "kafka-python-default-group", -243457783, 33 },
	{ "polygenelubricants", INT32_MIN, 0 },
	{ "", 0, 0 },
	{ "gr\xc3\xbc\xc3\x9f" "e", 98768023, 23 },
	{ "\xf0\x9f\x98\x80g", 54959972, 22 },
	{ "console-consumer-12345", 158455506, 6 },
};

static void
test_hash(void)
{
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		is_int(kp_java_hash(vec[i].s), vec[i].hash, "hashCode %zu", i);
		is_int(kp_offsets_partition(vec[i].s, 50), vec[i].p50,
		    "partition of %zu among 50", i);
	}
}

static void
test_layout(void)
{
	/* OffsetCommitKey v1 and OffsetCommitValue v3, written by hand. */
	static const uint8_t key[] = { 0, 1, 0, 1, 'g', 0, 2, 't', '1',
	    0, 0, 0, 7 };
	static const uint8_t val[] = { 0, 3, 0, 0, 0, 0, 0, 0, 0, 42,
	    0, 0, 0, 5, 0, 2, 'm', 'd', 0, 0, 0, 0, 0, 0, 0x03, 0xe8 };
	struct kp_buf k, v;
	struct kp_offrec r;

	kp_buf_init(&k);
	kp_buf_init(&v);
	kp_offrec_key(&k, "g", "t1", 7);
	kp_offrec_value(&v, 42, 5, "md", 1000, -1);
	ok(k.len == sizeof(key) && memcmp(k.data, key, k.len) == 0,
	    "key is OffsetCommitKey v1");
	ok(v.len == sizeof(val) && memcmp(v.data, val, v.len) == 0,
	    "value is OffsetCommitValue v3");
	is_int(kp_offrec_parse(k.data, k.len, v.data, (ssize_t)v.len, &r), 1,
	    "parses");
	ok(strcmp(r.group, "g") == 0 && strcmp(r.topic, "t1") == 0 &&
	    r.partition == 7 && r.offset == 42 && r.leader_epoch == 5 &&
	    strcmp(r.metadata, "md") == 0 && r.commit_ts == 1000 &&
	    r.expire_ts == -1 && !r.tombstone, "fields round-trip");
	kp_buf_reset(&v);
	kp_offrec_value(&v, 9, -1, "", 10, 20);
	is_int(v.data[1], 1, "explicit expiry writes v1");
	is_int(kp_offrec_parse(k.data, k.len, v.data, (ssize_t)v.len, &r), 1,
	    "v1 parses");
	ok(r.offset == 9 && r.expire_ts == 20 && r.commit_ts == 10,
	    "v1 fields");
	is_int(kp_offrec_parse(k.data, k.len, NULL, -1, &r), 1, "tombstone");
	ok(r.tombstone, "is a tombstone");
	/* Group metadata keys are skipped, junk is refused, no crash. */
	static const uint8_t gk[] = { 0, 2, 0, 1, 'g' };

	is_int(kp_offrec_parse(gk, sizeof(gk), NULL, -1, &r), 0,
	    "group metadata skipped");
	for (size_t n = 0; n < k.len; n++)
		if (kp_offrec_parse(k.data, n, v.data, (ssize_t)v.len, &r) != -1)
			ok(0, "truncated key %zu accepted", n);
	for (size_t n = 0; n < v.len; n++)
		if (kp_offrec_parse(k.data, k.len, v.data, (ssize_t)n, &r) != -1)
			ok(0, "truncated value %zu accepted", n);
	ok(1, "every truncation refused");
	kp_buf_release(&k);
	kp_buf_release(&v);
}

int
main(void)
{
	test_hash();
	test_layout();
	return tap_done();
}
