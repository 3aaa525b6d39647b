/* kp_pstate_snap.c -- the producer state snapshot file of one partition, encoded and checked */
#include <string.h>

#include "kp_crc32c.h"
#include "kp_pstate_snap.h"

#define CRC_AT		2	/* after the version */
#define BODY_AT		6	/* after the CRC */
#define COUNT_AT	14	/* after end_offset */
#define HEADER_SIZE	18

void
kp_pstate_snap_begin(struct kp_buf *b, int64_t end_offset)
{
	kp_buf_put_i16(b, KP_PSTATE_SNAP_VERSION);
	kp_buf_put_u32(b, 0);			/* CRC, set by finish */
	kp_buf_put_i64(b, end_offset);
	kp_buf_put_i32(b, 0);			/* count, set by finish */
}

void
kp_pstate_snap_add(struct kp_buf *b, const struct kp_pstate_snap_entry *e)
{
	int n = e->n < 0 ? 0 : e->n > KP_PSTATE_SNAP_KEEP ?
	    KP_PSTATE_SNAP_KEEP : e->n;

	kp_buf_put_i64(b, e->pid);
	kp_buf_put_i16(b, e->epoch);
	kp_buf_put_i64(b, e->last_ms);
	kp_buf_put_i8(b, (int8_t)n);
	for (int i = 0; i < n; i++) {
		kp_buf_put_i32(b, e->batches[i].first_seq);
		kp_buf_put_i32(b, e->batches[i].last_seq);
		kp_buf_put_i64(b, e->batches[i].base_offset);
	}
	kp_buf_put_i64(b, e->txn_first < 0 ? -1 : e->txn_first);
	kp_buf_put_i32(b, e->coord_epoch < 0 ? -1 : e->coord_epoch);
}

/* Entries are counted by walking them: the encoder keeps no state. */
static int32_t
count_entries(const uint8_t *p, size_t len)
{
	size_t pos = HEADER_SIZE;
	int32_t n = 0;

	while (pos + 19 <= len) {
		pos += 19 + (size_t)p[pos + 18] * 16 + 8 + 4;
		n++;
	}
	return n;
}

int
kp_pstate_snap_finish(struct kp_buf *b)
{
	if (b->err != 0 || b->len < HEADER_SIZE)
		return -1;
	kp_buf_set_i32(b, COUNT_AT, count_entries(b->data, b->len));
	kp_buf_set_i32(b, CRC_AT, (int32_t)kp_crc32c(0, b->data + BODY_AT,
	    b->len - BODY_AT));
	return 0;
}

static int
read_entry(struct kp_reader *r, int16_t version,
    struct kp_pstate_snap_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->pid = kp_read_i64(r);
	e->epoch = kp_read_i16(r);
	e->last_ms = kp_read_i64(r);
	e->n = kp_read_i8(r);
	if (e->n < 0 || e->n > KP_PSTATE_SNAP_KEEP)
		return kp_reader_fail(r, KP_EBAD), -1;
	for (int i = 0; i < e->n; i++) {
		e->batches[i].first_seq = kp_read_i32(r);
		e->batches[i].last_seq = kp_read_i32(r);
		e->batches[i].base_offset = kp_read_i64(r);
	}
	e->txn_first = version >= 2 ? kp_read_i64(r) : -1;
	e->coord_epoch = version >= 3 ? kp_read_i32(r) : -1;
	if (r->err == KP_OK && (e->pid < 0 || e->epoch < 0 ||
	    e->txn_first < -1 || e->coord_epoch < -1))
		kp_reader_fail(r, KP_EBAD);
	return r->err == KP_OK ? 0 : -1;
}

int
kp_pstate_snap_open(struct kp_pstate_snap_reader *sr, const uint8_t *p,
    size_t len)
{
	struct kp_pstate_snap_entry e;
	struct kp_reader walk;
	uint32_t crc;

	memset(sr, 0, sizeof(*sr));
	kp_reader_init(&sr->r, p, len);
	if (len < HEADER_SIZE) {
		sr->why = "short";
		return -1;
	}
	sr->version = kp_read_i16(&sr->r);
	if (sr->version < 1 || sr->version > KP_PSTATE_SNAP_VERSION) {
		sr->why = "unknown version";
		return -1;
	}
	crc = kp_read_u32(&sr->r);
	if (crc != kp_crc32c(0, p + BODY_AT, len - BODY_AT)) {
		sr->why = "checksum mismatch";
		return -1;
	}
	sr->end_offset = kp_read_i64(&sr->r);
	sr->count = kp_read_i32(&sr->r);
	sr->why = "malformed";
	if (sr->end_offset < 0 || sr->count < 0)
		return -1;
	/* every entry must parse and the last must end the file */
	walk = sr->r;
	for (int32_t i = 0; i < sr->count; i++)
		if (read_entry(&walk, sr->version, &e) == -1)
			return -1;
	if (kp_reader_left(&walk) != 0)
		return -1;
	sr->left = sr->count;
	sr->why = NULL;
	return 0;
}

int
kp_pstate_snap_next(struct kp_pstate_snap_reader *sr,
    struct kp_pstate_snap_entry *e)
{
	if (sr->left <= 0 || read_entry(&sr->r, sr->version, e) == -1)
		return 0;
	sr->left--;
	return 1;
}
