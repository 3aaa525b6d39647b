/* kp_batch.h -- record batch v2 (magic 2): header, validation, records, builder */
#ifndef KP_BATCH_H
#define KP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kp_buf.h"
#include "kp_wire.h"

/*
 * Byte offsets of the batch fields (implementation.html §5.3.1). The
 * batch on the wire is the batch on disk; the broker only rewrites
 * baseOffset and partitionLeaderEpoch, which lie outside the CRC.
 */
#define KP_BATCH_OFF_BASE_OFFSET	0	/* baseOffset int64 */
#define KP_BATCH_OFF_LENGTH		8	/* batchLength int32 */
#define KP_BATCH_OFF_LEADER_EPOCH	12	/* partitionLeaderEpoch int32 */
#define KP_BATCH_OFF_MAGIC		16	/* magic int8 */
#define KP_BATCH_OFF_CRC		17	/* crc uint32 */
#define KP_BATCH_OFF_ATTRIBUTES		21	/* attributes int16 */
#define KP_BATCH_OFF_LAST_DELTA		23	/* lastOffsetDelta int32 */
#define KP_BATCH_OFF_BASE_TIMESTAMP	27	/* baseTimestamp int64 */
#define KP_BATCH_OFF_MAX_TIMESTAMP	35	/* maxTimestamp int64 */
#define KP_BATCH_OFF_PRODUCER_ID	43	/* producerId int64 */
#define KP_BATCH_OFF_PRODUCER_EPOCH	51	/* producerEpoch int16 */
#define KP_BATCH_OFF_BASE_SEQUENCE	53	/* baseSequence int32 */
#define KP_BATCH_OFF_RECORDS_COUNT	57	/* recordsCount int32 */
#define KP_BATCH_OFF_RECORDS		61	/* records (maybe compressed) */

#define KP_BATCH_HEADER_SIZE	61	/* bytes before the records */
#define KP_BATCH_LOG_OVERHEAD	12	/* baseOffset + batchLength */
#define KP_BATCH_CRC_START	21	/* CRC covers [21, end) */
#define KP_BATCH_MIN_LENGTH	(KP_BATCH_HEADER_SIZE - KP_BATCH_LOG_OVERHEAD)
#define KP_BATCH_MAGIC		2

/* attributes bits */
#define KP_BATCH_ATTR_CODEC_MASK	0x07	/* compression codec */
#define KP_BATCH_ATTR_LOG_APPEND_TIME	0x08	/* timestampType = 1 */
#define KP_BATCH_ATTR_TRANSACTIONAL	0x10	/* isTransactional */
#define KP_BATCH_ATTR_CONTROL		0x20	/* isControlBatch */
#define KP_BATCH_ATTR_DELETE_HORIZON	0x40	/* hasDeleteHorizonMs */

enum kp_codec {
	KP_CODEC_NONE = 0,
	KP_CODEC_GZIP = 1,
	KP_CODEC_SNAPPY = 2,
	KP_CODEC_LZ4 = 3,
	KP_CODEC_ZSTD = 4
};

struct kp_batch_header {
	int64_t		base_offset;		/* baseOffset */
	int32_t		batch_length;		/* batchLength */
	int32_t		partition_leader_epoch;	/* partitionLeaderEpoch */
	int8_t		magic;			/* magic */
	uint32_t	crc;			/* crc */
	int16_t		attributes;		/* attributes */
	int32_t		last_offset_delta;	/* lastOffsetDelta */
	int64_t		base_timestamp;		/* baseTimestamp */
	int64_t		max_timestamp;		/* maxTimestamp */
	int64_t		producer_id;		/* producerId */
	int16_t		producer_epoch;		/* producerEpoch */
	int32_t		base_sequence;		/* baseSequence */
	int32_t		records_count;		/* recordsCount */
};

/*
 * Decode the 61-byte header at the front of buf. Returns the batch's total
 * size (12 + batchLength) as soon as the header is there, even when the
 * rest of the batch is not yet in buf (compare with len to know); 0 when
 * fewer than 61 bytes are there (or 12 / 17 for the length and magic);
 * -1 when malformed: batchLength < 49 or magic != 2.
 */
ssize_t	 kp_batch_header_decode(const uint8_t *, size_t,
	    struct kp_batch_header *);

