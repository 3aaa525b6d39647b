/* kp_crctab.c -- table and folding-constant generation for the CRC modules */
#include "kp_crctab.h"

void
kp_crctab_init(uint32_t t[8][256], uint32_t poly)
{
	uint32_t c;
	int i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
		t[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = t[0][i];
		for (k = 1; k < 8; k++) {
			c = t[0][c & 0xff] ^ (c >> 8);
			t[k][i] = c;
		}
	}
}

static uint32_t
reflect32(uint32_t v)
{
	uint32_t r = 0;

	for (int i = 0; i < 32; i++)
		if (v & (1u << i))
			r |= 1u << (31 - i);
	return r;
}

/* x^n mod P in the normal (unreflected) bit order */
static uint32_t
xpow_mod(unsigned n, uint32_t poly)
{
	uint32_t r = 1;

	while (n-- > 0)
		r = (r << 1) ^ ((r & 0x80000000u) ? poly : 0);
	return r;
}

void
kp_fold_k_init(struct kp_fold_k k[5], uint32_t poly)
{
	static const unsigned t[5] = { 128, 256, 384, 512, 1024 };

	for (int i = 0; i < 5; i++) {
		k[i].lo = reflect32(xpow_mod(t[i] + 31, poly));
		k[i].hi = reflect32(xpow_mod(t[i] - 33, poly));
	}
}
