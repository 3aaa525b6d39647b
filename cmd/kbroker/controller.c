/* controller.c -- the controller's work and the blocking cluster writes: topics, leaders, ISR, reassignment */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kp_err.h"
#include "kbroker.h"
#include "zk.h"

#define MAX_PARTS	100000
#define RETRIES		3	/* conditional writes that lost a race */

/*
 * Every write the controller makes goes in one ZooKeeper transaction with
 * a check of /controller_epoch's version as it was when this broker was
 * elected: a controller deposed meanwhile (another broker bumped the
 * epoch) fails instead of overwriting its successor's decisions. State
 * writes are also conditional on the state znode's own version.
 */

static bool
controller_epoch(struct kb_cluster *cl, int32_t *epoch, int32_t *ver)
{
	bool am;

	pthread_mutex_lock(&cl->mu);
	am = cl->controller;
	*epoch = cl->ctl_epoch;
	*ver = cl->ctl_epoch_ver;
	pthread_mutex_unlock(&cl->mu);
	return am;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
kb_controller_elect_self(struct kb_cluster *cl)
{
	char data[128], num[32], *got, *end;
	struct Stat st, set_st;
	zoo_op_t ops[2];
	zoo_op_result_t res[2];
	long long epoch;
	int rc;

	if ((rc = kb_zk_get(cl, "/controller_epoch", false, &got, NULL,
	    &st)) != ZOK)
		return;
	epoch = strtoll(got, &end, 10);
	free(got);
	if (epoch < 0 || epoch >= INT32_MAX)
		epoch = 0;
	snprintf(data, sizeof(data), "{\"version\":1,\"brokerid\":%" PRId32
	    ",\"timestamp\":\"%" PRId64 "\"}", cl->id, wall_ms());
	zoo_create_op_init(&ops[0], "/controller", data, (int)strlen(data),
	    &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0);
	snprintf(num, sizeof(num), "%lld", epoch + 1);
	zoo_set_op_init(&ops[1], "/controller_epoch", num, (int)strlen(num),
	    st.version, &set_st);
	/* both or neither: the epoch grows only with a new controller */
	memset(res, 0, sizeof(res));
	if ((rc = kb_zk_multi(cl, 2, ops, res)) != ZOK) {
		kb_debug_cl(cl, "zookeeper: controller election lost: %s",
		    zerror(rc));
		return;
	}
	pthread_mutex_lock(&cl->mu);
	cl->controller = true;
	cl->ctl_epoch = (int32_t)(epoch + 1);
	cl->ctl_epoch_ver = set_st.version;
	pthread_mutex_unlock(&cl->mu);
	kb_log("zookeeper: broker %" PRId32 " is the controller, epoch %lld",
	    cl->id, epoch + 1);
}

/* ---- choosing leaders ---- */

static bool
live(const int32_t *ids, int32_t n, int32_t id)
{
	return kb_cl_in(ids, n, id);
}

/*
 * Kafka's choice: the first replica in assignment order that is live and
 * in the ISR; with unclean, failing that, the first live replica.
 */
static int32_t
pick_leader(const int32_t *reps, int32_t nreps, const int32_t *isr,
    int32_t nisr, const int32_t *liv, int32_t nliv, bool unclean)
{
	for (int32_t i = 0; i < nreps; i++)
		if (kb_cl_in(isr, nisr, reps[i]) && live(liv, nliv, reps[i]))
			return reps[i];
	if (unclean)
		for (int32_t i = 0; i < nreps; i++)
			if (live(liv, nliv, reps[i]))
				return reps[i];
	return -1;
}

/* a ∩ b in a's order; new array (never NULL unless out of memory). */
static int32_t *
intersect(const int32_t *a, int32_t na, const int32_t *b, int32_t nb,
    int32_t *n)
{
	int32_t *r = malloc(((size_t)na + 1) * sizeof(*r));

	*n = 0;
	if (r == NULL)
		return NULL;
	for (int32_t i = 0; i < na; i++)
		if (kb_cl_in(b, nb, a[i]))
			r[(*n)++] = a[i];
	return r;
}

/* a \ b in a's order. */
static int32_t *
minus(const int32_t *a, int32_t na, const int32_t *b, int32_t nb, int32_t *n)
{
	int32_t *r = malloc(((size_t)na + 1) * sizeof(*r));

	*n = 0;
	if (r == NULL)
		return NULL;
	for (int32_t i = 0; i < na; i++)
		if (!kb_cl_in(b, nb, a[i]))
			r[(*n)++] = a[i];
	return r;
}

/*
 * The controller epoch moved past ours: another controller took office
 * (we were paused, say). Stop controlling; if /controller is still ours,
 * give it up so an election with the current epoch takes place.
 */
static void
resign(struct kb_cluster *cl, int32_t cepoch)
{
	const clientid_t *id;
	struct Stat st;

	kb_log("zookeeper: controller epoch %" PRId32 " is stale: resigning",
	    cepoch);
	pthread_mutex_lock(&cl->mu);
	cl->controller = false;
	pthread_mutex_unlock(&cl->mu);
	pthread_rwlock_rdlock(&cl->zlock);
	id = zoo_client_id(cl->zh);
	if (zoo_exists(cl->zh, "/controller", 0, &st) == ZOK && id != NULL &&
	    st.ephemeralOwner == id->client_id)
		zoo_delete(cl->zh, "/controller", st.version);
	pthread_rwlock_unlock(&cl->zlock);
}

static void
state_path(char *buf, size_t len, const char *topic, int32_t p)
{
	snprintf(buf, len, "/brokers/topics/%s/partitions/%" PRId32 "/state",
	    topic, p);
}

/*
 * Write a partition's state (version -1: create it), and optionally the
 * topic's assignment in the same transaction, fenced by the controller
 * epoch. ZOK or the failing op's error.
 */
static int
write_state(struct kb_cluster *cl, int32_t cepoch, int32_t cver,
    const char *topic, int32_t p, int32_t version, int32_t leader,
    int32_t lepoch, const int32_t *isr, int32_t nisr, const char *assign,
    int32_t assign_ver)
{
	char path[512], apath[512], *data;
	zoo_op_t ops[3];
	zoo_op_result_t res[3];
	struct Stat st[2];
	int n = 0, rc;

	memset(res, 0, sizeof(res));
	if ((data = kb_json_state(cepoch, leader, lepoch, isr, nisr)) == NULL)
		return ZSYSTEMERROR;
	state_path(path, sizeof(path), topic, p);
	zoo_check_op_init(&ops[n++], "/controller_epoch", cver);
	if (version < 0)
		zoo_create_op_init(&ops[n++], path, data, (int)strlen(data),
		    &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
	else
		zoo_set_op_init(&ops[n++], path, data, (int)strlen(data),
		    version, &st[0]);
	if (assign != NULL) {
		snprintf(apath, sizeof(apath), "/brokers/topics/%s", topic);
		zoo_set_op_init(&ops[n++], apath, assign, (int)strlen(assign),
		    assign_ver, &st[1]);
	}
	rc = kb_zk_multi(cl, n, ops, res);
	if (rc != ZOK)
		kb_debug_cl(cl, "controller: %s: %s (%d %d %d)", path,
		    zerror(rc), res[0].err, res[1].err, n > 2 ? res[2].err : 0);
	if (rc != ZOK && res[0].err != ZOK)
		resign(cl, cepoch);
	free(data);
	return rc;
}

static void
log_leader(const char *why, const char *topic, int32_t p, int32_t leader,
    int32_t lepoch, const int32_t *isr, int32_t nisr)
{
	char buf[256];
	size_t off = 0;

	buf[0] = '\0';
	for (int32_t i = 0; i < nisr && off < sizeof(buf) - 16; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%"
		    PRId32, i ? "," : "", isr[i]);
	kb_log("controller: %s-%" PRId32 ": %s: leader %" PRId32 ", epoch %"
	    PRId32 ", isr [%s]", topic, p, why, leader, lepoch, buf);
}

/* ---- the controller's round (session thread) ---- */

static int
mkpath(struct kb_cluster *cl, const char *path)
{
	int rc = kb_zk_create(cl, path, NULL, ZOO_PERSISTENT);

	return rc == ZNODEEXISTS ? ZOK : rc;
}

/* A new partition: leader the first live replica, ISR the live ones. */
static void
new_state(struct kb_cluster *cl, int32_t ce, int32_t cv, const char *topic,
    int32_t p, const struct kb_cl_part *pp, const int32_t *liv, int32_t nliv)
{
	char path[512];
	int32_t *isr, nisr;

	if ((isr = intersect(pp->replicas, pp->nreplicas, liv, nliv, &nisr)) ==
	    NULL)
		return;
	if (nisr == 0) {		/* no replica alive: wait for one */
		free(isr);
		return;
	}
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions", topic);
	if (mkpath(cl, path) == ZOK) {
		snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%"
		    PRId32, topic, p);
		if (mkpath(cl, path) == ZOK && write_state(cl, ce, cv, topic,
		    p, -1, isr[0], 0, isr, nisr, NULL, 0) == ZOK)
			log_leader("new", topic, p, isr[0], 0, isr, nisr);
	}
	free(isr);
}

/*
 * The leader's broker is gone (or the partition is offline): the next
 * leader from the ISR, epoch + 1, the ISR without the brokers that are
 * gone. With none left the partition goes offline (leader -1) keeping
 * its ISR, so the first of them to come back leads again.
 */
static void
reelect(struct kb_cluster *cl, int32_t ce, int32_t cv, const char *topic,
    int32_t p, const struct kb_cl_part *pp, const int32_t *liv, int32_t nliv)
{
	int32_t leader, *isr, nisr;

	leader = pick_leader(pp->replicas, pp->nreplicas, pp->isr, pp->nisr,
	    liv, nliv, cl->unclean);
	if (leader == -1 && pp->leader == -1)
		return;			/* offline, and stays so */
	if (leader == -1)
		isr = kb_cl_ids_dup(pp->isr, pp->nisr), nisr = pp->nisr;
	else if (!kb_cl_in(pp->isr, pp->nisr, leader))
		isr = kb_cl_ids_dup(&leader, 1), nisr = 1;	/* unclean */
	else
		isr = intersect(pp->isr, pp->nisr, liv, nliv, &nisr);
	if (isr == NULL)
		return;
	if (write_state(cl, ce, cv, topic, p, pp->version, leader,
	    pp->leader_epoch + 1, isr, nisr, NULL, 0) == ZOK)
		log_leader(leader == -1 ? "offline" : pp->leader == -1 ?
		    "back online" : "leader gone", topic, p, leader,
		    pp->leader_epoch + 1, isr, nisr);
	free(isr);
}

/* Is a broker that went away (seen, not live now) in the ISR? */
static bool
isr_has_gone(const struct kb_cluster *cl, const struct kb_cl_part *pp,
    const int32_t *liv, int32_t nliv)
{
	for (int32_t i = 0; i < pp->nisr; i++)
		if (!live(liv, nliv, pp->isr[i]) &&
		    kb_cl_in(cl->seen, cl->nseen, pp->isr[i]))
			return true;
	return false;
}

/*
 * Followers whose broker went away leave the ISR at once (Kafka's
 * onBrokerFailure: OfflineReplica, removeReplicasFromIsr): same leader,
 * same leader epoch, the ISR without them, so acks=all produces and
 * offset commits stop waiting on them long before the leader's own
 * replica.lag.time.max.ms would. The write is conditional on the
 * state's version like every other: should the leader change the ISR
 * meanwhile, this one fails and the next round (its view) decides again;
 * the leader's own writes are conditional the same way and redo theirs
 * from the view this one makes. Brokers never seen live (a cluster
 * restarting) stay: the leader's lag check handles those.
 */
static void
drop_gone_followers(struct kb_cluster *cl, int32_t ce, int32_t cv,
    const char *topic, int32_t p, const struct kb_cl_part *pp,
    const int32_t *liv, int32_t nliv)
{
	int32_t *isr, nisr = 0;

	if ((isr = malloc(((size_t)pp->nisr + 1) * sizeof(*isr))) == NULL)
		return;
	for (int32_t i = 0; i < pp->nisr; i++)
		if (live(liv, nliv, pp->isr[i]) ||
		    !kb_cl_in(cl->seen, cl->nseen, pp->isr[i]))
			isr[nisr++] = pp->isr[i];
	if (nisr == 0)
		isr[nisr++] = pp->leader;	/* live: never an empty ISR */
	if (write_state(cl, ce, cv, topic, p, pp->version, pp->leader,
	    pp->leader_epoch, isr, nisr, NULL, 0) == ZOK)
		log_leader("follower gone", topic, p, pp->leader,
		    pp->leader_epoch, isr, nisr);
	free(isr);
}

/*
 * A topic's assignment with partition p's replicas replaced and its
 * reassignment lists dropped (new JSON, caller frees).
 */
static char *
assignment_with(const struct kb_cl_topic *t, int32_t p, int32_t *reps,
    int32_t nreps)
{
	struct kb_cl_topic tmp = *t;
	char *s;

	if ((tmp.parts = malloc((size_t)t->nparts * sizeof(*tmp.parts))) ==
	    NULL)
		return NULL;
	memcpy(tmp.parts, t->parts, (size_t)t->nparts * sizeof(*tmp.parts));
	tmp.parts[p].replicas = reps;
	tmp.parts[p].nreplicas = nreps;
	tmp.parts[p].nadding = tmp.parts[p].nremoving = 0;
	s = kb_json_assignment(&tmp);
	free(tmp.parts);
	return s;
}

/*
 * The end of a reassignment (or of its cancellation): once every target
 * replica is in the ISR, the replica list becomes the target; a leader
 * outside the target gives way to one from target ∩ ISR (epoch + 1); the
 * ISR keeps only targets. State and assignment change in one write.
 */
static int
finish_moves(struct kb_cluster *cl, int32_t ce, int32_t cv,
    const struct kb_cl_topic *t, int32_t p, const int32_t *target,
    int32_t ntarget, const int32_t *liv, int32_t nliv, bool force)
{
	const struct kb_cl_part *pp = &t->parts[p];
	int32_t leader = pp->leader, lepoch = pp->leader_epoch, *isr, nisr;
	int32_t *tcopy;
	char *assign;
	int rc = ZSYSTEMERROR;

	for (int32_t i = 0; i < ntarget && !force; i++)
		if (!kb_cl_in(pp->isr, pp->nisr, target[i]))
			return ZOK;		/* not caught up yet */
	if ((isr = intersect(pp->isr, pp->nisr, target, ntarget, &nisr)) ==
	    NULL)
		return ZSYSTEMERROR;
	if (!kb_cl_in(target, ntarget, leader) || !live(liv, nliv, leader)) {
		leader = pick_leader(target, ntarget, isr, nisr, liv, nliv,
		    false);
		lepoch++;
	}
	if (nisr == 0 && leader != -1)
		isr[nisr++] = leader;
	tcopy = kb_cl_ids_dup(target, ntarget);
	assign = tcopy ? assignment_with(t, p, tcopy, ntarget) : NULL;
	if (assign != NULL) {
		rc = write_state(cl, ce, cv, t->name, p, pp->version, leader,
		    lepoch, isr, nisr, assign, t->version);
		if (rc == ZOK)
			log_leader("reassigned", t->name, p, leader, lepoch,
			    isr, nisr);
	}
	free(assign);
	free(tcopy);
	free(isr);
	return rc;
}

static void
reassign_step(struct kb_cluster *cl, int32_t ce, int32_t cv,
    const struct kb_cl_topic *t, int32_t p, const int32_t *liv, int32_t nliv)
{
	const struct kb_cl_part *pp = &t->parts[p];
	int32_t *target, ntarget;

	target = minus(pp->replicas, pp->nreplicas, pp->removing,
	    pp->nremoving, &ntarget);
	if (target == NULL)
		return;
	if (ntarget > 0)
		finish_moves(cl, ce, cv, t, p, target, ntarget, liv, nliv,
		    false);
	free(target);
}

static int
delete_if(struct kb_cluster *cl, const char *path)
{
	int rc;

	pthread_rwlock_rdlock(&cl->zlock);
	rc = zoo_delete(cl->zh, path, -1);
	pthread_rwlock_unlock(&cl->zlock);
	return rc == ZNONODE ? ZOK : rc;
}

/*
 * /admin/delete_topics/<t>: the topic's znodes and its config go, then
 * the request. Brokers see the topic vanish from the next view and drop
 * their logs (apply.c). Children first: ZooKeeper deletes only leaves.
 */
static void
delete_topic(struct kb_cluster *cl, int32_t cv, const char *topic)
{
	struct String_vector sv = { 0, NULL };
	char path[512];
	zoo_op_t check;
	zoo_op_result_t res;
	int rc;

	/* fenced: only a controller still in office deletes */
	zoo_check_op_init(&check, "/controller_epoch", cv);
	if ((rc = kb_zk_multi(cl, 1, &check, &res)) != ZOK) {
		if (rc == ZBADVERSION)
			resign(cl, -1);
		return;
	}
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions", topic);
	rc = kb_zk_children(cl, path, false, &sv);
	if (rc != ZOK && rc != ZNONODE)
		return;
	for (int32_t i = 0; i < sv.count; i++) {
		snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/"
		    "%s/state", topic, sv.data[i]);
		if ((rc = delete_if(cl, path)) != ZOK)
			goto out;
		snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/"
		    "%s", topic, sv.data[i]);
		if ((rc = delete_if(cl, path)) != ZOK)
			goto out;
	}
	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions", topic);
	if ((rc = delete_if(cl, path)) != ZOK)
		goto out;
	snprintf(path, sizeof(path), "/brokers/topics/%s", topic);
	if ((rc = delete_if(cl, path)) != ZOK)
		goto out;
	snprintf(path, sizeof(path), "/config/topics/%s", topic);
	if ((rc = delete_if(cl, path)) != ZOK)
		goto out;
	snprintf(path, sizeof(path), "/admin/delete_topics/%s", topic);
	if ((rc = delete_if(cl, path)) == ZOK)
		kb_log("controller: topic '%s' deleted", topic);
