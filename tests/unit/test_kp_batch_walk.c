/* test_kp_batch_walk.c -- kp_batch_validate_ts against the old record walk on random batches and mutants */
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_compress.h"
#include "kp_err.h"
#include "batch_walk_ref.h"
#include "tap.h"

#define MAXU	(1u << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t
below(uint32_t n)
{
	return rnd() % n;
}

static uint64_t
rnd64(void)
{
	return (uint64_t)rnd() << 32 ^ rnd();
}

/* How each batch is drawn: flaws per mille, homogeneous or wild records. */
struct style {
	int	flaw;		/* chance of a planted flaw per field, /1000 */
	int	same;		/* all records drawn alike */
	int	kshape, vshape;	/* length class when same */
	int	nh;		/* header count when same */
	int	tshape;
	int	big;		/* three-byte lengths allowed (few records) */
};

static int
flaw(const struct style *st)
{
	return (int)below(1000) < st->flaw;
}

static int
uwidth(uint64_t u)
{
	int w = 1;

	for (; u >= 0x80; u >>= 7)
		w++;
	return w;
}

/* u as a varint of exactly w bytes (zero groups padding it). */
static void
put_wide(struct kp_buf *b, uint64_t u, int w)
{
	uint8_t t[16];

	for (int i = 0; i < w - 1; i++, u >>= 7)
		t[i] = (uint8_t)(u & 0x7f) | 0x80;
	t[w - 1] = (uint8_t)u;
	kp_buf_put(b, t, (size_t)w);
}

/*
 * A zigzag varint u of at most maxw bytes, now and then padded (still
 * valid, as the readers take it) or, as a flaw, a byte too many or, in
 * the last byte, a bit beyond the type (top << 0..nbits-1).
 */
static void
put_zz(struct kp_buf *b, uint64_t u, int maxw, uint8_t top, uint32_t nbits,
    const struct style *st)
{
	int w = uwidth(u);

	if (below(10) == 0)
		w += (int)below((uint32_t)(maxw + 1 - w));
	if (flaw(st)) {
		if (below(2)) {
			put_wide(b, u, maxw + 1);
		} else {
			put_wide(b, u, maxw);
			b->data[b->len - 1] |= (uint8_t)(top << below(nbits));
		}
		return;
	}
	put_wide(b, u, w);
}

static void
put_v32(struct kp_buf *b, int32_t v, const struct style *st)
{
	put_zz(b, (uint32_t)v << 1 ^ (uint32_t)(v >> 31), 5, 0x10, 3, st);
}

static void
put_v64(struct kp_buf *b, int64_t v, const struct style *st)
{
	put_zz(b, (uint64_t)v << 1 ^ (uint64_t)(v >> 63), 10, 2, 6, st);
}

/* A length class: null, empty, short, two-byte, three-byte lengths. */
static int32_t
draw_len(int shape)
{
	switch (shape) {
	case 0:
		return -1;
	case 1:
		return 0;
	case 2:
		return 1 + (int32_t)below(30);
	case 3:
		return 31 + (int32_t)below(300);
	default:
		return 8000 + (int32_t)below(3000);
	}
}

static int
draw_shape(const struct style *st)
{
	static const int cls[16] = { 0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3,
	    3, 3 };

	return st->big && below(16) == 0 ? 4 : cls[below(16)];
}

static int64_t
draw_tsd(int shape)
{
	static const int64_t wild[] = { INT64_MIN, INT64_MAX, -1, 0,
	    INT64_MIN + 1, 1LL << 62 };

	switch (shape) {
	case 0:
		return 0;
	case 1:
		return (int64_t)below(200) - 100;
	case 2:
		return (int64_t)below(20000) - 10000;
	case 3:
		return (int64_t)(rnd64() % (1ULL << 41)) - (1LL << 40);
	case 4:
		return (int64_t)rnd64();
	default:
		return wild[below(sizeof(wild) / sizeof(wild[0]))];
	}
}

/* A nullable length-prefixed field, random bytes from a pool. */
static void
put_field(struct kp_buf *b, int32_t n, const struct style *st)
{
	static uint8_t pool[16384];

	if (pool[0] == 0)
		for (size_t i = 0; i < sizeof(pool); i++)
			pool[i] = (uint8_t)(rnd() | 1);
	put_v32(b, n, st);
	if (n > 0)
		kp_buf_put(b, pool + below((uint32_t)(sizeof(pool) -
		    (size_t)n)), (size_t)n);
}

