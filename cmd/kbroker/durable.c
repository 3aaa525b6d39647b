/* durable.c -- acks=all answered only once on disk: group commit of the partitions appended in one loop round */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_log.h"
#include "kbroker.h"

/*
 * Under kpipe.acks.all.fsync an acks=all Produce appends as usual but its
 * response is parked (complete, not ready). The loop calls
 * kb_durable_commit once per round, after every readable connection had
 * its turn: each partition appended in the round is fdatasync'ed once,
 * however many producers wrote to it, and only then are the parked
 * responses released. A connection's later responses queue behind a
 * parked one, so answers stay in request order.
 */
struct kb_durable {
	struct kp_log	**dirty;
	size_t		 ndirty, dirty_cap;
	struct kb_resp	**parked;
	size_t		 nparked, parked_cap;
	long long	 requests;	/* responses released after a sync */
	long long	 syncs;		/* partition syncs done */
};

static struct kb_durable *
state(struct kb_broker *b)
{
	if (b->durable == NULL)
		b->durable = calloc(1, sizeof(struct kb_durable));
	return b->durable;
}

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
	return acks == -1 && b->cfg->acks_all_fsync;
}

int
kb_durable_dirty(struct kb_broker *b, struct kp_log *log)
{
	struct kb_durable *d = state(b);

	if (d == NULL)
		return -1;
	for (size_t i = 0; i < d->ndirty; i++)
		if (d->dirty[i] == log)
			return 0;
	if (grow(&d->dirty, &d->dirty_cap, d->ndirty, sizeof(*d->dirty)) == -1)
		return -1;
	d->dirty[d->ndirty++] = log;
	return 0;
}

int
kb_durable_park(struct kb_broker *b, struct kb_resp *r)
{
	struct kb_durable *d = state(b);

	if (d == NULL || grow(&d->parked, &d->parked_cap, d->nparked,
	    sizeof(*d->parked)) == -1)
		return -1;
	d->parked[d->nparked++] = r;
	r->parked = true;
	return 0;
}

bool
kb_durable_pending(const struct kb_broker *b)
{
	const struct kb_durable *d = b->durable;

	return d != NULL && (d->ndirty > 0 || d->nparked > 0);
}

void
kb_durable_commit(struct kb_broker *b)
{
	struct kb_durable *d = b->durable;
	bool failed = false;

	if (d == NULL || (d->ndirty == 0 && d->nparked == 0))
		return;
	for (size_t i = 0; i < d->ndirty; i++) {
		struct kp_log *log = d->dirty[i];

		if (kp_log_flush(log) == -1) {
			kb_log("%s: sync: %s", kp_log_dir(log),
			    strerror(errno));
			failed = true;
			continue;
		}
		d->syncs++;
		/* Consumers see only what a machine crash cannot take. */
		kp_log_set_high_watermark(log, kp_log_end_offset(log));
		b->wake = true;
	}
	d->ndirty = 0;
	for (size_t i = 0; i < d->nparked; i++) {
		struct kb_resp *r = d->parked[i];

		r->parked = false;
		if (failed) {
			/*
			 * Not on disk: never acknowledge. The response stays
			 * unsent (so do all after it) and the client sees
			 * the connection close and retries.
			 */
			shutdown(r->conn->fd, SHUT_RDWR);
			continue;
		}
		r->ready = true;
		d->requests++;
		kb_conn_update_events(r->conn);
	}
	d->nparked = 0;
}

void
kb_durable_forget(struct kb_broker *b, struct kb_conn *c)
{
	struct kb_durable *d = b->durable;
	size_t j = 0;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nparked; i++)
		if (d->parked[i]->conn != c)
			d->parked[j++] = d->parked[i];
	d->nparked = j;
}

void
kb_durable_drop_log(struct kb_broker *b, struct kp_log *log)
{
	struct kb_durable *d = b->durable;
	size_t j = 0;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->ndirty; i++)
		if (d->dirty[i] != log)
			d->dirty[j++] = d->dirty[i];
	d->ndirty = j;
}

static void
durable_fini(struct kb_broker *b)
{
	struct kb_durable *d = b->durable;

	if (d == NULL)
		return;
	kb_durable_commit(b);
	if (b->cfg->acks_all_fsync)
		kb_log("acks=all fsync: %lld produce request(s) acknowledged "
		    "after %lld partition sync(s)", d->requests, d->syncs);
	free(d->dirty);
	free(d->parked);
	free(d);
	b->durable = NULL;
}

KB_HOOK(durable, NULL, NULL, durable_fini)
