/* config.c -- kbroker's configuration: a properties file and -o key=value, Kafka's names */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kbroker.h"

/* Server keys that map onto a topic config default (Kafka's names). */
static const struct {
	const char	*server;
	const char	*topic;
	int64_t		 scale;		/* value multiplier (hours -> ms) */
} log_keys[] = {
	/* Coarser units first, so the finer key wins as in Kafka. */
	{ "log.retention.hours", "retention.ms", 3600000 },
	{ "log.retention.minutes", "retention.ms", 60000 },
	{ "log.retention.ms", "retention.ms", 1 },
	{ "log.roll.hours", "segment.ms", 3600000 },
	{ "log.roll.ms", "segment.ms", 1 },
	{ "log.retention.bytes", "retention.bytes", 1 },
	{ "log.segment.bytes", "segment.bytes", 1 },
	{ "log.flush.interval.messages", "flush.messages", 1 },
	{ "log.flush.interval.ms", "flush.ms", 1 },
	{ "message.max.bytes", "max.message.bytes", 1 },
	{ "log.cleanup.policy", "cleanup.policy", 0 },
	{ "log.index.interval.bytes", "index.interval.bytes", 1 },
	{ "log.index.size.max.bytes", "segment.index.bytes", 1 },
	{ "log.message.timestamp.type", "message.timestamp.type", 0 },
	{ "log.cleaner.delete.retention.ms", "delete.retention.ms", 1 },
	{ "log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms", 1 },
	{ "min.insync.replicas", "min.insync.replicas", 0 },
};

static const char *server_keys[] = {
	"auto.create.topics.enable", "broker.id", "connections.max.idle.ms",
	"default.replication.factor", "delete.topic.enable", "listeners",
	"log.dir", "log.dirs", "log.retention.check.interval.ms",
	"max.connections", "node.id", "num.partitions",
	"offsets.topic.replication.factor", "socket.request.max.bytes",
	"replica.high.watermark.checkpoint.interval.ms",
	"group.initial.rebalance.delay.ms", "offsets.topic.num.partitions",
	"group.min.session.timeout.ms", "group.max.session.timeout.ms",
	"offsets.retention.minutes", "advertised.listeners",
	"producer.id.expiration.ms", "queued.max.request.bytes",
	"kpipe.acks.all.fsync", "zookeeper.connect",
	"zookeeper.session.timeout.ms", "zookeeper.connection.timeout.ms",
	"replica.lag.time.max.ms", "unclean.leader.election.enable",
	"kpipe.log.cache.bytes", "transaction.state.log.num.partitions",
	"transaction.state.log.replication.factor",
	"transaction.state.log.min.isr", "transaction.max.timeout.ms",
	"transactional.id.expiration.ms",
	"transaction.abort.timed.out.transaction.cleanup.interval.ms",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

void
kb_config_init(struct kb_config *c)
{
	memset(c, 0, sizeof(*c));
	kp_logconf_defaults(&c->log);
}

void
kb_config_release(struct kb_config *c)
{
	for (size_t i = 0; i < c->nkv; i++) {
		free(c->kv[i].key);
		free(c->kv[i].value);
	}
	free(c->kv);
	free(c->data_dir);
	free(c->listen);
	free(c->socket_path);
	free(c->zk_connect);
	memset(c, 0, sizeof(*c));
}

int
kb_config_set(struct kb_config *c, const char *key, const char *value)
{
	struct kb_kv *nkv;
	char *k, *v;

	if ((v = strdup(value)) == NULL)
		return -1;
	for (size_t i = 0; i < c->nkv; i++) {
		if (strcmp(c->kv[i].key, key) == 0) {
			free(c->kv[i].value);
			c->kv[i].value = v;
			return 0;
		}
	}
	if ((k = strdup(key)) == NULL ||
	    (nkv = reallocarray(c->kv, c->nkv + 1, sizeof(*nkv))) == NULL) {
		free(k);
		free(v);
		return -1;
	}
	c->kv = nkv;
	c->kv[c->nkv].key = k;
	c->kv[c->nkv].value = v;
	c->nkv++;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
kb_config_set_pair(struct kb_config *c, const char *pair)
{
	char *copy, *eq, *k;
	int rc;

	if ((copy = strdup(pair)) == NULL)
		return -1;
	eq = strchr(copy, '=');
	if (eq == NULL) {
		free(copy);
		errno = EINVAL;
		return -1;
	}
	*eq = '\0';
	k = trim(copy);
	if (*k == '\0') {
		free(copy);
		errno = EINVAL;
		return -1;
	}
	rc = kb_config_set(c, k, trim(eq + 1));
	free(copy);
	return rc;
}

int
kb_config_load(struct kb_config *c, const char *path, int *lineno)
{
	FILE *fp;
	char *line = NULL, *s, *sep;
	size_t cap = 0;
	int n = 0, e;

	*lineno = 0;
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (getline(&line, &cap, fp) != -1) {
		n++;
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == '!')
			continue;
		sep = strpbrk(s, "=:");
		if (sep == NULL || sep == s) {
			*lineno = n;
			errno = EINVAL;
			goto fail;
		}
		*sep = '\0';
		if (kb_config_set(c, trim(s), trim(sep + 1)) == -1)
			goto fail;
	}
	if (ferror(fp))
		goto fail;
	free(line);
	fclose(fp);
	return 0;
fail:
	e = errno;
	free(line);
	fclose(fp);
	errno = e;
	return -1;
}

const char *
kb_config_get(const struct kb_config *c, const char *key, const char *def)
{
	for (size_t i = 0; i < c->nkv; i++)
		if (strcmp(c->kv[i].key, key) == 0)
			return c->kv[i].value;
	return def;
}

bool
kb_config_known(const char *key)
{
	for (size_t i = 0; i < NELEM(log_keys); i++)
		if (strcmp(log_keys[i].server, key) == 0)
			return true;
	for (size_t i = 0; i < NELEM(server_keys); i++)
		if (strcmp(server_keys[i], key) == 0)
			return true;
	return strncmp(key, "kpipe.", 6) == 0;
}

static int
get_int(const struct kb_config *c, const char *key, int64_t def, int64_t lo,
    int64_t hi, int64_t *out, char *err, size_t errlen)
{
	const char *v = kb_config_get(c, key, NULL);
	char *end;
	long long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < lo || n > hi) {
		snprintf(err, errlen, "config '%s': invalid value '%s'", key, v);
		return -1;
	}
	*out = n;
	return 0;
}

