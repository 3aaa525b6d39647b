/* test_kp_coord.c -- the group coordinator state machine driven by a fake clock */
#include <stdlib.h>
#include <string.h>

#include "kp_coord.h"
#include "kp_err.h"
#include "kp_grouprec.h"
#include "tap.h"

/* What the callbacks reported, per waiter (waiters are &w[i]). */
#define NW	16
static int w[NW];

struct got {
	int		 joins, syncs;
	int16_t		 jerr, serr;
	int32_t		 gen;
	char		 member[128], leader[128], proto[32];
	size_t		 nmembers;
	char		 assign[64];
};

static struct got got[NW];
static int offset_events, tombstones;

static struct got *
slot(void *waiter)
{
	return &got[(int *)waiter - w];
}

static void
on_join(void *arg, void *waiter, const struct kp_coord_join_result *r)
{
	struct got *g = slot(waiter);

	(void)arg;
	g->joins++;
	g->jerr = r->error;
	g->gen = r->generation;
	strlcpy(g->member, r->member_id, sizeof(g->member));
	strlcpy(g->leader, r->leader, sizeof(g->leader));
	strlcpy(g->proto, r->protocol ? r->protocol : "", sizeof(g->proto));
	g->nmembers = r->nmembers;
}

static void
on_sync(void *arg, void *waiter, int16_t err, const char *pt, const char *p,
    const uint8_t *a, size_t len)
{
	struct got *g = slot(waiter);

	(void)arg;
	(void)pt;
	(void)p;
	g->syncs++;
	g->serr = err;
	memset(g->assign, 0, sizeof(g->assign));
	if (a != NULL && len < sizeof(g->assign))
		memcpy(g->assign, a, len);
}

static void
on_offset(void *arg, const char *group, const char *topic, int32_t p,
    const struct kp_coord_offset *o)
{
	(void)arg;
	(void)group;
	(void)topic;
	(void)p;
	if (o == NULL)
		tombstones++;
	else
		offset_events++;
}

/* What group_changed stored last, encoded as kbroker logs it. */
static int stores, store_tombs;
static struct kp_buf stored_val;

static void
on_group(void *arg, const char *group, const struct kp_coord_group *g)
{
	(void)arg;
	(void)group;
	if (g == NULL) {
		store_tombs++;
		return;
	}
	stores++;
	kp_buf_reset(&stored_val);
	kp_grouprec_value(&stored_val, g);
}

static struct kp_coord c;
static int64_t now;
#define WALL	(1700000000000LL + now)

static const struct kp_coord_proto range[] = {
	{ (char *)"range", (uint8_t *)"sub", 3 },
	{ (char *)"roundrobin", (uint8_t *)"sub", 3 },
};
static const struct kp_coord_proto rr_only[] = {
	{ (char *)"roundrobin", (uint8_t *)"sub", 3 },
};

static void
setup(int32_t delay)
{
	struct kp_coord_conf conf;
	struct kp_coord_cb cb = { on_join, on_sync, on_offset, on_group,
	    NULL };

	kp_coord_release(&c);
	kp_coord_conf_default(&conf);
	conf.initial_delay_ms = delay;
	conf.min_session_ms = 100;
	conf.retention_ms = 60000;
	kp_coord_init(&c, &conf, &cb);
	memset(got, 0, sizeof(got));
	offset_events = tombstones = stores = store_tombs = 0;
	now = 1000;
}

static void
join(int wi, const char *group, const char *member, const char *iid,
    bool v4, const struct kp_coord_proto *p, size_t np)
{
	struct kp_coord_join_req r = {
		.group_id = group, .member_id = member, .instance_id = iid,
		.client_id = "cli", .client_host = "/127.0.0.1",
		.session_ms = 1000, .rebalance_ms = 5000,
		.protocol_type = "consumer", .protos = p, .nprotos = np,
		.require_known_id = v4,
	};

	kp_coord_join(&c, &r, &w[wi], now, WALL);
}

static void
sync1(int wi, const char *group, int32_t gen, const char *member,
    const char *const *ids, const char *const *assigns, size_t n)
{
	const uint8_t *a[4];
	size_t lens[4];

	for (size_t i = 0; i < n; i++) {
		a[i] = (const uint8_t *)assigns[i];
		lens[i] = strlen(assigns[i]);
	}
	kp_coord_sync(&c, group, gen, member, NULL, NULL, NULL, ids, a, lens,
	    n, &w[wi], now, WALL);
}

