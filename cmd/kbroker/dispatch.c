/* dispatch.c -- the API table, request dispatch, ApiVersions and deferred (long-poll) requests */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_err.h"
#include "kbroker.h"

#define API_SLOTS	(KP_API_MAX + 1)

/* Filled by the constructors of handler files (KB_API). */
static const struct kb_api *apis[API_SLOTS];
static const struct kb_api *sorted[API_SLOTS];
static size_t napis;

void
kb_api_register(const struct kb_api *a)
{
	size_t i;

	if (a->key < 0 || a->key >= API_SLOTS || apis[a->key] != NULL)
		abort();	/* a programming error: two files claim a key */
	apis[a->key] = a;
	for (i = napis; i > 0 && sorted[i - 1]->key > a->key; i--)
		sorted[i] = sorted[i - 1];
	sorted[i] = a;
	napis++;
}

const struct kb_api *
kb_api_find(int16_t key)
{
	return key >= 0 && key < API_SLOTS ? apis[key] : NULL;
}

size_t
kb_api_count(void)
{
	return napis;
}

const struct kb_api *
kb_api_at(size_t i)
{
	return i < napis ? sorted[i] : NULL;
}

#define HOOKS_MAX	16

static const struct kb_hook *hooks[HOOKS_MAX];
static size_t nhooks;
static size_t hooks_inited;

void
kb_hook_register(const struct kb_hook *h)
{
	if (nhooks == HOOKS_MAX)
		abort();	/* raise HOOKS_MAX */
	hooks[nhooks++] = h;
}

int
kb_init_hooks(struct kb_broker *b)
{
	for (hooks_inited = 0; hooks_inited < nhooks; hooks_inited++) {
		const struct kb_hook *h = hooks[hooks_inited];

		if (h->init != NULL && h->init(b) == -1) {
			kb_log("%s: startup failed", h->name);
			return -1;
		}
	}
	return 0;
}

void
kb_tick_hooks(struct kb_broker *b, int64_t now)
{
	for (size_t i = 0; i < hooks_inited; i++)
		if (hooks[i]->tick != NULL)
			hooks[i]->tick(b, now);
}

void
kb_fini_hooks(struct kb_broker *b)
{
	while (hooks_inited > 0) {
		const struct kb_hook *h = hooks[--hooks_inited];

		if (h->fini != NULL)
			h->fini(b);
	}
}

/*
 * ApiVersions, generated from the table. The response header is v0 at
 * every version (KIP-511); the body is flexible at v3.
 */
static void
put_api_versions(struct kp_buf *b, int16_t version, int16_t error)
{
	bool flex = version >= 3;

	kp_buf_put_i16(b, error);
	kp_put_array_f(b, flex, (int32_t)napis);
	for (size_t i = 0; i < napis; i++) {
		kp_buf_put_i16(b, sorted[i]->key);
		kp_buf_put_i16(b, sorted[i]->min);
		kp_buf_put_i16(b, sorted[i]->max);
		kp_put_tags_f(b, flex);
	}
	if (version >= 1)
		kp_buf_put_i32(b, 0);	/* throttle_time_ms */
	kp_put_tags_f(b, flex);
}

static int
handle_api_versions(struct kb_req *req)
{
	put_api_versions(kb_resp_buf(req->resp), req->hdr.api_version,
	    KP_NONE);
	return KB_DONE;
}

KB_API(api_versions, KP_API_API_VERSIONS, 0, 3, handle_api_versions)

/*
 * A client asking ApiVersions at a version above ours gets a v0-format
 * answer with UNSUPPORTED_VERSION and our range, and retries with it
 * (apache/kafka ApiVersionsRequest.getErrorResponse).
 */
