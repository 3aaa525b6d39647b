/* main.c -- ktopic: placeholder until its issue lands */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: ktopic [-hV]\n");
}

int
main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
		printf("ktopic %s\n", KP_VERSION);
		return 0;
	}
	usage(stderr);
	return EX_USAGE;
}
