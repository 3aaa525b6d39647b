/* fuzz_frame.c -- libFuzzer: frames, request headers, tags, compact arrays */
#include <stdlib.h>
#include <string.h>

#include "kp_wire.h"
#include "../unit/req_walk.h"

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__ubsan_default_options(void);

/*
 * The Makefile's fuzz rule builds without -fno-sanitize-recover, so UBSan
 * would print a finding and carry on with exit status 0. Halting makes
 * libFuzzer save the input and make fuzz fail.
 */
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* A broken invariant is a finding: crash so libFuzzer keeps the input. */
#define must(c) do { if (!(c)) abort(); } while (0)

/*
 * Read frames off the input as kbroker reads its receive buffer, and check
 * that an accepted header re-encodes and decodes to the same fields.
 */
static void
frames(const uint8_t *p, size_t len)
{
	struct kp_req_header h, g;
	struct kp_buf b;
	ssize_t n;
	int i;

	kp_buf_init(&b);
	for (i = 0; i < 64 && len > 0; i++) {
		n = decode_request(p, len, 1 << 16, &h);
		must(n >= -1 && n <= (ssize_t)len);
		if (n > 0) {
			kp_buf_reset(&b);
			kp_req_header_encode(&b, &h);
			must(kp_req_header_decode(b.data, b.len, &g) ==
			    (ssize_t)b.len);
			must(g.api_key == h.api_key &&
			    g.api_version == h.api_version &&
			    g.correlation_id == h.correlation_id &&
			    g.client_id.len == h.client_id.len);
			must(h.client_id.len <= 0 || memcmp(g.client_id.ptr,
			    h.client_id.ptr, (size_t)h.client_id.len) == 0);
		}
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	kp_buf_release(&b);
}

/* The flexible readers over raw bytes, as a flexible body would use them. */
static void
flexible(const uint8_t *p, size_t len)
{
	struct kp_reader r;
	struct kp_str s;
	struct kp_bytes v;
	uint8_t id[16];
	int32_t n, i;
	size_t left;

	kp_reader_init(&r, p, len);
	while (kp_reader_left(&r) > 0) {
		left = kp_reader_left(&r);
		n = kp_read_array_f(&r, true, 2);
		must(r.err || n < 0 || (size_t)n * 2 <= left);
		for (i = 0; i < n && !r.err; i++) {
			kp_read_nstring_f(&r, true, &s);
			must(r.err || s.len < 0 ||
			    s.ptr + s.len <= (const char *)p + len);
			kp_read_tags_f(&r, true);
		}
		kp_read_nbytes_f(&r, true, &v);
		must(r.err || v.len < 0 || v.ptr + v.len <= p + len);
		(void)kp_read_varint(&r);
		(void)kp_read_varlong(&r);
		kp_read_uuid(&r, id);
		kp_read_tags_f(&r, true);
		must(r.off <= len);
		if (r.err)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t corr;
	ssize_t n;

	frames(data, size);
	flexible(data, size);
	n = kp_resp_header_decode(data, size, KP_API_FETCH, 12, &corr);
	must(n >= -1 && n <= (ssize_t)size);
	return 0;
}
