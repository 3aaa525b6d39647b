# client_helper.bash -- start and stop a kbroker per test for the client tool tests
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# start_broker [kbroker options...]: a broker on a Unix socket and a free
# TCP port in this test's temp dir; sets KB_PID, KB_TCP, KB_DATA and points
# KPIPE_BROKERS at the socket.
start_broker() {
	local d=$BATS_TEST_TMPDIR i
	KB_DATA=$d/data
	rm -f "$d/kb.out"
	# 8>&-: tests hold FIFOs open on fd 8; the broker must not
	# KB_LISTEN: a port to come back on (a restart under clients)
	kbroker --data-dir "$KB_DATA" --listen "${KB_LISTEN:-127.0.0.1:0}" \
	    --socket "$d/kb.sock" "$@" >"$d/kb.out" 2>"$d/kb.err" 8>&- &
	KB_PID=$!
	for i in $(seq 1 200); do
		grep -q '^listening unix' "$d/kb.out" 2>/dev/null && break
		kill -0 "$KB_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q '^listening unix' "$d/kb.out" || {
		cat "$d/kb.err" >&2
		return 1
	}
	KB_TCP=$(sed -n 's/^listening \([0-9].*\)/\1/p' "$d/kb.out")
	export KPIPE_BROKERS=unix:$d/kb.sock
}

stop_broker() {
	if [ -n "${KB_PID:-}" ]; then
		kill "$KB_PID" 2>/dev/null || true
		wait "$KB_PID" 2>/dev/null || true
		KB_PID=
	fi
}

# A port nobody listens on: bind, note, close.
dead_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Every long option of a program's getopt table must appear in its page.
check_man_options() {	# check_man_options PROG SOURCE...
	local prog=$1 page=$KP_TOP/man/man1/$1.1 opt missing=
	shift
	[ -f "$page" ] || { echo "no page $page"; return 1; }
	for opt in $(grep -hoE '\{[[:space:]]*"[a-z][a-z-]*",[[:space:]]*[a-z_]*_argument' "$@" |
	    sed -E 's/\{[[:space:]]*"([a-z-]*)".*/\1/'); do
		grep -qE -- "Fl \\\\?-$opt([^a-z-]|\$)" "$page" ||
		    missing="$missing $opt"
	done
	[ -z "$missing" ] || { echo "undocumented in $page:$missing"; return 1; }
}

# PROG --help must print the SYNOPSIS of PROG(1), spacing aside.
check_synopsis() {	# check_synopsis PROG
	local norm='tr -s " \n\t" " " | sed "s/ *| */|/g; s/^ *//; s/ *$//"'
	local a b
	a=$("$1" --help | sed 's/^usage: //' | eval "$norm")
	b=$(mandoc -Tascii -O width=200 "$KP_TOP/man/man1/$1.1" | col -b |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | eval "$norm")
	[ -n "$a" ] && [ "$a" = "$b" ] ||
	    { printf 'usage:  %s\nman:    %s\n' "$a" "$b"; return 1; }
}

# A TCP port that accepts connections and never answers; sets HOLE_PID and
# HOLE_PORT. Kill HOLE_PID in teardown.
start_black_hole() {
	/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(60)
' >"$BATS_TEST_TMPDIR/hole" 8>&- &
	HOLE_PID=$!
	for i in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/hole" ] && break
		sleep 0.05
	done
	HOLE_PORT=$(cat "$BATS_TEST_TMPDIR/hole")
}