static void
put_record(struct kp_buf *out, int32_t od, const struct style *st)
{
	struct kp_buf r;
	int32_t nh, body;

	kp_buf_init(&r);
	kp_buf_put_i8(&r, (int8_t)rnd());		/* attributes */
	put_v64(&r, draw_tsd(st->same ? st->tshape : (int)below(6)), st);
	put_v32(&r, flaw(st) ? od + (int32_t)below(5) - 2 : od, st);
	put_field(&r, draw_len(st->same ? st->kshape : draw_shape(st)), st);
	put_field(&r, draw_len(st->same ? st->vshape : draw_shape(st)), st);
	nh = st->same ? st->nh : below(3) ? 0 : (int32_t)below(6);
	put_v32(&r, flaw(st) ? nh + (int32_t)below(3) - 1 : nh, st);
	for (int32_t i = 0; i < nh; i++) {
		put_field(&r, flaw(st) ? -1 : (int32_t)below(12), st);
		put_field(&r, below(4) ? draw_len((int)below(3)) :
		    (int32_t)below(200), st);
	}
	body = (int32_t)r.len;
	if (flaw(st))
		body += (int32_t)below(5) - 2;
	put_v32(out, body, st);
	kp_buf_put(out, r.data, r.len);
	kp_buf_release(&r);
}

/* A v2 batch header for count records; reframe fills batchLength, CRC. */
static void
put_header(struct kp_buf *b, int64_t base_offset, int32_t epoch,
    int16_t attr, int32_t count, int64_t base_ts, int64_t max_ts)
{
	kp_buf_put_i64(b, base_offset);
	kp_buf_put_i32(b, 0);			/* batchLength */
	kp_buf_put_i32(b, epoch);		/* partitionLeaderEpoch */
	kp_buf_put_i8(b, KP_BATCH_MAGIC);
	kp_buf_put_i32(b, 0);			/* crc */
	kp_buf_put_i16(b, attr);
	kp_buf_put_i32(b, count - 1);		/* lastOffsetDelta */
	kp_buf_put_i64(b, base_ts);
	kp_buf_put_i64(b, max_ts);
	kp_buf_put_i64(b, -1);			/* producerId */
	kp_buf_put_i16(b, -1);			/* producerEpoch */
	kp_buf_put_i32(b, -1);			/* baseSequence */
	kp_buf_put_i32(b, count);		/* recordsCount */
}

/*
 * A batch of records drawn in style st: valid unless a flaw was
 * planted. gzip now and then, LogAppendTime now and then.
 */
static void
make_batch(struct kp_buf *out, struct style *st)
{
	static const int64_t bases[] = { 1700000000000LL, 0, -5,
	    INT64_MAX, INT64_MIN, 1LL << 62 };
	struct kp_buf recs;
	int64_t base_offset, base_ts, max_ts;
	int32_t n, count, epoch;
	int16_t attr = 0;
	int gz = below(16) == 0;

	n = below(4) ? 1 + (int32_t)below(12) : 1 + (int32_t)below(200);
	st->big = n <= 12;
	if (!st->big && st->kshape == 4)
		st->kshape = 3;
	if (!st->big && st->vshape == 4)
		st->vshape = 3;
	if (gz)
		attr |= KP_CODEC_GZIP;
	if (below(4) == 0)
		attr |= KP_BATCH_ATTR_LOG_APPEND_TIME;
	if (below(8) == 0)
		attr |= KP_BATCH_ATTR_TRANSACTIONAL;
	kp_buf_init(&recs);
	for (int32_t i = 0; i < n; i++)
		put_record(&recs, i, st);
	if (flaw(st))				/* bytes after the last one */
		for (int i = 1 + (int)below(8); i > 0; i--)
			kp_buf_put_i8(&recs, (int8_t)rnd());
	count = n;
	if (flaw(st))
		count += (int32_t)below(5) - 2;
	/* drawn one by one: the order of a call's arguments is unspecified */
	base_offset = (int64_t)below(1000);
	epoch = (int32_t)below(3) - 1;
	base_ts = bases[below(6)];
	max_ts = (int64_t)rnd64();
	kp_buf_reset(out);
	put_header(out, base_offset, epoch, attr, count, base_ts, max_ts);
	if (gz)
		kp_gzip_compress(recs.data, recs.len, out);
	else
		kp_buf_put(out, recs.data, recs.len);
	kp_buf_release(&recs);
}

