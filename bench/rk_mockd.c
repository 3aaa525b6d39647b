/* rk_mockd.c -- librdkafka's in-process mock cluster as a stand-alone peer broker */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 64

static const struct option longopts[] = {
	{ "brokers",	required_argument,	NULL,	'n' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "topic",	required_argument,	NULL,	't' },
	{ NULL,		0,			NULL,	0 }
};

static void
usage(FILE *fp, int code)
{
	fprintf(fp, "usage: rk_mockd [-n brokers] [-t topic:partitions]...\n");
	exit(code);
}

/* Creates "name:partitions" on the cluster; the mock would otherwise
 * auto-create topics with its own default partition count. */
static void
create_topic(rd_kafka_mock_cluster_t *mc, char *spec)
{
	const char *errstr = NULL;
	char *colon;
	long long n = 1;
	rd_kafka_resp_err_t e;

	colon = strrchr(spec, ':');
	if (colon != NULL) {
		*colon = '\0';
		n = strtonum(colon + 1, 1, 100000, &errstr);
		if (errstr != NULL)
			errx(EX_USAGE, "topic '%s': partitions %s", spec,
			    errstr);
	}
	e = rd_kafka_mock_topic_create(mc, spec, (int)n, 1);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		errx(EX_SOFTWARE, "topic '%s': %s", spec, rd_kafka_err2str(e));
}

int
main(int argc, char **argv)
{
	char *topics[MAX_TOPICS];
	int ntopics = 0, c, i, sig;
	long long nbrokers = 1;
	const char *errstr = NULL;
	char rkerr[256];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	sigset_t set;

	while ((c = getopt_long(argc, argv, "hn:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'n':
			nbrokers = strtonum(optarg, 1, 64, &errstr);
			if (errstr != NULL)
				errx(EX_USAGE, "brokers %s: %s", optarg,
				    errstr);
			break;
		case 't':
			if (ntopics == MAX_TOPICS)
				errx(EX_USAGE, "too many topics");
			topics[ntopics++] = optarg;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);

	/* Block the stop signals before librdkafka starts its threads, so
	 * they inherit the mask and sigwait() below gets the signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", rkerr,
	    sizeof(rkerr)) != RD_KAFKA_CONF_OK)
		errx(EX_SOFTWARE, "conf: %s", rkerr);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rkerr, sizeof(rkerr));
	if (rk == NULL)
		errx(EX_SOFTWARE, "rd_kafka_new: %s", rkerr);
	mc = rd_kafka_mock_cluster_new(rk, (int)nbrokers);
	if (mc == NULL)
		errx(EX_UNAVAILABLE, "mock cluster: cannot start");
	for (i = 0; i < ntopics; i++)
		create_topic(mc, topics[i]);

	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "stdout");

	if (sigwait(&set, &sig) != 0)
		err(EX_OSERR, "sigwait");
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
