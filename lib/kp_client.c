/* kp_client.c -- client side of the Kafka protocol: connections, versions, metadata */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp_client.h"
#include "kp_err.h"
#include "kp_proto_fetch.h"
#include "kp_proto_meta.h"
#include "kp_wire.h"

#define FRAME_MAX	(256u << 20)	/* largest response we accept */
#define CLIENT_NAME	"kpipe"

struct inflight {
	int32_t		 corr;
	int16_t		 api, ver;
	kp_resp_cb	*cb;
	void		*arg;
};

struct kp_conn {
	struct kp_client *c;
	int		 fd;		/* -1 when closed */
	int32_t		 node;		/* -1 for a bootstrap connection */
	struct kp_addr	 addr;
	char		 name[KP_ADDR_STR_MAX];
	struct kp_buf	 out;
	size_t		 out_off;	/* bytes of out already written */
	struct kp_buf	 in;
	struct inflight	*q;
	size_t		 qhead, qlen, qcap;
	int16_t		 vmin[KP_API_MAX + 1], vmax[KP_API_MAX + 1];
	size_t		 req_frame;	/* open request: frame start */
	int16_t		 req_api, req_ver;
	int32_t		 req_corr;
};

struct kp_client {
	struct kp_addr		*boot;
	size_t			 nboot;
	char			 client_id[64];
	int			 timeout_ms;
	int			 retries;
	struct kp_conn		**conns;
	size_t			 nconns;
	int32_t			 corr;
	struct kp_topic_meta	*topics;
	size_t			 ntopics;
	struct kp_broker_meta	*brokers;
	size_t			 nbrokers;
	int32_t			 controller;
	char			 err[512];
	int16_t			 kerr;
	int8_t			 isolation;	/* of ListOffsets */
};

int64_t
kp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
kp_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
kp_client_backoff_ms(int attempt)
{
	int64_t ms = 100;

	while (attempt-- > 0 && ms < 2000)
		ms *= 2;
	return ms > 2000 ? 2000 : ms;
}

void
kp_client_backoff(int attempt)
{
	struct timespec ts;
	int64_t ms = kp_client_backoff_ms(attempt);

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
}

int
kp_client_seterr(struct kp_client *c, int16_t kerr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->kerr = kerr;
	return -1;
}

const char *
kp_client_error(const struct kp_client *c)
{
	return c->err;
}

int16_t
kp_client_kerr(const struct kp_client *c)
{
	return c->kerr;
}

int32_t
kp_conn_node(const struct kp_conn *k)
{
	return k->node;
}

const char *
kp_conn_name(const struct kp_conn *k)
{
	return k->name;
}

size_t
kp_conn_inflight(const struct kp_conn *k)
{
	return k->qlen;
}

/* --- connections ------------------------------------------------------- */

static void
conn_fail(struct kp_conn *k, int err)
{
	struct inflight f;

	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	kp_buf_reset(&k->out);
	kp_buf_reset(&k->in);
	k->out_off = 0;
	/* callbacks may queue new requests: take each off first */
	while (k->qlen > 0) {
		f = k->q[k->qhead];
		k->qhead = (k->qhead + 1) % k->qcap;
		k->qlen--;
		if (f.cb != NULL)
			f.cb(f.arg, k, f.api, f.ver, NULL, 0, err);
	}
	k->qhead = 0;
}

static void
conn_free(struct kp_conn *k)
{
	if (k == NULL)
		return;
	conn_fail(k, ECONNABORTED);
	kp_buf_release(&k->out);
	kp_buf_release(&k->in);
	free(k->q);
	free(k);
}

static int
conn_api_versions(struct kp_conn *k)
{
	struct kp_api_versions_req req;
	struct kp_api_versions_resp resp;
	struct kp_client *c = k->c;
	struct kp_arena arena;
	struct kp_buf body, *b;
	int32_t i;
	int rc = -1;

	kp_api_versions_req_init(&req);
	if ((b = kp_conn_request_begin(k, KP_API_API_VERSIONS, 0)) == NULL)
		return -1;
	kp_api_versions_req_encode(b, 0, &req);
	kp_buf_init(&body);
	kp_arena_init(&arena);
	if (kp_conn_call(k, &body) < 0)
		goto out;
	kp_api_versions_resp_init(&resp);
	if (kp_api_versions_resp_decode(body.data, body.len, 0, &resp,
	    &arena) < 0) {
		kp_client_seterr(c, 0, "%s: malformed ApiVersions response",
		    k->name);
		goto out;
	}
	if (resp.error_code != 0) {
		kp_client_seterr(c, resp.error_code, "%s: ApiVersions: %s",
		    k->name, kp_kerr_name(resp.error_code));
		goto out;
	}
	for (i = 0; i <= KP_API_MAX; i++)
		k->vmin[i] = k->vmax[i] = -1;
	for (i = 0; i < resp.n_api_keys; i++) {
		int16_t key = resp.api_keys[i].api_key;

		if (key >= 0 && key <= KP_API_MAX) {
			k->vmin[key] = resp.api_keys[i].min_version;
			k->vmax[key] = resp.api_keys[i].max_version;
		}
	}
	rc = 0;
out:
	kp_arena_release(&arena);
	kp_buf_release(&body);
	return rc;
}

