/* fuzz_pstate_snap.c -- libFuzzer harness: producer state snapshot files */
#include <stdlib.h>
#include <string.h>

#include "kp_crc32c.h"
#include "kp_pstate_snap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Whatever the bytes, open never reads out of bounds; when it accepts
 * them, next hands out exactly count sane entries, and encoding those
 * again gives the same bytes (older versions come back as the current one,
 * longer by the fields they lack).
 */
static void
check(const uint8_t *data, size_t size)
{
	struct kp_pstate_snap_reader sr;
	struct kp_pstate_snap_entry e;
	struct kp_buf b;
	int32_t n = 0;

	if (kp_pstate_snap_open(&sr, data, size) == -1) {
		if (sr.why == NULL)
			abort();
		return;
	}
	kp_buf_init(&b);
	kp_pstate_snap_begin(&b, sr.end_offset);
	while (kp_pstate_snap_next(&sr, &e) == 1) {
		if (e.pid < 0 || e.n < 0 || e.n > KP_PSTATE_SNAP_KEEP ||
		    e.txn_first < -1 || e.coord_epoch < -1 ||
		    (sr.version == 1 && e.txn_first != -1) ||
		    (sr.version < 3 && e.coord_epoch != -1))
			abort();
		kp_pstate_snap_add(&b, &e);
		n++;
	}
	if (n != sr.count || kp_pstate_snap_finish(&b) == -1)
		abort();
	if (sr.version == KP_PSTATE_SNAP_VERSION && (b.len != size ||
	    memcmp(b.data, data, size) != 0))
		abort();
	if (sr.version == 1 && b.len != size + (size_t)n * 12)
		abort();
	if (sr.version == 2 && b.len != size + (size_t)n * 4)
		abort();
	kp_buf_release(&b);
}

/* The bytes as they are, then re-signed so the structure is reached. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	check(data, size);
	if (size < 6 || (copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	kp_put_be32(copy + 2, (int32_t)kp_crc32c(0, copy + 6, size - 6));
	check(copy, size);
	free(copy);
	return 0;
}
