/* admin.c -- topic administration: create/delete topics and partitions, configs, DeleteRecords */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kp_err.h"
#include "kp_log.h"
#include "kp_proto_admin.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "resp_array.h"

#define RESOURCE_TOPIC	2
#define RESOURCE_BROKER	4

/* DescribeConfigs ConfigSource values. */
#define SRC_TOPIC	1
#define SRC_STATIC	4
#define SRC_DEFAULT	5

static int
store_error(struct kb_broker *b, const char *what, const char *name, int rc)
{
	if (rc == KP_KAFKA_STORAGE_ERROR)
		kb_log("topic '%s': %s: %s", name, what, strerror(errno));
	else if (rc == KP_NONE)
		kb_log("topic '%s': %s", name, what);
	(void)b;
	return rc;
}

/* Arrays of C strings from a request's name/value pairs, in the arena. */
static int
cstr_pairs(struct kp_arena *a, size_t n, const char ***names,
    const char ***values)
{
	*names = kp_arena_calloc(a, n ? n : 1, sizeof(**names));
	*values = kp_arena_calloc(a, n ? n : 1, sizeof(**values));
	return *names && *values ? 0 : -1;
}

/* ---- CreateTopics ---- */

static int16_t
create_one(struct kb_req *req, const struct kp_create_topics_req_creatable_topic *t,
    bool validate_only, const char **msg)
{
	struct kb_broker *b = req->b;
	const char **names, **values;
	char *name = kb_arena_str(req->arena, &t->name);
	int32_t parts = t->num_partitions;
	int rc;

	*msg = NULL;
	if (name == NULL)
		return KP_INVALID_TOPIC_EXCEPTION;
	if (t->replication_factor != -1 && t->replication_factor != 1) {
		*msg = "replication factor must be 1 on a single broker";
		return KP_INVALID_REPLICATION_FACTOR;
	}
	if (t->n_assignments > 0) {
		if (parts != -1) {
			*msg = "give either partitions or assignments";
			return KP_INVALID_REQUEST;
		}
		for (int32_t i = 0; i < t->n_assignments; i++) {
			const struct kp_create_topics_req_creatable_replica_assignment
			    *as = &t->assignments[i];

			if (as->partition_index != i || as->n_broker_ids != 1 ||
			    as->broker_ids[0] != b->cfg->broker_id) {
				*msg = "replicas must be this broker";
				return KP_INVALID_REPLICA_ASSIGNMENT;
			}
		}
		parts = t->n_assignments;
	}
	if (parts == -1)
		parts = b->cfg->num_partitions;
	if (cstr_pairs(req->arena, (size_t)(t->n_configs > 0 ? t->n_configs :
	    0), &names, &values) == -1)
		return KP_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; i < t->n_configs; i++) {
		names[i] = kb_arena_str(req->arena, &t->configs[i].name);
		values[i] = kb_arena_str(req->arena, &t->configs[i].value);
		if (names[i] == NULL || values[i] == NULL) {
			*msg = "config without a value";
			return KP_INVALID_CONFIG;
		}
	}
	rc = kp_store_create_topic(b->store, name, parts, names, values,
	    (size_t)(t->n_configs > 0 ? t->n_configs : 0), NULL,
	    validate_only, NULL);
	if (rc == KP_NONE && !validate_only)
		kb_log("topic '%s': created with %d partition(s)", name, parts);
	else if (rc == KP_KAFKA_STORAGE_ERROR)
		store_error(b, "create", name, rc);
	return (int16_t)rc;
}

