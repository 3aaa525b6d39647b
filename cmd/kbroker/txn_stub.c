/* txn_stub.c -- kb_txn_write_marker until txn_log.c is merged (TEMPORARY) */
#include "kp_err.h"
#include "kbroker.h"
#include "txn.h"

/* Weak: txn_log.c's real one wins once both branches meet. */
__attribute__((weak)) int16_t
kb_txn_write_marker(struct kb_broker *b, const char *topic, int32_t partition,
    int64_t pid, int16_t epoch, bool commit, int32_t coordinator_epoch)
{
	(void)b; (void)topic; (void)partition; (void)pid; (void)epoch;
	(void)commit; (void)coordinator_epoch;
	return KP_NONE;
}
