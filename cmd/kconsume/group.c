/* group.c -- kconsume's consumer group mode: read what the group assigns, commit, rebalance */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "group.h"
#include "kp_batch.h"
#include "kp_cli.h"
#include "kp_err.h"
#include "kp_gmember.h"
#include "kp_json.h"
#include "kp_proto_fetch.h"
#include "kp_txn.h"

#define MAX_BATCH_INFLATE	(256u << 20)
#define FETCH_WAIT_MS		500

struct gpart {
	const char	*topic;		/* borrowed from the member's assignment */
	int32_t		 id;
	int64_t		 next;		/* next offset to output */
	int64_t		 end;		/* -e: stop here; -1 none */
	int64_t		 committed;	/* last next-offset committed */
	int64_t		 down_since;	/* mono ms it lost its leader; 0 up */
	int16_t		 down_err;	/* why it is down */
	bool		 done;
	bool		 reset;		/* out of range: look again */
	bool		 resolved;	/* next and end are known */
};

struct gstate {
	struct kp_client	*c;
	struct consume_opts	*o;
	const struct group_opts	*g;
	struct consume_stats	*st;
	struct kp_gmember	*gm;
	struct gpart		*p;
	size_t			 n, ndone;
	int64_t			*offs;		/* scratch for commits */
	struct recout		 out;
	struct kp_arena		 arena;
	struct kp_buf		 body;
	int64_t			 next_commit;
	int64_t			 retry_at;	/* mono ms: look for leaders again */
	int			 down_tries;
	int			 fatal;
	volatile int		*stop;
	struct kp_txn_filter	 filter;	/* read_committed */
};

static void
flush_out(struct gstate *gs)
{
	if (recout_flush(&gs->out) < 0)
		gs->fatal = EX_IOERR;
}

/* ---- positions ---- */

static void
part_done(struct gstate *gs, struct gpart *p)
{
	if (!p->done) {
		p->done = true;
		gs->ndone++;
	}
}

static bool
count_reached(const struct gstate *gs)
{
	return gs->o->count > 0 && gs->st->records >= (uint64_t)gs->o->count;
}

/*
 * A partition without a leader is not read (nor committed, if it never
 * was) until metadata shows one again; the others go on.
 */
static void
part_down(struct gpart *p, int16_t why)
{
	if (p->down_since == 0)
		p->down_since = kp_mono_ms();
	p->down_err = why;
}

static bool
needs_resolve(const struct gpart *p)
{
	return !p->done && (!p->resolved || p->reset);
}

static int32_t
leader_of(struct gstate *gs, const struct gpart *p)
{
	const struct kp_topic_meta *t = kp_client_topic(gs->c, p->topic);

	return t != NULL && p->id < t->nparts ? t->parts[p->id].leader : -1;
}

/*
 * Where each partition of one topic that needs it starts: the committed
 * offset, else -o; with -e, where it ends (the high watermark now).
 * Out-of-range partitions move to the log start or end, as
 * auto.offset.reset. Those without a leader wait for one.
 */
static int
resolve_topic(struct gstate *gs, struct gpart *v, size_t n)
{
	const struct kp_offspec *s = &gs->o->spec;
	struct gpart **w = calloc(n, sizeof(*w));
	int32_t *ids = calloc(n, sizeof(*ids));
	int64_t *lo = calloc(n, sizeof(*lo)), *hi = calloc(n, sizeof(*hi));
	int64_t *at = calloc(n, sizeof(*at));
	int16_t *fail = calloc(n, sizeof(*fail));
	size_t m = 0;
	int rc = -1;

	if (w == NULL || ids == NULL || lo == NULL || hi == NULL ||
	    at == NULL || fail == NULL) {
		kp_client_seterr(gs->c, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!needs_resolve(&v[i]))
			continue;
		if (leader_of(gs, &v[i]) < 0) {
			part_down(&v[i], KP_LEADER_NOT_AVAILABLE);
			continue;
		}
		w[m] = &v[i];
		ids[m] = v[i].id;
		at[m] = -1;
		m++;
	}
	if (m > 0 && kp_client_log_bounds_some(gs->c, v[0].topic, ids, m,
	    s->start.kind == KP_OFF_TIME ? &s->start.v : NULL, lo, hi, at,
	    fail) < 0)
		goto out;
	for (size_t i = 0; i < m; i++) {
		struct gpart *p = w[i];

		if (fail[i] != 0) {
			part_down(p, fail[i]);
			continue;
		}
		p->down_since = 0;
		if (p->reset)
			p->next = p->next < lo[i] ? lo[i] : hi[i];
		else if (p->committed >= 0)
			p->next = p->committed;
		else
			p->next = kp_offpos_resolve(&s->start, lo[i], hi[i],
			    at[i]);
		if (p->next < lo[i] || p->next > hi[i])
			p->next = p->next < lo[i] ? lo[i] : hi[i];
		if (!p->reset)
			p->end = gs->o->exit_at_end ? hi[i] : -1;
		p->reset = false;
		p->resolved = true;
		if (p->end >= 0 && p->next >= p->end)
			part_done(gs, p);
	}
	rc = 0;
out:
	free(w);
	free(ids);
	free(lo);
	free(hi);
	free(at);
	free(fail);
	return rc;
}

