/* test_kp_store.c -- data dir: topic names, create/delete/grow topics, configs, reload, orphans; logconf */
#include <errno.h>
#include <fcntl.h>

#include "kp_logconf.h"
#include "kp_store.h"
#include "logtest.h"
#include "tap.h"

#define NOW	1700000000000LL

static int reports;

static void
on_report(void *arg, const char *topic, int32_t p,
    const struct kp_log_recovery *rec)
{
	(void)arg;
	(void)topic;
	(void)p;
	(void)rec;
	reports++;
}

static void
test_logconf(void)
{
	struct kp_logconf c, d, m;
	char buf[64];

	kp_logconf_defaults(&c);
	ok(c.segment_bytes == 1073741824 && c.retention_ms == 604800000 &&
	    c.retention_bytes == -1 && c.cleanup_policy == KP_CLEANUP_DELETE &&
	    c.max_message_bytes == 1048588 && c.index_interval_bytes == 4096 &&
	    c.segment_index_bytes == 10485760 && c.delete_retention_ms == 86400000 &&
	    c.flush_messages == INT64_MAX && c.min_insync_replicas == 1,
	    "Kafka's defaults");
	is_int(kp_logconf_count(), 14, "14 configs");
	ok(strcmp(kp_logconf_name(0), "cleanup.policy") == 0, "names in order");
	is_int(kp_logconf_set(&c, "retention.ms", "1000"), KP_NONE, "set retention.ms");
	ok(c.retention_ms == 1000 && kp_logconf_is_set(&c, KP_LC_RETENTION_MS), "value and set bit");
	is_int(kp_logconf_set(&c, "retention.ms", "-5"), KP_INVALID_CONFIG, "retention.ms -5 refused");
	is_int(kp_logconf_set(&c, "retention.ms", "12x"), KP_INVALID_CONFIG, "junk refused");
	is_int(c.retention_ms, 1000, "value unchanged after a refusal");
	is_int(kp_logconf_set(&c, "no.such", "1"), KP_INVALID_CONFIG, "unknown name refused");
	is_int(kp_logconf_set_pair(&c, "cleanup.policy=compact,delete"), KP_NONE, "name=value form");
	is_int(c.cleanup_policy, KP_CLEANUP_COMPACT | KP_CLEANUP_DELETE, "both policies");
	ok(strcmp(kp_logconf_format(&c, KP_LC_CLEANUP_POLICY, buf, sizeof(buf)),
	    "compact,delete") == 0, "formatted as Kafka");
	is_int(kp_logconf_set(&c, "message.timestamp.type", "LogAppendTime"), KP_NONE,
	    "timestamp type");
	ok(strcmp(kp_logconf_format(&c, KP_LC_TIMESTAMP_TYPE, buf, sizeof(buf)),
	    "LogAppendTime") == 0, "formatted back");
	is_int(kp_logconf_set(&c, "segment.bytes", "10"), KP_INVALID_CONFIG,
	    "segment.bytes below 14 refused");
	is_int(kp_logconf_reset(&c, "retention.ms"), KP_NONE, "reset");
	ok(c.retention_ms == 604800000 && !kp_logconf_is_set(&c, KP_LC_RETENTION_MS),
	    "back to the default");
	kp_logconf_defaults(&d);
	kp_logconf_set(&d, "retention.ms", "5");	/* broker-wide default */
	kp_logconf_merge(&m, &d, &c);
	ok(m.retention_ms == 5 && m.cleanup_policy == 3 &&
	    kp_logconf_is_set(&m, KP_LC_CLEANUP_POLICY) &&
	    !kp_logconf_is_set(&m, KP_LC_RETENTION_MS),
	    "merge: broker defaults plus topic overrides; only overrides marked");
}

static void
test_names(void)
{
	char big[300];

	ok(kp_topic_name_valid("orders.v1_x-Y"), "legal characters");
	ok(!kp_topic_name_valid("") && !kp_topic_name_valid(".") &&
	    !kp_topic_name_valid(".."), "empty, . and .. refused");
	ok(!kp_topic_name_valid("a/b") && !kp_topic_name_valid("a b") &&
	    !kp_topic_name_valid("é"), "other characters refused");
	memset(big, 'a', 249);
	big[249] = '\0';
	ok(kp_topic_name_valid(big), "249 characters ok");
	big[249] = 'a';
	big[250] = '\0';
	ok(!kp_topic_name_valid(big), "250 refused");
}

