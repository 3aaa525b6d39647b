/* test_kp_buf.c -- growable buffer and bounds-checked reader */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "kp_buf.h"
#include "tap.h"

static void
test_round_trip(void)
{
	struct kp_buf b;
	struct kp_reader r;

	kp_buf_init(&b);
	kp_buf_put_i8(&b, -2);
	kp_buf_put_i16(&b, -12345);
	kp_buf_put_i32(&b, 0x12345678);
	kp_buf_put_i64(&b, -0x123456789abcdefLL);
	kp_buf_put_u32(&b, 0xdeadbeefu);
	ok(b.err == 0 && b.len == 19, "encodes 19 bytes");
	is_mem(b.data + 3, "\x12\x34\x56\x78", 4, "int32 is big-endian");

	kp_reader_init(&r, b.data, b.len);
	is_int(kp_read_i8(&r), -2, "int8 round trip");
	is_int(kp_read_i16(&r), -12345, "int16 round trip");
	is_int(kp_read_i32(&r), 0x12345678, "int32 round trip");
	is_int(kp_read_i64(&r), -0x123456789abcdefLL, "int64 round trip");
	is_int(kp_read_u32(&r), 0xdeadbeefu, "uint32 round trip");
	is_int(r.err, KP_OK, "no error after exact read");
	is_int(kp_read_i8(&r), 0, "read past end returns zero");
	is_int(r.err, KP_ESHORT, "read past end is KP_ESHORT");
	kp_buf_release(&b);
}

static void
test_growth_and_consume(void)
{
	struct kp_buf b;
	int i, good = 1;

	kp_buf_init(&b);
	for (i = 0; i < 100000; i++)
		kp_buf_put_i32(&b, i);
	ok(b.len == 400000 && b.err == 0, "grows to 400000 bytes");
	kp_buf_consume(&b, 4 * 99990);
	for (i = 0; i < 10; i++)
		good &= kp_be32(b.data + 4 * i) == 99990 + i;
	ok(good && b.len == 40, "consume keeps the tail in order");
	kp_buf_set_i32(&b, 0, 7);
	is_int(kp_be32(b.data), 7, "set_i32 patches in place");
	kp_buf_release(&b);
}

