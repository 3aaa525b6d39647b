/* offsets.c -- OffsetCommit, OffsetFetch, OffsetDelete and their log in __consumer_offsets */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_err.h"
#include "kp_grouprec.h"
#include "kp_log.h"
#include "kp_offrec.h"
#include "kp_proto_consumer.h"
#include "kp_proto_group.h"
#include "kp_store.h"
#include "kbroker.h"
#include "resp_array.h"
#include "group.h"
#include "cluster.h"
#include "txn.h"
#include "txn_coord.h"

#define METADATA_MAX	4096	/* offset.metadata.max.bytes */

static char *
cstr(struct kb_req *req, const struct kp_str *s)
{
	return s->len < 0 ? NULL : kb_arena_str(req->arena, s);
}

static char *
cstr0(struct kb_req *req, const struct kp_str *s)
{
	char *p = cstr(req, s);

	return p != NULL ? p : (char *)"";
}

/* ---- the __consumer_offsets topic ---- */

/* The topic, created compacted on first use. NULL when it cannot be. */
struct kp_topic *
kb_offsets_topic(struct kb_broker *b)
{
	struct kb_group *G = kb_group_of(b);
	struct kp_topic *t = kp_store_topic(b->store, KP_OFFSETS_TOPIC);
	static const char *const names[] = { "cleanup.policy" };
	static const char *const values[] = { "compact" };
	int rc;

	/* a cluster makes it through ZooKeeper (FindCoordinator) */
	if (t != NULL || kb_cluster_mode(b) || G == NULL)
		return t;
	rc = kp_store_create_topic(b->store, KP_OFFSETS_TOPIC,
	    G->offsets_parts, names, values, 1, NULL, false, &t);
	if (rc != KP_NONE) {
		kb_log("topic '%s': create: %s", KP_OFFSETS_TOPIC,
		    kp_kerr_name((int16_t)rc));
		return NULL;
	}
	kb_log("topic '%s': created with %d partition(s)", KP_OFFSETS_TOPIC,
	    G->offsets_parts);
	return t;
}

/*
 * Append one record (v NULL: a tombstone) to the group's partition of
 * __consumer_offsets: KP_NONE, or why not; -1 when the topic cannot be
 * made. In a cluster only the partition's leader writes it (a group left
 * over from before a leadership move is not ours to log); *log_out gets
 * the log appended to.
 */
static int
append_rec(struct kb_group *G, const char *group, const struct kp_buf *k,
    const struct kp_buf *v, int32_t *op_out, struct kp_log **log_out)
{
	struct kp_batch_builder bb;
	struct kp_buf batch;
	struct kp_topic *t;
	struct kp_log *log;
	int64_t now = kb_now_wall();
	int rc = KP_NONE;
	int32_t op;

	if ((t = kb_offsets_topic(G->b)) == NULL)
		return -1;
	op = kp_offsets_partition(group, t->partitions);
	if ((log = t->logs[op]) == NULL ||
	    kb_cluster_check_leader(G->b, KP_OFFSETS_TOPIC, op) != KP_NONE) {
		kb_debug(G->b, "group '%s': %s-%d not led here, change not "
		    "logged", group, KP_OFFSETS_TOPIC, op);
		return KP_NOT_LEADER_OR_FOLLOWER;
	}
	kp_buf_init(&batch);
	kp_batch_builder_init(&bb, KP_CODEC_NONE, -1, -1, -1);
	if (k->err || (v != NULL && v->err) || kp_batch_builder_add(&bb, now,
	    k->data, (ssize_t)k->len, v ? v->data : NULL,
	    v ? (ssize_t)v->len : -1, NULL, 0) == -1 ||
	    kp_batch_builder_finish(&bb, &batch) == -1)
		rc = KP_UNKNOWN_SERVER_ERROR;
	/*
	 * Stamped with the leader epoch like any batch (followers
	 * cut divergent tails by it); in a cluster the ISR moves the HW.
	 */
	if (rc == KP_NONE)
		rc = kp_log_append(log, batch.data, batch.len,
		    kb_cluster_leader_epoch(G->b, KP_OFFSETS_TOPIC, op), now,
		    NULL);
	if (rc == KP_NONE && kb_cluster_mode(G->b))
		kb_repl_appended(G->b, KP_OFFSETS_TOPIC, op);
	else if (rc == KP_NONE)
		kp_log_set_high_watermark(log, kp_log_end_offset(log));
	kp_batch_builder_release(&bb);
	kp_buf_release(&batch);
	*op_out = op;
	*log_out = log;
	return rc;
}

