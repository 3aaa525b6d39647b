/* kp_txn.c -- client side of Kafka transactions: the transactional producer's calls and read_committed filtering */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_proto_admin.h"
#include "kp_proto_group.h"
#include "kp_proto_txn.h"
#include "kp_txn.h"

/*
 * Attempts per call. Backoffs grow to 2 s, so this spans about half a
 * minute: long enough for a coordinator to finish the previous
 * transaction's markers (CONCURRENT_TRANSACTIONS) or to load its log.
 */
#define TXN_ATTEMPTS	20

static struct kp_str
str(const char *s)
{
	struct kp_str k = { s, s ? (int32_t)strlen(s) : -1 };

	return k;
}

bool
kp_txn_kerr_fatal(int16_t e)
{
	switch (e) {
	case KP_INVALID_PRODUCER_EPOCH:
	case KP_PRODUCER_FENCED:
	case KP_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
	case KP_INVALID_PRODUCER_ID_MAPPING:
	case KP_INVALID_TRANSACTION_TIMEOUT:
	case KP_UNSUPPORTED_VERSION:
	case KP_TRANSACTION_COORDINATOR_FENCED:
		return true;
	default:
		return false;
	}
}

/* Errors after which the call is tried again, maybe at a new coordinator. */
static bool
retriable(int16_t e)
{
	return e == KP_CONCURRENT_TRANSACTIONS || kp_kerr_retriable(e);
}

static bool
coordinator_moved(int16_t e)
{
	return e == KP_NOT_COORDINATOR || e == KP_COORDINATOR_NOT_AVAILABLE;
}

/*
 * The coordinator of key (key_type 0 a group, 1 a transactional id), or
 * -1 with the error set. A single broker that names itself by another
 * address than the one we reached it by is used as it is.
 */
static struct kp_conn *
find_coordinator(struct kp_txn *t, const char *key, int8_t key_type,
    int32_t *node)
{
	struct kp_find_coordinator_req rq;
	struct kp_find_coordinator_resp rs;
	struct kp_conn *k;
	int16_t v;

	if ((k = kp_client_conn(t->c, -1)) == NULL)
		return NULL;
	if ((v = kp_conn_version(k, KP_API_FIND_COORDINATOR, 1, 3)) < 0)
		return NULL;
	kp_find_coordinator_req_init(&rq);
	rq.key = str(key);
	rq.key_type = key_type;
	kp_arena_reset(&t->arena);
	if (kp_conn_exchange(k, KP_API_FIND_COORDINATOR, v,
	    &kp_msg_find_coordinator_req, &rq, &kp_msg_find_coordinator_resp,
	    &rs, &t->arena, &t->body) < 0)
		return NULL;
	if (rs.error_code != KP_NONE) {
		/* with the broker's error message, when it sent one */
		kp_client_seterr(t->c, rs.error_code, "%s '%s': "
		    "FindCoordinator: %s%s%.*s", key_type ? "transactional id" :
		    "group", key, kp_kerr_name(rs.error_code),
		    rs.error_message.len > 0 ? ": " : "",
		    rs.error_message.len > 0 ? (int)rs.error_message.len : 0,
		    rs.error_message.len > 0 ? rs.error_message.ptr : "");
		return NULL;
	}
	*node = rs.node_id;
	if (kp_client_metadata(t->c, NULL, 0, false) == 0 &&
	    (k = kp_client_conn(t->c, rs.node_id)) != NULL)
		return k;
	return kp_client_conn(t->c, -1);
}

static struct kp_conn *
coordinator(struct kp_txn *t)
{
	struct kp_conn *k;

	if (t->coord >= 0 && (k = kp_client_conn(t->c, t->coord)) != NULL)
		return k;
	t->coord = -1;
	return find_coordinator(t, t->id, 1, &t->coord);
}

/*
 * After attempt i failed with Kafka error e (0: the request did not get
 * through): whether to go again, having slept and forgotten a moved
 * coordinator. Records a fatal error.
 */
