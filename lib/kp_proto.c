/* kp_proto.c -- schema-driven codec engine behind the kp_proto_* modules */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "kp_proto.h"

#define AT(obj, off)	((char *)(obj) + (off))
#define CAT(obj, off)	((const char *)(obj) + (off))

static const uint8_t empty[1];

static bool
in(int16_t v, int16_t lo, int16_t hi)
{
	return v >= lo && v <= hi;
}

bool
kp_proto_flexible(const struct kp_msg *m, int16_t v)
{
	return v >= m->fmin;
}

static bool
present(const struct kp_field *f, int16_t v)
{
	return in(v, f->vmin, f->vmax);
}

static bool
nullable(const struct kp_field *f, int16_t v)
{
	return in(v, f->nmin, f->nmax);
}

/* Tags exist only in flexible versions, whatever taggedVersions says. */
static bool
tagged(const struct kp_msg *m, const struct kp_field *f, int16_t v)
{
	return kp_proto_flexible(m, v) && in(v, f->tmin, f->tmax);
}

static size_t
value_size(const struct kp_field *f)
{
	switch (f->type) {
	case KP_FT_BOOL:	return sizeof(bool);
	case KP_FT_I8:		return 1;
	case KP_FT_I16:
	case KP_FT_U16:		return 2;
	case KP_FT_I32:		return 4;
	case KP_FT_I64:
	case KP_FT_F64:		return 8;
	case KP_FT_UUID:	return 16;
	case KP_FT_STRING:	return sizeof(struct kp_str);
	case KP_FT_BYTES:
	case KP_FT_RECORDS:	return sizeof(struct kp_bytes);
	default:		return f->sub->size;
	}
}

static size_t	struct_min(const struct kp_msg *, int16_t);

/* Fewest wire bytes one value can take; bounds array counts. */
static size_t
value_min(const struct kp_field *f, int16_t v, bool flex)
{
	switch (f->type) {
	case KP_FT_BOOL:
	case KP_FT_I8:		return 1;
	case KP_FT_I16:
	case KP_FT_U16:		return 2;
	case KP_FT_I32:		return 4;
	case KP_FT_I64:
	case KP_FT_F64:		return 8;
	case KP_FT_UUID:	return 16;
	case KP_FT_STRING:	return flex ? 1 : 2;
	case KP_FT_BYTES:
	case KP_FT_RECORDS:	return flex ? 1 : 4;
	default:		return struct_min(f->sub, v);
	}
}

static size_t
struct_min(const struct kp_msg *m, int16_t v)
{
	bool flex = kp_proto_flexible(m, v);
	size_t i, n = flex ? 1 : 0;

	for (i = 0; i < m->nfields; i++) {
		const struct kp_field *f = &m->fields[i];

		if (!present(f, v) || tagged(m, f, v))
			continue;
		if (f->flags & KP_FF_ARRAY)
			n += flex ? 1 : 4;
		else
			n += value_min(f, v, flex);
	}
	return n;
}

/* ---- defaults ------------------------------------------------------- */

static void
init_field(const struct kp_field *f, void *obj)
{
	void *p = AT(obj, f->off);

	if (f->flags & KP_FF_ARRAY) {
		memset(p, 0, sizeof(void *));
		*(int32_t *)AT(obj, f->count_off) =
		    (f->flags & KP_FF_DEFNULL) ? -1 : 0;
		return;
	}
	switch (f->type) {
	case KP_FT_BOOL:	*(bool *)p = f->def != 0; break;
	case KP_FT_I8:		*(int8_t *)p = (int8_t)f->def; break;
	case KP_FT_I16:		*(int16_t *)p = (int16_t)f->def; break;
	case KP_FT_U16:		*(uint16_t *)p = (uint16_t)f->def; break;
	case KP_FT_I32:		*(int32_t *)p = (int32_t)f->def; break;
	case KP_FT_I64:		*(int64_t *)p = f->def; break;
	case KP_FT_F64:		*(double *)p = (double)f->def; break;
	case KP_FT_UUID:	memset(p, 0, 16); break;
	case KP_FT_STRING: {
		struct kp_str *s = p;

		s->ptr = (f->flags & KP_FF_DEFNULL) ? NULL : "";
		s->len = (f->flags & KP_FF_DEFNULL) ? -1 : 0;
		break;
	}
	case KP_FT_BYTES:
	case KP_FT_RECORDS: {
		struct kp_bytes *bs = p;

		bs->ptr = (f->flags & KP_FF_DEFNULL) ? NULL : empty;
		bs->len = (f->flags & KP_FF_DEFNULL) ? -1 : 0;
		break;
	}
	default:
		kp_proto_init(f->sub, p);
	}
}

