/* rk_mock.c -- librdkafka's in-process mock cluster as a test peer: prints its bootstrap address */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/*
 * rk_mock [BROKERS [TOPIC:PARTITIONS | produce-errors=N ...]]: start a mock
 * cluster, print "BROKERS=host:port,..." on stdout and run until stdin
 * closes or a signal comes. Topics named on the command line are created
 * up front; produce-errors=N answers the next N Produce requests with
 * LEADER_NOT_AVAILABLE, a retriable error, at once.
 */
int
main(int argc, char *argv[])
{
	char errstr[256], buf[64];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	int n = argc > 1 ? atoi(argv[1]) : 1, i;
	sigset_t set;

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "0", errstr,
	    sizeof(errstr)) != RD_KAFKA_CONF_OK)
		errx(1, "%s", errstr);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof(errstr))) == NULL)
		errx(1, "rd_kafka_new: %s", errstr);
	if ((mc = rd_kafka_mock_cluster_new(rk, n > 0 ? n : 1)) == NULL)
		errx(1, "mock cluster failed");
	for (i = 2; i < argc; i++) {
		char *c = strchr(argv[i], ':');
		int parts = 1, k;

		if (strncmp(argv[i], "produce-errors=", 15) == 0) {
			for (k = atoi(argv[i] + 15); k > 0; k--)
				rd_kafka_mock_push_request_errors(mc, 0, 1,
				    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
			continue;
		}
		if (c != NULL) {
			*c = '\0';
			parts = atoi(c + 1);
		}
		rd_kafka_mock_topic_create(mc, argv[i], parts, 1);
	}
	printf("BROKERS=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	sigemptyset(&set);
	signal(SIGPIPE, SIG_IGN);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