static bool
again(struct kp_txn *t, int16_t e, int i)
{
	if (kp_txn_kerr_fatal(e))
		t->fatal = e;
	if (e != 0 && !retriable(e))
		return false;
	if (e == 0 || coordinator_moved(e))
		t->coord = -1;
	if (i + 1 >= TXN_ATTEMPTS)
		return false;
	kp_client_backoff(i < 4 ? i : 4);
	return true;
}

int
kp_txn_init(struct kp_txn *t, struct kp_client *c, const char *id,
    int32_t timeout_ms)
{
	struct kp_init_producer_id_req rq;
	struct kp_init_producer_id_resp rs;
	struct kp_conn *k;
	int16_t v, e;
	int i;

	memset(t, 0, sizeof(*t));
	t->c = c;
	t->pid = -1;
	t->epoch = -1;
	t->coord = -1;
	t->timeout_ms = timeout_ms;
	kp_arena_init(&t->arena);
	kp_buf_init(&t->body);
	if ((t->id = strdup(id)) == NULL)
		return kp_client_seterr(c, 0, "%s", strerror(errno));
	for (i = 0;; i++) {
		e = 0;
		if ((k = coordinator(t)) != NULL &&
		    (v = kp_conn_version(k, KP_API_INIT_PRODUCER_ID, 0, 4)) >=
		    0) {
			kp_init_producer_id_req_init(&rq);
			rq.transactional_id = str(t->id);
			rq.transaction_timeout_ms = timeout_ms;
			rq.producer_id = -1;
			rq.producer_epoch = -1;
			kp_arena_reset(&t->arena);
			if (kp_conn_exchange(k, KP_API_INIT_PRODUCER_ID, v,
			    &kp_msg_init_producer_id_req, &rq,
			    &kp_msg_init_producer_id_resp, &rs, &t->arena,
			    &t->body) == 0) {
				if ((e = rs.error_code) == KP_NONE) {
					t->pid = rs.producer_id;
					t->epoch = rs.producer_epoch;
					return 0;
				}
				kp_client_seterr(c, e, "transactional id '%s': "
				    "InitProducerId: %s", t->id,
				    kp_kerr_name(e));
			}
		} else
			e = k != NULL ? KP_UNSUPPORTED_VERSION :
			    kp_client_kerr(c);
		if (!again(t, e, i))
			return -1;
	}
}

void
kp_txn_release(struct kp_txn *t)
{
	size_t i;

	for (i = 0; i < t->nparts; i++)
		free(t->parts[i].topic);
	free(t->parts);
	free(t->id);
	kp_arena_release(&t->arena);
	kp_buf_release(&t->body);
	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->coord = -1;
}

bool
kp_txn_has(const struct kp_txn *t, const char *topic, int32_t partition)
{
	size_t i;

	for (i = 0; i < t->nparts; i++)
		if (t->parts[i].partition == partition &&
		    strcmp(t->parts[i].topic, topic) == 0)
			return true;
	return false;
}

bool
kp_txn_open(const struct kp_txn *t)
{
	return t->nparts > 0 || t->offsets;
}

int16_t
kp_txn_fatal(const struct kp_txn *t)
{
	return t->fatal;
}

static int
remember(struct kp_txn *t, const char *topic, int32_t partition)
{
	struct kp_txn_part *v;

	if ((v = reallocarray(t->parts, t->nparts + 1, sizeof(*v))) == NULL)
		return -1;
	t->parts = v;
	if ((v[t->nparts].topic = strdup(topic)) == NULL)
		return -1;
	v[t->nparts++].partition = partition;
	return 0;
}

/* The request's topics: the new partitions of each, grouped. */
struct addreq {
	struct kp_add_partitions_to_txn_req_topic *tv;
	int32_t	*pv;
	int32_t	 nt;
	size_t	 np;
};

