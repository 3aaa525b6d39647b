# 70-cluster-lib.bash -- a real ZooKeeper and N real kbrokers in cluster mode, for bats tests
#
# ZooKeeper (the Debian package's jars) runs once per file: call zk_start
# from setup_file and zk_stop from teardown_file. It listens on 127.0.0.1
# only, on a free port, with its admin server off, and only its own PID is
# ever killed.
#
#   zk_start / zk_stop          ZooKeeper; sets ZK_PORT, ZK_PID, ZK_HOSTS;
#                               zk_stop first stops every broker of every
#                               cluster this file started
#   cluster_start N [ARGS...]   brokers 1..N under a fresh chroot of their
#                               own (CL_ZK = host:port/chroot, which the
#                               brokers create), ARGS given
#                               to every broker; waits until all registered
#   broker_start ID [ARGS...]   start (or restart: same data dir, same
#                               port) broker ID; waits for its "listening"
#   broker_kill ID [SIG]        signal it (default KILL), wait for its exit
#   cluster_stop                SIGTERM every broker still running
#   cluster_boot                "127.0.0.1:P1,127.0.0.1:P2,..." of the
#                               brokers running now
#   broker_port ID, broker_pid ID, broker_err ID (its stderr file)
#   zk ARGS...                  tests/tools/zk_cli on the cluster's chroot:
#                               zk get|ls|stat|create|set|rm PATH [DATA]
#   zk_field PATH KEY           one field of a znode's JSON, compact
#   zk_state TOPIC P [KEY]      partition state JSON (or one field of it)
#   wait_for [-t SECS] CMD...   run CMD every 0.1 s until it succeeds,
#                               at most SECS (default 20) seconds
#
# State lives in files under CL_DIR (pids, ports), so what setup_file
# starts, tests see, and what one test kills, the next one knows.

: "${KP_BIN:=$(cd "$BATS_TEST_DIRNAME/../../build/default/bin" && pwd)}"
: "${KP_TOOLS:=$(cd "$BATS_TEST_DIRNAME/../../build/default/tests/tools" && pwd)}"
: "${KP_TOP:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
PY=/usr/bin/python3
ZK_JARS=/usr/share/java

