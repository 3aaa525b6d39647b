/* kp_coord.h -- consumer group coordinator: the classic protocol's state machine and committed offsets */
#ifndef KP_COORD_H
#define KP_COORD_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The group coordinator of Kafka's classic group protocol, without I/O:
 * kbroker decodes requests, calls in here with the time, and sends what
 * the callbacks hand back. Time is passed in (monotonic ms), so tests
 * drive it with a fake clock; kp_coord_tick() fires the timers (initial
 * rebalance delay, rebalance timeout, session expiry) and
 * kp_coord_next_deadline() says when to call it next.
 *
 * JoinGroup and SyncGroup may have to wait for other members: the caller
 * passes an opaque waiter, and join_done / sync_done is called exactly
 * once for it, maybe before kp_coord_join/sync returns, maybe from a
 * later call or tick. kp_coord_forget() drops a waiter whose connection
 * went away (no callback then).
 *
 * States follow kafka.coordinator.group.GroupCoordinator: Empty,
 * PreparingRebalance, CompletingRebalance, Stable, Dead.
 */
enum kp_coord_state {
	KP_GROUP_EMPTY,
	KP_GROUP_PREPARING,	/* PreparingRebalance */
	KP_GROUP_COMPLETING,	/* CompletingRebalance */
	KP_GROUP_STABLE,
	KP_GROUP_DEAD
};

/* Kafka's names: "Empty", "PreparingRebalance", ... */
const char	*kp_coord_state_name(enum kp_coord_state);

struct kp_coord_proto {
	char		*name;
	uint8_t		*meta;
	size_t		 len;
};

struct kp_coord_member {
	TAILQ_ENTRY(kp_coord_member) link;
	char		*member_id;
	char		*instance_id;	/* NULL: dynamic */
	char		*client_id;
	char		*client_host;
	int32_t		 session_ms;
	int32_t		 rebalance_ms;
	struct kp_coord_proto *protos;	/* in the member's preference order */
	size_t		 nprotos;
	uint8_t		*assign;	/* from the leader's SyncGroup */
	size_t		 assign_len;
	int64_t		 deadline;	/* session expiry */
	bool		 joined;	/* rejoined this rebalance */
	bool		 is_new;	/* joined during this rebalance */
	void		*join_waiter;
	void		*sync_waiter;
	bool		 syncing;	/* sync_waiter valid */
};

TAILQ_HEAD(kp_coord_members, kp_coord_member);

/* A committed offset. */
struct kp_coord_offset {
	char		*topic;
	int32_t		 partition;
	int64_t		 offset;
	int32_t		 leader_epoch;
	char		*metadata;	/* never NULL */
	int64_t		 commit_ts;	/* wall ms */
	int64_t		 expire_ts;	/* wall ms, -1: by retention */
};

/* A member id waiting to rejoin after MEMBER_ID_REQUIRED. */
struct kp_coord_pending {
	char		*member_id;
	int64_t		 deadline;
};

struct kp_coord_group {
	TAILQ_ENTRY(kp_coord_group) link;
	char		*id;
	enum kp_coord_state state;
	int64_t		 state_ts;	/* wall ms when it last changed */
	int32_t		 generation;
	char		*protocol_type;	/* NULL until a member joins */
	char		*protocol;	/* selected, NULL when none */
	char		*leader;	/* member id, NULL when none */
	struct kp_coord_members members;
	size_t		 nmembers;
	struct kp_coord_pending *pending;
	size_t		 npending;
	int64_t		 join_deadline;	/* PreparingRebalance ends, -1 */
	bool		 initial_delay;	/* join_deadline is the initial delay */
	bool		 new_joined;	/* a new member came during the delay */
	int32_t		 delay_left;	/* rebalance time left to extend by */
	struct kp_coord_offset *offsets;
	size_t		 noffsets, offsets_cap;
};

