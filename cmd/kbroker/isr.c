/* isr.c -- the leader's side of replication: follower LEOs, high watermark, ISR shrink and expand, acks=all waits */
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_store.h"
#include "kp_txnrec.h"
#include "kbroker.h"
#include "cluster.h"
#include "repl.h"
#include "txn_coord.h"

#define TIMER_MS	100	/* lag checks, acks=all timeouts, backoff */
#define ISR_RETRY_MS	500	/* after ZooKeeper refused an ISR change */

/*
 * A parked acks=all Produce response: complete, held (r->hw_parked) until
 * the high watermark of every partition it appended to passes the end of
 * what it appended. Then the error codes of partitions that did not make
 * it (timeout, leadership lost) are written into the encoded response
 * and it goes. An OffsetCommit or TxnOffsetCommit response (PARK_PARTS)
 * waits the same way on its group's __consumer_offsets partition, a
 * transaction coordinator's response on its __transaction_state
 * partition (PARK_PARTS for AddPartitionsToTxn, PARK_ONE for the others,
 * whose single error code is at errpos).
 */
enum kb_park_kind { PARK_PRODUCE, PARK_PARTS, PARK_ONE };

struct kb_park_part {
	char		*topic;
	int32_t		 part;
	int64_t		 end;
	bool		 done;
	int16_t		 err;
};

struct kb_park {
	TAILQ_ENTRY(kb_park) link;
	struct kb_resp	*r;
	int16_t		 api;
	int16_t		 version;
	enum kb_park_kind kind;
	size_t		 errpos;	/* PARK_ONE: where its error code is */
	kb_park_done_fn	*done;		/* PARK_PARTS: told once how it ended */
	void		*arg;
	int64_t		 deadline;
	struct kb_park_part *p;
	size_t		 n, cap;
};

static int64_t
lag_ms(const struct kb_broker *b)
{
	return b->cfg->replica_lag_ms > 0 ? b->cfg->replica_lag_ms : 30000;
}

static int
arm_timer(struct kb_repl *r)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = TIMER_MS * 1000000L;
	its.it_interval.tv_nsec = TIMER_MS * 1000000L;
	return timerfd_settime(r->tfd, 0, &its, NULL);
}

struct kb_repl *
kb_repl_get(struct kb_broker *b)
{
	struct kb_repl *r = b->repl;
	struct epoll_event ev;

	if (r != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	TAILQ_INIT(&r->parked);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = KB_TAG_REPL;
	if (r->tfd == -1 || arm_timer(r) == -1 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, r->tfd, &ev) == -1) {
		kb_log("replication timer: %s", strerror(errno));
		if (r->tfd != -1)
			close(r->tfd);
		free(r);
		return NULL;
	}
	b->repl = r;
	return r;
}

struct kb_rp *
kb_rp_find(struct kb_broker *b, const char *topic, int32_t part)
{
	struct kb_repl *r = b->repl;

	for (size_t i = 0; r != NULL && i < r->nrp; i++)
		if (r->rp[i]->part == part && strcmp(r->rp[i]->topic,
		    topic) == 0)
			return r->rp[i];
	return NULL;
}

struct kb_rp *
kb_rp_get(struct kb_broker *b, const char *topic, int32_t part)
{
	struct kb_repl *r;
	struct kb_rp *rp = kb_rp_find(b, topic, part);

	if (rp != NULL)
		return rp;
	if ((r = kb_repl_get(b)) == NULL)
		return NULL;
	if (r->nrp == r->caprp) {
		size_t ncap = r->caprp ? r->caprp * 2 : 16;
		struct kb_rp **n = reallocarray(r->rp, ncap, sizeof(*n));

		if (n == NULL)
			return NULL;
		r->rp = n;
		r->caprp = ncap;
	}
	if ((rp = calloc(1, sizeof(*rp))) == NULL ||
	    (rp->topic = strdup(topic)) == NULL) {
		free(rp);
		return NULL;
	}
	rp->part = part;
	kp_epoch_init(&rp->ec);
	r->rp[r->nrp++] = rp;
	return rp;
}

