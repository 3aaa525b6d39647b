/* kp_epoch.c -- a partition's leader-epoch cache and its leader-epoch-checkpoint file */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_epoch.h"
#include "kp_log.h"

#define FILE_MAX	(1 << 20)	/* a checkpoint is a few lines */

void
kp_epoch_init(struct kp_epoch_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void
kp_epoch_release(struct kp_epoch_cache *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

int32_t
kp_epoch_latest(const struct kp_epoch_cache *c)
{
	return c->n > 0 ? c->e[c->n - 1].epoch : -1;
}

int
kp_epoch_assign(struct kp_epoch_cache *c, int32_t epoch, int64_t start)
{
	size_t j = 0;

	if (epoch < 0 || start < 0)
		return 0;
	if (c->n > 0 && c->e[c->n - 1].epoch == epoch &&
	    c->e[c->n - 1].start <= start)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].epoch < epoch && c->e[i].start < start)
			c->e[j++] = c->e[i];
	c->n = j;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct kp_epoch_entry *ne = reallocarray(c->e, ncap,
		    sizeof(*ne));

		if (ne == NULL)
			return -1;
		c->e = ne;
		c->cap = ncap;
	}
	c->e[c->n].epoch = epoch;
	c->e[c->n].start = start;
	c->n++;
	return 1;
}

int
kp_epoch_truncate(struct kp_epoch_cache *c, int64_t end)
{
	size_t n = c->n;

	while (c->n > 0 && c->e[c->n - 1].start >= end)
		c->n--;
	return c->n != n;
}

void
kp_epoch_end_for(const struct kp_epoch_cache *c, int32_t epoch, int64_t leo,
    int32_t *out_epoch, int64_t *out_end)
{
	size_t i;

	*out_epoch = -1;
	*out_end = -1;
	if (epoch < 0 || c->n == 0)
		return;
	if (c->e[c->n - 1].epoch == epoch) {
		*out_epoch = epoch;
		*out_end = leo;
		return;
	}
	/* the first entry with a larger epoch: where the floor one ended */
	for (i = 0; i < c->n && c->e[i].epoch <= epoch; i++)
		;
	if (i == c->n)
		return;		/* newer than anything known */
	*out_epoch = i == 0 ? epoch : c->e[i - 1].epoch;
	*out_end = c->e[i].start;
}

static int
parse(struct kp_epoch_cache *c, char *text)
{
	char *line, *save = NULL, *end;
	long long n, i = 0;

	c->n = 0;
	if ((line = strtok_r(text, "\n", &save)) == NULL ||
	    strcmp(line, "0") != 0)
		return -1;
	if ((line = strtok_r(NULL, "\n", &save)) == NULL)
		return -1;
	errno = 0;
	n = strtoll(line, &end, 10);
	if (errno || *end != '\0' || n < 0 || n > INT_MAX)
		return -1;
	for (; i < n; i++) {
		long long e, s;

		if ((line = strtok_r(NULL, "\n", &save)) == NULL)
			return -1;
		errno = 0;
		e = strtoll(line, &end, 10);
		if (errno || *end != ' ' || e < 0 || e > INT32_MAX)
			return -1;
		s = strtoll(end + 1, &end, 10);
		if (errno || *end != '\0' || s < 0)
			return -1;
		if (c->n > 0 && (c->e[c->n - 1].epoch >= e ||
		    c->e[c->n - 1].start > s))
			return -1;
		if (kp_epoch_assign(c, (int32_t)e, s) == -1)
			return -2;
	}
	return strtok_r(NULL, "\n", &save) == NULL ? 0 : -1;
}

int
kp_epoch_load(struct kp_epoch_cache *c, const char *dir)
{
	char path[PATH_MAX], *text = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    KP_EPOCH_FILE) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((text = malloc(FILE_MAX + 1)) == NULL)
		goto fail;
	while (len < FILE_MAX &&
	    (n = read(fd, text + len, FILE_MAX - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		len += (size_t)n;
	}
	text[len] = '\0';
	close(fd);
	fd = -1;
	rc = parse(c, text);
	free(text);
	if (rc == -1)
		errno = EINVAL;
	if (rc != 0)
		c->n = 0;
	return rc == 0 ? 0 : -1;
fail:
	rc = errno;
	if (fd != -1)
		close(fd);
	free(text);
	errno = rc;
	return -1;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
kp_epoch_save(const struct kp_epoch_cache *c, const char *dir)
{
	char path[PATH_MAX], tmp[PATH_MAX], line[64];
	struct kp_buf b;
	int fd = -1, saved;

	kp_buf_init(&b);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    KP_EPOCH_FILE) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(line, sizeof(line), "0\n%zu\n", c->n);
	kp_buf_put(&b, line, strlen(line));
	for (size_t i = 0; i < c->n; i++) {
		snprintf(line, sizeof(line), "%" PRId32 " %" PRId64 "\n",
		    c->e[i].epoch, c->e[i].start);
		kp_buf_put(&b, line, strlen(line));
	}
	if (b.err) {
		errno = b.err;
		goto fail;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || write_all(fd, (const char *)b.data, b.len) == -1 ||
	    fdatasync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	kp_buf_release(&b);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	kp_buf_release(&b);
	errno = saved;
	return -1;
}

/* Walk one slice's batches, noting where each epoch starts. */
static int
scan(struct kp_epoch_cache *c, const struct kp_buf *b)
{
	size_t pos = 0;

	while (pos < b->len) {
		struct kp_batch_header h;
		ssize_t n = kp_batch_header_decode(b->data + pos, b->len - pos,
		    &h);

		if (n <= 0 || (size_t)n > b->len - pos)
			break;
		if (kp_epoch_assign(c, h.partition_leader_epoch,
		    h.base_offset) == -1)
			return -1;
		pos += (size_t)n;
	}
	return 0;
}

int
kp_epoch_rebuild(struct kp_epoch_cache *c, struct kp_log *log)
{
	int64_t off = kp_log_start_offset(log), end = kp_log_end_offset(log);
	struct kp_log_slice s;
	struct kp_buf b;
	int rc = 0;

	c->n = 0;
	kp_buf_init(&b);
	while (off < end) {
		if (kp_log_read(log, off, 1 << 20, end, &s) != KP_NONE) {
			errno = EIO;
			rc = -1;
			break;
		}
		if (s.len == 0 || s.next_offset <= off)
			break;
		kp_buf_reset(&b);
		if (kp_log_slice_load(&s, &b) == -1 || scan(c, &b) == -1) {
			rc = -1;
			break;
		}
		off = s.next_offset;
	}
	kp_buf_release(&b);
	return rc;
}