struct kp_coord_join_result {
	int16_t		 error;
	int32_t		 generation;
	const char	*protocol_type;	/* NULL: none */
	const char	*protocol;	/* NULL: none */
	const char	*leader;	/* "" when none */
	const char	*member_id;
	bool		 skip_assignment;
	/* The leader's view: every member with its chosen metadata. */
	struct kp_coord_member *const *members;
	size_t		 nmembers;
};

/*
 * Borrowed pointers, valid during the call. The callbacks may call
 * kp_coord_forget but nothing else of the coordinator.
 */
struct kp_coord_cb {
	void	(*join_done)(void *arg, void *waiter,
		    const struct kp_coord_join_result *);
	void	(*sync_done)(void *arg, void *waiter, int16_t error,
		    const char *protocol_type, const char *protocol,
		    const uint8_t *assign, size_t len);
	/*
	 * An offset was committed (o) or removed (o NULL, topic/partition
	 * say which), so kbroker can log it to __consumer_offsets. May be
	 * NULL.
	 */
	void	(*offset_changed)(void *arg, const char *group,
		    const char *topic, int32_t partition,
		    const struct kp_coord_offset *o);
	/*
	 * The group's membership changed where Kafka stores it (the
	 * leader's assignment completed a rebalance, the group emptied, a
	 * static member came back under a new id), or the group is gone (g
	 * NULL), so kbroker can log it to __consumer_offsets. May be NULL.
	 */
	void	(*group_changed)(void *arg, const char *group,
		    const struct kp_coord_group *g);
	void	*arg;
};

struct kp_coord_conf {
	int32_t		 initial_delay_ms;	/* group.initial.rebalance.delay.ms */
	int32_t		 min_session_ms;	/* group.min.session.timeout.ms */
	int32_t		 max_session_ms;	/* group.max.session.timeout.ms */
	int32_t		 max_size;		/* group.max.size */
	int64_t		 retention_ms;		/* offsets.retention.minutes */
};

struct kp_coord {
	struct kp_coord_conf conf;
	struct kp_coord_cb cb;
	TAILQ_HEAD(, kp_coord_group) groups;
	size_t		 ngroups;
	uint64_t	 seq;		/* makes member ids unique */
};

/* Kafka's defaults: 3000, 6000, 1800000, INT32_MAX, 7 days. */
void	 kp_coord_conf_default(struct kp_coord_conf *);
void	 kp_coord_init(struct kp_coord *, const struct kp_coord_conf *,
	    const struct kp_coord_cb *);
void	 kp_coord_release(struct kp_coord *);

/* The metadata a member sent for a protocol (borrowed), or NULL. */
const struct kp_coord_proto *kp_coord_member_proto(
	    const struct kp_coord_member *, const char *protocol);

/* Borrowed until the group is deleted; NULL when unknown or Dead. */
struct kp_coord_group *kp_coord_group(struct kp_coord *, const char *);

/* What a JoinGroup request carries, borrowed for the call. */
struct kp_coord_join_req {
	const char	*group_id;
	const char	*member_id;	/* "" for a new member */
	const char	*instance_id;	/* NULL: dynamic */
	const char	*client_id;
	const char	*client_host;
	int32_t		 session_ms;
	int32_t		 rebalance_ms;	/* v0: session_ms */
	const char	*protocol_type;
	const struct kp_coord_proto *protos;
	size_t		 nprotos;
	bool		 require_known_id;	/* v4+: MEMBER_ID_REQUIRED */
};

/* now: monotonic ms for timers; wall: wall ms for timestamps. */
void	 kp_coord_join(struct kp_coord *, const struct kp_coord_join_req *,
	    void *waiter, int64_t now, int64_t wall);
void	 kp_coord_sync(struct kp_coord *, const char *group,
	    int32_t generation, const char *member_id,
	    const char *instance_id, const char *protocol_type,
	    const char *protocol, const char *const *assign_ids,
	    const uint8_t *const *assigns, const size_t *assign_lens,
	    size_t nassign, void *waiter, int64_t now, int64_t wall);
