/* rd.h -- the few librdkafka-internal helpers rdkafka_performance.c uses, which Debian does not ship */
#ifndef BENCH_RD_SHIM_H
#define BENCH_RD_SHIM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int64_t rd_ts_t;

#define rd_snprintf	snprintf
#define RD_MAX(a, b)	((a) > (b) ? (a) : (b))
#define RD_MIN(a, b)	((a) < (b) ? (a) : (b))

/* Microseconds on a monotonic clock, as librdkafka's own rd_clock(). */
static inline rd_ts_t
rd_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (rd_ts_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
