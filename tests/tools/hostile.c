/* hostile.c -- a hostile Kafka client: malformed frames, floods and stalls against a broker */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_wire.h"

/*
 * Every malformed input is one probe: send it, then see what the broker
 * did. A broker may answer (with an error) or close the connection; it
 * may not stay silent on a complete frame, accept a corrupt batch,
 * answer a frame above socket.request.max.bytes, or stop serving a
 * well-formed client afterwards. Those are "misbehaviours": reported
 * with the class, index and seed so any one can be replayed.
 */

#define RESP_MAX	(128 * 1024 * 1024)
#define NCODES		128	/* error codes -1 .. 126 tallied */

enum outcome { OUT_ANSWER, OUT_CLOSED, OUT_SILENT };

/* probe flags */
#define P_SHUT		0x1	/* half-close after sending: expect a close */
#define P_CLOSE_ONLY	0x2	/* an answer is a misbehaviour */
#define P_PRODUCE	0x4	/* parse a Produce v7 response's error */
#define P_INVALID	0x8	/* an accepted (NONE) produce is a misbehaviour */
#define P_VALID		0x10	/* a refused produce is a misbehaviour */
#define P_ANYCORR	0x20	/* correlation id not ours to check */

struct tally {
	long	sent, answered, closed, silent, misbehaved;
	long	codes[NCODES];
};

static struct {
	const char	*host, *port, *path;	/* TCP, or a Unix path */
	int		 timeout_ms;
	int64_t		 max_bytes;		/* socket.request.max.bytes */
	const char	*topic;
	int		 bomb_mb;
	int		 verbose;
	uint64_t	 seed;
	long		 count;
	int		 nconns, nstall, nnoread, hold_s;
} opt = {
	.timeout_ms = 3000, .max_bytes = 104857600, .topic = "hostile",
	.bomb_mb = 256, .seed = 1, .count = 500, .nconns = 1000,
	.nstall = 200, .nnoread = 20, .hold_s = 3,
};

static int		 cfd = -1;	/* connection reused across probes */
static int32_t		 next_corr = 1;
static uint64_t		 rng;
static long		 total_inputs, total_misbehaved;
static long		 health_checks;
static int64_t		 health_slowest;	/* ms */
static const char	*cur_class;
static long		 cur_index;
static uint8_t		*bomb;		/* a gzip stream of bomb_mb MiB zeros */
static size_t		 bomb_len;

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: hostile [-v] [-C conns] [-c classes] [-H seconds] "
	    "[-m max-bytes] [-n count]\n"
	    "               [-R noread] [-S stall] [-s seed] [-T timeout-ms] "
	    "[-t topic] [-z bomb-mb]\n"
	    "               host:port | unix:path\n"
	    "classes: size trunc apikey array batch random oversize "
	    "(default: all of these),\n"
	    "         conns stall noread (resource tests, only when named)\n");
}

/* ---- randomness: xorshift64*, seeded per class ---- */

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static uint32_t
rndn(uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(rnd() % n);
}

static void
rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void
seed_class(const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *s = name; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	rng = (opt.seed ^ h) | 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sockets ---- */

/* A new connected socket (blocking unless nonblock), or -1. */
static int
dial(bool nonblock)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, one = 1, flags = SOCK_STREAM | SOCK_CLOEXEC;

	if (nonblock)
		flags |= SOCK_NONBLOCK;
	if (opt.path != NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlcpy(sun.sun_path, opt.path, sizeof(sun.sun_path)) >=
		    sizeof(sun.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if ((fd = socket(AF_UNIX, flags, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
		    errno != EINPROGRESS && errno != EAGAIN) {
			close(fd);
			return -1;
		}
		return fd;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(opt.host, opt.port, &hints, &res) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, flags, 0)) == -1)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* 0 sent; -1 the peer closed or reset (or the send timed out). */
static int
send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			b += w;
			n -= (size_t)w;
		} else if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			if (poll(&pfd, 1, opt.timeout_ms) <= 0)
				return -1;
		} else
			return -1;
	}
	return 0;
}

/*
 * Read one response frame into out (payload only). OUT_ANSWER, OUT_CLOSED
 * (EOF or reset), OUT_SILENT (nothing whole within the timeout).
 */
static enum outcome
recv_frame(int fd, int timeout_ms, struct kp_buf *out)
{
	uint8_t hdr[4];
	size_t got = 0, need = 4;
	int64_t deadline = now_ms() + timeout_ms;
	bool have_size = false;

	kp_buf_reset(out);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		uint8_t *dst;
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return OUT_SILENT;
		dst = have_size ? out->data + got : hdr + got;
		r = recv(fd, dst, need - got, MSG_DONTWAIT);
		if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
			return OUT_CLOSED;
		if (r < 0)
			continue;
		got += (size_t)r;
		if (got < need)
			continue;
		if (have_size)
			return OUT_ANSWER;
		need = (size_t)kp_be32(hdr);
		if (kp_be32(hdr) < 4 || need > RESP_MAX) {
			warnx("response frame size %d: nonsense", kp_be32(hdr));
			return OUT_CLOSED;
		}
		if (kp_buf_extend(out, need) == NULL)
			err(EX_OSERR, "response");
		have_size = true;
		got = 0;
	}
}

static void
drop_conn(void)
{
	if (cfd != -1)
		close(cfd);
	cfd = -1;
}

/* ---- well-formed pieces ---- */

/* Start a request frame; returns the frame offset for kp_frame_end. */
static size_t
req_begin(struct kp_buf *b, int16_t key, int16_t ver, int32_t corr)
{
	struct kp_req_header h = { key, ver, corr, { "hostile", 7 } };
	size_t off = kp_frame_begin(b);

	kp_req_header_encode(b, &h);
	return off;
}

static void
put_produce_head(struct kp_buf *b, int32_t corr)
{
	req_begin(b, KP_API_PRODUCE, 7, corr);
	kp_put_string(b, NULL, -1);		/* transactional_id */
	kp_buf_put_i16(b, -1);			/* acks */
	kp_buf_put_i32(b, 5000);		/* timeout_ms */
	kp_put_array(b, 1);
	kp_put_string(b, opt.topic, -1);
	kp_put_array(b, 1);
	kp_buf_put_i32(b, 0);			/* partition */
}

