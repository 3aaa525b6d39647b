/* fuzz_recovery.h -- the segment recovery check shared by fuzz_recovery and test_fuzz_regress */
#ifndef FUZZ_RECOVERY_H
#define FUZZ_RECOVERY_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_logconf.h"
#include "kp_segment.h"

/*
 * Input: byte 0 flags, byte 1 a parameter, then the .log bytes.
 *   flag 0x01  open with KP_LOG_RDONLY (else read-write, which cuts the
 *              bad tail, then close and reopen read-only to serve again)
 *   flag 0x02  write a .index next to each .log: the input's last
 *              8 * (param % 16 + 1) bytes
 *   flag 0x04  the same for .timeindex: the last 12 * (param % 16 + 1)
 *   flag 0x08  split the log into two segments before valid batch
 *              param / 16 (named by that batch's baseOffset)
 *   flag 0x10  write kpipe.checkpoint with the recovery point after valid
 *              batch param / 16; flag 0x20 adds a clean-close record for
 *              the last segment (its real size). Recovery trusts what a
 *              checkpoint vouches for, so then only framing is checked.
 * kp_log_read gets max_bytes param * 61 + 1 (1: one batch per read).
 *
 * Without a checkpoint whatever the log serves must be exactly the
 * input's valid batches: from the start, every batch that frames, has a
 * good CRC and moves offsets forward, up to the first that does not --
 * byte for byte, in order, and the log end offset just past them.
 * Header-only so the libFuzzer harness and the regression unit test run
 * the same code; a broken invariant aborts.
 */
#define fr_must(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz_recovery: %s:%d: %s\n", __FILE__, __LINE__, \
	    #c); abort(); } } while (0)

#define FR_NOW	1700000000000LL

struct fr_valid {
	size_t		 n;		/* valid batches */
	size_t		*start;		/* where each starts in the log */
	size_t		*end;
	int64_t		*base;		/* and its baseOffset */
	int64_t		 next;		/* offset after the last valid one */
};

/* The batches recovery must keep, by the rules kp_segment_scan states. */
static inline void
fr_valid_scan(const uint8_t *p, size_t len, struct fr_valid *v)
{
	size_t pos = 0, cap = len / KP_BATCH_HEADER_SIZE + 1;
	struct kp_batch_header h;
	ssize_t n;

	v->n = 0;
	v->next = 0;
	v->start = calloc(cap, sizeof(*v->start));
	v->end = calloc(cap, sizeof(*v->end));
	v->base = calloc(cap, sizeof(*v->base));
	fr_must(v->start != NULL && v->end != NULL && v->base != NULL);
	while (pos < len) {
		n = kp_batch_header_decode(p + pos, len - pos, &h);
		if (n <= 0 || (size_t)n > len - pos ||
		    h.base_offset < v->next || h.last_offset_delta < 0 ||
		    h.base_offset > INT64_MAX / 2 ||
		    !kp_batch_crc_ok(p + pos, (size_t)n))
			break;
		fr_must(v->n < cap);
		v->start[v->n] = pos;
		v->end[v->n] = pos + (size_t)n;
		v->base[v->n] = h.base_offset;
		v->n++;
		v->next = kp_batch_last_offset(&h) + 1;
		pos += (size_t)n;
	}
}

static inline void
fr_valid_release(struct fr_valid *v)
{
	free(v->start);
	free(v->end);
	free(v->base);
}

/* Empty the partition folder (made once per process, reused). */
static inline void
fr_clean(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	fr_must((d = opendir(dir)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fr_must(snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) < (int)sizeof(path));
		fr_must(unlink(path) == 0);
	}
	closedir(d);
}

static inline void
fr_write(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	fr_must(fd >= 0);
	fr_must(n == 0 || write(fd, p, n) == (ssize_t)n);
	fr_must(close(fd) == 0);
}

/* Write one segment: its .log and, if asked, garbage index files. */
static inline void
fr_segment(const char *dir, int64_t base, const uint8_t *p, size_t n,
    int flags, const uint8_t *tail, size_t tlen, unsigned param)
{
	char path[PATH_MAX];
	size_t k;

	kp_segment_path(path, sizeof(path), dir, base, ".log");
	fr_write(path, p, n);
	if (flags & 0x02) {
		k = 8 * (param % 16 + 1);
		k = k < tlen ? k : tlen;
		kp_segment_path(path, sizeof(path), dir, base, ".index");
		fr_write(path, tail + tlen - k, k);
	}
	if (flags & 0x04) {
		k = 12 * (param % 16 + 1);
		k = k < tlen ? k : tlen;
		kp_segment_path(path, sizeof(path), dir, base, ".timeindex");
		fr_write(path, tail + tlen - k, k);
	}
}

/*
 * Read everything the log serves, from its start, and check it. strict:
 * it must be exactly the valid batches v of the log bytes p.
 */