static int
conn_open(struct kp_conn *k)
{
	struct kp_client *c = k->c;
	int i;

	if ((k->fd = kp_net_connect(&k->addr, c->timeout_ms, 0)) < 0)
		return kp_client_seterr(c, 0, "connect %s: %s", k->name,
		    strerror(errno));
	if (kp_net_set_nonblock(k->fd, true) < 0) {
		conn_fail(k, errno);
		return kp_client_seterr(c, 0, "%s: %s", k->name,
		    strerror(errno));
	}
	/* ApiVersions itself is always speakable at v0 */
	for (i = 0; i <= KP_API_MAX; i++)
		k->vmin[i] = k->vmax[i] = -1;
	k->vmin[KP_API_API_VERSIONS] = k->vmax[KP_API_API_VERSIONS] = 0;
	if (conn_api_versions(k) < 0) {
		conn_fail(k, ECONNABORTED);
		return -1;
	}
	return 0;
}

static struct kp_conn *
conn_new(struct kp_client *c, const struct kp_addr *a, int32_t node)
{
	struct kp_conn *k, **v;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->c = c;
	k->fd = -1;
	k->node = node;
	k->addr = *a;
	kp_addr_format(a, k->name, sizeof(k->name));
	kp_buf_init(&k->out);
	kp_buf_init(&k->in);
	v = reallocarray(c->conns, c->nconns + 1, sizeof(*v));
	if (v == NULL) {
		free(k);
		return NULL;
	}
	c->conns = v;
	c->conns[c->nconns++] = k;
	return k;
}

int16_t
kp_conn_version(struct kp_conn *k, int16_t api, int16_t cmin, int16_t cmax)
{
	int16_t lo, hi;

	if (api < 0 || api > KP_API_MAX || k->vmax[api] < 0)
		goto none;
	lo = k->vmin[api] > cmin ? k->vmin[api] : cmin;
	hi = k->vmax[api] < cmax ? k->vmax[api] : cmax;
	if (lo > hi)
		goto none;
	return hi;
none:
	kp_client_seterr(k->c, KP_UNSUPPORTED_VERSION,
	    "%s: broker does not support %s v%d-%d", k->name,
	    kp_api_name(api) ? kp_api_name(api) : "?", cmin, cmax);
	return -1;
}

struct kp_buf *
kp_conn_request_begin(struct kp_conn *k, int16_t api, int16_t version)
{
	struct kp_req_header h;

	if (k->fd < 0) {
		kp_client_seterr(k->c, 0, "%s: not connected", k->name);
		return NULL;
	}
	k->req_frame = kp_frame_begin(&k->out);
	k->req_api = api;
	k->req_ver = version;
	k->req_corr = ++k->c->corr;
	h.api_key = api;
	h.api_version = version;
	h.correlation_id = k->req_corr;
	h.client_id.ptr = k->c->client_id;
	h.client_id.len = (int32_t)strlen(k->c->client_id);
	kp_req_header_encode(&k->out, &h);
	return &k->out;
}

int
kp_conn_request_end(struct kp_conn *k, kp_resp_cb *cb, void *arg)
{
	struct inflight *q;
	size_t i;

	if (k->out.err) {
		conn_fail(k, ENOMEM);
		return kp_client_seterr(k->c, 0, "%s: out of memory", k->name);
	}
	kp_frame_end(&k->out, k->req_frame);
	if (cb == NULL)
		return 0;
	if (k->qlen == k->qcap) {
		size_t ncap = k->qcap ? k->qcap * 2 : 8;

		if ((q = calloc(ncap, sizeof(*q))) == NULL) {
			conn_fail(k, ENOMEM);
			return kp_client_seterr(k->c, 0, "out of memory");
		}
		for (i = 0; i < k->qlen; i++)
			q[i] = k->q[(k->qhead + i) % k->qcap];
		free(k->q);
		k->q = q;
		k->qcap = ncap;
		k->qhead = 0;
	}
	q = &k->q[(k->qhead + k->qlen) % k->qcap];
	q->corr = k->req_corr;
	q->api = k->req_api;
	q->ver = k->req_ver;
	q->cb = cb;
	q->arg = arg;
	k->qlen++;
	return 0;
}

