/* fuzz_text.c -- libFuzzer harness for kconsume's offset specs and format strings */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "kp_buf.h"
#include "kp_fmt.h"
#include "kp_json.h"
#include "kp_offspec.h"

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* The first byte picks the parser; the rest is its NUL-terminated input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct kp_offspec o;
	struct kp_fmt f;
	struct kp_json_rec r;
	struct kp_buf b;
	char why[256], *s;

	if (len < 1 || (s = malloc(len)) == NULL)
		return 0;
	memcpy(s, data + 1, len - 1);
	s[len - 1] = '\0';
	if (data[0] % 2 == 0) {
		kp_offspec_parse(s, 1700000000000LL, &o, why, sizeof(why));
	} else if (kp_fmt_compile(&f, s, why, sizeof(why)) == 0) {
		kp_json_rec_init(&r);
		r.topic = "t";
		r.key.ptr = (const uint8_t *)s;
		r.key.len = (ssize_t)strlen(s);
		kp_buf_init(&b);
		kp_fmt_render(&f, &r, &b);
		kp_buf_release(&b);
		kp_fmt_release(&f);
	}
	free(s);
	return 0;
}
