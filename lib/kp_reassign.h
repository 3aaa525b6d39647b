/* kp_reassign.h -- partition reassignment plans: Kafka's JSON format and a balanced assignment */
#ifndef KP_REASSIGN_H
#define KP_REASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"

/*
 * A plan is what kafka-reassign-partitions.sh reads and writes:
 *
 *   {"version":1,"partitions":[{"topic":"t","partition":0,
 *    "replicas":[2,3,1]}, ...]}
 *
 * (a "log_dirs" member per partition is accepted and ignored: kpipe has
 * one log directory per broker). Plans written by Kafka's tool and by
 * kreplicate read the same.
 */
struct kp_reassign_part {
	char		*topic;
	int32_t		 partition;
	int32_t		*replicas;	/* [0] is the preferred leader */
	int32_t		 nreplicas;
};

struct kp_reassign_plan {
	struct kp_reassign_part	*parts;
	size_t			 nparts;
};

void	kp_reassign_plan_init(struct kp_reassign_plan *);
void	kp_reassign_plan_release(struct kp_reassign_plan *);
/*
 * Parse a plan. 0, or -1 with a reason in why: not JSON, a version
 * other than 1, a missing or mistyped member, an empty topic, a negative
 * partition or broker id, a broker twice in one list, no replicas, or
 * the same partition twice.
 */
int	kp_reassign_parse(const char *, size_t, struct kp_reassign_plan *,
	    char *why, size_t whylen);
/* Append the plan as one line of JSON (and a newline) in Kafka's format. */
void	kp_reassign_write(struct kp_buf *, const struct kp_reassign_plan *);
/* Add a partition (copies topic and replicas); 0, or -1 out of memory. */
int	kp_reassign_add(struct kp_reassign_plan *, const char *, int32_t,
	    const int32_t *, int32_t);

/*
 * Kafka's rack-unaware replica assignment (AdminUtils
 * .assignReplicasToBrokers) over brokers sorted by id, with a fixed
 * start: the first replica of partition p is brokers[(start + p) % n]
 * (leaders go round the brokers), the others follow it with a shift
 * that grows every n partitions (followers spread too). out gets
 * nparts * rf ids, partition by partition. 0, or -1 when rf is not in
 * 1..nbrokers.
 */
int	kp_reassign_spread(const int32_t *brokers, size_t nbrokers,
	    int32_t nparts, int32_t rf, size_t start, int32_t *out);

#endif
