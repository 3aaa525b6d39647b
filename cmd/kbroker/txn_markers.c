/* txn_markers.c -- the coordinator's WriteTxnMarkers to partitions another broker leads */
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_err.h"
#include "kp_net.h"
#include "kp_proto_txn.h"
#include "kp_wire.h"
#include "kbroker.h"
#include "cluster.h"
#include "txn_coord.h"

#define IO_MS		3000	/* one marker round trip, connect included */
#define RESP_MAX	(1 << 20)
#define CONNS_MAX	16	/* leaders the sender keeps a connection to */
#define BATCH_MAX	64	/* markers in one WriteTxnMarkers */

/*
 * One marker for one partition. The loop queues it and polls it; a worker
 * thread does the blocking round trip, so a slow or dead leader never
 * stalls the loop (Kafka's TransactionMarkerChannelManager has its own
 * sender thread for the same reason). The thread sends every marker
 * waiting for the same leader in one request, as Kafka's channel does,
 * and wakes the loop when the answers are in. Only done, taken and err
 * change once a job is queued.
 */
struct mjob {
	struct mjob	*next;
	char		*topic;
	int32_t		 part;
	int64_t		 pid;
	int16_t		 epoch;
	bool		 commit;
	int32_t		 coord_epoch;
	char		 host[KP_ADDR_HOST_MAX];
	int32_t		 port;
	bool		 done;		/* (mu) the thread answered */
	bool		 taken;		/* (mu) the thread works on it */
	int16_t		 err;		/* (mu) with done */
};

/*
 * A connection to a leader, kept for its next marker as Kafka's marker
 * channel keeps one per broker: a connection per marker left a socket in
 * TIME_WAIT for every partition of every transaction, enough at a few
 * hundred commits a second to run out of local ports.
 */
struct mconn {
	char		 host[KP_ADDR_HOST_MAX];
	int32_t		 port;
	int		 fd;		/* -1: free */
};

struct msend {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 th;
	bool		 quit;		/* (mu) */
	struct mjob	*jobs;		/* (mu) */
	int32_t		 corr;		/* (thread) */
	struct mconn	 conns[CONNS_MAX];	/* (thread) */
	int		 next_evict;		/* (thread) */
	int		 efd;		/* eventfd: answers came */
};

static struct msend *S;

static void
job_free(struct mjob *j)
{
	free(j->topic);
	free(j);
}

