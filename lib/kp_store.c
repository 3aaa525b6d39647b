/* kp_store.c -- a data directory: topics, their partitions' logs, and topic metadata */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_buf.h"
#include "kp_err.h"
#include "kp_store.h"

#define TOPICS_DIR	".topics"

struct kp_store {
	char			*dir;
	struct kp_logconf	 defaults;
	struct kp_topic		**topics;	/* sorted by name */
	size_t			 n;
	size_t			 cap;
	kp_store_report_fn	*report;
	void			*arg;
	int64_t			 now;		/* last time we were told */
};

/* --- small files --- */

int
kp_fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	if (rc < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static int
parent_of(const char *path, char *buf, size_t len)
{
	const char *sl = strrchr(path, '/');

	if (sl == NULL)
		return snprintf(buf, len, ".") >= (int)len ? -1 : 0;
	if (sl == path)
		return snprintf(buf, len, "/") >= (int)len ? -1 : 0;
	if ((size_t)(sl - path) >= len)
		return -1;
	memcpy(buf, path, (size_t)(sl - path));
	buf[sl - path] = '\0';
	return 0;
}

int
kp_write_file_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t off = 0;
	int fd, e;

	/* '~' never appears in a topic name, so a leftover is never a topic */
	if (snprintf(tmp, sizeof(tmp), "%s~", path) >= (int)sizeof(tmp) ||
	    parent_of(path, dir, sizeof(dir)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, (const char *)data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return kp_fsync_dir(dir);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

/* --- names --- */

bool
kp_topic_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KP_TOPIC_NAME_MAX || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return false;
	}
	return true;
}

/* Kafka refuses "a.b" next to "a_b": metric names would collide. */
static bool
collides(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '.' ? '_' : *a, y = *b == '.' ? '_' : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

static void
part_dir(const struct kp_store *st, const char *topic, int32_t p, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/%s-%" PRId32, st->dir, topic, p);
}

static void
topic_file(const struct kp_store *st, const char *topic, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/" TOPICS_DIR "/%s", st->dir, topic);
}

/* Kafka prints a Uuid as unpadded URL-safe base64. */
static void
uuid_b64(const uint8_t id[16], char out[23])
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int o = 0;

	for (int i = 0; i < 16; i += 3) {
		uint32_t v = (uint32_t)id[i] << 16;

		if (i + 1 < 16)
			v |= (uint32_t)id[i + 1] << 8;
		if (i + 2 < 16)
			v |= id[i + 2];
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		if (i + 1 < 16)
			out[o++] = t[(v >> 6) & 63];
		if (i + 2 < 16)
			out[o++] = t[v & 63];
	}
	out[o] = '\0';
}

/* --- topics in memory --- */

static void
topic_free(struct kp_topic *t)
{
	if (t == NULL)
		return;
	for (int32_t i = 0; t->logs != NULL && i < t->partitions; i++)
		kp_log_close(t->logs[i]);
	free(t->logs);
	free(t->name);
	free(t);
}

/* Position of name in the sorted array, or where it would go. */
static size_t
topic_pos(const struct kp_store *st, const char *name, bool *found)
{
	size_t lo = 0, hi = st->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->topics[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
topic_insert(struct kp_store *st, struct kp_topic *t)
{
	bool found;
	size_t at = topic_pos(st, t->name, &found);

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct kp_topic **n = reallocarray(st->topics, cap,
		    sizeof(*n));

		if (n == NULL)
			return -1;
		st->topics = n;
		st->cap = cap;
	}
	memmove(st->topics + at + 1, st->topics + at,
	    (st->n - at) * sizeof(*st->topics));
	st->topics[at] = t;
	st->n++;
	return 0;
}

static int
topic_write(const struct kp_store *st, const struct kp_topic *t)
{
	char path[PATH_MAX], val[64];
	struct kp_buf b;
	int rc;

	kp_buf_init(&b);
	kp_buf_put(&b, "topic_id=", 9);
	for (int i = 0; i < 16; i++) {
		snprintf(val, sizeof(val), "%02x", t->id[i]);
		kp_buf_put(&b, val, 2);
	}
	snprintf(val, sizeof(val), "\npartitions=%" PRId32 "\n",
	    t->partitions);
	kp_buf_put(&b, val, strlen(val));
	if (t->partial)
		kp_buf_put(&b, "partial=1\n", 10);
	for (size_t k = 0; k < kp_logconf_count(); k++) {
		const char *name = kp_logconf_name(k);

		if (!kp_logconf_is_set(&t->overrides, k))
			continue;
		kp_logconf_format(&t->overrides, k, val, sizeof(val));
		kp_buf_put(&b, name, strlen(name));
		kp_buf_put(&b, "=", 1);
		kp_buf_put(&b, val, strlen(val));
		kp_buf_put(&b, "\n", 1);
	}
	if (b.err) {
		kp_buf_release(&b);
		errno = ENOMEM;
		return -1;
	}
	topic_file(st, t->name, path, sizeof(path));
	rc = kp_write_file_atomic(path, b.data, b.len);
	kp_buf_release(&b);
	return rc;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse .topics/<name>; NULL with errno (EINVAL for a bad file). */
static struct kp_topic *
topic_read(struct kp_store *st, const char *name)
{
	char path[PATH_MAX], line[512];
	struct kp_topic *t;
	bool have_id = false;
	FILE *f;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	kp_logconf_defaults(&t->overrides);
	t->overrides.set = 0;
	if ((t->name = strdup(name)) == NULL)
		goto fail;
	topic_file(st, name, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL)
		goto fail;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *nl = strchr(line, '\n'), *eq;

		if (nl != NULL)
			*nl = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		if (strcmp(line, "topic_id") == 0 && strlen(eq + 1) == 32) {
			have_id = true;
			for (int i = 0; i < 16; i++) {
				int hi = hexval(eq[1 + 2 * i]);
				int lo = hexval(eq[2 + 2 * i]);

				if (hi < 0 || lo < 0)
					have_id = false;
				t->id[i] = (uint8_t)(hi << 4 | lo);
			}
		} else if (strcmp(line, "partitions") == 0) {
			long v = strtol(eq + 1, NULL, 10);

			if (v > 0 && v <= KP_STORE_PARTITIONS_MAX)
				t->partitions = (int32_t)v;
		} else if (strcmp(line, "partial") == 0) {
			t->partial = strcmp(eq + 1, "1") == 0;
		} else if (kp_logconf_set(&t->overrides, line, eq + 1) != 0) {
			fclose(f);
			errno = EINVAL;
			goto fail;
		}
	}
	fclose(f);
	if (!have_id || t->partitions <= 0) {
		errno = EINVAL;
		goto fail;
	}
	kp_logconf_merge(&t->conf, &st->defaults, &t->overrides);
	return t;
fail:
	topic_free(t);
	return NULL;
}

static int
write_partition_metadata(const char *dir, const uint8_t id[16])
{
	char path[PATH_MAX], b64[23], buf[64];
	int n;

	uuid_b64(id, b64);
	n = snprintf(buf, sizeof(buf), "version: 0\ntopic_id: %s\n", b64);
	if (snprintf(path, sizeof(path), "%s/partition.metadata", dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return kp_write_file_atomic(path, buf, (size_t)n);
}

/* Open partitions [from, to) of t, creating their folders if asked. */
static int
open_logs(struct kp_store *st, struct kp_topic *t, int32_t from, int32_t to,
    bool create)
{
	struct kp_log **logs;

	logs = reallocarray(t->logs, (size_t)to, sizeof(*logs));
	if (logs == NULL)
		return -1;
	t->logs = logs;
	for (int32_t p = from; p < to; p++)
		logs[p] = NULL;
	for (int32_t p = from; p < to; p++) {
		struct kp_log_recovery rec;
		char dir[PATH_MAX];

		part_dir(st, t->name, p, dir, sizeof(dir));
		/* a folder left by a failed delete must not come back to life */
		if (create && kp_log_remove_dir(dir) < 0)
			goto fail;
		logs[p] = kp_log_open(dir, &t->conf, KP_LOG_CREATE, st->now,
		    &rec);
		if (logs[p] == NULL)
			goto fail;
		if (create && write_partition_metadata(dir, t->id) < 0)
			goto fail;
		if (st->report != NULL)
			st->report(st->arg, t->name, p, &rec);
	}
	return 0;
fail:
	{
		int e = errno;

		for (int32_t p = from; p < to; p++) {
			char dir[PATH_MAX];

			kp_log_close(logs[p]);
			logs[p] = NULL;
			if (create) {
				part_dir(st, t->name, p, dir, sizeof(dir));
				(void)kp_log_remove_dir(dir);
			}
		}
		errno = e;
	}
	return -1;
}

/*
 * A partial topic's partitions [from, to): only those whose folders
 * exist are opened; the others stay NULL until kp_store_open_partition.
 */
static int
open_existing(struct kp_store *st, struct kp_topic *t, int32_t from,
    int32_t to)
{
	struct kp_log **logs;

	logs = reallocarray(t->logs, (size_t)to, sizeof(*logs));
	if (logs == NULL)
		return -1;
	t->logs = logs;
	for (int32_t p = from; p < to; p++)
		logs[p] = NULL;
	for (int32_t p = from; p < to; p++) {
		struct kp_log_recovery rec;
		char dir[PATH_MAX];
		struct stat sb;

		part_dir(st, t->name, p, dir, sizeof(dir));
		if (stat(dir, &sb) < 0) {
			if (errno == ENOENT)
				continue;
			goto fail;
		}
		if ((logs[p] = kp_log_open(dir, &t->conf, 0, st->now,
		    &rec)) == NULL)
			goto fail;
		if (st->report != NULL)
			st->report(st->arg, t->name, p, &rec);
	}
	return 0;
fail:
	{
		int e = errno;

		for (int32_t p = from; p < to; p++) {
			kp_log_close(logs[p]);
			logs[p] = NULL;
		}
		errno = e;
	}
	return -1;
}

/*
 * Partition folders whose topic file is missing, or whose number is past
 * the count, are debris of an interrupted create or delete.
 */
static int
remove_orphans(struct kp_store *st)
{
	struct dirent *de;
	DIR *d;
	bool changed = false;

	if ((d = opendir(st->dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char name[NAME_MAX + 1], path[PATH_MAX], *dash, *end;
		struct kp_topic *t;
		long p;

		if (de->d_name[0] == '.' ||
		    (dash = strrchr(de->d_name, '-')) == NULL)
			continue;
		p = strtol(dash + 1, &end, 10);
		if (dash[1] == '\0' || *end != '\0' || p < 0)
			continue;
		snprintf(name, sizeof(name), "%.*s",
		    (int)(dash - de->d_name), de->d_name);
		if (!kp_topic_name_valid(name))
			continue;
		t = kp_store_topic(st, name);
		if (t != NULL && p < t->partitions)
			continue;
		snprintf(path, sizeof(path), "%s/%s", st->dir, de->d_name);
		if (kp_log_remove_dir(path) < 0) {
			closedir(d);
			return -1;
		}
		changed = true;
	}
	closedir(d);
	return changed ? kp_fsync_dir(st->dir) : 0;
}

struct kp_store *
kp_store_open(const char *dir, const struct kp_logconf *defaults,
    int64_t now_ms, kp_store_report_fn *report, void *arg, char **bad)
{
	char path[PATH_MAX];
	struct kp_store *st;
	struct dirent *de;
	DIR *d = NULL;
	int e;

	if (bad != NULL)
		*bad = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->defaults = *defaults;
	st->report = report;
	st->arg = arg;
	st->now = now_ms;
	if ((st->dir = strdup(dir)) == NULL)
		goto fail;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		goto fail_path;
	snprintf(path, sizeof(path), "%s/" TOPICS_DIR, dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		goto fail_path;
	if ((d = opendir(path)) == NULL)
		goto fail_path;
	while ((de = readdir(d)) != NULL) {
		struct kp_topic *t;

		if (!kp_topic_name_valid(de->d_name))
			continue;	/* "name~" is an unfinished write */
		if ((t = topic_read(st, de->d_name)) == NULL) {
			snprintf(path, sizeof(path), "%s/" TOPICS_DIR "/%s",
			    dir, de->d_name);
			goto fail_path;
		}
		if (topic_insert(st, t) < 0) {
			topic_free(t);
			goto fail;
		}
	}
	closedir(d);
	d = NULL;
	if (remove_orphans(st) < 0) {
		snprintf(path, sizeof(path), "%s", dir);
		goto fail_path;
	}
	for (size_t i = 0; i < st->n; i++) {
		struct kp_topic *t = st->topics[i];
		int32_t n = t->partitions;

		t->partitions = 0;	/* open_logs fills them in */
		if ((t->partial ? open_existing(st, t, 0, n) :
		    open_logs(st, t, 0, n, false)) < 0) {
			part_dir(st, t->name, 0, path, sizeof(path));
			goto fail_path;
		}
		t->partitions = n;
	}
	return st;
fail_path:
	if (bad != NULL)
		*bad = strdup(path);
fail:
	e = errno;
	if (d != NULL)
		closedir(d);
	kp_store_close(st);
	errno = e;
	return NULL;
}

void
kp_store_close(struct kp_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->n; i++)
		topic_free(st->topics[i]);
	free(st->topics);
	free(st->dir);
	free(st);
}

const char *
kp_store_dir(const struct kp_store *st)
{
	return st->dir;
}

const struct kp_logconf *
kp_store_defaults(const struct kp_store *st)
{
	return &st->defaults;
}

/* --- topic operations --- */

static int
parse_overrides(struct kp_logconf *over, const char *const *names,
    const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (kp_logconf_set(over, names[i], values[i]) != 0)
			return KP_INVALID_CONFIG;
	return KP_NONE;
}

int
kp_store_create_topic(struct kp_store *st, const char *name, int32_t parts,
    const char *const *names, const char *const *values, size_t n,
    const uint8_t *id, bool validate_only, struct kp_topic **out)
{
	struct kp_topic *t;
	int e;

	if (out != NULL)
		*out = NULL;
	if (!kp_topic_name_valid(name))
		return KP_INVALID_TOPIC_EXCEPTION;
	if (kp_store_topic(st, name) != NULL)
		return KP_TOPIC_ALREADY_EXISTS;
	for (size_t i = 0; i < st->n; i++)
		if (collides(st->topics[i]->name, name))
			return KP_INVALID_TOPIC_EXCEPTION;
	if (parts < 1 || parts > KP_STORE_PARTITIONS_MAX)
		return KP_INVALID_PARTITIONS;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return KP_KAFKA_STORAGE_ERROR;
	kp_logconf_defaults(&t->overrides);
	t->overrides.set = 0;
	if ((e = parse_overrides(&t->overrides, names, values, n)) != 0) {
		topic_free(t);
		return e;
	}
	if (validate_only) {
		topic_free(t);
		return KP_NONE;
	}
	if ((t->name = strdup(name)) == NULL)
		goto fail;
	kp_logconf_merge(&t->conf, &st->defaults, &t->overrides);
	if (id != NULL)
		memcpy(t->id, id, 16);
	else {
		if (getrandom(t->id, 16, 0) != 16)
			goto fail;
		t->id[6] = (t->id[6] & 0x0f) | 0x40;	/* UUID v4 */
		t->id[8] = (t->id[8] & 0x3f) | 0x80;
	}
	if (open_logs(st, t, 0, parts, true) < 0)
		goto fail;
	t->partitions = parts;
	/* the topic file last: only now does the topic exist */
	if (kp_fsync_dir(st->dir) < 0 || topic_write(st, t) < 0 ||
	    topic_insert(st, t) < 0) {
		e = errno;
		for (int32_t p = 0; p < parts; p++) {
			char dir[PATH_MAX];

			kp_log_close(t->logs[p]);
			t->logs[p] = NULL;
			part_dir(st, name, p, dir, sizeof(dir));
			(void)kp_log_remove_dir(dir);
		}
		errno = e;
		goto fail;
	}
	if (out != NULL)
		*out = t;
	return KP_NONE;
fail:
	e = errno;
	t->partitions = 0;
	topic_free(t);
	errno = e;
	return KP_KAFKA_STORAGE_ERROR;
}

int
kp_store_delete_topic(struct kp_store *st, const char *name)
{
	char path[PATH_MAX];
	struct kp_topic *t;
	bool found;
	size_t at = topic_pos(st, name, &found);
	int rc = KP_NONE;

	if (!found)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	t = st->topics[at];
	/* the topic file first: a crash after it leaves only orphans */
	topic_file(st, name, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return KP_KAFKA_STORAGE_ERROR;
	snprintf(path, sizeof(path), "%s/" TOPICS_DIR, st->dir);
	if (kp_fsync_dir(path) < 0)
		rc = KP_KAFKA_STORAGE_ERROR;
	memmove(st->topics + at, st->topics + at + 1,
	    (st->n - at - 1) * sizeof(*st->topics));
	st->n--;
	for (int32_t p = 0; p < t->partitions; p++) {
		kp_log_close(t->logs[p]);
		t->logs[p] = NULL;
		part_dir(st, name, p, path, sizeof(path));
		if (kp_log_remove_dir(path) < 0)
			rc = KP_KAFKA_STORAGE_ERROR;
	}
	if (kp_fsync_dir(st->dir) < 0)
		rc = KP_KAFKA_STORAGE_ERROR;
	topic_free(t);
	return rc;
}

int
kp_store_add_partitions(struct kp_store *st, const char *name, int32_t total,
    bool validate_only)
{
	struct kp_topic *t = kp_store_topic(st, name);
	int32_t old;

	if (t == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (total <= t->partitions || total > KP_STORE_PARTITIONS_MAX)
		return KP_INVALID_PARTITIONS;
	if (validate_only)
		return KP_NONE;
	if (t->partial)
		return KP_INVALID_REQUEST;	/* kp_store_adopt_topic grows it */
	old = t->partitions;
	if (open_logs(st, t, old, total, true) < 0)
		return KP_KAFKA_STORAGE_ERROR;
	t->partitions = total;
	if (topic_write(st, t) < 0) {
		int e = errno;

		for (int32_t p = old; p < total; p++) {
			char dir[PATH_MAX];

			kp_log_close(t->logs[p]);
			part_dir(st, name, p, dir, sizeof(dir));
			(void)kp_log_remove_dir(dir);
		}
		t->partitions = old;
		errno = e;
		return KP_KAFKA_STORAGE_ERROR;
	}
	return KP_NONE;
}

int
kp_store_alter_configs(struct kp_store *st, const char *name,
    const char *const *names, const char *const *values, const int8_t *ops,
    size_t n, bool replace, bool validate_only)
{
	struct kp_topic *t = kp_store_topic(st, name);
	struct kp_logconf over, old_over, old_conf;

	if (t == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	over = t->overrides;
	if (replace) {
		kp_logconf_defaults(&over);
		over.set = 0;
	}
	for (size_t i = 0; i < n; i++) {
		int op = ops != NULL ? ops[i] : 0;

		if (op == 0) {
			if (kp_logconf_set(&over, names[i], values[i]) != 0)
				return KP_INVALID_CONFIG;
		} else if (op == 1) {
			if (kp_logconf_reset(&over, names[i]) != 0)
				return KP_INVALID_CONFIG;
		} else
			return KP_INVALID_REQUEST;
	}
	if (validate_only)
		return KP_NONE;
	old_over = t->overrides;
	old_conf = t->conf;
	t->overrides = over;
	kp_logconf_merge(&t->conf, &st->defaults, &over);
	if (topic_write(st, t) < 0) {
		t->overrides = old_over;
		t->conf = old_conf;
		return KP_KAFKA_STORAGE_ERROR;
	}
	for (int32_t p = 0; p < t->partitions; p++)
		if (t->logs[p] != NULL)
			kp_log_set_conf(t->logs[p], &t->conf);
	return KP_NONE;
}

/* --- partial topics (cluster mode) --- */

/* Same overrides? (Compared by value: the struct has padding.) */
static bool
overrides_equal(const struct kp_logconf *a, const struct kp_logconf *b)
{
	char va[64], vb[64];

	if (a->set != b->set)
		return false;
	for (size_t k = 0; k < kp_logconf_count(); k++)
		if (kp_logconf_is_set(a, k) && strcmp(kp_logconf_format(a, k,
		    va, sizeof(va)), kp_logconf_format(b, k, vb,
		    sizeof(vb))) != 0)
			return false;
	return true;
}

/* A new partial topic with no partition open yet. */
static int
adopt_new(struct kp_store *st, const char *name, int32_t parts,
    const uint8_t *id, const struct kp_logconf *over, struct kp_topic **out)
{
	struct kp_topic *t;
	int e;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return KP_KAFKA_STORAGE_ERROR;
	t->overrides = *over;
	t->partial = true;
	if ((t->name = strdup(name)) == NULL ||
	    (t->logs = calloc((size_t)parts, sizeof(*t->logs))) == NULL)
		goto fail;
	kp_logconf_merge(&t->conf, &st->defaults, &t->overrides);
	if (id != NULL)
		memcpy(t->id, id, 16);
	else {
		if (getrandom(t->id, 16, 0) != 16)
			goto fail;
		t->id[6] = (t->id[6] & 0x0f) | 0x40;	/* UUID v4 */
		t->id[8] = (t->id[8] & 0x3f) | 0x80;
	}
	t->partitions = parts;
	/* folders left by an earlier life of the name are not ours */
	for (int32_t p = 0; p < parts; p++) {
		char dir[PATH_MAX];

		part_dir(st, name, p, dir, sizeof(dir));
		if (kp_log_remove_dir(dir) < 0)
			goto fail;
	}
	if (topic_write(st, t) < 0 || topic_insert(st, t) < 0)
		goto fail;
	*out = t;
	return KP_NONE;
fail:
	e = errno;
	topic_free(t);
	errno = e;
	return KP_KAFKA_STORAGE_ERROR;
}

int
kp_store_adopt_topic(struct kp_store *st, const char *name, int32_t parts,
    const uint8_t *id, const char *const *names, const char *const *values,
    size_t n, struct kp_topic **out)
{
	struct kp_logconf over;
	struct kp_topic *t, *dummy;
	struct kp_log **logs;
	bool changed = false;
	int rc;

	if (out == NULL)
		out = &dummy;
	*out = NULL;
	if (!kp_topic_name_valid(name))
		return KP_INVALID_TOPIC_EXCEPTION;
	if (parts < 1 || parts > KP_STORE_PARTITIONS_MAX)
		return KP_INVALID_PARTITIONS;
	kp_logconf_defaults(&over);
	over.set = 0;
	if ((rc = parse_overrides(&over, names, values, names ? n : 0)) != 0)
		return rc;
	t = kp_store_topic(st, name);
	if (t != NULL && id != NULL && memcmp(t->id, id, 16) != 0) {
		if ((rc = kp_store_delete_topic(st, name)) != KP_NONE)
			return rc;
		t = NULL;
	}
	if (t == NULL)
		return adopt_new(st, name, parts, id, &over, out);
	if (parts > t->partitions) {
		logs = reallocarray(t->logs, (size_t)parts, sizeof(*logs));
		if (logs == NULL)
			return KP_KAFKA_STORAGE_ERROR;
		t->logs = logs;
		for (int32_t p = t->partitions; p < parts; p++) {
			char dir[PATH_MAX];

			logs[p] = NULL;
			part_dir(st, name, p, dir, sizeof(dir));
			if (kp_log_remove_dir(dir) < 0)
				return KP_KAFKA_STORAGE_ERROR;
		}
		t->partitions = parts;
		changed = true;
	}
	if (!t->partial) {
		t->partial = true;
		changed = true;
	}
	if (names != NULL && !overrides_equal(&over, &t->overrides)) {
		t->overrides = over;
		kp_logconf_merge(&t->conf, &st->defaults, &over);
		for (int32_t p = 0; p < t->partitions; p++)
			if (t->logs[p] != NULL)
				kp_log_set_conf(t->logs[p], &t->conf);
		changed = true;
	}
	if (changed && topic_write(st, t) < 0)
		return KP_KAFKA_STORAGE_ERROR;
	*out = t;
	return KP_NONE;
}

int
kp_store_open_partition(struct kp_store *st, const char *name, int32_t p)
{
	struct kp_topic *t = kp_store_topic(st, name);
	struct kp_log_recovery rec;
	char dir[PATH_MAX];
	struct stat sb;
	bool fresh;

	if (t == NULL || p < 0 || p >= t->partitions)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (t->logs[p] != NULL)
		return KP_NONE;
	part_dir(st, name, p, dir, sizeof(dir));
	fresh = stat(dir, &sb) < 0;
	t->logs[p] = kp_log_open(dir, &t->conf, KP_LOG_CREATE, st->now, &rec);
	if (t->logs[p] == NULL)
		return KP_KAFKA_STORAGE_ERROR;
	if (fresh && (write_partition_metadata(dir, t->id) < 0 ||
	    kp_fsync_dir(st->dir) < 0)) {
		int e = errno;

		kp_log_close(t->logs[p]);
		t->logs[p] = NULL;
		(void)kp_log_remove_dir(dir);
		errno = e;
		return KP_KAFKA_STORAGE_ERROR;
	}
	if (st->report != NULL)
		st->report(st->arg, t->name, p, &rec);
	return KP_NONE;
}

int
kp_store_drop_partition(struct kp_store *st, const char *name, int32_t p)
{
	struct kp_topic *t = kp_store_topic(st, name);
	char dir[PATH_MAX];

	if (t == NULL || p < 0 || p >= t->partitions)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	kp_log_close(t->logs[p]);
	t->logs[p] = NULL;
	part_dir(st, name, p, dir, sizeof(dir));
	if (kp_log_remove_dir(dir) < 0 || kp_fsync_dir(st->dir) < 0)
		return KP_KAFKA_STORAGE_ERROR;
	return KP_NONE;
}

/* --- lookups --- */

struct kp_topic *
kp_store_topic(struct kp_store *st, const char *name)
{
	bool found;
	size_t at = topic_pos(st, name, &found);

	return found ? st->topics[at] : NULL;
}

struct kp_topic *
kp_store_topic_by_id(struct kp_store *st, const uint8_t *id)
{
	for (size_t i = 0; i < st->n; i++)
		if (memcmp(st->topics[i]->id, id, 16) == 0)
			return st->topics[i];
	return NULL;
}

struct kp_log *
kp_store_log(struct kp_store *st, const char *name, int32_t p)
{
	struct kp_topic *t = kp_store_topic(st, name);

	if (t == NULL || p < 0 || p >= t->partitions)
		return NULL;
	return t->logs[p];
}

struct kp_topic *
kp_store_topic_next(struct kp_store *st, const struct kp_topic *prev)
{
	bool found;
	size_t at;

	if (prev == NULL)
		return st->n > 0 ? st->topics[0] : NULL;
	at = topic_pos(st, prev->name, &found);
	if (found)
		at++;
	return at < st->n ? st->topics[at] : NULL;
}

size_t
kp_store_topic_count(const struct kp_store *st)
{
	return st->n;
}

int
kp_store_tick(struct kp_store *st, int64_t now_ms, int64_t ckpt_ms,
    struct kp_log **bad)
{
	int rc = 0, e = 0;

	st->now = now_ms;
	if (bad != NULL)
		*bad = NULL;
	for (size_t i = 0; i < st->n; i++) {
		struct kp_topic *t = st->topics[i];

		for (int32_t p = 0; p < t->partitions; p++) {
			if (t->logs[p] == NULL ||
			    kp_log_tick(t->logs[p], now_ms, ckpt_ms) == 0)
				continue;
			if (rc == 0) {
				e = errno;
				if (bad != NULL)
					*bad = t->logs[p];
			}
			rc = -1;
		}
	}
	errno = e;
	return rc;
}

int
kp_store_flush(struct kp_store *st)
{
	int rc = 0, e = 0;

	for (size_t i = 0; i < st->n; i++) {
		struct kp_topic *t = st->topics[i];

		for (int32_t p = 0; p < t->partitions; p++)
			if (t->logs[p] != NULL && kp_log_flush(t->logs[p]) < 0 &&
			    rc == 0) {
				e = errno;
				rc = -1;
			}
	}
	errno = e;
	return rc;
}
