/* dump.c -- ktopic dump: print and verify segment files offline, like kafka-dump-log */
#include <sys/mman.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_json.h"
#include "kp_txnindex.h"
#include "ktopic.h"

#define MAX_INFLATE	(256u << 20)

static const char *codecs[] = { "none", "gzip", "snappy", "lz4", "zstd" };

/* The base offset in a segment file's name, or -1. */
static int64_t
base_of(const char *path)
{
	char *dup = strdup(path), *b;
	int64_t v = -1;

	if (dup == NULL)
		return -1;
	b = basename(dup);
	if (strspn(b, "0123456789") == 20)
		v = strtoll(b, NULL, 10);
	free(dup);
	return v;
}

static bool
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static void
put_data(const char *name, const struct kp_bytes *v, bool json,
    struct kp_buf *b)
{
	if (json) {
		kp_buf_put(b, ",\"", 2);
		kp_buf_put(b, name, strlen(name));
		kp_buf_put(b, "\":", 2);
		kp_json_put_bytes(b, v->ptr, v->len);
		return;
	}
	printf(" %s: ", name);
	if (v->len < 0)
		printf("null");
	else
		fwrite(v->ptr, 1, (size_t)v->len, stdout);
}

/* A control record as kafka-dump-log shows a transaction marker. */
static void
put_marker(const struct kp_record *r, bool json, struct kp_buf *jb)
{
	int type = kp_record_control_type(r);
	const char *name = type == KP_CONTROL_ABORT ? "ABORT" :
	    type == KP_CONTROL_COMMIT ? "COMMIT" : NULL;
	int32_t epoch = r->value.len >= 6 ? kp_be32(r->value.ptr + 2) : -1;
	char tmp[96];

	if (name == NULL)
		return;
	if (json) {
		snprintf(tmp, sizeof(tmp), ",\"endTxnMarker\":\"%s\","
		    "\"coordinatorEpoch\":%d", name, epoch);
		kp_buf_put(jb, tmp, strlen(tmp));
	} else
		printf(" endTxnMarker: %s coordinatorEpoch: %d", name, epoch);
}

/*
 * The key and value decoded (--offsets-decoder, ...), as kafka-dump-log
 * prints them: JSON objects, <DELETE> for a tombstone. false when the
 * record is no record of that topic: it is printed as it is then.
 */
static bool
put_decoded(enum kt_decoder d, const struct kp_record *r, bool json,
    struct kp_buf *jb)
{
	struct kp_buf k, v;
	bool done;

	kp_buf_init(&k);
	kp_buf_init(&v);
	done = kt_decode(d, &r->key, &r->value, &k, &v) == 0 && !k.err &&
	    !v.err;
	if (done && json) {
		kp_buf_put(jb, ",\"key\":", 7);
		kp_buf_put(jb, k.data, k.len);
		kp_buf_put(jb, ",\"value\":", 9);
		kp_buf_put(jb, v.len ? (char *)v.data : "null",
		    v.len ? v.len : 4);
	} else if (done) {
		printf(" key: %.*s payload: %.*s", (int)k.len, (char *)k.data,
		    v.len ? (int)v.len : 8, v.len ? (char *)v.data :
		    "<DELETE>");
	}
	kp_buf_release(&k);
	kp_buf_release(&v);
	return done;
}

/* Key and value: decoded when asked and they are such records. */
static void
put_contents(enum kt_decoder d, const struct kp_record *r, bool json,
    struct kp_buf *jb)
{
	if (d != KT_DECODE_NONE && put_decoded(d, r, json, jb))
		return;
	put_data("key", &r->key, json, jb);
	put_data(json ? "value" : "payload", &r->value, json, jb);
}

