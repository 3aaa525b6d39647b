/* main.c -- ktopic: create, list, describe, alter, delete topics; dump segments */
#include <err.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ktopic.h"
#include "kp_cli.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ktopic [-hV] [-b brokers] [--json] [--timeout-ms ms] "
	    "command [args]\n"
	    "       ktopic list\n"
	    "       ktopic create [--if-not-exists] [-c key=value] "
	    "[-p partitions]\n"
	    "              [-r replicas] topic ...\n"
	    "       ktopic describe [topic ...]\n"
	    "       ktopic alter [-c key=value] [-d key] [-p partitions] "
	    "topic ...\n"
	    "       ktopic delete [--if-exists] topic ...\n"
	    "       ktopic offsets [-p partitions] [--time time] topic ...\n"
	    "       ktopic trim [-p partitions] -o offset topic\n"
	    "       ktopic dump [-d] [--offsets-decoder | --transaction-log-decoder]\n"
	    "              file ...\n");
}

struct kp_client *
kt_client(struct kt *kt)
{
	char why[512];

	if (kt->c != NULL)
		return kt->c;
	if ((kt->c = kp_cli_client_new(&kt->g, "ktopic", why,
	    sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "%s", why);
	return kt->c;
}

void
kt_table_print(struct kp_table *t)
{
	if (kp_table_print(t, stdout, true) < 0)
		errx(EX_OSERR, "table: out of memory");
}

static const struct option longopts[] = {
	{ "broker",	required_argument, NULL, 'b' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "json",	no_argument,	   NULL, KP_CLI_OPT_JSON },
	{ "timeout-ms",	required_argument, NULL, KP_CLI_OPT_TIMEOUT },
	{ "version",	no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static const struct {
	const char	*name;
	int		(*fn)(struct kt *, int, char **);
} cmds[] = {
	{ "alter",	kt_alter },
	{ "create",	kt_create },
	{ "delete",	kt_delete },
	{ "describe",	kt_describe },
	{ "dump",	kt_dump },
	{ "list",	kt_list },
	{ "offsets",	kt_offsets },
	{ "trim",	kt_trim },
};

int
main(int argc, char *argv[])
{
	struct kt kt;
	char why[1024];
	size_t i;
	int ci, rc;

	memset(&kt, 0, sizeof(kt));
	switch (kp_cli_global_parse(argc, argv, longopts, &kt.g, &ci,
	    why, sizeof(why))) {
	case KP_CLI_HELP:
		usage(stdout);
		return 0;
	case KP_CLI_VERSION:
		printf("ktopic %s\n", KP_VERSION);
		return 0;
	case KP_CLI_BADARG:
		errx(EX_USAGE, "%s", why);
	case KP_CLI_USAGE:
		usage(stderr);
		return EX_USAGE;
	case KP_CLI_RUN:
		break;
	}
	argc -= ci;
	argv += ci;
	kt.table = isatty(1) && !kt.g.json;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		warnx("unknown command '%s'", argv[0]);
		usage(stderr);
		return EX_USAGE;
	}
	optind = 0;	/* GNU getopt: start over for the command */
	rc = cmds[i].fn(&kt, argc, argv);
	kp_client_free(kt.c);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		return EX_IOERR;
	}
	return rc;
}