static void
test_store(void)
{
	const char *names[] = { "retention.ms", "cleanup.policy" };
	const char *vals[] = { "3600000", "compact" };
	const char *bad[] = { "not.a.config" };
	const char *setn[] = { "retention.ms", "segment.bytes" };
	const char *setv[] = { "1000", "2048" };
	const int8_t ops[] = { 1, 0 };
	struct kp_logconf d;
	struct kp_store *st;
	struct kp_topic *t, *t2;
	struct kp_log *l;
	char dir[PATH_MAX], p[PATH_MAX + 64];
	uint8_t id[16];
	char *badp = NULL;
	int n;

	kp_logconf_defaults(&d);
	lt_tmpdir(dir, sizeof(dir), "store");
	st = kp_store_open(dir, &d, NOW, on_report, NULL, &badp);
	ok(st != NULL && kp_store_topic_count(st) == 0, "open an empty data dir");
	is_int(kp_store_create_topic(st, "a/b", 1, NULL, NULL, 0, NULL, false, NULL),
	    KP_INVALID_TOPIC_EXCEPTION, "bad name");
	is_int(kp_store_create_topic(st, "x", 0, NULL, NULL, 0, NULL, false, NULL),
	    KP_INVALID_PARTITIONS, "zero partitions");
	is_int(kp_store_create_topic(st, "x", 1, bad, vals, 1, NULL, false, NULL),
	    KP_INVALID_CONFIG, "unknown config");
	is_int(kp_store_create_topic(st, "x", 2, names, vals, 2, NULL, true, NULL),
	    KP_NONE, "validate only");
	ok(kp_store_topic(st, "x") == NULL, "validate only creates nothing");
	reports = 0;
	is_int(kp_store_create_topic(st, "orders", 3, names, vals, 2, NULL, false, &t),
	    KP_NONE, "create orders with 3 partitions");
	is_int(reports, 3, "one recovery report per partition");
	ok(t != NULL && t->partitions == 3 && t->conf.retention_ms == 3600000 &&
	    t->conf.cleanup_policy == KP_CLEANUP_COMPACT &&
	    kp_logconf_is_set(&t->overrides, KP_LC_CLEANUP_POLICY),
	    "overrides in the effective config");
	ok((t->id[6] >> 4) == 4, "a version-4 topic id");
	memcpy(id, t->id, 16);
	snprintf(p, sizeof(p), "%s/orders-2/partition.metadata", dir);
	ok(access(p, F_OK) == 0, "partition.metadata written");
	is_int(kp_store_create_topic(st, "orders", 1, NULL, NULL, 0, NULL, false, NULL),
	    KP_TOPIC_ALREADY_EXISTS, "exists");
	is_int(kp_store_create_topic(st, "a.b", 1, NULL, NULL, 0, NULL, false, NULL),
	    KP_NONE, "a.b");
	is_int(kp_store_create_topic(st, "a_b", 1, NULL, NULL, 0, NULL, false, NULL),
	    KP_INVALID_TOPIC_EXCEPTION, "a_b collides with a.b");
	l = kp_store_log(st, "orders", 1);
	ok(l != NULL && kp_store_log(st, "orders", 3) == NULL &&
	    kp_store_log(st, "nope", 0) == NULL, "log lookup");
	is_int(lt_append(l, 5, 0, NOW, 10, NOW, NULL), KP_NONE, "append to orders-1");
	is_int(kp_store_add_partitions(st, "orders", 2, false), KP_INVALID_PARTITIONS,
	    "cannot shrink");
	is_int(kp_store_add_partitions(st, "orders", 5, false), KP_NONE, "grow to 5");
	t = kp_store_topic(st, "orders");
	ok(t->partitions == 5 && kp_store_log(st, "orders", 4) != NULL, "5 partitions");
	is_int(kp_store_alter_configs(st, "orders", setn, setv, ops, 2, false, false),
	    KP_NONE, "incremental: delete retention.ms, set segment.bytes");
	ok(t->conf.retention_ms == 604800000 && t->conf.segment_bytes == 2048 &&
	    t->conf.cleanup_policy == KP_CLEANUP_COMPACT,
	    "effective config updated, others kept");
	ok(kp_log_conf(kp_store_log(st, "orders", 0))->segment_bytes == 2048,
	    "pushed to the logs");
	is_int(kp_store_alter_configs(st, "orders", bad, setv, NULL, 1, false, false),
	    KP_INVALID_CONFIG, "bad config: nothing changes");
	is_int(kp_store_create_topic(st, "gone", 2, NULL, NULL, 0, NULL, false, NULL),
	    KP_NONE, "create gone");
	n = 0;
	for (t2 = kp_store_topic_next(st, NULL); t2 != NULL; t2 = kp_store_topic_next(st, t2))
		n++;
	is_int(n, 3, "iterate 3 topics");
	is_int(kp_store_delete_topic(st, "gone"), KP_NONE, "delete gone");
	snprintf(p, sizeof(p), "%s/gone-0", dir);
	ok(access(p, F_OK) != 0, "its folders are gone");
	is_int(kp_store_delete_topic(st, "gone"), KP_UNKNOWN_TOPIC_OR_PARTITION, "twice");
	/* a leftover folder (a delete that failed half way) stays dead */
	{
		struct kp_log *ol;

		snprintf(p, sizeof(p), "%s/again-0", dir);
		ol = kp_log_open(p, &d, KP_LOG_CREATE, NOW, NULL);
		lt_append(ol, 7, 0, NOW, 10, NOW, NULL);
		kp_log_close(ol);
		is_int(kp_store_create_topic(st, "again", 1, NULL, NULL, 0, NULL,
		    false, NULL), KP_NONE, "create over a leftover folder");
		is_int(kp_log_end_offset(kp_store_log(st, "again", 0)), 0,
		    "starts empty, the old records do not resurface");
		kp_store_delete_topic(st, "again");
	}
	kp_store_close(st);

	/* an orphan partition folder, as a crash mid-delete leaves */
	snprintf(p, sizeof(p), "%s/ghost-0", dir);
	mkdir(p, 0755);
	/* and an unfinished topic file write */
	{
		char q[PATH_MAX + 64];
		FILE *f;

		snprintf(q, sizeof(q), "%s/.topics/half~", dir);
		f = fopen(q, "w");
		fputs("topic_id=00000000000000000000000000000001\npartitions=1\n", f);
		fclose(f);
	}
	st = kp_store_open(dir, &d, NOW, NULL, NULL, NULL);
	ok(st != NULL && kp_store_topic_count(st) == 2, "reload: 2 topics");
	t = kp_store_topic(st, "orders");
	ok(t != NULL && t->partitions == 5 && memcmp(t->id, id, 16) == 0 &&
	    t->conf.segment_bytes == 2048 && t->conf.cleanup_policy == KP_CLEANUP_COMPACT,
	    "partitions, id and overrides survive");
	ok(kp_store_topic_by_id(st, id) == t, "lookup by id");
	is_int(kp_log_end_offset(kp_store_log(st, "orders", 1)), 5, "data survives");
	ok(access(p, F_OK) != 0, "orphan folder removed");
	ok(kp_store_tick(st, NOW + 1000, 0, NULL) == 0, "tick");
	ok(kp_store_flush(st) == 0, "flush");
	kp_store_close(st);
	free(badp);
	lt_rmrf(dir);
}

