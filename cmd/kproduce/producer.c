/* producer.c -- kproduce's batching, partitioning and delivery engine */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_part.h"
#include "kp_proto_admin.h"
#include "kp_proto_produce.h"
#include "kp_txn.h"
#include "producer.h"

#define MAX_INFLIGHT	5		/* requests per connection */
/*
 * Sealed bytes before reading stops: enough to keep every request slot
 * full, few enough that batches are sent while still in the CPU's cache
 * and their memory is reused hot (1 M lines took a third longer with 64
 * MiB than with 8).
 */
#define MIN_BUFFERED	(8u << 20)
#define LAT_BUCKETS	60000		/* ms */
#define MAX_SPARE	16		/* acked batches kept for reuse */

struct pbatch {
	TAILQ_ENTRY(pbatch)	 link;
	struct ppart		*pp;
	struct kp_buf		 data;
	int32_t			 count;
	int32_t			 base_seq;
	int			 attempts;
	int64_t			 first_ms;	/* first record queued */
	uint64_t		 bytes;		/* key + value bytes */
};

TAILQ_HEAD(pbatchq, pbatch);

struct ppart {
	struct ptopic		*pt;
	int32_t			 id;
	struct kp_batch_builder	 bb;
	int64_t			 open_ms;	/* first record of open batch */
	uint64_t		 open_bytes;
	int32_t			 next_seq;
	struct pbatchq		 ready;		/* sealed, by sequence */
	int			 inflight;	/* batches sent, unanswered */
	int64_t			 retry_at;	/* no resend before (ms) */
	bool			 in_txn;	/* added to the transaction */
};

struct ptopic {
	char			*name;
	int32_t			 nparts;
	struct ppart		*parts;
	struct kp_part_sticky	 sticky;
};

struct preq {
	struct producer	*p;
	size_t		 n;
	struct pbatch	*b[];
};

struct producer {
	struct kp_client	*c;
	struct producer_opts	 o;
	struct ptopic		*topics;
	size_t			 ntopics;
	int64_t			 pid;
	int16_t			 epoch;
	size_t			 buffered;	/* bytes sealed, not acked */
	size_t			 max_buffered;
	size_t			 nready;	/* sealed batches not sent */
	size_t			 inflight;	/* batches in flight */
	struct pbatchq		 spare;		/* acked, memory kept */
	size_t			 nspare;
	bool			 meta_stale;
	int64_t			 stall_since;
	int			 fatal;
	bool			 txn_on;
	struct kp_txn		 txn;
	struct producer_stats	 st;
};

static void	fail_batch(struct producer *, struct pbatch *, int16_t,
		    const char *);

static int
init_pid(struct producer *p, char *why, size_t whylen)
{
	struct kp_init_producer_id_req req;
	struct kp_init_producer_id_resp resp;
	struct kp_arena arena;
	struct kp_buf body, *b;
	struct kp_conn *k;
	int16_t v;
	int rc = -1;

	if ((k = kp_client_conn(p->c, -1)) == NULL) {
		snprintf(why, whylen, "%s", kp_client_error(p->c));
		return -1;
	}
	if ((v = kp_conn_version(k, KP_API_INIT_PRODUCER_ID, 0, 1)) < 0) {
		/* a broker without producer ids: plain retries, as before 0.11 */
		p->o.idempotent = false;
		return 0;
	}
	kp_init_producer_id_req_init(&req);
	req.transactional_id.ptr = NULL;
	req.transactional_id.len = -1;
	req.transaction_timeout_ms = 60000;
	kp_buf_init(&body);
	kp_arena_init(&arena);
	if ((b = kp_conn_request_begin(k, KP_API_INIT_PRODUCER_ID, v)) ==
	    NULL)
		goto out;
	kp_init_producer_id_req_encode(b, v, &req);
	if (kp_conn_call(k, &body) < 0) {
		snprintf(why, whylen, "%s", kp_client_error(p->c));
		goto out;
	}
	kp_init_producer_id_resp_init(&resp);
	if (kp_init_producer_id_resp_decode(body.data, body.len, v, &resp,
	    &arena) < 0) {
		snprintf(why, whylen, "malformed InitProducerId response");
		goto out;
	}
	if (resp.error_code != 0) {
		snprintf(why, whylen, "InitProducerId: %s",
		    kp_kerr_name(resp.error_code));
		goto out;
	}
	p->pid = resp.producer_id;
	p->epoch = resp.producer_epoch;
	rc = 0;
out:
	kp_arena_release(&arena);
	kp_buf_release(&body);
	return rc;
}

