/* kp_arena.c -- bump allocator for decoded messages, freed all at once */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"

#define CHUNK_SIZE	(16 * 1024)

struct kp_arena_chunk {
	struct kp_arena_chunk	*next;
	size_t			 size;
	size_t			 used;
	alignas(max_align_t) unsigned char data[];
};

void
kp_arena_init(struct kp_arena *a)
{
	a->head = NULL;
	a->total = 0;
}

void
kp_arena_release(struct kp_arena *a)
{
	struct kp_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	kp_arena_init(a);
}

void
kp_arena_reset(struct kp_arena *a)
{
	struct kp_arena_chunk *keep = a->head;

	if (keep == NULL)
		return;
	/* Keep the newest chunk: it is the one a steady load fills. */
	a->head = keep->next;
	kp_arena_release(a);
	keep->next = NULL;
	keep->used = 0;
	a->head = keep;
}

static struct kp_arena_chunk *
chunk_new(size_t size)
{
	struct kp_arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *
kp_arena_calloc(struct kp_arena *a, size_t n, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct kp_arena_chunk *c = a->head;
	size_t want;
	void *p;

	if (size != 0 && n > (SIZE_MAX - align) / size) {
		errno = ENOMEM;
		return NULL;
	}
	want = (n * size + align - 1) & ~(align - 1);
	if (want == 0)
		want = align;
	if (c == NULL || c->size - c->used < want) {
		if ((c = chunk_new(want > CHUNK_SIZE ? want : CHUNK_SIZE)) ==
		    NULL)
			return NULL;
		/* A big one-off goes behind the current chunk so the
		 * current one keeps filling. */
		if (want > CHUNK_SIZE && a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->data + c->used;
	c->used += want;
	a->total += want;
	memset(p, 0, want);
	return p;
}