static void
tick_to(int64_t t)
{
	now = t;
	kp_coord_tick(&c, now, WALL);
}

static enum kp_coord_state
state(const char *group)
{
	struct kp_coord_group *g = kp_coord_group(&c, group);

	return g ? g->state : KP_GROUP_DEAD;
}

/* MEMBER_ID_REQUIRED, the initial delay, one member through to Stable. */
static void
test_first_member(void)
{
	char id[128];

	setup(300);
	join(0, "g", "", NULL, true, range, 2);
	is_int(got[0].jerr, KP_MEMBER_ID_REQUIRED, "v4 join asks for a member id");
	ok(strncmp(got[0].member, "cli-", 4) == 0, "member id is client.id-uuid");
	strlcpy(id, got[0].member, sizeof(id));
	join(1, "g", id, NULL, true, range, 2);
	is_int(got[1].joins, 0, "join waits for the initial delay");
	is_int(state("g"), KP_GROUP_PREPARING, "group is PreparingRebalance");
	is_int(kp_coord_next_deadline(&c), 1300, "deadline is the initial delay");
	tick_to(1299);
	is_int(got[1].joins, 0, "not before the delay");
	tick_to(1300);
	is_int(got[1].joins, 1, "join answered after the delay");
	is_int(got[1].jerr, KP_NONE, "no error");
	is_int(got[1].gen, 1, "generation 1");
	ok(strcmp(got[1].leader, id) == 0, "it leads");
	is_int(got[1].nmembers, 1, "the leader sees one member");
	ok(strcmp(got[1].proto, "range") == 0, "range chosen");
	is_int(state("g"), KP_GROUP_COMPLETING, "CompletingRebalance");
	is_int(kp_coord_heartbeat(&c, "g", 1, id, NULL, now, WALL), KP_NONE,
	    "heartbeat while completing is fine");
	sync1(2, "g", 1, id, (const char *[]){ id }, (const char *[]){ "A" }, 1);
	is_int(got[2].syncs, 1, "leader sync answered");
	ok(strcmp(got[2].assign, "A") == 0, "with its assignment");
	is_int(state("g"), KP_GROUP_STABLE, "Stable");
	ok(strcmp(kp_coord_state_name(KP_GROUP_STABLE), "Stable") == 0,
	    "state names are Kafka's");
}

/* A second member: rebalance, the leader sees both, syncs wait. */
static void
test_second_member(void)
{
	char a[128], b[128];

	setup(0);
	join(0, "g", "", NULL, false, range, 2);
	tick_to(now);
	strlcpy(a, got[0].member, sizeof(a));
	is_int(got[0].gen, 1, "first member alone, gen 1");
	sync1(1, "g", 1, a, (const char *[]){ a }, (const char *[]){ "all" }, 1);
	join(2, "g", "", NULL, false, rr_only, 1);
	is_int(got[2].joins, 0, "second member waits");
	is_int(kp_coord_heartbeat(&c, "g", 1, a, NULL, now, WALL),
	    KP_REBALANCE_IN_PROGRESS, "first member told to rejoin");
	join(3, "g", a, NULL, false, range, 2);
	is_int(got[2].joins + got[3].joins, 2, "both answered once all rejoined");
	strlcpy(b, got[2].member, sizeof(b));
	is_int(got[3].gen, 2, "generation 2");
	ok(strcmp(got[3].leader, a) == 0 && strcmp(got[2].leader, a) == 0,
	    "the first member still leads");
	is_int(got[3].nmembers, 2, "leader sees both members");
	is_int(got[2].nmembers, 0, "follower sees none");
	ok(strcmp(got[3].proto, "roundrobin") == 0,
	    "the protocol every member supports wins");
	sync1(4, "g", 2, b, NULL, NULL, 0);
	is_int(got[4].syncs, 0, "follower sync waits for the leader");
	sync1(5, "g", 1, a, NULL, NULL, 0);
	is_int(got[5].serr, KP_ILLEGAL_GENERATION, "old generation refused");
	sync1(5, "g", 2, a, (const char *[]){ a, b },
	    (const char *[]){ "p0", "p1" }, 2);
	ok(strcmp(got[5].assign, "p0") == 0, "leader gets its part");
	ok(got[4].syncs == 1 && strcmp(got[4].assign, "p1") == 0,
	    "follower gets its part when the leader syncs");
	sync1(6, "g", 2, b, NULL, NULL, 0);
	ok(strcmp(got[6].assign, "p1") == 0, "a late sync in Stable answers at once");

	/* The follower stops heartbeating: its session expires. */
	tick_to(now + 900);
	is_int(kp_coord_heartbeat(&c, "g", 2, a, NULL, now, WALL), KP_NONE,
	    "leader heartbeat ok");
	is_int(kp_coord_next_deadline(&c), now + 100, "next deadline is b's session");
	tick_to(now + 100);
	is_int(state("g"), KP_GROUP_PREPARING, "b expired: rebalance");
	is_int(kp_coord_heartbeat(&c, "g", 2, b, NULL, now, WALL),
	    KP_UNKNOWN_MEMBER_ID, "b is gone");
	join(7, "g", a, NULL, false, range, 2);
	is_int(got[7].gen, 3, "leader alone in gen 3");
	is_int(got[7].nmembers, 1, "with one member");
	ok(strcmp(got[7].proto, "range") == 0, "back to its preferred protocol");

	/* The last member leaves: the group is Empty. */
	is_int(kp_coord_leave(&c, "g", a, NULL, now, WALL), KP_NONE, "leave");
	is_int(state("g"), KP_GROUP_EMPTY, "Empty after the last leaves");
	is_int(kp_coord_group(&c, "g")->generation, 4, "generation bumped");
	is_int(kp_coord_leave(&c, "g", a, NULL, now, WALL),
	    KP_UNKNOWN_MEMBER_ID, "leaving twice");
}

