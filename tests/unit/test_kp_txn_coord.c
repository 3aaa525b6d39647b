/* test_kp_txn_coord.c -- kp_txn's coordinator calls against a scripted fake coordinator on a Unix socket */
#include <sys/socket.h>
#include <sys/un.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_client.h"
#include "kp_err.h"
#include "kp_proto_admin.h"
#include "kp_proto_group.h"
#include "kp_proto_meta.h"
#include "kp_proto_txn.h"
#include "kp_txn.h"
#include "kp_wire.h"
#include "tap.h"

/*
 * One fake broker, node 7, that is also the coordinator. Each API answers
 * the errors queued for it (plan()) one per request, then success; the
 * last request of each kind is kept in words (seen[api]) for the checks:
 * "tx 12345" for InitProducerId, "a:0,1 b:0" for AddPartitionsToTxn...
 * The test thread only looks while its own synchronous call is done, so
 * the broker thread is never racing it.
 */
#define NAPI	32
static char sockpath[108];
static int listen_fd;
static int16_t errq[NAPI][8];
static int nerr[NAPI];
static int calls[NAPI];
static char seen[NAPI][256];

static void
plan(int16_t api, int16_t e)
{
	errq[api][nerr[api]++] = e;
}

static int16_t
next_err(int16_t api)
{
	int16_t e;

	calls[api]++;
	if (nerr[api] == 0)
		return 0;
	e = errq[api][0];
	memmove(errq[api], errq[api] + 1, sizeof(errq[api][0]) * 7);
	nerr[api]--;
	return e;
}

static void
answer(int fd, int16_t api, int16_t ver, int32_t corr, const struct kp_buf *b)
{
	struct kp_buf out;
	size_t f;

	kp_buf_init(&out);
	f = kp_frame_begin(&out);
	kp_resp_header_encode(&out, api, ver, corr);
	kp_buf_put(&out, b->data, b->len);
	kp_frame_end(&out, f);
	if (write(fd, out.data, out.len) != (ssize_t)out.len)
		abort();
	kp_buf_release(&out);
}

static void
versions(struct kp_buf *b, int16_t ver)
{
	struct kp_api_versions_resp r;
	struct kp_api_versions_resp_api_version v[] = {
		{ KP_API_API_VERSIONS, 0, 3 },
		{ KP_API_METADATA, 0, 5 },
		{ KP_API_FIND_COORDINATOR, 0, 2 },
		{ KP_API_INIT_PRODUCER_ID, 0, 1 },
		{ KP_API_ADD_PARTITIONS_TO_TXN, 0, 1 },
		{ KP_API_ADD_OFFSETS_TO_TXN, 0, 1 },
		{ KP_API_END_TXN, 0, 1 },
		{ KP_API_TXN_OFFSET_COMMIT, 0, 2 },
	};

	kp_api_versions_resp_init(&r);
	r.api_keys = v;
	r.n_api_keys = (int32_t)(sizeof(v) / sizeof(v[0]));
	kp_api_versions_resp_encode(b, ver, &r);
}

static void
metadata(struct kp_buf *b, int16_t ver)
{
	struct kp_metadata_resp r;
	struct kp_metadata_resp_broker br;

	kp_metadata_resp_init(&r);
	kp_metadata_resp_broker_init(&br);
	br.node_id = 7;
	br.host.ptr = "127.0.0.1";
	br.host.len = 9;
	br.port = 1;	/* nobody listens: the client must reuse us */
	r.brokers = &br;
	r.n_brokers = 1;
	r.controller_id = 7;
	kp_metadata_resp_encode(b, ver, &r);
}

/* AddPartitionsToTxn: every partition gets the planned error, except
 * that a planned KP_INVALID_TXN_STATE goes to the last partition only
 * and the others get OPERATION_NOT_ATTEMPTED, as Kafka answers. */
