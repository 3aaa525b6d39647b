/* kp_crc32c.c -- CRC-32C: AVX-512 carry-less folding, SSE4.2 (three interleaved lanes), or slicing-by-8 */
#include <pthread.h>
#include <string.h>

#include "kp_crc32c.h"
#include "kp_crctab.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define POLY	0x82f63b78u	/* Castagnoli, reflected */

static uint32_t table[8][256];
static bool use_hw, use_avx512;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	use_hw = kp_crc32c_hw_available();
	use_avx512 = kp_crc32c_avx512_available();
	kp_crctab_init(table, POLY);
}

uint32_t
kp_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return ~kp_crctab_raw(table, ~crc, buf, len);
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

#ifdef __x86_64__
/*
 * Carry-less multiplication folds 64 bytes per 512-bit register and
 * instruction pair, several times what crc32q can do (constants:
 * kp_crctab.h). The folded 128 bits are then equivalent to everything
 * before them and go through crc32q as data.
 */
static struct kp_fold_k fold_k[5];	/* T = 128, 256, 384, 512, 1024 */
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void
fold_init(void)
{
	kp_fold_k_init(fold_k, 0x1edc6f41u);	/* Castagnoli, normal order */
}

#define AVX512_TARGET \
	"avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2"

__attribute__((target(AVX512_TARGET))) static __m128i
fold128(__m128i x, int t)
{
	__m128i k = _mm_set_epi64x((long long)fold_k[t].hi,
	    (long long)fold_k[t].lo);

	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
	    _mm_clmulepi64_si128(x, k, 0x11));
}

__attribute__((target(AVX512_TARGET))) uint32_t
kp_crc32c_avx512(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	uint64_t c64, w;

	if (len >= 256) {
		__m512i x0, x1, k;
		__m128i r;

		pthread_once(&fold_once, fold_init);
		x0 = _mm512_xor_si512(_mm512_loadu_si512(p),
		    _mm512_castsi128_si512(_mm_cvtsi32_si128((int)c)));
		x1 = _mm512_loadu_si512(p + 64);
		p += 128;
		len -= 128;
		/* two chains, 128 bytes apart */
		k = _mm512_broadcast_i32x4(_mm_set_epi64x(
		    (long long)fold_k[4].hi, (long long)fold_k[4].lo));
		for (; len >= 128; p += 128, len -= 128) {
			x0 = kp_fold512(x0, k, _mm512_loadu_si512(p));
			x1 = kp_fold512(x1, k, _mm512_loadu_si512(p + 64));
		}
		k = _mm512_broadcast_i32x4(_mm_set_epi64x(
		    (long long)fold_k[3].hi, (long long)fold_k[3].lo));
		x0 = kp_fold512(x0, k, x1);
		if (len >= 64) {
			x0 = kp_fold512(x0, k, _mm512_loadu_si512(p));
			p += 64;
			len -= 64;
		}
		/* four 128-bit lanes, earliest first, down to one */
		r = _mm_xor_si128(fold128(_mm512_extracti32x4_epi32(x0, 0), 2),
		    fold128(_mm512_extracti32x4_epi32(x0, 1), 1));
		r = _mm_xor_si128(r, fold128(_mm512_extracti32x4_epi32(x0, 2),
		    0));
		r = _mm_xor_si128(r, _mm512_extracti32x4_epi32(x0, 3));
		c64 = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(r));
		c = (uint32_t)_mm_crc32_u64(c64,
		    (uint64_t)_mm_extract_epi64(r, 1));
	}
	c64 = c;
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		c64 = _mm_crc32_u64(c64, w);
	}
	c = (uint32_t)c64;
	for (; len > 0; len--)
		c = _mm_crc32_u8(c, *p++);
	return ~c;
}

bool
kp_crc32c_avx512_available(void)
{
	return __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("vpclmulqdq") &&
	    __builtin_cpu_supports("pclmul") &&
	    __builtin_cpu_supports("sse4.2");
}
#else
uint32_t
kp_crc32c_avx512(uint32_t crc, const void *buf, size_t len)
{
	return kp_crc32c_hw(crc, buf, len);
}

bool
kp_crc32c_avx512_available(void)
{
	return false;
}
#endif

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

uint32_t
kp_crc32c_avx512(uint32_t crc, const void *buf, size_t len)
{
	return kp_crc32c_sw(crc, buf, len);
}

bool
kp_crc32c_avx512_available(void)
{
	return false;
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
	if (use_avx512)
		return kp_crc32c_avx512(crc, buf, len);
	return use_hw ? kp_crc32c_hw(crc, buf, len) : kp_crc32c_sw(crc, buf, len);
}