/* Group partitions by topic (they come sorted) and resolve each run. */
static int
resolve(struct gstate *gs)
{
	for (size_t i = 0, j; i < gs->n; i = j) {
		bool any = false;

		for (j = i; j < gs->n && strcmp(gs->p[j].topic,
		    gs->p[i].topic) == 0; j++)
			any = any || needs_resolve(&gs->p[j]);
		if (any && resolve_topic(gs, &gs->p[i], j - i) < 0)
			return -1;
	}
	return 0;
}

static bool
any_down(const struct gstate *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		if (!gs->p[i].done && gs->p[i].down_since != 0)
			return true;
	return false;
}

/*
 * -e and every partition left has had no leader for --timeout-ms: say
 * which, and give up on them.
 */
static bool
give_up(struct gstate *gs, int64_t now)
{
	size_t i;

	if (!gs->o->exit_at_end || gs->ndone == gs->n)
		return false;
	for (i = 0; i < gs->n; i++)
		if (!gs->p[i].done && (gs->p[i].down_since == 0 ||
		    now - gs->p[i].down_since < gs->o->timeout_ms))
			return false;
	for (i = 0; i < gs->n; i++)
		if (!gs->p[i].done)
			warnx("topic '%s' partition %d: %s for %d ms, not "
			    "read", gs->p[i].topic, gs->p[i].id,
			    kp_kerr_name(gs->p[i].down_err),
			    gs->o->timeout_ms);
	return true;
}

