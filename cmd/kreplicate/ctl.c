/* ctl.c -- kreplicate's requests to the controller, and output helpers elect and reassign share */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "kp_err.h"
#include "kp_json.h"
#include "kreplicate.h"

#define ATTEMPTS	8	/* about 10 s of pauses at most */

int16_t
kr_controller_call(struct kr *kr, int16_t api, int16_t lo, int16_t hi,
    const struct kp_msg *reqm, const void *req, const struct kp_msg *respm,
    void *resp, struct kp_arena *arena, struct kp_buf *body,
    bool (*not_controller)(const void *))
{
	struct kp_client *c = kr_client(kr);
	struct kp_conn *k;
	int16_t v;

	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		if (attempt > 0)
			kp_client_backoff(attempt - 1);
		if (kp_client_metadata(c, NULL, 0, false) < 0)
			continue;
		k = kp_client_conn(c, kp_client_controller(c));
		if (k == NULL && kp_client_controller(c) >= 0)
			continue;	/* the controller just went away */
		if (k == NULL)
			k = kp_client_conn(c, -1);
		if (k == NULL)
			continue;
		if ((v = kp_conn_version(k, api, lo, hi)) < 0)
			errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
		kp_arena_reset(arena);
		if (kp_conn_exchange(k, api, v, reqm, req, respm, resp, arena,
		    body) < 0)
			continue;
		if (not_controller == NULL || !not_controller(resp))
			return v;
		kp_client_seterr(c, KP_NOT_CONTROLLER, "%s: %s",
		    kp_conn_name(k), kp_kerr_name(KP_NOT_CONTROLLER));
	}
	if (kp_client_kerr(c) == KP_NOT_CONTROLLER)
		errx(EX_TEMPFAIL, "%s", kp_client_error(c));
	errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
}

void
kr_json_line(struct kp_buf *b)
{
	kp_buf_put(b, "\n", 1);
	if (b->err || fwrite(b->data, 1, b->len, stdout) != b->len)
		errx(EX_IOERR, "stdout: cannot write");
	kp_buf_reset(b);
}

void
kr_json_ids(struct kp_buf *b, const char *name, const int32_t *v, int32_t n)
{
	char tmp[32];
	int k;

	kp_buf_put(b, ",", 1);
	kp_json_put_str(b, name, strlen(name));
	kp_buf_put(b, ":[", 2);
	for (int32_t i = 0; i < n; i++) {
		k = snprintf(tmp, sizeof(tmp), "%s%" PRId32, i ? "," : "",
		    v[i]);
		kp_buf_put(b, tmp, (size_t)k);
	}
	kp_buf_put(b, "]", 1);
}

const char *
kr_ids(char *buf, size_t len, const int32_t *v, int32_t n)
{
	size_t off = 0;

	strlcpy(buf, n > 0 ? "" : "-", len);
	for (int32_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%" PRId32,
		    i ? "," : "", v[i]);
	return buf;
}
