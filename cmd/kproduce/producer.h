/* producer.h -- kproduce's batching, partitioning and delivery engine */
#ifndef PRODUCER_H
#define PRODUCER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kp_batch.h"
#include "kp_client.h"

struct producer_opts {
	int16_t	 acks;		/* 0, 1, -1 */
	int	 linger_ms;
	size_t	 batch_size;
	int	 codec;
	bool	 idempotent;
	bool	 auto_create;
	int	 retries;
	int	 timeout_ms;
	FILE	*offsets_out;	/* --print-offsets, or NULL */
	bool	 latency;	/* keep a latency histogram (--bench) */
	const char *txn_id;	/* transactional.id, or NULL */
	int32_t	 txn_timeout_ms;	/* transaction.timeout.ms */
};

struct producer;

/* Create one for a connected client; NULL with a message in why. */
struct producer	*producer_new(struct kp_client *, const struct producer_opts *,
		    char *why, size_t whylen);
void		 producer_free(struct producer *);

/*
 * Queue one record. partition -1 picks one (murmur2 of the key, else
 * sticky). Returns 0, or -1 with the reason in why (unknown topic,
 * partition out of range): the record is not queued and counted failed.
 */
int		 producer_add(struct producer *, const char *topic,
		    int32_t partition, int64_t ts, const void *key,
		    ssize_t klen, const void *val, ssize_t vlen,
		    const struct kp_record_header *, size_t nh,
		    char *why, size_t whylen);
/*
 * The partition count of topic (looked up, or created when allowed, on
 * first use), or -1 with the reason in why.
 */
int32_t		 producer_partitions(struct producer *, const char *topic,
		    char *why, size_t whylen);
/*
 * Send what is due and handle responses for up to timeout_ms. Blocks
 * longer when too much is buffered. 0, or -1 on a fatal client error.
 */
int		 producer_service(struct producer *, int timeout_ms);
/* True while records wait in open batches, queues or in flight. */
bool		 producer_busy(const struct producer *);
/* Send everything and wait for every answer. */
int		 producer_flush(struct producer *);

/*
 * With opts.txn_id every record goes into the one open transaction
 * until producer_end. Commit flushes first and aborts instead when a
 * record failed; abort drops what is not sent yet and waits for what
 * is. 0, or -1 with the reason in why (the transaction is then aborted
 * if it still could be).
 */
/* Whether any partition joined the open transaction. */
bool		 producer_in_txn(const struct producer *);
/* The client it sends through (for its last error). */
struct kp_client *producer_client(const struct producer *);
int		 producer_end(struct producer *, bool commit, char *why,
		    size_t whylen);

struct producer_stats {
	uint64_t	 queued;	/* records accepted by producer_add */
	uint64_t	 acked;
	uint64_t	 failed;
	uint64_t	 bytes_acked;	/* key + value bytes */
	uint64_t	 discarded;	/* dropped unsent by an abort */
	int16_t		 last_kerr;	/* of the last failure */
	char		 last_err[256];
	/* latency histogram in ms (opts.latency) */
	uint64_t	*lat_hist;
	size_t		 lat_n;
	uint64_t	 lat_max;
	double		 lat_sum;
};

const struct producer_stats *producer_stats(const struct producer *);

#endif