struct producer *
producer_new(struct kp_client *c, const struct producer_opts *o, char *why,
    size_t whylen)
{
	struct producer *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	p->c = c;
	p->o = *o;
	TAILQ_INIT(&p->spare);
	p->max_buffered = 2 * MAX_INFLIGHT * o->batch_size;
	if (p->max_buffered < MIN_BUFFERED)
		p->max_buffered = MIN_BUFFERED;
	p->pid = -1;
	p->epoch = -1;
	if (o->acks != -1)
		p->o.idempotent = false;	/* Kafka needs acks=all for it */
	if (o->txn_id != NULL) {
		/* transactions ride on the idempotent producer's ids */
		p->txn_on = p->o.idempotent = true;
		if (kp_txn_init(&p->txn, c, o->txn_id, o->txn_timeout_ms) < 0) {
			snprintf(why, whylen, "%s", kp_client_error(c));
			kp_txn_release(&p->txn);
			free(p);
			return NULL;
		}
		p->pid = p->txn.pid;
		p->epoch = p->txn.epoch;
	} else if (p->o.idempotent && init_pid(p, why, whylen) < 0) {
		free(p);
		return NULL;
	}
	if (o->latency &&
	    (p->st.lat_hist = calloc(LAT_BUCKETS, sizeof(uint64_t))) == NULL) {
		free(p);
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	return p;
}

static void
batch_free(struct pbatch *b)
{
	if (b == NULL)
		return;
	kp_buf_release(&b->data);
	free(b);
}

/*
 * Keep a done batch's memory for the next one: a fresh buffer of a batch's
 * size costs a page fault per page, more than the copy that fills it.
 */
static void
batch_done(struct producer *p, struct pbatch *b)
{
	if (p->nspare >= MAX_SPARE) {
		batch_free(b);
		return;
	}
	kp_buf_reset(&b->data);
	TAILQ_INSERT_HEAD(&p->spare, b, link);
	p->nspare++;
}

static struct pbatch *
batch_new(struct producer *p)
{
	struct pbatch *b;
	struct kp_buf data;

	if ((b = TAILQ_FIRST(&p->spare)) != NULL) {
		TAILQ_REMOVE(&p->spare, b, link);
		p->nspare--;
		data = b->data;
		memset(b, 0, sizeof(*b));
		b->data = data;
		return b;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	kp_buf_init(&b->data);
	return b;
}

void
producer_free(struct producer *p)
{
	struct pbatch *b;
	size_t i;
	int32_t j;

	if (p == NULL)
		return;
	while ((b = TAILQ_FIRST(&p->spare)) != NULL) {
		TAILQ_REMOVE(&p->spare, b, link);
		batch_free(b);
	}
	for (i = 0; i < p->ntopics; i++) {
		for (j = 0; j < p->topics[i].nparts; j++) {
			struct ppart *pp = &p->topics[i].parts[j];

			while ((b = TAILQ_FIRST(&pp->ready)) != NULL) {
				TAILQ_REMOVE(&pp->ready, b, link);
				batch_free(b);
			}
			kp_batch_builder_release(&pp->bb);
		}
		free(p->topics[i].parts);
		free(p->topics[i].name);
	}
	free(p->topics);
	free(p->st.lat_hist);
	if (p->txn_on)
		kp_txn_release(&p->txn);
	free(p);
}

bool
producer_in_txn(const struct producer *p)
{
	return p->txn_on && kp_txn_open(&p->txn);
}

struct kp_client *
producer_client(const struct producer *p)
{
	return p->c;
}

const struct producer_stats *
producer_stats(const struct producer *p)
{
	return &p->st;
}

static struct ptopic *
get_topic(struct producer *p, const char *name, char *why, size_t whylen)
{
	const struct kp_topic_meta *t;
	struct ptopic *v, *pt;
	size_t i;
	int32_t j;

	for (i = 0; i < p->ntopics; i++)
		if (strcmp(p->topics[i].name, name) == 0)
			return &p->topics[i];
	if ((t = kp_client_topic_wait(p->c, name, p->o.auto_create)) ==
	    NULL) {
		snprintf(why, whylen, "%s", kp_client_error(p->c));
		p->st.last_kerr = kp_client_kerr(p->c);
		return NULL;
	}
	if ((v = reallocarray(p->topics, p->ntopics + 1, sizeof(*v))) == NULL)
		goto nomem;
	p->topics = v;
	pt = &p->topics[p->ntopics];
	memset(pt, 0, sizeof(*pt));
	if ((pt->name = strdup(name)) == NULL ||
	    (pt->parts = calloc((size_t)t->nparts, sizeof(*pt->parts))) ==
	    NULL) {
		free(pt->name);
		goto nomem;
	}
	pt->nparts = t->nparts;
	kp_part_sticky_init(&pt->sticky, t->nparts, 0);
	for (j = 0; j < t->nparts; j++) {
		struct ppart *pp = &pt->parts[j];

		pp->id = j;
		TAILQ_INIT(&pp->ready);
		kp_batch_builder_init(&pp->bb, p->o.codec, p->pid, p->epoch,
		    -1);
		if (p->txn_on)
			pp->bb.attributes |= KP_BATCH_ATTR_TRANSACTIONAL;
	}
	p->ntopics++;
	/* the array moved: re-point the partitions at their topics */
	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++)
			p->topics[i].parts[j].pt = &p->topics[i];
	return pt;
nomem:
	snprintf(why, whylen, "%s", strerror(ENOMEM));
	return NULL;
}

int32_t
producer_partitions(struct producer *p, const char *topic, char *why,
    size_t whylen)
{
	struct ptopic *pt = get_topic(p, topic, why, whylen);

	return pt ? pt->nparts : -1;
}

/* Close the open batch of pp and queue it for sending. */
static int
seal(struct producer *p, struct ppart *pp)
{
	struct pbatch *b;

	if (pp->bb.count == 0)
		return 0;
	if ((b = batch_new(p)) == NULL)
		return -1;
	b->pp = pp;
	b->count = pp->bb.count;
	b->first_ms = pp->open_ms;
	b->bytes = pp->open_bytes;
	if (p->o.idempotent) {
		b->base_seq = pp->next_seq;
		pp->bb.base_sequence = pp->next_seq;
		pp->next_seq += b->count;
	} else
		b->base_seq = -1;
	if (kp_batch_builder_finish(&pp->bb, &b->data) < 0 || b->data.err) {
		batch_free(b);
		return -1;
	}
	kp_batch_builder_reset(&pp->bb);
	TAILQ_INSERT_TAIL(&pp->ready, b, link);
	p->buffered += b->data.len;
	p->nready++;
	if (pp->pt->sticky.cur == pp->id)
		kp_part_sticky_done(&pp->pt->sticky);
	return 0;
}

int
producer_add(struct producer *p, const char *topic, int32_t part, int64_t ts,
    const void *key, ssize_t klen, const void *val, ssize_t vlen,
    const struct kp_record_header *h, size_t nh, char *why, size_t whylen)
{
	struct ptopic *pt;
	struct ppart *pp;

	p->st.queued++;
	if ((pt = get_topic(p, topic, why, whylen)) == NULL)
		goto fail;
	if (part >= pt->nparts) {
		snprintf(why, whylen, "topic '%s' partition %d: "
		    "UNKNOWN_TOPIC_OR_PARTITION (the topic has %d)", topic,
		    part, pt->nparts);
		p->st.last_kerr = KP_UNKNOWN_TOPIC_OR_PARTITION;
		goto fail;
	}
	if (part < 0)
		part = klen >= 0 ? kp_part_for_key(key, (size_t)klen,
		    pt->nparts) : kp_part_sticky_get(&pt->sticky);
	pp = &pt->parts[part];
	if (pp->bb.count == 0) {
		pp->open_ms = kp_mono_ms();
		pp->open_bytes = 0;
	}
	if (kp_batch_builder_add(&pp->bb, ts, key, klen, val, vlen, h, nh) <
	    0) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	pp->open_bytes += (uint64_t)(klen > 0 ? klen : 0) +
	    (uint64_t)(vlen > 0 ? vlen : 0);
	if (kp_batch_builder_size(&pp->bb) >= p->o.batch_size &&
	    seal(p, pp) < 0) {
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		return -1;	/* counted when the builder's records fail */
	}
	return 0;
fail:
	p->st.failed++;
	strlcpy(p->st.last_err, why, sizeof(p->st.last_err));
	return -1;
}

static void
note_latency(struct producer *p, const struct pbatch *b)
{
	uint64_t ms = (uint64_t)(kp_mono_ms() - b->first_ms);

	if (p->st.lat_hist == NULL)
		return;
	p->st.lat_hist[ms < LAT_BUCKETS ? ms : LAT_BUCKETS - 1] +=
	    (uint64_t)b->count;
	p->st.lat_n += (size_t)b->count;
	p->st.lat_sum += (double)ms * b->count;
	if (ms > p->st.lat_max)
		p->st.lat_max = ms;
}

static void
ack_batch(struct producer *p, struct pbatch *b, int64_t base)
{
	int32_t i;

	p->st.acked += (uint64_t)b->count;
	p->st.bytes_acked += b->bytes;
	note_latency(p, b);
	if (p->o.offsets_out != NULL) {
		for (i = 0; i < b->count; i++) {
			fputs("{\"topic\":", p->o.offsets_out);
			/* topic names are [a-zA-Z0-9._-]: no escaping */
			fprintf(p->o.offsets_out, "\"%s\",\"partition\":%d,"
			    "\"offset\":%" PRId64 "}\n", b->pp->pt->name,
			    b->pp->id, base < 0 ? (int64_t)-1 : base + i);
		}
		/* scripts read these as they come, not at exit */
		fflush(p->o.offsets_out);
	}
	p->buffered -= b->data.len;
	batch_done(p, b);
}

static void
fail_batch(struct producer *p, struct pbatch *b, int16_t kerr,
    const char *why)
{
	p->st.failed += (uint64_t)b->count;
	p->st.last_kerr = kerr;
	if (p->txn_on && kp_txn_kerr_fatal(kerr))
		p->txn.fatal = kerr;	/* fenced: no abort possible either */
	snprintf(p->st.last_err, sizeof(p->st.last_err),
	    "topic '%s' partition %d: %s", b->pp->pt->name, b->pp->id, why);
	p->buffered -= b->data.len;
	batch_done(p, b);
}

/* Put a batch back for another try, keeping sequence order. */
static void
requeue(struct producer *p, struct pbatch *b, int16_t kerr, const char *why)
{
	struct pbatch *x;

	if (++b->attempts > p->o.retries) {
		fail_batch(p, b, kerr, why);
		return;
	}
	p->meta_stale = true;
	/*
	 * Pause before sending it again: a broker that answers "no leader"
	 * at once would otherwise use up every retry in a few ms, long
	 * before a new leader (or a just-created topic) is known.
	 */
	b->pp->retry_at = kp_mono_ms() + kp_client_backoff_ms(b->attempts - 1);
	TAILQ_FOREACH(x, &b->pp->ready, link)
		if (x->base_seq > b->base_seq)
			break;
	if (x != NULL)
		TAILQ_INSERT_BEFORE(x, b, link);
	else
		TAILQ_INSERT_TAIL(&b->pp->ready, b, link);
	p->nready++;
}

static void
produce_cb(void *arg, struct kp_conn *k, int16_t api, int16_t ver,
    const uint8_t *body, size_t len, int err)
{
	struct preq *r = arg;
	struct producer *p = r->p;
	struct kp_produce_resp resp;
	struct kp_arena arena;
	size_t i;
	int32_t t, j;

	(void)k, (void)api;
	for (i = 0; i < r->n; i++) {
		r->b[i]->pp->inflight--;
		p->inflight--;
	}
	kp_arena_init(&arena);
	kp_produce_resp_init(&resp);
	if (body == NULL || kp_produce_resp_decode(body, len, ver, &resp,
	    &arena) < 0) {
		const char *why = body == NULL ? strerror(err) :
		    "malformed Produce response";

		for (i = 0; i < r->n; i++)
			requeue(p, r->b[i], KP_NETWORK_EXCEPTION, why);
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		struct pbatch *b = r->b[i];
		const struct kp_produce_resp_partition_produce_response *pr =
		    NULL;
		int16_t e;

		for (t = 0; t < resp.n_responses && pr == NULL; t++) {
			if (!kp_str_eq(&resp.responses[t].name, b->pp->pt->name))
				continue;
			for (j = 0; j < resp.responses[t].n_partition_responses;
			    j++)
				if (resp.responses[t].partition_responses[j]
				    .index == b->pp->id)
					pr = &resp.responses[t]
					    .partition_responses[j];
		}
		if (pr == NULL) {
			requeue(p, b, KP_UNKNOWN_SERVER_ERROR,
			    "no answer for the partition");
			continue;
		}
		e = pr->error_code;
		if (e == 0 || e == KP_DUPLICATE_SEQUENCE_NUMBER)
			ack_batch(p, b, pr->base_offset);
		else if (kp_kerr_retriable(e) ||
		    e == KP_OUT_OF_ORDER_SEQUENCE_NUMBER)
			requeue(p, b, e, kp_kerr_name(e));
		else
			fail_batch(p, b, e, kp_kerr_name(e));
	}
out:
	kp_arena_release(&arena);
	free(r);
}

/* One Produce request to conn k with the first ready batch of each of parts. */
static int
send_request(struct producer *p, struct kp_conn *k, struct ppart **parts,
    size_t n)
{
	struct kp_produce_req req;
	struct kp_produce_req_topic_produce_data *td;
	struct kp_produce_req_partition_produce_data *pd;
	struct kp_buf *out;
	struct preq *r;
	size_t i, nt = 0;
	int16_t v;

	if ((v = kp_conn_version(k, KP_API_PRODUCE, 3, 7)) < 0)
		return -1;
	r = calloc(1, sizeof(*r) + n * sizeof(r->b[0]));
	td = calloc(n, sizeof(*td));
	pd = calloc(n, sizeof(*pd));
	if (r == NULL || td == NULL || pd == NULL)
		goto nomem;
	r->p = p;
	r->n = n;
	for (i = 0; i < n; i++) {
		struct pbatch *b = TAILQ_FIRST(&parts[i]->ready);
		size_t t;

		TAILQ_REMOVE(&parts[i]->ready, b, link);
		p->nready--;
		r->b[i] = b;
		kp_produce_req_partition_produce_data_init(&pd[i]);
		pd[i].index = parts[i]->id;
		pd[i].records.ptr = b->data.data;
		pd[i].records.len = (int32_t)b->data.len;
		/* parts arrive grouped by topic */
		if (nt == 0 || td[nt - 1].name.ptr != parts[i]->pt->name) {
			t = nt++;
			kp_produce_req_topic_produce_data_init(&td[t]);
			td[t].name.ptr = parts[i]->pt->name;
			td[t].name.len = (int32_t)strlen(parts[i]->pt->name);
			td[t].partition_data = &pd[i];
		}
		td[nt - 1].n_partition_data++;
	}
	kp_produce_req_init(&req);
	req.acks = p->o.acks;
	req.timeout_ms = p->o.timeout_ms;
	req.topic_data = td;
	req.n_topic_data = (int32_t)nt;
	if ((out = kp_conn_request_begin(k, KP_API_PRODUCE, v)) == NULL ||
	    kp_produce_req_encode(out, v, &req) < 0 ||
	    kp_conn_request_end(k, p->o.acks == 0 ? NULL : produce_cb, r) <
	    0) {
		for (i = 0; i < n; i++)
			requeue(p, r->b[i], KP_NETWORK_EXCEPTION,
			    kp_client_error(p->c));
		free(r);
		goto out;
	}
	for (i = 0; i < n; i++) {
		r->b[i]->pp->inflight++;
		p->inflight++;
	}
	if (p->o.acks == 0) {
		/* no answer will come: written is all we learn */
		for (i = 0; i < n; i++) {
			r->b[i]->pp->inflight--;
			p->inflight--;
			ack_batch(p, r->b[i], -1);
		}
		free(r);
	}
out:
	free(td);
	free(pd);
	return 0;
nomem:
	free(r);
	free(td);
	free(pd);
	return -1;
}

static void
refresh(struct producer *p)
{
	const char **names;
	size_t i;

	if (!p->meta_stale || p->ntopics == 0)
		return;
	if ((names = calloc(p->ntopics, sizeof(*names))) == NULL)
		return;
	for (i = 0; i < p->ntopics; i++)
		names[i] = p->topics[i].name;
	if (kp_client_metadata(p->c, names, p->ntopics, false) == 0)
		p->meta_stale = false;
	free(names);
}

/* Fail the unsent batches of pp (a partition the transaction refused). */
static void
fail_part(struct producer *p, struct ppart *pp, int16_t kerr, const char *why)
{
	struct pbatch *b;

	while ((b = TAILQ_FIRST(&pp->ready)) != NULL) {
		TAILQ_REMOVE(&pp->ready, b, link);
		p->nready--;
		fail_batch(p, b, kerr, why);
	}
}

/*
 * Partitions with batches ready join the transaction before their first
 * Produce, all in one AddPartitionsToTxn. -1 when it failed: their
 * batches fail with its error (retriable ones were retried already).
 */
static int
join_txn(struct producer *p)
{
	const char **topics;
	int32_t *ids, j;
	size_t i, n = 0, cap = 0;
	int rc = 0;

	for (i = 0; i < p->ntopics; i++)
		cap += (size_t)p->topics[i].nparts;
	topics = calloc(cap + 1, sizeof(*topics));
	ids = calloc(cap + 1, sizeof(*ids));
	if (topics == NULL || ids == NULL) {
		rc = -1;
		goto out;
	}
	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++) {
			struct ppart *pp = &p->topics[i].parts[j];

			if (pp->in_txn || TAILQ_EMPTY(&pp->ready))
				continue;
			topics[n] = p->topics[i].name;
			ids[n++] = j;
		}
	if (n == 0)
		goto out;
	rc = kp_txn_add_partitions(&p->txn, topics, ids, n);
	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++) {
			struct ppart *pp = &p->topics[i].parts[j];

			if (pp->in_txn || TAILQ_EMPTY(&pp->ready))
				continue;
			if (kp_txn_has(&p->txn, p->topics[i].name, j))
				pp->in_txn = true;
			else if (rc < 0)
				fail_part(p, pp, kp_client_kerr(p->c),
				    kp_client_error(p->c));
		}
