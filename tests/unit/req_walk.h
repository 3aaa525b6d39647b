/* req_walk.h -- decode a whole request frame as kbroker will (tests, fuzz) */
#ifndef REQ_WALK_H
#define REQ_WALK_H

#include "kp_wire.h"

/*
 * The bodies real clients send first: ApiVersions v0-3 and Metadata v0-8.
 * Walking them field by field (every string, array and tag buffer through
 * the lib readers) is what lets truncation and mutation reach past the
 * header. Returns 0 on success with the reader at the body's end.
 */
static inline int
walk_body(struct kp_reader *r, int16_t key, int16_t ver)
{
	bool flex = kp_api_flexible(key, ver);
	struct kp_str s;
	int32_t i, n;

	switch (key) {
	case KP_API_API_VERSIONS:
		if (ver < 0 || ver > 3)
			return -1;
		if (ver >= 3) {
			/* ClientSoftwareName, ClientSoftwareVersion */
			kp_read_string_f(r, true, &s);
			kp_read_string_f(r, true, &s);
		}
		kp_read_tags_f(r, flex);
		break;
	case KP_API_METADATA:
		if (ver < 0 || ver > 8)
			return -1;
		/* Topics: [Name]; nullable from v1 (null = all topics). */
		n = kp_read_array_f(r, flex, 2);
		if (n < 0 && ver < 1)
			kp_reader_fail(r, KP_EBAD);
		for (i = 0; i < n && !r->err; i++)
			kp_read_string_f(r, flex, &s);
		if (ver >= 4)
			(void)kp_read_bool(r);	/* AllowAutoTopicCreation */
		if (ver >= 8) {
			(void)kp_read_bool(r);
			(void)kp_read_bool(r);
		}
		break;
	default:
		return -1;
	}
	return r->err ? -1 : 0;
}

/*
 * One request off the front of a receive buffer: the frame's total size
 * when it is whole and every byte of header and body is accounted for,
 * 0 when more bytes are needed, -1 when malformed. Inside a whole frame a
 * short header or body is malformed: no more bytes will come for it.
 */
static inline ssize_t
decode_request(const uint8_t *p, size_t len, size_t max,
    struct kp_req_header *h)
{
	const uint8_t *payload;
	size_t plen;
	ssize_t n, hl;
	struct kp_reader r;

	if ((n = kp_frame_parse(p, len, max, &payload, &plen)) <= 0)
		return n;
	if ((hl = kp_req_header_decode(payload, plen, h)) <= 0)
		return -1;
	if ((size_t)hl > plen)
		return -2;	/* a decoder bug: callers treat it as fatal */
	kp_reader_init(&r, payload + hl, plen - (size_t)hl);
	if (walk_body(&r, h->api_key, h->api_version) == -1 ||
	    kp_reader_left(&r) != 0)
		return -1;
	return n;
}

#endif
