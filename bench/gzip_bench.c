/* gzip_bench.c -- CRC-32 and gzip batch inflate speed: kp_crc32 and kp_gzip_decompress against zlib */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <zlib.h>

#include "kp_batch.h"
#include "kp_compress.h"
#include "kp_crc32.h"
#include "../tests/unit/fuzz_gzip.h"	/* fg_zlib_inflate: the old way */

#define RECORDS		1000
#define VALUE_LEN	100

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef uint32_t crc_fn(uint32_t, const void *, size_t);

static uint32_t
zlib_crc(uint32_t c, const void *p, size_t n)
{
	return (uint32_t)crc32_z(c, p, n);
}

static volatile uint32_t sink;

/* Best of three runs of ~0.3 s each: MB/s of len-byte calls. */
static double
crc_mbs(crc_fn *fn, const uint8_t *p, size_t len)
{
	double best = 0;

	for (int run = 0; run < 3; run++) {
		double t0 = now(), t;
		size_t bytes = 0;
		uint32_t c = 0;

		do {
			for (int i = 0; i < 64; i++)
				c = fn(c, p, len);
			bytes += 64 * len;
		} while ((t = now() - t0) < 0.3);
		sink = c;
		if (bytes / t / 1e6 > best)
			best = bytes / t / 1e6;
	}
	return best;
}

typedef int inflate_fn(const void *, size_t, size_t, struct kp_buf *);

/* What kp_gzip_decompress did before: zlib checks the wrapper itself. */
static int
before(const void *src, size_t len, size_t max, struct kp_buf *out)
{
	return fg_zlib_inflate(src, len, max, out);
}

/* Only the deflate stream, no wrapper and no check: the floor. */
static int
raw_only(const void *src, size_t len, size_t max, struct kp_buf *out)
{
	const uint8_t *p = src;
	z_stream zs;
	int rc;

	/* skip the 10-byte header these batches have (no FLG fields) */
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK || kp_buf_reserve(out, max) != 0)
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)(p + 10);
	zs.avail_in = (uInt)(len - 18);
	zs.next_out = out->data + out->len;
	zs.avail_out = (uInt)max;
	rc = inflate(&zs, Z_FINISH);
	out->len += max - zs.avail_out;
	inflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
}

typedef int deflate_fn(const void *, size_t, struct kp_buf *);

/* Best of three: MB/s of input compressed. */
static double
deflate_mbs(deflate_fn *fn, const struct kp_buf *raw)
{
	struct kp_buf out;
	double best = 0;

	kp_buf_init(&out);
	for (int run = 0; run < 3; run++) {
		double t0 = now(), t;
		size_t n = 0;

		do {
			for (int i = 0; i < 4; i++) {
				kp_buf_reset(&out);
				if (fn(raw->data, raw->len, &out) != 0)
					errx(EX_SOFTWARE, "deflate failed");
			}
			n += 4;
		} while ((t = now() - t0) < 0.3);
		if (n * raw->len / t / 1e6 > best)
			best = n * raw->len / t / 1e6;
	}
	kp_buf_release(&out);
	return best;
}

/* Best of three: MB/s of uncompressed output, and batches per second. */
static double
inflate_mbs(inflate_fn *fn, const struct kp_buf *z, size_t rawlen,
    double *per_s)
{
	struct kp_buf out;
	double best = 0;

	kp_buf_init(&out);
	for (int run = 0; run < 3; run++) {
		double t0 = now(), t;
		size_t n = 0;

		do {
			for (int i = 0; i < 16; i++) {
				kp_buf_reset(&out);
				if (fn(z->data, z->len, rawlen, &out) != 0 ||
				    out.len != rawlen)
					errx(EX_SOFTWARE, "inflate failed");
			}
			n += 16;
		} while ((t = now() - t0) < 0.3);
		if (n * rawlen / t / 1e6 > best) {
			best = n * rawlen / t / 1e6;
			*per_s = n / t;
		}
	}
	kp_buf_release(&out);
	return best;
}

/*
 * The records section of one batch as librdkafka builds it (no keys, one
 * value each), gzip'd the way it does (zlib, default level, 15 + 16).
 */
static void
make_batch(const char *name, void (*value)(uint8_t *, int),
    struct kp_buf *raw, struct kp_buf *z)
{
	struct kp_batch_builder b;
	uint8_t v[VALUE_LEN];

