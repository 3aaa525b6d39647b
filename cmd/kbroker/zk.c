/* zk.c -- cluster mode's ZooKeeper session: registration, watches, views built on its own thread */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "kp_err.h"
#include "kbroker.h"
#include "zk.h"

#define MAX_PARTS	100000	/* the most partitions a topic may claim */
#define PERIOD_MS	1000	/* read everything again at least this often */

/* ---- znode helpers: every call on the current handle, under zlock ---- */

int
kb_zk_get(struct kb_cluster *cl, const char *path, bool watch, char **data,
    int *len, struct Stat *st)
{
	int cap = 4096, n, rc;
	char *buf = NULL, *nb;

	*data = NULL;
	for (;;) {
		if ((nb = realloc(buf, (size_t)cap + 1)) == NULL) {
			free(buf);
			return ZSYSTEMERROR;
		}
		buf = nb;
		n = cap;
		pthread_rwlock_rdlock(&cl->zlock);
		rc = zoo_get(cl->zh, path, watch, buf, &n, st);
		pthread_rwlock_unlock(&cl->zlock);
		if (rc != ZOK) {
			free(buf);
			return rc;
		}
		if (st->dataLength <= cap || cap >= KB_ZK_DATA_MAX)
			break;
		cap = st->dataLength;
	}
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	*data = buf;
	if (len != NULL)
		*len = n;
	return ZOK;
}

int
kb_zk_children(struct kb_cluster *cl, const char *path, bool watch,
    struct String_vector *sv)
{
	int rc;

	memset(sv, 0, sizeof(*sv));
	pthread_rwlock_rdlock(&cl->zlock);
	rc = zoo_get_children(cl->zh, path, watch, sv);
	pthread_rwlock_unlock(&cl->zlock);
	return rc;
}

int
kb_zk_exists(struct kb_cluster *cl, const char *path, bool watch,
    struct Stat *st)
{
	int rc;

	pthread_rwlock_rdlock(&cl->zlock);
	rc = zoo_exists(cl->zh, path, watch, st);
	pthread_rwlock_unlock(&cl->zlock);
	return rc;
}

int
kb_zk_create(struct kb_cluster *cl, const char *path, const char *data,
    int flags)
{
	int rc;

	pthread_rwlock_rdlock(&cl->zlock);
	rc = zoo_create(cl->zh, path, data, data ? (int)strlen(data) : -1,
	    &ZOO_OPEN_ACL_UNSAFE, flags, NULL, 0);
	pthread_rwlock_unlock(&cl->zlock);
	return rc;
}

int
kb_zk_multi(struct kb_cluster *cl, int n, const zoo_op_t *ops,
    zoo_op_result_t *res)
{
	int rc;

	pthread_rwlock_rdlock(&cl->zlock);
	rc = zoo_multi(cl->zh, n, ops, res);
	pthread_rwlock_unlock(&cl->zlock);
	return rc;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* A znode name as a broker or partition id; -1 when it is not one. */
static int32_t
name_id(const char *s)
{
	const char *e = NULL;
	long long n = strtonum(s, 0, INT32_MAX, &e);

	return e == NULL ? (int32_t)n : -1;
}

int
kb_zk_live(struct kb_cluster *cl, int32_t **ids, int32_t *n)
{
	struct String_vector sv;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = kb_zk_children(cl, "/brokers/ids", false, &sv)) != ZOK)
		return rc;
	if ((*ids = calloc((size_t)sv.count + 1, sizeof(**ids))) == NULL) {
		deallocate_String_vector(&sv);
		return ZSYSTEMERROR;
	}
	for (int32_t i = 0; i < sv.count; i++)
		if (((*ids)[*n] = name_id(sv.data[i])) >= 0)
			(*n)++;
	deallocate_String_vector(&sv);
	qsort(*ids, (size_t)*n, sizeof(**ids), cmp_i32);
	return ZOK;
}

int
kb_zk_kerr(int zrc)
{
	switch (zrc) {
	case ZOK:
		return KP_NONE;
	case ZCONNECTIONLOSS:
	case ZOPERATIONTIMEOUT:
	case ZSESSIONEXPIRED:
	case ZINVALIDSTATE:
	case ZCLOSING:
		return KP_REQUEST_TIMED_OUT;
	default:
		return KP_UNKNOWN_SERVER_ERROR;
	}
}

void
kb_debug_cl(const struct kb_cluster *cl, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (cl->verbose < 2)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) != -1) {
		kb_log("%s", s);
		free(s);
	}
	va_end(ap);
}

