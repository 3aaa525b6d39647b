/* syncshim.c -- LD_PRELOAD hook that records each file's length at every successful fsync/fdatasync */
/*
 * A machine crash loses what the page cache had not written back. The
 * fault tests simulate one by cutting every segment file back to the
 * length it had at its last fsync, as this shim logs it to $KP_SYNC_LOG:
 * one line "length path" per sync (O_APPEND, so lines never interleave).
 * Built by the test itself (cc -shared -fPIC), not by the Makefile.
 */
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	fsync(int);
int	fdatasync(int);

static void
record(int fd)
{
	char link[64], path[PATH_MAX], line[PATH_MAX + 32];
	const char *logp = getenv("KP_SYNC_LOG");
	struct stat st;
	ssize_t n;
	int lfd, len, saved = errno;

	if (logp == NULL || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto out;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		goto out;
	path[n] = '\0';
	len = snprintf(line, sizeof(line), "%lld %s\n",
	    (long long)st.st_size, path);
	if (len <= 0 || (size_t)len >= sizeof(line))
		goto out;
	if ((lfd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		goto out;
	if (write(lfd, line, (size_t)len) != len)
		(void)0;	/* a lost line only makes the cut harsher */
	close(lfd);
out:
	errno = saved;
}

int
fsync(int fd)
{
	static int (*real)(int);
	int rc;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	if ((rc = real(fd)) == 0)
		record(fd);
	return rc;
}

int
fdatasync(int fd)
{
	static int (*real)(int);
	int rc;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
	if ((rc = real(fd)) == 0)
		record(fd);
	return rc;
}