/* A whole Produce v7 frame carrying records (one or more batches). */
static void
produce_frame(struct kp_buf *b, int32_t corr, const uint8_t *rec, size_t n)
{
	kp_buf_reset(b);
	put_produce_head(b, corr);
	kp_put_bytes(b, rec, (ssize_t)n);
	kp_frame_end(b, 0);
}

/* The partition error of a Produce v7 response, or INT16_MIN. */
static int
produce_error(const uint8_t *p, size_t n)
{
	struct kp_reader r;
	struct kp_str s;
	int16_t e;

	kp_reader_init(&r, p, n);
	(void)kp_read_i32(&r);			/* correlation id */
	if (kp_read_array(&r, 1) != 1)
		return INT16_MIN;
	kp_read_string(&r, &s);
	if (kp_read_array(&r, 1) != 1)
		return INT16_MIN;
	(void)kp_read_i32(&r);
	e = kp_read_i16(&r);
	return r.err ? INT16_MIN : e;
}

static void
tally_code(struct tally *t, int code)
{
	if (code >= -1 && code < NCODES - 1)
		t->codes[code + 1]++;
}

static void
misbehaved(struct tally *t, const char *what, const char *detail)
{
	t->misbehaved++;
	total_misbehaved++;
	fprintf(stderr, "hostile: %s #%ld (seed %llu): %s: %s\n", cur_class,
	    cur_index, (unsigned long long)opt.seed, what, detail);
}

/*
 * Send one input and judge the broker's reaction. corr is the
 * correlation id a whole frame carries (unchecked with P_ANYCORR).
 */
static void
probe(struct tally *t, const char *what, const struct kp_buf *in,
    int32_t corr, int flags)
{
	struct kp_buf resp;
	enum outcome o;
	char msg[160];

	t->sent++;
	total_inputs++;
	if (in->err)
		errx(EX_SOFTWARE, "%s: encoding failed", what);
	if (cfd == -1 && (cfd = dial(false)) == -1) {
		misbehaved(t, what, "cannot connect");
		return;
	}
	kp_buf_init(&resp);
	if (send_all(cfd, in->data, in->len) == -1) {
		/* It closed on what it saw so far: fine, unless it hangs. */
		t->closed++;
		drop_conn();
		goto done;
	}
	if (flags & P_SHUT)
		shutdown(cfd, SHUT_WR);
	for (;;) {
		o = recv_frame(cfd, opt.timeout_ms, &resp);
		if (o != OUT_ANSWER)
			break;
		t->answered++;
		if (!(flags & P_ANYCORR) && kp_be32(resp.data) != corr) {
			snprintf(msg, sizeof(msg), "answered correlation id %d,"
			    " sent %d", kp_be32(resp.data), corr);
			misbehaved(t, what, msg);
			drop_conn();
			goto done;
		}
		if (flags & P_CLOSE_ONLY)
			misbehaved(t, what, "answered instead of closing");
		if (flags & P_PRODUCE) {
			int e = produce_error(resp.data, resp.len);

			tally_code(t, e);
			if (e == INT16_MIN)
				misbehaved(t, what, "unreadable Produce response");
			else if (e == KP_NONE && (flags & P_INVALID))
				misbehaved(t, what, "invalid batch accepted");
			else if (e != KP_NONE && (flags & P_VALID)) {
				snprintf(msg, sizeof(msg), "valid batch refused:"
				    " %s", kp_kerr_name((int16_t)e));
				misbehaved(t, what, msg);
			}
		}
		if (!(flags & P_SHUT))
			goto done;
		t->answered--;	/* count the connection's fate once */
	}
	if (o == OUT_CLOSED) {
		t->closed++;
		if (flags & P_VALID)
			misbehaved(t, what, "valid batch: connection closed");
	} else {
		t->silent++;
		misbehaved(t, what, flags & P_SHUT ?
		    "still open after the client half-closed" :
		    "no answer and no close on a whole frame");
	}
	drop_conn();
done:
	kp_buf_release(&resp);
	if (opt.verbose > 1)
		fprintf(stderr, "hostile: %s #%ld %s\n", cur_class, cur_index,
		    what);
}

/* ---- health: a well-formed client must still be served ---- */

/*
 * A liveness bound, not a speed target: a broker that takes this long
 * to answer an ApiVersions and a Metadata has stopped serving. The
 * slowest check is reported so starvation shows before it fails.
 */
#define HEALTH_MS	20000

static const char *
health_check(void)
{
	static char why[160];
	struct kp_buf b, resp;
	struct kp_reader r;
	int fd;
	int32_t corr = next_corr++;
	const char *res = NULL;
	int64_t start = now_ms();

	kp_buf_init(&b);
	kp_buf_init(&resp);
	if ((fd = dial(false)) == -1) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		res = why;
		goto out;
	}
	req_begin(&b, KP_API_API_VERSIONS, 0, corr);
	kp_frame_end(&b, 0);
	if (send_all(fd, b.data, b.len) == -1 ||
	    recv_frame(fd, HEALTH_MS, &resp) != OUT_ANSWER) {
		res = "ApiVersions v0: no answer";
		goto out;
	}
	kp_reader_init(&r, resp.data, resp.len);
	if (kp_read_i32(&r) != corr || kp_read_i16(&r) != 0 ||
	    kp_read_array(&r, 6) < 1 || r.err) {
		res = "ApiVersions v0: bad answer";
		goto out;
	}
	kp_buf_reset(&b);
	corr = next_corr++;
	req_begin(&b, KP_API_METADATA, 1, corr);
	kp_put_array(&b, -1);			/* all topics */
	kp_frame_end(&b, 0);
	if (send_all(fd, b.data, b.len) == -1 ||
	    recv_frame(fd, HEALTH_MS, &resp) != OUT_ANSWER) {
		res = "Metadata v1: no answer";
		goto out;
	}
	kp_reader_init(&r, resp.data, resp.len);
	if (kp_read_i32(&r) != corr || kp_read_array(&r, 10) < 1 || r.err)
		res = "Metadata v1: bad answer";
out:
	health_checks++;
	if (now_ms() - start > health_slowest)
		health_slowest = now_ms() - start;
	if (fd != -1)
		close(fd);
	kp_buf_release(&b);
	kp_buf_release(&resp);
	return res;
}

static void
require_health(const char *when)
{
	const char *why = health_check();

	if (why != NULL)
		errx(EX_UNAVAILABLE, "broker stopped serving %s: %s", when, why);
}

