/* kp_compact.c -- the log cleaner: newest record per key, rewritten segment by segment */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_compact.h"
#include "kp_compress.h"
#include "kp_segment.h"
#include "kp_txnindex.h"

#define INFLATE_MAX	(64u << 20)

struct slot {
	uint64_t	 hash;		/* 0: empty */
	size_t		 koff;		/* key bytes in the arena */
	size_t		 klen;
	int64_t		 offset;
};

struct kp_keymap {
	struct slot	*slots;
	size_t		 cap;		/* power of two */
	size_t		 n;
	struct kp_buf	 arena;
	kp_compact_aborted_fn *aborted;
	void		*aborted_arg;
};

void
kp_keymap_set_aborted(struct kp_keymap *m, kp_compact_aborted_fn *fn,
    void *arg)
{
	m->aborted = fn;
	m->aborted_arg = arg;
}

static uint64_t
hash_key(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

struct kp_keymap *
kp_keymap_new(void)
{
	struct kp_keymap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cap = 1024;
	if ((m->slots = calloc(m->cap, sizeof(*m->slots))) == NULL) {
		free(m);
		return NULL;
	}
	kp_buf_init(&m->arena);
	return m;
}

void
kp_keymap_free(struct kp_keymap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	kp_buf_release(&m->arena);
	free(m);
}

static struct slot *
find(const struct kp_keymap *m, uint64_t h, const void *k, size_t n)
{
	size_t i = h & (m->cap - 1);

	for (;; i = (i + 1) & (m->cap - 1)) {
		struct slot *s = &m->slots[i];

		if (s->hash == 0)
			return s;
		if (s->hash == h && s->klen == n &&
		    memcmp(m->arena.data + s->koff, k, n) == 0)
			return s;
	}
}

static int
rehash(struct kp_keymap *m)
{
	struct slot *old = m->slots;
	size_t ocap = m->cap;

	if ((m->slots = calloc(ocap * 2, sizeof(*m->slots))) == NULL) {
		m->slots = old;
		return -1;
	}
	m->cap = ocap * 2;
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (old[i].hash == 0)
			continue;
		for (j = old[i].hash & (m->cap - 1); m->slots[j].hash != 0;
		    j = (j + 1) & (m->cap - 1))
			;
		m->slots[j] = old[i];
	}
	free(old);
	return 0;
}

int
kp_keymap_put(struct kp_keymap *m, const void *k, size_t n, int64_t off)
{
	uint64_t h = hash_key(k, n);
	struct slot *s;

	if ((m->n + 1) * 2 > m->cap && rehash(m) < 0)
		return -1;
	s = find(m, h, k, n);
	if (s->hash == 0) {
		size_t at = m->arena.len;

		kp_buf_put(&m->arena, k, n);
		if (m->arena.err) {
			errno = ENOMEM;
			return -1;
		}
		s->hash = h;
		s->koff = at;
		s->klen = n;
		s->offset = off;
		m->n++;
	} else if (off > s->offset)
		s->offset = off;
	return 0;
}

int64_t
kp_keymap_get(const struct kp_keymap *m, const void *k, size_t n)
{
	struct slot *s = find(m, hash_key(k, n), k, n);

	return s->hash == 0 ? -1 : s->offset;
}

size_t
kp_keymap_count(const struct kp_keymap *m)
{
	return m->n;
}

/* Load the batch at pos into scratch; its size, 0 at the end, -1. */
static int64_t
load(struct kp_segment *s, int64_t pos, struct kp_buf *scratch,
    struct kp_batch_header *h)
{
	int64_t b, l, n;
	struct kp_log_slice sl;

	if ((n = kp_segment_header_at(s, pos, &b, &l, NULL)) <= 0)
		return n;
	sl.fd = s->fd;
	sl.pos = (off_t)pos;
	sl.len = (size_t)n;
	kp_buf_reset(scratch);
	if (kp_log_slice_load(&sl, scratch) < 0)
		return -1;
	if (kp_batch_header_decode(scratch->data, scratch->len, h) != n) {
		errno = EIO;
		return -1;
	}
	return n;
}

static bool
readable(const struct kp_batch_header *h)
{
	return !(h->attributes & KP_BATCH_ATTR_CONTROL) &&
	    kp_batch_codec(h) <= KP_CODEC_GZIP;
}