static inline void
fr_serve(struct kp_log *l, const uint8_t *p, const struct fr_valid *v,
    size_t max_bytes, bool strict)
{
	struct kp_log_slice sl;
	struct kp_batch_header h;
	struct kp_buf b;
	int64_t off = kp_log_start_offset(l), leo = kp_log_end_offset(l);
	int64_t prev_next = off;
	size_t idx = 0, reads = 0, pos;
	ssize_t n;

	fr_must(off >= 0 && off <= leo);
	kp_buf_init(&b);
	for (;;) {
		fr_must(reads++ <= v->n + 2 || !strict);
		fr_must(reads < 100000);
		fr_must(kp_log_read(l, off, max_bytes, INT64_MAX, &sl) ==
		    KP_NONE);
		if (sl.len == 0)
			break;
		fr_must(sl.fd >= 0 && sl.next_offset > off);
		kp_buf_reset(&b);
		fr_must(kp_log_slice_load(&sl, &b) == 0 && b.len == sl.len);
		for (pos = 0; pos < b.len; pos += (size_t)n) {
			n = kp_batch_header_decode(b.data + pos, b.len - pos,
			    &h);
			fr_must(n > 0 && (size_t)n <= b.len - pos);
			fr_must(h.base_offset >= prev_next &&
			    h.last_offset_delta >= 0);
			fr_must(pos > 0 || h.base_offset == sl.first_offset);
			prev_next = kp_batch_last_offset(&h) + 1;
			if (!strict)
				continue;
			fr_must(kp_batch_crc_ok(b.data + pos, (size_t)n));
			fr_must(idx < v->n);
			fr_must((size_t)n == v->end[idx] - v->start[idx] &&
			    memcmp(b.data + pos, p + v->start[idx],
			    (size_t)n) == 0);
			idx++;
		}
		/*
		 * Not equal: a segment recovery trusted (below the recovery
		 * point) ends at the next segment's base, so a slice of it
		 * may say next_offset = that base. Reading on from there
		 * must still meet every valid batch, which idx checks.
		 */
		fr_must(prev_next <= sl.next_offset);
		off = sl.next_offset;
	}
	fr_must(off <= leo);
	if (strict) {
		fr_must(idx == v->n);
		fr_must(leo == (v->n > 0 ? v->next : 0));
	}
	kp_buf_release(&b);
}

/* The lowest free fd: it must not move from one run to the next. */
static inline int
fr_lowest_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	fr_must(fd >= 0);
	close(fd);
	return fd;
}

/* dir: an existing folder the check may empty and fill. */
static inline void
fuzz_recovery_one(const char *dir, const uint8_t *data, size_t size)
{
	struct kp_logconf conf;
	struct kp_log_recovery rec;
	struct fr_valid v;
	struct kp_log *l;
	const uint8_t *p;
	char path[PATH_MAX], ck[512];
	unsigned flags, param;
	size_t len, split = 0, k;
	int64_t rp;
	int fd0 = fr_lowest_fd(), ckn;

	if (size < 2)
		return;
	flags = data[0];
	param = data[1];
	p = data + 2;
	len = size - 2;
	fr_clean(dir);
	fr_valid_scan(p, len, &v);
	k = param / 16;
	if ((flags & 0x08) && k > 0 && k < v.n)
		split = v.start[k];
	fr_segment(dir, 0, p, split ? split : len, (int)flags, p, len, param);
	if (split)
		fr_segment(dir, v.base[k], p + split, len - split, (int)flags,
		    p, len, param);
	if (flags & 0x10) {
		rp = k == 0 || v.n == 0 ? 0 : v.base[k < v.n ? k : v.n - 1];
		ckn = snprintf(ck, sizeof(ck), "version=1\nrecovery_point=%lld\n"
		    "log_start_offset=0\nhigh_watermark=%lld\n"
		    "cleaner_offset=0\n", (long long)rp, (long long)rp);
		if (flags & 0x20)
			ckn += snprintf(ck + ckn, sizeof(ck) - (size_t)ckn,
			    "clean_base=%lld\nclean_size=%zu\nclean_next=%lld\n"
			    "clean_max_ts=%d\nclean_max_ts_offset=%d\n",
			    (long long)(split ? v.base[k] : 0),
			    split ? len - split : len, (long long)rp, -1, -1);
		fr_must(snprintf(path, sizeof(path), "%s/kpipe.checkpoint",
		    dir) < (int)sizeof(path));
		fr_write(path, ck, (size_t)ckn);
	}
	kp_logconf_defaults(&conf);
	l = kp_log_open(dir, &conf, (flags & 0x01) ? KP_LOG_RDONLY : 0, FR_NOW,
	    &rec);
	/* an empty read-only folder has no log; anything else opens */
	fr_must(l != NULL || ((flags & 0x01) && len == 0 && !split));
	if (l != NULL) {
		fr_must(rec.segments >= 1);
		fr_serve(l, p, &v, param * 61 + 1, !(flags & 0x10));
		kp_log_close(l);
	}
	if (l != NULL && !(flags & 0x01)) {
		/* what was cut stays cut, and a clean close reopens the same */
		l = kp_log_open(dir, &conf, KP_LOG_RDONLY, FR_NOW, &rec);
		fr_must(l != NULL);
		fr_serve(l, p, &v, param * 61 + 1, !(flags & 0x10));
		kp_log_close(l);
	}
	fr_valid_release(&v);
	fr_must(fr_lowest_fd() == fd0);
}

#endif
