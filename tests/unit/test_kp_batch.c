/* test_kp_batch.c -- record batch v2 against kafka-python fixtures, builder, validation */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "kp_batch.h"
#include "kp_compress.h"
#include "kp_err.h"
#include "fixture_hex.h"
#include "tap.h"

#define BASE_TS	1700000000000LL
#define NREC	50
#define MAXU	(1u << 20)

/* The records gen_batch.py puts in batch_gzip50.hex, recomputed. */
struct want {
	int64_t	ts;
	char	key[32];
	int	keylen;
	char	value[128];
	int	vlen;
	int	nh;
	char	hkey[2][16];
	char	hval[2][16];
	int	hvlen[2];
};

static void
want_record(int i, struct want *w)
{
	char one[32];
	int j, n;

	memset(w, 0, sizeof(*w));
	w->ts = BASE_TS + i * 7;
	w->keylen = i % 5 == 0 ? -1 :
	    snprintf(w->key, sizeof(w->key), "key-%d", i);
	if (i % 11 == 0) {
		w->vlen = -1;
	} else {
		n = snprintf(one, sizeof(one), "value %d ", i);
		for (j = 0; j < 1 + i % 4; j++)
			memcpy(w->value + j * n, one, (size_t)n);
		w->vlen = n * (1 + i % 4);
	}
	if (i % 3 == 0) {
		snprintf(w->hkey[w->nh], 16, "h%d", i);
		w->hvlen[w->nh] = snprintf(w->hval[w->nh], 16, "v%d", i);
		w->nh++;
	}
	if (i % 6 == 0) {
		snprintf(w->hkey[w->nh], 16, "null");
		w->hvlen[w->nh] = -1;
		w->nh++;
	}
}

static int
bytes_eq(const struct kp_bytes *b, const void *p, int len)
{
	if (b->len != len)
		return 0;
	return len <= 0 || memcmp(b->ptr, p, (size_t)len) == 0;
}

/* Compare one decoded record with want_record(i); 1 when equal. */
static int
record_matches(const struct kp_record *rec, int i, int64_t base)
{
	struct kp_record_header_iter hi;
	struct kp_record_header h;
	struct want w;
	int j = 0;

	want_record(i, &w);
	if (rec->offset != base + i || rec->offset_delta != i ||
	    rec->timestamp != w.ts || rec->attributes != 0 ||
	    !bytes_eq(&rec->key, w.key, w.keylen) ||
	    !bytes_eq(&rec->value, w.value, w.vlen) ||
	    rec->header_count != w.nh)
		return 0;
	if ((w.keylen < 0) != (rec->key.ptr == NULL) ||
	    (w.vlen < 0) != (rec->value.ptr == NULL))
		return 0;
	kp_record_header_iter_init(&hi, rec);
	while (kp_record_header_next(&hi, &h) == 1) {
		if (j >= w.nh || !kp_str_eq(&h.key, w.hkey[j]) ||
		    !bytes_eq(&h.value, w.hval[j], w.hvlen[j]))
			return 0;
		j++;
	}
	return j == w.nh && hi.left == 0;
}

static void
build_want(struct kp_batch_builder *b, int codec)
{
	struct kp_record_header hs[2];
	struct want w;
	int i, j;

	kp_batch_builder_init(b, codec, 4242, 3, 100);
	for (i = 0; i < NREC; i++) {
		want_record(i, &w);
		for (j = 0; j < w.nh; j++) {
			hs[j].key.ptr = w.hkey[j];
			hs[j].key.len = (int32_t)strlen(w.hkey[j]);
			hs[j].value.ptr = w.hvlen[j] < 0 ? NULL :
			    (const uint8_t *)w.hval[j];
			hs[j].value.len = w.hvlen[j];
		}
		kp_batch_builder_add(b, w.ts, w.keylen < 0 ? NULL : w.key,
		    w.keylen, w.vlen < 0 ? NULL : w.value, w.vlen, hs,
		    (size_t)w.nh);
	}
}