out:
	free(topics);
	free(ids);
	return rc;
}

/* Send ready batches: one request per leader, one batch per partition. */
static void
send_ready(struct producer *p)
{
	const struct kp_topic_meta *tm;
	struct ppart **sel = NULL;
	struct kp_conn *k;
	size_t i, ns, cap = 0;
	int32_t j, leader, *leaders = NULL;
	size_t nl = 0, l;
	int64_t now = kp_mono_ms();

	if (p->nready == 0)
		return;
	refresh(p);
	if (p->txn_on && join_txn(p) < 0)
		return;
	for (i = 0; i < p->ntopics; i++)
		cap += (size_t)p->topics[i].nparts;
	sel = calloc(cap, sizeof(*sel));
	leaders = calloc(cap, sizeof(*leaders));
	if (sel == NULL || leaders == NULL)
		goto out;
	/* the distinct leaders with something ready */
	for (i = 0; i < p->ntopics; i++) {
		tm = kp_client_topic(p->c, p->topics[i].name);
		for (j = 0; j < p->topics[i].nparts; j++) {
			if (TAILQ_EMPTY(&p->topics[i].parts[j].ready) ||
			    p->topics[i].parts[j].retry_at > now)
				continue;
			leader = tm && j < tm->nparts ? tm->parts[j].leader : -1;
			for (l = 0; l < nl && leaders[l] != leader; l++)
				;
			if (l == nl)
				leaders[nl++] = leader;
		}
	}
	for (l = 0; l < nl; l++) {
		if (leaders[l] < 0 ||
		    (k = kp_client_conn(p->c, leaders[l])) == NULL) {
			p->meta_stale = true;
			continue;
		}
		while (kp_conn_inflight(k) < MAX_INFLIGHT) {
			ns = 0;
			for (i = 0; i < p->ntopics; i++) {
				tm = kp_client_topic(p->c, p->topics[i].name);
				for (j = 0; j < p->topics[i].nparts; j++) {
					struct ppart *pp =
					    &p->topics[i].parts[j];

					if (TAILQ_EMPTY(&pp->ready) ||
					    (p->txn_on && !pp->in_txn) ||
					    pp->inflight >= MAX_INFLIGHT ||
					    pp->retry_at > now ||
					    tm == NULL || j >= tm->nparts ||
					    tm->parts[j].leader != leaders[l])
						continue;
					sel[ns++] = pp;
				}
			}
			if (ns == 0 || send_request(p, k, sel, ns) < 0)
				break;
		}
	}
out:
	free(sel);
	free(leaders);
}

