/* kp_segment.c -- one log segment: its .log file and its two indexes */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_bgio.h"
#include "kp_pagecache.h"
#include "kp_segment.h"

static void	release_reserved(struct kp_segment *);

/* Scans read this much at once; a batch may need more (kept bounded). */
#define SCAN_CHUNK	(1 << 20)
#define BATCH_MAX	(256 << 20)

void
kp_segment_path(char *buf, size_t len, const char *dir, int64_t base,
    const char *suffix)
{
	snprintf(buf, len, "%s/%020" PRId64 "%s", dir, base, suffix);
}

static void
hints_clear(struct kp_segment *s)
{
	for (int k = 0; k < 2; k++) {
		s->hint_off[k] = INT64_MAX;
		s->hint_pos[k] = 0;
	}
}

void
kp_segment_hint(struct kp_segment *s, int64_t offset, int64_t pos)
{
	if (pos <= s->size) {
		s->hint_off[1] = offset;
		s->hint_pos[1] = pos;
	}
}

static void
reset_state(struct kp_segment *s)
{
	s->size = 0;
	s->next_offset = s->base;
	s->max_ts = -1;
	s->max_ts_offset = -1;
	s->first_ts = -1;
	s->since_index = 0;
	hints_clear(s);
}

struct kp_segment *
kp_segment_open(const char *dir, int64_t base, int64_t interval,
    int64_t index_bytes, bool create, bool rdonly, int64_t now_ms)
{
	return kp_segment_open_tagged(dir, base, "", interval, index_bytes,
	    create, rdonly, now_ms);
}

struct kp_segment *
kp_segment_open_tagged(const char *dir, int64_t base, const char *tag,
    int64_t interval, int64_t index_bytes, bool create, bool rdonly,
    int64_t now_ms)
{
	struct kp_segment *s;
	char *p = NULL;
	int flags, rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fd = s->oi.fd = s->ti.fd = s->xi.fd = -1;
	s->base = base;
	s->rdonly = rdonly;
	s->index_interval = interval;
	s->created_ms = now_ms;
	s->tag = tag;
	reset_state(s);
	if (asprintf(&s->prefix, "%s/%020" PRId64, dir, base) < 0) {
		s->prefix = NULL;
		goto fail;
	}
	if (asprintf(&p, "%s.log%s", s->prefix, s->tag) < 0) {
		p = NULL;
		goto fail;
	}
	flags = (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (create && !rdonly)
		flags |= O_CREAT;
	if ((s->fd = open(p, flags, 0644)) < 0)
		goto fail;
	free(p);
	if (asprintf(&p, "%s.index%s", s->prefix, s->tag) < 0) {
		p = NULL;
		goto fail;
	}
	rc = kp_index_open(&s->oi, p, KP_INDEX_OFFSET, base,
	    (size_t)index_bytes, rdonly);
	if (rc < 0)
		goto fail;
	s->index_rebuilt |= rc == 1;
	free(p);
	if (asprintf(&p, "%s.timeindex%s", s->prefix, s->tag) < 0) {
		p = NULL;
		goto fail;
	}
	rc = kp_index_open(&s->ti, p, KP_INDEX_TIME, base,
	    (size_t)index_bytes, rdonly);
	if (rc < 0)
		goto fail;
	s->index_rebuilt |= rc == 1;
	free(p);
	p = NULL;
	/*
	 * The cleaner's copies share the original's aborted transactions
	 * (kp_log writes a .txnindex.cleaned itself when that changes).
	 */
	if (s->tag[0] == '\0') {
		if (asprintf(&p, "%s%s", s->prefix, KP_TXNINDEX_SUFFIX) < 0) {
			p = NULL;
			goto fail;
		}
		if (kp_txnindex_open(&s->xi, p, rdonly) < 0)
			goto fail;
		free(p);
	}
	return s;
fail:
	rc = errno;
	free(p);
	kp_segment_close(s);
	errno = rc;
	return NULL;
}

void
kp_segment_close(struct kp_segment *s)
{
	if (s == NULL)
		return;
	if (s->appending)
		kp_pagecache_writers(-1);
	release_reserved(s);
	if (s->fd >= 0)
		close(s->fd);
	kp_index_close(&s->oi);
	kp_index_close(&s->ti);
	kp_txnindex_close(&s->xi);
	free(s->prefix);
	free(s);
}

int
kp_segment_delete(struct kp_segment *s)
{
	static const char *sfx[] = { ".log", ".index", ".timeindex",
	    KP_TXNINDEX_SUFFIX };
	int rc = 0, e = 0;

	/* The .log goes first: an index without its .log is a leftover. */
	for (size_t i = 0; i < 4; i++) {
		char *p = NULL;

		if (asprintf(&p, "%s%s%s", s->prefix, sfx[i], s->tag) < 0)
			p = NULL;

		if (p == NULL || (unlink(p) < 0 && errno != ENOENT)) {
			if (rc == 0)
				e = errno;
			rc = -1;
		}
		free(p);
	}
	kp_segment_close(s);
	errno = e;
	return rc;
}

/* Kafka's index rule: an entry once more than interval bytes went by. */
static int
index_batch(struct kp_segment *s, int64_t pos, int64_t last, int64_t maxts,
    int64_t size)
{
	if (maxts > s->max_ts) {
		s->max_ts = maxts;
		s->max_ts_offset = last;
	}
	if (s->first_ts < 0)
		s->first_ts = maxts;
	if (s->since_index > s->index_interval && !s->rdonly) {
		if (!kp_index_full(&s->oi) &&
		    kp_index_append(&s->oi, last, pos) < 0)
			return -1;
		if (!kp_index_full(&s->ti) && s->max_ts >= 0 &&
		    (s->ti.n == 0 || s->max_ts > s->ti.key[s->ti.n - 1]) &&
		    kp_index_append(&s->ti, s->max_ts, s->max_ts_offset) < 0)
			return -1;
		s->since_index = 0;
	}
	s->since_index += size;
	return 0;
}

static int
read_full(int fd, void *buf, size_t len, off_t pos)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got,
		    pos + (off_t)got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (int)(got == len);
}

