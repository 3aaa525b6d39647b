/* main.c -- kgroup: list, describe, reset and delete consumer groups */
#include <err.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "kgroup.h"
#include "kp_cli.h"
#include "kp_err.h"
#include "kp_json.h"
#include "kp_proto_group.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: kgroup [-hV] [-b brokers] [--json] [--timeout-ms ms] "
	    "command [args]\n"
	    "       kgroup list\n"
	    "       kgroup describe [--members | --state] group ...\n"
	    "       kgroup reset [--execute] [-t topic[:partitions]] "
	    "--to-earliest group\n"
	    "       kgroup reset [--execute] [-t topic[:partitions]] "
	    "--to-latest group\n"
	    "       kgroup reset [--execute] [-t topic[:partitions]] "
	    "--to-datetime time group\n"
	    "       kgroup reset [--execute] [-t topic[:partitions]] "
	    "--to-offset offset group\n"
	    "       kgroup reset [--execute] [-t topic[:partitions]] "
	    "--shift-by n group\n"
	    "       kgroup reset [--execute] --from-file file group\n"
	    "       kgroup delete group ...\n"
	    "       kgroup delete-offsets -t topic[:partitions] group\n");
}

struct kp_client *
kg_client(struct kg *kg)
{
	char why[512];

	if (kg->c != NULL)
		return kg->c;
	if ((kg->c = kp_cli_client_new(&kg->g, "kgroup", why,
	    sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "%s", why);
	return kg->c;
}

void
kg_call(struct kg *kg, struct kp_conn *k, int16_t api, int16_t vmin,
    int16_t vmax, const struct kp_msg *reqm, const void *req,
    const struct kp_msg *respm, void *resp, int16_t *ver)
{
	int16_t v;

	if ((v = kp_conn_version(k, api, vmin, vmax)) < 0)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(kg->c));
	kp_arena_reset(&kg->arena);
	if (kp_conn_exchange(k, api, v, reqm, req, respm, resp, &kg->arena,
	    &kg->body) < 0)
		errx(kp_cli_exit_for(kp_client_kerr(kg->c)), "%s",
		    kp_client_error(kg->c));
	if (ver != NULL)
		*ver = v;
}

struct kp_conn *
kg_coordinator(struct kg *kg, const char *group)
{
	struct kp_client *c = kg_client(kg);
	struct kp_find_coordinator_req rq;
	struct kp_find_coordinator_resp rs;
	struct kp_conn *k;

	if ((k = kp_client_conn(c, -1)) == NULL)
		errx(EX_UNAVAILABLE, "%s", kp_client_error(c));
	kp_find_coordinator_req_init(&rq);
	rq.key.ptr = group;
	rq.key.len = (int32_t)strlen(group);
	kg_call(kg, k, KP_API_FIND_COORDINATOR, 0, 2,
	    &kp_msg_find_coordinator_req, &rq, &kp_msg_find_coordinator_resp,
	    &rs, NULL);
	if (rs.error_code != KP_NONE)
		errx(kp_cli_exit_for(rs.error_code), "group '%s': %s", group,
		    kp_kerr_name(rs.error_code));
	if (kp_client_metadata(c, NULL, 0, false) == 0) {
		struct kp_conn *ck = kp_client_conn(c, rs.node_id);

		if (ck != NULL)
			return ck;
	}
	return k;	/* one broker reached by another address */
}

/* ---- tables and JSON ---- */

void
kg_table_print(struct kp_table *t, bool human)
{
	if (kp_table_print(t, stdout, human) < 0)
		errx(EX_OSERR, "table: out of memory");
}

void
kg_jstr(struct kp_buf *b, const char *key, const char *val, bool comma)
{
	kp_json_put_str(b, key, strlen(key));
	kp_buf_put(b, ":", 1);
	if (val == NULL)
		kp_buf_put(b, "null", 4);
	else
		kp_json_put_str(b, val, strlen(val));
	if (comma)
		kp_buf_put(b, ",", 1);
}

void
kg_jint(struct kp_buf *b, const char *key, int64_t val, bool comma)
{
	char tmp[32];

	kp_json_put_str(b, key, strlen(key));
	snprintf(tmp, sizeof(tmp), ":%lld%s", (long long)val, comma ? "," : "");
	kp_buf_put(b, tmp, strlen(tmp));
}

void
kg_jflush(struct kp_buf *b)
{
	fwrite(b->data, 1, b->len, stdout);
	fputc('\n', stdout);
	kp_buf_reset(b);
}

/* ---- -t topic[:partitions] ---- */

static int32_t
part_num(const char *s)
{
	const char *es;
	long long v = strtonum(s, 0, INT32_MAX, &es);

	if (es != NULL)
		errx(EX_USAGE, "partition '%s': %s", s, es);
	return (int32_t)v;
}

void
kg_scope_parse(const char *arg, struct kg_scope *s)
{
	char *colon, *tok, *save;

	memset(s, 0, sizeof(*s));
	if ((s->topic = strdup(arg)) == NULL)
		err(EX_OSERR, "strdup");
	if ((colon = strchr(s->topic, ':')) == NULL)
		return;
	*colon++ = '\0';
	if (s->topic[0] == '\0')
		errx(EX_USAGE, "'%s': no topic", arg);
	for (tok = strtok_r(colon, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		int32_t a, b;

		if (dash != NULL)
			*dash++ = '\0';
		a = part_num(tok);
		b = dash ? part_num(dash) : a;
		if (b < a)
			errx(EX_USAGE, "'%s': empty partition range", arg);
		for (; a <= b; a++) {
			int32_t *v = reallocarray(s->parts, s->nparts + 1,
			    sizeof(*v));

			if (v == NULL)
				err(EX_OSERR, "reallocarray");
			s->parts = v;
			s->parts[s->nparts++] = a;
			if (a == INT32_MAX)
				break;
		}
	}
	if (s->nparts == 0)
		errx(EX_USAGE, "'%s': no partitions after ':'", arg);
}

void
kg_scope_add(struct kg_scope **v, size_t *n, const char *arg)
{
	struct kg_scope *nv = reallocarray(*v, *n + 1, sizeof(*nv));

	if (nv == NULL)
		err(EX_OSERR, "reallocarray");
	*v = nv;
	kg_scope_parse(arg, &nv[(*n)++]);
}

bool
kg_scope_has(const struct kg_scope *s, size_t n, const char *topic,
    int32_t part)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].topic, topic) != 0)
			continue;
		if (s[i].nparts == 0)
			return true;
		for (size_t k = 0; k < s[i].nparts; k++)
			if (s[i].parts[k] == part)
				return true;
	}
	return false;
}