static int
dump_records(const uint8_t *p, size_t len, bool data, enum kt_decoder d,
    bool json, struct kp_buf *jb)
{
	struct kp_batch_iter it;
	struct kp_record r;
	struct kp_record_header_iter hi;
	struct kp_record_header h;
	int rc, n = 0, i;

	if ((rc = kp_batch_iter_init(&it, p, len, MAX_INFLATE)) != 0) {
		kp_batch_iter_release(&it);
		return -1;
	}
	while ((rc = kp_batch_iter_next(&it, &r)) == 1) {
		if (json) {
			char tmp[160];

			snprintf(tmp, sizeof(tmp), "%s{\"offset\":%" PRId64
			    ",\"timestamp\":%" PRId64 ",\"keySize\":%d,"
			    "\"valueSize\":%d,\"sequence\":%d,\"headerKeys\":[",
			    n ? "," : "", r.offset, r.timestamp, r.key.len,
			    r.value.len, it.hdr.base_sequence < 0 ? -1 :
			    it.hdr.base_sequence + r.offset_delta);
			kp_buf_put(jb, tmp, strlen(tmp));
		} else
			printf("| offset: %" PRId64 " %s: %" PRId64 " keySize: "
			    "%d valueSize: %d sequence: %d headerKeys: [",
			    r.offset, it.hdr.attributes &
			    KP_BATCH_ATTR_LOG_APPEND_TIME ? "LogAppendTime" :
			    "CreateTime", r.timestamp, r.key.len, r.value.len,
			    it.hdr.base_sequence < 0 ? -1 :
			    it.hdr.base_sequence + r.offset_delta);
		kp_record_header_iter_init(&hi, &r);
		for (i = 0; kp_record_header_next(&hi, &h) == 1; i++) {
			if (json) {
				if (i)
					kp_buf_put(jb, ",", 1);
				kp_json_put_bytes(jb, h.key.ptr, h.key.len);
			} else
				printf("%s%.*s", i ? "," : "", (int)h.key.len,
				    h.key.ptr);
		}
		if (json)
			kp_buf_put(jb, "]", 1);
		else
			printf("]");
		/* a marker shows as such, never its bytes (kafka-dump-log) */
		if (it.hdr.attributes & KP_BATCH_ATTR_CONTROL)
			put_marker(&r, json, jb);
		else if (data || d != KT_DECODE_NONE)
			put_contents(d, &r, json, jb);
		if (json)
			kp_buf_put(jb, "}", 1);
		else
			printf("\n");
		n++;
	}
	kp_batch_iter_release(&it);
	return rc < 0 ? -1 : 0;
}

static int
dump_log(const char *path, const uint8_t *p, size_t len, bool data,
    enum kt_decoder d, bool json)
{
	struct kp_batch_header h;
	struct kp_buf jb;
	size_t pos = 0;
	ssize_t total;
	const char *txn, *ctl, *tstype, *codec;
	int rc = 0;
	bool valid;

