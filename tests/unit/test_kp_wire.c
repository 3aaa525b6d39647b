/* test_kp_wire.c -- Kafka primitives, headers, frames; captured client bytes */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "kp_wire.h"
#include "req_walk.h"
#include "tap.h"

/* An encoder's output equals these literal bytes. */
#define is_bytes(b, lit, ...) \
	ok((b)->err == 0 && (b)->len == sizeof(lit) - 1 && \
	    memcmp((b)->data, (lit), sizeof(lit) - 1) == 0, __VA_ARGS__)

/* A reader over a string literal's bytes (without its NUL). */
#define reader_lit(r, lit) kp_reader_init((r), (lit), sizeof(lit) - 1)

static void
test_varint_golden(void)
{
	/* Zigzag, from the protobuf spec and Kafka's ByteUtilsTest. */
	static const struct {
		int32_t		 v;
		const char	*enc;
		size_t		 n;
	} vi[] = {
		{ 0, "\x00", 1 }, { -1, "\x01", 1 }, { 1, "\x02", 1 },
		{ -2, "\x03", 1 }, { 63, "\x7e", 1 }, { -64, "\x7f", 1 },
		{ 64, "\x80\x01", 2 }, { -65, "\x81\x01", 2 },
		{ 300, "\xd8\x04", 2 },
		{ INT32_MAX, "\xfe\xff\xff\xff\x0f", 5 },
		{ INT32_MIN, "\xff\xff\xff\xff\x0f", 5 },
	};
	struct kp_buf b;
	struct kp_reader r;
	size_t i;

	kp_buf_init(&b);
	for (i = 0; i < sizeof(vi) / sizeof(vi[0]); i++) {
		kp_buf_reset(&b);
		kp_put_varint(&b, vi[i].v);
		ok(b.len == vi[i].n && memcmp(b.data, vi[i].enc, b.len) == 0,
		    "varint %d encodes to %zu golden bytes", vi[i].v, vi[i].n);
		kp_reader_init(&r, vi[i].enc, vi[i].n);
		is_int(kp_read_varint(&r), vi[i].v, "varint %d decodes",
		    vi[i].v);
		ok(r.err == 0 && r.off == vi[i].n, "varint %d: all consumed",
		    vi[i].v);
		is_int(kp_varint_size(vi[i].v), vi[i].n, "varint %d size",
		    vi[i].v);
	}

	kp_buf_reset(&b);
	kp_put_varlong(&b, INT64_MAX);
	is_bytes(&b, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01",
	    "varlong INT64_MAX is 10 bytes");
	kp_reader_init(&r, b.data, b.len);
	ok(kp_read_varlong(&r) == INT64_MAX && r.err == 0, "INT64_MAX back");
	kp_buf_reset(&b);
	kp_put_varlong(&b, INT64_MIN);
	is_bytes(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
	    "varlong INT64_MIN is 10 bytes");
	kp_reader_init(&r, b.data, b.len);
	ok(kp_read_varlong(&r) == INT64_MIN && r.err == 0, "INT64_MIN back");
	is_int(kp_varint_size(INT64_MIN), 10, "varlong INT64_MIN size");

	kp_buf_reset(&b);
	kp_put_uvarint(&b, UINT64_MAX);
	is_bytes(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
	    "uvarint UINT64_MAX is 10 bytes, no zigzag");
	kp_reader_init(&r, b.data, b.len);
	ok(kp_read_uvarint(&r) == UINT64_MAX && r.err == 0,
	    "uvarint UINT64_MAX back");
	kp_buf_reset(&b);
	kp_put_uvarint(&b, 128);
	is_bytes(&b, "\x80\x01", "uvarint 128 is 80 01");
	kp_buf_release(&b);
}

/* Every power of two, its neighbours and their negations round-trip. */
static void
test_varint_sweep(void)
{
	struct kp_buf b;
	struct kp_reader r;
	int bad32 = 0, bad64 = 0, badu = 0, badsz = 0, k, d, neg;

	kp_buf_init(&b);
	for (k = 0; k < 64; k++) {
		for (d = -1; d <= 1; d++) {
			for (neg = 0; neg <= 1; neg++) {
				uint64_t u = ((uint64_t)1 << k) +
				    (uint64_t)(int64_t)d;
				int64_t v64;
				int32_t v32;

				if (neg)
					u = 0 - u;	/* modular negation */
				v64 = (int64_t)u;
				v32 = (int32_t)(uint32_t)u;
				kp_buf_reset(&b);
				kp_put_varint(&b, v32);
				badsz += b.len != kp_varint_size(v32);
				kp_put_varlong(&b, v64);
				kp_put_uvarint(&b, u);
				kp_reader_init(&r, b.data, b.len);
				bad32 += kp_read_varint(&r) != v32;
				bad64 += kp_read_varlong(&r) != v64;
				badu += kp_read_uvarint(&r) != u;
				badu += r.err != 0 || kp_reader_left(&r) != 0;
				kp_buf_reset(&b);
				kp_put_varlong(&b, v64);
				badsz += b.len != kp_varint_size(v64);
			}
		}
	}
	is_int(bad32, 0, "varint round trips over +-(2^k-1..2^k+1)");
	is_int(bad64, 0, "varlong round trips over +-(2^k-1..2^k+1)");
	is_int(badu, 0, "uvarint round trips over +-(2^k-1..2^k+1)");
	is_int(badsz, 0, "kp_varint_size agrees with the encoder");
	kp_buf_release(&b);
}

