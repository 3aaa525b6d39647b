/* test_kp_json.c -- JSON line encoding and decoding of records, binary round trips */
#include <stdlib.h>
#include <string.h>

#include "kp_json.h"
#include "tap.h"

static char errbuf[256];

static void
test_utf8(void)
{
	ok(kp_utf8_valid((const uint8_t *)"h\xc3\xa9llo", 6), "utf8 2-byte");
	ok(kp_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4), "utf8 4-byte");
	ok(!kp_utf8_valid((const uint8_t *)"\xc0\x80", 2), "overlong NUL");
	ok(!kp_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3), "surrogate");
	ok(!kp_utf8_valid((const uint8_t *)"\xff", 1), "0xff");
	ok(!kp_utf8_valid((const uint8_t *)"\xe2\x82", 2), "truncated");
	ok(kp_utf8_valid((const uint8_t *)"a\0b", 3), "NUL is UTF-8");
}

static void
test_base64(void)
{
	static const char *vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foobar", "Zm9vYmFy" },
	};
	uint8_t out[16];
	struct kp_buf b;
	size_t i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		kp_buf_init(&b);
		kp_base64_encode(&b, (const uint8_t *)vec[i][0],
		    strlen(vec[i][0]));
		ok(b.len == strlen(vec[i][1]) &&
		    memcmp(b.data ? (char *)b.data : "", vec[i][1], b.len) == 0,
		    "base64 encode '%s'", vec[i][0]);
		is_int(kp_base64_decode(vec[i][1], strlen(vec[i][1]), out),
		    strlen(vec[i][0]), "base64 decode '%s' length", vec[i][1]);
		ok(memcmp(out, vec[i][0], strlen(vec[i][0])) == 0,
		    "base64 decode '%s'", vec[i][1]);
		kp_buf_release(&b);
	}
	is_int(kp_base64_decode("Zm9", 3, out), -1, "base64 bad length");
	is_int(kp_base64_decode("Z=9v", 4, out), -1, "base64 pad inside");
	is_int(kp_base64_decode("Zm9*", 4, out), -1, "base64 bad char");
}

static void
test_write(void)
{
	struct kp_json_rec r;
	struct kp_jheader h[2];
	struct kp_buf b;
	const char *want =
	    "{\"topic\":\"t\",\"partition\":2,\"offset\":7,"
	    "\"timestamp\":1700000000000,\"key\":null,"
	    "\"value\":\"a\\\"b\\n\\u0001\","
	    "\"headers\":[{\"key\":\"h\",\"value\":null},"
	    "{\"key\":\"h\",\"value\":{\"base64\":\"/w==\"}}]}";

	kp_json_rec_init(&r);
	r.topic = "t";
	r.partition = 2;
	r.offset = 7;
	r.timestamp = 1700000000000;
	r.value.ptr = (const uint8_t *)"a\"b\n\x01";
	r.value.len = 5;
	h[0].key.ptr = (const uint8_t *)"h";
	h[0].key.len = 1;
	h[0].value.ptr = NULL;
	h[0].value.len = -1;
	h[1].key = h[0].key;
	h[1].value.ptr = (const uint8_t *)"\xff";
	h[1].value.len = 1;
	r.headers = h;
	r.nheaders = 2;
	kp_buf_init(&b);
	kp_json_write(&b, &r);
	ok(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0,
	    "write: exact text");
	if (b.len != strlen(want))
		printf("# got %.*s\n", (int)b.len, b.data);
	kp_buf_release(&b);
}