	kp_buf_init(&jb);
	if (!json)
		printf("Dumping %s\nLog starting offset: %" PRId64 "\n", path,
		    base_of(path));
	while (pos < len) {
		total = kp_batch_header_decode(p + pos, len - pos, &h);
		if (total <= 0 || (size_t)total > len - pos) {
			warnx("%s: found %zu invalid bytes at position %zu",
			    path, len - pos, pos);
			rc = EX_DATAERR;
			break;
		}
		valid = kp_batch_crc_ok(p + pos, (size_t)total);
		/* the same fields, as kafka-dump-log names them, in both forms */
		txn = h.attributes & KP_BATCH_ATTR_TRANSACTIONAL ? "true" :
		    "false";
		ctl = h.attributes & KP_BATCH_ATTR_CONTROL ? "true" : "false";
		tstype = h.attributes & KP_BATCH_ATTR_LOG_APPEND_TIME ?
		    "LogAppendTime" : "CreateTime";
		codec = kp_batch_codec(&h) < 5 ? codecs[kp_batch_codec(&h)] :
		    "unknown";
		if (json) {
			char tmp[640];

			snprintf(tmp, sizeof(tmp), "{\"file\":");
			kp_buf_put(&jb, tmp, strlen(tmp));
			kp_json_put_str(&jb, path, strlen(path));
			snprintf(tmp, sizeof(tmp), ",\"baseOffset\":%" PRId64
			    ",\"lastOffset\":%" PRId64 ",\"count\":%d,"
			    "\"baseSequence\":%d,\"producerId\":%" PRId64
			    ",\"producerEpoch\":%d,\"partitionLeaderEpoch\":%d,"
			    "\"isTransactional\":%s,\"isControl\":%s,"
			    "\"position\":%zu,\"timestampType\":\"%s\","
			    "\"maxTimestamp\":%" PRId64 ",\"size\":%zd,"
			    "\"magic\":%d,\"compresscodec\":\"%s\","
			    "\"crc\":%" PRIu32 ",\"isvalid\":%s,\"records\":[",
			    h.base_offset, kp_batch_last_offset(&h),
			    h.records_count, h.base_sequence, h.producer_id,
			    h.producer_epoch, h.partition_leader_epoch,
			    txn, ctl, pos, tstype, h.max_timestamp, total,
			    h.magic, codec, h.crc, valid ? "true" : "false");
			kp_buf_put(&jb, tmp, strlen(tmp));
		} else
			printf("baseOffset: %" PRId64 " lastOffset: %" PRId64
			    " count: %d baseSequence: %d lastSequence: %d "
			    "producerId: %" PRId64 " producerEpoch: %d "
			    "partitionLeaderEpoch: %d isTransactional: %s "
			    "isControl: %s position: %zu %s: %" PRId64
			    " size: %zd magic: %d compresscodec: %s crc: %"
			    PRIu32 " isvalid: %s\n", h.base_offset,
			    kp_batch_last_offset(&h), h.records_count,
			    h.base_sequence, h.base_sequence < 0 ? -1 :
			    h.base_sequence + h.last_offset_delta,
			    h.producer_id, h.producer_epoch,
			    h.partition_leader_epoch,
			    txn, ctl, pos, tstype, h.max_timestamp, total,
			    h.magic, codec, h.crc, valid ? "true" : "false");
		if (!valid) {
			warnx("%s: batch at position %zu (offset %" PRId64
			    "): CRC mismatch", path, pos, h.base_offset);
			rc = EX_DATAERR;
		} else if (dump_records(p + pos, (size_t)total, data, d, json,
		    &jb) < 0) {
			warnx("%s: batch at position %zu (offset %" PRId64
			    "): malformed records", path, pos, h.base_offset);
			rc = EX_DATAERR;
		}
		if (json) {
			kp_buf_put(&jb, "]}\n", 3);
			fwrite(jb.data, 1, jb.len, stdout);
			kp_buf_reset(&jb);
		}
		pos += (size_t)total;
	}
	kp_buf_release(&jb);
	return rc;
}

static int
dump_index(const char *path, const uint8_t *p, size_t len, bool time,
    bool json)
{
	size_t esz = time ? 12 : 8, i;
	int64_t base = base_of(path) < 0 ? 0 : base_of(path);

	if (!json)
		printf("Dumping %s\n", path);
	for (i = 0; i + esz <= len; i += esz) {
		int64_t ts = time ? kp_be64(p + i) : 0;
		int32_t rel = kp_be32(p + i + (time ? 8 : 0));
		int32_t pos = time ? 0 : kp_be32(p + i + 4);

		if (!time && rel == 0 && pos == 0 && i > 0)
			break;	/* preallocated tail */
		if (time && ts == 0 && rel == 0 && i > 0)
			break;
		if (json && time)
			printf("{\"file\":\"%s\",\"timestamp\":%" PRId64
			    ",\"offset\":%" PRId64 "}\n", path, ts, base + rel);
		else if (json)
			printf("{\"file\":\"%s\",\"offset\":%" PRId64
			    ",\"position\":%d}\n", path, base + rel, pos);
		else if (time)
			printf("timestamp: %" PRId64 " offset: %" PRId64 "\n",
			    ts, base + rel);
		else
			printf("offset: %" PRId64 " position: %d\n",
			    base + rel, pos);
	}
	return 0;
}

