/* kp_coord.c -- consumer group coordinator: the classic protocol's state machine and committed offsets */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_coord.h"
#include "kp_err.h"

static const char *const state_names[] = {
	"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"
};

const char *
kp_coord_state_name(enum kp_coord_state s)
{
	if ((size_t)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "Unknown";
	return state_names[s];
}

void
kp_coord_conf_default(struct kp_coord_conf *c)
{
	c->initial_delay_ms = 3000;
	c->min_session_ms = 6000;
	c->max_session_ms = 1800000;
	c->max_size = INT32_MAX;
	c->retention_ms = 7LL * 24 * 3600 * 1000;
}

void
kp_coord_init(struct kp_coord *c, const struct kp_coord_conf *conf,
    const struct kp_coord_cb *cb)
{
	memset(c, 0, sizeof(*c));
	if (conf != NULL)
		c->conf = *conf;
	else
		kp_coord_conf_default(&c->conf);
	if (cb != NULL)
		c->cb = *cb;
	TAILQ_INIT(&c->groups);
}

static void
protos_free(struct kp_coord_proto *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].meta);
	}
	free(p);
}

static void
member_free(struct kp_coord_member *m)
{
	if (m == NULL)
		return;
	free(m->member_id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	protos_free(m->protos, m->nprotos);
	free(m->assign);
	free(m);
}

static void
group_free(struct kp_coord_group *g)
{
	struct kp_coord_member *m;

	while ((m = TAILQ_FIRST(&g->members)) != NULL) {
		TAILQ_REMOVE(&g->members, m, link);
		member_free(m);
	}
	for (size_t i = 0; i < g->npending; i++)
		free(g->pending[i].member_id);
	free(g->pending);
	for (size_t i = 0; i < g->noffsets; i++) {
		free(g->offsets[i].topic);
		free(g->offsets[i].metadata);
	}
	free(g->offsets);
	free(g->id);
	free(g->protocol_type);
	free(g->protocol);
	free(g->leader);
	free(g);
}

void
kp_coord_release(struct kp_coord *c)
{
	struct kp_coord_group *g;

	while ((g = TAILQ_FIRST(&c->groups)) != NULL) {
		TAILQ_REMOVE(&c->groups, g, link);
		group_free(g);
	}
	c->ngroups = 0;
}

struct kp_coord_group *
kp_coord_group(struct kp_coord *c, const char *id)
{
	struct kp_coord_group *g;

	TAILQ_FOREACH(g, &c->groups, link)
		if (strcmp(g->id, id) == 0)
			return g->state == KP_GROUP_DEAD ? NULL : g;
	return NULL;
}

static struct kp_coord_group *
group_new(struct kp_coord *c, const char *id, int64_t wall)
{
	struct kp_coord_group *g = calloc(1, sizeof(*g));

	if (g == NULL || (g->id = strdup(id)) == NULL) {
		free(g);
		return NULL;
	}
	g->state = KP_GROUP_EMPTY;
	g->state_ts = wall;
	g->join_deadline = -1;
	TAILQ_INIT(&g->members);
	TAILQ_INSERT_TAIL(&c->groups, g, link);
	c->ngroups++;
	return g;
}

/* Tell kbroker to store the group's membership (g NULL: its removal). */
static void
stored(struct kp_coord *c, const char *id, const struct kp_coord_group *g)
{
	if (c->cb.group_changed != NULL)
		c->cb.group_changed(c->cb.arg, id, g);
}

static void
group_remove(struct kp_coord *c, struct kp_coord_group *g)
{
	TAILQ_REMOVE(&c->groups, g, link);
	c->ngroups--;
	group_free(g);
}

/* A group that ends while running: its stored membership goes too. */
static void
group_end(struct kp_coord *c, struct kp_coord_group *g)
{
	char *id = g->id;

	g->id = NULL;
	group_remove(c, g);
	stored(c, id, NULL);
	free(id);
}

static void
set_state(struct kp_coord_group *g, enum kp_coord_state s, int64_t wall)
{
	g->state = s;
	g->state_ts = wall;
}

/* Replace *dst by a copy of src (NULL allowed). 0 or -1. */
static int
set_str(char **dst, const char *src)
{
	char *n = NULL;

	if (src != NULL && (n = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

static struct kp_coord_member *
member_find(struct kp_coord_group *g, const char *id)
{
	struct kp_coord_member *m;

	TAILQ_FOREACH(m, &g->members, link)
		if (strcmp(m->member_id, id) == 0)
			return m;
	return NULL;
}

static struct kp_coord_member *
member_by_instance(struct kp_coord_group *g, const char *iid)
{
	struct kp_coord_member *m;

	if (iid == NULL)
		return NULL;
	TAILQ_FOREACH(m, &g->members, link)
		if (m->instance_id != NULL && strcmp(m->instance_id, iid) == 0)
			return m;
	return NULL;
}

/* Static member fenced: its instance id now belongs to another member id. */
static bool
fenced(struct kp_coord_group *g, const char *member_id, const char *iid)
{
	struct kp_coord_member *m = member_by_instance(g, iid);

	return m != NULL && strcmp(m->member_id, member_id) != 0;
}

static bool
is_leader(const struct kp_coord_group *g, const struct kp_coord_member *m)
{
	return g->leader != NULL && strcmp(g->leader, m->member_id) == 0;
}

static const struct kp_coord_proto *
proto_find(const struct kp_coord_proto *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return &p[i];
	return NULL;
}

/* How many members support the protocol name. */
static size_t
proto_votes(struct kp_coord_group *g, const char *name)
{
	struct kp_coord_member *m;
	size_t n = 0;

	TAILQ_FOREACH(m, &g->members, link)
		if (proto_find(m->protos, m->nprotos, name) != NULL)
			n++;
	return n;
}

/*
 * GroupMetadata.supportsProtocols: the first member sets the type; later
 * ones must share the type and one protocol every member supports.
 */
static bool
supports(struct kp_coord_group *g, const char *type,
    const struct kp_coord_proto *p, size_t n)
{
	if (g->nmembers == 0)
		return type[0] != '\0' && n > 0;
	if (g->protocol_type == NULL || strcmp(g->protocol_type, type) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (proto_votes(g, p[i].name) == g->nmembers)
			return true;
	return false;
}

/*
 * GroupMetadata.selectProtocol: among protocols all members support,
 * each member votes for the first in its own order; most votes wins,
 * ties go to the earlier candidate in the first member's order.
 */
static const char *
select_protocol(struct kp_coord_group *g)
{
	struct kp_coord_member *first = TAILQ_FIRST(&g->members), *m;
	const char *best = NULL;
	size_t best_votes = 0;

	if (first == NULL)
		return NULL;
	for (size_t i = 0; i < first->nprotos; i++) {
		const char *cand = first->protos[i].name;
		size_t votes = 0;

		if (proto_votes(g, cand) != g->nmembers)
			continue;
		TAILQ_FOREACH(m, &g->members, link) {
			for (size_t k = 0; k < m->nprotos; k++) {
				if (proto_votes(g, m->protos[k].name) !=
				    g->nmembers)
					continue;
				if (strcmp(m->protos[k].name, cand) == 0)
					votes++;
				break;
			}
		}
		if (best == NULL || votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return best;
}

static struct kp_coord_proto *
protos_copy(const struct kp_coord_proto *p, size_t n)
{
	struct kp_coord_proto *o = calloc(n ? n : 1, sizeof(*o));

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		o[i].name = strdup(p[i].name);
		o[i].meta = malloc(p[i].len ? p[i].len : 1);
		if (o[i].name == NULL || o[i].meta == NULL) {
			protos_free(o, i + 1);
			return NULL;
		}
		if (p[i].len > 0)
			memcpy(o[i].meta, p[i].meta, p[i].len);
		o[i].len = p[i].len;
	}
	return o;
}

static bool
protos_same(const struct kp_coord_member *m, const struct kp_coord_proto *p,
    size_t n)
{
	if (m->nprotos != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(m->protos[i].name, p[i].name) != 0 ||
		    m->protos[i].len != p[i].len ||
		    (p[i].len > 0 && memcmp(m->protos[i].meta, p[i].meta,
		    p[i].len) != 0))
			return false;
	return true;
}

/* Take the request's protocols and timeouts. 0, or -1 (ENOMEM). */
static int
member_update(struct kp_coord_member *m, const struct kp_coord_join_req *r)
{
	struct kp_coord_proto *p = protos_copy(r->protos, r->nprotos);

	if (p == NULL)
		return -1;
	protos_free(m->protos, m->nprotos);
	m->protos = p;
	m->nprotos = r->nprotos;
	m->session_ms = r->session_ms;
	m->rebalance_ms = r->rebalance_ms;
	return 0;
}

static void
join_reply(struct kp_coord *c, void *waiter, int16_t err, const char *mid)
{
	struct kp_coord_join_result res;

	if (waiter == NULL)
		return;
	memset(&res, 0, sizeof(res));
	res.error = err;
	res.generation = -1;
	res.leader = "";
	res.member_id = mid != NULL ? mid : "";
	c->cb.join_done(c->cb.arg, waiter, &res);
}

static void
sync_reply(struct kp_coord *c, struct kp_coord_group *g, void *waiter,
    int16_t err, const uint8_t *assign, size_t len)
{
	if (waiter == NULL)
		return;
	c->cb.sync_done(c->cb.arg, waiter, err,
	    err == KP_NONE && g ? g->protocol_type : NULL,
	    err == KP_NONE && g ? g->protocol : NULL, assign, len);
}

const struct kp_coord_proto *
kp_coord_member_proto(const struct kp_coord_member *m, const char *protocol)
{
	if (protocol == NULL)
		return NULL;
	return proto_find(m->protos, m->nprotos, protocol);
}

/*
 * Answer one member's join with the current generation; the leader gets
 * every member. The member's waiter is cleared first, so the callback may
 * forget waiters freely.
 */
static void
join_answer(struct kp_coord *c, struct kp_coord_group *g,
    struct kp_coord_member *m, void *waiter)
{
	struct kp_coord_join_result res;
	struct kp_coord_member **all = NULL, *o;
	size_t n = 0;

	if (waiter == NULL)
		return;
	memset(&res, 0, sizeof(res));
	res.error = KP_NONE;
	res.generation = g->generation;
	res.protocol_type = g->protocol_type;
	res.protocol = g->protocol;
	res.leader = g->leader != NULL ? g->leader : "";
	res.member_id = m->member_id;
	if (is_leader(g, m)) {
		all = calloc(g->nmembers ? g->nmembers : 1, sizeof(*all));
		if (all == NULL) {
			join_reply(c, waiter, KP_UNKNOWN_SERVER_ERROR,
			    m->member_id);
			return;
		}
		TAILQ_FOREACH(o, &g->members, link)
			all[n++] = o;
		res.members = all;
		res.nmembers = n;
	}
	c->cb.join_done(c->cb.arg, waiter, &res);
	free(all);
}

static int32_t
rebalance_timeout(struct kp_coord_group *g)
{
	struct kp_coord_member *m;
	int32_t t = 0;

	TAILQ_FOREACH(m, &g->members, link)
		if (m->rebalance_ms > t)
			t = m->rebalance_ms;
	return t;
}

/* Cancel the sync phase: every waiting member must rejoin. */
static void
reset_syncs(struct kp_coord *c, struct kp_coord_group *g)
{
	struct kp_coord_member *m;

	TAILQ_FOREACH(m, &g->members, link) {
		void *w = m->syncing ? m->sync_waiter : NULL;

		m->sync_waiter = NULL;
		m->syncing = false;
		free(m->assign);
		m->assign = NULL;
		m->assign_len = 0;
		sync_reply(c, g, w, KP_REBALANCE_IN_PROGRESS, NULL, 0);
	}
}

/*
 * GroupCoordinator.prepareRebalance: an Empty group waits
 * group.initial.rebalance.delay.ms for more members (InitialDelayedJoin),
 * others up to the longest rebalance timeout for every member to rejoin.
 */
static void
prepare_rebalance(struct kp_coord *c, struct kp_coord_group *g, int64_t now,
    int64_t wall)
{
	int32_t rt = rebalance_timeout(g);

	if (g->state == KP_GROUP_COMPLETING)
		reset_syncs(c, g);
	if (g->state == KP_GROUP_EMPTY) {
		int32_t d = c->conf.initial_delay_ms < rt ?
		    c->conf.initial_delay_ms : rt;

		g->initial_delay = true;
		g->new_joined = false;
		g->join_deadline = now + d;
		g->delay_left = rt - d;
	} else {
		g->initial_delay = false;
		g->join_deadline = now + rt;
	}
	set_state(g, KP_GROUP_PREPARING, wall);
}

/* The protocol chosen at the end of a join, copied into the group. */
static void
next_generation(struct kp_coord_group *g, int64_t wall)
{
	char *p = NULL;
	const char *sel = select_protocol(g);

	g->generation++;
	if (sel != NULL)
		p = strdup(sel);
	free(g->protocol);
	g->protocol = p;
	if (g->nmembers == 0) {
		/* Kafka keeps the protocol type of an emptied group. */
		free(g->protocol);
		g->protocol = NULL;
		set_state(g, KP_GROUP_EMPTY, wall);
	} else {
		set_state(g, KP_GROUP_COMPLETING, wall);
	}
}

static void
member_unlink(struct kp_coord_group *g, struct kp_coord_member *m)
{
	TAILQ_REMOVE(&g->members, m, link);
	g->nmembers--;
	if (is_leader(g, m)) {
		struct kp_coord_member *f = TAILQ_FIRST(&g->members);

		free(g->leader);
		g->leader = f != NULL ? strdup(f->member_id) : NULL;
	}
}

/*
 * GroupCoordinator.onCompleteJoin: members that did not rejoin are
 * dropped, a new generation starts, and every joined member is answered.
 */
static void
complete_join(struct kp_coord *c, struct kp_coord_group *g, int64_t now,
    int64_t wall)
{
	struct kp_coord_member *m, *t;

	TAILQ_FOREACH_SAFE(m, &g->members, link, t) {
		if (!m->joined) {
			member_unlink(g, m);
			sync_reply(c, g, m->syncing ? m->sync_waiter : NULL,
			    KP_UNKNOWN_MEMBER_ID, NULL, 0);
			member_free(m);
		}
	}
	g->join_deadline = -1;
	g->initial_delay = false;
	if (g->leader == NULL && (m = TAILQ_FIRST(&g->members)) != NULL)
		set_str(&g->leader, m->member_id);
	next_generation(g, wall);
	/* Kafka stores an emptied group; a full one at its assignment */
	if (g->state == KP_GROUP_EMPTY)
		stored(c, g->id, g);
	TAILQ_FOREACH(m, &g->members, link) {
		m->joined = false;
		m->is_new = false;
		m->deadline = now + m->session_ms;
	}
	/* Answer from a snapshot: callbacks may forget other waiters. */
	TAILQ_FOREACH(m, &g->members, link) {
		void *w = m->join_waiter;

		m->join_waiter = NULL;
		join_answer(c, g, m, w);
	}
}

static bool
all_joined(struct kp_coord_group *g)
{
	struct kp_coord_member *m;

	if (g->npending > 0)
		return false;
	TAILQ_FOREACH(m, &g->members, link)
		if (!m->joined)
			return false;
	return true;
}

/* DelayedJoin.tryComplete / onExpire and InitialDelayedJoin.onExpire. */
static void
try_complete(struct kp_coord *c, struct kp_coord_group *g, int64_t now,
    int64_t wall)
{
	if (g->state != KP_GROUP_PREPARING)
		return;
	if (g->initial_delay) {
		if (now < g->join_deadline)
			return;
		if (g->new_joined && g->delay_left > 0) {
			int32_t d = c->conf.initial_delay_ms < g->delay_left ?
			    c->conf.initial_delay_ms : g->delay_left;

			g->new_joined = false;
			g->join_deadline = now + d;
			g->delay_left -= d;
			return;
		}
		complete_join(c, g, now, wall);
		return;
	}
	if (all_joined(g) || now >= g->join_deadline)
		complete_join(c, g, now, wall);
}

/* A new member: generate its id as Kafka does, "<client.id>-<uuid>". */
static char *
new_member_id(struct kp_coord *c, const char *client_id)
{
	char *s = NULL;
	uint32_t r[4];

	for (size_t i = 0; i < 4; i++)
		r[i] = arc4random();
	c->seq++;
	if (asprintf(&s, "%s-%08x-%04x-%04x-%04x-%04x%08x", client_id, r[0],
	    r[1] >> 16, (r[1] & 0x0fff) | 0x4000,
	    (r[2] >> 16 & 0x3fff) | 0x8000, r[2] & 0xffff, r[3]) == -1)
		return NULL;
	return s;
}

static struct kp_coord_member *
member_new(const struct kp_coord_join_req *r, char *id)
{
	struct kp_coord_member *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->member_id = id;
	if (set_str(&m->instance_id, r->instance_id) == -1 ||
	    set_str(&m->client_id, r->client_id ? r->client_id : "") == -1 ||
	    set_str(&m->client_host, r->client_host ? r->client_host : "") ==
	    -1 || member_update(m, r) == -1) {
		member_free(m);
		return NULL;
	}
	return m;
}

/* addMemberAndRebalance */
static void
add_and_rebalance(struct kp_coord *c, struct kp_coord_group *g,
    const struct kp_coord_join_req *r, char *id, void *waiter, int64_t now,
    int64_t wall)
{
	struct kp_coord_member *m = member_new(r, id);

	if (m == NULL) {
		join_reply(c, waiter, KP_UNKNOWN_SERVER_ERROR, "");
		return;
	}
	if (g->nmembers == 0 && set_str(&g->protocol_type, r->protocol_type)
	    == -1) {
		member_free(m);
		join_reply(c, waiter, KP_UNKNOWN_SERVER_ERROR, "");
		return;
	}
	m->joined = true;
	m->is_new = true;
	m->join_waiter = waiter;
	m->deadline = now + m->session_ms;
	TAILQ_INSERT_TAIL(&g->members, m, link);
	g->nmembers++;
	if (g->leader == NULL)
		set_str(&g->leader, m->member_id);
	if (g->state == KP_GROUP_PREPARING && g->initial_delay)
		g->new_joined = true;
	if (g->state != KP_GROUP_PREPARING)
		prepare_rebalance(c, g, now, wall);
	try_complete(c, g, now, wall);
}

/* updateMemberAndRebalance */
static void
update_and_rebalance(struct kp_coord *c, struct kp_coord_group *g,
    struct kp_coord_member *m, const struct kp_coord_join_req *r,
    void *waiter, int64_t now, int64_t wall)
{
	void *old = m->join_waiter;

	if (member_update(m, r) == -1) {
		join_reply(c, waiter, KP_UNKNOWN_SERVER_ERROR, m->member_id);
		return;
	}
	m->join_waiter = waiter;
	m->joined = true;
	m->deadline = now + m->session_ms;
	if (old != NULL && old != waiter)
		join_reply(c, old, KP_REBALANCE_IN_PROGRESS, m->member_id);
	if (g->state != KP_GROUP_PREPARING)
		prepare_rebalance(c, g, now, wall);
	try_complete(c, g, now, wall);
}

static ssize_t
pending_find(struct kp_coord_group *g, const char *id)
{
	for (size_t i = 0; i < g->npending; i++)
		if (strcmp(g->pending[i].member_id, id) == 0)
			return (ssize_t)i;
	return -1;
}

static void
pending_remove(struct kp_coord_group *g, size_t i)
{
	free(g->pending[i].member_id);
	g->pending[i] = g->pending[--g->npending];
}

/*
 * A known static member rejoins with a new member id (a restart): the
 * old id is fenced. In Stable with the same protocols it keeps its
 * assignment without a rebalance, as Kafka does; else the group
 * rebalances.
 */
static void
join_static_known(struct kp_coord *c, struct kp_coord_group *g,
    struct kp_coord_member *m, const struct kp_coord_join_req *r, char *id,
    void *waiter, int64_t now, int64_t wall)
{
	bool was_leader = is_leader(g, m), same;
	void *oj = m->join_waiter, *os = m->syncing ? m->sync_waiter : NULL;

	same = protos_same(m, r->protos, r->nprotos);
	m->join_waiter = NULL;
	m->sync_waiter = NULL;
	m->syncing = false;
	join_reply(c, oj, KP_FENCED_INSTANCE_ID, m->member_id);
	sync_reply(c, g, os, KP_FENCED_INSTANCE_ID, NULL, 0);
	free(m->member_id);
	m->member_id = id;
	if (was_leader)
		set_str(&g->leader, id);
	if (g->state == KP_GROUP_STABLE && same && !was_leader) {
		m->deadline = now + r->session_ms;
		m->session_ms = r->session_ms;
		m->rebalance_ms = r->rebalance_ms;
		stored(c, g->id, g);
		join_answer(c, g, m, waiter);
		return;
	}
	update_and_rebalance(c, g, m, r, waiter, now, wall);
}

static void
join_new(struct kp_coord *c, struct kp_coord_group *g,
    const struct kp_coord_join_req *r, void *waiter, int64_t now,
    int64_t wall)
{
	char *id = new_member_id(c, r->client_id ? r->client_id : "");
	struct kp_coord_member *m;

	if (id == NULL) {
		join_reply(c, waiter, KP_UNKNOWN_SERVER_ERROR, "");
		return;
	}
	if ((m = member_by_instance(g, r->instance_id)) != NULL) {
		join_static_known(c, g, m, r, id, waiter, now, wall);
		return;
	}
	if (r->instance_id == NULL && r->require_known_id) {
		struct kp_coord_pending *np = reallocarray(g->pending,
		    g->npending + 1, sizeof(*np));

		if (np == NULL) {
			free(id);
			join_reply(c, waiter, KP_UNKNOWN_SERVER_ERROR, "");
			return;
		}
		g->pending = np;
		np[g->npending].member_id = id;
		np[g->npending].deadline = now + r->session_ms;
		g->npending++;
		join_reply(c, waiter, KP_MEMBER_ID_REQUIRED, id);
		return;
	}
	add_and_rebalance(c, g, r, id, waiter, now, wall);
}

static void
join_known(struct kp_coord *c, struct kp_coord_group *g,
    const struct kp_coord_join_req *r, void *waiter, int64_t now,
    int64_t wall)
{
	struct kp_coord_member *m;
	ssize_t pi = pending_find(g, r->member_id);

	if (pi >= 0) {
		char *id = g->pending[pi].member_id;

		g->pending[pi].member_id = NULL;
		g->pending[pi] = g->pending[--g->npending];
		add_and_rebalance(c, g, r, id, waiter, now, wall);
		return;
	}
	if (fenced(g, r->member_id, r->instance_id)) {
		join_reply(c, waiter, KP_FENCED_INSTANCE_ID, r->member_id);
		return;
	}
	if ((m = member_find(g, r->member_id)) == NULL) {
		join_reply(c, waiter, KP_UNKNOWN_MEMBER_ID, r->member_id);
		return;
	}
	switch (g->state) {
	case KP_GROUP_PREPARING:
		update_and_rebalance(c, g, m, r, waiter, now, wall);
		break;
	case KP_GROUP_COMPLETING:
		if (protos_same(m, r->protos, r->nprotos)) {
			/* A lost JoinGroup response asked again. */
			m->deadline = now + m->session_ms;
			join_answer(c, g, m, waiter);
		} else {
			update_and_rebalance(c, g, m, r, waiter, now, wall);
		}
		break;
	case KP_GROUP_STABLE:
		if (is_leader(g, m) || !protos_same(m, r->protos, r->nprotos)) {
			update_and_rebalance(c, g, m, r, waiter, now, wall);
		} else {
			m->deadline = now + m->session_ms;
			join_answer(c, g, m, waiter);
		}
		break;
	default:
		join_reply(c, waiter, KP_UNKNOWN_MEMBER_ID, r->member_id);
		break;
	}
}

void
kp_coord_join(struct kp_coord *c, const struct kp_coord_join_req *r,
    void *waiter, int64_t now, int64_t wall)
{
	struct kp_coord_group *g;
	const char *mid = r->member_id ? r->member_id : "";

	if (r->group_id == NULL || r->group_id[0] == '\0') {
		join_reply(c, waiter, KP_INVALID_GROUP_ID, mid);
		return;
	}
	if (r->session_ms < c->conf.min_session_ms ||
	    r->session_ms > c->conf.max_session_ms) {
		join_reply(c, waiter, KP_INVALID_SESSION_TIMEOUT, mid);
		return;
	}
	if ((g = kp_coord_group(c, r->group_id)) == NULL) {
		if (mid[0] != '\0') {
			join_reply(c, waiter, KP_UNKNOWN_MEMBER_ID, mid);
			return;
		}
		if ((g = group_new(c, r->group_id, wall)) == NULL) {
			join_reply(c, waiter, KP_UNKNOWN_SERVER_ERROR, mid);
			return;
		}
	}
	if (mid[0] == '\0' && member_by_instance(g, r->instance_id) == NULL &&
	    g->nmembers + g->npending >= (size_t)c->conf.max_size) {
		join_reply(c, waiter, KP_GROUP_MAX_SIZE_REACHED, mid);
		return;
	}
	if (!supports(g, r->protocol_type ? r->protocol_type : "", r->protos,
	    r->nprotos)) {
		join_reply(c, waiter, KP_INCONSISTENT_GROUP_PROTOCOL, mid);
		return;
	}
	if (mid[0] == '\0')
		join_new(c, g, r, waiter, now, wall);
	else
		join_known(c, g, r, waiter, now, wall);
}

/* Check member id, instance id and generation; KP_NONE or the error. */
static int16_t
check_member(struct kp_coord_group *g, const char *member_id,
    const char *iid, int32_t generation, struct kp_coord_member **out)
{
	struct kp_coord_member *m;

	*out = NULL;
	if (g == NULL)
		return KP_UNKNOWN_MEMBER_ID;
	if (g->state == KP_GROUP_DEAD)
		return KP_COORDINATOR_NOT_AVAILABLE;
	if (fenced(g, member_id, iid))
		return KP_FENCED_INSTANCE_ID;
	if ((m = member_find(g, member_id)) == NULL)
		return KP_UNKNOWN_MEMBER_ID;
	*out = m;
	if (generation != g->generation)
		return KP_ILLEGAL_GENERATION;
	return KP_NONE;
}

void
kp_coord_sync(struct kp_coord *c, const char *group, int32_t generation,
    const char *member_id, const char *iid, const char *ptype,
    const char *proto, const char *const *ids, const uint8_t *const *assigns,
    const size_t *lens, size_t n, void *waiter, int64_t now, int64_t wall)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	struct kp_coord_member *m, *o;
	int16_t err = check_member(g, member_id, iid, generation, &m);

	(void)wall;
	if (err == KP_NONE && ((ptype != NULL && (g->protocol_type == NULL ||
	    strcmp(ptype, g->protocol_type) != 0)) || (proto != NULL &&
	    (g->protocol == NULL || strcmp(proto, g->protocol) != 0))))
		err = KP_INCONSISTENT_GROUP_PROTOCOL;
	if (err == KP_NONE && g->state == KP_GROUP_EMPTY)
		err = KP_UNKNOWN_MEMBER_ID;
	if (err == KP_NONE && g->state == KP_GROUP_PREPARING)
		err = KP_REBALANCE_IN_PROGRESS;
	if (err != KP_NONE) {
		sync_reply(c, g, waiter, err, NULL, 0);
		return;
	}
	m->deadline = now + m->session_ms;
	if (g->state == KP_GROUP_STABLE) {
		sync_reply(c, g, waiter, KP_NONE, m->assign, m->assign_len);
		return;
	}
	/* CompletingRebalance: wait for the leader's assignment. */
	if (m->syncing && m->sync_waiter != waiter)
		sync_reply(c, g, m->sync_waiter, KP_REBALANCE_IN_PROGRESS,
		    NULL, 0);
	m->sync_waiter = waiter;
	m->syncing = true;
	if (!is_leader(g, m))
		return;
	TAILQ_FOREACH(o, &g->members, link) {
		free(o->assign);
		o->assign = NULL;
		o->assign_len = 0;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(ids[i], o->member_id) != 0 || lens[i] == 0)
				continue;
			if ((o->assign = malloc(lens[i])) != NULL) {
				memcpy(o->assign, assigns[i], lens[i]);
				o->assign_len = lens[i];
			}
		}
	}
	set_state(g, KP_GROUP_STABLE, wall);
	stored(c, g->id, g);
	TAILQ_FOREACH(o, &g->members, link) {
		void *w = o->syncing ? o->sync_waiter : NULL;

		o->sync_waiter = NULL;
		o->syncing = false;
		sync_reply(c, g, w, KP_NONE, o->assign, o->assign_len);
	}
}

int16_t
kp_coord_heartbeat(struct kp_coord *c, const char *group, int32_t generation,
    const char *member_id, const char *iid, int64_t now, int64_t wall)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	struct kp_coord_member *m;
	int16_t err;

	(void)wall;
	if (g != NULL && g->state == KP_GROUP_EMPTY)
		return KP_UNKNOWN_MEMBER_ID;
	if ((err = check_member(g, member_id, iid, generation, &m)) != KP_NONE)
		return err;
	m->deadline = now + m->session_ms;
	if (g->state == KP_GROUP_PREPARING)
		return KP_REBALANCE_IN_PROGRESS;
	return KP_NONE;
}

/* removeMemberAndUpdateGroup */
static void
remove_member(struct kp_coord *c, struct kp_coord_group *g,
    struct kp_coord_member *m, int64_t now, int64_t wall)
{
	void *jw = m->join_waiter, *sw = m->syncing ? m->sync_waiter : NULL;
	char *id = m->member_id;

	member_unlink(g, m);
	m->member_id = NULL;
	join_reply(c, jw, KP_UNKNOWN_MEMBER_ID, id);
	sync_reply(c, g, sw, KP_UNKNOWN_MEMBER_ID, NULL, 0);
	free(id);
	member_free(m);
	switch (g->state) {
	case KP_GROUP_STABLE:
	case KP_GROUP_COMPLETING:
		prepare_rebalance(c, g, now, wall);
		try_complete(c, g, now, wall);
		break;
	case KP_GROUP_PREPARING:
		try_complete(c, g, now, wall);
		break;
	default:
		break;
	}
}

int16_t
kp_coord_leave(struct kp_coord *c, const char *group, const char *member_id,
    const char *iid, int64_t now, int64_t wall)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	struct kp_coord_member *m = NULL;

	if (g == NULL)
		return KP_UNKNOWN_MEMBER_ID;
	if (member_id != NULL && member_id[0] != '\0') {
		if (fenced(g, member_id, iid))
			return KP_FENCED_INSTANCE_ID;
		m = member_find(g, member_id);
	} else {
		m = member_by_instance(g, iid);
	}
	if (m == NULL)
		return KP_UNKNOWN_MEMBER_ID;
	remove_member(c, g, m, now, wall);
	return KP_NONE;
}

void
kp_coord_forget(struct kp_coord *c, void *waiter)
{
	struct kp_coord_group *g;
	struct kp_coord_member *m;

	if (waiter == NULL)
		return;
	TAILQ_FOREACH(g, &c->groups, link) {
		TAILQ_FOREACH(m, &g->members, link) {
			if (m->join_waiter == waiter)
				m->join_waiter = NULL;
			if (m->syncing && m->sync_waiter == waiter) {
				m->sync_waiter = NULL;
				m->syncing = false;
			}
		}
	}
}

int16_t
kp_coord_commit_check(struct kp_coord *c, const char *group,
    int32_t generation, const char *member_id, const char *iid, int64_t now,
    int64_t wall)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	struct kp_coord_member *m;
	int16_t err;

	if (group == NULL || group[0] == '\0')
		return KP_INVALID_GROUP_ID;
	if (g == NULL) {
		/* Not managed by the coordinator: simple commits only. */
		if (generation >= 0)
			return KP_ILLEGAL_GENERATION;
		return group_new(c, group, wall) != NULL ? KP_NONE :
		    KP_UNKNOWN_SERVER_ERROR;
	}
	if (generation < 0 && g->state == KP_GROUP_EMPTY &&
	    (member_id == NULL || member_id[0] == '\0'))
		return KP_NONE;
	if ((err = check_member(g, member_id ? member_id : "", iid,
	    generation, &m)) != KP_NONE)
		return err;
	if (g->state == KP_GROUP_COMPLETING)
		return KP_REBALANCE_IN_PROGRESS;
	m->deadline = now + m->session_ms;
	return KP_NONE;
}

