/* test_kp_crc32c.c -- CRC-32C check values, both code paths, incremental use */
#include <stdlib.h>

#include "kp_crc32c.h"
#include "tap.h"

typedef uint32_t crc_fn(uint32_t, const void *, size_t);

/* RFC 3720 appendix B.4 vectors and the standard check value. */
static void
test_vectors(const char *name, crc_fn *fn)
{
	uint8_t buf[32];
	int i;

	is_int(fn(0, "123456789", 9), 0xe3069283u, "%s: check value", name);
	is_int(fn(0, "", 0), 0, "%s: empty input", name);
	memset(buf, 0, sizeof(buf));
	is_int(fn(0, buf, 32), 0x8a9136aau, "%s: 32 zero bytes", name);
	memset(buf, 0xff, sizeof(buf));
	is_int(fn(0, buf, 32), 0x62a8ab43u, "%s: 32 0xff bytes", name);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	is_int(fn(0, buf, 32), 0x46dd794eu, "%s: ascending bytes", name);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	is_int(fn(0, buf, 32), 0x113fdb5cu, "%s: descending bytes", name);
}

/* Every split point and alignment agrees with one pass of the other path. */
static void
test_incremental(void)
{
	uint8_t buf[1031];
	uint32_t whole, a, b, c;
	size_t i, off;
	int bad = 0;

	srand(7);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	whole = kp_crc32c_sw(0, buf, sizeof(buf));
	for (i = 0; i <= sizeof(buf); i++) {
		a = kp_crc32c_sw(kp_crc32c_sw(0, buf, i), buf + i,
		    sizeof(buf) - i);
		b = kp_crc32c(kp_crc32c(0, buf, i), buf + i, sizeof(buf) - i);
		if (a != whole || b != whole)
			bad++;
	}
	is_int(bad, 0, "split at every point gives the same CRC");
	for (off = 0; off < 16; off++) {
		a = kp_crc32c_sw(0, buf + off, sizeof(buf) - off - 3);
		c = kp_crc32c(0, buf + off, sizeof(buf) - off - 3);
		if (kp_crc32c_hw_available()) {
			b = kp_crc32c_hw(0, buf + off, sizeof(buf) - off - 3);
			if (a != b)
				bad++;
		}
		if (a != c)
			bad++;
	}
	is_int(bad, 0, "software, hardware and dispatch agree at all alignments");
}

/*
 * Buffers long enough for the interleaved lanes (768 and 24576 bytes per
 * round in the hardware path): every length around those steps, odd
 * lengths and all eight alignments agree with the table path, also when
 * fed in two pieces.
 */
static void
test_lanes(void)
{
	static uint8_t buf[3 * 24576 * 2 + 64];
	static const size_t lens[] = { 767, 768, 769, 775, 776, 1535, 1536,
	    1537, 2304, 24575, 24576, 24577, 24576 + 768, 24576 + 769,
	    49151, 49152, 49153, 3 * 24576 + 1000, 110933, 110933 - 61 };
	int bad = 0, badhw = 0, bad512 = 0, n = 0;

	srand(11);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t al = 0; al < 8; al++) {
			size_t len = lens[i] < sizeof(buf) - al ? lens[i] :
			    sizeof(buf) - al;
			uint32_t sw = kp_crc32c_sw(0, buf + al, len);
			uint32_t sw2 = kp_crc32c_sw(0x12345678u, buf + al, len);
			size_t cut = len / 3 + al;

			if (kp_crc32c(0, buf + al, len) != sw ||
			    kp_crc32c(0x12345678u, buf + al, len) != sw2 ||
			    kp_crc32c(kp_crc32c(0, buf + al, cut), buf + al +
			    cut, len - cut) != sw)
				bad++;
			if (kp_crc32c_hw_available() &&
			    (kp_crc32c_hw(0, buf + al, len) != sw ||
			    kp_crc32c_hw(0x12345678u, buf + al, len) != sw2))
				badhw++;
			if (kp_crc32c_avx512_available() &&
			    (kp_crc32c_avx512(0, buf + al, len) != sw ||
			    kp_crc32c_avx512(0x12345678u, buf + al, len) != sw2))
				bad512++;
			n++;
		}
	/* every length from 700 to 3000, one alignment each */
	for (size_t len = 700; len <= 3000; len++) {
		size_t al = len & 7;
		uint32_t sw = kp_crc32c_sw(0, buf + al, len);

		if (kp_crc32c(0, buf + al, len) != sw)
			bad++;
		if (kp_crc32c_hw_available() &&
		    kp_crc32c_hw(0, buf + al, len) != sw)
			badhw++;
	}
	/* every length 0..1100 at every alignment: the folding's edges */
	for (size_t len = 0; len <= 1100; len++)
		for (size_t al = 0; al < 8; al++) {
			uint32_t sw = kp_crc32c_sw(0xdeadbeefu, buf + al, len);

			if (kp_crc32c(0xdeadbeefu, buf + al, len) != sw)
				bad++;
			if (kp_crc32c_avx512_available() &&
			    kp_crc32c_avx512(0xdeadbeefu, buf + al, len) != sw)
				bad512++;
		}
	is_int(bad, 0, "dispatch matches the table over %d long buffers", n);
	is_int(badhw, 0, "interleaved sse4.2 lanes match the table");
	if (kp_crc32c_avx512_available())
		is_int(bad512, 0, "avx-512 folding matches the table");
	else
		ok(kp_crc32c(0, buf, 1000) == kp_crc32c_sw(0, buf, 1000),
		    "no avx-512: dispatch still right");
	memset(buf, 0, sizeof(buf));
	/* known value: 32 zero bytes, then zeros long enough for the lanes */
	is_int(kp_crc32c(0, buf, 32), 0x8a9136aau, "zeros still check");
	is_int(kp_crc32c(0, buf, 24576), kp_crc32c_sw(0, buf, 24576),
	    "24576 zero bytes: lanes of zeros join right");
}

int
main(void)
{
	test_vectors("software", kp_crc32c_sw);
	test_vectors("dispatch", kp_crc32c);
	if (kp_crc32c_hw_available())
		test_vectors("sse4.2", kp_crc32c_hw);
	if (kp_crc32c_avx512_available())
		test_vectors("avx-512", kp_crc32c_avx512);
	else
		ok(kp_crc32c(0, "a", 1) == kp_crc32c_sw(0, "a", 1),
		    "no sse4.2: dispatch uses the table");
	test_incremental();
	test_lanes();
	return tap_done();
}
