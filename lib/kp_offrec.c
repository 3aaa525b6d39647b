/* kp_offrec.c -- records of the __consumer_offsets topic, in Kafka's layout */
#include <sys/types.h>

#include <string.h>

#include "kp_offrec.h"
#include "kp_wire.h"

void
kp_offrec_key(struct kp_buf *b, const char *group, const char *topic,
    int32_t partition)
{
	kp_buf_put_i16(b, 1);
	kp_put_string(b, group, (int32_t)strlen(group));
	kp_put_string(b, topic, (int32_t)strlen(topic));
	kp_buf_put_i32(b, partition);
}

void
kp_offrec_value(struct kp_buf *b, int64_t offset, int32_t epoch,
    const char *metadata, int64_t commit_ts, int64_t expire_ts)
{
	const char *md = metadata ? metadata : "";

	if (expire_ts >= 0) {
		kp_buf_put_i16(b, 1);
		kp_buf_put_i64(b, offset);
		kp_put_string(b, md, (int32_t)strlen(md));
		kp_buf_put_i64(b, commit_ts);
		kp_buf_put_i64(b, expire_ts);
		return;
	}
	kp_buf_put_i16(b, 3);
	kp_buf_put_i64(b, offset);
	kp_buf_put_i32(b, epoch);
	kp_put_string(b, md, (int32_t)strlen(md));
	kp_buf_put_i64(b, commit_ts);
}

static bool
copy_str(const struct kp_str *s, char *out, size_t len)
{
	if (s->len < 0 || (size_t)s->len >= len ||
	    memchr(s->ptr, '\0', (size_t)s->len) != NULL)
		return false;
	memcpy(out, s->ptr, (size_t)s->len);
	out[s->len] = '\0';
	return true;
}

int
kp_offrec_parse(const uint8_t *key, size_t klen, const uint8_t *value,
    ssize_t vlen, struct kp_offrec *r)
{
	struct kp_reader rd;
	struct kp_str g, t, md;
	int16_t kv, vv;

	memset(r, 0, sizeof(*r));
	if ((kv = kp_read_version(&rd, key, klen)) < 0)
		return -1;
	if (kv == 2)
		return 0;		/* group metadata */
	if (kv != 0 && kv != 1)
		return -1;
	kp_read_string(&rd, &g);
	kp_read_string(&rd, &t);
	r->partition = kp_read_i32(&rd);
	if (rd.err || kp_reader_left(&rd) != 0 || !copy_str(&g, r->group,
	    sizeof(r->group)) || !copy_str(&t, r->topic, sizeof(r->topic)))
		return -1;
	if (value == NULL || vlen < 0) {
		r->tombstone = true;
		return 1;
	}
	kp_reader_init(&rd, value, (size_t)vlen);
	vv = kp_read_i16(&rd);
	r->offset = kp_read_i64(&rd);
	r->leader_epoch = -1;
	r->expire_ts = -1;
	if (vv == 3 || vv == 4)
		r->leader_epoch = kp_read_i32(&rd);
	else if (vv < 0 || vv > 4)
		return -1;
	kp_read_string(&rd, &md);
	r->commit_ts = kp_read_i64(&rd);
	if (vv == 1)
		r->expire_ts = kp_read_i64(&rd);
	/* v4 adds tagged fields we do not need. */
	if (rd.err || (vv != 4 && kp_reader_left(&rd) != 0) ||
	    !copy_str(&md, r->metadata, sizeof(r->metadata)))
		return -1;
	return 1;
}

/* Next code point of UTF-8 (U+FFFD for a bad byte, as Java decodes). */
static uint32_t
next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ?
	    2 : (c & 0xf8) == 0xf0 ? 3 : -1;

	if (n < 0) {
		*p = s + 1;
		return 0xfffd;
	}
	c &= n == 0 ? 0x7f : (0x3f >> n);
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*p = s + i;
			return 0xfffd;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return c;
}

int32_t
kp_java_hash(const char *str)
{
	const unsigned char *p = (const unsigned char *)str;
	uint32_t h = 0;

	while (*p) {
		uint32_t c = next_cp(&p);

		if (c >= 0x10000) {
			c -= 0x10000;
			h = 31 * h + (0xd800 + (c >> 10));
			h = 31 * h + (0xdc00 + (c & 0x3ff));
		} else {
			h = 31 * h + c;
		}
	}
	return (int32_t)h;
}

int32_t
kp_offsets_partition(const char *group, int32_t n)
{
	int32_t h = kp_java_hash(group);

	/* Kafka's Utils.abs: Math.abs, but 0 for Integer.MIN_VALUE */
	return (h == INT32_MIN ? 0 : h < 0 ? -h : h) % n;
}
