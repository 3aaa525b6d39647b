/* kp_wire.c -- Kafka protocol primitives, request/response headers, framing */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_wire.h"

uint64_t
kp_read_uvarint(struct kp_reader *r)
{
	uint64_t v = 0;
	unsigned shift;
	const uint8_t *p;

	for (shift = 0; shift < 64; shift += 7) {
		if ((p = kp_reader_take(r, 1)) == NULL)
			return 0;
		/* The tenth byte holds bit 63 only; more would be lost. */
		if (shift == 63 && *p > 1)
			break;
		v |= (uint64_t)(*p & 0x7f) << shift;
		if ((*p & 0x80) == 0)
			return v;
	}
	kp_reader_fail(r, KP_EBAD);	/* longer than 64 bits */
	return 0;
}

int32_t
kp_read_varint(struct kp_reader *r)
{
	size_t start = r->off;
	uint64_t u = kp_read_uvarint(r);

	if (!r->err && (u > UINT32_MAX || r->off - start > 5)) {
		kp_reader_fail(r, KP_EBAD);
		return 0;
	}
	return (int32_t)((uint32_t)(u >> 1) ^ -(uint32_t)(u & 1));
}

int64_t
kp_read_varlong(struct kp_reader *r)
{
	uint64_t u = kp_read_uvarint(r);

	return (int64_t)((u >> 1) ^ -(u & 1));
}

void
kp_put_uvarint(struct kp_buf *b, uint64_t v)
{
	uint8_t tmp[10];

	kp_buf_put(b, tmp, (size_t)(kp_uvarint_store(tmp, v) - tmp));
}