/*
 * kp_coord's offset_changed: one record per change, appended to the
 * group's partition, so a restart replays to the same state. A commit
 * that cannot be written is logged; it stays in memory.
 */
void
kb_offsets_persist(void *arg, const char *group, const char *topic,
    int32_t part, const struct kp_coord_offset *o)
{
	struct kb_group *G = arg;
	struct kp_buf k, v;
	struct kp_log *log;
	int32_t op;
	int rc;

	if (G->loading)
		return;
	kp_buf_init(&k);
	kp_buf_init(&v);
	kp_offrec_key(&k, group, topic, part);
	if (o != NULL)
		kp_offrec_value(&v, o->offset, o->leader_epoch, o->metadata,
		    o->commit_ts, o->expire_ts);
	rc = append_rec(G, group, &k, o != NULL ? &v : NULL, &op, &log);
	if (rc == -1)
		;	/* kb_offsets_topic said why */
	else if (rc == KP_NONE && kb_cluster_mode(G->b)) {
		/* an OffsetCommit answers once the ISR has it */
		G->commit_part = op;
		G->commit_end = kp_log_end_offset(log);
	} else if (rc != KP_NONE) {
		if (rc != KP_NOT_LEADER_OR_FOLLOWER)
			kb_log("group '%s': %s-%d: cannot log offset: %s",
			    group, topic, part, kp_kerr_name((int16_t)rc));
		/* a single node answers it still (it is in memory) */
		if (kb_cluster_mode(G->b) && G->commit_err == KP_NONE)
			G->commit_err = rc;
	}
	kp_buf_release(&k);
	kp_buf_release(&v);
}

/*
 * kp_coord's group_changed: the group's membership (GroupMetadata), so a
 * restarted coordinator, or the next leader of the partition, takes the
 * members and generation back and their heartbeats go on. Not waited
 * for: a membership lost with its broker costs a rebalance, not data.
 */
void
kb_groups_persist(void *arg, const char *group, const struct kp_coord_group *g)
{
	struct kb_group *G = arg;
	struct kp_buf k, v;
	struct kp_log *log;
	int32_t op;
	int rc;

	if (G->loading)
		return;
	kp_buf_init(&k);
	kp_buf_init(&v);
	kp_grouprec_key(&k, group);
	if (g != NULL)
		kp_grouprec_value(&v, g);
	rc = append_rec(G, group, &k, g != NULL ? &v : NULL, &op, &log);
	if (rc != KP_NONE && rc != -1 && rc != KP_NOT_LEADER_OR_FOLLOWER)
		kb_log("group '%s': cannot log its members: %s", group,
		    kp_kerr_name((int16_t)rc));
	kp_buf_release(&k);
	kp_buf_release(&v);
}

/* What load_batch replays into. */
struct replay {
	struct kb_group	*G;
	int32_t		 part;
};

/* A group's membership record, if rec is one (malformed ones are skipped). */
static void
load_group(struct kb_group *G, const struct kp_record *rec)
{
	struct kp_grouprec gr;

	if (kp_grouprec_parse(rec->key.ptr, rec->key.len < 0 ? 0 :
	    (size_t)rec->key.len, rec->value.ptr, rec->value.len, &gr) == 1 &&
	    kp_coord_load_group(&G->coord, gr.group, gr.tombstone ? NULL :
	    &gr.saved, kb_now_mono(), kb_now_wall()) == -1)
		kb_log("group '%s': cannot load its members: %s", gr.group,
		    strerror(errno));
	kp_grouprec_release(&gr);
}

