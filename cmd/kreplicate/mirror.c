/* mirror.c -- kreplicate mirror: copy topics from one cluster to another, checkpointed */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "kp_arena.h"
#include "kp_batch.h"
#include "kp_err.h"
#include "kp_proto_admin.h"
#include "kp_proto_fetch.h"
#include "kp_proto_group.h"
#include "kp_proto_produce.h"
#include "kp_txn.h"
#include "kreplicate.h"

/*
 * One round: fetch what every source partition has (up to BATCH_MAX
 * bytes each), write it to the same partition of the target as one batch
 * per partition with acks=all, and only when every batch is acknowledged
 * commit the source offsets after them. A crash between the
 * acknowledgement and the commit copies those records again on restart:
 * at-least-once, never a gap.
 */
#define BATCH_MAX		(512 << 10)	/* record bytes per batch */
#define MAX_BATCH_INFLATE	(256u << 20)
#define DEFAULT_GROUP		"kreplicate-mirror"

enum { OPT_FROM = 256, OPT_GROUP, OPT_PATTERN, OPT_PREFIX, OPT_TO };

struct mtopic {
	char	*src;
	char	*dst;
	int32_t	 nparts;
};

struct mpart {
	struct mtopic	*t;
	int32_t		 id;
	int64_t		 next;		/* next source offset to copy */
	int64_t		 acked;		/* offsets below are in the target */
	int64_t		 committed;	/* last commit, -1 none */
	int64_t		 hw;		/* source high watermark, -1 unknown */
	struct kp_batch_builder bb;	/* copied, not yet sent */
	bool		 oor;		/* offset out of range: look again */
	size_t		 off, len;	/* the finished batch in m->out */
	bool		 pending;	/* sent, not yet acknowledged */
};

struct mirror {
	struct kp_client	*src, *dst;
	const char		*group;
	struct kp_conn		*coord;		/* source group coordinator */
	bool			 exit_at_end;
	bool			 from_latest;
	int			 retries;
	int			 timeout_ms;
	struct mtopic		*t;
	size_t			 nt;
	struct mpart		*p;
	size_t			 np;
	struct kp_arena		 arena;
	struct kp_buf		 body;
	struct kp_buf		 out;		/* a round's finished batches */
	struct kp_record_header	*hs;		/* header scratch */
	size_t			 hcap;
	struct kp_progress	 prog;
	struct kp_txn_filter	 filter;	/* aborted transactions */
};

static volatile sig_atomic_t stopping;

static void
onsig(int sig)
{
	(void)sig;
	stopping = 1;
}

/* --- topics ------------------------------------------------------------ */

static void
add_topic(struct mirror *m, const char *src, const char *prefix)
{
	struct mtopic *v;

	for (size_t i = 0; i < m->nt; i++)
		if (strcmp(m->t[i].src, src) == 0)
			return;
	if ((v = reallocarray(m->t, m->nt + 1, sizeof(*v))) == NULL)
		err(EX_OSERR, "reallocarray");
	m->t = v;
	v = &m->t[m->nt++];
	memset(v, 0, sizeof(*v));
	if ((v->src = strdup(src)) == NULL ||
	    asprintf(&v->dst, "%s%s", prefix ? prefix : "", src) < 0)
		err(EX_OSERR, "strdup");
}

/* Each pattern must match a whole name, as Kafka's include lists. */
static regex_t *
compile_patterns(char **pats, size_t npat)
{
	regex_t *re;
	char why[256], *full;
	int rc;

	if ((re = calloc(npat + 1, sizeof(*re))) == NULL)
		err(EX_OSERR, "calloc");
	for (size_t k = 0; k < npat; k++) {
		if (asprintf(&full, "^(%s)$", pats[k]) < 0)
			err(EX_OSERR, "asprintf");
		if ((rc = regcomp(&re[k], full, REG_EXTENDED | REG_NOSUB)) !=
		    0) {
			regerror(rc, &re[k], why, sizeof(why));
			errx(EX_USAGE, "pattern '%s': %s", pats[k], why);
		}
		free(full);
	}
	return re;
}

/*
 * Source topics matching a pattern, leaving out internal topics and,
 * with a prefix, topics that already carry it: they are mirrors
 * themselves when both clusters are one.
 */
static void
match_topics(struct mirror *m, regex_t *re, size_t npat, const char *prefix)
{
	const struct kp_topic_meta *t;
	size_t n, i, k;

	if (npat == 0)
		return;
	if (kp_client_metadata(m->src, NULL, 0, false) < 0)
		errx(EX_UNAVAILABLE, "source: %s", kp_client_error(m->src));
	t = kp_client_topics(m->src, &n);
	for (i = 0; i < n; i++) {
		if (t[i].internal || strncmp(t[i].name, "__", 2) == 0)
			continue;
		if (prefix != NULL && *prefix != '\0' &&
		    strncmp(t[i].name, prefix, strlen(prefix)) == 0)
			continue;
		for (k = 0; k < npat; k++)
			if (regexec(&re[k], t[i].name, 0, NULL, 0) == 0) {
				add_topic(m, t[i].name, prefix);
				break;
			}
	}
}

