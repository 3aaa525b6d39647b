/* kp_fmt.c -- kcat-style format strings for printing records */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_fmt.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after the backslash; returns chars read or -1. */
static int
unescape1(const char *s, char *out)
{
	int h, l;

	switch (s[0]) {
	case 'n': *out = '\n'; return 1;
	case 'r': *out = '\r'; return 1;
	case 't': *out = '\t'; return 1;
	case '0': *out = '\0'; return 1;
	case '\\': *out = '\\'; return 1;
	case 'x':
		if ((h = hexval(s[1])) < 0 || (l = hexval(s[2])) < 0)
			return -1;
		*out = (char)(h << 4 | l);
		return 3;
	default:
		return -1;
	}
}

char *
kp_unescape(const char *s, size_t *lenp)
{
	size_t n = strlen(s), o = 0, i;
	char *out;
	int k;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if ((k = unescape1(s + i + 1, &out[o++])) < 0) {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		i += (size_t)k;
	}
	out[o] = '\0';
	*lenp = o;
	return out;
}

static int
add_op(struct kp_fmt *f, char tok, size_t off, size_t len)
{
	struct kp_fmt_op *ops;

	if (tok == 0 && len == 0)
		return 0;
	if (tok == 0 && f->nops > 0 && f->ops[f->nops - 1].tok == 0) {
		f->ops[f->nops - 1].len += len;
		return 0;
	}
	ops = reallocarray(f->ops, f->nops + 1, sizeof(*ops));
	if (ops == NULL)
		return -1;
	f->ops = ops;
	f->ops[f->nops].tok = tok;
	f->ops[f->nops].off = off;
	f->ops[f->nops].len = len;
	f->nops++;
	return 0;
}

int
kp_fmt_compile(struct kp_fmt *f, const char *fmt, char *errbuf, size_t errlen)
{
	size_t i, n = strlen(fmt), o = 0;
	int k;

	memset(f, 0, sizeof(*f));
	f->null_str = "";
	if ((f->text = malloc(n + 1)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if (fmt[i] == '\\') {
			if ((k = unescape1(fmt + i + 1, &f->text[o])) < 0) {
				snprintf(errbuf, errlen,
				    "format: bad escape at '%.4s'", fmt + i);
				goto fail;
			}
			if (add_op(f, 0, o, 1) < 0)
				goto nomem;
			o++;
			i += (size_t)k;
		} else if (fmt[i] == '%') {
			char t = fmt[++i];

			if (t == '%') {
				f->text[o] = '%';
				if (add_op(f, 0, o++, 1) < 0)
					goto nomem;
			} else if (t != '\0' && strchr("tpokKsSRTh", t)) {
				if (add_op(f, t, 0, 0) < 0)
					goto nomem;
			} else {
				snprintf(errbuf, errlen,
				    "format: unknown token '%%%c'", t ? t : ' ');
				goto fail;
			}
		} else {
			f->text[o] = fmt[i];
			if (add_op(f, 0, o++, 1) < 0)
				goto nomem;
		}
	}
	return 0;
nomem:
	snprintf(errbuf, errlen, "format: out of memory");
fail:
	kp_fmt_release(f);
	return -1;
}

void
kp_fmt_release(struct kp_fmt *f)
{
	free(f->text);
	free(f->ops);
	f->text = NULL;
	f->ops = NULL;
	f->nops = 0;
}

static void
put_i64(struct kp_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	kp_buf_put(b, tmp, (size_t)n);
}

static void
put_bytes(const struct kp_fmt *f, struct kp_buf *b, const struct kp_jbytes *v)
{
	if (v->len < 0)
		kp_buf_put(b, f->null_str, f->null_len);
	else
		kp_buf_put(b, v->ptr, (size_t)v->len);
}

void
kp_fmt_render(const struct kp_fmt *f, const struct kp_json_rec *r,
    struct kp_buf *b)
{
	const struct kp_fmt_op *op;
	uint8_t be[4];
	size_t i, h;

	for (i = 0; i < f->nops; i++) {
		op = &f->ops[i];
		switch (op->tok) {
		case 0:
			kp_buf_put(b, f->text + op->off, op->len);
			break;
		case 't':
			if (r->topic)
				kp_buf_put(b, r->topic, strlen(r->topic));
			break;
		case 'p': put_i64(b, r->partition); break;
		case 'o': put_i64(b, r->offset); break;
		case 'T': put_i64(b, r->timestamp); break;
		case 'k': put_bytes(f, b, &r->key); break;
		case 's': put_bytes(f, b, &r->value); break;
		case 'K': put_i64(b, r->key.len); break;
		case 'S': put_i64(b, r->value.len); break;
		case 'R':
			kp_put_be32(be, (int32_t)r->value.len);
			kp_buf_put(b, be, 4);
			break;
		case 'h':
			for (h = 0; h < r->nheaders; h++) {
				if (h > 0)
					kp_buf_put(b, ",", 1);
				put_bytes(f, b, &r->headers[h].key);
				kp_buf_put(b, "=", 1);
				put_bytes(f, b, &r->headers[h].value);
			}
			break;
		}
	}
}
