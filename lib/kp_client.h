/* kp_client.h -- client side of the Kafka protocol: connections, versions, metadata */
#ifndef KP_CLIENT_H
#define KP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_net.h"

/*
 * One client talks to a cluster: it bootstraps from an address list,
 * negotiates API versions per connection, caches metadata, and sends
 * pipelined requests (responses come back in order per connection and are
 * handed to callbacks from kp_client_poll). Single-threaded; nothing here
 * prints. On failure functions return -1 and kp_client_error() says why in
 * words ("connect unix:/x: No such file or directory",
 * "topic 't': UNKNOWN_TOPIC_OR_PARTITION"); kp_client_kerr() holds the
 * Kafka error code behind it, if any.
 */
struct kp_client;
struct kp_conn;

/*
 * Called once per response. body/len is the response after its header
 * (borrowed: valid during the call), or NULL with err an errno value when
 * the connection failed before the response came. A callback may queue new
 * requests but must not wait for one (kp_conn_call): the connection's
 * input is in the middle of being read.
 */
typedef void	kp_resp_cb(void *arg, struct kp_conn *, int16_t api,
		    int16_t version, const uint8_t *body, size_t len, int err);

struct kp_partition_meta {
	int32_t		 id;
	int16_t		 err;
	int32_t		 leader;		/* -1 when none */
	int32_t		*replicas;
	int32_t		 nreplicas;
	int32_t		*isr;
	int32_t		 nisr;
};

struct kp_topic_meta {
	char			*name;
	int16_t			 err;
	bool			 internal;
	struct kp_partition_meta *parts;	/* by partition id */
	int32_t			 nparts;
};

struct kp_broker_meta {
	int32_t	 id;
	char	*host;
	int32_t	 port;
};

struct kp_client_opts {
	const char	*brokers;	/* NULL: kp_net_default_brokers() */
	const char	*client_id;	/* NULL: "kpipe" */
	int		 timeout_ms;	/* per request and connect; 0: 30000 */
	int		 retries;	/* retriable errors; 0: 5 */
};

/*
 * Connect to the first reachable bootstrap address and ask its API
 * versions. Returns a new client (kp_client_free), or NULL with errno and
 * *why (a static-free message into whybuf).
 */
struct kp_client *kp_client_new(const struct kp_client_opts *, char *whybuf,
	    size_t whylen);
