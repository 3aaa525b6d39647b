/* kp_crc32.c -- CRC-32 (IEEE): carry-less multiplication folding (AVX-512 or SSE) or slicing-by-8 */
#include <pthread.h>

#include "kp_crc32.h"
#include "kp_crctab.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define POLY	0xedb88320u	/* IEEE 802.3, reflected */
#define POLY_N	0x04c11db7u	/* the same, normal bit order */

static uint32_t table[8][256];
static bool use_clmul, use_avx512;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	use_clmul = kp_crc32_clmul_available();
	use_avx512 = kp_crc32_avx512_available();
	kp_crctab_init(table, POLY);
}

/* The raw register (no pre- or post-inversion) after buf; tables built. */
static uint32_t
sw_raw(uint32_t c, const uint8_t *p, size_t len)
{
	return kp_crctab_raw(table, c, p, len);
}

uint32_t
kp_crc32_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	if (buf == NULL)
		return 0;	/* zlib's crc32(0, NULL, 0) idiom for the start */
	return ~sw_raw(~crc, buf, len);
}

#ifdef HAVE_X86
/*
 * Four 128-bit lanes fold 64 bytes per round, each lane a multiply pair
 * that does not wait on the others, several times what any table can do
 * (constants: kp_crctab.h). The folded 128 bits are then equivalent to
 * everything before them and go through the table as data: 16 lookups
 * per call, not worth a Barrett reduction.
 */
static struct kp_fold_k fold_k[5];	/* T = 128, 256, 384, 512, 1024 */
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void
fold_init(void)
{
	kp_fold_k_init(fold_k, POLY_N);
}

#define CLMUL_TARGET	"pclmul,sse2"

__attribute__((target(CLMUL_TARGET))) static __m128i
fold_k_vec(int t)
{
	return _mm_set_epi64x((long long)fold_k[t].hi, (long long)fold_k[t].lo);
}

/* x moved on by the distance of k, plus the chunk found there */
__attribute__((target(CLMUL_TARGET))) static __m128i
fold(__m128i x, __m128i k, __m128i next)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
	    _mm_clmulepi64_si128(x, k, 0x11)), next);
}

__attribute__((target(CLMUL_TARGET))) uint32_t
kp_crc32_clmul(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	uint8_t tmp[16];

	pthread_once(&crc_once, crc_init);
	if (buf == NULL)
		return 0;
	if (len >= 128) {
		__m128i x0, x1, x2, x3, k;

		pthread_once(&fold_once, fold_init);
		x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p),
		    _mm_cvtsi32_si128((int)c));
		x1 = _mm_loadu_si128((const __m128i *)(p + 16));
		x2 = _mm_loadu_si128((const __m128i *)(p + 32));
		x3 = _mm_loadu_si128((const __m128i *)(p + 48));
		p += 64;
		len -= 64;
		k = fold_k_vec(3);
		for (; len >= 64; p += 64, len -= 64) {
			x0 = fold(x0, k, _mm_loadu_si128((const __m128i *)p));
			x1 = fold(x1, k,
			    _mm_loadu_si128((const __m128i *)(p + 16)));
			x2 = fold(x2, k,
			    _mm_loadu_si128((const __m128i *)(p + 32)));
			x3 = fold(x3, k,
			    _mm_loadu_si128((const __m128i *)(p + 48)));
		}
		/* four lanes, earliest first, down to one */
		x0 = fold(x0, fold_k_vec(2), fold(x1, fold_k_vec(1),
		    fold(x2, fold_k_vec(0), x3)));
		k = fold_k_vec(0);
		for (; len >= 16; p += 16, len -= 16)
			x0 = fold(x0, k, _mm_loadu_si128((const __m128i *)p));
		_mm_storeu_si128((__m128i *)tmp, x0);
		c = sw_raw(0, tmp, sizeof(tmp));
	}
	return ~sw_raw(c, p, len);
}

bool
kp_crc32_clmul_available(void)
{
	return __builtin_cpu_supports("pclmul") &&
	    __builtin_cpu_supports("sse2");
}

#ifdef __x86_64__
/*
 * The same folding four 128-bit lanes to a 512-bit register (VPCLMULQDQ),
 * two registers 128 bytes apart: a quarter of the instructions per byte.
 */
#define AVX512_TARGET	"avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul"

__attribute__((target(AVX512_TARGET))) static __m512i
fold_k512(int t)
{
	return _mm512_broadcast_i32x4(_mm_set_epi64x((long long)fold_k[t].hi,
	    (long long)fold_k[t].lo));
}

__attribute__((target(AVX512_TARGET))) uint32_t
kp_crc32_avx512(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	uint8_t tmp[16];
	__m512i x0, x1, k;
	__m128i r;

	pthread_once(&crc_once, crc_init);
	if (buf == NULL)
		return 0;
	if (len < 256)
		return kp_crc32_clmul(crc, buf, len);
	pthread_once(&fold_once, fold_init);
	x0 = _mm512_xor_si512(_mm512_loadu_si512(p),
	    _mm512_castsi128_si512(_mm_cvtsi32_si128((int)c)));
	x1 = _mm512_loadu_si512(p + 64);
	p += 128;
	len -= 128;
	k = fold_k512(4);
	for (; len >= 128; p += 128, len -= 128) {
		x0 = kp_fold512(x0, k, _mm512_loadu_si512(p));
		x1 = kp_fold512(x1, k, _mm512_loadu_si512(p + 64));
	}
	k = fold_k512(3);
	x0 = kp_fold512(x0, k, x1);
	if (len >= 64) {
		x0 = kp_fold512(x0, k, _mm512_loadu_si512(p));
		p += 64;
		len -= 64;
	}
	/* four 128-bit lanes, earliest first, down to one */
	r = fold(_mm512_extracti32x4_epi32(x0, 0), fold_k_vec(2),
	    fold(_mm512_extracti32x4_epi32(x0, 1), fold_k_vec(1),
	    fold(_mm512_extracti32x4_epi32(x0, 2), fold_k_vec(0),
	    _mm512_extracti32x4_epi32(x0, 3))));
	for (; len >= 16; p += 16, len -= 16)
		r = fold(r, fold_k_vec(0), _mm_loadu_si128((const __m128i *)p));
	_mm_storeu_si128((__m128i *)tmp, r);
	return ~sw_raw(sw_raw(0, tmp, sizeof(tmp)), p, len);
}

bool
kp_crc32_avx512_available(void)
{
	return __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("vpclmulqdq") &&
	    __builtin_cpu_supports("pclmul");
}
#else
uint32_t
kp_crc32_avx512(uint32_t crc, const void *buf, size_t len)
{
	return kp_crc32_clmul(crc, buf, len);
}

bool
kp_crc32_avx512_available(void)
{
	return false;
}
#endif
#else
uint32_t
kp_crc32_clmul(uint32_t crc, const void *buf, size_t len)
{
	return kp_crc32_sw(crc, buf, len);
}

bool
kp_crc32_clmul_available(void)
{
	return false;
}

uint32_t
kp_crc32_avx512(uint32_t crc, const void *buf, size_t len)
{
	return kp_crc32_sw(crc, buf, len);
}

bool
kp_crc32_avx512_available(void)
{
	return false;
}
#endif

uint32_t
kp_crc32(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	if (use_avx512)
		return kp_crc32_avx512(crc, buf, len);
	return use_clmul ? kp_crc32_clmul(crc, buf, len) :
	    kp_crc32_sw(crc, buf, len);
}