static void
test_golden(void)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_batch_builder b;
	struct kp_record rec;
	struct kp_record_header_iter hi;
	struct kp_record_header rh;
	struct kp_record_header hv = { { "h", 1 }, { (const uint8_t *)"v", 1 } };
	struct kp_buf out;
	uint8_t *g;
	size_t n;
	int i;

	g = fixture_hex("batch_golden.hex", &n);
	ok(g != NULL && n == 90, "golden batch fixture loaded");
	if (g == NULL)
		return;
	is_int(kp_batch_header_decode(g, n, &h), 90, "header decode: size 90");
	is_int(h.base_offset, 0, "baseOffset");
	is_int(h.batch_length, 0x4e, "batchLength");
	is_int(h.partition_leader_epoch, 0, "partitionLeaderEpoch");
	is_int(h.magic, 2, "magic");
	is_int(h.crc, 0x3a6ca4de, "crc");
	is_int(h.attributes, 0, "attributes");
	is_int(kp_batch_codec(&h), KP_CODEC_NONE, "codec none");
	is_int(h.last_offset_delta, 1, "lastOffsetDelta");
	is_int(h.base_timestamp, BASE_TS, "baseTimestamp");
	is_int(h.max_timestamp, BASE_TS + 5, "maxTimestamp");
	is_int(h.producer_id, -1, "producerId");
	is_int(h.producer_epoch, -1, "producerEpoch");
	is_int(h.base_sequence, -1, "baseSequence");
	is_int(h.records_count, 2, "recordsCount");
	ok(kp_batch_crc_ok(g, n), "CRC-32C matches");
	is_int(kp_batch_validate(g, n, MAXU), 0, "golden batch validates");

	is_int(kp_batch_iter_init(&it, g, n, MAXU), 0, "iterator init");
	is_int(kp_batch_iter_next(&it, &rec), 1, "record 0");
	ok(rec.offset == 0 && rec.timestamp == BASE_TS &&
	    bytes_eq(&rec.key, "a", 1) && bytes_eq(&rec.value, "hello", 5) &&
	    rec.header_count == 0, "record 0: a=hello at ts, no headers");
	is_int(kp_batch_iter_next(&it, &rec), 1, "record 1");
	ok(rec.offset == 1 && rec.timestamp == BASE_TS + 5 &&
	    rec.key.len == -1 && rec.key.ptr == NULL &&
	    bytes_eq(&rec.value, "world", 5) && rec.header_count == 1,
	    "record 1: null key, world, one header");
	kp_record_header_iter_init(&hi, &rec);
	ok(kp_record_header_next(&hi, &rh) == 1 && kp_str_eq(&rh.key, "h") &&
	    bytes_eq(&rh.value, "v", 1), "record 1 header h=v");
	is_int(kp_record_header_next(&hi, &rh), 0, "one header only");
	is_int(kp_batch_iter_next(&it, &rec), 0, "end after two records");
	kp_batch_iter_release(&it);

	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	kp_batch_builder_add(&b, BASE_TS, "a", 1, "hello", 5, NULL, 0);
	kp_batch_builder_add(&b, BASE_TS + 5, NULL, -1, "world", 5, &hv, 1);
	is_int(kp_batch_builder_size(&b), 90, "size estimate exact uncompressed");
	kp_buf_init(&out);
	kp_buf_put(&out, "xx", 2);
	is_int(kp_batch_builder_finish(&b, &out), 0, "builder finish");
	ok(out.len == 92 && memcmp(out.data + 2, g, n) == 0,
	    "builder re-encodes the golden batch byte for byte");
	kp_batch_builder_reset(&b);
	ok(kp_batch_builder_finish(&b, &out) == -1 && errno == EINVAL,
	    "an empty builder refuses to finish");

	/* into an empty buffer the builder hands its memory over */
	kp_buf_reset(&out);
	for (i = 0; i < 2; i++) {
		kp_batch_builder_add(&b, BASE_TS, "a", 1, "hello", 5, NULL, 0);
		kp_batch_builder_add(&b, BASE_TS + 5, NULL, -1, "world", 5,
		    &hv, 1);
		is_int(kp_batch_builder_finish(&b, &out), 0,
		    "finish into an empty buffer, batch %d", i);
		ok(out.len == n && memcmp(out.data, g, n) == 0,
		    "batch %d is the golden batch byte for byte", i);
		kp_batch_builder_reset(&b);
		kp_buf_reset(&out);
	}
	kp_batch_builder_release(&b);
	kp_buf_release(&out);
	free(g);
}

