/* test_kp_err.c -- Kafka error code names and retriability */
#include <ctype.h>
#include <stdlib.h>

#include "kp_err.h"
#include "tap.h"

static void
test_names(void)
{
	const char *seen[KP_KERR_MAX + 1];
	int c, j, bad_shape = 0, dups = 0;

	ok(strcmp(kp_kerr_name(KP_NONE), "NONE") == 0, "0 is NONE");
	ok(strcmp(kp_kerr_name(-1), "UNKNOWN_SERVER_ERROR") == 0,
	    "-1 is UNKNOWN_SERVER_ERROR");
	ok(strcmp(kp_kerr_name(3), "UNKNOWN_TOPIC_OR_PARTITION") == 0,
	    "3 is UNKNOWN_TOPIC_OR_PARTITION");
	ok(strcmp(kp_kerr_name(6), "NOT_LEADER_OR_FOLLOWER") == 0,
	    "6 is NOT_LEADER_OR_FOLLOWER");
	ok(strcmp(kp_kerr_name(17), "INVALID_TOPIC_EXCEPTION") == 0,
	    "17 is INVALID_TOPIC_EXCEPTION");
	ok(strcmp(kp_kerr_name(KP_UNSUPPORTED_VERSION),
	    "UNSUPPORTED_VERSION") == 0 && KP_UNSUPPORTED_VERSION == 35,
	    "35 is UNSUPPORTED_VERSION");
	ok(strcmp(kp_kerr_name(79), "MEMBER_ID_REQUIRED") == 0,
	    "79 is MEMBER_ID_REQUIRED");
	ok(strcmp(kp_kerr_name(87), "INVALID_RECORD") == 0,
	    "87 is INVALID_RECORD");
	ok(strcmp(kp_kerr_name(100), "UNKNOWN_TOPIC_ID") == 0,
	    "100 is UNKNOWN_TOPIC_ID");
	ok(strcmp(kp_kerr_name(101), "KAFKA_ERROR_101") == 0,
	    "an unlisted code gets KAFKA_ERROR_<n>");
	ok(strcmp(kp_kerr_name(-2), "KAFKA_ERROR_-2") == 0,
	    "a negative unlisted code too");
	ok(strcmp(kp_kerr_name(INT16_MIN), "KAFKA_ERROR_-32768") == 0,
	    "INT16_MIN fits the buffer");

	/* Every listed code has its own upper-case name. */
	for (c = 0; c <= KP_KERR_MAX; c++) {
		const char *n = kp_kerr_name((int16_t)c), *q;

		seen[c] = n;
		for (q = n; *q != '\0'; q++)
			bad_shape += !(isupper((unsigned char)*q) ||
			    isdigit((unsigned char)*q) || *q == '_');
		bad_shape += strncmp(n, "KAFKA_ERROR_", 12) == 0;
		for (j = 0; j < c; j++)
			dups += strcmp(seen[j], n) == 0;
	}
	is_int(bad_shape, 0, "codes 0..%d all have Errors.java-style names",
	    KP_KERR_MAX);
	is_int(dups, 0, "no two codes share a name");
}

static void
test_retriable(void)
{
	ok(kp_kerr_retriable(KP_NOT_LEADER_OR_FOLLOWER),
	    "NOT_LEADER_OR_FOLLOWER is retriable");
	ok(kp_kerr_retriable(KP_LEADER_NOT_AVAILABLE),
	    "LEADER_NOT_AVAILABLE is retriable");
	ok(kp_kerr_retriable(KP_COORDINATOR_LOAD_IN_PROGRESS),
	    "COORDINATOR_LOAD_IN_PROGRESS is retriable");
	ok(kp_kerr_retriable(KP_LISTENER_NOT_FOUND),
	    "LISTENER_NOT_FOUND is retriable (InvalidMetadataException)");
	ok(kp_kerr_retriable(KP_UNKNOWN_TOPIC_ID),
	    "UNKNOWN_TOPIC_ID is retriable (InvalidMetadataException)");
	ok(!kp_kerr_retriable(KP_NONE), "NONE is not retriable");
	ok(!kp_kerr_retriable(KP_UNKNOWN_SERVER_ERROR),
	    "UNKNOWN_SERVER_ERROR is not retriable");
	ok(!kp_kerr_retriable(KP_TOPIC_ALREADY_EXISTS),
	    "TOPIC_ALREADY_EXISTS is not retriable");
	ok(!kp_kerr_retriable(KP_REBALANCE_IN_PROGRESS),
	    "REBALANCE_IN_PROGRESS is not retriable (the client rejoins)");
	ok(!kp_kerr_retriable(KP_UNSUPPORTED_VERSION),
	    "UNSUPPORTED_VERSION is not retriable");
}

int
main(void)
{
	test_names();
	test_retriable();
	return tap_done();
}
