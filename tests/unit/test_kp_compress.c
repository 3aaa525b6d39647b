/* test_kp_compress.c -- gzip round trips, bounds, truncation, a decompression bomb */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/* RFC 1952 FLG bits */
#define FTEXT		0x01
#define FHCRC		0x02
#define FEXTRA		0x04
#define FNAME		0x08
#define FCOMMENT	0x10

static void
put_le32(struct kp_buf *b, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	kp_buf_put(b, le, 4);
}

/*
 * zlib's deflate of src, one call, appended to b: wbits -15 for raw
 * deflate (no wrapper), 15 + 16 for zlib's own gzip wrapper.
 */
static void
zlib_deflate(struct kp_buf *b, const uint8_t *src, size_t n, int wbits)
{
	z_stream zs;
	size_t room = compressBound((uLong)n) + 64;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, wbits, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK || kp_buf_reserve(b, room) != 0)
		abort();
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)n;
	zs.next_out = b->data + b->len;
	zs.avail_out = (uInt)room;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		abort();
	b->len += room - zs.avail_out;
	deflateEnd(&zs);
}

/*
 * A gzip member built by hand: header with the optional fields flg asks
 * for, raw deflate, trailer; crc_xor and isize_add spoil the trailer.
 */
static void
gz_member(struct kp_buf *b, const uint8_t *src, size_t n, uint8_t flg,
    uint32_t crc_xor, uint32_t isize_add)
{
	static const uint8_t extra[] = { 6, 0, 'A', 'B', 2, 0, 'h', 'i' };
	size_t start = b->len;
	uint8_t hdr[10] = { 0x1f, 0x8b, 8, flg, 0x78, 0x56, 0x34, 0x12, 0, 3 };
	uint32_t hcrc;

	kp_buf_put(b, hdr, sizeof(hdr));
	if (flg & FEXTRA)
		kp_buf_put(b, extra, sizeof(extra));
	if (flg & FNAME)
		kp_buf_put(b, "records.bin", 12);
	if (flg & FCOMMENT)
		kp_buf_put(b, "a comment", 10);
	if (flg & FHCRC) {
		hcrc = (uint32_t)crc32(0, b->data + start, (uInt)(b->len - start));
		kp_buf_put(b, (uint8_t[]){ (uint8_t)hcrc, (uint8_t)(hcrc >> 8) },
		    2);
	}
	zlib_deflate(b, src, n, -15);
	put_le32(b, (uint32_t)crc32(0, src, (uInt)n) ^ crc_xor);
	put_le32(b, (uint32_t)n + isize_add);
}

/* zlib's own verdict on a gzip stream (15 + 16, members one by one). */
static int
zlib_accepts(const uint8_t *p, size_t n, size_t want)
{
	static uint8_t buf[1 << 16];
	z_stream zs;
	size_t got = 0;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return 0;
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		rc = inflate(&zs, Z_NO_FLUSH);
		got += sizeof(buf) - zs.avail_out;
		if (rc == Z_STREAM_END && zs.avail_in > 0)
			rc = inflateReset(&zs) == Z_OK ? Z_OK : Z_DATA_ERROR;
	} while (rc == Z_OK);
	inflateEnd(&zs);
	return rc == Z_STREAM_END && got == want;
}

static int
inflates_to(const struct kp_buf *z, const uint8_t *src, size_t n)
{
	struct kp_buf out;
	int r;

	kp_buf_init(&out);
	r = kp_gzip_decompress(z->data, z->len, 1 << 20, &out) == 0 &&
	    out.len == n && (n == 0 || memcmp(out.data, src, n) == 0);
	kp_buf_release(&out);
	return r;
}

static int
is_ebadmsg(const uint8_t *p, size_t n)
{
	struct kp_buf out;
	int r;

	kp_buf_init(&out);
	kp_buf_put(&out, "keep", 4);
	errno = 0;
	r = kp_gzip_decompress(p, n, 1 << 20, &out) == -1 &&
	    errno == EBADMSG && out.len == 4;
	kp_buf_release(&out);
	return r;
}

/* Every FLG combination the RFC defines, fields built by hand. */
static void
test_header_fields(void)
{
	uint8_t src[5000];
	struct kp_buf z;
	int bad = 0, zbad = 0, flg;

	fill(src, sizeof(src), 21);
	for (flg = 0; flg < 32; flg++) {
		kp_buf_init(&z);
		gz_member(&z, src, sizeof(src), (uint8_t)flg, 0, 0);
		if (!inflates_to(&z, src, sizeof(src)))
			bad++;
		if (!zlib_accepts(z.data, z.len, sizeof(src)))
			zbad++;
		kp_buf_release(&z);
	}
	is_int(zbad, 0, "zlib accepts the hand-built members");
	is_int(bad, 0, "FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT in all 32 "
	    "combinations");

	kp_buf_init(&z);
	gz_member(&z, src, 100, FHCRC | FNAME, 0, 0);
	z.data[10 + 12] ^= 1;	/* the header CRC-16 */
	ok(is_ebadmsg(z.data, z.len), "wrong header CRC-16 is EBADMSG");
	kp_buf_reset(&z);
	gz_member(&z, src, 100, 0, 0, 0);
	z.data[2] = 7;
	ok(is_ebadmsg(z.data, z.len), "compression method 7 is EBADMSG");
	for (flg = 0x20; flg <= 0x80; flg <<= 1) {
		kp_buf_reset(&z);
		gz_member(&z, src, 100, (uint8_t)flg, 0, 0);
		ok(is_ebadmsg(z.data, z.len), "reserved FLG bit 0x%02x is "
		    "EBADMSG", flg);
		ok(!zlib_accepts(z.data, z.len, 100), "zlib rejects it too");
	}
	kp_buf_release(&z);
}

