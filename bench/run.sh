#!/bin/sh
# run.sh -- measure kpipe against its peers and this machine's limits, print one Markdown table
#
# Usage: sh bench/run.sh [--quick]      (or QUICK=1 sh bench/run.sh)
#
# Every figure is measured in this run, next to its peer, because the
# machine is shared and noisy: compare ratios, not absolute numbers across
# days. Writes bench/results/<UTC date>.md and bench/results/latest.md.
# Everything binds 127.0.0.1, every command runs under timeout(1), and only
# processes this script started are stopped. Knobs: QUICK, RUNS, BUDGET
# (seconds after which no new section starts), KP_BUILD,
# BENCH_TMP (scratch folder, default $TMPDIR or /tmp), ONLY (some of:
# produce fetch tools redis latency partitions growth concurrency).

# Word splitting of value lists is intended; dash has test -nt.
# shellcheck disable=SC2046,SC2086,SC3013
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 70
[ "${1:-}" = "--quick" ] && QUICK=1
QUICK=${QUICK:-0}
BUILD=${KP_BUILD:-build/default}
BIN=$TOP/$BUILD/bin
BB=$TOP/$BUILD/bench
PEERS=$TOP/build/bench-peers
RKP=$PEERS/rdkafka_performance

if [ "$QUICK" = 1 ]; then
	MODE=quick; RUNS=${RUNS:-1}; NPROD=200000; NFETCH=200000
	NREDIS=200000; LAT_SECS=2; RECOVER_MSGS=2000000; TMO=60; NBIG=20000
	LIM_MIB=512; CONC=100; CONC_EACH=2000; BUDGET=${BUDGET:-300}
else
	MODE=full; RUNS=${RUNS:-3}; NPROD=1000000; NFETCH=500000
	NREDIS=1000000; LAT_SECS=10; RECOVER_MSGS=27000000; TMO=180
	NBIG=50000
	# 100 x 4,000 records: the mock keeps at most 5 MiB per partition,
	# and 100 x 5,000 in small batches outgrew it (its readers never
	# found all the records)
	LIM_MIB=2048; CONC=100; CONC_EACH=4000; BUDGET=${BUDGET:-780}
fi
# Produce and fetch throughput swing most from run to run (see the A/A
# row): more runs for their medians.
PRUNS=${PRUNS:-$((2 * RUNS - 1))}
NLINES=1000000		# kproduce/kconsume vs kcat, as the issue asks
SIZE=100

say() { printf 'bench: %s\n' "$*" >&2; }

# ---- packages: only what is missing; apt-get as root, else say how ----
deps() {
	missing=
	for p in redis-server redis-tools hyperfine kcat librdkafka-dev; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null ||
		    true)
		[ "$s" = installed ] || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "run.sh: missing Debian packages:$missing" >&2
		echo "run.sh: install them with: sudo apt-get install -y$missing" >&2
		exit 69
	fi
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >&2 || exit 69
}

# ---- rdkafka_performance from the example source Debian ships ----
# The example includes librdkafka's private "rd.h"/"rdtime.h", which Debian
# does not ship; bench/peers/src/ has the five helpers it uses, reached by
# -I only: the example's source is compiled as shipped.
build_peers() {
	src=/usr/share/doc/librdkafka-dev/examples/rdkafka_performance.c
	[ -f "$src" ] || { [ -f "$src.gz" ] && src=$src.gz; }
	mkdir -p "$PEERS"
	if [ ! -x "$RKP" ] || [ "$src" -nt "$RKP" ] ||
	    [ bench/peers/src/rd.h -nt "$RKP" ]; then
		say "building rdkafka_performance from $src"
		case $src in
		*.gz) gzip -dc "$src" > "$PEERS/rdkafka_performance.c" ;;
		*) cp "$src" "$PEERS/rdkafka_performance.c" ;;
		esac
		${CC:-cc} -O2 -w -Ibench/peers/src -I/usr/include/librdkafka \
		    -o "$RKP" "$PEERS/rdkafka_performance.c" -lrdkafka ||
		    { echo "run.sh: cannot build rdkafka_performance" >&2;
		      exit 70; }
	fi
}

# ---- scratch space, processes we started, cleanup ----
SCRATCH=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/kpbench.XXXXXX") || exit 73
PIDS=

# alive PID: running, not a zombie (kill -0 also succeeds on a child that
# has exited but was not reaped yet)
alive() {
	[ -r "/proc/$1/stat" ] &&
	    ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null
}

cleanup() {
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		i=0
		while alive "$p" && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() {	# drop one pid from PIDS
	np=
	for p in $PIDS; do [ "$p" = "$1" ] || np="$np $p"; done
	PIDS=$np
}

stop() {	# stop one process we started, SIGTERM then SIGKILL after 5 s
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null
	i=0
	while alive "$1" && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget "$1"
}

# wait_line FILE PATTERN: up to 10 s for a line matching PATTERN
wait_line() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ $i -ge 200 ] && return 1
		sleep 0.05; i=$((i + 1))
	done
}

# start_kbroker DIR [-o key=value ...]: sets KB_PID, KB_BOOT
start_kbroker() {
	d=$1; shift
	mkdir -p "$d"
	KB_BOOT=
	"$BIN/kbroker" --data-dir "$d/data" --listen 127.0.0.1:0 --no-socket \
	    "$@" > "$d/out" 2> "$d/err" &
	KB_PID=$!
	PIDS="$PIDS $KB_PID"
	if ! wait_line "$d/out" '^listening 127\.0\.0\.1:'; then
		say "kbroker did not start: $(tail -1 "$d/err")"
		stop "$KB_PID"; KB_PID=
		return 1
	fi
	KB_BOOT=$(sed -n 's/^listening \(127\.0\.0\.1:[0-9]*\)$/\1/p' \
	    "$d/out" | head -1)
}

# start_mock DIR [-t topic:partitions ...]: sets MK_PID, MK_BOOT
start_mock() {
	d=$1; shift
	mkdir -p "$d"
	MK_BOOT=
	"$BB/rk_mockd" "$@" > "$d/out" 2> "$d/err" &
	MK_PID=$!
	PIDS="$PIDS $MK_PID"
	if ! wait_line "$d/out" '^127\.0\.0\.1:'; then
		say "mock cluster did not start: $(tail -1 "$d/err")"
		stop "$MK_PID"; MK_PID=
		return 1
	fi
	MK_BOOT=$(head -1 "$d/out")
}