static void
add_partitions(struct kp_buf *b, int16_t ver, const uint8_t *p, size_t n,
    struct kp_arena *a)
{
	struct kp_add_partitions_to_txn_req q;
	struct kp_add_partitions_to_txn_resp r;
	struct kp_add_partitions_to_txn_resp_topic_result tr[8];
	struct kp_add_partitions_to_txn_resp_partition_result pr[8][8];
	int16_t e = next_err(KP_API_ADD_PARTITIONS_TO_TXN);
	char *w = seen[KP_API_ADD_PARTITIONS_TO_TXN];
	int32_t i, j;

	if (kp_add_partitions_to_txn_req_decode(p, n, ver, &q, a) < 0 ||
	    q.n_v3_and_below_topics > 8)
		abort();
	*w = '\0';
	for (i = 0; i < q.n_v3_and_below_topics; i++) {
		const struct kp_add_partitions_to_txn_req_topic *t =
		    &q.v3_and_below_topics[i];

		snprintf(w + strlen(w), 256 - strlen(w), "%s%.*s:", i ? " " :
		    "", t->name.len, t->name.ptr);
		kp_add_partitions_to_txn_resp_topic_result_init(&tr[i]);
		tr[i].name = t->name;
		tr[i].results_by_partition = pr[i];
		tr[i].n_results_by_partition = t->n_partitions;
		for (j = 0; j < t->n_partitions && j < 8; j++) {
			bool last = i == q.n_v3_and_below_topics - 1 &&
			    j == t->n_partitions - 1;

			snprintf(w + strlen(w), 256 - strlen(w), "%s%d",
			    j ? "," : "", t->partitions[j]);
			pr[i][j].partition_index = t->partitions[j];
			pr[i][j].partition_error_code = e ==
			    KP_INVALID_TXN_STATE && !last ?
			    KP_OPERATION_NOT_ATTEMPTED : e;
		}
	}
	snprintf(w + strlen(w), 256 - strlen(w), " pid %lld epoch %d",
	    (long long)q.v3_and_below_producer_id,
	    q.v3_and_below_producer_epoch);
	kp_add_partitions_to_txn_resp_init(&r);
	r.results_by_topic_v3_and_below = tr;
	r.n_results_by_topic_v3_and_below = q.n_v3_and_below_topics;
	kp_add_partitions_to_txn_resp_encode(b, ver, &r);
}

