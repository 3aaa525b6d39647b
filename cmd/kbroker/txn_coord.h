/* txn_coord.h -- the transaction coordinator's calls for other handler files */
#ifndef KB_TXN_COORD_H
#define KB_TXN_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_coord.h"
#include "kp_proto_admin.h"
#include "kbroker.h"

struct kp_topic;

/*
 * txn_coord.c. InitProducerId with a transactional id (producer_state.c
 * hands its transactional branch here): fills rs and returns KB_DONE, or
 * KB_CLOSE.
 */
int	 kb_txn_init_producer_id(struct kb_req *,
	    const struct kp_init_producer_id_req *,
	    struct kp_init_producer_id_resp *);
/*
 * May producer pid at epoch act for transactional id now (TxnOffsetCommit)?
 * KP_NONE, KP_INVALID_PRODUCER_ID_MAPPING (unknown id, another producer),
 * KP_PRODUCER_FENCED (an older epoch), KP_CONCURRENT_TRANSACTIONS
 * (ending), KP_INVALID_TXN_STATE (no transaction open).
 */
int16_t	 kb_txn_check_producer(struct kb_broker *, const char *id,
	    int64_t pid, int16_t epoch);
/* Is topic/partition part of the id's transaction? */
bool	 kb_txn_has_partition(struct kb_broker *, const char *id,
	    const char *topic, int32_t partition);

/*
 * txn_offsets.c. The offsets loader replays an offset a transactional batch of producer
 * pid stored on __consumer_offsets partition part: pending until that
 * producer's marker there (kb_offsets_txn_marker).
 */
void	 kb_txn_offsets_replayed(struct kb_broker *, int32_t part,
	    int64_t pid, const char *group, const struct kp_coord_offset *);

#endif