/* Cluster mode: a topic of which this store holds only some partitions. */
static void
test_partial(void)
{
	const char *names[] = { "cleanup.policy" };
	const char *vals[] = { "compact" };
	uint8_t id[16], id2[16];
	struct kp_logconf d;
	struct kp_store *st;
	struct kp_topic *t;
	char dir[PATH_MAX], p[PATH_MAX + 64];

	memset(id, 0xab, sizeof(id));
	memset(id2, 0xcd, sizeof(id2));
	kp_logconf_defaults(&d);
	lt_tmpdir(dir, sizeof(dir), "partial");
	st = kp_store_open(dir, &d, NOW, NULL, NULL, NULL);
	ok(st != NULL, "open");
	is_int(kp_store_adopt_topic(st, "c", 0, id, NULL, NULL, 0, NULL),
	    KP_INVALID_PARTITIONS, "adopt: zero partitions refused");
	is_int(kp_store_adopt_topic(st, "c", 4, id, names, vals, 1, &t), KP_NONE,
	    "adopt a 4-partition topic");
	ok(t != NULL && t->partial && t->partitions == 4 &&
	    memcmp(t->id, id, 16) == 0 && t->conf.cleanup_policy ==
	    KP_CLEANUP_COMPACT, "partial, the given id and overrides");
	ok(kp_store_log(st, "c", 0) == NULL && kp_store_log(st, "c", 3) == NULL,
	    "no partition held yet");
	snprintf(p, sizeof(p), "%s/c-1", dir);
	ok(access(p, F_OK) != 0, "no folder made for a partition not held");
	is_int(kp_store_open_partition(st, "c", 1), KP_NONE, "open partition 1");
	is_int(kp_store_open_partition(st, "c", 1), KP_NONE, "again: a no-op");
	is_int(kp_store_open_partition(st, "c", 3), KP_NONE, "open partition 3");
	is_int(kp_store_open_partition(st, "c", 4), KP_UNKNOWN_TOPIC_OR_PARTITION,
	    "partition past the count refused");
	is_int(kp_store_open_partition(st, "nope", 0), KP_UNKNOWN_TOPIC_OR_PARTITION,
	    "unknown topic refused");
	ok(kp_store_log(st, "c", 1) != NULL && kp_store_log(st, "c", 0) == NULL,
	    "partition 1 held, 0 not");
	is_int(lt_append(kp_store_log(st, "c", 1), 3, 0, NOW, 10, NOW, NULL), KP_NONE,
	    "append to partition 1");
	snprintf(p, sizeof(p), "%s/c-1/partition.metadata", dir);
	ok(access(p, F_OK) == 0, "partition.metadata written");
	ok(kp_store_tick(st, NOW + 1, 0, NULL) == 0 && kp_store_flush(st) == 0,
	    "tick and flush skip partitions not held");
	is_int(kp_store_alter_configs(st, "c", names, vals, NULL, 1, true, false),
	    KP_NONE, "alter configs on a partial topic");
	is_int(kp_store_add_partitions(st, "c", 6, false), KP_INVALID_REQUEST,
	    "add_partitions refuses a partial topic");
	kp_store_close(st);

	st = kp_store_open(dir, &d, NOW, NULL, NULL, NULL);
	t = st ? kp_store_topic(st, "c") : NULL;
	ok(t != NULL && t->partial && t->partitions == 4, "reload: still partial");
	ok(kp_store_log(st, "c", 0) == NULL && kp_store_log(st, "c", 2) == NULL,
	    "reload: partitions not held stay closed");
	snprintf(p, sizeof(p), "%s/c-0", dir);
	ok(access(p, F_OK) != 0, "reload made no folder for them");
	is_int(kp_log_end_offset(kp_store_log(st, "c", 1)), 3,
	    "reload: data of a held partition survives");
	is_int(kp_store_adopt_topic(st, "c", 6, id, NULL, NULL, 0, &t), KP_NONE,
	    "adopt again with more partitions");
	ok(t->partitions == 6 && t->logs[5] == NULL &&
	    kp_log_end_offset(kp_store_log(st, "c", 1)) == 3 &&
	    t->conf.cleanup_policy == KP_CLEANUP_COMPACT,
	    "grown; logs and overrides kept (names NULL)");
	is_int(kp_store_adopt_topic(st, "c", 6, id, names, vals, 0, &t), KP_NONE,
	    "adopt with an empty override list");
	ok(t->conf.cleanup_policy == KP_CLEANUP_DELETE, "overrides replaced");
	is_int(kp_store_drop_partition(st, "c", 1), KP_NONE, "drop partition 1");
	snprintf(p, sizeof(p), "%s/c-1", dir);
	ok(kp_store_log(st, "c", 1) == NULL && access(p, F_OK) != 0,
	    "dropped: closed and its folder gone");
	is_int(kp_store_open_partition(st, "c", 1), KP_NONE, "open it again");
	is_int(kp_log_end_offset(kp_store_log(st, "c", 1)), 0, "empty again");
	is_int(kp_store_adopt_topic(st, "c", 6, id2, NULL, NULL, 0, &t), KP_NONE,
	    "adopt the name with another id");
	ok(memcmp(t->id, id2, 16) == 0 && kp_store_log(st, "c", 1) == NULL &&
	    access(p, F_OK) != 0, "the old topic's data is gone");
	/* a whole (single-node) topic becomes partial, keeping its logs */
	is_int(kp_store_create_topic(st, "w", 2, NULL, NULL, 0, NULL, false, &t),
	    KP_NONE, "a whole topic");
	is_int(lt_append(kp_store_log(st, "w", 0), 2, 0, NOW, 5, NOW, NULL), KP_NONE,
	    "with data");
	memcpy(id, t->id, 16);
	is_int(kp_store_adopt_topic(st, "w", 2, id, NULL, NULL, 0, &t), KP_NONE,
	    "adopt it");
	ok(t->partial && kp_log_end_offset(kp_store_log(st, "w", 0)) == 2,
	    "partial now, data kept");
	is_int(kp_store_delete_topic(st, "c"), KP_NONE, "delete a partial topic");
	kp_store_close(st);
	st = kp_store_open(dir, &d, NOW, NULL, NULL, NULL);
	ok(st != NULL && kp_store_topic(st, "c") == NULL &&
	    kp_store_topic(st, "w") != NULL && kp_store_topic(st, "w")->partial,
	    "reload after delete");
	kp_store_close(st);
	lt_rmrf(dir);
}

int
main(void)
{
	test_logconf();
	test_names();
	test_store();
	test_partial();
	return tap_done();
}