static int
serve_one(int fd, const uint8_t *p, size_t n)
{
	struct kp_req_header h;
	struct kp_arena a;
	struct kp_buf b;
	ssize_t hl;

	if ((hl = kp_req_header_decode(p, n, &h)) <= 0)
		return -1;
	p += hl;
	n -= (size_t)hl;
	kp_arena_init(&a);
	kp_buf_init(&b);
	switch (h.api_key) {
	case KP_API_API_VERSIONS:
		versions(&b, h.api_version);
		break;
	case KP_API_METADATA:
		metadata(&b, h.api_version);
		break;
	case KP_API_FIND_COORDINATOR: {
		struct kp_find_coordinator_req q;
		struct kp_find_coordinator_resp r;

		if (kp_find_coordinator_req_decode(p, n, h.api_version, &q,
		    &a) < 0)
			abort();
		snprintf(seen[h.api_key], 256, "%.*s type %d", q.key.len,
		    q.key.ptr, q.key_type);
		kp_find_coordinator_resp_init(&r);
		if ((r.error_code = next_err(h.api_key)) == 0)
			r.node_id = 7;
		r.host.ptr = "127.0.0.1";
		r.host.len = 9;
		r.port = 1;
		kp_find_coordinator_resp_encode(&b, h.api_version, &r);
		break;
	}
	case KP_API_INIT_PRODUCER_ID: {
		struct kp_init_producer_id_req q;
		struct kp_init_producer_id_resp r;

		if (kp_init_producer_id_req_decode(p, n, h.api_version, &q,
		    &a) < 0)
			abort();
		snprintf(seen[h.api_key], 256, "%.*s %d",
		    q.transactional_id.len, q.transactional_id.ptr,
		    q.transaction_timeout_ms);
		kp_init_producer_id_resp_init(&r);
		if ((r.error_code = next_err(h.api_key)) == 0) {
			r.producer_id = 1000;
			r.producer_epoch = 3;
		}
		kp_init_producer_id_resp_encode(&b, h.api_version, &r);
		break;
	}
	case KP_API_ADD_PARTITIONS_TO_TXN:
		add_partitions(&b, h.api_version, p, n, &a);
		break;
	case KP_API_ADD_OFFSETS_TO_TXN: {
		struct kp_add_offsets_to_txn_req q;
		struct kp_add_offsets_to_txn_resp r;

		if (kp_add_offsets_to_txn_req_decode(p, n, h.api_version, &q,
		    &a) < 0)
			abort();
		snprintf(seen[h.api_key], 256, "%.*s %.*s",
		    q.transactional_id.len, q.transactional_id.ptr,
		    q.group_id.len, q.group_id.ptr);
		kp_add_offsets_to_txn_resp_init(&r);
		r.error_code = next_err(h.api_key);
		kp_add_offsets_to_txn_resp_encode(&b, h.api_version, &r);
		break;
	}
	case KP_API_TXN_OFFSET_COMMIT: {
		struct kp_txn_offset_commit_req q;
		struct kp_txn_offset_commit_resp r;
		struct kp_txn_offset_commit_resp_topic t;
		struct kp_txn_offset_commit_resp_partition pr;

		if (kp_txn_offset_commit_req_decode(p, n, h.api_version, &q,
		    &a) < 0 || q.n_topics != 1 ||
		    q.topics[0].n_partitions != 1)
			abort();
		snprintf(seen[h.api_key], 256, "%.*s %.*s %.*s:%d@%lld",
		    q.transactional_id.len, q.transactional_id.ptr,
		    q.group_id.len, q.group_id.ptr, q.topics[0].name.len,
		    q.topics[0].name.ptr,
		    q.topics[0].partitions[0].partition_index,
		    (long long)q.topics[0].partitions[0].committed_offset);
		kp_txn_offset_commit_resp_init(&r);
		kp_txn_offset_commit_resp_topic_init(&t);
		kp_txn_offset_commit_resp_partition_init(&pr);
		t.name = q.topics[0].name;
		pr.partition_index = q.topics[0].partitions[0].partition_index;
		pr.error_code = next_err(h.api_key);
		t.partitions = &pr;
		t.n_partitions = 1;
		r.topics = &t;
		r.n_topics = 1;
		kp_txn_offset_commit_resp_encode(&b, h.api_version, &r);
		break;
	}
	case KP_API_END_TXN: {
		struct kp_end_txn_req q;
		struct kp_end_txn_resp r;

		if (kp_end_txn_req_decode(p, n, h.api_version, &q, &a) < 0)
			abort();
		snprintf(seen[h.api_key], 256, "%.*s %s",
		    q.transactional_id.len, q.transactional_id.ptr,
		    q.committed ? "commit" : "abort");
		kp_end_txn_resp_init(&r);
		r.error_code = next_err(h.api_key);
		kp_end_txn_resp_encode(&b, h.api_version, &r);
		break;
	}
	default:
		abort();
	}
	answer(fd, h.api_key, h.api_version, h.correlation_id, &b);
	kp_buf_release(&b);
	kp_arena_release(&a);
	return 0;
}

static void *
broker(void *arg)
{
	struct kp_buf in;
	const uint8_t *pl;
	size_t plen;
	ssize_t n, fl;
	int fd;

	(void)arg;
	kp_buf_init(&in);
	while ((fd = accept(listen_fd, NULL, NULL)) >= 0) {
		kp_buf_reset(&in);
		for (;;) {
			if (kp_buf_reserve(&in, 65536) < 0)
				abort();
			n = read(fd, in.data + in.len, in.cap - in.len);
			if (n <= 0)
				break;
			in.len += (size_t)n;
			while ((fl = kp_frame_parse(in.data, in.len, 1 << 20,
			    &pl, &plen)) > 0) {
				if (serve_one(fd, pl, plen) < 0)
					goto drop;
				kp_buf_consume(&in, (size_t)fl);
			}
		}
drop:
		close(fd);
	}
	kp_buf_release(&in);
	return NULL;
}