static int
build_add(struct kp_txn *t, const char *const *topics, const int32_t *parts,
    size_t n, struct addreq *a)
{
	size_t i, j;
	int32_t x;

	memset(a, 0, sizeof(*a));
	if ((a->tv = calloc(n, sizeof(*a->tv))) == NULL ||
	    (a->pv = calloc(n, sizeof(*a->pv))) == NULL)
		return -1;
	/* partitions of one topic must sit side by side in pv */
	for (i = 0; i < n; i++) {
		bool dup = false;

		if (kp_txn_has(t, topics[i], parts[i]))
			continue;
		for (x = 0; x < a->nt; x++)
			if (strcmp(a->tv[x].name.ptr, topics[i]) == 0)
				break;
		if (x < a->nt)
			continue;	/* topic done with its first mention */
		kp_add_partitions_to_txn_req_topic_init(&a->tv[a->nt]);
		a->tv[a->nt].name = str(topics[i]);
		a->tv[a->nt].partitions = &a->pv[a->np];
		for (j = i; j < n; j++) {
			int32_t y;

			if (strcmp(topics[j], topics[i]) != 0 ||
			    kp_txn_has(t, topics[j], parts[j]))
				continue;
			for (y = 0, dup = false;
			    y < a->tv[a->nt].n_partitions; y++)
				dup = dup || a->tv[a->nt].partitions[y] ==
				    parts[j];
			if (dup)
				continue;
			a->pv[a->np++] = parts[j];
			a->tv[a->nt].n_partitions++;
		}
		a->nt++;
	}
	return 0;
}

/* The first partition error of an answer, recording the partitions that made it. */
static int16_t
add_result(struct kp_txn *t, const struct kp_add_partitions_to_txn_resp *rs,
    const char **etopic, int32_t *epart)
{
	int16_t first = KP_NONE;
	int32_t i, j;

	for (i = 0; i < rs->n_results_by_topic_v3_and_below; i++) {
		const struct kp_add_partitions_to_txn_resp_topic_result *tr =
		    &rs->results_by_topic_v3_and_below[i];

		for (j = 0; j < tr->n_results_by_partition; j++) {
			const struct
			    kp_add_partitions_to_txn_resp_partition_result *pr =
			    &tr->results_by_partition[j];
			int16_t e = pr->partition_error_code;

			if (e == KP_NONE) {
				char name[256];

				snprintf(name, sizeof(name), "%.*s",
				    tr->name.len, tr->name.ptr);
				if (!kp_txn_has(t, name, pr->partition_index) &&
				    remember(t, name, pr->partition_index) < 0)
					return KP_UNKNOWN_SERVER_ERROR;
				continue;
			}
			/* OPERATION_NOT_ATTEMPTED hides behind the real one */
			if (first == KP_NONE || first ==
			    KP_OPERATION_NOT_ATTEMPTED) {
				first = e;
				*etopic = tr->name.ptr;
				*epart = pr->partition_index;
			}
		}
	}
	return first;
}

