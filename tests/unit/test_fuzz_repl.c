/* test_fuzz_repl.c -- replay fuzz_repl's seeds and crashers through the harness check */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_repl.h"
#include "tap.h"

/*
 * tests/fuzz/corpus/fuzz_repl/ are the seeds, tests/fuzz/regress/fuzz_repl/
 * inputs a fuzzer once crashed on. Each runs in a child through the check
 * the libFuzzer harness runs, so a relapse fails under `make check` and
 * SAN=1, not only under `make fuzz`.
 */
static int
replay(const char *path)
{
	uint8_t buf[65536];
	size_t n;
	FILE *f;
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((f = fopen(path, "rb")) == NULL)
			_exit(2);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fuzz_repl_one(buf, n);
		exit(0);	/* not _exit: LeakSanitizer checks at exit */
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
replay_dir(const char *top, const char *sub)
{
	char dir[4096], path[8192];
	struct dirent **names;
	int n;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/fuzz_repl", top, sub);
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    names[i]->d_name);
			ok(replay(path) == 0, "%s fuzz_repl/%s", sub,
			    names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return n;
}

int
main(void)
{
	const char *top = getenv("KP_TOP");

	if (top == NULL)
		top = ".";
	/* the seeds must be found, or this test would prove nothing */
	ok(replay_dir(top, "corpus") >= 12, "fuzz_repl seeds found");
	replay_dir(top, "regress");
	return tap_done();
}