/* A member that does not rejoin in the rebalance timeout is dropped. */
static void
test_rebalance_timeout(void)
{
	char a[128], b[128];
	int64_t start;
	int16_t hb = KP_NONE;

	setup(10);
	join(0, "g", "", NULL, false, range, 2);
	join(1, "g", "", NULL, false, range, 2);
	tick_to(now + 10);	/* b extended the initial delay */
	tick_to(now + 10);
	strlcpy(a, got[0].member, sizeof(a));
	strlcpy(b, got[1].member, sizeof(b));
	is_int(got[0].gen, 1, "two members, gen 1");
	is_int(got[1].gen, 1, "both in gen 1");
	sync1(2, "g", 1, a, NULL, NULL, 0);
	/* A new member arrives; only a rejoins, b only heartbeats. */
	start = now;
	join(3, "g", "", NULL, false, range, 2);
	join(4, "g", a, NULL, false, range, 2);
	while (now + 800 < start + 5000) {
		tick_to(now + 800);
		hb = kp_coord_heartbeat(&c, "g", 1, b, NULL, now, WALL);
		if (hb != KP_REBALANCE_IN_PROGRESS)
			break;
	}
	is_int(hb, KP_REBALANCE_IN_PROGRESS, "b stays alive by heartbeats");
	is_int(got[4].joins, 0, "the join waits for b up to the timeout");
	tick_to(start + 5000);
	is_int(got[4].joins, 1, "rebalance timeout completes the join");
	is_int(got[4].nmembers, 2, "without b");
	is_int(kp_coord_heartbeat(&c, "g", 2, b, NULL, now, WALL),
	    KP_UNKNOWN_MEMBER_ID, "b was removed");
}

/* The initial delay grows while members keep coming, up to the limit. */
static void
test_initial_delay(void)
{
	setup(100);
	join(0, "g", "", NULL, false, range, 2);
	tick_to(1050);
	join(1, "g", "", NULL, false, range, 2);
	tick_to(1100);
	is_int(got[0].joins, 0, "delay extended by a newcomer");
	tick_to(1200);
	is_int(got[0].joins + got[1].joins, 2, "then both are answered");
	is_int(got[0].nmembers + got[1].nmembers, 2, "in one generation");
}

/* group.instance.id: a restarted static member keeps its place. */
static void
test_static(void)
{
	char a[128], s[128], s2[128];

	setup(10);
	join(0, "g", "", NULL, false, range, 2);
	join(1, "g", "", "inst-1", false, range, 2);
	tick_to(now + 10);
	tick_to(now + 10);
	strlcpy(a, got[0].member, sizeof(a));
	strlcpy(s, got[1].member, sizeof(s));
	sync1(2, "g", 1, a, (const char *[]){ a, s },
	    (const char *[]){ "x", "y" }, 2);
	is_int(state("g"), KP_GROUP_STABLE, "stable with a static member");
	join(3, "g", "", "inst-1", true, range, 2);
	is_int(got[3].jerr, KP_NONE, "static rejoin needs no member id round");
	is_int(got[3].gen, 1, "same generation: no rebalance");
	strlcpy(s2, got[3].member, sizeof(s2));
	ok(strcmp(s, s2) != 0, "with a new member id");
	is_int(state("g"), KP_GROUP_STABLE, "still Stable");
	is_int(kp_coord_heartbeat(&c, "g", 1, s, "inst-1", now, WALL),
	    KP_FENCED_INSTANCE_ID, "the old id is fenced");
	sync1(4, "g", 1, s2, NULL, NULL, 0);
	ok(strcmp(got[4].assign, "y") == 0, "the new id gets the old assignment");
	is_int(kp_coord_leave(&c, "g", "", "inst-1", now, WALL), KP_NONE,
	    "leave by instance id");
	is_int(state("g"), KP_GROUP_PREPARING, "and the group rebalances");
}