int
kp_txn_add_partitions(struct kp_txn *t, const char *const *topics,
    const int32_t *parts, size_t n)
{
	struct kp_add_partitions_to_txn_req rq;
	struct kp_add_partitions_to_txn_resp rs;
	struct addreq a;
	struct kp_conn *k;
	const char *etopic = NULL;
	int32_t epart = -1;
	int16_t v, e;
	int i, rc = -1;

	if (t->fatal)
		return kp_client_seterr(t->c, t->fatal, "transactional id "
		    "'%s': %s", t->id, kp_kerr_name(t->fatal));
	for (i = 0;; i++) {
		if (build_add(t, topics, parts, n, &a) < 0) {
			kp_client_seterr(t->c, 0, "out of memory");
			goto out;
		}
		if (a.nt == 0) {
			rc = 0;
			goto out;
		}
		e = 0;
		if ((k = coordinator(t)) != NULL &&
		    (v = kp_conn_version(k, KP_API_ADD_PARTITIONS_TO_TXN, 0,
		    3)) >= 0) {
			kp_add_partitions_to_txn_req_init(&rq);
			rq.v3_and_below_transactional_id = str(t->id);
			rq.v3_and_below_producer_id = t->pid;
			rq.v3_and_below_producer_epoch = t->epoch;
			rq.v3_and_below_topics = a.tv;
			rq.n_v3_and_below_topics = a.nt;
			kp_arena_reset(&t->arena);
			if (kp_conn_exchange(k, KP_API_ADD_PARTITIONS_TO_TXN, v,
			    &kp_msg_add_partitions_to_txn_req, &rq,
			    &kp_msg_add_partitions_to_txn_resp, &rs,
			    &t->arena, &t->body) == 0) {
				if ((e = rs.error_code) == KP_NONE)
					e = add_result(t, &rs, &etopic, &epart);
				if (e == KP_NONE) {
					rc = 0;
					goto out;
				}
				if (etopic != NULL)
					kp_client_seterr(t->c, e, "topic '%s' "
					    "partition %d: AddPartitionsToTxn: "
					    "%s", etopic, epart,
					    kp_kerr_name(e));
				else
					kp_client_seterr(t->c, e,
					    "transactional id '%s': "
					    "AddPartitionsToTxn: %s", t->id,
					    kp_kerr_name(e));
			}
		} else
			e = k != NULL ? KP_UNSUPPORTED_VERSION :
			    kp_client_kerr(t->c);
		free(a.tv);
		free(a.pv);
		if (!again(t, e, i))
			return -1;
	}
out:
	free(a.tv);
	free(a.pv);
	return rc;
}

/* AddOffsetsToTxn: the group's offsets partition joins the transaction. */
static int
add_offsets(struct kp_txn *t, const char *group)
{
	struct kp_add_offsets_to_txn_req rq;
	struct kp_add_offsets_to_txn_resp rs;
	struct kp_conn *k;
	int16_t v, e;
	int i;

	for (i = 0;; i++) {
		e = 0;
		if ((k = coordinator(t)) != NULL &&
		    (v = kp_conn_version(k, KP_API_ADD_OFFSETS_TO_TXN, 0, 3)) >=
		    0) {
			kp_add_offsets_to_txn_req_init(&rq);
			rq.transactional_id = str(t->id);
			rq.producer_id = t->pid;
			rq.producer_epoch = t->epoch;
			rq.group_id = str(group);
			kp_arena_reset(&t->arena);
			if (kp_conn_exchange(k, KP_API_ADD_OFFSETS_TO_TXN, v,
			    &kp_msg_add_offsets_to_txn_req, &rq,
			    &kp_msg_add_offsets_to_txn_resp, &rs, &t->arena,
			    &t->body) == 0) {
				if ((e = rs.error_code) == KP_NONE) {
					t->offsets = true;
					return 0;
				}
				kp_client_seterr(t->c, e, "group '%s': "
				    "AddOffsetsToTxn: %s", group,
				    kp_kerr_name(e));
			}
		} else
			e = k != NULL ? KP_UNSUPPORTED_VERSION :
			    kp_client_kerr(t->c);
		if (!again(t, e, i))
			return -1;
	}
}