/* Read exactly n bytes within the deadline. 0, or -1. */
static int
read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, IO_MS) != 1)
			return -1;
		if ((r = read(fd, p, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
encode(struct mjob *const *js, int n, int32_t corr, struct kp_buf *out)
{
	struct kp_write_txn_markers_req rq;
	struct kp_write_txn_markers_req_writable_txn_marker m[BATCH_MAX];
	struct kp_write_txn_markers_req_writable_txn_marker_topic t[BATCH_MAX];
	struct kp_req_header h;
	size_t at;

	kp_write_txn_markers_req_init(&rq);
	for (int i = 0; i < n; i++) {
		kp_write_txn_markers_req_writable_txn_marker_init(&m[i]);
		kp_write_txn_markers_req_writable_txn_marker_topic_init(&t[i]);
		t[i].name = kb_str(js[i]->topic);
		t[i].partition_indexes = &js[i]->part;
		t[i].n_partition_indexes = 1;
		m[i].producer_id = js[i]->pid;
		m[i].producer_epoch = js[i]->epoch;
		m[i].transaction_result = js[i]->commit;
		m[i].topics = &t[i];
		m[i].n_topics = 1;
		m[i].coordinator_epoch = js[i]->coord_epoch;
	}
	rq.markers = m;
	rq.n_markers = n;
	memset(&h, 0, sizeof(h));
	h.api_key = KP_API_WRITE_TXN_MARKERS;
	h.api_version = 0;
	h.correlation_id = corr;
	h.client_id = kb_str("kbroker-txn-markers");
	at = kp_frame_begin(out);
	kp_req_header_encode(out, &h);
	if (kp_write_txn_markers_req_encode(out, 0, &rq) == -1)
		return -1;
	kp_frame_end(out, at);
	return out->err ? -1 : 0;
}

/*
 * Each job's error from the answer into errs[] (one the answer leaves out
 * keeps what it held). Kafka answers per producer id, so markers are found
 * by id, topic and partition, not by their place. 0, or -1 when the
 * answer is unusable.
 */
static int
decode(struct mjob *const *js, int n, int16_t *errs, int32_t corr,
    const uint8_t *p, size_t len)
{
	struct kp_write_txn_markers_resp rs;
	struct kp_arena a;
	int32_t got = -1;
	ssize_t hl = kp_resp_header_decode(p, len, KP_API_WRITE_TXN_MARKERS,
	    0, &got);
	int rc = -1;

	if (hl <= 0 || got != corr)
		return -1;
	kp_arena_init(&a);
	if (kp_write_txn_markers_resp_decode(p + hl, len - (size_t)hl, 0,
	    &rs, &a) == -1)
		goto out;
	for (int32_t i = 0; i < rs.n_markers; i++)
		for (int32_t k = 0; k < rs.markers[i].n_topics; k++) {
			const struct
			    kp_write_txn_markers_resp_writable_txn_marker_topic_result
			    *tr = &rs.markers[i].topics[k];

			for (int32_t q = 0; q < tr->n_partitions; q++)
				for (int j = 0; j < n; j++)
					if (js[j]->pid ==
					    rs.markers[i].producer_id &&
					    js[j]->part == tr->partitions[q]
					    .partition_index &&
					    kp_str_eq(&tr->name, js[j]->topic))
						errs[j] = tr->partitions[q]
						    .error_code;
		}
	rc = 0;
out:
	kp_arena_release(&a);
	return rc;
}

/*
 * The kept connection to host:port, or a new one in a free (or the
 * oldest) slot; NULL when it cannot connect. A kept connection the
 * leader closed meanwhile (readable while idle: EOF) is replaced.
 */
static struct mconn *
conn_get(const char *host, int32_t port)
{
	struct mconn *c = NULL;
	struct kp_addr a;
	int i;

	for (i = 0; i < CONNS_MAX; i++) {
		struct mconn *k = &S->conns[i];

		if (k->fd != -1 && k->port == port &&
		    strcmp(k->host, host) == 0) {
			struct pollfd pfd = { .fd = k->fd, .events = POLLIN };

			if (poll(&pfd, 1, 0) == 0)
				return k;
			close(k->fd);
			k->fd = -1;
			c = k;
			break;
		}
		if (k->fd == -1 && c == NULL)
			c = k;
	}
	if (c == NULL) {
		c = &S->conns[S->next_evict];
		S->next_evict = (S->next_evict + 1) % CONNS_MAX;
		close(c->fd);
		c->fd = -1;
	}
	memset(&a, 0, sizeof(a));
	a.kind = KP_ADDR_TCP;
	strlcpy(a.host, host, sizeof(a.host));
	a.port = (uint16_t)port;
	if ((c->fd = kp_net_connect(&a, IO_MS, 0)) == -1)
		return NULL;
	strlcpy(c->host, host, sizeof(c->host));
	c->port = port;
	return c;
}

/* One blocking round trip to the jobs' leader: errs[] gets each answer. */
static void
send_batch(struct mjob *const *js, int n, int16_t *errs, int32_t corr)
{
	struct mconn *c;
	struct kp_buf out;
	uint8_t hdr[4];
	uint8_t *body = NULL;
	int32_t len;
	int rc = -1;

	for (int i = 0; i < n; i++)
		errs[i] = KP_NETWORK_EXCEPTION;
	if ((c = conn_get(js[0]->host, js[0]->port)) == NULL)
		return;
	kp_buf_init(&out);
	if (encode(js, n, corr, &out) == 0 &&
	    write_full(c->fd, out.data, out.len) == 0 &&
	    read_full(c->fd, hdr, 4) == 0 &&
	    (len = kp_be32(hdr)) > 0 && len <= RESP_MAX &&
	    (body = malloc((size_t)len)) != NULL &&
	    read_full(c->fd, body, (size_t)len) == 0)
		rc = decode(js, n, errs, corr, body, (size_t)len);
	if (rc == -1) {
		/* out of step with the leader: start afresh next time */
		close(c->fd);
		c->fd = -1;
	}
	free(body);
	kp_buf_release(&out);
}

/* Take the first waiting job and up to BATCH_MAX-1 more for its leader. */
static int
take_batch(struct mjob **js)
{
	struct mjob *j, *first = NULL;
	int n = 0;

	for (j = S->jobs; j != NULL && n < BATCH_MAX; j = j->next) {
		if (j->done || j->taken)
			continue;
		if (first != NULL && (j->port != first->port ||
		    strcmp(j->host, first->host) != 0))
			continue;
		if (first == NULL)
			first = j;
		j->taken = true;
		js[n++] = j;
	}
	return n;
}

static void *
sender(void *arg)
{
	struct mjob *js[BATCH_MAX];
	int16_t errs[BATCH_MAX];
	const uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&S->mu);
	for (;;) {
		int n;

		if (S->quit)
			break;
		if ((n = take_batch(js)) == 0) {
			pthread_cond_wait(&S->cv, &S->mu);
			continue;
		}
		/* the loop never frees a taken job */
		pthread_mutex_unlock(&S->mu);
		send_batch(js, n, errs, ++S->corr);
		pthread_mutex_lock(&S->mu);
		for (int i = 0; i < n; i++) {
			js[i]->err = errs[i];
			js[i]->done = true;
			js[i]->taken = false;
		}
		if (write(S->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
			kb_log("marker sender: wake-up: %s", strerror(errno));
	}
	pthread_mutex_unlock(&S->mu);
	for (int i = 0; i < CONNS_MAX; i++)
		if (S->conns[i].fd != -1)
			close(S->conns[i].fd);
	return NULL;
}

static int
start(struct kb_broker *b)
{
	struct epoll_event ev;

	if (S != NULL)
		return 0;
	if ((S = calloc(1, sizeof(*S))) == NULL)
		return -1;
	for (int i = 0; i < CONNS_MAX; i++)
		S->conns[i].fd = -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = KB_TAG_MARKERS;
	if ((S->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, S->efd, &ev) == -1)
		goto fail;
	pthread_mutex_init(&S->mu, NULL);
	pthread_cond_init(&S->cv, NULL);
	if (pthread_create(&S->th, NULL, sender, NULL) != 0) {
		pthread_mutex_destroy(&S->mu);
		pthread_cond_destroy(&S->cv);
		goto fail;
	}
	return 0;
fail:
	if (S->efd != -1)
		close(S->efd);
	free(S);
	S = NULL;
	return -1;
}

void
kb_txn_markers_on_event(struct kb_broker *b)
{
	uint64_t n;

	(void)b;
	if (S != NULL && read(S->efd, &n, sizeof(n)) == sizeof(n))
		kb_txn_coord_nudge();
}

static bool
same(const struct mjob *j, const char *topic, int32_t part, int64_t pid,
    int16_t epoch, bool commit)
{
	return j->part == part && j->pid == pid && j->epoch == epoch &&
	    j->commit == commit && strcmp(j->topic, topic) == 0;
}

int16_t
kb_txn_marker_remote(struct kb_broker *b, const char *topic, int32_t part,
    int64_t pid, int16_t epoch, bool commit, int32_t coord_epoch)
{
	const struct kb_cl_view *v = kb_cluster_view(b);
	const struct kb_cl_topic *vt;
	const struct kb_cl_broker *br;
	struct mjob **pp, *j;
	int16_t err;

	if (start(b) == -1)
		return KP_NETWORK_EXCEPTION;
	pthread_mutex_lock(&S->mu);
	for (pp = &S->jobs; (j = *pp) != NULL; pp = &j->next)
		if (same(j, topic, part, pid, epoch, commit))
			break;
	if (j != NULL) {
		if (!j->done) {
			pthread_mutex_unlock(&S->mu);
			return KB_TXN_MARKER_PENDING;
		}
		err = j->err;
		*pp = j->next;
		pthread_mutex_unlock(&S->mu);
		job_free(j);
		return err;
	}
	pthread_mutex_unlock(&S->mu);
	if (v == NULL || (vt = kb_cl_topic(v, topic)) == NULL || vt->deleting
	    || part < 0 || part >= vt->nparts)
		return KP_UNKNOWN_TOPIC_OR_PARTITION;
	if (vt->parts[part].leader < 0 ||
	    (br = kb_cl_broker(v, vt->parts[part].leader)) == NULL)
		return KP_LEADER_NOT_AVAILABLE;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->topic = strdup(topic)) == NULL) {
		free(j);
		return KP_NETWORK_EXCEPTION;
	}
	j->part = part;
	j->pid = pid;
	j->epoch = epoch;
	j->commit = commit;
	j->coord_epoch = coord_epoch;
	strlcpy(j->host, br->host, sizeof(j->host));
	j->port = br->port;
	pthread_mutex_lock(&S->mu);
	j->next = S->jobs;
	S->jobs = j;
	pthread_mutex_unlock(&S->mu);
	return KB_TXN_MARKER_PENDING;
}

void
kb_txn_markers_send(void)
{
	if (S == NULL)
		return;
	pthread_mutex_lock(&S->mu);
	pthread_cond_signal(&S->cv);
	pthread_mutex_unlock(&S->mu);
}

static void
markers_fini(struct kb_broker *b)
{
	(void)b;
	if (S == NULL)
		return;
	pthread_mutex_lock(&S->mu);
	S->quit = true;
	pthread_cond_signal(&S->cv);
	pthread_mutex_unlock(&S->mu);
	pthread_join(S->th, NULL);
	while (S->jobs != NULL) {
		struct mjob *j = S->jobs;

		S->jobs = j->next;
		job_free(j);
	}
	pthread_mutex_destroy(&S->mu);
	pthread_cond_destroy(&S->cv);
	close(S->efd);
	free(S);
	S = NULL;
}

KB_HOOK(txn_markers, NULL, NULL, markers_fini)