/* Aborted transactions, as kafka-dump-log prints a .txnindex. */
static int
dump_txnindex(const char *path, const uint8_t *p, size_t len, bool json)
{
	struct kp_txn_entry e;
	size_t i;
	int n = 0;

	if (!json)
		printf("Dumping %s\n", path);
	for (i = 0; i < len; i += KP_TXNINDEX_ENTRY) {
		if ((n = kp_txnindex_decode(p + i, len - i, &e)) <= 0)
			break;
		if (json)
			printf("{\"file\":\"%s\",\"version\":0,"
			    "\"producerId\":%" PRId64 ",\"firstOffset\":%"
			    PRId64 ",\"lastOffset\":%" PRId64
			    ",\"lastStableOffset\":%" PRId64 "}\n", path, e.pid,
			    e.first_offset, e.last_offset, e.lso);
		else
			printf("version: 0 producerId: %" PRId64 " firstOffset: "
			    "%" PRId64 " lastOffset: %" PRId64
			    " lastStableOffset: %" PRId64 "\n", e.pid,
			    e.first_offset, e.last_offset, e.lso);
	}
	if (i < len) {
		warnx("%s: found %zu invalid bytes at position %zu", path,
		    len - i, i);
		return EX_DATAERR;
	}
	return 0;
}

int
kt_dump(struct kt *kt, int argc, char **argv)
{
	enum { OPT_OFFSETS = 256, OPT_TXNLOG };
	static const struct option lo[] = {
		{ "data", no_argument, NULL, 'd' },
		{ "offsets-decoder", no_argument, NULL, OPT_OFFSETS },
		{ "transaction-log-decoder", no_argument, NULL, OPT_TXNLOG },
		{ NULL, 0, NULL, 0 }
	};
	struct stat sb;
	uint8_t *p;
	bool data = false;
	enum kt_decoder d = KT_DECODE_NONE;
	int ch, i, fd, rc = 0, r;

	while ((ch = getopt_long(argc, argv, "d", lo, NULL)) != -1) {
		switch (ch) {
		case 'd':
			data = true;
			break;
		case OPT_OFFSETS:
		case OPT_TXNLOG:
			if (d != KT_DECODE_NONE)
				errx(EX_USAGE, "dump: one decoder at a time");
			d = ch == OPT_OFFSETS ? KT_DECODE_OFFSETS :
			    KT_DECODE_TXN;
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		errx(EX_USAGE, "dump: no file named");
	for (i = 0; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) < 0 ||
		    fstat(fd, &sb) < 0) {
			warn("%s", argv[i]);
			rc = EX_NOINPUT;
			if (fd >= 0)
				close(fd);
			continue;
		}
		p = NULL;
		if (sb.st_size > 0 && (p = mmap(NULL, (size_t)sb.st_size,
		    PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
			warn("%s", argv[i]);
			rc = EX_IOERR;
			close(fd);
			continue;
		}
		close(fd);
		if (ends_with(argv[i], KP_TXNINDEX_SUFFIX))
			r = dump_txnindex(argv[i], p ? p : (const uint8_t *)"",
			    (size_t)sb.st_size, kt->g.json);
		else if (ends_with(argv[i], ".timeindex"))
			r = dump_index(argv[i], p, (size_t)sb.st_size, true,
			    kt->g.json);
		else if (ends_with(argv[i], ".index"))
			r = dump_index(argv[i], p, (size_t)sb.st_size, false,
			    kt->g.json);
		else
			r = dump_log(argv[i], p ? p : (const uint8_t *)"",
			    (size_t)sb.st_size, data, d, kt->g.json);
		if (r != 0)
			rc = r;
		if (p != NULL)
			munmap(p, (size_t)sb.st_size);
	}
	return rc;
}