/* ---- main ---- */

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
	int		(*fn)(struct kg *, int, char **);
} cmds[] = {
	{ "delete",		kg_delete },
	{ "delete-offsets",	kg_delete_offsets },
	{ "describe",		kg_describe },
	{ "list",		kg_list },
	{ "reset",		kg_reset },
};

int
main(int argc, char *argv[])
{
	struct kg kg;
	char why[1024];
	size_t i;
	int ci, rc;

	/* getopt(3) prefixes its messages with argv[0]: use the bare name */
	argv[0] = (char *)getprogname();
	memset(&kg, 0, sizeof(kg));
	kp_arena_init(&kg.arena);
	kp_buf_init(&kg.body);
	switch (kp_cli_global_parse(argc, argv, longopts, &kg.g, &ci,
	    why, sizeof(why))) {
	case KP_CLI_HELP:
		usage(stdout);
		return fclose(stdout) == 0 ? 0 : EX_IOERR;
	case KP_CLI_VERSION:
		printf("kgroup %s\n", KP_VERSION);
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
	kg.table = isatty(1) && !kg.g.json;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		warnx("unknown command '%s'", argv[0]);
		usage(stderr);
		return EX_USAGE;
	}
	optind = 0;	/* GNU getopt: start over for the command */
	rc = cmds[i].fn(&kg, argc, argv);
	kp_client_free(kg.c);
	kp_arena_release(&kg.arena);
	kp_buf_release(&kg.body);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		return EX_IOERR;
	}
	return rc;
}