static void
test_varint_invalid(void)
{
	struct kp_reader r;

	/* Ten bytes can carry only bit 63 in the last one. */
	reader_lit(&r, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02");
	kp_read_uvarint(&r);
	is_int(r.err, KP_EBAD, "uvarint: 10th byte above 1 is malformed");
	reader_lit(&r, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00");
	kp_read_uvarint(&r);
	is_int(r.err, KP_EBAD, "uvarint: 11 bytes is malformed");
	reader_lit(&r, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80");
	kp_read_uvarint(&r);
	is_int(r.err, KP_EBAD, "uvarint: endless continuation is malformed");
	reader_lit(&r, "\xff\xff");
	kp_read_uvarint(&r);
	is_int(r.err, KP_ESHORT, "uvarint: cut after a continuation is short");
	reader_lit(&r, "");
	kp_read_uvarint(&r);
	is_int(r.err, KP_ESHORT, "uvarint: empty input is short");
	/* Kafka's readers accept padded encodings; so do we. */
	reader_lit(&r, "\x80\x80\x00");
	ok(kp_read_uvarint(&r) == 0 && r.err == 0 && r.off == 3,
	    "uvarint: padded zero decodes to 0");

	reader_lit(&r, "\x80\x80\x80\x80\x80\x00");
	kp_read_varint(&r);
	is_int(r.err, KP_EBAD, "varint: 6 bytes is malformed");
	reader_lit(&r, "\xff\xff\xff\xff\x1f");
	kp_read_varint(&r);
	is_int(r.err, KP_EBAD, "varint: 5 bytes above 32 bits is malformed");
	reader_lit(&r, "\xff\xff\xff\xff");
	kp_read_varint(&r);
	is_int(r.err, KP_ESHORT, "varint: 4 continuation bytes is short");
	reader_lit(&r, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x03");
	kp_read_varlong(&r);
	is_int(r.err, KP_EBAD, "varlong: over 64 bits is malformed");
}

static void
test_bool_uuid(void)
{
	static const uint8_t id[16] = { 0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad,
	    0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8 };
	struct kp_buf b;
	struct kp_reader r;
	uint8_t got[16];

	kp_buf_init(&b);
	kp_put_bool(&b, true);
	kp_put_bool(&b, false);
	is_bytes(&b, "\x01\x00", "bool true, false is 01 00");
	reader_lit(&r, "\x00\x01\xff");
	ok(!kp_read_bool(&r), "bool 00 is false");
	ok(kp_read_bool(&r), "bool 01 is true");
	ok(kp_read_bool(&r), "bool ff is true (non-zero)");
	ok(!kp_read_bool(&r) && r.err == KP_ESHORT, "bool past end is short");

	kp_buf_reset(&b);
	kp_put_uuid(&b, id);
	ok(b.len == 16 && memcmp(b.data, id, 16) == 0, "uuid is 16 raw bytes");
	kp_reader_init(&r, b.data, b.len);
	kp_read_uuid(&r, got);
	ok(memcmp(got, id, 16) == 0 && r.err == 0, "uuid round trip");
	kp_reader_init(&r, id, 15);
	memset(got, 0xaa, sizeof(got));
	kp_read_uuid(&r, got);
	ok(r.err == KP_ESHORT && got[0] == 0 && got[15] == 0,
	    "uuid from 15 bytes is short and zeroed");
	kp_buf_release(&b);
}

static void
test_strings(void)
{
	struct kp_buf b;
	struct kp_reader r;
	struct kp_str s;
	char *dup, big[40000];

	kp_buf_init(&b);
	kp_put_string(&b, "abc", -1);
	kp_put_string(&b, NULL, -1);
	kp_put_string(&b, "", 0);
	kp_put_string(&b, "abcdef", 2);
	is_bytes(&b, "\x00\x03" "abc" "\xff\xff" "\x00\x00" "\x00\x02" "ab",
	    "classic strings: int16 length, -1 null");
	kp_reader_init(&r, b.data, b.len);
	kp_read_string(&r, &s);
	ok(kp_str_eq(&s, "abc"), "string \"abc\" back");
	kp_read_nstring(&r, &s);
	ok(s.len == -1 && s.ptr == NULL && kp_str_eq(&s, NULL),
	    "nullable string null back");
	kp_read_string(&r, &s);
	ok(s.len == 0 && s.ptr != NULL && kp_str_eq(&s, ""), "empty string");
	kp_read_string(&r, &s);
	ok(kp_str_eq(&s, "ab") && !kp_str_eq(&s, "abc"), "string with length");
	ok(r.err == 0 && kp_reader_left(&r) == 0, "classic strings consumed");
	dup = kp_str_dup(&s);
	ok(dup != NULL && strcmp(dup, "ab") == 0, "kp_str_dup copies");
	free(dup);
	s.len = -1;
	ok(kp_str_dup(&s) == NULL, "kp_str_dup of null is NULL");

	kp_buf_reset(&b);
	kp_put_string_f(&b, true, "abc", -1);
	kp_put_string_f(&b, true, NULL, -1);
	kp_put_string_f(&b, true, "", 0);
	is_bytes(&b, "\x04" "abc" "\x00" "\x01",
	    "compact strings: uvarint N+1, 0 null");
	kp_reader_init(&r, b.data, b.len);
	kp_read_string_f(&r, true, &s);
	ok(kp_str_eq(&s, "abc"), "compact string back");
	kp_read_nstring_f(&r, true, &s);
	ok(s.len == -1, "compact nullable null back");
	kp_read_string_f(&r, true, &s);
	ok(s.len == 0 && r.err == 0 && kp_reader_left(&r) == 0,
	    "compact empty string back");

	reader_lit(&r, "\xff\xff");
	kp_read_string(&r, &s);
	is_int(r.err, KP_EBAD, "null in a non-nullable string is malformed");
	reader_lit(&r, "\x00");
	kp_read_string_f(&r, true, &s);
	is_int(r.err, KP_EBAD, "compact null non-nullable is malformed");
	reader_lit(&r, "\xff\xfe");
	kp_read_nstring(&r, &s);
	is_int(r.err, KP_EBAD, "string length -2 is malformed");
	reader_lit(&r, "\x00\x05" "abc");
	kp_read_string(&r, &s);
	ok(r.err == KP_ESHORT && s.len == -1 && s.ptr == NULL,
	    "string longer than input is short, view cleared");
	reader_lit(&r, "\x81\x80\x02");	/* 32768 + 1 */
	kp_read_string_f(&r, true, &s);
	is_int(r.err, KP_EBAD, "compact string of 32768 bytes is malformed");
	reader_lit(&r, "\x80\x80\x02");	/* 32767 + 1, then too few bytes */
	kp_read_string_f(&r, true, &s);
	is_int(r.err, KP_ESHORT, "compact string of 32767 bytes is allowed");

	memset(big, 'x', sizeof(big));
	kp_buf_reset(&b);
	kp_put_string(&b, big, INT16_MAX);
	ok(b.err == 0 && b.len == 2 + INT16_MAX, "string of INT16_MAX bytes");
	kp_put_string(&b, big, INT16_MAX + 1);
	is_int(b.err, EOVERFLOW, "string over INT16_MAX fails the buffer");
	is_int(b.len, 2 + INT16_MAX, "and writes nothing");
	kp_buf_release(&b);
}

static void
test_bytes(void)
{
	struct kp_buf b;
	struct kp_reader r;
	struct kp_bytes v;

	kp_buf_init(&b);
	kp_put_bytes(&b, "\x00\x01", 2);
	kp_put_bytes(&b, NULL, -1);
	kp_put_bytes(&b, "", 0);
	is_bytes(&b, "\x00\x00\x00\x02\x00\x01" "\xff\xff\xff\xff"
	    "\x00\x00\x00\x00", "classic bytes: int32 length, -1 null");
	kp_reader_init(&r, b.data, b.len);
	kp_read_bytes(&r, &v);
	ok(v.len == 2 && memcmp(v.ptr, "\x00\x01", 2) == 0, "bytes back");
	kp_read_nbytes(&r, &v);
	ok(v.len == -1 && v.ptr == NULL, "nullable bytes null back");
	kp_read_bytes(&r, &v);
	ok(v.len == 0 && r.err == 0 && kp_reader_left(&r) == 0,
	    "empty bytes back");

	kp_buf_reset(&b);
	kp_put_bytes_f(&b, true, "\x07\x08\x09", 3);
	kp_put_bytes_f(&b, true, NULL, -1);
	is_bytes(&b, "\x04\x07\x08\x09\x00", "compact bytes and null");
	kp_reader_init(&r, b.data, b.len);
	kp_read_bytes_f(&r, true, &v);
	ok(v.len == 3 && memcmp(v.ptr, "\x07\x08\x09", 3) == 0,
	    "compact bytes back");
	kp_read_nbytes_f(&r, true, &v);
	ok(v.len == -1 && r.err == 0, "compact nullable bytes null back");

	reader_lit(&r, "\xff\xff\xff\xff");
	kp_read_bytes(&r, &v);
	is_int(r.err, KP_EBAD, "null in non-nullable bytes is malformed");
	reader_lit(&r, "\x80\x00\x00\x00");
	kp_read_nbytes(&r, &v);
	is_int(r.err, KP_EBAD, "bytes length INT32_MIN is malformed");
	reader_lit(&r, "\x7f\xff\xff\xff" "abc");
	kp_read_bytes(&r, &v);
	is_int(r.err, KP_ESHORT, "bytes of INT32_MAX over 3 bytes is short");
	reader_lit(&r, "\x81\x80\x80\x80\x08");	/* 2^31 + 1 */
	kp_read_bytes_f(&r, true, &v);
	is_int(r.err, KP_EBAD, "compact bytes over INT32_MAX is malformed");

	/* The length check comes before any byte is read from the source. */
	kp_buf_reset(&b);
	kp_put_bytes(&b, "x", (ssize_t)INT32_MAX + 1);
	ok(b.err == EOVERFLOW && b.len == 0,
	    "bytes over INT32_MAX fail the buffer, nothing written");
	kp_buf_release(&b);
}

static void
test_arrays(void)
{
	struct kp_buf b;
	struct kp_reader r;

	kp_buf_init(&b);
	kp_put_array(&b, 2);
	kp_put_array(&b, -1);
	kp_put_array(&b, 0);
	kp_put_array_f(&b, true, 3);
	kp_put_array_f(&b, true, -1);
	kp_put_array_f(&b, true, 0);
	is_bytes(&b, "\x00\x00\x00\x02" "\xff\xff\xff\xff" "\x00\x00\x00\x00"
	    "\x04" "\x00" "\x01", "array counts: int32, compact N+1, null");
	kp_buf_reset(&b);
	kp_put_array(&b, 2);
	kp_buf_put_i32(&b, 10);
	kp_buf_put_i32(&b, 20);
	kp_put_array(&b, -1);
	kp_put_array_f(&b, true, 2);
	kp_buf_put_i16(&b, 1);
	kp_buf_put_i16(&b, 2);
	kp_put_array_f(&b, true, -1);
	kp_put_array_f(&b, true, 0);
	kp_reader_init(&r, b.data, b.len);
	is_int(kp_read_array(&r, 4), 2, "array count 2 back");
	ok(kp_read_i32(&r) == 10 && kp_read_i32(&r) == 20, "array elements");
	is_int(kp_read_array(&r, 4), -1, "null array is -1");
	is_int(kp_read_array_f(&r, true, 2), 2, "compact array count 2 back");
	ok(kp_read_i16(&r) == 1 && kp_read_i16(&r) == 2, "compact elements");
	is_int(kp_read_array_f(&r, true, 2), -1, "compact null array is -1");
	is_int(kp_read_array_f(&r, true, 2), 0, "compact empty array is 0");
	ok(r.err == 0 && kp_reader_left(&r) == 0, "arrays consumed");

	/* No caller may allocate from a count the bytes cannot back. */
	reader_lit(&r, "\x7f\xff\xff\xff" "\x00\x00\x00\x00");
	is_int(kp_read_array(&r, 4), 0, "huge array count reads 0");
	is_int(r.err, KP_EBAD, "huge array count is malformed");
	reader_lit(&r, "\x00\x00\x00\x03" "\x00\x00\x00\x00\x00\x00\x00\x00");
	kp_read_array(&r, 4);
	is_int(r.err, KP_EBAD, "3 x 4-byte elements over 8 bytes is malformed");
	reader_lit(&r, "\x00\x00\x00\x02" "\x00\x00\x00\x00\x00\x00\x00\x00");
	ok(kp_read_array(&r, 4) == 2 && r.err == 0,
	    "2 x 4-byte elements over 8 bytes is fine");
	reader_lit(&r, "\x00\x00\x00\x02" "\x00");
	kp_read_array(&r, 0);
	is_int(r.err, KP_EBAD, "min element 0 still counts 1 byte each");
	reader_lit(&r, "\xff\xff\xff\xfe");
	kp_read_array(&r, 1);
	is_int(r.err, KP_EBAD, "array count -2 is malformed");
	reader_lit(&r, "\x80\x80\x80\x80\x08");	/* 2^31 */
	kp_read_array_f(&r, true, 1);
	is_int(r.err, KP_EBAD, "compact count 2^31 - 1 over no bytes");
	reader_lit(&r, "\xff\xff\xff\xff\x0f" "\x00");
	kp_read_array_f(&r, true, 1);
	is_int(r.err, KP_EBAD, "compact count above INT32_MAX is malformed");
	reader_lit(&r, "\x00\x00");
	kp_read_array(&r, 1);
	is_int(r.err, KP_ESHORT, "array count over 2 bytes is short");
	kp_buf_release(&b);
}

static void
test_tags(void)
{
	struct kp_buf b;
	struct kp_reader r;

	kp_buf_init(&b);
	kp_put_tags_f(&b, true);
	kp_put_tags_f(&b, false);
	is_bytes(&b, "\x00", "empty tag buffer is one 0 byte; none if classic");
	kp_buf_release(&b);

	reader_lit(&r, "\x00" "X");
	kp_read_tags_f(&r, true);
	ok(r.err == 0 && r.off == 1, "empty tag buffer skipped");
	reader_lit(&r, "\x05" "X");
	kp_read_tags_f(&r, false);
	ok(r.err == 0 && r.off == 0, "classic versions have no tag buffer");
	/* tag 0 with 2 bytes, tag 3 empty, tag 200 with 1 byte */
	reader_lit(&r, "\x03" "\x00\x02" "ab" "\x03\x00" "\xc8\x01\x01" "\x01"
	    "X");
	kp_read_tags_f(&r, true);
	ok(r.err == 0 && r.off == 11, "three ascending tags skipped");
	reader_lit(&r, "\x02" "\x05\x00" "\x01\x00");
	kp_read_tags_f(&r, true);
	is_int(r.err, KP_EBAD, "tags out of order are malformed");
	reader_lit(&r, "\x02" "\x01\x00" "\x01\x00");
	kp_read_tags_f(&r, true);
	is_int(r.err, KP_EBAD, "a repeated tag is malformed");
	reader_lit(&r, "\x01" "\x00\x05" "ab");
	kp_read_tags_f(&r, true);
	is_int(r.err, KP_ESHORT, "tag data past the end is short");
	reader_lit(&r, "\xff\xff\xff\xff\x07" "\x00\x00");
	kp_read_tags_f(&r, true);
	is_int(r.err, KP_EBAD, "a huge tag count is malformed");
	reader_lit(&r, "\x01" "\x00");
	kp_read_tags_f(&r, true);
	ok(r.err != 0, "tag without its size fails");
}

/* First flexible version of every API key, from the *Request.json files. */
static const int8_t flexible_from[KP_API_MAX + 1] = {
	9, 12, 6, 9, 4, 2, 6, 3, 8, 6, 3, 6, 4, 4, 4, 5, 3, -1, 3, 5, 4, 2, 2,
	4, 3, 3, 3, 1, 3, 2, 2, 2, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 0,
	-1, 1, 1, 0, 0, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0,
};

static void
test_api_table(void)
{
	int k, bad = 0;

	for (k = 0; k <= KP_API_MAX; k++) {
		int f = flexible_from[k];

		bad += kp_api_name((int16_t)k) == NULL;
		if (f < 0)
			bad += kp_api_flexible((int16_t)k, 30);
		else
			bad += (f > 0 && kp_api_flexible((int16_t)k,
			    (int16_t)(f - 1))) || !kp_api_flexible((int16_t)k,
			    (int16_t)f);
	}
	is_int(bad, 0, "flexible versions of all %d API keys match the JSON",
	    KP_API_MAX + 1);
	ok(strcmp(kp_api_name(KP_API_API_VERSIONS), "ApiVersions") == 0 &&
	    strcmp(kp_api_name(75), "DescribeTopicPartitions") == 0,
	    "API names");
	ok(kp_api_name(-1) == NULL && kp_api_name(KP_API_MAX + 1) == NULL,
	    "unknown API keys have no name");
	ok(!kp_api_flexible(-1, 10) && !kp_api_flexible(1000, 10),
	    "unknown API keys are never flexible");

	is_int(kp_req_header_version(7, 0), 0, "ControlledShutdown v0: hdr v0");
	is_int(kp_req_header_version(7, 1), 1, "ControlledShutdown v1: hdr v1");
	is_int(kp_req_header_version(KP_API_METADATA, 4), 1, "Metadata v4: v1");
	is_int(kp_req_header_version(KP_API_METADATA, 9), 2, "Metadata v9: v2");
	is_int(kp_req_header_version(KP_API_API_VERSIONS, 0), 1,
	    "ApiVersions v0: request header v1");
	is_int(kp_req_header_version(KP_API_API_VERSIONS, 3), 2,
	    "ApiVersions v3: request header v2");
	is_int(kp_req_header_version(KP_API_API_VERSIONS, 4), 2,
	    "ApiVersions v4 (newer than us): still header v2");
	is_int(kp_resp_header_version(KP_API_API_VERSIONS, 3), 0,
	    "ApiVersions v3: response header v0 (KIP-511)");
	is_int(kp_resp_header_version(KP_API_METADATA, 8), 0,
	    "Metadata v8: response header v0");
	is_int(kp_resp_header_version(KP_API_METADATA, 9), 1,
	    "Metadata v9: response header v1");
	is_int(kp_resp_header_version(KP_API_SASL_HANDSHAKE, 1), 0,
	    "SaslHandshake never flexible: response header v0");
}

static void
test_headers(void)
{
	struct kp_buf b;
	struct kp_req_header h, g;
	int32_t corr;

	kp_buf_init(&b);
	h = (struct kp_req_header){ 7, 0, 42, { "ignored", 7 } };
	kp_req_header_encode(&b, &h);
	is_bytes(&b, "\x00\x07\x00\x00\x00\x00\x00\x2a",
	    "request header v0: no client_id");
	is_int(kp_req_header_decode(b.data, b.len, &g), 8, "header v0 back");
	ok(g.api_key == 7 && g.correlation_id == 42 && g.client_id.len == -1,
	    "header v0 fields");

	kp_buf_reset(&b);
	h = (struct kp_req_header){ KP_API_METADATA, 4, -5, { "cli", 3 } };
	kp_req_header_encode(&b, &h);
	is_bytes(&b, "\x00\x03\x00\x04\xff\xff\xff\xfb\x00\x03" "cli",
	    "request header v1: classic client_id");
	is_int(kp_req_header_decode(b.data, b.len, &g), 13, "header v1 back");
	ok(g.api_key == 3 && g.api_version == 4 && g.correlation_id == -5 &&
	    kp_str_eq(&g.client_id, "cli"), "header v1 fields");

	kp_buf_reset(&b);
	h = (struct kp_req_header){ KP_API_METADATA, 1, 9, { NULL, -1 } };
	kp_req_header_encode(&b, &h);
	is_bytes(&b, "\x00\x03\x00\x01\x00\x00\x00\x09\xff\xff",
	    "request header v1: null client_id");
	is_int(kp_req_header_decode(b.data, b.len, &g), 10, "null id back");
	ok(g.client_id.len == -1 && g.client_id.ptr == NULL, "null client_id");

	kp_buf_reset(&b);
	h = (struct kp_req_header){ KP_API_API_VERSIONS, 3, 1, { "c", 1 } };
	kp_req_header_encode(&b, &h);
	is_bytes(&b, "\x00\x12\x00\x03\x00\x00\x00\x01\x00\x01" "c" "\x00",
	    "request header v2: classic client_id then tags");
	is_int(kp_req_header_decode(b.data, b.len, &g), 12, "header v2 back");

	/* A v2 header carrying a tagged field decodes past it. */
	is_int(kp_req_header_decode((const uint8_t *)"\x00\x12\x00\x03"
	    "\x00\x00\x00\x01\x00\x01" "c" "\x01\x00\x02" "zz" "B", 17, &g), 16,
	    "header v2 with a tag: 16 bytes");
	is_int(kp_req_header_decode((const uint8_t *)"\x00\x12\x00\x03"
	    "\x00\x00\x00\x01\x00\x01" "c" "\x02\x03\x00\x01\x00", 16, &g), -1,
	    "header v2 with unordered tags is malformed");
	is_int(kp_req_header_decode((const uint8_t *)"\x00\x12\x00\x03"
	    "\x00\x00\x00\x01\xff\xfe", 10, &g), -1,
	    "client_id length -2 is malformed");
	is_int(kp_req_header_decode((const uint8_t *)"\x00\x12\x00\x03"
	    "\x00\x00\x00", 7, &g), 0, "7 bytes of header: need more");
	is_int(kp_req_header_decode((const uint8_t *)"\x00\x12\x00\x03"
	    "\x00\x00\x00\x01\x00\x05" "ab", 12, &g), 0,
	    "client_id cut short: need more");

	kp_buf_reset(&b);
	kp_resp_header_encode(&b, KP_API_API_VERSIONS, 3, 77);
	is_bytes(&b, "\x00\x00\x00\x4d", "ApiVersions v3 response: header v0");
	kp_buf_reset(&b);
	kp_resp_header_encode(&b, KP_API_METADATA, 4, 77);
	is_bytes(&b, "\x00\x00\x00\x4d", "Metadata v4 response: header v0");
	kp_buf_reset(&b);
	kp_resp_header_encode(&b, KP_API_METADATA, 9, 77);
	is_bytes(&b, "\x00\x00\x00\x4d\x00", "Metadata v9 response: header v1");
	is_int(kp_resp_header_decode(b.data, b.len, KP_API_METADATA, 9, &corr),
	    5, "response header v1 back");
	is_int(corr, 77, "response header v1 correlation id");
	is_int(kp_resp_header_decode(b.data, b.len, KP_API_API_VERSIONS, 3,
	    &corr), 4, "ApiVersions v3 response header reads 4 bytes");
	is_int(kp_resp_header_decode(b.data, 4, KP_API_METADATA, 9, &corr), 0,
	    "response header v1 without its tags: need more");
	is_int(kp_resp_header_decode((const uint8_t *)"\x00\x00\x00\x01\x02"
	    "\x01\x00\x00\x00", 9, KP_API_FETCH, 12, &corr), -1,
	    "response header v1 with unordered tags is malformed");
	kp_buf_release(&b);
}

static void
test_frames(void)
{
	static const uint8_t two[] = { 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0, 9 };
	const uint8_t *pl = NULL;
	size_t plen = 0, off;
	struct kp_buf b;
	int short_ok = 1;
	size_t n;

	for (n = 0; n < 6; n++)
		short_ok &= kp_frame_parse(two, n, 100, &pl, &plen) == 0;
	ok(short_ok, "every prefix of a 6-byte frame: need more");
	is_int(kp_frame_parse(two, sizeof(two), 100, &pl, &plen), 6,
	    "first of two frames: 6 bytes");
	ok(pl == two + 4 && plen == 2, "payload view points inside");
	is_int(kp_frame_parse(two + 6, 5, 100, &pl, &plen), 4,
	    "an empty frame is 4 bytes");
	is_int(plen, 0, "with an empty payload");
	is_int(kp_frame_parse(two, sizeof(two), 2, &pl, &plen), 6,
	    "size equal to max is allowed");
	is_int(kp_frame_parse(two, sizeof(two), 1, &pl, &plen), -1,
	    "size above max is malformed");
	is_int(kp_frame_parse(two, 4, 1, &pl, &plen), -1,
	    "size above max is malformed before the payload arrives");
	is_int(kp_frame_parse((const uint8_t *)"\xff\xff\xff\xff", 4, 100, &pl,
	    &plen), -1, "negative size is malformed");
	is_int(kp_frame_parse((const uint8_t *)"\x80\x00\x00\x00", 4, SIZE_MAX,
	    &pl, &plen), -1, "INT32_MIN size is malformed even without max");
	is_int(kp_frame_parse((const uint8_t *)"\x7f\xff\xff\xff", 4, SIZE_MAX,
	    &pl, &plen), 0, "INT32_MAX size under no max: need more");

	kp_buf_init(&b);
	kp_buf_put(&b, "pre", 3);
	off = kp_frame_begin(&b);
	kp_buf_put(&b, "abcde", 5);
	kp_frame_end(&b, off);
	is_bytes(&b, "pre\x00\x00\x00\x05" "abcde",
	    "frame_begin/end patch the size in");
	kp_buf_release(&b);
}

/* ---- golden bytes captured from real clients (tests/unit/fixtures) ---- */

struct fixture {
	const char	*name;
	uint8_t		*p;
	size_t		 len;
};

static struct fixture fixtures[] = {
	{ "kcat_apiversions_v3", NULL, 0 },
	{ "confluent_kafka_apiversions_v3", NULL, 0 },
	{ "kafka_python_apiversions_v0", NULL, 0 },
	{ "kafka_python_metadata_v0", NULL, 0 },
	{ "rdkafka_metadata_v4", NULL, 0 },
	{ "rdkafka_metadata_v4_all", NULL, 0 },
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex text, '#' lines are comments; the bytes go into an exact-size heap
 * block so ASan sees any read past the end. */
static int
load_fixture(struct fixture *f)
{
	char path[4096], line[512];
	const char *top = getenv("KP_TOP");
	uint8_t tmp[4096];
	size_t n = 0;
	int hi = -1, v;
	FILE *fp;
	char *c;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/%s.hex",
	    top ? top : ".", f->name);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#')
			continue;
		for (c = line; *c != '\0'; c++) {
			if (isspace((unsigned char)*c))
				continue;
			if ((v = hexval((unsigned char)*c)) < 0 ||
			    n == sizeof(tmp))
				goto fail;
			if (hi < 0) {
				hi = v;
			} else {
				tmp[n++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
	}
	if (hi >= 0 || n == 0 || (f->p = malloc(n)) == NULL)
		goto fail;
	memcpy(f->p, tmp, n);
	f->len = n;
	fclose(fp);
	return 0;
fail:
	fclose(fp);
	return -1;
}

static struct fixture *
fixture(const char *name)
{
	size_t i;

	for (i = 0; i < NFIXTURES; i++)
		if (strcmp(fixtures[i].name, name) == 0)
			return &fixtures[i];
	return NULL;
}

/*
 * Decode one captured frame field by field, then build it again from the
 * decoded values with the lib encoders: the bytes must come out the same.
 */
static void
check_request(const char *name, int16_t key, int16_t ver, int32_t corr,
    const char *client_id, size_t hdr_len)
{
	struct fixture *f = fixture(name);
	const uint8_t *pl;
	size_t plen, off;
	struct kp_req_header h;
	struct kp_reader r;
	struct kp_buf b;
	struct kp_str sw_name, sw_ver;
	int32_t n = 0, i;
	bool allow = false;

	if (f->p == NULL) {
		ok(0, "%s: fixture loads", name);
		return;
	}
	is_int(kp_frame_parse(f->p, f->len, 1 << 20, &pl, &plen),
	    (ssize_t)f->len, "%s: one whole frame of %zu bytes", name, f->len);
	is_int(kp_req_header_decode(f->p + 4, f->len - 4, &h), hdr_len,
	    "%s: header is %zu bytes", name, hdr_len);
	is_int(h.api_key, key, "%s: ApiKey %d", name, key);
	is_int(h.api_version, ver, "%s: ApiVersion %d", name, ver);
	is_int(h.correlation_id, corr, "%s: CorrelationId %d", name, corr);
	ok(kp_str_eq(&h.client_id, client_id), "%s: ClientId \"%s\"", name,
	    client_id);

	kp_buf_init(&b);
	off = kp_frame_begin(&b);
	kp_req_header_encode(&b, &h);
	ok(b.len - 4 == hdr_len && memcmp(b.data + 4, f->p + 4, hdr_len) == 0,
	    "%s: header re-encodes byte for byte", name);

	kp_reader_init(&r, f->p + 4 + hdr_len, f->len - 4 - hdr_len);
	if (key == KP_API_API_VERSIONS && ver >= 3) {
		kp_read_string_f(&r, true, &sw_name);
		kp_read_string_f(&r, true, &sw_ver);
		kp_read_tags_f(&r, true);
		ok(r.err == 0 && kp_reader_left(&r) == 0,
		    "%s: body is two compact strings and tags", name);
		kp_put_kstr_f(&b, true, &sw_name);
		kp_put_kstr_f(&b, true, &sw_ver);
		kp_put_tags_f(&b, true);
	} else if (key == KP_API_METADATA) {
		n = kp_read_array(&r, 2);
		for (i = 0; i < n && !r.err; i++)
			kp_read_string(&r, &sw_name);
		if (ver >= 4)
			allow = kp_read_bool(&r);
		ok(r.err == 0 && kp_reader_left(&r) == 0,
		    "%s: body is topics%s", name,
		    ver >= 4 ? " and AllowAutoTopicCreation" : "");
		kp_put_array(&b, n);
		if (ver >= 4)
			kp_put_bool(&b, allow);
	}
	kp_frame_end(&b, off);
	ok(b.err == 0 && b.len == f->len && memcmp(b.data, f->p, b.len) == 0,
	    "%s: whole frame re-encodes byte for byte", name);
	kp_buf_release(&b);

	if (key == KP_API_API_VERSIONS && ver >= 3) {
		if (strcmp(name, "kcat_apiversions_v3") == 0) {
			ok(kp_str_eq(&sw_name, "librdkafka"),
			    "%s: ClientSoftwareName librdkafka", name);
			ok(kp_str_eq(&sw_ver, "2.0.2"),
			    "%s: ClientSoftwareVersion 2.0.2", name);
		} else {
			ok(kp_str_eq(&sw_name, "confluent-kafka-python"),
			    "%s: ClientSoftwareName confluent-kafka-python",
			    name);
			ok(kp_str_eq(&sw_ver, "1.7.0-rdkafka-2.0.2"),
			    "%s: ClientSoftwareVersion 1.7.0-rdkafka-2.0.2",
			    name);
		}
	}
	if (strcmp(name, "rdkafka_metadata_v4") == 0)
		ok(n == 0 && !allow, "%s: brokers only: empty topics, no "
		    "auto-create", name);
	if (strcmp(name, "rdkafka_metadata_v4_all") == 0)
		ok(n == -1 && allow, "%s: all topics: null array, auto-create",
		    name);
	if (strcmp(name, "kafka_python_metadata_v0") == 0)
		ok(n == 0, "%s: v0 empty topics (= all)", name);
}

static void
test_fixtures(void)
{
	size_t i;
	int loaded = 0;

	for (i = 0; i < NFIXTURES; i++)
		loaded += load_fixture(&fixtures[i]) == 0;
	is_int(loaded, NFIXTURES, "all %zu fixtures load", NFIXTURES);

	check_request("kcat_apiversions_v3", 18, 3, 1, "rdkafka", 18);
	check_request("confluent_kafka_apiversions_v3", 18, 3, 1, "rdkafka",
	    18);
	check_request("kafka_python_apiversions_v0", 18, 0, 1,
	    "kafka-python-producer-1", 33);
	check_request("kafka_python_metadata_v0", 3, 0, 2,
	    "kafka-python-producer-1", 33);
	check_request("rdkafka_metadata_v4", 3, 4, 2, "rdkafka", 17);
	check_request("rdkafka_metadata_v4_all", 3, 4, 3, "rdkafka", 17);

	for (i = 0; i < NFIXTURES; i++) {
		struct kp_req_header h;

		if (fixtures[i].p != NULL)
			is_int(decode_request(fixtures[i].p, fixtures[i].len,
			    1 << 20, &h), fixtures[i].len,
			    "%s: whole-request walk accepts it",
			    fixtures[i].name);
	}
}

/* A copy in its own exact-size heap block, so ASan sees any overread. */
static uint8_t *
heap_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (c != NULL && n)
		memcpy(c, p, n);
	return c;
}

/*
 * Every strict prefix of every fixture: the frame reader wants more, and
 * the same prefix presented as a whole frame (size field rewritten) is
 * malformed or wants more, never accepted, never a crash.
 */
static void
test_truncations(void)
{
	size_t i, n, tried = 0, bad_frame = 0, bad_walk = 0, bad_hdr = 0;
	struct kp_req_header h;
	const uint8_t *pl;
	size_t plen;
	ssize_t rc;

	for (i = 0; i < NFIXTURES; i++) {
		struct fixture *f = &fixtures[i];
		ssize_t hl = f->p == NULL ? 0 :
		    kp_req_header_decode(f->p + 4, f->len - 4, &h);

		for (n = 0; f->p != NULL && n < f->len; n++) {
			uint8_t *c = heap_copy(f->p, n);

			tried++;
			bad_frame += kp_frame_parse(c, n, 1 << 20, &pl,
			    &plen) != 0;
			rc = decode_request(c, n, 1 << 20, &h);
			bad_walk += rc != 0;
			if (n >= 4) {
				kp_put_be32(c, (int32_t)(n - 4));
				rc = decode_request(c, n, 1 << 20, &h);
				bad_walk += rc != -1;
				/* A cut header is never taken as whole. */
				rc = kp_req_header_decode(c + 4, n - 4, &h);
				if (n - 4 < (size_t)hl)
					bad_hdr += rc != 0 && rc != -1;
				else
					bad_hdr += rc != hl;
			}
			free(c);
		}
	}
	ok(tried > 200, "%zu truncations tried", tried);
	is_int(bad_frame, 0, "every truncated frame: need more");
	is_int(bad_walk, 0, "every truncation as a whole frame: malformed");
	is_int(bad_hdr, 0,
	    "header decoder: cut headers 0 or -1, whole ones their length");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	/* xorshift64*: a fixed seed makes every run the same. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Damage a frame: flip bits, poke boundary values, cut, grow, or splice. */
static size_t
mutate(uint8_t *p, size_t len, size_t cap)
{
	static const uint8_t edge[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
	int k, rounds = 1 + (int)(rng() % 4);
	size_t at;

	for (k = 0; k < rounds && len > 0; k++) {
		at = rng() % len;
		switch (rng() % 6) {
		case 0:
			p[at] ^= (uint8_t)(1u << (rng() % 8));
			break;
		case 1:
			p[at] = edge[rng() % sizeof(edge)];
			break;
		case 2:
			p[at] = (uint8_t)rng();
			break;
		case 3:
			len = at + 1;
			break;
		case 4:
			if (len < cap) {
				memmove(p + at + 1, p + at, len - at);
				p[at] = edge[rng() % sizeof(edge)];
				len++;
			}
			break;
		default:
			memmove(p + at, p + at + 1, len - at - 1);
			len--;
			break;
		}
	}
	/* Mostly keep the size field honest so damage reaches the body. */
	if (len >= 4 && rng() % 4 != 0)
		kp_put_be32(p, (int32_t)(len - 4));
	return len;
}

static void
test_mutations(void)
{
	enum { ITER = 20000 };
	uint8_t work[512];
	size_t seen[3] = { 0, 0, 0 }, bad = 0, len;
	struct kp_req_header h, g;
	struct kp_buf b;
	ssize_t rc;
	int it;

	kp_buf_init(&b);
	for (it = 0; it < ITER; it++) {
		struct fixture *f = &fixtures[rng() % NFIXTURES];
		uint8_t *c;

		if (f->p == NULL || f->len > sizeof(work)) {
			bad++;
			continue;
		}
		memcpy(work, f->p, f->len);
		len = mutate(work, f->len, sizeof(work));
		c = heap_copy(work, len);
		rc = decode_request(c, len, 1 << 16, &h);
		if (rc == 0 || rc == -1) {
			seen[rc + 1]++;
		} else if (rc > 0 && (size_t)rc <= len) {
			seen[2]++;
			/* Accepted: the header must survive a round trip. */
			kp_buf_reset(&b);
			kp_req_header_encode(&b, &h);
			rc = kp_req_header_decode(b.data, b.len, &g);
			bad += rc != (ssize_t)b.len ||
			    g.api_key != h.api_key ||
			    g.api_version != h.api_version ||
			    g.correlation_id != h.correlation_id ||
			    g.client_id.len != h.client_id.len ||
			    (h.client_id.len > 0 && memcmp(g.client_id.ptr,
			    h.client_id.ptr, (size_t)h.client_id.len) != 0);
		} else {
			bad++;
		}
		free(c);
	}
	kp_buf_release(&b);
	is_int(bad, 0, "%d mutated frames: 0, -1 or a whole frame",
	    ITER);
	ok(seen[0] > 100 && seen[1] > 100 && seen[2] > 100,
	    "mutations reach every outcome (malformed %zu, need more %zu, "
	    "accepted %zu)", seen[0], seen[1], seen[2]);
}

int
main(void)
{
	size_t i;

	test_varint_golden();
	test_varint_sweep();
	test_varint_invalid();
	test_bool_uuid();
	test_strings();
	test_bytes();
	test_arrays();
	test_tags();
	test_api_table();
	test_headers();
	test_frames();
	test_fixtures();
	test_truncations();
	test_mutations();
	for (i = 0; i < NFIXTURES; i++)
		free(fixtures[i].p);
	return tap_done();
}