/* Write, parse back, compare every field. */
static void
roundtrip(const char *name, const uint8_t *key, ssize_t klen,
    const uint8_t *val, ssize_t vlen)
{
	struct kp_json_rec in, out;
	struct kp_jheader h;
	struct kp_buf b;
	int rc;

	kp_json_rec_init(&in);
	in.topic = "topic-\xc3\xa9";
	in.partition = 0;
	in.offset = 123;
	in.timestamp = 5;
	in.key.ptr = key;
	in.key.len = klen;
	in.value.ptr = val;
	in.value.len = vlen;
	h.key.ptr = val;
	h.key.len = vlen < 0 ? 0 : vlen;
	h.value.ptr = key;
	h.value.len = klen;
	in.headers = &h;
	in.nheaders = 1;
	kp_buf_init(&b);
	kp_json_write(&b, &in);
	rc = kp_json_parse((const char *)b.data, b.len, &out, errbuf,
	    sizeof(errbuf));
	is_int(rc, 0, "%s: parses (%s)", name, rc ? errbuf : "ok");
	if (rc == 0) {
		ok(strcmp(out.topic, in.topic) == 0 && out.partition == 0 &&
		    out.offset == 123 && out.timestamp == 5,
		    "%s: metadata", name);
		ok(out.key.len == klen && (klen <= 0 ||
		    memcmp(out.key.ptr, key, (size_t)klen) == 0),
		    "%s: key", name);
		ok(out.value.len == vlen && (vlen <= 0 ||
		    memcmp(out.value.ptr, val, (size_t)vlen) == 0),
		    "%s: value", name);
		ok(out.nheaders == 1 && out.headers[0].key.len == h.key.len &&
		    out.headers[0].value.len == klen &&
		    (klen <= 0 || memcmp(out.headers[0].value.ptr, key,
		    (size_t)klen) == 0), "%s: header", name);
	}
	kp_json_rec_release(&out);
	kp_buf_release(&b);
}

static void
test_roundtrips(void)
{
	uint8_t all[256];
	uint8_t rnd[1000];
	int i, j;

	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	roundtrip("text", (const uint8_t *)"k", 1, (const uint8_t *)"v", 1);
	roundtrip("null key and value", NULL, -1, NULL, -1);
	roundtrip("empty", (const uint8_t *)"", 0, (const uint8_t *)"", 0);
	roundtrip("every byte", all, 256, all + 1, 255);
	roundtrip("control chars", all, 32, all, 128);
	roundtrip("embedded NUL", (const uint8_t *)"a\0b", 3,
	    (const uint8_t *)"\0", 1);
	srand(7);
	for (j = 0; j < 20; j++) {
		for (i = 0; i < (int)sizeof(rnd); i++)
			rnd[i] = (uint8_t)rand();
		roundtrip("random", rnd, j * 7 % 13, rnd, j * 50);
	}
}

static void
test_parse(void)
{
	struct kp_json_rec r;
	const char *l;

	l = "{\"value\":\"x\",\"headers\":{\"a\":\"1\",\"b\":null}}";
	is_int(kp_json_parse(l, strlen(l), &r, errbuf, sizeof(errbuf)), 0,
	    "parse: headers object shorthand");
	ok(r.topic == NULL && r.partition == -1 && r.timestamp == -1 &&
	    r.key.len == -1 && r.value.len == 1 && r.nheaders == 2 &&
	    r.headers[1].value.len == -1, "parse: defaults and headers");
	kp_json_rec_release(&r);

	l = "{\"value\":{\"base64\":\"AAEC\"}}";
	is_int(kp_json_parse(l, strlen(l), &r, errbuf, sizeof(errbuf)), 0,
	    "parse: base64 value");
	ok(r.value.len == 3 && memcmp(r.value.ptr, "\0\1\2", 3) == 0,
	    "parse: base64 bytes");
	kp_json_rec_release(&r);

	l = "{\"value\":\"a\\u0000b\"}";
	is_int(kp_json_parse(l, strlen(l), &r, errbuf, sizeof(errbuf)), 0,
	    "parse: \\u0000 in string");
	ok(r.value.len == 3 && memcmp(r.value.ptr, "a\0b", 3) == 0,
	    "parse: NUL kept");
	kp_json_rec_release(&r);

	static const char *bad[] = {
		"", "{", "[]", "\"x\"", "{\"value\":1}",
		"{\"value\":{\"base64\":\"***\"}}", "{\"value\":{\"hex\":\"00\"}}",
		"{\"partition\":-1}", "{\"partition\":\"0\"}",
		"{\"timestamp\":1.5}", "{\"headers\":[1]}",
		"{\"headers\":[{\"key\":null,\"value\":\"x\"}]}",
		"{\"topic\":\"\"}", "{\"value\":\"x\"} trailing",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errbuf[0] = '\0';
		is_int(kp_json_parse(bad[i], strlen(bad[i]), &r, errbuf,
		    sizeof(errbuf)), -1, "parse rejects '%s'", bad[i]);
		ok(errbuf[0] != '\0', "  with a reason: %s", errbuf);
	}
}

int
main(void)
{
	test_utf8();
	test_base64();
	test_write();
	test_roundtrips();
	test_parse();
	return tap_done();
}