# ---- results: rows of the table and raw per-run values ----
ROWS=$SCRATCH/rows.tsv
RAW=$SCRATCH/raw.tsv
BARS=$SCRATCH/bars.tsv
: > "$ROWS"; : > "$RAW"; : > "$BARS"

# row METRIC KPIPE PEER RATIO LIMIT
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$ROWS"; }
# raw LABEL VALUES...
raw() { l=$1; shift; printf '%s\t%s\n' "$l" "$*" >> "$RAW"; }

# bar TEXT VALUE ge|lt THRESHOLD [A/A]: one of the issue's bars, met or
# missed; A/A is the same statistic for the second mock against the mock
bar() {
	v=${2%x}
	case "$v" in
	''|*[!0-9.]*) verdict="not measured" ;;
	*) if awk -v v="$v" -v t="$4" -v op="$3" 'BEGIN {
		    exit !(op == "ge" ? v >= t : v < t) }'; then
			verdict=met
		else
			verdict=MISSED
		fi ;;
	esac
	printf '%s\t%s\t%s\t%s\n' "$1" "${2:-—}" "${5:-—}" "$verdict" \
	    >> "$BARS"
}

# lowest VALUES...: the smallest ratio, "x" and "n/a" entries ignored
lowest() {
	printf '%s\n' "$@" | sed 's/x$//' | grep -E '^[0-9.]+$' | sort -g |
	    head -1
}

# median of numbers; "fail" entries are ignored; empty when none is left
median() {
	printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
	    { v[NR] = $1 } END { if (NR == 0) exit;
	    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# wins "A1 A2 ..." "B1 B2 ...": "W N", the runs of N paired ones (both
# numbers) in which A was higher
wins() {
	printf '%s\n%s\n' "$1" "$2" | awk 'NR == 1 { na = split($0, a, " ") }
	    NR == 2 { nb = split($0, b, " ") } END { w = 0; n = 0
	    for (i = 1; i <= na && i <= nb; i++)
		    if (a[i] ~ /^[0-9.]+$/ && b[i] ~ /^[0-9.]+$/) {
			    n++; if (a[i] + 0 > b[i] + 0) w++ }
	    print w, n }'
}

# geomean RATIOS...: their geometric mean with an x, "n/a" entries ignored
geomean() {
	printf '%s\n' "$@" | sed 's/x$//' | grep -E '^[0-9.]+$' | awk '
	    $1 > 0 { s += log($1); n++ } END { if (n) printf "%.2fx\n",
	    exp(s / n) }'
}

# ratio A B: A/B with two decimals and an x, or "n/a"
ratio() {
	for x in "$1" "$2"; do
		case "$x" in *[!0-9.]*|'') echo "n/a"; return ;; esac
	done
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a";
	    else if (a / b < 0.1) printf "%.3fx\n", a / b;
	    else printf "%.2fx\n", a / b }'
}

# fmt N: thousands separators for integers, one decimal otherwise
fmt() {
	case "$1" in
	''|*[!0-9.]*) printf '%s' "$1" ;;
	*.*) printf '%.1f' "$1" ;;
	*) printf '%s' "$1" | awk '{ s = $1; o = "";
	    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o;
	    s = substr(s, 1, length(s) - 3) } printf "%s%s", s, o }' ;;
	esac
}

