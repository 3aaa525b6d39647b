/* kp_compress.h -- gzip (RFC 1952) compression of record batch payloads */
#ifndef KP_COMPRESS_H
#define KP_COMPRESS_H

#include <stddef.h>

#include "kp_buf.h"

/* Append the gzip stream of src to out. 0, or -1 with errno (ENOMEM). */
int	kp_gzip_compress(const void *, size_t, struct kp_buf *);
/*
 * Append what src inflates to (gzip, or zlib: the header is detected) to
 * out, at most max bytes. Returns 0, or -1 with errno: EFBIG beyond max
 * (out keeps no partial result), EBADMSG when not a complete valid stream,
 * ENOMEM. Concatenated gzip members are inflated one after another.
 */
int	kp_gzip_decompress(const void *, size_t, size_t, struct kp_buf *);

#endif
