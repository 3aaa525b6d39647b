/* kp_net.h -- broker addresses, listening and connecting sockets (TCP and Unix) */
#ifndef KP_NET_H
#define KP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * An address as users write it:
 *   host:port         127.0.0.1:9092, localhost:9092, broker-1:9093
 *   [v6]:port         [::1]:9092
 *   unix:/path        a Unix stream socket
 * host may be empty (":9092") when listening, meaning every address.
 */
#define KP_ADDR_TCP	1
#define KP_ADDR_UNIX	2

#define KP_ADDR_HOST_MAX	256
#define KP_ADDR_PATH_MAX	108	/* sizeof sockaddr_un.sun_path */
#define KP_ADDR_STR_MAX		(KP_ADDR_HOST_MAX + 16 + KP_ADDR_PATH_MAX)
#define KP_DEFAULT_PORT		9092

struct kp_addr {
	int		kind;			/* KP_ADDR_TCP or KP_ADDR_UNIX */
	char		host[KP_ADDR_HOST_MAX];	/* TCP: without brackets */
	uint16_t	port;			/* TCP */
	char		path[KP_ADDR_PATH_MAX];	/* Unix */
};

/*
 * Parse one address (see above). A TCP address needs its port. Returns 0,
 * or -1 with errno EINVAL (bad syntax, port out of range) or ENAMETOOLONG
 * (host or path too long).
 */
int	 kp_addr_parse(const char *, struct kp_addr *);
/*
 * Parse a comma-separated list ("h1:9092,h2:9092" or "unix:/path"); blanks
 * around entries are ignored. *out is a new array (caller frees) of *n
 * entries. Returns 0, or -1 with errno (EINVAL also for an empty list).
 */
int	 kp_addr_list_parse(const char *, struct kp_addr **, size_t *);
/* "127.0.0.1:9092", "[::1]:9092" or "unix:/path" into buf; returns buf. */
char	*kp_addr_format(const struct kp_addr *, char *, size_t);

/*
 * The default Unix socket path of the current user: $XDG_RUNTIME_DIR/
 * kpipe.sock when XDG_RUNTIME_DIR is set to an absolute path, else
 * /tmp/kpipe-<uid>.sock. Written into buf; returns buf, or NULL
 * (ENAMETOOLONG) when it does not fit a socket address.
 */
char	*kp_net_default_socket(char *, size_t);
/*
 * The brokers a client uses when told none: $KPIPE_BROKERS if set and
 * non-empty, else "unix:<default socket>,127.0.0.1:9092". Into buf;
 * returns buf, or NULL when it does not fit.
 */
char	*kp_net_default_brokers(char *, size_t);

/*
 * Listen on an address: a non-blocking, close-on-exec socket with
 * SO_REUSEADDR. Port 0 picks a free port (kp_net_local_addr tells which).
 * A Unix socket is created with mode `mode` (0600 usually); a stale socket
 * file nobody listens on is replaced, a live one gives EADDRINUSE, and a
 * non-socket file at the path gives EEXIST. Returns the fd, or -1 with
 * errno.
 */
int	 kp_net_listen(const struct kp_addr *, int backlog, mode_t mode);
/* Accept one connection: non-blocking, close-on-exec; -1 with errno. */
int	 kp_net_accept(int);
/*
 * The address a socket is bound to (getsockname), so a listener on port 0
 * can report its port and a broker can advertise what clients reach.
 * 0 or -1 with errno.
 */
int	 kp_net_local_addr(int, struct kp_addr *);

/* flags for kp_net_connect */
#define KP_NET_NONBLOCK	0x1	/* leave the socket non-blocking */

/*
 * Connect to an address, trying each resolved address of a host in turn,
 * waiting at most timeout_ms (< 0: no limit) for each. TCP sockets get
 * TCP_NODELAY. The returned fd is close-on-exec and blocking, or
 * non-blocking with KP_NET_NONBLOCK. Returns the fd, or -1 with errno
 * (ETIMEDOUT, ECONNREFUSED, ENOENT for a missing Unix socket, EHOSTUNREACH
 * when a host does not resolve...).
 */
int	 kp_net_connect(const struct kp_addr *, int timeout_ms, int flags);
/*
 * Start a connection without waiting: returns a non-blocking fd whose
 * connect may be in progress (*pending set true; wait for POLLOUT, then
 * call kp_net_connect_finish), or -1 with errno. Only the first resolved
 * address is tried.
 */
int	 kp_net_connect_start(const struct kp_addr *, bool *pending);
/* After POLLOUT on a pending connect: 0, or -1 with errno the reason. */
int	 kp_net_connect_finish(int);

int	 kp_net_set_nonblock(int, bool);

#endif