static void
test_gzip_fixture(void)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_batch_builder b;
	struct kp_record rec;
	struct kp_buf raw, out;
	uint8_t *g;
	size_t n, rlen;
	int i = 0, bad = 0, rc;

	g = fixture_hex("batch_gzip50.hex", &n);
	ok(g != NULL, "kafka-python gzip fixture loaded");
	if (g == NULL)
		return;
	is_int(kp_batch_header_decode(g, n, &h), (ssize_t)n, "header: size");
	is_int(kp_batch_codec(&h), KP_CODEC_GZIP, "codec gzip");
	is_int(h.records_count, NREC, "recordsCount 50");
	is_int(h.last_offset_delta, NREC - 1, "lastOffsetDelta 49");
	is_int(h.producer_id, 4242, "producerId");
	is_int(h.producer_epoch, 3, "producerEpoch");
	is_int(h.base_sequence, 100, "baseSequence");
	is_int(h.base_timestamp, BASE_TS, "baseTimestamp");
	is_int(h.max_timestamp, BASE_TS + 7 * (NREC - 1), "maxTimestamp");
	is_int(kp_batch_validate(g, n, MAXU), 0, "gzip batch validates");

	is_int(kp_batch_iter_init(&it, g, n, MAXU), 0, "iterator inflates");
	while ((rc = kp_batch_iter_next(&it, &rec)) == 1) {
		if (!record_matches(&rec, i, 0)) {
			printf("# record %d differs\n", i);
			bad++;
		}
		i++;
	}
	is_int(rc, 0, "iteration ends cleanly");
	is_int(i, NREC, "50 records");
	is_int(bad, 0, "every record matches key, value, timestamp, headers");
	kp_batch_iter_release(&it);

	/* our records encoding equals kafka-python's, inflated */
	build_want(&b, KP_CODEC_GZIP);
	kp_buf_init(&raw);
	kp_gzip_decompress(g + KP_BATCH_HEADER_SIZE, n - KP_BATCH_HEADER_SIZE,
	    MAXU, &raw);
	rlen = kp_batch_builder_size(&b) - KP_BATCH_HEADER_SIZE;
	ok(raw.len == rlen && memcmp(raw.data,
	    b.records.data + KP_BATCH_HEADER_SIZE, raw.len) == 0,
	    "builder's records are kafka-python's byte for byte");
	kp_buf_init(&out);
	is_int(kp_batch_builder_finish(&b, &out), 0, "gzip builder finish");
	ok(out.len < rlen, "gzip batch is smaller: %zu < %zu", out.len, rlen);
	ok(out.len > 61 && memcmp(out.data + 12, g + 12, 5) == 0 &&
	    memcmp(out.data + 21, g + 21, 40) == 0,
	    "gzip header fields equal kafka-python's");
	is_int(kp_batch_validate(out.data, out.len, MAXU), 0,
	    "our gzip batch validates");
	i = bad = 0;
	kp_batch_iter_init(&it, out.data, out.len, MAXU);
	while (kp_batch_iter_next(&it, &rec) == 1)
		if (!record_matches(&rec, i++, 0))
			bad++;
	ok(i == NREC && bad == 0, "our gzip batch reads back record by record");
	kp_batch_iter_release(&it);
	is_int(kp_batch_validate(out.data, out.len, rlen - 1),
	    KP_INVALID_RECORD, "inflating beyond the bound is refused");
	is_int(kp_batch_validate(out.data, out.len, rlen), 0,
	    "the exact bound is enough");
	kp_batch_builder_release(&b);
	kp_buf_release(&raw);
	kp_buf_release(&out);
	free(g);
}

static void
test_setters(void)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record rec;
	uint8_t *g;
	size_t n;
	uint32_t crc;
	int i = 0, bad = 0;

	g = fixture_hex("batch_gzip50.hex", &n);
	if (g == NULL) {
		ok(0, "fixture");
		return;
	}
	crc = (uint32_t)kp_be32(g + KP_BATCH_OFF_CRC);
	kp_batch_set_base_offset(g, 1000);
	kp_batch_set_leader_epoch(g, 7);
	kp_batch_header_decode(g, n, &h);
	ok(h.base_offset == 1000 && h.partition_leader_epoch == 7,
	    "base offset and leader epoch set");
	ok(h.crc == crc && kp_batch_crc_ok(g, n),
	    "they lie outside the CRC");
	ok(kp_batch_last_offset(&h) == 1049, "last offset 1049");
	kp_batch_iter_init(&it, g, n, MAXU);
	while (kp_batch_iter_next(&it, &rec) == 1)
		if (!record_matches(&rec, i++, 1000))
			bad++;
	ok(i == NREC && bad == 0, "record offsets are absolute");
	kp_batch_iter_release(&it);

	kp_batch_set_log_append_time(g, n, BASE_TS + 99999);
	kp_batch_header_decode(g, n, &h);
	ok(h.attributes & KP_BATCH_ATTR_LOG_APPEND_TIME,
	    "LogAppendTime bit set");
	ok(kp_batch_codec(&h) == KP_CODEC_GZIP, "codec kept");
	is_int(h.max_timestamp, BASE_TS + 99999, "maxTimestamp set");
	ok(kp_batch_crc_ok(g, n) && h.crc != crc, "CRC recomputed");
	is_int(kp_batch_validate(g, n, MAXU), 0, "still validates");
	kp_batch_iter_init(&it, g, n, MAXU);
	ok(kp_batch_iter_next(&it, &rec) == 1 &&
	    rec.timestamp == BASE_TS + 99999,
	    "records report the log append time");
	kp_batch_iter_release(&it);

	kp_batch_set_producer(g, n, 77, 1, 5);
	kp_batch_header_decode(g, n, &h);
	ok(h.producer_id == 77 && h.producer_epoch == 1 &&
	    h.base_sequence == 5 && kp_batch_crc_ok(g, n),
	    "producer fields set, CRC recomputed");
	free(g);
}

/* Re-sign a tampered batch so the check under test is not the CRC. */
static int
resign_validate(uint8_t *p, size_t n)
{
	kp_batch_crc_store(p, n);
	return kp_batch_validate(p, n, MAXU);
}