static int
reply_unsupported_api_versions(struct kb_conn *c, int32_t corr)
{
	struct kb_resp *r = kb_resp_new(c);
	const struct kb_api *a = kb_api_find(KP_API_API_VERSIONS);

	if (r == NULL)
		return KB_CLOSE;
	kp_buf_put_i32(&r->buf, 0);
	kp_buf_put_i32(&r->buf, corr);
	kp_buf_put_i16(&r->buf, KP_UNSUPPORTED_VERSION);
	kp_buf_put_i32(&r->buf, 1);
	kp_buf_put_i16(&r->buf, KP_API_API_VERSIONS);
	kp_buf_put_i16(&r->buf, a->min);
	kp_buf_put_i16(&r->buf, a->max);
	return kb_resp_finish(r) == -1 ? KB_CLOSE : 0;
}

/* Run a handler for req; the response header goes first. */
static int
run(struct kb_req *req, const struct kb_api *a)
{
	struct kp_buf *b = &req->resp->buf;

	kp_buf_put_i32(b, 0);		/* frame size, set by finish */
	kp_resp_header_encode(b, req->hdr.api_key, req->hdr.api_version,
	    req->hdr.correlation_id);
	return a->fn(req);
}

/* Reset a response for another run of its deferred request. */
static void
resp_rewind(struct kb_resp *r)
{
	for (size_t i = r->cur; i < r->nchunks; i++)
		if (r->chunks[i].fd != -1)
			close(r->chunks[i].fd);
	r->nchunks = r->cur = 0;
	r->total = 0;
	r->mem_mark = 0;
	kp_buf_reset(&r->buf);
}

static void
unlink_resp(struct kb_conn *c, struct kb_resp *r)
{
	TAILQ_REMOVE(&c->resps, r, link);
	kb_resp_free(r);
}

/* After a handler ran: seal, drop, defer or close. */
static int
settle(struct kb_req *req, int rc, const uint8_t *payload, size_t len)
{
	struct kb_resp *r = req->resp;
	struct kb_broker *b = req->b;

	switch (rc) {
	case KB_DONE:
		if (r->waiting) {
			TAILQ_REMOVE(&b->waiting, r, wait_link);
			r->waiting = false;
		}
		if (kb_resp_finish(r) == -1) {
			kb_log("%s: %s response: out of memory", req->c->peer,
			    kp_api_name(req->hdr.api_key));
			return KB_CLOSE;
		}
		return 0;
	case KB_NO_RESPONSE:
		if (r->waiting)
			TAILQ_REMOVE(&b->waiting, r, wait_link);
		unlink_resp(req->c, r);
		return 0;
	case KB_DEFER:
		if (!r->waiting) {
			if ((r->req = malloc(len)) == NULL)
				return KB_CLOSE;
			memcpy(r->req, payload, len);
			r->req_len = len;
			r->waiting = true;
			TAILQ_INSERT_TAIL(&b->waiting, r, wait_link);
		}
		return 0;
	default:
		return KB_CLOSE;
	}
}

int
kb_dispatch(struct kb_conn *c, const uint8_t *payload, size_t len)
{
	struct kb_broker *b = c->b;
	struct kb_req req;
	const struct kb_api *a;
	ssize_t hl;
	int rc;

	memset(&req, 0, sizeof(req));
	hl = kp_req_header_decode(payload, len, &req.hdr);
	if (hl <= 0) {
		/* Unknown API key, or a header we cannot read. */
		if (len >= 4 && kp_be16(payload) == KP_API_API_VERSIONS &&
		    len >= 8 && kp_be16(payload + 2) > 3)
			return reply_unsupported_api_versions(c,
			    kp_be32(payload + 4));
		kb_log("%s: unreadable request header (api %d), closing",
		    c->peer, len >= 2 ? kp_be16(payload) : -1);
		return KB_CLOSE;
	}
	a = kb_api_find(req.hdr.api_key);
	if (a == NULL || req.hdr.api_version < a->min ||
	    req.hdr.api_version > a->max) {
		if (a != NULL && req.hdr.api_key == KP_API_API_VERSIONS &&
		    req.hdr.api_version > a->max)
			return reply_unsupported_api_versions(c,
			    req.hdr.correlation_id);
		kb_log("%s: unsupported %s (key %d) v%d, closing", c->peer,
		    kp_api_name(req.hdr.api_key) ?
		    kp_api_name(req.hdr.api_key) : "API",
		    req.hdr.api_key, req.hdr.api_version);
		return KB_CLOSE;
	}
	kb_debug(b, "%s: %s v%d corr %d", c->peer,
	    kp_api_name(req.hdr.api_key), req.hdr.api_version,
	    req.hdr.correlation_id);
	req.b = b;
	req.c = c;
	req.body = payload + hl;
	req.body_len = len - (size_t)hl;
	req.arena = &b->arena;
	if ((req.resp = kb_resp_new(c)) == NULL)
		return KB_CLOSE;
	kp_arena_reset(&b->arena);
	rc = run(&req, a);
	if (rc == KB_CLOSE)
		kb_log("%s: %s v%d: malformed request or unencodable "
		    "response, closing", c->peer, kp_api_name(req.hdr.api_key),
		    req.hdr.api_version);
	return settle(&req, rc, payload, len);
}

