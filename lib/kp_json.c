/* kp_json.c -- records <-> JSON lines, binary-safe */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kp_json.h"

void
kp_json_rec_init(struct kp_json_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->partition = -1;
	r->offset = -1;
	r->timestamp = -1;
	r->key.len = -1;
	r->value.len = -1;
}

void
kp_json_rec_release(struct kp_json_rec *r)
{
	size_t i;

	free(r->topic);
	free((void *)r->key.ptr);
	free((void *)r->value.ptr);
	for (i = 0; i < r->nheaders; i++) {
		free((void *)r->headers[i].key.ptr);
		free((void *)r->headers[i].value.ptr);
	}
	free(r->headers);
	kp_json_rec_init(r);
}

bool
kp_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else
			return false;
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
kp_base64_encode(struct kp_buf *b, const uint8_t *s, size_t n)
{
	uint8_t *o;
	size_t i;

	if ((o = kp_buf_extend(b, (n + 2) / 3 * 4)) == NULL)
		return;
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = b64[s[i] >> 2];
		*o++ = b64[(s[i] & 3) << 4 | s[i + 1] >> 4];
		*o++ = b64[(s[i + 1] & 15) << 2 | s[i + 2] >> 6];
		*o++ = b64[s[i + 2] & 63];
	}
	if (n - i == 1) {
		*o++ = b64[s[i] >> 2];
		*o++ = b64[(s[i] & 3) << 4];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		*o++ = b64[s[i] >> 2];
		*o++ = b64[(s[i] & 3) << 4 | s[i + 1] >> 4];
		*o++ = b64[(s[i + 1] & 15) << 2];
		*o++ = '=';
	}
}

static int
b64val(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

ssize_t
kp_base64_decode(const char *s, size_t n, uint8_t *out)
{
	size_t i, o = 0;
	int v[4], k, pad;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64val(s[i + k])) < 0)
				return -1;
		}
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	return (ssize_t)o;
}

void
kp_json_put_str(struct kp_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	kp_buf_put(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		kp_buf_put(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		kp_buf_put(b, esc, elen);
	}
	kp_buf_put(b, s + run, n - run);
	kp_buf_put(b, "\"", 1);
}

void
kp_json_put_bytes(struct kp_buf *b, const void *p, ssize_t n)
{
	if (n < 0) {
		kp_buf_put(b, "null", 4);
	} else if (kp_utf8_valid(p, (size_t)n)) {
		kp_json_put_str(b, p, (size_t)n);
	} else {
		kp_buf_put(b, "{\"base64\":\"", 11);
		kp_base64_encode(b, p, (size_t)n);
		kp_buf_put(b, "\"}", 2);
	}
}

static void
put_num(struct kp_buf *b, const char *name, int64_t v)
{
	char tmp[48];
	int n;

	n = snprintf(tmp, sizeof(tmp), "\"%s\":%" PRId64 ",", name, v);
	kp_buf_put(b, tmp, (size_t)n);
}

void
kp_json_write(struct kp_buf *b, const struct kp_json_rec *r)
{
	size_t i;

	kp_buf_put(b, "{", 1);
	if (r->topic != NULL) {
		kp_buf_put(b, "\"topic\":", 8);
		kp_json_put_bytes(b, r->topic, (ssize_t)strlen(r->topic));
		kp_buf_put(b, ",", 1);
	}
	if (r->partition >= 0)
		put_num(b, "partition", r->partition);
	if (r->offset >= 0)
		put_num(b, "offset", r->offset);
	if (r->timestamp >= 0)
		put_num(b, "timestamp", r->timestamp);
	kp_buf_put(b, "\"key\":", 6);
	kp_json_put_bytes(b, r->key.ptr, r->key.len);
	kp_buf_put(b, ",\"value\":", 9);
	kp_json_put_bytes(b, r->value.ptr, r->value.len);
	kp_buf_put(b, ",\"headers\":[", 12);
	for (i = 0; i < r->nheaders; i++) {
		kp_buf_put(b, i ? ",{\"key\":" : "{\"key\":", i ? 8 : 7);
		kp_json_put_bytes(b, r->headers[i].key.ptr,
		    r->headers[i].key.len);
		kp_buf_put(b, ",\"value\":", 9);
		kp_json_put_bytes(b, r->headers[i].value.ptr,
		    r->headers[i].value.len);
		kp_buf_put(b, "}", 1);
	}
	kp_buf_put(b, "]}", 2);
}

/*
 * A JSON value to bytes: string, null, or {"base64": "..."}. The copy is
 * new (caller frees) and NUL-terminated for convenience.
 */
static int
get_bytes(json_t *v, struct kp_jbytes *out, bool nullable, const char *what,
    char *errbuf, size_t errlen)
{
	const char *s;
	uint8_t *p;
	size_t n;
	ssize_t dn;
	json_t *b;

	out->ptr = NULL;
	out->len = -1;
	if (v == NULL || json_is_null(v)) {
		if (nullable)
			return 0;
		snprintf(errbuf, errlen, "%s: null not allowed", what);
		return -1;
	}
	if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
		if ((p = malloc(n + 1)) == NULL)
			goto nomem;
		memcpy(p, s, n);
		p[n] = '\0';
		out->ptr = p;
		out->len = (ssize_t)n;
		return 0;
	}
	if (json_is_object(v) && json_object_size(v) == 1 &&
	    (b = json_object_get(v, "base64")) != NULL && json_is_string(b)) {
		s = json_string_value(b);
		n = json_string_length(b);
		if ((p = malloc(n / 4 * 3 + 1)) == NULL)
			goto nomem;
		if ((dn = kp_base64_decode(s, n, p)) < 0) {
			free(p);
			snprintf(errbuf, errlen, "%s: invalid base64", what);
			return -1;
		}
		p[dn] = '\0';
		out->ptr = p;
		out->len = dn;
		return 0;
	}
	snprintf(errbuf, errlen,
	    "%s: expected a string, null or {\"base64\": ...}", what);
	return -1;
nomem:
	snprintf(errbuf, errlen, "out of memory");
	errno = ENOMEM;
	return -1;
}