static inline int
kp_batch_codec(const struct kp_batch_header *h)
{
	return h->attributes & KP_BATCH_ATTR_CODEC_MASK;
}

/* Offset of the last record: baseOffset + lastOffsetDelta. */
static inline int64_t
kp_batch_last_offset(const struct kp_batch_header *h)
{
	return (int64_t)((uint64_t)h->base_offset +
	    (uint64_t)h->last_offset_delta);
}

/* The offset after the batch: where the next batch starts. */
static inline int64_t
kp_batch_next_offset(const struct kp_batch_header *h)
{
	return (int64_t)((uint64_t)kp_batch_last_offset(h) + 1);
}

/*
 * In-place setters on a batch in memory (at least 61 bytes). Base offset
 * and leader epoch lie outside the CRC; the others recompute it and need
 * the whole batch (len = total size).
 */
void	 kp_batch_set_base_offset(uint8_t *, int64_t);
void	 kp_batch_set_leader_epoch(uint8_t *, int32_t);
/* Broker-side LogAppendTime: sets the attribute bit and maxTimestamp. */
void	 kp_batch_set_log_append_time(uint8_t *, size_t, int64_t);
/* maxTimestamp (CreateTime), CRC recomputed. */
void	 kp_batch_set_max_timestamp(uint8_t *, size_t, int64_t);
/* producerId, producerEpoch, baseSequence (an idempotent retry). */
void	 kp_batch_set_producer(uint8_t *, size_t, int64_t, int16_t, int32_t);

/* CRC-32C of bytes [21, len); len is the batch's total size. */
uint32_t kp_batch_crc_compute(const uint8_t *, size_t);
void	 kp_batch_crc_store(uint8_t *, size_t);
bool	 kp_batch_crc_ok(const uint8_t *, size_t);

/*
 * Check one whole batch, len its exact total size. Returns 0 or a Kafka
 * error: KP_CORRUPT_MESSAGE for bad lengths, magic or CRC;
 * KP_INVALID_RECORD for bad record contents (count, lengths, offset
 * deltas, varints), also for gzip that does not inflate or inflates beyond
 * max_uncompressed. snappy, lz4 and zstd batches are checked up to the CRC
 * and accepted (stored and served as they are); codecs 5-7 are
 * KP_UNSUPPORTED_COMPRESSION_TYPE. As Kafka, recordsCount must be
 * lastOffsetDelta + 1 and at least 1, for every codec. maxTimestamp is
 * not checked against the records: Kafka's broker rewrites it instead.
 */
int	 kp_batch_validate(const uint8_t *, size_t, size_t);
/*
 * The same, and *max_ts gets the largest record timestamp (the header's
 * maxTimestamp for codecs we cannot open, or LogAppendTime batches), for
 * a broker that rewrites maxTimestamp as Kafka does.
 */
int	 kp_batch_validate_ts(const uint8_t *, size_t, size_t, int64_t *);

/* One record header: key is UTF-8, value may be null (len -1). */
struct kp_record_header {
	struct kp_str	key;
	struct kp_bytes	value;
};

/*
 * A decoded record. key, value and headers are borrowed from the batch
 * (or the iterator's scratch buffer): valid until the iterator is
 * released. offset and timestamp are absolute; with LogAppendTime the
 * timestamp is the batch's maxTimestamp, as Kafka reports it.
 */
struct kp_record {
	int8_t		 attributes;
	int64_t		 timestamp;
	int64_t		 timestamp_delta;
	int64_t		 offset;
	int32_t		 offset_delta;
	struct kp_bytes	 key;
	struct kp_bytes	 value;
	int32_t		 header_count;
	const uint8_t	*headers;	/* raw header bytes, header_count of them */
	size_t		 headers_len;
};

/* Walk a record's headers. */
struct kp_record_header_iter {
	struct kp_reader r;
	int32_t		 left;
};

void	 kp_record_header_iter_init(struct kp_record_header_iter *,
	    const struct kp_record *);
/* 1 and *h filled, 0 at the end, -1 when malformed. */
int	 kp_record_header_next(struct kp_record_header_iter *,
	    struct kp_record_header *);

struct kp_batch_iter {
	struct kp_batch_header	 hdr;
	struct kp_reader	 r;		/* over the (inflated) records */
	int32_t			 left;		/* records not yet returned */
	int32_t			 next_delta;	/* expected minimum offsetDelta */
	struct kp_buf		 scratch;	/* inflated records (gzip) */
	int			 err;		/* Kafka error once failed */
};

