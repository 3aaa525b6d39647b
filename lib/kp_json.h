/* kp_json.h -- records <-> JSON lines, binary-safe */
#ifndef KP_JSON_H
#define KP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kp_buf.h"

/*
 * One record per line:
 *   {"topic":"t","partition":0,"offset":5,"timestamp":1700000000000,
 *    "key":"k","value":"v","headers":[{"key":"h","value":"x"}]}
 * key, value and header values are a JSON string when the bytes are valid
 * UTF-8, null when null, and {"base64":"..."} otherwise (RFC 4648 with
 * padding), so any byte string survives the round trip. Header keys follow
 * the same rule. Headers keep their order and duplicates.
 */

/* Borrowed bytes; len -1 for null. */
struct kp_jbytes {
	const uint8_t	*ptr;
	ssize_t		 len;
};

struct kp_jheader {
	struct kp_jbytes	key;
	struct kp_jbytes	value;
};

/*
 * A record as read from or written to JSON. On write everything is
 * borrowed from the caller. On parse (kp_json_parse) every pointer is
 * owned by the record: kp_json_rec_release frees it.
 */
struct kp_json_rec {
	char			*topic;		/* NULL when absent */
	int32_t			 partition;	/* -1 when absent */
	int64_t			 offset;	/* -1 when absent */
	int64_t			 timestamp;	/* -1 when absent */
	struct kp_jbytes	 key;
	struct kp_jbytes	 value;
	struct kp_jheader	*headers;
	size_t			 nheaders;
};

void	kp_json_rec_init(struct kp_json_rec *);
void	kp_json_rec_release(struct kp_json_rec *);

/*
 * Append one JSON object (no newline) for rec to out. topic NULL,
 * partition/offset/timestamp < 0 leave that member out.
 */
void	kp_json_write(struct kp_buf *, const struct kp_json_rec *);
/* Append bytes as JSON: a string, null or {"base64":...}. */
void	kp_json_put_bytes(struct kp_buf *, const void *, ssize_t);
/* Append a JSON string of valid UTF-8 text (escaped). */
void	kp_json_put_str(struct kp_buf *, const char *, size_t);

/*
 * Parse one line (no newline needed) into rec (initialised here). Unknown
 * members are ignored; key and value default to null when absent. Returns
 * 0, or -1 with a reason in errbuf (ENOMEM shows as "out of memory").
 */
int	kp_json_parse(const char *, size_t, struct kp_json_rec *,
	    char *errbuf, size_t errlen);

/* True when the bytes are valid UTF-8 (RFC 3629: no overlongs, surrogates). */
bool	kp_utf8_valid(const uint8_t *, size_t);
/* Base64 (RFC 4648, padded). decode returns bytes written or -1. */
void	kp_base64_encode(struct kp_buf *, const uint8_t *, size_t);
ssize_t	kp_base64_decode(const char *, size_t, uint8_t *);

#endif