static void
test_errors(void)
{
	struct kp_coord_join_req r = {
		.group_id = "g", .member_id = "", .client_id = "c",
		.session_ms = 50, .rebalance_ms = 50,
		.protocol_type = "consumer", .protos = range, .nprotos = 2,
	};

	setup(0);
	kp_coord_join(&c, &r, &w[0], now, WALL);
	is_int(got[0].jerr, KP_INVALID_SESSION_TIMEOUT, "session below minimum");
	r.session_ms = 1000;
	r.group_id = "";
	kp_coord_join(&c, &r, &w[1], now, WALL);
	is_int(got[1].jerr, KP_INVALID_GROUP_ID, "empty group id");
	join(2, "g", "nobody", NULL, false, range, 2);
	is_int(got[2].jerr, KP_UNKNOWN_MEMBER_ID, "unknown member on a new group");
	join(3, "g", "", NULL, false, range, 2);
	r.group_id = "g";
	r.protocol_type = "connect";
	kp_coord_join(&c, &r, &w[4], now, WALL);
	is_int(got[4].jerr, KP_INCONSISTENT_GROUP_PROTOCOL,
	    "another protocol type");
	r.protocol_type = "consumer";
	r.protos = (const struct kp_coord_proto[]){ { (char *)"sticky",
	    (uint8_t *)"", 0 } };
	r.nprotos = 1;
	kp_coord_join(&c, &r, &w[5], now, WALL);
	is_int(got[5].jerr, KP_INCONSISTENT_GROUP_PROTOCOL,
	    "no protocol in common");
	is_int(kp_coord_heartbeat(&c, "nope", 0, "x", NULL, now, WALL),
	    KP_UNKNOWN_MEMBER_ID, "heartbeat to an unknown group");
	/* A forgotten waiter gets no callback. */
	join(6, "g", "", NULL, false, range, 2);
	kp_coord_forget(&c, &w[6]);
	tick_to(now);
	is_int(got[6].joins, 0, "forgotten waiter not called");
	is_int(got[3].joins, 1, "the others are");
}