/* Re-frame: batchLength to the bytes there, CRC over them. */
static void
reframe(struct kp_buf *b)
{
	kp_put_be32(b->data + KP_BATCH_OFF_LENGTH,
	    (int32_t)(b->len - KP_BATCH_LOG_OVERHEAD));
	kp_batch_crc_store(b->data, b->len);
}

/*
 * Seeded damage after the fact: bit flips, random bytes, inserted and
 * deleted bytes, padded (overlong) varints, a truncation; mostly in the
 * records, now and then in the header fields the walk reads (attributes
 * to recordsCount).
 */
static void
mutate(struct kp_buf *b)
{
	for (int k = 1 + (int)below(3); k > 0; k--) {
		size_t lo = below(8) == 0 ? KP_BATCH_OFF_ATTRIBUTES :
		    KP_BATCH_HEADER_SIZE;
		size_t at;

		if (b->len <= lo)
			return;
		at = lo + below((uint32_t)(b->len - lo));
		switch (below(6)) {
		case 0:
			b->data[at] ^= (uint8_t)(1u << below(8));
			break;
		case 5:		/* a varint's last byte one longer: padded */
			kp_buf_put_i8(b, 0);
			memmove(b->data + at + 2, b->data + at + 1,
			    b->len - at - 2);
			b->data[at] |= 0x80;
			b->data[at + 1] = 0;
			break;
		case 1:
			b->data[at] = (uint8_t)rnd();
			break;
		case 2:
			kp_buf_put_i8(b, 0);
			memmove(b->data + at + 1, b->data + at,
			    b->len - at - 1);
			b->data[at] = (uint8_t)rnd();
			break;
		case 3:
			memmove(b->data + at, b->data + at + 1,
			    b->len - at - 1);
			b->len--;
			break;
		default:
			b->len = at;
			break;
		}
	}
}

struct tally {
	int	cases, bad, accepted;
	int	first_bad;
};

/*
 * Both walks on a copy of exactly the batch's size, so that under
 * ASan a read past the end is caught (the kp_buf has spare room).
 */
static void
compare(const struct kp_buf *b, struct tally *t)
{
	int64_t a = 42, r = 42;
	uint8_t *c;
	int ea, er;

	if ((c = malloc(b->len > 0 ? b->len : 1)) == NULL)
		abort();
	memcpy(c, b->data, b->len);
	ea = kp_batch_validate_ts(c, b->len, MAXU, &a);
	er = ref_validate_ts(c, b->len, MAXU, &r);
	free(c);
	if (ea != er || a != r) {
		if (t->bad++ == 0)
			t->first_bad = t->cases;
	}
	if (ea == 0)
		t->accepted++;
	t->cases++;
}

static void
draw_style(struct style *st)
{
	static const int flaws[] = { 0, 0, 2, 10, 40 };

	st->flaw = flaws[below(5)];
	st->same = below(2);
	st->big = 1;
	st->kshape = draw_shape(st);
	st->vshape = draw_shape(st);
	st->nh = below(3) ? 0 : (int)below(6);
	st->tshape = (int)below(6);
}

static void
test_random(int rounds)
{
	struct kp_buf b;
	struct style st;
	struct tally valid = { 0 }, mut = { 0 };

	kp_buf_init(&b);
	for (int i = 0; i < rounds; i++) {
		draw_style(&st);
		make_batch(&b, &st);
		reframe(&b);
		compare(&b, st.flaw ? &mut : &valid);
		for (int m = 0; m < 3; m++) {
			make_batch(&b, &st);
			mutate(&b);
			if (below(16))
				reframe(&b);
			compare(&b, &mut);
		}
	}
	kp_buf_release(&b);
	is_int(valid.bad, 0, "%d clean batches: same answer as the old walk "
	    "(first differing: %d)", valid.cases, valid.first_bad);
	is_int(valid.accepted, valid.cases, "and every clean batch accepted");
	is_int(mut.bad, 0, "%d flawed or mutated batches: same answer "
	    "(first differing: %d)", mut.cases, mut.first_bad);
	ok(mut.accepted > mut.cases / 50 && mut.accepted < mut.cases / 2,
	    "a mix of them accepted (%d of %d)", mut.accepted, mut.cases);
}