void
kp_proto_init(const struct kp_msg *m, void *obj)
{
	size_t i;

	memset(obj, 0, m->size);
	for (i = 0; i < m->nfields; i++)
		init_field(&m->fields[i], obj);
}

static bool	struct_is_default(const struct kp_msg *, const void *);

static bool
is_default(const struct kp_field *f, const void *obj)
{
	const void *p = CAT(obj, f->off);

	if (f->flags & KP_FF_ARRAY) {
		int32_t n = *(const int32_t *)CAT(obj, f->count_off);

		return n == 0 || (n == -1 && (f->flags & KP_FF_DEFNULL));
	}
	switch (f->type) {
	case KP_FT_BOOL:	return *(const bool *)p == (f->def != 0);
	case KP_FT_I8:		return *(const int8_t *)p == f->def;
	case KP_FT_I16:		return *(const int16_t *)p == f->def;
	case KP_FT_U16:		return *(const uint16_t *)p == f->def;
	case KP_FT_I32:		return *(const int32_t *)p == f->def;
	case KP_FT_I64:		return *(const int64_t *)p == f->def;
	case KP_FT_F64:		return *(const double *)p == (double)f->def;
	case KP_FT_UUID:	return memcmp(p, (uint8_t[16]){0}, 16) == 0;
	case KP_FT_STRING:
		return ((const struct kp_str *)p)->len ==
		    ((f->flags & KP_FF_DEFNULL) ? -1 : 0);
	case KP_FT_BYTES:
	case KP_FT_RECORDS:
		return ((const struct kp_bytes *)p)->len ==
		    ((f->flags & KP_FF_DEFNULL) ? -1 : 0);
	default:
		return struct_is_default(f->sub, p);
	}
}

static bool
struct_is_default(const struct kp_msg *m, const void *obj)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (!is_default(&m->fields[i], obj))
			return false;
	return true;
}

/* ---- decoding ------------------------------------------------------- */

static void	read_struct(struct kp_reader *, const struct kp_msg *,
		    int16_t, void *, struct kp_arena *);

static void
read_value(struct kp_reader *r, const struct kp_field *f, int16_t v,
    bool flex, bool null_ok, void *p, struct kp_arena *a)
{
	switch (f->type) {
	case KP_FT_BOOL:	*(bool *)p = kp_read_bool(r); break;
	case KP_FT_I8:		*(int8_t *)p = kp_read_i8(r); break;
	case KP_FT_I16:		*(int16_t *)p = kp_read_i16(r); break;
	case KP_FT_U16:		*(uint16_t *)p = (uint16_t)kp_read_i16(r); break;
	case KP_FT_I32:		*(int32_t *)p = kp_read_i32(r); break;
	case KP_FT_I64:		*(int64_t *)p = kp_read_i64(r); break;
	case KP_FT_F64: {
		int64_t bits = kp_read_i64(r);

		memcpy(p, &bits, 8);
		break;
	}
	case KP_FT_UUID:	kp_read_uuid(r, p); break;
	case KP_FT_STRING:
		if (null_ok)
			kp_read_nstring_f(r, flex, p);
		else
			kp_read_string_f(r, flex, p);
		/* A compact length can claim more than Kafka's int16 cap. */
		if (((struct kp_str *)p)->len > INT16_MAX)
			kp_reader_fail(r, KP_EBAD);
		break;
	case KP_FT_BYTES:
	case KP_FT_RECORDS: {
		struct kp_bytes *bs = p;

		if (null_ok)
			kp_read_nbytes_f(r, flex, bs);
		else
			kp_read_bytes_f(r, flex, bs);
		/* An empty value is not null: give it a pointer. */
		if (bs->len == 0)
			bs->ptr = empty;
		break;
	}
	default:
		read_struct(r, f->sub, v, p, a);
	}
}