static void
test_validate_errors(void)
{
	struct kp_batch_builder b;
	struct kp_buf out;
	uint8_t *g, *c;
	size_t n;

	g = fixture_hex("batch_golden.hex", &n);
	if (g == NULL) {
		ok(0, "fixture");
		return;
	}
	c = malloc(n + 1);
#define FRESH()	memcpy(c, g, n)
	FRESH();
	c[70] ^= 1;
	is_int(kp_batch_validate(c, n, MAXU), KP_CORRUPT_MESSAGE,
	    "flipped record bit: bad CRC");
	FRESH();
	c[KP_BATCH_OFF_MAGIC] = 1;
	is_int(kp_batch_validate(c, n, MAXU), KP_CORRUPT_MESSAGE, "magic 1");
	FRESH();
	c[n] = 0;
	is_int(kp_batch_validate(c, n + 1, MAXU), KP_CORRUPT_MESSAGE,
	    "a trailing byte");
	FRESH();
	kp_put_be32(c + KP_BATCH_OFF_LENGTH, 48);
	is_int(kp_batch_header_decode(c, n, &(struct kp_batch_header){ 0 }),
	    -1, "batchLength 48 is malformed");
	FRESH();
	c[KP_BATCH_OFF_ATTRIBUTES + 1] = KP_CODEC_SNAPPY;
	is_int(resign_validate(c, n), 0, "snappy: header and CRC only, kept");
	c[KP_BATCH_OFF_ATTRIBUTES + 1] = KP_CODEC_ZSTD;
	is_int(resign_validate(c, n), 0, "zstd accepted as is");
	c[KP_BATCH_OFF_ATTRIBUTES + 1] = 7;
	is_int(resign_validate(c, n), KP_UNSUPPORTED_COMPRESSION_TYPE,
	    "codec 7 is unsupported");
	FRESH();
	kp_put_be32(c + KP_BATCH_OFF_RECORDS_COUNT, 3);
	is_int(resign_validate(c, n), KP_INVALID_RECORD,
	    "recordsCount 3 with lastOffsetDelta 1");
	kp_put_be32(c + KP_BATCH_OFF_LAST_DELTA, 2);
	is_int(resign_validate(c, n), KP_INVALID_RECORD,
	    "recordsCount 3 but two records");
	FRESH();
	kp_put_be32(c + KP_BATCH_OFF_RECORDS_COUNT, 1);
	kp_put_be32(c + KP_BATCH_OFF_LAST_DELTA, 0);
	is_int(resign_validate(c, n), KP_INVALID_RECORD,
	    "recordsCount 1 but bytes of two records");
	FRESH();
	c[77] = 0;	/* record 1's offsetDelta 1 -> 0: a repeat */
	is_int(resign_validate(c, n), KP_INVALID_RECORD,
	    "offsetDelta not increasing");
	FRESH();
	c[77] = 4;	/* offsetDelta 2 > lastOffsetDelta */
	is_int(resign_validate(c, n), KP_INVALID_RECORD,
	    "offsetDelta beyond lastOffsetDelta");
	FRESH();
	c[61] = 0x1a;	/* record 0 length 13: one byte too long */
	is_int(resign_validate(c, n), KP_INVALID_RECORD,
	    "record length disagrees with its fields");
	FRESH();
	c[64] = 0x01;	/* record 0's offsetDelta -1 */
	is_int(resign_validate(c, n), KP_INVALID_RECORD, "offsetDelta -1");
	FRESH();
	c[65] = 0x03;	/* key length -2 */
	is_int(resign_validate(c, n), KP_INVALID_RECORD, "key length -2");
	FRESH();
	c[n - 2] = 0x03; /* header value length -2 */
	is_int(resign_validate(c, n), KP_INVALID_RECORD,
	    "header value length -2");
	FRESH();
	c[n - 4] = 0x01; /* header key length -1 */
	is_int(resign_validate(c, n), KP_INVALID_RECORD, "null header key");

	/* a gzip batch whose payload is not gzip */
	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	kp_batch_builder_add(&b, 1, "k", 1, "v", 1, NULL, 0);
	kp_buf_init(&out);
	kp_batch_builder_finish(&b, &out);
	out.data[KP_BATCH_OFF_ATTRIBUTES + 1] = KP_CODEC_GZIP;
	is_int(resign_validate(out.data, out.len), KP_INVALID_RECORD,
	    "gzip flag on plain records");
	kp_batch_builder_release(&b);
	kp_buf_release(&out);
#undef FRESH
	free(c);
	free(g);
}

/* Walk everything the way a consumer would; return records seen or -1. */
static int
walk(const uint8_t *p, size_t n)
{
	struct kp_batch_iter it;
	struct kp_record rec;
	struct kp_record_header_iter hi;
	struct kp_record_header h;
	int rc, seen = 0;
	size_t sum = 0;

	if (kp_batch_iter_init(&it, p, n, MAXU) != 0) {
		kp_batch_iter_release(&it);
		return -1;
	}
	while ((rc = kp_batch_iter_next(&it, &rec)) == 1) {
		seen++;
		/* touch every borrowed byte so ASan sees any overrun */
		if (rec.key.len > 0)
			sum += rec.key.ptr[rec.key.len - 1];
		if (rec.value.len > 0)
			sum += rec.value.ptr[rec.value.len - 1];
		kp_record_header_iter_init(&hi, &rec);
		while (kp_record_header_next(&hi, &h) == 1)
			if (h.value.len > 0)
				sum += h.value.ptr[h.value.len - 1] +
				    (size_t)h.key.len;
	}
	kp_batch_iter_release(&it);
	(void)sum;
	return rc == 0 ? seen : -1;
}