static int
get_int(json_t *o, const char *name, int64_t min, int64_t max, int64_t *out,
    char *errbuf, size_t errlen)
{
	json_t *v = json_object_get(o, name);
	json_int_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v)) {
		snprintf(errbuf, errlen, "%s: not an integer", name);
		return -1;
	}
	i = json_integer_value(v);
	if (i < min || i > max) {
		snprintf(errbuf, errlen, "%s: %lld out of range", name,
		    (long long)i);
		return -1;
	}
	*out = i;
	return 0;
}

static int
get_headers(json_t *h, struct kp_json_rec *r, char *errbuf, size_t errlen)
{
	const char *k;
	json_t *v, *e;
	size_t i, n;

	if (h == NULL || json_is_null(h))
		return 0;
	if (!json_is_array(h) && !json_is_object(h)) {
		snprintf(errbuf, errlen, "headers: expected an array");
		return -1;
	}
	n = json_is_array(h) ? json_array_size(h) : json_object_size(h);
	if (n == 0)
		return 0;
	if ((r->headers = calloc(n, sizeof(*r->headers))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	if (json_is_object(h)) {
		/* {"name": "value"} shorthand for hand-written input */
		json_object_foreach(h, k, v) {
			struct kp_jheader *hd = &r->headers[r->nheaders++];
			json_t *ks = json_string(k);

			hd->value.len = -1;
			if (ks == NULL ||
			    get_bytes(ks, &hd->key, false, "header key", errbuf,
			    errlen) < 0) {
				json_decref(ks);
				return -1;
			}
			json_decref(ks);
			if (get_bytes(v, &hd->value, true, "header value",
			    errbuf, errlen) < 0)
				return -1;
		}
		return 0;
	}
	json_array_foreach(h, i, e) {
		struct kp_jheader *hd = &r->headers[r->nheaders++];

		hd->value.len = -1;
		if (!json_is_object(e)) {
			snprintf(errbuf, errlen,
			    "headers[%zu]: expected {\"key\": ..., \"value\": ...}",
			    i);
			return -1;
		}
		if (get_bytes(json_object_get(e, "key"), &hd->key, false,
		    "header key", errbuf, errlen) < 0 ||
		    get_bytes(json_object_get(e, "value"), &hd->value, true,
		    "header value", errbuf, errlen) < 0)
			return -1;
	}
	return 0;
}

int
kp_json_parse(const char *line, size_t len, struct kp_json_rec *r,
    char *errbuf, size_t errlen)
{
	json_error_t jerr;
	json_t *o, *t;
	int64_t part = -1;

	kp_json_rec_init(r);
	o = json_loadb(line, len, JSON_ALLOW_NUL,
	    &jerr);
	if (o == NULL) {
		snprintf(errbuf, errlen, "invalid JSON at column %d: %s",
		    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(errbuf, errlen, "expected a JSON object");
		goto fail;
	}
	if ((t = json_object_get(o, "topic")) != NULL && !json_is_null(t)) {
		if (!json_is_string(t) || json_string_length(t) == 0 ||
		    memchr(json_string_value(t), '\0',
		    json_string_length(t)) != NULL) {
			snprintf(errbuf, errlen, "topic: expected a name");
			goto fail;
		}
		if ((r->topic = strdup(json_string_value(t))) == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			goto fail;
		}
	}
	if (get_int(o, "partition", 0, INT32_MAX, &part, errbuf, errlen) < 0 ||
	    get_int(o, "offset", 0, INT64_MAX, &r->offset, errbuf, errlen) < 0 ||
	    get_int(o, "timestamp", 0, INT64_MAX, &r->timestamp, errbuf,
	    errlen) < 0)
		goto fail;
	r->partition = (int32_t)part;
	if (get_bytes(json_object_get(o, "key"), &r->key, true, "key", errbuf,
	    errlen) < 0 ||
	    get_bytes(json_object_get(o, "value"), &r->value, true, "value",
	    errbuf, errlen) < 0 ||
	    get_headers(json_object_get(o, "headers"), r, errbuf, errlen) < 0)
		goto fail;
	json_decref(o);
	return 0;
fail:
	json_decref(o);
	kp_json_rec_release(r);
	return -1;
}