struct kp_log *
kb_rp_log(struct kb_broker *b, const char *topic, int32_t part)
{
	struct kp_str s = kb_str(topic);

	return kb_log_for(b, &s, part);
}

struct kp_epoch_cache *
kb_rp_epochs(struct kb_broker *b, struct kb_rp *rp, struct kp_log *log)
{
	if (rp->epochs_ok)
		return &rp->ec;
	if (kp_epoch_load(&rp->ec, kp_log_dir(log)) == -1) {
		if (errno != ENOENT)
			kb_log("%s: %s: %s, rebuilding it from the batches",
			    kp_log_dir(log), KP_EPOCH_FILE, strerror(errno));
		if (kp_epoch_rebuild(&rp->ec, log) == -1) {
			kb_log("%s: leader epochs: %s", kp_log_dir(log),
			    strerror(errno));
			return NULL;
		}
		kb_rp_save_epochs(b, rp, log);
	}
	/* a crash may have cut the log after the file was written */
	kp_epoch_truncate(&rp->ec, kp_log_end_offset(log));
	rp->epochs_ok = true;
	return &rp->ec;
}

void
kb_rp_save_epochs(struct kb_broker *b, struct kb_rp *rp, struct kp_log *log)
{
	(void)b;
	if (kp_epoch_save(&rp->ec, kp_log_dir(log)) == -1)
		kb_log("%s: %s: %s", kp_log_dir(log), KP_EPOCH_FILE,
		    strerror(errno));
}

static const struct kb_cl_part *
view_part(struct kb_broker *b, const char *topic, int32_t part)
{
	const struct kb_cl_view *v = kb_cluster_view(b);
	const struct kb_cl_topic *t = v ? kb_cl_topic(v, topic) : NULL;

	if (t == NULL || part < 0 || part >= t->nparts)
		return NULL;
	return &t->parts[part];
}

static struct kb_rfol *
follower(struct kb_rp *rp, int32_t id)
{
	for (int32_t i = 0; i < rp->nf; i++)
		if (rp->f[i].id == id)
			return &rp->f[i];
	return NULL;
}

/* ---- parked acks=all responses ---- */

/*
 * The produce response (v3-7, not flexible) holds per partition index,
 * error_code, base_offset, log_append_time, and from v5 log_start_offset:
 * find each parked partition's error_code in the encoded bytes and set it.
 */
static void
patch_errors(struct kb_park *pk)
{
	struct kb_resp *r = pk->r;
	uint8_t *d = r->buf.data;
	size_t pos = 8, len = r->buf.len;
	size_t psize = 4 + 2 + 8 + 8 + (pk->version >= 5 ? 8 : 0);
	int32_t nt;

	if (len < pos + 4)
		return;
	nt = kp_be32(d + pos);
	pos += 4;
	for (int32_t i = 0; i < nt && pos + 2 <= len; i++) {
		int16_t nl = kp_be16(d + pos);
		const char *name = (const char *)d + pos + 2;
		int32_t np;

		pos += 2 + (nl > 0 ? (size_t)nl : 0);
		if (pos + 4 > len)
			return;
		np = kp_be32(d + pos);
		pos += 4;
		for (int32_t j = 0; j < np && pos + psize <= len; j++) {
			int32_t idx = kp_be32(d + pos);

			for (size_t k = 0; k < pk->n; k++) {
				struct kb_park_part *pp = &pk->p[k];

				if (pp->err == KP_NONE || pp->part != idx ||
				    nl < 0 || strlen(pp->topic) != (size_t)nl ||
				    memcmp(pp->topic, name, (size_t)nl) != 0)
					continue;
				kp_put_be16(d + pos + 4, pp->err);
			}
			pos += psize;
		}
	}
}

/*
 * Kafka's GroupMetadataManager.storeOffsets: the append's error, as an
 * OffsetCommit or TxnOffsetCommit answers it.
 */