int
main(void)
{
	struct sockaddr_un sun;
	struct kp_client_opts o = { 0 };
	struct kp_client *c;
	struct kp_txn t;
	pthread_t th;
	char addr[160], why[256];
	const char *tp[] = { "a", "b", "a", "a" };
	int32_t pp[] = { 0, 0, 1, 0 };

	snprintf(sockpath, sizeof(sockpath), "/tmp/kp-test-txn-%d.sock",
	    (int)getpid());
	unlink(sockpath);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sockpath, sizeof(sun.sun_path));
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sun,
	    sizeof(sun)) < 0 || listen(listen_fd, 4) < 0)
		return perror("listen"), 1;
	pthread_create(&th, NULL, broker, NULL);
	snprintf(addr, sizeof(addr), "unix:%s", sockpath);
	o.brokers = addr;
	o.timeout_ms = 5000;
	if ((c = kp_client_new(&o, why, sizeof(why))) == NULL) {
		ok(0, "client: %s", why);
		return tap_done();
	}

	plan(KP_API_FIND_COORDINATOR, KP_COORDINATOR_NOT_AVAILABLE);
	plan(KP_API_INIT_PRODUCER_ID, KP_CONCURRENT_TRANSACTIONS);
	plan(KP_API_INIT_PRODUCER_ID, KP_NOT_COORDINATOR);
	ok(kp_txn_init(&t, c, "tx", 12345) == 0, "init (%s)",
	    kp_client_error(c));
	ok(t.pid == 1000 && t.epoch == 3, "producer id and epoch taken");
	ok(strcmp(seen[KP_API_FIND_COORDINATOR], "tx type 1") == 0,
	    "FindCoordinator for the transactional id, key_type 1 (%s)",
	    seen[KP_API_FIND_COORDINATOR]);
	ok(strcmp(seen[KP_API_INIT_PRODUCER_ID], "tx 12345") == 0,
	    "InitProducerId carries the id and timeout (%s)",
	    seen[KP_API_INIT_PRODUCER_ID]);
	is_int(calls[KP_API_INIT_PRODUCER_ID], 3,
	    "CONCURRENT_TRANSACTIONS and NOT_COORDINATOR retried");
	is_int(calls[KP_API_FIND_COORDINATOR], 3,
	    "the coordinator looked up again after NOT_COORDINATOR");

	ok(!kp_txn_open(&t) && kp_txn_end(&t, true) == 0 &&
	    calls[KP_API_END_TXN] == 0,
	    "ending an empty transaction sends nothing");

	ok(kp_txn_add_partitions(&t, tp, pp, 4) == 0, "add partitions (%s)",
	    kp_client_error(c));
	ok(strcmp(seen[KP_API_ADD_PARTITIONS_TO_TXN],
	    "a:0,1 b:0 pid 1000 epoch 3") == 0,
	    "one request, grouped by topic, no duplicates (%s)",
	    seen[KP_API_ADD_PARTITIONS_TO_TXN]);
	ok(kp_txn_has(&t, "a", 1) && kp_txn_has(&t, "b", 0) &&
	    !kp_txn_has(&t, "b", 1) && kp_txn_open(&t),
	    "the partitions are in the transaction");
	{
		const char *t2[] = { "a", "c" };
		int32_t p2[] = { 0, 0 };

		plan(KP_API_ADD_PARTITIONS_TO_TXN, KP_NOT_COORDINATOR);
		ok(kp_txn_add_partitions(&t, t2, p2, 2) == 0 &&
		    strcmp(seen[KP_API_ADD_PARTITIONS_TO_TXN],
		    "c:0 pid 1000 epoch 3") == 0,
		    "only the new partition is sent, after NOT_COORDINATOR "
		    "(%s)", seen[KP_API_ADD_PARTITIONS_TO_TXN]);
	}
	{
		const char *t3[] = { "d", "e" };
		int32_t p3[] = { 0, 0 };

		plan(KP_API_ADD_PARTITIONS_TO_TXN, KP_INVALID_TXN_STATE);
		ok(kp_txn_add_partitions(&t, t3, p3, 2) < 0 &&
		    kp_client_kerr(c) == KP_INVALID_TXN_STATE &&
		    strstr(kp_client_error(c), "topic 'e' partition 0") !=
		    NULL && !kp_txn_has(&t, "d", 0),
		    "the real error, not OPERATION_NOT_ATTEMPTED: %s",
		    kp_client_error(c));
		is_int(kp_txn_fatal(&t), 0, "that one is not fatal");
	}
	{
		const char *g = "orders";
		int32_t gp = 2;
		int64_t go = 42;

		ok(kp_txn_send_offsets(&t, "grp", &g, &gp, &go, 1) == 0,
		    "send offsets (%s)", kp_client_error(c));
		ok(strcmp(seen[KP_API_ADD_OFFSETS_TO_TXN], "tx grp") == 0 &&
		    strcmp(seen[KP_API_TXN_OFFSET_COMMIT],
		    "tx grp orders:2@42") == 0 &&
		    strcmp(seen[KP_API_FIND_COORDINATOR], "grp type 0") == 0,
		    "AddOffsetsToTxn, then TxnOffsetCommit at the group's "
		    "coordinator (%s / %s)", seen[KP_API_ADD_OFFSETS_TO_TXN],
		    seen[KP_API_TXN_OFFSET_COMMIT]);
	}
	plan(KP_API_END_TXN, KP_CONCURRENT_TRANSACTIONS);
	ok(kp_txn_end(&t, true) == 0 && calls[KP_API_END_TXN] == 2 &&
	    strcmp(seen[KP_API_END_TXN], "tx commit") == 0,
	    "commit, after CONCURRENT_TRANSACTIONS (%s)", seen[KP_API_END_TXN]);
	ok(!kp_txn_open(&t) && !kp_txn_has(&t, "a", 0),
	    "the next transaction starts empty");

	ok(kp_txn_add_partitions(&t, tp, pp, 1) == 0, "a new transaction");
	plan(KP_API_END_TXN, KP_PRODUCER_FENCED);
	ok(kp_txn_end(&t, false) < 0 && kp_txn_fatal(&t) ==
	    KP_PRODUCER_FENCED && strcmp(seen[KP_API_END_TXN],
	    "tx abort") == 0, "a fenced abort: fatal (%s)",
	    kp_client_error(c));
	is_int(calls[KP_API_END_TXN], 3, "not retried");
	ok(kp_txn_add_partitions(&t, tp + 1, pp + 1, 1) < 0 &&
	    kp_txn_end(&t, false) < 0 && calls[KP_API_END_TXN] == 3 &&
	    calls[KP_API_ADD_PARTITIONS_TO_TXN] == 5,
	    "after that nothing is sent");
	kp_txn_release(&t);

	plan(KP_API_INIT_PRODUCER_ID, KP_INVALID_TRANSACTION_TIMEOUT);
	ok(kp_txn_init(&t, c, "tx2", 1 << 30) < 0 &&
	    kp_client_kerr(c) == KP_INVALID_TRANSACTION_TIMEOUT &&
	    calls[KP_API_INIT_PRODUCER_ID] == 4,
	    "INVALID_TRANSACTION_TIMEOUT is not retried: %s",
	    kp_client_error(c));
	kp_txn_release(&t);
	kp_client_free(c);
	unlink(sockpath);
	return tap_done();
}
