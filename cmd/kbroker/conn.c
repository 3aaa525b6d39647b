/* conn.c -- one client connection: framing, in-order response queue, non-blocking output */
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kbroker.h"

/*
 * Stop reading a connection while this much output waits: a client that
 * sends faster than it reads cannot make the broker buffer without end.
 */
#define OUT_HIGH	(8u << 20)
#define RESP_MALLOC_OVERHEAD	48	/* three allocations' headers */
#define READ_CHUNK	(64u << 10)
#define READ_BUDGET	(1u << 20)	/* per event, for fairness */
/*
 * Requests answered per connection per loop round: a client pipelining a
 * megabyte of small requests gets through them in turns with everyone
 * else instead of holding the loop until all are answered.
 */
#define ROUND_REQS	64
#define IOV_MAX_N	64
#define IN_KEEP		(1u << 20)	/* input buffer kept between requests */

/* "127.0.0.1:51234", for log lines. */
static void
peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
			port = ntohs(sin->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
			port = ntohs(s6->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%u", host, port);
}

struct kb_conn *
kb_conn_new(struct kb_broker *b, int fd, struct kb_listener *lis)
{
	struct kb_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->b = b;
	c->fd = fd;
	c->lis = lis;
	kp_buf_init(&c->in);
	TAILQ_INIT(&c->resps);
	c->last_active = kb_now_mono();
	c->is_unix = lis->addr.kind == KP_ADDR_UNIX;
	if (c->is_unix || kp_net_local_addr(fd, &c->local) == -1)
		c->local = lis->addr;
	if (c->is_unix)
		snprintf(c->peer, sizeof(c->peer), "unix fd %d", fd);
	else
		peer_name(fd, c->peer, sizeof(c->peer));
	return c;
}

void
kb_resp_free(struct kb_resp *r)
{
	if (r == NULL)
		return;
	for (size_t i = r->cur; i < r->nchunks; i++)
		if (r->chunks[i].fd != -1)
			close(r->chunks[i].fd);
	free(r->chunks);
	kp_buf_release(&r->buf);
	free(r->req);
	free(r);
}

void
kb_conn_free(struct kb_conn *c)
{
	struct kb_resp *r;

	if (c == NULL)
		return;
	while ((r = TAILQ_FIRST(&c->resps)) != NULL) {
		TAILQ_REMOVE(&c->resps, r, link);
		kb_resp_free(r);
	}
	kp_buf_release(&c->in);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

struct kb_resp *
kb_resp_new(struct kb_conn *c)
{
	struct kb_resp *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->conn = c;
	kp_buf_init(&r->buf);
	TAILQ_INSERT_TAIL(&c->resps, r, link);
	return r;
}

static int
push_chunk(struct kb_resp *r, int fd, off_t off, size_t len)
{
	if (r->nchunks == r->chunks_cap) {
		size_t ncap = r->chunks_cap ? r->chunks_cap * 2 : 4;
		struct kb_chunk *n = reallocarray(r->chunks, ncap,
		    sizeof(*n));

		if (n == NULL)
			return -1;
		r->chunks = n;
		r->chunks_cap = ncap;
	}
	r->chunks[r->nchunks].fd = fd;
	r->chunks[r->nchunks].off = off;
	r->chunks[r->nchunks].len = len;
	r->nchunks++;
	r->total += len;
	return 0;
}

/* Close the memory bytes written since the last file region into a chunk. */
static int
seal_mem(struct kb_resp *r)
{
	/* Memory chunks are contiguous in buf, in order: resume after them. */
	size_t start = r->mem_mark;

	if (r->buf.len > start) {
		if (push_chunk(r, -1, (off_t)start, r->buf.len - start) == -1)
			return -1;
		r->mem_mark = r->buf.len;
	}
	return 0;
}

int
kb_resp_add_file(struct kb_resp *r, int fd, off_t off, size_t len)
{
	int nfd;

	if (len == 0)
		return 0;
	if (seal_mem(r) == -1)
		return -1;
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	if (push_chunk(r, nfd, off, len) == -1) {
		close(nfd);
		return -1;
	}
	return 0;
}

int
kb_resp_finish(struct kb_resp *r)
{
	if (r->buf.err || seal_mem(r) == -1 || r->buf.len < 4 ||
	    r->total - 4 > INT32_MAX) {
		errno = ENOMEM;
		return -1;
	}
	kp_put_be32(r->buf.data, (int32_t)(r->total - 4));
	r->ready = !r->parked && !r->hw_parked;
	/*
	 * Count what the response holds in memory, not only what it will
	 * send: thousands of small answers to a client that never reads
	 * cost far more than their wire bytes, and OUT_HIGH must bound
	 * memory.
	 */
	r->cost = sizeof(*r) + r->buf.cap - r->buf.len +
	    r->chunks_cap * sizeof(*r->chunks) + RESP_MALLOC_OVERHEAD;
	r->conn->queued += r->total + r->cost;
	return 0;
}

/*
 * May we read more requests from c? Not while its own answers pile up,
 * nor, once all connections together hold queued.max.request.bytes, while
 * it has answers waiting: clients that read their answers go on being
 * served while those that do not stop being read.
 */
static bool
may_read(struct kb_conn *c)
{
	struct kb_broker *b = c->b;

	b->queued_total += c->queued - c->accounted;
	c->accounted = c->queued;
	if (c->closing || b->stopping || c->queued >= OUT_HIGH)
		return false;
	return c->queued == 0 || b->cfg->queued_max < 0 ||
	    b->queued_total < (size_t)b->cfg->queued_max;
}

void
kb_conn_forget_queue(struct kb_conn *c)
{
	c->b->queued_total -= c->accounted;
	c->accounted = 0;
}

void
kb_conn_update_events(struct kb_conn *c)
{
	struct epoll_event ev;
	uint32_t want = 0;
	struct kb_resp *head = TAILQ_FIRST(&c->resps);

	if (c->dead)
		return;
	if (may_read(c))
		want |= EPOLLIN;
	if (head != NULL && head->ready)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(c->b->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

/* Send memory chunks of ready responses with one writev. */
static ssize_t
send_mem(struct kb_conn *c)
{
	struct iovec iov[IOV_MAX_N];
	struct kb_resp *r;
	int n = 0;

	TAILQ_FOREACH(r, &c->resps, link) {
		if (!r->ready)
			break;
		for (size_t i = r->cur; i < r->nchunks && n < IOV_MAX_N; i++) {
			if (r->chunks[i].fd != -1)
				goto done;
			iov[n].iov_base = r->buf.data + r->chunks[i].off;
			iov[n].iov_len = r->chunks[i].len;
			n++;
		}
		if (n == IOV_MAX_N)
			break;
	}
done:
	if (n == 0)
		return 0;
	return writev(c->fd, iov, n);
}

/* Account n sent bytes against the head of the queue. */
static void
advance(struct kb_conn *c, size_t n)
{
	struct kb_resp *r;

	c->queued -= n;
	while (n > 0 && (r = TAILQ_FIRST(&c->resps)) != NULL && r->ready) {
		struct kb_chunk *ch = &r->chunks[r->cur];
		size_t take = n < ch->len ? n : ch->len;

		ch->off += (off_t)take;
		ch->len -= take;
		n -= take;
		if (ch->len == 0) {
			if (ch->fd != -1)
				close(ch->fd);
			r->cur++;
		}
		if (r->cur == r->nchunks) {
			c->queued -= r->cost;
			TAILQ_REMOVE(&c->resps, r, link);
			kb_resp_free(r);
		}
	}
}

/* Drop fully empty ready responses at the head (nothing to send). */
static void
drop_empty(struct kb_conn *c)
{
	struct kb_resp *r;

	while ((r = TAILQ_FIRST(&c->resps)) != NULL && r->ready &&
	    r->cur == r->nchunks) {
		c->queued -= r->cost;
		TAILQ_REMOVE(&c->resps, r, link);
		kb_resp_free(r);
	}
}

/*
 * Answer the whole frames buffered in c->in, in order, for as long as c
 * may take more work; the rest wait there until its answers drain.
 * -1: close the connection.
 */
static int
process_frames(struct kb_conn *c)
{
	const uint8_t *payload;
	size_t plen, pos = 0;
	ssize_t fr;
	int rc = 0;

	if (c->round != c->b->round) {
		c->round = c->b->round;
		c->round_reqs = 0;
	}
	while (may_read(c) && (fr = kp_frame_parse(c->in.data + pos,
	    c->in.len - pos, (size_t)c->b->cfg->request_max, &payload,
	    &plen)) != 0) {
		if (c->round_reqs >= ROUND_REQS) {
			/* The rest wait for the next round (server.c). */
			if (!c->backlog) {
				c->backlog = true;
				c->b->backlogged++;
			}
			break;
		}
		c->round_reqs++;
		if (fr < 0) {
			kb_log("%s: request frame over socket.request.max.bytes "
			    "or invalid, closing", c->peer);
			rc = -1;
			break;
		}
		if (kb_dispatch(c, payload, plen) == KB_CLOSE) {
			rc = -1;
			break;
		}
		pos += (size_t)fr;
	}
	kp_buf_consume(&c->in, pos);
	if (c->in.len == 0 && c->in.cap > IN_KEEP) {
		/* A big request came and went: give the memory back. */
		kp_buf_release(&c->in);
		kp_buf_init(&c->in);
	}
	return rc;
}

/* Send what is ready; -1 when the connection failed or is done. */
static int
send_ready(struct kb_conn *c)
{
	struct kb_resp *r;
	ssize_t n;

	for (;;) {
		drop_empty(c);
		r = TAILQ_FIRST(&c->resps);
		if (r == NULL || !r->ready)
			return 0;
		if (r->chunks[r->cur].fd != -1) {
			struct kb_chunk *ch = &r->chunks[r->cur];
			off_t off = ch->off;

			n = sendfile(c->fd, ch->fd, &off, ch->len);
			if (n == 0) {
				/* The file shrank under us: cannot finish. */
				kb_log("%s: segment file shorter than indexed",
				    c->peer);
				return -1;
			}
		} else
			n = send_mem(c);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		advance(c, (size_t)n);
	}
}

int
kb_conn_on_write(struct kb_conn *c)
{
	size_t before;

	for (;;) {
		if (send_ready(c) == -1)
			return -1;
		/* Requests held back while answers piled up go on now. */
		before = c->in.len;
		if (c->in.len == 0 || !may_read(c))
			break;
		if (process_frames(c) == -1)
			return -1;
		if (c->in.len == before)
			break;
	}
	if (c->closing && TAILQ_EMPTY(&c->resps))
		return -1;
	kb_conn_update_events(c);
	return 0;
}

int
kb_conn_on_read(struct kb_conn *c)
{
	size_t budget = READ_BUDGET;
	ssize_t n;

	while (budget > 0 && may_read(c) && !c->backlog) {
		if (kp_buf_reserve(&c->in, READ_CHUNK) == -1)
			return -1;
		n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		if (n == 0) {
			/* The peer is gone or half-closed: answer no more. */
			return -1;
		}
		c->in.len += (size_t)n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
		c->last_active = kb_now_mono();
		if (process_frames(c) == -1)
			return -1;
	}
	return kb_conn_on_write(c);
}
