/* replica.c -- the follower's side of replication: one fetcher connection per leader, driven by the loop */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_arena.h"
#include "kp_batch.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_fetch.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "repl.h"
#include "txn_log.h"

/*
 * A follower fetches from its leader exactly as Kafka's replica fetcher
 * does: one connection per leader broker carrying, one at a time, an
 * OffsetForLeaderEpoch for the partitions that just got this leader (to
 * cut a divergent tail first, KIP-101/279) or a long-polling Fetch with
 * replica_id = our broker id for the others. The batches come back with
 * their offsets and are appended as they are (kp_log_append_raw); the
 * leader's high watermark comes with them. Connections are non-blocking
 * and live in the broker's epoll loop; a failure closes the connection
 * and the timer (isr.c) reconnects with a growing backoff.
 */
#define FETCH_VERSION	11	/* current_leader_epoch from v9 */
#define EPOCH_VERSION	3	/* replica_id from v3 */
#define MAX_WAIT_MS	500	/* replica.fetch.wait.max.ms */
#define MAX_BYTES	(16 << 20)
#define PART_MAX_BYTES	(1 << 20)	/* replica.fetch.max.bytes */
#define RESP_MAX	(64 << 20)
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000
#define PART_RETRY_MS	200	/* a partition the leader refused */

struct kb_fpart {
	char		*topic;
	int32_t		 part;
	int32_t		 epoch;
	bool		 truncated;	/* divergent tail cut: fetch it */
	int64_t		 skip_to;	/* the leader's log start, when ahead */
	int64_t		 retry_ms;
};

struct kb_fetcher {
	int32_t		 leader;
	int		 fd;
	bool		 connecting;
	bool		 inflight;
	int16_t		 api;		/* of the request in flight */
	int32_t		 corr;
	uint32_t	 events;
	struct kp_buf	 out, in;
	int64_t		 retry_ms;	/* connect not before */
	int		 backoff_ms;
	struct kb_fpart	*p;
	size_t		 n, cap;
	struct kp_arena	 arena;
};

static struct kb_fetcher *
fetcher_find(struct kb_repl *r, int32_t leader)
{
	for (size_t i = 0; r != NULL && i < r->nfetchers; i++)
		if (r->fetchers[i]->leader == leader)
			return r->fetchers[i];
	return NULL;
}

static struct kb_fpart *
fpart_find(struct kb_fetcher *f, const char *topic, size_t tlen,
    int32_t part)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->p[i].part == part && strlen(f->p[i].topic) == tlen &&
		    memcmp(f->p[i].topic, topic, tlen) == 0)
			return &f->p[i];
	return NULL;
}

static void
set_events(struct kb_broker *b, struct kb_fetcher *f, uint32_t want)
{
	struct epoll_event ev;

	if (f->fd == -1 || want == f->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.u64 = KB_TAG_REPL | ((uint64_t)f->leader + 1);
	if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, f->fd, &ev) == 0)
		f->events = want;
}

static void
disconnect(struct kb_broker *b, struct kb_fetcher *f, const char *why)
{
	if (f->fd != -1) {
		if (why != NULL)
			kb_debug(b, "fetcher for leader %d: %s", f->leader, why);
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		f->fd = -1;
	}
	f->connecting = false;
	f->inflight = false;
	f->events = 0;
	kp_buf_reset(&f->out);
	kp_buf_reset(&f->in);
	f->retry_ms = kb_now_mono() + f->backoff_ms;
	f->backoff_ms = f->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    f->backoff_ms * 2;
}

static int
connect_leader(struct kb_broker *b, struct kb_fetcher *f)
{
	const struct kb_cl_view *v = kb_cluster_view(b);
	const struct kb_cl_broker *lb = v ? kb_cl_broker(v, f->leader) : NULL;
	struct epoll_event ev;
	struct kp_addr a;
	bool pending;

	if (lb == NULL || lb->host == NULL ||
	    strlen(lb->host) >= sizeof(a.host)) {
		disconnect(b, f, "leader not registered");
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.kind = KP_ADDR_TCP;
	strlcpy(a.host, lb->host, sizeof(a.host));
	a.port = (uint16_t)lb->port;
	if ((f->fd = kp_net_connect_start(&a, &pending)) == -1) {
		disconnect(b, f, strerror(errno));
		return -1;
	}
	f->connecting = pending;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u64 = KB_TAG_REPL | ((uint64_t)f->leader + 1);
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, f->fd, &ev) == -1) {
		disconnect(b, f, strerror(errno));
		return -1;
	}
	f->events = ev.events;
	return 0;
}