static void
read_field(struct kp_reader *r, const struct kp_msg *m,
    const struct kp_field *f, int16_t v, void *obj, struct kp_arena *a)
{
	bool flex = kp_proto_flexible(m, v);
	size_t esize;
	int32_t i, n;
	char *arr = NULL;

	if (!(f->flags & KP_FF_ARRAY)) {
		read_value(r, f, v, flex, nullable(f, v), AT(obj, f->off), a);
		return;
	}
	n = kp_read_array_f(r, flex, value_min(f, v, flex));
	if (r->err)
		return;
	if (n == -1 && !nullable(f, v)) {
		kp_reader_fail(r, KP_EBAD);
		return;
	}
	esize = value_size(f);
	if (n > 0 && (arr = kp_arena_calloc(a, (size_t)n, esize)) == NULL) {
		kp_reader_fail(r, KP_EBAD);
		return;
	}
	/* Elements are never null; nullableVersions is the array's. */
	for (i = 0; i < n && !r->err; i++)
		read_value(r, f, v, flex, false, arr + (size_t)i * esize, a);
	memcpy(AT(obj, f->off), &arr, sizeof(arr));
	*(int32_t *)AT(obj, f->count_off) = n;
}

static const struct kp_field *
find_tag(const struct kp_msg *m, int16_t v, uint64_t tag)
{
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		const struct kp_field *f = &m->fields[i];

		if (present(f, v) && tagged(m, f, v) && (uint64_t)f->tag == tag)
			return f;
	}
	return NULL;
}

/* Unknown tags are skipped, as Kafka does, so newer peers interoperate. */
static void
read_tags(struct kp_reader *r, const struct kp_msg *m, int16_t v, void *obj,
    struct kp_arena *a)
{
	uint64_t i, n, tag, size;

	n = kp_read_uvarint(r);
	if (!r->err && n > kp_reader_left(r) / 2)
		kp_reader_fail(r, KP_EBAD);
	for (i = 0; i < n && !r->err; i++) {
		const struct kp_field *f;
		const uint8_t *p;
		struct kp_reader sub;

		tag = kp_read_uvarint(r);
		size = kp_read_uvarint(r);
		if (r->err)
			return;
		if (size > kp_reader_left(r)) {
			kp_reader_fail(r, KP_EBAD);
			return;
		}
		p = kp_reader_take(r, (size_t)size);
		if ((f = find_tag(m, v, tag)) == NULL)
			continue;
		kp_reader_init(&sub, p, (size_t)size);
		read_field(&sub, m, f, v, obj, a);
		if (sub.err || sub.off != sub.len)
			kp_reader_fail(r, KP_EBAD);
	}
}

static void
read_struct(struct kp_reader *r, const struct kp_msg *m, int16_t v,
    void *obj, struct kp_arena *a)
{
	size_t i;

	for (i = 0; i < m->nfields && !r->err; i++) {
		const struct kp_field *f = &m->fields[i];

		if (!present(f, v) || tagged(m, f, v))
			init_field(f, obj);
		else
			read_field(r, m, f, v, obj, a);
	}
	if (kp_proto_flexible(m, v) && !r->err)
		read_tags(r, m, v, obj, a);
}

int
kp_proto_read(struct kp_reader *r, const struct kp_msg *m, int16_t v,
    void *obj, struct kp_arena *a)
{
	if (!in(v, m->vmin, m->vmax))
		return -1;
	memset(obj, 0, m->size);
	read_struct(r, m, v, obj, a);
	return r->err ? -1 : 0;
}

int
kp_proto_decode(const uint8_t *p, size_t len, const struct kp_msg *m,
    int16_t v, void *obj, struct kp_arena *a)
{
	struct kp_reader r;

	kp_reader_init(&r, p, len);
	if (kp_proto_read(&r, m, v, obj, a) == -1)
		return -1;
	return kp_reader_left(&r) == 0 ? 0 : -1;
}

/* ---- encoding ------------------------------------------------------- */

static int	put_struct(struct kp_buf *, const struct kp_msg *, int16_t,
		    const void *);

static void
put_len(struct kp_buf *b, bool flex, bool wide, int32_t n)
{
	if (flex)
		kp_put_uvarint(b, (uint64_t)((int64_t)n + 1));
	else if (wide)
		kp_buf_put_i32(b, n);
	else
		kp_buf_put_i16(b, (int16_t)n);
}

