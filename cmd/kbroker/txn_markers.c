/* txn_markers.c -- the coordinator's WriteTxnMarkers to partitions another broker leads */
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

/*
 * One marker for one partition. The loop queues it and polls it; a worker
 * thread does the blocking round trip, so a slow or dead leader never
 * stalls the loop (Kafka's TransactionMarkerChannelManager has its own
 * sender thread for the same reason).
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
	bool		 started;
	bool		 quit;		/* (mu) */
	struct mjob	*jobs;		/* (mu) */
	int32_t		 corr;		/* (thread) */
	struct mconn	 conns[CONNS_MAX];	/* (thread) */
	int		 next_evict;		/* (thread) */
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
encode(struct mjob *j, int32_t corr, struct kp_buf *out)
{
	struct kp_write_txn_markers_req rq;
	struct kp_write_txn_markers_req_writable_txn_marker m;
	struct kp_write_txn_markers_req_writable_txn_marker_topic t;
	struct kp_req_header h;
	size_t at;

	kp_write_txn_markers_req_init(&rq);
	kp_write_txn_markers_req_writable_txn_marker_init(&m);
	kp_write_txn_markers_req_writable_txn_marker_topic_init(&t);
	t.name = kb_str(j->topic);
	t.partition_indexes = &j->part;
	t.n_partition_indexes = 1;
	m.producer_id = j->pid;
	m.producer_epoch = j->epoch;
	m.transaction_result = j->commit;
	m.topics = &t;
	m.n_topics = 1;
	m.coordinator_epoch = j->coord_epoch;
	rq.markers = &m;
	rq.n_markers = 1;
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

/* The partition's error in the answer, or KP_NETWORK_EXCEPTION. */
static int16_t
decode(struct mjob *j, int32_t corr, const uint8_t *p, size_t len)
{
	struct kp_write_txn_markers_resp rs;
	struct kp_arena a;
	int32_t got = -1;
	ssize_t n = kp_resp_header_decode(p, len, KP_API_WRITE_TXN_MARKERS,
	    0, &got);
	int16_t err = KP_NETWORK_EXCEPTION;

	if (n <= 0 || got != corr)
		return err;
	kp_arena_init(&a);
	if (kp_write_txn_markers_resp_decode(p + n, len - (size_t)n, 0, &rs,
	    &a) != -1)
		for (int32_t i = 0; i < rs.n_markers; i++)
			for (int32_t k = 0; k < rs.markers[i].n_topics; k++) {
				const struct
				    kp_write_txn_markers_resp_writable_txn_marker_topic_result
				    *tr = &rs.markers[i].topics[k];

				for (int32_t q = 0; q < tr->n_partitions; q++)
					if (tr->partitions[q].partition_index
					    == j->part)
						err = tr->partitions[q]
						    .error_code;
			}
	kp_arena_release(&a);
	return err;
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

/* One blocking round trip to the leader. */
static int16_t
send_one(struct mjob *j, int32_t corr)
{
	struct mconn *c;
	struct kp_buf out;
	uint8_t hdr[4];
	uint8_t *body = NULL;
	int32_t len;
	int16_t err = KP_NETWORK_EXCEPTION;

	if ((c = conn_get(j->host, j->port)) == NULL)
		return err;
	kp_buf_init(&out);
	if (encode(j, corr, &out) == 0 &&
	    write_full(c->fd, out.data, out.len) == 0 &&
	    read_full(c->fd, hdr, 4) == 0 &&
	    (len = kp_be32(hdr)) > 0 && len <= RESP_MAX &&
	    (body = malloc((size_t)len)) != NULL &&
	    read_full(c->fd, body, (size_t)len) == 0)
		err = decode(j, corr, body, (size_t)len);
	if (err == KP_NETWORK_EXCEPTION) {
		/* out of step with the leader: start afresh next time */
		close(c->fd);
		c->fd = -1;
	}
	free(body);
	kp_buf_release(&out);
	return err;
}

static void *
sender(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&S->mu);
	for (;;) {
		struct mjob *j;
		struct mjob copy;
		int16_t err;

		for (j = S->jobs; j != NULL && (j->done || j->taken);
		    j = j->next)
			;
		if (S->quit)
			break;
		if (j == NULL) {
			pthread_cond_wait(&S->cv, &S->mu);
			continue;
		}
		j->taken = true;
		copy = *j;
		/* the loop never frees a taken job: the copy's topic holds */
		pthread_mutex_unlock(&S->mu);
		err = send_one(&copy, ++S->corr);
		pthread_mutex_lock(&S->mu);
		j->err = err;
		j->done = true;
		j->taken = false;
	}
	pthread_mutex_unlock(&S->mu);
	for (int i = 0; i < CONNS_MAX; i++)
		if (S->conns[i].fd != -1)
			close(S->conns[i].fd);
	return NULL;
}

static int
start(void)
{
	if (S != NULL)
		return 0;
	if ((S = calloc(1, sizeof(*S))) == NULL)
		return -1;
	for (int i = 0; i < CONNS_MAX; i++)
		S->conns[i].fd = -1;
	pthread_mutex_init(&S->mu, NULL);
	pthread_cond_init(&S->cv, NULL);
	if (pthread_create(&S->th, NULL, sender, NULL) != 0) {
		pthread_mutex_destroy(&S->mu);
		pthread_cond_destroy(&S->cv);
		free(S);
		S = NULL;
		return -1;
	}
	S->started = true;
	return 0;
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

	if (start() == -1)
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
	pthread_cond_signal(&S->cv);
	pthread_mutex_unlock(&S->mu);
	return KB_TXN_MARKER_PENDING;
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
	free(S);
	S = NULL;
}

KB_HOOK(txn_markers, NULL, NULL, markers_fini)
