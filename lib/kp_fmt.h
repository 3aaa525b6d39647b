/* kp_fmt.h -- kcat-style format strings for printing records */
#ifndef KP_FMT_H
#define KP_FMT_H

#include <stddef.h>
#include <sys/types.h>

#include "kp_buf.h"
#include "kp_json.h"

/*
 * Tokens as kcat's -f: %t topic, %p partition, %o offset, %k key, %K key
 * length (-1 for null), %s value, %S value length (-1 for null), %R value
 * length as 4 bytes big-endian, %T timestamp (ms), %h headers as
 * name=value pairs joined by commas, %% a percent sign; escapes \n \r \t
 * \\ \0 and \xHH.
 */
struct kp_fmt_op {
	char	 tok;		/* 0 for literal text */
	size_t	 off, len;	/* literal: bytes in text */
};

struct kp_fmt {
	char			*text;		/* unescaped literals */
	struct kp_fmt_op	*ops;
	size_t			 nops;
	const char		*null_str;	/* for null key/value/header */
	size_t			 null_len;
};

/*
 * Compile fmt. Returns 0, or -1 with a reason in errbuf (unknown token,
 * bad escape) or errno ENOMEM.
 */
int	kp_fmt_compile(struct kp_fmt *, const char *, char *errbuf,
	    size_t errlen);
void	kp_fmt_release(struct kp_fmt *);
/* Append rec (borrowed views) formatted to out. */
void	kp_fmt_render(const struct kp_fmt *, const struct kp_json_rec *,
	    struct kp_buf *);

/*
 * Undo backslash escapes (\n \r \t \\ \0 \xHH) of s into a new buffer
 * (caller frees; NUL-terminated, NULs inside count in *len). NULL with
 * errno EINVAL for a bad escape, ENOMEM.
 */
char	*kp_unescape(const char *, size_t *);

#endif
