#!/bin/sh
# client-vs-kcat.sh -- kproduce vs kcat -P and kconsume -e vs kcat -C -e, same kbroker, same run
#
# Pipes N lines of 100 bytes (default 1,000,000) from a file into one
# partition with each producer, then reads each topic to /dev/null with
# each consumer, and prints the wall times and the ratios. The issue's bar:
# kproduce at least 1.5x faster than kcat -P, kconsume at least 2x faster
# than kcat -C. Usage: bench/client-vs-kcat.sh [N]   (after make)
set -eu
n=${1:-1000000}
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/${KP_BUILD:-build/default}/bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpipe-bench.XXXXXX")
kb=
cleanup() {
	[ -n "$kb" ] && kill "$kb" 2>/dev/null && wait "$kb" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

/usr/bin/python3 -c "import sys; sys.stdout.buffer.write((b'x' * 99 + b'\n') * $n)" \
    >"$tmp/lines"
"$bin/kbroker" --data-dir "$tmp/data" --listen 127.0.0.1:0 \
    --socket "$tmp/kb.sock" >"$tmp/kb.out" 2>"$tmp/kb.err" &
kb=$!
i=0
until grep -q '^listening [0-9]' "$tmp/kb.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat "$tmp/kb.err"; exit 1; }
	sleep 0.05
done
tcp=$(sed -n 's/^listening \([0-9].*\)/\1/p' "$tmp/kb.out")
"$bin/ktopic" -b "$tcp" create -p 1 kp kc >/dev/null

# secs CMD...: wall time of CMD in seconds
secs() {
	s=$(date +%s.%N)
	"$@"
	e=$(date +%s.%N)
	echo "$s $e" | awk '{ printf "%.3f", $2 - $1 }'
}

tp=$(secs sh -c "'$bin/kproduce' -b '$tcp' -t kp <'$tmp/lines'")
tk=$(secs sh -c "kcat -b '$tcp' -P -t kc <'$tmp/lines'")
cp=$(secs sh -c "'$bin/kconsume' -b '$tcp' -t kp -e >/dev/null")
ck=$(secs sh -c "kcat -b '$tcp' -C -t kc -e -q >/dev/null")
got=$("$bin/ktopic" -b "$tcp" offsets kp kc | tr '\n' ' ')

echo "records: $n x 100 bytes, one partition, kbroker on TCP loopback"
echo "offsets after: $got"
awk -v n="$n" -v tp="$tp" -v tk="$tk" -v cp="$cp" -v ck="$ck" 'BEGIN {
	printf "produce  kproduce  %6.3f s  %9.0f records/s\n", tp, n / tp
	printf "produce  kcat -P   %6.3f s  %9.0f records/s\n", tk, n / tk
	printf "produce  kproduce is %.2fx kcat (bar 1.5x)\n", tk / tp
	printf "consume  kconsume  %6.3f s  %9.0f records/s\n", cp, n / cp
	printf "consume  kcat -C   %6.3f s  %9.0f records/s\n", ck, n / ck
	printf "consume  kconsume is %.2fx kcat (bar 2x)\n", ck / cp
}'