static void
test_truncations(const char *name)
{
	struct kp_batch_header h;
	uint8_t *g, *c;
	size_t n, i;
	ssize_t r;
	int bad = 0;

	if ((g = fixture_hex(name, &n)) == NULL) {
		ok(0, "fixture %s", name);
		return;
	}
	for (i = 0; i < n; i++) {
		/* an exact-size copy, so ASan catches any read past it */
		c = malloc(i ? i : 1);
		memcpy(c, g, i);
		r = kp_batch_header_decode(c, i, &h);
		if (r > 0 && (size_t)r <= i)
			bad++;
		if (r == -1 || (i < KP_BATCH_HEADER_SIZE && r != 0))
			bad++;
		if (kp_batch_validate(c, i, MAXU) == 0)
			bad++;
		if (walk(c, i) >= 0)
			bad++;
		free(c);
	}
	is_int(bad, 0, "%s: every truncation is need-more or an error", name);
	free(g);
}

static unsigned long long rng = 88172645463325252ULL;

static unsigned
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

/*
 * Random corruption with a fixed seed. Half the mutants are re-signed so
 * the record parser, not the CRC, meets them. Whatever validate accepts
 * the iterator must read completely.
 */
static void
test_mutations(const char *name, int rounds)
{
	struct kp_batch_header h;
	uint8_t *g, *c;
	size_t n, len;
	int i, k, e, got, bad = 0, accepted = 0;

	if ((g = fixture_hex(name, &n)) == NULL) {
		ok(0, "fixture %s", name);
		return;
	}
	for (i = 0; i < rounds; i++) {
		len = n;
		if (rnd() % 8 == 0)
			len = n - rnd() % n;
		c = malloc(len);
		memcpy(c, g, len);
		for (k = 1 + (int)(rnd() % 4); k > 0; k--) {
			if (rnd() % 2)
				c[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			else
				c[rnd() % len] = (uint8_t)rnd();
		}
		if (rnd() % 2 && len >= KP_BATCH_HEADER_SIZE)
			kp_batch_crc_store(c, len);
		(void)kp_batch_header_decode(c, len, &h);
		e = kp_batch_validate(c, len, MAXU);
		got = walk(c, len);
		if (e != 0 && e != KP_CORRUPT_MESSAGE &&
		    e != KP_INVALID_RECORD &&
		    e != KP_UNSUPPORTED_COMPRESSION_TYPE)
			bad++;
		if (e == 0) {
			accepted++;
			kp_batch_header_decode(c, len, &h);
			if (kp_batch_codec(&h) <= KP_CODEC_GZIP &&
			    got != h.records_count)
				bad++;
		}
		free(c);
	}
	is_int(bad, 0, "%s: %d mutants, %d accepted, all consistent", name,
	    rounds, accepted);
	free(g);
}

/*
 * The validation walk as it was before the single-pass check: the
 * iterator and the header walk, public API only. kp_batch_validate_ts
 * must agree with it on every input, error and max timestamp alike.
 */
static int
ref_validate_ts(const uint8_t *p, size_t len, int64_t *max_ts)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record rec;
	struct kp_record_header_iter hi;
	struct kp_record_header rh;
	ssize_t n;
	int rc, e;
	int32_t seen = 0;

	n = kp_batch_header_decode(p, len, &h);
	if (n <= 0 || (size_t)n != len)
		return KP_CORRUPT_MESSAGE;
	*max_ts = h.max_timestamp;
	if (!kp_batch_crc_ok(p, len))
		return KP_CORRUPT_MESSAGE;
	if (kp_batch_codec(&h) > KP_CODEC_ZSTD)
		return KP_UNSUPPORTED_COMPRESSION_TYPE;
	if (h.records_count <= 0 || h.last_offset_delta < 0 ||
	    h.records_count - 1 != h.last_offset_delta)
		return KP_INVALID_RECORD;
	if (kp_batch_codec(&h) > KP_CODEC_GZIP)
		return 0;
	if ((e = kp_batch_iter_init(&it, p, len, MAXU)) != 0)
		goto out;
	while ((rc = kp_batch_iter_next(&it, &rec)) == 1) {
		if (seen == 0 || rec.timestamp > *max_ts)
			*max_ts = rec.timestamp;
		seen++;
		kp_record_header_iter_init(&hi, &rec);
		while ((rc = kp_record_header_next(&hi, &rh)) == 1)
			;
		if (rc < 0) {
			e = KP_INVALID_RECORD;
			goto out;
		}
	}
	e = rc < 0 ? it.err : 0;
	if (e == 0 && seen != h.records_count)
		e = KP_INVALID_RECORD;
out:
	kp_batch_iter_release(&it);
	return e;
}

/* 0 when validate_ts and the reference agree on p (re-signed). */
static int
agree(uint8_t *p, size_t len, int *accepted)
{
	int64_t a = 0, b = 0;
	int ea, eb;

	if (len >= KP_BATCH_HEADER_SIZE)
		kp_batch_crc_store(p, len);
	ea = kp_batch_validate_ts(p, len, MAXU, &a);
	eb = ref_validate_ts(p, len, &b);
	if (ea == 0)
		(*accepted)++;
	return ea != eb || (ea == 0 && a != b);
}