static int16_t
commit_error(int16_t err)
{
	switch (err) {
	case KP_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_NOT_ENOUGH_REPLICAS:
	case KP_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		return KP_COORDINATOR_NOT_AVAILABLE;
	case KP_NOT_LEADER_OR_FOLLOWER:
	case KP_KAFKA_STORAGE_ERROR:
		return KP_NOT_COORDINATOR;
	default:
		return err;		/* KP_REQUEST_TIMED_OUT */
	}
}

/*
 * Kafka's TransactionStateManager.appendTransactionToLog: the append's
 * error, as the transaction coordinator answers it: errors a producer
 * retries on.
 */
static int16_t
txn_error(int16_t err)
{
	switch (err) {
	case KP_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_NOT_ENOUGH_REPLICAS:
	case KP_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case KP_REQUEST_TIMED_OUT:
		return KP_COORDINATOR_NOT_AVAILABLE;
	case KP_NOT_LEADER_OR_FOLLOWER:
	case KP_KAFKA_STORAGE_ERROR:
		return KP_NOT_COORDINATOR;
	default:
		return err;
	}
}

/* The first failed wait's error, as pk's API answers it; KP_NONE if none. */
static int16_t
park_error(const struct kb_park *pk)
{
	for (size_t k = 0; k < pk->n; k++) {
		if (pk->p[k].err == KP_NONE)
			continue;
		if (pk->api == KP_API_OFFSET_COMMIT ||
		    pk->api == KP_API_TXN_OFFSET_COMMIT)
			return commit_error(pk->p[k].err);
		return txn_error(pk->p[k].err);
	}
	return KP_NONE;
}

/*
 * Responses that list per topic its name and per partition its index and
 * error_code, after throttle_time_ms (none in OffsetCommit v2):
 * OffsetCommit v2-7, TxnOffsetCommit and AddPartitionsToTxn v0-3, the
 * last two flexible from v3. Every partition that succeeded gets err.
 */
static void
patch_parts(struct kb_park *pk, int16_t err)
{
	struct kb_resp *r = pk->r;
	bool flex = kp_resp_header_version(pk->api, pk->version) >= 1;
	struct kp_reader rd;
	struct kp_str name;
	int32_t nt, np;
	size_t at;

	if (err == KP_NONE || r->buf.len < 8)
		return;
	/* after the size and the correlation id */
	kp_reader_init(&rd, r->buf.data + 8, r->buf.len - 8);
	kp_read_tags_f(&rd, flex);
	if (pk->api != KP_API_OFFSET_COMMIT || pk->version >= 3)
		(void)kp_read_i32(&rd);
	nt = kp_read_array_f(&rd, flex, 1);
	for (int32_t i = 0; i < nt && !rd.err; i++) {
		kp_read_string_f(&rd, flex, &name);
		np = kp_read_array_f(&rd, flex, 6);
		for (int32_t j = 0; j < np && !rd.err; j++) {
			(void)kp_read_i32(&rd);
			at = 8 + rd.off;
			if (kp_read_i16(&rd) == KP_NONE && !rd.err)
				kp_put_be16(r->buf.data + at, err);
			kp_read_tags_f(&rd, flex);
		}
		kp_read_tags_f(&rd, flex);
	}
}

/* A response with one error code, at byte errpos. */
static void
patch_one_error(struct kb_park *pk, int16_t err)
{
	struct kb_resp *r = pk->r;

	if (err != KP_NONE && r->buf.len >= 2 && pk->errpos <= r->buf.len - 2)
		kp_put_be16(r->buf.data + pk->errpos, err);
}

static void
park_free(struct kb_park *pk)
{
	/* dropped with its connection, or at shutdown: fate unknown */
	if (pk->done != NULL)
		pk->done(pk->arg, false);
	for (size_t i = 0; i < pk->n; i++)
		free(pk->p[i].topic);
	free(pk->p);
	free(pk);
}

