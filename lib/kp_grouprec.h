/* kp_grouprec.h -- group membership records of __consumer_offsets, in Kafka's layout */
#ifndef KP_GROUPREC_H
#define KP_GROUPREC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_buf.h"
#include "kp_coord.h"

/*
 * Beside committed offsets (kp_offrec), __consumer_offsets keeps each
 * group's membership, so a restarted or new coordinator knows its members
 * and generation and their heartbeats go on without a rebalance, as
 * Kafka's GroupMetadataManager writes it:
 *   key   GroupMetadataKey v2: int16 2, string group
 *   value GroupMetadataValue v3: int16 3, string protocol type, int32
 *         generation, nullable string protocol, nullable string leader,
 *         int64 state timestamp, [member id, nullable instance id,
 *         client id, client host, int32 rebalance timeout, int32 session
 *         timeout, bytes subscription, bytes assignment]
 *   a null value (tombstone) removes the group.
 * Values v0-v2 (fewer fields) are read too.
 */
void	 kp_grouprec_key(struct kp_buf *, const char *group);
void	 kp_grouprec_value(struct kp_buf *, const struct kp_coord_group *);

struct kp_grouprec {
	char		 group[256];
	bool		 tombstone;
	struct kp_coord_saved saved;	/* strings copied, bytes borrowed */
	char		*strs;		/* owns saved's strings */
	struct kp_coord_saved_member *members;
};

/*
 * Parse one record: 1 a group record (or its tombstone, value NULL)
 * filled into r, whose byte fields point into value; 0 another kind of
 * record or an unknown value version, to skip; -1 malformed. r needs
 * kp_grouprec_release after any result.
 */
int	 kp_grouprec_parse(const uint8_t *key, size_t klen,
	    const uint8_t *value, ssize_t vlen, struct kp_grouprec *r);
void	 kp_grouprec_release(struct kp_grouprec *);

#endif