out:
	if (rc != ZOK)
		kb_log("controller: deleting topic '%s': %s", topic,
		    zerror(rc));
	deallocate_String_vector(&sv);
}

/* Deletion requests for topics that do not exist (any more). */
static void
drop_stale_requests(struct kb_cluster *cl, int32_t cv,
    const struct kb_cl_view *v)
{
	struct String_vector sv;

	if (kb_zk_children(cl, "/admin/delete_topics", false, &sv) != ZOK)
		return;
	for (int32_t i = 0; i < sv.count; i++)
		if (kb_cl_topic(v, sv.data[i]) == NULL)
			delete_topic(cl, cv, sv.data[i]);
	deallocate_String_vector(&sv);
}

void
kb_controller_run(struct kb_cluster *cl, const struct kb_cl_view *v)
{
	int32_t ce, cv, *liv, nliv = 0;

	if (!controller_epoch(cl, &ce, &cv))
		return;
	if ((liv = calloc(v->nbrokers + 1, sizeof(*liv))) == NULL)
		return;
	for (size_t i = 0; i < v->nbrokers; i++)
		liv[nliv++] = v->brokers[i].id;
	drop_stale_requests(cl, cv, v);
	for (size_t i = 0; i < v->ntopics; i++) {
		const struct kb_cl_topic *t = &v->topics[i];

		if (t->deleting) {
			delete_topic(cl, cv, t->name);
			continue;
		}
		for (int32_t p = 0; p < t->nparts; p++) {
			const struct kb_cl_part *pp = &t->parts[p];

			if (pp->nreplicas == 0)
				continue;
			if (pp->version < 0)
				new_state(cl, ce, cv, t->name, p, pp, liv,
				    nliv);
			else if (pp->leader == -1 ||
			    !live(liv, nliv, pp->leader))
				reelect(cl, ce, cv, t->name, p, pp, liv, nliv);
			else if (isr_has_gone(cl, pp, liv, nliv))
				drop_gone_followers(cl, ce, cv, t->name, p, pp,
				    liv, nliv);
			else if (pp->nadding > 0 || pp->nremoving > 0)
				reassign_step(cl, ce, cv, t, p, liv, nliv);
		}
	}
	free(liv);
}