static void
release(struct kb_broker *b, struct kb_park *pk)
{
	struct kb_resp *r = pk->r;
	int16_t err;

	TAILQ_REMOVE(&b->repl->parked, pk, link);
	switch (pk->kind) {
	case PARK_PRODUCE:
		patch_errors(pk);
		break;
	case PARK_PARTS:
		err = park_error(pk);
		patch_parts(pk, err);
		if (pk->done != NULL) {
			pk->done(pk->arg, err != KP_NONE);
			pk->done = NULL;
		}
		break;
	case PARK_ONE:
		patch_one_error(pk, park_error(pk));
		break;
	}
	r->hw_parked = false;
	/* kpipe.acks.all.fsync may still hold it for its sync */
	if (!r->parked) {
		r->ready = true;
		kb_conn_update_events(r->conn);
	}
	park_free(pk);
}

/* Settle what waits on topic/part: HW reached, or err for the rest. */
static void
settle_parked(struct kb_broker *b, const char *topic, int32_t part,
    int64_t hw, int16_t err)
{
	struct kb_park *pk, *next;

	if (b->repl == NULL)
		return;
	for (pk = TAILQ_FIRST(&b->repl->parked); pk != NULL; pk = next) {
		bool all = true;

		next = TAILQ_NEXT(pk, link);
		for (size_t i = 0; i < pk->n; i++) {
			struct kb_park_part *pp = &pk->p[i];

			if (!pp->done && pp->part == part &&
			    strcmp(pp->topic, topic) == 0) {
				if (err != KP_NONE) {
					pp->done = true;
					pp->err = err;
				} else if (hw >= pp->end) {
					pp->done = true;
					pp->err = kb_repl_min_isr_ok(b, topic,
					    part) ? KP_NONE :
					    KP_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
				}
			}
			all = all && pk->p[i].done;
		}
		if (all)
			release(b, pk);
	}
}

/* The produce request's timeout_ms: after transactional_id and acks. */
static int64_t
request_timeout(const struct kb_req *req)
{
	const uint8_t *p = req->body;
	size_t len = req->body_len, pos = 0;
	int16_t tl;

	if (len < 2)
		return 30000;
	tl = kp_be16(p);
	pos = 2 + (tl > 0 ? (size_t)tl : 0) + 2;
	if (pos + 4 > len)
		return 30000;
	return kp_be32(p + pos) >= 0 ? kp_be32(p + pos) : 30000;
}

/*
 * Hold req's response until topic/part's HW reaches end. 0 with *pkp the
 * park that holds it, or NULL when the HW is there already; -1 when it
 * cannot be held.
 */
static int
park(struct kb_broker *b, struct kb_req *req, const char *topic,
    int32_t part, int64_t end, int64_t timeout_ms, enum kb_park_kind kind,
    size_t errpos, struct kb_park **pkp)
{
	struct kp_log *log = kb_rp_log(b, topic, part);
	struct kb_repl *r = kb_repl_get(b);
	struct kb_park *pk;
	struct kb_park_part *pp;

	*pkp = NULL;
	if (log == NULL || kp_log_high_watermark(log) >= end)
		return 0;
	if (r == NULL)
		return -1;
	/* a request waiting on several partitions parks once */
	pk = TAILQ_LAST(&r->parked, kb_park_q);
	if (pk == NULL || pk->r != req->resp) {
		if ((pk = calloc(1, sizeof(*pk))) == NULL)
			return -1;
		pk->r = req->resp;
		pk->api = req->hdr.api_key;
		pk->version = req->hdr.api_version;
		pk->kind = kind;
		pk->errpos = errpos;
		pk->deadline = kb_now_mono() + timeout_ms;
		TAILQ_INSERT_TAIL(&r->parked, pk, link);
		req->resp->hw_parked = true;
	}
	if (pk->n == pk->cap) {
		size_t ncap = pk->cap ? pk->cap * 2 : 4;
		struct kb_park_part *np = reallocarray(pk->p, ncap,
		    sizeof(*np));

		if (np == NULL)
			return -1;
		pk->p = np;
		pk->cap = ncap;
	}
	pp = &pk->p[pk->n];
	memset(pp, 0, sizeof(*pp));
	if ((pp->topic = strdup(topic)) == NULL)
		return -1;
	pp->part = part;
	pp->end = end;
	pk->n++;
	*pkp = pk;
	return 0;
}

