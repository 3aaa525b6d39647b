# helpers.bash -- start, kill and inspect a real kbroker for the fault tests
#
# Every broker started here is recorded in $BATS_TEST_TMPDIR/pids and
# killed by PID in teardown; its stdout/stderr go to broker.N.out/.err so
# restarts keep their own logs. Under `make check SAN=1` KP_BIN holds the
# ASan/UBSan build, so any report lands in those .err files and
# asan_clean fails the test.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

PY=/usr/bin/python3
KCLIENT="$KP_TOP/tests/fault/kclient.py"
HOSTILE="$KP_TOOLS/hostile"
BROKER_N=0

# start_broker DATADIR LISTEN [kbroker options...]: sets BROKER_PID, PORT
# (BROKER_ENV: extra NAME=value words for its environment)
start_broker() {
	local dir=$1 listen=$2 i
	shift 2
	BROKER_N=$((BROKER_N + 1))
	BROKER_OUT=$BATS_TEST_TMPDIR/broker.$BROKER_N.out
	BROKER_ERR=$BATS_TEST_TMPDIR/broker.$BROKER_N.err
	env ${BROKER_ENV:-} "$KP_BIN/kbroker" --data-dir "$dir" --listen "$listen" \
	    --socket "$BATS_TEST_TMPDIR/s.sock" "$@" \
	    >"$BROKER_OUT" 2>"$BROKER_ERR" &
	BROKER_PID=$!
	echo "$BROKER_PID" >>"$BATS_TEST_TMPDIR/pids"
	for i in $(seq 200); do
		grep -q '^listening 127' "$BROKER_OUT" 2>/dev/null && break
		if ! kill -0 "$BROKER_PID" 2>/dev/null; then
			cat "$BROKER_ERR" >&3
			fail "kbroker exited at startup"
		fi
		sleep 0.05
	done
	PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$BROKER_OUT" | head -1)
	[ -n "$PORT" ] || fail "kbroker printed no TCP listening line"
	BROKER=127.0.0.1:$PORT
}

# stop_broker: SIGTERM, wait up to 20s; fails unless it exits 0
stop_broker() {
	local i rc
	kill -TERM "$BROKER_PID" 2>/dev/null || fail "kbroker already gone"
	for i in $(seq 400); do
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$BROKER_PID" 2>/dev/null && fail "kbroker ignored SIGTERM"
	wait "$BROKER_PID"
	rc=$?
	[ "$rc" -eq 0 ] || { tail -20 "$BROKER_ERR" >&3; \
	    fail "kbroker exited $rc on SIGTERM"; }
}

# kill9_broker: SIGKILL and reap
kill9_broker() {
	kill -KILL "$BROKER_PID" 2>/dev/null
	wait "$BROKER_PID" 2>/dev/null || true
}

alive() {
	kill -0 "$BROKER_PID" 2>/dev/null
}

# peak_rss PID: VmHWM in kB
peak_rss() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# asan_clean: no sanitizer report in any broker's stderr
asan_clean() {
	local f
	for f in "$BATS_TEST_TMPDIR"/broker.*.err; do
		[ -e "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		    "$f"; then
			grep -A30 -E 'Sanitizer|runtime error' "$f" | head -60 >&3
			return 1
		fi
	done
}

# Kill every PID this test started (brokers, clients), then look for
# sanitizer reports: a report fails the test even from teardown.
fault_teardown() {
	local p
	if [ -f "$BATS_TEST_TMPDIR/pids" ]; then
		while read -r p; do
			kill -KILL "$p" 2>/dev/null || true
		done <"$BATS_TEST_TMPDIR/pids"
	fi
	asan_clean || fail "sanitizer report in kbroker's stderr"
}

# track PID: kill it in teardown
track() {
	echo "$1" >>"$BATS_TEST_TMPDIR/pids"
}

# build_syncshim: the LD_PRELOAD hook that logs each fsync'ed length;
# sets BROKER_ENV so the next brokers run under it
build_syncshim() {
	cc -shared -fPIC -O1 -o "$BATS_TEST_TMPDIR/syncshim.so" \
	    "$KP_TOP/tests/fault/syncshim.c" -ldl ||
	    fail "cannot build the fsync shim"
	SYNC_LOG=$BATS_TEST_TMPDIR/synclog
	: >"$SYNC_LOG"
	# ASan wants to come first; the shim only wraps two libc calls.
	BROKER_ENV="LD_PRELOAD=$BATS_TEST_TMPDIR/syncshim.so KP_SYNC_LOG=$SYNC_LOG ASAN_OPTIONS=verify_asan_link_order=0"
}

# machine_crash DATADIR: SIGKILL, then drop what the page cache had not
# written back: every segment and index file is cut to its length at its
# last fsync (0 if never synced). Sets DROPPED (bytes cut).
machine_crash() {
	local f len size
	kill9_broker
	DROPPED=0
	for f in "$1"/*/*.log "$1"/*/*.index "$1"/*/*.timeindex; do
		[ -f "$f" ] || continue
		len=$(awk -v f="$f" '$2 == f { n = $1 } END { print n + 0 }' \
		    "$SYNC_LOG")
		size=$(stat -c %s "$f")
		if [ "$size" -gt "$len" ]; then
			truncate -s "$len" "$f"
			DROPPED=$((DROPPED + size - len))
		fi
	done
}
