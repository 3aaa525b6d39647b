/* test_kp_client.c -- kp_client against a scripted fake broker on a Unix socket */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_client.h"
#include "kp_err.h"
#include "kp_proto_fetch.h"
#include "kp_proto_meta.h"
#include "kp_wire.h"
#include "tap.h"

/*
 * The fake broker answers ApiVersions (Metadata 0-5, ListOffsets 1-5),
 * Metadata (one broker, node 7; topic "t" with 2 partitions led by 7) and
 * ListOffsets (offset = 100 * partition + 10 for latest; partition 1
 * answers NOT_LEADER_OR_FOLLOWER the first time). A Metadata request for
 * topic "close" makes it drop the connection without answering.
 */
static char sockpath[108];
static int listen_fd;
static int lo_calls;
static int conns;

static void
answer(int fd, int16_t api, int16_t ver, int32_t corr, const struct kp_buf *body)
{
	struct kp_buf out;
	size_t f;

	kp_buf_init(&out);
	f = kp_frame_begin(&out);
	kp_resp_header_encode(&out, api, ver, corr);
	kp_buf_put(&out, body->data, body->len);
	kp_frame_end(&out, f);
	if (write(fd, out.data, out.len) != (ssize_t)out.len)
		abort();
	kp_buf_release(&out);
}

