/* kp_crc32c.c -- CRC-32C with SSE4.2 when present, slicing-by-8 otherwise */
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