wait_for() {
	local secs=20 i
	if [ "$1" = -t ]; then
		secs=$2
		shift 2
	fi
	for i in $(seq 1 $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "wait_for: '$*' still failing after $secs s" >&2
	return 1
}

free_port() {
	$PY -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

zk_ruok() {	# true when ZooKeeper answers "imok"
	local r
	r=$( (exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf ruok >&3 &&
	    timeout 2 cat <&3) 2>/dev/null)
	[ "$r" = imok ]
}

zk_start() {
	local dir=${BATS_FILE_TMPDIR:-$BATS_TEST_TMPDIR}/zk jar cp=
	ZK_DIR=$dir
	export ZK_DIR
	for jar in zookeeper zookeeper-jute slf4j-api slf4j-nop; do
		if [ ! -f "$ZK_JARS/$jar.jar" ]; then
			echo "zk_start: $ZK_JARS/$jar.jar missing (Debian package zookeeper)" >&2
			return 1
		fi
		cp=$cp${cp:+:}$ZK_JARS/$jar.jar
	done
	mkdir -p "$dir/data"
	ZK_PORT=$(free_port)
	cat >"$dir/zoo.cfg" <<-EOF
		clientPort=$ZK_PORT
		clientPortAddress=127.0.0.1
		dataDir=$dir/data
		tickTime=200
		minSessionTimeout=400
		maxSessionTimeout=20000
		admin.enableServer=false
		4lw.commands.whitelist=ruok,srvr
	EOF
	java -Xmx256m -cp "$cp" \
	    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
	    >"$dir/zk.log" 2>&1 3>&- &
	ZK_PID=$!
	export ZK_PORT ZK_PID ZK_HOSTS=127.0.0.1:$ZK_PORT
	if ! wait_for -t 30 zk_ruok; then
		echo "zk_start: ZooKeeper did not answer:" >&2
		tail -20 "$dir/zk.log" >&2
		return 1
	fi
}

zk_stop() {
	local d
	# every cluster this file started, from setup_file or from a test
	if [ -f "$ZK_DIR/clusters" ]; then
		while read -r d; do
			CL_DIR=$d cluster_stop
		done <"$ZK_DIR/clusters"
	fi
	[ -n "${ZK_PID:-}" ] || return 0
	kill -TERM "$ZK_PID" 2>/dev/null
	local i
	for i in $(seq 1 100); do
		kill -0 "$ZK_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$ZK_PID" 2>/dev/null
	wait "$ZK_PID" 2>/dev/null || true
	ZK_PID=
	return 0
}

zk() {
	"$KP_TOOLS/zk_cli" "$CL_ZK" "$@"
}

zk_field() {	# zk_field PATH KEY
	zk get "$1" | $PY -c 'import json, sys
print(json.dumps(json.load(sys.stdin)[sys.argv[1]], separators=(",", ":")).strip("\""))' "$2"
}

zk_state() {	# zk_state TOPIC P [KEY]
	if [ $# -ge 3 ]; then
		zk_field "/brokers/topics/$1/partitions/$2/state" "$3"
	else
		zk get "/brokers/topics/$1/partitions/$2/state"
	fi
}

broker_port() { cat "$CL_DIR/b$1.port" 2>/dev/null; }
broker_pid() { cat "$CL_DIR/b$1.pid" 2>/dev/null; }
broker_err() { echo "$CL_DIR/b$1.err"; }

broker_start() {	# broker_start ID [ARGS...]
	local id=$1 port listen out pid i
	shift
	port=$(broker_port "$id")
	listen=127.0.0.1:${port:-0}
	out=$CL_DIR/b$id.out
	: >"$out"
	# shellcheck disable=SC2086
	"$KP_BIN/kbroker" --data-dir "$CL_DIR/b$id" --listen "$listen" \
	    --socket "$CL_DIR/b$id.sock" \
	    -o zookeeper.connect="$CL_ZK" -o broker.id="$id" \
	    -o zookeeper.session.timeout.ms="${CL_SESSION_MS:-2000}" \
	    $CL_ARGS "$@" >"$out" 2>>"$CL_DIR/b$id.err" 3>&- &
	pid=$!
	echo "$pid" >"$CL_DIR/b$id.pid"
	for i in $(seq 1 200); do
		grep -q '^listening 127\.0\.0\.1:' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out")
	if [ -z "$port" ]; then
		echo "broker $id did not start:" >&2
		tail -20 "$CL_DIR/b$id.err" >&2
		rm -f "$CL_DIR/b$id.pid"
		return 1
	fi
	echo "$port" >"$CL_DIR/b$id.port"
}

broker_kill() {	# broker_kill ID [SIG]
	local pid i
	pid=$(broker_pid "$1") || return 0
	[ -n "$pid" ] || return 0
	kill -"${2:-KILL}" "$pid" 2>/dev/null
	for i in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	rm -f "$CL_DIR/b$1.pid"
	return 0
}

cluster_start() {	# cluster_start N [ARGS...]
	local n=$1 id
	shift
	CL_DIR=$(mktemp -d "${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/cluster.XXXX")
	CL_ZK=$ZK_HOSTS/kp$$_$RANDOM$RANDOM
	CL_ARGS="$*"
	echo "$CL_DIR" >>"$ZK_DIR/clusters"
	export CL_DIR CL_ZK CL_ARGS
	for id in $(seq 1 "$n"); do
		broker_start "$id" || return 1
	done
	for id in $(seq 1 "$n"); do
		wait_for zk stat "/brokers/ids/$id" || return 1
	done
}

cluster_stop() {
	local f id
	[ -n "${CL_DIR:-}" ] || return 0
	for f in "$CL_DIR"/b*.pid; do
		[ -e "$f" ] || continue
		id=$(basename "$f" .pid)
		id=${id#b}
		broker_kill "$id" TERM
	done
	return 0
}

others_of() {	# others_of ID [N]: brokers 1..N (default 3) but ID, one line
	local i list=
	for i in $(seq 1 "${2:-3}"); do
		[ "$i" = "$1" ] || list=$list${list:+ }$i
	done
	echo "$list"
}

cluster_boot() {
	local f id list=
	for f in "$CL_DIR"/b*.pid; do
		[ -e "$f" ] || continue
		id=$(basename "$f" .pid)
		id=${id#b}
		list=$list${list:+,}127.0.0.1:$(broker_port "$id")
	done
	echo "$list"
}