void		 kp_client_free(struct kp_client *);
const char	*kp_client_error(const struct kp_client *);
int16_t		 kp_client_kerr(const struct kp_client *);
/* Record an error for kp_client_error (printf-style); returns -1. */
int		 kp_client_seterr(struct kp_client *, int16_t kerr,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

/*
 * Refresh metadata for topics (n 0 = all topics). auto_create asks the
 * broker to create missing topics. 0, or -1 when no broker answered.
 * Per-topic errors are in the cache, not the return value.
 */
int		 kp_client_metadata(struct kp_client *, const char *const *,
		    size_t n, bool auto_create);
/* Borrowed until the next metadata refresh; NULL if not cached. */
const struct kp_topic_meta *kp_client_topic(const struct kp_client *,
		    const char *);
const struct kp_topic_meta *kp_client_topics(const struct kp_client *,
		    size_t *n);
const struct kp_broker_meta *kp_client_brokers(const struct kp_client *,
		    size_t *n);
int32_t		 kp_client_controller(const struct kp_client *);
/*
 * Metadata for one topic, refreshed with retries while the topic or a
 * leader is missing (auto-created topics take a moment). NULL with the
 * error set (KP_UNKNOWN_TOPIC_OR_PARTITION...) when it never shows up.
 */
const struct kp_topic_meta *kp_client_topic_wait(struct kp_client *,
		    const char *, bool auto_create);

/*
 * The connection to a broker by node id (-1: any live connection, the
 * bootstrap one first), connecting and negotiating on first use. NULL with
 * the error set.
 */
struct kp_conn	*kp_client_conn(struct kp_client *, int32_t node_id);
/* The leader's connection for a partition, from cached metadata. */
struct kp_conn	*kp_client_leader(struct kp_client *, const char *topic,
		    int32_t partition);
/*
 * The highest version of api both sides speak within [cmin, cmax], or -1
 * (error set: "broker does not support Fetch v4-11").
 */
int16_t		 kp_conn_version(struct kp_conn *, int16_t api, int16_t cmin,
		    int16_t cmax);
int32_t		 kp_conn_node(const struct kp_conn *);
const char	*kp_conn_name(const struct kp_conn *);
/* Requests sent and not yet answered. */
size_t		 kp_conn_inflight(const struct kp_conn *);

/*
 * Start a request: writes the frame and request header into the
 * connection's output and returns the buffer to encode the body into
 * (borrowed until kp_conn_request_end). End it with the callback for its
 * response; cb NULL means the broker sends none (Produce with acks=0).
 */
struct kp_buf	*kp_conn_request_begin(struct kp_conn *, int16_t api,
		    int16_t version);
int		 kp_conn_request_end(struct kp_conn *, kp_resp_cb *, void *);

/*
 * Write pending output and read responses for up to timeout_ms (0: just
 * what is ready; -1: until something happens), calling callbacks. Returns
 * the number of responses dispatched, or -1 on a poll error. Failed
 * connections are closed and their pending callbacks called with err.
 */
int		 kp_client_poll(struct kp_client *, int timeout_ms);
/*
 * Close every connection now; callbacks of requests in flight are called
 * with ECANCELED (so a caller can drop state they point to). Connections
 * reopen on next use.
 */
void		 kp_client_abort(struct kp_client *);
/* True when no request waits for an answer and every byte is written. */
bool		 kp_client_idle(const struct kp_client *);
/* Poll until nothing is in flight anywhere (or timeout_ms passes). */
int		 kp_client_drain(struct kp_client *, int timeout_ms);

/*
 * A synchronous round trip: encode with the begun buffer, then call this
 * to wait for the response. The body is copied into *resp (reset first).
 * Returns 0, or -1 with the error set (timeout, connection lost).
 */
int		 kp_conn_call(struct kp_conn *, struct kp_buf *resp);

/*
 * A whole synchronous exchange through the schema tables of kp_proto:
 * encode req with reqm, wait, decode into resp with respm. Strings in resp
 * borrow from body, arrays from arena: both live until the caller resets
 * them. 0, or -1 with the error set.
 */
struct kp_msg;
int		 kp_conn_exchange(struct kp_conn *, int16_t api, int16_t ver,
		    const struct kp_msg *reqm, const void *req,
		    const struct kp_msg *respm, void *resp, struct kp_arena *,
		    struct kp_buf *body);

/*
 * ListOffsets for partitions of one topic: ts -2 earliest, -1 latest, or a
 * time in ms (offset -1 when no record is that new). Routed to each
 * leader, retried on retriable errors. out[i] gets the offset for
 * parts[i]. 0, or -1 with the error set.
 */
int		 kp_client_list_offsets(struct kp_client *, const char *topic,
		    const int32_t *parts, size_t n, int64_t ts, int64_t *out);
/*
 * Where each of n partitions of a topic starts (lo) and ends (hi) and,
 * when ts is not NULL, its first offset at time *ts (at, else untouched):
 * the two or three kp_client_list_offsets calls every reader makes.
 * 0, or -1 with the error set.
 */
int		 kp_client_log_bounds(struct kp_client *, const char *topic,
		    const int32_t *parts, size_t n, const int64_t *ts,
		    int64_t *lo, int64_t *hi, int64_t *at);

/*
 * The same, for callers that can use some partitions while others have no
 * leader (a consumer, a describe): fail[i] (zeroed by _log_bounds_some;
 * for _list_offsets_some, nonzero entries on entry are skipped) gets the
 * error of each partition left unanswered after the retries
 * (LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, NETWORK_EXCEPTION...),
 * whose offsets stay untouched. A partition whose replicas all sit on
 * brokers gone from the cluster is marked without waiting. 0 when each
 * partition has an offset or an error; -1 (error set) for a non-retriable
 * error, an unknown topic, or when no broker answered for any partition.
 */
int		 kp_client_list_offsets_some(struct kp_client *,
		    const char *topic, const int32_t *parts, size_t n,
		    int64_t ts, int64_t *out, int16_t *fail);
int		 kp_client_log_bounds_some(struct kp_client *,
		    const char *topic, const int32_t *parts, size_t n,
		    const int64_t *ts, int64_t *lo, int64_t *hi, int64_t *at,
		    int16_t *fail);

/*
 * The isolation level of ListOffsets (and so of the _log_bounds calls):
 * KP_READ_UNCOMMITTED (the default; latest is the high watermark) or
 * KP_READ_COMMITTED (latest is the last stable offset, before the first
 * record of a transaction still open). Fetches set theirs themselves.
 */
#define KP_READ_UNCOMMITTED	0
#define KP_READ_COMMITTED	1
void		 kp_client_set_isolation(struct kp_client *, int8_t);

/* Sleep for the i-th retry: 100 ms doubling up to 2 s; or just say how long. */
void		 kp_client_backoff(int attempt);
int64_t		 kp_client_backoff_ms(int attempt);
/* Wall clock and monotonic time in ms. */
int64_t		 kp_now_ms(void);
int64_t		 kp_mono_ms(void);

#endif
