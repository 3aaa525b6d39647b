/* producer_state.c -- idempotent producers: InitProducerId and per-partition sequence checks */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_admin.h"
#include "kp_store.h"
#include "kbroker.h"

/* Kafka keeps the last 5 batches per producer (max.in.flight is 5). */
#define KEEP_BATCHES	5
#define NBUCKETS	4096

struct batch_meta {
	int32_t		first_seq;
	int32_t		last_seq;
	int64_t		base_offset;
};

struct entry {
	struct entry	*next;
	int64_t		 pid;
	const struct kp_log *log;
	int16_t		 epoch;
	int64_t		 last_ms;	/* wall clock of the last append */
	int		 n;		/* batches kept, newest at [n-1] */
	struct batch_meta batches[KEEP_BATCHES];
};

struct kb_pstate {
	struct entry	*buckets[NBUCKETS];
	int64_t		 expire_ms;	/* producer.id.expiration.ms */
};

struct kb_pstate *
kb_pstate_new(void)
{
	return calloc(1, sizeof(struct kb_pstate));
}

void
kb_pstate_free(struct kb_pstate *ps)
{
	struct entry *e, *n;

	if (ps == NULL)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		for (e = ps->buckets[i]; e != NULL; e = n) {
			n = e->next;
			free(e);
		}
	free(ps);
}

static size_t
bucket(int64_t pid, const struct kp_log *log)
{
	uint64_t h = (uint64_t)pid * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)(uintptr_t)log;

	return (size_t)((h ^ (h >> 29)) % NBUCKETS);
}

static struct entry *
find(struct kb_pstate *ps, int64_t pid, const struct kp_log *log)
{
	struct entry *e;

	for (e = ps->buckets[bucket(pid, log)]; e != NULL; e = e->next)
		if (e->pid == pid && e->log == log)
			return e;
	return NULL;
}

/* Sequences wrap from INT32_MAX to 0 (Kafka's DefaultRecordBatch). */
static int32_t
seq_add(int32_t seq, int32_t n)
{
	int64_t v = (int64_t)seq + n;

	return (int32_t)(v > INT32_MAX ? v - INT32_MAX - 1 : v);
}

int
kb_pstate_check(struct kb_broker *b, struct kp_log *log, int64_t pid,
    int16_t epoch, int32_t seq, int32_t count, int64_t *dup_offset)
{
	struct entry *e = find(b->pstate, pid, log);
	int32_t last_seq = seq_add(seq, count - 1);

	/*
	 * A producer we know nothing of here (new to this partition, or its
	 * state expired) starts wherever it is, as Kafka does since KIP-360.
	 */
	if (e == NULL || e->n == 0)
		return KP_NONE;
	if (epoch < e->epoch)
		return KP_INVALID_PRODUCER_EPOCH;
	if (epoch > e->epoch)
		return seq == 0 ? KP_NONE : KP_OUT_OF_ORDER_SEQUENCE_NUMBER;
	for (int i = 0; i < e->n; i++) {
		if (e->batches[i].first_seq == seq &&
		    e->batches[i].last_seq == last_seq) {
			*dup_offset = e->batches[i].base_offset;
			return KP_DUPLICATE_SEQUENCE_NUMBER;
		}
	}
	if (seq != seq_add(e->batches[e->n - 1].last_seq, 1))
		return KP_OUT_OF_ORDER_SEQUENCE_NUMBER;
	return KP_NONE;
}

void
kb_pstate_update(struct kb_broker *b, struct kp_log *log, int64_t pid,
    int16_t epoch, int32_t seq, int32_t count, int64_t base_offset)
{
	struct entry *e = find(b->pstate, pid, log);
	size_t h;

	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return;	/* the next batch will look out of order */
		e->pid = pid;
		e->log = log;
		h = bucket(pid, log);
		e->next = b->pstate->buckets[h];
		b->pstate->buckets[h] = e;
	}
	if (epoch != e->epoch)
		e->n = 0;
	e->epoch = epoch;
	e->last_ms = kb_now_wall();
	if (e->n == KEEP_BATCHES) {
		memmove(&e->batches[0], &e->batches[1],
		    sizeof(e->batches[0]) * (KEEP_BATCHES - 1));
		e->n--;
	}
	e->batches[e->n].first_seq = seq;
	e->batches[e->n].last_seq = seq_add(seq, count - 1);
	e->batches[e->n].base_offset = base_offset;
	e->n++;
	if (pid >= b->next_pid)
		b->next_pid = pid + 1;
}