/* TxnOffsetCommit to the group's coordinator; one topic entry per partition. */
static int
commit_offsets(struct kp_txn *t, const char *group, const char *const *topics,
    const int32_t *parts, const int64_t *offsets, size_t n)
{
	struct kp_txn_offset_commit_req rq;
	struct kp_txn_offset_commit_resp rs;
	struct kp_txn_offset_commit_req_topic *tv;
	struct kp_txn_offset_commit_req_partition *pv;
	struct kp_conn *k;
	int32_t node = -1, x, y;
	int16_t v, e;
	size_t j;
	int i, rc = -1;

	tv = calloc(n, sizeof(*tv));
	pv = calloc(n, sizeof(*pv));
	if (tv == NULL || pv == NULL) {
		kp_client_seterr(t->c, 0, "out of memory");
		goto out;
	}
	for (j = 0; j < n; j++) {
		kp_txn_offset_commit_req_topic_init(&tv[j]);
		kp_txn_offset_commit_req_partition_init(&pv[j]);
		tv[j].name = str(topics[j]);
		tv[j].partitions = &pv[j];
		tv[j].n_partitions = 1;
		pv[j].partition_index = parts[j];
		pv[j].committed_offset = offsets[j];
		pv[j].committed_leader_epoch = -1;
		pv[j].committed_metadata = str("");
	}
	for (i = 0;; i++) {
		e = 0;
		if ((k = find_coordinator(t, group, 0, &node)) != NULL &&
		    (v = kp_conn_version(k, KP_API_TXN_OFFSET_COMMIT, 0, 3)) >=
		    0) {
			kp_txn_offset_commit_req_init(&rq);
			rq.transactional_id = str(t->id);
			rq.group_id = str(group);
			rq.producer_id = t->pid;
			rq.producer_epoch = t->epoch;
			rq.generation_id = -1;
			rq.member_id = str("");
			rq.group_instance_id = str(NULL);
			rq.topics = tv;
			rq.n_topics = (int32_t)n;
			kp_arena_reset(&t->arena);
			if (kp_conn_exchange(k, KP_API_TXN_OFFSET_COMMIT, v,
			    &kp_msg_txn_offset_commit_req, &rq,
			    &kp_msg_txn_offset_commit_resp, &rs, &t->arena,
			    &t->body) == 0) {
				for (x = 0; x < rs.n_topics && e == 0; x++)
					for (y = 0; y < rs.topics[x].n_partitions;
					    y++)
						if ((e = rs.topics[x].partitions[y]
						    .error_code) != 0)
							break;
				if (e == KP_NONE) {
					rc = 0;
					goto out;
				}
				kp_client_seterr(t->c, e, "group '%s': "
				    "TxnOffsetCommit: %s", group,
				    kp_kerr_name(e));
			}
		} else
			e = k != NULL ? KP_UNSUPPORTED_VERSION :
			    kp_client_kerr(t->c);
		if (!again(t, e, i))
			goto out;
	}
out:
	free(tv);
	free(pv);
	return rc;
}

int
kp_txn_send_offsets(struct kp_txn *t, const char *group,
    const char *const *topics, const int32_t *parts, const int64_t *offsets,
    size_t n)
{
	if (t->fatal)
		return kp_client_seterr(t->c, t->fatal, "transactional id "
		    "'%s': %s", t->id, kp_kerr_name(t->fatal));
	if (add_offsets(t, group) < 0)
		return -1;
	return commit_offsets(t, group, topics, parts, offsets, n);
}

static void
clear(struct kp_txn *t)
{
	size_t i;

	for (i = 0; i < t->nparts; i++)
		free(t->parts[i].topic);
	free(t->parts);
	t->parts = NULL;
	t->nparts = 0;
	t->offsets = false;
}

int
kp_txn_end(struct kp_txn *t, bool commit)
{
	struct kp_end_txn_req rq;
	struct kp_end_txn_resp rs;
	struct kp_conn *k;
	int16_t v, e;
	int i;

	if (!kp_txn_open(t))
		return 0;
	if (t->fatal)
		return kp_client_seterr(t->c, t->fatal, "transactional id "
		    "'%s': %s", t->id, kp_kerr_name(t->fatal));
	for (i = 0;; i++) {
		e = 0;
		if ((k = coordinator(t)) != NULL &&
		    (v = kp_conn_version(k, KP_API_END_TXN, 0, 3)) >= 0) {
			kp_end_txn_req_init(&rq);
			rq.transactional_id = str(t->id);
			rq.producer_id = t->pid;
			rq.producer_epoch = t->epoch;
			rq.committed = commit;
			kp_arena_reset(&t->arena);
			if (kp_conn_exchange(k, KP_API_END_TXN, v,
			    &kp_msg_end_txn_req, &rq, &kp_msg_end_txn_resp,
			    &rs, &t->arena, &t->body) == 0) {
				if ((e = rs.error_code) == KP_NONE) {
					clear(t);
					return 0;
				}
				kp_client_seterr(t->c, e, "transactional id "
				    "'%s': EndTxn(%s): %s", t->id, commit ?
				    "commit" : "abort", kp_kerr_name(e));
			}
		} else
			e = k != NULL ? KP_UNSUPPORTED_VERSION :
			    kp_client_kerr(t->c);
		if (!again(t, e, i))
			return -1;
	}
}