# ---- the measurements ----
# rkp_produce BOOT TOPIC PARTITIONS ACKS LINGER CODEC COUNT [extra -X...]
# prints delivered msgs/s, or "fail"
rkp_produce() {
	boot=$1 t=$2 parts=$3 acks=$4 linger=$5 codec=$6 n=$7
	shift 7
	pflag=
	[ "$parts" = 1 ] && pflag="-p 0"
	# shellcheck disable=SC2086
	out=$(timeout "$TMO" "$RKP" -P -t "$t" $pflag -b "$boot" -s $SIZE \
	    -c "$n" -a "$acks" -X linger.ms="$linger" -z "$codec" -q \
	    "$@" 2>&1)
	line=$(printf '%s\n' "$out" | grep 'messages produced' | tail -1)
	got=$(printf '%s\n' "$line" |
	    sed -n 's/.* \([0-9]*\) delivered (offset .*, \([0-9]*\) failed) in [0-9]*ms: \([0-9]*\) msgs\/s.*/\1 \2 \3/p')
	set -- $got
	if [ $# -eq 3 ] && [ "$1" = "$n" ] && [ "$2" = 0 ]; then
		echo "$3"
	else
		say "produce $t acks=$acks linger=$linger $codec: $(printf '%s\n' "$out" | tail -1)"
		echo fail
	fi
}

# rkp_fetch BOOT TOPIC PARTITIONS COUNT: consumed msgs/s, or "fail"
rkp_fetch() {
	boot=$1 t=$2 parts=$3 n=$4
	plist=
	i=0
	while [ $i -lt "$parts" ]; do plist="$plist -p $i"; i=$((i + 1)); done
	# shellcheck disable=SC2086
	out=$(timeout "$TMO" "$RKP" -C -t "$t" $plist -b "$boot" \
	    -o beginning -c "$n" -e -q 2>&1)
	got=$(printf '%s\n' "$out" |
	    sed -n 's/^% \([0-9]*\) messages ([0-9]* bytes) consumed in [0-9]*ms: \([0-9]*\) msgs\/s.*/\1 \2/p' |
	    tail -1)
	set -- $got
	if [ $# -eq 2 ] && [ "$1" = "$n" ]; then
		echo "$2"
	else
		say "fetch $t: $(printf '%s\n' "$out" | tail -1)"
		echo fail
	fi
}

# repeat N CMD...: the command's output for each of N runs, space separated
repeat() {
	k=$1; shift
	vals=
	j=0
	while [ $j -lt "$k" ]; do
		vals="$vals $("$@")"; j=$((j + 1))
	done
	echo $vals
}

have_kbroker() { [ -x "$BIN/kbroker" ] && [ -n "${KB_OK:-}" ]; }

measure_limits() {
	say "machine limits"
	f=$SCRATCH/disk.bin
	lb=$(repeat "$RUNS" timeout "$TMO" "$BB/loopback" "$LIM_MIB")
	mc=$(repeat "$RUNS" timeout "$TMO" "$BB/memcpy_bw" 256 6)
	# The first pass over fresh memory is slow on this VM; measure the
	# page cache warm, as a running broker sees it.
	timeout "$TMO" "$BB/disk_bw" buffered "$f" "$LIM_MIB" > /dev/null
	rm -f "$f"
	db=$(repeat "$RUNS" timeout "$TMO" "$BB/disk_bw" buffered "$f" "$LIM_MIB")
	rm -f "$f"
	df=$(repeat "$RUNS" timeout "$TMO" "$BB/disk_bw" fsync "$f" "$LIM_MIB")
	rm -f "$f"
	ds=$(repeat "$RUNS" timeout "$TMO" "$BB/disk_bw" dsync "$f" 128 64)
	rm -f "$f"
	rt=$(timeout "$TMO" "$BB/loopback" -r 100000)
	raw "limit loopback TCP GB/s" "$lb"
	raw "limit loopback 100 B round trip p50 p99 p99.9 µs" "$rt"
	raw "limit memcpy 256MiB GB/s" "$mc"
	raw "limit disk buffered MB/s" "$db"
	raw "limit disk write+fsync MB/s" "$df"
	raw "limit disk fdatasync/64KiB MB/s" "$ds"
	L_LB=$(median $lb); L_MC=$(median $mc); L_DB=$(median $db)
	L_DF=$(median $df); L_DS=$(median $ds)
	row "loopback TCP, 1 stream, 128 KiB writes" "—" "—" "—" "$L_LB GB/s"
	set -- $rt
	L_RTT50=${1:-?}; L_RTT99=${2:-?}
	row "loopback TCP round trip, 100 B ping-pong, p50 / p99 / p99.9" \
	    "—" "—" "—" "${1:-?} / ${2:-?} / ${3:-?} µs"
	row "memcpy, 256 MiB, 1 thread" "—" "—" "—" "$L_MC GB/s"
	row "disk: buffered sequential write (warm)" "—" "—" "—" "$(fmt "$L_DB") MB/s"
	row "disk: write + one final fsync" "—" "—" "—" "$(fmt "$L_DF") MB/s"
	row "disk: fdatasync every 64 KiB" "—" "—" "—" "$(fmt "$L_DS") MB/s"
	# Loopback expressed in records of 100 B (+~10 B of framing each).
	L_REC=$(awk -v g="$L_LB" 'BEGIN { printf "%.1f", g * 1e9 / 110 / 1e6 }')
}

# start_pair PARTITIONS MOCK-TOPIC [2]: kbroker (when it runs) and the mock
# side by side, and with 2 a second mock, the A/A control; sets KB, MK, M2
# to their bootstrap addresses or empty
start_pair() {
	KB=''; MK=''; M2=''; KB_PID=''; MK_PID=''; M2_PID=''
	if have_kbroker &&
	    start_kbroker "$SCRATCH/kb" -o num.partitions="$1"; then
		KB=$KB_BOOT
	fi
	if [ "${3:-}" = 2 ] && start_mock "$SCRATCH/mk2" -t "$2"; then
		M2=$MK_BOOT M2_PID=$MK_PID
	fi
	start_mock "$SCRATCH/mk" -t "$2" && MK=$MK_BOOT
}

stop_pair() {
	stop "$KB_PID"; stop "$MK_PID"; stop "$M2_PID"
	KB_PID=''; MK_PID=''; M2_PID=''
	rm -rf "$SCRATCH/kb" "$SCRATCH/mk" "$SCRATCH/mk2"
}

# rotate N WORDS...: the words, starting at the (N mod count)-th, so each
# side of a comparison takes each place in the order of a round in turn
rotate() {
	rot_k=$(($1 % ($# - 1))); shift
	while [ "$rot_k" -gt 0 ]; do
		rot_w=$1; shift; set -- "$@" "$rot_w"; rot_k=$((rot_k - 1))
	done
	echo "$@"
}

# cpu_ms PID: CPU time all the process's threads have used so far, in ms
# (schedstat counts nanoseconds; /proc/PID/stat's clock ticks are too
# coarse for runs of a few hundred ms)
cpu_ms() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
	    awk '{ ns += $1 } END { printf "%d\n", ns / 1000000 }'
}

# timed_produce BOOT PID FILE ...: rkp_produce's figure; the broker
# process's CPU for the run (ms per million records) goes on FILE
timed_produce() {
	b=$1 p=$2 f=$3; shift 3
	c0=$(cpu_ms "$p")
	v=$(rkp_produce "$b" "$@")
	c1=$(cpu_ms "$p")
	[ "$v" != fail ] && printf ' %s' $(( (c1 - c0) * 1000000 / NPROD )) >> "$f"
	echo "$v"
}

# One produce configuration on kbroker, the mock and a second mock (the
# A/A control: the same measurement between two identical brokers shows
# how far the ratios swing on their own). All run at once and the order
# rotates each round, so a burst of load from other work on this shared
# machine, or a place in the order, favours no side. The mocks start with
# their topic; kbroker gets the same topic made before the clock starts,
# and each side has one unmeasured warm-up run (connection, first pages).
produce_case() {
	parts=$1 acks=$2 linger=$3 codec=$4
	a=$acks; [ "$acks" = -1 ] && a=all
	label="produce $parts part, acks=$a, linger $linger ms, $codec"
	t=t$parts
	kv=; mv=; av=
	: > "$SCRATCH/kcpu"; : > "$SCRATCH/mcpu"
	start_pair "$parts" "$t:$parts" 2
	if [ -n "$KB" ] && ! timeout "$TMO" "$BIN/ktopic" -b "$KB" create \
	    -p "$parts" "$t" > /dev/null 2>> "$SCRATCH/ktopic.err"; then
		KB_WHY="ktopic create failed"; KB=
	fi
	for b in "$KB" "$MK" "$M2"; do
		[ -n "$b" ] && rkp_produce "$b" $t "$parts" "$acks" "$linger" \
		    "$codec" $((NPROD / 5)) > /dev/null
	done
	j=0
	while [ $j -lt "$PRUNS" ]; do
		for s in $(rotate $j KB MK M2); do
			case $s in
			KB) [ -n "$KB" ] && kv="$kv $(timed_produce "$KB" \
			    "$KB_PID" "$SCRATCH/kcpu" $t "$parts" "$acks" \
			    "$linger" "$codec" "$NPROD")" ;;
			MK) [ -n "$MK" ] && mv="$mv $(timed_produce "$MK" \
			    "$MK_PID" "$SCRATCH/mcpu" $t "$parts" "$acks" \
			    "$linger" "$codec" "$NPROD")" ;;
			M2) [ -n "$M2" ] && av="$av $(rkp_produce "$M2" $t \
			    "$parts" "$acks" "$linger" "$codec" "$NPROD")" ;;
			esac
		done
		j=$((j + 1))
	done
	stop_pair
	kc=$(cat "$SCRATCH/kcpu"); mc=$(cat "$SCRATCH/mcpu")
	raw "$label: kbroker msgs/s" "$kv"
	raw "$label: mock msgs/s" "$mv"
	raw "$label: second mock msgs/s" "$av"
	raw "$label: kbroker CPU ms per M records" "$kc"
	raw "$label: mock CPU ms per M records" "$mc"
	KCPU="$KCPU $(median $kc)"; MCPU="$MCPU $(median $mc)"
	k=$(median $kv); m=$(median $mv)
	r=$(ratio "$k" "$m"); aa=$(ratio "$(median $av)" "$m")
	PROD_RATIOS="$PROD_RATIOS $r"; AA_RATIOS="$AA_RATIOS $aa"
	set -- $(wins "$av" "$mv")
	AA_WON=$((AA_WON + $1)); AA_PAIRS=$((AA_PAIRS + $2))
	set -- $(wins "$kv" "$mv")
	PROD_WON=$((PROD_WON + $1)); PROD_PAIRS=$((PROD_PAIRS + $2))
	row "$label (msgs/s; kbroker won $1 of $2 runs; A/A $aa)" "$(fmt "${k:-n/a (${KB_WHY:-failed, see raw})}")" \
	    "$(fmt "${m:-n/a (failed)}")" "$r" "loopback ≈ $L_REC M rec/s"
}

measure_produce() {
	say "produce throughput: rdkafka_performance, kbroker vs mock cluster"
	PROD_RATIOS=; AA_RATIOS=; KCPU=; MCPU=
	PROD_WON=0; PROD_PAIRS=0; AA_WON=0; AA_PAIRS=0
	for parts in 1 16; do
	for acks in 1 -1; do
	for linger in 0 5; do
	for codec in none gzip; do
		if [ "$QUICK" = 1 ] && [ "$linger" = 0 ] && [ "$codec" = gzip ]
		then
			continue	# quick mode: gzip only with linger 5
		fi
		produce_case "$parts" "$acks" "$linger" "$codec"
	done; done; done; done
	k=$(median $KCPU); m=$(median $MCPU)
	row "broker CPU per M records produced, median of the configurations above (ms; lower is better)" \
	    "$(fmt "${k:-n/a}")" "$(fmt "${m:-n/a}")" "$(ratio "$m" "$k")" "—"
	n=$(echo $PROD_RATIOS | wc -w)
	# One configuration's ratio swings as much as its A/A ratio; over
	# all of them, a broker no faster than the mock wins about half the
	# runs.
	row "produce, all $n configurations: geometric mean of the ratios; paired runs won (kbroker; A/A: the second mock)" \
	    "$PROD_WON of $PROD_PAIRS" "$AA_WON of $AA_PAIRS" \
	    "$(geomean $PROD_RATIOS) (A/A $(geomean $AA_RATIOS))" "—"
	bar "kbroker produce ≥ 1.0x the mock (worst of $n configurations)" \
	    "$(lowest $PROD_RATIOS)" ge 1.0 "$(lowest $AA_RATIOS)"
}

# Fetch: fill a 16-partition topic once on kbroker, the mock and a second
# mock (the A/A control), spread evenly (the mock keeps only ~5 MiB per
# partition), then read it all from the beginning PRUNS times, the order
# rotating each round.
measure_fetch() {
	say "fetch throughput: rdkafka_performance, kbroker vs mock cluster"
	rs=; aas=
	for codec in none gzip; do
		label="fetch 16 part, $codec, $NFETCH records"
		kv=; mv=; av=
		start_pair 16 f16:16 2
		for b in KB MK M2; do
			eval boot=\$$b
			[ -n "$boot" ] || continue
			# Batches closed by count, not by time, so all
			# brokers hold the same batches: the consumer's cost
			# (gzip above all) depends on their size.
			v=$(rkp_produce "$boot" f16 16 1 1000 "$codec" \
			    "$NFETCH" -X sticky.partitioning.linger.ms=0 \
			    -X batch.num.messages=1000)
			[ "$v" = fail ] && eval $b=
			# one unmeasured read each: the first one after the
			# fill is slow on all sides (seen: 0.6 and 1.1 s
			# where the next took 0.1 s)
			eval boot=\$$b
			[ -n "$boot" ] && rkp_fetch "$boot" f16 16 "$NFETCH" \
			    > /dev/null
		done
		j=0
		while [ $j -lt "$PRUNS" ]; do
			for s in $(rotate $j KB MK M2); do
				eval boot=\$$s
				[ -n "$boot" ] || continue
				v=$(rkp_fetch "$boot" f16 16 "$NFETCH")
				case $s in
				KB) kv="$kv $v" ;;
				MK) mv="$mv $v" ;;
				M2) av="$av $v" ;;
				esac
			done
			j=$((j + 1))
		done
		stop_pair
		raw "$label: kbroker msgs/s" "$kv"
		raw "$label: mock msgs/s" "$mv"
		raw "$label: second mock msgs/s" "$av"
		k=$(median $kv); m=$(median $mv)
		r=$(ratio "$k" "$m"); aa=$(ratio "$(median $av)" "$m")
		rs="$rs $r"; aas="$aas $aa"
		set -- $(wins "$kv" "$mv")
		row "$label (msgs/s; kbroker won $1 of $2 runs; A/A $aa)" "$(fmt "${k:-n/a (${KB_WHY:-failed})}")" \
		    "$(fmt "${m:-n/a (failed)}")" "$r" "loopback ≈ $L_REC M rec/s"
	done
	bar "kbroker fetch ≥ 1.0x the mock (worst of none, gzip)" \
	    "$(lowest $rs)" ge 1.0 "$(lowest $aas)"
}