void
kb_zk_wake(struct kb_cluster *cl)
{
	pthread_mutex_lock(&cl->mu);
	cl->dirty = true;
	pthread_cond_broadcast(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
}

/* ---- Kafka's JSON ---- */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
kb_uuid_str(const uint8_t id[16], char out[23])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < 16; i++) {
		acc = acc << 8 | id[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = b64url[(acc >> bits) & 63];
		}
	}
	out[n++] = b64url[(acc << (6 - bits)) & 63];
	out[n] = '\0';
}

int
kb_uuid_parse(const char *s, uint8_t id[16])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	if (strlen(s) != 22)
		return -1;
	for (size_t i = 0; i < 22; i++) {
		const char *c = strchr(b64url, s[i]);

		if (c == NULL || s[i] == '\0')
			return -1;
		acc = acc << 6 | (uint32_t)(c - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n < 16)
				id[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == 16 ? 0 : -1;
}

static bool
uuid_known(const uint8_t id[16])
{
	for (size_t i = 0; i < 16; i++)
		if (id[i] != 0)
			return true;
	return false;
}

static void
put_ids(FILE *fp, const int32_t *ids, int32_t n)
{
	fputc('[', fp);
	for (int32_t i = 0; i < n; i++)
		fprintf(fp, "%s%" PRId32, i ? "," : "", ids[i]);
	fputc(']', fp);
}

/* Close an open_memstream: its buffer is only final after fclose. */
static char *
mem_done(FILE *fp, char **s)
{
	bool bad = ferror(fp) != 0;

	if (fclose(fp) == EOF)
		bad = true;
	if (bad) {
		free(*s);
		*s = NULL;
	}
	return *s;
}

char *
kb_json_state(int32_t cepoch, int32_t leader, int32_t lepoch,
    const int32_t *isr, int32_t nisr)
{
	char *s = NULL;
	size_t len;
	FILE *fp;

	if ((fp = open_memstream(&s, &len)) == NULL)
		return NULL;
	fprintf(fp, "{\"controller_epoch\":%" PRId32 ",\"leader\":%" PRId32
	    ",\"version\":1,\"leader_epoch\":%" PRId32 ",\"isr\":", cepoch,
	    leader, lepoch);
	put_ids(fp, isr, nisr);
	fputc('}', fp);
	return mem_done(fp, &s);
}

/* {"0":[1,2],...} of the parts whose list (by field) is not empty. */
static void
put_part_map(FILE *fp, const struct kb_cl_topic *t, int which)
{
	bool first = true;

	fputc('{', fp);
	for (int32_t p = 0; p < t->nparts; p++) {
		const struct kb_cl_part *pp = &t->parts[p];
		const int32_t *ids = which == 0 ? pp->replicas :
		    which == 1 ? pp->adding : pp->removing;
		int32_t n = which == 0 ? pp->nreplicas :
		    which == 1 ? pp->nadding : pp->nremoving;

		if (n == 0 && which != 0)
			continue;
		if (n == 0 && pp->replicas == NULL)
			continue;
		fprintf(fp, "%s\"%" PRId32 "\":", first ? "" : ",", p);
		put_ids(fp, ids, n);
		first = false;
	}
	fputc('}', fp);
}

char *
kb_json_assignment(const struct kb_cl_topic *t)
{
	char *s = NULL;
	size_t len;
	FILE *fp;

	char uuid[23];

	if ((fp = open_memstream(&s, &len)) == NULL)
		return NULL;
	/* Kafka 2.8 and later: version 3 carries the topic id */
	if (uuid_known(t->id)) {
		kb_uuid_str(t->id, uuid);
		fprintf(fp, "{\"version\":3,\"topic_id\":\"%s\",\"partitions\":",
		    uuid);
	} else
		fputs("{\"version\":2,\"partitions\":", fp);
	put_part_map(fp, t, 0);
	fputs(",\"adding_replicas\":", fp);
	put_part_map(fp, t, 1);
	fputs(",\"removing_replicas\":", fp);
	put_part_map(fp, t, 2);
	fputc('}', fp);
	return mem_done(fp, &s);
}

/* A JSON array of broker ids; new array in *out (NULL when empty). */
static int
parse_ids(json_t *a, int32_t **out, int32_t *n)
{
	size_t i;
	json_t *x;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a) || json_array_size(a) > 100000)
		return -1;
	if (json_array_size(a) == 0)
		return 0;
	if ((*out = calloc(json_array_size(a), sizeof(**out))) == NULL)
		return -1;
	json_array_foreach(a, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < -1 ||
		    json_integer_value(x) > INT32_MAX) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[(*n)++] = (int32_t)json_integer_value(x);
	}
	return 0;
}

static int32_t
get_i32(json_t *o, const char *key, int32_t def)
{
	json_t *x = json_object_get(o, key);

	if (!json_is_integer(x))
		return def;
	return (int32_t)json_integer_value(x);
}

