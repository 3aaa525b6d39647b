/* kp_pagecache.c -- how much of the newest appended log stays in the page cache */
#include <stdatomic.h>

#include "kp_pagecache.h"

/*
 * Left to itself the kernel keeps every page a log ever wrote until
 * memory runs short, so an appending broker takes a fresh page for every
 * 4 KiB it writes. Where the host takes free memory back from the guest
 * (balloon free page reporting, as on Firecracker), a fresh page costs a
 * fault in the host: copying into it ran 5-10x slower than into a page
 * the kernel had just freed, and the produce rate fell as the log grew
 * (bench "growth"). With a limit, appends reuse the pages dropped behind
 * them and the rate stays flat. Atomics: the limit is set once at start,
 * and only the event loop appends, but nothing here should need to know.
 */
static _Atomic int64_t limit = -1;
static _Atomic int writers;

void
kp_pagecache_set_limit(int64_t bytes)
{
	atomic_store(&limit, bytes < 0 ? -1 : bytes);
}

int64_t
kp_pagecache_limit(void)
{
	return atomic_load(&limit);
}

void
kp_pagecache_writers(int delta)
{
	atomic_fetch_add(&writers, delta);
}

int64_t
kp_pagecache_share(void)
{
	int64_t l = atomic_load(&limit), share;
	int n = atomic_load(&writers);

	if (l < 0)
		return -1;
	share = n > 1 ? l / n : l;
	return share < KP_PAGECACHE_MIN_SHARE ? KP_PAGECACHE_MIN_SHARE : share;
}
