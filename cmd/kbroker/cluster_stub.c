/* cluster_stub.c -- TEMPORARY: single-node answers for helper A's cluster.h functions until cl-zk is merged (then deleted) */
#include <string.h>

#include "kp_err.h"
#include "kbroker.h"
#include "cluster.h"

bool
kb_cluster_mode(const struct kb_broker *b)
{
	(void)b;
	return false;
}

const struct kb_cl_view *
kb_cluster_view(const struct kb_broker *b)
{
	(void)b;
	return NULL;
}

const struct kb_cl_topic *
kb_cl_topic(const struct kb_cl_view *v, const char *name)
{
	for (size_t i = 0; v != NULL && i < v->ntopics; i++)
		if (strcmp(v->topics[i].name, name) == 0)
			return &v->topics[i];
	return NULL;
}

const struct kb_cl_broker *
kb_cl_broker(const struct kb_cl_view *v, int32_t id)
{
	for (size_t i = 0; v != NULL && i < v->nbrokers; i++)
		if (v->brokers[i].id == id)
			return &v->brokers[i];
	return NULL;
}

bool
kb_cl_in(const int32_t *l, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (l[i] == id)
			return true;
	return false;
}

int
kb_cluster_create_topic(struct kb_broker *b, const char *t, int32_t n,
    int16_t rf, int32_t *const *assign, const char *const *k,
    const char *const *v, size_t nc)
{
	(void)b; (void)t; (void)n; (void)rf; (void)assign; (void)k; (void)v;
	(void)nc;
	return KP_NOT_CONTROLLER;
}

int
kb_cluster_delete_topic(struct kb_broker *b, const char *t)
{
	(void)b; (void)t;
	return KP_NOT_CONTROLLER;
}

int
kb_cluster_add_partitions(struct kb_broker *b, const char *t, int32_t n)
{
	(void)b; (void)t; (void)n;
	return KP_NOT_CONTROLLER;
}