int
kb_json_parse_state(const char *s, int32_t *cepoch, int32_t *leader,
    int32_t *lepoch, int32_t **isr, int32_t *nisr)
{
	json_t *o = json_loads(s, 0, NULL);
	int rc = -1;

	*isr = NULL;
	*nisr = 0;
	if (!json_is_object(o))
		goto out;
	*cepoch = get_i32(o, "controller_epoch", 0);
	*leader = get_i32(o, "leader", -1);
	*lepoch = get_i32(o, "leader_epoch", 0);
	rc = parse_ids(json_object_get(o, "isr"), isr, nisr);
out:
	json_decref(o);
	return rc;
}

/* A partition map's entries into parts; which as in put_part_map. */
static int
parse_part_map(json_t *m, struct kb_cl_topic *t, int which)
{
	const char *k;
	json_t *v;

	if (m == NULL)
		return 0;
	if (!json_is_object(m))
		return -1;
	json_object_foreach(m, k, v) {
		int32_t p = name_id(k), **ids, *n;
		struct kb_cl_part *pp;

		if (p < 0 || p >= t->nparts)
			return -1;
		pp = &t->parts[p];
		ids = which == 0 ? &pp->replicas : which == 1 ? &pp->adding :
		    &pp->removing;
		n = which == 0 ? &pp->nreplicas : which == 1 ? &pp->nadding :
		    &pp->nremoving;
		free(*ids);
		if (parse_ids(v, ids, n) == -1)
			return -1;
	}
	return 0;
}

