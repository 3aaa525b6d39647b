/* test_kp_crc32.c -- CRC-32 against zlib: check values, every length and alignment, chaining, both paths */
#include <stdlib.h>
#include <zlib.h>

#include "kp_crc32.h"
#include "tap.h"

typedef uint32_t crc_fn(uint32_t, const void *, size_t);

static const struct {
	const char	*name;
	crc_fn		*fn;
} paths[] = {
	{ "table", kp_crc32_sw },
	{ "clmul", kp_crc32_clmul },
	{ "avx512", kp_crc32_avx512 },
	{ "dispatch", kp_crc32 },
};
#define NPATHS	(sizeof(paths) / sizeof(paths[0]))

/* The folding paths only where the CPU has them; the others everywhere. */
static int
usable(size_t i)
{
	if (paths[i].fn == kp_crc32_clmul)
		return kp_crc32_clmul_available();
	if (paths[i].fn == kp_crc32_avx512)
		return kp_crc32_avx512_available();
	return 1;
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

/* The standard check value and a few shapes, fixed rather than zlib's. */
static void
test_vectors(void)
{
	uint8_t buf[32];

	for (size_t i = 0; i < NPATHS; i++) {
		crc_fn *fn = paths[i].fn;
		const char *name = paths[i].name;

		if (!usable(i))
			continue;
		is_int(fn(0, "123456789", 9), 0xcbf43926u, "%s: check value",
		    name);
		is_int(fn(0, "", 0), 0, "%s: empty input", name);
		is_int(fn(0x12345678u, "", 0), 0x12345678u,
		    "%s: empty input keeps the running value", name);
		is_int(fn(0x12345678u, NULL, 0), 0,
		    "%s: NULL gives the start value, as zlib", name);
		memset(buf, 0, sizeof(buf));
		is_int(fn(0, buf, 32), 0x190a55adu, "%s: 32 zero bytes", name);
		memset(buf, 0xff, sizeof(buf));
		is_int(fn(0, buf, 32), 0xff6cab0bu, "%s: 32 0xff bytes", name);
		is_int(fn(fn(0, "1234", 4), "56789", 5), 0xcbf43926u,
		    "%s: check value in two pieces", name);
	}
	ok(1, "clmul path %s, avx512 path %s on this CPU",
	    kp_crc32_clmul_available() ? "available" : "not available",
	    kp_crc32_avx512_available() ? "available" : "not available");
}

/*
 * Every length 0..4096 at every alignment 0..63 agrees with zlib, on
 * every path: the clmul path switches from the table at 128 bytes and
 * folds 64, then 16 bytes a round, the avx512 one starts at 256 and folds
 * 128, 64, then 16, so this crosses each step everywhere.
 */
static void
test_every_length(void)
{
	static uint8_t buf[4096 + 64];
	int bad[NPATHS] = { 0 };
	uint32_t want, seed;

	fill(buf, sizeof(buf), 1);
	for (size_t len = 0; len <= 4096; len++)
		for (size_t off = 0; off < 64; off++) {
			seed = (uint32_t)(len * 64 + off) * 2654435761u;
			want = (uint32_t)crc32_z(seed, buf + off, len);
			for (size_t i = 0; i < NPATHS; i++)
				if (usable(i) &&
				    paths[i].fn(seed, buf + off, len) != want)
					bad[i]++;
		}
	for (size_t i = 0; i < NPATHS; i++)
		if (usable(i))
			is_int(bad[i], 0, "%s: lengths 0..4096 x alignments "
			    "0..63 agree with zlib", paths[i].name);
}

/* Large buffers, odd lengths, all alignments. */
static void
test_large(void)
{
	static const size_t lens[] = { 65535, 65536, 65537, 100003,
	    1 << 20, (1 << 20) + 77, 3000001 };
	size_t max = 3000001 + 64;
	uint8_t *buf = malloc(max);
	int bad[NPATHS] = { 0 };
	uint32_t want;

	if (buf == NULL)
		abort();
	fill(buf, max, 2);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (size_t off = 0; off < 64; off += (l < 3 ? 1 : 13)) {
			want = (uint32_t)crc32_z(0, buf + off, lens[l]);
			for (size_t i = 0; i < NPATHS; i++)
				if (usable(i) &&
				    paths[i].fn(0, buf + off, lens[l]) != want)
					bad[i]++;
		}
	for (size_t i = 0; i < NPATHS; i++)
		if (usable(i))
			is_int(bad[i], 0, "%s: large buffers agree with zlib",
			    paths[i].name);
	free(buf);
}

/* Random pieces chained through the running value give zlib's whole CRC. */
static void
test_chained(void)
{
	static uint8_t buf[200000];
	int bad[NPATHS] = { 0 };
	uint32_t want, c;
	size_t pos, n;

	fill(buf, sizeof(buf), 3);
	srand(4);
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)rand() % sizeof(buf);

		want = (uint32_t)crc32_z(0, buf, len);
		for (size_t i = 0; i < NPATHS; i++) {
			if (!usable(i))
				continue;
			c = paths[i].fn(0, NULL, 0);
			for (pos = 0; pos < len; pos += n) {
				/* mostly small pieces, now and then a big one */
				n = (size_t)rand() % (rand() % 4 == 0 ? 20000 :
				    300);
				if (n > len - pos)
					n = len - pos;
				c = paths[i].fn(c, buf + pos, n);
			}
			if (c != want)
				bad[i]++;
		}
	}
	for (size_t i = 0; i < NPATHS; i++)
		if (usable(i))
			is_int(bad[i], 0, "%s: random pieces chain like zlib",
			    paths[i].name);
}

int
main(void)
{
	test_vectors();
	test_every_length();
	test_large();
	test_chained();
	return tap_done();
}
