/* kp_pagecache.h -- how much of the newest appended log stays in the page cache */
#ifndef KP_PAGECACHE_H
#define KP_PAGECACHE_H

#include <stdint.h>

/*
 * One limit per process, shared evenly by the segments taking appends:
 * each keeps at most its share of bytes behind its end in the page
 * cache; older pages are written back and dropped. -1 (the default)
 * leaves the page cache to the kernel, as Kafka does.
 */
void		 kp_pagecache_set_limit(int64_t);
int64_t		 kp_pagecache_limit(void);
/* A segment starts (+1) or stops (-1) taking appends. */
void		 kp_pagecache_writers(int);
/* Bytes one appending segment may keep behind its end, or -1. */
int64_t		 kp_pagecache_share(void);

/* The smallest share: below it, a partition's tail readers go to disk. */
#define KP_PAGECACHE_MIN_SHARE	((int64_t)1 << 20)

#endif