/* Metadata v4 with auto-creation until the topic has a partition 0. */
static void
ensure_topic(void)
{
	struct kp_buf b, resp;
	int64_t deadline = now_ms() + 10000;

	kp_buf_init(&b);
	kp_buf_init(&resp);
	while (now_ms() < deadline) {
		struct kp_reader r;
		struct kp_str s;
		int32_t n, corr = next_corr++;
		int fd = dial(false);

		if (fd == -1)
			errx(EX_UNAVAILABLE, "connect: %s", strerror(errno));
		kp_buf_reset(&b);
		req_begin(&b, KP_API_METADATA, 4, corr);
		kp_put_array(&b, 1);
		kp_put_string(&b, opt.topic, -1);
		kp_put_bool(&b, true);
		kp_frame_end(&b, 0);
		if (send_all(fd, b.data, b.len) == -1 ||
		    recv_frame(fd, HEALTH_MS, &resp) != OUT_ANSWER)
			errx(EX_UNAVAILABLE, "Metadata v4: no answer");
		close(fd);
		kp_reader_init(&r, resp.data, resp.len);
		(void)kp_read_i32(&r);		/* correlation id */
		(void)kp_read_i32(&r);		/* throttle_time_ms */
		n = kp_read_array(&r, 10);
		for (int32_t i = 0; i < n && !r.err; i++) {
			(void)kp_read_i32(&r);
			kp_read_string(&r, &s);
			(void)kp_read_i32(&r);
			kp_read_nstring(&r, &s);
		}
		kp_read_nstring(&r, &s);	/* cluster_id */
		(void)kp_read_i32(&r);		/* controller_id */
		if (kp_read_array(&r, 1) == 1 && kp_read_i16(&r) == 0 &&
		    !r.err) {
			kp_read_string(&r, &s);
			(void)kp_read_bool(&r);
			if (kp_read_array(&r, 1) >= 1 && !r.err)
				goto out;
		}
		usleep(200 * 1000);
	}
	errx(EX_UNAVAILABLE, "topic '%s': not available after 10s", opt.topic);
out:
	kp_buf_release(&b);
	kp_buf_release(&resp);
}

/* ---- record batches, valid and forged ---- */

/* A valid batch of 1-10 small records appended to out. */
static void
valid_batch(struct kp_buf *out, int codec)
{
	struct kp_batch_builder bb;
	int n = 1 + (int)rndn(10);
	char v[64];

	kp_batch_builder_init(&bb, codec, -1, -1, -1);
	for (int i = 0; i < n; i++) {
		int vl = snprintf(v, sizeof(v), "hostile-%llu",
		    (unsigned long long)rnd());

		if (kp_batch_builder_add(&bb, 1700000000000LL + i, NULL, -1,
		    v, vl, NULL, 0) == -1)
			err(EX_OSERR, "batch");
	}
	if (kp_batch_builder_finish(&bb, out) == -1)
		err(EX_OSERR, "batch");
	kp_batch_builder_release(&bb);
}

/*
 * A batch with the given records bytes, count and attributes, and a
 * correct CRC and length: only what is inside is wrong.
 */
static void
forge_batch(struct kp_buf *out, const uint8_t *rec, size_t n, int32_t count,
    int16_t attrs)
{
	size_t start = out->len;

	kp_buf_put_i64(out, 0);				/* baseOffset */
	kp_buf_put_i32(out, (int32_t)(KP_BATCH_MIN_LENGTH + n));
	kp_buf_put_i32(out, 0);				/* leader epoch */
	kp_buf_put_i8(out, KP_BATCH_MAGIC);
	kp_buf_put_u32(out, 0);				/* crc, below */
	kp_buf_put_i16(out, attrs);
	kp_buf_put_i32(out, count - 1);			/* lastOffsetDelta */
	kp_buf_put_i64(out, 1700000000000LL);
	kp_buf_put_i64(out, 1700000000000LL);
	kp_buf_put_i64(out, -1);			/* producerId */
	kp_buf_put_i16(out, -1);
	kp_buf_put_i32(out, -1);
	kp_buf_put_i32(out, count);
	kp_buf_put(out, rec, n);
	if (!out->err)
		kp_batch_crc_store(out->data + start, out->len - start);
}

/* Records whose varints and lengths lie; variant v picks the lie. */
static void
bad_records(struct kp_buf *rec, uint32_t v)
{
	switch (v % 8) {
	case 0:	/* record length: an overlong varint */
		for (int i = 0; i < 11; i++)
			kp_buf_put_i8(rec, (int8_t)0xff);
		break;
	case 1:	/* negative record length */
		kp_put_varint(rec, -1 - (int32_t)rndn(1000));
		break;
	case 2:	/* length beyond the batch */
		kp_put_varint(rec, 1000000 + (int32_t)rndn(1000000));
		kp_buf_put_i8(rec, 0);
		break;
	case 3:	/* key length beyond the record */
		kp_put_varint(rec, 8);
		kp_buf_put_i8(rec, 0);		/* attributes */
		kp_put_varlong(rec, 0);		/* timestampDelta */
		kp_put_varint(rec, 0);		/* offsetDelta */
		kp_put_varint(rec, 5000);	/* keyLength */
		kp_buf_put_i32(rec, 0);
		break;
	case 4:	/* header count huge */
		kp_put_varint(rec, 9);
		kp_buf_put_i8(rec, 0);
		kp_put_varlong(rec, 0);
		kp_put_varint(rec, 0);
		kp_put_varint(rec, -1);		/* null key */
		kp_put_varint(rec, 1);
		kp_buf_put_i8(rec, 'x');
		kp_put_varint(rec, INT32_MAX);	/* headers count */
		kp_buf_put_i8(rec, 0);
		break;
	case 5:	/* offsetDelta going backwards */
		for (int i = 0; i < 2; i++) {
			kp_put_varint(rec, 6);
			kp_buf_put_i8(rec, 0);
			kp_put_varlong(rec, 0);
			kp_put_varint(rec, 1 - i);
			kp_put_varint(rec, -1);
			kp_put_varint(rec, -1);
			kp_put_varint(rec, 0);
		}
		break;
	case 6:	/* record longer than its fields by a lot */
		kp_put_varint(rec, 60);
		kp_buf_put_i8(rec, 0);
		kp_put_varlong(rec, 0);
		kp_put_varint(rec, 0);
		kp_put_varint(rec, -1);
		kp_put_varint(rec, -1);
		kp_put_varint(rec, 0);
		for (int i = 0; i < 54; i++)
			kp_buf_put_i8(rec, (int8_t)0x80);
		break;
	default: {	/* random bytes */
		size_t n = 1 + rndn(300);
		uint8_t *p = kp_buf_extend(rec, n);

		if (p != NULL)
			rnd_fill(p, n);
		break;
	}
	}
}

