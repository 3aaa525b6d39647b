/* fuzz_txnindex.c -- libFuzzer harness: aborted transaction index files */
#include <stdlib.h>
#include <string.h>

#include "kp_txnindex.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Whatever the bytes, loading takes a prefix of whole entries, each one
 * valid and with its marker after the previous one's, stops only where
 * the next entry is not such a one, and encoding the entries again gives
 * exactly that prefix. Truncating then keeps the entries before the cut.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_txnindex x;
	struct kp_txn_entry e;
	uint8_t p[KP_TXNINDEX_ENTRY];
	ssize_t took;
	int64_t cut;
	size_t keep = 0;

	memset(&x, 0, sizeof(x));
	x.fd = -1;
	x.rdonly = true;
	took = kp_txnindex_load(&x, data, size);
	if (took < 0)
		return 0;	/* ENOMEM */
	if ((size_t)took > size || took % KP_TXNINDEX_ENTRY != 0 ||
	    x.n != (size_t)took / KP_TXNINDEX_ENTRY)
		abort();
	for (size_t i = 0; i < x.n; i++) {
		kp_txnindex_encode(p, &x.e[i]);
		if (memcmp(p, data + i * KP_TXNINDEX_ENTRY, sizeof(p)) != 0 ||
		    x.e[i].pid < 0 || x.e[i].first_offset > x.e[i].last_offset ||
		    (i > 0 && x.e[i].last_offset <= x.e[i - 1].last_offset))
			abort();
		if (!kp_txnindex_has(&x, x.e[i].last_offset))
			abort();
	}
	if (kp_txnindex_decode(data + took, size - (size_t)took, &e) > 0 &&
	    (x.n == 0 || e.last_offset > x.e[x.n - 1].last_offset))
		abort();	/* stopped before a good entry */
	cut = x.n > 0 ? x.e[x.n / 2].last_offset : 0;
	while (keep < x.n && x.e[keep].last_offset < cut)
		keep++;
	if (kp_txnindex_truncate(&x, cut) != 0 || x.n != keep)
		abort();
	kp_txnindex_close(&x);
	return 0;
}
