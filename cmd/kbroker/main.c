/* main.c -- kbroker: options, configuration, startup */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "kbroker.h"
#include "kp_pagecache.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kbroker [-hVv] [--config file] [--data-dir dir] "
	    "[--listen host:port]\n"
	    "               [--no-socket | --socket path] [-o key=value]\n");
}

/* Long-only options get values outside the short option characters. */
enum {
	OPT_CONFIG = 256, OPT_DATA_DIR, OPT_LISTEN, OPT_NO_SOCKET, OPT_SOCKET
};

static const struct option longopts[] = {
	{ "config",	required_argument,	NULL,	OPT_CONFIG },
	{ "data-dir",	required_argument,	NULL,	OPT_DATA_DIR },
	{ "help",	no_argument,		NULL,	'h' },
	{ "listen",	required_argument,	NULL,	OPT_LISTEN },
	{ "no-socket",	no_argument,		NULL,	OPT_NO_SOCKET },
	{ "socket",	required_argument,	NULL,	OPT_SOCKET },
	{ "verbose",	no_argument,		NULL,	'v' },
	{ "version",	no_argument,		NULL,	'V' },
	{ NULL,		0,			NULL,	0 }
};

/* Repeated --listen values, joined into Kafka's listeners key. */
static int
append_listen(char **acc, const char *v)
{
	char *n;

	if (*acc == NULL)
		n = strdup(v);
	else if (asprintf(&n, "%s,%s", *acc, v) == -1)
		n = NULL;
	if (n == NULL)
		return -1;
	free(*acc);
	*acc = n;
	return 0;
}

int
main(int argc, char **argv)
{
	struct kb_config cfg;
	struct kb_broker b;
	const char *config = NULL, *data_dir = NULL, *sock = NULL;
	char **overrides = NULL, *listen = NULL, msg[512];
	size_t noverrides = 0;
	bool no_socket = false;
	int ch, line, rc;

	kb_config_init(&cfg);
	while ((ch = getopt_long(argc, argv, "ho:Vv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_DATA_DIR:
			data_dir = optarg;
			break;
		case OPT_LISTEN:
			if (append_listen(&listen, optarg) == -1)
				err(EX_OSERR, "listen");
			break;
		case OPT_NO_SOCKET:
			no_socket = true;
			break;
		case OPT_SOCKET:
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'o': {
			char **n = reallocarray(overrides, noverrides + 1,
			    sizeof(*n));

			if (n == NULL)
				err(EX_OSERR, "options");
			overrides = n;
			overrides[noverrides++] = optarg;
			if (strchr(optarg, '=') == NULL)
				errx(EX_USAGE, "option '-o %s': expected "
				    "key=value", optarg);
			break;
		}
		case 'V':
			printf("kbroker %s\n", KP_VERSION);
			return 0;
		case 'v':
			cfg.verbose++;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (sock != NULL && no_socket)
		errx(EX_USAGE, "--socket and --no-socket conflict");
	if (sock != NULL && *sock == '\0')
		errx(EX_USAGE, "--socket: empty path");

	if (config != NULL && kb_config_load(&cfg, config, &line) == -1) {
		if (line > 0)
			errx(EX_CONFIG, "config '%s': line %d: expected "
			    "key=value", config, line);
		err(EX_CONFIG, "config '%s'", config);
	}
	for (size_t i = 0; i < noverrides; i++)
		if (kb_config_set_pair(&cfg, overrides[i]) == -1)
			err(EX_USAGE, "option '-o %s'", overrides[i]);
	free(overrides);
	if ((data_dir != NULL && kb_config_set(&cfg, "log.dirs",
	    data_dir) == -1) ||
	    (listen != NULL && kb_config_set(&cfg, "listeners", listen) == -1))
		err(EX_OSERR, "config");
	free(listen);
	if (sock != NULL && (cfg.socket_path = strdup(sock)) == NULL)
		err(EX_OSERR, "config");
	cfg.no_socket = no_socket;
	for (size_t i = 0; i < cfg.nkv; i++)
		if (!kb_config_known(cfg.kv[i].key))
			warnx("config '%s': unknown, ignored", cfg.kv[i].key);
	if (kb_config_finish(&cfg, msg, sizeof(msg)) == -1)
		errx(EX_CONFIG, "%s", msg);
	kp_pagecache_set_limit(cfg.log_cache_bytes);

	memset(&b, 0, sizeof(b));
	b.cfg = &cfg;
	rc = kb_server_run(&b);
	kb_config_release(&cfg);
	return rc;
}
