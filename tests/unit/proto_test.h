/* proto_test.h -- shared checks for the kp_proto_* unit tests */
#ifndef PROTO_TEST_H
#define PROTO_TEST_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_proto.h"
#include "tap.h"

/*
 * fill() gives every field present at a version a varied value (arrays of
 * 0-2 elements, null where the version allows it, tagged fields sometimes
 * set), so a round trip exercises every field, not just defaults.
 */
static uint32_t pt_seed = 12345;

static inline uint32_t
pt_rand(void)
{
	pt_seed = pt_seed * 1103515245u + 12345u;
	return pt_seed >> 8;
}

static const char *pt_words[] = { "", "t1", "topic-with-a-longer-name",
	"grp", "\xc3\xa9t\xc3\xa9" };

static inline bool
pt_in(int16_t v, int16_t lo, int16_t hi)
{
	return v >= lo && v <= hi;
}

static inline void	pt_fill(const struct kp_msg *, int16_t, void *,
		    struct kp_arena *, int);

static inline void
pt_value(const struct kp_field *f, int16_t v, void *p, bool null_ok,
    struct kp_arena *a, int depth)
{
	uint32_t x = pt_rand();

	switch (f->type) {
	case KP_FT_BOOL:	*(bool *)p = x & 1; break;
	case KP_FT_I8:		*(int8_t *)p = (int8_t)x; break;
	case KP_FT_I16:		*(int16_t *)p = (int16_t)x; break;
	case KP_FT_U16:		*(uint16_t *)p = (uint16_t)x; break;
	case KP_FT_I32:		*(int32_t *)p = (int32_t)(x * 2654435761u); break;
	case KP_FT_I64:
		*(int64_t *)p = (int64_t)((uint64_t)x << 33 ^ pt_rand());
		break;
	case KP_FT_F64:		*(double *)p = (double)x / 7.0; break;
	case KP_FT_UUID: {
		int i;

		for (i = 0; i < 16; i++)
			((uint8_t *)p)[i] = (uint8_t)pt_rand();
		break;
	}
	case KP_FT_STRING: {
		struct kp_str *s = p;

		if (null_ok && x % 4 == 0) {
			s->ptr = NULL;
			s->len = -1;
		} else {
			s->ptr = pt_words[x % 5];
			s->len = (int32_t)strlen(s->ptr);
		}
		break;
	}
	case KP_FT_BYTES:
	case KP_FT_RECORDS: {
		struct kp_bytes *b = p;

		if (null_ok && x % 4 == 0) {
			b->ptr = NULL;
			b->len = -1;
		} else {
			b->ptr = (const uint8_t *)"\0\1\2binary\377";
			b->len = (int32_t)(x % 11);
		}
		break;
	}
	default:
		pt_fill(f->sub, v, p, a, depth + 1);
	}
}

static inline size_t
pt_size(const struct kp_field *f)
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

static inline void
pt_fill(const struct kp_msg *m, int16_t v, void *obj, struct kp_arena *a,
    int depth)
{
	size_t i;

	kp_proto_init(m, obj);
	for (i = 0; i < m->nfields; i++) {
		const struct kp_field *f = &m->fields[i];
		bool null_ok = pt_in(v, f->nmin, f->nmax);
		char *arr;
		int32_t j, n;

		if (!pt_in(v, f->vmin, f->vmax))
			continue;
		if (pt_in(v, f->tmin, f->tmax) && pt_rand() % 3 == 0)
			continue;	/* leave a tagged field default */
		if (!(f->flags & KP_FF_ARRAY)) {
			pt_value(f, v, (char *)obj + f->off, null_ok, a, depth);
			continue;
		}
		n = depth > 3 ? 0 : (int32_t)(pt_rand() % 3);
		if (null_ok && pt_rand() % 4 == 0)
			n = -1;
		arr = n > 0 ? kp_arena_calloc(a, (size_t)n, pt_size(f)) : NULL;
		for (j = 0; j < n; j++)
			pt_value(f, v, arr + (size_t)j * pt_size(f), false, a,
			    depth);
		memcpy((char *)obj + f->off, &arr, sizeof(arr));
		*(int32_t *)((char *)obj + f->count_off) = n;
	}
}

/*
 * For each version: fill, encode, decode, compare field by field, encode
 * again and compare bytes; every proper prefix of the encoding must decode
 * to -1. Several rounds per version so random choices vary.
 */