# hyperfine_times JSON: the run times in seconds, space separated
hyperfine_times() {
	/usr/bin/python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["results"][0]
print(" ".join("%.3f" % t for t in r["times"]))
if any(c != 0 for c in r.get("exit_codes", [])): sys.exit(1)' "$1"
}

# tool_case LABEL KP_CMD PEER_CMD: whole-process time with hyperfine
tool_case() {
	label=$1
	j=$SCRATCH/hf.json
	kv=fail; pv=fail
	if timeout $((TMO * 4)) hyperfine -N -r "$RUNS" -w 1 -i \
	    --export-json "$j" "$2" > /dev/null 2>&1; then
		kv=$(hyperfine_times "$j") || kv=fail
	fi
	if timeout $((TMO * 4)) hyperfine -N -r "$RUNS" -w 1 -i \
	    --export-json "$j" "$3" > /dev/null 2>&1; then
		pv=$(hyperfine_times "$j") || pv=fail
	fi
	raw "$label: kpipe s" "$kv"
	raw "$label: kcat s" "$pv"
	k=$(median $kv); p=$(median $pv)
	kr=; pr=
	[ -n "$k" ] && kr=$(awk -v t="$k" -v n=$NLINES 'BEGIN { printf "%d", n / t }')
	[ -n "$p" ] && pr=$(awk -v t="$p" -v n=$NLINES 'BEGIN { printf "%d", n / t }')
	TOOL_RATIO=$(ratio "$kr" "$pr")
	row "$label (lines/s, whole process)" \
	    "$(fmt "${kr:-n/a (failed, see raw)}")" \
	    "$(fmt "${pr:-n/a (failed)}")" "$TOOL_RATIO" "—"
}

