/* startup.c -- time a server from exec to its ready line, then its idle RSS, then stop it */
#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
usage(void)
{
	fprintf(stderr, "usage: startup ready-prefix idle-seconds timeout-seconds "
	    "command [arg ...]\n");
	exit(EX_USAGE);
}

/* VmRSS of pid in KiB, -1 if it cannot be read. */
static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

static volatile sig_atomic_t timed_out;

static void
on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/*
 * Prints "startup_ms=N rss_kib=N": the time from fork to the first line
 * of the child's stdout that starts with ready-prefix, and its resident
 * set after idle-seconds with no clients.  The child is then sent SIGTERM
 * (SIGKILL after 10 s) and reaped, so nothing outlives this program.
 */
int
main(int argc, char **argv)
{
	const char *prefix, *errstr = NULL;
	long long idle, limit;
	struct sigaction sa;
	char *line = NULL;
	size_t cap = 0;
	double t0, ready = -1;
	int fds[2], st, i;
	long rss;
	pid_t pid;
	FILE *fp;

	if (argc < 5)
		usage();
	prefix = argv[1];
	if ((idle = strtonum(argv[2], 0, 3600, &errstr)), errstr != NULL)
		errx(EX_USAGE, "idle-seconds %s: %s", argv[2], errstr);
	if ((limit = strtonum(argv[3], 1, 3600, &errstr)), errstr != NULL)
		errx(EX_USAGE, "timeout-seconds %s: %s", argv[3], errstr);

	if (pipe2(fds, O_CLOEXEC) == -1)
		err(EX_OSERR, "pipe");
	t0 = now_ms();
	if ((pid = fork()) == -1)
		err(EX_OSERR, "fork");
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(EX_OSERR);
		execvp(argv[4], argv + 4);
		_exit(EX_UNAVAILABLE);
	}
	close(fds[1]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)limit);
	if ((fp = fdopen(fds[0], "r")) == NULL)
		err(EX_OSERR, "fdopen");
	while (!timed_out && getline(&line, &cap, fp) != -1)
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			ready = now_ms() - t0;
			break;
		}
	alarm(0);
	free(line);

	if (ready >= 0)
		sleep((unsigned)idle);
	rss = rss_kib(pid);
	kill(pid, SIGTERM);
	for (i = 0; i < 1000 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 1000) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	fclose(fp);
	if (ready < 0)
		errx(EX_UNAVAILABLE, "%s: no '%s' line within %llds", argv[4],
		    prefix, limit);
	printf("startup_ms=%.1f rss_kib=%ld\n", ready, rss);
	return 0;
}
