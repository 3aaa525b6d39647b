/* main.c -- kreplicate: replication status, leader elections and replica moves of a cluster, mirroring between clusters */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "kreplicate.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kreplicate [-hV] [-b brokers] [--json] [--timeout-ms ms] "
	    "command [args]\n"
	    "       kreplicate status [--under-replicated] [topic ...]\n"
	    "       kreplicate mirror [-e] [-b brokers] --to brokers "
	    "[--from earliest | latest] [--group group] [--prefix prefix] "
	    "[--pattern regex] [topic ...]\n"
	    "       kreplicate elect [--type preferred | unclean] "
	    "[--all | topic[:partition] ...]\n"
	    "       kreplicate reassign --generate --brokers ids "
	    "--topics topics\n"
	    "       kreplicate reassign {--execute | --verify | --cancel} "
	    "--plan file\n");
}

struct kp_client *
kr_client(struct kr *kr)
{
	char why[512];

	if (kr->c != NULL)
		return kr->c;
	if ((kr->c = kp_cli_client_new(&kr->g, "kreplicate", why,
	    sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "%s", why);
	return kr->c;
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
	int		(*fn)(struct kr *, int, char **);
} cmds[] = {
	{ "elect",	kr_elect },
	{ "mirror",	kr_mirror },
	{ "reassign",	kr_reassign },
	{ "status",	kr_status },
};

int
main(int argc, char *argv[])
{
	struct kr kr;
	char why[1024], cmdname[64];
	size_t i;
	int ci, rc;

	/* getopt(3) prefixes its messages with argv[0]: use the bare name */
	argv[0] = (char *)getprogname();
	memset(&kr, 0, sizeof(kr));
	switch (kp_cli_global_parse(argc, argv, longopts, &kr.g, &ci,
	    why, sizeof(why))) {
	case KP_CLI_HELP:
		usage(stdout);
		return fclose(stdout) == 0 ? 0 : EX_IOERR;
	case KP_CLI_VERSION:
		printf("kreplicate %s\n", KP_VERSION);
		return fclose(stdout) == 0 ? 0 : EX_IOERR;
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
	kr.table = isatty(1) && !kr.g.json;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		warnx("unknown command '%s'", argv[0]);
		usage(stderr);
		return EX_USAGE;
	}
	optind = 0;	/* GNU getopt: start over for the command */
	/* getopt's own messages then read "kreplicate: elect: ..." */
	snprintf(cmdname, sizeof(cmdname), "%s: %s", getprogname(),
	    cmds[i].name);
	argv[0] = cmdname;
	rc = cmds[i].fn(&kr, argc, argv);
	kp_client_free(kr.c);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		return EX_IOERR;
	}
	return rc;
}
