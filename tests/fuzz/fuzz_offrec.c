/* fuzz_offrec.c -- libFuzzer harness: __consumer_offsets key/value records, offsets and group membership */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kp_grouprec.h"
#include "kp_offrec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The first byte splits the input into key and value; 0xff: null value. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kp_offrec r;
	struct kp_grouprec gr;
	const uint8_t *v;
	ssize_t vlen;
	size_t k;

	if (size < 1)
		return 0;
	k = data[0] % size;
	data++;
	size--;
	if (k > size)
		k = size;
	v = data[-1] == 0xff ? NULL : data + k;
	vlen = data[-1] == 0xff ? -1 : (ssize_t)(size - k);
	(void)kp_offrec_parse(data, k, v, vlen, &r);
	(void)kp_grouprec_parse(data, k, v, vlen, &gr);
	kp_grouprec_release(&gr);
	return 0;
}