int
kb_json_parse_assignment(const char *s, struct kb_cl_topic *t)
{
	json_t *o = json_loads(s, 0, NULL), *m, *x;
	const char *k;
	json_t *v;
	int32_t max = -1;
	int rc = -1;

	if (!json_is_object(o) ||
	    !json_is_object(m = json_object_get(o, "partitions")))
		goto out;
	json_object_foreach(m, k, v) {
		int32_t p = name_id(k);

		if (p < 0 || p >= MAX_PARTS)
			goto out;
		if (p > max)
			max = p;
	}
	t->nparts = max + 1;
	if ((t->parts = calloc((size_t)t->nparts + 1, sizeof(*t->parts))) ==
	    NULL)
		goto out;
	for (int32_t p = 0; p < t->nparts; p++) {
		t->parts[p].leader = -1;
		t->parts[p].version = -1;
	}
	x = json_object_get(o, "topic_id");
	if (json_is_string(x) && kb_uuid_parse(json_string_value(x), t->id) ==
	    -1)
		memset(t->id, 0, sizeof(t->id));
	if (parse_part_map(m, t, 0) == -1 ||
	    parse_part_map(json_object_get(o, "adding_replicas"), t, 1) == -1 ||
	    parse_part_map(json_object_get(o, "removing_replicas"), t, 2) == -1)
		goto out;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* ---- reading the cluster into a view (session thread) ---- */

static int
read_broker(struct kb_cluster *cl, const char *name, struct kb_cl_broker *br)
{
	char path[64], *data;
	struct Stat st;
	json_t *o, *x;
	int rc;

	snprintf(path, sizeof(path), "/brokers/ids/%s", name);
	if ((rc = kb_zk_get(cl, path, false, &data, NULL, &st)) != ZOK)
		return rc;
	o = json_loads(data, 0, NULL);
	free(data);
	br->id = name_id(name);
	br->port = get_i32(o, "port", -1);
	x = json_object_get(o, "host");
	if (json_is_string(x) && br->id >= 0)
		br->host = strdup(json_string_value(x));
	json_decref(o);
	/* Unreadable registrations (not Kafka's layout) count as not live. */
	return br->host != NULL && br->port > 0 ? ZOK : ZNONODE;
}

static int
read_brokers(struct kb_cluster *cl, struct kb_cl_view *v)
{
	struct String_vector sv;
	int rc;

	if ((rc = kb_zk_children(cl, "/brokers/ids", true, &sv)) != ZOK)
		return rc;
	v->brokers = calloc((size_t)sv.count + 1, sizeof(*v->brokers));
	if (v->brokers == NULL) {
		deallocate_String_vector(&sv);
		return ZSYSTEMERROR;
	}
	for (int32_t i = 0; i < sv.count; i++) {
		struct kb_cl_broker *br = &v->brokers[v->nbrokers];

		rc = read_broker(cl, sv.data[i], br);
		if (rc == ZOK)
			v->nbrokers++;
		else {
			free(br->host);
			br->host = NULL;
			if (rc != ZNONODE)
				break;
			rc = ZOK;
		}
	}
	deallocate_String_vector(&sv);
	qsort(v->brokers, v->nbrokers, sizeof(*v->brokers), cmp_i32);
	return rc;
}

/* The data of path, watched; a missing node gets an exists watch. */
static int
get_watched(struct kb_cluster *cl, const char *path, char **data,
    struct Stat *st)
{
	int rc = kb_zk_get(cl, path, true, data, NULL, st);

	if (rc == ZNONODE) {
		rc = kb_zk_exists(cl, path, true, st);
		if (rc == ZOK)		/* created just now: the watch fires */
			rc = ZNONODE;
	}
	return rc;
}

static int
read_controller(struct kb_cluster *cl, struct kb_cl_view *v, int64_t *owner)
{
	struct Stat st;
	char *data;
	json_t *o;
	int rc;

	v->controller = -1;
	*owner = 0;
	rc = get_watched(cl, "/controller", &data, &st);
	if (rc == ZNONODE)
		return ZOK;
	if (rc != ZOK)
		return rc;
	o = json_loads(data, 0, NULL);
	free(data);
	v->controller = get_i32(o, "brokerid", -1);
	json_decref(o);
	*owner = st.ephemeralOwner;
	return ZOK;
}

static int
read_config(struct kb_cluster *cl, struct kb_cl_topic *t)
{
	char path[512], *data = NULL;
	struct Stat st;
	json_t *o = NULL, *m, *x;
	const char *k;
	size_t n = 0;
	int rc;

	snprintf(path, sizeof(path), "/config/topics/%s", t->name);
	rc = get_watched(cl, path, &data, &st);
	if (rc != ZOK && rc != ZNONODE)
		return rc;
	/* no znode: no overrides; either way the configs are known */
	if (data != NULL) {
		o = json_loads(data, 0, NULL);
		free(data);
	}
	m = json_object_get(o, "config");
	if (json_is_object(m))
		n = json_object_size(m);
	t->cfg_keys = calloc(n + 1, sizeof(char *));
	t->cfg_vals = calloc(n + 1, sizeof(char *));
	rc = t->cfg_keys == NULL || t->cfg_vals == NULL ? ZSYSTEMERROR : ZOK;
	if (rc == ZOK && n > 0)
		json_object_foreach(m, k, x) {
			if (!json_is_string(x) || t->ncfg == n)
				continue;
			t->cfg_keys[t->ncfg] = strdup(k);
			t->cfg_vals[t->ncfg] = strdup(json_string_value(x));
			t->ncfg++;
			if (t->cfg_keys[t->ncfg - 1] == NULL ||
			    t->cfg_vals[t->ncfg - 1] == NULL)
				rc = ZSYSTEMERROR;
		}
	json_decref(o);
	return rc;
}

static int
read_state(struct kb_cluster *cl, const char *topic, int32_t p,
    struct kb_cl_part *pp)
{
	char path[512], *data;
	struct Stat st;
	int32_t cepoch;
	int rc;

	snprintf(path, sizeof(path), "/brokers/topics/%s/partitions/%" PRId32
	    "/state", topic, p);
	rc = get_watched(cl, path, &data, &st);
	if (rc == ZNONODE)
		return ZOK;		/* no state yet: leader -1, version -1 */
	if (rc != ZOK)
		return rc;
	if (kb_json_parse_state(data, &cepoch, &pp->leader, &pp->leader_epoch,
	    &pp->isr, &pp->nisr) == 0)
		pp->version = st.version;
	else
		pp->leader = -1;
	free(data);
	return ZOK;
}

static int
read_topic(struct kb_cluster *cl, const char *name, struct kb_cl_topic *t)
{
	char path[512], *data;
	struct Stat st;
	int rc;

	if ((t->name = strdup(name)) == NULL)
		return ZSYSTEMERROR;
	snprintf(path, sizeof(path), "/brokers/topics/%s", name);
	if ((rc = kb_zk_get(cl, path, true, &data, NULL, &st)) != ZOK)
		return rc;
	rc = kb_json_parse_assignment(data, t);
	free(data);
	if (rc == -1) {
		kb_log("zookeeper %s: not an assignment Kafka writes, ignored",
		    path);
		return ZNONODE;
	}
	t->version = st.version;
	if ((rc = read_config(cl, t)) != ZOK)
		return rc;
	for (int32_t p = 0; p < t->nparts; p++)
		if ((rc = read_state(cl, name, p, &t->parts[p])) != ZOK)
			return rc;
	return ZOK;
}

static int
cmp_topic(const void *a, const void *b)
{
	return strcmp(((const struct kb_cl_topic *)a)->name,
	    ((const struct kb_cl_topic *)b)->name);
}

static bool
in_names(const struct String_vector *sv, const char *s)
{
	for (int32_t i = 0; i < sv->count; i++)
		if (strcmp(sv->data[i], s) == 0)
			return true;
	return false;
}

static int
read_topics(struct kb_cluster *cl, struct kb_cl_view *v)
{
	struct String_vector sv, del;
	int rc;

	if ((rc = kb_zk_children(cl, "/admin/delete_topics", true, &del)) !=
	    ZOK)
		return rc;
	if ((rc = kb_zk_children(cl, "/brokers/topics", true, &sv)) != ZOK) {
		deallocate_String_vector(&del);
		return rc;
	}
	v->topics = calloc((size_t)sv.count + 1, sizeof(*v->topics));
	if (v->topics == NULL)
		rc = ZSYSTEMERROR;
	for (int32_t i = 0; v->topics != NULL && i < sv.count; i++) {
		struct kb_cl_topic *t = &v->topics[v->ntopics];

		rc = read_topic(cl, sv.data[i], t);
		if (rc == ZOK) {
			t->deleting = in_names(&del, t->name);
			v->ntopics++;
			continue;
		}
		kb_cl_topic_release(t);
		if (rc != ZNONODE)
			break;
		rc = ZOK;		/* deleted meanwhile: the watch fired */
	}
	deallocate_String_vector(&sv);
	deallocate_String_vector(&del);
	if (v->topics != NULL)
		qsort(v->topics, v->ntopics, sizeof(*v->topics), cmp_topic);
	return rc;
}

/* Everything, with watches set; NULL when ZooKeeper failed us. */
static struct kb_cl_view *
scan(struct kb_cluster *cl, int64_t *ctl_owner)
{
	struct kb_cl_view *v = calloc(1, sizeof(*v));
	int rc;

	if (v == NULL)
		return NULL;
	if ((rc = read_controller(cl, v, ctl_owner)) != ZOK ||
	    (rc = read_brokers(cl, v)) != ZOK ||
	    (rc = read_topics(cl, v)) != ZOK) {
		kb_debug_cl(cl, "zookeeper: reading the cluster: %s",
		    zerror(rc));
		kb_cl_view_free(v);
		return NULL;
	}
	return v;
}

/* The view as text: a new view is published only when this changed. */
static char *
view_sig(const struct kb_cl_view *v)
{
	char *s = NULL;
	size_t len;
	FILE *fp;

	if ((fp = open_memstream(&s, &len)) == NULL)
		return NULL;
	fprintf(fp, "c%" PRId32 " b", v->controller);
	for (size_t i = 0; i < v->nbrokers; i++)
		fprintf(fp, "%" PRId32 "@%s:%" PRId32 ",", v->brokers[i].id,
		    v->brokers[i].host, v->brokers[i].port);
	for (size_t i = 0; i < v->ntopics; i++) {
		const struct kb_cl_topic *t = &v->topics[i];

		char uuid[23];

		kb_uuid_str(t->id, uuid);
		fprintf(fp, "\nt%s %s d%d v%" PRId32, t->name, uuid,
		    t->deleting, t->version);
		for (size_t k = 0; k < t->ncfg; k++)
			fprintf(fp, " %s=%s", t->cfg_keys[k], t->cfg_vals[k]);
		for (int32_t p = 0; p < t->nparts; p++) {
			const struct kb_cl_part *pp = &t->parts[p];

			fprintf(fp, "\n p%" PRId32 " l%" PRId32 " e%" PRId32
			    " v%" PRId32 " r", p, pp->leader,
			    pp->leader_epoch, pp->version);
			put_ids(fp, pp->replicas, pp->nreplicas);
			put_ids(fp, pp->isr, pp->nisr);
			put_ids(fp, pp->adding, pp->nadding);
			put_ids(fp, pp->removing, pp->nremoving);
		}
	}
	return mem_done(fp, &s);
}

static void
publish(struct kb_cluster *cl, struct kb_cl_view *v)
{
	char *sig = view_sig(v);
	uint64_t one = 1;

	if (sig != NULL && cl->last_sig != NULL &&
	    strcmp(sig, cl->last_sig) == 0) {
		free(sig);
		kb_cl_view_free(v);
		return;
	}
	free(cl->last_sig);
	cl->last_sig = sig;
	v->gen = ++cl->gen;
	pthread_mutex_lock(&cl->mu);
	kb_cl_view_free(cl->pending);	/* the loop never saw it */
	cl->pending = v;
	pthread_mutex_unlock(&cl->mu);
	if (write(cl->efd, &one, sizeof(one)) != sizeof(one))
		abort();		/* the loop would never see a view */
}

/* ---- the session ---- */

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
session_id(struct kb_cluster *cl)
{
	const clientid_t *id;
	int64_t sid;

	pthread_rwlock_rdlock(&cl->zlock);
	id = zoo_client_id(cl->zh);
	sid = id != NULL ? id->client_id : 0;
	pthread_rwlock_unlock(&cl->zlock);
	return sid;
}

/*
 * /brokers/ids/<id>, ephemeral, in Kafka's layout. A registration left
 * by this broker's previous life (killed, its session not yet expired)
 * blocks ours until ZooKeeper drops it; the children watch tells us.
 */
static void
register_self(struct kb_cluster *cl)
{
	char path[64], data[768];
	struct Stat st;
	int rc;

	snprintf(path, sizeof(path), "/brokers/ids/%" PRId32, cl->id);
	snprintf(data, sizeof(data), "{\"listener_security_protocol_map\":"
	    "{\"PLAINTEXT\":\"PLAINTEXT\"},\"endpoints\":[\"PLAINTEXT://%s:%"
	    PRId32 "\"],\"jmx_port\":-1,\"host\":\"%s\",\"timestamp\":\"%"
	    PRId64 "\",\"port\":%" PRId32 ",\"version\":5}", cl->host,
	    cl->port, cl->host, wall_ms(), cl->port);
	rc = kb_zk_create(cl, path, data, ZOO_EPHEMERAL);
	if (rc == ZOK) {
		cl->registered = true;
		kb_log("zookeeper: registered as broker %" PRId32 " (%s:%"
		    PRId32 ")", cl->id, cl->host, cl->port);
		return;
	}
	if (rc == ZNODEEXISTS && kb_zk_exists(cl, path, true, &st) == ZOK) {
		if (st.ephemeralOwner == session_id(cl)) {
			cl->registered = true;
			return;
		}
		kb_debug_cl(cl, "zookeeper: %s held by an older session, "
		    "waiting for it to expire", path);
		return;
	}
	if (rc != ZNODEEXISTS)
		kb_log("zookeeper: register %s: %s", path, zerror(rc));
}

/* Every broker of the view joins the ones seen (ids stay once seen). */
static void
note_seen(struct kb_cluster *cl, const struct kb_cl_view *v)
{
	for (size_t i = 0; i < v->nbrokers; i++) {
		int32_t *n;

		if (kb_cl_in(cl->seen, cl->nseen, v->brokers[i].id))
			continue;
		if ((n = reallocarray(cl->seen, (size_t)cl->nseen + 1,
		    sizeof(*n))) == NULL)
			return;
		cl->seen = n;
		cl->seen[cl->nseen++] = v->brokers[i].id;
	}
}

/* One round: register, read everything, control if controller, publish. */
static void
step(struct kb_cluster *cl)
{
	struct kb_cl_view *v;
	int64_t owner;
	bool am;

	pthread_rwlock_rdlock(&cl->zlock);
	am = zoo_state(cl->zh) == ZOO_CONNECTED_STATE;
	pthread_rwlock_unlock(&cl->zlock);
	if (!am)
		return;
	if (!cl->registered)
		register_self(cl);
	if ((v = scan(cl, &owner)) == NULL)
		return;
	note_seen(cl, v);
	if (v->controller == -1 && cl->registered) {
		kb_controller_elect_self(cl);
		kb_cl_view_free(v);
		kb_zk_wake(cl);
		return;
	}
	am = v->controller == cl->id && owner == session_id(cl);
	pthread_mutex_lock(&cl->mu);
	if (cl->controller && !am)
		kb_log("zookeeper: no longer the controller");
	cl->controller = am;
	pthread_mutex_unlock(&cl->mu);
	if (am)
		kb_controller_run(cl, v);
	publish(cl, v);
}

static void
watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct kb_cluster *cl = ctx;

	(void)path;
	pthread_mutex_lock(&cl->mu);
	if (zh == cl->zh_live) {
		if (type == ZOO_SESSION_EVENT) {
			cl->zstate = state;
			if (state == ZOO_EXPIRED_SESSION_STATE)
				cl->expired = true;
		}
		cl->dirty = true;
		pthread_cond_broadcast(&cl->cv);
	}
	pthread_mutex_unlock(&cl->mu);
}

