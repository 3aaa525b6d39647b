/* pid_block.c -- producer ids unique across a cluster: blocks taken in ZooKeeper as Kafka's ProducerIdManager */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kp_err.h"
#include "kbroker.h"
#include "cluster.h"
#include "txn_coord.h"
#include "zk.h"

#define BLOCK_PATH	"/latest_producer_id_block"
#define BLOCK_SIZE	1000		/* Kafka's ProducerIdsBlock size */
#define TRIES		10

/* This broker's current block; next > end: none (take another). */
static int64_t blk_next = 1, blk_end = 0;

/* A JSON member given as a string ("123", Kafka) or a number. */
static int
json_i64(json_t *o, const char *key, int64_t *out)
{
	json_t *x = json_object_get(o, key);
	char *end;

	if (json_is_integer(x)) {
		*out = (int64_t)json_integer_value(x);
		return 0;
	}
	if (!json_is_string(x))
		return -1;
	*out = strtoll(json_string_value(x), &end, 10);
	return *json_string_value(x) != '\0' && *end == '\0' ? 0 : -1;
}

/* The end of the latest block handed out, -1 for none. 0, or -1. */
static int
parse_end(const char *s, int64_t *end)
{
	json_t *o = json_loads(s, 0, NULL);
	int rc = o != NULL && json_i64(o, "block_end", end) == 0 ? 0 : -1;

	json_decref(o);
	return rc;
}

/*
 * Take the block after the latest with a write conditional on the
 * znode's version: two brokers racing for it cannot both win.
 */
static int
take_block(struct kb_broker *b)
{
	struct kb_cluster *cl = b->cluster;

	for (int i = 0; i < TRIES; i++) {
		struct Stat st;
		char *data = NULL, json[256];
		int len = 0, rc;
		int64_t last = -1;

		rc = kb_zk_get(cl, BLOCK_PATH, false, &data, &len, &st);
		if (rc == ZOK && (data == NULL || len <= 0 ||
		    parse_end(data, &last) == -1)) {
			kb_log("%s: cannot parse '%s'", BLOCK_PATH,
			    data ? data : "");
			free(data);
			return -1;
		}
		free(data);
		if (rc != ZOK && rc != ZNONODE)
			return -1;
		snprintf(json, sizeof(json), "{\"version\":1,\"broker\":%d,"
		    "\"block_start\":\"%" PRId64 "\",\"block_end\":\"%" PRId64
		    "\"}", b->cfg->broker_id, last + 1, last + BLOCK_SIZE);
		if (rc == ZNONODE)
			rc = kb_zk_create(cl, BLOCK_PATH, json, 0);
		else {
			pthread_rwlock_rdlock(&cl->zlock);
			rc = zoo_set(cl->zh, BLOCK_PATH, json,
			    (int)strlen(json), st.version);
			pthread_rwlock_unlock(&cl->zlock);
		}
		if (rc == ZOK) {
			blk_next = last + 1;
			blk_end = last + BLOCK_SIZE;
			kb_log("producer ids %" PRId64 "..%" PRId64 " taken",
			    blk_next, blk_end);
			return 0;
		}
		if (rc != ZBADVERSION && rc != ZNODEEXISTS)
			return -1;
	}
	return -1;
}

int64_t
kb_next_producer_id(struct kb_broker *b)
{
	if (!kb_cluster_mode(b) || b->cluster == NULL)
		return b->next_pid++;
	if (blk_next > blk_end && take_block(b) == -1)
		return -1;
	return blk_next++;
}