/* Seal batches that lingered long enough (or all, when force). */
static void
seal_due(struct producer *p, bool force)
{
	int64_t now = kp_mono_ms();
	size_t i;
	int32_t j;

	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++) {
			struct ppart *pp = &p->topics[i].parts[j];

			if (pp->bb.count > 0 && (force ||
			    now - pp->open_ms >= p->o.linger_ms))
				seal(p, pp);
		}
}

static void
fail_ready(struct producer *p, const char *why)
{
	struct pbatch *b;
	size_t i;
	int32_t j;

	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++) {
			struct ppart *pp = &p->topics[i].parts[j];

			while ((b = TAILQ_FIRST(&pp->ready)) != NULL) {
				TAILQ_REMOVE(&pp->ready, b, link);
				p->nready--;
				fail_batch(p, b, kp_client_kerr(p->c), why);
			}
		}
}

int
producer_service(struct producer *p, int timeout_ms)
{
	int64_t now;

	seal_due(p, false);
	do {
		send_ready(p);
		if (p->inflight == 0 && p->nready > 0) {
			/* nothing could be sent: retry until the timeout */
			now = kp_mono_ms();
			if (p->stall_since == 0)
				p->stall_since = now;
			else if (now - p->stall_since > p->o.timeout_ms) {
				fail_ready(p, kp_client_error(p->c));
				p->stall_since = 0;
				return -1;
			}
			p->meta_stale = true;
			kp_client_backoff(0);
			continue;
		}
		p->stall_since = 0;
		if (kp_client_poll(p->c, p->inflight || !kp_client_idle(p->c) ?
		    timeout_ms : 0) < 0)
			return -1;
		timeout_ms = 100;
	} while (p->buffered > p->max_buffered);
	return 0;
}

