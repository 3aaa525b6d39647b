/* test_kp_reassign.c -- reassignment plans: Kafka's JSON both ways and the balanced spread */
#include <stdio.h>
#include <string.h>

#include "kp_reassign.h"
#include "tap.h"

static int
parse(const char *s, struct kp_reassign_plan *p, char *why, size_t len)
{
	return kp_reassign_parse(s, strlen(s), p, why, len);
}

static void
test_parse(void)
{
	/* as kafka-reassign-partitions.sh --generate prints it */
	static const char kafka[] = "{\"version\":1,\"partitions\":["
	    "{\"topic\":\"t\",\"partition\":0,\"replicas\":[2,3,1],"
	    "\"log_dirs\":[\"any\",\"any\",\"any\"]},"
	    "{\"topic\":\"t\",\"partition\":1,\"replicas\":[3,1,2]}]}";
	struct kp_reassign_plan p;
	struct kp_buf b;
	char why[256];

	is_int(parse(kafka, &p, why, sizeof(why)), 0, "Kafka's plan parses");
	is_int(p.nparts, 2, "two partitions");
	ok(strcmp(p.parts[0].topic, "t") == 0 && p.parts[0].partition == 0 &&
	    p.parts[0].nreplicas == 3 && p.parts[0].replicas[0] == 2 &&
	    p.parts[0].replicas[2] == 1, "partition 0: [2,3,1]");
	ok(p.parts[1].partition == 1 && p.parts[1].replicas[0] == 3,
	    "partition 1: [3,1,2]");
	kp_buf_init(&b);
	kp_reassign_write(&b, &p);
	kp_buf_put(&b, "", 1);
	ok(strcmp((char *)b.data, "{\"version\":1,\"partitions\":["
	    "{\"topic\":\"t\",\"partition\":0,\"replicas\":[2,3,1]},"
	    "{\"topic\":\"t\",\"partition\":1,\"replicas\":[3,1,2]}]}\n") == 0,
	    "written back in Kafka's format: %s", (char *)b.data);
	kp_reassign_plan_release(&p);
	is_int(p.nparts, 0, "released");

	/* a written plan reads back the same, odd names escaped */
	kp_reassign_add(&p, "a\"b\\c", 7, (const int32_t[]){ 5 }, 1);
	kp_buf_reset(&b);
	kp_reassign_write(&b, &p);
	kp_reassign_plan_release(&p);
	is_int(kp_reassign_parse((char *)b.data, b.len, &p, why, sizeof(why)),
	    0, "written plan parses");
	ok(p.nparts == 1 && strcmp(p.parts[0].topic, "a\"b\\c") == 0 &&
	    p.parts[0].partition == 7 && p.parts[0].replicas[0] == 5,
	    "escaped topic, partition and replica back");
	kp_reassign_plan_release(&p);
	kp_buf_release(&b);

	is_int(parse("{\"version\":1,\"partitions\":[]}", &p, why,
	    sizeof(why)), 0, "an empty plan is a plan");
	is_int(p.nparts, 0, "with nothing in it");
	kp_reassign_plan_release(&p);
}

static void
refused(const char *json, const char *want)
{
	struct kp_reassign_plan p;
	char why[256] = "";

	is_int(parse(json, &p, why, sizeof(why)), -1, "refused: %s", json);
	ok(strstr(why, want) != NULL, "why: '%s' has '%s'", why, want);
	ok(p.nparts == 0 && p.parts == NULL, "nothing left behind");
}

static void
test_refused(void)
{
	refused("{\"version\":1,\"partitions\":[", "line 1");
	refused("[]", "not a JSON object");
	refused("{\"version\":2,\"partitions\":[]}", "\"version\" is not 1");
	refused("{\"partitions\":[]}", "\"version\" is not 1");
	refused("{\"version\":1}", "\"partitions\" is not a list");
	refused("{\"version\":1,\"partitions\":[1]}", "partitions[0]: not an "
	    "object");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"\","
	    "\"partition\":0,\"replicas\":[1]}]}", "topic");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":-1,\"replicas\":[1]}]}", "\"partition\"");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":\"0\",\"replicas\":[1]}]}", "\"partition\"");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":0,\"replicas\":[]}]}", "\"replicas\"");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":0}]}", "\"replicas\"");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":0,\"replicas\":[1,-2]}]}", "not a broker id");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":0,\"replicas\":[1,4294967297]}]}",
	    "not a broker id");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":0,\"replicas\":[1,2,1]}]}", "twice");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\","
	    "\"partition\":0,\"replicas\":[1]},{\"topic\":\"t\","
	    "\"partition\":1,\"replicas\":[1]},{\"topic\":\"t\","
	    "\"partition\":0,\"replicas\":[2]}]}", "partitions[2]: partition "
	    "given twice");
	refused("{\"version\":1,\"version\":1,\"partitions\":[]}", "duplicate");
	refused("{\"version\":1,\"partitions\":[{\"topic\":\"t\\u0000x\","
	    "\"partition\":0,\"replicas\":[1]}]}", "\\u0000");
}

/*
 * AdminZkClientTest.testReplicaAssignment in Kafka: five brokers, ten
 * partitions, three replicas, start index 0.
 */
static void
test_spread(void)
{
	static const int32_t brokers[] = { 0, 1, 2, 3, 4 };
	static const int32_t want[10][3] = {
	    { 0, 1, 2 }, { 1, 2, 3 }, { 2, 3, 4 }, { 3, 4, 0 }, { 4, 0, 1 },
	    { 0, 2, 3 }, { 1, 3, 4 }, { 2, 4, 0 }, { 3, 0, 1 }, { 4, 1, 2 } };
	static const int32_t ids[] = { 1, 2, 3 };
	int32_t out[30];

	is_int(kp_reassign_spread(brokers, 5, 10, 3, 0, out), 0, "5 brokers, "
	    "10 partitions, rf 3");
	ok(memcmp(out, want, sizeof(want)) == 0, "as Kafka's AdminUtils");
	is_int(kp_reassign_spread(ids, 3, 3, 3, 1, out), 0, "start 1");
	ok(out[0] == 2 && out[3] == 3 && out[6] == 1, "leaders go round "
	    "from the second broker: %d %d %d", out[0], out[3], out[6]);
	/* the shift starts at the start index too: 1 + (1 + j) % 2 on */
	ok(out[1] == 1 && out[2] == 3, "followers shifted: %d %d", out[1],
	    out[2]);
	is_int(kp_reassign_spread(ids, 3, 2, 1, 0, out), 0, "rf 1");
	ok(out[0] == 1 && out[1] == 2, "one replica each");
	is_int(kp_reassign_spread(ids, 3, 2, 4, 0, out), -1,
	    "rf over the broker count refused");
	is_int(kp_reassign_spread(ids, 3, 2, 0, 0, out), -1, "rf 0 refused");
	is_int(kp_reassign_spread(ids, 1, 4, 1, 0, out), 0, "one broker");
	ok(out[0] == 1 && out[3] == 1, "everything on it");
}

int
main(void)
{
	test_parse();
	test_refused();
	test_spread();
	return tap_done();
}
