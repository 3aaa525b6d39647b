/* kp_index.c -- a segment's offset index and time index files */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_index.h"

static size_t
entry_size(int kind)
{
	return kind == KP_INDEX_OFFSET ? KP_INDEX_OFFSET_ENTRY :
	    KP_INDEX_TIME_ENTRY;
}

static int
grow(struct kp_index *ix, size_t want)
{
	int64_t *k, *v;
	size_t cap;

	if (want <= ix->cap)
		return 0;
	cap = ix->cap ? ix->cap : 64;
	while (cap < want)
		cap *= 2;
	if ((k = reallocarray(ix->key, cap, sizeof(*k))) == NULL)
		return -1;
	ix->key = k;
	if ((v = reallocarray(ix->val, cap, sizeof(*v))) == NULL)
		return -1;
	ix->val = v;
	ix->cap = cap;
	return 0;
}

/* Decode the file; 1 when its contents are not a sane index. */
static int
load(struct kp_index *ix, const uint8_t *p, size_t len)
{
	size_t es = entry_size(ix->kind), n = len / es;

	if (len % es != 0)
		return 1;
	if (grow(ix, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++, p += es) {
		int64_t k, v;

		if (ix->kind == KP_INDEX_OFFSET) {
			k = ix->base + (uint32_t)kp_be32(p);
			v = (uint32_t)kp_be32(p + 4);
			/* offsets and positions strictly increase */
			if (i > 0 && (k <= ix->key[i - 1] ||
			    v <= ix->val[i - 1]))
				return 1;
		} else {
			k = kp_be64(p);
			v = ix->base + (uint32_t)kp_be32(p + 8);
			/* Kafka only appends a larger timestamp */
			if (i > 0 && (k <= ix->key[i - 1] ||
			    v < ix->val[i - 1]))
				return 1;
		}
		ix->key[i] = k;
		ix->val[i] = v;
	}
	ix->n = ix->written = n;
	return 0;
}

int
kp_index_open(struct kp_index *ix, const char *path, int kind, int64_t base,
    size_t max_bytes, bool rdonly)
{
	struct stat st;
	uint8_t *buf = NULL;
	int rc, missing = 0;

	memset(ix, 0, sizeof(*ix));
	ix->fd = -1;
	ix->kind = kind;
	ix->base = base;
	ix->max = max_bytes / entry_size(kind);
	if (ix->max == 0)
		ix->max = 1;
	ix->fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (ix->fd < 0 && errno == ENOENT) {
		missing = 1;
		if (!rdonly)
			ix->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		else
			return 1;
	}
	if (ix->fd < 0 || fstat(ix->fd, &st) < 0)
		goto fail;
	if (missing)
		return 1;
	if (st.st_size > (off_t)64 << 20) {
		rc = 1;		/* absurd for a sparse index */
		goto bad;
	}
	if (st.st_size > 0) {
		if ((buf = malloc((size_t)st.st_size)) == NULL)
			goto fail;
		if (pread(ix->fd, buf, (size_t)st.st_size, 0) != st.st_size) {
			if (errno == 0)
				errno = EIO;
			goto fail;
		}
	}
	rc = load(ix, buf, (size_t)st.st_size);
	free(buf);
	buf = NULL;
	if (rc < 0)
		goto fail;
	if (rc == 0)
		return 0;
bad:
	ix->n = ix->written = 0;
	if (!rdonly && ftruncate(ix->fd, 0) < 0)
		goto fail;
	return 1;
fail:
	free(buf);
	kp_index_close(ix);
	return -1;
}

void
kp_index_close(struct kp_index *ix)
{
	if (ix->fd >= 0) {
		(void)kp_index_write(ix);	/* recovery rebuilds on failure */
		close(ix->fd);
	}
	free(ix->key);
	free(ix->val);
	memset(ix, 0, sizeof(*ix));
	ix->fd = -1;
}

/*
 * Entries go to the file in runs of this many bytes, not one pwrite per
 * batch: the file is only made durable by kp_index_sync anyway, which
 * writes what is pending first, and recovery rebuilds an index that
 * lags its unflushed segment.
 */
#define WRITE_RUN	4096

static void
entry_put(const struct kp_index *ix, size_t i, uint8_t *e)
{
	if (ix->kind == KP_INDEX_OFFSET) {
		kp_put_be32(e, (int32_t)(ix->key[i] - ix->base));
		kp_put_be32(e + 4, (int32_t)ix->val[i]);
	} else {
		kp_put_be64(e, ix->key[i]);
		kp_put_be32(e + 8, (int32_t)(ix->val[i] - ix->base));
	}
}

int
kp_index_write(struct kp_index *ix)
{
	uint8_t run[WRITE_RUN + KP_INDEX_TIME_ENTRY];
	size_t es = entry_size(ix->kind);

	while (ix->written < ix->n) {
		size_t k = 0, len;
		ssize_t w;

		for (; ix->written + k < ix->n && (k + 1) * es <= WRITE_RUN; k++)
			entry_put(ix, ix->written + k, run + k * es);
		len = k * es;
		w = pwrite(ix->fd, run, len, (off_t)(ix->written * es));
		if (w < 0 && errno == EINTR)
			continue;
		if (w != (ssize_t)len) {
			if (w >= 0)
				errno = ENOSPC;
			/* drop a partial run so the file stays whole entries */
			(void)ftruncate(ix->fd, (off_t)(ix->written * es));
			return -1;
		}
		ix->written += k;
	}
	return 0;
}

int
kp_index_append(struct kp_index *ix, int64_t k, int64_t v)
{
	if (grow(ix, ix->n + 1) < 0)
		return -1;
	ix->key[ix->n] = k;
	ix->val[ix->n] = v;
	ix->n++;
	if ((ix->n - ix->written) * entry_size(ix->kind) >= WRITE_RUN &&
	    kp_index_write(ix) < 0) {
		ix->n--;	/* nothing added; the rest stays pending */
		return -1;
	}
	return 0;
}

int
kp_index_truncate(struct kp_index *ix, size_t n)
{
	if (n > ix->n)
		return 0;
	if (ix->fd >= 0 && n < ix->written &&
	    ftruncate(ix->fd, (off_t)(n * entry_size(ix->kind))) < 0)
		return -1;
	ix->n = n;
	if (ix->written > n)
		ix->written = n;
	return 0;
}

ssize_t
kp_index_lookup(const struct kp_index *ix, int64_t k)
{
	size_t lo = 0, hi = ix->n;

	/* first entry with key > k, minus one */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->key[mid] <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

size_t
kp_index_lower_bound(const struct kp_index *ix, int64_t k)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->key[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
kp_index_sync(struct kp_index *ix)
{
	if (ix->fd < 0)
		return 0;
	if (kp_index_write(ix) < 0)
		return -1;
	return fdatasync(ix->fd);
}
