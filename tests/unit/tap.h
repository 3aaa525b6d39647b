/* tap.h -- a tiny TAP harness for the C unit tests */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

/*
 * One "ok N - name" or "not ok N - name" line per check, so tests/run.sh can
 * count unit checks and bats tests the same way. A failing check prints
 * where it failed as a TAP comment and carries on.
 */
static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	int ok_c_ = !!(cond);						\
	printf("%s %d - ", ok_c_ ? "ok" : "not ok", ++tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!ok_c_) {							\
		tap_failed++;						\
		printf("# failed at %s:%d: %s\n", __FILE__, __LINE__,	\
		    #cond);						\
	}								\
	fflush(stdout);							\
} while (0)

#define is_int(got, want, ...) do {					\
	long long is_g_ = (long long)(got), is_w_ = (long long)(want);	\
	ok(is_g_ == is_w_, __VA_ARGS__);				\
	if (is_g_ != is_w_)						\
		printf("#   got %lld, want %lld\n", is_g_, is_w_);	\
} while (0)

#define is_mem(got, want, n, ...) \
	ok(memcmp((got), (want), (n)) == 0, __VA_ARGS__)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