static int
handle_create_topics(struct kb_req *req)
{
	struct kp_create_topics_req rq;
	struct kp_create_topics_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_create_topics_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_create_topics_resp_init(&rs);
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &n,
	    sizeof(*rs.topics));
	rs.n_topics = n;
	if (rs.topics == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_create_topics_resp_creatable_topic_result *r =
		    &rs.topics[i];
		const char *msg = NULL;
		bool dup = false;

		kp_create_topics_resp_creatable_topic_result_init(r);
		r->name = rq.topics[i].name;
		for (int32_t j = 0; j < n; j++)
			if (j != i && rq.topics[j].name.len ==
			    rq.topics[i].name.len && rq.topics[i].name.len >= 0 &&
			    memcmp(rq.topics[j].name.ptr, rq.topics[i].name.ptr,
			    (size_t)rq.topics[i].name.len) == 0)
				dup = true;
		if (dup) {
			r->error_code = KP_INVALID_REQUEST;
			msg = "topic named twice in one request";
		} else
			r->error_code = create_one(req, &rq.topics[i],
			    rq.validate_only, &msg);
		if (v >= 1 && msg != NULL)
			r->error_message = kb_str(msg);
	}
	if (kp_create_topics_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(create_topics, KP_API_CREATE_TOPICS, 0, 4, handle_create_topics)

/* ---- DeleteTopics ---- */

static int16_t
delete_one(struct kb_req *req, const struct kp_str *topic)
{
	struct kb_broker *b = req->b;
	char *name = kb_arena_str(req->arena, topic);
	struct kp_topic *t;
	int rc;

	if (!b->cfg->delete_enable)
		return KP_TOPIC_DELETION_DISABLED;
	if (name == NULL || (t = kp_store_topic(b->store, name)) == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	for (int32_t p = 0; p < t->partitions; p++) {
		kb_pstate_drop_log(b, t->logs[p]);
		kb_durable_drop_log(b, t->logs[p]);
	}
	rc = kp_store_delete_topic(b->store, name);
	if (rc == KP_NONE)
		kb_log("topic '%s': deleted", name);
	else
		store_error(b, "delete", name, rc);
	b->wake = true;		/* long polls on it answer now */
	return (int16_t)rc;
}

static int
handle_delete_topics(struct kb_req *req)
{
	struct kp_delete_topics_req rq;
	struct kp_delete_topics_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_delete_topics_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_delete_topics_resp_init(&rs);
	rs.responses = kb_resp_array(req->arena, rq.n_topic_names, &n,
	    sizeof(*rs.responses));
	rs.n_responses = n;
	if (rs.responses == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		kp_delete_topics_resp_deletable_topic_result_init(
		    &rs.responses[i]);
		rs.responses[i].name = rq.topic_names[i];
		rs.responses[i].error_code = delete_one(req,
		    &rq.topic_names[i]);
	}
	if (kp_delete_topics_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(delete_topics, KP_API_DELETE_TOPICS, 0, 3, handle_delete_topics)

/* ---- CreatePartitions ---- */

static int
handle_create_partitions(struct kb_req *req)
{
	struct kp_create_partitions_req rq;
	struct kp_create_partitions_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_create_partitions_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_create_partitions_resp_init(&rs);
	rs.results = kb_resp_array(req->arena, rq.n_topics, &n,
	    sizeof(*rs.results));
	rs.n_results = n;
	if (rs.results == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_create_partitions_req_topic *t = &rq.topics[i];
		struct kp_create_partitions_resp_topic_result *r =
		    &rs.results[i];
		char *name = kb_arena_str(req->arena, &t->name);
		int rc;

		kp_create_partitions_resp_topic_result_init(r);
		r->name = t->name;
		if (name == NULL) {
			r->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		rc = kp_store_add_partitions(req->b->store, name, t->count,
		    rq.validate_only);
		r->error_code = (int16_t)rc;
		if (rc == KP_INVALID_PARTITIONS)
			r->error_message = kb_str("the partition count can "
			    "only grow");
		else if (rc == KP_NONE && !rq.validate_only)
			kb_log("topic '%s': now %d partition(s)", name,
			    t->count);
		else if (rc == KP_KAFKA_STORAGE_ERROR)
			store_error(req->b, "add partitions", name, rc);
	}
	if (kp_create_partitions_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(create_partitions, KP_API_CREATE_PARTITIONS, 0, 1,
    handle_create_partitions)

/* ---- DescribeConfigs ---- */

static bool
key_wanted(const struct kp_describe_configs_req_resource *res,
    const char *name)
{
	if (res->n_configuration_keys < 0)
		return true;
	for (int32_t i = 0; i < res->n_configuration_keys; i++)
		if (kp_str_eq(&res->configuration_keys[i], name))
			return true;
	return false;
}

static void
config_entry(struct kb_req *req,
    struct kp_describe_configs_resp_resource_result *c, const char *name,
    const char *value, bool is_default, int8_t source, bool read_only)
{
	kp_describe_configs_resp_resource_result_init(c);
	c->name = kb_str(name);
	c->value = kb_str(value);
	c->read_only = read_only;
	if (req->hdr.api_version == 0)
		c->is_default = is_default;
	else {
		c->config_source = source;
		c->n_synonyms = 0;
	}
}

/* A copy of s in the arena (config values outlive the loop's buffer). */
static char *
arena_dup(struct kp_arena *a, const char *s)
{
	struct kp_str k = kb_str(s);

	return kb_arena_str(a, &k);
}

static int
describe_topic(struct kb_req *req,
    const struct kp_describe_configs_req_resource *res,
    struct kp_describe_configs_resp_result *r)
{
	char *name = kb_arena_str(req->arena, &res->resource_name);
	struct kp_topic *t = name ? kp_store_topic(req->b->store, name) : NULL;
	size_t n = kp_logconf_count(), k = 0;
	char buf[64];

	if (t == NULL) {
		r->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
		return 0;
	}
	r->configs = kp_arena_calloc(req->arena, n, sizeof(*r->configs));
	if (r->configs == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *cn = kp_logconf_name(i);
		bool set = kp_logconf_is_set(&t->conf, i) ||
		    kp_logconf_is_set(&t->overrides, i);

		if (!key_wanted(res, cn))
			continue;
		kp_logconf_format(&t->conf, i, buf, sizeof(buf));
		config_entry(req, &r->configs[k++], cn,
		    arena_dup(req->arena, buf), !set,
		    set ? SRC_TOPIC : SRC_DEFAULT, false);
	}
	r->n_configs = (int32_t)k;
	return 0;
}

/* The broker's own settings that describe it best. */
static const char *broker_keys[] = {
	"auto.create.topics.enable", "broker.id", "connections.max.idle.ms",
	"delete.topic.enable", "listeners", "log.dirs",
	"log.retention.check.interval.ms", "max.connections", "num.partitions",
	"socket.request.max.bytes",
};

static const char *
broker_value(struct kb_broker *b, const char *key, char *buf, size_t len)
{
	const struct kb_config *c = b->cfg;

	if (strcmp(key, "auto.create.topics.enable") == 0)
		return c->auto_create ? "true" : "false";
	if (strcmp(key, "delete.topic.enable") == 0)
		return c->delete_enable ? "true" : "false";
	if (strcmp(key, "broker.id") == 0)
		snprintf(buf, len, "%d", c->broker_id);
	else if (strcmp(key, "num.partitions") == 0)
		snprintf(buf, len, "%d", c->num_partitions);
	else if (strcmp(key, "socket.request.max.bytes") == 0)
		snprintf(buf, len, "%lld", (long long)c->request_max);
	else if (strcmp(key, "max.connections") == 0)
		snprintf(buf, len, "%lld", (long long)c->max_connections);
	else if (strcmp(key, "connections.max.idle.ms") == 0)
		snprintf(buf, len, "%lld", (long long)c->idle_ms);
	else if (strcmp(key, "log.retention.check.interval.ms") == 0)
		snprintf(buf, len, "%lld", (long long)c->tick_ms);
	else if (strcmp(key, "log.dirs") == 0)
		return c->data_dir;
	else if (strcmp(key, "listeners") == 0) {
		size_t off = 0;

		buf[0] = '\0';
		for (size_t i = 0; i < b->nlis && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    i ? "," : "", b->lis[i].name);
	} else
		return NULL;
	return buf;
}

static int
describe_broker(struct kb_req *req,
    const struct kp_describe_configs_req_resource *res,
    struct kp_describe_configs_resp_result *r)
{
	struct kb_broker *b = req->b;
	size_t nb = sizeof(broker_keys) / sizeof(broker_keys[0]);
	size_t nl = kp_logconf_count(), k = 0;
	char id[16], buf[1024];

	snprintf(id, sizeof(id), "%d", b->cfg->broker_id);
	if (res->resource_name.len > 0 && !kp_str_eq(&res->resource_name, id)) {
		r->error_code = KP_INVALID_REQUEST;
		r->error_message = kb_str("not this broker's id");
		return 0;
	}
	r->configs = kp_arena_calloc(req->arena, nb + nl, sizeof(*r->configs));
	if (r->configs == NULL)
		return -1;
	for (size_t i = 0; i < nb; i++) {
		const char *v;
		bool given = kb_config_get(b->cfg, broker_keys[i], NULL) != NULL;

		if (!key_wanted(res, broker_keys[i]))
			continue;
		v = broker_value(b, broker_keys[i], buf, sizeof(buf));
		config_entry(req, &r->configs[k++], broker_keys[i],
		    arena_dup(req->arena, v ? v : ""), !given,
		    given ? SRC_STATIC : SRC_DEFAULT, true);
	}
	/* Topic defaults, under their topic names as Kafka lists synonyms. */
	for (size_t i = 0; i < nl; i++) {
		const char *cn = kp_logconf_name(i);

		if (!key_wanted(res, cn))
			continue;
		kp_logconf_format(&b->cfg->log, i, buf, sizeof(buf));
		config_entry(req, &r->configs[k++], cn,
		    arena_dup(req->arena, buf), true, SRC_DEFAULT, true);
	}
	r->n_configs = (int32_t)k;
	return 0;
}

static int
handle_describe_configs(struct kb_req *req)
{
	struct kp_describe_configs_req rq;
	struct kp_describe_configs_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_describe_configs_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_describe_configs_resp_init(&rs);
	rs.results = kb_resp_array(req->arena, rq.n_resources, &n,
	    sizeof(*rs.results));
	rs.n_results = n;
	if (rs.results == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		const struct kp_describe_configs_req_resource *res =
		    &rq.resources[i];
		struct kp_describe_configs_resp_result *r = &rs.results[i];
		int rc = 0;

		kp_describe_configs_resp_result_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		r->n_configs = 0;
		if (res->resource_type == RESOURCE_TOPIC)
			rc = describe_topic(req, res, r);
		else if (res->resource_type == RESOURCE_BROKER)
			rc = describe_broker(req, res, r);
		else
			r->error_code = KP_INVALID_REQUEST;
		if (rc == -1)
			return KB_CLOSE;
	}
	if (kp_describe_configs_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(describe_configs, KP_API_DESCRIBE_CONFIGS, 0, 2,
    handle_describe_configs)

/* ---- AlterConfigs and IncrementalAlterConfigs ---- */

/*
 * One resource: topics go to the store (all or nothing); broker configs
 * are static in kbroker (set them in the config file).
 */
static int16_t
alter_resource(struct kb_req *req, int8_t type, const struct kp_str *rname,
    const char **names, const char **values, const int8_t *ops, size_t n,
    bool replace, bool validate_only, const char **msg)
{
	char *name;
	int rc;

	*msg = NULL;
	if (type == RESOURCE_BROKER) {
		*msg = "broker configs are static: edit the config file";
		return KP_INVALID_REQUEST;
	}
	if (type != RESOURCE_TOPIC)
		return KP_INVALID_REQUEST;
	for (size_t i = 0; i < n; i++)
		if (names[i] == NULL || (values[i] == NULL &&
		    (ops == NULL || ops[i] == 0))) {
			*msg = "config without a name or value";
			return KP_INVALID_CONFIG;
		}
	if ((name = kb_arena_str(req->arena, rname)) == NULL)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	rc = kp_store_alter_configs(req->b->store, name, names, values, ops, n,
	    replace, validate_only);
	if (rc == KP_NONE && !validate_only)
		kb_log("topic '%s': configs altered", name);
	else if (rc == KP_INVALID_CONFIG)
		*msg = "unknown config or invalid value";
	else if (rc == KP_INVALID_REQUEST)
		*msg = "APPEND and SUBTRACT are not supported";
	else if (rc == KP_KAFKA_STORAGE_ERROR)
		store_error(req->b, "alter configs", name, rc);
	return (int16_t)rc;
}

static int
handle_alter_configs(struct kb_req *req)
{
	struct kp_alter_configs_req rq;
	struct kp_alter_configs_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_alter_configs_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_alter_configs_resp_init(&rs);
	rs.responses = kb_resp_array(req->arena, rq.n_resources, &n,
	    sizeof(*rs.responses));
	rs.n_responses = n;
	if (rs.responses == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_alter_configs_req_resource *res = &rq.resources[i];
		struct kp_alter_configs_resp_resource_response *r =
		    &rs.responses[i];
		size_t nc = (size_t)(res->n_configs > 0 ? res->n_configs : 0);
		const char **names, **values, *msg;

		kp_alter_configs_resp_resource_response_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		if (cstr_pairs(req->arena, nc, &names, &values) == -1)
			return KB_CLOSE;
		for (size_t j = 0; j < nc; j++) {
			names[j] = kb_arena_str(req->arena,
			    &res->configs[j].name);
			values[j] = kb_arena_str(req->arena,
			    &res->configs[j].value);
		}
		r->error_code = alter_resource(req, res->resource_type,
		    &res->resource_name, names, values, NULL, nc, true,
		    rq.validate_only, &msg);
		if (msg != NULL)
			r->error_message = kb_str(msg);
	}
	if (kp_alter_configs_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(alter_configs, KP_API_ALTER_CONFIGS, 0, 1, handle_alter_configs)

static int
handle_incremental_alter_configs(struct kb_req *req)
{
	struct kp_incremental_alter_configs_req rq;
	struct kp_incremental_alter_configs_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_incremental_alter_configs_req_decode(req->body, req->body_len,
	    v, &rq, req->arena) == -1)
		return KB_CLOSE;
	kp_incremental_alter_configs_resp_init(&rs);
	rs.responses = kb_resp_array(req->arena, rq.n_resources, &n,
	    sizeof(*rs.responses));
	rs.n_responses = n;
	if (rs.responses == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_incremental_alter_configs_req_alter_configs_resource
		    *res = &rq.resources[i];
		struct kp_incremental_alter_configs_resp_alter_configs_resource_response
		    *r = &rs.responses[i];
		size_t nc = (size_t)(res->n_configs > 0 ? res->n_configs : 0);
		const char **names, **values, *msg;
		int8_t *ops;

		kp_incremental_alter_configs_resp_alter_configs_resource_response_init(r);
		r->resource_type = res->resource_type;
		r->resource_name = res->resource_name;
		ops = kp_arena_calloc(req->arena, nc ? nc : 1, sizeof(*ops));
		if (ops == NULL || cstr_pairs(req->arena, nc, &names,
		    &values) == -1)
			return KB_CLOSE;
		for (size_t j = 0; j < nc; j++) {
			names[j] = kb_arena_str(req->arena,
			    &res->configs[j].name);
			values[j] = kb_arena_str(req->arena,
			    &res->configs[j].value);
			ops[j] = res->configs[j].config_operation;
		}
		r->error_code = alter_resource(req, res->resource_type,
		    &res->resource_name, names, values, ops, nc, false,
		    rq.validate_only, &msg);
		if (msg != NULL)
			r->error_message = kb_str(msg);
	}
	if (kp_incremental_alter_configs_resp_encode(kb_resp_buf(req->resp), v,
	    &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(incremental_alter_configs, KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1,
    handle_incremental_alter_configs)

/* ---- DeleteRecords ---- */

static int
handle_delete_records(struct kb_req *req)
{
	struct kp_delete_records_req rq;
	struct kp_delete_records_resp rs;
	int16_t v = req->hdr.api_version;
	int32_t n;

	if (kp_delete_records_req_decode(req->body, req->body_len, v, &rq,
	    req->arena) == -1)
		return KB_CLOSE;
	kp_delete_records_resp_init(&rs);
	rs.topics = kb_resp_array(req->arena, rq.n_topics, &n,
	    sizeof(*rs.topics));
	rs.n_topics = n;
	if (rs.topics == NULL)
		return KB_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		struct kp_delete_records_req_topic *t = &rq.topics[i];
		struct kp_delete_records_resp_topic_result *tr = &rs.topics[i];
		int32_t np;

		kp_delete_records_resp_topic_result_init(tr);
		tr->name = t->name;
		tr->partitions = kb_resp_array(req->arena, t->n_partitions, &np,
		    sizeof(*tr->partitions));
		tr->n_partitions = np;
		if (tr->partitions == NULL)
			return KB_CLOSE;
		for (int32_t j = 0; j < np; j++) {
			struct kp_delete_records_resp_partition_result *pr =
			    &tr->partitions[j];
			struct kp_log *log = kb_log_for(req->b, &t->name,
			    t->partitions[j].partition_index);
			int64_t low = -1;
			int rc;

			kp_delete_records_resp_partition_result_init(pr);
			pr->partition_index = t->partitions[j].partition_index;
			if ((rc = kb_cluster_check_leader_s(req->b, &t->name,
			    pr->partition_index)) != KP_NONE) {
				pr->error_code = (int16_t)rc;
				pr->low_watermark = -1;
				continue;
			}
			if (log == NULL) {
				pr->error_code = KP_UNKNOWN_TOPIC_OR_PARTITION;
				pr->low_watermark = -1;
				continue;
			}
			pr->error_code = (int16_t)kp_log_delete_records(log,
			    t->partitions[j].offset, &low);
			pr->low_watermark = low;
			if (pr->error_code == KP_NONE)
				kb_log("%s: records before %lld deleted",
				    kp_log_dir(log), (long long)low);
		}
	}
	if (kp_delete_records_resp_encode(kb_resp_buf(req->resp), v, &rs) == -1)
		return KB_CLOSE;
	return KB_DONE;
}

KB_API(delete_records, KP_API_DELETE_RECORDS, 0, 1, handle_delete_records)
