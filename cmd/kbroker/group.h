/* group.h -- the group coordinator's state in kbroker, shared by group.c and offsets.c */
#ifndef KB_GROUP_H
#define KB_GROUP_H

#include <sys/queue.h>

#include "kp_buf.h"
#include "kp_coord.h"
#include "kbroker.h"

/*
 * A JoinGroup or SyncGroup waiting for other members: the request is
 * deferred (KB_DEFER) and its response body is encoded here when the
 * coordinator calls back, then copied out when the request runs again.
 */
struct kb_park {
	TAILQ_ENTRY(kb_park) link;
	struct kb_resp	*r;		/* the waiter given to kp_coord */
	int16_t		 api, version;
	bool		 done;
	struct kp_buf	 body;
};

struct commit_undo;

struct kb_group {
	struct kb_broker *b;
	struct kp_coord	 coord;
	TAILQ_HEAD(, kb_park) parked;
	/* cluster mode: OffsetCommits waiting for the ISR, oldest first */
	TAILQ_HEAD(, commit_undo) commits;
	int32_t		 offsets_parts;	/* offsets.topic.num.partitions */
	bool		 loading;	/* replaying __consumer_offsets */
	/*
	 * Cluster mode, one OffsetCommit's appends (kb_offsets_persist):
	 * the partition and log end it waits on (end -1: nothing appended)
	 * and the first append error.
	 */
	int32_t		 commit_part;
	int64_t		 commit_end;
	int		 commit_err;
};

static inline struct kb_group *
kb_group_of(struct kb_broker *b)
{
	return b->group;
}

/* offsets.c: __consumer_offsets. */
void	kb_offsets_persist(void *, const char *, const char *, int32_t,
	    const struct kp_coord_offset *);
void	kb_groups_persist(void *, const char *,
	    const struct kp_coord_group *);
int	kb_offsets_load(struct kb_group *);
/*
 * Cluster mode: make __consumer_offsets through ZooKeeper (KP_NONE or a
 * Kafka error); may this broker coordinate the group (KP_NONE,
 * KP_NOT_COORDINATOR, KP_COORDINATOR_NOT_AVAILABLE,
 * KP_COORDINATOR_LOAD_IN_PROGRESS; always KP_NONE on a single node).
 */
int	kb_group_create_offsets_topic(struct kb_broker *);
int16_t	kb_group_check_coordinator(struct kb_broker *, const char *);
/* Cluster mode: replay one partition this broker came to lead. */
void	kb_offsets_load_partition(struct kb_broker *, int32_t);
/*
 * offsets.c: __consumer_offsets, made compacted on first use on a single
 * node (a cluster makes it through ZooKeeper); NULL when it is not there.
 */
struct kp_topic *kb_offsets_topic(struct kb_broker *);

#endif