static zhandle_t *
session_to(struct kb_cluster *cl, const char *connect)
{
	zhandle_t *zh;

	/* the watcher ignores events until zh_live is set below */
	pthread_mutex_lock(&cl->mu);
	zh = zookeeper_init(connect, watcher, cl->session_ms, NULL, cl, 0);
	cl->zh_live = zh;
	cl->zstate = 0;
	pthread_mutex_unlock(&cl->mu);
	return zh;
}

static zhandle_t *
session_new(struct kb_cluster *cl)
{
	return session_to(cl, cl->connect);
}

/* The session expired: everything ephemeral of ours is gone; start over. */
static void
renew(struct kb_cluster *cl)
{
	zhandle_t *zh;

	kb_log("zookeeper: session expired, starting a new one");
	pthread_rwlock_wrlock(&cl->zlock);
	zookeeper_close(cl->zh);
	cl->zh = NULL;
	while ((zh = session_new(cl)) == NULL) {
		kb_log("zookeeper %s: %s", cl->connect, strerror(errno));
		sleep(1);
	}
	cl->zh = zh;
	pthread_rwlock_unlock(&cl->zlock);
	cl->registered = false;
	pthread_mutex_lock(&cl->mu);
	cl->controller = false;
	pthread_mutex_unlock(&cl->mu);
}