static inline void
pt_roundtrip(const struct kp_msg *m, int16_t lo, int16_t hi)
{
	int16_t v;
	int round;

	for (v = lo; v <= hi; v++) {
		int good = 0, trunc_ok = 1, rounds = 12;

		for (round = 0; round < rounds; round++) {
			struct kp_arena a;
			struct kp_buf b1, b2;
			void *in = calloc(1, m->size), *out = calloc(1, m->size);
			size_t cut;

			kp_arena_init(&a);
			kp_buf_init(&b1);
			kp_buf_init(&b2);
			pt_fill(m, v, in, &a, 0);
			if (kp_proto_encode(&b1, m, v, in) == 0 && !b1.err &&
			    kp_proto_decode(b1.data, b1.len, m, v, out, &a) == 0 &&
			    kp_proto_equal(m, v, in, out) &&
			    kp_proto_encode(&b2, m, v, out) == 0 &&
			    b1.len == b2.len &&
			    (b1.len == 0 || memcmp(b1.data, b2.data, b1.len) == 0))
				good++;
			/* Random corruption: 0 or -1, never a crash. */
			for (cut = 0; cut < 16 && b1.len > 0; cut++) {
				uint8_t *t = malloc(b1.len);
				int rc;

				memcpy(t, b1.data, b1.len);
				t[pt_rand() % b1.len] ^= (uint8_t)(1 + pt_rand() % 255);
				rc = kp_proto_decode(t, b1.len, m, v, out, &a);
				if (rc != 0 && rc != -1)
					trunc_ok = 0;
				free(t);
			}
			for (cut = 0; cut < b1.len; cut++) {
				/* A copy, so ASan sees reads past the cut. */
				uint8_t *t = malloc(cut ? cut : 1);

				if (cut > 0)
					memcpy(t, b1.data, cut);
				if (kp_proto_decode(t, cut, m, v, out, &a) != -1)
					trunc_ok = 0;
				free(t);
			}
			kp_buf_release(&b1);
			kp_buf_release(&b2);
			kp_arena_release(&a);
			free(in);
			free(out);
		}
		is_int(good, rounds, "%s v%d: encode, decode, compare, re-encode",
		    m->name, v);
		ok(trunc_ok, "%s v%d: truncations give -1, corruptions 0 or -1",
		    m->name, v);
	}
}

/* A hex fixture: '#' comment lines, then hex digits with any spacing. */
static inline uint8_t *
pt_load_hex(const char *name, size_t *len)
{
	char path[1024];
	const char *top = getenv("KP_TOP");
	FILE *fp;
	uint8_t *out = NULL;
	size_t n = 0, cap = 0;
	int c, hi = -1, comment = 0, bol = 1;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/%s",
	    top ? top : ".", name);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("# cannot open %s\n", path);
		*len = 0;
		return NULL;
	}
	while ((c = getc(fp)) != EOF) {
		if (bol && c == '#')
			comment = 1;
		bol = c == '\n';
		if (bol)
			comment = 0;
		if (comment || !isxdigit(c))
			continue;
		c = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
		if (hi < 0) {
			hi = c;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			out = realloc(out, cap);
		}
		out[n++] = (uint8_t)(hi << 4 | c);
		hi = -1;
	}
	fclose(fp);
	*len = n;
	return out;
}

/*
 * The body of a request frame fixture: checks the frame and header and
 * returns a pointer into buf past the header, or NULL.
 */
static inline const uint8_t *
pt_req_body(const uint8_t *buf, size_t len, int16_t key, int16_t ver,
    size_t *body_len, struct kp_req_header *h)
{
	const uint8_t *payload;
	size_t plen;
	ssize_t hl;

	if (kp_frame_parse(buf, len, 1 << 20, &payload, &plen) !=
	    (ssize_t)len)
		return NULL;
	if ((hl = kp_req_header_decode(payload, plen, h)) <= 0)
		return NULL;
	if (h->api_key != key || h->api_version != ver)
		return NULL;
	*body_len = plen - (size_t)hl;
	return payload + hl;
}

/*
 * A golden request captured from a real client: load it, check its frame
 * and header, and check the body against the schema: it decodes, encodes
 * back to the very same bytes, and each of its proper prefixes decodes to
 * -1. Returns the body (inside *file_buf, which the caller frees), for
 * the caller to decode with the typed function and check field by field.
 */
