/* test_fuzz_regress.c -- replay fuzz crashers and seed corpora through the harness checks */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_gzip.h"
#include "fuzz_json.h"
#include "fuzz_recovery.h"
#include "tap.h"

/*
 * Every file under tests/fuzz/regress/<harness>/ is an input a fuzzer once
 * crashed on; tests/fuzz/corpus/<harness>/ are the seeds. Each runs in a
 * child through the same check the libFuzzer harness runs (the shared
 * headers), so a relapse fails here under `make check` and SAN=1 rather
 * than only under `make fuzz`. The checks abort on a broken invariant.
 */

static char scratch[PATH_MAX];	/* the recovery check's folder */

static int
load(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t n;

	if (f == NULL || fstat(fileno(f), &st) < 0) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	*out = malloc((size_t)st.st_size + 1);
	n = *out ? fread(*out, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	*len = n;
	return *out != NULL && n == (size_t)st.st_size ? 0 : -1;
}

static void
run_json(const uint8_t *p, size_t n)
{
	fuzz_json_lines(p, n);
}

static void
run_gzip(const uint8_t *p, size_t n)
{
	fuzz_gzip_one(p, n);
}

static void
run_recovery(const uint8_t *p, size_t n)
{
	fuzz_recovery_one(scratch, p, n);
}

/* One input in a child: it passes when the child exits 0. */
static int
replay(const char *path, void (*fn)(const uint8_t *, size_t))
{
	uint8_t *p = NULL;
	size_t n = 0;
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (load(path, &p, &n) < 0)
			_exit(2);
		fn(p, n);
		free(p);
		exit(0);	/* not _exit: LeakSanitizer checks at exit */
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every file in top/sub/harness; returns how many there were. */
static int
replay_dir(const char *top, const char *sub, const char *harness,
    void (*fn)(const uint8_t *, size_t))
{
	char dir[PATH_MAX], path[PATH_MAX + 256], *names[4096];
	struct dirent *de;
	DIR *d;
	int n = 0, i;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/%s", top, sub, harness);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < 4096)
		if (de->d_name[0] != '.' && (names[n] = strdup(de->d_name)))
			n++;
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ok(replay(path, fn) == 0, "%s %s/%s", sub, harness, names[i]);
		free(names[i]);
	}
	return n;
}

int
main(void)
{
	const char *top = getenv("KP_TOP");
	char tmpl[PATH_MAX];
	const char *t = getenv("TMPDIR");

	if (top == NULL)
		top = ".";
	snprintf(tmpl, sizeof(tmpl), "%s/kp-regress.XXXXXX",
	    t != NULL ? t : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		ok(0, "mkdtemp %s: %s", tmpl, strerror(errno));
		return tap_done();
	}
	ok(snprintf(scratch, sizeof(scratch), "%s/t-0", tmpl) <
	    (int)sizeof(scratch) && mkdir(scratch, 0755) == 0,
	    "scratch partition folder");

	/* the seeds must be found, or this test would prove nothing */
	ok(replay_dir(top, "corpus", "fuzz_json", run_json) >= 8,
	    "fuzz_json seeds found");
	ok(replay_dir(top, "corpus", "fuzz_recovery", run_recovery) >= 8,
	    "fuzz_recovery seeds found");
	ok(replay_dir(top, "corpus", "fuzz_gzip", run_gzip) >= 8,
	    "fuzz_gzip seeds found");
	replay_dir(top, "regress", "fuzz_gzip", run_gzip);
	replay_dir(top, "regress", "fuzz_json", run_json);
	replay_dir(top, "regress", "fuzz_recovery", run_recovery);

	fr_clean(scratch);
	rmdir(scratch);
	rmdir(tmpl);
	return tap_done();
}
