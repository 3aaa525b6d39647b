# 10-kbroker-lib.bash -- start and stop a real kbroker for bats tests
#
# start_broker [ARGS...] starts $KP_BIN/kbroker on a free port with its own
# data directory and socket under $BATS_TEST_TMPDIR, waits (bounded) for its
# "listening" lines and sets KB_PID, KB_PORT, KB_ADDR and KB_SOCK.
# stop_broker sends SIGTERM and waits (bounded) for the exit status in
# KB_STATUS. Teardown kills only the PID this file started.

: "${KP_BIN:=$(cd "$BATS_TEST_DIRNAME/../../build/default/bin" && pwd)}"
: "${KP_TOP:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
PY=/usr/bin/python3
KB_RAW="$KP_TOP/tests/interop/kb_raw.py"

start_broker() {
	KB_DATA=${KB_DATA:-$BATS_TEST_TMPDIR/data}
	KB_SOCK=$BATS_TEST_TMPDIR/s.sock
	KB_OUT=$BATS_TEST_TMPDIR/kbroker.out
	KB_ERR=$BATS_TEST_TMPDIR/kbroker.err
	: >"$KB_OUT"
	"$KP_BIN/kbroker" --data-dir "$KB_DATA" --listen 127.0.0.1:0 \
	    --socket "$KB_SOCK" "$@" >"$KB_OUT" 2>>"$KB_ERR" &
	KB_PID=$!
	local i
	for i in $(seq 1 100); do
		grep -q '^listening unix:' "$KB_OUT" && break
		kill -0 "$KB_PID" 2>/dev/null || break
		sleep 0.1
	done
	KB_PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$KB_OUT")
	if [ -z "$KB_PORT" ]; then
		echo "kbroker did not start:" >&2
		cat "$KB_ERR" >&2
		return 1
	fi
	KB_ADDR=127.0.0.1:$KB_PORT
}

# wait_pid PID SECONDS: wait for a child, bounded; sets KB_STATUS
wait_pid() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "pid $1 still running after $2 s, killing it" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	KB_STATUS=0
	wait "$1" || KB_STATUS=$?
}

stop_broker() {
	[ -n "${KB_PID:-}" ] || return 0
	kill -TERM "$KB_PID" 2>/dev/null
	wait_pid "$KB_PID" 15
	KB_PID=
}

teardown() {
	if [ -n "${KB_PID:-}" ]; then
		kill -KILL "$KB_PID" 2>/dev/null
		wait "$KB_PID" 2>/dev/null
	fi
	return 0
}