/* ---- the blocking writes (loop thread) ---- */

static bool
valid_topic(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 249 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/* Calls from the loop wait at most one session round trip; none at all
 * while there is no session. */
static struct kb_cluster *
connected(struct kb_broker *b, int *kerr)
{
	struct kb_cluster *cl = b->cluster;
	int st;

	if (cl == NULL) {
		*kerr = KP_INVALID_REQUEST;
		return NULL;
	}
	pthread_rwlock_rdlock(&cl->zlock);
	st = cl->zh != NULL ? zoo_state(cl->zh) : 0;
	pthread_rwlock_unlock(&cl->zlock);
	if (st != ZOO_CONNECTED_STATE) {
		*kerr = KP_REQUEST_TIMED_OUT;
		return NULL;
	}
	return cl;
}

/*
 * Kafka's rack-unaware assignment: partition p's first replica is broker
 * (start + p) % n, the others follow at a shift that grows by one every n
 * partitions, so leaders and followers spread evenly.
 */
static int
spread(const int32_t *brokers, int32_t n, int32_t nparts, int32_t rf,
    int32_t start, int32_t shift, int32_t first_part, struct kb_cl_part *out)
{
	for (int32_t i = 0; i < nparts; i++) {
		int32_t cur = first_part + i, first;
		struct kb_cl_part *pp = &out[i];

		if (cur > 0 && cur % n == 0)
			shift++;
		first = (cur + start) % n;
		if ((pp->replicas = calloc((size_t)rf, sizeof(int32_t))) ==
		    NULL)
			return -1;
		pp->nreplicas = rf;
		pp->replicas[0] = brokers[first];
		for (int32_t j = 0; j < rf - 1; j++)
			pp->replicas[j + 1] = brokers[(first + 1 +
			    (shift + j) % (n - 1)) % n];
	}
	return 0;
}

static int
check_lists(int32_t *const *assign, int32_t nparts, int16_t rf,
    const int32_t *liv, int32_t nliv)
{
	for (int32_t p = 0; p < nparts; p++)
		for (int16_t i = 0; i < rf; i++) {
			if (!kb_cl_in(liv, nliv, assign[p][i]))
				return KP_INVALID_REPLICA_ASSIGNMENT;
			if (kb_cl_in(assign[p], i, assign[p][i]))
				return KP_INVALID_REPLICA_ASSIGNMENT;
		}
	return KP_NONE;
}

static char *
config_json(const char *const *keys, const char *const *vals, size_t n)
{
	json_t *o = json_object(), *m = json_object();
	char *s = NULL;

	if (o == NULL || m == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (json_object_set_new(m, keys[i], json_string(vals[i])) ==
		    -1)
			goto out;
	if (json_object_set_new(o, "version", json_integer(1)) == -1 ||
	    json_object_set(o, "config", m) == -1)
		goto out;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(m);
	json_decref(o);
	return s;
}

int
kb_cluster_create_topic(struct kb_broker *b, const char *name, int32_t nparts,
    int16_t rf, int32_t *const *assign, const char *const *cfg_keys,
    const char *const *cfg_vals, size_t ncfg)
{
	struct kb_cluster *cl;
	struct kb_cl_topic t;
	char tpath[512], cpath[512], *tjson = NULL, *cjson = NULL;
	int32_t *liv = NULL, nliv;
	zoo_op_t ops[2];
	zoo_op_result_t res[2];
	struct Stat st;
	int kerr, rc;

	memset(&t, 0, sizeof(t));
	if ((cl = connected(b, &kerr)) == NULL)
		return kerr;
	if (!valid_topic(name))
		return KP_INVALID_TOPIC_EXCEPTION;
	if (nparts == -1)
		nparts = cl->num_partitions;
	if (rf == -1)
		rf = cl->default_rf;
	if (nparts < 1 || nparts > MAX_PARTS)
		return KP_INVALID_PARTITIONS;
	if (rf < 1)
		return KP_INVALID_REPLICATION_FACTOR;
	if ((rc = kb_zk_live(cl, &liv, &nliv)) != ZOK)
		return kb_zk_kerr(rc);
	kerr = KP_NONE;
	if (assign == NULL && rf > nliv)
		kerr = KP_INVALID_REPLICATION_FACTOR;
	else if (assign != NULL)
		kerr = check_lists(assign, nparts, rf, liv, nliv);
	snprintf(tpath, sizeof(tpath), "/brokers/topics/%s", name);
	snprintf(cpath, sizeof(cpath), "/admin/delete_topics/%s", name);
	if (kerr == KP_NONE && ((rc = kb_zk_exists(cl, tpath, false, &st)) ==
	    ZOK || (rc = kb_zk_exists(cl, cpath, false, &st)) == ZOK))
		kerr = KP_TOPIC_ALREADY_EXISTS;	/* or being deleted */
	else if (kerr == KP_NONE && rc != ZNONODE)
		kerr = kb_zk_kerr(rc);
	if (kerr != KP_NONE)
		goto out;
	t.name = (char *)name;
	t.nparts = nparts;
	arc4random_buf(t.id, sizeof(t.id));	/* the topic id, as Kafka's */
	if ((t.parts = calloc((size_t)nparts, sizeof(*t.parts))) == NULL)
		goto nomem;
	if (assign != NULL) {
		for (int32_t p = 0; p < nparts; p++) {
			t.parts[p].replicas = kb_cl_ids_dup(assign[p], rf);
			t.parts[p].nreplicas = rf;
			if (t.parts[p].replicas == NULL)
				goto nomem;
		}
	} else if (spread(liv, nliv, nparts, rf,
	    (int32_t)arc4random_uniform((uint32_t)nliv),
	    (int32_t)arc4random_uniform((uint32_t)nliv), 0, t.parts) == -1)
		goto nomem;
	if ((tjson = kb_json_assignment(&t)) == NULL ||
	    (cjson = config_json(cfg_keys, cfg_vals, ncfg)) == NULL)
		goto nomem;
	/* a config left by a topic deleted half-way is replaced */
	snprintf(cpath, sizeof(cpath), "/config/topics/%s", name);
	if ((rc = delete_if(cl, cpath)) != ZOK) {
		kerr = kb_zk_kerr(rc);
		goto out;
	}
	zoo_create_op_init(&ops[0], cpath, cjson, (int)strlen(cjson),
	    &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
	zoo_create_op_init(&ops[1], tpath, tjson, (int)strlen(tjson),
	    &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
	rc = kb_zk_multi(cl, 2, ops, res);
	kerr = rc == ZNODEEXISTS ? KP_TOPIC_ALREADY_EXISTS : kb_zk_kerr(rc);
	if (rc == ZOK) {
		kb_log("zookeeper: topic '%s' created: %" PRId32 " partition(s)"
		    ", replication factor %d", name, nparts, (int)rf);
		kb_zk_wake(cl);
	}
	goto out;
nomem:
	kerr = KP_UNKNOWN_SERVER_ERROR;
out:
	t.name = NULL;
	kb_cl_topic_release(&t);
	free(tjson);
	free(cjson);
	free(liv);
	return kerr;
}

int
kb_cluster_delete_topic(struct kb_broker *b, const char *name)
{
	struct kb_cluster *cl;
	char path[512];
	struct Stat st;
	int kerr, rc;

	if ((cl = connected(b, &kerr)) == NULL)
		return kerr;
	if (!cl->delete_enable)
		return KP_TOPIC_DELETION_DISABLED;
	if (!valid_topic(name))
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	if ((rc = kb_zk_exists(cl, path, false, &st)) == ZNONODE)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (rc != ZOK)
		return kb_zk_kerr(rc);
	snprintf(path, sizeof(path), "/admin/delete_topics/%s", name);
	rc = kb_zk_create(cl, path, NULL, ZOO_PERSISTENT);
	if (rc == ZNODEEXISTS)
		rc = ZOK;		/* asked already */
	return kb_zk_kerr(rc);
}

int
kb_cluster_set_topic_configs(struct kb_broker *b, const char *name,
    const char *const *keys, const char *const *vals, size_t n)
{
	struct kb_cluster *cl;
	char path[512], *json;
	struct Stat st;
	int kerr, rc;

	if ((cl = connected(b, &kerr)) == NULL)
		return kerr;
	if (!valid_topic(name))
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	if ((rc = kb_zk_exists(cl, path, false, &st)) != ZOK)
		return rc == ZNONODE ? KP_UNKNOWN_TOPIC_OR_PARTITION :
		    kb_zk_kerr(rc);
	if ((json = config_json(keys, vals, n)) == NULL)
		return KP_UNKNOWN_SERVER_ERROR;
	snprintf(path, sizeof(path), "/config/topics/%s", name);
	pthread_rwlock_rdlock(&cl->zlock);
	rc = zoo_set(cl->zh, path, json, (int)strlen(json), -1);
	pthread_rwlock_unlock(&cl->zlock);
	if (rc == ZNONODE)
		rc = kb_zk_create(cl, path, json, ZOO_PERSISTENT);
	free(json);
	if (rc == ZOK)
		kb_zk_wake(cl);
	return kb_zk_kerr(rc);
}

/* The topic's assignment as stored; release t after KP_NONE. */
static int
read_assignment(struct kb_cluster *cl, const char *name,
    struct kb_cl_topic *t)
{
	char path[512], *data;
	struct Stat st;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((t->name = strdup(name)) == NULL)
		return KP_UNKNOWN_SERVER_ERROR;
	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	if ((rc = kb_zk_get(cl, path, false, &data, NULL, &st)) != ZOK) {
		kb_cl_topic_release(t);
		return rc == ZNONODE ? KP_UNKNOWN_TOPIC_OR_PARTITION :
		    kb_zk_kerr(rc);
	}
	rc = kb_json_parse_assignment(data, t);
	free(data);
	if (rc == -1) {
		kb_cl_topic_release(t);
		return KP_UNKNOWN_SERVER_ERROR;
	}
	t->version = st.version;
	return KP_NONE;
}

static bool
moving(const struct kb_cl_topic *t)
{
	for (int32_t p = 0; p < t->nparts; p++)
		if (t->parts[p].nadding > 0 || t->parts[p].nremoving > 0)
			return true;
	return false;
}

int
kb_cluster_add_partitions(struct kb_broker *b, const char *name,
    int32_t total)
{
	struct kb_cluster *cl;
	struct kb_cl_topic t;
	struct kb_cl_part *np = NULL;
	int32_t *liv = NULL, nliv = 0, rf, start = 0;
	char path[512], *json;
	int kerr, rc;

	if ((cl = connected(b, &kerr)) == NULL)
		return kerr;
	for (int i = 0; i < RETRIES; i++) {
		if ((kerr = read_assignment(cl, name, &t)) != KP_NONE)
			return kerr;
		rf = t.nparts > 0 ? t.parts[0].nreplicas : 0;
		if ((rc = kb_zk_live(cl, &liv, &nliv)) != ZOK)
			kerr = kb_zk_kerr(rc);
		else if (moving(&t))
			kerr = KP_REASSIGNMENT_IN_PROGRESS;
		else if (total <= t.nparts || total > MAX_PARTS)
			kerr = KP_INVALID_PARTITIONS;
		else if (rf < 1 || rf > nliv)
			kerr = KP_INVALID_REPLICATION_FACTOR;
		else if ((np = reallocarray(t.parts, (size_t)total,
		    sizeof(*np))) == NULL)
			kerr = KP_UNKNOWN_SERVER_ERROR;
		if (kerr != KP_NONE) {
			kb_cl_topic_release(&t);
			free(liv);
			return kerr;
		}
		t.parts = np;
		memset(np + t.nparts, 0, (size_t)(total - t.nparts) *
		    sizeof(*np));
		/* Kafka starts where partition 0's preferred leader is */
		for (int32_t j = 0; j < nliv; j++)
			if (liv[j] == t.parts[0].replicas[0])
				start = j;
		rc = spread(liv, nliv, total - t.nparts, rf, start, start,
		    t.nparts, np + t.nparts);
		t.nparts = total;
		json = rc == 0 ? kb_json_assignment(&t) : NULL;
		snprintf(path, sizeof(path), "/brokers/topics/%s", name);
		pthread_rwlock_rdlock(&cl->zlock);
		rc = json == NULL ? ZSYSTEMERROR : zoo_set(cl->zh, path, json,
		    (int)strlen(json), t.version);
		pthread_rwlock_unlock(&cl->zlock);
		free(json);
		kb_cl_topic_release(&t);
		free(liv);
		liv = NULL;
		if (rc != ZBADVERSION) {
			if (rc == ZOK)
				kb_zk_wake(cl);
			return kb_zk_kerr(rc);
		}
	}
	return KP_REQUEST_TIMED_OUT;
}

int
kb_cluster_set_isr(struct kb_broker *b, const char *topic, int32_t part,
    const int32_t *isr, int32_t nisr)
{
	const struct kb_cl_topic *vt;
	struct kb_cluster *cl;
	int32_t cepoch, leader, lepoch, *old, nold, version;
	char path[512], *data;
	struct Stat st;
	int kerr, rc;

	if ((cl = connected(b, &kerr)) == NULL)
		return kerr;
	vt = kb_cl_topic(cl->cur, topic);
	if (vt == NULL || part < 0 || part >= vt->nparts)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	version = vt->parts[part].version;
	if (vt->parts[part].leader != cl->id || version < 0)
		return KP_NOT_LEADER_OR_FOLLOWER;
	state_path(path, sizeof(path), topic, part);
	if ((rc = kb_zk_get(cl, path, false, &data, NULL, &st)) != ZOK)
		return rc == ZNONODE ? KP_UNKNOWN_TOPIC_OR_PARTITION :
		    kb_zk_kerr(rc);
	rc = kb_json_parse_state(data, &cepoch, &leader, &lepoch, &old, &nold);
	free(data);
	free(old);
	if (rc == -1)
		return KP_UNKNOWN_SERVER_ERROR;
	if (leader != cl->id)
		return KP_NOT_LEADER_OR_FOLLOWER;
	if (st.version != version || lepoch != vt->parts[part].leader_epoch)
		return KP_FENCED_LEADER_EPOCH;	/* the next view says more */
	if ((data = kb_json_state(cepoch, leader, lepoch, isr, nisr)) == NULL)
		return KP_UNKNOWN_SERVER_ERROR;
	pthread_rwlock_rdlock(&cl->zlock);
	rc = zoo_set(cl->zh, path, data, (int)strlen(data), version);
	pthread_rwlock_unlock(&cl->zlock);
	free(data);
	if (rc == ZBADVERSION)
		return KP_FENCED_LEADER_EPOCH;
	if (rc == ZOK) {
		log_leader("isr changed", topic, part, leader, lepoch, isr,
		    nisr);
		kb_zk_wake(cl);
	}
	return kb_zk_kerr(rc);
}

/* A partition's stored state: KP_NONE, or a Kafka error. */
static int
read_part(struct kb_cluster *cl, const char *topic, int32_t part,
    struct kb_cl_topic *t)
{
	char path[512], *data;
	struct kb_cl_part *pp;
	struct Stat st;
	int32_t cepoch;
	int kerr, rc;

	if ((kerr = read_assignment(cl, topic, t)) != KP_NONE)
		return kerr;
	if (part < 0 || part >= t->nparts || t->parts[part].nreplicas == 0) {
		kb_cl_topic_release(t);
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	}
	pp = &t->parts[part];
	state_path(path, sizeof(path), topic, part);
	if ((rc = kb_zk_get(cl, path, false, &data, NULL, &st)) != ZOK) {
		kb_cl_topic_release(t);
		return rc == ZNONODE ? KP_LEADER_NOT_AVAILABLE :
		    kb_zk_kerr(rc);
	}
	rc = kb_json_parse_state(data, &cepoch, &pp->leader,
	    &pp->leader_epoch, &pp->isr, &pp->nisr);
	free(data);
	if (rc == -1) {
		kb_cl_topic_release(t);
		return KP_UNKNOWN_SERVER_ERROR;
	}
	pp->version = st.version;
	return KP_NONE;
}

/* A controller write's outcome as the loop's callers want it. */
static int
ctl_kerr(struct kb_cluster *cl, int rc)
{
	if (rc == ZOK)
		kb_zk_wake(cl);
	if (rc == ZBADVERSION)
		return KP_NOT_CONTROLLER;	/* or the state moved: retry */
	return kb_zk_kerr(rc);
}

static bool
has_dups(const int32_t *ids, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		if (kb_cl_in(ids, i, ids[i]))
			return true;
	return false;
}

/* A reassignment write of ours made the assignment this version. */
static void
moved(struct kb_cluster *cl, const char *topic, int32_t version)
{
	struct kb_cl_moved *m;
	char *name;

	for (size_t i = 0; i < cl->nmoved; i++)
		if (strcmp(cl->moved[i].topic, topic) == 0) {
			if (cl->moved[i].version < version)
				cl->moved[i].version = version;
			return;
		}
	if ((name = strdup(topic)) == NULL)
		return;
	if ((m = reallocarray(cl->moved, cl->nmoved + 1, sizeof(*m))) ==
	    NULL) {
		free(name);
		return;
	}
	cl->moved = m;
	cl->moved[cl->nmoved].topic = name;
	cl->moved[cl->nmoved].version = version;
	cl->nmoved++;
}

bool
kb_cluster_moves_seen(struct kb_broker *b, const char *topic)
{
	struct kb_cluster *cl = b->cluster;
	bool all = true;
	size_t i = 0;

	while (cl != NULL && i < cl->nmoved) {
		struct kb_cl_moved *m = &cl->moved[i];
		const struct kb_cl_topic *t = kb_cl_topic(cl->cur, m->topic);

		if (t != NULL && t->version < m->version) {
			if (topic == NULL || strcmp(topic, m->topic) == 0)
				all = false;
			i++;
			continue;
		}
		/* shown (or the topic is gone): forget it */
		free(m->topic);
		*m = cl->moved[--cl->nmoved];
	}
	return all;
}

void
kb_cl_moved_free(struct kb_cluster *cl)
{
	for (size_t i = 0; i < cl->nmoved; i++)
		free(cl->moved[i].topic);
	free(cl->moved);
	cl->moved = NULL;
	cl->nmoved = 0;
}

/*
 * Kafka's way (KIP-455): the replica list becomes target ∪ original
 * (target first) with adding = target \ original and removing =
 * original \ target; the controller finishes once every target replica
 * is in the ISR. n == 0 cancels a reassignment in progress: back to the
 * original replicas at once.
 */
int
kb_cluster_reassign(struct kb_broker *b, const char *topic, int32_t part,
    const int32_t *replicas, int32_t n)
{
	struct kb_cluster *cl;
	struct kb_cl_topic t;
	struct kb_cl_part *pp;
	int32_t ce, cv, *liv = NULL, nliv, *orig = NULL, norig, *all = NULL;
	int32_t *add = NULL, nadd, *rem = NULL, nrem;
	char path[512], *json = NULL;
	zoo_op_t ops[2];
	zoo_op_result_t res[2];
	struct Stat st;
	int kerr, rc;

	if ((cl = connected(b, &kerr)) == NULL)
		return kerr;
	if (!controller_epoch(cl, &ce, &cv))
		return KP_NOT_CONTROLLER;
	if (n < 0 || has_dups(replicas, n))
		return KP_INVALID_REPLICA_ASSIGNMENT;
	if ((kerr = read_part(cl, topic, part, &t)) != KP_NONE)
		return kerr;
	pp = &t.parts[part];
	if ((rc = kb_zk_live(cl, &liv, &nliv)) != ZOK) {
		kerr = kb_zk_kerr(rc);
		goto out;
	}
	for (int32_t i = 0; i < n; i++)
		if (!kb_cl_in(liv, nliv, replicas[i]))
			kerr = KP_INVALID_REPLICA_ASSIGNMENT;
	/* the replicas before any reassignment began */
	orig = minus(pp->replicas, pp->nreplicas, pp->adding, pp->nadding,
	    &norig);
	if (kerr != KP_NONE || orig == NULL)
		goto out;
	if (n == 0) {
		if (pp->nadding == 0 && pp->nremoving == 0) {
			kerr = KP_NO_REASSIGNMENT_IN_PROGRESS;
			goto out;
		}
		rc = finish_moves(cl, ce, cv, &t, part, orig, norig, liv, nliv,
		    true);
		kerr = ctl_kerr(cl, rc);
		if (rc == ZOK)
			moved(cl, topic, t.version + 1);
		goto out;
	}
	add = minus(replicas, n, orig, norig, &nadd);
	rem = minus(orig, norig, replicas, n, &nrem);
	all = malloc(((size_t)n + (size_t)norig + 1) * sizeof(*all));
	if (add == NULL || rem == NULL || all == NULL) {
		kerr = KP_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	memcpy(all, replicas, (size_t)n * sizeof(*all));
	memcpy(all + n, rem, (size_t)nrem * sizeof(*all));
	free(pp->replicas);
	free(pp->adding);
	free(pp->removing);
	pp->replicas = all;
	pp->nreplicas = n + nrem;
	pp->adding = add;
	pp->nadding = nadd;
	pp->removing = rem;
	pp->nremoving = nrem;
	all = add = rem = NULL;
	if ((json = kb_json_assignment(&t)) == NULL) {
		kerr = KP_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	snprintf(path, sizeof(path), "/brokers/topics/%s", topic);
	zoo_check_op_init(&ops[0], "/controller_epoch", cv);
	zoo_set_op_init(&ops[1], path, json, (int)strlen(json), t.version,
	    &st);
	rc = kb_zk_multi(cl, 2, ops, res);
	kerr = ctl_kerr(cl, rc);
	if (rc == ZOK)
		moved(cl, topic, t.version + 1);
	if (rc == ZOK)
		kb_log("controller: %s-%" PRId32 ": reassigning: %" PRId32
		    " replica(s) to add, %" PRId32 " to remove", topic, part,
		    pp->nadding, pp->nremoving);
out:
	free(json);
	free(all);
	free(add);
	free(rem);
	free(orig);
	free(liv);
	kb_cl_topic_release(&t);
	return kerr;
}

/*
 * Preferred: the first replica leads if it is live and in the ISR.
 * Unclean: only for a partition without a live leader: the first live
 * ISR member, else any live replica (then the ISR is just it).
 */
int
kb_cluster_elect(struct kb_broker *b, const char *topic, int32_t part,
    bool unclean)
{
	struct kb_cluster *cl;
	struct kb_cl_topic t;
	struct kb_cl_part *pp;
	int32_t ce, cv, *liv = NULL, nliv, leader, *isr = NULL, nisr;
	int kerr, rc;

	if ((cl = connected(b, &kerr)) == NULL)
		return kerr;
	if (!controller_epoch(cl, &ce, &cv))
		return KP_NOT_CONTROLLER;
	if ((kerr = read_part(cl, topic, part, &t)) != KP_NONE)
		return kerr;
	pp = &t.parts[part];
	if ((rc = kb_zk_live(cl, &liv, &nliv)) != ZOK) {
		kerr = kb_zk_kerr(rc);
		goto out;
	}
	if (!unclean) {
		leader = pp->replicas[0];
		if (pp->leader == leader)
			kerr = KP_ELECTION_NOT_NEEDED;
		else if (!kb_cl_in(liv, nliv, leader) ||
		    !kb_cl_in(pp->isr, pp->nisr, leader))
			kerr = KP_PREFERRED_LEADER_NOT_AVAILABLE;
		else
			isr = kb_cl_ids_dup(pp->isr, pp->nisr), nisr = pp->nisr;
	} else if (pp->leader != -1 && kb_cl_in(liv, nliv, pp->leader))
		kerr = KP_ELECTION_NOT_NEEDED;
	else if ((leader = pick_leader(pp->replicas, pp->nreplicas, pp->isr,
	    pp->nisr, liv, nliv, true)) == -1)
		kerr = KP_ELIGIBLE_LEADERS_NOT_AVAILABLE;
	else if (kb_cl_in(pp->isr, pp->nisr, leader))
		isr = intersect(pp->isr, pp->nisr, liv, nliv, &nisr);
	else
		isr = kb_cl_ids_dup(&leader, 1), nisr = 1;
	if (kerr != KP_NONE)
		goto out;
	if (isr == NULL) {
		kerr = KP_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	rc = write_state(cl, ce, cv, topic, part, pp->version, leader,
	    pp->leader_epoch + 1, isr, nisr, NULL, 0);
	kerr = ctl_kerr(cl, rc);
	if (rc == ZOK)
		log_leader(unclean ? "unclean election" : "preferred election",
		    topic, part, leader, pp->leader_epoch + 1, isr, nisr);
out:
	free(isr);
	free(liv);
	kb_cl_topic_release(&t);
	return kerr;
}
