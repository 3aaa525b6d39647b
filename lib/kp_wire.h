/* kp_wire.h -- Kafka protocol primitives, request/response headers, framing */
#ifndef KP_WIRE_H
#define KP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kp_buf.h"

/*
 * Borrowed views into a reader's bytes; len -1 means null. They die with
 * the buffer they point into: copy what you keep.
 */
struct kp_str {
	const char	*ptr;
	int32_t		 len;
};

struct kp_bytes {
	const uint8_t	*ptr;
	int32_t		 len;
};

/* Varints: unsigned (protocol lengths) and zigzag (record fields). */
uint64_t	kp_read_uvarint(struct kp_reader *);
int32_t		kp_read_varint(struct kp_reader *);
int64_t		kp_read_varlong(struct kp_reader *);
void		kp_put_uvarint(struct kp_buf *, uint64_t);
/*
 * Into raw memory with room for 10 bytes; returns the byte after it.
 * Inline: the batch builder stores six per record.
 */
static inline uint8_t *
kp_uvarint_store(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}
void		kp_put_varint(struct kp_buf *, int32_t);
void		kp_put_varlong(struct kp_buf *, int64_t);
size_t		kp_varint_size(int64_t);	/* zigzag encoded size */

/*
 * Strings, bytes and arrays. The _f forms take "flexible": true selects the
 * compact encoding (uvarint N+1) used by flexible versions. Non-nullable
 * readers treat null as malformed. Array readers return the count, -1 for
 * null, and fail with KP_EBAD when count * min_elem_size exceeds what is
 * left, so no caller allocates from an unchecked count.
 */
bool		kp_read_bool(struct kp_reader *);
void		kp_read_string_f(struct kp_reader *, bool, struct kp_str *);
void		kp_read_nstring_f(struct kp_reader *, bool, struct kp_str *);
void		kp_read_bytes_f(struct kp_reader *, bool, struct kp_bytes *);
void		kp_read_nbytes_f(struct kp_reader *, bool, struct kp_bytes *);
int32_t		kp_read_array_f(struct kp_reader *, bool, size_t);
void		kp_read_uuid(struct kp_reader *, uint8_t[16]);
/* Skip a tag buffer (no-op when not flexible); tags are validated. */
void		kp_read_tags_f(struct kp_reader *, bool);

/*
 * Start reading a versioned record key or value (the internal topics'
 * records): r set on p, its int16 version, or -1 when p is NULL, too short
 * or the version negative.
 */
int		kp_read_version(struct kp_reader *, const void *, size_t);

#define kp_read_string(r, s)	kp_read_string_f((r), false, (s))
#define kp_read_nstring(r, s)	kp_read_nstring_f((r), false, (s))
#define kp_read_bytes(r, s)	kp_read_bytes_f((r), false, (s))
#define kp_read_nbytes(r, s)	kp_read_nbytes_f((r), false, (s))
#define kp_read_array(r, m)	kp_read_array_f((r), false, (m))

void		kp_put_bool(struct kp_buf *, bool);
/*
 * len < 0 with ptr NULL writes null; len < 0 with a ptr uses strlen. A
 * string over INT16_MAX bytes (bytes over INT32_MAX) is not written and
 * sets the buffer's sticky err to EOVERFLOW, like a frame over INT32_MAX.
 */
void		kp_put_string_f(struct kp_buf *, bool, const char *, ssize_t);
void		kp_put_bytes_f(struct kp_buf *, bool, const void *, ssize_t);
/* n < 0 writes a null array. */
void		kp_put_array_f(struct kp_buf *, bool, int32_t);
void		kp_put_uuid(struct kp_buf *, const uint8_t[16]);
/* An empty tag buffer (no-op when not flexible). */
void		kp_put_tags_f(struct kp_buf *, bool);
void		kp_put_kstr_f(struct kp_buf *, bool, const struct kp_str *);

#define kp_put_string(b, s, n)	kp_put_string_f((b), false, (s), (n))
#define kp_put_bytes(b, p, n)	kp_put_bytes_f((b), false, (p), (n))
#define kp_put_array(b, n)	kp_put_array_f((b), false, (n))