static int
conn_write(struct kp_conn *k)
{
	ssize_t n;

	while (k->out_off < k->out.len) {
		/* MSG_NOSIGNAL: a dead broker is an error, not SIGPIPE */
		n = send(k->fd, k->out.data + k->out_off,
		    k->out.len - k->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		k->out_off += (size_t)n;
	}
	kp_buf_reset(&k->out);
	k->out_off = 0;
	return 0;
}

/* Dispatch every whole response in the input. Returns the count or -1. */
static int
conn_dispatch(struct kp_conn *k)
{
	const uint8_t *payload;
	size_t plen, used = 0;
	ssize_t fl, hl;
	int32_t corr;
	struct inflight f;
	int n = 0;

	while (k->fd >= 0) {
		fl = kp_frame_parse(k->in.data + used, k->in.len - used,
		    FRAME_MAX, &payload, &plen);
		if (fl == 0)
			break;
		if (fl < 0 || k->qlen == 0) {
			errno = EPROTO;
			return -1;
		}
		f = k->q[k->qhead];
		hl = kp_resp_header_decode(payload, plen, f.api, f.ver, &corr);
		if (hl <= 0 || corr != f.corr) {
			errno = EPROTO;
			return -1;
		}
		k->qhead = (k->qhead + 1) % k->qcap;
		k->qlen--;
		used += (size_t)fl;
		f.cb(f.arg, k, f.api, f.ver, payload + hl, plen - (size_t)hl,
		    0);
		n++;
	}
	kp_buf_consume(&k->in, used);
	return n;
}

static int
conn_read(struct kp_conn *k)
{
	ssize_t n;

	for (;;) {
		if (kp_buf_reserve(&k->in, 65536) < 0)
			return -1;
		n = read(k->fd, k->in.data + k->in.len, k->in.cap - k->in.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		k->in.len += (size_t)n;
		if (k->in.len < k->in.cap)
			return 0;
	}
}

int
kp_client_poll(struct kp_client *c, int timeout_ms)
{
	struct pollfd pfd[64];
	struct kp_conn *map[64];
	size_t i, n = 0;
	int rc, total = 0, d;

	for (i = 0; i < c->nconns && n < 64; i++) {
		struct kp_conn *k = c->conns[i];

		if (k->fd < 0)
			continue;
		if (k->out.len > k->out_off && conn_write(k) < 0) {
			conn_fail(k, errno);
			continue;
		}
		if (k->qlen == 0 && k->out.len == 0)
			continue;
		pfd[n].fd = k->fd;
		pfd[n].events = POLLIN | (k->out.len > k->out_off ? POLLOUT : 0);
		map[n++] = k;
	}
	if (n == 0)
		return 0;
	rc = poll(pfd, n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		struct kp_conn *k = map[i];

		if (pfd[i].revents & POLLOUT && conn_write(k) < 0) {
			conn_fail(k, errno);
			continue;
		}
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (conn_read(k) < 0) {
				int e = errno;

				/* answers that came before the close count */
				if ((d = conn_dispatch(k)) > 0)
					total += d;
				conn_fail(k, e);
				continue;
			}
			if ((d = conn_dispatch(k)) < 0) {
				conn_fail(k, errno);
				continue;
			}
			total += d;
		}
	}
	return total;
}

bool
kp_client_idle(const struct kp_client *c)
{
	size_t i;

	for (i = 0; i < c->nconns; i++)
		if (c->conns[i]->fd >= 0 && (c->conns[i]->qlen > 0 ||
		    c->conns[i]->out.len > c->conns[i]->out_off))
			return false;
	return true;
}

void
kp_client_abort(struct kp_client *c)
{
	size_t i;

	for (i = 0; i < c->nconns; i++)
		conn_fail(c->conns[i], ECANCELED);
}

int
kp_client_drain(struct kp_client *c, int timeout_ms)
{
	int64_t end = kp_mono_ms() + timeout_ms;
	size_t i, busy;

	for (;;) {
		busy = 0;
		for (i = 0; i < c->nconns; i++)
			busy += c->conns[i]->qlen;
		if (busy == 0)
			return 0;
		if (kp_mono_ms() >= end)
			return kp_client_seterr(c, KP_REQUEST_TIMED_OUT,
			    "timed out waiting for %zu response(s)", busy);
		if (kp_client_poll(c, 100) < 0)
			return kp_client_seterr(c, 0, "poll: %s",
			    strerror(errno));
	}
}

struct sync_call {
	struct kp_buf	*resp;
	bool		 done;
	int		 err;
};

static void
sync_cb(void *arg, struct kp_conn *k, int16_t api, int16_t ver,
    const uint8_t *body, size_t len, int err)
{
	struct sync_call *s = arg;

	(void)k, (void)api, (void)ver;
	s->done = true;
	s->err = err;
	if (body != NULL) {
		kp_buf_reset(s->resp);
		kp_buf_put(s->resp, body, len);
		if (s->resp->err)
			s->err = ENOMEM;
	}
}

int
kp_conn_call(struct kp_conn *k, struct kp_buf *resp)
{
	struct kp_client *c = k->c;
	struct sync_call s = { resp, false, 0 };
	const char *api = kp_api_name(k->req_api);
	int64_t end = kp_mono_ms() + c->timeout_ms;

	if (kp_conn_request_end(k, sync_cb, &s) < 0)
		return -1;
	while (!s.done) {
		int left = (int)(end - kp_mono_ms());

		if (left <= 0) {
			conn_fail(k, ETIMEDOUT);
			break;
		}
		if (kp_client_poll(c, left) < 0) {
			conn_fail(k, errno);
			break;
		}
	}
	if (s.err)
		return kp_client_seterr(c, s.err == ETIMEDOUT ?
		    KP_REQUEST_TIMED_OUT : KP_NETWORK_EXCEPTION, "%s: %s: %s",
		    k->name, api ? api : "request", strerror(s.err));
	return 0;
}

int
kp_conn_exchange(struct kp_conn *k, int16_t api, int16_t ver,
    const struct kp_msg *reqm, const void *req, const struct kp_msg *respm,
    void *resp, struct kp_arena *arena, struct kp_buf *body)
{
	const char *name = kp_api_name(api) ? kp_api_name(api) : "request";
	struct kp_buf *b;

	if ((b = kp_conn_request_begin(k, api, ver)) == NULL)
		return -1;
	if (kp_proto_encode(b, reqm, ver, req) < 0) {
		/* the frame is half written: drop the connection */
		conn_fail(k, EINVAL);
		return kp_client_seterr(k->c, 0, "cannot encode %s v%d", name,
		    ver);
	}
	if (kp_conn_call(k, body) < 0)
		return -1;
	kp_proto_init(respm, resp);
	if (kp_proto_decode(body->data, body->len, respm, ver, resp,
	    arena) < 0)
		return kp_client_seterr(k->c, 0, "%s: malformed %s response",
		    k->name, name);
	return 0;
}

/* --- client, bootstrap ------------------------------------------------- */

struct kp_client *
kp_client_new(const struct kp_client_opts *o, char *why, size_t whylen)
{
	char defb[KP_ADDR_STR_MAX * 2 + 16];
	const char *brokers = o->brokers;
	struct kp_client *c;
	struct kp_conn *k;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	c->retries = o->retries > 0 ? o->retries : 5;
	c->controller = -1;
	strlcpy(c->client_id, o->client_id ? o->client_id : CLIENT_NAME,
	    sizeof(c->client_id));
	if (brokers == NULL || *brokers == '\0')
		brokers = kp_net_default_brokers(defb, sizeof(defb));
	if (brokers == NULL ||
	    kp_addr_list_parse(brokers, &c->boot, &c->nboot) < 0) {
		snprintf(why, whylen, "broker list '%s': invalid address",
		    brokers ? brokers : "");
		errno = EINVAL;
		goto fail;
	}
	for (i = 0; i < c->nboot; i++) {
		if ((k = conn_new(c, &c->boot[i], -1)) == NULL) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		if (conn_open(k) == 0)
			return c;
		/* keep the first failure: it names the preferred address */
		if (i == 0)
			snprintf(why, whylen, "%s", c->err);
		c->nconns--;
		conn_free(k);
	}
	if (c->nboot > 1) {
		size_t l = strlen(why);

		snprintf(why + l, whylen - l, " (and %zu more address%s)",
		    c->nboot - 1, c->nboot > 2 ? "es" : "");
	}
	errno = EHOSTUNREACH;
fail:
	kp_client_free(c);
	return NULL;
}

static void
topic_meta_free(struct kp_topic_meta *t)
{
	int32_t p;

	for (p = 0; p < t->nparts; p++) {
		free(t->parts[p].replicas);
		free(t->parts[p].isr);
	}
	free(t->parts);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

static void
meta_clear(struct kp_client *c)
{
	size_t i;

	for (i = 0; i < c->ntopics; i++)
		topic_meta_free(&c->topics[i]);
	free(c->topics);
	for (i = 0; i < c->nbrokers; i++)
		free(c->brokers[i].host);
	free(c->brokers);
	c->topics = NULL;
	c->brokers = NULL;
	c->ntopics = c->nbrokers = 0;
}

void
kp_client_free(struct kp_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nconns; i++)
		conn_free(c->conns[i]);
	free(c->conns);
	meta_clear(c);
	free(c->boot);
	free(c);
}

/* --- metadata ---------------------------------------------------------- */

static int32_t *
dup_ids(const int32_t *v, int32_t n)
{
	int32_t *d = calloc(n > 0 ? (size_t)n : 1, sizeof(*d));

	if (d != NULL && n > 0)
		memcpy(d, v, (size_t)n * sizeof(*d));
	return d;
}

/*
 * Keep the topics of an answer about some topics (subset) next to those
 * cached before, so asking about one topic does not forget the others.
 */
static void
meta_keep_old(struct kp_client *c, struct kp_topic_meta *old, size_t nold,
    bool subset)
{
	size_t k;

	for (k = 0; k < nold; k++) {
		if (subset && old[k].name != NULL &&
		    kp_client_topic(c, old[k].name) == NULL) {
			c->topics[c->ntopics++] = old[k];
			continue;
		}
		topic_meta_free(&old[k]);
	}
	free(old);
}

static int
meta_store(struct kp_client *c, const struct kp_metadata_resp *m,
    bool subset)
{
	struct kp_topic_meta *old = c->topics;
	size_t nold = c->ntopics;
	int32_t i, j, maxp;
	int rc = -1;

	c->topics = NULL;
	c->ntopics = 0;
	meta_clear(c);
	c->controller = m->controller_id;
	if ((c->brokers = calloc((size_t)m->n_brokers + 1,
	    sizeof(*c->brokers))) == NULL)
		goto out;
	for (i = 0; i < m->n_brokers; i++) {
		c->brokers[i].id = m->brokers[i].node_id;
		c->brokers[i].port = m->brokers[i].port;
		if ((c->brokers[i].host = kp_str_dup(&m->brokers[i].host)) ==
		    NULL)
			goto out;
		c->nbrokers++;
	}
	if ((c->topics = calloc((size_t)m->n_topics + nold + 1,
	    sizeof(*c->topics))) == NULL)
		goto out;
	for (i = 0; i < m->n_topics; i++) {
		const struct kp_metadata_resp_topic *mt = &m->topics[i];
		struct kp_topic_meta *t = &c->topics[c->ntopics];

		if ((t->name = kp_str_dup(&mt->name)) == NULL)
			goto out;
		c->ntopics++;
		t->err = mt->error_code;
		t->internal = mt->is_internal;
		/* index by partition id; ids are 0..n-1 in practice */
		maxp = -1;
		for (j = 0; j < mt->n_partitions; j++)
			if (mt->partitions[j].partition_index > maxp)
				maxp = mt->partitions[j].partition_index;
		if (maxp >= 100000)
			goto out;
		if ((t->parts = calloc((size_t)maxp + 2,
		    sizeof(*t->parts))) == NULL)
			goto out;
		t->nparts = maxp + 1;
		for (j = 0; j <= maxp; j++) {
			t->parts[j].id = j;
			t->parts[j].leader = -1;
			t->parts[j].err = KP_LEADER_NOT_AVAILABLE;
		}
		for (j = 0; j < mt->n_partitions; j++) {
			const struct kp_metadata_resp_partition *mp =
			    &mt->partitions[j];
			struct kp_partition_meta *p =
			    &t->parts[mp->partition_index];

			if (mp->partition_index < 0)
				continue;
			p->err = mp->error_code;
			p->leader = mp->leader_id;
			p->nreplicas = mp->n_replica_nodes > 0 ?
			    mp->n_replica_nodes : 0;
			p->nisr = mp->n_isr_nodes > 0 ? mp->n_isr_nodes : 0;
			p->replicas = dup_ids(mp->replica_nodes, p->nreplicas);
			p->isr = dup_ids(mp->isr_nodes, p->nisr);
			if (p->replicas == NULL || p->isr == NULL)
				goto out;
		}
	}
	/*
	 * A single broker reached over a bootstrap address (a Unix socket,
	 * say) is that broker: reuse the connection rather than dialling
	 * the address it advertises.
	 */
	if (c->nbrokers == 1) {
		size_t k;
		bool have = false;

		for (k = 0; k < c->nconns; k++)
			if (c->conns[k]->node == c->brokers[0].id)
				have = true;
		for (k = 0; k < c->nconns && !have; k++)
			if (c->conns[k]->node == -1 && c->conns[k]->fd >= 0) {
				c->conns[k]->node = c->brokers[0].id;
				have = true;
			}
	}
	rc = 0;
out:
	meta_keep_old(c, old, nold, subset && rc == 0);
	return rc;
}

int
kp_client_metadata(struct kp_client *c, const char *const *names, size_t n,
    bool auto_create)
{
	struct kp_metadata_req req;
	struct kp_metadata_resp resp;
	struct kp_metadata_req_topic *tv = NULL;
	struct kp_arena arena;
	struct kp_buf body, *b;
	struct kp_conn *k;
	int16_t v;
	size_t i;
	int rc = -1;

	if ((k = kp_client_conn(c, -1)) == NULL)
		return -1;
	if ((v = kp_conn_version(k, KP_API_METADATA, 1, 8)) < 0)
		return -1;
	kp_metadata_req_init(&req);
	if (n > 0) {
		if ((tv = calloc(n, sizeof(*tv))) == NULL)
			return kp_client_seterr(c, 0, "out of memory");
		for (i = 0; i < n; i++) {
			kp_metadata_req_topic_init(&tv[i]);
			tv[i].name.ptr = names[i];
			tv[i].name.len = (int32_t)strlen(names[i]);
		}
	}
	req.topics = tv;
	req.n_topics = n > 0 ? (int32_t)n : -1;
	if (v >= 4)
		req.allow_auto_topic_creation = auto_create;
	kp_buf_init(&body);
	kp_arena_init(&arena);
	if ((b = kp_conn_request_begin(k, KP_API_METADATA, v)) == NULL)
		goto out;
	if (kp_metadata_req_encode(b, v, &req) < 0) {
		kp_client_seterr(c, 0, "cannot encode Metadata v%d", v);
		goto out;
	}
	if (kp_conn_call(k, &body) < 0)
		goto out;
	kp_metadata_resp_init(&resp);
	if (kp_metadata_resp_decode(body.data, body.len, v, &resp,
	    &arena) < 0) {
		kp_client_seterr(c, 0, "%s: malformed Metadata response",
		    k->name);
		goto out;
	}
	if (meta_store(c, &resp, n > 0) < 0) {
		kp_client_seterr(c, 0, "metadata: out of memory or too big");
		goto out;
	}
	rc = 0;
out:
	free(tv);
	kp_arena_release(&arena);
	kp_buf_release(&body);
	return rc;
}

const struct kp_topic_meta *
kp_client_topic(const struct kp_client *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ntopics; i++)
		if (strcmp(c->topics[i].name, name) == 0)
			return &c->topics[i];
	return NULL;
}