static int
put_value(struct kp_buf *b, const struct kp_field *f, int16_t v, bool flex,
    bool null_ok, const void *p)
{
	switch (f->type) {
	case KP_FT_BOOL:	kp_put_bool(b, *(const bool *)p); break;
	case KP_FT_I8:		kp_buf_put_i8(b, *(const int8_t *)p); break;
	case KP_FT_I16:		kp_buf_put_i16(b, *(const int16_t *)p); break;
	case KP_FT_U16:
		kp_buf_put_i16(b, (int16_t)*(const uint16_t *)p);
		break;
	case KP_FT_I32:		kp_buf_put_i32(b, *(const int32_t *)p); break;
	case KP_FT_I64:		kp_buf_put_i64(b, *(const int64_t *)p); break;
	case KP_FT_F64: {
		int64_t bits;

		memcpy(&bits, p, 8);
		kp_buf_put_i64(b, bits);
		break;
	}
	case KP_FT_UUID:	kp_put_uuid(b, p); break;
	case KP_FT_STRING: {
		const struct kp_str *s = p;

		if (s->len < 0) {
			if (!null_ok)
				return -1;
			put_len(b, flex, false, -1);
		} else if (s->len > INT16_MAX || (s->len > 0 && !s->ptr)) {
			return -1;
		} else {
			put_len(b, flex, false, s->len);
			kp_buf_put(b, s->len ? s->ptr : "", (size_t)s->len);
		}
		break;
	}
	case KP_FT_BYTES:
	case KP_FT_RECORDS: {
		const struct kp_bytes *bs = p;

		if (bs->len < 0) {
			if (!null_ok)
				return -1;
			put_len(b, flex, true, -1);
		} else if (bs->len > 0 && !bs->ptr) {
			return -1;
		} else {
			put_len(b, flex, true, bs->len);
			kp_buf_put(b, bs->len ? bs->ptr : empty,
			    (size_t)bs->len);
		}
		break;
	}
	default:
		return put_struct(b, f->sub, v, p);
	}
	return 0;
}

static int
put_field(struct kp_buf *b, const struct kp_msg *m, const struct kp_field *f,
    int16_t v, const void *obj)
{
	bool flex = kp_proto_flexible(m, v);
	const char *arr;
	int32_t i, n;
	size_t esize;

	if (!(f->flags & KP_FF_ARRAY))
		return put_value(b, f, v, flex, nullable(f, v),
		    CAT(obj, f->off));
	n = *(const int32_t *)CAT(obj, f->count_off);
	memcpy(&arr, CAT(obj, f->off), sizeof(arr));
	if (n < -1 || (n == -1 && !nullable(f, v)) || (n > 0 && !arr))
		return -1;
	put_len(b, flex, true, n);
	esize = value_size(f);
	for (i = 0; i < n; i++)
		if (put_value(b, f, v, flex, false,
		    arr + (size_t)i * esize) == -1)
			return -1;
	return 0;
}

static int
put_fields(struct kp_buf *b, const struct kp_msg *m, int16_t v,
    const void *obj, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		const struct kp_field *f = &m->fields[i];

		if (!present(f, v)) {
			/* Kafka refuses to drop data silently. */
			if (!(f->flags & KP_FF_IGNORABLE) && !is_default(f, obj))
				return -1;
			continue;
		}
		if (tagged(m, f, v))
			continue;
		if (put_field(b, m, f, v, obj) == -1)
			return -1;
	}
	return 0;
}

/* Tagged fields go out only when not default, in ascending tag order. */
static int
put_tags(struct kp_buf *b, const struct kp_msg *m, int16_t v,
    const void *obj)
{
	const struct kp_field *f, *next;
	struct kp_buf tmp;
	size_t i, n = 0;
	int64_t last = -1;

	if (!kp_proto_flexible(m, v))
		return 0;
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (present(f, v) && tagged(m, f, v) && !is_default(f, obj))
			n++;
	}
	kp_put_uvarint(b, n);
	kp_buf_init(&tmp);
	while (n-- > 0) {
		next = NULL;
		for (i = 0; i < m->nfields; i++) {
			f = &m->fields[i];
			if (present(f, v) && tagged(m, f, v) &&
			    !is_default(f, obj) && f->tag > last &&
			    (next == NULL || f->tag < next->tag))
				next = f;
		}
		kp_buf_reset(&tmp);
		if (put_field(&tmp, m, next, v, obj) == -1)
			goto fail;
		if (tmp.err) {
			b->err = tmp.err;
			break;
		}
		kp_put_uvarint(b, (uint64_t)next->tag);
		kp_put_uvarint(b, tmp.len);
		kp_buf_put(b, tmp.data, tmp.len);
		last = next->tag;
	}
	kp_buf_release(&tmp);
	return 0;
