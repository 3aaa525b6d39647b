/* main.c -- kgroup: consumer group admin; says plainly that it is not built yet */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

/*
 * The command names are known now so that a typo is a usage error (64)
 * while a real command gets an honest "not implemented" (69) instead of
 * output that looks like an empty cluster.
 */
static const char *const commands[] = {
	"delete", "describe", "list", "reset-offsets",
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: kgroup [-hV] command [argument ...]\n");
}

static int
known_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 },
	};
	int ch;

	/* getopt(3) prefixes its messages with argv[0]: use the bare name */
	argv[0] = (char *)getprogname();

	/* "+": options after the command belong to the command. */
	while ((ch = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return fclose(stdout) == 0 ? 0 : EX_IOERR;
		case 'V':
			printf("kgroup %s\n", KP_VERSION);
			return fclose(stdout) == 0 ? 0 : EX_IOERR;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!known_command(argv[0])) {
		warnx("unknown command '%s'", argv[0]);
		usage(stderr);
		return EX_USAGE;
	}
	warnx("consumer groups are not implemented in this release");
	return EX_UNAVAILABLE;
}
