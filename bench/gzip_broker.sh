#!/bin/sh
# gzip_broker.sh -- kbroker CPU per gzip'd record under rdkafka_performance, for one or more kbroker binaries
#
# usage: sh bench/gzip_broker.sh KBROKER... (default build/default/bin/kbroker)
# Env: N (records, default 1000000), RUNS (default 3), RKP (rdkafka_performance;
# default build/bench-peers/rdkafka_performance, which `make bench` builds).
# Produces N 100-byte records into 16 partitions, linger 5 ms, gzip, acks 1,
# and prints per run the producer's msgs/s and the broker's user+system CPU
# seconds (from /proc/PID/stat) per million records.
set -eu
N=${N:-1000000}
RUNS=${RUNS:-3}
RKP=${RKP:-build/bench-peers/rdkafka_performance}
[ $# -gt 0 ] || set -- build/default/bin/kbroker
[ -x "$RKP" ] || { echo "gzip_broker.sh: $RKP: not built (make bench)" >&2; exit 69; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kp-gzbench.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
tick=$(getconf CLK_TCK)

cpu() {	# utime + stime of $1 in ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

for kb in "$@"; do
	r=0
	while [ $r -lt "$RUNS" ]; do
		rm -rf "$TMP/d"; mkdir -p "$TMP/d"
		"$kb" --data-dir "$TMP/d/data" --listen 127.0.0.1:0 --no-socket \
		    -o num.partitions=16 > "$TMP/out" 2> "$TMP/err" &
		PID=$!
		i=0
		while ! grep -q '^listening 127' "$TMP/out" 2>/dev/null; do
			i=$((i + 1)); [ $i -lt 100 ] || { echo "$kb: no start" >&2; exit 70; }
			sleep 0.1
		done
		boot=$(sed -n 's/^listening \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$TMP/out")
		c0=$(cpu "$PID")
		rate=$(timeout 120 "$RKP" -P -t gz -b "$boot" -s 100 -c "$N" -a 1 \
		    -X linger.ms=5 -z gzip -q 2>&1 |
		    sed -n 's/.* \([0-9]*\) msgs\/s.*/\1/p' | tail -1)
		c1=$(cpu "$PID")
		kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
		awk -v kb="$kb" -v rate="$rate" -v t="$(( c1 - c0 ))" \
		    -v hz="$tick" -v n="$N" 'BEGIN {
			printf "%-40s %9s msgs/s  broker CPU %.2f s per million records\n",
			    kb, rate, t / hz / (n / 1e6) }'
		r=$((r + 1))
	done
done
