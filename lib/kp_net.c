/* kp_net.c -- broker addresses, listening and connecting sockets (TCP and Unix) */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp_net.h"

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
kp_addr_parse(const char *s, struct kp_addr *a)
{
	const char *colon, *host;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0) {
		s += 5;
		if (*s == '\0')
			goto bad;
		if (strlen(s) >= sizeof(a->path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		a->kind = KP_ADDR_UNIX;
		strcpy(a->path, s);
		return 0;
	}
	a->kind = KP_ADDR_TCP;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			goto bad;
		host = s;
		hlen = (size_t)(colon - s);
		if (memchr(host, ':', hlen) != NULL)
			goto bad;	/* a bare IPv6 address needs brackets */
	}
	if (hlen >= sizeof(a->host)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	if (parse_port(colon + 1, &a->port) == -1)
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
kp_addr_list_parse(const char *s, struct kp_addr **out, size_t *n)
{
	struct kp_addr *v = NULL, *nv;
	size_t cnt = 0;
	char *copy, *p, *tok, *save = NULL;

	*out = NULL;
	*n = 0;
	if ((copy = strdup(s)) == NULL)
		return -1;
	for (p = copy; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		char *e;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*tok == '\0')
			continue;
		if ((nv = reallocarray(v, cnt + 1, sizeof(*v))) == NULL)
			goto fail;
		v = nv;
		if (kp_addr_parse(tok, &v[cnt]) == -1)
			goto fail;
		cnt++;
	}
	if (cnt == 0) {
		errno = EINVAL;
		goto fail;
	}
	free(copy);
	*out = v;
	*n = cnt;
	return 0;
fail:
	{
		int e = errno;

		free(copy);
		free(v);
		errno = e;
	}
	return -1;
}

char *
kp_addr_format(const struct kp_addr *a, char *buf, size_t len)
{
	if (a->kind == KP_ADDR_UNIX)
		snprintf(buf, len, "unix:%s", a->path);
	else if (strchr(a->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", a->host, (unsigned)a->port);
	else
		snprintf(buf, len, "%s:%u", a->host, (unsigned)a->port);
	return buf;
}

char *
kp_net_default_socket(char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	int n;

	if (rt != NULL && rt[0] == '/')
		n = snprintf(buf, len, "%s/kpipe.sock", rt);
	else
		n = snprintf(buf, len, "/tmp/kpipe-%lu.sock",
		    (unsigned long)getuid());
	if (n < 0 || (size_t)n >= len || (size_t)n >= KP_ADDR_PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return buf;
}

char *
kp_net_default_brokers(char *buf, size_t len)
{
	const char *env = getenv("KPIPE_BROKERS");
	char sock[KP_ADDR_PATH_MAX];
	int n;

	if (env != NULL && *env != '\0')
		n = snprintf(buf, len, "%s", env);
	else if (kp_net_default_socket(sock, sizeof(sock)) == NULL)
		return NULL;
	else
		n = snprintf(buf, len, "unix:%s,127.0.0.1:%d", sock,
		    KP_DEFAULT_PORT);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return buf;
}

int
kp_net_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

static void
unix_sockaddr(const struct kp_addr *a, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, a->path, strlen(a->path));
}

/* A socket file nobody listens on is left over from a dead broker. */
static int
unix_clear_stale(const struct kp_addr *a)
{
	struct stat st;
	int fd;

	if (lstat(a->path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	fd = kp_net_connect(a, 1000, 0);
	if (fd != -1) {
		close(fd);
		errno = EADDRINUSE;
		return -1;
	}
	if (errno != ECONNREFUSED && errno != ENOENT)
		return -1;
	if (unlink(a->path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
listen_unix(const struct kp_addr *a, int backlog, mode_t mode)
{
	struct sockaddr_un sun;
	int fd, e;

	if (unix_clear_stale(a) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	unix_sockaddr(a, &sun);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	/* Before listen(), so nobody connects through a wider mode. */
	if (chmod(a->path, mode) == -1 || listen(fd, backlog) == -1) {
		e = errno;
		unlink(a->path);
		errno = e;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static struct addrinfo *
resolve(const struct kp_addr *a, bool passive)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%u", (unsigned)a->port);
	rc = getaddrinfo(a->host[0] ? a->host : NULL, port, &hints, &res);
	if (rc != 0) {
		errno = rc == EAI_SYSTEM ? errno :
		    rc == EAI_MEMORY ? ENOMEM : EHOSTUNREACH;
		return NULL;
	}
	return res;
}

static int
listen_tcp(const struct kp_addr *a, int backlog)
{
	struct addrinfo *res, *ai;
	int fd = -1, on = 1, e = EADDRNOTAVAIL;

	if ((res = resolve(a, true)) == NULL)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		errno = e;
	return fd;
}

int
kp_net_listen(const struct kp_addr *a, int backlog, mode_t mode)
{
	if (a->kind == KP_ADDR_UNIX)
		return listen_unix(a, backlog, mode);
	if (a->kind == KP_ADDR_TCP)
		return listen_tcp(a, backlog);
	errno = EINVAL;
	return -1;
}

int
kp_net_accept(int lfd)
{
	int fd, on = 1;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd != -1 && ss.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return fd;
}

int
kp_net_local_addr(int fd, struct kp_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(a, 0, sizeof(*a));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
		size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
		    len - offsetof(struct sockaddr_un, sun_path) : 0;

		if (n >= sizeof(a->path))
			n = sizeof(a->path) - 1;
		a->kind = KP_ADDR_UNIX;
		memcpy(a->path, sun->sun_path, n);
		a->path[n] = '\0';
		return 0;
	}
	a->kind = KP_ADDR_TCP;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, a->host, sizeof(a->host));
		a->port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a->host, sizeof(a->host));
		a->port = ntohs(s6->sin6_port);
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

int
kp_net_connect_finish(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		return -1;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect a fresh non-blocking socket to sa, waiting up to timeout_ms. */
static int
connect_one(int family, const struct sockaddr *sa, socklen_t salen,
    int timeout_ms, int flags)
{
	struct pollfd pfd;
	int fd, e, on = 1, rc;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, sa, salen) == -1) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		for (;;) {
			int wait = deadline < 0 ? -1 :
			    (int)(deadline - now_ms() > 0 ?
			    deadline - now_ms() : 0);

			rc = poll(&pfd, 1, wait);
			if (rc == -1 && errno == EINTR)
				continue;
			if (rc == -1)
				goto fail;
			if (rc == 0) {
				errno = ETIMEDOUT;
				goto fail;
			}
			break;
		}
		if (kp_net_connect_finish(fd) == -1)
			goto fail;
	}
	if (!(flags & KP_NET_NONBLOCK) && kp_net_set_nonblock(fd, false) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
kp_net_connect(const struct kp_addr *a, int timeout_ms, int flags)
{
	struct addrinfo *res, *ai;
	int fd = -1, e = EHOSTUNREACH;

	if (a->kind == KP_ADDR_UNIX) {
		struct sockaddr_un sun;

		unix_sockaddr(a, &sun);
		return connect_one(AF_UNIX, (struct sockaddr *)&sun,
		    sizeof(sun), timeout_ms, flags);
	}
	if (a->kind != KP_ADDR_TCP) {
		errno = EINVAL;
		return -1;
	}
	if ((res = resolve(a, false)) == NULL)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    timeout_ms, flags);
		if (fd != -1)
			break;
		e = errno;
	}
	freeaddrinfo(res);
	if (fd == -1)
		errno = e;
	return fd;
}

int
kp_net_connect_start(const struct kp_addr *a, bool *pending)
{
	struct addrinfo *res = NULL;
	struct sockaddr_un sun;
	const struct sockaddr *sa;
	socklen_t salen;
	int fd, family, e, on = 1;

	*pending = false;
	if (a->kind == KP_ADDR_UNIX) {
		unix_sockaddr(a, &sun);
		sa = (struct sockaddr *)&sun;
		salen = sizeof(sun);
		family = AF_UNIX;
	} else {
		if ((res = resolve(a, false)) == NULL)
			return -1;
		sa = res->ai_addr;
		salen = res->ai_addrlen;
		family = res->ai_family;
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, sa, salen) == -1) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			goto fail;
		*pending = true;
	}
	if (res != NULL)
		freeaddrinfo(res);
	return fd;
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	errno = e;
	return -1;
}
