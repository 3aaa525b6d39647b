/* kp_offspec.h -- consumer start/stop positions: beginning, -N, @time, ranges */
#ifndef KP_OFFSPEC_H
#define KP_OFFSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kp_offkind {
	KP_OFF_BEGINNING = 1,	/* log start offset */
	KP_OFF_END,		/* high watermark when looked up */
	KP_OFF_ABS,		/* offset v */
	KP_OFF_TAIL,		/* v before the end, per partition */
	KP_OFF_AFTER_START,	/* v after the log start */
	KP_OFF_TIME		/* first offset with timestamp >= v (ms) */
};

struct kp_offpos {
	int	kind;		/* enum kp_offkind */
	int64_t	v;
};

/*
 * -o SPEC, as "START", "START:END", ":END" or "START:". END is exclusive:
 * a record at or after it is not read; "end" means the high watermark seen
 * when reading starts. has_end false means follow forever.
 */
struct kp_offspec {
	struct kp_offpos	start;
	struct kp_offpos	end;
	bool			has_end;
};

/*
 * Parse spec; now_ms anchors relative times (@-1h). Returns 0, or -1 with a
 * reason in errbuf.
 */
int	kp_offspec_parse(const char *, int64_t now_ms, struct kp_offspec *,
	    char *errbuf, size_t errlen);
/*
 * A time: milliseconds since the epoch, ISO 8601 date or date-time (UTC
 * unless a zone is given), or now minus a duration ("-1h", "-90s",
 * "-2d", "-500ms", "-1h30m"). Advances *sp past what it read.
 * Returns 0 or -1.
 */
int	kp_time_parse(const char **sp, int64_t now_ms, int64_t *ms);

/*
 * Resolve a position to an offset given a partition's log start and
 * high watermark (time positions are resolved by the caller through
 * ListOffsets and passed as at_time). Clamped to [start, hwm].
 */
int64_t	kp_offpos_resolve(const struct kp_offpos *, int64_t log_start,
	    int64_t hwm, int64_t at_time);

#endif