static void
begin_request(struct kb_broker *b, struct kb_fetcher *f, int16_t api,
    int16_t version, size_t *mark)
{
	struct kp_req_header h;

	memset(&h, 0, sizeof(h));
	h.api_key = api;
	h.api_version = version;
	h.correlation_id = ++f->corr;
	h.client_id = kb_str("kbroker-replica");
	(void)b;
	*mark = kp_frame_begin(&f->out);
	kp_req_header_encode(&f->out, &h);
	f->api = api;
}

/* OffsetForLeaderEpoch for the partitions not yet truncated. */
static bool
send_epochs(struct kb_broker *b, struct kb_fetcher *f, int64_t now)
{
	struct kp_offset_for_leader_epoch_req rq;
	struct kp_offset_for_leader_epoch_req_offset_for_leader_topic *t;
	struct kp_offset_for_leader_epoch_req_offset_for_leader_partition *p;
	size_t mark, n = 0;

	kp_arena_reset(&f->arena);
	t = kp_arena_calloc(&f->arena, f->n, sizeof(*t));
	p = kp_arena_calloc(&f->arena, f->n, sizeof(*p));
	if (t == NULL || p == NULL)
		return false;
	for (size_t i = 0; i < f->n; i++) {
		struct kb_fpart *fp = &f->p[i];
		struct kp_log *log;
		struct kb_rp *rp;
		struct kp_epoch_cache *ec;

		if (fp->truncated || now < fp->retry_ms)
			continue;
		if ((log = kb_rp_log(b, fp->topic, fp->part)) == NULL ||
		    (rp = kb_rp_get(b, fp->topic, fp->part)) == NULL ||
		    (ec = kb_rp_epochs(b, rp, log)) == NULL) {
			fp->retry_ms = now + PART_RETRY_MS;
			continue;
		}
		if (kp_log_end_offset(log) == kp_log_start_offset(log) ||
		    kp_epoch_latest(ec) < 0) {
			int64_t hw = kp_log_high_watermark(log);

			/* nothing here that could diverge */
			if (kp_log_end_offset(log) > hw &&
			    kp_log_truncate(log, hw) == 0)
				kb_pstate_drop_log(b, log);	/* cut tail */
			fp->truncated = true;
			continue;
		}
		kp_offset_for_leader_epoch_req_offset_for_leader_topic_init(
		    &t[n]);
		kp_offset_for_leader_epoch_req_offset_for_leader_partition_init(
		    &p[n]);
		t[n].topic = kb_str(fp->topic);
		t[n].partitions = &p[n];
		t[n].n_partitions = 1;
		p[n].partition = fp->part;
		p[n].current_leader_epoch = fp->epoch;
		p[n].leader_epoch = kp_epoch_latest(ec);
		n++;
	}
	if (n == 0)
		return false;
	kp_offset_for_leader_epoch_req_init(&rq);
	rq.replica_id = b->cfg->broker_id;
	rq.topics = t;
	rq.n_topics = (int32_t)n;
	begin_request(b, f, KP_API_OFFSET_FOR_LEADER_EPOCH, EPOCH_VERSION,
	    &mark);
	if (kp_offset_for_leader_epoch_req_encode(&f->out, EPOCH_VERSION,
	    &rq) == -1)
		return false;
	kp_frame_end(&f->out, mark);
	return true;
}

/* A long-polling Fetch from our log ends. */
static bool
send_fetch(struct kb_broker *b, struct kb_fetcher *f, int64_t now)
{
	struct kp_fetch_req rq;
	struct kp_fetch_req_topic *t;
	struct kp_fetch_req_partition *p;
	size_t mark, n = 0;

	kp_arena_reset(&f->arena);
	t = kp_arena_calloc(&f->arena, f->n, sizeof(*t));
	p = kp_arena_calloc(&f->arena, f->n, sizeof(*p));
	if (t == NULL || p == NULL)
		return false;
	for (size_t i = 0; i < f->n; i++) {
		struct kb_fpart *fp = &f->p[i];
		struct kp_log *log;

		if (!fp->truncated || now < fp->retry_ms ||
		    (log = kb_rp_log(b, fp->topic, fp->part)) == NULL)
			continue;
		kp_fetch_req_topic_init(&t[n]);
		kp_fetch_req_partition_init(&p[n]);
		t[n].topic = kb_str(fp->topic);
		t[n].partitions = &p[n];
		t[n].n_partitions = 1;
		p[n].partition = fp->part;
		p[n].current_leader_epoch = fp->epoch;
		p[n].fetch_offset = kp_log_end_offset(log);
		if (fp->skip_to > p[n].fetch_offset)
			p[n].fetch_offset = fp->skip_to;
		p[n].log_start_offset = kp_log_start_offset(log);
		p[n].partition_max_bytes = PART_MAX_BYTES;
		n++;
	}
	if (n == 0)
		return false;
	kp_fetch_req_init(&rq);
	rq.replica_id = b->cfg->broker_id;
	rq.max_wait_ms = MAX_WAIT_MS;
	rq.min_bytes = 1;
	rq.max_bytes = MAX_BYTES;
	rq.session_id = 0;
	rq.session_epoch = -1;
	rq.topics = t;
	rq.n_topics = (int32_t)n;
	begin_request(b, f, KP_API_FETCH, FETCH_VERSION, &mark);
	if (kp_fetch_req_encode(&f->out, FETCH_VERSION, &rq) == -1)
		return false;
	kp_frame_end(&f->out, mark);
	return true;
}