int
kb_repl_park_for_hw(struct kb_broker *b, struct kb_req *req,
    const char *topic, int32_t part, int64_t end)
{
	struct kb_park *pk;

	return park(b, req, topic, part, end, request_timeout(req),
	    PARK_PRODUCE, 0, &pk);
}

int
kb_repl_park_parts(struct kb_broker *b, struct kb_req *req,
    const char *topic, int32_t part, int64_t end, int64_t timeout_ms,
    kb_park_done_fn *done, void *arg)
{
	struct kb_park *pk;

	if (park(b, req, topic, part, end, timeout_ms, PARK_PARTS, 0,
	    &pk) == -1) {
		if (done != NULL)
			done(arg, false);
		return -1;
	}
	if (pk != NULL && pk->done == NULL) {
		pk->done = done;
		pk->arg = arg;
	} else if (done != NULL)
		done(arg, false);	/* the HW is there already */
	return 0;
}

int
kb_repl_park_resp(struct kb_broker *b, struct kb_req *req, const char *topic,
    int32_t part, int64_t end, int64_t timeout_ms, size_t errpos)
{
	struct kb_park *pk;

	return park(b, req, topic, part, end, timeout_ms, PARK_ONE, errpos,
	    &pk);
}

void
kb_repl_forget_conn(struct kb_broker *b, struct kb_conn *c)
{
	struct kb_park *pk, *next;

	if (b->repl == NULL)
		return;
	for (pk = TAILQ_FIRST(&b->repl->parked); pk != NULL; pk = next) {
		next = TAILQ_NEXT(pk, link);
		if (pk->r->conn == c) {
			TAILQ_REMOVE(&b->repl->parked, pk, link);
			park_free(pk);
		}
	}
}

static void
expire_parked(struct kb_broker *b, int64_t now)
{
	struct kb_park *pk, *next;

	for (pk = TAILQ_FIRST(&b->repl->parked); pk != NULL; pk = next) {
		next = TAILQ_NEXT(pk, link);
		if (now < pk->deadline && !b->stopping)
			continue;
		for (size_t i = 0; i < pk->n; i++)
			if (!pk->p[i].done) {
				pk->p[i].done = true;
				pk->p[i].err = KP_REQUEST_TIMED_OUT;
			}
		release(b, pk);
	}
}

/* ---- ISR and high watermark ---- */

static bool
in_isr(struct kb_broker *b, const struct kb_rp *rp, int32_t id)
{
	const struct kb_cl_part *pt = view_part(b, rp->topic, rp->part);

	if (pt != NULL && kb_cl_in(pt->isr, pt->nisr, id))
		return true;
	return rp->pending && kb_cl_in(rp->pend_isr, rp->npend, id);
}

/*
 * HW = the smallest log end offset in the ISR, the leader's included;
 * while an ISR change waits for its view both the old and the new members
 * count (Kafka's maximal ISR). It never goes back on a leader.
 */
static void
advance_hw(struct kb_broker *b, struct kb_rp *rp, struct kp_log *log)
{
	const struct kb_cl_part *pt = view_part(b, rp->topic, rp->part);
	int64_t hw = kp_log_end_offset(log);

	if (pt == NULL)
		return;
	for (int32_t i = 0; i < rp->nf; i++) {
		struct kb_rfol *f = &rp->f[i];

		if (!in_isr(b, rp, f->id))
			continue;
		if (f->leo < hw)
			hw = f->leo;
	}
	if (hw <= kp_log_high_watermark(log))
		return;
	kp_log_set_high_watermark(log, hw);
	b->wake = true;		/* consumers waiting for data */
	settle_parked(b, rp->topic, rp->part, kp_log_high_watermark(log),
	    KP_NONE);
	if (strcmp(rp->topic, KP_TXN_STATE_TOPIC) == 0)
		kb_txn_coord_nudge();
}

