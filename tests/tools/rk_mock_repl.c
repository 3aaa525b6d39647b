/* rk_mock_repl.c -- a replicated librdkafka mock cluster with one leaderless partition */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/*
 * rk_mock_repl BROKERS TOPIC PARTITIONS REPLICAS OFFLINE: a mock cluster
 * of BROKERS brokers with TOPIC replicated REPLICAS times, where
 * partition OFFLINE has no leader (-1: none), so a replication status
 * has something other than a single broker to show. Prints
 * "BROKERS=host:port,..." and runs until stdin closes.
 */
int
main(int argc, char *argv[])
{
	char errstr[256], buf[64];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	int off;

	if (argc != 6)
		errx(64, "usage: rk_mock_repl brokers topic partitions "
		    "replicas offline");
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "0", errstr,
	    sizeof(errstr)) != RD_KAFKA_CONF_OK)
		errx(1, "%s", errstr);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof(errstr))) == NULL)
		errx(1, "rd_kafka_new: %s", errstr);
	if ((mc = rd_kafka_mock_cluster_new(rk, atoi(argv[1]))) == NULL)
		errx(1, "mock cluster failed");
	if (rd_kafka_mock_topic_create(mc, argv[2], atoi(argv[3]),
	    atoi(argv[4])) != RD_KAFKA_RESP_ERR_NO_ERROR)
		errx(1, "topic '%s' not created", argv[2]);
	if ((off = atoi(argv[5])) >= 0 &&
	    rd_kafka_mock_partition_set_leader(mc, argv[2], off, -1) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		errx(1, "partition %d: leader not unset", off);
	printf("BROKERS=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