/* gzip of bomb_mb MiB of zeros, made once. */
static void
make_bomb(void)
{
	static uint8_t zeros[1 << 16];
	struct kp_buf out;
	z_stream z;
	size_t left = (size_t)opt.bomb_mb << 20;
	int rc;

	if (bomb != NULL)
		return;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		errx(EX_SOFTWARE, "deflateInit2");
	kp_buf_init(&out);
	do {
		size_t in = left < sizeof(zeros) ? left : sizeof(zeros);
		uint8_t *dst;

		left -= in;
		z.next_in = zeros;
		z.avail_in = (uInt)in;
		do {
			if (kp_buf_reserve(&out, 65536) == -1)
				err(EX_OSERR, "bomb");
			dst = out.data + out.len;
			z.next_out = dst;
			z.avail_out = 65536;
			rc = deflate(&z, left == 0 ? Z_FINISH : Z_NO_FLUSH);
			out.len += 65536 - z.avail_out;
		} while (z.avail_out == 0);
	} while (left > 0);
	if (rc != Z_STREAM_END)
		errx(EX_SOFTWARE, "deflate: %d", rc);
	deflateEnd(&z);
	bomb = kp_buf_steal(&out, &bomb_len);
}

/* One invalid (or, every tenth, valid) Produce; returns what it is. */
static const char *
gen_batch(struct kp_buf *b, int32_t corr, int *flags)
{
	struct kp_buf rec, tmp;
	const char *what;
	uint32_t v = rndn(14);

	kp_buf_init(&rec);
	kp_buf_init(&tmp);
	*flags = P_PRODUCE | P_INVALID;
	if (cur_index % 10 == 9) {
		valid_batch(&rec, rndn(2) ? KP_CODEC_GZIP : KP_CODEC_NONE);
		*flags = P_PRODUCE | P_VALID;
		what = "valid batch";
		goto out;
	}
	switch (v) {
	case 0:
		what = "bad crc (bit flip in records)";
		valid_batch(&rec, KP_CODEC_NONE);
		rec.data[KP_BATCH_CRC_START + rndn((uint32_t)(rec.len -
		    KP_BATCH_CRC_START))] ^= (uint8_t)(1u << rndn(8));
		break;
	case 1:
		what = "bad crc (crc field)";
		valid_batch(&rec, rndn(2) ? KP_CODEC_GZIP : KP_CODEC_NONE);
		rec.data[KP_BATCH_OFF_CRC + rndn(4)] ^= (uint8_t)(1u <<
		    rndn(8));
		break;
	case 2: {
		static const int32_t lens[] = { 0, -1, 48, INT32_MAX,
		    INT32_MIN, 1 << 30 };
		int32_t l;

		what = "bad batchLength";
		valid_batch(&rec, KP_CODEC_NONE);
		l = rndn(3) == 0 ? (int32_t)rec.len - 12 + 1 + (int32_t)rndn(99)
		    : lens[rndn(6)];
		if (rndn(3) == 0)
			l = (int32_t)rec.len - 12 - 1 - (int32_t)rndn(10);
		kp_put_be32(rec.data + KP_BATCH_OFF_LENGTH, l);
		break;
	}
	case 3: {
		static const int32_t counts[] = { 0, -1, INT32_MAX, 1 << 20 };

		what = "recordsCount lies";
		valid_batch(&rec, KP_CODEC_NONE);
		kp_put_be32(rec.data + KP_BATCH_OFF_RECORDS_COUNT,
		    rndn(2) ? counts[rndn(4)] :
		    kp_be32(rec.data + KP_BATCH_OFF_RECORDS_COUNT) + 1);
		kp_batch_crc_store(rec.data, rec.len);
		break;
	}
	case 4:
		what = "bad varints/lengths in records";
		bad_records(&tmp, rndn(8));
		forge_batch(&rec, tmp.data, tmp.len, 1 + (int32_t)rndn(2),
		    0);
		break;
	case 5:
		what = "bad magic";
		valid_batch(&rec, KP_CODEC_NONE);
		rec.data[KP_BATCH_OFF_MAGIC] = (uint8_t)(rndn(2) ? rndn(2) :
		    3 + rndn(250));
		break;
	case 6:
		what = "unknown codec";
		bad_records(&tmp, 3);
		forge_batch(&rec, tmp.data, tmp.len, 1,
		    (int16_t)(5 + rndn(3)));
		break;
	case 7: {
		size_t n = 10 + rndn(500);
		uint8_t *p;

		what = "gzip garbage";
		if ((p = kp_buf_extend(&tmp, n)) == NULL)
			err(EX_OSERR, "gen");
		rnd_fill(p, n);
		if (rndn(2)) {	/* a real gzip magic, then garbage */
			p[0] = 0x1f;
			p[1] = 0x8b;
			p[2] = 8;
		}
		forge_batch(&rec, tmp.data, tmp.len, 1, KP_CODEC_GZIP);
		break;
	}
	case 8:
		what = "gzip decompression bomb";
		make_bomb();
		forge_batch(&rec, bomb, bomb_len, rndn(2) ? 1 : 1000000,
		    KP_CODEC_GZIP);
		break;
	case 9: {
		size_t cut;

		what = "truncated batch";
		valid_batch(&rec, rndn(2) ? KP_CODEC_GZIP : KP_CODEC_NONE);
		cut = 1 + rndn((uint32_t)rec.len - 1);
		rec.len = cut;
		break;
	}
	case 10: {
		size_t n = 1 + rndn(40);
		uint8_t *p;

		what = "valid batch then garbage";
		valid_batch(&rec, KP_CODEC_NONE);
		if ((p = kp_buf_extend(&rec, n)) == NULL)
			err(EX_OSERR, "gen");
		rnd_fill(p, n);
		break;
	}
	case 11: {
		size_t first;

		what = "valid batch then a corrupt one";
		valid_batch(&rec, KP_CODEC_NONE);
		first = rec.len;
		valid_batch(&rec, KP_CODEC_NONE);
		rec.data[first + KP_BATCH_CRC_START + 1] ^= 0x10;
		break;
	}
	case 12:
		what = "negative lastOffsetDelta";
		valid_batch(&rec, KP_CODEC_NONE);
		kp_put_be32(rec.data + KP_BATCH_OFF_LAST_DELTA,
		    -1 - (int32_t)rndn(100));
		kp_batch_crc_store(rec.data, rec.len);
		break;
	default: {
		size_t n = rndn(2000);
		uint8_t *p;

		what = "random records field";
		if ((p = kp_buf_extend(&rec, n + 1)) == NULL)
			err(EX_OSERR, "gen");
		rnd_fill(p, n + 1);
		break;
	}
	}
out:
	if (rec.err || tmp.err)
		err(EX_OSERR, "gen");
	produce_frame(b, corr, rec.data, rec.len);
	kp_buf_release(&rec);
	kp_buf_release(&tmp);
	return what;
}