static void
write_isr(struct kb_broker *b, struct kb_rp *rp, const int32_t *isr,
    int32_t n, const struct kb_cl_part *pt, const char *why)
{
	int32_t *copy;
	int rc;

	if ((copy = calloc((size_t)n + 1, sizeof(*copy))) == NULL)
		return;
	memcpy(copy, isr, (size_t)n * sizeof(*copy));
	rc = kb_cluster_set_isr(b, rp->topic, rp->part, isr, n);
	if (rc != KP_NONE) {
		kb_debug(b, "%s-%d: ISR change (%s): %s", rp->topic, rp->part,
		    why, kp_kerr_name((int16_t)rc));
		rp->isr_retry_ms = kb_now_mono() + ISR_RETRY_MS;
		free(copy);
		return;
	}
	free(rp->pend_isr);
	rp->pend_isr = copy;
	rp->npend = n;
	rp->pending = true;
	rp->pend_version = pt->version;
	kb_log("%s-%d: ISR %s (%d replica(s) in sync)", rp->topic, rp->part,
	    why, (int)n);
}

/*
 * A follower joins the ISR once it has everything committed and all of
 * this leader's epoch so far (Kafka's rule: its fetch offset at or past
 * the high watermark and the epoch's start). Asking for the log end
 * instead could keep it out for good under a steady stream of appends.
 * And only while its broker is registered (Kafka's isReplicaIsrEligible):
 * the controller drops a broker without registration from the ISR, so
 * one that still fetches (its session just expired, the new one not
 * registered yet) must not flip itself back in.
 */
static void
maybe_expand(struct kb_broker *b, struct kb_rp *rp, struct kb_rfol *f,
    struct kp_log *log)
{
	const struct kb_cl_part *pt = view_part(b, rp->topic, rp->part);
	int32_t *isr;

	if (pt == NULL || rp->pending || kb_now_mono() < rp->isr_retry_ms ||
	    kb_cl_in(pt->isr, pt->nisr, f->id) ||
	    !kb_cl_in(pt->replicas, pt->nreplicas, f->id) ||
	    kb_cl_broker(kb_cluster_view(b), f->id) == NULL ||
	    f->leo < kp_log_high_watermark(log) || f->leo < rp->epoch_start)
		return;
	if ((isr = calloc((size_t)pt->nisr + 1, sizeof(*isr))) == NULL)
		return;
	memcpy(isr, pt->isr, (size_t)pt->nisr * sizeof(*isr));
	isr[pt->nisr] = f->id;
	write_isr(b, rp, isr, pt->nisr + 1, pt, "expanded");
	free(isr);
}

/* Followers that have not caught up for replica.lag.time.max.ms leave. */
static void
maybe_shrink(struct kb_broker *b, struct kb_rp *rp, int64_t now)
{
	const struct kb_cl_part *pt = view_part(b, rp->topic, rp->part);
	int64_t lag = lag_ms(b);
	int32_t *isr, n = 0;

	if (pt == NULL || rp->pending || now < rp->isr_retry_ms)
		return;
	if ((isr = calloc((size_t)pt->nisr + 1, sizeof(*isr))) == NULL)
		return;
	for (int32_t i = 0; i < pt->nisr; i++) {
		struct kb_rfol *f = follower(rp, pt->isr[i]);

		if (pt->isr[i] != b->cfg->broker_id &&
		    (f == NULL || now - f->caught_ms > lag))
			continue;
		isr[n++] = pt->isr[i];
	}
	if (n < pt->nisr && n > 0)
		write_isr(b, rp, isr, n, pt, "shrunk");
	free(isr);
}