static int
load_batch(void *arg, const uint8_t *p, size_t len, size_t *used)
{
	struct kb_group *G = ((struct replay *)arg)->G;
	int32_t part = ((struct replay *)arg)->part;
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record rec;
	struct kp_offrec *r;
	ssize_t n = kp_batch_header_decode(p, len, &h);
	int rc;

	if (n <= 0 || (size_t)n > len)
		return -1;
	*used = (size_t)n;
	if ((r = malloc(sizeof(*r))) == NULL)
		return -1;
	if (kp_batch_iter_init(&it, p, (size_t)n, 64 << 20) != 0) {
		kp_batch_iter_release(&it);
		free(r);
		return -1;
	}
	while ((rc = kp_batch_iter_next(&it, &rec)) == 1) {
		struct kp_coord_offset o;

		/* TxnOffsetCommit: a marker settles the producer's offsets */
		if (h.attributes & KP_BATCH_ATTR_CONTROL) {
			int type = kp_record_control_type(&rec);

			if (type == KP_CONTROL_COMMIT || type == KP_CONTROL_ABORT)
				kb_offsets_txn_marker(G->b, part,
				    h.producer_id, type == KP_CONTROL_COMMIT);
			continue;
		}
		if (kp_offrec_parse(rec.key.ptr, rec.key.len < 0 ? 0 :
		    (size_t)rec.key.len, rec.value.ptr, rec.value.len,
		    r) != 1) {
			load_group(G, &rec);
			continue;
		}
		o.topic = r->topic;
		o.partition = r->partition;
		o.offset = r->offset;
		o.leader_epoch = r->leader_epoch;
		o.metadata = r->metadata;
		o.commit_ts = r->commit_ts;
		o.expire_ts = r->expire_ts;
		if ((h.attributes & KP_BATCH_ATTR_TRANSACTIONAL) &&
		    !r->tombstone)
			kb_txn_offsets_replayed(G->b, part, h.producer_id,
			    r->group, &o);
		else
			kp_coord_load(&G->coord, r->group, r->topic,
			    r->partition, r->tombstone ? NULL : &o,
			    kb_now_wall());
	}
	kp_batch_iter_release(&it);
	free(r);
	return rc == 0 ? 0 : -1;
}

/* Replay one partition of __consumer_offsets into the coordinator. */
static int
load_log(struct kb_group *G, struct kp_log *log, int32_t part, size_t *nrec)
{
	struct replay r = { G, part };

	return kp_log_replay(log, load_batch, &r, nrec);
}

int
kb_offsets_load(struct kb_group *G)
{
	struct kp_topic *t = kp_store_topic(G->b->store, KP_OFFSETS_TOPIC);
	size_t nrec = 0;

	/* a cluster broker loads a partition when it comes to lead it */
	if (t == NULL || kb_cluster_mode(G->b))
		return 0;
	G->loading = true;
	for (int32_t p = 0; p < t->partitions; p++) {
		if (t->logs[p] == NULL)
			continue;	/* cluster mode: not a replica here */
		if (load_log(G, t->logs[p], p, &nrec) == -1) {
			kb_log("%s-%d: cannot read: %s", KP_OFFSETS_TOPIC, p,
			    strerror(errno));
			G->loading = false;
			return -1;
		}
	}
	G->loading = false;
	kb_log("%s: %zu batch(es) replayed, %zu group(s)", KP_OFFSETS_TOPIC,
	    nrec, G->coord.ngroups);
	return 0;
}

/*
 * Cluster mode: this broker now leads __consumer_offsets partition p, so
 * it coordinates that partition's groups: replay it (offsets committed
 * through another coordinator meanwhile included).
 */
void
kb_offsets_load_partition(struct kb_broker *b, int32_t p)
{
	struct kb_group *G = kb_group_of(b);
	struct kp_log *log = kp_store_log(b->store, KP_OFFSETS_TOPIC, p);
	size_t nrec = 0;

	if (G == NULL || log == NULL)
		return;
	G->loading = true;
	if (load_log(G, log, p, &nrec) == -1)
		kb_log("%s-%d: cannot read: %s", KP_OFFSETS_TOPIC, p,
		    strerror(errno));
	G->loading = false;
	if (nrec > 0)
		kb_log("%s-%d: %zu batch(es) replayed", KP_OFFSETS_TOPIC, p,
		    nrec);
}

/* ---- OffsetCommit ---- */

/*
 * Cluster mode: Kafka appends a commit with acks=all, so an ISR smaller
 * than __consumer_offsets' min.insync.replicas refuses it before the
 * append (NOT_ENOUGH_REPLICAS, answered COORDINATOR_NOT_AVAILABLE).
 */
