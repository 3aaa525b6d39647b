/* test_kp_buf.c -- growable buffer and bounds-checked reader */
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

int
main(void)
{
	test_round_trip();
	test_growth_and_consume();
	return tap_done();
}
