/* test_kp_txn.c -- the read_committed filter: which batches of a fetch answer a consumer drops */
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_txn.h"
#include "tap.h"

/*
 * A partition's log as a broker returns it: data batches of several
 * producers, transactional or not, and the control batches (markers)
 * that end their transactions. Offsets are consecutive, one record per
 * batch.
 */
struct spec {
	int64_t	 pid;
	bool	 txn;
	int	 marker;	/* -1 data, KP_CONTROL_ABORT, KP_CONTROL_COMMIT */
	char	 value;
};

static void
put_batch(struct kp_buf *out, int64_t offset, const struct spec *s)
{
	struct kp_batch_builder bb;
	uint8_t k[4] = { 0, 0, 0, (uint8_t)s->marker }, v[6] = { 0 };
	size_t at = out->len;

	kp_batch_builder_init(&bb, KP_CODEC_NONE, s->pid, 0, 0);
	if (s->txn)
		bb.attributes |= KP_BATCH_ATTR_TRANSACTIONAL;
	if (s->marker >= 0) {
		bb.attributes |= KP_BATCH_ATTR_CONTROL;
		kp_batch_builder_add(&bb, 1000, k, 4, v, 6, NULL, 0);
	} else
		kp_batch_builder_add(&bb, 1000, NULL, -1, &s->value, 1, NULL,
		    0);
	kp_batch_builder_finish(&bb, out);
	kp_batch_builder_release(&bb);
	/* the broker assigns offsets */
	for (int i = 0; i < 8; i++)
		out->data[at + (size_t)i] = (uint8_t)(offset >> (56 - 8 * i));
}

/* The values of the batches the filter keeps, in order. */
static void
kept(const struct spec *log, size_t n, int64_t base,
    const struct kp_fetch_resp_aborted_transaction *ab, int32_t nab,
    char *got)
{
	struct kp_txn_filter f;
	struct kp_batch_header h;
	struct kp_buf buf;
	size_t i, off = 0;
	ssize_t total;

	kp_buf_init(&buf);
	for (i = 0; i < n; i++)
		put_batch(&buf, base + (int64_t)i, &log[i]);
	kp_txn_filter_init(&f);
	kp_txn_filter_set(&f, ab, nab);
	*got = '\0';
	while (off < buf.len) {
		total = kp_batch_header_decode(buf.data + off, buf.len - off,
		    &h);
		if (total <= 0)
			break;
		if (!kp_txn_filter_skip(&f, &h, buf.data + off,
		    (size_t)total)) {
			i = (size_t)(h.base_offset - base);
			strncat(got, &log[i].value, 1);
		}
		off += (size_t)total;
	}
	kp_txn_filter_release(&f);
	kp_buf_release(&buf);
}

int
main(void)
{
	static const struct spec log[] = {
		{ 1, true, -1, 'a' },			/* 0 aborted below */
		{ 2, true, -1, 'b' },			/* 1 committed */
		{ 3, false, -1, 'c' },			/* 2 not transactional */
		{ 1, true, -1, 'd' },			/* 3 aborted */
		{ 1, true, KP_CONTROL_ABORT, 'X' },	/* 4 */
		{ 2, true, KP_CONTROL_COMMIT, 'Y' },	/* 5 */
		{ 1, true, -1, 'e' },			/* 6 pid 1 again */
		{ 4, true, -1, 'f' },			/* 7 */
		{ 1, true, KP_CONTROL_COMMIT, 'Z' },	/* 8 */
		{ 4, true, KP_CONTROL_ABORT, 'W' },	/* 9 */
	};
	/* unsorted, as nothing promises the order */
	struct kp_fetch_resp_aborted_transaction ab[] = {
		{ 4, 7 }, { 1, 0 },
	}, ab2[] = {
		{ 1, 0 }, { 1, 6 },
	}, mid[] = {
		{ 1, -5 },
	};
	char got[32];

	kept(log, 10, 0, NULL, 0, got);
	ok(strcmp(got, "abcdef") == 0,
	    "read_uncommitted: every data batch, no control batch (%s)", got);
	kept(log, 10, 0, NULL, -1, got);
	ok(strcmp(got, "abcdef") == 0, "a null aborted list is none (%s)",
	    got);
	kept(log, 10, 0, ab, 2, got);
	ok(strcmp(got, "bce") == 0,
	    "aborted transactions dropped; pid 1's next one kept after its "
	    "ABORT marker (%s)", got);
	kept(log, 10, 0, ab2, 2, got);
	ok(strcmp(got, "bcf") == 0,
	    "the same producer aborting twice: both dropped (%s)", got);
	/* an answer that starts inside an aborted transaction */
	kept(log, 10, 0, mid, 1, got);
	ok(strcmp(got, "bcef") == 0,
	    "a transaction begun before the fetched range is dropped from "
	    "the first batch on (%s)", got);
	/* the markers must be followed: the same list, read in two answers */
	kept(log, 5, 0, ab, 2, got);
	ok(strcmp(got, "bc") == 0, "first half (%s)", got);
	kept(log + 5, 5, 5, ab + 0, 1, got);
	ok(strcmp(got, "e") == 0,
	    "second half: only what overlaps it is listed (%s)", got);
	{
		struct kp_txn_filter f;
		struct kp_fetch_resp_aborted_transaction many[64];

		for (int i = 0; i < 64; i++) {
			many[i].producer_id = i;
			many[i].first_offset = 64 - i;
		}
		kp_txn_filter_init(&f);
		ok(kp_txn_filter_set(&f, many, 64) == 0 && f.nab == 64 &&
		    f.ab[0].first_offset == 1 && f.ab[63].first_offset == 64,
		    "a long list is copied and sorted by first offset");
		ok(kp_txn_filter_set(&f, many, 2) == 0 && f.nab == 2 &&
		    f.nactive == 0, "set again: the previous state is gone");
		kp_txn_filter_release(&f);
	}
	ok(!kp_txn_kerr_fatal(KP_CONCURRENT_TRANSACTIONS) &&
	    kp_txn_kerr_fatal(KP_PRODUCER_FENCED) &&
	    kp_txn_kerr_fatal(KP_INVALID_PRODUCER_EPOCH),
	    "fencing errors are fatal, CONCURRENT_TRANSACTIONS is not");
	return tap_done();
}