static void *
session_main(void *arg)
{
	struct kb_cluster *cl = arg;
	struct timespec until;
	bool expired;

	pthread_mutex_lock(&cl->mu);
	cl->dirty = true;
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += PERIOD_MS / 1000;
		while (!cl->dirty && !cl->quit && !cl->expired)
			if (pthread_cond_timedwait(&cl->cv, &cl->mu, &until) ==
			    ETIMEDOUT)
				break;
		if (cl->quit)
			break;
		expired = cl->expired;
		cl->expired = false;
		cl->dirty = false;
		pthread_mutex_unlock(&cl->mu);
		if (expired)
			renew(cl);
		step(cl);
		pthread_mutex_lock(&cl->mu);
	}
	pthread_mutex_unlock(&cl->mu);
	return NULL;
}

/* ---- start and stop (loop thread) ---- */

/* Where other brokers and clients reach us: advertised.listeners, else
 * the first TCP listener as bound. */
static int
advertised(struct kb_broker *b, struct kb_cluster *cl)
{
	const char *adv = kb_config_get(b->cfg, "advertised.listeners", NULL);
	struct kp_addr a;
	char first[512];

	if (adv != NULL && *adv != '\0') {
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(adv, ","),
		    adv);
		adv = first;
		if (strncasecmp(adv, "PLAINTEXT://", 12) == 0)
			adv += 12;
		if (kp_addr_parse(adv, &a) == -1 || a.kind != KP_ADDR_TCP) {
			kb_log("advertised.listeners: '%s': not host:port",
			    first);
			return -1;
		}
		strlcpy(cl->host, a.host, sizeof(cl->host));
		cl->port = a.port;
		return 0;
	}
	for (size_t i = 0; i < b->nlis; i++) {
		if (b->lis[i].addr.kind != KP_ADDR_TCP)
			continue;
		strlcpy(cl->host, b->lis[i].addr.host, sizeof(cl->host));
		cl->port = b->lis[i].addr.port;
		return 0;
	}
	kb_log("zookeeper.connect: no TCP listener to advertise");
	return -1;
}

