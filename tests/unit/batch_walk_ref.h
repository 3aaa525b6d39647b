/* batch_walk_ref.h -- the record walk of kp_batch_validate_ts before its fast path, for differential tests */
#ifndef BATCH_WALK_REF_H
#define BATCH_WALK_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_batch.h"
#include "kp_compress.h"
#include "kp_err.h"

/*
 * The spec: kp_batch_validate_ts and the walk under it as they were
 * before the fast path (git 82ca022, lib/kp_batch.c), copied unchanged
 * but for the ref_ names. Every input must get the same answer from
 * both: the same error, the same max timestamp.
 */
#define REF_RECORD_MIN_SIZE	7

static inline int64_t
ref_add64(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int
ref_get_varint(const uint8_t **pp, const uint8_t *end, int32_t *v)
{
	const uint8_t *p = *pp;
	uint32_t u = 0;
	unsigned i;

	if (end - p >= 2) {	/* one or two bytes: nearly every field */
		if (p[0] < 0x80) {
			u = p[0];
			*pp = p + 1;
			goto done;
		}
		if (p[1] < 0x80) {
			u = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
			*pp = p + 2;
			goto done;
		}
	}
	for (i = 0; i < 5; i++) {
		uint8_t b;

		if (p >= end)
			return -1;
		b = *p++;
		if (i == 4 && b > 0x0f)	/* beyond 32 bits, or a 6th byte */
			return -1;
		u |= (uint32_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0)
			break;
	}
	*pp = p;
done:
	*v = (int32_t)((u >> 1) ^ -(u & 1));
	return 0;
}

static inline int
ref_get_varlong(const uint8_t **pp, const uint8_t *end, int64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t u = 0;
	unsigned i;

	if (end - p >= 2) {
		if (p[0] < 0x80) {
			u = p[0];
			*pp = p + 1;
			goto done;
		}
		if (p[1] < 0x80) {
			u = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
			*pp = p + 2;
			goto done;
		}
	}
	for (i = 0; i < 10; i++) {
		uint8_t b;

		if (p >= end)
			return -1;
		b = *p++;
		if (i == 9 && b > 1)	/* beyond 64 bits, or an 11th byte */
			return -1;
		u |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0)
			break;
	}
	*pp = p;
done:
	*v = (int64_t)((u >> 1) ^ -(u & 1));
	return 0;
}

/* A nullable length-prefixed field (key, value, header value). */
static inline int
ref_skip_bytes(const uint8_t **pp, const uint8_t *end, int32_t min)
{
	int32_t n;

	if (ref_get_varint(pp, end, &n) < 0 || n < min)
		return -1;
	if (n > 0) {
		if ((size_t)n > (size_t)(end - *pp))
			return -1;
		*pp += n;
	}
	return 0;
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
	const uint8_t *end;
	bool lat = h->attributes & KP_BATCH_ATTR_LOG_APPEND_TIME;
	int64_t best = h->max_timestamp;
	int32_t next_delta = 0;

	/* never trust the count beyond what the bytes can hold */
	if (h->records_count < 0 ||
	    (size_t)h->records_count > len / REF_RECORD_MIN_SIZE)
		return -1;
	if (h->records_count == 0)	/* p may be NULL: an empty inflate */
		return len == 0 ? 0 : -1;
	end = p + len;
	/*
	 * The next record starts at rend whatever its fields say, so the
	 * walk to it depends on the length varint alone: the field parse,
	 * a dozen dependent loads, runs off that chain (q), overlapping the
	 * next records'.
	 */
	for (int32_t i = 0; i < h->records_count; i++) {
		const uint8_t *rend, *q;
		int32_t rlen, od, hc;
		int64_t tsd;

		if (ref_get_varint(&p, end, &rlen) < 0 ||
		    rlen < REF_RECORD_MIN_SIZE - 1 ||
		    (size_t)rlen > (size_t)(end - p))
			return -1;
		rend = p + rlen;
		q = p + 1;	/* attributes: rlen >= 6 holds it */
		p = rend;
		if (ref_get_varlong(&q, rend, &tsd) < 0 ||
		    ref_get_varint(&q, rend, &od) < 0 || od < next_delta ||
		    od > h->last_offset_delta)
			return -1;
		if (ref_skip_bytes(&q, rend, -1) < 0 ||	/* key */
		    ref_skip_bytes(&q, rend, -1) < 0 ||	/* value */
		    ref_get_varint(&q, rend, &hc) < 0 || hc < 0 ||
		    (size_t)hc > (size_t)(rend - q) / 2)
			return -1;
		for (; hc > 0; hc--)	/* a null header key is invalid */
			if (ref_skip_bytes(&q, rend, 0) < 0 ||
			    ref_skip_bytes(&q, rend, -1) < 0)
				return -1;
		if (q != rend)
			return -1;
		next_delta = od + 1;
		if (!lat) {
			int64_t ts = ref_add64(h->base_timestamp, tsd);

			if (i == 0 || ts > best)
				best = ts;
		}
	}
	if (p != end)
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