/* Every fixed-width integer at its limits, checked against literal bytes. */
static void
test_limits(void)
{
	static const uint8_t want[] = {
		0x80, 0x7f,				/* int8 min, max */
		0x80, 0x00, 0x7f, 0xff,			/* int16 min, max */
		0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff,
		0x80, 0, 0, 0, 0, 0, 0, 0,		/* int64 min */
		0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xfe,				/* int16 -2 */
	};
	struct kp_buf b;
	struct kp_reader r;

	kp_buf_init(&b);
	kp_buf_put_i8(&b, INT8_MIN);
	kp_buf_put_i8(&b, INT8_MAX);
	kp_buf_put_i16(&b, INT16_MIN);
	kp_buf_put_i16(&b, INT16_MAX);
	kp_buf_put_i32(&b, INT32_MIN);
	kp_buf_put_i32(&b, INT32_MAX);
	kp_buf_put_i64(&b, INT64_MIN);
	kp_buf_put_i64(&b, INT64_MAX);
	kp_buf_put_u32(&b, UINT32_MAX);
	kp_buf_put_u32(&b, 0);
	kp_buf_put_i16(&b, -2);
	is_int(b.len, sizeof(want), "limits: %zu bytes", sizeof(want));
	ok(b.len == sizeof(want) && memcmp(b.data, want, b.len) == 0,
	    "limits: big-endian two's complement bytes");

	kp_reader_init(&r, want, sizeof(want));
	is_int(kp_read_i8(&r), INT8_MIN, "read int8 min");
	is_int(kp_read_i8(&r), INT8_MAX, "read int8 max");
	is_int(kp_read_i16(&r), INT16_MIN, "read int16 min");
	is_int(kp_read_i16(&r), INT16_MAX, "read int16 max");
	is_int(kp_read_i32(&r), INT32_MIN, "read int32 min");
	is_int(kp_read_i32(&r), INT32_MAX, "read int32 max");
	ok(kp_read_i64(&r) == INT64_MIN, "read int64 min");
	ok(kp_read_i64(&r) == INT64_MAX, "read int64 max");
	ok(kp_read_u32(&r) == UINT32_MAX, "read uint32 max");
	ok(kp_read_u32(&r) == 0, "read uint32 zero");
	is_int(kp_read_i16(&r), -2, "read int16 -2");
	is_int(kp_reader_left(&r), 0, "limits: all consumed");
	is_int(r.err, KP_OK, "limits: no error");

	is_int(kp_be16((const uint8_t *)"\xff\xfe"), -2, "kp_be16 sign");
	is_int(kp_be32((const uint8_t *)"\xff\xff\xff\xfe"), -2,
	    "kp_be32 sign");
	ok(kp_be64((const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08") ==
	    0x0102030405060708LL, "kp_be64 order");
	kp_buf_release(&b);
}

/*
 * Short reads stick as KP_ESHORT, KP_EBAD is never overwritten, and a
 * failed read does not move the offset.
 */
static void
test_reader_errors(void)
{
	static const uint8_t three[] = { 1, 2, 3 };
	struct kp_reader r;
	const uint8_t *p;

	kp_reader_init(&r, three, sizeof(three));
	is_int(kp_reader_left(&r), 3, "left counts all bytes");
	p = kp_reader_take(&r, 2);
	ok(p == three, "take borrows from the input");
	is_int(kp_read_i16(&r), 0, "int16 over 1 byte reads zero");
	is_int(r.err, KP_ESHORT, "int16 over 1 byte is KP_ESHORT");
	is_int(r.off, 2, "failed read does not advance");
	is_int(kp_reader_left(&r), 0, "left is 0 after an error");
	ok(kp_reader_take(&r, 0) == NULL, "take after an error is NULL");
	is_int(kp_reader_fail(&r, KP_EBAD), KP_ESHORT,
	    "fail keeps the first error");

	kp_reader_init(&r, three, sizeof(three));
	is_int(kp_reader_fail(&r, KP_EBAD), KP_EBAD, "fail sets KP_EBAD");
	is_int(kp_read_i8(&r), 0, "reads after KP_EBAD return zero");
	is_int(r.err, KP_EBAD, "KP_EBAD survives a later short read");

	kp_reader_init(&r, three, sizeof(three));
	ok(kp_reader_take(&r, 4) == NULL && r.err == KP_ESHORT,
	    "take beyond the end is KP_ESHORT");
	kp_reader_init(&r, three, sizeof(three));
	ok(kp_reader_take(&r, SIZE_MAX) == NULL && r.err == KP_ESHORT,
	    "take of SIZE_MAX does not wrap");

	kp_reader_init(&r, NULL, 5);
	is_int(kp_reader_left(&r), 0, "a NULL input is empty");
	ok(kp_reader_take(&r, 0) != NULL, "zero-length view of NULL input");
	is_int(r.err, KP_OK, "zero-length take is no error");
	ok(kp_read_i8(&r) == 0 && r.err == KP_ESHORT, "NULL input is short");
}

static void
test_buf_edges(void)
{
	struct kp_buf b;
	uint8_t *p;
	size_t n;

	kp_buf_init(&b);
	p = kp_buf_extend(&b, 0);
	ok(p != NULL && b.len == 0 && b.err == 0,
	    "extend by 0 on an empty buffer gives a real pointer");
	kp_buf_put(&b, NULL, 0);
	is_int(b.len, 0, "put of nothing adds nothing");
	kp_buf_put(&b, "abcdef", 6);
	kp_buf_consume(&b, 100);
	is_int(b.len, 0, "consume past the end empties");
	kp_buf_put(&b, "xyz", 3);
	kp_buf_set_i32(&b, 0, 1);
	is_mem(b.data, "xyz", 3, "set_i32 past the end is ignored");

	is_int(kp_buf_reserve(&b, SIZE_MAX - 8), -1, "huge reserve fails");
	is_int(b.err, ENOMEM, "huge reserve sets ENOMEM");
	kp_buf_put_i32(&b, 7);
	is_int(b.len, 3, "puts after an error are no-ops");
	ok(kp_buf_extend(&b, 1) == NULL, "extend after an error is NULL");
	kp_buf_reset(&b);
	ok(b.err == 0 && b.len == 0, "reset clears err and len");
	kp_buf_put_i16(&b, 0x0102);
	is_mem(b.data, "\x01\x02", 2, "usable after reset");

	p = kp_buf_steal(&b, &n);
	ok(p != NULL && n == 2 && memcmp(p, "\x01\x02", 2) == 0,
	    "steal hands over the bytes");
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "steal empties");
	free(p);
	kp_buf_release(&b);
	kp_buf_release(&b);
	ok(b.data == NULL, "release twice is safe");
}

int
main(void)
{
	test_round_trip();
	test_growth_and_consume();
	test_limits();
	test_reader_errors();
	test_buf_edges();
	return tap_done();
}