/* A uvarint of v in exactly `width` bytes (padded with 0x80 groups). */
static size_t
put_wide(uint8_t *p, uint64_t v, int width)
{
	for (int i = 0; i < width - 1; i++, v >>= 7)
		p[i] = (uint8_t)(v & 0x7f) | 0x80;
	p[width - 1] = (uint8_t)v;
	return (size_t)width;
}

/*
 * One record whose offsetDelta (0) and timestampDelta (3) are written
 * in od_w and ts_w bytes; last overrides the final byte when >= 0.
 * Returns validate's result.
 */
static int
wide_record(int od_w, int od_last, int ts_w, int ts_last, int64_t *ts)
{
	struct kp_batch_builder b;
	struct kp_buf out;
	uint8_t rec[64], *q = rec + 1;
	size_t body;
	int e;

	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	kp_batch_builder_add(&b, 100, "k", 1, "v", 1, NULL, 0);
	kp_buf_init(&out);
	kp_batch_builder_finish(&b, &out);
	out.len = KP_BATCH_HEADER_SIZE;
	*q++ = 0;				/* attributes */
	q += put_wide(q, 6, ts_w);		/* timestampDelta 3 */
	if (ts_last >= 0)
		q[-1] = (uint8_t)ts_last;
	q += put_wide(q, 0, od_w);		/* offsetDelta 0 */
	if (od_last >= 0)
		q[-1] = (uint8_t)od_last;
	memcpy(q, "\002k\002v\000", 5);	/* key, value, no headers */
	q += 5;
	body = (size_t)(q - rec) - 1;
	rec[0] = (uint8_t)(body << 1);
	kp_buf_put(&out, rec, (size_t)(q - rec));
	kp_put_be32(out.data + KP_BATCH_OFF_LENGTH,
	    (int32_t)(out.len - KP_BATCH_LOG_OVERHEAD));
	kp_batch_crc_store(out.data, out.len);
	*ts = 0;
	e = kp_batch_validate_ts(out.data, out.len, MAXU, ts);
	{
		int64_t r = 0;
		int acc = 0;

		if (ref_validate_ts(out.data, out.len, &r) != e ||
		    (e == 0 && r != *ts) || agree(out.data, out.len, &acc))
			e = -99;	/* disagreement shows as a wrong code */
	}
	kp_buf_release(&out);
	kp_batch_builder_release(&b);
	return e;
}

static void
test_varint_widths(void)
{
	int64_t ts;

	is_int(wide_record(1, -1, 1, -1, &ts), 0, "minimal varints");
	ok(ts == 103, "timestamp 100 + 3");
	is_int(wide_record(5, -1, 1, -1, &ts), 0,
	    "offsetDelta in 5 bytes (padded) is accepted, as the reader does");
	is_int(wide_record(6, -1, 1, -1, &ts), KP_INVALID_RECORD,
	    "offsetDelta in 6 bytes is not a varint");
	is_int(wide_record(5, 0x10, 1, -1, &ts), KP_INVALID_RECORD,
	    "offsetDelta with bit 32 set");
	is_int(wide_record(5, 0x0f, 1, -1, &ts), KP_INVALID_RECORD,
	    "offsetDelta of 32 bits, but not 0");
	is_int(wide_record(1, -1, 10, -1, &ts), 0,
	    "timestampDelta in 10 bytes is accepted");
	ok(ts == 103, "and decodes to 3");
	is_int(wide_record(1, -1, 10, 0x01, &ts), 0,
	    "tenth byte 1: bit 63");
	is_int(wide_record(1, -1, 10, 0x02, &ts), KP_INVALID_RECORD,
	    "tenth byte 2: beyond 64 bits");
	is_int(wide_record(1, -1, 11, -1, &ts), KP_INVALID_RECORD,
	    "timestampDelta in 11 bytes");
}

/*
 * Differential: builder batches with keys, null and empty fields,
 * headers, wild timestamps, plain, LogAppendTime and gzip; mutate
 * the records and re-sign; the single-pass check and the iterator walk
 * must give the same error and the same max timestamp.
 */