static int16_t
commit_isr_check(struct kb_broker *b, const char *group)
{
	struct kp_topic *t = kp_store_topic(b->store, KP_OFFSETS_TOPIC);

	if (!kb_cluster_mode(b))
		return KP_NONE;
	if (t == NULL || !kb_repl_min_isr_ok(b, KP_OFFSETS_TOPIC,
	    kp_offsets_partition(group, t->partitions)))
		return KP_COORDINATOR_NOT_AVAILABLE;
	return KP_NONE;
}

/*
 * What a cluster commit replaced, to put back if the ISR never gets it,
 * and to answer OffsetFetch with meanwhile: Kafka's coordinator updates
 * its cache only once the append completes, so an OffsetFetch shows
 * neither an offset whose commit failed nor one still waiting.
 */
struct undo_one {
	char		*topic;
	int32_t		 part;
	bool		 had;		/* prev is valid */
	struct kp_coord_offset prev;
	int64_t		 offset, commit_ts;	/* what the commit set */
};

struct commit_undo {
	TAILQ_ENTRY(commit_undo) link;	/* in G->commits while waiting */
	bool		 waiting;
	struct kb_group	*G;
	char		*group;
	struct undo_one	*e;
	size_t		 n, cap;
};

static void
undo_free(struct commit_undo *u)
{
	if (u == NULL)
		return;
	if (u->waiting)
		TAILQ_REMOVE(&u->G->commits, u, link);
	for (size_t i = 0; i < u->n; i++) {
		free(u->e[i].topic);
		free(u->e[i].prev.metadata);
	}
	free(u->e);
	free(u->group);
	free(u);
}

/*
 * Remember the group's offset for topic/part before this commit puts
 * offset there at commit_ts.
 */
static int
undo_note(struct commit_undo *u, const char *topic, int32_t part,
    int64_t offset, int64_t commit_ts)
{
	const struct kp_coord_offset *o = kp_coord_offset(&u->G->coord,
	    u->group, topic, part);
	struct undo_one *x;

	if (u->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 4;
		struct undo_one *ne = reallocarray(u->e, ncap, sizeof(*ne));

		if (ne == NULL)
			return -1;
		u->e = ne;
		u->cap = ncap;
	}
	x = &u->e[u->n];
	memset(x, 0, sizeof(*x));
	if ((x->topic = strdup(topic)) == NULL)
		return -1;
	x->part = part;
	x->offset = offset;
	x->commit_ts = commit_ts;
	if (o != NULL) {
		x->had = true;
		x->prev = *o;
		x->prev.topic = NULL;
		if ((x->prev.metadata = strdup(o->metadata)) == NULL) {
			free(x->topic);
			return -1;
		}
	}
	u->n++;
	return 0;
}

/* Put back x's old offset, unless a later commit replaced this one. */
static void
put_back(struct commit_undo *u, const struct undo_one *x, int64_t wall)
{
	const struct kp_coord_offset *o = kp_coord_offset(&u->G->coord,
	    u->group, x->topic, x->part);

	if (o == NULL || o->offset != x->offset ||
	    o->commit_ts != x->commit_ts)
		return;
	(void)kp_coord_load(&u->G->coord, u->group, x->topic, x->part,
	    x->had ? &x->prev : NULL, wall);
}

/* The last noted commit did not happen: put back, forget the note. */
static void
undo_pop(struct commit_undo *u, int64_t wall)
{
	struct undo_one *x = &u->e[--u->n];

	put_back(u, x, wall);
	free(x->topic);
	free(x->prev.metadata);
}

/* kb_park_done_fn: the ISR did not get the commit; forget it. */
static void
undo_done(void *arg, bool failed)
{
	struct commit_undo *u = arg;

	if (failed) {
		kb_log("group '%s': commit not replicated, %zu offset(s) "
		    "put back", u->group, u->n);
		for (size_t i = 0; i < u->n; i++)
			put_back(u, &u->e[i], kb_now_wall());
	}
	undo_free(u);
}

/* An append of this commit failed: Kafka's answer for it. */
static int16_t
commit_append_error(int err)
{
	if (err == KP_NOT_LEADER_OR_FOLLOWER || err == KP_KAFKA_STORAGE_ERROR)
		return KP_NOT_COORDINATOR;
	if (err == KP_MESSAGE_TOO_LARGE || err == KP_RECORD_LIST_TOO_LARGE)
		return KP_INVALID_COMMIT_OFFSET_SIZE;
	return KP_UNKNOWN_SERVER_ERROR;
}

