/* test_kp_arena.c -- the bump allocator behind decoded messages */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kp_arena.h"
#include "tap.h"

int
main(void)
{
	struct kp_arena a;
	unsigned char *p, *q, *big;
	size_t i;
	int zero = 1, aligned = 1;

	kp_arena_init(&a);
	for (i = 1; i < 200; i++) {
		p = kp_arena_calloc(&a, i, 3);
		if ((uintptr_t)p % alignof(max_align_t) != 0)
			aligned = 0;
		for (size_t j = 0; j < i * 3; j++)
			if (p[j] != 0)
				zero = 0;
		memset(p, 0xa5, i * 3);
	}
	ok(aligned, "every allocation aligned for any type");
	ok(zero, "memory comes zeroed, also after neighbours were written");
	big = kp_arena_calloc(&a, 1, 1 << 20);
	ok(big != NULL, "an allocation larger than a chunk");
	memset(big, 1, 1 << 20);
	p = kp_arena_calloc(&a, 1, 16);
	q = kp_arena_calloc(&a, 1, 16);
	ok(p && q && q == p + 16, "small ones keep filling the current chunk");
	errno = 0;
	ok(kp_arena_calloc(&a, SIZE_MAX / 2, 4) == NULL && errno == ENOMEM,
	    "n * size overflow is ENOMEM, not a short block");
	ok(kp_arena_calloc(&a, 0, 8) != NULL, "zero bytes is a valid pointer");
	kp_arena_reset(&a);
	is_int(a.total, 0, "reset forgets what was handed out");
	p = kp_arena_calloc(&a, 4, 4);
	ok(p != NULL && p[0] == 0 && p[15] == 0, "reused chunk is zeroed");
	kp_arena_release(&a);
	ok(a.head == NULL && a.total == 0, "release frees everything");
	kp_arena_release(&a);
	ok(1, "release twice is harmless");
	return tap_done();
}
