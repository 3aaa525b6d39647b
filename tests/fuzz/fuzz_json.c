/* fuzz_json.c -- libFuzzer harness for the client's text parsers: JSON records, offset specs, formats */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_fmt.h"
#include "kp_json.h"
#include "kp_offspec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The first byte picks the parser; the rest is its input. A JSON line that
 * parses must write back to JSON that parses to the same record, the round
 * trip kconsume | kproduce relies on.
 */
static void
json_roundtrip(const char *p, size_t n)
{
	struct kp_json_rec a, b;
	struct kp_buf out;
	char why[256];
	size_t i;

	if (kp_json_parse(p, n, &a, why, sizeof(why)) != 0)
		return;
	kp_buf_init(&out);
	kp_json_write(&out, &a);
	if (out.err || kp_json_parse((const char *)out.data, out.len, &b, why,
	    sizeof(why)) != 0)
		abort();
	if (a.key.len != b.key.len || a.value.len != b.value.len ||
	    a.nheaders != b.nheaders || a.timestamp != b.timestamp ||
	    a.partition != b.partition || (a.key.len > 0 &&
	    memcmp(a.key.ptr, b.key.ptr, (size_t)a.key.len) != 0) ||
	    (a.value.len > 0 &&
	    memcmp(a.value.ptr, b.value.ptr, (size_t)a.value.len) != 0))
		abort();
	for (i = 0; i < a.nheaders; i++)
		if (a.headers[i].key.len != b.headers[i].key.len ||
		    a.headers[i].value.len != b.headers[i].value.len)
			abort();
	kp_json_rec_release(&a);
	kp_json_rec_release(&b);
	kp_buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct kp_offspec o;
	struct kp_fmt f;
	struct kp_json_rec r;
	struct kp_buf b;
	char why[256], *s;

	if (len < 1)
		return 0;
	/* parsers of C strings get a NUL-terminated copy */
	if ((s = malloc(len)) == NULL)
		return 0;
	memcpy(s, data + 1, len - 1);
	s[len - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		json_roundtrip((const char *)data + 1, len - 1);
		break;
	case 1:
		kp_offspec_parse(s, 1700000000000LL, &o, why, sizeof(why));
		break;
	case 2:
		if (kp_fmt_compile(&f, s, why, sizeof(why)) == 0) {
			kp_json_rec_init(&r);
			r.topic = "t";
			r.key.ptr = (const uint8_t *)s;
			r.key.len = (ssize_t)strlen(s);
			kp_buf_init(&b);
			kp_fmt_render(&f, &r, &b);
			kp_buf_release(&b);
			kp_fmt_release(&f);
		}
		break;
	}
	free(s);
	return 0;
}
