/* fuzz_gzip.h -- kp_gzip_decompress against zlib's own gzip/zlib inflate, shared by fuzz_gzip and test_fuzz_regress */
#ifndef FUZZ_GZIP_H
#define FUZZ_GZIP_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kp_buf.h"
#include "kp_compress.h"

/*
 * Header-only so the libFuzzer harness and tests/unit/test_fuzz_regress.c
 * run the very same code. A broken invariant aborts.
 */
#define fg_must(c) do { if (!(c)) abort(); } while (0)

/*
 * The reference: zlib parses the wrapper itself (15 + 32: gzip or zlib,
 * detected per member) and checks every trailer, members back to back,
 * output bounded by max the same way. What kp_gzip_decompress did before
 * it took gzip members apart itself.
 */
static inline int
fg_zlib_inflate(const uint8_t *src, size_t len, size_t max,
    struct kp_buf *out)
{
	z_stream zs;
	size_t start = out->len, room, lim, got = 0;
	int rc, e = EBADMSG;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)len;	/* fuzz inputs are small */
	for (;;) {
		room = got < 4096 ? 4096 : got;
		lim = max - got + 1;
		if (room > lim)
			room = lim;
		if (kp_buf_reserve(out, room) != 0) {
			e = ENOMEM;
			goto fail;
		}
		zs.next_out = out->data + out->len;
		zs.avail_out = (uInt)room;
		rc = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		got += room - zs.avail_out;
		if (got > max) {
			e = EFBIG;
			goto fail;
		}
		if (rc == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			if (inflateReset(&zs) != Z_OK)
				goto fail;
			continue;
		}
		if (rc == Z_MEM_ERROR) {
			e = ENOMEM;
			goto fail;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			goto fail;
		if (rc == Z_BUF_ERROR && zs.avail_in == 0)
			goto fail;
	}
	inflateEnd(&zs);
	return 0;
fail:
	inflateEnd(&zs);
	out->len = start;
	errno = e;
	return -1;
}

/* Same verdict, same errno, same bytes; nothing left behind on failure. */
static inline void
fg_compare(const uint8_t *p, size_t n, size_t max)
{
	struct kp_buf a, b;
	int ra, rb, ea, eb;

	kp_buf_init(&a);
	kp_buf_init(&b);
	kp_buf_put(&a, "pre", 3);
	kp_buf_put(&b, "pre", 3);
	errno = 0;
	ra = kp_gzip_decompress(p, n, max, &a);
	ea = errno;
	errno = 0;
	rb = fg_zlib_inflate(p, n, max, &b);
	eb = errno;
	fg_must(ra == rb);
	fg_must(ra == 0 || ea == eb);
	fg_must(ra == 0 || a.len == 3);
	fg_must(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	fg_must(a.len - 3 <= max);
	kp_buf_release(&a);
	kp_buf_release(&b);
}

/* Generous and tight output bounds, so EFBIG meets every path too. */
static inline void
fg_bounds(const uint8_t *p, size_t n)
{
	fg_compare(p, n, 1 << 20);
	fg_compare(p, n, n);
	fg_compare(p, n, 0);
}

static inline void
fg_le32(struct kp_buf *b, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	kp_buf_put(b, le, 4);
}

/*
 * Mutants almost never carry a right CRC-32, so most would stop at the
 * trailer. When the input starts with a raw deflate stream, wrap that in
 * a gzip member with the true trailer (from zlib) and compare that too,
 * alone and twice over: the accept path meets arbitrary deflate data.
 */
static inline void
fg_wrapped(const uint8_t *p, size_t n)
{
	static const uint8_t hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	struct kp_buf out, m;
	z_stream zs;
	size_t used;
	int rc;

	kp_buf_init(&out);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK || kp_buf_reserve(&out, 1 << 20))
		abort();
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	zs.next_out = out.data;
	zs.avail_out = 1 << 20;
	rc = inflate(&zs, Z_FINISH);
	used = n - zs.avail_in;
	out.len = (1 << 20) - zs.avail_out;
	inflateEnd(&zs);
	if (rc == Z_STREAM_END) {
		kp_buf_init(&m);
		kp_buf_put(&m, hdr, sizeof(hdr));
		kp_buf_put(&m, p, used);
		fg_le32(&m, (uint32_t)crc32_z(0, out.data, out.len));
		fg_le32(&m, (uint32_t)out.len);
		fg_must(!m.err);
		fg_bounds(m.data, m.len);
		kp_buf_reserve(&m, m.len);
		kp_buf_put(&m, m.data, m.len);
		fg_must(!m.err);
		fg_bounds(m.data, m.len);
		kp_buf_release(&m);
	}
	kp_buf_release(&out);
}

static inline void
fuzz_gzip_one(const uint8_t *p, size_t n)
{
	fg_bounds(p, n);
	fg_wrapped(p, n);
}

#endif
