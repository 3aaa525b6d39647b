/* test_kp_cli.c -- exit codes for Kafka errors, sizes, progress lines */
#include <string.h>

#include "kp_cli.h"
#include "kp_err.h"
#include "tap.h"

int
main(void)
{
	struct kp_progress p;
	char line[128];

	is_int(kp_cli_exit_for(KP_NONE), EX_UNAVAILABLE,
	    "no Kafka error (unreachable): 69");
	is_int(kp_cli_exit_for(KP_NETWORK_EXCEPTION), EX_UNAVAILABLE,
	    "network: 69");
	is_int(kp_cli_exit_for(KP_UNKNOWN_TOPIC_OR_PARTITION), EX_DATAERR,
	    "unknown topic: 65");
	is_int(kp_cli_exit_for(KP_MESSAGE_TOO_LARGE), EX_DATAERR,
	    "too large: 65");
	is_int(kp_cli_exit_for(KP_TOPIC_ALREADY_EXISTS), EX_DATAERR,
	    "exists: 65");
	is_int(kp_cli_exit_for(KP_LEADER_NOT_AVAILABLE), EX_TEMPFAIL,
	    "no leader: 75");
	is_int(kp_cli_exit_for(KP_REQUEST_TIMED_OUT), EX_TEMPFAIL,
	    "timeout: 75");
	is_int(kp_cli_exit_for(KP_CLUSTER_AUTHORIZATION_FAILED), EX_UNAVAILABLE,
	    "authorization: 69");

	is_int(kp_cli_size("16384", 1, 1 << 30), 16384, "plain size");
	is_int(kp_cli_size("64k", 1, 1 << 30), 65536, "k suffix");
	is_int(kp_cli_size("1M", 1, 1 << 30), 1 << 20, "M suffix");
	is_int(kp_cli_size("1g", 1, 1 << 30), 1 << 30, "g suffix");
	is_int(kp_cli_size("2g", 1, 1 << 30), -1, "over max");
	is_int(kp_cli_size("0", 1, 100), -1, "under min");
	is_int(kp_cli_size("k", 1, 100), -1, "no digits");
	is_int(kp_cli_size("-5", 1, 100), -1, "negative");
	is_int(kp_cli_size("5x", 1, 100), -1, "bad suffix");
	is_int(kp_cli_size("99999999999999999999k", 1, 1 << 30), -1,
	    "overflow");

	kp_progress_init(&p, false);
	kp_progress_add(&p, 10, 1000);
	ok(!kp_progress_tick(&p, line, sizeof(line)), "off: no progress");
	kp_progress_summary(&p, line, sizeof(line));
	ok(strncmp(line, "10 records, ", 12) == 0 && strstr(line, " MB/s"),
	    "summary: %s", line);
	return tap_done();
}