static int
wait_connected(struct kb_cluster *cl, int ms)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&cl->mu);
	while (cl->zstate != ZOO_CONNECTED_STATE && rc == 0)
		rc = pthread_cond_timedwait(&cl->cv, &cl->mu, &until);
	rc = cl->zstate == ZOO_CONNECTED_STATE ? 0 : -1;
	pthread_mutex_unlock(&cl->mu);
	return rc;
}

/* Kafka's persistent paths, and the cluster id (made up the first time). */
static int
make_paths(struct kb_broker *b, struct kb_cluster *cl)
{
	static const char *paths[] = {
		"/brokers", "/brokers/ids", "/brokers/topics", "/config",
		"/config/topics", "/admin", "/admin/delete_topics", "/cluster",
	};
	unsigned char rnd[16];
	char id[32], data[128], *got;
	struct Stat st;
	json_t *o, *x;
	int rc;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if ((rc = kb_zk_create(cl, paths[i], NULL, ZOO_PERSISTENT)) !=
		    ZOK && rc != ZNODEEXISTS)
			goto fail;
	if ((rc = kb_zk_create(cl, "/controller_epoch", "0",
	    ZOO_PERSISTENT)) != ZOK && rc != ZNODEEXISTS)
		goto fail;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		arc4random_buf(rnd, sizeof(rnd));
	kb_uuid_str(rnd, id);		/* a Kafka Uuid, as its cluster ids */
	snprintf(data, sizeof(data), "{\"version\":\"1\",\"id\":\"%s\"}", id);
	if ((rc = kb_zk_create(cl, "/cluster/id", data, ZOO_PERSISTENT)) !=
	    ZOK && rc != ZNODEEXISTS)
		goto fail;
	if ((rc = kb_zk_get(cl, "/cluster/id", false, &got, NULL, &st)) != ZOK)
		goto fail;
	o = json_loads(got, 0, NULL);
	free(got);
	x = json_object_get(o, "id");
	if (json_is_string(x))
		strlcpy(b->cluster_id, json_string_value(x),
		    sizeof(b->cluster_id));
	json_decref(o);
	return 0;
fail:
	kb_log("zookeeper %s: creating Kafka's paths: %s", cl->connect,
	    zerror(rc));
	return -1;
}

/*
 * zookeeper.connect may end in a chroot ("host:port/kafka"), which, as
 * Kafka does, we create when missing: through a short session without it.
 */