static void
flush_out(struct kb_broker *b, struct kb_fetcher *f)
{
	while (f->out.len > 0) {
		ssize_t n = write(f->fd, f->out.data, f->out.len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			disconnect(b, f, strerror(errno));
			return;
		}
		kp_buf_consume(&f->out, (size_t)n);
	}
	set_events(b, f, EPOLLIN | (f->out.len > 0 ? EPOLLOUT : 0));
}

/* Connect, or send the next request if none is in flight. */
static void
pump(struct kb_broker *b, struct kb_fetcher *f)
{
	int64_t now = kb_now_mono();

	if (f->n == 0)
		return;
	if (f->fd == -1) {
		if (now < f->retry_ms || connect_leader(b, f) == -1)
			return;
	}
	if (f->connecting || f->inflight)
		return;
	if (f->out.err) {
		disconnect(b, f, "out of memory");
		return;
	}
	if (send_epochs(b, f, now) || send_fetch(b, f, now))
		f->inflight = true;
	if (f->out.err) {
		disconnect(b, f, "out of memory");
		return;
	}
	flush_out(b, f);
}

/* Cut what the leader does not have (its answer for our last epoch). */
static void
truncate_part(struct kb_broker *b, struct kb_fpart *fp, int32_t lepoch,
    int64_t lend)
{
	struct kp_log *log = kb_rp_log(b, fp->topic, fp->part);
	struct kb_rp *rp = kb_rp_get(b, fp->topic, fp->part);
	struct kp_epoch_cache *ec;
	int64_t leo, cut;
	int32_t fe = -1;
	int64_t fo = -1;

	if (log == NULL || rp == NULL ||
	    (ec = kb_rp_epochs(b, rp, log)) == NULL) {
		fp->retry_ms = kb_now_mono() + PART_RETRY_MS;
		return;
	}
	leo = kp_log_end_offset(log);
	if (lend < 0) {
		cut = kp_log_high_watermark(log);	/* Kafka's fallback */
	} else {
		kp_epoch_end_for(ec, lepoch, leo, &fe, &fo);
		cut = lend < leo ? lend : leo;
		if (fe >= 0 && fo < cut)
			cut = fo;
	}
	if (cut < leo) {
		if (kp_log_truncate(log, cut) == -1) {
			kb_log("%s: truncate to %lld: %s", kp_log_dir(log),
			    (long long)cut, strerror(errno));
			fp->retry_ms = kb_now_mono() + PART_RETRY_MS;
			return;
		}
		/* what producers sent to the cut tail is gone too */
		kb_pstate_drop_log(b, log);
		kb_log("%s-%d: divergent tail cut: %lld record(s) from offset "
		    "%lld (leader %s epoch %d ends at %lld)", fp->topic,
		    fp->part, (long long)(leo - cut), (long long)cut,
		    lend < 0 ? "knows no" : "says", lepoch, (long long)lend);
	}
	if (kp_epoch_truncate(ec, kp_log_end_offset(log)) == 1)
		kb_rp_save_epochs(b, rp, log);
	/* a different epoch matched: ask again for the one now last */
	fp->truncated = lend < 0 || fe < 0 || fe == lepoch ||
	    kp_epoch_latest(ec) < 0;
}