/* Take the member's new assignment. 0, or -1 with a message printed. */
static int
take_assignment(struct gstate *gs)
{
	const struct kp_assign_tp *a;
	const char **topics;
	int64_t *committed;
	size_t n, nt = 0;
	int rc = -1;

	a = kp_gmember_assigned(gs->gm, &n);
	free(gs->p);
	free(gs->offs);
	gs->p = calloc(n + 1, sizeof(*gs->p));
	gs->offs = calloc(n + 1, sizeof(*gs->offs));
	committed = calloc(n + 1, sizeof(*committed));
	topics = calloc(n + 1, sizeof(*topics));
	gs->n = gs->ndone = 0;
	if (gs->p == NULL || gs->offs == NULL || committed == NULL ||
	    topics == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < n; i++) {
		gs->p[i].topic = a[i].topic;
		gs->p[i].id = a[i].partition;
		gs->p[i].end = -1;
		gs->p[i].committed = -1;
		if (nt == 0 || strcmp(topics[nt - 1], a[i].topic) != 0)
			topics[nt++] = a[i].topic;
	}
	gs->n = n;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (kp_client_metadata(gs->c, topics, nt, false) < 0) {
		warnx("%s", kp_client_error(gs->c));
		goto out;
	}
	if (kp_gmember_committed(gs->gm, committed) < 0) {
		warnx("%s", kp_gmember_error(gs->gm));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		gs->p[i].committed = committed[i];
	if (resolve(gs) < 0) {
		warnx("%s", kp_client_error(gs->c));
		goto out;
	}
	rc = 0;
out:
	free(committed);
	free(topics);
	return rc;
}

/*
 * Commit every partition's position that moved. 0 done (or nothing to
 * do), 1 the generation is gone, -1 failed (message printed).
 */
static int
commit(struct gstate *gs)
{
	bool any = false;
	int rc;

	if (gs->g->commit == COMMIT_NONE || gs->n == 0)
		return 0;
	for (size_t i = 0; i < gs->n; i++) {
		/* a partition never placed has no position of its own */
		gs->offs[i] = gs->p[i].resolved &&
		    gs->p[i].next != gs->p[i].committed ? gs->p[i].next : -1;
		any = any || gs->offs[i] >= 0;
	}
	if (!any)
		return 0;
	rc = kp_gmember_commit(gs->gm, gs->offs);
	if (rc == 0)
		for (size_t i = 0; i < gs->n; i++)
			if (gs->offs[i] >= 0)
				gs->p[i].committed = gs->offs[i];
	if (rc < 0)
		warnx("%s", kp_gmember_error(gs->gm));
	return rc;
}

/* Commit what we have, then join the next generation. */
static int
rebalance(struct gstate *gs, bool commit_first)
{
	if (commit_first && gs->g->commit == COMMIT_AUTO)
		(void)commit(gs);	/* refused if the generation is gone */
	if (kp_gmember_join(gs->gm, gs->stop) < 0) {
		if (!*gs->stop)
			warnx("%s", kp_gmember_error(gs->gm));
		gs->n = gs->ndone = 0;	/* the old assignment is gone */
		return -1;
	}
	return take_assignment(gs);
}

/* ---- fetching ---- */

static struct gpart *
find_part(struct gstate *gs, const struct kp_str *topic, int32_t id)
{
	for (size_t i = 0; i < gs->n; i++)
		if (gs->p[i].id == id && kp_str_eq(topic, gs->p[i].topic))
			return &gs->p[i];
	return NULL;
}

/* Records of one partition into the output buffer. -1 fatal. */
static int
take_records(struct gstate *gs, struct gpart *p, const uint8_t *buf,
    size_t len)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record r;
	ssize_t total;
	int rc;

	while (len > 0 && !p->done && !count_reached(gs)) {
		total = kp_batch_header_decode(buf, len, &h);
		if (total <= 0 || (size_t)total > len)
			break;
		/* every batch, in order: it follows the ABORT markers */
		if (kp_txn_filter_skip(&gs->filter, &h, buf, (size_t)total) ||
		    kp_batch_last_offset(&h) < p->next)
			goto skip;
		if ((rc = kp_batch_iter_init(&it, buf, (size_t)total,
		    MAX_BATCH_INFLATE)) != 0) {
			kp_batch_iter_release(&it);
			warnx("topic '%s' partition %d offset %lld: %s",
			    p->topic, p->id, (long long)h.base_offset,
			    kp_kerr_name((int16_t)rc));
			gs->fatal = EX_DATAERR;
			return -1;
		}
		while ((rc = kp_batch_iter_next(&it, &r)) == 1) {
			if (r.offset < p->next)
				continue;
			if (p->end >= 0 && r.offset >= p->end) {
				part_done(gs, p);
				break;
			}
			if (recout_emit(&gs->out, p->topic, p->id, &r) < 0) {
				kp_batch_iter_release(&it);
				gs->fatal = EX_OSERR;
				return -1;
			}
			gs->st->records++;
			p->next = r.offset + 1;
			if (count_reached(gs))
				break;
		}
		kp_batch_iter_release(&it);
		if (rc < 0) {
			warnx("topic '%s' partition %d offset %lld: corrupt "
			    "record batch", p->topic, p->id,
			    (long long)h.base_offset);
			gs->fatal = EX_DATAERR;
			return -1;
		}
skip:
		if (!p->done && !count_reached(gs) &&
		    kp_batch_last_offset(&h) + 1 > p->next)
			p->next = kp_batch_last_offset(&h) + 1;
		buf += total;
		len -= (size_t)total;
	}
	if (p->end >= 0 && p->next >= p->end)
		part_done(gs, p);
	return 0;
}

