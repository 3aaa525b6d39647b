/* rk_mock_txn.c -- librdkafka's mock cluster with scripted errors per API, for the transactional client tests */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/*
 * rk_mock_txn [TOPIC:PARTITIONS | API=ERR*N ...]: a one-broker mock
 * cluster (which also plays transaction coordinator), printing
 * "BROKERS=host:port" and running until stdin closes. API=ERR*N answers
 * the next N requests of API key API with Kafka error ERR (e.g. 24=51*2:
 * AddPartitionsToTxn gets CONCURRENT_TRANSACTIONS twice), so a test can
 * see which errors a client retries and which end it.
 */
int
main(int argc, char *argv[])
{
	char errstr[256], buf[64];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	int i;

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "0", errstr,
	    sizeof(errstr)) != RD_KAFKA_CONF_OK)
		errx(1, "%s", errstr);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof(errstr))) == NULL)
		errx(1, "rd_kafka_new: %s", errstr);
	if ((mc = rd_kafka_mock_cluster_new(rk, 1)) == NULL)
		errx(1, "mock cluster failed");
	for (i = 1; i < argc; i++) {
		char *c = strchr(argv[i], ':');
		int api, code, n;

		if (sscanf(argv[i], "%d=%d*%d", &api, &code, &n) == 3) {
			for (; n > 0; n--)
				rd_kafka_mock_push_request_errors(mc, api, 1,
				    (rd_kafka_resp_err_t)code);
			continue;
		}
		if (c == NULL)
			errx(2, "%s: expected TOPIC:PARTITIONS or API=ERR*N",
			    argv[i]);
		*c = '\0';
		rd_kafka_mock_topic_create(mc, argv[i], atoi(c + 1), 1);
	}
	printf("BROKERS=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