const struct kp_topic_meta *
kp_client_topics(const struct kp_client *c, size_t *n)
{
	*n = c->ntopics;
	return c->topics;
}

const struct kp_broker_meta *
kp_client_brokers(const struct kp_client *c, size_t *n)
{
	*n = c->nbrokers;
	return c->brokers;
}

void
kp_client_set_isolation(struct kp_client *c, int8_t level)
{
	c->isolation = level;
}

int32_t
kp_client_controller(const struct kp_client *c)
{
	return c->controller;
}

/*
 * A partition without a leader whose replicas are all on brokers the
 * cluster does not list is offline (a cluster broker is down): waiting
 * will not bring it, and the topic's other partitions still serve.
 */
static bool
part_offline(const struct kp_client *c, const struct kp_partition_meta *p)
{
	if (p->nreplicas <= 0)
		return false;
	for (int32_t r = 0; r < p->nreplicas; r++)
		for (size_t i = 0; i < c->nbrokers; i++)
			if (c->brokers[i].id == p->replicas[r])
				return false;
	return true;
}

static bool
topic_ready(const struct kp_client *c, const struct kp_topic_meta *t)
{
	int32_t p;

	if (t == NULL || t->err != 0 || t->nparts == 0)
		return false;
	for (p = 0; p < t->nparts; p++)
		if (t->parts[p].leader < 0 && !part_offline(c, &t->parts[p]))
			return false;
	return true;
}