static struct kp_coord_offset *
offset_find(struct kp_coord_group *g, const char *topic, int32_t p,
    size_t *at)
{
	for (size_t i = 0; i < g->noffsets; i++) {
		if (g->offsets[i].partition == p &&
		    strcmp(g->offsets[i].topic, topic) == 0) {
			if (at != NULL)
				*at = i;
			return &g->offsets[i];
		}
	}
	return NULL;
}

static int
offset_put(struct kp_coord_group *g, const char *topic, int32_t p,
    const struct kp_coord_offset *v, struct kp_coord_offset **out)
{
	struct kp_coord_offset *o = offset_find(g, topic, p, NULL);
	char *md = strdup(v->metadata ? v->metadata : "");

	if (md == NULL)
		return -1;
	if (o == NULL) {
		if (g->noffsets == g->offsets_cap) {
			size_t n = g->offsets_cap ? g->offsets_cap * 2 : 16;
			struct kp_coord_offset *no = reallocarray(g->offsets,
			    n, sizeof(*no));

			if (no == NULL) {
				free(md);
				return -1;
			}
			g->offsets = no;
			g->offsets_cap = n;
		}
		o = &g->offsets[g->noffsets];
		memset(o, 0, sizeof(*o));
		if ((o->topic = strdup(topic)) == NULL) {
			free(md);
			return -1;
		}
		o->partition = p;
		g->noffsets++;
	}
	free(o->metadata);
	o->metadata = md;
	o->offset = v->offset;
	o->leader_epoch = v->leader_epoch;
	o->commit_ts = v->commit_ts;
	o->expire_ts = v->expire_ts;
	if (out != NULL)
		*out = o;
	return 0;
}