void
kp_put_varint(struct kp_buf *b, int32_t v)
{
	kp_put_uvarint(b, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

void
kp_put_varlong(struct kp_buf *b, int64_t v)
{
	kp_put_uvarint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

size_t
kp_varint_size(int64_t v)
{
	uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 1;

	while (u >= 0x80) {
		u >>= 7;
		n++;
	}
	return n;
}

int
kp_read_version(struct kp_reader *r, const void *p, size_t len)
{
	int16_t v;

	if (p == NULL)
		return -1;
	kp_reader_init(r, p, len);
	v = kp_read_i16(r);
	return r->err || v < 0 ? -1 : v;
}

bool
kp_read_bool(struct kp_reader *r)
{
	return kp_read_i8(r) != 0;
}

/* Length of a string or bytes field: -1 for null, -2 after an error. */
static int64_t
read_len(struct kp_reader *r, bool flexible, bool wide)
{
	int64_t n;

	if (flexible) {
		uint64_t u = kp_read_uvarint(r);

		if (r->err)
			return -2;
		/* Java rejects compact strings longer than a classic one. */
		if (u > INT32_MAX || (!wide && u > (uint64_t)INT16_MAX + 1)) {
			kp_reader_fail(r, KP_EBAD);
			return -2;
		}
		return (int64_t)u - 1;
	}
	n = wide ? kp_read_i32(r) : kp_read_i16(r);
	if (r->err)
		return -2;
	if (n < -1) {
		kp_reader_fail(r, KP_EBAD);
		return -2;
	}
	return n;
}

static void
read_view(struct kp_reader *r, bool flexible, bool wide, bool nullable,
    const uint8_t **ptr, int32_t *len)
{
	int64_t n = read_len(r, flexible, wide);

	*ptr = NULL;
	*len = -1;
	if (n == -2)
		return;
	if (n == -1) {
		if (!nullable)
			kp_reader_fail(r, KP_EBAD);
		return;
	}
	if ((*ptr = kp_reader_take(r, (size_t)n)) != NULL)
		*len = (int32_t)n;
}

void
kp_read_string_f(struct kp_reader *r, bool flexible, struct kp_str *s)
{
	read_view(r, flexible, false, false, (const uint8_t **)&s->ptr,
	    &s->len);
}

void
kp_read_nstring_f(struct kp_reader *r, bool flexible, struct kp_str *s)
{
	read_view(r, flexible, false, true, (const uint8_t **)&s->ptr,
	    &s->len);
}

void
kp_read_bytes_f(struct kp_reader *r, bool flexible, struct kp_bytes *b)
{
	read_view(r, flexible, true, false, &b->ptr, &b->len);
}

void
kp_read_nbytes_f(struct kp_reader *r, bool flexible, struct kp_bytes *b)
{
	read_view(r, flexible, true, true, &b->ptr, &b->len);
}

int32_t
kp_read_array_f(struct kp_reader *r, bool flexible, size_t min_elem)
{
	int64_t n = read_len(r, flexible, true);

	if (n < 0)
		return n == -1 ? -1 : 0;
	if (min_elem == 0)
		min_elem = 1;
	if ((uint64_t)n > kp_reader_left(r) / min_elem) {
		kp_reader_fail(r, KP_EBAD);
		return 0;
	}
	return (int32_t)n;
}

void
kp_read_uuid(struct kp_reader *r, uint8_t out[16])
{
	const uint8_t *p = kp_reader_take(r, 16);

	if (p)
		memcpy(out, p, 16);
	else
		memset(out, 0, 16);
}

void
kp_read_tags_f(struct kp_reader *r, bool flexible)
{
	uint64_t n, i, tag, size, last = 0;

	if (!flexible)
		return;
	n = kp_read_uvarint(r);
	if (n > kp_reader_left(r) / 2) {
		kp_reader_fail(r, KP_EBAD);
		return;
	}
	for (i = 0; i < n && !r->err; i++) {
		tag = kp_read_uvarint(r);
		size = kp_read_uvarint(r);
		if (r->err)
			return;
		/* Tags are unique and in ascending order. */
		if (i > 0 && tag <= last) {
			kp_reader_fail(r, KP_EBAD);
			return;
		}
		last = tag;
		if (size > kp_reader_left(r)) {
			kp_reader_fail(r, KP_ESHORT);
			return;
		}
		kp_reader_take(r, (size_t)size);
	}
}

void
kp_put_bool(struct kp_buf *b, bool v)
{
	kp_buf_put_i8(b, v ? 1 : 0);
}

static void
put_len(struct kp_buf *b, bool flexible, bool wide, int64_t n)
{
	if (flexible)
		kp_put_uvarint(b, (uint64_t)(n + 1));
	else if (wide)
		kp_buf_put_i32(b, (int32_t)n);
	else
		kp_buf_put_i16(b, (int16_t)n);
}

void
kp_put_string_f(struct kp_buf *b, bool flexible, const char *s, ssize_t n)
{
	if (s == NULL) {
		put_len(b, flexible, false, -1);
		return;
	}
	if (n < 0)
		n = (ssize_t)strlen(s);
	/* Truncating would cut UTF-8 mid-character: fail the buffer. */
	if (n > INT16_MAX) {
		b->err = EOVERFLOW;
		return;
	}
	put_len(b, flexible, false, n);
	kp_buf_put(b, s, (size_t)n);
}

void
kp_put_bytes_f(struct kp_buf *b, bool flexible, const void *p, ssize_t n)
{
	if (p == NULL || n < 0) {
		put_len(b, flexible, true, -1);
		return;
	}
	if ((uint64_t)n > INT32_MAX) {
		b->err = EOVERFLOW;
		return;
	}
	put_len(b, flexible, true, n);
	kp_buf_put(b, p, (size_t)n);
}

void
kp_put_array_f(struct kp_buf *b, bool flexible, int32_t n)
{
	put_len(b, flexible, true, n < 0 ? -1 : n);
}

void
kp_put_uuid(struct kp_buf *b, const uint8_t uuid[16])
{
	kp_buf_put(b, uuid, 16);
}

void
kp_put_tags_f(struct kp_buf *b, bool flexible)
{
	if (flexible)
		kp_put_uvarint(b, 0);
}

void
kp_put_kstr_f(struct kp_buf *b, bool flexible, const struct kp_str *s)
{
	kp_put_string_f(b, flexible, s->len < 0 ? NULL : s->ptr, s->len);
}

bool
kp_str_eq(const struct kp_str *s, const char *c)
{
	size_t n;

	if (s->len < 0 || c == NULL)
		return s->len < 0 && c == NULL;
	n = strlen(c);
	return (size_t)s->len == n && memcmp(s->ptr, c, n) == 0;
}

char *
kp_str_dup(const struct kp_str *s)
{
	char *p;

	if (s->len < 0 || (p = malloc((size_t)s->len + 1)) == NULL)
		return NULL;
	memcpy(p, s->ptr, (size_t)s->len);
	p[s->len] = '\0';
	return p;
}

/* Name and first flexible version (-1: never) of every API key. */
static const struct {
	const char	*name;
	int16_t		 flex;
} apis[KP_API_MAX + 1] = {
	{ "Produce", 9 }, { "Fetch", 12 }, { "ListOffsets", 6 },
	{ "Metadata", 9 }, { "LeaderAndIsr", 4 }, { "StopReplica", 2 },
	{ "UpdateMetadata", 6 }, { "ControlledShutdown", 3 },
	{ "OffsetCommit", 8 }, { "OffsetFetch", 6 },
	{ "FindCoordinator", 3 }, { "JoinGroup", 6 }, { "Heartbeat", 4 },
	{ "LeaveGroup", 4 }, { "SyncGroup", 4 }, { "DescribeGroups", 5 },
	{ "ListGroups", 3 }, { "SaslHandshake", -1 }, { "ApiVersions", 3 },
	{ "CreateTopics", 5 }, { "DeleteTopics", 4 }, { "DeleteRecords", 2 },
	{ "InitProducerId", 2 }, { "OffsetForLeaderEpoch", 4 },
	{ "AddPartitionsToTxn", 3 }, { "AddOffsetsToTxn", 3 },
	{ "EndTxn", 3 }, { "WriteTxnMarkers", 1 }, { "TxnOffsetCommit", 3 },
	{ "DescribeAcls", 2 }, { "CreateAcls", 2 }, { "DeleteAcls", 2 },
	{ "DescribeConfigs", 4 }, { "AlterConfigs", 2 },
	{ "AlterReplicaLogDirs", 2 }, { "DescribeLogDirs", 2 },
	{ "SaslAuthenticate", 2 }, { "CreatePartitions", 2 },
	{ "CreateDelegationToken", 2 }, { "RenewDelegationToken", 2 },
	{ "ExpireDelegationToken", 2 }, { "DescribeDelegationToken", 2 },
	{ "DeleteGroups", 2 }, { "ElectLeaders", 2 },
	{ "IncrementalAlterConfigs", 1 },
	{ "AlterPartitionReassignments", 0 },
	{ "ListPartitionReassignments", 0 }, { "OffsetDelete", -1 },
	{ "DescribeClientQuotas", 1 }, { "AlterClientQuotas", 1 },
	{ "DescribeUserScramCredentials", 0 },
	{ "AlterUserScramCredentials", 0 }, { "Vote", 0 },
	{ "BeginQuorumEpoch", -1 }, { "EndQuorumEpoch", -1 },
	{ "DescribeQuorum", 0 }, { "AlterPartition", 0 },
	{ "UpdateFeatures", 0 }, { "Envelope", 0 }, { "FetchSnapshot", 0 },
	{ "DescribeCluster", 0 }, { "DescribeProducers", 0 },
	{ "BrokerRegistration", 0 }, { "BrokerHeartbeat", 0 },
	{ "UnregisterBroker", 0 }, { "DescribeTransactions", 0 },
	{ "ListTransactions", 0 }, { "AllocateProducerIds", 0 },
	{ "ConsumerGroupHeartbeat", 0 }, { "ConsumerGroupDescribe", 0 },
	{ "ControllerRegistration", 0 }, { "GetTelemetrySubscriptions", 0 },
	{ "PushTelemetry", 0 }, { "AssignReplicasToDirs", 0 },
	{ "ListClientMetricsResources", 0 },
	{ "DescribeTopicPartitions", 0 },
};

const char *
kp_api_name(int16_t key)
{
	return key >= 0 && key <= KP_API_MAX ? apis[key].name : NULL;
}

bool
kp_api_flexible(int16_t key, int16_t version)
{
	if (key < 0 || key > KP_API_MAX || apis[key].flex < 0)
		return false;
	return version >= apis[key].flex;
}

int
kp_req_header_version(int16_t key, int16_t version)
{
	if (key == 7 && version == 0)	/* ControlledShutdown v0 */
		return 0;
	return kp_api_flexible(key, version) ? 2 : 1;
}

int
kp_resp_header_version(int16_t key, int16_t version)
{
	/* KIP-511: ApiVersions responses keep header v0 at every version. */
	if (key == KP_API_API_VERSIONS)
		return 0;
	return kp_api_flexible(key, version) ? 1 : 0;
}

ssize_t
kp_req_header_decode(const uint8_t *p, size_t len, struct kp_req_header *h)
{
	struct kp_reader r;
	int v;

	kp_reader_init(&r, p, len);
	h->api_key = kp_read_i16(&r);
	h->api_version = kp_read_i16(&r);
	h->correlation_id = kp_read_i32(&r);
	h->client_id.ptr = NULL;
	h->client_id.len = -1;
	if (r.err)
		return 0;
	v = kp_req_header_version(h->api_key, h->api_version);
	if (v >= 1)
		kp_read_nstring(&r, &h->client_id);	/* never compact */
	if (v >= 2)
		kp_read_tags_f(&r, true);
	if (r.err)
		return r.err == KP_ESHORT ? 0 : -1;
	return (ssize_t)r.off;
}

void
kp_req_header_encode(struct kp_buf *b, const struct kp_req_header *h)
{
	int v = kp_req_header_version(h->api_key, h->api_version);

	kp_buf_put_i16(b, h->api_key);
	kp_buf_put_i16(b, h->api_version);
	kp_buf_put_i32(b, h->correlation_id);
	if (v >= 1)
		kp_put_kstr_f(b, false, &h->client_id);
	if (v >= 2)
		kp_put_tags_f(b, true);
}

void
kp_resp_header_encode(struct kp_buf *b, int16_t key, int16_t version,
    int32_t correlation_id)
{
	kp_buf_put_i32(b, correlation_id);
	if (kp_resp_header_version(key, version) >= 1)
		kp_put_tags_f(b, true);
}

ssize_t
kp_resp_header_decode(const uint8_t *p, size_t len, int16_t key,
    int16_t version, int32_t *correlation_id)
{
	struct kp_reader r;

	kp_reader_init(&r, p, len);
	*correlation_id = kp_read_i32(&r);
	if (kp_resp_header_version(key, version) >= 1)
		kp_read_tags_f(&r, true);
	if (r.err)
		return r.err == KP_ESHORT ? 0 : -1;
	return (ssize_t)r.off;
}

ssize_t
kp_frame_parse(const uint8_t *p, size_t len, size_t max,
    const uint8_t **payload, size_t *payload_len)
{
	int32_t n;

	if (len < 4)
		return 0;
	n = kp_be32(p);
	if (n < 0 || (size_t)n > max)
		return -1;
	if (len - 4 < (size_t)n)
		return 0;
	*payload = p + 4;
	*payload_len = (size_t)n;
	return (ssize_t)n + 4;
}

size_t
kp_frame_begin(struct kp_buf *b)
{
	size_t off = b->len;

	kp_buf_put_i32(b, 0);
	return off;
}

void
kp_frame_end(struct kp_buf *b, size_t off)
{
	if (!b->err && b->len - off - 4 > INT32_MAX)
		b->err = EOVERFLOW;
	kp_buf_set_i32(b, off, (int32_t)(b->len - off - 4));
}
