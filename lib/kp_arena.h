/* kp_arena.h -- bump allocator for decoded messages, freed all at once */
#ifndef KP_ARENA_H
#define KP_ARENA_H

#include <stddef.h>

/*
 * Decoders put every array of a message here, so one kp_arena_reset()
 * frees a whole decoded request. Memory comes in chunks; an allocation
 * bigger than a chunk gets a chunk of its own.
 */
struct kp_arena_chunk;

struct kp_arena {
	struct kp_arena_chunk	*head;
	size_t			 total;		/* bytes handed out so far */
};

void	 kp_arena_init(struct kp_arena *);
void	 kp_arena_release(struct kp_arena *);
/* Free everything but keep the first chunk for reuse. */
void	 kp_arena_reset(struct kp_arena *);
/*
 * n * size zeroed bytes aligned for any type, or NULL with errno ENOMEM
 * (also on overflow). Borrowed: valid until reset or release.
 */
void	*kp_arena_calloc(struct kp_arena *, size_t n, size_t size);

#endif
