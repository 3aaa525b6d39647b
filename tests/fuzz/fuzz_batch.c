/* fuzz_batch.c -- libFuzzer harness: batch header decode, validate, iterate */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "../unit/batch_walk_ref.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The fast record walk against the old one (batch_walk_ref.h), on the
 * input re-framed and re-signed so the CRC lets mutants through to it.
 */
static void
differ(const uint8_t *data, size_t size)
{
	uint8_t *c;
	int64_t a = 7, r = 7;
	int ea, er;

	if (size < KP_BATCH_HEADER_SIZE || (c = malloc(size)) == NULL)
		return;
	memcpy(c, data, size);
	kp_put_be32(c + KP_BATCH_OFF_LENGTH,
	    (int32_t)(size - KP_BATCH_LOG_OVERHEAD));
	kp_batch_crc_store(c, size);
	ea = kp_batch_validate_ts(c, size, 1 << 20, &a);
	er = ref_validate_ts(c, size, 1 << 20, &r);
	if (ea != er || a != r)
		abort();
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record rec;
	struct kp_record_header_iter hi;
	struct kp_record_header rh;
	volatile size_t sum = 0;
	ssize_t n;

	n = kp_batch_header_decode(data, size, &h);
	if (n > 0 && (size_t)n <= size)
		(void)kp_batch_validate(data, (size_t)n, 1 << 20);
	differ(data, size);
	/* the iterator does not check the CRC, so it meets every mutant */
	if (kp_batch_iter_init(&it, data, size, 1 << 20) == 0) {
		while (kp_batch_iter_next(&it, &rec) == 1) {
			if (rec.key.len > 0)
				sum += rec.key.ptr[rec.key.len - 1];
			if (rec.value.len > 0)
				sum += rec.value.ptr[rec.value.len - 1];
			kp_record_header_iter_init(&hi, &rec);
			while (kp_record_header_next(&hi, &rh) == 1)
				if (rh.value.len > 0)
					sum += rh.value.ptr[rh.value.len - 1];
		}
	}
	kp_batch_iter_release(&it);
	return 0;
}