/* Every source topic must exist; learn its partition count. */
static int
source_topics(struct mirror *m)
{
	const struct kp_topic_meta *t;
	size_t i;

	for (i = 0; i < m->nt; i++) {
		if ((t = kp_client_topic_wait(m->src, m->t[i].src, false)) ==
		    NULL) {
			warnx("source: %s", kp_client_error(m->src));
			return kp_cli_exit_for(kp_client_kerr(m->src));
		}
		m->t[i].nparts = t->nparts;
	}
	return 0;
}

/* CreateTopics on the target, with the source's partition count. */
static int
create_target(struct mirror *m, const struct mtopic *mt)
{
	struct kp_create_topics_req req;
	struct kp_create_topics_resp resp;
	struct kp_create_topics_req_creatable_topic ct;
	struct kp_conn *k;
	int16_t v, e;

	if ((k = kp_client_conn(m->dst, kp_client_controller(m->dst))) ==
	    NULL && (k = kp_client_conn(m->dst, -1)) == NULL)
		goto fail;
	if ((v = kp_conn_version(k, KP_API_CREATE_TOPICS, 0, 4)) < 0)
		goto fail;
	kp_create_topics_req_creatable_topic_init(&ct);
	ct.name.ptr = mt->dst;
	ct.name.len = (int32_t)strlen(mt->dst);
	ct.num_partitions = mt->nparts;
	/* before v4 there is no "broker default" (-1) */
	ct.replication_factor = v < 4 ? 1 : -1;
	kp_create_topics_req_init(&req);
	req.topics = &ct;
	req.n_topics = 1;
	req.timeout_ms = m->timeout_ms;
	kp_arena_reset(&m->arena);
	if (kp_conn_exchange(k, KP_API_CREATE_TOPICS, v,
	    &kp_msg_create_topics_req, &req, &kp_msg_create_topics_resp, &resp,
	    &m->arena, &m->body) < 0)
		goto fail;
	e = resp.n_topics == 1 ? resp.topics[0].error_code : KP_INVALID_REQUEST;
	if (e != 0 && e != KP_TOPIC_ALREADY_EXISTS) {
		warnx("target: create topic '%s': %s", mt->dst,
		    kp_kerr_name(e));
		return kp_cli_exit_for(e);
	}
	return 0;
fail:
	warnx("target: create topic '%s': %s", mt->dst,
	    kp_client_error(m->dst));
	return kp_cli_exit_for(kp_client_kerr(m->dst));
}

/*
 * Each target topic exists with at least the source's partitions, so
 * every record can keep its partition.
 */
