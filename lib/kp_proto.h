/* kp_proto.h -- schema-driven codec engine behind the kp_proto_* modules */
#ifndef KP_PROTO_H
#define KP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_wire.h"

/*
 * Each message of kafka-protocol/message/<Name>.json is described by a table of
 * fields (struct kp_msg) generated from the JSON by scripts/gen_proto.py,
 * so versions, nullable and tagged versions, defaults and the ignorable flag
 * are copied, not retyped. One engine walks the table to encode, decode,
 * set defaults and compare; the kp_proto_<area> modules wrap it in typed
 * functions per API.
 *
 * Value layout in the C structs: numbers as intN_t/uint16_t/double/bool,
 * uuid as uint8_t[16], strings as struct kp_str, bytes and records as
 * struct kp_bytes (len -1 = null), arrays as a pointer plus an int32_t
 * count named n_<field> (count -1 = null array).
 */
enum kp_ftype {
	KP_FT_BOOL = 1, KP_FT_I8, KP_FT_I16, KP_FT_U16, KP_FT_I32, KP_FT_I64,
	KP_FT_F64, KP_FT_UUID, KP_FT_STRING, KP_FT_BYTES, KP_FT_RECORDS,
	KP_FT_STRUCT
};

enum {
	KP_FF_ARRAY = 1,	/* an array of type */
	KP_FF_IGNORABLE = 2,	/* may be dropped at versions without it */
	KP_FF_DEFNULL = 4	/* default is null */
};

#define KP_V_NONE	(-1)	/* a max below every min: never */
#define KP_V_MAX	INT16_MAX

struct kp_msg;

struct kp_field {
	const char		*name;		/* Kafka's name */
	uint32_t		 off;		/* value, or array pointer */
	uint32_t		 count_off;	/* arrays: the int32_t count */
	uint8_t			 type;		/* enum kp_ftype (of elements) */
	uint8_t			 flags;
	int16_t			 vmin, vmax;	/* versions */
	int16_t			 nmin, nmax;	/* nullableVersions */
	int16_t			 tmin, tmax;	/* taggedVersions */
	int32_t			 tag;
	int64_t			 def;		/* numeric/bool default */
	const struct kp_msg	*sub;		/* KP_FT_STRUCT element */
};

struct kp_msg {
	const char		*name;
	size_t			 size;		/* sizeof the C struct */
	const struct kp_field	*fields;
	size_t			 nfields;
	int16_t			 vmin, vmax;	/* validVersions */
	int16_t			 fmin;		/* first flexible version */
};

bool	kp_proto_flexible(const struct kp_msg *, int16_t version);

/*
 * Append obj at version to b. Returns 0, or -1 when obj cannot be sent at
 * that version: version not valid, null where the version has no null, a
 * non-default value in a field the version lacks and the schema does not
 * mark ignorable, a string over 32767 bytes. Out of memory shows in b->err.
 */
int	kp_proto_encode(struct kp_buf *, const struct kp_msg *, int16_t version,
	    const void *obj);
/*
 * Decode one message filling the whole input. Fields the version lacks get
 * their schema default. Strings and bytes borrow from the input; arrays are
 * allocated from the arena. Returns 0, or -1 when malformed (truncated,
 * trailing bytes, bad lengths, null where not nullable) or out of memory.
 */
int	kp_proto_decode(const uint8_t *, size_t, const struct kp_msg *,
	    int16_t version, void *obj, struct kp_arena *);
/* The same on a reader, leaving trailing bytes to the caller. */
int	kp_proto_read(struct kp_reader *, const struct kp_msg *,
	    int16_t version, void *obj, struct kp_arena *);
/* Set every field of obj (not of array elements) to its schema default. */
void	kp_proto_init(const struct kp_msg *, void *obj);
/*
 * True when a and b agree in every field present at version, arrays
 * compared element by element (a test and debugging aid).
 */
bool	kp_proto_equal(const struct kp_msg *, int16_t version, const void *a,
	    const void *b);

/*
 * Encode in pieces, for responses whose bulk the caller writes itself
 * (Fetch records sent with sendfile). kp_proto_encode_head writes the
 * fields before field index `upto`, then that field's length or count
 * prefix: `n` is the byte length (-1 null) of a bytes/records field or
 * the element count (-1 null) of an array. The caller then appends the
 * value, and kp_proto_encode_tail writes the fields after `upto` and the
 * tag buffer. Same return values as kp_proto_encode.
 */
int	kp_proto_encode_head(struct kp_buf *, const struct kp_msg *,
	    int16_t version, const void *obj, size_t upto, int32_t n);
int	kp_proto_encode_tail(struct kp_buf *, const struct kp_msg *,
	    int16_t version, const void *obj, size_t upto);

/*
 * Every API this library can encode and decode, with the version range
 * kbroker advertises (research/protocol.md §5) and its schemas.
 */
struct kp_proto_api {
	int16_t			 key;
	int16_t			 min, max;	/* advertised */
	const struct kp_msg	*req;
	const struct kp_msg	*resp;
};

extern const struct kp_proto_api	kp_proto_apis[];
extern const size_t			kp_proto_napis;

/* The table entry for an API key, or NULL. */
const struct kp_proto_api	*kp_proto_api_find(int16_t key);

#endif
