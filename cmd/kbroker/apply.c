/* apply.c -- a cluster broker's logs follow the view: open its replicas, drop the rest, leader checks */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_offrec.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "group.h"

static const struct kb_cl_part *
view_part(const struct kb_cl_view *v, const char *topic, int32_t p)
{
	const struct kb_cl_topic *t = v ? kb_cl_topic(v, topic) : NULL;

	if (t == NULL || t->deleting || p < 0 || p >= t->nparts)
		return NULL;
	return &t->parts[p];
}

static bool
replica_here(const struct kb_broker *b, const struct kb_cl_part *pt)
{
	return pt != NULL && kb_cl_in(pt->replicas, pt->nreplicas,
	    b->cfg->broker_id);
}

static bool
any_replica_here(const struct kb_broker *b, const struct kb_cl_topic *t)
{
	for (int32_t p = 0; t != NULL && !t->deleting && p < t->nparts; p++)
		if (replica_here(b, &t->parts[p]))
			return true;
	return false;
}

/* Forget what other files keep about a log before it closes. */
static void
forget_log(struct kb_broker *b, const char *topic, int32_t p,
    struct kp_log *log)
{
	kb_repl_unfollow(b, topic, p);
	if (log == NULL)
		return;
	kb_pstate_drop_log(b, log);
	kb_durable_drop_log(b, log);
}

/* A local topic the cluster no longer has here: all of it goes. */
static void
remove_topic(struct kb_broker *b, const char *name, bool deleted)
{
	struct kp_topic *t = kp_store_topic(b->store, name);
	int rc;

	if (t == NULL)
		return;
	for (int32_t p = 0; p < t->partitions; p++)
		forget_log(b, name, p, t->logs[p]);
	rc = kp_store_delete_topic(b->store, name);
	if (rc != KP_NONE)
		kb_log("topic '%s': remove local logs: %s", name,
		    rc == KP_KAFKA_STORAGE_ERROR ? strerror(errno) :
		    kp_kerr_name((int16_t)rc));
	else
		kb_log("topic '%s': %s", name, deleted ? "deleted" :
		    "no replica here any more, local logs removed");
}