static inline const uint8_t *
pt_golden(const char *file, int16_t key, int16_t ver, const struct kp_msg *m,
    size_t *body_len, uint8_t **file_buf)
{
	struct kp_req_header h;
	struct kp_arena a;
	struct kp_buf b;
	const uint8_t *body;
	size_t len, cut;
	void *obj = calloc(1, m->size);
	int bad = 0;

	*file_buf = pt_load_hex(file, &len);
	body = pt_req_body(*file_buf, len, key, ver, body_len, &h);
	ok(body != NULL, "%s: frame and header (key %d v%d)", file, key, ver);
	if (body == NULL) {
		free(obj);
		*body_len = 0;
		return NULL;
	}
	kp_arena_init(&a);
	kp_buf_init(&b);
	is_int(kp_proto_decode(body, *body_len, m, ver, obj, &a), 0,
	    "%s: body decodes", file);
	ok(kp_proto_encode(&b, m, ver, obj) == 0 && b.len == *body_len &&
	    memcmp(b.data, body, b.len) == 0, "%s: re-encodes byte for byte",
	    file);
	for (cut = 0; cut < *body_len; cut++) {
		uint8_t *t = malloc(cut ? cut : 1);

		if (cut > 0)
			memcpy(t, body, cut);
		if (kp_proto_decode(t, cut, m, ver, obj, &a) != -1)
			bad++;
		free(t);
	}
	ok(bad == 0, "%s: all %zu truncations decode to -1", file, *body_len);
	kp_buf_release(&b);
	kp_arena_release(&a);
	free(obj);
	return body;
}

/*
 * kafka-python's own encoders (proto-kafka-python-schemas.txt: every
 * request and response class it has, every field set) against our
 * schemas: each body of the given API keys, at every version the JSON
 * knows, must decode and re-encode to the same bytes. kafka-python was
 * written from the protocol guide, not from our JSON, so this checks the
 * layouts independently.
 */
/*
 * Classes where kafka-python 2.0.2 disagrees with the Kafka schema; we
 * must not accept their bytes as theirs.
 */
static const char *pt_kp_bugs[] = {
	"ProduceResponse_v8",		/* record_errors outside partitions */
	"OffsetRequest_v4",		/* current_leader_epoch as int64 */
	"OffsetRequest_v5",		/* the same */
	"GroupCoordinatorResponse_v1",	/* no throttle_time_ms */
	"DescribeGroupsResponse_v3",	/* authorized_operations misplaced */
};

static inline bool
pt_kp_bug(const char *cls)
{
	size_t i;

	for (i = 0; i < sizeof(pt_kp_bugs) / sizeof(pt_kp_bugs[0]); i++)
		if (strcmp(cls, pt_kp_bugs[i]) == 0)
			return true;
	return false;
}

static inline void
pt_kafka_python(const int16_t *keys, size_t nkeys)
{
	char path[1024], line[8192], kind[8], cls[128], hex[4096];
	const char *top = getenv("KP_TOP");
	FILE *fp;
	int key, ver, tried = 0, good = 0, bugs = 0, bugs_refused = 0;

	snprintf(path, sizeof(path),
	    "%s/tests/unit/fixtures/proto-kafka-python-schemas.txt",
	    top ? top : ".");
	if ((fp = fopen(path, "r")) == NULL) {
		ok(0, "open %s", path);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		const struct kp_proto_api *api;
		const struct kp_msg *m;
		struct kp_arena a;
		struct kp_buf b;
		uint8_t body[2048];
		size_t i, n, hit = 0;
		void *obj;
		int rc;

		if (line[0] == '#' || sscanf(line, "%d %d %7s %127s %4095s",
		    &key, &ver, kind, cls, hex) != 5)
			continue;
		for (i = 0; i < nkeys; i++)
			hit |= keys[i] == key;
		if (!hit || (api = kp_proto_api_find((int16_t)key)) == NULL)
			continue;
		m = strcmp(kind, "req") == 0 ? api->req : api->resp;
		if (ver < m->vmin || ver > m->vmax)
			continue;
		n = strlen(hex) / 2;
		for (i = 0; i < n; i++)
			sscanf(hex + 2 * i, "%2hhx", &body[i]);
		obj = calloc(1, m->size);
		kp_arena_init(&a);
		kp_buf_init(&b);
		rc = kp_proto_decode(body, n, m, (int16_t)ver, obj, &a);
		hit = rc == 0 && kp_proto_encode(&b, m, (int16_t)ver, obj) == 0 &&
		    b.len == n && memcmp(b.data, body, n) == 0;
		if (pt_kp_bug(cls)) {
			bugs++;
			bugs_refused += !hit;
		} else if (hit)
			good++;
		else
			printf("# %s (key %d v%d): decode %d, re-encoded %zu of "
			    "%zu bytes\n", cls, key, ver, rc, b.len, n);
		tried += !pt_kp_bug(cls);
		kp_buf_release(&b);
		kp_arena_release(&a);
		free(obj);
	}
	fclose(fp);
	ok(tried > 0 && good == tried,
	    "kafka-python's encodings: %d of %d decode and re-encode", good,
	    tried);
	ok(bugs_refused == bugs, "kafka-python's %d known-bad encodings refused",
	    bugs);
}

#endif