static void
offset_drop(struct kp_coord *c, struct kp_coord_group *g, size_t i,
    bool notify)
{
	struct kp_coord_offset o = g->offsets[i];

	g->offsets[i] = g->offsets[--g->noffsets];
	if (notify && c->cb.offset_changed != NULL)
		c->cb.offset_changed(c->cb.arg, g->id, o.topic, o.partition,
		    NULL);
	free(o.topic);
	free(o.metadata);
}

int
kp_coord_commit(struct kp_coord *c, const char *group, const char *topic,
    int32_t partition, int64_t offset, int32_t leader_epoch,
    const char *metadata, int64_t commit_ts, int64_t expire_ts)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	struct kp_coord_offset v, *o;

	if (g == NULL) {
		errno = ENOENT;
		return -1;
	}
	v.topic = NULL;
	v.partition = partition;
	v.offset = offset;
	v.leader_epoch = leader_epoch;
	v.metadata = (char *)(metadata ? metadata : "");
	v.commit_ts = commit_ts;
	v.expire_ts = expire_ts;
	if (offset_put(g, topic, partition, &v, &o) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (c->cb.offset_changed != NULL)
		c->cb.offset_changed(c->cb.arg, g->id, topic, partition, o);
	return 0;
}

const struct kp_coord_offset *
kp_coord_offset(struct kp_coord *c, const char *group, const char *topic,
    int32_t partition)
{
	struct kp_coord_group *g = kp_coord_group(c, group);

	return g != NULL ? offset_find(g, topic, partition, NULL) : NULL;
}