static void
on_epochs(struct kb_broker *b, struct kb_fetcher *f, const uint8_t *body,
    size_t len)
{
	struct kp_offset_for_leader_epoch_resp rs;
	int64_t now = kb_now_mono();

	if (kp_offset_for_leader_epoch_resp_decode(body, len, EPOCH_VERSION,
	    &rs, &f->arena) == -1) {
		disconnect(b, f, "malformed OffsetForLeaderEpoch response");
		return;
	}
	for (int32_t i = 0; i < rs.n_topics; i++) {
		struct kp_offset_for_leader_epoch_resp_offset_for_leader_topic_result
		    *t = &rs.topics[i];

		for (int32_t j = 0; j < t->n_partitions; j++) {
			struct kp_offset_for_leader_epoch_resp_epoch_end_offset
			    *p = &t->partitions[j];
			struct kb_fpart *fp = fpart_find(f, t->topic.ptr,
			    t->topic.len < 0 ? 0 : (size_t)t->topic.len,
			    p->partition);

			if (fp == NULL || fp->truncated)
				continue;
			if (p->error_code != KP_NONE) {
				kb_debug(b, "%s-%d: OffsetForLeaderEpoch: %s",
				    fp->topic, fp->part,
				    kp_kerr_name(p->error_code));
				fp->retry_ms = now + PART_RETRY_MS;
				continue;
			}
			truncate_part(b, fp, p->leader_epoch, p->end_offset);
		}
	}
}

/* Append the whole batches that continue our log. */
static void
append_records(struct kb_broker *b, struct kb_fpart *fp, struct kp_log *log,
    const struct kp_bytes *rec)
{
	const uint8_t *d = rec->ptr;
	size_t len = rec->len > 0 ? (size_t)rec->len : 0, pos = 0, start;
	struct kb_rp *rp = kb_rp_get(b, fp->topic, fp->part);
	struct kp_epoch_cache *ec = rp ? kb_rp_epochs(b, rp, log) : NULL;
	bool epochs_changed = false;
	int64_t prev_end;
	int rc;

	while (pos < len) {
		struct kp_batch_header h;
		ssize_t n = kp_batch_header_decode(d + pos, len - pos, &h);

		if (n <= 0 || (size_t)n > len - pos)
			break;		/* a partial batch at the end */
		start = pos;
		pos += (size_t)n;
		if (kp_batch_last_offset(&h) < kp_log_end_offset(log))
			continue;	/* we have it */
		prev_end = kp_log_end_offset(log);
		rc = kp_log_append_raw(log, d + start, (size_t)n,
		    kb_now_wall(), NULL);
		if (rc != KP_NONE) {
			kb_log("%s: replicate offset %lld: %s", kp_log_dir(log),
			    (long long)h.base_offset,
			    rc == KP_KAFKA_STORAGE_ERROR ? strerror(errno) :
			    kp_kerr_name((int16_t)rc));
			fp->retry_ms = kb_now_mono() + PART_RETRY_MS;
			break;
		}
		if (ec != NULL && kp_epoch_assign(ec, h.partition_leader_epoch,
		    h.base_offset) == 1)
			epochs_changed = true;
		/* a follower that becomes leader knows the producers */
		if (h.producer_id >= 0 && h.base_sequence >= 0)
			kb_pstate_update(b, log, h.producer_id,
			    h.producer_epoch, h.base_sequence,
			    h.last_offset_delta + 1, h.base_offset);
		kb_txn_appended(b, log, d + start, (size_t)n);
		kb_pstate_appended(b, log, prev_end);
	}
	if (epochs_changed)
		kb_rp_save_epochs(b, rp, log);
}

/*
 * Our log end is not in the leader's log: behind its log start (it
 * deleted what we lack), start over there, as Kafka's
 * truncateFullyAndStartAt; else agree on epochs again.
 */
static void
out_of_range(struct kb_broker *b, struct kb_fpart *fp, struct kp_log *log,
    int64_t leader_start)
{
	struct kb_rp *rp = kb_rp_get(b, fp->topic, fp->part);
	int64_t leo = kp_log_end_offset(log);

	fp->retry_ms = kb_now_mono() + PART_RETRY_MS;
	if (leader_start < 0 || leo >= leader_start ||
	    fp->skip_to == leader_start) {
		fp->truncated = false;
		return;
	}
	if (leo > kp_log_start_offset(log) &&
	    kp_log_truncate(log, kp_log_start_offset(log)) == -1) {
		kb_log("%s: truncate: %s", kp_log_dir(log), strerror(errno));
		return;
	}
	kb_pstate_drop_log(b, log);
	if (rp != NULL && kb_rp_epochs(b, rp, log) != NULL &&
	    kp_epoch_truncate(&rp->ec, 0) == 1)
		kb_rp_save_epochs(b, rp, log);
	fp->skip_to = leader_start;
	fp->retry_ms = 0;
	kb_log("%s-%d: behind the leader's log start %lld: starting over "
	    "there", fp->topic, fp->part, (long long)leader_start);
}