measure_tools() {
	say "kproduce/kconsume vs kcat -P/-C, $NLINES lines of $SIZE B"
	lines=$SCRATCH/lines.txt
	awk -v n=$NLINES -v s=$SIZE 'BEGIN { l = sprintf("%0" s "d", 0);
	    gsub(/0/, "x", l); for (i = 0; i < n; i++) print l }' > "$lines"
	if ! have_kbroker || ! start_kbroker "$SCRATCH/kb" -o num.partitions=1
	then
		row "kproduce vs kcat -P, 1 M lines (lines/s)" "n/a (${KB_WHY:-kbroker failed})" "—" "—" "—"
		row "kconsume vs kcat -C, 1 M lines (lines/s)" "n/a (${KB_WHY:-kbroker failed})" "—" "—" "—"
		return
	fi
	b=$KB_BOOT
	if [ -x "$BIN/kproduce" ] && "$BIN/kproduce" --help > /dev/null 2>&1
	then
		tool_case "kproduce vs kcat -P, 1 M lines, 1 part" \
		    "$BIN/kproduce -b $b -t tp -p 0 $lines" \
		    "kcat -P -b $b -t tp -p 0 -l $lines"
		bar "kproduce ≥ 1.5x kcat -P" "$TOOL_RATIO" ge 1.5
	else
		row "kproduce vs kcat -P (lines/s)" "n/a (kproduce not built)" "—" "—" "—"
	fi
	# One topic of exactly NLINES records that both consumers read whole.
	if timeout "$TMO" kcat -P -b "$b" -t tc -p 0 -l "$lines" 2>/dev/null &&
	    [ -x "$BIN/kconsume" ] && "$BIN/kconsume" --help > /dev/null 2>&1
	then
		tool_case "kconsume vs kcat -C, 1 M lines, 1 part" \
		    "$BIN/kconsume -b $b -t tc -o beginning -e" \
		    "kcat -C -b $b -t tc -o beginning -e -q"
		bar "kconsume ≥ 2x kcat -C" "$TOOL_RATIO" ge 2.0
	else
		row "kconsume vs kcat -C (lines/s)" "n/a (kconsume not built or fill failed)" "—" "—" "—"
	fi
	stop "$KB_PID"
	rm -rf "$SCRATCH/kb" "$lines"
}

free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis DIR ARGS...: redis-server on a free port; sets RD_PID, RD_PORT
start_redis() {
	d=$1; shift
	rm -rf "$d"; mkdir -p "$d"
	RD_PORT=$(free_port)
	redis-server --port "$RD_PORT" --bind 127.0.0.1 --dir "$d" --save '' \
	    --daemonize no --protected-mode yes --logfile "$d/log" "$@" &
	RD_PID=$!
	PIDS="$PIDS $RD_PID"
	i=0
	while ! redis-cli -h 127.0.0.1 -p "$RD_PORT" ping > /dev/null 2>&1; do
		if [ $i -ge 200 ]; then
			say "redis-server did not start: $(tail -1 "$d/log")"
			stop "$RD_PID"; RD_PID=''; RD_PORT=''
			return 1
		fi
		sleep 0.05; i=$((i + 1))
	done
}

# xadd_rate PORT: pipelined XADD entries/s of one redis-benchmark run
xadd_rate() {
	val=$(awk -v s=$SIZE 'BEGIN { l = sprintf("%0" s "d", 0);
	    gsub(/0/, "x", l); print l }')
	v=$(timeout "$TMO" redis-benchmark -h 127.0.0.1 -p "$1" \
	    -c 50 -P 64 -n "$NREDIS" --csv XADD s '*' f "$val" \
	    2>/dev/null | sed -n '2s/^"[^"]*","\([0-9]*\)[0-9.]*".*/\1/p')
	echo "${v:-fail}"
}

# redis_xadd AOF-ARGS...: RUNS pipelined XADD entries/s figures
redis_xadd() {
	if start_redis "$SCRATCH/redis" "$@"; then
		REDIS_VALS=$(repeat "$RUNS" xadd_rate "$RD_PORT")
		stop "$RD_PID"
	else
		REDIS_VALS=fail
	fi
	rm -rf "$SCRATCH/redis"
}

