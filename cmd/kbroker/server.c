/* server.c -- kbroker's event loop: listeners, connections, signals, periodic log work */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "kp_bgio.h"
#include "kp_err.h"
#include "kp_store.h"
#include "kbroker.h"
#include "cluster.h"
#include "txn_coord.h"

#define MAX_EVENTS	128
#define STOP_DRAIN_MS	5000	/* at most this long to send what is queued */
#define TAG_SIGNAL	((uint64_t)1 << 62)
#define TAG_LISTENER	((uint64_t)1 << 63)

int64_t
kb_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
kb_now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
kb_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "kbroker: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void
kb_debug(const struct kb_broker *b, const char *fmt, ...)
{
	va_list ap;

	if (b->cfg->verbose < 2)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "kbroker: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
report_recovery(void *arg, const char *topic, int32_t part,
    const struct kp_log_recovery *rec)
{
	struct kb_broker *b = arg;
	char lost[160] = "";

	if (rec->clean) {
		if (b->cfg->verbose)
			kb_log("%s-%d: loaded %d segment(s)", topic, part,
			    rec->segments);
		return;
	}
	if (rec->short_of_checkpoint)
		snprintf(lost, sizeof(lost), "; %lld record(s) lost: the "
		    "checkpointed high watermark was %lld (a machine crash "
		    "dropped unflushed data)",
		    (long long)(rec->checkpoint_hw - rec->end_offset),
		    (long long)rec->checkpoint_hw);
	/* One line per partition that needed work, all of it said. */
	kb_log("%s-%d: recovered from offset %lld: %lld batch(es) checked, "
	    "%lld byte(s) truncated, %d segment(s) dropped, %d index(es) "
	    "rebuilt%s; log ends at offset %lld%s", topic, part,
	    (long long)rec->recovered_from, (long long)rec->batches_checked,
	    (long long)rec->truncated_bytes, rec->segments_dropped,
	    rec->indexes_rebuilt, rec->leftovers_removed ||
	    rec->swaps_completed ? ", leftovers tidied" : "",
	    (long long)rec->end_offset, lost);
}

/* mkdir -p, for the default data folder under ~/.local/share. */
static int
mkdirs(const char *path)
{
	char tmp[4096];
	size_t len = strlcpy(tmp, path, sizeof(tmp));

	if (len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * A single node is every partition's only replica: whatever recovery kept
 * in a log is committed, so the high watermark is the log end. In a
 * cluster the records past the checkpointed high watermark may never have
 * reached the ISR: the checkpoint stays, and a leader moves it on from
 * its ISR (isr.c), a follower from its leader's (replica.c).
 */
static void
commit_all(struct kb_broker *b)
{
	struct kp_topic *t = NULL;

	if (kb_cluster_mode(b))
		return;
	while ((t = kp_store_topic_next(b->store, t)) != NULL)
		for (int32_t p = 0; p < t->partitions; p++)
			if (t->logs[p] != NULL)
				kp_log_set_high_watermark(t->logs[p],
				    kp_log_end_offset(t->logs[p]));
}

static int
open_listeners(struct kb_broker *b)
{
	const struct kb_config *cfg = b->cfg;
	struct epoll_event ev;

	if ((b->lis = calloc(cfg->nlisten, sizeof(*b->lis))) == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		struct kb_listener *l = &b->lis[i];
		char want[KP_ADDR_STR_MAX];

		kp_addr_format(&cfg->listen[i], want, sizeof(want));
		l->fd = kp_net_listen(&cfg->listen[i], 1024, 0600);
		if (l->fd == -1) {
			kb_log("listen %s: %s", want, strerror(errno));
			return -1;
		}
		b->nlis++;
		if (kp_net_local_addr(l->fd, &l->addr) == -1)
			l->addr = cfg->listen[i];
		kp_addr_format(&l->addr, l->name, sizeof(l->name));
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = TAG_LISTENER | i;
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, l->fd, &ev) == -1)
			return -1;
	}
	return 0;
}

static void
close_listeners(struct kb_broker *b)
{
	for (size_t i = 0; i < b->nlis; i++) {
		if (b->lis[i].fd == -1)
			continue;
		close(b->lis[i].fd);
		b->lis[i].fd = -1;
		if (b->lis[i].addr.kind == KP_ADDR_UNIX)
			unlink(b->lis[i].addr.path);
	}
}

/*
 * Out of file descriptors, a pending connection would make the listener
 * readable forever: give up the spare descriptor, accept and close it, so
 * the client sees a closed connection instead of a hang, and take the
 * spare back.
 */
static int spare_fd = -1;

static void
shed_connection(struct kb_listener *l)
{
	int fd;

	if (spare_fd != -1) {
		close(spare_fd);
		spare_fd = -1;
	}
	if ((fd = kp_net_accept(l->fd)) != -1)
		close(fd);
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
accept_all(struct kb_broker *b, struct kb_listener *l)
{
	struct epoll_event ev;
	struct kb_conn *c;
	int fd;

	for (int n = 0; n < 64; n++) {
		if ((fd = kp_net_accept(l->fd)) == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				kb_log("accept on %s: %s: connection closed",
				    l->name, strerror(errno));
				shed_connection(l);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				kb_log("accept on %s: %s", l->name,
				    strerror(errno));
			return;
		}
		if ((int64_t)b->nconns >= b->cfg->max_connections) {
			kb_log("%s: max.connections (%lld) reached, refusing",
			    l->name, (long long)b->cfg->max_connections);
			close(fd);
			continue;
		}
		if ((c = kb_conn_new(b, fd, l)) == NULL) {
			close(fd);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			kb_conn_free(c);
			continue;
		}
		c->events = EPOLLIN;
		TAILQ_INSERT_TAIL(&b->conns, c, link);
		b->nconns++;
		kb_debug(b, "%s: connected on %s", c->peer, l->name);
	}
}

static void
conn_kill(struct kb_conn *c)
{
	if (c->fd != -1) {
		epoll_ctl(c->b->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->dead = true;
}

/* Free connections that died during this round. */
static void
reap(struct kb_broker *b)
{
	struct kb_conn *c, *next;

	for (c = TAILQ_FIRST(&b->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (!c->dead)
			continue;
		kb_debug(b, "%s: closed", c->peer);
		kb_waiters_forget(b, c);
		kb_durable_forget(b, c);
		kb_repl_forget_conn(b, c);
		kb_conn_forget_queue(c);
		conn_kill(c);
		TAILQ_REMOVE(&b->conns, c, link);
		b->nconns--;
		kb_conn_free(c);
	}
}

static void
on_conn_event(struct kb_conn *c, uint32_t events)
{
	if (c->dead)
		return;
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_kill(c);
		return;
	}
	if ((events & EPOLLOUT) && kb_conn_on_write(c) == -1) {
		conn_kill(c);
		return;
	}
	if ((events & EPOLLIN) && kb_conn_on_read(c) == -1)
		conn_kill(c);
}

/*
 * Connections that used up their requests for a round go on now, after
 * everyone with an event had a turn.
 */
static void
serve_backlog(struct kb_broker *b)
{
	struct kb_conn *c;

	if (b->backlogged == 0)
		return;
	b->backlogged = 0;
	TAILQ_FOREACH(c, &b->conns, link) {
		if (!c->backlog)
			continue;
		c->backlog = false;
		if (!c->dead && kb_conn_on_write(c) == -1)
			conn_kill(c);
	}
}

static void
tick(struct kb_broker *b, int64_t now)
{
	struct kp_log *bad = NULL;
	struct kb_conn *c;
	char path[PATH_MAX];
	int e;

	if (kp_store_tick(b->store, kb_now_wall(), b->cfg->ckpt_ms,
	    &bad) == -1)
		kb_log("log %s: periodic work: %s",
		    bad ? kp_log_dir(bad) : "?", strerror(errno));
	if ((e = kp_bgio_failed(path, sizeof(path))) != 0)
		kb_log("%s: %s", path, strerror(e));
	kb_tick_hooks(b, kb_now_wall());
	if (b->cfg->idle_ms < 0)
		return;
	TAILQ_FOREACH(c, &b->conns, link) {
		if (!c->dead && TAILQ_EMPTY(&c->resps) &&
		    now - c->last_active > b->cfg->idle_ms) {
			kb_debug(b, "%s: idle, closing", c->peer);
			conn_kill(c);
		}
	}
}

static int
next_timeout(struct kb_broker *b, int64_t now)
{
	int64_t t = b->next_tick - now;
	int w = kb_waiters_timeout(b), g = kb_group_timeout(b);

	if (t < 0)
		t = 0;
	if (w >= 0 && w < t)
		t = w;
	if (g >= 0 && g < t)
		t = g;
	if (b->backlogged > 0)
		t = 0;
	return (int)t;
}

/* Every connection and every segment being sent holds a descriptor. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int
setup_signals(struct kb_broker *b)
{
	sigset_t set;
	struct epoll_event ev;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	b->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (b->sigfd == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_SIGNAL;
	return epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->sigfd, &ev);
}

static void
on_signal(struct kb_broker *b)
{
	struct signalfd_siginfo si;

	while (read(b->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (!b->stopping)
			kb_log("signal %d: stopping", (int)si.ssi_signo);
		b->stopping = true;
	}
}

static void
loop_once(struct kb_broker *b, int timeout)
{
	struct epoll_event evs[MAX_EVENTS];
	int n;
	int64_t now;

	n = epoll_wait(b->epfd, evs, MAX_EVENTS, timeout);
	if (n == -1 && errno != EINTR) {
		kb_log("epoll_wait: %s", strerror(errno));
		b->stopping = true;
		return;
	}
	b->round++;
	for (int i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;

		if (KB_TAG_IS_REPL(tag))
			kb_repl_on_event(b, tag, evs[i].events);
		else if (tag == TAG_SIGNAL)
			on_signal(b);
		else if (tag == KB_TAG_DURABLE)
			kb_durable_on_event(b);
		else if (tag == KB_TAG_CLUSTER)
			kb_cluster_on_event(b);
		else if (tag == KB_TAG_MARKERS)
			kb_txn_markers_on_event(b);
		else if (tag & TAG_LISTENER) {
			size_t li = (size_t)(tag & ~TAG_LISTENER);

			if (!b->stopping && li < b->nlis && b->lis[li].fd != -1)
				accept_all(b, &b->lis[li]);
		} else
			on_conn_event(evs[i].data.ptr, evs[i].events);
	}
	serve_backlog(b);
	/* Group commit: one sync per partition for the whole round. */
	kb_durable_commit(b);
	now = kb_now_mono();
	kb_group_poll(b);
	kb_txn_coord_round();
	kb_wake_waiters(b, b->wake);
	if (now >= b->next_tick) {
		tick(b, now);
		b->next_tick = now + b->cfg->tick_ms;
	}
	reap(b);
}

/* Stop: no new connections or requests, answer what is queued, flush. */
static void
drain(struct kb_broker *b)
{
	int64_t end = kb_now_mono() + STOP_DRAIN_MS;
	struct kb_conn *c;

	close_listeners(b);
	kb_wake_waiters(b, true);	/* long polls answer now */
	TAILQ_FOREACH(c, &b->conns, link) {
		if (!c->dead) {
			c->closing = true;
			if (kb_conn_on_write(c) == -1)
				conn_kill(c);
		}
	}
	reap(b);
	while (!TAILQ_EMPTY(&b->conns) && kb_now_mono() < end)
		loop_once(b, 100);
	while ((c = TAILQ_FIRST(&b->conns)) != NULL) {
		conn_kill(c);
		reap(b);
	}
}

static int
print_ready(struct kb_broker *b)
{
	for (size_t i = 0; i < b->nlis; i++) {
		printf("listening %s\n", b->lis[i].name);
		kb_log("listening %s", b->lis[i].name);
	}
	return fflush(stdout) == EOF ? -1 : 0;
}

int
kb_server_run(struct kb_broker *b)
{
	char *bad = NULL;
	int rc = EX_OK;

	TAILQ_INIT(&b->conns);
	TAILQ_INIT(&b->waiting);
	kp_arena_init(&b->arena);
	kp_arena_init(&b->wait_arena);
	b->sigfd = -1;
	raise_fd_limit();
	snprintf(b->cluster_id, sizeof(b->cluster_id), "kpipe-cluster");
	if ((b->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    setup_signals(b) == -1) {
		kb_log("event loop: %s", strerror(errno));
		return EX_OSERR;
	}
	if ((b->pstate = kb_pstate_new()) == NULL) {
		kb_log("producer state: %s", strerror(errno));
		return EX_OSERR;
	}
	if (mkdirs(b->cfg->data_dir) == -1) {
		kb_log("data directory '%s': %s", b->cfg->data_dir,
		    strerror(errno));
		return EX_CANTCREAT;
	}
	b->store = kp_store_open(b->cfg->data_dir, &b->cfg->log, kb_now_wall(),
	    report_recovery, b, &bad);
	if (b->store == NULL) {
		kb_log("data directory '%s': %s", bad ? bad : b->cfg->data_dir,
		    strerror(errno));
		free(bad);
		return EX_IOERR;
	}
	kb_log("data directory %s: %zu topic(s)", b->cfg->data_dir,
	    kp_store_topic_count(b->store));
	if (kp_bgio_start() == -1)
		kb_log("background file thread: %s (the loop does it)",
		    strerror(errno));
	commit_all(b);
	if (kb_init_hooks(b) == -1) {
		rc = EX_SOFTWARE;
		goto out;
	}
	if (open_listeners(b) == -1) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (kb_cluster_start(b) == -1) {
		rc = EX_UNAVAILABLE;
		goto out;
	}
	if (print_ready(b) == -1) {
		rc = EX_IOERR;
		goto out;
	}
	b->next_tick = kb_now_mono() + b->cfg->tick_ms;
	while (!b->stopping)
		loop_once(b, next_timeout(b, kb_now_mono()));
	drain(b);
out:
	close_listeners(b);
	kb_cluster_stop(b);
	kb_fini_hooks(b);
	if (kp_store_flush(b->store) == -1) {
		kb_log("flush: %s", strerror(errno));
		rc = EX_IOERR;
	}
	kp_store_close(b->store);
	kp_bgio_stop();
	kb_pstate_free(b->pstate);
	free(b->lis);
	kp_arena_release(&b->arena);
	kp_arena_release(&b->wait_arena);
	close(b->epfd);
	if (b->sigfd != -1)
		close(b->sigfd);
	if (spare_fd != -1)
		close(spare_fd);
	if (rc == EX_OK)
		kb_log("stopped");
	return rc;
}
