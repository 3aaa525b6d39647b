/* resp_array.h -- response arrays sized by a count from the request */
#ifndef KB_RESP_ARRAY_H
#define KB_RESP_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"

/*
 * Room for nreq zeroed elements of size bytes, with *n set to nreq, or
 * 0 where the request said null (-1). Never a zero-size allocation, so
 * NULL always means out of memory.
 */
static inline void *
kb_resp_array(struct kp_arena *a, int32_t nreq, int32_t *n, size_t size)
{
	*n = nreq < 0 ? 0 : nreq;
	return kp_arena_calloc(a, *n ? (size_t)*n : 1, size);
}

#endif
