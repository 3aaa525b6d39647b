/* kp_assign.h -- range and roundrobin partition assignors, as Kafka's Java ones */
#ifndef KP_ASSIGN_H
#define KP_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The group leader runs an assignor over every member's subscription and
 * the partition counts of the subscribed topics. Results must match
 * org.apache.kafka.clients.consumer.RangeAssignor / RoundRobinAssignor
 * exactly, so a group mixing kpipe with Java, librdkafka or kafka-python
 * members ends up the same whoever leads: members are ordered by
 * group.instance.id when both have one, static before dynamic, else by
 * member id (AbstractPartitionAssignor.MemberInfo.compareTo), comparing
 * bytes as Java compares ASCII strings.
 */
struct kp_assign_tp {
	const char	*topic;		/* borrowed from the kp_assign_topic */
	int32_t		 partition;
};

struct kp_assign_member {
	/* In: borrowed, valid for the call. */
	const char		*member_id;
	const char		*instance_id;	/* NULL: dynamic member */
	const char *const	*topics;	/* subscription */
	size_t			 ntopics;
	/* Out: new (kp_assign_member_release), by topic then partition. */
	struct kp_assign_tp	*parts;
	size_t			 nparts;
};

struct kp_assign_topic {
	const char	*name;
	int32_t		 partitions;	/* <= 0: unknown, not assigned */
};

enum kp_assignor {
	KP_ASSIGN_RANGE,
	KP_ASSIGN_ROUNDROBIN
};

/*
 * Fill every member's parts. Topics nobody subscribes to are ignored;
 * subscribed topics missing from the topic list get no partitions.
 * Returns 0, or -1 with errno ENOMEM (outputs released).
 */
int	 kp_assign(enum kp_assignor, struct kp_assign_member *, size_t,
	    const struct kp_assign_topic *, size_t);
int	 kp_assign_range(struct kp_assign_member *, size_t,
	    const struct kp_assign_topic *, size_t);
int	 kp_assign_roundrobin(struct kp_assign_member *, size_t,
	    const struct kp_assign_topic *, size_t);
void	 kp_assign_member_release(struct kp_assign_member *);
/* "range"/"roundrobin" and back; -1 for an unknown name. */
const char *kp_assignor_name(enum kp_assignor);
int	 kp_assignor_parse(const char *);

#endif
