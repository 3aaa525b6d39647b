/* test_kp_compress.c -- gzip round trips, bounds, truncation, a decompression bomb */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "kp_compress.h"
#include "tap.h"

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	/* compressible but not trivial: words from a small alphabet */
	srand(seed);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)("abcdefgh \n"[rand() % 10]);
}

static void
test_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 100, 65536, 300000 };
	struct kp_buf z, out;
	uint8_t *src;
	size_t i, n;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		src = malloc(n + 1);
		fill(src, n, (unsigned)i);
		kp_buf_init(&z);
		kp_buf_init(&out);
		is_int(kp_gzip_compress(src, n, &z), 0, "compress %zu bytes", n);
		ok(z.len > 10 && z.data[0] == 0x1f && z.data[1] == 0x8b,
		    "%zu bytes: RFC 1952 gzip magic", n);
		is_int(kp_gzip_decompress(z.data, z.len, n, &out), 0,
		    "%zu bytes: inflate with the exact bound", n);
		ok(out.len == n && (n == 0 || memcmp(out.data, src, n) == 0),
		    "%zu bytes: round trip", n);
		if (n > 0) {
			kp_buf_reset(&out);
			kp_buf_put(&out, "keep", 4);
			errno = 0;
			ok(kp_gzip_decompress(z.data, z.len, n - 1, &out) == -1 &&
			    errno == EFBIG, "%zu bytes: bound - 1 is EFBIG", n);
			ok(out.len == 4 && memcmp(out.data, "keep", 4) == 0,
			    "%zu bytes: no partial result left behind", n);
		}
		kp_buf_release(&z);
		kp_buf_release(&out);
		free(src);
	}
}

static void
test_bad_input(void)
{
	struct kp_buf z, out;
	uint8_t src[2000], junk[64];
	size_t i;
	int bad = 0;

	fill(src, sizeof(src), 9);
	kp_buf_init(&z);
	kp_buf_init(&out);
	kp_gzip_compress(src, sizeof(src), &z);
	for (i = 0; i < z.len; i++) {
		kp_buf_reset(&out);
		errno = 0;
		if (kp_gzip_decompress(z.data, i, 1 << 20, &out) != -1 ||
		    errno != EBADMSG || out.len != 0)
			bad++;
	}
	is_int(bad, 0, "every truncation of a gzip stream is EBADMSG");

	memset(junk, 'x', sizeof(junk));
	errno = 0;
	ok(kp_gzip_decompress(junk, sizeof(junk), 1 << 20, &out) == -1 &&
	    errno == EBADMSG, "garbage is EBADMSG");

	/* a trailing garbage byte after a complete member */
	kp_buf_put(&z, "x", 1);
	kp_buf_reset(&out);
	ok(kp_gzip_decompress(z.data, z.len, 1 << 20, &out) == -1,
	    "trailing garbage is rejected");
	z.len--;

	/* two members back to back inflate to both (gzip(1) semantics) */
	kp_buf_reserve(&z, z.len);	/* self-append: no move mid-copy */
	kp_buf_put(&z, z.data, z.len);
	kp_buf_reset(&out);
	ok(kp_gzip_decompress(z.data, z.len, 1 << 20, &out) == 0 &&
	    out.len == 2 * sizeof(src) &&
	    memcmp(out.data + sizeof(src), src, sizeof(src)) == 0,
	    "concatenated gzip members");
	kp_buf_release(&z);
	kp_buf_release(&out);
}

/* 100 MB of zeros deflated in pieces, so the test never holds 100 MB. */
static int
bomb(struct kp_buf *z)
{
	static uint8_t zeros[1 << 16];
	z_stream zs;
	size_t left = 100u << 20, room;
	int rc = Z_OK;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	while (rc != Z_STREAM_END) {
		if (zs.avail_in == 0 && left > 0) {
			zs.next_in = zeros;
			zs.avail_in = sizeof(zeros);
			left -= sizeof(zeros);
		}
		room = 1 << 16;
		if (kp_buf_reserve(z, room) != 0)
			break;
		zs.next_out = z->data + z->len;
		zs.avail_out = (uInt)room;
		rc = deflate(&zs, left == 0 && zs.avail_in == 0 ? Z_FINISH :
		    Z_NO_FLUSH);
		z->len += room - zs.avail_out;
	}
	deflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
}

static void
test_bomb(void)
{
	struct kp_buf z, out;

	kp_buf_init(&z);
	kp_buf_init(&out);
	is_int(bomb(&z), 0, "made a 100 MB gzip bomb");
	ok(z.len < (1 << 20), "bomb is small: %zu bytes", z.len);
	errno = 0;
	ok(kp_gzip_decompress(z.data, z.len, 1 << 20, &out) == -1 &&
	    errno == EFBIG, "bomb rejected at a 1 MB bound");
	ok(out.len == 0 && out.cap <= (4u << 20),
	    "memory stayed near the bound: %zu bytes", out.cap);
	kp_buf_release(&z);
	kp_buf_release(&out);
}

int
main(void)
{
	test_round_trip();
	test_bad_input();
	test_bomb();
	return tap_done();
}