void
kb_pstate_drop_log(struct kb_broker *b, struct kp_log *log)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry **pp = &b->pstate->buckets[i], *e;

		while ((e = *pp) != NULL) {
			if (e->log == log) {
				*pp = e->next;
				free(e);
			} else
				pp = &e->next;
		}
	}
}

/*
 * Rebuild from the log: walk every batch header (61 bytes with pread, not
 * the records) and replay the idempotent ones, so a producer retrying
 * across a broker restart is still deduplicated.
 */
static int
rebuild_log(struct kb_broker *b, struct kp_log *log)
{
	int64_t off = kp_log_start_offset(log), end = kp_log_end_offset(log);
	struct kp_log_slice s;
	uint8_t hb[KP_BATCH_HEADER_SIZE];
	struct kp_batch_header h;

	while (off < end) {
		if (kp_log_read(log, off, 1 << 30, end, &s) != KP_NONE ||
		    s.len == 0)
			break;
		for (size_t pos = 0; pos + KP_BATCH_HEADER_SIZE <= s.len;) {
			ssize_t n = pread(s.fd, hb, sizeof(hb),
			    s.pos + (off_t)pos);

			if (n != (ssize_t)sizeof(hb) ||
			    kp_batch_header_decode(hb, sizeof(hb), &h) <= 0)
				return -1;
			if (h.producer_id >= 0 && h.base_sequence >= 0 &&
			    !(h.attributes & KP_BATCH_ATTR_CONTROL))
				kb_pstate_update(b, log, h.producer_id,
				    h.producer_epoch, h.base_sequence,
				    h.last_offset_delta + 1, h.base_offset);
			pos += (size_t)h.batch_length + KP_BATCH_LOG_OVERHEAD;
		}
		if (s.next_offset <= off)
			break;
		off = s.next_offset;
	}
	return 0;
}

/* Forget producers idle longer than producer.id.expiration.ms. */
static void
pstate_tick(struct kb_broker *b, int64_t now)
{
	int64_t limit = b->pstate->expire_ms;

	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry **pp = &b->pstate->buckets[i], *e;

		while ((e = *pp) != NULL) {
			if (now - e->last_ms > limit) {
				*pp = e->next;
				free(e);
			} else
				pp = &e->next;
		}
	}
}

static int
pstate_init(struct kb_broker *b)
{
	const char *v = kb_config_get(b->cfg, "producer.id.expiration.ms",
	    "86400000");
	char *end;

	b->pstate->expire_ms = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || b->pstate->expire_ms < 1) {
		kb_log("config 'producer.id.expiration.ms': invalid value '%s'",
		    v);
		return -1;
	}
	struct kp_topic *t = NULL;
	int64_t floor = kb_now_wall() * 1000;

	/*
	 * Producer ids never repeat across restarts: above every id in the
	 * logs, and above a clock-based floor for ids handed out but never
	 * written.
	 */
	b->next_pid = 0;
	while ((t = kp_store_topic_next(b->store, t)) != NULL)
		for (int32_t p = 0; p < t->partitions; p++)
			if (t->logs[p] != NULL &&
			    rebuild_log(b, t->logs[p]) == -1)
				kb_log("%s-%d: producer state: unreadable "
				    "batch header, rebuilt in part", t->name,
				    p);
	if (b->next_pid < floor)
		b->next_pid = floor;
	return 0;
}

KB_HOOK(producer_state, pstate_init, pstate_tick, NULL)

static int
handle_init_producer_id(struct kb_req *req)
{
	struct kp_init_producer_id_req rq;
	struct kp_init_producer_id_resp rs;
	int16_t v = req->hdr.api_version;

	if (kp_init_producer_id_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_init_producer_id_resp_init(&rs);
	if (rq.transactional_id.len >= 0) {
		/* No transaction coordinator in kbroker. */
		rs.error_code = KP_COORDINATOR_NOT_AVAILABLE;
		rs.producer_id = -1;
		rs.producer_epoch = -1;
	} else if (rq.producer_id >= 0 && v >= 3) {
		/* KIP-360 epoch bump of a known producer. */
		rs.producer_id = rq.producer_id;
		rs.producer_epoch = (int16_t)(rq.producer_epoch + 1);
	} else {
		rs.producer_id = req->b->next_pid++;
		rs.producer_epoch = 0;
	}
	if (kp_init_producer_id_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(init_producer_id, KP_API_INIT_PRODUCER_ID, 0, 4,
    handle_init_producer_id)
