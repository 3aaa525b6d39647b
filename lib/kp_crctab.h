/* kp_crctab.h -- what kp_crc32.c and kp_crc32c.c share: slicing-by-8 tables and folding constants */
#ifndef KP_CRCTAB_H
#define KP_CRCTAB_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Slicing-by-8 tables for a reflected polynomial. */
void	kp_crctab_init(uint32_t[8][256], uint32_t);

/*
 * The raw register (no pre- or post-inversion) after p. Inline so each
 * CRC's loop indexes its own static table directly.
 */
static inline uint32_t
kp_crctab_raw(uint32_t t[8][256], uint32_t c, const uint8_t *p,
    size_t len)
{
	uint32_t lo, hi;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		/* little-endian loads, byte by byte so any host works */
		lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		    t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		    t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		    t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

/*
 * Carry-less folding constants. Reflected bit order: bit i of a 128-bit
 * chunk is the coefficient of x^(127-i), and clmul of two 64-bit values
 * yields x * a(x) * b(x). Moving a chunk T bits further on multiplies its
 * low qword by x^(T+64) and its high qword by x^T; with the constant in
 * the low 32 bits (x^32 * r(x)) that needs r = x^(T+31) and x^(T-33)
 * mod P.
 */
struct kp_fold_k {
	uint64_t	lo, hi;
};

/* k[0..4] for T = 128, 256, 384, 512, 1024; P in normal bit order. */
void	kp_fold_k_init(struct kp_fold_k[5], uint32_t);

#if defined(__x86_64__)
/* x moved on by the distance of k, plus the chunk found there, 4 lanes */
__attribute__((target("avx512f,vpclmulqdq"))) static inline __m512i
kp_fold512(__m512i x, __m512i k, __m512i next)
{
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
	    _mm512_clmulepi64_epi128(x, k, 0x11), next, 0x96);
}
#endif

#endif