bool
producer_busy(const struct producer *p)
{
	size_t i;
	int32_t j;

	if (p->nready > 0 || p->inflight > 0 || !kp_client_idle(p->c))
		return true;
	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++)
			if (p->topics[i].parts[j].bb.count > 0)
				return true;
	return false;
}

int
producer_flush(struct producer *p)
{
	int64_t start = kp_mono_ms();
	int rc = 0;

	seal_due(p, true);
	/* acks=0 requests count as sent once queued: wait until written */
	while (p->nready > 0 || p->inflight > 0 || !kp_client_idle(p->c)) {
		if (producer_service(p, 100) < 0)
			rc = -1;
		if (kp_mono_ms() - start > (int64_t)p->o.timeout_ms *
		    (p->o.retries + 2)) {
			fail_ready(p, "timed out");
			return -1;
		}
		if (rc < 0 && p->inflight == 0)
			break;
	}
	return rc;
}

/* Drop every batch not yet sent, open ones too: they die with the abort. */
static void
discard_unsent(struct producer *p)
{
	struct pbatch *b;
	size_t i;
	int32_t j;

	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++) {
			struct ppart *pp = &p->topics[i].parts[j];

			p->st.discarded += (uint64_t)pp->bb.count;
			kp_batch_builder_reset(&pp->bb);
			while ((b = TAILQ_FIRST(&pp->ready)) != NULL) {
				TAILQ_REMOVE(&pp->ready, b, link);
				p->nready--;
				p->st.discarded += (uint64_t)b->count;
				p->buffered -= b->data.len;
				batch_free(b);
			}
		}
}

