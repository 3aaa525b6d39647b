/* kp_gmember.h -- a consumer group member: join, sync, heartbeat, commit, leave */
#ifndef KP_GMEMBER_H
#define KP_GMEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_assign.h"

/*
 * The member side of Kafka's classic consumer group protocol, on a
 * client of its own so heartbeats never queue behind a long-polling
 * Fetch. Blocking calls; nothing prints. It offers the "consumer"
 * protocol type with both assignors (the preferred one first), and when
 * elected leader assigns with kp_assign, so it can lead a group of Java,
 * librdkafka or kafka-python members and follow any of them.
 */
struct kp_gmember;

struct kp_gmember_opts {
	const char		*brokers;	/* NULL: kp_net_default_brokers */
	const char		*client_id;	/* NULL: "kpipe" */
	const char		*group;
	const char		*instance_id;	/* group.instance.id or NULL */
	const char *const	*topics;	/* the subscription */
	size_t			 ntopics;
	int			 session_ms;	/* 0: 10000 */
	int			 rebalance_ms;	/* 0: 60000 */
	int			 heartbeat_ms;	/* 0: session / 3 */
	enum kp_assignor	 assignor;	/* preferred */
};

/* NULL with errno and a reason in why. */
struct kp_gmember *kp_gmember_new(const struct kp_gmember_opts *, char *why,
	    size_t whylen);
void		 kp_gmember_free(struct kp_gmember *);
const char	*kp_gmember_error(const struct kp_gmember *);
int16_t		 kp_gmember_kerr(const struct kp_gmember *);

/*
 * Join (or rejoin) and sync until this member holds a generation's
 * assignment. Retries what Kafka says to retry (MEMBER_ID_REQUIRED,
 * UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, the
 * coordinator moving) while *stop stays 0. 0, or -1 with the error set.
 */
int		 kp_gmember_join(struct kp_gmember *, volatile int *stop);
/* The assignment, sorted by topic and partition; borrowed until rejoin. */
const struct kp_assign_tp *kp_gmember_assigned(const struct kp_gmember *,
		    size_t *n);
int32_t		 kp_gmember_generation(const struct kp_gmember *);
const char	*kp_gmember_member_id(const struct kp_gmember *);
bool		 kp_gmember_is_leader(const struct kp_gmember *);

/*
 * The group's committed offsets for the assignment: out[i] for
 * assigned[i], -1 where nothing is committed. 0 or -1.
 */
int		 kp_gmember_committed(struct kp_gmember *, int64_t *out);
/*
 * Send a heartbeat if one is due (now: kp_mono_ms). 0 all well, 1 the
 * group is rebalancing or dropped us: commit and kp_gmember_join again,
 * -1 the coordinator cannot be reached.
 */
int		 kp_gmember_heartbeat(struct kp_gmember *, int64_t now);
/*
 * Commit next-offsets for the assignment (offsets[i] for assigned[i];
 * negative entries are skipped). 0, 1 when the generation is gone (the
 * commit was refused: rejoin), -1 on other errors.
 */
int		 kp_gmember_commit(struct kp_gmember *, const int64_t *offsets);
/* LeaveGroup (not for static members, as Kafka's consumers do). 0 or -1. */
int		 kp_gmember_leave(struct kp_gmember *);

#endif