static int
target_topics(struct mirror *m)
{
	const struct kp_topic_meta *t;
	const char **names;
	size_t i;
	int rc;

	if ((names = calloc(m->nt + 1, sizeof(*names))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < m->nt; i++)
		names[i] = m->t[i].dst;
	if (kp_client_metadata(m->dst, names, m->nt, false) < 0) {
		free(names);
		warnx("target: %s", kp_client_error(m->dst));
		return EX_UNAVAILABLE;
	}
	free(names);
	for (i = 0; i < m->nt; i++) {
		struct mtopic *mt = &m->t[i];

		t = kp_client_topic(m->dst, mt->dst);
		if (t == NULL || t->err == KP_UNKNOWN_TOPIC_OR_PARTITION) {
			if ((rc = create_target(m, mt)) != 0)
				return rc;
		}
		if ((t = kp_client_topic_wait(m->dst, mt->dst, false)) ==
		    NULL) {
			warnx("target: %s", kp_client_error(m->dst));
			return kp_cli_exit_for(kp_client_kerr(m->dst));
		}
		if (t->nparts < mt->nparts) {
			warnx("target: topic '%s' has %d partitions, fewer "
			    "than the %d of source topic '%s': add partitions "
			    "to it first", mt->dst, t->nparts, mt->nparts,
			    mt->src);
			return EX_DATAERR;
		}
	}
	return 0;
}

/* --- the group's checkpoint on the source -------------------------------- */

/* The source coordinator of the group, found again after errors. */
static struct kp_conn *
coordinator(struct mirror *m)
{
	struct kp_find_coordinator_req rq;
	struct kp_find_coordinator_resp rs;
	struct kp_conn *k;
	int16_t v;

	if (m->coord != NULL)
		return m->coord;
	if ((k = kp_client_conn(m->src, -1)) == NULL ||
	    (v = kp_conn_version(k, KP_API_FIND_COORDINATOR, 0, 2)) < 0)
		return NULL;
	kp_find_coordinator_req_init(&rq);
	rq.key.ptr = m->group;
	rq.key.len = (int32_t)strlen(m->group);
	kp_arena_reset(&m->arena);
	if (kp_conn_exchange(k, KP_API_FIND_COORDINATOR, v,
	    &kp_msg_find_coordinator_req, &rq, &kp_msg_find_coordinator_resp,
	    &rs, &m->arena, &m->body) < 0)
		return NULL;
	if (rs.error_code != 0) {
		kp_client_seterr(m->src, rs.error_code, "group '%s': %s",
		    m->group, kp_kerr_name(rs.error_code));
		return NULL;
	}
	if (kp_client_metadata(m->src, NULL, 0, false) == 0 &&
	    (m->coord = kp_client_conn(m->src, rs.node_id)) != NULL)
		return m->coord;
	return m->coord = k;	/* one broker reached by another address */
}

/*
 * One exchange with the group's coordinator at the highest version in
 * [vmin, vmax]; -1 (the error on m->src) when there is none or it fails.
 */
static int
coord_call(struct mirror *m, int16_t api, int16_t vmin, int16_t vmax,
    const struct kp_msg *qm, const void *q, const struct kp_msg *rm, void *r)
{
	struct kp_conn *k;
	int16_t v;

	if ((k = coordinator(m)) == NULL ||
	    (v = kp_conn_version(k, api, vmin, vmax)) < 0)
		return -1;
	kp_arena_reset(&m->arena);
	return kp_conn_exchange(k, api, v, qm, q, rm, r, &m->arena, &m->body);
}

/* The leader of a partition as last known, -1 when none. */
static int32_t
part_leader(const struct kp_client *c, const char *topic, int32_t id)
{
	const struct kp_topic_meta *t = kp_client_topic(c, topic);

	return t && id < t->nparts ? t->parts[id].leader : -1;
}

/* Whether node is not yet among seen[0..*ns); adds it. */
static bool
first_visit(int32_t *seen, size_t *ns, int32_t node)
{
	for (size_t j = 0; j < *ns; j++)
		if (seen[j] == node)
			return false;
	seen[(*ns)++] = node;
	return true;
}

static struct mpart *
find_part(struct mirror *m, const struct kp_str *topic, bool dst, int32_t id)
{
	for (size_t i = 0; i < m->np; i++)
		if (m->p[i].id == id && kp_str_eq(topic, dst ?
		    m->p[i].t->dst : m->p[i].t->src))
			return &m->p[i];
	return NULL;
}

/* The group's committed offsets into next (-1 where none). */
static int
fetch_committed(struct mirror *m)
{
	struct kp_offset_fetch_req rq;
	struct kp_offset_fetch_resp rs;

	kp_offset_fetch_req_init(&rq);
	rq.group_id.ptr = m->group;
	rq.group_id.len = (int32_t)strlen(m->group);
	rq.n_topics = -1;
	for (int attempt = 0;; attempt++) {
		if (coord_call(m, KP_API_OFFSET_FETCH, 2, 5,
		    &kp_msg_offset_fetch_req, &rq, &kp_msg_offset_fetch_resp,
		    &rs) == 0) {
			if (rs.error_code == 0)
				break;
			kp_client_seterr(m->src, rs.error_code,
			    "group '%s': OffsetFetch: %s", m->group,
			    kp_kerr_name(rs.error_code));
		}
		m->coord = NULL;
		if (attempt >= m->retries) {
			warnx("source: %s", kp_client_error(m->src));
			return kp_cli_exit_for(kp_client_kerr(m->src));
		}
		kp_client_backoff(attempt);
	}
	for (int32_t t = 0; t < rs.n_topics; t++)
		for (int32_t j = 0; j < rs.topics[t].n_partitions; j++) {
			const struct kp_offset_fetch_resp_partition *rp =
			    &rs.topics[t].partitions[j];
			struct mpart *p = find_part(m, &rs.topics[t].name,
			    false, rp->partition_index);

			if (p != NULL && rp->error_code == 0 &&
			    rp->committed_offset >= 0)
				p->next = p->committed = rp->committed_offset;
		}
	return 0;
}

/*
 * Where to start: the committed offset, kept inside the log; else the
 * log's start or end (--from). Also after OFFSET_OUT_OF_RANGE (only).
 */
static int
resolve(struct mirror *m, bool only_out_of_range)
{
	int32_t *ids;
	int64_t *lo, *hi;
	size_t i, j, n;

	for (i = 0; i < m->np; i = j) {
		struct mtopic *mt = m->p[i].t;
		bool any = !only_out_of_range;

		for (j = i; j < m->np && m->p[j].t == mt; j++)
			any = any || m->p[j].oor;
		if (!any)
			continue;
		n = j - i;
		ids = calloc(n, sizeof(*ids));
		lo = calloc(n, sizeof(*lo));
		hi = calloc(n, sizeof(*hi));
		if (ids == NULL || lo == NULL || hi == NULL)
			err(EX_OSERR, "calloc");
		for (size_t k = 0; k < n; k++)
			ids[k] = m->p[i + k].id;
		if (kp_client_log_bounds(m->src, mt->src, ids, n, NULL, lo,
		    hi, NULL) < 0) {
			free(ids);
			free(lo);
			free(hi);
			warnx("source: %s", kp_client_error(m->src));
			return kp_cli_exit_for(kp_client_kerr(m->src));
		}
		for (size_t k = 0; k < n; k++) {
			struct mpart *p = &m->p[i + k];

			if (only_out_of_range && !p->oor)
				continue;
			p->oor = false;
			if (p->next < 0)
				p->next = m->from_latest ? hi[k] : lo[k];
			else if (p->next < lo[k]) {
				warnx("source: topic '%s' partition %d: "
				    "offsets %" PRId64 "-%" PRId64 " were "
				    "deleted before they were mirrored",
				    mt->src, p->id, p->next, lo[k] - 1);
				p->next = lo[k];
			} else if (p->next > hi[k]) {
				warnx("source: topic '%s' partition %d: "
				    "offset %" PRId64 " is past the end %"
				    PRId64 ", starting there", mt->src, p->id,
				    p->next, hi[k]);
				p->next = hi[k];
			}
			p->acked = p->next;
			p->hw = -1;
		}
		free(ids);
		free(lo);
		free(hi);
	}
	return 0;
}

/* The first partition's error in a commit's answer, 0 when none. */
static int16_t
commit_error(const struct kp_offset_commit_resp *rs)
{
	for (int32_t t = 0; t < rs->n_topics; t++)
		for (int32_t j = 0; j < rs->topics[t].n_partitions; j++)
			if (rs->topics[t].partitions[j].error_code != 0)
				return rs->topics[t].partitions[j].error_code;
	return 0;
}

/*
 * OffsetCommit outside any generation, as kgroup reset: the group stays
 * empty, which is why only one mirror may use a group at a time.
 */
static int
commit(struct mirror *m)
{
	struct kp_offset_commit_req rq;
	struct kp_offset_commit_resp rs;
	struct kp_offset_commit_req_topic *ts;
	struct kp_offset_commit_req_partition *pp;
	size_t i, nt = 0, np = 0;
	int16_t e = 0;
	bool done = false;
	int rc = 0;

	ts = calloc(m->np + 1, sizeof(*ts));
	pp = calloc(m->np + 1, sizeof(*pp));
	if (ts == NULL || pp == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < m->np; i++) {
		struct mpart *p = &m->p[i];

		if (p->acked <= p->committed)
			continue;
		if (nt == 0 || ts[nt - 1].name.ptr != p->t->src) {
			kp_offset_commit_req_topic_init(&ts[nt]);
			ts[nt].name.ptr = p->t->src;
			ts[nt].name.len = (int32_t)strlen(p->t->src);
			ts[nt].partitions = &pp[np];
			nt++;
		}
		kp_offset_commit_req_partition_init(&pp[np]);
		pp[np].partition_index = p->id;
		pp[np].committed_offset = p->acked;
		pp[np].committed_leader_epoch = -1;
		pp[np].committed_metadata.ptr = "";
		pp[np].committed_metadata.len = 0;
		ts[nt - 1].n_partitions++;
		np++;
	}
	if (np == 0)
		goto out;
	kp_offset_commit_req_init(&rq);
	rq.group_id.ptr = m->group;
	rq.group_id.len = (int32_t)strlen(m->group);
	rq.generation_id_or_member_epoch = -1;
	rq.member_id.ptr = "";
	rq.member_id.len = 0;
	rq.retention_time_ms = -1;
	rq.topics = ts;
	rq.n_topics = (int32_t)nt;
	for (int attempt = 0;; attempt++) {
		e = 0;
		if (coord_call(m, KP_API_OFFSET_COMMIT, 2, 7,
		    &kp_msg_offset_commit_req, &rq, &kp_msg_offset_commit_resp,
		    &rs) == 0) {
			if ((done = (e = commit_error(&rs)) == 0))
				break;
			kp_client_seterr(m->src, e, "group '%s': commit: %s%s",
			    m->group, kp_kerr_name(e),
			    e == KP_UNKNOWN_MEMBER_ID ? " (the group has "
			    "active members: one mirror per group)" : "");
			if (!kp_kerr_retriable(e) &&
			    e != KP_COORDINATOR_LOAD_IN_PROGRESS)
				break;
		}
		m->coord = NULL;
		if (attempt >= m->retries)
			break;
		kp_client_backoff(attempt);
	}
	if (!done) {
		warnx("source: %s", kp_client_error(m->src));
		rc = e == KP_UNKNOWN_MEMBER_ID ? EX_TEMPFAIL :
		    kp_cli_exit_for(kp_client_kerr(m->src));
		goto out;
	}
	for (i = 0; i < m->np; i++)
		m->p[i].committed = m->p[i].acked > m->p[i].committed ?
		    m->p[i].acked : m->p[i].committed;
out:
	free(ts);
	free(pp);
	return rc;
}

/* --- reading the source ------------------------------------------------- */

/* One record into p's batch; -1 when the batch is full (keep it for later). */
static int
copy_record(struct mirror *m, struct mpart *p, const struct kp_record *r)
{
	struct kp_record_header_iter hi;
	size_t n = 0, kv;

	/* null keys and values have length -1 */
	kv = (size_t)(r->key.len > 0 ? r->key.len : 0) +
	    (size_t)(r->value.len > 0 ? r->value.len : 0);
	if (p->bb.count > 0 && kp_batch_builder_size(&p->bb) + kv +
	    r->headers_len > BATCH_MAX)
		return -1;
	if (r->header_count > 0 && (size_t)r->header_count > m->hcap) {
		struct kp_record_header *v = reallocarray(m->hs,
		    (size_t)r->header_count, sizeof(*v));

		if (v == NULL)
			err(EX_OSERR, "reallocarray");
		m->hs = v;
		m->hcap = (size_t)r->header_count;
	}
	kp_record_header_iter_init(&hi, r);
	while (n < (size_t)(r->header_count > 0 ? r->header_count : 0) &&
	    kp_record_header_next(&hi, &m->hs[n]) == 1)
		n++;
	if (kp_batch_builder_add(&p->bb, r->timestamp, r->key.ptr, r->key.len,
	    r->value.ptr, r->value.len, m->hs, n) < 0)
		err(EX_OSERR, "record batch");
	p->next = r->offset + 1;
	kp_progress_add(&m->prog, 1, kv);
	return 0;
}

/* The record batches of one partition's fetch answer. 0 or an exit code. */
static int
take_records(struct mirror *m, struct mpart *p, const uint8_t *buf,
    size_t len)
{
	struct kp_batch_header h;
	struct kp_batch_iter it;
	struct kp_record r;
	ssize_t total;
	int rc;

	while (len > 0) {
		if ((total = kp_batch_header_decode(buf, len, &h)) < 0) {
			/* skipping it would lose records; waiting, hang */
			warnx("source: topic '%s' partition %d offset %" PRId64
			    ": corrupt record batch", p->t->src, p->id,
			    p->next);
			return EX_DATAERR;
		}
		if (total == 0 || (size_t)total > len)
			break;	/* a partial batch ends a fetch answer */
		/* every batch, in order: it follows the ABORT markers */
		if (kp_txn_filter_skip(&m->filter, &h, buf, (size_t)total) ||
		    kp_batch_last_offset(&h) < p->next)
			goto skip;
		if ((rc = kp_batch_iter_init(&it, buf, (size_t)total,
		    MAX_BATCH_INFLATE)) != 0) {
			kp_batch_iter_release(&it);
			warnx("source: topic '%s' partition %d offset %" PRId64
			    ": %s", p->t->src, p->id, h.base_offset,
			    kp_kerr_name((int16_t)rc));
			return EX_DATAERR;
		}
		while ((rc = kp_batch_iter_next(&it, &r)) == 1) {
			if (r.offset < p->next)
				continue;
			if (copy_record(m, p, &r) < 0) {
				kp_batch_iter_release(&it);
				return 0;	/* full: the rest next round */
			}
		}
		kp_batch_iter_release(&it);
		if (rc < 0) {
			warnx("source: topic '%s' partition %d offset %" PRId64
			    ": corrupt record batch", p->t->src, p->id,
			    h.base_offset);
			return EX_DATAERR;
		}
skip:
		/* past control batches and compacted-away offsets too */
		if (kp_batch_next_offset(&h) > p->next) {
			p->next = kp_batch_next_offset(&h);
			/* nothing waits for the target: skipped is done */
			if (p->bb.count == 0)
				p->acked = p->next;
		}
		buf += total;
		len -= (size_t)total;
	}
	return 0;
}

/* One Fetch from a source leader. 0, -1 to retry, or an exit code. */
static int
fetch_from(struct mirror *m, int32_t node, bool *oor)
{
	struct kp_fetch_req req;
	struct kp_fetch_resp resp;
	struct kp_fetch_req_topic *ft;
	struct kp_fetch_req_partition *fp;
	struct kp_conn *k;
	size_t i, n = 0, nt = 0;
	int16_t v;
	int rc = -1;

	if ((k = kp_client_conn(m->src, node)) == NULL ||
	    (v = kp_conn_version(k, KP_API_FETCH, 4, 11)) < 0)
		return -1;
	ft = calloc(m->np, sizeof(*ft));
	fp = calloc(m->np, sizeof(*fp));
	if (ft == NULL || fp == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < m->np; i++) {
		struct mpart *p = &m->p[i];

		if (part_leader(m->src, p->t->src, p->id) != node)
			continue;
		kp_fetch_req_partition_init(&fp[n]);
		fp[n].partition = p->id;
		fp[n].fetch_offset = p->next;
		fp[n].partition_max_bytes = BATCH_MAX;
		if (nt == 0 || ft[nt - 1].topic.ptr != p->t->src) {
			kp_fetch_req_topic_init(&ft[nt]);
			ft[nt].topic.ptr = p->t->src;
			ft[nt].topic.len = (int32_t)strlen(p->t->src);
			ft[nt].partitions = &fp[n];
			nt++;
		}
		ft[nt - 1].n_partitions++;
		n++;
	}
	kp_fetch_req_init(&req);
	req.replica_id = -1;
	req.max_wait_ms = m->exit_at_end ? 100 : 500;
	req.min_bytes = 1;
	req.max_bytes = 64 << 20;
	/* aborted records are no records: copy what consumers would see */
	req.isolation_level = KP_READ_COMMITTED;
	req.topics = ft;
	req.n_topics = (int32_t)nt;
	kp_arena_reset(&m->arena);
	if (n == 0 || kp_conn_exchange(k, KP_API_FETCH, v, &kp_msg_fetch_req,
	    &req, &kp_msg_fetch_resp, &resp, &m->arena, &m->body) < 0)
		goto out;
	if (resp.error_code != 0) {
		kp_client_seterr(m->src, resp.error_code, "fetch: %s",
		    kp_kerr_name(resp.error_code));
		goto out;
	}
	rc = 0;
	for (int32_t t = 0; t < resp.n_responses && rc == 0; t++) {
		const struct kp_fetch_resp_fetchable_topic_response *tr =
		    &resp.responses[t];

		for (int32_t j = 0; j < tr->n_partitions && rc == 0; j++) {
			const struct kp_fetch_resp_partition_data *pd =
			    &tr->partitions[j];
			struct mpart *p = find_part(m, &tr->topic, false,
			    pd->partition_index);

			if (p == NULL)
				continue;
			if (pd->error_code == KP_OFFSET_OUT_OF_RANGE) {
				p->oor = true;	/* resolve() looks again */
				*oor = true;
				continue;
			}
			if (pd->error_code != 0) {
				kp_client_seterr(m->src, pd->error_code,
				    "topic '%s' partition %d: %s", p->t->src,
				    p->id, kp_kerr_name(pd->error_code));
				if (!kp_kerr_retriable(pd->error_code)) {
					warnx("source: %s",
					    kp_client_error(m->src));
					rc = kp_cli_exit_for(pd->error_code);
				} else
					rc = -1;
				continue;
			}
			/* caught up means at the last stable offset */
			p->hw = pd->last_stable_offset >= 0 ?
			    pd->last_stable_offset : pd->high_watermark;
			if (kp_txn_filter_set(&m->filter,
			    pd->aborted_transactions,
			    pd->n_aborted_transactions) < 0)
				err(EX_OSERR, "fetch");
			if (pd->records.len > 0)
				rc = take_records(m, p, pd->records.ptr,
				    (size_t)pd->records.len);
		}
	}
out:
	free(ft);
	free(fp);
	return rc;
}

/* Fetch once from every source leader. 0 or an exit code. */
static int
fetch_round(struct mirror *m)
{
	int32_t *seen;
	size_t i, ns;
	bool oor = false;
	int rc = 0;

	if ((seen = calloc(m->np + 1, sizeof(*seen))) == NULL)
		err(EX_OSERR, "calloc");
	for (int attempt = 0;; attempt++) {
		bool retry = false;

		ns = 0;
		for (i = 0; i < m->np && rc == 0; i++) {
			int32_t leader = part_leader(m->src, m->p[i].t->src,
			    m->p[i].id);

			if (leader < 0) {
				retry = true;
				continue;
			}
			if (!first_visit(seen, &ns, leader))
				continue;
			if ((rc = fetch_from(m, leader, &oor)) < 0) {
				retry = true;
				rc = 0;
			}
		}
		if (rc > 0 || !retry)
			break;
		if (attempt >= m->retries) {
			warnx("source: %s", kp_client_error(m->src));
			rc = kp_cli_exit_for(kp_client_kerr(m->src));
			if (rc == EX_DATAERR)
				rc = EX_UNAVAILABLE;
			break;
		}
		/* what was copied so far stays; fetch the rest again */
		kp_client_backoff(attempt);
		if (kp_client_metadata(m->src, NULL, 0, false) < 0)
			continue;
		if (stopping)
			break;
	}
	free(seen);
	if (rc == 0 && oor)
		rc = resolve(m, true);
	return rc;
}

/* --- writing the target -------------------------------------------------- */

static int32_t
target_leader(struct mirror *m, const struct mpart *p)
{
	return part_leader(m->dst, p->t->dst, p->id);
}

/* One Produce (acks=all) to a target leader. 0, -1 to retry, or exit code. */
static int
produce_to(struct mirror *m, int32_t node)
{
	struct kp_produce_req req;
	struct kp_produce_resp resp;
	struct kp_produce_req_topic_produce_data *td;
	struct kp_produce_req_partition_produce_data *pd;
	struct kp_conn *k;
	size_t i, n = 0, nt = 0;
	int16_t v;
	int rc = -1;

	if ((k = kp_client_conn(m->dst, node)) == NULL ||
	    (v = kp_conn_version(k, KP_API_PRODUCE, 3, 7)) < 0)
		return -1;
	td = calloc(m->np, sizeof(*td));
	pd = calloc(m->np, sizeof(*pd));
	if (td == NULL || pd == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < m->np; i++) {
		struct mpart *p = &m->p[i];

		if (!p->pending || target_leader(m, p) != node)
			continue;
		kp_produce_req_partition_produce_data_init(&pd[n]);
		pd[n].index = p->id;
		pd[n].records.ptr = m->out.data + p->off;
		pd[n].records.len = (int32_t)p->len;
		if (nt == 0 || td[nt - 1].name.ptr != p->t->dst) {
			kp_produce_req_topic_produce_data_init(&td[nt]);
			td[nt].name.ptr = p->t->dst;
			td[nt].name.len = (int32_t)strlen(p->t->dst);
			td[nt].partition_data = &pd[n];
			nt++;
		}
		td[nt - 1].n_partition_data++;
		n++;
	}
	kp_produce_req_init(&req);
	req.acks = -1;
	req.timeout_ms = m->timeout_ms;
	req.topic_data = td;
	req.n_topic_data = (int32_t)nt;
	kp_arena_reset(&m->arena);
	if (n == 0 || kp_conn_exchange(k, KP_API_PRODUCE, v,
	    &kp_msg_produce_req, &req, &kp_msg_produce_resp, &resp, &m->arena,
	    &m->body) < 0)
		goto out;
	rc = 0;
	for (int32_t t = 0; t < resp.n_responses; t++) {
		const struct kp_produce_resp_topic_produce_response *tr =
		    &resp.responses[t];

		for (int32_t j = 0; j < tr->n_partition_responses; j++) {
			const struct kp_produce_resp_partition_produce_response
			    *pr = &tr->partition_responses[j];
			struct mpart *p = find_part(m, &tr->name, true,
			    pr->index);

			if (p == NULL || !p->pending)
				continue;
			if (pr->error_code == 0) {
				p->pending = false;
				/* all before next is copied or skipped */
				p->acked = p->next;
				continue;
			}
			kp_client_seterr(m->dst, pr->error_code,
			    "topic '%s' partition %d: %s", p->t->dst, p->id,
			    kp_kerr_name(pr->error_code));
			if (kp_kerr_retriable(pr->error_code)) {
				if (rc == 0)
					rc = -1;
				continue;
			}
			warnx("target: %s", kp_client_error(m->dst));
			rc = kp_cli_exit_for(pr->error_code);
		}
	}
out:
	free(td);
	free(pd);
	return rc;
}

/*
 * Send every partition's batch and wait until the target acknowledged
 * all of them (retrying what may pass). 0 or an exit code.
 */
static int
produce_round(struct mirror *m)
{
	int32_t *seen;
	size_t i, ns, left;
	int rc = 0;

	kp_buf_reset(&m->out);
	for (i = 0, left = 0; i < m->np; i++) {
		struct mpart *p = &m->p[i];

		if (p->bb.count == 0)
			continue;
		p->off = m->out.len;
		if (kp_batch_builder_finish(&p->bb, &m->out) < 0)
			err(EX_OSERR, "record batch");
		p->len = m->out.len - p->off;
		kp_batch_builder_reset(&p->bb);
		p->pending = true;
		left++;
	}
	if (left == 0)
		return 0;
	if ((seen = calloc(m->np + 1, sizeof(*seen))) == NULL)
		err(EX_OSERR, "calloc");
	for (int attempt = 0;; attempt++) {
		ns = 0;
		for (i = 0; i < m->np && rc == 0; i++) {
			int32_t leader;

			if (!m->p[i].pending)
				continue;
			if ((leader = target_leader(m, &m->p[i])) < 0) {
				kp_client_seterr(m->dst,
				    KP_LEADER_NOT_AVAILABLE, "topic '%s' "
				    "partition %d: no leader", m->p[i].t->dst,
				    m->p[i].id);
				continue;
			}
			if (!first_visit(seen, &ns, leader))
				continue;
			if ((rc = produce_to(m, leader)) < 0)
				rc = 0;	/* still pending: retried below */
		}
		if (rc != 0)
			break;
		for (i = 0, left = 0; i < m->np; i++)
			left += m->p[i].pending;
		if (left == 0)
			break;
		if (attempt >= m->retries) {
			warnx("target: %s", kp_client_error(m->dst));
			rc = kp_cli_exit_for(kp_client_kerr(m->dst));
			if (rc == EX_DATAERR || rc == EX_TEMPFAIL)
				rc = EX_UNAVAILABLE;
			break;
		}
		kp_client_backoff(attempt);
		(void)kp_client_metadata(m->dst, NULL, 0, false);
	}
	free(seen);
	return rc;
}

/* --- the loop ---------------------------------------------------------- */

static bool
caught_up(const struct mirror *m)
{
	for (size_t i = 0; i < m->np; i++)
		if (m->p[i].hw < 0 || m->p[i].next < m->p[i].hw)
			return false;
	return true;
}

static void
setup_parts(struct mirror *m)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < m->nt; i++)
		n += (size_t)m->t[i].nparts;
	if ((m->p = calloc(n + 1, sizeof(*m->p))) == NULL)
		err(EX_OSERR, "calloc");
	for (size_t i = 0; i < m->nt; i++)
		for (int32_t j = 0; j < m->t[i].nparts; j++, k++) {
			struct mpart *p = &m->p[k];

			p->t = &m->t[i];
			p->id = j;
			p->next = p->acked = p->committed = p->hw = -1;
			kp_batch_builder_init(&p->bb, KP_CODEC_NONE, -1, -1,
			    -1);
		}
	m->np = n;
}

