/* txn_coord.c -- the transaction coordinator: __transaction_state, InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, timeouts */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_offrec.h"
#include "kp_proto_admin.h"
#include "kp_proto_txn.h"
#include "kp_store.h"
#include "kp_txnrec.h"
#include "kbroker.h"
#include "cluster.h"
#include "group.h"
#include "resp_array.h"
#include "txn.h"
#include "txn_coord.h"

#define NBUCKETS	1024
/* Kafka's TransactionMetadata.isEpochExhausted: a new producer id then. */
#define EPOCH_MAX	(INT16_MAX - 1)
#define KP_TRANSACTIONAL_ID_NOT_FOUND	105	/* not in kp_err.h yet */

struct tpart {
	char		*topic;
	int32_t		 partition;
	bool		 marked;	/* its marker is written (ending) */
};

struct txn {
	struct txn	*next;		/* hash chain */
	char		*id;
	int64_t		 pid;
	int16_t		 epoch;
	int32_t		 timeout_ms;
	int8_t		 state;		/* enum kp_txn_state */
	struct tpart	*parts;
	size_t		 nparts, cap;
	int64_t		 start_ms;	/* wall, -1 when no transaction */
	int64_t		 update_ms;
	int64_t		 state_end;	/* cluster: its last state's end */
};

/* The fields a failed write of the state must give back. */
struct txn_save {
	int64_t		 pid;
	int16_t		 epoch;
	int32_t		 timeout_ms;
	int8_t		 state;
	size_t		 nparts;
	int64_t		 start_ms, update_ms;
};

struct coord {
	struct kb_broker *b;
	struct txn	*buckets[NBUCKETS];
	size_t		 ntxn;
	int32_t		 nparts;	/* transaction.state.log.num.partitions */
	int64_t		 max_timeout_ms; /* transaction.max.timeout.ms */
	int64_t		 expire_ms;	/* transactional.id.expiration.ms */
	int64_t		 check_ms;	/* ...abort.timed.out...interval.ms */
	int64_t		 next_check;	/* wall */
	bool		 loading;
	bool		 nudged;	/* kb_txn_coord_nudge this round */
	struct kb_req	*req;		/* the request whose answer waits */
	/*
	 * Cluster mode: per __transaction_state partition, the leader
	 * epoch whose state is loaded here, -1 when this broker does not
	 * coordinate that partition's ids.
	 */
	int32_t		*loaded;
	int32_t		 nloaded;
};

/* One broker per process; a static keeps the shared kb_broker as it is. */
static struct coord *C;

static const char *
state_name(int s)
{
	const char *n = kp_txn_state_name(s);

	return n != NULL ? n : "?";
}

/* Old clients know PRODUCER_FENCED as INVALID_PRODUCER_EPOCH (KafkaApis). */
static int16_t
fenced_for(int16_t err, int16_t version, int16_t first)
{
	return err == KP_PRODUCER_FENCED && version < first ?
	    KP_INVALID_PRODUCER_EPOCH : err;
}

/* ---- the table of transactional ids ---- */

static size_t
bucket(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h % NBUCKETS;
}