/* A spoilt trailer: each CRC-32 bit, ISIZE off by one or by 2^31. */
static void
test_trailer(void)
{
	uint8_t src[3000];
	struct kp_buf z, out;
	int bad = 0;

	fill(src, sizeof(src), 22);
	kp_buf_init(&z);
	for (int b = 0; b < 32; b++) {
		kp_buf_reset(&z);
		gz_member(&z, src, sizeof(src), 0, 1u << b, 0);
		if (!is_ebadmsg(z.data, z.len))
			bad++;
	}
	is_int(bad, 0, "a wrong bit in the trailer CRC-32 is EBADMSG");
	kp_buf_reset(&z);
	gz_member(&z, src, sizeof(src), 0, 0, 1);
	ok(is_ebadmsg(z.data, z.len), "ISIZE one too many is EBADMSG");
	kp_buf_reset(&z);
	gz_member(&z, src, sizeof(src), 0, 0, UINT32_MAX);
	ok(is_ebadmsg(z.data, z.len), "ISIZE one too few is EBADMSG");
	kp_buf_reset(&z);
	gz_member(&z, src, sizeof(src), 0, 0, 1u << 31);
	ok(is_ebadmsg(z.data, z.len), "ISIZE off by 2^31 is EBADMSG");
	kp_buf_reset(&z);
	gz_member(&z, src, 0, 0, 0, 0);
	ok(inflates_to(&z, src, 0), "an empty member inflates to nothing");

	/* ISIZE sizes the first inflate call, but only as far as deflate's
	 * 1032:1 could ever reach from this input */
	kp_buf_reset(&z);
	gz_member(&z, src, 100, 0, 0, 0xfffffff0u - 100);
	kp_buf_init(&out);
	errno = 0;
	ok(kp_gzip_decompress(z.data, z.len, SIZE_MAX, &out) == -1 &&
	    errno == EBADMSG && out.cap <= 1032 * z.len + 4096,
	    "a trailer claiming 4 GB costs %zu bytes, not 4 GB", out.cap);
	kp_buf_release(&out);
	kp_buf_release(&z);
}

/*
 * Two members with different header fields, then a zlib stream after a
 * gzip member, and each cut short at every byte: only the cut right
 * between the members is a complete stream.
 */
static void
test_members(void)
{
	uint8_t src[4000], zsrc[600];
	struct kp_buf z;
	size_t first, i;
	uLongf zn = sizeof(zsrc);
	int bad = 0;

	fill(src, sizeof(src), 23);
	kp_buf_init(&z);
	gz_member(&z, src, 1500, FNAME | FHCRC, 0, 0);
	first = z.len;
	gz_member(&z, src + 1500, sizeof(src) - 1500, FEXTRA | FCOMMENT, 0, 0);
	ok(inflates_to(&z, src, sizeof(src)), "two hand-built members");
	ok(zlib_accepts(z.data, z.len, sizeof(src)), "zlib agrees");
	for (i = 0; i < z.len; i++) {
		if (i == first)
			continue;
		if (!is_ebadmsg(z.data, i))
			bad++;
	}
	is_int(bad, 0, "two members cut at every byte are EBADMSG");
	ok(!is_ebadmsg(z.data, first) && is_ebadmsg(z.data, first + 1),
	    "the first member alone is whole, one byte more is not");

	/* the second member's trailer wrong: nothing of the first is kept */
	z.data[z.len - 5] ^= 0x10;
	ok(is_ebadmsg(z.data, z.len), "a bad second member fails the whole");

	kp_buf_reset(&z);
	gz_member(&z, src, 1000, 0, 0, 0);
	if (compress2(zsrc, &zn, src + 1000, 300, 6) != Z_OK)
		abort();
	kp_buf_put(&z, zsrc, zn);
	ok(inflates_to(&z, src, 1300), "a zlib stream after a gzip member");
	z.data[z.len - 1] ^= 1;	/* its Adler-32 */
	ok(is_ebadmsg(z.data, z.len), "a bad Adler-32 is EBADMSG");
	ok(is_ebadmsg(z.data, 0), "empty input is EBADMSG");
	kp_buf_release(&z);
}

static void
test_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 100, 65536, 300000 };
	struct kp_buf z, out, ref;
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
		ok(zlib_accepts(z.data, z.len, n),
		    "%zu bytes: zlib's gzip inflate (15 + 16) reads it", n);
		kp_buf_init(&ref);
		zlib_deflate(&ref, src, n, 15 + 16);
		ok(ref.len == z.len && memcmp(ref.data, z.data, z.len) == 0,
		    "%zu bytes: the very bytes zlib's gzip wrapper writes", n);
		kp_buf_release(&ref);
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
	test_header_fields();
	test_trailer();
	test_members();
	return tap_done();
}
