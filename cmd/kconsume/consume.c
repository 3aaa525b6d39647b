/* consume.c -- kconsume's fetch engine and record output */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "consume.h"
#include "kp_batch.h"
#include "kp_cli.h"
#include "kp_err.h"
#include "kp_json.h"
#include "kp_proto_fetch.h"
#include "kp_txn.h"

#define MAX_BATCH_INFLATE	(256u << 20)

struct cpart {
	const char	*topic;
	int32_t		 id;
	int64_t		 next;		/* next offset to read */
	int64_t		 end;		/* stop before; -1 for none */
	int64_t		 end_time;	/* stop at a record this new; -1 none */
	int64_t		 down_since;	/* mono ms it lost its leader; 0 up */
	int16_t		 down_err;	/* why it is down */
	bool		 done;
	bool		 busy;		/* in a fetch in flight */
	bool		 reset;		/* offset out of range: look again */
	bool		 resolved;	/* next and end are known */
};

struct fetchreq {
	struct consumer	*cs;
	size_t		 n;
	struct cpart	*p[];
};

struct consumer {
	struct kp_client	*c;
	struct consume_opts	*o;
	struct consume_stats	*st;
	struct cpart		*parts;
	size_t			 nparts;
	size_t			 ndone;
	struct recout		 out;
	bool			 meta_stale;
	bool			 pause;		/* a partition said wait */
	int			 failures;	/* in a row */
	int64_t			 retry_at;	/* mono ms: look for leaders again */
	int			 down_tries;	/* looks while some are down */
	int			 fatal;		/* sysexits code */
	struct kp_txn_filter	 filter;	/* read_committed */
};

/* --- output ------------------------------------------------------------ */

void
recout_init(struct recout *ro, const struct consume_opts *o)
{
	memset(ro, 0, sizeof(*ro));
	ro->o = o;
	kp_buf_init(&ro->buf);
}

void
recout_release(struct recout *ro)
{
	kp_buf_release(&ro->buf);
	free(ro->hs);
	ro->hs = NULL;
	ro->hcap = 0;
}

