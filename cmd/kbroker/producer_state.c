/* producer_state.c -- idempotent producers: InitProducerId and per-partition sequence checks */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kp_batch.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_admin.h"
#include "kp_pstate_snap.h"
#include "kp_store.h"
#include "kbroker.h"
#include "txn_coord.h"
#include "txn_log.h"

/* Kafka keeps the last 5 batches per producer (max.in.flight is 5). */
#define KEEP_BATCHES	KP_PSTATE_SNAP_KEEP
#define NBUCKETS	4096
#define LOG_BUCKETS	256
/* A snapshot larger than this is not one we wrote (5 M producers). */
#define SNAP_MAX	(512 << 20)

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
	int64_t		 txn_first;	/* open transaction's first offset,
					   -1 none */
	int32_t		 coord_epoch;	/* last marker's coordinator epoch,
					   -1 none */
	struct entry	*txn_next;	/* in its plog's open list */
	int		 n;		/* batches kept, newest at [n-1] */
	struct batch_meta batches[KEEP_BATCHES];
};

/* Per partition: which snapshot its folder holds. */
struct plog {
	struct plog	*next;
	const struct kp_log *log;
	int64_t		 snap_offset;	/* end offset it covers, -1 none */
	struct entry	*open;		/* producers with a transaction open */
};