/* ---- request-level classes ---- */

static const char *
gen_size(struct kp_buf *b, int32_t corr, int *flags)
{
	uint8_t junk[64];
	int32_t size;
	const char *what;

	(void)corr;
	rnd_fill(junk, sizeof(junk));
	*flags = P_ANYCORR;
	switch (rndn(6)) {
	case 0:
		what = "negative size";
		size = -1 - (int32_t)rndn(INT32_MAX);
		*flags |= P_CLOSE_ONLY;
		break;
	case 1:
		what = "size INT32_MAX";
		size = INT32_MAX;
		*flags |= P_CLOSE_ONLY;
		break;
	case 2:
		what = "size above socket.request.max.bytes";
		size = (int32_t)(opt.max_bytes + 1 + rndn(1000));
		if (opt.max_bytes >= INT32_MAX - 1000)
			size = INT32_MAX;
		*flags |= P_CLOSE_ONLY;
		break;
	case 3:
		what = "size 0";
		size = 0;
		break;
	case 4:
		what = "size shorter than a header";
		size = 1 + (int32_t)rndn(7);
		break;
	default:
		what = "size longer than the bytes sent, then EOF";
		size = 100 + (int32_t)rndn(100000);
		*flags |= P_SHUT;
		break;
	}
	kp_buf_reset(b);
	kp_buf_put_i32(b, size);
	if (size > 0 && size < (int32_t)sizeof(junk))
		kp_buf_put(b, junk, (size_t)size);
	else
		kp_buf_put(b, junk, rndn(sizeof(junk)));
	return what;
}

static const char *
gen_trunc(struct kp_buf *b, int32_t corr, int *flags)
{
	struct kp_buf h;
	size_t cut;
	const char *what;
	int16_t key = (int16_t)(rndn(2) ? KP_API_METADATA : KP_API_PRODUCE);
	int16_t ver = (int16_t)(rndn(2) ? 1 : 9);

	kp_buf_init(&h);
	*flags = P_ANYCORR;
	switch (rndn(4)) {
	case 0:
		what = "header cut short in a whole frame";
		req_begin(&h, key, ver, corr);
		cut = 1 + rndn((uint32_t)h.len - 5);
		kp_buf_reset(b);
		kp_buf_put_i32(b, (int32_t)cut);
		kp_buf_put(b, h.data + 4, cut);
		break;
	case 1:
		what = "client_id longer than the frame";
		kp_buf_reset(b);
		kp_buf_put_i32(b, 12);
		kp_buf_put_i16(b, KP_API_METADATA);
		kp_buf_put_i16(b, 1);
		kp_buf_put_i32(b, corr);
		kp_buf_put_i16(b, (int16_t)(100 + rndn(30000)));
		kp_buf_put_i16(b, 0x4142);
		break;
	case 2:
		what = "flexible header: tag buffer cut or huge";
		kp_buf_reset(b);
		kp_frame_begin(b);
		kp_buf_put_i16(b, KP_API_METADATA);
		kp_buf_put_i16(b, 9);
		kp_buf_put_i32(b, corr);
		kp_put_string(b, "x", 1);
		if (rndn(2))
			kp_put_uvarint(b, 0xffffffffu);	/* tag count */
		else {
			kp_put_uvarint(b, 1);
			kp_put_uvarint(b, 7);	/* tag */
			kp_put_uvarint(b, 1u << 30);	/* size */
		}
		kp_frame_end(b, 0);
		break;
	default:
		what = "partial header then EOF";
		req_begin(&h, key, ver, corr);
		kp_buf_reset(b);
		kp_buf_put(b, h.data, 4 + rndn((uint32_t)h.len - 4));
		kp_put_be32(b->data, (int32_t)(h.len - 4 + 100));
		*flags |= P_SHUT;
		break;
	}
	kp_buf_release(&h);
	return what;
}

static const char *
gen_apikey(struct kp_buf *b, int32_t corr, int *flags)
{
	static const int16_t weird[] = { -1, INT16_MIN, INT16_MAX, 76, 1000,
	    4, 5, 6, 7, 27, 56, 57, 67 };
	int16_t key, ver;
	const char *what;
	size_t n;
	uint8_t *p;

	*flags = 0;
	if (rndn(2)) {
		what = "unknown API key";
		key = rndn(2) ? weird[rndn(sizeof(weird) / sizeof(weird[0]))] :
		    (int16_t)(76 + rndn(32000));
		ver = (int16_t)rndn(5);
	} else {
		what = "unsupported API version";
		key = (int16_t)rndn(KP_API_MAX);
		ver = rndn(2) ? (int16_t)(20 + rndn(32000)) :
		    (int16_t)(-1 - (int16_t)rndn(100));
	}
	kp_buf_reset(b);
	kp_frame_begin(b);
	kp_buf_put_i16(b, key);
	kp_buf_put_i16(b, ver);
	kp_buf_put_i32(b, corr);
	kp_put_string(b, "hostile", 7);
	n = rndn(64);
	if ((p = kp_buf_extend(b, n)) != NULL)
		rnd_fill(p, n);
	kp_frame_end(b, 0);
	return what;
}

