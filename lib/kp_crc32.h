/* kp_crc32.h -- CRC-32 (IEEE 802.3, zlib's crc32), the gzip trailer checksum */
#ifndef KP_CRC32_H
#define KP_CRC32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Same value and chaining as zlib's crc32(): start with crc 0 and feed the
 * previous result back in, so kp_crc32(kp_crc32(0, a, n), b, m) ==
 * kp_crc32(0, ab, n + m). A NULL buffer returns 0, as zlib's does, so
 * kp_crc32(0, NULL, 0) is the starting value. Uses carry-less
 * multiplication folding when the CPU has it (checked once at run time):
 * 512 bits wide with AVX-512 VPCLMULQDQ, else 128 with PCLMULQDQ; else a
 * slicing-by-8 table.
 */
uint32_t	kp_crc32(uint32_t, const void *, size_t);

/* The paths one by one, so tests can check each on any machine. */
uint32_t	kp_crc32_sw(uint32_t, const void *, size_t);
/* Only call when kp_crc32_clmul_available(). */
uint32_t	kp_crc32_clmul(uint32_t, const void *, size_t);
bool		kp_crc32_clmul_available(void);
/* Only call when kp_crc32_avx512_available(). */
uint32_t	kp_crc32_avx512(uint32_t, const void *, size_t);
bool		kp_crc32_avx512_available(void);

#endif