int
kp_coord_load(struct kp_coord *c, const char *group, const char *topic,
    int32_t partition, const struct kp_coord_offset *o, int64_t wall)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	size_t at;

	if (o == NULL) {
		if (g != NULL && offset_find(g, topic, partition, &at) != NULL)
			offset_drop(c, g, at, false);
		/* A group only loaded offsets made is gone with the last one. */
		if (g != NULL && g->noffsets == 0 && g->nmembers == 0 &&
		    g->npending == 0)
			group_remove(c, g);
		return 0;
	}
	if (g == NULL && (g = group_new(c, group, wall)) == NULL)
		return -1;
	return offset_put(g, topic, partition, o, NULL);
}

/*
 * Drop every member and pending id; a waiter still parked on one (a
 * cluster broker that led the group before) is told to look for the
 * coordinator again.
 */
static void
members_clear(struct kp_coord *c, struct kp_coord_group *g)
{
	struct kp_coord_member *m;

	while ((m = TAILQ_FIRST(&g->members)) != NULL) {
		member_unlink(g, m);
		join_reply(c, m->join_waiter, KP_NOT_COORDINATOR,
		    m->member_id);
		sync_reply(c, g, m->syncing ? m->sync_waiter : NULL,
		    KP_NOT_COORDINATOR, NULL, 0);
		member_free(m);
	}
	while (g->npending > 0)
		pending_remove(g, g->npending - 1);
	g->join_deadline = -1;
	g->initial_delay = false;
}