static int
handle_offset_commit(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_offset_commit_req rq;
	struct kp_offset_commit_resp rs;
	struct commit_undo *u = NULL;
	bool noted;
	int16_t v = req->hdr.api_version, gerr;
	int64_t wall = kb_now_wall(), expire = -1;
	const char *group;
	int32_t nt;

	if (kp_offset_commit_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	group = cstr0(req, &rq.group_id);
	if ((gerr = kb_group_check_coordinator(req->b, group)) == KP_NONE)
		gerr = kp_coord_commit_check(&G->coord, group,
		    rq.generation_id_or_member_epoch, cstr0(req,
		    &rq.member_id), cstr(req, &rq.group_instance_id),
		    kb_now_mono(), wall);
	if (gerr == KP_NONE)
		gerr = commit_isr_check(req->b, group);
	G->commit_end = -1;
	if (gerr == KP_NONE && kb_cluster_mode(req->b)) {
		if ((u = calloc(1, sizeof(*u))) == NULL ||
		    (u->group = strdup(group)) == NULL) {
			free(u);
			return KB_CLOSE;
		}
		u->G = G;
	}
	if (v >= 2 && v <= 4 && rq.retention_time_ms >= 0)
		expire = wall + rq.retention_time_ms;
	kp_offset_commit_resp_init(&rs);
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &nt,
	    sizeof(*rs.topics));
	if (rs.topics == NULL) {
		undo_free(u);
		return KB_CLOSE;
	}
	rs.n_topics = nt;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_offset_commit_req_topic *t = &rq.topics[i];
		struct kp_offset_commit_resp_topic *rt = &rs.topics[i];
		int32_t np;
		char *topic = cstr0(req, &t->name);

		kp_offset_commit_resp_topic_init(rt);
		rt->name = t->name;
		rt->partitions = kb_resp_array(req->arena, t->n_partitions,
		    &np, sizeof(*rt->partitions));
		if (rt->partitions == NULL) {
			undo_free(u);
			return KB_CLOSE;
		}
		rt->n_partitions = np;
		for (int32_t j = 0; j < np; j++) {
			struct kp_offset_commit_req_partition *p =
			    &t->partitions[j];
			struct kp_offset_commit_resp_partition *rp =
			    &rt->partitions[j];
			int16_t e = gerr;

			kp_offset_commit_resp_partition_init(rp);
			rp->partition_index = p->partition_index;
			if (e == KP_NONE && !kb_part_known(req->b, &t->name,
			    topic, p->partition_index))
				e = KP_UNKNOWN_TOPIC_OR_PARTITION;
			if (e == KP_NONE && p->committed_metadata.len >
			    METADATA_MAX)
				e = KP_OFFSET_METADATA_TOO_LARGE;
			G->commit_err = KP_NONE;
			noted = false;
			if (e == KP_NONE && u != NULL) {
				if (undo_note(u, topic, p->partition_index,
				    p->committed_offset, wall) == -1) {
					undo_free(u);
					return KB_CLOSE;
				}
				noted = true;
			}
			if (e == KP_NONE && kp_coord_commit(&G->coord, group,
			    topic, p->partition_index, p->committed_offset,
			    p->committed_leader_epoch,
			    cstr0(req, &p->committed_metadata), wall, expire)
			    == -1)
				e = KP_UNKNOWN_SERVER_ERROR;
			else if (e == KP_NONE && G->commit_err != KP_NONE)
				e = commit_append_error(G->commit_err);
			/* not written: not committed either */
			if (e != KP_NONE && noted)
				undo_pop(u, wall);
			rp->error_code = e;
		}
	}
	if (kp_offset_commit_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1) {
		undo_free(u);
		return KB_CLOSE;
	}
	/* cluster mode: answered when the HW passes the records (acks=all) */
	if (G->commit_end >= 0) {
		if (u != NULL) {
			TAILQ_INSERT_TAIL(&G->commits, u, link);
			u->waiting = true;
		}
		return kb_repl_park_parts(req->b, req, KP_OFFSETS_TOPIC,
		    G->commit_part, G->commit_end, KB_COMMIT_TIMEOUT_MS,
		    undo_done, u) == -1 ? KB_CLOSE : KB_DONE;
	}
	undo_free(u);
	return KB_DONE;
}