static struct txn *
txn_find(const char *id)
{
	struct txn *t;

	for (t = C->buckets[bucket(id)]; t != NULL; t = t->next)
		if (strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

static void
parts_clear(struct txn *t)
{
	for (size_t i = 0; i < t->nparts; i++)
		free(t->parts[i].topic);
	t->nparts = 0;
}

static void
txn_free(struct txn *t)
{
	parts_clear(t);
	free(t->parts);
	free(t->id);
	free(t);
}

static struct txn *
txn_add(const char *id)
{
	struct txn *t = calloc(1, sizeof(*t));
	size_t h = bucket(id);

	if (t == NULL || (t->id = strdup(id)) == NULL) {
		free(t);
		return NULL;
	}
	t->start_ms = -1;
	t->state_end = -1;
	t->next = C->buckets[h];
	C->buckets[h] = t;
	C->ntxn++;
	return t;
}

static void
txn_remove(struct txn *t)
{
	struct txn **pp = &C->buckets[bucket(t->id)];

	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	C->ntxn--;
	txn_free(t);
}

static bool
part_has(const struct txn *t, const char *topic, int32_t p)
{
	for (size_t i = 0; i < t->nparts; i++)
		if (t->parts[i].partition == p &&
		    strcmp(t->parts[i].topic, topic) == 0)
			return true;
	return false;
}

/* 0, or -1 (ENOMEM). */
static int
part_add(struct txn *t, const char *topic, int32_t p)
{
	if (part_has(t, topic, p))
		return 0;
	if (t->nparts == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct tpart *n = reallocarray(t->parts, cap, sizeof(*n));

		if (n == NULL)
			return -1;
		t->parts = n;
		t->cap = cap;
	}
	if ((t->parts[t->nparts].topic = strdup(topic)) == NULL)
		return -1;
	t->parts[t->nparts].partition = p;
	t->parts[t->nparts].marked = false;
	t->nparts++;
	return 0;
}

static void
save(const struct txn *t, struct txn_save *s)
{
	s->pid = t->pid;
	s->epoch = t->epoch;
	s->timeout_ms = t->timeout_ms;
	s->state = t->state;
	s->nparts = t->nparts;
	s->start_ms = t->start_ms;
	s->update_ms = t->update_ms;
}

/* Undo changes since save (partitions only ever grew meanwhile). */
static void
restore(struct txn *t, const struct txn_save *s)
{
	while (t->nparts > s->nparts)
		free(t->parts[--t->nparts].topic);
	t->pid = s->pid;
	t->epoch = s->epoch;
	t->timeout_ms = s->timeout_ms;
	t->state = s->state;
	t->start_ms = s->start_ms;
	t->update_ms = s->update_ms;
}

/* ---- __transaction_state ---- */

/* The topic, made compacted on first use. NULL when it cannot be. */
static struct kp_topic *
state_topic(void)
{
	struct kb_broker *b = C->b;
	struct kp_topic *t = kp_store_topic(b->store, KP_TXN_STATE_TOPIC);
	static const char *const names[] = { "cleanup.policy" };
	static const char *const values[] = { "compact" };
	int rc;

	if (t != NULL || kb_cluster_mode(b))
		return t;
	rc = kp_store_create_topic(b->store, KP_TXN_STATE_TOPIC, C->nparts,
	    names, values, 1, NULL, false, &t);
	if (rc != KP_NONE) {
		kb_log("topic '%s': create: %s", KP_TXN_STATE_TOPIC,
		    kp_kerr_name((int16_t)rc));
		return NULL;
	}
	kb_log("topic '%s': created with %d partition(s)", KP_TXN_STATE_TOPIC,
	    C->nparts);
	return t;
}

static int
encode_value(const struct txn *t, struct kp_buf *v)
{
	struct kp_txnrec r;

	memset(&r, 0, sizeof(r));
	r.producer_id = t->pid;
	r.producer_epoch = t->epoch;
	r.timeout_ms = t->timeout_ms;
	r.state = t->state;
	r.last_update_ms = t->update_ms;
	r.start_ms = t->start_ms;
	r.nparts = t->nparts;
	if ((r.parts = calloc(t->nparts + 1, sizeof(*r.parts))) == NULL)
		return -1;
	for (size_t i = 0; i < t->nparts; i++) {
		r.parts[i].topic = kb_str(t->parts[i].topic);
		r.parts[i].partition = t->parts[i].partition;
	}
	kp_txnrec_value(v, &r);
	free(r.parts);
	return v->err ? -1 : 0;
}

/* The request whose state writes its answer waits for (NULL: none). */
static void
coord_req(struct kb_req *req)
{
	if (C != NULL)
		C->req = req;
}

#define STATE_ACK_MS	15000	/* a state write's wait for the ISR */

/*
 * Kafka writes the state with acks=all: the answer to the request that
 * changed it waits until the ISR has it (isr.c), and says
 * COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR if it never does. The
 * single error code of InitProducerId, AddOffsetsToTxn and EndTxn
 * follows the response header and throttle_time_ms; AddPartitionsToTxn
 * has one per partition.
 */
static void
park_answer(int32_t p, int64_t end)
{
	struct kb_req *req = C->req;
	int16_t key, v;
	size_t errpos = SIZE_MAX;	/* none to patch */
	int rc;

	if (req == NULL)
		return;
	key = req->hdr.api_key;
	v = req->hdr.api_version;
	if (key == KP_API_INIT_PRODUCER_ID || key == KP_API_END_TXN ||
	    key == KP_API_ADD_OFFSETS_TO_TXN)
		errpos = 4 + 4 + (kp_resp_header_version(key, v) >= 1 ? 1 : 0)
		    + 4;
	if (key == KP_API_ADD_PARTITIONS_TO_TXN)
		rc = kb_repl_park_parts(C->b, req, KP_TXN_STATE_TOPIC, p, end,
		    STATE_ACK_MS, NULL, NULL);
	else
		rc = kb_repl_park_resp(C->b, req, KP_TXN_STATE_TOPIC, p, end,
		    STATE_ACK_MS, errpos);
	if (rc == -1)
		kb_log("%s-%d: cannot hold the answer for the ISR",
		    KP_TXN_STATE_TOPIC, p);
}

/*
 * Write t's state (or, tombstone, its removal) to its partition of
 * __transaction_state, which a restart replays. 0, or -1 (logged).
 */
static int
persist(struct txn *t, bool tombstone)
{
	struct kb_broker *b = C->b;
	struct kp_batch_builder bb;
	struct kp_buf k, v, batch;
	struct kp_topic *topic;
	struct kp_log *log;
	int64_t now = kb_now_wall();
	int32_t p;
	int rc = KP_NONE;

	if (C->loading)
		return 0;
	if ((topic = state_topic()) == NULL)
		return -1;
	p = kp_txn_partition(t->id, topic->partitions);
	if ((log = topic->logs[p]) == NULL ||
	    kb_cluster_check_leader(b, KP_TXN_STATE_TOPIC, p) != KP_NONE)
		return -1;
	kp_buf_init(&k);
	kp_buf_init(&v);
	kp_buf_init(&batch);
	kp_txnrec_key(&k, t->id);
	kp_batch_builder_init(&bb, KP_CODEC_NONE, -1, -1, -1);
	if (k.err || (!tombstone && encode_value(t, &v) == -1) ||
	    kp_batch_builder_add(&bb, now, k.data, (ssize_t)k.len,
	    tombstone ? NULL : v.data, tombstone ? -1 : (ssize_t)v.len, NULL,
	    0) == -1 || kp_batch_builder_finish(&bb, &batch) == -1)
		rc = KP_UNKNOWN_SERVER_ERROR;
	if (rc == KP_NONE)
		rc = kp_log_append(log, batch.data, batch.len,
		    kb_cluster_leader_epoch(b, KP_TXN_STATE_TOPIC, p), now,
		    NULL);
	/*
	 * Kafka writes this with acks=all: with kpipe.acks.all.fsync the
	 * answer waits for the disk here too (rare writes, synced inline).
	 */
	if (rc == KP_NONE && kb_durable_wanted(b, -1) &&
	    kp_log_flush(log) == -1)
		rc = KP_KAFKA_STORAGE_ERROR;
	/* a cluster: committed once the ISR has it (isr.c moves the HW) */
	if (rc == KP_NONE && kb_cluster_mode(b)) {
		t->state_end = kp_log_end_offset(log);
		kb_repl_appended(b, KP_TXN_STATE_TOPIC, p);
		park_answer(p, t->state_end);
	} else if (rc == KP_NONE)
		kp_log_set_high_watermark(log, kp_log_end_offset(log));
	else
		kb_log("transaction '%s': %s-%d: cannot log state: %s", t->id,
		    KP_TXN_STATE_TOPIC, p, kp_kerr_name((int16_t)rc));
	kp_batch_builder_release(&bb);
	kp_buf_release(&k);
	kp_buf_release(&v);
	kp_buf_release(&batch);
	return rc == KP_NONE ? 0 : -1;
}

/* ---- ending a transaction ---- */

/*
 * Write the markers of t's transaction (PrepareCommit or PrepareAbort)
 * to every partition not marked yet. True when all are done: written, or
 * the partition is gone (Kafka drops those markers too).
 */
static bool
write_markers(struct txn *t, bool commit)
{
	struct kb_broker *b = C->b;
	bool done = true;
	int32_t cepoch = 0, sp, leader;

	/* Kafka's coordinator epoch: its state partition's leader epoch */
	if (kb_cluster_key_partition(b, KP_TXN_STATE_TOPIC, t->id, &sp,
	    &leader))
		cepoch = kb_cluster_leader_epoch(b, KP_TXN_STATE_TOPIC, sp);
	for (size_t i = 0; i < t->nparts; i++) {
		struct tpart *tp = &t->parts[i];
		int16_t rc;

		if (tp->marked)
			continue;
		rc = kb_txn_write_marker(b, tp->topic, tp->partition,
		    t->pid, t->epoch, commit, cepoch);
		/* led elsewhere: WriteTxnMarkers to its leader */
		if (kb_cluster_mode(b) && (rc == KP_NOT_LEADER_OR_FOLLOWER ||
		    rc == KP_UNKNOWN_TOPIC_OR_PARTITION))
			rc = kb_txn_marker_remote(b, tp->topic, tp->partition,
			    t->pid, t->epoch, commit, cepoch);
		if (rc == KB_TXN_MARKER_PENDING) {
			done = false;
			continue;
		}
		if (rc == KP_TRANSACTION_COORDINATOR_FENCED) {
			/*
			 * The partition saw a newer coordinator's marker:
			 * this one is stale and its successor completes the
			 * transaction (Kafka's
			 * TransactionMarkerRequestCompletionHandler stops
			 * sending), so retrying would only fail forever.
			 */
			kb_log("transaction '%s': %s-%d: marker dropped: "
			    "coordinator epoch %d fenced by a newer "
			    "coordinator", t->id, tp->topic, tp->partition,
			    (int)cepoch);
			tp->marked = true;
		} else if (rc == KP_NONE ||
		    rc == KP_UNKNOWN_TOPIC_OR_PARTITION ||
		    rc == KP_INVALID_PRODUCER_EPOCH) {
			if (rc != KP_NONE)
				kb_log("transaction '%s': %s-%d: marker "
				    "dropped: %s", t->id, tp->topic,
				    tp->partition, kp_kerr_name(rc));
			tp->marked = true;
		} else {
			kb_debug(C->b, "transaction '%s': %s-%d: marker: %s, "
			    "will retry", t->id, tp->topic, tp->partition,
			    kp_kerr_name(rc));
			done = false;
		}
	}
	kb_txn_markers_send();
	return done;
}

/* Cluster: markers go only once the ISR has the Prepare* state. */
static bool
state_committed(const struct txn *t)
{
	struct kp_log *log;
	int32_t p, leader;

	if (!kb_cluster_mode(C->b) || t->state_end < 0)
		return true;
	if (!kb_cluster_key_partition(C->b, KP_TXN_STATE_TOPIC, t->id, &p,
	    &leader) || (log = kp_store_log(C->b->store, KP_TXN_STATE_TOPIC,
	    p)) == NULL)
		return false;
	return kp_log_high_watermark(log) >= t->state_end;
}

/*
 * Prepare* -> markers -> Complete*. Markers that cannot be written yet
 * leave t in Prepare*; the tick tries again (requests for the id get
 * CONCURRENT_TRANSACTIONS meanwhile, as in Kafka).
 */
static void
finish(struct txn *t)
{
	bool commit = t->state == KP_TXN_PREPARE_COMMIT;

	if (!state_committed(t) || !write_markers(t, commit))
		return;
	t->state = commit ? KP_TXN_COMPLETE_COMMIT : KP_TXN_COMPLETE_ABORT;
	parts_clear(t);
	t->update_ms = kb_now_wall();
	/* Not logged: a restart writes the markers again, no harm. */
	(void)persist(t, false);
	kb_debug(C->b, "transaction '%s': %s", t->id, state_name(t->state));
}

/* Ongoing -> Prepare* (logged) and on. KP_NONE or an error, t as it was. */
static int16_t
end_txn(struct txn *t, bool commit)
{
	struct txn_save s;

	save(t, &s);
	t->state = commit ? KP_TXN_PREPARE_COMMIT : KP_TXN_PREPARE_ABORT;
	t->update_ms = kb_now_wall();
	for (size_t i = 0; i < t->nparts; i++)
		t->parts[i].marked = false;
	if (persist(t, false) == -1) {
		restore(t, &s);
		return KP_COORDINATOR_NOT_AVAILABLE;
	}
	finish(t);
	return KP_NONE;
}

/*
 * Abort t's open transaction with a bumped epoch, which the markers carry
 * to its partitions: the producer that opened it is fenced there. KP_NONE
 * when it is aborted now, else an error with t as it was or
 * KP_CONCURRENT_TRANSACTIONS while markers are still to go.
 */
static int16_t
fence_abort(struct txn *t)
{
	struct txn_save s;
	int16_t rc;

	save(t, &s);
	if (t->epoch < EPOCH_MAX)
		t->epoch++;
	if ((rc = end_txn(t, false)) != KP_NONE) {
		restore(t, &s);
		return rc;
	}
	return t->state == KP_TXN_COMPLETE_ABORT ? KP_NONE :
	    KP_CONCURRENT_TRANSACTIONS;
}

static bool
ending(const struct txn *t)
{
	return t->state == KP_TXN_PREPARE_COMMIT ||
	    t->state == KP_TXN_PREPARE_ABORT ||
	    t->state == KP_TXN_PREPARE_EPOCH_FENCE;
}

/* ---- who coordinates an id ---- */

/*
 * May this broker coordinate id? Always on a single node; in a cluster
 * when it leads the id's __transaction_state partition and has loaded it.
 */
static int16_t
coord_check(struct kb_broker *b, const char *id)
{
	int32_t p, leader;

	if (C == NULL)
		return KP_COORDINATOR_NOT_AVAILABLE;
	if (!kb_cluster_mode(b))
		return KP_NONE;
	if (!kb_cluster_key_partition(b, KP_TXN_STATE_TOPIC, id, &p, &leader))
		return KP_COORDINATOR_NOT_AVAILABLE;
	if (leader != b->cfg->broker_id)
		return KP_NOT_COORDINATOR;
	if (p >= C->nloaded || C->loaded[p] < 0)
		return KP_COORDINATOR_LOAD_IN_PROGRESS;
	return KP_NONE;
}

/* ---- InitProducerId ---- */

static int16_t
init_pid(struct kb_req *req, const char *id,
    const struct kp_init_producer_id_req *rq, struct txn **out)
{
	struct kb_broker *b = req->b;
	struct txn *t = txn_find(id);
	struct txn_save s;
	int16_t rc;

	if (rq->transaction_timeout_ms <= 0 ||
	    rq->transaction_timeout_ms > C->max_timeout_ms)
		return KP_INVALID_TRANSACTION_TIMEOUT;
	if (t == NULL) {
		if ((t = txn_add(id)) == NULL)
			return KP_UNKNOWN_SERVER_ERROR;
		if ((t->pid = kb_next_producer_id(b)) < 0) {
			txn_remove(t);
			return KP_COORDINATOR_NOT_AVAILABLE;
		}
		t->epoch = 0;
		t->timeout_ms = rq->transaction_timeout_ms;
		t->state = KP_TXN_EMPTY;
		t->update_ms = kb_now_wall();
		if (persist(t, false) == -1) {
			txn_remove(t);
			return KP_COORDINATOR_NOT_AVAILABLE;
		}
		*out = t;
		return KP_NONE;
	}
	if (ending(t))
		return KP_CONCURRENT_TRANSACTIONS;
	/* KIP-360: a producer bumping its own epoch names it. */
	if (req->hdr.api_version >= 3 && rq->producer_id >= 0 &&
	    (rq->producer_id != t->pid || rq->producer_epoch != t->epoch))
		return KP_PRODUCER_FENCED;
	if (t->state == KP_TXN_ONGOING &&
	    (rc = fence_abort(t)) != KP_NONE)
		return rc;
	save(t, &s);
	if (t->epoch >= EPOCH_MAX) {
		if ((t->pid = kb_next_producer_id(b)) < 0) {
			restore(t, &s);
			return KP_COORDINATOR_NOT_AVAILABLE;
		}
		t->epoch = 0;
	} else
		t->epoch++;
	t->timeout_ms = rq->transaction_timeout_ms;
	t->state = KP_TXN_EMPTY;
	t->start_ms = -1;
	t->update_ms = kb_now_wall();
	parts_clear(t);
	if (persist(t, false) == -1) {
		restore(t, &s);
		return KP_COORDINATOR_NOT_AVAILABLE;
	}
	*out = t;
	return KP_NONE;
}

int
kb_txn_init_producer_id(struct kb_req *req,
    const struct kp_init_producer_id_req *rq,
    struct kp_init_producer_id_resp *rs)
{
	struct txn *t = NULL;
	char *id;

	rs->producer_id = -1;
	rs->producer_epoch = -1;
	if ((id = kb_arena_str(req->arena, &rq->transactional_id)) == NULL)
		return KB_CLOSE;
	if (id[0] == '\0') {
		rs->error_code = KP_INVALID_REQUEST;
		return KB_DONE;
	}
	if ((rs->error_code = coord_check(req->b, id)) != KP_NONE)
		return KB_DONE;
	coord_req(req);
	rs->error_code = fenced_for(init_pid(req, id, rq, &t),
	    req->hdr.api_version, 4);
	coord_req(NULL);
	if (rs->error_code == KP_NONE) {
		rs->producer_id = t->pid;
		rs->producer_epoch = t->epoch;
		kb_debug(req->b, "transaction '%s': producer %" PRId64
		    " epoch %d", id, t->pid, t->epoch);
	}
	return KB_DONE;
}

/*
 * The checks AddPartitionsToTxn, AddOffsetsToTxn and EndTxn share:
 * KP_NONE with *out the id's state, or the error for the request.
 */
static int16_t
check_txn(struct kb_broker *b, const char *id, int64_t pid, int16_t epoch,
    struct txn **out)
{
	struct txn *t;
	int16_t rc;

	if ((rc = coord_check(b, id)) != KP_NONE)
		return rc;
	if ((t = txn_find(id)) == NULL || t->pid != pid)
		return KP_INVALID_PRODUCER_ID_MAPPING;
	if (t->epoch != epoch)
		return KP_PRODUCER_FENCED;
	*out = t;
	return KP_NONE;
}

int16_t
kb_txn_check_producer(struct kb_broker *b, const char *id, int64_t pid,
    int16_t epoch)
{
	struct txn *t = NULL;
	int16_t rc = check_txn(b, id, pid, epoch, &t);

	if (rc != KP_NONE)
		return rc;
	if (ending(t))
		return KP_CONCURRENT_TRANSACTIONS;
	return t->state == KP_TXN_ONGOING ? KP_NONE : KP_INVALID_TXN_STATE;
}

bool
kb_txn_has_partition(struct kb_broker *b, const char *id, const char *topic,
    int32_t partition)
{
	struct txn *t;

	(void)b;
	return C != NULL && (t = txn_find(id)) != NULL &&
	    part_has(t, topic, partition);
}

/*
 * Add partitions to t's transaction (Ongoing from the first, logged).
 * KP_NONE, or an error with t as it was.
 */
static int16_t
add_parts(struct txn *t, const char *const *topics, const int32_t *parts,
    size_t n)
{
	struct txn_save s;
	bool added = false;
	int64_t now = kb_now_wall();

	if (ending(t))
		return KP_CONCURRENT_TRANSACTIONS;
	if (t->state == KP_TXN_DEAD)
		return KP_INVALID_TXN_STATE;
	save(t, &s);
	for (size_t i = 0; i < n; i++) {
		if (part_has(t, topics[i], parts[i]))
			continue;
		if (part_add(t, topics[i], parts[i]) == -1) {
			restore(t, &s);
			return KP_UNKNOWN_SERVER_ERROR;
		}
		added = true;
	}
	if (!added && t->state == KP_TXN_ONGOING)
		return KP_NONE;
	if (t->state != KP_TXN_ONGOING) {
		t->state = KP_TXN_ONGOING;
		t->start_ms = now;
	}
	t->update_ms = now;
	if (persist(t, false) == -1) {
		restore(t, &s);
		return KP_COORDINATOR_NOT_AVAILABLE;
	}
	return KP_NONE;
}

/* ---- AddPartitionsToTxn (v0-3) ---- */

static int
handle_add_partitions(struct kb_req *req)
{
	struct kp_add_partitions_to_txn_req rq;
	struct kp_add_partitions_to_txn_resp rs;
	int16_t v = req->hdr.api_version, err;
	struct txn *t = NULL;
	const char **topics;
	int32_t *parts, nt;
	size_t n = 0, total = 0;
	bool unknown = false;
	char *id;

	if (kp_add_partitions_to_txn_req_decode(req->body, req->body_len, v,
	    &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_add_partitions_to_txn_resp_init(&rs);
	rs.results_by_topic_v3_and_below = kb_resp_array(req->arena,
	    rq.n_v3_and_below_topics, &nt,
	    sizeof(*rs.results_by_topic_v3_and_below));
	if (rs.results_by_topic_v3_and_below == NULL ||
	    (id = kb_arena_str(req->arena, &rq.v3_and_below_transactional_id))
	    == NULL)
		return KB_CLOSE;
	rs.n_results_by_topic_v3_and_below = nt;
	for (int32_t i = 0; i < nt; i++)
		if (rq.v3_and_below_topics[i].n_partitions > 0)
			total += (size_t)rq.v3_and_below_topics[i].n_partitions;
	topics = kp_arena_calloc(req->arena, total + 1, sizeof(*topics));
	parts = kp_arena_calloc(req->arena, total + 1, sizeof(*parts));
	if (topics == NULL || parts == NULL)
		return KB_CLOSE;
	err = check_txn(req->b, id, rq.v3_and_below_producer_id,
	    rq.v3_and_below_producer_epoch, &t);
	/* Every partition must exist, or none is added. */
	for (int32_t i = 0; i < nt; i++) {
		struct kp_add_partitions_to_txn_req_topic *qt =
		    &rq.v3_and_below_topics[i];
		struct kp_add_partitions_to_txn_resp_topic_result *tr =
		    &rs.results_by_topic_v3_and_below[i];
		const char *tname = kb_arena_str(req->arena, &qt->name);
		int32_t np;

		tr->name = qt->name;
		tr->results_by_partition = kb_resp_array(req->arena,
		    qt->n_partitions, &np, sizeof(*tr->results_by_partition));
		if (tr->results_by_partition == NULL || tname == NULL)
			return KB_CLOSE;
		tr->n_results_by_partition = np;
		for (int32_t j = 0; j < np; j++) {
			int32_t p = qt->partitions[j];

			tr->results_by_partition[j].partition_index = p;
			topics[n] = tname;
			parts[n++] = p;
			if (!kb_part_known(req->b, &qt->name, tname, p)) {
				tr->results_by_partition[j]
				    .partition_error_code =
				    KP_UNKNOWN_TOPIC_OR_PARTITION;
				unknown = true;
			}
		}
	}
	coord_req(req);
	if (err == KP_NONE && !unknown)
		err = add_parts(t, topics, parts, n);
	coord_req(NULL);
	err = fenced_for(err, v, 2);
	for (int32_t i = 0; i < nt; i++) {
		struct kp_add_partitions_to_txn_resp_topic_result *tr =
		    &rs.results_by_topic_v3_and_below[i];

		for (int32_t j = 0; j < tr->n_results_by_partition; j++) {
			int16_t *e = &tr->results_by_partition[j]
			    .partition_error_code;

			if (err != KP_NONE)
				*e = err;
			else if (unknown && *e == KP_NONE)
				*e = KP_OPERATION_NOT_ATTEMPTED;
		}
	}
	return kp_add_partitions_to_txn_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1 ? KB_CLOSE : KB_DONE;
}

KB_API(add_partitions_to_txn, KP_API_ADD_PARTITIONS_TO_TXN, 0, 3,
    handle_add_partitions)

/* ---- AddOffsetsToTxn (v0-3) ---- */

static int
handle_add_offsets(struct kb_req *req)
{
	struct kp_add_offsets_to_txn_req rq;
	struct kp_add_offsets_to_txn_resp rs;
	int16_t v = req->hdr.api_version, err;
	struct kp_topic *ot;
	struct txn *t = NULL;
	char *id, *group;

	if (kp_add_offsets_to_txn_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_add_offsets_to_txn_resp_init(&rs);
	if ((id = kb_arena_str(req->arena, &rq.transactional_id)) == NULL ||
	    (group = kb_arena_str(req->arena, &rq.group_id)) == NULL)
		return KB_CLOSE;
	err = check_txn(req->b, id, rq.producer_id, rq.producer_epoch, &t);
	coord_req(req);
	if (err == KP_NONE && kb_cluster_mode(req->b)) {
		const char *topic = KP_OFFSETS_TOPIC;
		int32_t p, leader;

		/* the group's partition, wherever its coordinator is */
		if (!kb_cluster_key_partition(req->b, KP_OFFSETS_TOPIC, group,
		    &p, &leader)) {
			(void)kb_group_create_offsets_topic(req->b);
			err = KP_COORDINATOR_NOT_AVAILABLE;
		} else
			err = add_parts(t, &topic, &p, 1);
	} else if (err == KP_NONE) {
		const char *topic = KP_OFFSETS_TOPIC;
		int32_t p;

		if ((ot = kb_offsets_topic(req->b)) == NULL)
			err = KP_COORDINATOR_NOT_AVAILABLE;
		else {
			p = kp_offsets_partition(group, ot->partitions);
			err = add_parts(t, &topic, &p, 1);
		}
	}
	coord_req(NULL);
	rs.error_code = fenced_for(err, v, 2);
	return kp_add_offsets_to_txn_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1 ? KB_CLOSE : KB_DONE;
}

KB_API(add_offsets_to_txn, KP_API_ADD_OFFSETS_TO_TXN, 0, 3,
    handle_add_offsets)

/* ---- EndTxn (v0-3) ---- */

static int16_t
end_request(struct txn *t, bool commit)
{
	switch (t->state) {
	case KP_TXN_ONGOING:
		return end_txn(t, commit);
	case KP_TXN_COMPLETE_COMMIT:	/* a retry of what is done */
		return commit ? KP_NONE : KP_INVALID_TXN_STATE;
	case KP_TXN_COMPLETE_ABORT:
		return commit ? KP_INVALID_TXN_STATE : KP_NONE;
	case KP_TXN_PREPARE_COMMIT:
		return commit ? KP_CONCURRENT_TRANSACTIONS :
		    KP_INVALID_TXN_STATE;
	case KP_TXN_PREPARE_ABORT:
		return commit ? KP_INVALID_TXN_STATE :
		    KP_CONCURRENT_TRANSACTIONS;
	case KP_TXN_PREPARE_EPOCH_FENCE:
		return KP_CONCURRENT_TRANSACTIONS;
	default:			/* Empty, Dead */
		return KP_INVALID_TXN_STATE;
	}
}

static int
handle_end_txn(struct kb_req *req)
{
	struct kp_end_txn_req rq;
	struct kp_end_txn_resp rs;
	int16_t v = req->hdr.api_version, err;
	struct txn *t = NULL;
	char *id;

	if (kp_end_txn_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_end_txn_resp_init(&rs);
	if ((id = kb_arena_str(req->arena, &rq.transactional_id)) == NULL)
		return KB_CLOSE;
	err = check_txn(req->b, id, rq.producer_id, rq.producer_epoch, &t);
	coord_req(req);
	if (err == KP_NONE)
		err = end_request(t, rq.committed);
	coord_req(NULL);
	rs.error_code = fenced_for(err, v, 2);
	kb_debug(req->b, "transaction '%s': end (%s): %s", id,
	    rq.committed ? "commit" : "abort", kp_kerr_name(rs.error_code));
	return kp_end_txn_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1 ?
	    KB_CLOSE : KB_DONE;
}

KB_API(end_txn, KP_API_END_TXN, 0, 3, handle_end_txn)

/* ---- DescribeTransactions, ListTransactions ---- */

static int
describe_one(struct kb_req *req, const struct kp_str *sid,
    struct kp_describe_transactions_resp_transaction_state *ts)
{
	struct txn *t;
	char *id = kb_arena_str(req->arena, sid);

	if (id == NULL)
		return -1;
	kp_describe_transactions_resp_transaction_state_init(ts);
	ts->transactional_id = *sid;
	ts->transaction_state = kb_str("");
	ts->producer_id = -1;
	ts->producer_epoch = -1;
	ts->transaction_start_time_ms = -1;
	if ((ts->error_code = coord_check(req->b, id)) != KP_NONE)
		return 0;
	if ((t = txn_find(id)) == NULL) {
		ts->error_code = KP_TRANSACTIONAL_ID_NOT_FOUND;
		return 0;
	}
	ts->transaction_state = kb_str(state_name(t->state));
	ts->transaction_timeout_ms = t->timeout_ms;
	ts->transaction_start_time_ms = t->start_ms;
	ts->producer_id = t->pid;
	ts->producer_epoch = t->epoch;
	ts->topics = kp_arena_calloc(req->arena, t->nparts + 1,
	    sizeof(*ts->topics));
	if (ts->topics == NULL)
		return -1;
	for (size_t i = 0; i < t->nparts; i++) {
		struct kp_describe_transactions_resp_topic_data *td = NULL;

		for (int32_t k = 0; k < ts->n_topics && td == NULL; k++)
			if (kp_str_eq(&ts->topics[k].topic,
			    t->parts[i].topic))
				td = &ts->topics[k];
		if (td == NULL) {
			td = &ts->topics[ts->n_topics++];
			td->topic = kb_str(t->parts[i].topic);
			td->partitions = kp_arena_calloc(req->arena,
			    t->nparts, sizeof(*td->partitions));
			if (td->partitions == NULL)
				return -1;
		}
		td->partitions[td->n_partitions++] = t->parts[i].partition;
	}
	return 0;
}

static int
handle_describe_transactions(struct kb_req *req)
{
	struct kp_describe_transactions_req rq;
	struct kp_describe_transactions_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_describe_transactions_req_decode(req->body, req->body_len, v,
	    &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_describe_transactions_resp_init(&rs);
	rs.transaction_states = kb_resp_array(req->arena,
	    rq.n_transactional_ids, &n, sizeof(*rs.transaction_states));
	if (rs.transaction_states == NULL)
		return KB_CLOSE;
	rs.n_transaction_states = n;
	for (int32_t i = 0; i < n; i++)
		if (describe_one(req, &rq.transactional_ids[i],
		    &rs.transaction_states[i]) == -1)
			return KB_CLOSE;
	return kp_describe_transactions_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1 ? KB_CLOSE : KB_DONE;
}

KB_API(describe_transactions, KP_API_DESCRIBE_TRANSACTIONS, 0, 0,
    handle_describe_transactions)

static bool
list_match(const struct kp_list_transactions_req *rq, const struct txn *t)
{
	bool ok = rq->n_state_filters <= 0;

	for (int32_t i = 0; i < rq->n_state_filters && !ok; i++)
		ok = kp_str_eq(&rq->state_filters[i], state_name(t->state));
	if (!ok)
		return false;
	ok = rq->n_producer_id_filters <= 0;
	for (int32_t i = 0; i < rq->n_producer_id_filters && !ok; i++)
		ok = rq->producer_id_filters[i] == t->pid;
	return ok;
}

static int
handle_list_transactions(struct kb_req *req)
{
	struct kp_list_transactions_req rq;
	struct kp_list_transactions_resp rs;
	int16_t v = req->hdr.api_version;
	size_t n = C != NULL ? C->ntxn : 0;
	int32_t nf;

	if (kp_list_transactions_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_list_transactions_resp_init(&rs);
	nf = rq.n_state_filters < 0 ? 0 : rq.n_state_filters;
	rs.unknown_state_filters = kp_arena_calloc(req->arena, (size_t)nf + 1,
	    sizeof(*rs.unknown_state_filters));
	rs.transaction_states = kp_arena_calloc(req->arena, n + 1,
	    sizeof(*rs.transaction_states));
	if (rs.unknown_state_filters == NULL || rs.transaction_states == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < nf; i++)
		if (kp_txn_state_parse(rq.state_filters[i].ptr,
		    (size_t)rq.state_filters[i].len) == -1)
			rs.unknown_state_filters[rs.n_unknown_state_filters++] =
			    rq.state_filters[i];
	/* a cluster: the ids of the partitions loaded here */
	if (C == NULL)
		rs.error_code = KP_COORDINATOR_NOT_AVAILABLE;
	for (size_t h = 0; h < NBUCKETS && rs.error_code == KP_NONE; h++)
		for (struct txn *t = C->buckets[h]; t != NULL; t = t->next) {
			struct kp_list_transactions_resp_transaction_state *ts;

			if (!list_match(&rq, t))
				continue;
			ts = &rs.transaction_states[rs.n_transaction_states++];
			ts->transactional_id = kb_str(t->id);
			ts->producer_id = t->pid;
			ts->transaction_state = kb_str(state_name(t->state));
		}
	return kp_list_transactions_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1 ? KB_CLOSE : KB_DONE;
}

KB_API(list_transactions, KP_API_LIST_TRANSACTIONS, 0, 0,
    handle_list_transactions)

/* ---- startup: replay __transaction_state ---- */

static void
load_record(const struct kp_txnrec *r, int64_t *maxpid)
{
	struct txn *t;
	char *id = strndup(r->id.ptr, (size_t)r->id.len);

	if (id == NULL)
		return;
	t = txn_find(id);
	if (r->tombstone) {
		if (t != NULL)
			txn_remove(t);
		free(id);
		return;
	}
	if (t == NULL && (t = txn_add(id)) == NULL) {
		free(id);
		return;
	}
	free(id);
	parts_clear(t);
	t->pid = r->producer_id;
	t->epoch = r->producer_epoch;
	t->timeout_ms = r->timeout_ms;
	t->state = r->state;
	t->start_ms = r->start_ms;
	t->update_ms = r->last_update_ms;
	for (size_t i = 0; i < r->nparts; i++) {
		char *topic = strndup(r->parts[i].topic.ptr,
		    (size_t)r->parts[i].topic.len);

		if (topic != NULL)
			(void)part_add(t, topic, r->parts[i].partition);
		free(topic);
	}
	if (r->producer_id > *maxpid)
		*maxpid = r->producer_id;
}

static int
load_batch(void *maxpid_, const uint8_t *p, size_t len, size_t *used)
{
	int64_t *maxpid = maxpid_;
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record rec;
	struct kp_arena a;
	ssize_t n = kp_batch_header_decode(p, len, &h);
	int rc;

	if (n <= 0 || (size_t)n > len)
		return -1;
	*used = (size_t)n;
	if (kp_batch_iter_init(&it, p, (size_t)n, 64 << 20) != 0) {
		kp_batch_iter_release(&it);
		return -1;
	}
	kp_arena_init(&a);
	while ((rc = kp_batch_iter_next(&it, &rec)) == 1) {
		struct kp_txnrec r;

		if (kp_txnrec_parse(rec.key.ptr, rec.key.len < 0 ? 0 :
		    (size_t)rec.key.len, rec.value.ptr, rec.value.len, &r,
		    &a) == 1)
			load_record(&r, maxpid);
		kp_arena_reset(&a);
	}
	kp_arena_release(&a);
	kp_batch_iter_release(&it);
	return rc == 0 ? 0 : -1;
}

static int
load_state(struct kb_broker *b)
{
	struct kp_topic *t = kp_store_topic(b->store, KP_TXN_STATE_TOPIC);
	size_t nbatch = 0, open = 0;
	int64_t maxpid = -1;

	if (t == NULL || kb_cluster_mode(b))
		return 0;
	C->loading = true;
	for (int32_t p = 0; p < t->partitions; p++) {
		if (t->logs[p] == NULL)
			continue;
		if (kp_log_replay(t->logs[p], load_batch, &maxpid,
		    &nbatch) == -1) {
			kb_log("%s-%d: cannot read: %s", KP_TXN_STATE_TOPIC, p,
			    strerror(errno));
			C->loading = false;
			return -1;
		}
	}
	C->loading = false;
	/* Producer ids never repeat: above every one handed out here. */
	if (maxpid >= b->next_pid)
		b->next_pid = maxpid + 1;
	for (size_t h = 0; h < NBUCKETS; h++)
		for (struct txn *x = C->buckets[h]; x != NULL; x = x->next)
			if (x->state == KP_TXN_ONGOING || ending(x))
				open++;
	kb_log("%s: %zu batch(es) replayed, %zu transactional id(s), %zu "
	    "transaction(s) open or ending", KP_TXN_STATE_TOPIC, nbatch,
	    C->ntxn, open);
	return 0;
}

/* ---- hooks: config, load, timeouts ---- */

static int
conf_int(struct kb_broker *b, const char *key, const char *def, int64_t min,
    int64_t max, int64_t *out)
{
	const char *v = kb_config_get(b->cfg, key, def);
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || *out < min ||
	    *out > max) {
		kb_log("config '%s': invalid value '%s'", key, v);
		return -1;
	}
	return 0;
}

static int
coord_init(struct kb_broker *b)
{
	int64_t n;

	if ((C = calloc(1, sizeof(*C))) == NULL)
		return -1;
	C->b = b;
	if (conf_int(b, "transaction.state.log.num.partitions", "50", 1,
	    1000, &n) == -1 ||
	    conf_int(b, "transaction.max.timeout.ms", "900000", 1, INT32_MAX,
	    &C->max_timeout_ms) == -1 ||
	    conf_int(b, "transactional.id.expiration.ms", "604800000", 1,
	    INT32_MAX, &C->expire_ms) == -1 ||
	    conf_int(b,
	    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
	    "10000", 1, INT32_MAX, &C->check_ms) == -1)
		return -1;
	C->nparts = (int32_t)n;
	return load_state(b);
}

/*
 * Finish transactions whose markers are still to go (a restart in
 * Prepare*, a partition that refused, remote markers answered since).
 */
static void
finish_ending(void)
{
	for (size_t h = 0; h < NBUCKETS; h++) {
		struct txn *t, *next;

		for (t = C->buckets[h]; t != NULL; t = next) {
			next = t->next;
			if (t->state == KP_TXN_PREPARE_COMMIT ||
			    t->state == KP_TXN_PREPARE_ABORT)
				finish(t);
		}
	}
}

/*
 * Every check interval: abort transactions open past their timeout (with
 * a bumped epoch, fencing their producer, as Kafka), and forget ids idle
 * past transactional.id.expiration.ms.
 */
static void
sweep(struct kb_broker *b, int64_t now)
{
	for (size_t h = 0; h < NBUCKETS; h++) {
		struct txn *t, *next;

		for (t = C->buckets[h]; t != NULL; t = next) {
			next = t->next;
			if (t->state == KP_TXN_ONGOING && t->start_ms >= 0
			    && now - t->start_ms > t->timeout_ms) {
				kb_log("transaction '%s': open longer than %d "
				    "ms, aborting it", t->id, t->timeout_ms);
				(void)fence_abort(t);
			} else if ((t->state == KP_TXN_EMPTY ||
			    t->state == KP_TXN_COMPLETE_COMMIT ||
			    t->state == KP_TXN_COMPLETE_ABORT) &&
			    now - t->update_ms > C->expire_ms &&
			    persist(t, true) == 0) {
				kb_debug(b, "transaction '%s': expired", t->id);
				txn_remove(t);
			}
		}
	}
}

static void
coord_tick(struct kb_broker *b, int64_t now)
{
	/* a cluster sweeps from kb_txn_coord_poll */
	if (C == NULL || kb_cluster_mode(b) || now < C->next_check)
		return;
	C->next_check = now + C->check_ms;
	finish_ending();
	sweep(b, now);
}

/* ---- cluster mode: leading __transaction_state partitions ---- */

int
kb_txn_create_state_topic(struct kb_broker *b)
{
	if (C == NULL)
		return KP_COORDINATOR_NOT_AVAILABLE;
	return kb_cluster_create_internal(b, KP_TXN_STATE_TOPIC, C->nparts,
	    "transaction.state.log.replication.factor");
}

/* Forget the ids of state partition p (of n): another broker has them. */
static void
forget_partition(int32_t p, int32_t n)
{
	size_t nt = 0;

	for (size_t h = 0; h < NBUCKETS; h++) {
		struct txn *t, *next;

		for (t = C->buckets[h]; t != NULL; t = next) {
			next = t->next;
			if (kp_txn_partition(t->id, n) == p) {
				txn_remove(t);
				nt++;
			}
		}
	}
	if (nt > 0)
		kb_log("%s-%d: not leader, %zu transactional id(s) forgotten",
		    KP_TXN_STATE_TOPIC, p, nt);
}

/*
 * Led here now: replay the partition; transactions found ending are
 * finished by the sweep (their markers sent again), open ones time out
 * there as they would have on the old coordinator.
 */
static void
load_partition(int32_t p, int32_t n, struct kp_log *log)
{
	size_t nbatch = 0;
	int64_t maxpid = -1;

	forget_partition(p, n);
	C->loading = true;
	if (kp_log_replay(log, load_batch, &maxpid, &nbatch) == -1)
		kb_log("%s-%d: cannot read: %s", KP_TXN_STATE_TOPIC, p,
		    strerror(errno));
	C->loading = false;
	kb_log("%s-%d: leader, %zu batch(es) replayed", KP_TXN_STATE_TOPIC, p,
	    nbatch);
}

static void
follow_leadership(struct kb_broker *b)
{
	const struct kb_cl_view *v = kb_cluster_view(b);
	const struct kb_cl_topic *vt = v ? kb_cl_topic(v, KP_TXN_STATE_TOPIC)
	    : NULL;
	int32_t n = vt != NULL && !vt->deleting ? vt->nparts : 0;

	if (n > C->nloaded) {
		int32_t *nl = reallocarray(C->loaded, (size_t)n, sizeof(*nl));

		if (nl == NULL)
			return;
		for (int32_t p = C->nloaded; p < n; p++)
			nl[p] = -1;
		C->loaded = nl;
		C->nloaded = n;
	}
	for (int32_t p = 0; p < C->nloaded; p++) {
		const struct kb_cl_part *pt = p < n ? &vt->parts[p] : NULL;
		struct kp_log *log = kp_store_log(b->store, KP_TXN_STATE_TOPIC,
		    p);
		bool lead = pt != NULL && pt->version >= 0 &&
		    pt->leader == b->cfg->broker_id && log != NULL &&
		    kb_cluster_check_leader(b, KP_TXN_STATE_TOPIC, p) ==
		    KP_NONE;

		if (lead && C->loaded[p] != pt->leader_epoch) {
			load_partition(p, n, log);
			C->loaded[p] = pt->leader_epoch;
		} else if (!lead && C->loaded[p] >= 0) {
			forget_partition(p, n > 0 ? n : C->nloaded);
			C->loaded[p] = -1;
		}
	}
}

/*
 * What an ending transaction waits for came: the ISR took a state write,
 * or a leader answered markers. Waiting for the next replication tick
 * instead (100 ms, and a transaction waits for two: its state, then its
 * markers) made every transaction of a cluster take ~200 ms.
 */
void
kb_txn_coord_nudge(void)
{
	if (C != NULL)
		C->nudged = true;
}

void
kb_txn_coord_round(void)
{
	if (C == NULL || !C->nudged)
		return;
	C->nudged = false;
	finish_ending();
}

void
kb_txn_coord_poll(struct kb_broker *b)
{
	int64_t now = kb_now_wall();

	if (C == NULL || !kb_cluster_mode(b))
		return;
	follow_leadership(b);
	/* markers answered: move ending transactions on at once */
	finish_ending();
	if (now < C->next_check)
		return;
	C->next_check = now + C->check_ms;
	sweep(b, now);
}

static void
coord_fini(struct kb_broker *b)
{
	(void)b;
	if (C == NULL)
		return;
	for (size_t h = 0; h < NBUCKETS; h++) {
		struct txn *t, *next;

		for (t = C->buckets[h]; t != NULL; t = next) {
			next = t->next;
			txn_free(t);
		}
	}
	free(C->loaded);
	free(C);
	C = NULL;
}

KB_HOOK(txn_coord, coord_init, coord_tick, coord_fini)
