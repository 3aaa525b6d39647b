/* kp_part.c -- Java-compatible murmur2 partitioning and sticky spread */
#include <time.h>
#include <unistd.h>

#include "kp_part.h"

uint32_t
kp_murmur2(const void *data, size_t len)
{
	const uint8_t *p = data;
	const uint32_t m = 0x5bd1e995u;
	const int r = 24;
	/* Java mixes the length in as an int */
	uint32_t h = 0x9747b28cu ^ (uint32_t)len, k;
	size_t i, n4 = len / 4;

	for (i = 0; i < n4; i++, p += 4) {
		k = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len & 3) {
	case 3:
		h ^= (uint32_t)p[2] << 16;
		/* FALLTHROUGH */
	case 2:
		h ^= (uint32_t)p[1] << 8;
		/* FALLTHROUGH */
	case 1:
		h ^= (uint32_t)p[0];
		h *= m;
		break;
	default:
		break;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

int32_t
kp_part_for_key(const void *key, size_t len, int32_t nparts)
{
	if (nparts <= 0)
		return 0;
	return (int32_t)((kp_murmur2(key, len) & 0x7fffffff) %
	    (uint32_t)nparts);
}

/* xorshift64*: plenty for spreading, no shared state between threads. */
static uint32_t
rng_next(struct kp_part_sticky *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (uint32_t)((s->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

void
kp_part_sticky_init(struct kp_part_sticky *s, int32_t nparts, uint64_t seed)
{
	struct timespec ts;

	if (seed == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^
		    (uint64_t)getpid() << 16;
	}
	s->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	s->nparts = nparts > 0 ? nparts : 1;
	s->cur = (int32_t)(rng_next(s) % (uint32_t)s->nparts);
}

int32_t
kp_part_sticky_get(const struct kp_part_sticky *s)
{
	return s->cur;
}

int32_t
kp_part_sticky_done(struct kp_part_sticky *s)
{
	int32_t next;

	if (s->nparts > 1) {
		/* any partition but the current one, uniformly */
		next = (int32_t)(rng_next(s) % (uint32_t)(s->nparts - 1));
		s->cur = next >= s->cur ? next + 1 : next;
	}
	return s->cur;
}

void
kp_part_sticky_resize(struct kp_part_sticky *s, int32_t nparts)
{
	s->nparts = nparts > 0 ? nparts : 1;
	if (s->cur >= s->nparts)
		s->cur = (int32_t)(rng_next(s) % (uint32_t)s->nparts);
}