measure_redis() {
	say "Redis Streams XADD vs kbroker acks=all"
	redis_xadd --appendonly no; r_off=$REDIS_VALS
	redis_xadd --appendonly yes --appendfsync always; r_all=$REDIS_VALS
	raw "redis XADD -P 64 -c 50, AOF off entries/s" "$r_off"
	raw "redis XADD -P 64 -c 50, appendfsync always entries/s" "$r_all"
	k_plain=; k_sync=
	if have_kbroker && start_kbroker "$SCRATCH/kb" -o num.partitions=1
	then
		k_plain=$(repeat "$RUNS" rkp_produce "$KB_BOOT" x1 1 -1 5 none \
		    "$NREDIS")
		stop "$KB_PID"
	fi
	rm -rf "$SCRATCH/kb"
	if have_kbroker && start_kbroker "$SCRATCH/kb" -o num.partitions=1 \
	    -o log.flush.interval.messages=1; then
		k_sync=$(repeat "$RUNS" rkp_produce "$KB_BOOT" x1 1 -1 5 none \
		    "$NREDIS")
		stop "$KB_PID"
	fi
	rm -rf "$SCRATCH/kb"
	raw "kbroker acks=all linger 5, no fsync msgs/s" "$k_plain"
	raw "kbroker acks=all linger 5, flush.messages=1 msgs/s" "$k_sync"
	a=$(median $k_plain); b=$(median $r_off)
	row "acks=all, no fsync (kbroker) vs XADD, AOF off (records/s)" \
	    "$(fmt "${a:-n/a (${KB_WHY:-failed})}")" "$(fmt "${b:-n/a (failed)}")" \
	    "$(ratio "$a" "$b")" "loopback ≈ $L_REC M rec/s"
	a=$(median $k_sync); b=$(median $r_all)
	r=$(ratio "$a" "$b")
	row "acks=all + fsync before ack (flush.messages=1) vs XADD, appendfsync always (records/s)" \
	    "$(fmt "${a:-n/a (${KB_WHY:-failed})}")" "$(fmt "${b:-n/a (failed)}")" \
	    "$r" "fdatasync/64 KiB: $(fmt "$L_DS") MB/s"
	bar "kbroker acks=all + fsync ≥ 1.0x Redis XADD appendfsync always" \
	    "$r" ge 1.0
}

# lat_parse OUTPUT: "p50 p99 p99.9" in µs, "behind: got of sent", or "fail"
lat_parse() {
	v=$(printf '%s\n' "$1" | sed -n 's/^sent=\([0-9]*\) received=\1 p50_us=\([0-9.]*\) p99_us=\([0-9.]*\) p999_us=\([0-9.]*\).*/\2 \3 \4/p')
	b=$(printf '%s\n' "$1" | sed -n 's/^sent=\([0-9]*\) received=\([0-9]*\) .*/\2 of \1/p')
	if [ -n "$v" ]; then echo "$v"
	elif [ -n "$b" ]; then echo "behind: $b"
	else
		say "latency: $(printf '%s\n' "$1" | tail -1)"
		echo fail
	fi
}