const struct kp_topic_meta *
kp_client_topic_wait(struct kp_client *c, const char *name, bool auto_create)
{
	const struct kp_topic_meta *t = NULL;
	int attempt;

	for (attempt = 0; attempt <= c->retries; attempt++) {
		if (attempt > 0)
			kp_client_backoff(attempt - 1);
		if (kp_client_metadata(c, &name, 1, auto_create) < 0)
			continue;
		t = kp_client_topic(c, name);
		if (topic_ready(c, t))
			return t;
		/* a topic that does not exist stays so unless auto-created */
		if (t != NULL && t->err == KP_UNKNOWN_TOPIC_OR_PARTITION &&
		    !auto_create)
			break;
		if (t != NULL && t->err != 0 && !kp_kerr_retriable(t->err))
			break;
	}
	if (t == NULL && c->err[0] != '\0' && c->kerr == 0)
		return NULL;	/* the broker did not answer: keep its error */
	if (t != NULL && t->err != 0)
		kp_client_seterr(c, t->err, "topic '%s': %s", name,
		    kp_kerr_name(t->err));
	else if (t != NULL)
		kp_client_seterr(c, KP_LEADER_NOT_AVAILABLE,
		    "topic '%s': LEADER_NOT_AVAILABLE", name);
	else
		kp_client_seterr(c, KP_UNKNOWN_TOPIC_OR_PARTITION,
		    "topic '%s': UNKNOWN_TOPIC_OR_PARTITION", name);
	return NULL;
}