/*
 * Start iterating one batch (buf holds at least the whole batch; bytes
 * after it are ignored). gzip is inflated into a scratch buffer of at most
 * max_uncompressed bytes. Does not check the CRC (kp_batch_validate or
 * kp_batch_crc_ok do). Returns 0 or a Kafka error as kp_batch_validate;
 * snappy, lz4 and zstd give KP_UNSUPPORTED_COMPRESSION_TYPE. Release the
 * iterator in every case.
 */
int	 kp_batch_iter_init(struct kp_batch_iter *, const uint8_t *, size_t,
	    size_t);
/*
 * 1 and *rec filled (borrowed views), 0 after the last record (having
 * checked the records end where the batch ends), -1 when malformed (err
 * holds the Kafka error).
 */
int	 kp_batch_iter_next(struct kp_batch_iter *, struct kp_record *);
void	 kp_batch_iter_release(struct kp_batch_iter *);

/*
 * The type in a control batch's record key (int16 version, int16 type):
 * 0 abort, 1 commit (KP_CONTROL_*), -1 when the key is not one.
 */
#define KP_CONTROL_ABORT	0
#define KP_CONTROL_COMMIT	1
int	 kp_record_control_type(const struct kp_record *);
/*
 * The same from a control batch's first bytes: its first record's key
 * (control batches are never compressed; the header and about 20 bytes
 * after it are enough). -1 when they do not hold a control key.
 */
int	 kp_batch_control_type(const uint8_t *, size_t);
/*
 * The same, and the marker's coordinator epoch from its value (int16
 * version, int32 epoch) into *cepoch, -1 when the value does not hold
 * one (the bytes end first).
 */
int	 kp_batch_control_read(const uint8_t *, size_t, int32_t *);
/*
 * Append a transaction marker (KIP-98 control batch) to out: attributes
 * transactional | control, the producer's id and epoch, base sequence
 * -1, one record keyed int16 0 + int16 type (KP_CONTROL_*) with value
 * int16 0 + int32 coordinator epoch, timestamp ts. Offsets are the
 * append's. 0, or -1 (ENOMEM).
 */
int	 kp_batch_control_build(struct kp_buf *, int64_t, int16_t, int,
	    int32_t, int64_t);

/*
 * Build one batch. Records go in order with offsetDelta 0, 1, ...;
 * baseTimestamp is the first record's timestamp. Set partition_leader_epoch
 * (default 0, as kafka-python and librdkafka send) or attributes (e.g.
 * KP_BATCH_ATTR_TRANSACTIONAL) before finish if needed.
 */
struct kp_batch_builder {
	int		codec;
	int16_t		attributes;	/* extra bits, codec added at finish */
	int32_t		partition_leader_epoch;
	int64_t		producer_id;
	int16_t		producer_epoch;
	int32_t		base_sequence;
	int32_t		count;
	int64_t		base_timestamp;
	int64_t		max_timestamp;
	struct kp_buf	records;	/* header room, then the records */
};

/* codec KP_CODEC_NONE or KP_CODEC_GZIP; producer -1/-1/-1 when not idempotent. */
void	 kp_batch_builder_init(struct kp_batch_builder *, int, int64_t,
	    int16_t, int32_t);
/* keylen / vlen -1 for null. Returns 0, or -1 (ENOMEM, or EOVERFLOW). */
int	 kp_batch_builder_add(struct kp_batch_builder *, int64_t,
	    const void *, ssize_t, const void *, ssize_t,
	    const struct kp_record_header *, size_t);
/* Bytes the batch takes uncompressed: an upper bound for gzip too, nearly. */
size_t	 kp_batch_builder_size(const struct kp_batch_builder *);
/*
 * Append the complete batch (with CRC) to out. Uncompressed into an empty
 * out, the builder's memory becomes out's and out's the builder's: no
 * copy. Returns 0, or -1 with errno (ENOMEM; EINVAL for an empty batch or
 * a codec we cannot write).
 */
int	 kp_batch_builder_finish(struct kp_batch_builder *, struct kp_buf *);
/* Empty it for the next batch, keeping the settings and the memory. */
void	 kp_batch_builder_reset(struct kp_batch_builder *);
void	 kp_batch_builder_release(struct kp_batch_builder *);

#endif
