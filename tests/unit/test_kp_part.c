/* test_kp_part.c -- murmur2 against kafka-python, key partitions, sticky spread */
#include <stdlib.h>

#include "kp_part.h"
#include "tap.h"

/* protocol.md §8, verified on the wire against kafka-python and kcat */
static const struct {
	const char	*key;
	uint32_t	 hash;
	int32_t		 p3, p12;
} vec[] = {
	{ "a", 0xa2d0b27c, 1, 4 },
	{ "foo", 0x23a256d0, 2, 8 },
	{ "user-101", 0xfbdbe18e, 1, 10 },
	{ "user-102", 0x9bfe28c7, 1, 7 },
	{ "kafka", 0xd067cf64, 1, 4 },
	{ "key1", 0x01b38bc4, 2, 8 },
	{ "key2", 0x63d2aceb, 2, 11 },
	{ "key3", 0x97f32345, 1, 1 },
	{ "hello world", 0x48d0c363, 1, 7 },
	{ "", 0x106e08d9, 0, 9 },
};

static void
test_table(void)
{
	size_t i, n;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = strlen(vec[i].key);
		is_int(kp_murmur2(vec[i].key, n), vec[i].hash,
		    "murmur2(\"%s\")", vec[i].key);
		is_int(kp_part_for_key(vec[i].key, n, 3), vec[i].p3,
		    "\"%s\" over 3 partitions", vec[i].key);
		is_int(kp_part_for_key(vec[i].key, n, 12), vec[i].p12,
		    "\"%s\" over 12 partitions", vec[i].key);
	}
}

static int
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	if (strcmp(s, "-") == 0)
		return 0;
	while (s[0] && s[1] && n < max) {
		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return *s ? -1 : (int)n;
}

/* Every line of murmur2.txt, written by gen_murmur2.py with kafka-python. */
static void
test_file(void)
{
	char path[1024], hex[512];
	const char *top = getenv("KP_TOP");
	uint8_t key[256];
	unsigned hash;
	int p3, p12, p100, n, lines = 0, bad = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/murmur2.txt",
	    top ? top : ".");
	f = fopen(path, "r");
	ok(f != NULL, "open %s", path);
	if (f == NULL)
		return;
	while (fscanf(f, "%511s %x %d %d %d", hex, &hash, &p3, &p12,
	    &p100) == 5) {
		lines++;
		if ((n = unhex(hex, key, sizeof(key))) < 0) {
			bad++;
			continue;
		}
		if (kp_murmur2(key, (size_t)n) != hash ||
		    kp_part_for_key(key, (size_t)n, 3) != p3 ||
		    kp_part_for_key(key, (size_t)n, 12) != p12 ||
		    kp_part_for_key(key, (size_t)n, 100) != p100) {
			printf("# mismatch for key %s\n", hex);
			bad++;
		}
	}
	fclose(f);
	ok(lines >= 100, "vector file has %d keys", lines);
	is_int(bad, 0, "all kafka-python murmur2 vectors match");
}

static void
test_sticky(void)
{
	struct kp_part_sticky s;
	int32_t p, q, seen[7] = { 0 };
	int i, stay = 1, moved = 1, range = 1, all = 1;

	kp_part_sticky_init(&s, 7, 12345);
	for (i = 0; i < 1000; i++) {
		p = kp_part_sticky_get(&s);
		if (kp_part_sticky_get(&s) != p)
			stay = 0;
		q = kp_part_sticky_done(&s);
		if (q == p || q != kp_part_sticky_get(&s))
			moved = 0;
		if (q < 0 || q >= 7)
			range = 0;
		else
			seen[q]++;
	}
	for (i = 0; i < 7; i++)
		if (seen[i] < 50)
			all = 0;
	ok(stay, "sticky stays on one partition until the batch is done");
	ok(moved, "a finished batch moves to a different partition");
	ok(range, "partitions stay in range");
	ok(all, "every partition gets batches");

	kp_part_sticky_init(&s, 1, 1);
	is_int(kp_part_sticky_done(&s), 0, "one partition: always 0");
	kp_part_sticky_init(&s, 50, 99);
	kp_part_sticky_resize(&s, 2);
	ok(kp_part_sticky_get(&s) < 2, "resize keeps the partition in range");
	p = kp_part_sticky_get(&s);
	is_int(kp_part_sticky_done(&s), 1 - p, "two partitions alternate");
}

int
main(void)
{
	test_table();
	test_file();
	test_sticky();
	return tap_done();
}
