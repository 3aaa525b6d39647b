/* kp_part.h -- Java-compatible key partitioning and sticky null-key spread */
#ifndef KP_PART_H
#define KP_PART_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's Utils.murmur2 (seed 0x9747b28c), as an unsigned 32-bit value. */
uint32_t	kp_murmur2(const void *, size_t);
/* (murmur2 & 0x7fffffff) % nparts, as the Java client; nparts > 0. */
int32_t		kp_part_for_key(const void *, size_t, int32_t);

/*
 * Null-key spread as KIP-480: every keyless record goes to the current
 * partition until the caller says its batch for that partition is done;
 * then a different partition is picked at random.
 */
struct kp_part_sticky {
	int32_t		nparts;
	int32_t		cur;
	uint64_t	rng;
};

/* nparts > 0; seed 0 picks one from the clock and pid. */
void		kp_part_sticky_init(struct kp_part_sticky *, int32_t, uint64_t);
int32_t		kp_part_sticky_get(const struct kp_part_sticky *);
/* The batch for the current partition went out: move to another one. */
int32_t		kp_part_sticky_done(struct kp_part_sticky *);
/* The partition count changed (metadata refresh). */
void		kp_part_sticky_resize(struct kp_part_sticky *, int32_t);

#endif