struct kb_pstate {
	struct entry	*buckets[NBUCKETS];
	struct plog	*logs[LOG_BUCKETS];
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
	for (size_t i = 0; i < LOG_BUCKETS; i++) {
		struct plog *l, *ln;

		for (l = ps->logs[i]; l != NULL; l = ln) {
			ln = l->next;
			free(l);
		}
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
	if (e != NULL && epoch < e->epoch)
		return KP_INVALID_PRODUCER_EPOCH;	/* fenced by a marker too */
	if (e == NULL || e->n == 0)
		return KP_NONE;
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

static struct entry *
find_or_add(struct kb_broker *b, int64_t pid, const struct kp_log *log)
{
	struct entry *e = find(b->pstate, pid, log);
	size_t h;

	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return NULL;
		e->pid = pid;
		e->log = log;
		e->txn_first = -1;
		e->coord_epoch = -1;
		h = bucket(pid, log);
		e->next = b->pstate->buckets[h];
		b->pstate->buckets[h] = e;
	}
	if (pid >= b->next_pid)
		b->next_pid = pid + 1;
	return e;
}

void
kb_pstate_update(struct kb_broker *b, struct kp_log *log, int64_t pid,
    int16_t epoch, int32_t seq, int32_t count, int64_t base_offset)
{
	struct entry *e = find_or_add(b, pid, log);

	if (e == NULL)
		return;	/* the next batch will look out of order */
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
}

/* --- snapshots --- */

static size_t
log_bucket(const struct kp_log *log)
{
	uint64_t h = (uint64_t)(uintptr_t)log * 0x9e3779b97f4a7c15ULL;

	return (size_t)((h >> 40) % LOG_BUCKETS);
}

static struct plog *
plog_get(struct kb_broker *b, const struct kp_log *log, bool create)
{
	struct plog *l;
	size_t h = log_bucket(log);

	for (l = b->pstate->logs[h]; l != NULL; l = l->next)
		if (l->log == log)
			return l;
	if (!create || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->log = log;
	l->snap_offset = -1;
	l->next = b->pstate->logs[h];
	b->pstate->logs[h] = l;
	return l;
}

/* --- transactions (KIP-98), the partition side --- */

/* The log's cleaner stops at the LSO (kp_log_set_stable_offset). */
static void
stable_update(struct kb_broker *b, struct kp_log *log)
{
	int64_t first = kb_pstate_txn_first(b, log);

	kp_log_set_stable_offset(log, first >= 0 ? first : INT64_MAX);
}

static void
txn_open(struct kb_broker *b, struct kp_log *log, struct entry *e,
    int64_t first)
{
	struct plog *pl = plog_get(b, log, true);

	if (pl == NULL)
		return;	/* ENOMEM: the LSO will not wait for it */
	e->txn_first = first;
	e->txn_next = pl->open;
	pl->open = e;
	stable_update(b, log);
}

static void
txn_close(struct kb_broker *b, struct kp_log *log, struct entry *e)
{
	struct plog *pl = plog_get(b, log, false);
	struct entry **pp;

	e->txn_first = -1;
	if (pl == NULL)
		return;
	for (pp = &pl->open; *pp != NULL; pp = &(*pp)->txn_next)
		if (*pp == e) {
			*pp = e->txn_next;
			break;
		}
	e->txn_next = NULL;
	stable_update(b, log);
}

int16_t
kb_pstate_epoch(struct kb_broker *b, struct kp_log *log, int64_t pid)
{
	struct entry *e = find(b->pstate, pid, log);

	return e != NULL ? e->epoch : -1;
}

void
kb_pstate_txn_begin(struct kb_broker *b, struct kp_log *log, int64_t pid,
    int64_t first)
{
	struct entry *e = find_or_add(b, pid, log);

	if (e != NULL && e->txn_first < 0)
		txn_open(b, log, e, first);
}

int32_t
kb_pstate_coord_epoch(struct kb_broker *b, struct kp_log *log, int64_t pid)
{
	struct entry *e = find(b->pstate, pid, log);

	return e != NULL ? e->coord_epoch : -1;
}

int64_t
kb_pstate_txn_end(struct kb_broker *b, struct kp_log *log, int64_t pid,
    int16_t epoch, int32_t coord_epoch)
{
	struct entry *e = find_or_add(b, pid, log);
	int64_t first;

	if (e == NULL)
		return -1;
	/*
	 * A newer epoch (the coordinator fencing a producer) starts the
	 * producer's sequences over, as a first batch at that epoch would.
	 */
	if (epoch > e->epoch) {
		e->epoch = epoch;
		e->n = 0;
	}
	/* never lowered: a replayed log holds only accepted markers */
	if (coord_epoch > e->coord_epoch)
		e->coord_epoch = coord_epoch;
	e->last_ms = kb_now_wall();
	first = e->txn_first;
	if (first >= 0)
		txn_close(b, log, e);
	return first;
}

int64_t
kb_pstate_txn_first(struct kb_broker *b, struct kp_log *log)
{
	struct plog *pl = plog_get(b, log, false);
	int64_t first = -1;

	if (pl == NULL)
		return -1;
	for (struct entry *e = pl->open; e != NULL; e = e->txn_next)
		if (first < 0 || e->txn_first < first)
			first = e->txn_first;
	return first;
}

static void
snap_path(const struct kp_log *log, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", kp_log_dir(log), KP_PSTATE_SNAP_FILE);
}

/*
 * Every producer of the log, at its log end: batches below the end are
 * all in the state (the callers run after kb_pstate_update).
 */
static int
snap_write(struct kb_broker *b, struct kp_log *log)
{
	struct kp_pstate_snap_entry se;
	struct plog *pl = plog_get(b, log, true);
	int64_t end = kp_log_end_offset(log);
	char path[PATH_MAX];
	struct kp_buf buf;
	int rc = -1;

	if (pl == NULL)
		return -1;
	kp_buf_init(&buf);
	kp_pstate_snap_begin(&buf, end);
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct entry *e = b->pstate->buckets[i]; e != NULL;
		    e = e->next) {
			if (e->log != log)
				continue;
			se.pid = e->pid;
			se.epoch = e->epoch;
			se.last_ms = e->last_ms;
			se.txn_first = e->txn_first;
			se.coord_epoch = e->coord_epoch;
			se.n = e->n;
			memcpy(se.batches, e->batches, sizeof(se.batches));
			kp_pstate_snap_add(&buf, &se);
		}
	snap_path(log, path, sizeof(path));
	if (kp_pstate_snap_finish(&buf) == -1)
		errno = buf.err;
	else if (kp_write_file_atomic(path, buf.data, buf.len) == 0) {
		pl->snap_offset = end;
		kp_log_set_marker_horizon(log, end);
		rc = 0;
	}
	if (rc == -1)
		kb_log("%s: producer state snapshot: %s", path,
		    strerror(errno));
	kp_buf_release(&buf);
	return rc;
}

/*
 * After an append: a new segment starting at or after the log end before
 * the append means the log rolled (in this append, or on a segment.ms
 * tick since the last), so snapshot here, as Kafka does at each roll.
 * The first segment of a log is no roll.
 */
void
kb_pstate_appended(struct kb_broker *b, struct kp_log *log, int64_t prev_end)
{
	int64_t base = kp_log_active_base(log);

	if (base >= prev_end && base > kp_log_start_offset(log))
		(void)snap_write(b, log);
}

void
kb_pstate_drop_log(struct kb_broker *b, struct kp_log *log)
{
	struct plog **lp = &b->pstate->logs[log_bucket(log)], *l;
	char path[PATH_MAX];

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
	while ((l = *lp) != NULL) {
		if (l->log == log) {
			*lp = l->next;
			free(l);
		} else
			lp = &l->next;
	}
	kp_log_set_stable_offset(log, INT64_MAX);	/* none open now */
	kp_log_set_marker_horizon(log, 0);
	/*
	 * The log was cut or is going away: its snapshot describes batches
	 * that are gone and must never be loaded over a regrown log.
	 */
	snap_path(log, path, sizeof(path));
	if (unlink(path) == 0)
		(void)kp_fsync_dir(kp_log_dir(log));
	else if (errno != ENOENT)
		kb_log("%s: %s", path, strerror(errno));
}

/* Clean shutdown: snapshot every partition whose snapshot is behind. */
static void
pstate_fini(struct kb_broker *b)
{
	struct kp_topic *t = NULL;

	while ((t = kp_store_topic_next(b->store, t)) != NULL)
		for (int32_t p = 0; p < t->partitions; p++) {
			struct kp_log *log = t->logs[p];
			struct plog *pl;

			if (log == NULL)
				continue;
			pl = plog_get(b, log, false);
			if (kp_log_end_offset(log) ==
			    (pl != NULL ? pl->snap_offset : 0))
				continue;
			/* never a snapshot beyond what a crash keeps */
			if (kp_log_flush(log) == -1)
				continue;	/* the flush after says why */
			(void)snap_write(b, log);
		}
}

static uint8_t *
read_all(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (st.st_size > SNAP_MAX) {
		errno = EFBIG;
		goto fail;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, p + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* shrank under us: the CRC says so */
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return p;
fail:
	free(p);
	close(fd);
	return NULL;
}

/*
 * Load the partition's snapshot when it is valid and covers an offset
 * within the recovered log. Returns the offset to replay from: the
 * snapshot's, or the log start (with a line saying why) when there is
 * none to use. *loaded says which.
 */
static int64_t
snap_load(struct kb_broker *b, struct kp_log *log, const char *topic,
    int32_t part, bool *loaded)
{
	int64_t start = kp_log_start_offset(log), end = kp_log_end_offset(log);
	struct kp_pstate_snap_reader sr;
	struct kp_pstate_snap_entry se;
	struct plog *pl;
	char path[PATH_MAX];
	const char *why;
	uint8_t *p;
	size_t len = 0;

	*loaded = false;
	snap_path(log, path, sizeof(path));
	if ((p = read_all(path, &len)) == NULL) {
		if (errno != ENOENT)
			kb_log("%s-%d: producer state snapshot: %s; reading "
			    "the whole log", topic, part, strerror(errno));
		return start;
	}
	if (kp_pstate_snap_open(&sr, p, len) == -1)
		why = sr.why;
	else if (sr.end_offset > end)
		why = "past the log end (the log was cut)";
	else if (sr.end_offset < start)
		why = "before the log start";
	else
		why = NULL;
	if (why != NULL) {
		kb_log("%s-%d: producer state snapshot at %s ignored: %s; "
		    "reading the whole log", topic, part, path, why);
		free(p);
		/*
		 * Gone, so that a log regrowing past a cut never makes it
		 * look valid again before the next roll replaces it.
		 */
		if (unlink(path) < 0)
			kb_log("%s: %s", path, strerror(errno));
		return start;
	}
	while (kp_pstate_snap_next(&sr, &se) == 1) {
		struct entry *e = find_or_add(b, se.pid, log);

		if (e == NULL)
			continue;	/* next batch: out of order */
		e->epoch = se.epoch;
		e->last_ms = se.last_ms;
		e->coord_epoch = se.coord_epoch;
		e->n = se.n;
		memcpy(e->batches, se.batches, sizeof(e->batches));
		if (se.txn_first >= 0 && e->txn_first < 0)
			txn_open(b, log, e, se.txn_first);
	}
	free(p);
	if ((pl = plog_get(b, log, true)) != NULL)
		pl->snap_offset = sr.end_offset;
	kp_log_set_marker_horizon(log, sr.end_offset);
	*loaded = true;
	return sr.end_offset;
}

/*
 * A transactional batch read back: data opens its producer's
 * transaction, a marker (its type is in its first record, so a little
 * more than the header is read) closes it.
 */
static void
replay_txn(struct kb_broker *b, struct kp_log *log,
    const struct kp_batch_header *h, int fd, off_t at)
{
	uint8_t cb[KP_BATCH_HEADER_SIZE + 64];
	size_t want = (size_t)h->batch_length + KP_BATCH_LOG_OVERHEAD;
	int32_t cepoch = -1;
	int type = -1;
	ssize_t n;

	if (!(h->attributes & KP_BATCH_ATTR_CONTROL)) {
		kb_pstate_txn_begin(b, log, h->producer_id, h->base_offset);
		return;
	}
	if (want > sizeof(cb))
		want = sizeof(cb);
	n = pread(fd, cb, want, at);
	if (n > 0)
		type = kp_batch_control_read(cb, (size_t)n, &cepoch);
	kb_txn_replay_marker(b, log, h, type, cepoch);
}

/*
 * Replay from off to the log end: walk the batch headers (61 bytes with
 * pread, not the records) and replay the idempotent ones, so a producer
 * retrying across a broker restart is still deduplicated. *nread counts
 * the headers read.
 */
static int
rebuild_log(struct kb_broker *b, struct kp_log *log, int64_t off,
    int64_t *nread)
{
	int64_t end = kp_log_end_offset(log);
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
			(*nread)++;
			if (h.producer_id >= 0 && h.base_sequence >= 0 &&
			    !(h.attributes & KP_BATCH_ATTR_CONTROL))
				kb_pstate_update(b, log, h.producer_id,
				    h.producer_epoch, h.base_sequence,
				    h.last_offset_delta + 1, h.base_offset);
			if (h.attributes & KP_BATCH_ATTR_TRANSACTIONAL)
				replay_txn(b, log, &h, s.fd,
				    s.pos + (off_t)pos);
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
			/* an open transaction holds the LSO: it stays */
			if (now - e->last_ms > limit && e->txn_first < 0) {
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
	int64_t floor = kb_now_wall() * 1000, headers = 0;
	int from_snap = 0, whole = 0;

	/*
	 * Producer ids never repeat across restarts: above every id in the
	 * snapshots and logs, and above a clock-based floor for ids handed
	 * out but never written.
	 */
	b->next_pid = 0;
	while ((t = kp_store_topic_next(b->store, t)) != NULL)
		for (int32_t p = 0; p < t->partitions; p++) {
			struct kp_log *log = t->logs[p];
			bool loaded;
			int64_t from;

			if (log == NULL)
				continue;
			from = snap_load(b, log, t->name, p, &loaded);
			if (loaded)
				from_snap++;
			else if (kp_log_end_offset(log) >
			    kp_log_start_offset(log))
				whole++;
			if (rebuild_log(b, log, from, &headers) == -1)
				kb_log("%s-%d: producer state: unreadable "
				    "batch header, rebuilt in part", t->name,
				    p);
		}
	if (b->next_pid < floor)
		b->next_pid = floor;
	kb_log("producer state: %d partition(s) from snapshots, %d read "
	    "whole, %" PRId64 " batch header(s) replayed", from_snap, whole,
	    headers);
	return 0;
}

KB_HOOK(producer_state, pstate_init, pstate_tick, pstate_fini)

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
		if (kb_txn_init_producer_id(req, &rq, &rs) == KB_CLOSE)
			return KB_CLOSE;
	} else if (rq.producer_id >= 0 && v >= 3) {
		/* KIP-360 epoch bump of a known producer. */
		rs.producer_id = rq.producer_id;
		rs.producer_epoch = (int16_t)(rq.producer_epoch + 1);
	} else {
		/* a cluster's ids come from ZooKeeper blocks: unique */
		rs.producer_id = kb_next_producer_id(req->b);
		rs.producer_epoch = 0;
		if (rs.producer_id < 0) {
			rs.producer_epoch = -1;
			rs.error_code = KP_COORDINATOR_NOT_AVAILABLE;
		}
	}
	if (kp_init_producer_id_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(init_producer_id, KP_API_INIT_PRODUCER_ID, 0, 4,
    handle_init_producer_id)
