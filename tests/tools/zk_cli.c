/* zk_cli.c -- read and write znodes for the cluster tests, with the ZooKeeper C client */
#include <err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define THREADED
#include <zookeeper/zookeeper.h>

/*
 * zk_cli HOST:PORT get PATH	data, then a newline
 * zk_cli HOST:PORT ls PATH	children, sorted, one a line
 * zk_cli HOST:PORT stat PATH	"version V ephemeral 0|1"
 * zk_cli HOST:PORT create PATH [DATA]
 * zk_cli HOST:PORT set PATH DATA [VERSION]	only at that version
 * zk_cli HOST:PORT rm PATH
 * Exit 0, 1 when the node does not exist (or exists, for create), 2 for
 * anything else (no session within 5 s included).
 */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected;

static void
watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh;
	(void)path;
	(void)ctx;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&mu);
	connected = state == ZOO_CONNECTED_STATE;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
usage(void)
{
	fprintf(stderr, "usage: zk_cli host:port get|ls|stat|create|set|rm "
	    "path [data [version]]\n");
	exit(EX_USAGE);
}

static int
code(int rc, const char *what, const char *path)
{
	if (rc == ZOK)
		return 0;
	if (rc == ZNONODE || rc == ZNODEEXISTS)
		return 1;
	warnx("%s %s: %s", what, path, zerror(rc));
	return 2;
}

static int
run(zhandle_t *zh, const char *cmd, const char *path, const char *data,
    int version)
{
	static char buf[1024 * 1024];
	struct String_vector sv;
	struct Stat st;
	int len = sizeof(buf) - 1, rc;

	if (strcmp(cmd, "get") == 0) {
		if ((rc = zoo_get(zh, path, 0, buf, &len, &st)) == ZOK)
			printf("%.*s\n", len < 0 ? 0 : len, buf);
	} else if (strcmp(cmd, "ls") == 0) {
		if ((rc = zoo_get_children(zh, path, 0, &sv)) == ZOK) {
			qsort(sv.data, (size_t)sv.count, sizeof(char *),
			    cmp_str);
			for (int32_t i = 0; i < sv.count; i++)
				printf("%s\n", sv.data[i]);
			deallocate_String_vector(&sv);
		}
	} else if (strcmp(cmd, "stat") == 0) {
		if ((rc = zoo_exists(zh, path, 0, &st)) == ZOK)
			printf("version %d ephemeral %d\n", st.version,
			    st.ephemeralOwner != 0);
	} else if (strcmp(cmd, "create") == 0)
		rc = zoo_create(zh, path, data, data ? (int)strlen(data) : -1,
		    &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
	else if (strcmp(cmd, "set") == 0 && data != NULL)
		rc = zoo_set(zh, path, data, (int)strlen(data), version);
	else if (strcmp(cmd, "rm") == 0)
		rc = zoo_delete(zh, path, -1);
	else
		usage();
	return code(rc, cmd, path);
}

int
main(int argc, char **argv)
{
	struct timespec until;
	zhandle_t *zh;
	int rc;

	if (argc < 4 || argc > 6)
		usage();
	/* the client's own lines (a closed socket at exit) are noise here */
	zoo_set_debug_level(getenv("ZK_CLI_DEBUG") ? ZOO_LOG_LEVEL_DEBUG : 0);
	if ((zh = zookeeper_init(argv[1], watcher, 4000, NULL, NULL, 0)) ==
	    NULL)
		err(2, "%s", argv[1]);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&mu);
	while (!connected)
		if (pthread_cond_timedwait(&cv, &mu, &until) != 0)
			break;
	rc = connected;
	pthread_mutex_unlock(&mu);
	if (!rc) {
		warnx("%s: no session within 5 s", argv[1]);
		zookeeper_close(zh);
		return 2;
	}
	rc = run(zh, argv[2], argv[3], argc >= 5 ? argv[4] : NULL,
	    argc == 6 ? atoi(argv[5]) : -1);
	if (fflush(stdout) == EOF)
		rc = 2;
	zookeeper_close(zh);
	return rc;
}
