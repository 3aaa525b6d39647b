/* kp_crc32c.c -- CRC-32C with SSE4.2 (three interleaved lanes) when present, slicing-by-8 otherwise */
#include <pthread.h>
#include <string.h>

#include "kp_crc32c.h"

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define HAVE_X86 1
#endif

#define POLY	0x82f63b78u	/* Castagnoli, reflected */

static uint32_t table[8][256];
static bool use_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	uint32_t c;
	int i, j, k;

	use_hw = kp_crc32c_hw_available();

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = table[0][i];
		for (k = 1; k < 8; k++) {
			c = table[0][c & 0xff] ^ (c >> 8);
			table[k][i] = c;
		}
	}
}

uint32_t
kp_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc, lo, hi;

	pthread_once(&crc_once, crc_init);
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		/* little-endian loads, byte by byte so any host works */
		lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		    table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		    table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		    table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

#ifdef HAVE_X86
#ifdef __x86_64__
/*
 * crc32q has a latency of three cycles but issues one per cycle, so one
 * dependent chain leaves two thirds of the unit idle. Large buffers run
 * three chains over three equal lanes and join them: appending n zero
 * bytes to a CRC register is a linear map, tabled per lane length, so
 * crc(a b c) = shift(shift(crc(a)) ^ crc(b)) ^ crc(c) on raw registers.
 */
#define LONG_LANE	8192	/* bytes per lane, big buffers */
#define SHORT_LANE	256	/* bytes per lane, the tail */

static uint32_t shift_long[4][256], shift_short[4][256];

/* The register after running `lanelen` zero bytes through it. */
__attribute__((target("sse4.2"))) static uint32_t
zeros_hw(uint32_t c, size_t lanelen)
{
	uint64_t c64 = c;

	for (size_t i = 0; i < lanelen; i += 8)
		c64 = _mm_crc32_u64(c64, 0);
	return (uint32_t)c64;
}

/* Table the map bytewise, built from the images of the 32 unit vectors. */
static void
shift_table(uint32_t t[4][256], size_t lanelen)
{
	uint32_t unit[32];

	for (int b = 0; b < 32; b++)
		unit[b] = zeros_hw(1u << b, lanelen);
	for (int k = 0; k < 4; k++)
		for (int n = 0; n < 256; n++) {
			uint32_t v = 0;

			for (int b = 0; b < 8; b++)
				if (n & (1 << b))
					v ^= unit[8 * k + b];
			t[k][n] = v;
		}
}

static uint32_t
shift(uint32_t t[4][256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^
	    t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

static void
shift_init(void)
{
	shift_table(shift_long, LONG_LANE);
	shift_table(shift_short, SHORT_LANE);
}

/* Three lanes of lanelen bytes from p: the raw register after them. */
__attribute__((target("sse4.2"))) static uint64_t
three_lanes(uint64_t c0, const uint8_t *p, size_t lanelen,
    uint32_t t[4][256])
{
	const uint8_t *end = p + lanelen;
	uint64_t c1 = 0, c2 = 0, w0, w1, w2;

	do {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + lanelen, 8);
		memcpy(&w2, p + 2 * lanelen, 8);
		c0 = _mm_crc32_u64(c0, w0);
		c1 = _mm_crc32_u64(c1, w1);
		c2 = _mm_crc32_u64(c2, w2);
		p += 8;
	} while (p < end);
	c0 = shift(t, (uint32_t)c0) ^ (uint32_t)c1;
	return shift(t, (uint32_t)c0) ^ (uint32_t)c2;
}
#endif

__attribute__((target("sse4.2"))) uint32_t
kp_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

#ifdef __x86_64__
	uint64_t c64, w;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8(c, *p++);
		len--;
	}
	c64 = c;
	if (len >= 3 * SHORT_LANE) {
		pthread_once(&shift_once, shift_init);
		for (; len >= 3 * LONG_LANE; len -= 3 * LONG_LANE) {
			c64 = three_lanes(c64, p, LONG_LANE, shift_long);
			p += 3 * LONG_LANE;
		}
		for (; len >= 3 * SHORT_LANE; len -= 3 * SHORT_LANE) {
			c64 = three_lanes(c64, p, SHORT_LANE, shift_short);
			p += 3 * SHORT_LANE;
		}
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		c64 = _mm_crc32_u64(c64, w);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
#endif
	while (len-- > 0)
		c = _mm_crc32_u8(c, *p++);
	return ~c;
}

bool
kp_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t
kp_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return kp_crc32c_sw(crc, buf, len);
}

bool
kp_crc32c_hw_available(void)
{
	return false;
}
#endif

uint32_t
kp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return use_hw ? kp_crc32c_hw(crc, buf, len) : kp_crc32c_sw(crc, buf, len);
}