/* One Fetch to the connection k for its partitions. -1 on failure. */
static int
fetch_from(struct gstate *gs, struct kp_conn *k, struct gpart **v, size_t n)
{
	struct kp_fetch_req rq;
	struct kp_fetch_resp rs;
	struct kp_fetch_req_topic *ft = calloc(n, sizeof(*ft));
	struct kp_fetch_req_partition *fp = calloc(n, sizeof(*fp));
	size_t nt = 0;
	int16_t ver;
	int rc = -1;

	if (ft == NULL || fp == NULL)
		err(EX_OSERR, "calloc");
	if ((ver = kp_conn_version(k, KP_API_FETCH, 4, 11)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		kp_fetch_req_partition_init(&fp[i]);
		fp[i].partition = v[i]->id;
		fp[i].fetch_offset = v[i]->next;
		fp[i].partition_max_bytes = 4 << 20;
		if (nt == 0 || strcmp(ft[nt - 1].topic.ptr, v[i]->topic) != 0) {
			kp_fetch_req_topic_init(&ft[nt]);
			ft[nt].topic.ptr = v[i]->topic;
			ft[nt].topic.len = (int32_t)strlen(v[i]->topic);
			ft[nt].partitions = &fp[i];
			nt++;
		}
		ft[nt - 1].n_partitions++;
	}
	kp_fetch_req_init(&rq);
	rq.replica_id = -1;
	rq.max_wait_ms = FETCH_WAIT_MS;
	rq.min_bytes = 1;
	rq.max_bytes = 16 << 20;
	rq.isolation_level = gs->o->isolation;
	rq.topics = ft;
	rq.n_topics = (int32_t)nt;
	kp_arena_reset(&gs->arena);
	if (kp_conn_exchange(k, KP_API_FETCH, ver, &kp_msg_fetch_req, &rq,
	    &kp_msg_fetch_resp, &rs, &gs->arena, &gs->body) < 0)
		goto out;
	for (int32_t t = 0; t < rs.n_responses; t++) {
		const struct kp_fetch_resp_fetchable_topic_response *tr =
		    &rs.responses[t];

		for (int32_t j = 0; j < tr->n_partitions; j++) {
			const struct kp_fetch_resp_partition_data *pd =
			    &tr->partitions[j];
			struct gpart *p = find_part(gs, &tr->topic,
			    pd->partition_index);

			if (p == NULL || p->done)
				continue;
			if (pd->error_code == KP_OFFSET_OUT_OF_RANGE) {
				p->reset = true;
				continue;
			}
			if (pd->error_code != KP_NONE) {
				if (kp_kerr_retriable(pd->error_code))
					continue;
				warnx("topic '%s' partition %d: %s", p->topic,
				    p->id, kp_kerr_name(pd->error_code));
				gs->fatal = kp_cli_exit_for(pd->error_code);
				goto out;
			}
			p->down_since = 0;
			if (kp_txn_filter_set(&gs->filter,
			    pd->aborted_transactions,
			    pd->n_aborted_transactions) < 0)
				err(EX_OSERR, "aborted transactions");
			if (pd->records.len > 0 && take_records(gs, p,
			    pd->records.ptr, (size_t)pd->records.len) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	free(ft);
	free(fp);
	return rc;
}

/*
 * Fetch every live partition once, leader by leader. Output collects in
 * gs->out; the caller commits and writes it in the order --commit asks.
 */
static int
fetch_round(struct gstate *gs)
{
	struct gpart **v = calloc(gs->n + 1, sizeof(*v));
	bool *seen = calloc(gs->n + 1, sizeof(*seen));
	int rc = 0;

	if (v == NULL || seen == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < gs->n && rc == 0 && gs->fatal == 0; i++) {
		struct kp_conn *k;
		size_t nv = 0;

		if (seen[i] || gs->p[i].done || gs->p[i].reset ||
		    !gs->p[i].resolved)
			continue;
		if (leader_of(gs, &gs->p[i]) < 0) {
			part_down(&gs->p[i], KP_LEADER_NOT_AVAILABLE);
			continue;
		}
		if ((k = kp_client_leader(gs->c, gs->p[i].topic,
		    gs->p[i].id)) == NULL) {
			rc = -1;
			break;
		}
		for (size_t j = i; j < gs->n; j++) {
			if (seen[j] || gs->p[j].done || gs->p[j].reset ||
			    !gs->p[j].resolved || leader_of(gs, &gs->p[j]) < 0)
				continue;
			if (kp_client_leader(gs->c, gs->p[j].topic,
			    gs->p[j].id) != k)
				continue;
			seen[j] = true;
			v[nv++] = &gs->p[j];
		}
		rc = fetch_from(gs, k, v, nv);
	}
	free(v);
	free(seen);
	return rc;
}

/* ---- the loop ---- */

/* Some partition can be fetched now. */
static bool
live_parts(struct gstate *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		if (!gs->p[i].done && gs->p[i].resolved && !gs->p[i].reset &&
		    leader_of(gs, &gs->p[i]) >= 0)
			return true;
	return false;
}

static int
loop(struct gstate *gs)
{
	int failures = 0, r;

	while (!*gs->stop && gs->fatal == 0 && !count_reached(gs)) {
		int64_t now = kp_mono_ms();

		if (gs->o->exit_at_end && gs->ndone == gs->n)
			break;
		r = kp_gmember_heartbeat(gs->gm, now);
		if (r < 0) {
			warnx("%s", kp_gmember_error(gs->gm));
			return EX_UNAVAILABLE;
		}
		if (r == 1) {
			if (rebalance(gs, true) < 0)
				return *gs->stop ? 0 : EX_UNAVAILABLE;
			continue;
		}
		if (gs->g->commit == COMMIT_AUTO && now >= gs->next_commit) {
			gs->next_commit = now + gs->g->commit_interval_ms;
			if (commit(gs) == 1 && rebalance(gs, false) < 0)
				return *gs->stop ? 0 : EX_UNAVAILABLE;
		}
		if (gs->n == 0 || gs->ndone == gs->n) {
			usleep(100 * 1000);	/* nothing to read: heartbeat on */
			continue;
		}
		if (any_down(gs) && now >= gs->retry_at) {
			/* look for their leaders, less often as time goes */
			kp_client_metadata(gs->c, NULL, 0, false);
			gs->retry_at = kp_mono_ms() +
			    kp_client_backoff_ms(gs->down_tries++);
		}
		r = resolve(gs);
		if (r == 0 && !any_down(gs))
			gs->down_tries = 0;
		if (r == 0 && give_up(gs, kp_mono_ms()))
			return EX_TEMPFAIL;
		if (r == 0 && !live_parts(gs)) {
			usleep(100 * 1000);	/* all down: heartbeat on */
			continue;
		}
		if (r < 0 || fetch_round(gs) < 0) {
			if (gs->fatal)
				break;
			if (++failures > gs->o->retries) {
				warnx("%s", kp_client_error(gs->c));
				return EX_UNAVAILABLE;
			}
			kp_client_backoff(failures - 1);
			kp_client_metadata(gs->c, NULL, 0, false);
			continue;
		}
		failures = 0;
		if (gs->g->commit == COMMIT_SYNC && gs->out.buf.len > 0) {
			/* At most once: the offsets are safe before output. */
			r = commit(gs);
			if (r != 0) {
				kp_buf_reset(&gs->out.buf);	/* not ours now */
				if (r < 0 || rebalance(gs, false) < 0)
					return *gs->stop ? 0 : EX_UNAVAILABLE;
				continue;
			}
		}
		flush_out(gs);
	}
	return gs->fatal;
}

int
group_run(struct kp_client *c, struct consume_opts *o,
    const struct group_opts *g, struct consume_stats *st,
    volatile int *stop)
{
	struct kp_gmember_opts mo = { 0 };
	struct gstate gs;
	char why[512];
	int rc;

	memset(&gs, 0, sizeof(gs));
	gs.c = c;
	gs.o = o;
	gs.g = g;
	gs.st = st;
	gs.stop = stop;
	recout_init(&gs.out, o);
	kp_txn_filter_init(&gs.filter);
	kp_buf_init(&gs.body);
	kp_arena_init(&gs.arena);
	st->start_ms = kp_mono_ms();
	mo.brokers = g->brokers;
	mo.client_id = "kconsume";
	mo.group = g->group;
	mo.instance_id = g->instance_id;
	mo.topics = o->topics;
	mo.ntopics = o->ntopics;
	mo.session_ms = g->session_ms;
	mo.assignor = g->assignor;
	for (size_t i = 0; i < o->ntopics; i++) {
		if (kp_client_topic_wait(c, o->topics[i], false) == NULL) {
			warnx("%s", kp_client_error(c));
			return kp_cli_exit_for(kp_client_kerr(c));
		}
	}
	if ((gs.gm = kp_gmember_new(&mo, why, sizeof(why))) == NULL) {
		warnx("%s", why);
		return EX_UNAVAILABLE;
	}
	gs.next_commit = kp_mono_ms() + g->commit_interval_ms;
	if (rebalance(&gs, false) < 0)
		rc = *stop ? 0 : EX_UNAVAILABLE;
	else
		rc = loop(&gs);
	flush_out(&gs);
	/* Never commit what could not be written (at-least-once). */
	if (gs.g->commit != COMMIT_NONE && gs.fatal != EX_IOERR &&
	    kp_gmember_generation(gs.gm) >= 0 && commit(&gs) != 0 && rc == 0)
		rc = EX_TEMPFAIL;
	if (kp_gmember_generation(gs.gm) >= 0 && kp_gmember_leave(gs.gm) < 0)
		warnx("%s", kp_gmember_error(gs.gm));
	kp_gmember_free(gs.gm);
	recout_release(&gs.out);
	kp_txn_filter_release(&gs.filter);
	kp_buf_release(&gs.body);
	kp_arena_release(&gs.arena);
	free(gs.p);
	free(gs.offs);
	if (rc == 0 && gs.fatal)
		rc = gs.fatal;
	return rc;
}