fail:
	kp_buf_release(&tmp);
	return -1;
}

static int
put_struct(struct kp_buf *b, const struct kp_msg *m, int16_t v,
    const void *obj)
{
	if (put_fields(b, m, v, obj, 0, m->nfields) == -1)
		return -1;
	return put_tags(b, m, v, obj);
}

int
kp_proto_encode(struct kp_buf *b, const struct kp_msg *m, int16_t v,
    const void *obj)
{
	if (!in(v, m->vmin, m->vmax))
		return -1;
	return put_struct(b, m, v, obj);
}

int
kp_proto_encode_head(struct kp_buf *b, const struct kp_msg *m, int16_t v,
    const void *obj, size_t upto, int32_t n)
{
	const struct kp_field *f;
	bool flex = kp_proto_flexible(m, v);

	if (!in(v, m->vmin, m->vmax) || upto >= m->nfields)
		return -1;
	f = &m->fields[upto];
	if (!present(f, v) || tagged(m, f, v) || n < -1 ||
	    (n == -1 && !nullable(f, v)))
		return -1;
	if (!(f->flags & KP_FF_ARRAY) && f->type != KP_FT_BYTES &&
	    f->type != KP_FT_RECORDS)
		return -1;
	if (put_fields(b, m, v, obj, 0, upto) == -1)
		return -1;
	put_len(b, flex, true, n);
	return 0;
}

int
kp_proto_encode_tail(struct kp_buf *b, const struct kp_msg *m, int16_t v,
    const void *obj, size_t upto)
{
	if (!in(v, m->vmin, m->vmax) || upto >= m->nfields)
		return -1;
	if (put_fields(b, m, v, obj, upto + 1, m->nfields) == -1)
		return -1;
	return put_tags(b, m, v, obj);
}

/* ---- comparing ------------------------------------------------------ */

static bool	struct_equal(const struct kp_msg *, int16_t, const void *,
		    const void *);

static bool
value_equal(const struct kp_field *f, int16_t v, const void *a,
    const void *b)
{
	switch (f->type) {
	case KP_FT_STRING: {
		const struct kp_str *x = a, *y = b;

		return x->len == y->len &&
		    (x->len <= 0 || memcmp(x->ptr, y->ptr, (size_t)x->len) == 0);
	}
	case KP_FT_BYTES:
	case KP_FT_RECORDS: {
		const struct kp_bytes *x = a, *y = b;

		return x->len == y->len &&
		    (x->len <= 0 || memcmp(x->ptr, y->ptr, (size_t)x->len) == 0);
	}
	case KP_FT_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case KP_FT_STRUCT:
		return struct_equal(f->sub, v, a, b);
	default:
		return memcmp(a, b, value_size(f)) == 0;
	}
}

static bool
field_equal(const struct kp_field *f, int16_t v, const void *a,
    const void *b)
{
	const char *x, *y;
	int32_t i, n;
	size_t esize = value_size(f);

	if (!(f->flags & KP_FF_ARRAY))
		return value_equal(f, v, CAT(a, f->off), CAT(b, f->off));
	n = *(const int32_t *)CAT(a, f->count_off);
	if (n != *(const int32_t *)CAT(b, f->count_off))
		return false;
	memcpy(&x, CAT(a, f->off), sizeof(x));
	memcpy(&y, CAT(b, f->off), sizeof(y));
	for (i = 0; i < n; i++)
		if (!value_equal(f, v, x + (size_t)i * esize,
		    y + (size_t)i * esize))
			return false;
	return true;
}

static bool
struct_equal(const struct kp_msg *m, int16_t v, const void *a, const void *b)
{
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (present(&m->fields[i], v) &&
		    !field_equal(&m->fields[i], v, a, b))
			return false;
	return true;
}

bool
kp_proto_equal(const struct kp_msg *m, int16_t v, const void *a,
    const void *b)
{
	return struct_equal(m, v, a, b);
}

/* ---- the API table -------------------------------------------------- */

const struct kp_proto_api *
kp_proto_api_find(int16_t key)
{
	size_t i;

	for (i = 0; i < kp_proto_napis; i++)
		if (kp_proto_apis[i].key == key)
			return &kp_proto_apis[i];
	return NULL;
}