static int
run(struct mirror *m)
{
	char line[256];
	int rc;

	setup_parts(m);
	if ((rc = fetch_committed(m)) != 0 || (rc = resolve(m, false)) != 0)
		return rc;
	while (!stopping) {
		if ((rc = fetch_round(m)) != 0)
			break;
		/*
		 * A signal now still lets this round's records through. When
		 * the target fails, what it did acknowledge is committed all
		 * the same, so a restart copies no more than it must.
		 */
		if ((rc = produce_round(m)) != 0) {
			(void)commit(m);
			break;
		}
		if ((rc = commit(m)) != 0)
			break;
		if (kp_progress_tick(&m->prog, line, sizeof(line)))
			fprintf(stderr, "\r%s", line);
		if (m->exit_at_end && caught_up(m))
			break;
	}
	if (rc == 0 && m->prog.on) {
		kp_progress_summary(&m->prog, line, sizeof(line));
		fprintf(stderr, "\r%s\n", line);
	}
	return rc;
}

static void
mirror_release(struct mirror *m)
{
	for (size_t i = 0; i < m->np; i++)
		kp_batch_builder_release(&m->p[i].bb);
	free(m->p);
	for (size_t i = 0; i < m->nt; i++) {
		free(m->t[i].src);
		free(m->t[i].dst);
	}
	free(m->t);
	free(m->hs);
	kp_txn_filter_release(&m->filter);
	kp_arena_release(&m->arena);
	kp_buf_release(&m->body);
	kp_buf_release(&m->out);
	kp_client_free(m->dst);
}