int
kp_compact_scan(struct kp_keymap *m, struct kp_segment *s,
    struct kp_buf *scratch)
{
	struct kp_batch_header h;
	int64_t pos, n;

	for (pos = 0; pos < s->size; pos += n) {
		struct kp_batch_iter it;
		struct kp_record r;
		int rc = 0;

		if ((n = load(s, pos, scratch, &h)) <= 0)
			return n == 0 ? 0 : -1;
		if (!readable(&h))
			continue;
		if ((h.attributes & KP_BATCH_ATTR_TRANSACTIONAL) &&
		    m->aborted != NULL && m->aborted(m->aborted_arg,
		    h.producer_id, h.base_offset))
			continue;
		if (kp_batch_iter_init(&it, scratch->data, scratch->len,
		    INFLATE_MAX) == 0)
			while ((rc = kp_batch_iter_next(&it, &r)) == 1)
				if (r.key.len >= 0 && kp_keymap_put(m,
				    r.key.ptr, (size_t)r.key.len,
				    r.offset) < 0) {
					rc = -2;
					break;
				}
		kp_batch_iter_release(&it);
		if (rc == -2)
			return -1;
	}
	return 0;
}

/* Compress the records after the header at hdr_at again, as they came. */
static int
regzip(struct kp_buf *out, size_t hdr_at)
{
	size_t rec_at = hdr_at + KP_BATCH_HEADER_SIZE;
	struct kp_buf z;

	kp_buf_init(&z);
	if (kp_gzip_compress(out->data + rec_at, out->len - rec_at, &z) < 0) {
		kp_buf_release(&z);
		return -1;
	}
	out->len = rec_at;
	kp_buf_put(out, z.data, z.len);
	kp_buf_release(&z);
	if (out->err) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/*
 * Filter one batch (in scratch) into out. Returns records kept, or -1.
 * Sets *all when nothing went.
 */
static int
filter(const struct kp_keymap *m, struct kp_buf *scratch, bool drop_tomb,
    struct kp_buf *out, struct kp_compact_report *rep, bool *all)
{
	struct kp_compact_report one = { 0 };
	struct kp_batch_iter it;
	struct kp_record r;
	int kept = 0, seen = 0, rc, codec;
	size_t hdr_at = out->len;

	*all = false;
	if (kp_batch_iter_init(&it, scratch->data, scratch->len,
	    INFLATE_MAX) != 0) {
		kp_batch_iter_release(&it);
		*all = true;	/* unreadable: keep it untouched */
		return 1;
	}
	codec = kp_batch_codec(&it.hdr);
	kp_buf_put(out, scratch->data, KP_BATCH_HEADER_SIZE);
	for (;;) {
		size_t from = it.r.off;
		bool keep;

		if ((rc = kp_batch_iter_next(&it, &r)) != 1)
			break;
		seen++;
		if (r.key.len < 0)
			keep = true;
		else if (kp_keymap_get(m, r.key.ptr, (size_t)r.key.len) !=
		    r.offset) {
			keep = false;
			one.records_removed++;
		} else if (r.value.len < 0 && drop_tomb) {
			keep = false;
			one.tombstones_removed++;
		} else {
			keep = true;
			if (r.value.len < 0)
				one.tombstones_kept++;
		}
		if (keep) {
			kp_buf_put(out, it.r.p + from, it.r.off - from);
			kept++;
		}
	}
	kp_batch_iter_release(&it);
	if (rc < 0) {
		out->len = hdr_at;
		*all = true;	/* undecodable: keep as is, never lose data */
		return 1;
	}
	rep->records_kept += kept;
	rep->records_removed += one.records_removed;
	rep->tombstones_removed += one.tombstones_removed;
	rep->tombstones_kept += one.tombstones_kept;
	if (kept == seen) {
		out->len = hdr_at;
		*all = true;
		return kept;
	}
	if (kept == 0) {
		out->len = hdr_at;
		return 0;
	}
	if (out->err) {
		errno = ENOMEM;
		return -1;
	}
	if (codec == KP_CODEC_GZIP && regzip(out, hdr_at) < 0)
		return -1;
	{
		uint8_t *b = out->data + hdr_at;
		size_t len = out->len - hdr_at;

		kp_put_be32(b + KP_BATCH_OFF_LENGTH,
		    (int32_t)(len - KP_BATCH_LOG_OVERHEAD));
		kp_put_be32(b + KP_BATCH_OFF_RECORDS_COUNT, kept);
		kp_batch_crc_store(b, len);
	}
	return kept;
}

/* txns keys: a kind byte, then the producer id */
static void
txn_key(uint8_t k[9], char kind, int64_t pid)
{
	k[0] = (uint8_t)kind;
	memcpy(k + 1, &pid, sizeof(pid));
}

static int
txn_put(struct kp_keymap *txns, char kind, int64_t pid, int64_t off)
{
	uint8_t k[9];

	txn_key(k, kind, pid);
	return kp_keymap_put(txns, k, sizeof(k), off);
}

static int64_t
txn_get(const struct kp_keymap *txns, char kind, int64_t pid)
{
	uint8_t k[9];

	txn_key(k, kind, pid);
	return kp_keymap_get(txns, k, sizeof(k));
}

/*
 * A marker ends its producer's transaction. Kafka's cleaner drops it once
 * no record of its transaction is left and it is past delete.retention.ms
 * (here: its segment, as tombstones); true when this one goes. -1 on
 * ENOMEM.
 */
static int
marker_goes(struct kp_keymap *txns, const struct kp_batch_header *h,
    bool drop, int64_t below)
{
	int64_t prev = txn_get(txns, 'm', h->producer_id);
	bool kept = txn_get(txns, 'd', h->producer_id) > prev;

	if (txn_put(txns, 'm', h->producer_id, h->base_offset) < 0)
		return -1;
	return drop && h->base_offset < below && !kept;
}

/* A kept marker's aborted transaction, if src indexes it, into xi_out. */
static void
keep_aborted(const struct kp_segment *src, int64_t marker,
    struct kp_buf *xi_out)
{
	uint8_t e[KP_TXNINDEX_ENTRY];

	for (size_t i = 0; i < src->xi.n; i++)
		if (src->xi.e[i].last_offset == marker) {
			kp_txnindex_encode(e, &src->xi.e[i]);
			kp_buf_put(xi_out, e, sizeof(e));
		}
}

int
kp_compact_rewrite(const struct kp_keymap *m, struct kp_keymap *txns,
    int64_t markers_below, struct kp_segment *src, struct kp_segment *dst,
    struct kp_buf *xi_out, bool drop_tomb, struct kp_buf *scratch,
    struct kp_compact_report *rep)
{
	struct kp_batch_header h;
	struct kp_buf out;
	int64_t pos, n;
	int rc = -1;

	kp_buf_init(&out);
	rep->bytes_before += src->size;
	for (pos = 0; pos < src->size; pos += n) {
		bool all = true;
		int kept = 1;

		if ((n = load(src, pos, scratch, &h)) < 0)
			goto fail;
		if (n == 0)
			break;
		if (h.attributes & KP_BATCH_ATTR_CONTROL) {
			int gone = marker_goes(txns, &h, drop_tomb,
			    markers_below);

			if (gone < 0)
				goto fail;
			if (gone) {
				rep->markers_removed++;
				continue;
			}
			keep_aborted(src, h.base_offset, xi_out);
		}
		kp_buf_reset(&out);
		if (readable(&h) &&
		    (kept = filter(m, scratch, drop_tomb, &out, rep, &all)) < 0)
			goto fail;
		if (kept == 0)
			continue;
		if ((h.attributes & (KP_BATCH_ATTR_TRANSACTIONAL |
		    KP_BATCH_ATTR_CONTROL)) == KP_BATCH_ATTR_TRANSACTIONAL &&
		    txn_put(txns, 'd', h.producer_id, h.base_offset) < 0)
			goto fail;
		if (all ? kp_segment_append(dst, scratch->data, scratch->len) :
		    kp_segment_append(dst, out.data, out.len))
			goto fail;
	}
	if (xi_out->err) {
		errno = ENOMEM;
		goto fail;
	}
	rep->bytes_after += dst->size;
	rc = 0;
fail:
	kp_buf_release(&out);
	return rc;
}