static const char *
gen_array(struct kp_buf *b, int32_t corr, int *flags)
{
	static const int32_t counts[] = { INT32_MAX, 1 << 30, 1000000, -2,
	    INT32_MIN, 65536 };
	int32_t count = counts[rndn(6)];
	const char *what;
	size_t n;
	uint8_t *p;

	*flags = 0;
	kp_buf_reset(b);
	switch (rndn(10)) {
	case 0:
		what = "Metadata v1 topics";
		req_begin(b, KP_API_METADATA, 1, corr);
		break;
	case 1:
		what = "Produce v7 topics";
		req_begin(b, KP_API_PRODUCE, 7, corr);
		kp_put_string(b, NULL, -1);
		kp_buf_put_i16(b, 1);
		kp_buf_put_i32(b, 1000);
		break;
	case 2:
		what = "Produce v7 partitions";
		put_produce_head(b, corr);
		b->len -= 8;	/* back over the partition count and index */
		break;
	case 3:
		what = "Fetch v4 topics";
		req_begin(b, KP_API_FETCH, 4, corr);
		kp_buf_put_i32(b, -1);
		kp_buf_put_i32(b, 100);
		kp_buf_put_i32(b, 1);
		kp_buf_put_i32(b, 1 << 20);
		kp_buf_put_i8(b, 0);
		break;
	case 4:
		what = "ListOffsets v1 topics";
		req_begin(b, KP_API_LIST_OFFSETS, 1, corr);
		kp_buf_put_i32(b, -1);
		break;
	case 5:
		what = "DescribeGroups v0 groups";
		req_begin(b, KP_API_DESCRIBE_GROUPS, 0, corr);
		break;
	case 6:
		what = "CreateTopics v2 topics";
		req_begin(b, KP_API_CREATE_TOPICS, 2, corr);
		break;
	case 7:
		what = "OffsetFetch v1 topics";
		req_begin(b, KP_API_OFFSET_FETCH, 1, corr);
		kp_put_string(b, "g", 1);
		break;
	case 8:
		what = "Metadata v9 compact topics";
		req_begin(b, KP_API_METADATA, 9, corr);
		kp_put_uvarint(b, (uint32_t)count);
		count = 0;
		break;
	default:
		what = "ApiVersions v3 compact client name";
		req_begin(b, KP_API_API_VERSIONS, 3, corr);
		kp_put_uvarint(b, (uint32_t)count);
		count = 0;
		break;
	}
	if (count != 0)
		kp_buf_put_i32(b, count);
	n = rndn(48);
	if ((p = kp_buf_extend(b, n)) != NULL)
		rnd_fill(p, n);
	kp_frame_end(b, 0);
	return what;
}

static const char *
gen_random(struct kp_buf *b, int32_t corr, int *flags)
{
	size_t n;
	uint8_t *p;
	const char *what;

	kp_buf_reset(b);
	*flags = P_ANYCORR;
	switch (rndn(3)) {
	case 0:
		what = "random payload";
		n = rndn(4096);
		kp_buf_put_i32(b, (int32_t)n);
		break;
	case 1:
		what = "known header, random body";
		req_begin(b, (int16_t)rndn(KP_API_MAX), (int16_t)rndn(12),
		    corr);
		*flags = 0;
		n = rndn(512);
		break;
	default:
		what = "random stream then EOF";
		n = 1 + rndn(8192);
		*flags |= P_SHUT;
		break;
	}
	if ((p = kp_buf_extend(b, n)) != NULL)
		rnd_fill(p, n);
	if (*flags == 0) {
		/*
		 * A known API with a random body may still parse (an empty
		 * flexible tag buffer, say): any answer is fine.
		 */
		kp_frame_end(b, 0);
	}
	return what;
}

static const char *
gen_oversize(struct kp_buf *b, int32_t corr, int *flags)
{
	size_t n = (size_t)opt.max_bytes + 1 + rndn(1000);

	*flags = P_CLOSE_ONLY;
	kp_buf_reset(b);
	put_produce_head(b, corr);
	kp_buf_put_i32(b, (int32_t)n);	/* records bytes length */
	if (kp_buf_extend(b, n) == NULL)
		err(EX_OSERR, "oversize");
	memset(b->data + b->len - n, 0, n);
	kp_frame_end(b, 0);
	return "whole request above socket.request.max.bytes";
}

typedef const char *gen_fn(struct kp_buf *, int32_t, int *);

static void
report(const char *class, const struct tally *t)
{
	printf("class %s: %ld sent, %ld answered, %ld closed, %ld silent, "
	    "%ld misbehaved\n", class, t->sent, t->answered, t->closed,
	    t->silent, t->misbehaved);
	for (int i = 0; i < NCODES; i++)
		if (t->codes[i] > 0)
			printf("class %s: error %s: %ld\n", class,
			    kp_kerr_name((int16_t)(i - 1)), t->codes[i]);
	fflush(stdout);
}

static void
run_frames(const char *class, gen_fn *gen, long count)
{
	struct tally t;
	struct kp_buf b;

	memset(&t, 0, sizeof(t));
	kp_buf_init(&b);
	seed_class(class);
	cur_class = class;
	for (cur_index = 0; cur_index < count; cur_index++) {
		int flags;
		int32_t corr = next_corr++;
		const char *what = gen(&b, corr, &flags);

		probe(&t, what, &b, corr, flags);
		if (cur_index % 200 == 199)
			require_health(class);
	}
	drop_conn();
	kp_buf_release(&b);
	require_health(class);
	report(class, &t);
}

/* ---- resource classes ---- */

static void
raise_nofile(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(EX_OSERR, "getrlimit");
	if (rl.rlim_cur < (rlim_t)want + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)want + 64 ? rl.rlim_max :
		    (rlim_t)want + 64;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			err(EX_OSERR, "setrlimit");
	}
	if (rl.rlim_cur < (rlim_t)want + 16)
		errx(EX_OSERR, "open files limit %llu: below %d connections",
		    (unsigned long long)rl.rlim_cur, want);
}

/* Is fd still open on the broker's side (no EOF, no reset, no data)? */
static bool
still_open(int fd)
{
	uint8_t c[4096];
	ssize_t r;

	for (;;) {
		r = recv(fd, c, sizeof(c), MSG_DONTWAIT);
		if (r > 0)
			continue;	/* responses: drain */
		return r == -1 && errno == EAGAIN;
	}
}

