/* fuzz_recovery.c -- libFuzzer harness: the segment recovery scan and what the log then serves */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../unit/fuzz_recovery.h"

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__ubsan_default_options(void);

/* Without this UBSan reports and carries on; halt so the input is kept. */
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static char top[PATH_MAX], part[PATH_MAX];

static void
cleanup(void)
{
	fr_clean(part);
	rmdir(part);
	rmdir(top);
}

/*
 * One folder per process, made on the first input and emptied before
 * each: tmpfs when there is one, since recovery fsyncs.
 */
static const char *
folder(void)
{
	const char *t;

	if (part[0] != '\0')
		return part;
	t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(top, sizeof(top), "%s/kp-fuzz-recovery.XXXXXX",
	    t != NULL ? t : "/tmp");
	if (mkdtemp(top) == NULL)
		abort();
	snprintf(part, sizeof(part), "%s/t-0", top);
	if (mkdir(part, 0755) < 0)
		abort();
	atexit(cleanup);
	return part;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_recovery_one(folder(), data, size);
	return 0;
}