int
kp_segment_scan(struct kp_segment *s, int64_t crc_from,
    struct kp_segment_scan *out)
{
	struct kp_segment_scan sc = { 0 };
	struct stat st;
	uint8_t *buf = NULL;
	size_t cap = SCAN_CHUNK, have = 0;
	int64_t pos = 0, bufpos = 0, fsize;

	if (fstat(s->fd, &st) < 0)
		return -1;
	fsize = st.st_size;
	if (!s->rdonly && (kp_index_truncate(&s->oi, 0) < 0 ||
	    kp_index_truncate(&s->ti, 0) < 0))
		return -1;
	s->oi.n = s->ti.n = 0;
	reset_state(s);
	if ((buf = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		struct kp_batch_header h;
		size_t off = (size_t)(pos - bufpos);
		ssize_t n;

		if (pos >= fsize)
			break;
		n = kp_batch_header_decode(buf + off, have - off, &h);
		if (n == 0 || (n > 0 && (size_t)n > have - off)) {
			/* need more bytes: slide and refill */
			size_t want = n > 0 ? (size_t)n : KP_BATCH_HEADER_SIZE;
			int r;

			if ((int64_t)want > fsize - pos)
				goto stop;	/* torn: the file ends mid-batch */
			if (want > cap) {
				uint8_t *nb;

				if (want > BATCH_MAX)
					goto stop;
				if ((nb = realloc(buf, want)) == NULL)
					goto fail;
				buf = nb;
				cap = want;
			}
			bufpos = pos;
			have = (size_t)(fsize - pos) < cap ?
			    (size_t)(fsize - pos) : cap;
			if ((r = read_full(s->fd, buf, have, pos)) < 0)
				goto fail;
			if (r == 0)
				goto stop;
			continue;
		}
		if (n < 0)
			goto stop;
		/* offsets only go forward, and stay inside this segment */
		if (h.base_offset < s->next_offset || h.last_offset_delta < 0 ||
		    h.base_offset > INT64_MAX / 2)
			goto stop;
		if (h.base_offset >= crc_from) {
			if (!kp_batch_crc_ok(buf + off, (size_t)n))
				goto stop;
			sc.checked++;
		}
		if (index_batch(s, pos, kp_batch_last_offset(&h),
		    h.max_timestamp, n) < 0)
			goto fail;
		s->next_offset = kp_batch_last_offset(&h) + 1;
		pos += n;
		s->size = pos;
		sc.batches++;
	}
	goto done;
stop:
	sc.torn = true;
	sc.truncated = fsize - pos;
	if (!s->rdonly && ftruncate(s->fd, (off_t)pos) < 0)
		goto fail;
done:
	/* aborted transactions whose marker is gone go with it */
	if (kp_txnindex_truncate(&s->xi, s->next_offset) < 0)
		goto fail;
	/* what was there is the kernel's to write back, not ours */
	s->wb_mark = s->drop_mark = s->alloc_end = s->size;
	free(buf);
	if (out != NULL)
		*out = sc;
	return 0;
fail:
	free(buf);
	return -1;
}

int
kp_segment_load_closed(struct kp_segment *s, int64_t next_base)
{
	struct stat st;

	if (s->index_rebuilt)
		return kp_segment_scan(s, INT64_MAX, NULL);
	if (fstat(s->fd, &st) < 0)
		return -1;
	if (s->oi.n > 0 && s->oi.val[s->oi.n - 1] >= st.st_size) {
		/* an entry past the data: the index lies, rebuild */
		s->index_rebuilt = true;
		return kp_segment_scan(s, INT64_MAX, NULL);
	}
	s->size = st.st_size;
	s->next_offset = next_base;
	if (s->ti.n > 0) {
		s->max_ts = s->ti.key[s->ti.n - 1];
		s->max_ts_offset = s->ti.val[s->ti.n - 1];
		s->first_ts = s->ti.key[0];
	} else if (s->size > 0) {
		int64_t b, l, ts;

		/* a tiny segment never indexed: its first batch will do */
		if (kp_segment_header_at(s, 0, &b, &l, &ts) > 0) {
			s->max_ts = s->first_ts = ts;
			s->max_ts_offset = l;
		}
	}
	return 0;
}

/*
 * The checkpoint vouches for the size, not the bytes: walk the batch
 * headers after the last offset index entry (about index.interval.bytes)
 * to the end. They must frame exactly, move offsets forward and end at
 * next - 1, or a torn or overwritten tail would be served as it is
 * (found by tests/fuzz/fuzz_recovery). s->size is the claimed size.
 */
static bool
tail_frames(struct kp_segment *s, int64_t next)
{
	int64_t pos = 0, prev = s->base, last = s->base - 1, b, l, n;
	bool entry = s->oi.n > 0;

	if (entry)
		pos = s->oi.val[s->oi.n - 1];
	while (pos < s->size) {
		n = kp_segment_header_at(s, pos, &b, &l, NULL);
		if (n <= 0 || b < prev || l < b)
			return false;
		if (entry && l != s->oi.key[s->oi.n - 1])
			return false;	/* the entry names another batch */
		entry = false;
		pos += n;
		last = l;
		prev = l + 1;
	}
	return last == next - 1;
}

int
kp_segment_load_clean(struct kp_segment *s, int64_t size, int64_t next,
    int64_t max_ts, int64_t max_ts_offset)
{
	struct stat st;
	int64_t old_size;

	if (s->index_rebuilt || fstat(s->fd, &st) < 0 || st.st_size != size ||
	    next < s->base || (size == 0) != (next == s->base))
		return 0;
	if (s->oi.n > 0 && (s->oi.val[s->oi.n - 1] >= size ||
	    s->oi.key[s->oi.n - 1] >= next))
		return 0;
	if (s->ti.n > 0 && (s->ti.key[s->ti.n - 1] > max_ts ||
	    s->ti.val[s->ti.n - 1] >= next))
		return 0;
	old_size = s->size;
	s->size = size;
	if (!tail_frames(s, next)) {
		s->size = old_size;
		return 0;
	}
	s->next_offset = next;
	s->max_ts = max_ts;
	s->max_ts_offset = max_ts_offset;
	s->first_ts = s->ti.n > 0 ? s->ti.key[0] : max_ts;
	s->since_index = s->oi.n > 0 ? size - s->oi.val[s->oi.n - 1] : size;
	return 1;
}

/*
 * Start the kernel writing what was appended, a few MiB at a time, without
 * waiting for it. Left to itself the kernel writes dirty pages 30 s later
 * or when memory fills, so a roll's sync (Kafka flushes a segment when it
 * stops being active) found up to a whole segment to write: a stall of the
 * event loop of ~100 ms per 256 MiB. Now it finds at most one step. The
 * data is not durable any sooner than it was promised to be; only the
 * stall goes. Errors show up where durability is promised: at the sync.
 *
 * With a page cache limit (kp_pagecache.h), pages more than this
 * segment's share behind its end go too. Their writeback started at
 * least one step earlier (share >= 2 steps), so the wait for it rarely
 * waits; a page still dirty would merely stay cached.
 *
 * Both are kp_bgio's work: even starting writeback can wait for
 * milliseconds in the block layer, and the caller is an event loop.
 */
#define WRITEBACK_STEP	((int64_t)8 << 20)
#define PAGE_MASK_4K	((int64_t)4095)

static void
drop_behind(struct kp_segment *s, int64_t share)
{
	int64_t from = s->drop_mark & ~PAGE_MASK_4K, to = s->size - share;

	if (to <= from)
		return;
	kp_bgio_drop(s->fd, from, to - from);
	s->drop_mark = to;
}

/* The writeback step: at most half this segment's page cache share. */
static int64_t
writeback_step(int64_t share)
{
	return share >= 0 && WRITEBACK_STEP > share / 2 ? share / 2 :
	    WRITEBACK_STEP;
}

/*
 * Reserve the blocks of the next step ahead of the writes (fallocate,
 * keeping the file size). Without it ext4 reserves and accounts each
 * 4 KiB block as it is written (delayed allocation): a fifth of the
 * write's CPU. Blocks past the end go back at the roll or the close;
 * after a crash, at that segment's roll. A file system without
 * fallocate just goes on without.
 */
static void
reserve_ahead(struct kp_segment *s, int64_t need, int64_t share)
{
	int64_t step = writeback_step(share), end;

	if (need <= s->alloc_end)
		return;
	end = (need + step - 1) / step * step;
	if (s->alloc_end < s->size)
		s->alloc_end = s->size;
	if (fallocate(s->fd, FALLOC_FL_KEEP_SIZE, (off_t)s->alloc_end,
	    (off_t)(end - s->alloc_end)) == 0)
		s->alloc_end = end;
	else if (errno == EOPNOTSUPP)
		s->alloc_end = INT64_MAX;
}

/* Give back the blocks reserved past the end: same size, fewer blocks. */
static void
release_reserved(struct kp_segment *s)
{
	if (s->rdonly || s->fd < 0 || s->alloc_end <= s->size ||
	    s->alloc_end == INT64_MAX)
		return;
	if (ftruncate(s->fd, (off_t)s->size) == 0)
		s->alloc_end = s->size;
}

void
kp_segment_uncache(struct kp_segment *s)
{
	if (s->rdonly || s->drop_mark >= s->size || kp_pagecache_limit() < 0)
		return;
	/* a rolled segment: synced at its roll, so all of it is clean */
	(void)posix_fadvise(s->fd, (off_t)(s->drop_mark & ~PAGE_MASK_4K), 0,
	    POSIX_FADV_DONTNEED);
	s->drop_mark = s->size;
}

static void
start_writeback(struct kp_segment *s, int64_t share)
{
	int64_t step = writeback_step(share);

	if (s->wb_mark > s->size)
		s->wb_mark = s->size;	/* truncated since */
	if (s->drop_mark > s->size)
		s->drop_mark = s->size;
	if (s->size - s->wb_mark < step)
		return;
	kp_bgio_writeback(s->fd, s->wb_mark, s->size - s->wb_mark);
	s->wb_mark = s->size;
	if (share >= 0)
		drop_behind(s, share);
}

int
kp_segment_append(struct kp_segment *s, const uint8_t *buf, size_t len)
{
	int64_t old_size = s->size, old_next = s->next_offset;
	int64_t old_ts = s->max_ts, old_tso = s->max_ts_offset;
	int64_t old_first = s->first_ts, old_since = s->since_index;
	size_t old_oi = s->oi.n, old_ti = s->ti.n, off = 0;
	int64_t share = kp_pagecache_share();	/* once: atomics */
	int e;

	if (s->rdonly) {
		errno = EROFS;
		return -1;
	}
	reserve_ahead(s, s->size + (int64_t)len, share);
	while (off < len) {
		ssize_t w = pwrite(s->fd, buf + off, len - off,
		    (off_t)(s->size + (int64_t)off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			goto fail;
		}
		off += (size_t)w;
	}
	s->dirty = true;
	if (!s->appending) {
		s->appending = true;
		kp_pagecache_writers(1);
	}
	for (off = 0; off < len;) {
		struct kp_batch_header h;
		ssize_t n = kp_batch_header_decode(buf + off, len - off, &h);

		if (n <= 0 || (size_t)n > len - off) {
			errno = EINVAL;
			goto fail;
		}
		if (index_batch(s, s->size + (int64_t)off,
		    kp_batch_last_offset(&h), h.max_timestamp, n) < 0)
			goto fail;
		s->hint_off[0] = h.base_offset;
		s->hint_pos[0] = s->size + (int64_t)off;
		s->next_offset = kp_batch_last_offset(&h) + 1;
		off += (size_t)n;
	}
	s->size += (int64_t)len;
	start_writeback(s, share);
	return 0;
fail:
	e = errno;
	/* Cut everything back so a reader or a restart sees the old log. */
	(void)ftruncate(s->fd, (off_t)old_size);
	if (s->alloc_end != INT64_MAX)
		s->alloc_end = old_size;	/* the reserve went too */
	(void)kp_index_truncate(&s->oi, old_oi);
	(void)kp_index_truncate(&s->ti, old_ti);
	s->size = old_size;
	s->next_offset = old_next;
	s->max_ts = old_ts;
	s->max_ts_offset = old_tso;
	s->first_ts = old_first;
	s->since_index = old_since;
	hints_clear(s);
	errno = e;
	return -1;
}

int
kp_segment_seal(struct kp_segment *s)
{
	if (s->appending) {	/* a roll: its share goes to the others */
		s->appending = false;
		kp_pagecache_writers(-1);
	}
	release_reserved(s);
	if (s->rdonly || s->max_ts < 0 || kp_index_full(&s->ti))
		return 0;
	if (s->ti.n > 0 && s->ti.key[s->ti.n - 1] >= s->max_ts)
		return 0;
	if (kp_index_append(&s->ti, s->max_ts, s->max_ts_offset) < 0 ||
	    kp_index_write(&s->ti) < 0)
		return -1;
	s->idx_unsynced = true;
	return 0;
}

int
kp_segment_sync(struct kp_segment *s)
{
	if (s->rdonly || (!s->dirty && !s->idx_unsynced))
		return 0;
	if (s->dirty && fdatasync(s->fd) < 0)
		return -1;
	s->dirty = false;
	s->idx_unsynced = true;
	if (kp_index_sync(&s->oi) < 0 || kp_index_sync(&s->ti) < 0 ||
	    kp_txnindex_sync(&s->xi) < 0)
		return -1;
	s->idx_unsynced = false;
	return 0;
}

int
kp_segment_sync_data(struct kp_segment *s)
{
	if (s->rdonly || !s->dirty)
		return 0;
	/* current in the page cache, for an offline reader */
	if (kp_index_write(&s->oi) < 0 || kp_index_write(&s->ti) < 0 ||
	    fdatasync(s->fd) < 0)
		return -1;
	s->dirty = false;
	s->idx_unsynced = true;
	return 0;
}

int64_t
kp_segment_header_at(struct kp_segment *s, int64_t pos, int64_t *base,
    int64_t *last, int64_t *maxts)
{
	uint8_t hb[KP_BATCH_HEADER_SIZE];
	struct kp_batch_header h;
	ssize_t n;
	int r;

	if (pos + KP_BATCH_HEADER_SIZE > s->size)
		return 0;
	if ((r = read_full(s->fd, hb, sizeof(hb), (off_t)pos)) <= 0) {
		if (r == 0)
			errno = EIO;
		return -1;
	}
	n = kp_batch_header_decode(hb, sizeof(hb), &h);
	if (n <= 0 || pos + n > s->size) {
		errno = EIO;	/* the file changed under us */
		return -1;
	}
	*base = h.base_offset;
	*last = kp_batch_last_offset(&h);
	if (maxts != NULL)
		*maxts = h.max_timestamp;
	return n;
}

int64_t
kp_segment_find(struct kp_segment *s, int64_t offset, int64_t *base,
    int64_t *last, int64_t *blen)
{
	ssize_t i = kp_index_lookup(&s->oi, offset);
	int64_t pos = i >= 0 ? s->oi.val[i] : 0;

	for (int k = 0; k < 2; k++)
		if (s->hint_off[k] <= offset && s->hint_pos[k] > pos &&
		    s->hint_pos[k] <= s->size)
			pos = s->hint_pos[k];
	errno = 0;
	while (pos < s->size) {
		int64_t n = kp_segment_header_at(s, pos, base, last, NULL);

		if (n <= 0)
			return -1;
		if (*last >= offset) {
			*blen = n;
			return pos;
		}
		pos += n;
	}
	return -1;
}

int64_t
kp_segment_time_start(struct kp_segment *s, int64_t ts)
{
	ssize_t i = kp_index_lookup(&s->ti, ts), j;
	int64_t off;

	if (i < 0)
		return 0;
	/*
	 * Everything up to the entry's offset is no newer than its
	 * timestamp, and that offset is where the timestamp first appears.
	 */
	off = s->ti.key[i] < ts ? s->ti.val[i] + 1 : s->ti.val[i];
	j = kp_index_lookup(&s->oi, off);
	return j >= 0 ? s->oi.val[j] : 0;
}

int
kp_segment_truncate_offset(struct kp_segment *s, int64_t offset)
{
	int64_t b, l, n, pos;
	size_t k;

	if (offset >= s->next_offset)
		return 0;
	if (offset <= s->base)
		pos = 0;
	else {
		pos = kp_segment_find(s, offset, &b, &l, &n);
		if (pos < 0) {
			if (errno != 0)
				return -1;
			return 0;
		}
		/* as Kafka: the batch holding offset goes as a whole */
	}
	if (ftruncate(s->fd, (off_t)pos) < 0)
		return -1;
	s->dirty = true;
	hints_clear(s);
	if (kp_txnindex_truncate(&s->xi, offset) < 0)
		return -1;
	k = kp_index_lower_bound(&s->oi, offset);
	while (k > 0 && s->oi.val[k - 1] >= pos)
		k--;
	if (kp_index_truncate(&s->oi, k) < 0)
		return -1;
	/* timestamps are recomputed by a scan of what is left */
	return kp_segment_scan(s, INT64_MAX, NULL);
}