struct kp_conn *
kp_client_conn(struct kp_client *c, int32_t node)
{
	struct kp_addr a;
	struct kp_conn *k = NULL;
	char tmp[KP_ADDR_STR_MAX];
	size_t i;

	for (i = 0; i < c->nconns; i++) {
		if (node == -1 || c->conns[i]->node == node) {
			k = c->conns[i];
			if (k->fd >= 0)
				return k;
			if (node != -1)
				break;
			k = NULL;
		}
	}
	if (k == NULL && node == -1) {
		/* every connection is down: redial the bootstrap list */
		for (i = 0; i < c->nconns; i++)
			if (conn_open(c->conns[i]) == 0)
				return c->conns[i];
		for (i = 0; i < c->nboot; i++) {
			if ((k = conn_new(c, &c->boot[i], -1)) == NULL)
				break;
			if (conn_open(k) == 0)
				return k;
		}
		return NULL;
	}
	if (k == NULL) {
		for (i = 0; i < c->nbrokers; i++)
			if (c->brokers[i].id == node)
				break;
		if (i == c->nbrokers) {
			kp_client_seterr(c, KP_BROKER_NOT_AVAILABLE,
			    "broker %d: not in metadata", node);
			return NULL;
		}
		snprintf(tmp, sizeof(tmp), "%s:%d", c->brokers[i].host,
		    c->brokers[i].port);
		if (strchr(c->brokers[i].host, ':') != NULL)
			snprintf(tmp, sizeof(tmp), "[%s]:%d",
			    c->brokers[i].host, c->brokers[i].port);
		if (kp_addr_parse(tmp, &a) < 0) {
			kp_client_seterr(c, 0, "broker %d: bad address %s",
			    node, tmp);
			return NULL;
		}
		if ((k = conn_new(c, &a, node)) == NULL) {
			kp_client_seterr(c, 0, "out of memory");
			return NULL;
		}
	}
	if (conn_open(k) < 0)
		return NULL;
	return k;
}

