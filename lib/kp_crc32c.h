/* kp_crc32c.h -- CRC-32C (Castagnoli), the checksum of record batch v2 */
#ifndef KP_CRC32C_H
#define KP_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Incremental: start with crc 0 and feed the previous result back in, so
 * kp_crc32c(kp_crc32c(0, a, n), b, m) == kp_crc32c(0, ab, n + m).
 * Uses AVX-512 VPCLMULQDQ folding when the CPU has it, else the SSE4.2
 * crc32 instruction (checked once at run time), else a slicing-by-8
 * table.
 */
uint32_t	kp_crc32c(uint32_t, const void *, size_t);

/* The two paths, exposed so tests can check both on any machine. */
uint32_t	kp_crc32c_sw(uint32_t, const void *, size_t);
/* Only call when kp_crc32c_hw_available(). */
uint32_t	kp_crc32c_hw(uint32_t, const void *, size_t);
bool		kp_crc32c_hw_available(void);
/* Only call when kp_crc32c_avx512_available(). */
uint32_t	kp_crc32c_avx512(uint32_t, const void *, size_t);
bool		kp_crc32c_avx512_available(void);

#endif
