#!/bin/sh
# durable.sh -- acks=all throughput with kpipe.acks.all.fsync off and on, 1 vs 8 concurrent producers
#
# Each run starts a fresh kbroker on a data folder under $TMPDIR (put it
# on the disk you care about: tmpfs makes fdatasync free), sends N
# records of 100 bytes (default 200000) with acks=all to one partition
# from P concurrent kproduce processes, each with --batch-size $BATCH
# (default 1024: about ten records per produce request, so requests are
# many and small, as from interactive producers), and prints records/s
# and, in the fsync mode, the produce requests answered per partition
# sync as kbroker reports them when it stops (group commit: more than
# one request per sync). Prints figures, asserts nothing.
# Usage: bench/durable.sh [N]   (after make)
set -eu
n=${1:-200000}
batch=${BATCH:-1024}
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/${KP_BUILD:-build/default}/bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpipe-bench.XXXXXX")
kb=
cleanup() {
	[ -n "$kb" ] && kill "$kb" 2>/dev/null && wait "$kb" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

run() {	# run FSYNC PRODUCERS
	rm -rf "$tmp/data" "$tmp/kb.out"
	"$bin/kbroker" --data-dir "$tmp/data" --listen 127.0.0.1:0 \
	    --no-socket -o kpipe.acks.all.fsync="$1" \
	    >"$tmp/kb.out" 2>"$tmp/kb.err" &
	kb=$!
	i=0
	until grep -q '^listening [0-9]' "$tmp/kb.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$tmp/kb.err"; exit 1; }
		sleep 0.05
	done
	tcp=$(sed -n 's/^listening \([0-9].*\)/\1/p' "$tmp/kb.out")
	"$bin/ktopic" -b "$tcp" create -p 1 d >/dev/null
	per=$((n / $2))
	head -n "$per" "$tmp/lines" >"$tmp/mine"
	s=$(date +%s.%N)
	pids=
	for p in $(seq "$2"); do
		"$bin/kproduce" -b "$tcp" -t d -p 0 --acks all \
		    --batch-size "$batch" --linger-ms 0 "$tmp/mine" &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p"
	done
	e=$(date +%s.%N)
	kill "$kb"
	wait "$kb" || true
	kb=
	summary=$(sed -n 's/.*acks=all fsync: \([0-9]*\) produce request(s) acknowledged after \([0-9]*\) partition sync(s)/\1 \2/p' "$tmp/kb.err")
	echo "$s $e $((per * $2)) $1 $2 ${summary:-- -}" | awk '{
		t = $2 - $1
		printf "fsync=%-5s producers=%d  %8.0f records/s", $4, $5, $3 / t
		if ($6 != "-" && $7 > 0)
			printf "  %d requests / %d syncs = %.2f requests per sync", $6, $7, $6 / $7
		printf "\n"
	}'
}

/usr/bin/python3 -c "import sys; sys.stdout.buffer.write((b'x' * 99 + b'\\n') * $n)" \
    >"$tmp/lines"
echo "acks=all, --batch-size $batch, $n records of 100 bytes to one partition, data in $tmp"
for mode in false true; do
	for p in 1 8; do
		run "$mode" "$p"
	done
done
