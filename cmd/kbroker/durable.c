/* durable.c -- acks=all answered only once on disk: group commit on a sync thread while the loop goes on */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_log.h"
#include "kbroker.h"
#include "cluster.h"

/*
 * Under kpipe.acks.all.fsync an acks=all Produce appends as usual but its
 * response is parked: complete, not ready, so it and every later answer
 * on its connection wait, in request order. At the end of each loop
 * round the partitions appended to and the responses parked in it form a
 * group; one thread fdatasyncs each partition's active segment once for
 * the whole group while the loop goes on serving (fetches, other
 * producers, whose appends gather in the next group). When the thread is
 * done it wakes the loop through an eventfd and the group's responses
 * are released. One group is in flight at a time: the longer a sync
 * takes, the more the next one carries.
 *
 * The thread sees only dup'ed descriptors; every kp_log and kb_resp is
 * touched by the loop thread alone. The syncs bypass kp_log_flush, so
 * the recovery point stays where it was: after a crash recovery scans
 * the synced tail again, and keeps it.
 */
struct kb_dirty {
	struct kp_log	*log;		/* NULL once the topic is deleted */
	int		 fd;		/* dup of the active segment, in flight */
	int64_t		 end;		/* log end when handed off */
};

struct kb_group {
	struct kb_dirty	*d;
	size_t		 nd, capd;
	struct kb_resp	**parked;
	size_t		 np, capp;
};

struct kb_durable {
	struct kb_group	 next;		/* gathering in this round */
	struct kb_group	 fly;		/* being synced */
	bool		 flying;
	int		 efd;		/* the thread's "done" */
	pthread_t	 th;
	bool		 stopping;	/* no more groups (loop thread) */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 job;		/* fly is the thread's (under mu) */
	bool		 quit;		/* (under mu) */
	int		 err;		/* errno of a failed sync (under mu) */
	long long	 requests;	/* responses released after a sync */
	long long	 syncs;		/* partition syncs done */
};