/* n concurrent connections, each asking ApiVersions; all must be served. */
static void
run_conns(void)
{
	struct pollfd *pf;
	struct kp_buf *in;
	int n = opt.nconns, answered = 0, closed = 0, pending;
	int64_t deadline;
	struct tally t;

	memset(&t, 0, sizeof(t));
	cur_class = "conns";
	raise_nofile(n + 16);
	if ((pf = calloc((size_t)n, sizeof(*pf))) == NULL ||
	    (in = calloc((size_t)n, sizeof(*in))) == NULL)
		err(EX_OSERR, "conns");
	for (int i = 0; i < n; i++) {
		if ((pf[i].fd = dial(true)) == -1)
			err(EX_UNAVAILABLE, "connection %d", i);
		pf[i].events = POLLOUT;
		kp_buf_init(&in[i]);
	}
	/* Send one ApiVersions on each as it connects; read the answers. */
	pending = n;
	deadline = now_ms() + 20000 + opt.timeout_ms;
	while (pending > 0 && now_ms() < deadline) {
		if (poll(pf, (nfds_t)n, 200) < 0 && errno != EINTR)
			err(EX_OSERR, "poll");
		for (int i = 0; i < n; i++) {
			if (pf[i].revents == 0 || pf[i].fd < 0)
				continue;
			if (pf[i].events == POLLOUT) {
				struct kp_buf b;

				kp_buf_init(&b);
				req_begin(&b, KP_API_API_VERSIONS, 0, i);
				kp_frame_end(&b, 0);
				if (send(pf[i].fd, b.data, b.len,
				    MSG_NOSIGNAL) != (ssize_t)b.len) {
					closed++;
					pending--;
					pf[i].fd = -pf[i].fd - 2;
				} else
					pf[i].events = POLLIN;
				kp_buf_release(&b);
				continue;
			}
			uint8_t tmp[4096];
			ssize_t r = recv(pf[i].fd, tmp, sizeof(tmp),
			    MSG_DONTWAIT);

			if (r > 0) {
				kp_buf_put(&in[i], tmp, (size_t)r);
				if (in[i].len >= 10 && kp_be32(in[i].data) > 0 &&
				    in[i].len >= 4 + (size_t)kp_be32(in[i].data)) {
					if (kp_be32(in[i].data + 4) != i)
						misbehaved(&t, "ApiVersions",
						    "wrong correlation id");
					answered++;
					pending--;
					pf[i].events = 0;
				}
			} else if (r == 0 || errno != EAGAIN) {
				closed++;
				pending--;
				pf[i].fd = -pf[i].fd - 2;
			}
		}
	}
	printf("class conns: %d connections, %d answered, %d closed, "
	    "%d silent\n", n, answered, closed, pending);
	fflush(stdout);
	total_inputs += n;
	/* With all of them still open a new client is served too. */
	require_health("conns (all open)");
	for (int i = 0; i < n; i++) {
		if (pf[i].fd >= 0)
			close(pf[i].fd);
		kp_buf_release(&in[i]);
	}
	free(pf);
	free(in);
	require_health("conns (closed again)");
	if (answered != n) {
		fprintf(stderr, "hostile: conns: %d of %d connections not "
		    "served\n", n - answered, n);
		total_misbehaved++;
	}
	total_misbehaved += t.misbehaved;
}

/*
 * Half-requests that stall: the first ten trickle one byte a second but
 * never finish; the broker must keep serving others meanwhile.
 */
static void
run_stall(void)
{
	int n = opt.nstall, *fds, open_after = 0;
	size_t *sent;
	struct kp_buf b;

	cur_class = "stall";
	seed_class("stall");
	raise_nofile(n + 16);
	if ((fds = calloc((size_t)n, sizeof(*fds))) == NULL ||
	    (sent = calloc((size_t)n, sizeof(*sent))) == NULL)
		err(EX_OSERR, "stall");
	kp_buf_init(&b);
	req_begin(&b, KP_API_METADATA, 1, 1);
	kp_put_array(&b, -1);
	kp_frame_end(&b, 0);
	for (int i = 0; i < n; i++) {
		if ((fds[i] = dial(false)) == -1)
			err(EX_UNAVAILABLE, "stall connection %d", i);
		/* From two bytes of the size to all but the last byte. */
		sent[i] = i < 10 ? 2 : 2 + rndn((uint32_t)b.len - 2);
		(void)send_all(fds[i], b.data, sent[i]);
	}
	for (int s = 0; s < opt.hold_s; s++) {
		require_health("stall");
		for (int i = 0; i < n && i < 10; i++)
			if (sent[i] + 1 < b.len &&
			    send(fds[i], b.data + sent[i], 1, MSG_NOSIGNAL) == 1)
				sent[i]++;
		usleep(1000 * 1000);
	}
	require_health("stall");
	for (int i = 0; i < n; i++) {
		if (still_open(fds[i]))
			open_after++;
		close(fds[i]);
	}
	printf("class stall: %d half-requests held %ds, %d still open "
	    "(the rest closed by the broker)\n", n, opt.hold_s, open_after);
	fflush(stdout);
	total_inputs += n;
	kp_buf_release(&b);
	free(sent);
	free(fds);
}

/*
 * Clients that pipeline requests and never read the answers: the broker
 * must stop reading them (backpressure) instead of queueing answers
 * without end. A client counts as stopped when its writes block for a
 * whole second; one that gets NOREAD_CAP bytes in without that is a
 * misbehaviour.
 */
#define NOREAD_CAP	(64LL << 20)