static int
serve_one(int fd, const uint8_t *p, size_t n)
{
	struct kp_req_header h;
	struct kp_arena a;
	struct kp_buf b;
	ssize_t hl;
	int rc = 0;

	if ((hl = kp_req_header_decode(p, n, &h)) <= 0)
		return -1;
	kp_arena_init(&a);
	kp_buf_init(&b);
	if (h.api_key == KP_API_API_VERSIONS) {
		struct kp_api_versions_resp r;
		struct kp_api_versions_resp_api_version v[3] = {
			{ KP_API_API_VERSIONS, 0, 3 },
			{ KP_API_METADATA, 0, 5 },
			{ KP_API_LIST_OFFSETS, 1, 5 },
		};

		kp_api_versions_resp_init(&r);
		r.api_keys = v;
		r.n_api_keys = 3;
		kp_api_versions_resp_encode(&b, h.api_version, &r);
	} else if (h.api_key == KP_API_METADATA) {
		struct kp_metadata_req q;
		struct kp_metadata_resp r;
		struct kp_metadata_resp_broker br;
		struct kp_metadata_resp_topic t[4];
		struct kp_metadata_resp_partition pp[2];
		int32_t rep = 7;
		int i;

		if (kp_metadata_req_decode(p + hl, n - (size_t)hl,
		    h.api_version, &q, &a) < 0)
			abort();
		if (q.n_topics == 1 && kp_str_eq(&q.topics[0].name, "close")) {
			rc = -1;
			goto out;
		}
		kp_metadata_resp_init(&r);
		kp_metadata_resp_broker_init(&br);
		br.node_id = 7;
		br.host.ptr = "127.0.0.1";
		br.host.len = 9;
		br.port = 1;	/* nobody listens: the client must reuse us */
		for (i = 0; i < 2; i++) {
			kp_metadata_resp_partition_init(&pp[i]);
			pp[i].partition_index = i;
			pp[i].leader_id = 7;
			pp[i].replica_nodes = &rep;
			pp[i].n_replica_nodes = 1;
			pp[i].isr_nodes = &rep;
			pp[i].n_isr_nodes = 1;
		}
		/* the topics asked for, or just "t" for all */
		for (i = 0; i < 4 && (i == 0 || i < q.n_topics); i++) {
			kp_metadata_resp_topic_init(&t[i]);
			if (q.n_topics > 0)
				t[i].name = q.topics[i].name;
			else {
				t[i].name.ptr = "t";
				t[i].name.len = 1;
			}
			t[i].partitions = pp;
			t[i].n_partitions = 2;
		}
		r.brokers = &br;
		r.n_brokers = 1;
		r.controller_id = 7;
		r.topics = t;
		r.n_topics = i;
		kp_metadata_resp_encode(&b, h.api_version, &r);
	} else if (h.api_key == KP_API_LIST_OFFSETS) {
		struct kp_list_offsets_req q;
		struct kp_list_offsets_resp r;
		struct kp_list_offsets_resp_topic_response t;
		struct kp_list_offsets_resp_partition_response pr[8];
		int32_t i;

		if (kp_list_offsets_req_decode(p + hl, n - (size_t)hl,
		    h.api_version, &q, &a) < 0 || q.n_topics != 1 ||
		    q.topics[0].n_partitions > 8)
			abort();
		lo_calls++;
		kp_list_offsets_resp_init(&r);
		kp_list_offsets_resp_topic_response_init(&t);
		t.name = q.topics[0].name;
		for (i = 0; i < q.topics[0].n_partitions; i++) {
			const struct kp_list_offsets_req_partition *rp =
			    &q.topics[0].partitions[i];

			kp_list_offsets_resp_partition_response_init(&pr[i]);
			pr[i].partition_index = rp->partition_index;
			pr[i].offset = 100 * rp->partition_index +
			    (rp->timestamp == -1 ? 10 : 0);
			if (rp->partition_index == 1 && lo_calls == 1)
				pr[i].error_code = KP_NOT_LEADER_OR_FOLLOWER;
		}
		t.partitions = pr;
		t.n_partitions = q.topics[0].n_partitions;
		r.topics = &t;
		r.n_topics = 1;
		kp_list_offsets_resp_encode(&b, h.api_version, &r);
	} else
		abort();
	answer(fd, h.api_key, h.api_version, h.correlation_id, &b);
out:
	kp_buf_release(&b);
	kp_arena_release(&a);
	return rc;
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
		conns++;
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

struct seen {
	int	order[8];
	int	n;
	int	errs;
};

static struct seen seen;

static void
cb(void *arg, struct kp_conn *k, int16_t api, int16_t ver,
    const uint8_t *body, size_t len, int err)
{
	(void)k, (void)api, (void)ver, (void)len;
	if (body == NULL && err != 0)
		seen.errs++;
	else
		seen.order[seen.n++] = (int)(intptr_t)arg;
}

static void
queue_metadata(struct kp_conn *k, const char *topic, int tag)
{
	struct kp_metadata_req q;
	struct kp_metadata_req_topic t;
	struct kp_buf *b;

	kp_metadata_req_init(&q);
	kp_metadata_req_topic_init(&t);
	t.name.ptr = topic;
	t.name.len = (int32_t)strlen(topic);
	q.topics = &t;
	q.n_topics = 1;
	b = kp_conn_request_begin(k, KP_API_METADATA, 1);
	kp_metadata_req_encode(b, 1, &q);
	kp_conn_request_end(k, cb, (void *)(intptr_t)tag);
}

int
main(void)
{
	struct sockaddr_un sun;
	struct kp_client_opts o = { 0 };
	struct kp_client *c;
	struct kp_conn *k;
	const struct kp_topic_meta *t;
	pthread_t th;
	char addr[160], why[256];
	int32_t parts[2] = { 0, 1 };
	int64_t off[2];
	int i;

	snprintf(sockpath, sizeof(sockpath), "/tmp/kp-test-client-%d.sock",
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

	/* a dead first address: the client moves on to the next */
	snprintf(addr, sizeof(addr), "unix:/nonexistent/x.sock,unix:%s",
	    sockpath);
	o.brokers = addr;
	o.timeout_ms = 5000;
	c = kp_client_new(&o, why, sizeof(why));
	ok(c != NULL, "bootstrap skips a dead address (%s)", c ? "ok" : why);
	if (c == NULL)
		return tap_done();
	k = kp_client_conn(c, -1);
	ok(k != NULL, "a live connection");
	is_int(kp_conn_version(k, KP_API_METADATA, 1, 8), 5,
	    "Metadata: min(client max 8, broker max 5)");
	is_int(kp_conn_version(k, KP_API_LIST_OFFSETS, 0, 0), -1,
	    "ListOffsets v0 not offered: none");
	ok(strstr(kp_client_error(c), "does not support ListOffsets v0-0") !=
	    NULL, "error names the API: %s", kp_client_error(c));
	is_int(kp_conn_version(k, KP_API_FETCH, 4, 11), -1,
	    "an API the broker lacks: none");

	t = kp_client_topic_wait(c, "t", false);
	ok(t != NULL && t->nparts == 2 && t->parts[1].leader == 7,
	    "metadata cached: 2 partitions led by node 7");
	is_int(kp_client_controller(c), 7, "controller id");
	{
		const char *u = "u";
		size_t nt;

		ok(kp_client_metadata(c, &u, 1, false) == 0 &&
		    kp_client_topic(c, "u") != NULL &&
		    kp_client_topic(c, "t") != NULL &&
		    kp_client_topics(c, &nt) != NULL && nt == 2,
		    "metadata for one topic keeps the others cached");
		ok(kp_client_metadata(c, NULL, 0, false) == 0 &&
		    kp_client_topic(c, "u") == NULL &&
		    kp_client_topic(c, "t") != NULL,
		    "metadata for all topics replaces the cache");
	}
	k = kp_client_leader(c, "t", 1);
	ok(k != NULL && kp_conn_node(k) == 7 && conns == 1,
	    "the one broker's bootstrap connection serves node 7");
	ok(kp_client_leader(c, "t", 2) == NULL &&
	    kp_client_kerr(c) == KP_UNKNOWN_TOPIC_OR_PARTITION,
	    "partition 2: UNKNOWN_TOPIC_OR_PARTITION");

	is_int(kp_client_list_offsets(c, "t", parts, 2, -1, off), 0,
	    "ListOffsets latest, retried past NOT_LEADER_OR_FOLLOWER");
	ok(off[0] == 10 && off[1] == 110, "offsets 10 and 110 (got %lld %lld)",
	    (long long)off[0], (long long)off[1]);
	is_int(lo_calls, 2, "one retry");
	is_int(kp_client_list_offsets(c, "t", parts, 2, -2, off), 0,
	    "ListOffsets earliest");
	ok(off[0] == 0 && off[1] == 100, "offsets 0 and 100");

	/* pipelined: three requests out before any answer is read */
	memset(&seen, 0, sizeof(seen));
	k = kp_client_conn(c, 7);
	for (i = 1; i <= 3; i++)
		queue_metadata(k, "t", i);
	is_int(kp_conn_inflight(k), 3, "three in flight");
	is_int(kp_client_drain(c, 5000), 0, "drained");
	ok(seen.n == 3 && seen.order[0] == 1 && seen.order[1] == 2 &&
	    seen.order[2] == 3, "answers dispatched in request order");
	ok(kp_client_idle(c), "idle after the answers");

	/* a dropped connection fails what is in flight, then reconnects */
	memset(&seen, 0, sizeof(seen));
	queue_metadata(k, "t", 1);
	queue_metadata(k, "close", 2);
	queue_metadata(k, "t", 3);
	kp_client_drain(c, 5000);
	ok(seen.n == 1 && seen.order[0] == 1 && seen.errs == 2,
	    "answered before the drop: ok; after: failed (%d ok, %d failed)",
	    seen.n, seen.errs);
	ok(kp_client_metadata(c, NULL, 0, false) == 0 && conns == 2,
	    "next use reconnects");

	kp_client_free(c);
	shutdown(listen_fd, SHUT_RDWR);
	close(listen_fd);
	unlink(sockpath);
	return tap_done();
}