static void
test_offsets(void)
{
	const struct kp_coord_offset *o;
	char a[128];

	setup(0);
	is_int(kp_coord_commit_check(&c, "s", 5, "m", NULL, now, WALL),
	    KP_ILLEGAL_GENERATION, "a generation for an unknown group");
	is_int(kp_coord_commit_check(&c, "s", -1, "", NULL, now, WALL), KP_NONE,
	    "simple commit accepted");
	is_int(kp_coord_commit(&c, "s", "t", 0, 42, -1, "md", WALL, -1), 0,
	    "commit");
	is_int(offset_events, 1, "offset_changed called");
	o = kp_coord_offset(&c, "s", "t", 0);
	ok(o && o->offset == 42 && strcmp(o->metadata, "md") == 0,
	    "offset and metadata read back");
	ok(kp_coord_offset(&c, "s", "t", 1) == NULL, "other partition unknown");
	kp_coord_commit(&c, "s", "t", 0, 50, 3, NULL, WALL, -1);
	o = kp_coord_offset(&c, "s", "t", 0);
	ok(o && o->offset == 50 && o->leader_epoch == 3 && o->metadata[0] == 0,
	    "recommit replaces");

	/* A live group refuses commits from outside. */
	join(0, "live", "", NULL, false, range, 2);
	tick_to(now);
	strlcpy(a, got[0].member, sizeof(a));
	is_int(kp_coord_commit_check(&c, "live", -1, "", NULL, now, WALL),
	    KP_UNKNOWN_MEMBER_ID, "outsider commit to an active group");
	is_int(kp_coord_commit_check(&c, "live", 1, a, NULL, now, WALL),
	    KP_REBALANCE_IN_PROGRESS, "commit while completing");
	sync1(1, "live", 1, a, NULL, NULL, 0);
	is_int(kp_coord_commit_check(&c, "live", 1, a, NULL, now, WALL),
	    KP_NONE, "member commit when stable");
	is_int(kp_coord_commit_check(&c, "live", 0, a, NULL, now, WALL),
	    KP_ILLEGAL_GENERATION, "stale generation");
	is_int(kp_coord_delete_group(&c, "live", WALL), KP_NON_EMPTY_GROUP,
	    "cannot delete an active group");
	is_int(kp_coord_delete_offset(&c, "live", "t", 0, true),
	    KP_GROUP_SUBSCRIBED_TO_TOPIC, "cannot delete offsets in use");
	is_int(kp_coord_delete_group(&c, "none", WALL), KP_GROUP_ID_NOT_FOUND,
	    "delete unknown group");
	kp_coord_commit(&c, "s", "t", 1, 7, -1, "", WALL, -1);
	is_int(kp_coord_delete_offset(&c, "s", "t", 1, false), KP_NONE,
	    "delete-offsets");
	ok(kp_coord_offset(&c, "s", "t", 1) == NULL, "that offset is gone");
	is_int(tombstones, 1, "with a tombstone");
	is_int(kp_coord_delete_group(&c, "s", WALL), KP_NONE, "delete group");
	is_int(tombstones, 2, "its offsets get tombstones");
	ok(kp_coord_group(&c, "s") == NULL, "the group is gone");

	/* Loaded offsets expire offsets.retention after the commit. */
	struct kp_coord_offset lo = { NULL, 0, 9, -1, (char *)"m", WALL, -1 };

	is_int(kp_coord_load(&c, "old", "t", 0, &lo, WALL), 0, "load");
	is_int(tombstones, 2, "loading writes nothing");
	ok(kp_coord_offset(&c, "old", "t", 0)->offset == 9, "loaded offset");
	tick_to(now + 59999);
	ok(kp_coord_offset(&c, "old", "t", 0) != NULL, "kept before retention");
	tick_to(now + 2);
	ok(kp_coord_offset(&c, "old", "t", 0) == NULL, "expired after");
	is_int(tombstones, 3, "expiry writes a tombstone");
	ok(kp_coord_group(&c, "old") == NULL, "the empty group goes with it");
	kp_coord_load(&c, "x", "t", 0, &lo, WALL);
	kp_coord_load(&c, "x", "t", 0, NULL, WALL);
	ok(kp_coord_offset(&c, "x", "t", 0) == NULL, "a loaded tombstone removes");
	ok(kp_coord_group(&c, "x") == NULL, "and the group it alone made");
}

/* A member id handed out with MEMBER_ID_REQUIRED and never used expires. */
static void
test_pending_expiry(void)
{
	char a[128];

	setup(0);
	join(0, "g", "", NULL, false, range, 2);
	tick_to(now);
	strlcpy(a, got[0].member, sizeof(a));
	sync1(1, "g", 1, a, NULL, NULL, 0);
	join(2, "g", "", NULL, true, range, 2);
	is_int(got[2].jerr, KP_MEMBER_ID_REQUIRED, "newcomer told its id");
	is_int(kp_coord_group(&c, "g")->npending, 1, "one pending member");
	is_int(state("g"), KP_GROUP_STABLE, "no rebalance for a pending id");
	is_int(kp_coord_heartbeat(&c, "g", 1, a, NULL, now + 500, WALL),
	    KP_NONE, "a heartbeats");
	tick_to(now + 1000);
	is_int(kp_coord_group(&c, "g")->npending, 0,
	    "the pending id expires after the session timeout");
	join(3, "g", got[2].member, NULL, true, range, 2);
	is_int(got[3].jerr, KP_UNKNOWN_MEMBER_ID, "and is unknown afterwards");
	is_int(state("g"), KP_GROUP_STABLE, "the group never rebalanced");
}

/*
 * The membership kbroker logs: stored when the leader's assignment
 * completes a rebalance and when the group empties; loaded back into a
 * new coordinator, the members go on with their generation.
 */