static struct kp_coord_member *
saved_member(const struct kp_coord_saved *s,
    const struct kp_coord_saved_member *sm, int64_t now)
{
	struct kp_coord_member *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->session_ms = sm->session_ms;
	m->rebalance_ms = sm->rebalance_ms;
	m->deadline = now + sm->session_ms;
	if (s->protocol != NULL) {
		struct kp_coord_proto p = { (char *)s->protocol,
		    (uint8_t *)sm->subscription, sm->sub_len };

		if ((m->protos = protos_copy(&p, 1)) == NULL) {
			free(m);
			return NULL;
		}
		m->nprotos = 1;
	}
	if ((sm->assign_len > 0 &&
	    (m->assign = malloc(sm->assign_len)) == NULL) ||
	    set_str(&m->member_id, sm->member_id) == -1 ||
	    set_str(&m->instance_id, sm->instance_id) == -1 ||
	    set_str(&m->client_id, sm->client_id) == -1 ||
	    set_str(&m->client_host, sm->client_host) == -1) {
		member_free(m);
		return NULL;
	}
	if (sm->assign_len > 0)
		memcpy(m->assign, sm->assign, sm->assign_len);
	m->assign_len = sm->assign_len;
	return m;
}

int
kp_coord_load_group(struct kp_coord *c, const char *group,
    const struct kp_coord_saved *s, int64_t now, int64_t wall)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	struct kp_coord_member *m;

	if (g != NULL) {
		members_clear(c, g);
		free(g->protocol);
		free(g->leader);
		g->protocol = g->leader = NULL;
	}
	if (s == NULL) {
		if (g != NULL && g->noffsets == 0)
			group_remove(c, g);
		else if (g != NULL)
			set_state(g, KP_GROUP_EMPTY, wall);
		return 0;
	}
	if (g == NULL && (g = group_new(c, group, wall)) == NULL)
		return -1;
	g->generation = s->generation;
	if (set_str(&g->protocol_type, s->protocol_type) == -1 ||
	    set_str(&g->protocol, s->protocol) == -1 ||
	    set_str(&g->leader, s->leader) == -1)
		return -1;
	for (size_t i = 0; i < s->nmembers; i++) {
		if (member_find(g, s->members[i].member_id) != NULL)
			continue;	/* a damaged record's repeat */
		if ((m = saved_member(s, &s->members[i], now)) == NULL)
			return -1;
		TAILQ_INSERT_TAIL(&g->members, m, link);
		g->nmembers++;
	}
	/* a leader that is no member would leave the next rebalance none */
	if (g->leader != NULL && member_find(g, g->leader) == NULL &&
	    set_str(&g->leader, (m = TAILQ_FIRST(&g->members)) != NULL ?
	    m->member_id : NULL) == -1)
		return -1;
	set_state(g, g->nmembers > 0 ? KP_GROUP_STABLE : KP_GROUP_EMPTY,
	    s->state_ts >= 0 ? s->state_ts : wall);
	return 0;
}