static int
make_chroot(struct kb_cluster *cl)
{
	const char *slash = strchr(cl->connect, '/');
	char *hosts, *path;
	int rc = ZOK;

	if (slash == NULL || slash[1] == '\0')
		return 0;
	if ((hosts = strndup(cl->connect, (size_t)(slash - cl->connect))) ==
	    NULL || (path = strdup(slash)) == NULL) {
		free(hosts);
		return -1;
	}
	if ((cl->zh = session_to(cl, hosts)) == NULL)
		rc = ZSYSTEMERROR;
	else if (wait_connected(cl, cl->connect_ms) == -1) {
		kb_log("zookeeper %s: no session within %d ms "
		    "(zookeeper.connection.timeout.ms)", hosts, cl->connect_ms);
		rc = ZCONNECTIONLOSS;
	}
	for (char *p = path + 1; rc == ZOK; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		rc = kb_zk_create(cl, path, NULL, ZOO_PERSISTENT);
		if (rc == ZNODEEXISTS)
			rc = ZOK;
		*p = c;
		if (c == '\0')
			break;
	}
	if (rc != ZOK && rc != ZCONNECTIONLOSS)
		kb_log("zookeeper %s: chroot %s: %s", hosts, path, zerror(rc));
	if (cl->zh != NULL)
		zookeeper_close(cl->zh);
	cl->zh = NULL;
	free(hosts);
	free(path);
	return rc == ZOK ? 0 : -1;
}

static void
cluster_free(struct kb_cluster *cl)
{
	if (cl == NULL)
		return;
	if (cl->zh != NULL)
		zookeeper_close(cl->zh);
	kb_cl_view_free(cl->pending);
	kb_cl_view_free(cl->cur);
	free(cl->last_sig);
	free(cl->seen);
	kb_cl_moved_free(cl);
	if (cl->efd != -1)
		close(cl->efd);
	pthread_rwlock_destroy(&cl->zlock);
	pthread_mutex_destroy(&cl->mu);
	pthread_cond_destroy(&cl->cv);
	free(cl);
}

int
kb_cluster_start(struct kb_broker *b)
{
	const struct kb_config *cfg = b->cfg;
	struct kb_cluster *cl;
	struct epoll_event ev;

	if (cfg->zk_connect == NULL)
		return 0;
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		kb_log("zookeeper: %s", strerror(errno));
		return -1;
	}
	cl->efd = -1;
	pthread_rwlock_init(&cl->zlock, NULL);
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cv, NULL);
	cl->id = cfg->broker_id;
	cl->connect = cfg->zk_connect;
	cl->session_ms = (int)cfg->zk_session_ms;
	cl->connect_ms = (int)cfg->zk_connect_ms;
	cl->unclean = cfg->unclean_election;
	cl->num_partitions = cfg->num_partitions;
	cl->default_rf = cfg->default_rf;
	cl->delete_enable = cfg->delete_enable;
	cl->verbose = cfg->verbose;
	if (advertised(b, cl) == -1)
		goto fail;
	if ((cl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		goto fail_errno;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = KB_TAG_CLUSTER;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, cl->efd, &ev) == -1)
		goto fail_errno;
	zoo_set_debug_level(cfg->verbose >= 2 ? ZOO_LOG_LEVEL_WARN :
	    ZOO_LOG_LEVEL_ERROR);
	if (make_chroot(cl) == -1)
		goto fail;
	if ((cl->zh = session_new(cl)) == NULL) {
		kb_log("zookeeper %s: %s", cl->connect, strerror(errno));
		goto fail;
	}
	if (wait_connected(cl, cl->connect_ms) == -1) {
		kb_log("zookeeper %s: no session within %d ms "
		    "(zookeeper.connection.timeout.ms)", cl->connect,
		    cl->connect_ms);
		goto fail;
	}
	if (make_paths(b, cl) == -1)
		goto fail;
	if ((errno = pthread_create(&cl->th, NULL, session_main, cl)) != 0)
		goto fail_errno;
	cl->running = true;
	b->cluster = cl;
	kb_log("zookeeper %s: connected, cluster %s, broker %" PRId32,
	    cl->connect, b->cluster_id, cl->id);
	return 0;
fail_errno:
	kb_log("zookeeper: %s", strerror(errno));
fail:
	cluster_free(cl);
	return -1;
}

void
kb_cluster_stop(struct kb_broker *b)
{
	struct kb_cluster *cl = b->cluster;

	if (cl == NULL)
		return;
	pthread_mutex_lock(&cl->mu);
	cl->quit = true;
	pthread_cond_broadcast(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
	if (cl->running)
		pthread_join(cl->th, NULL);
	zoo_set_debug_level(0);	/* the session's end is no error */
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, cl->efd, NULL);
	/* closing the session drops our registration (and /controller) now */
	cluster_free(cl);
	b->cluster = NULL;
}