/* Followers known to the leader: the replicas of the view but itself. */
static void
reset_followers(struct kb_broker *b, struct kb_rp *rp,
    const struct kb_cl_part *pt)
{
	int64_t now = kb_now_mono();

	free(rp->f);
	rp->f = NULL;
	rp->nf = 0;
	if (pt == NULL ||
	    (rp->f = calloc((size_t)pt->nreplicas + 1, sizeof(*rp->f))) ==
	    NULL)
		return;
	for (int32_t i = 0; i < pt->nreplicas; i++) {
		struct kb_rfol *f;

		if (pt->replicas[i] == b->cfg->broker_id)
			continue;
		f = &rp->f[rp->nf++];
		f->id = pt->replicas[i];
		f->leo = -1;
		/* ISR members get the whole lag time to show up */
		f->caught_ms = now;
		f->fetch_ms = now;
		f->fetch_leo = -1;
	}
}

/* New replicas (a reassignment) get a slot; gone ones are dropped. */
static void
sync_followers(struct kb_broker *b, struct kb_rp *rp,
    const struct kb_cl_part *pt)
{
	int32_t n = 0;
	struct kb_rfol *nf;

	if ((nf = calloc((size_t)pt->nreplicas + 1, sizeof(*nf))) == NULL)
		return;
	for (int32_t i = 0; i < pt->nreplicas; i++) {
		struct kb_rfol *f = follower(rp, pt->replicas[i]);

		if (pt->replicas[i] == b->cfg->broker_id)
			continue;
		if (f != NULL) {
			nf[n++] = *f;
			continue;
		}
		nf[n].id = pt->replicas[i];
		nf[n].leo = -1;
		nf[n].caught_ms = nf[n].fetch_ms = kb_now_mono();
		nf[n].fetch_leo = -1;
		n++;
	}
	free(rp->f);
	rp->f = nf;
	rp->nf = n;
}

void
kb_repl_lead(struct kb_broker *b, const char *topic, int32_t part,
    int32_t epoch)
{
	struct kp_log *log = kb_rp_log(b, topic, part);
	const struct kb_cl_part *pt = view_part(b, topic, part);
	struct kb_rp *rp;
	struct kp_epoch_cache *ec;

	if (log == NULL || pt == NULL || (rp = kb_rp_get(b, topic, part)) ==
	    NULL)
		return;
	if (!rp->leader || rp->epoch != epoch) {
		rp->leader = true;
		rp->epoch = epoch;
		rp->pending = false;
		rp->isr_retry_ms = 0;
		reset_followers(b, rp, pt);
		rp->epoch_start = kp_log_end_offset(log);
		/* the new epoch starts at our log end */
		if ((ec = kb_rp_epochs(b, rp, log)) != NULL &&
		    kp_epoch_assign(ec, epoch, kp_log_end_offset(log)) == 1)
			kb_rp_save_epochs(b, rp, log);
		kb_debug(b, "%s-%d: leading at epoch %d from offset %lld",
		    topic, part, epoch, (long long)kp_log_end_offset(log));
	} else
		sync_followers(b, rp, pt);
	if (rp->pending && pt->version != rp->pend_version)
		rp->pending = false;	/* the view has our change (or newer) */
	advance_hw(b, rp, log);
}

void
kb_rp_unlead(struct kb_broker *b, struct kb_rp *rp)
{
	if (!rp->leader)
		return;
	rp->leader = false;
	rp->pending = false;
	settle_parked(b, rp->topic, rp->part, -1,
	    KP_NOT_LEADER_OR_FOLLOWER);
}

void
kb_repl_appended(struct kb_broker *b, const char *topic, int32_t part)
{
	struct kb_rp *rp = kb_rp_find(b, topic, part);
	struct kp_log *log = kb_rp_log(b, topic, part);

	if (rp != NULL && rp->leader && log != NULL)
		advance_hw(b, rp, log);
	b->wake = true;		/* followers' long polls */
}