static void
test_validate_matches_iterator(int rounds)
{
	static const int64_t tss[] = { 5, 1, INT64_MAX - 1, INT64_MIN, -1,
	    1700000000000LL, 0, 1LL << 40 };
	static const int64_t lies[] = { INT64_MAX, INT64_MIN, 0, 6 };
	struct kp_record_header hs[3] = {
		{ { "a", 1 }, { (const uint8_t *)"xy", 2 } },
		{ { "", 0 }, { NULL, -1 } },
		{ { "hdr", 3 }, { (const uint8_t *)"", 0 } },
	};
	struct kp_batch_builder b;
	struct kp_buf out;
	int bad = 0, accepted = 0, n = 0;

	for (int v = 0; v < 3; v++) {
		kp_batch_builder_init(&b, v == 2 ? KP_CODEC_GZIP :
		    KP_CODEC_NONE, -1, -1, -1);
		if (v == 1)
			b.attributes = KP_BATCH_ATTR_LOG_APPEND_TIME;
		for (int i = 0; i < 24; i++)
			kp_batch_builder_add(&b, tss[i % 8],
			    i % 3 ? "key" : NULL, i % 3 ? i % 4 : -1,
			    i % 5 ? "value-bytes" : NULL, i % 5 ? i % 12 : -1,
			    hs, (size_t)(i % 4));
		kp_buf_init(&out);
		kp_batch_builder_finish(&b, &out);
		bad += agree(out.data, out.len, &accepted);
		for (int r = 0; r < rounds; r++) {
			size_t len = out.len;
			uint8_t *c;

			if (rnd() % 16 == 0)
				len = out.len - rnd() % (out.len - 62);
			c = malloc(len);
			memcpy(c, out.data, len);
			if (rnd() % 16 == 0)	/* keep the header consistent */
				kp_put_be32(c + KP_BATCH_OFF_LENGTH,
				    (int32_t)(len - KP_BATCH_LOG_OVERHEAD));
			if (rnd() % 4 == 0)	/* a header maxTimestamp that lies */
				kp_put_be64(c + KP_BATCH_OFF_MAX_TIMESTAMP,
				    lies[rnd() % 4]);
			for (int k = 1 + (int)(rnd() % 3); k > 0; k--) {
				size_t at = KP_BATCH_HEADER_SIZE +
				    rnd() % (len - KP_BATCH_HEADER_SIZE);

				if (rnd() % 2)
					c[at] ^= (uint8_t)(1u << (rnd() % 8));
				else
					c[at] = (uint8_t)rnd();
			}
			bad += agree(c, len, &accepted);
			free(c);
			n++;
		}
		kp_buf_release(&out);
		kp_batch_builder_release(&b);
	}
	is_int(bad, 0, "validate agrees with the iterator on %d mutants "
	    "(%d accepted)", n, accepted);
	ok(accepted > 3, "some mutants are still valid batches");
}

/* A gzip batch whose records inflate to 100 MB: refused at the bound. */
static void
test_bomb(void)
{
	static uint8_t zeros[1 << 16];
	struct kp_batch_builder b;
	struct kp_batch_iter it;
	struct kp_buf out;
	z_stream zs;
	size_t left = 100u << 20, room, start;
	int rc = Z_OK;

	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	kp_batch_builder_add(&b, 1, NULL, -1, "v", 1, NULL, 0);
	kp_buf_init(&out);
	kp_batch_builder_finish(&b, &out);
	out.len = KP_BATCH_HEADER_SIZE;	/* keep the header, swap records */
	start = out.len;
	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
	while (rc != Z_STREAM_END && kp_buf_reserve(&out, 1 << 16) == 0) {
		if (zs.avail_in == 0 && left > 0) {
			zs.next_in = zeros;
			zs.avail_in = sizeof(zeros);
			left -= sizeof(zeros);
		}
		room = 1 << 16;
		zs.next_out = out.data + out.len;
		zs.avail_out = (uInt)room;
		rc = deflate(&zs, left == 0 && zs.avail_in == 0 ? Z_FINISH :
		    Z_NO_FLUSH);
		out.len += room - zs.avail_out;
	}
	deflateEnd(&zs);
	ok(rc == Z_STREAM_END && out.len - start < (1 << 20),
	    "100 MB of zeros in %zu gzip bytes", out.len - start);
	out.data[KP_BATCH_OFF_ATTRIBUTES + 1] = KP_CODEC_GZIP;
	kp_put_be32(out.data + KP_BATCH_OFF_LENGTH,
	    (int32_t)(out.len - KP_BATCH_LOG_OVERHEAD));
	kp_batch_crc_store(out.data, out.len);
	is_int(kp_batch_validate(out.data, out.len, MAXU), KP_INVALID_RECORD,
	    "decompression bomb rejected at a 1 MB bound");
	is_int(kp_batch_iter_init(&it, out.data, out.len, MAXU),
	    KP_INVALID_RECORD, "iterator refuses it too");
	ok(it.scratch.cap <= 4 * MAXU, "scratch stayed near the bound: %zu",
	    it.scratch.cap);
	kp_batch_iter_release(&it);
	kp_batch_builder_release(&b);
	kp_buf_release(&out);
}