# lat_median RUNS...: per-percentile medians of the runs that completed
# (each run "p50 p99 p99.9", runs separated by |); empty if none did
lat_median() {
	printf '%s\n' "$1" | tr '|' '\n' | awk '
	    NF == 3 && $1 ~ /^[0-9.]+$/ { n++; a[n] = $1; b[n] = $2; c[n] = $3 }
	    function med(v, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) {
			t = v[j]; v[j] = v[j-1]; v[j-1] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
	    END { if (n) printf "%.1f %.1f %.1f\n", med(a, n), med(b, n), med(c, n) }'
}

# lat_cell RUNS [WHY]: the table cell for a latency figure
lat_cell() {
	m=$(lat_median "$1")
	if [ -n "$m" ]; then
		set -- $m; echo "$1 / $2 / $3"
		return
	fi
	why=$(printf '%s\n' "$1" | tr '|' '\n' | sed -n 's/^ *behind: //p' |
	    head -1)
	if [ -n "$why" ]; then
		echo "n/a (fell behind: got $why in time)"
	else
		echo "n/a (${2:-failed})"
	fi
}

# Same rate, same record size, same measure: kbroker through librdkafka
# (rk_latency) and Redis Streams, XADD to a client blocked in XREAD
# (redis_latency). The mock is no peer here: it answers a Fetch that has
# nothing new only after fetch.wait.max.ms and never wakes it early.
measure_latency() {
	say "end-to-end latency at a fixed rate: kbroker (linger 0, acks=1) vs Redis XADD -> XREAD BLOCK"
	for rate in 10000 100000; do
		kv=; rv=; KB=''
		if have_kbroker &&
		    start_kbroker "$SCRATCH/kb" -o num.partitions=1; then
			KB=$KB_BOOT
		else
			KB_PID=''
		fi
		start_redis "$SCRATCH/redis" --appendonly no || RD_PORT=''
		j=0
		while [ $j -lt "$RUNS" ]; do
			[ -n "$KB" ] && kv="$kv|$(lat_parse "$(timeout \
			    $((LAT_SECS + 40)) "$BB/rk_latency" -b "$KB" \
			    -t lat -r $rate -d "$LAT_SECS" 2>&1)")"
			[ -n "$RD_PORT" ] && rv="$rv|$(lat_parse "$(timeout \
			    $((LAT_SECS + 40)) "$BB/redis_latency" \
			    -p "$RD_PORT" -r $rate -d "$LAT_SECS" 2>&1)")"
			j=$((j + 1))
		done
		stop "$KB_PID"; stop "${RD_PID:-}"
		KB_PID=''; RD_PID=''
		rm -rf "$SCRATCH/kb" "$SCRATCH/redis"
		raw "e2e latency $rate/s kbroker p50 p99 p99.9 µs" "${kv#|}"
		raw "e2e latency $rate/s redis p50 p99 p99.9 µs" "${rv#|}"
		km=$(lat_median "$kv"); rm_=$(lat_median "$rv")
		k99=; r99=
		[ -n "$km" ] && { set -- $km; k99=$2; }
		[ -n "$rm_" ] && { set -- $rm_; r99=$2; }
		row "e2e latency at $(fmt $rate) rec/s, p50 / p99 / p99.9 (µs; ratio on p99)" \
		    "$(lat_cell "$kv" "${KB_WHY:-failed}")" "$(lat_cell "$rv")" \
		    "$(ratio "$r99" "$k99")" \
		    "TCP RTT p50 / p99: $L_RTT50 / $L_RTT99 µs"
		[ $rate = 10000 ] && bar "e2e p99 at 10,000 rec/s, linger 0 < 2,000 µs" \
		    "${k99:-}" lt 2000
	done
}

# startup_fields VALUES KEY: the KEY=... numbers out of startup's output
startup_fields() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

measure_partitions() {
	say "1,000 partitions: produce, startup and idle RSS"
	kv=; mv=
	# Random partition per record, so every partition gets data. The
	# first pass creates the partitions' files; the second is measured.
	start_pair 1000 big:1000
	for b in KB MK; do
		eval boot=\$$b
		[ -n "$boot" ] || continue
		v=$(rkp_produce "$boot" big 1000 1 5 none "$NBIG" \
		    -X sticky.partitioning.linger.ms=0)
		raw "produce 1000 part, first pass ($b) msgs/s" "$v"
		[ "$v" = fail ] && eval $b=
	done
	j=0
	while [ $j -lt "$RUNS" ]; do
		[ -n "$KB" ] && kv="$kv $(rkp_produce "$KB" big 1000 1 5 none \
		    "$NBIG" -X sticky.partitioning.linger.ms=0)"
		[ -n "$MK" ] && mv="$mv $(rkp_produce "$MK" big 1000 1 5 none \
		    "$NBIG" -X sticky.partitioning.linger.ms=0)"
		j=$((j + 1))
	done
	stop "$KB_PID"; stop "$MK_PID"
	rm -rf "$SCRATCH/mk"
	raw "produce 1000 part, random partition: kbroker msgs/s" "$kv"
	raw "produce 1000 part, random partition: mock msgs/s" "$mv"
	k=$(median $kv); m=$(median $mv)
	row "produce $(fmt "$NBIG") records into 1,000 partitions, random partition each, acks=1, linger 5 ms (msgs/s)" \
	    "$(fmt "${k:-n/a (${KB_WHY:-failed, see raw})}")" \
	    "$(fmt "${m:-n/a (failed)}")" "$(ratio "$k" "$m")" "—"

	kv=; mv=
	if [ -n "$KB" ]; then
		kv=$(repeat "$RUNS" timeout $((TMO + 10)) "$BB/startup" \
		    'listening ' 2 "$TMO" "$BIN/kbroker" --data-dir \
		    "$SCRATCH/kb/data" --listen 127.0.0.1:0 --no-socket \
		    2>> "$SCRATCH/startup.err")
	fi
	rm -rf "$SCRATCH/kb"
	mv=$(repeat "$RUNS" timeout $((TMO + 10)) "$BB/startup" '127.0.0.1:' \
	    2 "$TMO" "$BB/rk_mockd" -t big:1000 2>> "$SCRATCH/startup.err")
	raw "startup 1000 partitions kbroker (on disk)" "$kv"
	raw "startup 1000 partitions mock (in memory)" "$mv"
	a=$(median $(startup_fields "$kv" startup_ms))
	b=$(median $(startup_fields "$mv" startup_ms))
	row "startup to listening, 1,000 partitions (ms; peer: mock creating them in memory)" \
	    "$(fmt "${a:-n/a (${KB_WHY:-failed})}")" "$(fmt "${b:-n/a (failed)}")" \
	    "$(ratio "$b" "$a")" "—"
	a=$(median $(startup_fields "$kv" rss_kib))
	b=$(median $(startup_fields "$mv" rss_kib))
	row "idle RSS after 2 s, 1,000 partitions (KiB)" \
	    "$(fmt "${a:-n/a (${KB_WHY:-failed})}")" "$(fmt "${b:-n/a (failed)}")" \
	    "$(ratio "$b" "$a")" "—"
}

# growth_rates FILE COUNT: "first last" msgs/s over the first and the last
# third of rdkafka_performance's -u rows (cumulative delivered count per
# time); fails unless all COUNT records were delivered
growth_rates() {
	awk -F '|' -v want="$2" '
	    $2 ~ /^ *[0-9]+ *$/ { n++; t[n] = $2 + 0; d[n] = $6 + 0 }
	    END { if (n < 3 || d[n] != want) exit 1; k = int(n / 3);
	    printf "%d %d\n", d[k] * 1000 / t[k],
	    (d[n] - d[n - k]) * 1000 / (t[n] - t[n - k]) }' "$1"
}

# Fill one partition with a few GB (full) while watching the rate, then
# SIGKILL the broker and time its restart over that log.
measure_growth() {
	say "produce rate as the log grows, then restart after SIGKILL"
	gv=; kv=; mb=
	if have_kbroker && start_kbroker "$SCRATCH/kb" -o num.partitions=1
	then
		o=$SCRATCH/growth.out
		timeout $((TMO * 2)) "$RKP" -P -t g1 -p 0 -b "$KB_BOOT" \
		    -s $SIZE -c "$RECOVER_MSGS" -a 1 -X linger.ms=5 -u -i 250 \
		    > "$o" 2>&1
		gv=$(growth_rates "$o" "$RECOVER_MSGS") || gv=fail
		kill -KILL "$KB_PID"; wait "$KB_PID" 2>/dev/null
		forget "$KB_PID"
		mb=$(du -sm "$SCRATCH/kb/data" | cut -f1)
		kv=$(timeout $((TMO + 10)) "$BB/startup" 'listening ' 0 "$TMO" \
		    "$BIN/kbroker" --data-dir "$SCRATCH/kb/data" \
		    --listen 127.0.0.1:0 --no-socket 2>> "$SCRATCH/startup.err")
	fi
	rm -rf "$SCRATCH/kb"
	raw "growth to ${mb:-?} MiB: first/last third msgs/s" "$gv"
	raw "restart after SIGKILL, ${mb:-?} MiB log" "$kv"
	if [ -n "$gv" ] && [ "$gv" != fail ]; then
		set -- $gv
		row "produce rate as one partition grows to ${mb} MiB: first third → last third (msgs/s; ratio = last/first)" \
		    "$(fmt "$1") → $(fmt "$2")" "n/a (mock keeps 5 MiB/partition)" \
		    "$(ratio "$2" "$1")" "disk write+fsync: $(fmt "$L_DF") MB/s"
	else
		row "produce rate as one partition grows (msgs/s)" \
		    "n/a (${KB_WHY:-failed, see raw})" "—" "—" "—"
	fi
	a=$(startup_fields "$kv" startup_ms)
	row "restart after SIGKILL with ${mb:-?} MiB of log, to listening (ms)" \
	    "$(fmt "${a:-n/a (${KB_WHY:-failed})}")" "n/a (no disk-backed peer)" "—" "—"
}

# fanout N WHAT CMD...: runs N copies of an rdkafka_performance command at
# once; prints the wall time in ms, or "fail" unless every copy printed
# its summary with the full count.
fanout() {
	nn=$1 what=$2; shift 2
	d=$SCRATCH/fan
	rm -rf "$d"; mkdir -p "$d"
	t0=$(date +%s%N)
	fp=
	i=0
	while [ $i -lt "$nn" ]; do
		timeout "$TMO" "$@" > "$d/$i" 2>&1 &
		fp="$fp $!"; PIDS="$PIDS $!"
		i=$((i + 1))
	done
	for p in $fp; do wait "$p"; forget "$p"; done
	t1=$(date +%s%N)
	ok=$(grep -l "$what" "$d"/* 2>/dev/null | wc -l)
	rm -rf "$d"
	if [ "$ok" -eq "$nn" ]; then
		echo $(((t1 - t0) / 1000000))
	else
		say "fanout: $ok of $nn clients finished"
		echo fail
	fi
}

# concurrent BOOT: "produce-msgs/s consume-msgs/s" aggregated over CONC
# producers, then CONC consumers each reading the whole topic
concurrent() {
	boot=$1
	pw=$(fanout "$CONC" " $CONC_EACH delivered" "$RKP" -P -t c16 \
	    -b "$boot" -s $SIZE -c "$CONC_EACH" -a 1 -X linger.ms=5 -q)
	total=$((CONC * CONC_EACH))
	cw=$(fanout "$CONC" "^% $total messages" "$RKP" -C -t c16 \
	    -p 0 -p 1 -p 2 -p 3 -p 4 -p 5 -p 6 -p 7 -p 8 -p 9 -p 10 -p 11 \
	    -p 12 -p 13 -p 14 -p 15 -b "$boot" -o beginning -c "$total" -e -q)
	pr=fail; cr=fail
	[ "$pw" != fail ] && pr=$((total * 1000 / (pw + 1)))
	[ "$cw" != fail ] && cr=$((CONC * total * 1000 / (cw + 1)))
	echo "$pr $cr"
}

measure_concurrency() {
	say "$CONC concurrent producers, then $CONC concurrent consumers"
	kv="fail fail"; mv="fail fail"
	if have_kbroker && start_kbroker "$SCRATCH/kb" -o num.partitions=16
	then
		kv=$(concurrent "$KB_BOOT")
		stop "$KB_PID"
	fi
	rm -rf "$SCRATCH/kb"
	if start_mock "$SCRATCH/mk" -t c16:16; then
		mv=$(concurrent "$MK_BOOT")
		stop "$MK_PID"
	fi
	rm -rf "$SCRATCH/mk"
	raw "$CONC producers x $CONC_EACH: kbroker / mock msgs/s" "$kv / $mv"
	set -- $kv; kp=$1; kc=$2
	set -- $mv; mp=$1; mc=$2
	row "$CONC concurrent producers, $(fmt "$CONC_EACH") records each, 16 part (msgs/s, all together)" \
	    "$(fmt "$kp")" "$(fmt "$mp")" "$(ratio "$kp" "$mp")" "—"
	row "$CONC concurrent consumers, each reading all $(fmt $((CONC * CONC_EACH))) (msgs/s, all together)" \
	    "$(fmt "$kc")" "$(fmt "$mc")" "$(ratio "$kc" "$mc")" "—"
}

# ---- report ----
report() {
	out=$1
	{
		echo "# kpipe bench — $MODE mode, $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		dirty=
		git diff --quiet 2>/dev/null || dirty=" (with local changes)"
		echo "Commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)$dirty," \
		    "$(nproc) CPUs, $(uname -r), load average at the start:" \
		    "$LOAD0 (before each section: in the raw values)." \
		    "$RUNS run(s) per figure; figures are medians." \
		    "Ratio > 1.00x means kpipe is better (faster, or lower" \
		    "latency/time/memory); peers run in the same sitting."
		echo
		echo "| metric | kpipe | peer | ratio | machine limit |"
		echo "|---|---|---|---|---|"
		awk -F '\t' '{ printf "| %s | %s | %s | %s | %s |\n",
		    $1, $2, $3, $4, $5 }' "$ROWS"
		echo
		echo "Peers: produce/fetch rows use librdkafka's mock" \
		    "cluster (rk_mockd, in memory, 1 broker) with" \
		    "rdkafka_performance $(pkg-config --modversion rdkafka 2>/dev/null);" \
		    "the tool rows use kcat $(kcat -V 2>&1 | sed -n 's/^Version \([0-9.]*\).*/\1/p') on the same kbroker;" \
		    "Redis $(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')" \
		    "with redis-benchmark -c 50 -P 64. $SIZE-byte records."
		echo "Latency rows: kbroker via librdkafka (rk_latency) against" \
		    "Redis Streams, XADD to a client blocked in XREAD" \
		    "(redis_latency), same rate and record size. The mock is no" \
		    "peer there: it answers an empty Fetch only after" \
		    "fetch.wait.max.ms and does not wake it on new data."
		echo
		echo "## Bars (issue 8)"
		echo
		echo "| bar | measured | A/A: the second mock, same statistic | verdict |"
		echo "|---|---|---|---|"
		awk -F '\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3,
		    $4 }' "$BARS"
		echo
		echo "## Raw per-run values"
		echo
		echo '```'
		awk -F '\t' '{ printf "%-60s %s\n", $1, $2 }' "$RAW"
		echo '```'
	} > "$out"
}