static void
on_fetch(struct kb_broker *b, struct kb_fetcher *f, const uint8_t *body,
    size_t len)
{
	struct kp_fetch_resp rs;
	int64_t now = kb_now_mono();

	if (kp_fetch_resp_decode(body, len, FETCH_VERSION, &rs,
	    &f->arena) == -1) {
		disconnect(b, f, "malformed Fetch response");
		return;
	}
	if (rs.error_code != KP_NONE) {
		disconnect(b, f, kp_kerr_name(rs.error_code));
		return;
	}
	for (int32_t i = 0; i < rs.n_responses; i++) {
		struct kp_fetch_resp_fetchable_topic_response *t =
		    &rs.responses[i];

		for (int32_t j = 0; j < t->n_partitions; j++) {
			struct kp_fetch_resp_partition_data *p =
			    &t->partitions[j];
			struct kb_fpart *fp = fpart_find(f, t->topic.ptr,
			    t->topic.len < 0 ? 0 : (size_t)t->topic.len,
			    p->partition_index);
			struct kp_log *log;
			int64_t hw;

			if (fp == NULL || !fp->truncated ||
			    (log = kb_rp_log(b, fp->topic, fp->part)) == NULL)
				continue;
			if (p->error_code == KP_OFFSET_OUT_OF_RANGE) {
				out_of_range(b, fp, log, p->log_start_offset);
				continue;
			}
			if (p->error_code != KP_NONE) {
				kb_debug(b, "%s-%d: fetch from %d: %s",
				    fp->topic, fp->part, f->leader,
				    kp_kerr_name(p->error_code));
				fp->retry_ms = now + PART_RETRY_MS;
				continue;
			}
			append_records(b, fp, log, &p->records);
			hw = p->high_watermark < kp_log_end_offset(log) ?
			    p->high_watermark : kp_log_end_offset(log);
			if (hw > kp_log_high_watermark(log))
				kp_log_set_high_watermark(log, hw);
		}
	}
	f->backoff_ms = BACKOFF_MIN_MS;		/* a good exchange */
}

static void
read_in(struct kb_broker *b, struct kb_fetcher *f)
{
	for (;;) {
		uint8_t *p;
		ssize_t n;

		if (kp_buf_reserve(&f->in, 65536) == -1) {
			disconnect(b, f, "out of memory");
			return;
		}
		p = f->in.data + f->in.len;
		n = read(f->fd, p, f->in.cap - f->in.len);
		if (n == 0) {
			disconnect(b, f, "leader closed the connection");
			return;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			disconnect(b, f, strerror(errno));
			return;
		}
		f->in.len += (size_t)n;
	}
	for (;;) {
		const uint8_t *payload;
		size_t plen;
		ssize_t fl = kp_frame_parse(f->in.data, f->in.len, RESP_MAX,
		    &payload, &plen);
		ssize_t hl;
		int32_t corr;

		if (fl == 0)
			return;
		if (fl < 0 || !f->inflight) {
			disconnect(b, f, "bad response frame");
			return;
		}
		hl = kp_resp_header_decode(payload, plen, f->api,
		    f->api == KP_API_FETCH ? FETCH_VERSION : EPOCH_VERSION,
		    &corr);
		if (hl <= 0 || corr != f->corr) {
			disconnect(b, f, "unexpected response");
			return;
		}
		f->inflight = false;
		if (f->api == KP_API_FETCH)
			on_fetch(b, f, payload + hl, plen - (size_t)hl);
		else
			on_epochs(b, f, payload + hl, plen - (size_t)hl);
		if (f->fd == -1)
			return;
		kp_buf_consume(&f->in, (size_t)fl);
	}
}

void
kb_fetchers_on_event(struct kb_broker *b, uint64_t tag, uint32_t events)
{
	struct kb_fetcher *f = fetcher_find(b->repl,
	    (int32_t)((tag & KB_TAG_REPL_IDX) - 1));

	if (f == NULL || f->fd == -1)
		return;
	if (f->connecting) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (kp_net_connect_finish(f->fd) == -1) {
			disconnect(b, f, strerror(errno));
			return;
		}
		f->connecting = false;
		kb_debug(b, "fetcher for leader %d: connected", f->leader);
		pump(b, f);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		read_in(b, f);
	if (f->fd != -1 && (events & EPOLLOUT))
		flush_out(b, f);
	if (f->fd != -1)
		pump(b, f);
}