static void
test_builder_edges(void)
{
	struct kp_batch_builder b;
	struct kp_batch_iter it;
	struct kp_record rec;
	struct kp_record_header hn = { { "n", 1 }, { NULL, -1 } };
	struct kp_buf out;
	struct kp_batch_header h;
	int64_t ts;

	kp_batch_builder_init(&b, KP_CODEC_NONE, 9, 0, 0);
	b.attributes = KP_BATCH_ATTR_TRANSACTIONAL;
	b.partition_leader_epoch = -1;
	kp_batch_builder_add(&b, 500, "", 0, "", 0, &hn, 1);
	kp_batch_builder_add(&b, 400, NULL, -1, NULL, -1, NULL, 0);
	kp_batch_builder_add(&b, 600, "k", 1, NULL, -1, NULL, 0);
	kp_buf_init(&out);
	is_int(kp_batch_builder_finish(&b, &out), 0, "finish");
	kp_batch_header_decode(out.data, out.len, &h);
	ok(h.attributes == KP_BATCH_ATTR_TRANSACTIONAL &&
	    h.partition_leader_epoch == -1 && h.base_timestamp == 500 &&
	    h.max_timestamp == 600, "attributes, epoch, timestamps");
	is_int(kp_batch_validate(out.data, out.len, MAXU), 0, "validates");
	kp_batch_iter_init(&it, out.data, out.len, MAXU);
	kp_batch_iter_next(&it, &rec);
	ok(rec.key.len == 0 && rec.key.ptr != NULL && rec.value.len == 0 &&
	    rec.value.ptr != NULL, "empty key and value are not null");
	kp_batch_iter_next(&it, &rec);
	ok(rec.timestamp == 400 && rec.timestamp_delta == -100 &&
	    rec.key.ptr == NULL && rec.value.ptr == NULL,
	    "negative timestamp delta, null key and value");
	kp_batch_iter_release(&it);
	is_int(kp_batch_next_offset(&h), 3, "next offset after 3 records");

	kp_batch_set_max_timestamp(out.data, out.len, 1);
	ts = 0;
	ok(kp_batch_validate_ts(out.data, out.len, MAXU, &ts) == 0 &&
	    ts == 600, "validate reports the records' max timestamp");
	kp_batch_header_decode(out.data, out.len, &h);
	ok(h.max_timestamp == 1 && kp_batch_crc_ok(out.data, out.len),
	    "maxTimestamp set, CRC recomputed");

	/* opaque codecs: the count still has to fit the offsets */
	out.data[KP_BATCH_OFF_ATTRIBUTES + 1] = KP_CODEC_LZ4;
	kp_batch_crc_store(out.data, out.len);
	ok(kp_batch_validate_ts(out.data, out.len, MAXU, &ts) == 0 &&
	    ts == 1, "lz4: accepted, header maxTimestamp reported");
	kp_put_be32(out.data + KP_BATCH_OFF_RECORDS_COUNT, 2);
	kp_batch_crc_store(out.data, out.len);
	is_int(kp_batch_validate(out.data, out.len, MAXU), KP_INVALID_RECORD,
	    "lz4 with recordsCount != lastOffsetDelta + 1");

	/* a negative length with a pointer is null, never a negative length */
	kp_batch_builder_reset(&b);
	kp_batch_builder_add(&b, 1, "k", -5, "v", -1, NULL, 0);
	kp_buf_reset(&out);
	kp_batch_builder_finish(&b, &out);
	kp_batch_iter_init(&it, out.data, out.len, MAXU);
	ok(kp_batch_iter_next(&it, &rec) == 1 && rec.key.len == -1 &&
	    rec.value.len == -1, "negative lengths write null");
	kp_batch_iter_release(&it);
	kp_batch_builder_release(&b);

	/* a transaction marker as the Java coordinator writes it */
	kp_batch_builder_init(&b, KP_CODEC_NONE, 9, 0, -1);
	b.attributes = KP_BATCH_ATTR_TRANSACTIONAL | KP_BATCH_ATTR_CONTROL;
	kp_batch_builder_add(&b, 1, "\0\0\0\1", 4, "\0\0\0\0\0\0", 6,
	    NULL, 0);
	kp_buf_reset(&out);
	kp_batch_builder_finish(&b, &out);
	kp_batch_iter_init(&it, out.data, out.len, MAXU);
	ok(kp_batch_iter_next(&it, &rec) == 1 &&
	    kp_record_control_type(&rec) == KP_CONTROL_COMMIT,
	    "control record: commit");
	kp_batch_iter_release(&it);
	rec.key.len = 3;
	is_int(kp_record_control_type(&rec), -1, "short control key");
	kp_batch_builder_release(&b);

	/* the coordinator epoch in a marker's value, and where bytes end */
	{
		int32_t ce = 0;

		kp_buf_reset(&out);
		kp_batch_control_build(&out, 9, 0, KP_CONTROL_ABORT, 77, 1);
		ok(kp_batch_control_read(out.data, out.len, &ce) ==
		    KP_CONTROL_ABORT && ce == 77, "marker: coordinator epoch");
		ok(kp_batch_control_read(out.data, out.len - 2, &ce) ==
		    KP_CONTROL_ABORT && ce == -1,
		    "marker cut in its value: type, no epoch");
		ok(kp_batch_control_read(out.data, KP_BATCH_HEADER_SIZE + 2,
		    &ce) == -1 && ce == -1, "marker cut in its key: -1");
	}

	kp_batch_builder_init(&b, KP_CODEC_LZ4, -1, -1, -1);
	kp_batch_builder_add(&b, 1, "k", 1, "v", 1, NULL, 0);
	ok(kp_batch_builder_finish(&b, &out) == -1 && errno == EINVAL,
	    "lz4 cannot be written");
	kp_batch_builder_release(&b);
	kp_buf_release(&out);
}

int
main(void)
{
	test_golden();
	test_gzip_fixture();
	test_setters();
	test_validate_errors();
	test_builder_edges();
	test_truncations("batch_golden.hex");
	test_truncations("batch_gzip50.hex");
	test_mutations("batch_golden.hex", 20000);
	test_mutations("batch_gzip50.hex", 3000);
	test_bomb();
	test_varint_widths();
	test_validate_matches_iterator(20000);
	return tap_done();
}