static int
get_bool(const struct kb_config *c, const char *key, bool def, bool *out,
    char *err, size_t errlen)
{
	const char *v = kb_config_get(c, key, NULL);

	*out = def;
	if (v == NULL)
		return 0;
	if (strcasecmp(v, "true") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0)
		*out = false;
	else {
		snprintf(err, errlen, "config '%s': invalid value '%s' "
		    "(true or false)", key, v);
		return -1;
	}
	return 0;
}

static int
finish_log(struct kb_config *c, char *err, size_t errlen)
{
	char num[32];

	kp_logconf_defaults(&c->log);
	for (size_t i = 0; i < NELEM(log_keys); i++) {
		const char *v = kb_config_get(c, log_keys[i].server, NULL);
		int64_t n;

		if (v == NULL)
			continue;
		if (log_keys[i].scale > 1) {
			if (get_int(c, log_keys[i].server, 0, -1,
			    INT64_MAX / log_keys[i].scale, &n, err,
			    errlen) == -1)
				return -1;
			snprintf(num, sizeof(num), "%lld",
			    (long long)(n < 0 ? -1 : n * log_keys[i].scale));
			v = num;
		}
		if (kp_logconf_set(&c->log, log_keys[i].topic, v) != 0) {
			snprintf(err, errlen, "config '%s': invalid value '%s'",
			    log_keys[i].server, v);
			return -1;
		}
	}
	c->log.set = 0;		/* broker defaults, not topic overrides */
	return 0;
}