void
kb_fetchers_timer(struct kb_broker *b, int64_t now)
{
	struct kb_repl *r = b->repl;

	(void)now;
	for (size_t i = 0; r != NULL && i < r->nfetchers; i++)
		pump(b, r->fetchers[i]);
}

static void
fetcher_free(struct kb_broker *b, struct kb_fetcher *f)
{
	disconnect(b, f, NULL);
	for (size_t i = 0; i < f->n; i++)
		free(f->p[i].topic);
	free(f->p);
	kp_buf_release(&f->out);
	kp_buf_release(&f->in);
	kp_arena_release(&f->arena);
	free(f);
}

void
kb_fetchers_free(struct kb_broker *b)
{
	struct kb_repl *r = b->repl;

	while (r != NULL && r->nfetchers > 0)
		fetcher_free(b, r->fetchers[--r->nfetchers]);
}

static struct kb_fetcher *
fetcher_get(struct kb_broker *b, int32_t leader)
{
	struct kb_repl *r = kb_repl_get(b);
	struct kb_fetcher *f;

	if (r == NULL)
		return NULL;
	if ((f = fetcher_find(r, leader)) != NULL)
		return f;
	if (r->nfetchers == r->capfetchers) {
		size_t ncap = r->capfetchers ? r->capfetchers * 2 : 4;
		struct kb_fetcher **nf = reallocarray(r->fetchers, ncap,
		    sizeof(*nf));

		if (nf == NULL)
			return NULL;
		r->fetchers = nf;
		r->capfetchers = ncap;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->leader = leader;
	f->fd = -1;
	f->backoff_ms = BACKOFF_MIN_MS;
	kp_buf_init(&f->out);
	kp_buf_init(&f->in);
	kp_arena_init(&f->arena);
	r->fetchers[r->nfetchers++] = f;
	return f;
}

/* Take topic/part off every fetcher (but keep); free idle fetchers. */
static void
remove_part(struct kb_broker *b, const char *topic, int32_t part,
    const struct kb_fetcher *keep)
{
	struct kb_repl *r = b->repl;

	for (size_t i = 0; r != NULL && i < r->nfetchers; i++) {
		struct kb_fetcher *f = r->fetchers[i];
		struct kb_fpart *fp;

		if (f == keep || (fp = fpart_find(f, topic, strlen(topic),
		    part)) == NULL)
			continue;
		free(fp->topic);
		*fp = f->p[--f->n];
		if (f->n == 0) {
			fetcher_free(b, f);
			r->fetchers[i] = r->fetchers[--r->nfetchers];
			i--;
		}
	}
}

void
kb_repl_follow(struct kb_broker *b, const char *topic, int32_t part,
    int32_t leader, int32_t epoch)
{
	struct kb_rp *rp = kb_rp_find(b, topic, part);
	struct kb_fetcher *f;
	struct kb_fpart *fp;

	if (rp != NULL)
		kb_rp_unlead(b, rp);	/* a leader no more */
	if ((f = fetcher_get(b, leader)) == NULL) {
		kb_log("%s-%d: follow %d: %s", topic, part, leader,
		    strerror(errno));
		return;
	}
	remove_part(b, topic, part, f);
	if ((fp = fpart_find(f, topic, strlen(topic), part)) == NULL) {
		if (f->n == f->cap) {
			size_t ncap = f->cap ? f->cap * 2 : 8;
			struct kb_fpart *np = reallocarray(f->p, ncap,
			    sizeof(*np));

			if (np == NULL)
				return;
			f->p = np;
			f->cap = ncap;
		}
		fp = &f->p[f->n];
		memset(fp, 0, sizeof(*fp));
		if ((fp->topic = strdup(topic)) == NULL)
			return;
		fp->part = part;
		fp->epoch = -1;
		f->n++;
	}
	if (fp->epoch != epoch) {
		/* a new leader epoch: agree on the log before fetching */
		fp->epoch = epoch;
		fp->truncated = false;
		fp->retry_ms = 0;
		kb_debug(b, "%s-%d: following %d at epoch %d", topic, part,
		    leader, epoch);
	}
	pump(b, f);
}

void
kb_repl_unfollow(struct kb_broker *b, const char *topic, int32_t part)
{
	remove_part(b, topic, part, NULL);
	kb_rp_drop(b, topic, part);
}
