/* consume.h -- kconsume's fetch engine and record output */
#ifndef CONSUME_H
#define CONSUME_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_client.h"
#include "kp_fmt.h"
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
};

struct consume_stats {
	uint64_t	records;
	uint64_t	bytes;
	int64_t		start_ms;
	int64_t		first_fetch_ms;
};

/*
 * Read what the options say and write it to stdout. Returns 0 or a
 * sysexits code; the message is already printed.
 */
int	consume_run(struct kp_client *, struct consume_opts *,
	    struct consume_stats *, volatile int *stop);

#endif