/*
 * Records of every size from the smallest up, so each one in turn ends
 * at each distance from the end of the batch (where the walk changes
 * its way of reading), cut at every length.
 */
static void
test_tail_lengths(void)
{
	struct style st = { 0 };
	struct kp_buf b, recs;
	struct tally t = { 0 };

	kp_buf_init(&b);
	kp_buf_init(&recs);
	for (int32_t vlen = -1; vlen < 40; vlen++) {
		kp_buf_reset(&recs);
		for (int32_t i = 0; i < 6; i++) {
			struct kp_buf r;

			kp_buf_init(&r);
			kp_buf_put_i8(&r, 0);
			put_wide(&r, (uint64_t)(i * 3) << 1, 1);
			put_wide(&r, (uint64_t)i << 1, 1);
			put_field(&r, -1, &st);
			put_field(&r, vlen < 0 ? -1 : vlen + i, &st);
			kp_buf_put_i8(&r, 0);
			put_wide(&recs, (uint64_t)r.len << 1, uwidth(r.len << 1));
			kp_buf_put(&recs, r.data, r.len);
			kp_buf_release(&r);
		}
		for (size_t cut = 0; cut <= recs.len; cut++) {
			kp_buf_reset(&b);
			put_header(&b, 0, 0, 0, 6, 1000, 0);
			kp_buf_put(&b, recs.data, recs.len - cut);
			reframe(&b);
			compare(&b, &t);
		}
	}
	kp_buf_release(&recs);
	kp_buf_release(&b);
	is_int(t.bad, 0, "%d batches cut short at every length: same answer "
	    "(first differing: %d)", t.cases, t.first_bad);
	ok(t.accepted == 41, "the %d uncut ones accepted", t.accepted);
}

/*
 * Records that claim fewer bytes than their fields take, fields written
 * as long as a varint may be (padded nulls, zeros), running into the
 * bytes after the record: the fast walk reads past a record's end before
 * it notices, and must stay inside the buffer doing so (under ASan the
 * exact-size copy in compare makes a stray read fail). Every tail
 * length from none to 40 bytes.
 */
static void
test_overruns(void)
{
	static const uint8_t zero5[] = { 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t null5[] = { 0x81, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t zero10[] = { 0x80, 0x80, 0x80, 0x80, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x00 };
	struct kp_buf b, pat;
	struct tally t = { 0 };

	kp_buf_init(&b);
	kp_buf_init(&pat);
	kp_buf_put_i8(&pat, 0);				/* attributes */
	kp_buf_put(&pat, zero10, sizeof(zero10));	/* timestampDelta */
	kp_buf_put(&pat, zero5, sizeof(zero5));		/* offsetDelta */
	for (int i = 0; i < 12; i++)			/* key, value, ... */
		kp_buf_put(&pat, i % 3 == 2 ? zero5 : null5, 5);
	for (int rlen = 6; rlen <= 14; rlen++)
		for (int tail = 0; tail <= 40; tail++)
			for (int count = 1; count <= 3; count++) {
				kp_buf_reset(&b);
				put_header(&b, 0, 0, 0, count, 0, 0);
				kp_buf_put_i8(&b, (int8_t)(rlen << 1));
				kp_buf_put(&b, pat.data,
				    (size_t)(rlen + tail) < pat.len ?
				    (size_t)(rlen + tail) : pat.len);
				reframe(&b);
				compare(&b, &t);
			}
	kp_buf_release(&pat);
	kp_buf_release(&b);
	is_int(t.bad, 0, "%d records overrunning their length: same answer "
	    "(first differing: %d)", t.cases, t.first_bad);
	is_int(t.accepted, 0, "and none accepted");
}

int
main(void)
{
	test_random(10000);
	test_tail_lengths();
	test_overruns();
	return tap_done();
}