static int
add_listen(struct kb_config *c, const struct kp_addr *a)
{
	struct kp_addr *n;

	if ((n = reallocarray(c->listen, c->nlisten + 1, sizeof(*n))) == NULL)
		return -1;
	c->listen = n;
	c->listen[c->nlisten++] = *a;
	return 0;
}

/* "PLAINTEXT://host:port,unix:/path" as Kafka's listeners key. */
static int
finish_listeners(struct kb_config *c, char *err, size_t errlen)
{
	const char *v = kb_config_get(c, "listeners", "127.0.0.1:9092");
	char *copy, *tok, *p, *save = NULL, *s;
	struct kp_addr a;
	bool have_unix = false;
	int rc = -1;

	free(c->listen);
	c->listen = NULL;
	c->nlisten = 0;
	if ((copy = strdup(v)) == NULL)
		return -1;
	for (p = copy; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		s = trim(tok);
		if (*s == '\0')
			continue;
		if (strncasecmp(s, "PLAINTEXT://", 12) == 0)
			s += 12;
		if (kp_addr_parse(s, &a) == -1) {
			snprintf(err, errlen, "listener '%s': %s", s,
			    strerror(errno));
			goto out;
		}
		if (a.kind == KP_ADDR_UNIX) {
			have_unix = true;
			if (c->no_socket)
				continue;
		}
		if (add_listen(c, &a) == -1)
			goto out;
	}
	if (c->socket_path != NULL) {
		memset(&a, 0, sizeof(a));
		a.kind = KP_ADDR_UNIX;
		if (strlen(c->socket_path) >= sizeof(a.path)) {
			snprintf(err, errlen, "socket '%s': %s", c->socket_path,
			    strerror(ENAMETOOLONG));
			goto out;
		}
		strcpy(a.path, c->socket_path);
		if (add_listen(c, &a) == -1)
			goto out;
	} else if (!have_unix && !c->no_socket) {
		memset(&a, 0, sizeof(a));
		a.kind = KP_ADDR_UNIX;
		if (kp_net_default_socket(a.path, sizeof(a.path)) == NULL) {
			snprintf(err, errlen, "default socket: %s",
			    strerror(errno));
			goto out;
		}
		if (add_listen(c, &a) == -1)
			goto out;
	}
	if (c->nlisten == 0) {
		snprintf(err, errlen, "no listener configured");
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/*
 * Cluster mode: a broker registers under its id and advertises a TCP
 * address, so both must be there; a guessed id would collide with
 * another broker's. Replicas beyond one exist only in cluster mode.
 */
static int
finish_cluster(struct kb_config *c, char *err, size_t errlen)
{
	const char *zk = kb_config_get(c, "zookeeper.connect", NULL);
	bool tcp = false;
	int64_t n;

	free(c->zk_connect);
	c->zk_connect = NULL;
	if (zk != NULL && *zk != '\0' && (c->zk_connect = strdup(zk)) == NULL)
		return -1;
	if (get_int(c, "default.replication.factor", 1, 1, INT16_MAX, &n, err,
	    errlen) == -1)
		return -1;
	if (n > 1 && c->zk_connect == NULL) {
		snprintf(err, errlen, "config 'default.replication.factor': "
		    "more than 1 needs zookeeper.connect (cluster mode)");
		return -1;
	}
	c->default_rf = (int16_t)n;
	if (get_int(c, "zookeeper.session.timeout.ms", 18000, 100, 3600000,
	    &c->zk_session_ms, err, errlen) == -1 ||
	    get_int(c, "zookeeper.connection.timeout.ms", c->zk_session_ms,
	    100, 3600000, &c->zk_connect_ms, err, errlen) == -1 ||
	    get_int(c, "replica.lag.time.max.ms", 30000, 1, INT32_MAX,
	    &c->replica_lag_ms, err, errlen) == -1 ||
	    get_bool(c, "unclean.leader.election.enable", false,
	    &c->unclean_election, err, errlen) == -1)
		return -1;
	if (c->zk_connect == NULL)
		return 0;
	if (kb_config_get(c, "broker.id", kb_config_get(c, "node.id",
	    NULL)) == NULL) {
		snprintf(err, errlen, "zookeeper.connect: cluster mode needs "
		    "broker.id set explicitly");
		return -1;
	}
	for (size_t i = 0; i < c->nlisten; i++)
		if (c->listen[i].kind == KP_ADDR_TCP)
			tcp = true;
	if (!tcp) {
		snprintf(err, errlen, "zookeeper.connect: cluster mode needs a "
		    "TCP listener (other brokers and clients connect to it)");
		return -1;
	}
	return 0;
}

/* $KPIPE_DATA, else $XDG_DATA_HOME/kpipe, else ~/.local/share/kpipe. */
static char *
default_data_dir(void)
{
	const char *env = getenv("KPIPE_DATA"), *home;
	char *p = NULL;

	if (env != NULL && *env != '\0')
		return strdup(env);
	if ((env = getenv("XDG_DATA_HOME")) != NULL && env[0] == '/') {
		if (asprintf(&p, "%s/kpipe", env) == -1)
			return NULL;
		return p;
	}
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		home = "/tmp";
	if (asprintf(&p, "%s/.local/share/kpipe", home) == -1)
		return NULL;
	return p;
}

int
kb_config_finish(struct kb_config *c, char *err, size_t errlen)
{
	const char *dirs;
	int64_t n;

	err[0] = '\0';
	free(c->data_dir);
	c->data_dir = NULL;
	dirs = kb_config_get(c, "log.dirs", kb_config_get(c, "log.dir", NULL));
	if (dirs != NULL) {
		size_t len = strcspn(dirs, ",");

		c->data_dir = strndup(dirs, len);
	} else
		c->data_dir = default_data_dir();
	if (c->data_dir == NULL || c->data_dir[0] == '\0') {
		snprintf(err, errlen, "no data directory");
		return -1;
	}
	if (finish_listeners(c, err, errlen) == -1 ||
	    finish_log(c, err, errlen) == -1)
		return -1;
	if (get_int(c, "node.id", 0, 0, INT32_MAX, &n, err, errlen) == -1 ||
	    get_int(c, "broker.id", n, 0, INT32_MAX, &n, err, errlen) == -1)
		return -1;
	c->broker_id = (int32_t)n;
	if (get_int(c, "num.partitions", 1, 1, 100000, &n, err, errlen) == -1)
		return -1;
	c->num_partitions = (int32_t)n;
	if (finish_cluster(c, err, errlen) == -1)
		return -1;
	if (get_bool(c, "auto.create.topics.enable", true, &c->auto_create,
	    err, errlen) == -1 ||
	    get_bool(c, "delete.topic.enable", true, &c->delete_enable, err,
	    errlen) == -1 ||
	    get_bool(c, "kpipe.acks.all.fsync", false, &c->acks_all_fsync,
	    err, errlen) == -1)
		return -1;
	if (get_int(c, "socket.request.max.bytes", 104857600, 1024,
	    INT32_MAX, &c->request_max, err, errlen) == -1 ||
	    get_int(c, "max.connections", 10000, 1, 1000000,
	    &c->max_connections, err, errlen) == -1 ||
	    get_int(c, "queued.max.request.bytes", 134217728, -1, INT64_MAX,
	    &c->queued_max, err, errlen) == -1 ||
	    get_int(c, "connections.max.idle.ms", 600000, -1, INT64_MAX,
	    &c->idle_ms, err, errlen) == -1 ||
	    get_int(c, "log.retention.check.interval.ms", 1000, 1, INT64_MAX,
	    &c->tick_ms, err, errlen) == -1 ||
	    get_int(c, "replica.high.watermark.checkpoint.interval.ms", 5000,
	    0, INT64_MAX, &c->ckpt_ms, err, errlen) == -1 ||
	    get_int(c, "producer.id.expiration.ms", 86400000, 1, INT64_MAX,
	    &n, err, errlen) == -1 ||
	    get_int(c, "kpipe.log.cache.bytes", KB_LOG_CACHE_BYTES, -1,
	    INT64_MAX, &c->log_cache_bytes, err, errlen) == -1)
		return -1;
	return 0;
}