/* Compare a borrowed string with a C string. */
bool		kp_str_eq(const struct kp_str *, const char *);
/* A new NUL-terminated copy (caller frees), NULL for null or no memory. */
char		*kp_str_dup(const struct kp_str *);

/*
 * API keys and the first flexible version of each, from
 * the kafka-protocol/message Request files.
 */
enum kp_api {
	KP_API_PRODUCE = 0, KP_API_FETCH = 1, KP_API_LIST_OFFSETS = 2,
	KP_API_METADATA = 3, KP_API_OFFSET_COMMIT = 8, KP_API_OFFSET_FETCH = 9,
	KP_API_FIND_COORDINATOR = 10, KP_API_JOIN_GROUP = 11,
	KP_API_HEARTBEAT = 12, KP_API_LEAVE_GROUP = 13, KP_API_SYNC_GROUP = 14,
	KP_API_DESCRIBE_GROUPS = 15, KP_API_LIST_GROUPS = 16,
	KP_API_SASL_HANDSHAKE = 17, KP_API_API_VERSIONS = 18,
	KP_API_CREATE_TOPICS = 19, KP_API_DELETE_TOPICS = 20,
	KP_API_DELETE_RECORDS = 21, KP_API_INIT_PRODUCER_ID = 22,
	KP_API_OFFSET_FOR_LEADER_EPOCH = 23, KP_API_ADD_PARTITIONS_TO_TXN = 24,
	KP_API_ADD_OFFSETS_TO_TXN = 25, KP_API_END_TXN = 26,
	KP_API_WRITE_TXN_MARKERS = 27, KP_API_TXN_OFFSET_COMMIT = 28,
	KP_API_DESCRIBE_CONFIGS = 32,
	KP_API_ALTER_CONFIGS = 33, KP_API_CREATE_PARTITIONS = 37,
	KP_API_DELETE_GROUPS = 42, KP_API_INCREMENTAL_ALTER_CONFIGS = 44,
	KP_API_ELECT_LEADERS = 43, KP_API_ALTER_PARTITION_REASSIGNMENTS = 45,
	KP_API_LIST_PARTITION_REASSIGNMENTS = 46,
	KP_API_OFFSET_DELETE = 47, KP_API_DESCRIBE_TRANSACTIONS = 65,
	KP_API_LIST_TRANSACTIONS = 66, KP_API_MAX = 75
};

const char	*kp_api_name(int16_t);	/* "Produce", or NULL if unknown */
bool		 kp_api_flexible(int16_t api_key, int16_t version);
int		 kp_req_header_version(int16_t api_key, int16_t version);
int		 kp_resp_header_version(int16_t api_key, int16_t version);

struct kp_req_header {
	int16_t		api_key;
	int16_t		api_version;
	int32_t		correlation_id;
	struct kp_str	client_id;	/* borrowed; len -1 when null */
};

/*
 * Decode a request header from the start of a frame's payload, choosing
 * header v0/v1/v2 from the API key and version. Returns bytes consumed,
 * 0 if the payload is too short, -1 if malformed.
 */
ssize_t	kp_req_header_decode(const uint8_t *, size_t, struct kp_req_header *);
void	kp_req_header_encode(struct kp_buf *, const struct kp_req_header *);
void	kp_resp_header_encode(struct kp_buf *, int16_t api_key,
	    int16_t version, int32_t correlation_id);
/* Bytes consumed, 0 need more, -1 malformed. */
ssize_t	kp_resp_header_decode(const uint8_t *, size_t, int16_t api_key,
	    int16_t version, int32_t *correlation_id);

/*
 * Size-prefixed frames. kp_frame_parse looks at the front of a receive
 * buffer: it returns the frame's total size (4 + payload) and sets the
 * payload view when a whole frame is there, 0 when more bytes are needed,
 * -1 when the size is negative or above max (the connection must close).
 */
ssize_t	kp_frame_parse(const uint8_t *, size_t, size_t max,
	    const uint8_t **payload, size_t *payload_len);
/* Reserve the size field; returns its offset for kp_frame_end. */
size_t	kp_frame_begin(struct kp_buf *);
void	kp_frame_end(struct kp_buf *, size_t);

#endif