struct kp_conn *
kp_client_leader(struct kp_client *c, const char *topic, int32_t part)
{
	const struct kp_topic_meta *t = kp_client_topic(c, topic);

	if (t == NULL || part < 0 || part >= t->nparts) {
		kp_client_seterr(c, KP_UNKNOWN_TOPIC_OR_PARTITION,
		    "topic '%s' partition %d: UNKNOWN_TOPIC_OR_PARTITION",
		    topic, part);
		return NULL;
	}
	if (t->parts[part].leader < 0) {
		kp_client_seterr(c, KP_LEADER_NOT_AVAILABLE,
		    "topic '%s' partition %d: LEADER_NOT_AVAILABLE", topic,
		    part);
		return NULL;
	}
	return kp_client_conn(c, t->parts[part].leader);
}

/* --- ListOffsets ------------------------------------------------------- */

/* One ListOffsets request to one leader for the given indexes of parts. */
static int
list_offsets_one(struct kp_client *c, struct kp_conn *k, const char *topic,
    const int32_t *parts, const size_t *idx, size_t n, int64_t ts,
    int64_t *out, int16_t *perr)
{
	struct kp_list_offsets_req req;
	struct kp_list_offsets_req_topic rt;
	struct kp_list_offsets_req_partition *rp;
	struct kp_list_offsets_resp resp;
	struct kp_arena arena;
	struct kp_buf body, *b;
	int16_t v;
	int32_t i, j;
	size_t x;
	int rc = -1;

	/* v2 brought isolation_level: read_committed needs it */
	if ((v = kp_conn_version(k, KP_API_LIST_OFFSETS, c->isolation ? 2 : 1,
	    3)) < 0)
		return -1;
	if ((rp = calloc(n, sizeof(*rp))) == NULL)
		return kp_client_seterr(c, 0, "out of memory");
	for (x = 0; x < n; x++) {
		kp_list_offsets_req_partition_init(&rp[x]);
		rp[x].partition_index = parts[idx[x]];
		rp[x].timestamp = ts;
	}
	kp_list_offsets_req_init(&req);
	kp_list_offsets_req_topic_init(&rt);
	rt.name.ptr = topic;
	rt.name.len = (int32_t)strlen(topic);
	rt.partitions = rp;
	rt.n_partitions = (int32_t)n;
	req.replica_id = -1;
	req.isolation_level = c->isolation;
	req.topics = &rt;
	req.n_topics = 1;
	kp_buf_init(&body);
	kp_arena_init(&arena);
	if ((b = kp_conn_request_begin(k, KP_API_LIST_OFFSETS, v)) == NULL)
		goto out;
	kp_list_offsets_req_encode(b, v, &req);
	if (kp_conn_call(k, &body) < 0)
		goto out;
	kp_list_offsets_resp_init(&resp);
	if (kp_list_offsets_resp_decode(body.data, body.len, v, &resp,
	    &arena) < 0) {
		kp_client_seterr(c, 0, "%s: malformed ListOffsets response",
		    k->name);
		goto out;
	}
	for (i = 0; i < resp.n_topics; i++) {
		for (j = 0; j < resp.topics[i].n_partitions; j++) {
			const struct kp_list_offsets_resp_partition_response
			    *pr = &resp.topics[i].partitions[j];

			for (x = 0; x < n; x++) {
				if (parts[idx[x]] != pr->partition_index)
					continue;
				perr[idx[x]] = pr->error_code;
				out[idx[x]] = pr->offset;
			}
		}
	}
	rc = 0;
out:
	free(rp);
	kp_arena_release(&arena);
	kp_buf_release(&body);
	return rc;
}

/*
 * The engine of kp_client_list_offsets and its _some form. Partitions
 * without a leader are not asked (no broker would answer them) but wait
 * for metadata to show one. With fail not NULL, partitions already marked
 * there are skipped, and those left without an answer after the retries
 * are marked instead of failing the others; one whose replicas are all
 * on brokers gone from the cluster is marked at once, as waiting will not
 * bring it back.
 */
