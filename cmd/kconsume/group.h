/* group.h -- kconsume's consumer group mode (-g) */
#ifndef KCONSUME_GROUP_H
#define KCONSUME_GROUP_H

#include "consume.h"
#include "kp_assign.h"

/*
 * --commit: none never commits; auto (at-least-once) writes records
 * first and commits their offsets every interval, on rebalance and at
 * exit; sync (at-most-once) commits each fetched batch's offsets before
 * writing it.
 */
enum commit_mode { COMMIT_NONE, COMMIT_AUTO, COMMIT_SYNC };

struct group_opts {
	const char		*brokers;
	const char		*group;
	const char		*instance_id;	/* NULL: dynamic member */
	int			 commit;	/* enum commit_mode */
	int			 commit_interval_ms;
	int			 session_ms;
	enum kp_assignor	 assignor;
};

/* Like consume_run, for the partitions the group assigns this member. */
int	group_run(struct kp_client *, struct consume_opts *,
	    const struct group_opts *, struct consume_stats *,
	    volatile int *stop);

#endif