static int
grow(void *pv, size_t *cap, size_t n, size_t size)
{
	void **p = pv, *np;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if ((np = reallocarray(*p, ncap, size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

bool
kb_durable_wanted(const struct kb_broker *b, int16_t acks)
{
	return acks == -1 && b->durable != NULL;
}

int
kb_durable_dirty(struct kb_broker *b, struct kp_log *log)
{
	struct kb_group *g = &b->durable->next;

	for (size_t i = 0; i < g->nd; i++)
		if (g->d[i].log == log)
			return 0;
	if (grow(&g->d, &g->capd, g->nd, sizeof(*g->d)) == -1)
		return -1;
	g->d[g->nd].log = log;
	g->d[g->nd].fd = -1;
	g->d[g->nd].end = -1;
	g->nd++;
	return 0;
}

int
kb_durable_park(struct kb_broker *b, struct kb_resp *r)
{
	struct kb_group *g = &b->durable->next;

	if (grow(&g->parked, &g->capp, g->np, sizeof(*g->parked)) == -1)
		return -1;
	g->parked[g->np++] = r;
	r->parked = true;
	return 0;
}

static void *
sync_thread(void *arg)
{
	struct kb_durable *d = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		int err = 0;

		while (!d->job && !d->quit)
			pthread_cond_wait(&d->cv, &d->mu);
		if (!d->job)
			break;
		pthread_mutex_unlock(&d->mu);
		for (size_t i = 0; i < d->fly.nd; i++)
			if (d->fly.d[i].fd != -1 &&
			    fdatasync(d->fly.d[i].fd) == -1)
				err = errno;
		pthread_mutex_lock(&d->mu);
		d->job = false;
		d->err = err;
		if (write(d->efd, &one, sizeof(one)) != sizeof(one))
			abort();	/* the loop would wait forever */
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Hand the gathered group to the thread, unless one is in flight. */
static void
hand_off(struct kb_durable *d)
{
	struct kb_group tmp;

	if (d->flying || d->stopping || (d->next.nd == 0 && d->next.np == 0))
		return;
	for (size_t i = 0; i < d->next.nd; i++) {
		struct kb_dirty *x = &d->next.d[i];
		int fd = kp_log_active_fd(x->log);

		x->end = kp_log_end_offset(x->log);
		/* -1 (EMFILE): the response goes out after a failed sync */
		x->fd = fd == -1 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (x->fd == -1)
			x->log = NULL;
	}
	tmp = d->fly;
	d->fly = d->next;
	d->next = tmp;
	d->next.nd = d->next.np = 0;
	d->flying = true;
	pthread_mutex_lock(&d->mu);
	d->job = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
kb_durable_commit(struct kb_broker *b)
{
	if (b->durable != NULL)
		hand_off(b->durable);
}

/* The thread is done with the group in flight: release it. */
void
kb_durable_on_event(struct kb_broker *b)
{
	struct kb_durable *d = b->durable;
	uint64_t n;
	int err;
	bool failed;

	if (read(d->efd, &n, sizeof(n)) != sizeof(n) || !d->flying)
		return;
	pthread_mutex_lock(&d->mu);
	err = d->err;
	pthread_mutex_unlock(&d->mu);
	failed = err != 0;
	for (size_t i = 0; i < d->fly.nd; i++) {
		struct kb_dirty *x = &d->fly.d[i];

		if (x->fd == -1) {
			failed = true;
			continue;
		}
		close(x->fd);
		d->syncs++;
		if (x->log == NULL)
			continue;	/* deleted meanwhile */
		if (err != 0)
			kb_log("%s: sync: %s", kp_log_dir(x->log),
			    strerror(err));
		/*
		 * Consumers see only what a machine crash cannot take. In a
		 * cluster the ISR moves the high watermark (isr.c).
		 */
		else if (!kb_cluster_mode(b) &&
		    x->end > kp_log_high_watermark(x->log)) {
			kp_log_set_high_watermark(x->log, x->end);
			b->wake = true;
		}
	}
	d->fly.nd = 0;
	for (size_t i = 0; i < d->fly.np; i++) {
		struct kb_resp *r = d->fly.parked[i];

		r->parked = false;
		if (failed) {
			/*
			 * Not known to be on disk: never acknowledge. The
			 * response stays unsent, and all after it; the client
			 * sees the connection close and retries.
			 */
			shutdown(r->conn->fd, SHUT_RDWR);
			continue;
		}
		/* acks=all in a cluster waits for the ISR too (isr.c) */
		r->ready = !r->hw_parked;
		d->requests++;
		kb_conn_update_events(r->conn);
	}
	d->fly.np = 0;
	d->flying = false;
	hand_off(d);
}

static void
forget_in(struct kb_group *g, struct kb_conn *c)
{
	size_t j = 0;

	for (size_t i = 0; i < g->np; i++)
		if (g->parked[i]->conn != c)
			g->parked[j++] = g->parked[i];
	g->np = j;
}

void
kb_durable_forget(struct kb_broker *b, struct kb_conn *c)
{
	if (b->durable == NULL)
		return;
	forget_in(&b->durable->next, c);
	forget_in(&b->durable->fly, c);
}

void
kb_durable_drop_log(struct kb_broker *b, struct kp_log *log)
{
	struct kb_durable *d = b->durable;
	size_t j = 0;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->next.nd; i++)
		if (d->next.d[i].log != log)
			d->next.d[j++] = d->next.d[i];
	d->next.nd = j;
	/* the thread holds its own descriptor: only forget the log */
	for (size_t i = 0; i < d->fly.nd; i++)
		if (d->fly.d[i].log == log)
			d->fly.d[i].log = NULL;
}

static void
group_free(struct kb_group *g)
{
	free(g->d);
	free(g->parked);
}

static void
durable_free(struct kb_durable *d)
{
	group_free(&d->next);
	group_free(&d->fly);
	if (d->efd != -1)
		close(d->efd);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d);
}

static int
durable_init(struct kb_broker *b)
{
	struct kb_durable *d;
	struct epoll_event ev;

	if (!b->cfg->acks_all_fsync)
		return 0;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto fail;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if ((d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = KB_TAG_DURABLE;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, d->efd, &ev) == -1)
		goto fail;
	if ((errno = pthread_create(&d->th, NULL, sync_thread, d)) != 0)
		goto fail;
	b->durable = d;
	return 0;
fail:
	kb_log("kpipe.acks.all.fsync: sync thread: %s", strerror(errno));
	if (d != NULL)
		durable_free(d);
	return -1;
}

/* Stopping: connections are gone; let a sync in flight finish. */
static void
durable_fini(struct kb_broker *b)
{
	struct kb_durable *d = b->durable;

	if (d == NULL)
		return;
	d->stopping = true;
	pthread_mutex_lock(&d->mu);
	d->quit = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->th, NULL);
	if (d->flying)
		kb_durable_on_event(b);
	/* what is left in d->next is flushed with the store */
	kb_log("acks=all fsync: %lld produce request(s) acknowledged after "
	    "%lld partition sync(s)", d->requests, d->syncs);
	durable_free(d);
	b->durable = NULL;
}

KB_HOOK(durable, durable_init, NULL, durable_fini)