static int
list_offsets(struct kp_client *c, const char *topic, const int32_t *parts,
    size_t n, int64_t ts, int64_t *out, int16_t *fail)
{
	const struct kp_topic_meta *t;
	int16_t *perr;
	size_t *idx, i, j, m, nok = 0;
	bool *settled, *asked, pending, network_only = true;
	int32_t leader;
	int attempt, rc = -1;

	if (n == 0)
		return 0;
	perr = calloc(n, sizeof(*perr));
	idx = calloc(n, sizeof(*idx));
	settled = calloc(n, sizeof(*settled));
	asked = calloc(n, sizeof(*asked));
	if (perr == NULL || idx == NULL || settled == NULL || asked == NULL) {
		kp_client_seterr(c, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		perr[i] = KP_REQUEST_TIMED_OUT;	/* not yet asked */
		settled[i] = fail != NULL && fail[i] != 0;
	}
	for (attempt = 0; attempt <= c->retries; attempt++) {
		if (attempt > 0) {
			kp_client_backoff(attempt - 1);
			kp_client_metadata(c, &topic, 1, false);
		}
		if ((t = kp_client_topic(c, topic)) == NULL &&
		    (t = kp_client_topic_wait(c, topic, false)) == NULL)
			goto out;
		memset(asked, 0, n * sizeof(*asked));
		/* one request per leader, for the partitions it leads */
		for (i = 0; i < n; i++) {
			struct kp_conn *k;

			if (settled[i] || asked[i])
				continue;
			if (parts[i] < 0 || parts[i] >= t->nparts) {
				perr[i] = KP_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			if ((leader = t->parts[parts[i]].leader) < 0) {
				perr[i] = KP_LEADER_NOT_AVAILABLE;
				if (fail != NULL &&
				    part_offline(c, &t->parts[parts[i]])) {
					fail[i] = perr[i];
					settled[i] = true;
				}
				continue;
			}
			for (j = i, m = 0; j < n; j++)
				if (!settled[j] && !asked[j] && parts[j] >= 0 &&
				    parts[j] < t->nparts &&
				    t->parts[parts[j]].leader == leader) {
					idx[m++] = j;
					asked[j] = true;
					/* stays so if the answer leaves it out */
					perr[j] = KP_UNKNOWN_SERVER_ERROR;
				}
			if ((k = kp_client_conn(c, leader)) == NULL ||
			    list_offsets_one(c, k, topic, parts, idx, m, ts,
			    out, perr) < 0)
				for (j = 0; j < m; j++)
					perr[idx[j]] = KP_NETWORK_EXCEPTION;
		}
		pending = false;
		for (i = 0; i < n; i++) {
			if (settled[i])
				continue;
			if (perr[i] == 0) {
				settled[i] = true;
				nok++;
				continue;
			}
			if (perr[i] != KP_NETWORK_EXCEPTION &&
			    !kp_kerr_retriable(perr[i])) {
				kp_client_seterr(c, perr[i],
				    "topic '%s' partition %d: %s", topic,
				    parts[i], kp_kerr_name(perr[i]));
				goto out;
			}
			pending = true;
		}
		if (!pending) {
			rc = 0;
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (!settled[i] && perr[i] != KP_NETWORK_EXCEPTION) {
			network_only = false;
			if (fail == NULL) {
				kp_client_seterr(c, perr[i],
				    "topic '%s' partition %d: %s", topic,
				    parts[i], kp_kerr_name(perr[i]));
				goto out;
			}
		}
	/* nothing answered and no partition is to blame: keep the error */
	if (fail == NULL || (nok == 0 && network_only))
		goto out;
	for (i = 0; i < n; i++)
		if (!settled[i])
			fail[i] = perr[i];
	rc = 0;
out:
	free(perr);
	free(idx);
	free(settled);
	free(asked);
	return rc;
}

int
kp_client_list_offsets(struct kp_client *c, const char *topic,
    const int32_t *parts, size_t n, int64_t ts, int64_t *out)
{
	return list_offsets(c, topic, parts, n, ts, out, NULL);
}

int
kp_client_list_offsets_some(struct kp_client *c, const char *topic,
    const int32_t *parts, size_t n, int64_t ts, int64_t *out, int16_t *fail)
{
	return list_offsets(c, topic, parts, n, ts, out, fail);
}

int
kp_client_log_bounds(struct kp_client *c, const char *topic,
    const int32_t *parts, size_t n, const int64_t *ts, int64_t *lo,
    int64_t *hi, int64_t *at)
{
	if (kp_client_list_offsets(c, topic, parts, n, -2, lo) < 0 ||
	    kp_client_list_offsets(c, topic, parts, n, -1, hi) < 0)
		return -1;
	if (ts != NULL && kp_client_list_offsets(c, topic, parts, n, *ts,
	    at) < 0)
		return -1;
	return 0;
}

int
kp_client_log_bounds_some(struct kp_client *c, const char *topic,
    const int32_t *parts, size_t n, const int64_t *ts, int64_t *lo,
    int64_t *hi, int64_t *at, int16_t *fail)
{
	memset(fail, 0, n * sizeof(*fail));
	/* a partition that failed one lookup is not asked the next */
	if (list_offsets(c, topic, parts, n, -2, lo, fail) < 0 ||
	    list_offsets(c, topic, parts, n, -1, hi, fail) < 0)
		return -1;
	if (ts != NULL && list_offsets(c, topic, parts, n, *ts, at, fail) < 0)
		return -1;
	return 0;
}