static void
run_noread(void)
{
	int n = opt.nnoread, stopped = 0, active;
	long long sent_bytes = 0;
	struct pollfd *pf;
	long long *sent;
	int64_t *last_write, deadline;
	struct kp_buf b;

	cur_class = "noread";
	raise_nofile(n + 16);
	if ((pf = calloc((size_t)n, sizeof(*pf))) == NULL ||
	    (sent = calloc((size_t)n, sizeof(*sent))) == NULL ||
	    (last_write = calloc((size_t)n, sizeof(*last_write))) == NULL)
		err(EX_OSERR, "noread");
	kp_buf_init(&b);
	/* 64 Metadata-for-everything requests per write. */
	for (int k = 0; k < 64; k++) {
		size_t off = b.len;

		req_begin(&b, KP_API_METADATA, 1, k);
		kp_put_array(&b, -1);
		kp_frame_end(&b, off);
	}
	for (int i = 0; i < n; i++) {
		if ((pf[i].fd = dial(true)) == -1)
			err(EX_UNAVAILABLE, "noread connection %d", i);
		pf[i].events = POLLOUT;
		last_write[i] = now_ms();
	}
	active = n;
	deadline = now_ms() + 60000;
	while (active > 0 && now_ms() < deadline) {
		if (poll(pf, (nfds_t)n, 100) < 0 && errno != EINTR)
			err(EX_OSERR, "poll");
		for (int i = 0; i < n; i++) {
			ssize_t w;

			if (pf[i].events == 0)
				continue;
			if (pf[i].revents & POLLOUT) {
				w = send(pf[i].fd, b.data, b.len,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0) {
					sent[i] += w;
					last_write[i] = now_ms();
				} else if (w == -1 && errno != EAGAIN) {
					warnx("noread %d: closed by the broker",
					    i);
					pf[i].events = 0;
					active--;
					continue;
				}
			}
			if (now_ms() - last_write[i] >= 1000) {
				stopped++;
				pf[i].events = 0;
				active--;
			} else if (sent[i] >= NOREAD_CAP) {
				pf[i].events = 0;
				active--;
			}
		}
	}
	for (int i = 0; i < n; i++)
		sent_bytes += sent[i];
	require_health("noread (clients blocked)");
	printf("class noread: %d clients wrote %lld requests (%lld bytes) "
	    "without reading; %d stopped by backpressure\n", n,
	    sent_bytes / (long long)(b.len / 64), sent_bytes, stopped);
	fflush(stdout);
	total_inputs += n;
	if (stopped < n) {
		fprintf(stderr, "hostile: noread: %d of %d clients wrote %lld "
		    "MiB of requests without the broker pushing back\n",
		    n - stopped, n, NOREAD_CAP >> 20);
		total_misbehaved++;
	}
	for (int i = 0; i < n; i++)
		close(pf[i].fd);
	kp_buf_release(&b);
	free(pf);
	free(sent);
	free(last_write);
	require_health("noread (closed)");
}

static bool
has_class(const char *list, const char *c)
{
	size_t n = strlen(c);

	for (const char *p = list; (p = strstr(p, c)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' ||
		    p[n] == '\0'))
			return true;
	return false;
}

static void
parse_addr(char *a)
{
	char *colon;

	if (strncmp(a, "unix:", 5) == 0) {
		opt.path = a + 5;
		return;
	}
	if ((colon = strrchr(a, ':')) == NULL)
		errx(EX_USAGE, "address '%s': expected host:port or unix:path",
		    a);
	*colon = '\0';
	opt.host = a;
	opt.port = colon + 1;
	if (*opt.host == '[') {		/* [::1]:9092 */
		opt.host++;
		if ((colon = strchr(opt.host, ']')) != NULL)
			*colon = '\0';
	}
}

static long long
num(const char *s, long long lo, long long hi, const char *what)
{
	const char *e;
	long long v = strtonum(s, lo, hi, &e);

	if (e != NULL)
		errx(EX_USAGE, "%s '%s': %s", what, s, e);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bomb-mb",	required_argument,	NULL,	'z' },
		{ "class",	required_argument,	NULL,	'c' },
		{ "conns",	required_argument,	NULL,	'C' },
		{ "count",	required_argument,	NULL,	'n' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "hold",	required_argument,	NULL,	'H' },
		{ "max-bytes",	required_argument,	NULL,	'm' },
		{ "noread",	required_argument,	NULL,	'R' },
		{ "seed",	required_argument,	NULL,	's' },
		{ "stall",	required_argument,	NULL,	'S' },
		{ "timeout",	required_argument,	NULL,	'T' },
		{ "topic",	required_argument,	NULL,	't' },
		{ "verbose",	no_argument,		NULL,	'v' },
		{ NULL,		0,			NULL,	0 }
	};
	const char *classes = "size,trunc,apikey,array,batch,random,oversize";
	int ch;

	while ((ch = getopt_long(argc, argv, "C:c:H:hm:n:R:S:s:T:t:vz:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			opt.nconns = (int)num(optarg, 1, 100000, "conns");
			break;
		case 'c':
			classes = optarg;
			break;
		case 'H':
			opt.hold_s = (int)num(optarg, 0, 3600, "hold");
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'm':
			opt.max_bytes = num(optarg, 64, INT32_MAX, "max-bytes");
			break;
		case 'n':
			opt.count = (long)num(optarg, 0, 100000000, "count");
			break;
		case 'R':
			opt.nnoread = (int)num(optarg, 1, 10000, "noread");
			break;
		case 'S':
			opt.nstall = (int)num(optarg, 1, 100000, "stall");
			break;
		case 's':
			opt.seed = (uint64_t)num(optarg, 0, LLONG_MAX, "seed");
			break;
		case 'T':
			opt.timeout_ms = (int)num(optarg, 10, 600000,
			    "timeout");
			break;
		case 't':
			opt.topic = optarg;
			break;
		case 'v':
			opt.verbose++;
			break;
		case 'z':
			opt.bomb_mb = (int)num(optarg, 1, 4095, "bomb-mb");
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EX_USAGE;
	}
	parse_addr(argv[optind]);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	require_health("before the abuse");
	if (has_class(classes, "size"))
		run_frames("size", gen_size, opt.count);
	if (has_class(classes, "trunc"))
		run_frames("trunc", gen_trunc, opt.count);
	if (has_class(classes, "apikey"))
		run_frames("apikey", gen_apikey, opt.count);
	if (has_class(classes, "array"))
		run_frames("array", gen_array, opt.count);
	if (has_class(classes, "random"))
		run_frames("random", gen_random, opt.count);
	if (has_class(classes, "batch")) {
		ensure_topic();
		run_frames("batch", gen_batch, opt.count);
	}
	if (has_class(classes, "oversize"))
		run_frames("oversize", gen_oversize, opt.count < 20 ?
		    opt.count : 20);
	if (has_class(classes, "conns"))
		run_conns();
	if (has_class(classes, "stall"))
		run_stall();
	if (has_class(classes, "noread"))
		run_noread();
	require_health("after the abuse");
	free(bomb);
	printf("health: %ld checks by a fresh client, slowest answered in "
	    "%lld ms\n", health_checks, (long long)health_slowest);
	printf("total: %ld malformed inputs, %ld misbehaviours, broker still "
	    "serving\n", total_inputs, total_misbehaved);
	return total_misbehaved > 0 ? 1 : 0;
}