int16_t
kp_coord_delete_group(struct kp_coord *c, const char *group, int64_t wall)
{
	struct kp_coord_group *g = kp_coord_group(c, group);

	(void)wall;
	if (g == NULL)
		return KP_GROUP_ID_NOT_FOUND;
	if (g->state != KP_GROUP_EMPTY || g->nmembers > 0)
		return KP_NON_EMPTY_GROUP;
	while (g->noffsets > 0)
		offset_drop(c, g, g->noffsets - 1, true);
	group_end(c, g);
	return KP_NONE;
}

int16_t
kp_coord_delete_offset(struct kp_coord *c, const char *group,
    const char *topic, int32_t partition, bool subscribed)
{
	struct kp_coord_group *g = kp_coord_group(c, group);
	size_t at;

	if (g == NULL)
		return KP_GROUP_ID_NOT_FOUND;
	if (g->state != KP_GROUP_EMPTY && subscribed)
		return KP_GROUP_SUBSCRIBED_TO_TOPIC;
	if (offset_find(g, topic, partition, &at) != NULL)
		offset_drop(c, g, at, true);
	return KP_NONE;
}

/*
 * Offsets of an Empty group expire offsets.retention after the later of
 * their commit and the group becoming Empty (Kafka 2.1+); an Empty group
 * left with no offsets is removed, as GroupMetadataManager's cleanup does.
 */