# ---- main ----
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
deps
build_peers
for b in loopback memcpy_bw disk_bw rk_mockd rk_latency redis_latency startup; do
	[ -x "$BB/$b" ] || { echo "run.sh: $BB/$b missing: run make bench-build" >&2; exit 70; }
done
KB_OK=
KB_WHY="kbroker not built"
if [ -x "$BIN/kbroker" ]; then
	if start_kbroker "$SCRATCH/probe"; then
		KB_OK=1; KB_WHY=
		stop "$KB_PID"
	else
		KB_WHY="kbroker does not start"
	fi
	rm -rf "$SCRATCH/probe"
fi
T0=$(date +%s)
say "mode $MODE, $RUNS run(s) per figure, scratch $SCRATCH"
measure_limits
# A section starts only while the budget lasts; one that would start
# later is listed as skipped, so the whole run stays bounded.
for m in produce fetch tools redis latency partitions growth concurrency; do
	case " ${ONLY:-$m} " in *" $m "*) ;; *) continue ;; esac
	if [ $(($(date +%s) - T0)) -ge "$BUDGET" ]; then
		say "time budget of $BUDGET s spent: skipping $m"
		row "$m" "n/a (skipped: time budget of $BUDGET s spent)" \
		    "—" "—" "—"
		continue
	fi
	raw "load average before $m" "$(cut -d' ' -f1-3 /proc/loadavg)"
	measure_$m
done
mkdir -p bench/results
stamp=$(date -u +%Y-%m-%dT%H%MZ)
report "bench/results/$stamp-$MODE.md"
cp "bench/results/$stamp-$MODE.md" bench/results/latest.md
cat bench/results/latest.md
say "done in $(($(date +%s) - T0)) s: bench/results/$stamp-$MODE.md"
