/* rk_acked.c -- produce numbered records with acks=all and print each acknowledged one with its offset */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

/*
 * rk_acked BROKERS TOPIC COUNT [GAP_US]: produce "rec-1".."rec-COUNT" to
 * partition 0 of TOPIC with acks=all (librdkafka retrying through leader
 * changes), one every GAP_US microseconds. Each record the cluster
 * acknowledged prints "OFFSET VALUE" on stdout as its delivery report
 * comes; a failed one prints "FAILED VALUE ERROR" on stderr. Exits 0
 * when all were acknowledged, 1 otherwise. For "no acknowledged record
 * lost" tests: whatever is on stdout must be in the log at that offset.
 */
static int failed;

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		fprintf(stderr, "FAILED %.*s %s\n", (int)m->len,
		    (const char *)m->payload, rd_kafka_err2name(m->err));
		failed++;
		return;
	}
	printf("%lld %.*s\n", (long long)m->offset, (int)m->len,
	    (const char *)m->payload);
	fflush(stdout);
}

static void
set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char errstr[256];

	if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK)
		errx(1, "%s: %s", k, errstr);
}

int
main(int argc, char *argv[])
{
	char errstr[256], val[32];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	long n, gap;

	if (argc != 4 && argc != 5)
		errx(64, "usage: rk_acked brokers topic count [gap_us]");
	n = atol(argv[3]);
	gap = argc == 5 ? atol(argv[4]) : 0;
	conf = rd_kafka_conf_new();
	set(conf, "bootstrap.servers", argv[1]);
	set(conf, "acks", "all");
	set(conf, "linger.ms", "0");
	set(conf, "message.timeout.ms", "60000");
	set(conf, "request.timeout.ms", "5000");
	set(conf, "retry.backoff.ms", "100");
	set(conf, "topic.metadata.refresh.interval.ms", "1000");
	set(conf, "log_level", "3");
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof(errstr))) == NULL)
		errx(1, "rd_kafka_new: %s", errstr);
	for (long i = 1; i <= n; i++) {
		int len = snprintf(val, sizeof(val), "rec-%ld", i);

		while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]),
		    RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(val, (size_t)len),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ==
		    RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 100);
		rd_kafka_poll(rk, 0);
		if (gap > 0)
			usleep((useconds_t)gap);
	}
	rd_kafka_flush(rk, 90000);
	if (rd_kafka_outq_len(rk) > 0)
		failed++;
	rd_kafka_destroy(rk);
	return failed ? 1 : 0;
}