static void
expire_offsets(struct kp_coord *c, struct kp_coord_group *g, int64_t wall)
{
	for (size_t i = g->noffsets; i-- > 0; ) {
		const struct kp_coord_offset *o = &g->offsets[i];
		int64_t base = o->commit_ts > g->state_ts ? o->commit_ts :
		    g->state_ts;
		int64_t exp = o->expire_ts >= 0 ? o->expire_ts :
		    base + c->conf.retention_ms;

		if (wall >= exp)
			offset_drop(c, g, i, true);
	}
}

static void
tick_group(struct kp_coord *c, struct kp_coord_group *g, int64_t now,
    int64_t wall)
{
	struct kp_coord_member *m, *t;

	for (size_t i = g->npending; i-- > 0; ) {
		if (g->pending[i].deadline <= now) {
			pending_remove(g, i);
			try_complete(c, g, now, wall);
		}
	}
	TAILQ_FOREACH_SAFE(m, &g->members, link, t) {
		/* A member waiting in JoinGroup is alive (shouldKeepAlive). */
		if (g->state == KP_GROUP_PREPARING && m->joined)
			continue;
		if (m->deadline <= now) {
			remove_member(c, g, m, now, wall);
			/* The list may have changed under us: start over. */
			tick_group(c, g, now, wall);
			return;
		}
	}
	try_complete(c, g, now, wall);
}

void
kp_coord_tick(struct kp_coord *c, int64_t now, int64_t wall)
{
	struct kp_coord_group *g, *t;

	TAILQ_FOREACH_SAFE(g, &c->groups, link, t) {
		tick_group(c, g, now, wall);
		if (g->state == KP_GROUP_EMPTY) {
			expire_offsets(c, g, wall);
			if (g->noffsets == 0 && g->npending == 0 &&
			    wall - g->state_ts >= c->conf.retention_ms)
				group_end(c, g);
		}
	}
}

int64_t
kp_coord_next_deadline(const struct kp_coord *c)
{
	const struct kp_coord_group *g;
	const struct kp_coord_member *m;
	int64_t d = -1;

#define EARLIER(x) do { if (d < 0 || (x) < d) d = (x); } while (0)
	TAILQ_FOREACH(g, &c->groups, link) {
		if (g->state == KP_GROUP_PREPARING)
			EARLIER(g->join_deadline);
		for (size_t i = 0; i < g->npending; i++)
			EARLIER(g->pending[i].deadline);
		TAILQ_FOREACH(m, &g->members, link)
			if (!(g->state == KP_GROUP_PREPARING && m->joined))
				EARLIER(m->deadline);
	}
#undef EARLIER
	return d;
}