static void
test_saved(void)
{
	static const uint8_t key[] = { 0, 2, 0, 1, 'g' };
	char a[128], b[128];
	struct kp_grouprec r;

	setup(10);
	join(0, "g", "", NULL, false, range, 2);
	join(1, "g", "", NULL, false, range, 2);
	tick_to(now + 10);
	tick_to(now + 10);
	strlcpy(a, got[0].member, sizeof(a));
	strlcpy(b, got[1].member, sizeof(b));
	is_int(stores, 0, "nothing stored before the assignment");
	sync1(2, "g", 1, a, (const char *[]){ a, b },
	    (const char *[]){ "p0", "p1" }, 2);
	is_int(stores, 1, "stored once the leader's assignment is in");

	/* a new coordinator (a restart) loads what was stored */
	kp_coord_release(&c);
	setup(0);
	now = 50000;
	is_int(kp_grouprec_parse(key, sizeof(key), stored_val.data,
	    (ssize_t)stored_val.len, &r), 1, "the stored value parses");
	is_int(kp_coord_load_group(&c, r.group, &r.saved, now, WALL), 0,
	    "loads");
	kp_grouprec_release(&r);
	is_int(stores, 0, "loading stores nothing");
	is_int(state("g"), KP_GROUP_STABLE, "Stable with its members");
	is_int(kp_coord_group(&c, "g")->generation, 1, "same generation");
	is_int(kp_coord_heartbeat(&c, "g", 1, a, NULL, now, WALL), KP_NONE,
	    "the leader's heartbeat goes on");
	is_int(kp_coord_heartbeat(&c, "g", 1, b, NULL, now, WALL), KP_NONE,
	    "the follower's too");
	is_int(kp_coord_heartbeat(&c, "g", 0, b, NULL, now, WALL),
	    KP_ILLEGAL_GENERATION, "an old generation is still refused");
	sync1(3, "g", 1, b, NULL, NULL, 0);
	ok(got[3].serr == KP_NONE && strcmp(got[3].assign, "p1") == 0,
	    "a sync in Stable answers the stored assignment");
	/* as Kafka keeps it: only the chosen protocol's metadata */
	join(4, "g", b, NULL, false, range, 1);
	ok(got[4].joins == 1 && got[4].gen == 1 && strcmp(got[4].leader, a) == 0,
	    "a follower's rejoin with it is answered at once, the leader kept");
	is_int(kp_coord_commit_check(&c, "g", 1, a, NULL, now, WALL), KP_NONE,
	    "commits of the generation are accepted");

	/* each member got a whole session from the load */
	tick_to(now + 999);
	is_int(state("g"), KP_GROUP_STABLE, "no expiry within the session");
	tick_to(now + 1);
	is_int(state("g"), KP_GROUP_EMPTY, "both expired: Empty");
	is_int(stores, 1, "the emptied group is stored");
	is_int(kp_grouprec_parse(key, sizeof(key), stored_val.data,
	    (ssize_t)stored_val.len, &r), 1, "and parses");
	ok(r.saved.nmembers == 0 && r.saved.generation == 2 &&
	    r.saved.protocol == NULL, "with no members, generation 2");
	kp_grouprec_release(&r);
	is_int(kp_coord_delete_group(&c, "g", WALL), KP_NONE, "delete");
	is_int(store_tombs, 1, "a deleted group's membership goes too");

	/* a cluster broker leading the partition again: waiters told */
	setup(10);
	join(5, "w", "", NULL, false, range, 2);
	is_int(got[5].joins, 0, "a join waits in the initial delay");
	is_int(kp_coord_load_group(&c, "w", &(struct kp_coord_saved){
	    .protocol_type = "consumer", .generation = 9 }, now, WALL), 0,
	    "the log's membership replaces it");
	ok(got[5].joins == 1 && got[5].jerr == KP_NOT_COORDINATOR,
	    "the waiting join is told to find the coordinator again");
	ok(state("w") == KP_GROUP_EMPTY &&
	    kp_coord_group(&c, "w")->generation == 9 &&
	    kp_coord_next_deadline(&c) == -1, "Empty at generation 9, no timer");

	/* a tombstone read back drops the group, offsets keep it Empty */
	is_int(kp_coord_load_group(&c, "h", &(struct kp_coord_saved){
	    .protocol_type = "consumer", .generation = 3 }, now, WALL), 0,
	    "an Empty group loads");
	is_int(state("h"), KP_GROUP_EMPTY, "Empty");
	is_int(kp_coord_load_group(&c, "h", NULL, now, WALL), 0, "tombstone");
	is_int(state("h"), KP_GROUP_DEAD, "the group is gone");
	kp_buf_release(&stored_val);
}

int
main(void)
{
	test_first_member();
	test_second_member();
	test_rebalance_timeout();
	test_initial_delay();
	test_static();
	test_errors();
	test_pending_expiry();
	test_offsets();
	test_saved();
	kp_coord_release(&c);
	return tap_done();
}
