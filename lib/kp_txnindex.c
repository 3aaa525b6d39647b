/* kp_txnindex.c -- a segment's aborted transaction index (.txnindex) */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_txnindex.h"

/* Far more than any segment holds; a file this big is not ours. */
#define FILE_MAX	((off_t)64 << 20)

void
kp_txnindex_encode(uint8_t *p, const struct kp_txn_entry *e)
{
	kp_put_be16(p, 0);
	kp_put_be64(p + 2, e->pid);
	kp_put_be64(p + 10, e->first_offset);
	kp_put_be64(p + 18, e->last_offset);
	kp_put_be64(p + 26, e->lso);
}

int
kp_txnindex_decode(const uint8_t *p, size_t len, struct kp_txn_entry *e)
{
	if (len < KP_TXNINDEX_ENTRY)
		return 0;
	if (kp_be16(p) != 0)
		return -1;
	e->pid = kp_be64(p + 2);
	e->first_offset = kp_be64(p + 10);
	e->last_offset = kp_be64(p + 18);
	e->lso = kp_be64(p + 26);
	if (e->pid < 0 || e->first_offset < 0 ||
	    e->first_offset > e->last_offset || e->lso < 0)
		return -1;
	return KP_TXNINDEX_ENTRY;
}

static int
grow(struct kp_txnindex *x)
{
	struct kp_txn_entry *ne;
	size_t cap;

	if (x->n < x->cap)
		return 0;
	cap = x->cap ? x->cap * 2 : 8;
	if ((ne = reallocarray(x->e, cap, sizeof(*ne))) == NULL)
		return -1;
	x->e = ne;
	x->cap = cap;
	return 0;
}

ssize_t
kp_txnindex_load(struct kp_txnindex *x, const uint8_t *p, size_t len)
{
	size_t pos = 0;
	struct kp_txn_entry e;

	while (kp_txnindex_decode(p + pos, len - pos, &e) > 0) {
		if (x->n > 0 && e.last_offset <= x->e[x->n - 1].last_offset)
			break;	/* markers only go forward */
		if (grow(x) == -1)
			return -1;
		x->e[x->n++] = e;
		pos += KP_TXNINDEX_ENTRY;
	}
	return (ssize_t)pos;
}

static int
read_file(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size > FILE_MAX) {
		errno = EFBIG;
		return -1;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		return -1;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, p + got, (size_t)st.st_size - got,
		    (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(p);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*out = p;
	*len = got;
	return 0;
}

int
kp_txnindex_open(struct kp_txnindex *x, const char *path, bool rdonly)
{
	uint8_t *p = NULL;
	size_t len = 0;
	ssize_t took;
	int e;

	memset(x, 0, sizeof(*x));
	x->fd = -1;
	x->rdonly = rdonly;
	if ((x->path = strdup(path)) == NULL)
		return -1;
	x->fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (x->fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (read_file(x->fd, &p, &len) == -1 ||
	    (took = kp_txnindex_load(x, p, len)) == -1)
		goto fail;
	free(p);
	if ((size_t)took == len)
		return 0;
	if (!rdonly && ftruncate(x->fd, (off_t)took) == -1)
		return -1;
	return 1;
fail:
	e = errno;
	free(p);
	errno = e;
	return -1;
}

void
kp_txnindex_close(struct kp_txnindex *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	free(x->e);
	free(x->path);
	x->e = NULL;
	x->path = NULL;
	x->n = x->cap = 0;
}

/* Write entries [from, n) at their place in the file. */
static int
write_from(struct kp_txnindex *x, size_t from)
{
	uint8_t buf[KP_TXNINDEX_ENTRY];

	if (x->rdonly) {
		errno = EROFS;
		return -1;
	}
	if (x->fd < 0 && (x->fd = open(x->path, O_RDWR | O_CREAT |
	    O_CLOEXEC, 0644)) < 0)
		return -1;
	for (size_t i = from; i < x->n; i++) {
		off_t at = (off_t)(i * KP_TXNINDEX_ENTRY);
		size_t done = 0;

		kp_txnindex_encode(buf, &x->e[i]);
		while (done < sizeof(buf)) {
			ssize_t w = pwrite(x->fd, buf + done,
			    sizeof(buf) - done, at + (off_t)done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				if (w == 0)
					errno = ENOSPC;
				return -1;
			}
			done += (size_t)w;
		}
	}
	x->dirty = true;
	return 0;
}

int
kp_txnindex_add(struct kp_txnindex *x, const struct kp_txn_entry *e)
{
	size_t at = x->n;

	if (e->pid < 0 || e->first_offset < 0 ||
	    e->first_offset > e->last_offset || e->lso < 0) {
		errno = EINVAL;
		return -1;
	}
	while (at > 0 && x->e[at - 1].last_offset >= e->last_offset)
		at--;
	if (at < x->n && x->e[at].last_offset == e->last_offset) {
		errno = EEXIST;
		return -1;
	}
	if (grow(x) == -1)
		return -1;
	memmove(&x->e[at + 1], &x->e[at], (x->n - at) * sizeof(*x->e));
	x->e[at] = *e;
	x->n++;
	if (write_from(x, at) == -1) {
		int err = errno;

		memmove(&x->e[at], &x->e[at + 1],
		    (x->n - at - 1) * sizeof(*x->e));
		x->n--;
		if (x->fd >= 0)
			(void)ftruncate(x->fd,
			    (off_t)(x->n * KP_TXNINDEX_ENTRY));
		(void)write_from(x, at);
		errno = err;
		return -1;
	}
	return 0;
}

int
kp_txnindex_truncate(struct kp_txnindex *x, int64_t offset)
{
	size_t n = x->n;

	while (n > 0 && x->e[n - 1].last_offset >= offset)
		n--;
	if (n == x->n)
		return 0;
	x->n = n;
	if (x->rdonly || x->fd < 0)
		return 0;
	if (ftruncate(x->fd, (off_t)(n * KP_TXNINDEX_ENTRY)) == -1)
		return -1;
	x->dirty = true;
	return 0;
}

bool
kp_txnindex_has(const struct kp_txnindex *x, int64_t last_offset)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->e[mid].last_offset < last_offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n && x->e[lo].last_offset == last_offset;
}

int
kp_txnindex_sync(struct kp_txnindex *x)
{
	if (!x->dirty || x->fd < 0)
		return 0;
	if (fdatasync(x->fd) == -1)
		return -1;
	x->dirty = false;
	return 0;
}