void
kb_repl_follower_fetched(struct kb_broker *b, int32_t replica,
    const char *topic, int32_t part, int64_t offset)
{
	struct kb_rp *rp = kb_rp_find(b, topic, part);
	struct kp_log *log = kb_rp_log(b, topic, part);
	struct kb_rfol *f;
	int64_t now = kb_now_mono(), leo;

	if (rp == NULL || !rp->leader || log == NULL ||
	    (f = follower(rp, replica)) == NULL)
		return;
	leo = kp_log_end_offset(log);
	if (offset > leo)
		return;		/* out of range: answered as such */
	/* Kafka's lastCaughtUpTime: at our end now, or at our end then */
	if (offset >= leo)
		f->caught_ms = now;
	else if (f->fetch_leo >= 0 && offset >= f->fetch_leo &&
	    f->fetch_ms > f->caught_ms)
		f->caught_ms = f->fetch_ms;
	f->fetch_ms = now;
	f->fetch_leo = leo;
	f->leo = offset;
	maybe_expand(b, rp, f, log);
	advance_hw(b, rp, log);
}

int
kb_repl_min_isr_ok(struct kb_broker *b, const char *topic, int32_t part)
{
	const struct kb_cl_part *pt = view_part(b, topic, part);
	struct kp_log *log = kb_rp_log(b, topic, part);

	if (log == NULL || pt == NULL)
		return 0;
	return pt->nisr >= kp_log_conf(log)->min_insync_replicas;
}

int
kb_repl_offsets_check(struct kb_broker *b, const struct kp_str *topic,
    int32_t part)
{
	char name[256];
	struct kb_rp *rp;
	struct kp_log *log;

	if (b->repl == NULL || topic->len <= 0 ||
	    (size_t)topic->len >= sizeof(name))
		return KP_NONE;
	memcpy(name, topic->ptr, (size_t)topic->len);
	name[topic->len] = '\0';
	if ((rp = kb_rp_find(b, name, part)) == NULL || !rp->leader ||
	    (log = kb_rp_log(b, name, part)) == NULL)
		return KP_NONE;
	return kp_log_high_watermark(log) < rp->epoch_start ?
	    KP_OFFSET_NOT_AVAILABLE : KP_NONE;
}

/* ---- the timer ---- */

static void
on_timer(struct kb_broker *b)
{
	struct kb_repl *r = b->repl;
	uint64_t n;
	int64_t now = kb_now_mono();

	if (read(r->tfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	for (size_t i = 0; i < r->nrp; i++)
		if (r->rp[i]->leader)
			maybe_shrink(b, r->rp[i], now);
	expire_parked(b, now);
	kb_fetchers_timer(b, now);
	kb_txn_coord_poll(b);	/* a cluster's transaction coordinator */
}

void
kb_repl_on_event(struct kb_broker *b, uint64_t tag, uint32_t events)
{
	if (b->repl == NULL)
		return;
	if ((tag & KB_TAG_REPL_IDX) == 0)
		on_timer(b);
	else
		kb_fetchers_on_event(b, tag, events);
}

/* Drop a partition's state (it moved away, was deleted, or goes offline). */
void
kb_rp_drop(struct kb_broker *b, const char *topic, int32_t part)
{
	struct kb_repl *r = b->repl;

	for (size_t i = 0; r != NULL && i < r->nrp; i++) {
		struct kb_rp *rp = r->rp[i];

		if (rp->part != part || strcmp(rp->topic, topic) != 0)
			continue;
		kb_rp_unlead(b, rp);
		r->rp[i] = r->rp[--r->nrp];
		kp_epoch_release(&rp->ec);
		free(rp->f);
		free(rp->pend_isr);
		free(rp->topic);
		free(rp);
		return;
	}
}

static void
repl_fini(struct kb_broker *b)
{
	struct kb_repl *r = b->repl;
	struct kb_park *pk;

	if (r == NULL)
		return;
	kb_fetchers_free(b);
	while (r->nrp > 0)
		kb_rp_drop(b, r->rp[r->nrp - 1]->topic,
		    r->rp[r->nrp - 1]->part);
	while ((pk = TAILQ_FIRST(&r->parked)) != NULL) {
		TAILQ_REMOVE(&r->parked, pk, link);
		park_free(pk);
	}
	free(r->rp);
	free(r->fetchers);
	close(r->tfd);
	free(r);
	b->repl = NULL;
}

KB_HOOK(repl, NULL, NULL, repl_fini)
