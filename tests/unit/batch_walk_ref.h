/* batch_walk_ref.h -- the record walk of kp_batch_validate_ts before its fast path, for differential tests */
#ifndef BATCH_WALK_REF_H
#define BATCH_WALK_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_batch.h"
#include "kp_compress.h"
#include "kp_err.h"
#include "kp_wire.h"

/*
 * The spec: kp_batch_validate_ts and the walk under it as they were
 * before the fast path (git 82ca022, lib/kp_batch.c), but reading with
 * kp_wire's varint readers (the same acceptance) where the lib inlines
 * its own: a second implementation, not a copy of the lib's. Every
 * input must get the same answer from both: the same error, the same
 * max timestamp.
 */
#define REF_RECORD_MIN_SIZE	7

static inline int64_t
ref_add64(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* A nullable length-prefixed field (key, value, header value). */
static inline void
ref_skip_bytes(struct kp_reader *r, int32_t min)
{
	int32_t n = kp_read_varint(r);

	if (!r->err && n < min)
		kp_reader_fail(r, KP_EBAD);
	else if (n > 0)
		(void)kp_reader_take(r, (size_t)n);
}

/*
 * One pass over uncompressed records, checking what kp_batch_iter_next
 * and kp_record_header_next check (lengths, offset deltas, varints,
 * headers filling each record exactly, nothing after the last record),
 * without building records: 0 or -1. *max_ts gets the largest timestamp.
 */
static inline int
ref_records_check(const struct kp_batch_header *h, const uint8_t *p, size_t len,
    int64_t *max_ts)
{
	struct kp_reader r;
	bool lat = h->attributes & KP_BATCH_ATTR_LOG_APPEND_TIME;
	int64_t best = h->max_timestamp;
	int32_t next_delta = 0;

	/* never trust the count beyond what the bytes can hold */
	if (h->records_count < 0 ||
	    (size_t)h->records_count > len / REF_RECORD_MIN_SIZE)
		return -1;
	if (h->records_count == 0)	/* p may be NULL: an empty inflate */
		return len == 0 ? 0 : -1;
	kp_reader_init(&r, p, len);
	for (int32_t i = 0; i < h->records_count; i++) {
		struct kp_reader rec;
		const uint8_t *body;
		int32_t rlen, od, hc;
		int64_t tsd;

		rlen = kp_read_varint(&r);
		if (r.err || rlen < REF_RECORD_MIN_SIZE - 1 ||
		    (body = kp_reader_take(&r, (size_t)rlen)) == NULL)
			return -1;
		kp_reader_init(&rec, body, (size_t)rlen);
		(void)kp_read_i8(&rec);		/* attributes */
		tsd = kp_read_varlong(&rec);
		od = kp_read_varint(&rec);
		if (rec.err || od < next_delta || od > h->last_offset_delta)
			return -1;
		ref_skip_bytes(&rec, -1);		/* key */
		ref_skip_bytes(&rec, -1);		/* value */
		hc = kp_read_varint(&rec);
		if (rec.err || hc < 0 || (size_t)hc > kp_reader_left(&rec) / 2)
			return -1;
		for (; hc > 0 && !rec.err; hc--) {	/* a null key is invalid */
			ref_skip_bytes(&rec, 0);
			ref_skip_bytes(&rec, -1);
		}
		if (rec.err || kp_reader_left(&rec) != 0)
			return -1;
		next_delta = od + 1;
		if (!lat) {
			int64_t ts = ref_add64(h->base_timestamp, tsd);

			if (i == 0 || ts > best)
				best = ts;
		}
	}
	if (kp_reader_left(&r) != 0)
		return -1;
	*max_ts = best;
	return 0;
}

static inline int
ref_validate_ts(const uint8_t *p, size_t len, size_t max_uncompressed,
    int64_t *max_ts)
{
	struct kp_batch_header h;
	struct kp_buf scratch;
	ssize_t n;
	int e;

	n = kp_batch_header_decode(p, len, &h);
	if (n <= 0 || (size_t)n != len)
		return KP_CORRUPT_MESSAGE;
	*max_ts = h.max_timestamp;
	if (!kp_batch_crc_ok(p, len))
		return KP_CORRUPT_MESSAGE;
	if (kp_batch_codec(&h) > KP_CODEC_ZSTD)
		return KP_UNSUPPORTED_COMPRESSION_TYPE;
	/*
	 * As Kafka's LogValidator: the count must match the offset span, so
	 * the broker can assign offsets from the header even for codecs it
	 * cannot open.
	 */
	if (h.records_count <= 0 || h.last_offset_delta < 0 ||
	    h.records_count - 1 != h.last_offset_delta)
		return KP_INVALID_RECORD;
	switch (kp_batch_codec(&h)) {
	case KP_CODEC_NONE:
		return ref_records_check(&h, p + KP_BATCH_HEADER_SIZE,
		    len - KP_BATCH_HEADER_SIZE, max_ts) == 0 ? 0 :
		    KP_INVALID_RECORD;
	case KP_CODEC_GZIP:
		kp_buf_init(&scratch);
		e = kp_gzip_decompress(p + KP_BATCH_HEADER_SIZE,
		    len - KP_BATCH_HEADER_SIZE, max_uncompressed, &scratch) != 0 ||
		    ref_records_check(&h, scratch.data, scratch.len, max_ts) != 0 ?
		    KP_INVALID_RECORD : 0;
		kp_buf_release(&scratch);
		return e;
	default:
		return 0;	/* snappy, lz4, zstd: kept and served as is */
	}
}

#endif
