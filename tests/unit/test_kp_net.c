/* test_kp_net.c -- address parsing, default paths, listen and connect */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_net.h"
#include "tap.h"

static void
test_parse(void)
{
	struct kp_addr a, *v;
	size_t n;
	char buf[KP_ADDR_STR_MAX];

	ok(kp_addr_parse("127.0.0.1:9092", &a) == 0, "host:port parses");
	is_int(a.kind, KP_ADDR_TCP, "tcp kind");
	ok(strcmp(a.host, "127.0.0.1") == 0, "host");
	is_int(a.port, 9092, "port");
	ok(kp_addr_parse("[::1]:0", &a) == 0 && strcmp(a.host, "::1") == 0 &&
	    a.port == 0, "bracketed v6");
	ok(strcmp(kp_addr_format(&a, buf, sizeof(buf)), "[::1]:0") == 0,
	    "v6 formats with brackets");
	ok(kp_addr_parse(":9093", &a) == 0 && a.host[0] == '\0' &&
	    a.port == 9093, "empty host");
	ok(kp_addr_parse("unix:/tmp/x.sock", &a) == 0 &&
	    a.kind == KP_ADDR_UNIX && strcmp(a.path, "/tmp/x.sock") == 0,
	    "unix path");
	ok(strcmp(kp_addr_format(&a, buf, sizeof(buf)), "unix:/tmp/x.sock") == 0,
	    "unix formats");
	errno = 0;
	ok(kp_addr_parse("localhost", &a) == -1 && errno == EINVAL, "no port");
	ok(kp_addr_parse("h:65536", &a) == -1, "port too big");
	ok(kp_addr_parse("h:-1", &a) == -1, "negative port");
	ok(kp_addr_parse("h:12x", &a) == -1, "junk after port");
	ok(kp_addr_parse("::1:9092", &a) == -1, "bare v6 rejected");
	ok(kp_addr_parse("unix:", &a) == -1, "empty unix path");
	ok(kp_addr_list_parse(" a:1, b:2 ,,unix:/s", &v, &n) == 0 && n == 3,
	    "list of three");
	ok(n == 3 && strcmp(v[1].host, "b") == 0 && v[1].port == 2 &&
	    v[2].kind == KP_ADDR_UNIX, "list entries");
	free(v);
	ok(kp_addr_list_parse(" , ", &v, &n) == -1 && errno == EINVAL,
	    "empty list rejected");
	ok(kp_addr_list_parse("a:1,b", &v, &n) == -1 && v == NULL,
	    "bad entry fails the list");
}

static void
test_defaults(void)
{
	char buf[256], want[64];

	setenv("XDG_RUNTIME_DIR", "/run/user/77", 1);
	ok(strcmp(kp_net_default_socket(buf, sizeof(buf)),
	    "/run/user/77/kpipe.sock") == 0, "runtime dir socket");
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	snprintf(want, sizeof(want), "/tmp/kpipe-%lu.sock",
	    (unsigned long)getuid());
	ok(strcmp(kp_net_default_socket(buf, sizeof(buf)), want) == 0,
	    "relative runtime dir ignored");
	unsetenv("XDG_RUNTIME_DIR");
	ok(strcmp(kp_net_default_socket(buf, sizeof(buf)), want) == 0,
	    "tmp fallback");
	unsetenv("KPIPE_BROKERS");
	snprintf(want, sizeof(want), "unix:/tmp/kpipe-%lu.sock,127.0.0.1:9092",
	    (unsigned long)getuid());
	ok(strcmp(kp_net_default_brokers(buf, sizeof(buf)), want) == 0,
	    "default brokers");
	setenv("KPIPE_BROKERS", "h:1", 1);
	ok(strcmp(kp_net_default_brokers(buf, sizeof(buf)), "h:1") == 0,
	    "KPIPE_BROKERS wins");
	unsetenv("KPIPE_BROKERS");
	ok(kp_net_default_socket(buf, 8) == NULL && errno == ENAMETOOLONG,
	    "too small buffer");
}

static void
test_tcp(void)
{
	struct kp_addr a, bound;
	int lfd, cfd, sfd;
	bool pending;
	char c = 'x';

	kp_addr_parse("127.0.0.1:0", &a);
	lfd = kp_net_listen(&a, 16, 0600);
	ok(lfd >= 0, "listen on port 0");
	ok(kp_net_local_addr(lfd, &bound) == 0 && bound.port != 0 &&
	    strcmp(bound.host, "127.0.0.1") == 0, "bound port reported");
	cfd = kp_net_connect(&bound, 2000, 0);
	ok(cfd >= 0, "blocking connect");
	ok(write(cfd, &c, 1) == 1, "write on connected socket");
	close(cfd);
	cfd = kp_net_connect_start(&bound, &pending);
	ok(cfd >= 0, "non-blocking connect started");
	usleep(20000);
	ok(kp_net_connect_finish(cfd) == 0, "non-blocking connect finished");
	sfd = kp_net_accept(lfd);
	ok(sfd >= 0, "accept");
	close(sfd);
	close(cfd);
	close(lfd);
	errno = 0;
	ok(kp_net_connect(&bound, 2000, 0) == -1 && errno == ECONNREFUSED,
	    "refused after close");
}

static void
test_unix(void)
{
	char dir[] = "/tmp/kpnet.XXXXXX", path[128];
	struct kp_addr a, b;
	struct stat st;
	int lfd, lfd2, cfd;
	FILE *fp;

	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof(path), "unix:%s/s.sock", dir);
	kp_addr_parse(path, &a);
	lfd = kp_net_listen(&a, 16, 0600);
	ok(lfd >= 0, "unix listen");
	ok(stat(a.path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	ok(kp_net_local_addr(lfd, &b) == 0 && b.kind == KP_ADDR_UNIX &&
	    strcmp(b.path, a.path) == 0, "unix local address");
	errno = 0;
	ok(kp_net_listen(&a, 16, 0600) == -1 && errno == EADDRINUSE,
	    "live socket is in use");
	cfd = kp_net_connect(&a, 1000, KP_NET_NONBLOCK);
	ok(cfd >= 0, "unix connect");
	close(cfd);
	close(lfd);	/* the file stays: stale */
	lfd2 = kp_net_listen(&a, 16, 0600);
	ok(lfd2 >= 0, "stale socket replaced");
	close(lfd2);
	unlink(a.path);
	fp = fopen(a.path, "w");
	fclose(fp);
	errno = 0;
	ok(kp_net_listen(&a, 16, 0600) == -1 && errno == EEXIST,
	    "regular file not clobbered");
	unlink(a.path);
	errno = 0;
	ok(kp_net_connect(&a, 1000, 0) == -1 && errno == ENOENT,
	    "missing socket is ENOENT");
	rmdir(dir);
}

int
main(void)
{
	test_parse();
	test_defaults();
	test_tcp();
	test_unix();
	return tap_done();
}
