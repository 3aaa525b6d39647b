/* fuzz_repl.h -- the election/reassignment decoder and plan parser check shared by fuzz_repl and test_fuzz_repl */
#ifndef FUZZ_REPL_H
#define FUZZ_REPL_H

#include <stdlib.h>
#include <string.h>

#include "kp_proto_repl.h"
#include "kp_reassign.h"

/*
 * Header-only so the libFuzzer harness and tests/unit/test_fuzz_repl.c
 * run the very same code; a broken invariant aborts.
 *
 * Input: one byte choosing what to decode (its value mod 7: the six
 * request and response schemas of ElectLeaders, AlterPartitionReassignments
 * and ListPartitionReassignments, or a reassignment plan), one byte of
 * version (mod the schema's versions), then the bytes. What decodes must
 * encode again and decode to an equal message; a plan that parses must
 * write as JSON that parses to the same plan, and writing that again
 * gives the same text.
 */
#define fr_must(c) do { if (!(c)) abort(); } while (0)

static inline void
fuzz_repl_msg(const struct kp_msg *m, int16_t v, const uint8_t *p, size_t n)
{
	struct kp_arena a;
	struct kp_buf b;
	void *x = calloc(1, m->size), *y = calloc(1, m->size);

	fr_must(x != NULL && y != NULL);
	kp_arena_init(&a);
	kp_buf_init(&b);
	if (kp_proto_decode(p, n, m, v, x, &a) == 0) {
		fr_must(kp_proto_encode(&b, m, v, x) == 0 && b.err == 0);
		fr_must(kp_proto_decode(b.data, b.len, m, v, y, &a) == 0);
		fr_must(kp_proto_equal(m, v, x, y));
	}
	kp_buf_release(&b);
	kp_arena_release(&a);
	free(x);
	free(y);
}

static inline void
fuzz_repl_plan(const uint8_t *p, size_t n)
{
	struct kp_reassign_plan x, y;
	struct kp_buf b, c;
	char why[256];

	if (kp_reassign_parse((const char *)p, n, &x, why, sizeof(why)) < 0) {
		fr_must(x.nparts == 0 && x.parts == NULL && why[0] != '\0');
		return;
	}
	kp_buf_init(&b);
	kp_buf_init(&c);
	kp_reassign_write(&b, &x);
	fr_must(b.err == 0);
	fr_must(kp_reassign_parse((const char *)b.data, b.len, &y, why,
	    sizeof(why)) == 0);
	fr_must(x.nparts == y.nparts);
	for (size_t i = 0; i < x.nparts; i++) {
		fr_must(strcmp(x.parts[i].topic, y.parts[i].topic) == 0);
		fr_must(x.parts[i].partition == y.parts[i].partition);
		fr_must(x.parts[i].nreplicas == y.parts[i].nreplicas);
		fr_must(memcmp(x.parts[i].replicas, y.parts[i].replicas,
		    (size_t)x.parts[i].nreplicas * sizeof(int32_t)) == 0);
	}
	kp_reassign_write(&c, &y);
	fr_must(b.len == c.len && memcmp(b.data, c.data, b.len) == 0);
	kp_buf_release(&b);
	kp_buf_release(&c);
	kp_reassign_plan_release(&x);
	kp_reassign_plan_release(&y);
}

static inline void
fuzz_repl_one(const uint8_t *p, size_t n)
{
	static const struct kp_msg *const msgs[] = {
	    &kp_msg_elect_leaders_req, &kp_msg_elect_leaders_resp,
	    &kp_msg_alter_partition_reassignments_req,
	    &kp_msg_alter_partition_reassignments_resp,
	    &kp_msg_list_partition_reassignments_req,
	    &kp_msg_list_partition_reassignments_resp };
	const struct kp_msg *m;
	unsigned k;

	if (n < 2)
		return;
	k = p[0] % 7u;
	if (k == 6) {
		fuzz_repl_plan(p + 2, n - 2);
		return;
	}
	m = msgs[k];
	fuzz_repl_msg(m, (int16_t)(m->vmin + p[1] % (m->vmax - m->vmin + 1)),
	    p + 2, n - 2);
}

#endif
