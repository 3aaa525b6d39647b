/* fuzz_proto.c -- libFuzzer harness for every kp_proto request decoder */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_proto.h"
#include "kp_proto_consumer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Input: int16 api key, int16 version, then the body. A key we do not
 * speak picks a table entry by index, so no input is wasted; bit 15 of the
 * version selects the response decoder instead (clients decode responses
 * from a broker they may not trust). Whatever decodes must encode again
 * and decode to an equal message.
 */
static void
check(const struct kp_msg *m, int16_t v, const uint8_t *p, size_t len)
{
	struct kp_arena a;
	struct kp_buf b;
	void *x = malloc(m->size), *y = malloc(m->size);

	kp_arena_init(&a);
	kp_buf_init(&b);
	if (kp_proto_decode(p, len, m, v, x, &a) == 0) {
		if (kp_proto_encode(&b, m, v, x) != 0 || b.err)
			abort();
		if (kp_proto_decode(b.data, b.len, m, v, y, &a) != 0 ||
		    !kp_proto_equal(m, v, x, y))
			abort();
	}
	kp_buf_release(&b);
	kp_arena_release(&a);
	free(x);
	free(y);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct kp_proto_api *api;
	const struct kp_msg *m;
	uint16_t key, ver;
	struct kp_arena a;
	struct kp_consumer_subscription s;
	struct kp_consumer_assignment as;

	if (len < 4)
		return 0;
	key = (uint16_t)(data[0] << 8 | data[1]);
	ver = (uint16_t)(data[2] << 8 | data[3]);
	if ((api = kp_proto_api_find((int16_t)key)) == NULL)
		api = &kp_proto_apis[key % kp_proto_napis];
	m = (ver & 0x8000) ? api->resp : api->req;
	ver &= 0x7fff;
	check(m, (int16_t)(ver % (m->vmax + 1)), data + 4, len - 4);

	/* The bytes inside JoinGroup and SyncGroup, version included. */
	kp_arena_init(&a);
	if (key & 1)
		kp_consumer_assignment_decode(data + 4, len - 4, NULL, &as, &a);
	else
		kp_consumer_subscription_decode(data + 4, len - 4, NULL, &s,
		    &a);
	kp_arena_release(&a);
	return 0;
}