KB_API(offset_commit, KP_API_OFFSET_COMMIT, 2, 7, handle_offset_commit)

/* ---- OffsetFetch ---- */

/*
 * The group's committed offset of topic/part (NULL: none): before the
 * oldest commit of it still waiting for the ISR, else the current one.
 */
static const struct kp_coord_offset *
committed(struct kb_group *G, const char *group, const char *topic,
    int32_t part)
{
	const struct commit_undo *u;

	TAILQ_FOREACH(u, &G->commits, link) {
		if (strcmp(u->group, group) != 0)
			continue;
		for (size_t i = 0; i < u->n; i++)
			if (u->e[i].part == part &&
			    strcmp(u->e[i].topic, topic) == 0)
				return u->e[i].had ? &u->e[i].prev : NULL;
	}
	return kp_coord_offset(&G->coord, group, topic, part);
}

static void
fill_fetched(struct kb_req *req, const char *group, const char *topic,
    int32_t part, struct kp_offset_fetch_resp_partition *rp)
{
	const struct kp_coord_offset *o = committed(kb_group_of(req->b),
	    group, topic, part);

	kp_offset_fetch_resp_partition_init(rp);
	rp->partition_index = part;
	rp->committed_offset = o ? o->offset : -1;
	rp->committed_leader_epoch = o ? o->leader_epoch : -1;
	rp->metadata = kb_str(o ? o->metadata : "");
	rp->error_code = KP_NONE;
}

/* v2+: null topics asks for every committed offset of the group. */
static int
fetch_all(struct kb_req *req, const char *group,
    struct kp_offset_fetch_resp *rs)
{
	struct kp_coord_group *g = kp_coord_group(&kb_group_of(req->b)->coord,
	    group);
	size_t n = g ? g->noffsets : 0;

	rs->topics = kp_arena_calloc(req->arena, n + 1, sizeof(*rs->topics));
	if (rs->topics == NULL)
		return -1;
	rs->n_topics = 0;
	for (size_t i = 0; i < n; i++) {
		const struct kp_coord_offset *o = &g->offsets[i];
		struct kp_offset_fetch_resp_topic *rt = NULL;

		if (committed(kb_group_of(req->b), group, o->topic,
		    o->partition) == NULL)
			continue;	/* its first commit is still waiting */
		for (int32_t k = 0; k < rs->n_topics && rt == NULL; k++)
			if (kp_str_eq(&rs->topics[k].name, o->topic))
				rt = &rs->topics[k];
		if (rt == NULL) {
			rt = &rs->topics[rs->n_topics++];
			kp_offset_fetch_resp_topic_init(rt);
			rt->name = kb_str(o->topic);
			rt->partitions = kp_arena_calloc(req->arena, n,
			    sizeof(*rt->partitions));
			if (rt->partitions == NULL)
				return -1;
		}
		fill_fetched(req, group, o->topic, o->partition,
		    &rt->partitions[rt->n_partitions++]);
	}
	return 0;
}