/* Kafka error codes. */
int16_t	 kp_coord_heartbeat(struct kp_coord *, const char *group,
	    int32_t generation, const char *member_id,
	    const char *instance_id, int64_t now, int64_t wall);
/* member_id NULL or "" with instance_id set leaves by instance id. */
int16_t	 kp_coord_leave(struct kp_coord *, const char *group,
	    const char *member_id, const char *instance_id, int64_t now,
	    int64_t wall);
/* Drop a waiter (its connection closed); no callback follows. */
void	 kp_coord_forget(struct kp_coord *, void *waiter);

/*
 * OffsetCommit: first check the member (error for every partition if
 * it fails), then commit each partition. generation -1 with member ""
 * commits for a group without members (manual assignment, kgroup reset).
 */
int16_t	 kp_coord_commit_check(struct kp_coord *, const char *group,
	    int32_t generation, const char *member_id,
	    const char *instance_id, int64_t now, int64_t wall);
/* After a successful check: 0, or -1 (ENOMEM). */
int	 kp_coord_commit(struct kp_coord *, const char *group,
	    const char *topic, int32_t partition, int64_t offset,
	    int32_t leader_epoch, const char *metadata, int64_t commit_ts,
	    int64_t expire_ts);
/* Borrowed; NULL when nothing is committed. */
const struct kp_coord_offset *kp_coord_offset(struct kp_coord *,
	    const char *group, const char *topic, int32_t partition);
/*
 * Put a committed offset read back from __consumer_offsets at startup (no
 * offset_changed callback); o NULL removes it (a tombstone). 0 or -1.
 */
int	 kp_coord_load(struct kp_coord *, const char *group, const char *topic,
	    int32_t partition, const struct kp_coord_offset *o, int64_t wall);

/*
 * A group's membership as __consumer_offsets keeps it (Kafka's
 * GroupMetadataValue), borrowed for kp_coord_load_group: each member with
 * the metadata it sent for the group's protocol and its assignment.
 */
struct kp_coord_saved_member {
	const char	*member_id;
	const char	*instance_id;	/* NULL: dynamic */
	const char	*client_id;
	const char	*client_host;
	int32_t		 rebalance_ms;
	int32_t		 session_ms;
	const uint8_t	*subscription;
	size_t		 sub_len;
	const uint8_t	*assign;
	size_t		 assign_len;
};

struct kp_coord_saved {
	const char	*protocol_type;
	const char	*protocol;	/* NULL when none */
	const char	*leader;	/* NULL when none */
	int32_t		 generation;
	int64_t		 state_ts;	/* wall ms, -1: unknown */
	const struct kp_coord_saved_member *members;
	size_t		 nmembers;
};

/*
 * Put a group's membership read back from __consumer_offsets (no
 * group_changed callback), replacing what the group had: Stable with its
 * members, each given a whole session from now, as Kafka's coordinator
 * does on loading; Empty without. s NULL (a tombstone) drops the
 * members, and the group when no offset is left. 0 or -1 (ENOMEM).
 */
int	 kp_coord_load_group(struct kp_coord *, const char *group,
	    const struct kp_coord_saved *s, int64_t now, int64_t wall);

/* DeleteGroups: KP_NONE, GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP. */
int16_t	 kp_coord_delete_group(struct kp_coord *, const char *group,
	    int64_t wall);
/*
 * OffsetDelete for one partition. subscribed says whether a member of
 * the group reads the topic (GROUP_SUBSCRIBED_TO_TOPIC then). The group
 * error (GROUP_ID_NOT_FOUND) comes from kp_coord_group() being NULL.
 */
int16_t	 kp_coord_delete_offset(struct kp_coord *, const char *group,
	    const char *topic, int32_t partition, bool subscribed);

/* Fire due timers; wall ms expires offsets. */
void	 kp_coord_tick(struct kp_coord *, int64_t now, int64_t wall);
/* The earliest timer (monotonic ms), or -1 when none. */
int64_t	 kp_coord_next_deadline(const struct kp_coord *);

#endif