/* --- read_committed ---------------------------------------------------- */

void
kp_txn_filter_init(struct kp_txn_filter *f)
{
	memset(f, 0, sizeof(*f));
}

void
kp_txn_filter_release(struct kp_txn_filter *f)
{
	free(f->ab);
	free(f->active);
	memset(f, 0, sizeof(*f));
}

static int
by_first(const void *a, const void *b)
{
	const struct kp_txn_aborted *x = a, *y = b;

	return x->first_offset < y->first_offset ? -1 :
	    x->first_offset > y->first_offset;
}

int
kp_txn_filter_set(struct kp_txn_filter *f,
    const struct kp_fetch_resp_aborted_transaction *v, int32_t nv)
{
	size_t i, n = nv > 0 && v != NULL ? (size_t)nv : 0;

	f->nab = f->next = f->nactive = 0;
	if (n > f->cap) {
		struct kp_txn_aborted *a = reallocarray(f->ab, n, sizeof(*a));
		int64_t *p;

		if (a == NULL)
			return -1;
		f->ab = a;
		if ((p = reallocarray(f->active, n, sizeof(*p))) == NULL)
			return -1;
		f->active = p;
		f->cap = n;
	}
	for (i = 0; i < n; i++) {
		f->ab[i].pid = v[i].producer_id;
		f->ab[i].first_offset = v[i].first_offset;
	}
	f->nab = n;
	if (n > 1)
		qsort(f->ab, n, sizeof(*f->ab), by_first);
	return 0;
}

static bool
active(const struct kp_txn_filter *f, int64_t pid, size_t *at)
{
	size_t i;

	for (i = 0; i < f->nactive; i++)
		if (f->active[i] == pid) {
			if (at != NULL)
				*at = i;
			return true;
		}
	return false;
}

/* The marker of a control batch: KP_CONTROL_ABORT, _COMMIT, or -1. */
static int
control_type(const uint8_t *batch, size_t len)
{
	struct kp_batch_iter it;
	struct kp_record r;
	int type = -1;

	if (kp_batch_iter_init(&it, batch, len, 1 << 20) == 0 &&
	    kp_batch_iter_next(&it, &r) == 1)
		type = kp_record_control_type(&r);
	kp_batch_iter_release(&it);
	return type;
}

bool
kp_txn_filter_skip(struct kp_txn_filter *f, const struct kp_batch_header *h,
    const uint8_t *batch, size_t len)
{
	int64_t last = h->base_offset + h->last_offset_delta;
	size_t at;

	/* transactions that started at or before this batch's end */
	while (f->next < f->nab && f->ab[f->next].first_offset <= last) {
		if (!active(f, f->ab[f->next].pid, NULL))
			f->active[f->nactive++] = f->ab[f->next].pid;
		f->next++;
	}
	if (h->attributes & KP_BATCH_ATTR_CONTROL) {
		if (active(f, h->producer_id, &at) &&
		    control_type(batch, len) == KP_CONTROL_ABORT)
			f->active[at] = f->active[--f->nactive];
		return true;
	}
	return (h->attributes & KP_BATCH_ATTR_TRANSACTIONAL) &&
	    active(f, h->producer_id, NULL);
}
