/* zk.h -- what zk.c, controller.c and view.c share: the session, its thread, Kafka's znode JSON */
#ifndef KB_ZK_H
#define KB_ZK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* libzookeeper_mt: the synchronous calls exist only in the threaded API */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

#include "cluster.h"

#define KB_ZK_DATA_MAX	(1024 * 1024)	/* ZooKeeper's own jute.maxbuffer */

/*
 * The session. Fields marked (thread) belong to the session thread, (mu)
 * are shared under mu, (loop) belong to the loop thread; the rest are set
 * before the thread starts and only read after. zh itself is thread-safe
 * (libzookeeper_mt) but is replaced after a session expiry: users hold
 * zlock for reading, the replacement takes it for writing.
 */
struct kb_cluster {
	zhandle_t	*zh;
	pthread_rwlock_t zlock;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 th;
	bool		 running;
	int		 efd;		/* the thread's "a new view" */
	/* identity */
	int32_t		 id;
	char		 host[256];	/* advertised */
	int32_t		 port;
	const char	*connect;
	int		 session_ms;
	int		 connect_ms;
	bool		 unclean;	/* unclean.leader.election.enable */
	int32_t		 num_partitions;
	int16_t		 default_rf;
	bool		 delete_enable;
	int		 verbose;
	/* (mu) */
	zhandle_t	*zh_live;	/* the handle whose events count */
	bool		 dirty;		/* a watch fired: read everything again */
	bool		 quit;
	bool		 expired;	/* the session is gone: a new one */
	int		 zstate;	/* last session state seen */
	struct kb_cl_view *pending;	/* newest view, not yet taken */
	bool		 controller;	/* this broker holds /controller */
	int32_t		 ctl_epoch;	/* controller_epoch while controller */
	int32_t		 ctl_epoch_ver;	/* its znode version */
	/* (thread) */
	bool		 registered;
	uint64_t	 gen;
	/*
	 * Brokers this broker has seen registered since it started: one of
	 * them missing from a view went away while we watched (the
	 * controller drops it from the ISRs it followed in); one never seen
	 * (a whole cluster restarting) is merely not back yet.
	 */
	int32_t		*seen;
	int32_t		 nseen;
	char		*last_sig;	/* the published view, as text */
	/* (loop) */
	struct kb_cl_view *cur;
	/* reassignment writes of ours the view may not show yet */
	struct kb_cl_moved *moved;
	size_t		 nmoved;
};

/* A topic's assignment znode version this broker wrote (controller.c). */
struct kb_cl_moved {
	char		*topic;
	int32_t		 version;
};

void	 kb_cl_moved_free(struct kb_cluster *);

/* zk.c: znode helpers on the current handle (any thread). ZOK or Z*. */
int	 kb_zk_get(struct kb_cluster *, const char *, bool watch, char **,
	    int *, struct Stat *);	/* *data new, NUL-terminated */
int	 kb_zk_children(struct kb_cluster *, const char *, bool watch,
	    struct String_vector *);
int	 kb_zk_exists(struct kb_cluster *, const char *, bool watch,
	    struct Stat *);
int	 kb_zk_create(struct kb_cluster *, const char *, const char *, int);
int	 kb_zk_multi(struct kb_cluster *, int, const zoo_op_t *,
	    zoo_op_result_t *);
/* Live broker ids, sorted (new array, caller frees). ZOK or Z*. */
int	 kb_zk_live(struct kb_cluster *, int32_t **, int32_t *);
/* ZooKeeper's error as a Kafka one for the write calls. */
int	 kb_zk_kerr(int);
void	 kb_zk_wake(struct kb_cluster *);	/* read everything again */
/* kb_debug for the session thread: only with -vv. */
void	 kb_debug_cl(const struct kb_cluster *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Kafka's JSON (zk.c). Parsers return 0, or -1 for data not understood. */
char	*kb_json_state(int32_t cepoch, int32_t leader, int32_t lepoch,
	    const int32_t *, int32_t);		/* new */
int	 kb_json_parse_state(const char *, int32_t *cepoch, int32_t *leader,
	    int32_t *lepoch, int32_t **isr, int32_t *nisr);
/* The topic's assignment; parts with parts[i] NULL as absent. */
char	*kb_json_assignment(const struct kb_cl_topic *);	/* new */
int	 kb_json_parse_assignment(const char *, struct kb_cl_topic *);

/* Kafka's Uuid text: base64url without padding, 22 characters. */
void	 kb_uuid_str(const uint8_t[16], char[23]);
int	 kb_uuid_parse(const char *, uint8_t[16]);	/* 0 or -1 */

/* view.c */
void	 kb_cl_view_free(struct kb_cl_view *);
void	 kb_cl_topic_release(struct kb_cl_topic *);
int32_t	*kb_cl_ids_dup(const int32_t *, int32_t);

/* controller.c: this broker's controller work on a fresh view (thread). */
void	 kb_controller_elect_self(struct kb_cluster *);
void	 kb_controller_run(struct kb_cluster *, const struct kb_cl_view *);

#endif
