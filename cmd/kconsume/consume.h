/* consume.h -- kconsume's fetch engine and record output */
#ifndef CONSUME_H
#define CONSUME_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_client.h"
#include "kp_fmt.h"
#include "kp_json.h"
#include "kp_offspec.h"

enum out_mode { OUT_RAW, OUT_JSON, OUT_FMT, OUT_NONE };

struct consume_opts {
	const char	**topics;
	size_t		  ntopics;
	int32_t		 *parts;	/* -p, or NULL for all */
	size_t		  nparts;
	struct kp_offspec spec;
	bool		  exit_at_end;	/* -e */
	int64_t		  count;	/* -c, 0 = unlimited */
	int		  mode;		/* enum out_mode */
	struct kp_fmt	  fmt;
	const char	 *delim;	/* after each raw value */
	size_t		  delim_len;
	const char	 *kdelim;	/* raw: print key and this first */
	size_t		  kdelim_len;
	const char	 *null_str;
	size_t		  null_len;
	bool		  flush_each;	/* terminal or -u */
	int		  retries;
	int		  max_wait_ms;
	int		  timeout_ms;	/* -e: give up on a leaderless partition */
	int8_t		  isolation;	/* KP_READ_COMMITTED or _UNCOMMITTED */
};

struct consume_stats {
	uint64_t	records;
	uint64_t	bytes;
	int64_t		start_ms;
	int64_t		first_fetch_ms;
};

/*
 * Records formatted as the options say (raw, JSON or -f), buffered
 * for stdout; both the plain and the group engine write through it.
 */
struct recout {
	const struct consume_opts *o;
	struct kp_buf		 buf;
	struct kp_jheader	*hs;	/* header scratch, grown as needed */
	size_t			 hcap;
};

void	recout_init(struct recout *, const struct consume_opts *);
void	recout_release(struct recout *);
/* Appends one record; -1 out of memory. */
int	recout_emit(struct recout *, const char *topic, int32_t partition,
	    const struct kp_record *);
/* Writes and empties the buffer; -1 (warned) if stdout failed. */
int	recout_flush(struct recout *);

/*
 * Read what the options say and write it to stdout. Returns 0 or a
 * sysexits code; the message is already printed.
 */
int	consume_run(struct kp_client *, struct consume_opts *,
	    struct consume_stats *, volatile int *stop);

#endif