/* Step 1: drop what this broker holds but no longer replicates. */
static void
drop_stale(struct kb_broker *b, const struct kb_cl_view *v)
{
	struct kp_topic *t = NULL;
	char **names;
	size_t n = 0, cap = kp_store_topic_count(b->store);

	/*
	 * Copies of the names first: removing a topic changes the store's
	 * array and frees its name.
	 */
	if ((names = calloc(cap ? cap : 1, sizeof(*names))) == NULL)
		return;
	while ((t = kp_store_topic_next(b->store, t)) != NULL && n < cap)
		if ((names[n] = strdup(t->name)) != NULL)
			n++;
	for (size_t i = 0; i < n; i++) {
		const struct kb_cl_topic *vt = kb_cl_topic(v, names[i]);
		const char *name = names[i];

		t = kp_store_topic(b->store, name);
		if (!any_replica_here(b, vt)) {
			remove_topic(b, name, vt == NULL || vt->deleting);
			continue;
		}
		for (int32_t p = 0; p < t->partitions; p++) {
			if (t->logs[p] == NULL || (p < vt->nparts &&
			    replica_here(b, &vt->parts[p])))
				continue;
			forget_log(b, name, p, t->logs[p]);
			if (kp_store_drop_partition(b->store, name, p) !=
			    KP_NONE)
				kb_log("%s-%d: remove: %s", name, p,
				    strerror(errno));
			else
				kb_log("%s-%d: replica moved away, log "
				    "removed", name, p);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool
id_known(const uint8_t id[16])
{
	static const uint8_t zero[16];

	return memcmp(id, zero, 16) != 0;
}

/*
 * Leader or follower now? A leader alone in its ISR has every record it
 * holds committed (replication moves the high watermark otherwise); a
 * follower fetches from its leader; an offline partition waits.
 */
static void
transition(struct kb_broker *b, const struct kb_cl_view *old,
    const struct kb_cl_topic *vt, int32_t p, struct kp_log *log)
{
	const struct kb_cl_part *pt = &vt->parts[p];
	const struct kb_cl_part *op = view_part(old, vt->name, p);
	int32_t self = b->cfg->broker_id;
	bool same = op != NULL && replica_here(b, op) &&
	    op->leader == pt->leader && op->leader_epoch == pt->leader_epoch;

	if (pt->leader == self) {
		if (op == NULL || op->leader != self)
			kb_repl_unfollow(b, vt->name, p);
		if (pt->nisr <= 1)
			kp_log_set_high_watermark(log, kp_log_end_offset(log));
		/* a new epoch, the followers' state, the ISR */
		kb_repl_lead(b, vt->name, p, pt->leader_epoch);
		if (!same && strcmp(vt->name, KP_OFFSETS_TOPIC) == 0)
			kb_offsets_load_partition(b, p);
		if (!same && op != NULL)
			kb_log("%s-%d: leader now, epoch %d", vt->name, p,
			    pt->leader_epoch);
		return;
	}
	if (same)
		return;
	if (pt->leader < 0) {
		kb_repl_unfollow(b, vt->name, p);
		return;
	}
	kb_repl_follow(b, vt->name, p, pt->leader, pt->leader_epoch);
	kb_debug(b, "%s-%d: follower of %d, epoch %d", vt->name, p,
	    pt->leader, pt->leader_epoch);
}

/* Step 2: open this broker's replicas, with the cluster's configs. */
static void
open_topic(struct kb_broker *b, const struct kb_cl_view *old,
    const struct kb_cl_topic *vt)
{
	static const char *const none[1];
	struct kp_topic *t;
	int rc;

	/* the view's configs are all the topic has (none: NULL keys) */
	rc = kp_store_adopt_topic(b->store, vt->name, vt->nparts,
	    id_known(vt->id) ? vt->id : NULL, vt->cfg_keys ?
	    (const char *const *)vt->cfg_keys : none, vt->cfg_keys ?
	    (const char *const *)vt->cfg_vals : none, vt->ncfg, &t);
	if (rc == KP_INVALID_CONFIG) {
		/* a config this broker does not know: keep the defaults */
		kb_log("topic '%s': a config is not valid here, using "
		    "defaults", vt->name);
		rc = kp_store_adopt_topic(b->store, vt->name, vt->nparts,
		    id_known(vt->id) ? vt->id : NULL, NULL, NULL, 0, &t);
	}
	if (rc != KP_NONE) {
		kb_log("topic '%s': open: %s", vt->name,
		    rc == KP_KAFKA_STORAGE_ERROR ? strerror(errno) :
		    kp_kerr_name((int16_t)rc));
		return;
	}
	for (int32_t p = 0; p < vt->nparts; p++) {
		if (!replica_here(b, &vt->parts[p]))
			continue;
		if (t->logs[p] == NULL) {
			if (kp_store_open_partition(b->store, vt->name, p) !=
			    KP_NONE) {
				kb_log("%s-%d: open: %s", vt->name, p,
				    strerror(errno));
				continue;
			}
			kb_debug(b, "%s-%d: replica opened", vt->name, p);
		}
		transition(b, old, vt, p, t->logs[p]);
	}
}

void
kb_cluster_apply(struct kb_broker *b, const struct kb_cl_view *old,
    const struct kb_cl_view *new)
{
	if (new == NULL)
		return;
	drop_stale(b, new);
	for (size_t i = 0; i < new->ntopics; i++)
		if (any_replica_here(b, &new->topics[i]))
			open_topic(b, old, &new->topics[i]);
	/* long polls on moved partitions and admin requests waiting for
	 * this view run again */
	b->wake = true;
}

int
kb_cluster_check_leader(struct kb_broker *b, const char *topic, int32_t p)
{
	const struct kb_cl_view *v;
	const struct kb_cl_topic *t;

	if (!kb_cluster_mode(b))
		return KP_NONE;
	if ((v = kb_cluster_view(b)) == NULL)
		return KP_LEADER_NOT_AVAILABLE;	/* not connected yet */
	t = kb_cl_topic(v, topic);
	if (t == NULL || t->deleting || p < 0 || p >= t->nparts)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (t->parts[p].leader < 0)
		return KP_LEADER_NOT_AVAILABLE;
	if (t->parts[p].leader != b->cfg->broker_id)
		return KP_NOT_LEADER_OR_FOLLOWER;
	return KP_NONE;
}

int32_t
kb_cluster_leader_epoch(struct kb_broker *b, const char *topic, int32_t p)
{
	const struct kb_cl_part *pt;

	if (!kb_cluster_mode(b))
		return 0;
	pt = view_part(kb_cluster_view(b), topic, p);
	return pt != NULL && pt->leader_epoch >= 0 ? pt->leader_epoch : 0;
}

int
kb_cluster_check_leader_s(struct kb_broker *b, const struct kp_str *topic,
    int32_t p)
{
	char name[KP_TOPIC_NAME_MAX + 1];

	if (!kb_cluster_mode(b))
		return KP_NONE;
	if (topic->len < 0 || (size_t)topic->len >= sizeof(name) ||
	    memchr(topic->ptr, '\0', (size_t)topic->len) != NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	memcpy(name, topic->ptr, (size_t)topic->len);
	name[topic->len] = '\0';
	return kb_cluster_check_leader(b, name, p);
}

int
kb_cluster_serve_check(struct kb_broker *b, const struct kp_str *topic,
    int32_t p, int32_t current_epoch)
{
	int rc = kb_cluster_check_leader_s(b, topic, p);
	int32_t e;

	if (rc != KP_NONE || current_epoch < 0 || !kb_cluster_mode(b))
		return rc;
	/* KIP-320: a client with older metadata refreshes it */
	e = kb_cluster_leader_epoch_s(b, topic, p);
	if (current_epoch < e)
		return KP_FENCED_LEADER_EPOCH;
	if (current_epoch > e)
		return KP_UNKNOWN_LEADER_EPOCH;
	return KP_NONE;
}

int32_t
kb_cluster_leader_epoch_s(struct kb_broker *b, const struct kp_str *topic,
    int32_t p)
{
	char name[KP_TOPIC_NAME_MAX + 1];

	if (!kb_cluster_mode(b) || topic->len < 0 ||
	    (size_t)topic->len >= sizeof(name))
		return 0;
	memcpy(name, topic->ptr, (size_t)topic->len);
	name[topic->len] = '\0';
	return kb_cluster_leader_epoch(b, name, p);
}
