/* repl.h -- replication's state shared by isr.c (leader side), replica.c (follower side) and epoch.c */
#ifndef KB_REPL_H
#define KB_REPL_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include "kp_epoch.h"

struct kb_broker;
struct kb_fetcher;
struct kb_park;
struct kp_log;

/* A follower as its leader sees it (Kafka's remote replica state). */
struct kb_rfol {
	int32_t		 id;
	int64_t		 leo;		/* its last fetch offset, -1 unknown */
	int64_t		 caught_ms;	/* last time it had all we had */
	int64_t		 fetch_ms;	/* its previous fetch... */
	int64_t		 fetch_leo;	/* ...and our log end then */
};

/* One partition this broker replicates, leader or follower. */
struct kb_rp {
	char		*topic;
	int32_t		 part;
	bool		 epochs_ok;	/* ec loaded or rebuilt */
	struct kp_epoch_cache ec;
	/* leader side (isr.c) */
	bool		 leader;
	int32_t		 epoch;
	int64_t		 epoch_start;	/* our log end when it began */
	struct kb_rfol	*f;
	int32_t		 nf;
	bool		 pending;	/* an ISR write not yet in a view */
	int32_t		 pend_version;	/* state znode version written on */
	int32_t		*pend_isr;
	int32_t		 npend;
	int64_t		 isr_retry_ms;	/* after a refused ISR write */
};

TAILQ_HEAD(kb_park_q, kb_park);

struct kb_repl {
	struct kb_rp	**rp;
	size_t		 nrp, caprp;
	struct kb_park_q parked;	/* acks=all responses, in arrival order */
	int		 tfd;		/* timerfd: ISR lag, timeouts, backoff */
	struct kb_fetcher **fetchers;	/* replica.c: one per leader */
	size_t		 nfetchers, capfetchers;
};

/*
 * Fetcher sockets and the timer carry KB_TAG_REPL in epoll, fetchers
 * with the leader's id + 1 in the low bits (the timer has 0 there).
 */
#define KB_TAG_REPL_IDX	((uint64_t)0xffffffff)

/* isr.c */
struct kb_repl	*kb_repl_get(struct kb_broker *);
struct kb_rp	*kb_rp_find(struct kb_broker *, const char *, int32_t);
struct kb_rp	*kb_rp_get(struct kb_broker *, const char *, int32_t);
/* The partition's epoch cache, loaded or rebuilt on first use; NULL ENOMEM. */
struct kp_epoch_cache *kb_rp_epochs(struct kb_broker *, struct kb_rp *,
		    struct kp_log *);
/* Save it (after a change); logs a failure. */
void		 kb_rp_save_epochs(struct kb_broker *, struct kb_rp *,
		    struct kp_log *);
/* This broker no longer leads the partition: answer what waits on it. */
void		 kb_rp_unlead(struct kb_broker *, struct kb_rp *);
/* Forget a partition's state: it moved away or was deleted. */
void		 kb_rp_drop(struct kb_broker *, const char *, int32_t);
struct kp_log	*kb_rp_log(struct kb_broker *, const char *, int32_t);

/* replica.c */
void		 kb_fetchers_on_event(struct kb_broker *, uint64_t, uint32_t);
void		 kb_fetchers_timer(struct kb_broker *, int64_t);
void		 kb_fetchers_free(struct kb_broker *);

#endif
