/* kp_bgio.c -- file work a broker's event loop hands to a thread of its own */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_bgio.h"
#include "kp_store.h"

/*
 * Measured (bench "produce 16 part", perf trace of kbroker): when 16
 * partitions crossed a writeback step together, the event loop spent
 * up to 16 ms in one sync_file_range (the block layer's writeback
 * throttle) and 12 ms in fsync and rename for the checkpoints; the
 * producer's queue filled meanwhile and librdkafka stayed for the rest
 * of the run in a mode of bigger, later batches at 3/4 of the rate.
 */
enum job_kind { JOB_WRITEBACK, JOB_DROP, JOB_FILE };

struct job {
	struct job	*next;
	struct job	*hnext;		/* JOB_FILE: in pending[], by path */
	enum job_kind	 kind;
	int		 fd;		/* our own dup: the caller may close its */
	int64_t		 off, len;
	char		*path;
	void		*data;
	size_t		 dlen;
};

/* A full queue makes the caller wait: memory stays bounded. */
#define QUEUE_MAX	1024
/*
 * File writes not yet started, by path. A newer write of the same file
 * takes the place of the queued one: each partition's checkpoint is
 * queued every tick, and on a disk slower than that (1,000 partitions,
 * an fsync and a rename each) the queue would otherwise fill and stall
 * the caller. The last content still lands, in its turn.
 */
#define PENDING_BUCKETS	256

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static struct job *head, **tailp = &head;
static struct job *pending[PENDING_BUCKETS];
static uint64_t queued, done;	/* jobs ever queued and finished */
static bool running, stopping;
static pthread_t thread;
static int fail_errno;
static char fail_path[PATH_MAX];

/* 0, or -1 with errno: only a file write can fail. */
static int
run(struct job *j)
{
	switch (j->kind) {
	case JOB_WRITEBACK:
		(void)sync_file_range(j->fd, (off_t)j->off, (off_t)j->len,
		    SYNC_FILE_RANGE_WRITE);
		break;
	case JOB_DROP:
		(void)sync_file_range(j->fd, (off_t)j->off, (off_t)j->len,
		    SYNC_FILE_RANGE_WAIT_BEFORE);
		(void)posix_fadvise(j->fd, (off_t)j->off, (off_t)j->len,
		    POSIX_FADV_DONTNEED);
		break;
	case JOB_FILE:
		return kp_write_file_atomic(j->path, j->data, j->dlen);
	}
	return 0;
}

static struct job **
pending_slot(const char *path)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	struct job **jp;

	for (const char *c = path; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (jp = &pending[h % PENDING_BUCKETS]; *jp != NULL;
	    jp = &(*jp)->hnext)
		if (strcmp((*jp)->path, path) == 0)
			break;
	return jp;
}

static void
job_free(struct job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j->data);
	free(j);
}

static void
note_failure(const char *path, int e)
{
	pthread_mutex_lock(&mu);
	if (fail_errno == 0) {
		fail_errno = e;
		strlcpy(fail_path, path, sizeof(fail_path));
	}
	pthread_mutex_unlock(&mu);
}

static void *
worker(void *arg)
{
	struct job *j;

	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (head == NULL && !stopping)
			pthread_cond_wait(&work_cv, &mu);
		if ((j = head) == NULL)
			break;
		if ((head = j->next) == NULL)
			tailp = &head;
		if (j->kind == JOB_FILE)
			*pending_slot(j->path) = j->hnext;
		pthread_mutex_unlock(&mu);
		if (run(j) != 0)
			note_failure(j->path, errno);
		/* unlocked: the last close of a deleted segment can take ms */
		job_free(j);
		pthread_mutex_lock(&mu);
		done++;
		pthread_cond_broadcast(&done_cv);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int
kp_bgio_start(void)
{
	int e;

	pthread_mutex_lock(&mu);
	if (running) {
		pthread_mutex_unlock(&mu);
		return 0;
	}
	stopping = false;
	e = pthread_create(&thread, NULL, worker, NULL);
	running = e == 0;
	pthread_mutex_unlock(&mu);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

void
kp_bgio_stop(void)
{
	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		return;
	}
	stopping = true;
	pthread_cond_signal(&work_cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	pthread_mutex_lock(&mu);
	running = false;
	pthread_mutex_unlock(&mu);
}

/* Queue j (0), or run it here when there is no worker: its result. */
static int
submit(struct job *j)
{
	struct job **jp = NULL, *old;
	void *data;
	int rc, e;

	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		rc = run(j);
		e = errno;
		job_free(j);
		errno = e;
		return rc;
	}
	for (;;) {
		if (j->kind == JOB_FILE &&
		    (old = *(jp = pending_slot(j->path))) != NULL) {
			data = old->data;
			old->data = j->data;
			old->dlen = j->dlen;
			j->data = data;
			pthread_mutex_unlock(&mu);
			job_free(j);
			return 0;
		}
		if (queued - done < QUEUE_MAX)
			break;
		pthread_cond_wait(&done_cv, &mu);
	}
	j->next = NULL;
	*tailp = j;
	tailp = &j->next;
	if (j->kind == JOB_FILE) {
		j->hnext = NULL;
		*jp = j;
	}
	queued++;
	pthread_cond_signal(&work_cv);
	pthread_mutex_unlock(&mu);
	return 0;
}

static void
range_job(enum job_kind kind, int fd, int64_t off, int64_t len)
{
	struct job *j;

	if (len <= 0)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		struct job now = { .kind = kind, .fd = fd, .off = off,
		    .len = len };

		(void)run(&now);
		return;
	}
	j->kind = kind;
	j->off = off;
	j->len = len;
	if ((j->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		free(j);
		return;		/* out of descriptors: the kernel still will */
	}
	(void)submit(j);
}

void
kp_bgio_writeback(int fd, int64_t off, int64_t len)
{
	range_job(JOB_WRITEBACK, fd, off, len);
}

void
kp_bgio_drop(int fd, int64_t off, int64_t len)
{
	range_job(JOB_DROP, fd, off, len);
}

int
kp_bgio_write_file(const char *path, const void *data, size_t len)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->path = strdup(path)) == NULL ||
	    (j->data = malloc(len > 0 ? len : 1)) == NULL) {
		if (j != NULL)
			free(j->path);
		free(j);
		errno = ENOMEM;	/* not inline: it could land before older */
		return -1;
	}
	j->kind = JOB_FILE;
	j->fd = -1;
	memcpy(j->data, data, len);
	j->dlen = len;
	return submit(j);
}

void
kp_bgio_drain(void)
{
	uint64_t want;

	pthread_mutex_lock(&mu);
	want = queued;
	while (done < want)
		pthread_cond_wait(&done_cv, &mu);
	pthread_mutex_unlock(&mu);
}

size_t
kp_bgio_pending(void)
{
	size_t n;

	pthread_mutex_lock(&mu);
	n = (size_t)(queued - done);
	pthread_mutex_unlock(&mu);
	return n;
}

int
kp_bgio_failed(char *buf, size_t len)
{
	int e;

	pthread_mutex_lock(&mu);
	e = fail_errno;
	if (e != 0 && len > 0)
		strlcpy(buf, fail_path, len);
	fail_errno = 0;
	pthread_mutex_unlock(&mu);
	return e;
}