/*
 * Wait for the answers to the Produce requests in flight: a marker
 * written before a late batch lands would leave that batch outside the
 * transaction it belongs to.
 */
static void
wait_inflight(struct producer *p)
{
	int64_t start = kp_mono_ms();

	while ((p->inflight > 0 || !kp_client_idle(p->c)) &&
	    kp_mono_ms() - start < (int64_t)p->o.timeout_ms *
	    (p->o.retries + 2)) {
		if (kp_client_poll(p->c, 100) < 0)
			break;
		/* retries of failed batches are not wanted any more */
		discard_unsent(p);
	}
}

static void
unjoin(struct producer *p)
{
	size_t i;
	int32_t j;

	for (i = 0; i < p->ntopics; i++)
		for (j = 0; j < p->topics[i].nparts; j++)
			p->topics[i].parts[j].in_txn = false;
}

int
producer_end(struct producer *p, bool commit, char *why, size_t whylen)
{
	int rc = 0;

	*why = '\0';
	if (!p->txn_on)
		return 0;
	if (commit) {
		producer_flush(p);
		if (p->st.failed > 0) {
			snprintf(why, whylen, "%" PRIu64 " of %" PRIu64
			    " records not delivered: %s", p->st.failed,
			    p->st.queued, p->st.last_err);
			commit = false;
			rc = -1;
		}
	}
	if (!commit) {
		discard_unsent(p);
		wait_inflight(p);
	}
	if (kp_txn_end(&p->txn, commit) < 0) {
		if (rc == 0)
			snprintf(why, whylen, "%s", kp_client_error(p->c));
		rc = -1;
	}
	unjoin(p);
	return rc;
}
