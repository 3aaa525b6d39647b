/* kp_assign.c -- range and roundrobin partition assignors, as Kafka's Java ones */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kp_assign.h"

/* AbstractPartitionAssignor.MemberInfo.compareTo */
static int
member_cmp(const void *a, const void *b)
{
	const struct kp_assign_member *x = *(struct kp_assign_member *const *)a;
	const struct kp_assign_member *y = *(struct kp_assign_member *const *)b;

	if (x->instance_id != NULL && y->instance_id != NULL)
		return strcmp(x->instance_id, y->instance_id);
	if (x->instance_id != NULL)
		return -1;
	if (y->instance_id != NULL)
		return 1;
	return strcmp(x->member_id, y->member_id);
}

static bool
subscribed(const struct kp_assign_member *m, const char *topic)
{
	for (size_t i = 0; i < m->ntopics; i++)
		if (strcmp(m->topics[i], topic) == 0)
			return true;
	return false;
}

static int
add(struct kp_assign_member *m, const char *topic, int32_t p, size_t *cap)
{
	if (m->nparts == *cap) {
		size_t n = *cap ? *cap * 2 : 8;
		struct kp_assign_tp *np = reallocarray(m->parts, n,
		    sizeof(*np));

		if (np == NULL)
			return -1;
		m->parts = np;
		*cap = n;
	}
	m->parts[m->nparts].topic = topic;
	m->parts[m->nparts].partition = p;
	m->nparts++;
	return 0;
}

static int
topic_cmp(const void *a, const void *b)
{
	const struct kp_assign_topic *x = *(struct kp_assign_topic *const *)a;
	const struct kp_assign_topic *y = *(struct kp_assign_topic *const *)b;

	return strcmp(x->name, y->name);
}