int
recout_flush(struct recout *ro)
{
	size_t off = 0;
	ssize_t n;
	int rc = 0;

	while (off < ro->buf.len) {
		n = write(1, ro->buf.data + off, ro->buf.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warn("stdout");
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	kp_buf_reset(&ro->buf);
	return rc;
}

static void
put_field(struct recout *ro, const struct kp_bytes *b)
{
	if (b->len < 0)
		kp_buf_put(&ro->buf, ro->o->null_str, ro->o->null_len);
	else
		kp_buf_put(&ro->buf, b->ptr, (size_t)b->len);
}

int
recout_emit(struct recout *ro, const char *topic, int32_t partition,
    const struct kp_record *r)
{
	const struct consume_opts *o = ro->o;
	struct kp_record_header_iter hi;
	struct kp_record_header h;
	struct kp_json_rec jr;
	size_t n = 0;

	if (o->mode == OUT_NONE)
		return 0;
	if (o->mode == OUT_RAW) {
		if (o->kdelim != NULL) {
			put_field(ro, &r->key);
			kp_buf_put(&ro->buf, o->kdelim, o->kdelim_len);
		}
		put_field(ro, &r->value);
		kp_buf_put(&ro->buf, o->delim, o->delim_len);
		return 0;
	}
	if (r->header_count > 0 && (size_t)r->header_count > ro->hcap) {
		struct kp_jheader *v = reallocarray(ro->hs,
		    (size_t)r->header_count, sizeof(*v));

		if (v == NULL)
			return -1;
		ro->hs = v;
		ro->hcap = (size_t)r->header_count;
	}
	kp_record_header_iter_init(&hi, r);
	while (n < ro->hcap && kp_record_header_next(&hi, &h) == 1) {
		ro->hs[n].key.ptr = (const uint8_t *)h.key.ptr;
		ro->hs[n].key.len = h.key.len;
		ro->hs[n].value.ptr = h.value.ptr;
		ro->hs[n].value.len = h.value.len;
		n++;
	}
	jr.topic = (char *)topic;
	jr.partition = partition;
	jr.offset = r->offset;
	jr.timestamp = r->timestamp;
	jr.key.ptr = r->key.ptr;
	jr.key.len = r->key.len;
	jr.value.ptr = r->value.ptr;
	jr.value.len = r->value.len;
	jr.headers = ro->hs;
	jr.nheaders = n;
	if (o->mode == OUT_JSON) {
		kp_json_write(&ro->buf, &jr);
		kp_buf_put(&ro->buf, "\n", 1);
	} else
		kp_fmt_render(&o->fmt, &jr, &ro->buf);
	return 0;
}

static void
flush_out(struct consumer *cs)
{
	if (recout_flush(&cs->out) < 0)
		cs->fatal = EX_IOERR;
}

/* --- positions --------------------------------------------------------- */

static void
part_done(struct consumer *cs, struct cpart *p)
{
	if (!p->done) {
		p->done = true;
		cs->ndone++;
	}
}

/*
 * A partition without a leader is not read until metadata shows one
 * again; the others go on. Its position, if it had one, is kept.
 */
static void
part_down(struct cpart *p, int16_t why)
{
	if (p->down_since == 0)
		p->down_since = kp_mono_ms();
	p->down_err = why;
}

static bool
any_down(const struct consumer *cs)
{
	for (size_t i = 0; i < cs->nparts; i++)
		if (!cs->parts[i].done && cs->parts[i].down_since != 0)
			return true;
	return false;
}

static bool
needs_resolve(const struct cpart *p)
{
	return !p->done && (!p->resolved || p->reset);
}

/* Where p starts and, with -e or an -o range, ends. */
static void
place(struct consumer *cs, struct cpart *p, int64_t lo, int64_t hi,
    int64_t at)
{
	struct kp_offspec *s = &cs->o->spec;

	p->down_since = 0;	/* its leader answered */
	if (p->reset) {
		/* out of range: the log moved under us */
		p->next = p->next < lo ? lo : hi;
		p->reset = false;
		return;
	}
	p->resolved = true;
	p->next = kp_offpos_resolve(&s->start, lo, hi, at);
	if (s->start.kind == KP_OFF_ABS && s->start.v > hi &&
	    !cs->o->exit_at_end)
		p->next = s->start.v;	/* wait for it to exist */
	p->end = -1;
	p->end_time = -1;
	if (s->has_end) {
		switch (s->end.kind) {
		case KP_OFF_ABS:
			p->end = s->end.v;
			break;
		case KP_OFF_TIME:
			p->end_time = s->end.v;
			break;
		case KP_OFF_AFTER_START:
			p->end = s->start.kind == KP_OFF_BEGINNING ?
			    lo + s->end.v : p->next + s->end.v;
			break;
		default:
			p->end = kp_offpos_resolve(&s->end, lo, hi, -1);
		}
	}
	if (cs->o->exit_at_end && (p->end < 0 || p->end > hi))
		p->end = hi;
	if (p->end >= 0 && p->next >= p->end)
		part_done(cs, p);
}

/*
 * Look up start and end offsets of the partitions of one topic that need
 * them (new, or out of range), of those that have a leader; the rest are
 * down until one shows up. Positions already read from stay as they are.
 */
static int
resolve_topic(struct consumer *cs, const char *topic, struct cpart *v,
    size_t n)
{
	struct kp_offspec *s = &cs->o->spec;
	const struct kp_topic_meta *tm = kp_client_topic(cs->c, topic);
	struct cpart **w;
	int32_t *ids;
	int64_t *lo, *hi, *at;
	int16_t *fail;
	size_t i, m = 0;
	int rc = -1;

	w = calloc(n, sizeof(*w));
	ids = calloc(n, sizeof(*ids));
	lo = calloc(n, sizeof(*lo));
	hi = calloc(n, sizeof(*hi));
	at = calloc(n, sizeof(*at));
	fail = calloc(n, sizeof(*fail));
	if (w == NULL || ids == NULL || lo == NULL || hi == NULL ||
	    at == NULL || fail == NULL) {
		kp_client_seterr(cs->c, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct cpart *p = &v[i];

		if (!needs_resolve(p))
			continue;
		if (tm == NULL || p->id >= tm->nparts ||
		    tm->parts[p->id].leader < 0) {
			part_down(p, KP_LEADER_NOT_AVAILABLE);
			continue;
		}
		w[m] = p;
		ids[m] = p->id;
		at[m] = -1;
		m++;
	}
	if (m > 0 && kp_client_log_bounds_some(cs->c, topic, ids, m,
	    s->start.kind == KP_OFF_TIME ? &s->start.v : NULL, lo, hi, at,
	    fail) < 0)
		goto out;
	for (i = 0; i < m; i++) {
		if (fail[i] != 0)
			part_down(w[i], fail[i]);
		else
			place(cs, w[i], lo[i], hi[i], at[i]);
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

static int
resolve_all(struct consumer *cs)
{
	size_t i, j;

	for (i = 0; i < cs->nparts; i = j) {
		bool any = false;

		for (j = i; j < cs->nparts &&
		    strcmp(cs->parts[j].topic, cs->parts[i].topic) == 0; j++)
			any = any || needs_resolve(&cs->parts[j]);
		if (any && resolve_topic(cs, cs->parts[i].topic,
		    &cs->parts[i], j - i) < 0)
			return -1;
	}
	return 0;
}

/*
 * -e and every partition left has had no leader for --timeout-ms: say
 * which, and give up on them (what the others had is printed).
 */
static bool
give_up(struct consumer *cs, int64_t now)
{
	size_t i;

	if (!cs->o->exit_at_end)
		return false;
	for (i = 0; i < cs->nparts; i++) {
		const struct cpart *p = &cs->parts[i];

		if (!p->done && (p->down_since == 0 ||
		    now - p->down_since < cs->o->timeout_ms))
			return false;
	}
	for (i = 0; i < cs->nparts; i++) {
		const struct cpart *p = &cs->parts[i];

		if (!p->done)
			warnx("topic '%s' partition %d: %s for %d ms, not "
			    "read", p->topic, p->id, kp_kerr_name(p->down_err),
			    cs->o->timeout_ms);
	}
	return true;
}

/* --- fetching ---------------------------------------------------------- */

/* Records of one partition's answer; returns -1 on a fatal error. */
static int
take_records(struct consumer *cs, struct cpart *p, const uint8_t *buf,
    size_t len)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record r;
	ssize_t total;
	int rc;

	while (len > 0 && !p->done) {
		total = kp_batch_header_decode(buf, len, &h);
		if (total <= 0 || (size_t)total > len)
			break;	/* a partial batch ends a fetch answer */
		/* every batch, in order: it follows the ABORT markers */
		if (kp_txn_filter_skip(&cs->filter, &h, buf, (size_t)total))
			goto skip;
		if (kp_batch_last_offset(&h) < p->next)
			goto skip;
		if ((rc = kp_batch_iter_init(&it, buf, (size_t)total,
		    MAX_BATCH_INFLATE)) != 0) {
			kp_batch_iter_release(&it);
			warnx("topic '%s' partition %d offset %lld: %s",
			    p->topic, p->id, (long long)h.base_offset,
			    kp_kerr_name((int16_t)rc));
			cs->fatal = EX_DATAERR;
			return -1;
		}
		while ((rc = kp_batch_iter_next(&it, &r)) == 1) {
			if (r.offset < p->next)
				continue;
			if ((p->end >= 0 && r.offset >= p->end) ||
			    (p->end_time >= 0 && r.timestamp >= p->end_time)) {
				part_done(cs, p);
				break;
			}
			if (recout_emit(&cs->out, p->topic, p->id, &r) < 0) {
				kp_batch_iter_release(&it);
				cs->fatal = EX_OSERR;
				return -1;
			}
			cs->st->records++;
			cs->st->bytes += (uint64_t)(r.value.len > 0 ?
			    r.value.len : 0) + (uint64_t)(r.key.len > 0 ?
			    r.key.len : 0);
			p->next = r.offset + 1;
			if (cs->o->flush_each)
				flush_out(cs);
			if (cs->o->count > 0 &&
			    cs->st->records >= (uint64_t)cs->o->count) {
				kp_batch_iter_release(&it);
				return 1;
			}
		}
		kp_batch_iter_release(&it);
		if (rc < 0) {
			warnx("topic '%s' partition %d offset %lld: corrupt "
			    "record batch", p->topic, p->id,
			    (long long)h.base_offset);
			cs->fatal = EX_DATAERR;
			return -1;
		}
skip:
		if (!p->done && kp_batch_last_offset(&h) + 1 > p->next)
			p->next = kp_batch_last_offset(&h) + 1;
		buf += total;
		len -= (size_t)total;
	}
	if (p->end >= 0 && p->next >= p->end)
		part_done(cs, p);
	return 0;
}

static void
fetch_cb(void *arg, struct kp_conn *k, int16_t api, int16_t ver,
    const uint8_t *body, size_t len, int err)
{
	struct fetchreq *fr = arg;
	struct consumer *cs = fr->cs;
	struct kp_fetch_resp resp;
	struct kp_arena arena;
	size_t i;
	int32_t t, j;

	(void)k, (void)api;
	for (i = 0; i < fr->n; i++)
		fr->p[i]->busy = false;
	if (cs->st->first_fetch_ms == 0)
		cs->st->first_fetch_ms = kp_mono_ms();
	kp_arena_init(&arena);
	kp_fetch_resp_init(&resp);
	if (body == NULL || kp_fetch_resp_decode(body, len, ver, &resp,
	    &arena) < 0) {
		cs->meta_stale = true;
		cs->failures++;
		kp_client_seterr(cs->c, KP_NETWORK_EXCEPTION, "fetch: %s",
		    body == NULL ? strerror(err) : "malformed response");
		goto out;
	}
	if (resp.error_code != 0) {
		cs->failures++;
		kp_client_seterr(cs->c, resp.error_code, "fetch: %s",
		    kp_kerr_name(resp.error_code));
		goto out;
	}
	cs->failures = 0;
	for (t = 0; t < resp.n_responses; t++) {
		const struct kp_fetch_resp_fetchable_topic_response *tr =
		    &resp.responses[t];

		for (j = 0; j < tr->n_partitions; j++) {
			const struct kp_fetch_resp_partition_data *pd =
			    &tr->partitions[j];
			struct cpart *p = NULL;

			for (i = 0; i < fr->n; i++)
				if (fr->p[i]->id == pd->partition_index &&
				    kp_str_eq(&tr->topic, fr->p[i]->topic))
					p = fr->p[i];
			if (p == NULL || p->done)
				continue;
			if (pd->error_code == KP_OFFSET_OUT_OF_RANGE) {
				p->reset = true;
				continue;
			}
			if (pd->error_code != 0) {
				if (!kp_kerr_retriable(pd->error_code)) {
					warnx("topic '%s' partition %d: %s",
					    p->topic, p->id,
					    kp_kerr_name(pd->error_code));
					cs->fatal = kp_cli_exit_for(
					    pd->error_code);
					goto out;
				}
				cs->meta_stale = true;
				cs->pause = true;
				kp_client_seterr(cs->c, pd->error_code,
				    "topic '%s' partition %d: %s", p->topic,
				    p->id, kp_kerr_name(pd->error_code));
				continue;
			}
			p->down_since = 0;
			if (kp_txn_filter_set(&cs->filter,
			    pd->aborted_transactions,
			    pd->n_aborted_transactions) < 0) {
				cs->fatal = EX_OSERR;
				goto out;
			}
			if (pd->records.len > 0 && take_records(cs, p,
			    pd->records.ptr, (size_t)pd->records.len) != 0)
				goto out;
			if (p->end >= 0 && p->next >= p->end)
				part_done(cs, p);
		}
	}
out:
	kp_arena_release(&arena);
	flush_out(cs);
	free(fr);
}

/* One fetch to the leader `node` for its idle partitions. */
static int
send_fetch(struct consumer *cs, int32_t node)
{
	const struct kp_topic_meta *tm;
	struct kp_fetch_req req;
	struct kp_fetch_req_topic *ft;
	struct kp_fetch_req_partition *fp;
	struct fetchreq *fr;
	struct kp_conn *k;
	struct kp_buf *b;
	size_t i, n = 0, nt = 0;
	int16_t v;
	int rc = -1;

	if ((k = kp_client_conn(cs->c, node)) == NULL)
		return -1;
	if ((v = kp_conn_version(k, KP_API_FETCH, 4, 11)) < 0)
		return -1;
	fr = calloc(1, sizeof(*fr) + cs->nparts * sizeof(fr->p[0]));
	ft = calloc(cs->nparts, sizeof(*ft));
	fp = calloc(cs->nparts, sizeof(*fp));
	if (fr == NULL || ft == NULL || fp == NULL)
		goto out;
	fr->cs = cs;
	for (i = 0; i < cs->nparts; i++) {
		struct cpart *p = &cs->parts[i];

		tm = kp_client_topic(cs->c, p->topic);
		if (p->done || p->busy || p->reset || !p->resolved ||
		    tm == NULL || p->id >= tm->nparts ||
		    tm->parts[p->id].leader != node)
			continue;
		kp_fetch_req_partition_init(&fp[n]);
		fp[n].partition = p->id;
		fp[n].fetch_offset = p->next;
		fp[n].partition_max_bytes = 8 << 20;
		if (nt == 0 || strcmp(ft[nt - 1].topic.ptr, p->topic) != 0) {
			kp_fetch_req_topic_init(&ft[nt]);
			ft[nt].topic.ptr = p->topic;
			ft[nt].topic.len = (int32_t)strlen(p->topic);
			ft[nt].partitions = &fp[n];
			nt++;
		}
		ft[nt - 1].n_partitions++;
		fr->p[n++] = p;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	fr->n = n;
	kp_fetch_req_init(&req);
	req.replica_id = -1;
	req.max_wait_ms = cs->o->max_wait_ms;
	req.min_bytes = 1;
	req.max_bytes = 64 << 20;
	req.isolation_level = cs->o->isolation;
	req.topics = ft;
	req.n_topics = (int32_t)nt;
	if ((b = kp_conn_request_begin(k, KP_API_FETCH, v)) == NULL ||
	    kp_fetch_req_encode(b, v, &req) < 0 ||
	    kp_conn_request_end(k, fetch_cb, fr) < 0)
		goto out;
	for (i = 0; i < n; i++)
		fr->p[i]->busy = true;
	fr = NULL;
	rc = 0;
out:
	free(fr);
	free(ft);
	free(fp);
	return rc;
}

static void
send_fetches(struct consumer *cs)
{
	const struct kp_topic_meta *tm;
	int32_t *seen, leader;
	size_t i, j, ns = 0;

	if ((seen = calloc(cs->nparts, sizeof(*seen))) == NULL)
		return;
	for (i = 0; i < cs->nparts; i++) {
		struct cpart *p = &cs->parts[i];

		if (p->done || p->busy || p->reset || !p->resolved)
			continue;
		tm = kp_client_topic(cs->c, p->topic);
		leader = tm && p->id < tm->nparts ? tm->parts[p->id].leader :
		    -1;
		if (leader < 0) {
			part_down(p, KP_LEADER_NOT_AVAILABLE);
			continue;
		}
		for (j = 0; j < ns && seen[j] != leader; j++)
			;
		if (j < ns)
			continue;
		seen[ns++] = leader;
		if (send_fetch(cs, leader) < 0) {
			cs->meta_stale = true;
			cs->failures++;
		}
	}
	free(seen);
}

/*
 * The topic, once it is there: a partition still without a leader after
 * the retries does not keep the others from being read.
 */
static const struct kp_topic_meta *
topic_wait(struct kp_client *c, const char *name)
{
	const struct kp_topic_meta *t = kp_client_topic_wait(c, name, false);

	if (t == NULL && kp_client_kerr(c) == KP_LEADER_NOT_AVAILABLE &&
	    (t = kp_client_topic(c, name)) != NULL &&
	    (t->err != 0 || t->nparts == 0))
		t = NULL;
	return t;
}

static int
setup(struct consumer *cs)
{
	struct consume_opts *o = cs->o;
	const struct kp_topic_meta *t;
	size_t i, j, n = 0;
	int32_t p;

	for (i = 0; i < o->ntopics; i++) {
		if ((t = topic_wait(cs->c, o->topics[i])) == NULL) {
			warnx("%s", kp_client_error(cs->c));
			return kp_cli_exit_for(kp_client_kerr(cs->c));
		}
		for (j = 0; j < o->nparts; j++)
			if (o->parts[j] >= t->nparts) {
				warnx("topic '%s' partition %d: "
				    "UNKNOWN_TOPIC_OR_PARTITION (the topic has "
				    "%d)", o->topics[i], o->parts[j],
				    t->nparts);
				return EX_DATAERR;
			}
		n += o->nparts ? o->nparts : (size_t)t->nparts;
	}
	if ((cs->parts = calloc(n + 1, sizeof(*cs->parts))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < o->ntopics; i++) {
		t = kp_client_topic(cs->c, o->topics[i]);
		if (t == NULL)
			t = topic_wait(cs->c, o->topics[i]);
		if (t == NULL) {
			warnx("%s", kp_client_error(cs->c));
			return kp_cli_exit_for(kp_client_kerr(cs->c));
		}
		for (p = 0; p < (o->nparts ? (int32_t)o->nparts : t->nparts);
		    p++) {
			cs->parts[cs->nparts].topic = o->topics[i];
			cs->parts[cs->nparts].id = o->nparts ? o->parts[p] : p;
			cs->nparts++;
		}
	}
	/* metadata for every topic at once, for routing */
	if (kp_client_metadata(cs->c, o->topics, o->ntopics, false) < 0 ||
	    resolve_all(cs) < 0) {
		warnx("%s", kp_client_error(cs->c));
		return kp_cli_exit_for(kp_client_kerr(cs->c));
	}
	return 0;
}

int
consume_run(struct kp_client *c, struct consume_opts *o,
    struct consume_stats *st, volatile int *stop)
{
	struct consumer cs;
	int rc;

	memset(&cs, 0, sizeof(cs));
	cs.c = c;
	cs.o = o;
	cs.st = st;
	recout_init(&cs.out, o);
	kp_txn_filter_init(&cs.filter);
	st->start_ms = kp_mono_ms();
	if ((rc = setup(&cs)) != 0)
		goto out;
	while (!*stop && cs.fatal == 0 && cs.ndone < cs.nparts &&
	    !(o->count > 0 && st->records >= (uint64_t)o->count)) {
		int64_t now, wait;

		if (cs.failures > o->retries) {
			warnx("%s", kp_client_error(c));
			rc = kp_cli_exit_for(kp_client_kerr(c));
			if (rc == EX_DATAERR)
				rc = EX_UNAVAILABLE;
			goto out;
		}
		if (cs.meta_stale || cs.failures > 0) {
			if (cs.failures > 0)
				kp_client_backoff(cs.failures - 1);
			else if (cs.pause)
				kp_client_backoff(0);	/* leader moving */
			cs.pause = false;
			if (kp_client_metadata(c, o->topics, o->ntopics,
			    false) == 0)
				cs.meta_stale = false;
			else
				cs.failures++;
		} else if (any_down(&cs) && kp_mono_ms() >= cs.retry_at) {
			/* look for their leaders, less often as time goes */
			if (kp_client_metadata(c, o->topics, o->ntopics,
			    false) < 0)
				cs.failures++;
			cs.retry_at = kp_mono_ms() +
			    kp_client_backoff_ms(cs.down_tries++);
		}
		if (resolve_all(&cs) < 0) {
			cs.failures++;
			continue;
		}
		send_fetches(&cs);
		now = kp_mono_ms();
		if (!any_down(&cs))
			cs.down_tries = 0;
		else if (give_up(&cs, now)) {
			rc = EX_TEMPFAIL;
			goto out;
		}
		wait = 1000;
		if (any_down(&cs) && cs.retry_at - now < wait)
			wait = cs.retry_at > now ? cs.retry_at - now : 0;
		if (kp_client_idle(c)) {
			/* nothing in flight: poll would not wait */
			usleep((useconds_t)(wait < 100 ? wait : 100) * 1000);
		} else if (kp_client_poll(c, (int)wait) < 0)
			break;
	}
	rc = cs.fatal;
out:
	kp_client_abort(c);	/* fetches in flight point at cs */
	flush_out(&cs);
	if (rc == 0 && cs.fatal)
		rc = cs.fatal;
	recout_release(&cs.out);
	kp_txn_filter_release(&cs.filter);
	free(cs.parts);
	return rc;
}
