/* fuzz_json.h -- the JSON line check shared by fuzz_json and test_fuzz_regress */
#ifndef FUZZ_JSON_H
#define FUZZ_JSON_H

#include <stdlib.h>
#include <string.h>

#include "kp_json.h"

/*
 * Header-only so the libFuzzer harness and tests/unit/test_fuzz_regress.c
 * run the very same code. A broken invariant aborts: libFuzzer keeps the
 * input, and the unit test dies loudly.
 */
#define fj_must(c) do { if (!(c)) abort(); } while (0)

static inline int
fj_bytes_eq(const struct kp_jbytes *a, const struct kp_jbytes *b)
{
	if (a->len != b->len)
		return 0;
	return a->len <= 0 || memcmp(a->ptr, b->ptr, (size_t)a->len) == 0;
}

static inline int
fj_rec_eq(const struct kp_json_rec *a, const struct kp_json_rec *b)
{
	size_t i;

	if ((a->topic == NULL) != (b->topic == NULL) ||
	    (a->topic != NULL && strcmp(a->topic, b->topic) != 0) ||
	    a->partition != b->partition || a->offset != b->offset ||
	    a->timestamp != b->timestamp || !fj_bytes_eq(&a->key, &b->key) ||
	    !fj_bytes_eq(&a->value, &b->value) || a->nheaders != b->nheaders)
		return 0;
	for (i = 0; i < a->nheaders; i++)
		if (!fj_bytes_eq(&a->headers[i].key, &b->headers[i].key) ||
		    !fj_bytes_eq(&a->headers[i].value, &b->headers[i].value))
			return 0;
	return 1;
}

/*
 * One line as kproduce -f json reads it: whatever parses must write back
 * as JSON that parses to an equal record, and writing that again gives
 * the same text (the writer is deterministic).
 */
static inline void
fuzz_json_line(const char *p, size_t n)
{
	struct kp_json_rec r, g;
	struct kp_buf b, c;
	char why[256];
	size_t i;

	why[0] = '\0';
	if (kp_json_parse(p, n, &r, why, sizeof(why)) < 0) {
		fj_must(why[0] != '\0' && memchr(why, '\0', sizeof(why)));
		/* a failed parse leaves an empty record behind */
		fj_must(r.topic == NULL && r.headers == NULL &&
		    r.key.ptr == NULL && r.value.ptr == NULL);
		return;
	}
	fj_must(r.key.len >= -1 && r.value.len >= -1);
	fj_must(r.key.len < 0 || r.key.ptr != NULL);
	fj_must(r.value.len < 0 || r.value.ptr != NULL);
	fj_must(r.partition >= -1 && r.offset >= -1 && r.timestamp >= -1);
	for (i = 0; i < r.nheaders; i++)	/* header keys are never null */
		fj_must(r.headers[i].key.len >= 0 &&
		    r.headers[i].key.ptr != NULL);
	kp_buf_init(&b);
	kp_buf_init(&c);
	kp_json_write(&b, &r);
	fj_must(!b.err && b.len > 0 && memchr(b.data, '\n', b.len) == NULL);
	fj_must(kp_json_parse((const char *)b.data, b.len, &g, why,
	    sizeof(why)) == 0);
	fj_must(fj_rec_eq(&r, &g));
	kp_json_write(&c, &g);
	fj_must(c.len == b.len && memcmp(c.data, b.data, b.len) == 0);
	kp_json_rec_release(&g);
	kp_json_rec_release(&r);
	kp_buf_release(&c);
	kp_buf_release(&b);
}

/*
 * The writer side alone: the input's bytes as key, value and a header
 * (valid UTF-8 or not, NULs and all) must write as JSON that reads back
 * to exactly those bytes -- kconsume -f json output feeding kproduce.
 */
static inline void
fuzz_json_bytes(const uint8_t *data, size_t size)
{
	struct kp_json_rec r, g;
	struct kp_jheader h;
	struct kp_buf b;
	char why[256];

	kp_json_rec_init(&r);
	r.key.ptr = data;
	r.key.len = (ssize_t)(size / 2);
	r.value.ptr = data + size / 2;
	r.value.len = (ssize_t)(size - size / 2);
	h.key.ptr = data;
	h.key.len = (ssize_t)size;
	h.value.ptr = NULL;
	h.value.len = -1;
	r.headers = &h;
	r.nheaders = 1;
	r.topic = (char *)"t";
	r.partition = 0;
	r.offset = (int64_t)size;
	kp_buf_init(&b);
	kp_json_write(&b, &r);
	fj_must(!b.err && memchr(b.data, '\n', b.len) == NULL);
	fj_must(kp_json_parse((const char *)b.data, b.len, &g, why,
	    sizeof(why)) == 0);
	fj_must(fj_rec_eq(&r, &g));
	kp_json_rec_release(&g);
	kp_buf_release(&b);
}

/* Split the input into lines exactly as kproduce's split() does. */
static inline void
fuzz_json_lines(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *d;
	int lines = 0;

	fuzz_json_bytes(data, size);

	while (p < end && lines++ < 256) {
		size_t n;

		d = memchr(p, '\n', (size_t)(end - p));
		if (d == NULL)
			d = end;
		n = (size_t)(d - p);
		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n > 0)
			fuzz_json_line(p, n);
		p = d == end ? end : d + 1;
	}
}

#endif