static int
tp_cmp(const void *a, const void *b)
{
	const struct kp_assign_tp *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	if (c != 0)
		return c;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

/*
 * Members sorted as Java sorts MemberInfo, and topics with known partitions
 * that someone subscribes to, sorted by name (Java's TreeSet in
 * RoundRobinAssignor; Range's order per topic does not change results).
 */
struct plan {
	struct kp_assign_member	**mem;
	const struct kp_assign_topic **top;
	size_t			 ntop;
	size_t			*cap;
};

static void
plan_release(struct plan *p)
{
	free(p->mem);
	free(p->top);
	free(p->cap);
}

static int
plan_init(struct plan *p, struct kp_assign_member *m, size_t n,
    const struct kp_assign_topic *t, size_t nt)
{
	memset(p, 0, sizeof(*p));
	p->mem = calloc(n ? n : 1, sizeof(*p->mem));
	p->top = calloc(nt ? nt : 1, sizeof(*p->top));
	p->cap = calloc(n ? n : 1, sizeof(*p->cap));
	if (p->mem == NULL || p->top == NULL || p->cap == NULL) {
		plan_release(p);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		m[i].parts = NULL;
		m[i].nparts = 0;
		p->mem[i] = &m[i];
	}
	qsort(p->mem, n, sizeof(*p->mem), member_cmp);
	for (size_t i = 0; i < nt; i++) {
		bool dup = false, sub = false;

		if (t[i].partitions <= 0)
			continue;
		for (size_t j = 0; j < p->ntop && !dup; j++)
			dup = strcmp(p->top[j]->name, t[i].name) == 0;
		for (size_t j = 0; j < n && !sub; j++)
			sub = subscribed(&m[j], t[i].name);
		if (!dup && sub)
			p->top[p->ntop++] = &t[i];
	}
	qsort(p->top, p->ntop, sizeof(*p->top), topic_cmp);
	return 0;
}

static size_t
index_of(const struct plan *p, size_t n, const struct kp_assign_member *m)
{
	for (size_t i = 0; i < n; i++)
		if (p->mem[i] == m)
			return i;
	return 0;
}

/*
 * RangeAssignor: per topic, its subscribers in order; each gets
 * partitions/subscribers consecutive partitions, the first
 * partitions%subscribers of them one more.
 */
int
kp_assign_range(struct kp_assign_member *m, size_t n,
    const struct kp_assign_topic *t, size_t nt)
{
	struct plan p;
	struct kp_assign_member **subs = NULL;

	if (plan_init(&p, m, n, t, nt) == -1)
		return -1;
	if ((subs = calloc(n ? n : 1, sizeof(*subs))) == NULL)
		goto fail;
	for (size_t ti = 0; ti < p.ntop; ti++) {
		const struct kp_assign_topic *topic = p.top[ti];
		size_t ns = 0;

		for (size_t i = 0; i < n; i++)
			if (subscribed(p.mem[i], topic->name))
				subs[ns++] = p.mem[i];
		int32_t per = topic->partitions / (int32_t)ns;
		int32_t extra = topic->partitions % (int32_t)ns;

		for (size_t i = 0; i < ns; i++) {
			int32_t start = per * (int32_t)i +
			    ((int32_t)i < extra ? (int32_t)i : extra);
			int32_t len = per + ((int32_t)i < extra ? 1 : 0);
			size_t *cap = &p.cap[index_of(&p, n, subs[i])];

			for (int32_t k = start; k < start + len; k++)
				if (add(subs[i], topic->name, k, cap) == -1)
					goto fail;
		}
	}
	free(subs);
	plan_release(&p);
	return 0;
fail:
	free(subs);
	for (size_t i = 0; i < n; i++)
		kp_assign_member_release(&m[i]);
	plan_release(&p);
	errno = ENOMEM;
	return -1;
}

/*
 * RoundRobinAssignor: every subscribed partition, by topic then number,
 * goes to the next member in a circle, skipping members not subscribed
 * to its topic.
 */
int
kp_assign_roundrobin(struct kp_assign_member *m, size_t n,
    const struct kp_assign_topic *t, size_t nt)
{
	struct plan p;
	size_t cur = 0;

	if (plan_init(&p, m, n, t, nt) == -1)
		return -1;
	for (size_t ti = 0; ti < p.ntop; ti++) {
		const struct kp_assign_topic *topic = p.top[ti];

		for (int32_t k = 0; k < topic->partitions; k++) {
			/* Someone subscribes, or the topic is not in top. */
			while (!subscribed(p.mem[cur], topic->name))
				cur = (cur + 1) % n;
			if (add(p.mem[cur], topic->name, k, &p.cap[cur]) == -1)
				goto fail;
			cur = (cur + 1) % n;
		}
	}
	plan_release(&p);
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		kp_assign_member_release(&m[i]);
	plan_release(&p);
	errno = ENOMEM;
	return -1;
}

int
kp_assign(enum kp_assignor a, struct kp_assign_member *m, size_t n,
    const struct kp_assign_topic *t, size_t nt)
{
	int rc;

	if (a == KP_ASSIGN_ROUNDROBIN)
		rc = kp_assign_roundrobin(m, n, t, nt);
	else
		rc = kp_assign_range(m, n, t, nt);
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			if (m[i].nparts > 1)
				qsort(m[i].parts, m[i].nparts,
				    sizeof(*m[i].parts), tp_cmp);
	return rc;
}

void
kp_assign_member_release(struct kp_assign_member *m)
{
	if (m == NULL)
		return;
	free(m->parts);
	m->parts = NULL;
	m->nparts = 0;
}

const char *
kp_assignor_name(enum kp_assignor a)
{
	return a == KP_ASSIGN_ROUNDROBIN ? "roundrobin" : "range";
}

int
kp_assignor_parse(const char *s)
{
	if (strcmp(s, "range") == 0)
		return KP_ASSIGN_RANGE;
	if (strcmp(s, "roundrobin") == 0)
		return KP_ASSIGN_ROUNDROBIN;
	return -1;
}
