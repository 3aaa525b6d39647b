/* fuzz_coord.c -- libFuzzer harness: the group coordinator under random request sequences */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_coord.h"
#include "kp_err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Bytes are a script of JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * commits, forgets and clock ticks from a few members of two groups.
 * Checked: nothing crashes or leaks, a waiter is answered at most once
 * and never after it was forgotten, and a join answer names a member.
 */
#define NW	64

static int answered[NW];
static bool forgotten[NW];
static int w[NW];
static char ids[8][160];

static void
on_join(void *arg, void *waiter, const struct kp_coord_join_result *r)
{
	int i = (int)((int *)waiter - w);

	(void)arg;
	if (answered[i]++ || forgotten[i])
		abort();
	if (r->error == KP_NONE && r->member_id[0] == '\0')
		abort();
	if (r->member_id[0] != '\0')
		snprintf(ids[i % 8], sizeof(ids[0]), "%s", r->member_id);
}

static void
on_sync(void *arg, void *waiter, int16_t err, const char *pt, const char *p,
    const uint8_t *a, size_t len)
{
	int i = (int)((int *)waiter - w);

	(void)arg, (void)err, (void)pt, (void)p, (void)a, (void)len;
	if (answered[i]++ || forgotten[i])
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kp_coord_proto protos[] = {
		{ (char *)"range", (uint8_t *)"m", 1 },
		{ (char *)"roundrobin", (uint8_t *)"m", 1 },
	};
	static const char *const groups[] = { "a", "b" };
	struct kp_coord_cb cb = { on_join, on_sync, NULL, NULL, NULL };
	struct kp_coord_conf conf;
	struct kp_coord c;
	int64_t now = 0;
	int next = 0;

	memset(answered, 0, sizeof(answered));
	memset(forgotten, 0, sizeof(forgotten));
	memset(ids, 0, sizeof(ids));
	kp_coord_conf_default(&conf);
	conf.initial_delay_ms = 50;
	conf.min_session_ms = 10;
	conf.retention_ms = 1000;
	kp_coord_init(&c, &conf, &cb);
	for (size_t i = 0; i + 1 < size && next < NW; i += 2) {
		uint8_t op = data[i] & 7, x = data[i + 1];
		const char *g = groups[x & 1];
		const char *id = (x & 2) ? "" : ids[(x >> 2) & 7];
		const char *iid = (x & 0x40) ? "static" : NULL;
		const char *as[1] = { ids[(x >> 2) & 7] };
		const uint8_t *ab[1] = { (const uint8_t *)"A" };
		size_t al[1] = { 1 };
		int32_t gen = (x >> 5) & 3;

		switch (op) {
		case 0:
		case 1: {
			struct kp_coord_join_req r = {
				.group_id = g, .member_id = id,
				.instance_id = iid, .client_id = "c",
				.client_host = "h", .session_ms = 10 + x,
				.rebalance_ms = 100, .protocol_type = "consumer",
				.protos = protos + (op & 1),
				.nprotos = 2 - (size_t)(op & 1),
				.require_known_id = x & 0x80,
			};
			kp_coord_join(&c, &r, &w[next++], now, now);
			break;
		}
		case 2:
			kp_coord_sync(&c, g, gen, id, iid, NULL, NULL, as, ab,
			    al, x & 0x80 ? 1 : 0, &w[next++], now, now);
			break;
		case 3:
			(void)kp_coord_heartbeat(&c, g, gen, id, iid, now, now);
			break;
		case 4:
			(void)kp_coord_leave(&c, g, id, iid, now, now);
			break;
		case 5:
			if (kp_coord_commit_check(&c, g, (x & 0x80) ? -1 : gen,
			    id, iid, now, now) == KP_NONE)
				(void)kp_coord_commit(&c, g, "t", x & 3, x, -1,
				    "", now, -1);
			if (x & 0x20)
				(void)kp_coord_delete_group(&c, g, now);
			break;
		case 6:
			if (next > 0) {
				int k = x % next;

				forgotten[k] = true;
				kp_coord_forget(&c, &w[k]);
			}
			break;
		default:
			now += x;
			kp_coord_tick(&c, now, now);
			break;
		}
	}
	kp_coord_release(&c);
	return 0;
}
