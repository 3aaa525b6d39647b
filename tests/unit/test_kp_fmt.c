/* test_kp_fmt.c -- kcat-style format strings and escapes */
#include <stdlib.h>
#include <string.h>

#include "kp_fmt.h"
#include "tap.h"

static char why[256];

static void
render(const char *fmt, const struct kp_json_rec *r, const char *null_str,
    const char *want, size_t wlen)
{
	struct kp_fmt f;
	struct kp_buf b;

	is_int(kp_fmt_compile(&f, fmt, why, sizeof(why)), 0, "compile '%s'",
	    fmt);
	f.null_str = null_str;
	f.null_len = strlen(null_str);
	kp_buf_init(&b);
	kp_fmt_render(&f, r, &b);
	ok(b.len == wlen && memcmp(b.data, want, wlen) == 0, "render '%s'",
	    fmt);
	if (b.len != wlen || memcmp(b.data, want, wlen) != 0)
		printf("# got '%.*s'\n", (int)b.len, b.data);
	kp_buf_release(&b);
	kp_fmt_release(&f);
}

int
main(void)
{
	struct kp_json_rec r;
	struct kp_jheader h[2];
	struct kp_fmt f;
	char *u;
	size_t n;

	kp_json_rec_init(&r);
	r.topic = "logs";
	r.partition = 3;
	r.offset = 42;
	r.timestamp = 1700000000000;
	r.key.ptr = (const uint8_t *)"k1";
	r.key.len = 2;
	r.value.ptr = (const uint8_t *)"hello";
	r.value.len = 5;
	h[0].key.ptr = (const uint8_t *)"a";
	h[0].key.len = 1;
	h[0].value.ptr = (const uint8_t *)"1";
	h[0].value.len = 1;
	h[1].key.ptr = (const uint8_t *)"b";
	h[1].key.len = 1;
	h[1].value.ptr = NULL;
	h[1].value.len = -1;
	r.headers = h;
	r.nheaders = 2;

	render("%t %p %o %T %k=%s\\n", &r, "", "logs 3 42 1700000000000 k1=hello\n",
	    33);
	render("%K %S [%h] 100%%\\t|", &r, "NULL", "2 5 [a=1,b=NULL] 100%\t|",
	    23);
	render("%R%s", &r, "", "\0\0\0\5hello", 9);
	render("\\x41\\0B", &r, "", "A\0B", 3);
	r.key.ptr = NULL;
	r.key.len = -1;
	r.value.ptr = NULL;
	r.value.len = -1;
	render("%k|%s|%K|%S", &r, "(null)", "(null)|(null)|-1|-1", 19);
	render("%k|%s", &r, "", "|", 1);

	is_int(kp_fmt_compile(&f, "%z", why, sizeof(why)), -1, "%%z rejected");
	ok(strstr(why, "%z") != NULL, "  error names the token: %s", why);
	is_int(kp_fmt_compile(&f, "abc%", why, sizeof(why)), -1,
	    "trailing %% rejected");
	is_int(kp_fmt_compile(&f, "\\q", why, sizeof(why)), -1,
	    "bad escape rejected");
	is_int(kp_fmt_compile(&f, "\\x4", why, sizeof(why)), -1,
	    "short \\x rejected");

	u = kp_unescape("a\\tb\\n\\x00c", &n);
	ok(u != NULL && n == 6 && memcmp(u, "a\tb\n\0c", 6) == 0,
	    "unescape with NUL");
	free(u);
	ok(kp_unescape("\\", &n) == NULL, "unescape: lone backslash fails");
	return tap_done();
}