int
kr_mirror(struct kr *kr, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "broker",	required_argument, NULL, 'b' },
		{ "exit",	no_argument,	   NULL, 'e' },
		{ "from",	required_argument, NULL, OPT_FROM },
		{ "group",	required_argument, NULL, OPT_GROUP },
		{ "pattern",	required_argument, NULL, OPT_PATTERN },
		{ "prefix",	required_argument, NULL, OPT_PREFIX },
		{ "to",		required_argument, NULL, OPT_TO },
		{ NULL, 0, NULL, 0 }
	};
	struct mirror m;
	struct kp_cli_global tg;
	struct sigaction sa;
	regex_t *re;
	const char *to = NULL, *prefix = NULL, *src;
	char **pats = NULL, why[512];
	size_t npat = 0;
	int ch, rc;

	memset(&m, 0, sizeof(m));
	m.group = DEFAULT_GROUP;
	while ((ch = getopt_long(argc, argv, "b:e", lo, NULL)) != -1) {
		switch (ch) {
		case 'b':
			kr->g.brokers = optarg;
			break;
		case 'e':
			m.exit_at_end = true;
			break;
		case OPT_FROM:
			if (strcmp(optarg, "earliest") == 0)
				m.from_latest = false;
			else if (strcmp(optarg, "latest") == 0)
				m.from_latest = true;
			else
				errx(EX_USAGE, "--from '%s': earliest or "
				    "latest", optarg);
			break;
		case OPT_GROUP:
			if (*optarg == '\0')
				errx(EX_USAGE, "--group: empty name");
			m.group = optarg;
			break;
		case OPT_PATTERN:
			if ((pats = reallocarray(pats, npat + 1,
			    sizeof(*pats))) == NULL)
				err(EX_OSERR, "reallocarray");
			pats[npat++] = optarg;
			break;
		case OPT_PREFIX:
			prefix = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		default:
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (to == NULL)
		errx(EX_USAGE, "mirror: --to names the target cluster");
	if (argc == 0 && npat == 0)
		errx(EX_USAGE, "mirror: no topic or --pattern");
	/* the same addresses and names: every copy would be copied again */
	src = kr->g.brokers ? kr->g.brokers : getenv("KPIPE_BROKERS");
	if ((prefix == NULL || *prefix == '\0') && src != NULL &&
	    strcmp(src, to) == 0)
		errx(EX_USAGE, "mirror: source and target are the same; "
		    "use --prefix");
	re = compile_patterns(pats, npat);
	m.retries = 5;
	m.timeout_ms = kr->g.timeout_ms;
	if ((kr->c = kp_cli_client_new(&kr->g, "kreplicate", why,
	    sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "source: %s", why);
	m.src = kr->c;
	kp_client_set_isolation(m.src, KP_READ_COMMITTED);
	kp_txn_filter_init(&m.filter);
	tg = kr->g;
	tg.brokers = to;
	if ((m.dst = kp_cli_client_new(&tg, "kreplicate", why,
	    sizeof(why))) == NULL)
		errx(EX_UNAVAILABLE, "target: %s", why);
	kp_arena_init(&m.arena);
	kp_buf_init(&m.body);
	kp_buf_init(&m.out);
	kp_progress_init(&m.prog, isatty(2));
	for (int i = 0; i < argc; i++)
		add_topic(&m, argv[i], prefix);
	match_topics(&m, re, npat, prefix);
	for (size_t k = 0; k < npat; k++)
		regfree(&re[k]);
	free(re);
	free(pats);
	if (m.nt == 0) {
		warnx("mirror: no source topic matches");
		rc = EX_DATAERR;
		goto out;
	}
	if ((rc = source_topics(&m)) != 0 || (rc = target_topics(&m)) != 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = run(&m);
out:
	mirror_release(&m);
	return rc;
}