static int
handle_offset_fetch(struct kb_req *req)
{
	struct kp_offset_fetch_req rq;
	struct kp_offset_fetch_resp rs;
	int16_t v = req->hdr.api_version, cerr;
	const char *group;

	if (kp_offset_fetch_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	group = cstr0(req, &rq.group_id);
	kp_offset_fetch_resp_init(&rs);
	cerr = kb_group_check_coordinator(req->b, group);
	rs.error_code = cerr;
	if (cerr != KP_NONE && rq.n_topics < 0) {
		rs.n_topics = 0;
	} else if (rq.n_topics < 0) {
		if (fetch_all(req, group, &rs) == -1)
			return KB_CLOSE;
	} else {
		rs.topics = kp_arena_calloc(req->arena, (size_t)rq.n_topics + 1,
		    sizeof(*rs.topics));
		if (rs.topics == NULL)
			return KB_CLOSE;
		rs.n_topics = rq.n_topics;
		for (int32_t i = 0; i < rq.n_topics; i++) {
			struct kp_offset_fetch_req_topic *t = &rq.topics[i];
			struct kp_offset_fetch_resp_topic *rt = &rs.topics[i];
			int32_t np = t->n_partition_indexes < 0 ? 0 :
			    t->n_partition_indexes;
			char *topic = cstr0(req, &t->name);

			kp_offset_fetch_resp_topic_init(rt);
			rt->name = t->name;
			rt->partitions = kp_arena_calloc(req->arena,
			    (size_t)np + 1, sizeof(*rt->partitions));
			if (rt->partitions == NULL)
				return KB_CLOSE;
			rt->n_partitions = np;
			for (int32_t j = 0; j < np; j++) {
				fill_fetched(req, group, topic,
				    t->partition_indexes[j],
				    &rt->partitions[j]);
				if (cerr != KP_NONE) {
					/* v1 has no top-level error */
					rt->partitions[j].error_code = cerr;
					rt->partitions[j].committed_offset = -1;
				}
			}
		}
	}
	return kp_offset_fetch_resp_encode(kb_resp_buf(req->resp), v, &rs) ==
	    -1 ? KB_CLOSE : KB_DONE;
}

KB_API(offset_fetch, KP_API_OFFSET_FETCH, 1, 5, handle_offset_fetch)

/* ---- OffsetDelete ---- */

/* Whether a member of the (consumer protocol) group subscribes to topic. */
static bool
subscribed(struct kb_req *req, struct kp_coord_group *g, const char *topic)
{
	struct kp_coord_member *m;

	TAILQ_FOREACH(m, &g->members, link) {
		const struct kp_coord_proto *p = kp_coord_member_proto(m,
		    g->protocol);
		struct kp_consumer_subscription s;
		int16_t ver;

		if (p == NULL || kp_consumer_subscription_decode(p->meta,
		    p->len, &ver, &s, req->arena) == -1)
			continue;
		for (int32_t i = 0; i < s.n_topics; i++)
			if (kp_str_eq(&s.topics[i], topic))
				return true;
	}
	return false;
}

static int
handle_offset_delete(struct kb_req *req)
{
	struct kb_group *G = kb_group_of(req->b);
	struct kp_offset_delete_req rq;
	struct kp_offset_delete_resp rs;
	struct kp_coord_group *g;
	int16_t v = req->hdr.api_version;
	const char *group;
	int32_t nt;

	if (kp_offset_delete_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	group = cstr0(req, &rq.group_id);
	kp_offset_delete_resp_init(&rs);
	g = kp_coord_group(&G->coord, group);
	nt = rq.n_topics < 0 ? 0 : rq.n_topics;
	rs.error_code = kb_group_check_coordinator(req->b, group);
	if (rs.error_code == KP_NONE && g == NULL)
		rs.error_code = KP_GROUP_ID_NOT_FOUND;
	else if (rs.error_code == KP_NONE && g->state != KP_GROUP_EMPTY && (g->protocol_type == NULL ||
	    strcmp(g->protocol_type, "consumer") != 0))
		rs.error_code = KP_NON_EMPTY_GROUP;
	if (rs.error_code != KP_NONE)
		nt = 0;
	rs.topics = kp_arena_calloc(req->arena, (size_t)nt + 1,
	    sizeof(*rs.topics));
	if (rs.topics == NULL)
		return KB_CLOSE;
	rs.n_topics = nt;
	for (int32_t i = 0; i < nt; i++) {
		struct kp_offset_delete_req_topic *t = &rq.topics[i];
		struct kp_offset_delete_resp_topic *rt = &rs.topics[i];
		int32_t np = t->n_partitions < 0 ? 0 : t->n_partitions;
		char *topic = cstr0(req, &t->name);
		bool sub = subscribed(req, g, topic);

		kp_offset_delete_resp_topic_init(rt);
		rt->name = t->name;
		rt->partitions = kp_arena_calloc(req->arena, (size_t)np + 1,
		    sizeof(*rt->partitions));
		if (rt->partitions == NULL)
			return KB_CLOSE;
		rt->n_partitions = np;
		for (int32_t j = 0; j < np; j++) {
			int32_t p = t->partitions[j].partition_index;

			kp_offset_delete_resp_partition_init(&rt->partitions[j]);
			rt->partitions[j].partition_index = p;
			rt->partitions[j].error_code = kp_coord_delete_offset(
			    &G->coord, group, topic, p, sub);
		}
	}
	return kp_offset_delete_resp_encode(kb_resp_buf(req->resp), v, &rs) ==
	    -1 ? KB_CLOSE : KB_DONE;
}

KB_API(offset_delete, KP_API_OFFSET_DELETE, 0, 0, handle_offset_delete)
