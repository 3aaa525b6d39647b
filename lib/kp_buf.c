/* kp_buf.c -- growable byte buffer and bounds-checked reader */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_buf.h"

void
kp_buf_init(struct kp_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
kp_buf_release(struct kp_buf *b)
{
	free(b->data);
	kp_buf_init(b);
}

void
kp_buf_reset(struct kp_buf *b)
{
	b->len = 0;
	b->err = 0;
}

int
kp_buf_reserve(struct kp_buf *b, size_t n)
{
	size_t	 cap;
	uint8_t	*p;

	if (b->err)
		return -1;
	/* Allocate even for n == 0, so extend never offsets a null pointer. */
	if (b->data != NULL && n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len)
		goto fail;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		goto fail;
	b->data = p;
	b->cap = cap;
	return 0;
fail:
	b->err = ENOMEM;
	errno = ENOMEM;
	return -1;
}

uint8_t *
kp_buf_extend(struct kp_buf *b, size_t n)
{
	uint8_t *p;

	if (kp_buf_reserve(b, n) == -1)
		return NULL;
	p = b->data + b->len;
	b->len += n;
	return p;
}

void
kp_buf_put(struct kp_buf *b, const void *src, size_t n)
{
	uint8_t *p;

	if (n && (p = kp_buf_extend(b, n)) != NULL)
		memcpy(p, src, n);
}

void
kp_buf_consume(struct kp_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

uint8_t *
kp_buf_steal(struct kp_buf *b, size_t *lenp)
{
	uint8_t *p = b->data;

	if (lenp)
		*lenp = b->len;
	kp_buf_init(b);
	return p;
}

int16_t
kp_be16(const uint8_t *p)
{
	return (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
}

int32_t
kp_be32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

int64_t
kp_be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)(uint32_t)kp_be32(p) << 32 |
	    (uint32_t)kp_be32(p + 4));
}

void
kp_put_be16(uint8_t *p, int16_t v)
{
	uint16_t u = (uint16_t)v;

	p[0] = u >> 8;
	p[1] = u & 0xff;
}

void
kp_put_be32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = u >> 24;
	p[1] = (u >> 16) & 0xff;
	p[2] = (u >> 8) & 0xff;
	p[3] = u & 0xff;
}

void
kp_put_be64(uint8_t *p, int64_t v)
{
	kp_put_be32(p, (int32_t)((uint64_t)v >> 32));
	kp_put_be32(p + 4, (int32_t)((uint64_t)v & 0xffffffffu));
}

void
kp_buf_put_i8(struct kp_buf *b, int8_t v)
{
	uint8_t *p;

	if ((p = kp_buf_extend(b, 1)) != NULL)
		p[0] = (uint8_t)v;
}

void
kp_buf_put_i16(struct kp_buf *b, int16_t v)
{
	uint8_t *p;

	if ((p = kp_buf_extend(b, 2)) != NULL)
		kp_put_be16(p, v);
}

void
kp_buf_put_i32(struct kp_buf *b, int32_t v)
{
	uint8_t *p;

	if ((p = kp_buf_extend(b, 4)) != NULL)
		kp_put_be32(p, v);
}

void
kp_buf_put_i64(struct kp_buf *b, int64_t v)
{
	uint8_t *p;

	if ((p = kp_buf_extend(b, 8)) != NULL)
		kp_put_be64(p, v);
}

void
kp_buf_put_u32(struct kp_buf *b, uint32_t v)
{
	kp_buf_put_i32(b, (int32_t)v);
}

void
kp_buf_set_i32(struct kp_buf *b, size_t off, int32_t v)
{
	if (!b->err && off + 4 <= b->len)
		kp_put_be32(b->data + off, v);
}

void
kp_reader_init(struct kp_reader *r, const void *p, size_t len)
{
	static const uint8_t empty[1];

	/* Never a null base: even zero-length views must point somewhere. */
	r->p = p != NULL ? p : empty;
	if (p == NULL)
		len = 0;
	r->len = len;
	r->off = 0;
	r->err = KP_OK;
}

size_t
kp_reader_left(const struct kp_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

int
kp_reader_fail(struct kp_reader *r, int e)
{
	if (r->err == KP_OK)
		r->err = e;
	return r->err;
}

const uint8_t *
kp_reader_take(struct kp_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r->err = KP_ESHORT;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

int8_t
kp_read_i8(struct kp_reader *r)
{
	const uint8_t *p = kp_reader_take(r, 1);

	return p ? (int8_t)p[0] : 0;
}

int16_t
kp_read_i16(struct kp_reader *r)
{
	const uint8_t *p = kp_reader_take(r, 2);

	return p ? kp_be16(p) : 0;
}

int32_t
kp_read_i32(struct kp_reader *r)
{
	const uint8_t *p = kp_reader_take(r, 4);

	return p ? kp_be32(p) : 0;
}

int64_t
kp_read_i64(struct kp_reader *r)
{
	const uint8_t *p = kp_reader_take(r, 8);

	return p ? kp_be64(p) : 0;
}

uint32_t
kp_read_u32(struct kp_reader *r)
{
	return (uint32_t)kp_read_i32(r);
}
