/* kp_batch.c -- record batch v2 (magic 2): header, validation, records, builder */
#include <errno.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_compress.h"
#include "kp_crc32c.h"
#include "kp_err.h"

/* length, attributes, timestampDelta, offsetDelta, key, value, headers */
#define RECORD_MIN_SIZE	7

/* Wire values are untrusted: add in unsigned so overflow wraps, not UB. */
static int64_t
add64(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

ssize_t
kp_batch_header_decode(const uint8_t *p, size_t len, struct kp_batch_header *h)
{
	int32_t blen;

	if (len < KP_BATCH_OFF_LEADER_EPOCH)
		return 0;
	blen = kp_be32(p + KP_BATCH_OFF_LENGTH);
	if (blen < KP_BATCH_MIN_LENGTH)
		return -1;
	if (len <= KP_BATCH_OFF_MAGIC)
		return 0;
	if (p[KP_BATCH_OFF_MAGIC] != KP_BATCH_MAGIC)
		return -1;
	if (len < KP_BATCH_HEADER_SIZE)
		return 0;
	h->base_offset = kp_be64(p + KP_BATCH_OFF_BASE_OFFSET);
	h->batch_length = blen;
	h->partition_leader_epoch = kp_be32(p + KP_BATCH_OFF_LEADER_EPOCH);
	h->magic = (int8_t)p[KP_BATCH_OFF_MAGIC];
	h->crc = (uint32_t)kp_be32(p + KP_BATCH_OFF_CRC);
	h->attributes = kp_be16(p + KP_BATCH_OFF_ATTRIBUTES);
	h->last_offset_delta = kp_be32(p + KP_BATCH_OFF_LAST_DELTA);
	h->base_timestamp = kp_be64(p + KP_BATCH_OFF_BASE_TIMESTAMP);
	h->max_timestamp = kp_be64(p + KP_BATCH_OFF_MAX_TIMESTAMP);
	h->producer_id = kp_be64(p + KP_BATCH_OFF_PRODUCER_ID);
	h->producer_epoch = kp_be16(p + KP_BATCH_OFF_PRODUCER_EPOCH);
	h->base_sequence = kp_be32(p + KP_BATCH_OFF_BASE_SEQUENCE);
	h->records_count = kp_be32(p + KP_BATCH_OFF_RECORDS_COUNT);
	return (ssize_t)KP_BATCH_LOG_OVERHEAD + blen;
}

void
kp_batch_set_base_offset(uint8_t *p, int64_t off)
{
	kp_put_be64(p + KP_BATCH_OFF_BASE_OFFSET, off);
}

void
kp_batch_set_leader_epoch(uint8_t *p, int32_t epoch)
{
	kp_put_be32(p + KP_BATCH_OFF_LEADER_EPOCH, epoch);
}

void
kp_batch_set_log_append_time(uint8_t *p, size_t len, int64_t ts)
{
	int16_t attr = kp_be16(p + KP_BATCH_OFF_ATTRIBUTES);

	kp_put_be16(p + KP_BATCH_OFF_ATTRIBUTES,
	    (int16_t)(attr | KP_BATCH_ATTR_LOG_APPEND_TIME));
	kp_put_be64(p + KP_BATCH_OFF_MAX_TIMESTAMP, ts);
	kp_batch_crc_store(p, len);
}

void
kp_batch_set_max_timestamp(uint8_t *p, size_t len, int64_t ts)
{
	kp_put_be64(p + KP_BATCH_OFF_MAX_TIMESTAMP, ts);
	kp_batch_crc_store(p, len);
}

void
kp_batch_set_producer(uint8_t *p, size_t len, int64_t id, int16_t epoch,
    int32_t seq)
{
	kp_put_be64(p + KP_BATCH_OFF_PRODUCER_ID, id);
	kp_put_be16(p + KP_BATCH_OFF_PRODUCER_EPOCH, epoch);
	kp_put_be32(p + KP_BATCH_OFF_BASE_SEQUENCE, seq);
	kp_batch_crc_store(p, len);
}

uint32_t
kp_batch_crc_compute(const uint8_t *p, size_t len)
{
	if (len < KP_BATCH_CRC_START)
		return 0;
	return kp_crc32c(0, p + KP_BATCH_CRC_START, len - KP_BATCH_CRC_START);
}

void
kp_batch_crc_store(uint8_t *p, size_t len)
{
	kp_put_be32(p + KP_BATCH_OFF_CRC, (int32_t)kp_batch_crc_compute(p, len));
}

bool
kp_batch_crc_ok(const uint8_t *p, size_t len)
{
	if (len < KP_BATCH_HEADER_SIZE)
		return false;
	return (uint32_t)kp_be32(p + KP_BATCH_OFF_CRC) ==
	    kp_batch_crc_compute(p, len);
}

int
kp_batch_validate(const uint8_t *p, size_t len, size_t max_uncompressed)
{
	int64_t ts;

	return kp_batch_validate_ts(p, len, max_uncompressed, &ts);
}

/*
 * The varint readers of the validation walk: the same acceptance as
 * kp_read_varint / kp_read_varlong (at most 5 bytes and 32 bits; at most
 * 10 bytes, the tenth holding bit 63 only), inlined with a one- and
 * two-byte fast path, since a 100-byte record is a dozen varints. The
 * get_u* ones leave the zigzag encoding on. 0, or -1 malformed.
 */
static inline int
get_uvarint(const uint8_t **pp, const uint8_t *end, uint32_t *up)
{
	const uint8_t *p = *pp;
	uint32_t u = 0;
	unsigned i;

	if (end - p >= 2) {	/* one or two bytes: nearly every field */
		if (p[0] < 0x80) {
			*up = p[0];
			*pp = p + 1;
			return 0;
		}
		if (p[1] < 0x80) {
			*up = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
			*pp = p + 2;
			return 0;
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
	*up = u;
	return 0;
}

static inline int
get_uvarlong(const uint8_t **pp, const uint8_t *end, uint64_t *up)
{
	const uint8_t *p = *pp;
	uint64_t u = 0;
	unsigned i;

	if (end - p >= 2) {
		if (p[0] < 0x80) {
			*up = p[0];
			*pp = p + 1;
			return 0;
		}
		if (p[1] < 0x80) {
			*up = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
			*pp = p + 2;
			return 0;
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
	*up = u;
	return 0;
}

static inline int32_t
unzig32(uint32_t u)
{
	return (int32_t)((u >> 1) ^ -(u & 1));
}

static inline int64_t
unzig64(uint64_t u)
{
	return (int64_t)((u >> 1) ^ -(u & 1));
}

static inline int
get_varint(const uint8_t **pp, const uint8_t *end, int32_t *v)
{
	uint32_t u;

	if (get_uvarint(pp, end, &u) < 0)
		return -1;
	*v = unzig32(u);
	return 0;
}

static inline int
get_varlong(const uint8_t **pp, const uint8_t *end, int64_t *v)
{
	uint64_t u;

	if (get_uvarlong(pp, end, &u) < 0)
		return -1;
	*v = unzig64(u);
	return 0;
}

/* A nullable length-prefixed field (key, value, header value). */
static inline int
skip_bytes(const uint8_t **pp, const uint8_t *end, int32_t min)
{
	int32_t n;

	if (get_varint(pp, end, &n) < 0 || n < min)
		return -1;
	if (n > 0) {
		if ((size_t)n > (size_t)(end - *pp))
			return -1;
		*pp += n;
	}
	return 0;
}

/*
 * The careful walk of one record at *pp, every read bounded by the
 * record's end: the last records of a batch, where a read past the
 * record could run off the buffer. 0 or -1.
 */
static int
record_check_careful(const uint8_t **pp, const uint8_t *end,
    const struct kp_batch_header *h, int64_t *next_delta, int64_t *mx)
{
	const uint8_t *rend, *q, *p = *pp;
	int32_t rlen, od, hc;
	int64_t tsd, ts;

	if (get_varint(&p, end, &rlen) < 0 ||
	    rlen < RECORD_MIN_SIZE - 1 ||
	    (size_t)rlen > (size_t)(end - p))
		return -1;
	rend = p + rlen;
	q = p + 1;	/* attributes: rlen >= 6 holds it */
	if (get_varlong(&q, rend, &tsd) < 0 ||
	    get_varint(&q, rend, &od) < 0 || od < *next_delta ||
	    od > h->last_offset_delta)
		return -1;
	if (skip_bytes(&q, rend, -1) < 0 ||	/* key */
	    skip_bytes(&q, rend, -1) < 0 ||	/* value */
	    get_varint(&q, rend, &hc) < 0 || hc < 0 ||
	    (size_t)hc > (size_t)(rend - q) / 2)
		return -1;
	for (; hc > 0; hc--)	/* a null header key is invalid */
		if (skip_bytes(&q, rend, 0) < 0 ||
		    skip_bytes(&q, rend, -1) < 0)
			return -1;
	if (q != rend)
		return -1;
	*next_delta = od + 1;
	ts = add64(h->base_timestamp, tsd);
	if (ts > *mx)
		*mx = ts;
	*pp = rend;
	return 0;
}

/*
 * The fast walk reads a varint's first two bytes with no bound, and
 * lets a malformed field carry the cursor past its record's end (never
 * further than this, which the record must leave before the buffer's
 * end): see records_check_fast.
 */
#define FAST_SLACK	16

/*
 * A varint, zigzag left on, with room for two bytes at *pp (one or two
 * bytes: nearly every field of a record); longer ones go to get_uvarint
 * bounded by the buffer's end, not the record's: the same value whenever
 * the varint ends inside the record, and the walk rejects one that does
 * not (see records_check_fast).
 */
static inline int
fast_uvarint(const uint8_t **pp, const uint8_t *end, uint32_t *up)
{
	const uint8_t *p = *pp;
	uint32_t u = p[0];

	if (u < 0x80) {
		*pp = p + 1;
	} else if (p[1] < 0x80) {
		/* (b0 & 0x7f) | b1 << 7, as b0 has its top bit set */
		u += ((uint32_t)p[1] << 7) - 0x80;
		*pp = p + 2;
	} else
		return get_uvarint(pp, end, up);
	*up = u;
	return 0;
}

static inline int
fast_uvarlong(const uint8_t **pp, const uint8_t *end, uint64_t *up)
{
	const uint8_t *p = *pp;
	uint64_t u = p[0];

	if (u < 0x80) {
		*pp = p + 1;
	} else if (p[1] < 0x80) {
		u += ((uint64_t)p[1] << 7) - 0x80;
		*pp = p + 2;
	} else
		return get_uvarlong(pp, end, up);
	*up = u;
	return 0;
}

/*
 * A zigzag value n >= 0 as itself, every negative one as 2^31 or more:
 * one unsigned compare then checks both n >= 0 and an upper bound.
 */
static inline uint32_t
unzig_nonneg(uint32_t u)
{
	return u >> 1 | u << 31;
}

/*
 * Whether n more bytes from q stay within rend, q being anywhere up to
 * FAST_SLACK past it: in integers, since q + n may point nowhere.
 */
static inline bool
fits(const uint8_t *q, uint32_t n, const uint8_t *rend)
{
	return (uintptr_t)q + n <= (uintptr_t)rend;
}

/*
 * A length-prefixed field at *pp, *pp moving past its bytes and left
 * within rend; nullable false for a header key, which may not be null.
 * The length is checked in zigzag form, saving the decode: n >= 0 is
 * u = 2n, null (n = -1) is u = 1, and any other odd u is below -1. A
 * null field has its length checked against rend too: a varint of up to
 * 5 bytes that ran past rend would otherwise carry the next read further
 * than FAST_SLACK allows.
 */
static inline int
fast_skip(const uint8_t **pp, const uint8_t *end, const uint8_t *rend,
    bool nullable)
{
	uint32_t u;

	if (fast_uvarint(pp, end, &u) < 0)
		return -1;
	if (u & 1)
		return nullable && u == 1 && *pp <= rend ? 0 : -1;
	if (!fits(*pp, u >> 1, rend))
		return -1;
	*pp += u >> 1;
	return 0;
}

/*
 * The fast walk: records with FAST_SLACK bytes after them in the buffer.
 * Returns how many it checked, *pp past them (the careful walk takes the
 * rest, bad lengths too, and rejects them), or -1 when one is malformed.
 * Varints read up to the buffer's end, not the record's, so a field
 * crossing rend goes unnoticed where it happens; but the cursor q never
 * moves back, every length field is checked against rend (q may be past
 * it), and the record must end exactly at rend, so a record passes only
 * when every field lay inside it, read what the careful walk reads, and
 * passed its checks. Reads without a bound go furthest before the key:
 * from the attributes, ending 5 bytes before rend at the latest, a
 * 10-byte timestampDelta and a 5-byte offsetDelta reach rend + 10, and
 * the key length's two bytes rend + 11, inside FAST_SLACK. After each
 * length field q is back within rend, and the header count, at most 5
 * bytes, is checked before any header is read.
 */
static int32_t
records_check_fast(const struct kp_batch_header *h, const uint8_t **pp,
    const uint8_t *end, int64_t *next_delta, int64_t *mx)
{
	const uint8_t *rend, *q, *p = *pp, *fend = end - FAST_SLACK;
	const int64_t last = h->last_offset_delta, base = h->base_timestamp;
	int64_t next = *next_delta, best = *mx, ts;
	int32_t i, n = h->records_count;
	uint32_t u, rlen, od;
	uint64_t tsu;

	for (i = 0; i < n; i++) {
		q = p;
		if (fast_uvarint(&q, end, &u) < 0)
			return -1;
		rlen = unzig_nonneg(u);
		if (rlen < RECORD_MIN_SIZE - 1 || !fits(q, rlen, fend))
			break;
		/*
		 * The next record starts at rend whatever this one's fields
		 * say, so the walk to it depends on the length varint
		 * alone: the field parse, a dozen dependent loads, runs off
		 * that chain (q), overlapping the next records'.
		 */
		rend = q + rlen;
		p = rend;
		q++;		/* attributes: rlen >= 6 holds it */
		if (fast_uvarlong(&q, end, &tsu) < 0 ||
		    fast_uvarint(&q, end, &u) < 0)
			return -1;
		od = unzig_nonneg(u);
		if (od < next || od > last)
			return -1;
		if (fast_skip(&q, end, rend, true) < 0 ||	/* key */
		    fast_skip(&q, end, rend, true) < 0 ||	/* value */
		    fast_uvarint(&q, end, &u) < 0)		/* headers */
			return -1;
		if (u != 0) {
			uint32_t hc = unzig_nonneg(u);

			/* each header takes two bytes at least */
			if (q > rend || hc > (size_t)(rend - q) / 2)
				return -1;
			for (; hc > 0; hc--)
				if (fast_skip(&q, end, rend, false) < 0 ||
				    fast_skip(&q, end, rend, true) < 0)
					return -1;
		}
		if (q != rend)
			return -1;
		next = (int64_t)od + 1;
		ts = add64(base, unzig64(tsu));
		best = ts > best ? ts : best;
	}
	*pp = p;
	*next_delta = next;
	*mx = best;
	return i;
}

/*
 * One pass over uncompressed records, checking what kp_batch_iter_next
 * and kp_record_header_next check (lengths, offset deltas, varints,
 * headers filling each record exactly, nothing after the last record),
 * without building records: 0 or -1. *max_ts gets the largest timestamp.
 */
static int
records_check(const struct kp_batch_header *h, const uint8_t *p, size_t len,
    int64_t *max_ts)
{
	const uint8_t *end;
	int64_t mx = INT64_MIN, next_delta = 0;
	int32_t i = 0;

	/* never trust the count beyond what the bytes can hold */
	if (h->records_count < 0 ||
	    (size_t)h->records_count > len / RECORD_MIN_SIZE)
		return -1;
	if (h->records_count == 0)	/* p may be NULL: an empty inflate */
		return len == 0 ? 0 : -1;
	end = p + len;
	/* records_check_fast leaves p at least FAST_SLACK before end */
	if (len >= FAST_SLACK &&
	    (i = records_check_fast(h, &p, end, &next_delta, &mx)) < 0)
		return -1;
	for (; i < h->records_count; i++)
		if (record_check_careful(&p, end, h, &next_delta, &mx) < 0)
			return -1;
	if (p != end)
		return -1;
	/* records_count >= 1 here, so mx is the first or a larger one */
	*max_ts = h->attributes & KP_BATCH_ATTR_LOG_APPEND_TIME ?
	    h->max_timestamp : mx;
	return 0;
}

int
kp_batch_validate_ts(const uint8_t *p, size_t len, size_t max_uncompressed,
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
		return records_check(&h, p + KP_BATCH_HEADER_SIZE,
		    len - KP_BATCH_HEADER_SIZE, max_ts) == 0 ? 0 :
		    KP_INVALID_RECORD;
	case KP_CODEC_GZIP:
		kp_buf_init(&scratch);
		e = kp_gzip_decompress(p + KP_BATCH_HEADER_SIZE,
		    len - KP_BATCH_HEADER_SIZE, max_uncompressed, &scratch) != 0 ||
		    records_check(&h, scratch.data, scratch.len, max_ts) != 0 ?
		    KP_INVALID_RECORD : 0;
		kp_buf_release(&scratch);
		return e;
	default:
		return 0;	/* snappy, lz4, zstd: kept and served as is */
	}
}

/* Header walk. The headers were bounds-checked by iter_next already. */
void
kp_record_header_iter_init(struct kp_record_header_iter *hi,
    const struct kp_record *rec)
{
	kp_reader_init(&hi->r, rec->headers, rec->headers_len);
	hi->left = rec->header_count;
}

int
kp_record_header_next(struct kp_record_header_iter *hi,
    struct kp_record_header *h)
{
	int32_t n;

	if (hi->left <= 0)
		return kp_reader_left(&hi->r) == 0 && !hi->r.err ? 0 : -1;
	n = kp_read_varint(&hi->r);
	if (n < 0)	/* a null header key is invalid in Kafka */
		return -1;
	h->key.len = n;
	h->key.ptr = (const char *)kp_reader_take(&hi->r, (size_t)n);
	n = kp_read_varint(&hi->r);
	if (n < -1)
		return -1;
	h->value.len = n;
	h->value.ptr = n < 0 ? NULL : kp_reader_take(&hi->r, (size_t)n);
	if (hi->r.err)
		return -1;
	if (h->key.ptr == NULL)
		h->key.ptr = "";
	hi->left--;
	return 1;
}

int
kp_batch_iter_init(struct kp_batch_iter *it, const uint8_t *p, size_t len,
    size_t max_uncompressed)
{
	ssize_t n;
	const uint8_t *rec;
	size_t rlen;

	memset(it, 0, sizeof(*it));
	kp_buf_init(&it->scratch);
	it->err = KP_CORRUPT_MESSAGE;
	n = kp_batch_header_decode(p, len, &it->hdr);
	if (n <= 0 || (size_t)n > len)
		return it->err;
	rec = p + KP_BATCH_HEADER_SIZE;
	rlen = (size_t)n - KP_BATCH_HEADER_SIZE;
	it->err = KP_INVALID_RECORD;
	if (it->hdr.records_count < 0)
		return it->err;
	switch (kp_batch_codec(&it->hdr)) {
	case KP_CODEC_NONE:
		kp_reader_init(&it->r, rec, rlen);
		break;
	case KP_CODEC_GZIP:
		if (kp_gzip_decompress(rec, rlen, max_uncompressed,
		    &it->scratch) != 0)
			return it->err;
		kp_reader_init(&it->r, it->scratch.data, it->scratch.len);
		break;
	default:
		it->err = KP_UNSUPPORTED_COMPRESSION_TYPE;
		return it->err;
	}
	/* never trust the count beyond what the bytes can hold */
	if ((size_t)it->hdr.records_count > kp_reader_left(&it->r) /
	    RECORD_MIN_SIZE)
		return it->err;
	it->left = it->hdr.records_count;
	it->err = 0;
	return 0;
}

static int
record_parse(struct kp_batch_iter *it, struct kp_reader *r,
    struct kp_record *rec)
{
	struct kp_record_header_iter hi;
	struct kp_record_header h;
	int32_t n;
	size_t start;
	int rc;

	rec->attributes = kp_read_i8(r);
	rec->timestamp_delta = kp_read_varlong(r);
	rec->offset_delta = kp_read_varint(r);
	if (r->err || rec->offset_delta < it->next_delta ||
	    rec->offset_delta > it->hdr.last_offset_delta)
		return -1;
	n = kp_read_varint(r);
	if (n < -1)
		return -1;
	rec->key.len = n;
	rec->key.ptr = n < 0 ? NULL : kp_reader_take(r, (size_t)n);
	n = kp_read_varint(r);
	if (n < -1)
		return -1;
	rec->value.len = n;
	rec->value.ptr = n < 0 ? NULL : kp_reader_take(r, (size_t)n);
	rec->header_count = kp_read_varint(r);
	if (r->err || rec->header_count < 0 ||
	    (size_t)rec->header_count > kp_reader_left(r) / 2)
		return -1;
	start = r->off;
	rec->headers = r->p + start;
	rec->headers_len = kp_reader_left(r);
	/* walk the headers once so that callers may trust them */
	kp_record_header_iter_init(&hi, rec);
	while ((rc = kp_record_header_next(&hi, &h)) == 1)
		;
	if (rc < 0)
		return -1;
	if (rec->key.len == 0 && rec->key.ptr == NULL)
		rec->key.ptr = (const uint8_t *)"";
	if (rec->value.len == 0 && rec->value.ptr == NULL)
		rec->value.ptr = (const uint8_t *)"";
	return 0;
}

int
kp_batch_iter_next(struct kp_batch_iter *it, struct kp_record *rec)
{
	struct kp_reader sub;
	const uint8_t *body;
	int32_t len;

	if (it->err)
		return -1;
	if (it->left == 0) {
		if (kp_reader_left(&it->r) != 0)
			goto bad;
		return 0;
	}
	len = kp_read_varint(&it->r);
	if (it->r.err || len < RECORD_MIN_SIZE - 1)
		goto bad;
	if ((body = kp_reader_take(&it->r, (size_t)len)) == NULL)
		goto bad;
	memset(rec, 0, sizeof(*rec));
	kp_reader_init(&sub, body, (size_t)len);
	if (record_parse(it, &sub, rec) != 0)
		goto bad;
	it->next_delta = rec->offset_delta + 1;
	rec->offset = add64(it->hdr.base_offset, rec->offset_delta);
	if (it->hdr.attributes & KP_BATCH_ATTR_LOG_APPEND_TIME)
		rec->timestamp = it->hdr.max_timestamp;
	else
		rec->timestamp = add64(it->hdr.base_timestamp,
		    rec->timestamp_delta);
	it->left--;
	return 1;
bad:
	it->err = KP_INVALID_RECORD;
	return -1;
}

int
kp_record_control_type(const struct kp_record *rec)
{
	if (rec->key.len < 4 || kp_be16(rec->key.ptr) < 0)
		return -1;
	return kp_be16(rec->key.ptr + 2);
}

int
kp_batch_control_type(const uint8_t *p, size_t len)
{
	int32_t cepoch;

	return kp_batch_control_read(p, len, &cepoch);
}

int
kp_batch_control_read(const uint8_t *p, size_t len, int32_t *cepoch)
{
	struct kp_batch_header h;
	struct kp_reader r;
	int32_t keylen, vallen, e;
	int16_t ver, type;

	*cepoch = -1;
	if (kp_batch_header_decode(p, len, &h) <= 0 ||
	    !(h.attributes & KP_BATCH_ATTR_CONTROL) || kp_batch_codec(&h) ||
	    h.records_count < 1)
		return -1;
	kp_reader_init(&r, p + KP_BATCH_HEADER_SIZE,
	    len - KP_BATCH_HEADER_SIZE);
	(void)kp_read_varint(&r);		/* length */
	(void)kp_read_i8(&r);			/* attributes */
	(void)kp_read_varlong(&r);		/* timestamp delta */
	(void)kp_read_varint(&r);		/* offset delta */
	keylen = kp_read_varint(&r);
	ver = kp_read_i16(&r);
	type = kp_read_i16(&r);
	if (r.err != KP_OK || keylen < 4 || ver < 0)
		return -1;
	/* a longer key (a newer version) has more after the type */
	(void)kp_reader_take(&r, (size_t)keylen - 4);
	vallen = kp_read_varint(&r);
	(void)kp_read_i16(&r);			/* value version */
	e = kp_read_i32(&r);
	if (r.err == KP_OK && vallen >= 6 && e >= 0)
		*cepoch = e;
	return type;
}

int
kp_batch_control_build(struct kp_buf *out, int64_t pid, int16_t epoch,
    int type, int32_t coordinator_epoch, int64_t ts)
{
	struct kp_batch_builder bb;
	uint8_t key[4], val[6];
	int rc = -1;

	kp_put_be16(key, 0);
	kp_put_be16(key + 2, (int16_t)type);
	kp_put_be16(val, 0);
	kp_put_be32(val + 2, coordinator_epoch);
	kp_batch_builder_init(&bb, KP_CODEC_NONE, pid, epoch, -1);
	bb.attributes = KP_BATCH_ATTR_TRANSACTIONAL | KP_BATCH_ATTR_CONTROL;
	if (kp_batch_builder_add(&bb, ts, key, sizeof(key), val, sizeof(val),
	    NULL, 0) == 0 && kp_batch_builder_finish(&bb, out) == 0)
		rc = 0;
	kp_batch_builder_release(&bb);
	return rc;
}

void
kp_batch_iter_release(struct kp_batch_iter *it)
{
	kp_buf_release(&it->scratch);
}

void
kp_batch_builder_init(struct kp_batch_builder *b, int codec, int64_t pid,
    int16_t epoch, int32_t seq)
{
	memset(b, 0, sizeof(*b));
	b->codec = codec;
	b->producer_id = pid;
	b->producer_epoch = epoch;
	b->base_sequence = seq;
	kp_buf_init(&b->records);
}

static size_t
field_size(ssize_t len)
{
	return len < 0 ? 1 : kp_varint_size(len) + (size_t)len;
}

/* A zigzag varint at p; returns the byte after it. */
static uint8_t *
zz_put(uint8_t *p, int64_t v)
{
	return kp_uvarint_store(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* A length-prefixed field (-1: null) at p; returns the byte after it. */
static uint8_t *
field_put(uint8_t *p, const void *v, ssize_t len)
{
	p = zz_put(p, len < 0 ? -1 : len);
	if (len > 0) {
		memcpy(p, v, (size_t)len);
		p += len;
	}
	return p;
}

/*
 * The records follow room for the batch header in the same buffer, so
 * that finish can hand the whole buffer over instead of copying it.
 */
static size_t
records_len(const struct kp_batch_builder *b)
{
	return b->records.len ? b->records.len - KP_BATCH_HEADER_SIZE : 0;
}

int
kp_batch_builder_add(struct kp_batch_builder *b, int64_t ts,
    const void *key, ssize_t keylen, const void *val, ssize_t vlen,
    const struct kp_record_header *hdrs, size_t nhdrs)
{
	int64_t delta;
	size_t body, i;
	uint8_t *p;

	if (key == NULL || keylen < 0)
		keylen = -1;
	if (val == NULL || vlen < 0)
		vlen = -1;
	if (keylen > INT32_MAX || vlen > INT32_MAX || nhdrs > INT32_MAX ||
	    b->count == INT32_MAX)
		goto overflow;
	delta = b->count == 0 ? 0 : add64(ts, -b->base_timestamp);
	body = 1 + kp_varint_size(delta) + kp_varint_size(b->count) +
	    field_size(keylen) + field_size(vlen) +
	    kp_varint_size((int64_t)nhdrs);
	for (i = 0; i < nhdrs; i++) {
		if (hdrs[i].key.len < 0 || (hdrs[i].value.len < 0 &&
		    hdrs[i].value.len != -1))
			goto overflow;
		body += field_size(hdrs[i].key.len) +
		    field_size(hdrs[i].value.ptr ? hdrs[i].value.len : -1);
		if (body > INT32_MAX)
			goto overflow;
	}
	if (body > INT32_MAX)
		goto overflow;
	if (b->records.len == 0 &&
	    kp_buf_extend(&b->records, KP_BATCH_HEADER_SIZE) == NULL)
		goto nomem;
	if ((p = kp_buf_extend(&b->records, kp_varint_size((int64_t)body) +
	    body)) == NULL)
		goto nomem;
	p = zz_put(p, (int64_t)body);
	*p++ = 0;			/* attributes */
	p = zz_put(p, delta);
	p = zz_put(p, b->count);
	p = field_put(p, key, keylen);
	p = field_put(p, val, vlen);
	p = zz_put(p, (int64_t)nhdrs);
	for (i = 0; i < nhdrs; i++) {
		p = field_put(p, hdrs[i].key.ptr, hdrs[i].key.len);
		p = field_put(p, hdrs[i].value.ptr,
		    hdrs[i].value.ptr ? hdrs[i].value.len : -1);
	}
	if (b->count == 0) {
		b->base_timestamp = ts;
		b->max_timestamp = ts;
	} else if (ts > b->max_timestamp)
		b->max_timestamp = ts;
	b->count++;
	return 0;
overflow:
	errno = EOVERFLOW;
	return -1;
nomem:
	errno = ENOMEM;
	return -1;
}

size_t
kp_batch_builder_size(const struct kp_batch_builder *b)
{
	return KP_BATCH_HEADER_SIZE + records_len(b);
}

static void
header_put(uint8_t *p, const struct kp_batch_builder *b, size_t total)
{
	kp_put_be64(p + KP_BATCH_OFF_BASE_OFFSET, 0);
	kp_put_be32(p + KP_BATCH_OFF_LENGTH,
	    (int32_t)(total - KP_BATCH_LOG_OVERHEAD));
	kp_put_be32(p + KP_BATCH_OFF_LEADER_EPOCH, b->partition_leader_epoch);
	p[KP_BATCH_OFF_MAGIC] = KP_BATCH_MAGIC;
	kp_put_be16(p + KP_BATCH_OFF_ATTRIBUTES, (int16_t)((b->attributes &
	    ~KP_BATCH_ATTR_CODEC_MASK) | b->codec));
	kp_put_be32(p + KP_BATCH_OFF_LAST_DELTA, b->count - 1);
	kp_put_be64(p + KP_BATCH_OFF_BASE_TIMESTAMP, b->base_timestamp);
	kp_put_be64(p + KP_BATCH_OFF_MAX_TIMESTAMP, b->max_timestamp);
	kp_put_be64(p + KP_BATCH_OFF_PRODUCER_ID, b->producer_id);
	kp_put_be16(p + KP_BATCH_OFF_PRODUCER_EPOCH, b->producer_epoch);
	kp_put_be32(p + KP_BATCH_OFF_BASE_SEQUENCE, b->base_sequence);
	kp_put_be32(p + KP_BATCH_OFF_RECORDS_COUNT, b->count);
	kp_batch_crc_store(p, total);
}

int
kp_batch_builder_finish(struct kp_batch_builder *b, struct kp_buf *out)
{
	size_t start = out->len, total, n = records_len(b);
	struct kp_buf tmp;

	if (b->count == 0 || (b->codec != KP_CODEC_NONE &&
	    b->codec != KP_CODEC_GZIP)) {
		errno = EINVAL;
		return -1;
	}
	if (b->codec == KP_CODEC_NONE && out->len == 0 && !out->err) {
		if (b->records.len - KP_BATCH_LOG_OVERHEAD > INT32_MAX)
			goto overflow;
		/* the batch is the builder's buffer: swap rather than copy */
		header_put(b->records.data, b, b->records.len);
		tmp = *out;
		*out = b->records;
		b->records = tmp;
		return 0;
	}
	if (kp_buf_reserve(out, KP_BATCH_HEADER_SIZE +
	    (b->codec == KP_CODEC_NONE ? n : 0)) == -1 ||
	    kp_buf_extend(out, KP_BATCH_HEADER_SIZE) == NULL)
		goto nomem;
	if (b->codec == KP_CODEC_GZIP) {
		if (kp_gzip_compress(b->records.data + KP_BATCH_HEADER_SIZE, n,
		    out) != 0)
			goto nomem;
	} else {
		kp_buf_put(out, b->records.data + KP_BATCH_HEADER_SIZE, n);
	}
	if (out->err)
		goto nomem;
	total = out->len - start;
	if (total - KP_BATCH_LOG_OVERHEAD > INT32_MAX) {
		out->len = start;
		goto overflow;
	}
	header_put(out->data + start, b, total);
	return 0;
nomem:
	out->len = start;
	errno = ENOMEM;
	return -1;
overflow:
	errno = EOVERFLOW;
	return -1;
}

void
kp_batch_builder_reset(struct kp_batch_builder *b)
{
	kp_buf_reset(&b->records);
	b->count = 0;
	b->base_timestamp = b->max_timestamp = 0;
}

void
kp_batch_builder_release(struct kp_batch_builder *b)
{
	kp_buf_release(&b->records);
}