	kp_batch_builder_init(&b, KP_CODEC_NONE, -1, -1, -1);
	for (int i = 0; i < RECORDS; i++) {
		value(v, i);
		if (kp_batch_builder_add(&b, 1700000000000LL + i, NULL, -1, v,
		    VALUE_LEN, NULL, 0) != 0)
			err(EX_OSERR, "%s: batch", name);
	}
	kp_buf_put(raw, b.records.data, b.records.len);
	kp_batch_builder_release(&b);
	if (kp_gzip_compress(raw->data, raw->len, z) != 0)
		err(EX_OSERR, "%s: compress", name);
}

/* rdkafka_performance's default payload: its pattern over and over. */
static void
pattern_value(uint8_t *v, int i)
{
	static const char pat[] = "librdkafka_performance testing!";

	(void)i;
	for (int k = 0; k < VALUE_LEN; k++)
		v[k] = (uint8_t)pat[k % (sizeof(pat) - 1)];
}

/* Random words from a small dictionary: text that compresses ~3:1. */
static void
text_value(uint8_t *v, int i)
{
	static const char *words[] = { "order", "id", "user", "amount",
	    "currency", "EUR", "USD", "status", "shipped", "pending",
	    "warehouse", "north", "south", "sku", "quantity", "price",
	    "customer", "timestamp", "region", "priority" };
	static unsigned seed = 12345;
	int k = 0;

	(void)i;
	while (k < VALUE_LEN) {
		const char *w;
		char num[16];

		seed = seed * 1103515245u + 12345u;
		w = words[(seed >> 16) % 20];
		for (; *w != '\0' && k < VALUE_LEN; w++)
			v[k++] = (uint8_t)*w;
		snprintf(num, sizeof(num), "=%u ", (seed >> 8) % 100000);
		for (w = num; *w != '\0' && k < VALUE_LEN; w++)
			v[k++] = (uint8_t)*w;
	}
}

static void
bench_batch(const char *name, void (*value)(uint8_t *, int))
{
	struct kp_buf raw, z;
	double per, mbs;

	kp_buf_init(&raw);
	kp_buf_init(&z);
	make_batch(name, value, &raw, &z);
	printf("batch %-8s %d x %d-byte records: %zu bytes, gzip %zu bytes "
	    "(%.1f:1)\n", name, RECORDS, VALUE_LEN, raw.len, z.len,
	    (double)raw.len / (double)z.len);
	mbs = inflate_mbs(before, &z, raw.len, &per);
	printf("  %-44s %8.0f MB/s %8.0f batches/s\n",
	    "before: zlib inflate 15+32 (zlib's crc32)", mbs, per);
	mbs = inflate_mbs(kp_gzip_decompress, &z, raw.len, &per);
	printf("  %-44s %8.0f MB/s %8.0f batches/s\n",
	    "after: kp_gzip_decompress (kp_crc32)", mbs, per);
	mbs = inflate_mbs(raw_only, &z, raw.len, &per);
	printf("  %-44s %8.0f MB/s %8.0f batches/s\n",
	    "floor: raw inflate, no CRC at all", mbs, per);
	/* for scale: what the producer side pays (zlib's wrapper still) */
	printf("  %-44s %8.0f MB/s\n", "compress: kp_gzip_compress (zlib 15+16)",
	    deflate_mbs(kp_gzip_compress, &raw));
	kp_buf_release(&raw);
	kp_buf_release(&z);
}

int
main(void)
{
	static const size_t lens[] = { 100, 4096, 65536, 1 << 20 };
	uint8_t *buf;

	if ((buf = malloc(1 << 20)) == NULL)
		err(EX_OSERR, "malloc");
	for (size_t i = 0; i < (1 << 20); i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	printf("CRC-32, MB/s    zlib crc32   kp_crc32_sw   kp_crc32_clmul"
	    "   kp_crc32_avx512   kp_crc32\n");
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		printf("  %8zu B  %11.0f  %12.0f  %15.0f  %16.0f  %9.0f\n",
		    lens[i], crc_mbs(zlib_crc, buf, lens[i]),
		    crc_mbs(kp_crc32_sw, buf, lens[i]),
		    kp_crc32_clmul_available() ?
		    crc_mbs(kp_crc32_clmul, buf, lens[i]) : 0,
		    kp_crc32_avx512_available() ?
		    crc_mbs(kp_crc32_avx512, buf, lens[i]) : 0,
		    crc_mbs(kp_crc32, buf, lens[i]));
	free(buf);
	bench_batch("pattern", pattern_value);
	bench_batch("text", text_value);
	return 0;
}
