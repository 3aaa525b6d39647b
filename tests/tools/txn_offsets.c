/* txn_offsets.c -- kp_txn as a test peer: a transaction that commits a consumer group's offset */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "kp_client.h"
#include "kp_txn.h"

/*
 * txn_offsets BROKERS ID GROUP TOPIC PARTITION OFFSET commit|abort:
 * InitProducerId for ID, then kp_txn_send_offsets (AddOffsetsToTxn,
 * TxnOffsetCommit) of GROUP's offset for TOPIC/PARTITION, then EndTxn.
 * Prints "pid EPOCH" after the init; errors go to stderr, exit 1.
 */
int
main(int argc, char *argv[])
{
	struct kp_client_opts co = { 0 };
	struct kp_client *c;
	struct kp_txn t;
	const char *topic;
	int32_t part;
	int64_t off;
	char why[512];
	int rc = 0;

	if (argc != 8 || (strcmp(argv[7], "commit") != 0 &&
	    strcmp(argv[7], "abort") != 0))
		errx(EX_USAGE, "usage: txn_offsets brokers id group topic "
		    "partition offset commit|abort");
	topic = argv[4];
	part = atoi(argv[5]);
	off = strtoll(argv[6], NULL, 10);
	co.brokers = argv[1];
	co.timeout_ms = 10000;
	if ((c = kp_client_new(&co, why, sizeof(why))) == NULL)
		errx(1, "%s", why);
	if (kp_txn_init(&t, c, argv[2], 60000) < 0) {
		warnx("init: %s", kp_client_error(c));
		rc = 1;
		goto out;
	}
	printf("pid %lld epoch %d\n", (long long)t.pid, t.epoch);
	fflush(stdout);
	if (kp_txn_send_offsets(&t, argv[3], &topic, &part, &off, 1) < 0) {
		warnx("send_offsets: %s", kp_client_error(c));
		rc = 1;
		goto out;
	}
	if (!kp_txn_open(&t)) {
		warnx("offsets did not open the transaction");
		rc = 1;
		goto out;
	}
	if (kp_txn_end(&t, strcmp(argv[7], "commit") == 0) < 0) {
		warnx("end: %s", kp_client_error(c));
		rc = 1;
	}
out:
	kp_txn_release(&t);
	kp_client_free(c);
	return rc;
}
