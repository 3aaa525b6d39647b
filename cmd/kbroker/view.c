/* view.c -- cluster views in the loop: lookups, taking the newest, freeing */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kbroker.h"
#include "zk.h"

bool
kb_cluster_mode(const struct kb_broker *b)
{
	return b->cfg->zk_connect != NULL;
}

const struct kb_cl_view *
kb_cluster_view(const struct kb_broker *b)
{
	return b->cluster != NULL ? b->cluster->cur : NULL;
}

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct kb_cl_topic *)elem)->name);
}

const struct kb_cl_topic *
kb_cl_topic(const struct kb_cl_view *v, const char *name)
{
	if (v == NULL || v->ntopics == 0)
		return NULL;
	return bsearch(name, v->topics, v->ntopics, sizeof(*v->topics),
	    cmp_name);
}

bool
kb_part_known(struct kb_broker *b, const struct kp_str *name,
    const char *topic, int32_t p)
{
	const struct kb_cl_topic *t;

	if (!kb_cluster_mode(b))
		return kb_log_for(b, name, p) != NULL;
	t = kb_cl_topic(kb_cluster_view(b), topic);
	return t != NULL && !t->deleting && p >= 0 && p < t->nparts;
}

const struct kb_cl_broker *
kb_cl_broker(const struct kb_cl_view *v, int32_t id)
{
	size_t lo = 0, hi;

	if (v == NULL)
		return NULL;
	hi = v->nbrokers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->brokers[mid].id == id)
			return &v->brokers[mid];
		if (v->brokers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool
kb_cl_in(const int32_t *ids, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int32_t *
kb_cl_ids_dup(const int32_t *ids, int32_t n)
{
	int32_t *d = malloc(((size_t)n + 1) * sizeof(*d));

	if (d != NULL && n > 0)
		memcpy(d, ids, (size_t)n * sizeof(*d));
	return d;
}

void
kb_cl_topic_release(struct kb_cl_topic *t)
{
	for (int32_t p = 0; p < t->nparts && t->parts != NULL; p++) {
		free(t->parts[p].replicas);
		free(t->parts[p].isr);
		free(t->parts[p].adding);
		free(t->parts[p].removing);
	}
	for (size_t i = 0; i < t->ncfg; i++) {
		free(t->cfg_keys[i]);
		free(t->cfg_vals[i]);
	}
	free(t->cfg_keys);
	free(t->cfg_vals);
	free(t->parts);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void
kb_cl_view_free(struct kb_cl_view *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nbrokers; i++)
		free(v->brokers[i].host);
	free(v->brokers);
	for (size_t i = 0; i < v->ntopics; i++)
		kb_cl_topic_release(&v->topics[i]);
	free(v->topics);
	free(v);
}

/*
 * The session thread built a new view: take it (only the newest counts,
 * any older one it replaced was freed unseen), let apply.c act on the
 * change, then free the view it replaced.
 */
void
kb_cluster_on_event(struct kb_broker *b)
{
	struct kb_cluster *cl = b->cluster;
	struct kb_cl_view *nv, *old;
	uint64_t n;

	if (cl == NULL)
		return;
	if (read(cl->efd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	pthread_mutex_lock(&cl->mu);
	nv = cl->pending;
	cl->pending = NULL;
	pthread_mutex_unlock(&cl->mu);
	if (nv == NULL)
		return;
	old = cl->cur;
	cl->cur = nv;
	kb_debug(b, "cluster view %llu: controller %d, %zu broker(s), "
	    "%zu topic(s)", (unsigned long long)nv->gen, (int)nv->controller,
	    nv->nbrokers, nv->ntopics);
	kb_cluster_apply(b, old, nv);
	kb_cl_view_free(old);
}
