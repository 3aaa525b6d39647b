/* kp_compress.c -- gzip compress through zlib, bounded decompress with our own gzip framing and CRC-32 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "kp_compress.h"
#include "kp_crc32.h"

/* zlib counts in uInt; feed it at most this much at a time. */
#define CHUNK_MAX	(1u << 30)

/* zlib's own gzip wrapper: deflate dominates, its CRC-32 costs little. */
int
kp_gzip_compress(const void *src, size_t len, struct kp_buf *out)
{
	z_stream zs;
	size_t start = out->len, room;
	int rc;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: gzip wrapper, as Kafka's GZIPOutputStream writes */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)src;
	do {
		if (zs.avail_in == 0 && len > 0) {
			zs.avail_in = len > CHUNK_MAX ? CHUNK_MAX : (uInt)len;
			len -= zs.avail_in;
		}
		room = 64 + (zs.avail_in + len) / 2;
		if (room > CHUNK_MAX)
			room = CHUNK_MAX;
		if (kp_buf_reserve(out, room) != 0)
			goto fail;
		zs.next_out = out->data + out->len;
		zs.avail_out = (uInt)room;
		rc = deflate(&zs, len == 0 ? Z_FINISH : Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		if (rc == Z_STREAM_ERROR)
			goto fail;
	} while (rc != Z_STREAM_END);
	deflateEnd(&zs);
	return 0;
fail:
	deflateEnd(&zs);
	out->len = start;
	errno = ENOMEM;
	return -1;
}

/* RFC 1952 member header flags (FLG) */
#define FHCRC		0x02
#define FEXTRA		0x04
#define FNAME		0x08
#define FCOMMENT	0x10
#define FRESERVED	0xe0

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/*
 * Length of the gzip member header at p (RFC 1952 2.3), or 0 when it is
 * malformed or runs past the end: the whole input is at hand, so both
 * mean a bad stream. Checks what zlib checks: deflate method, no reserved
 * flags, the header CRC-16 when FHCRC is set.
 */
static size_t
gzip_header(const uint8_t *p, size_t len)
{
	const uint8_t *z;
	size_t n = 10, xlen;
	uint8_t flg;

	if (len < n || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8)
		return 0;
	flg = p[3];
	if (flg & FRESERVED)
		return 0;
	if (flg & FEXTRA) {
		if (len - n < 2)
			return 0;
		xlen = (size_t)p[n] | (size_t)p[n + 1] << 8;
		n += 2;
		if (len - n < xlen)
			return 0;
		n += xlen;
	}
	if (flg & FNAME) {
		if ((z = memchr(p + n, 0, len - n)) == NULL)
			return 0;
		n = (size_t)(z - p) + 1;
	}
	if (flg & FCOMMENT) {
		if ((z = memchr(p + n, 0, len - n)) == NULL)
			return 0;
		n = (size_t)(z - p) + 1;
	}
	if (flg & FHCRC) {
		if (len - n < 2 || (kp_crc32(0, p, n) & 0xffff) !=
		    ((uint32_t)p[n] | (uint32_t)p[n + 1] << 8))
			return 0;
		n += 2;
	}
	return n;
}

/* Where the inflation stands; out->len - start counts every member so far. */
struct inflater {
	z_stream	 zs;
	const uint8_t	*p, *end;	/* input not yet consumed */
	size_t		 start, max;
	struct kp_buf	*out;
};

/*
 * Inflate one deflate (raw) or zlib stream from in->p to its end, adding
 * the CRC-32 of the output to *crc when crc is not NULL: over each chunk
 * right after inflate wrote it, while it is still in cache. hint is room
 * for the first call, or 0. Returns 0 or an errno value.
 */
static int
inflate_stream(struct inflater *in, uint32_t *crc, size_t hint)
{
	const uint8_t *was;
	size_t room, lim, n, got;
	int rc;

	for (;;) {
		n = (size_t)(in->end - in->p);
		was = in->p;
		in->zs.next_in = (Bytef *)(uintptr_t)in->p;
		in->zs.avail_in = n > CHUNK_MAX ? CHUNK_MAX : (uInt)n;
		/* grow with the output so far, never past max + 1 */
		got = in->out->len - in->start;
		room = got < 4096 ? 4096 : got;
		if (hint > room)
			room = hint;
		hint = 0;
		lim = in->max - got;
		if (lim < SIZE_MAX)
			lim++;
		if (room > lim)
			room = lim;
		if (room > CHUNK_MAX)
			room = CHUNK_MAX;
		if (kp_buf_reserve(in->out, room) != 0)
			return ENOMEM;
		in->zs.next_out = in->out->data + in->out->len;
		in->zs.avail_out = (uInt)room;
		/*
		 * Z_FINISH: a stream done in one call needs no sliding window,
		 * so zlib neither allocates nor fills one; otherwise it says
		 * Z_BUF_ERROR where Z_NO_FLUSH would say Z_OK.
		 */
		rc = inflate(&in->zs, Z_FINISH);
		n = room - in->zs.avail_out;
		if (crc != NULL)
			*crc = kp_crc32(*crc, in->out->data + in->out->len, n);
		in->out->len += n;
		in->p = in->zs.next_in;
		if (got + n > in->max)
			return EFBIG;
		if (rc == Z_STREAM_END)
			return 0;
		if (rc == Z_MEM_ERROR)
			return ENOMEM;
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return EBADMSG;
		/* no progress possible: input ended mid-stream */
		if (n == 0 && in->p == was)
			return EBADMSG;
	}
}

/*
 * Room for the first inflate call from the ISIZE at the very end of the
 * input (the last member's, so it is only a hint): all of it in one call,
 * writing straight into out, spares the growing steps and zlib's window
 * copies. Not trusted beyond max nor beyond deflate's best ratio (1032:1),
 * so a lying trailer costs no more memory than a true one could.
 */
static size_t
size_hint(const struct inflater *in, uint32_t isize)
{
	size_t left = (size_t)(in->end - in->p);

	if (isize > in->max - (in->out->len - in->start))
		return 0;
	if (left < SIZE_MAX / 1032 && isize > 1032 * left)
		return 0;
	return isize;
}

/*
 * One gzip or zlib member. zlib would check a gzip trailer with its own
 * CRC-32, byte or braided, slower than inflating the highly compressible
 * record data, so gzip members are taken apart here: header, raw deflate,
 * then CRC-32 and ISIZE (mod 2^32) against the trailer.
 */
static int
member(struct inflater *in)
{
	size_t left = (size_t)(in->end - in->p), hlen, hint = 0;
	size_t before = in->out->len;
	uint32_t crc = 0;
	int gz, e;

	gz = left >= 2 && in->p[0] == 0x1f && in->p[1] == 0x8b;
	if (gz) {
		if (left >= 18)
			hint = size_hint(in, le32(in->end - 4));
		if ((hlen = gzip_header(in->p, left)) == 0)
			return EBADMSG;
		in->p += hlen;
	}
	if (inflateReset2(&in->zs, gz ? -15 : 15) != Z_OK)
		return EBADMSG;
	if ((e = inflate_stream(in, gz ? &crc : NULL, hint)) != 0)
		return e;
	if (!gz)
		return 0;	/* zlib checked the Adler-32 */
	if (in->end - in->p < 8 || le32(in->p) != crc ||
	    le32(in->p + 4) != (uint32_t)(in->out->len - before))
		return EBADMSG;
	in->p += 8;
	return 0;
}

int
kp_gzip_decompress(const void *src, size_t len, size_t max,
    struct kp_buf *out)
{
	struct inflater in;
	size_t start = out->len;
	int e;

	if (len == 0) {
		errno = EBADMSG;	/* not even one member */
		return -1;
	}
	memset(&in, 0, sizeof(in));
	if (inflateInit2(&in.zs, -15) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	in.p = src;
	in.end = in.p + len;
	in.start = start;
	in.max = max;
	in.out = out;
	/* members back to back, gzip(1) style; at least one */
	do {
		if ((e = member(&in)) != 0)
			goto fail;
	} while (in.p < in.end);
	inflateEnd(&in.zs);
	return 0;
fail:
	inflateEnd(&in.zs);
	out->len = start;
	errno = e;
	return -1;
}
