/* kp_reassign.c -- partition reassignment plans: Kafka's JSON format and a balanced assignment */
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_json.h"
#include "kp_reassign.h"

void
kp_reassign_plan_init(struct kp_reassign_plan *p)
{
	p->parts = NULL;
	p->nparts = 0;
}

void
kp_reassign_plan_release(struct kp_reassign_plan *p)
{
	for (size_t i = 0; i < p->nparts; i++) {
		free(p->parts[i].topic);
		free(p->parts[i].replicas);
	}
	free(p->parts);
	kp_reassign_plan_init(p);
}

int
kp_reassign_add(struct kp_reassign_plan *p, const char *topic, int32_t part,
    const int32_t *replicas, int32_t n)
{
	struct kp_reassign_part *np, *e;

	if ((np = reallocarray(p->parts, p->nparts + 1, sizeof(*np))) == NULL)
		return -1;
	p->parts = np;
	e = &np[p->nparts];
	e->partition = part;
	e->nreplicas = n;
	e->topic = strdup(topic);
	e->replicas = malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
	if (e->topic == NULL || e->replicas == NULL) {
		free(e->topic);
		free(e->replicas);
		return -1;
	}
	if (n > 0)
		memcpy(e->replicas, replicas, (size_t)n * sizeof(int32_t));
	p->nparts++;
	return 0;
}

/* An int32 >= 0 from a JSON integer, or -1. */
static int64_t
id_of(const json_t *v)
{
	json_int_t x;

	if (!json_is_integer(v))
		return -1;
	x = json_integer_value(v);
	return x >= 0 && x <= INT32_MAX ? (int64_t)x : -1;
}

static int
bad(char *why, size_t len, size_t i, const char *what)
{
	snprintf(why, len, "partitions[%zu]: %s", i, what);
	return -1;
}

/* One element of "partitions" into the plan; 0 or -1 with why. */
static int
parse_part(json_t *e, size_t i, struct kp_reassign_plan *p, char *why,
    size_t len)
{
	json_t *t = json_object_get(e, "topic");
	json_t *rs = json_object_get(e, "replicas");
	int32_t *ids;
	int64_t part;
	size_t n;
	int rc;

	if (!json_is_object(e))
		return bad(why, len, i, "not an object");
	if (!json_is_string(t) || json_string_length(t) == 0 ||
	    strlen(json_string_value(t)) != json_string_length(t))
		return bad(why, len, i, "\"topic\" is not a topic name");
	if ((part = id_of(json_object_get(e, "partition"))) < 0)
		return bad(why, len, i,
		    "\"partition\" is not a partition number");
	if (!json_is_array(rs) || (n = json_array_size(rs)) == 0)
		return bad(why, len, i, "\"replicas\" is not a list of broker "
		    "ids");
	if ((ids = calloc(n, sizeof(*ids))) == NULL)
		return bad(why, len, i, "out of memory");
	for (size_t k = 0; k < n; k++) {
		int64_t id = id_of(json_array_get(rs, k));

		if (id < 0) {
			free(ids);
			return bad(why, len, i, "a replica is not a broker id");
		}
		for (size_t j = 0; j < k; j++)
			if (ids[j] == id) {
				free(ids);
				return bad(why, len, i,
				    "a broker is in \"replicas\" twice");
			}
		ids[k] = (int32_t)id;
	}
	for (size_t j = 0; j < p->nparts; j++)
		if (p->parts[j].partition == part &&
		    strcmp(p->parts[j].topic, json_string_value(t)) == 0) {
			free(ids);
			return bad(why, len, i, "partition given twice");
		}
	rc = kp_reassign_add(p, json_string_value(t), (int32_t)part, ids,
	    (int32_t)n);
	free(ids);
	return rc == 0 ? 0 : bad(why, len, i, "out of memory");
}

int
kp_reassign_parse(const char *s, size_t n, struct kp_reassign_plan *p,
    char *why, size_t len)
{
	json_error_t je;
	json_t *root, *v, *parts;
	int rc = -1;

	kp_reassign_plan_init(p);
	if ((root = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(why, len, "line %d: %s", je.line, je.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(why, len, "not a JSON object");
		goto fail;
	}
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		snprintf(why, len, "\"version\" is not 1");
		goto fail;
	}
	parts = json_object_get(root, "partitions");
	if (!json_is_array(parts)) {
		snprintf(why, len, "\"partitions\" is not a list");
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(parts); i++)
		if (parse_part(json_array_get(parts, i), i, p, why, len) < 0)
			goto fail;
	rc = 0;
fail:
	json_decref(root);
	if (rc < 0)
		kp_reassign_plan_release(p);
	return rc;
}

void
kp_reassign_write(struct kp_buf *b, const struct kp_reassign_plan *p)
{
	char tmp[64];
	int k;

	kp_buf_put(b, "{\"version\":1,\"partitions\":[", 27);
	for (size_t i = 0; i < p->nparts; i++) {
		const struct kp_reassign_part *e = &p->parts[i];

		kp_buf_put(b, i ? ",{\"topic\":" : "{\"topic\":", i ? 10 : 9);
		kp_json_put_str(b, e->topic, strlen(e->topic));
		k = snprintf(tmp, sizeof(tmp), ",\"partition\":%" PRId32
		    ",\"replicas\":[", e->partition);
		kp_buf_put(b, tmp, (size_t)k);
		for (int32_t r = 0; r < e->nreplicas; r++) {
			k = snprintf(tmp, sizeof(tmp), "%s%" PRId32,
			    r ? "," : "", e->replicas[r]);
			kp_buf_put(b, tmp, (size_t)k);
		}
		kp_buf_put(b, "]}", 2);
	}
	kp_buf_put(b, "]}\n", 3);
}

/* AdminUtils.replicaIndex: where the j-th follower goes. */
static size_t
follower(size_t first, size_t shift, size_t j, size_t n)
{
	return (first + 1 + (shift + j) % (n - 1)) % n;
}

int
kp_reassign_spread(const int32_t *brokers, size_t n, int32_t nparts,
    int32_t rf, size_t start, int32_t *out)
{
	size_t shift = start;

	if (rf < 1 || (size_t)rf > n)
		return -1;
	for (int32_t p = 0; p < nparts; p++) {
		size_t first = (start + (size_t)p) % n;

		if (p > 0 && (size_t)p % n == 0)
			shift++;
		out[(size_t)p * (size_t)rf] = brokers[first];
		for (int32_t j = 0; j + 1 < rf; j++)
			out[(size_t)p * (size_t)rf + (size_t)j + 1] =
			    brokers[follower(first, shift, (size_t)j, n)];
	}
	return 0;
}
