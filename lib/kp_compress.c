/* kp_compress.c -- gzip compress and bounded decompress through zlib */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "kp_compress.h"

/* zlib counts in uInt; feed it at most this much at a time. */
#define CHUNK_MAX	(1u << 30)

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

int
kp_gzip_decompress(const void *src, size_t len, size_t max,
    struct kp_buf *out)
{
	z_stream zs;
	size_t start = out->len, room, lim, got = 0;
	int rc, e = EBADMSG;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 32: detect gzip or zlib header */
	if (inflateInit2(&zs, 15 + 32) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)src;
	for (;;) {
		if (zs.avail_in == 0 && len > 0) {
			zs.avail_in = len > CHUNK_MAX ? CHUNK_MAX : (uInt)len;
			len -= zs.avail_in;
		}
		/* grow with the output so far, never past max + 1 */
		room = got < 4096 ? 4096 : got;
		lim = max - got;
		if (lim < SIZE_MAX)
			lim++;
		if (room > lim)
			room = lim;
		if (room > CHUNK_MAX)
			room = CHUNK_MAX;
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
			if (zs.avail_in == 0 && len == 0)
				break;
			/* another gzip member follows */
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
		/* no progress possible: input ended mid-stream */
		if (rc == Z_BUF_ERROR && zs.avail_in == 0 && len == 0)
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