/* Run one deferred request again. */
static void
rerun(struct kb_broker *b, struct kb_resp *r, int64_t now)
{
	struct kb_req req;
	const struct kb_api *a;
	ssize_t hl;
	int rc;

	memset(&req, 0, sizeof(req));
	hl = kp_req_header_decode(r->req, r->req_len, &req.hdr);
	a = kb_api_find(req.hdr.api_key);
	req.b = b;
	req.c = r->conn;
	req.body = r->req + hl;
	req.body_len = r->req_len - (size_t)hl;
	req.arena = &b->wait_arena;
	req.resp = r;
	req.retry = true;
	req.expired = now >= r->deadline || b->stopping;
	kp_arena_reset(&b->wait_arena);
	resp_rewind(r);
	rc = run(&req, a);
	if (rc == KB_DEFER && req.expired)
		rc = KB_CLOSE;	/* a handler must answer at its deadline */
	if (settle(&req, rc, r->req, r->req_len) == KB_CLOSE) {
		if (r->waiting) {
			TAILQ_REMOVE(&b->waiting, r, wait_link);
			r->waiting = false;
		}
		r->conn->closing = true;
		r->conn->dead = true;
		return;
	}
	if (r->ready && kb_conn_on_write(r->conn) == -1)
		r->conn->dead = true;
}

void
kb_wake_waiters(struct kb_broker *b, bool woken)
{
	struct kb_resp *r, *next;
	int64_t now = kb_now_mono();

	/*
	 * Answering a waiter sends its connection's queue, which can run
	 * requests held back behind it, a Produce among them: that wakes
	 * the waiters again, so go round while it does (bounded).
	 */
	for (int round = 0; round < 4; round++) {
		b->wake = false;
		for (r = TAILQ_FIRST(&b->waiting); r != NULL; r = next) {
			next = TAILQ_NEXT(r, wait_link);
			if (r->conn->dead)
				continue;
			if (!woken && now < r->deadline && !b->stopping)
				continue;
			rerun(b, r, now);
			/* rerun may unlink r; next stays valid (no frees). */
		}
		if (!b->wake)
			break;
		woken = true;
	}
}

int
kb_waiters_timeout(struct kb_broker *b)
{
	struct kb_resp *r;
	int64_t now = kb_now_mono(), best = -1;

	TAILQ_FOREACH(r, &b->waiting, wait_link) {
		int64_t left = r->deadline - now;

		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best > 1000000 ? 1000000 : (int)best;
}

void
kb_waiters_forget(struct kb_broker *b, struct kb_conn *c)
{
	struct kb_resp *r, *next;

	kb_group_forget_conn(b, c);
	for (r = TAILQ_FIRST(&b->waiting); r != NULL; r = next) {
		next = TAILQ_NEXT(r, wait_link);
		if (r->conn == c) {
			TAILQ_REMOVE(&b->waiting, r, wait_link);
			r->waiting = false;
		}
	}
}
