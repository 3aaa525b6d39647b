/* logtest.h -- shared helpers for the storage unit tests: temp dirs, batches, read-back */
#ifndef LOGTEST_H
#define LOGTEST_H

#include <sys/mman.h>
#include <sys/stat.h>

#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_log.h"

/* A new temp dir under $TMPDIR (static buffer per call site via out). */
static inline void
lt_tmpdir(char *out, size_t len, const char *tag)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, len, "%s/kp-%s-XXXXXX", t && *t ? t : "/tmp", tag);
	if (mkdtemp(out) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static int
lt_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void
lt_rmrf(const char *dir)
{
	nftw(dir, lt_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * One uncompressed batch of n records: key "k<key0+i>" (or null when
 * key0 < 0), value of vlen bytes filled with a pattern of the index (or
 * null when vlen < 0, a tombstone), timestamps ts + i.
 */
static inline void
lt_batch(struct kp_buf *out, int n, int key0, int64_t ts, int vlen)
{
	struct kp_batch_builder b;
	char key[32], *val = NULL;

	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	if (vlen > 0 && (val = malloc((size_t)vlen)) == NULL)
		exit(1);
	for (int i = 0; i < n; i++) {
		int kl = key0 < 0 ? -1 :
		    snprintf(key, sizeof(key), "k%d", key0 + i);

		if (val != NULL)
			memset(val, 'a' + (i % 26), (size_t)vlen);
		if (kp_batch_builder_add(&b, ts + i, key0 < 0 ? NULL : key,
		    kl, val, vlen < 0 ? -1 : vlen, NULL, 0) < 0)
			exit(1);
	}
	if (kp_batch_builder_finish(&b, out) < 0)
		exit(1);
	kp_batch_builder_release(&b);
	free(val);
}

/* Append one fresh batch; returns the Kafka error. */
static inline int
lt_append(struct kp_log *l, int n, int key0, int64_t ts, int vlen,
    int64_t now, struct kp_log_append_info *info)
{
	struct kp_buf b;
	int e;

	kp_buf_init(&b);
	lt_batch(&b, n, key0, ts, vlen);
	e = kp_log_append(l, b.data, b.len, 0, now, info);
	kp_buf_release(&b);
	return e;
}

/* What a full read-back found. */
struct lt_scan {
	int64_t	 records;
	int64_t	 batches;
	int64_t	 first;		/* first record offset, -1 */
	int64_t	 last;		/* last record offset, -1 */
	int	 contiguous;	/* offsets +1 each (no gaps) */
	int	 crc_ok;	/* every batch passed its CRC */
	int	 err;		/* a read failed */
};

/*
 * Read everything from log start to log end with small and large byte
 * limits alike, checking CRCs and offsets. cb (may be NULL) sees each
 * record.
 */
static inline void
lt_scan(struct kp_log *l, size_t max_bytes, struct lt_scan *s,
    void (*cb)(const struct kp_record *, void *), void *arg)
{
	int64_t off = kp_log_start_offset(l), end = kp_log_end_offset(l);
	struct kp_buf b;
	int guard = 0;

	memset(s, 0, sizeof(*s));
	s->first = s->last = -1;
	s->contiguous = s->crc_ok = 1;
	kp_buf_init(&b);
	while (off < end && guard++ < 10000000) {
		struct kp_log_slice sl;
		size_t p = 0;

		if (kp_log_read(l, off, max_bytes, end, &sl) != KP_NONE ||
		    sl.len == 0) {
			s->err = 1;
			break;
		}
		kp_buf_reset(&b);
		if (kp_log_slice_load(&sl, &b) < 0) {
			s->err = 1;
			break;
		}
		while (p < b.len) {
			struct kp_batch_header h;
			struct kp_batch_iter it;
			struct kp_record r;
			ssize_t n = kp_batch_header_decode(b.data + p,
			    b.len - p, &h);

			if (n <= 0 || (size_t)n > b.len - p) {
				s->err = 1;
				break;
			}
			if (!kp_batch_crc_ok(b.data + p, (size_t)n))
				s->crc_ok = 0;
			s->batches++;
			if (kp_batch_iter_init(&it, b.data + p, (size_t)n,
			    1 << 26) == 0) {
				while (kp_batch_iter_next(&it, &r) == 1) {
					if (s->last >= 0 &&
					    r.offset != s->last + 1)
						s->contiguous = 0;
					if (s->first < 0)
						s->first = r.offset;
					s->last = r.offset;
					s->records++;
					if (cb != NULL)
						cb(&r, arg);
				}
			} else
				s->err = 1;
			kp_batch_iter_release(&it);
			p += (size_t)n;
		}
		if (s->err)
			break;
		off = sl.next_offset;
	}
	kp_buf_release(&b);
}

static inline void
lt_conf(struct kp_logconf *c)
{
	kp_logconf_defaults(c);
}

/* Of the pages of fd in [from, to), how many the page cache holds. */
static inline size_t
lt_resident(int fd, int64_t from, int64_t to)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = 0, len;
	unsigned char *vec;
	void *m;

	from -= from % (int64_t)pg;
	len = (size_t)(to - from);
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)from);
	vec = calloc(len / pg + 1, 1);
	if (m == MAP_FAILED || vec == NULL || mincore(m, len, vec) < 0)
		n = SIZE_MAX;
	else
		for (size_t i = 0; i < (len + pg - 1) / pg; i++)
			n += vec[i] & 1;
	if (m != MAP_FAILED)
		munmap(m, len);
	free(vec);
	return n;
}

#endif
