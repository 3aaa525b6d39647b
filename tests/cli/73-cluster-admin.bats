#!/usr/bin/env bats
# 73-cluster-admin.bats -- kreplicate elect and reassign against a real ZooKeeper and three kbrokers
#
# One ZooKeeper per file, three fresh brokers (ids 1-3) per test.
# Leaders, replicas and ISRs are read back with kreplicate status --json
# (what Metadata says) and, where the controller's writes matter, from
# ZooKeeper itself. Debugging: KP_CLARGS="-v -v" goes to every broker,
# KP_KEEP=dir keeps each test's broker folders and logs there.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

setup_file() {
	zk_start
}

teardown_file() {
	zk_stop
}

setup() {
	cluster_start 3 ${KP_CLARGS:-}
	BOOT=$(cluster_boot)
}

teardown() {
	local f
	# a broker a test stopped (SIGSTOP) must be able to take SIGTERM
	for f in "$CL_DIR"/b*.pid; do
		[ -e "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null
	done
	cluster_stop
	[ -z "${KP_KEEP:-}" ] || cp -r "$CL_DIR" "$KP_KEEP/$BATS_TEST_NUMBER"
}

# part_json TOPIC P: kreplicate status --json's line for one partition.
part_json() {
	timeout 20 kreplicate -b "$(cluster_boot)" --json status "$1" |
	    grep "\"partition\":$2,"
}

# field JSON KEY: one member, compact ("[1,2]", "3", "true").
field() {
	$PY -c 'import json, sys
print(json.dumps(json.loads(sys.argv[1])[sys.argv[2]], separators=(",", ":")))' "$1" "$2"
}

leader_is() {	# leader_is TOPIC P ID
	[ "$(field "$(part_json "$1" "$2")" leader)" = "$3" ]
}

replicas_are() {	# replicas_are TOPIC P [a,b] [isr]
	local j
	j=$(part_json "$1" "$2") || return 1
	[ "$(field "$j" replicas)" = "$3" ] || return 1
	[ $# -lt 4 ] || [ "$(field "$j" isr)" = "$4" ]
}

controller() {
	zk_field /controller brokerid
}

# raw_error ID API BODYHEX: send one flexible v0 request (header v2) to
# broker ID and print the response's top-level error code (after the
# throttle time), as a non-kpipe client would see it.
raw_error() {
	$PY - "$(broker_port "$1")" "$2" "$3" <<-'PY'
	import socket, struct, sys
	port, api, body = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])
	hdr = struct.pack(">hhih", api, 0, 7, 3) + b"raw" + b"\x00"
	s = socket.create_connection(("127.0.0.1", port), timeout=10)
	s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
	def recv(n):
	    b = b""
	    while len(b) < n:
	        c = s.recv(n - len(b))
	        if not c:
	            raise SystemExit("connection closed")
	        b += c
	    return b
	n, = struct.unpack(">i", recv(4))
	data = recv(n)
	corr, = struct.unpack(">i", data[:4])
	assert corr == 7 and data[4] == 0, data
	print(struct.unpack(">h", data[9:11])[0])
	PY
}

@test "only the controller takes elections and reassignments; kreplicate finds it" {
	local c other
	wait_for zk stat /controller
	c=$(controller)
	other=$((c % 3 + 1))
	timeout 20 ktopic -b "$BOOT" create -p 1 -r 3 ctl
	# ListPartitionReassignments (all topics) and AlterPartitionReassignments
	# (no topics): NOT_CONTROLLER (41) from another broker, 0 from it
	run raw_error "$other" 46 0000ea600000
	assert_success
	assert_output 41
	run raw_error "$other" 45 0000ea600100
	assert_output 41
	run raw_error "$c" 46 0000ea600000
	assert_output 0
	run raw_error "$c" 45 0000ea600100
	assert_output 0
	# kreplicate asks Metadata for the controller, whichever broker -b names
	run --separate-stderr timeout 30 kreplicate -b "127.0.0.1:$(broker_port "$other")" elect ctl:0
	assert_success
	assert_output "$(printf 'ctl\t0\tnot-needed')"
	run --separate-stderr timeout 30 kreplicate -b "127.0.0.1:$(broker_port "$other")" elect --all
	assert_success
	assert_output ''
	assert_equal "$stderr" "kreplicate: elect: no election needed: every partition has its preferred leader"
}

@test "unclean election: an offline partition goes to a live replica out of the ISR" {
	local j a b
	timeout 20 ktopic -b "$BOOT" create -p 1 -r 2 uc
	wait_for -t 20 leader_not uc 0 -1
	j=$(part_json uc 0)
	a=$(field "$j" replicas | tr -d '[]' | cut -d, -f1)
	b=$(field "$j" replicas | tr -d '[]' | cut -d, -f2)
	# the leader dies: the other replica leads; then it dies too: offline,
	# its ISR kept as the last one in sync
	broker_kill "$a"
	wait_for -t 30 leader_is uc 0 "$b"
	broker_kill "$b"
	wait_for -t 30 leader_is uc 0 -1
	broker_start "$a"
	wait_for zk stat "/brokers/ids/$a"
	run --separate-stderr timeout 30 kreplicate -b "$(cluster_boot)" elect uc:0
	assert_equal "$status" 75
	assert_output "$(printf 'uc\t0\tPREFERRED_LEADER_NOT_AVAILABLE')"
	leader_is uc 0 -1
	run --separate-stderr timeout 30 kreplicate -b "$(cluster_boot)" --json elect --type unclean uc
	assert_success
	assert_output '{"topic":"uc","partition":0,"result":"elected"}'
	wait_for -t 20 leader_is uc 0 "$a"
	[ "$(zk_state uc 0 isr)" = "[$a]" ] || fail "isr $(zk_state uc 0 isr)"
	# now it has a live leader: nothing more to do
	run --separate-stderr timeout 30 kreplicate -b "$(cluster_boot)" elect --type unclean uc:0
	assert_success
	assert_output "$(printf 'uc\t0\tnot-needed')"
}

@test "reassign: --generate spreads over the brokers given, as Kafka does" {
	timeout 20 ktopic -b "$BOOT" create -p 3 -r 2 gen
	timeout 20 ktopic -b "$BOOT" create -p 1 -r 1 gen2
	run --separate-stderr timeout 20 kreplicate -b "$BOOT" reassign --generate --brokers 3,1,2 --topics gen,gen2
	assert_success
	assert_output '{"version":1,"partitions":[{"topic":"gen","partition":0,"replicas":[1,2]},{"topic":"gen","partition":1,"replicas":[2,3]},{"topic":"gen","partition":2,"replicas":[3,1]},{"topic":"gen2","partition":0,"replicas":[1]}]}'
	run --separate-stderr timeout 20 kreplicate -b "$BOOT" reassign --generate --brokers 1 --topics gen
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: topic 'gen': 2 replicas, more than the 1 broker(s) given"
	run --separate-stderr timeout 20 kreplicate -b "$BOOT" reassign --generate --brokers 1,2,7 --topics gen
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: reassign: broker 7 is not in the cluster"
}

@test "reassign: the controller refuses dead brokers and unknown partitions in Kafka's words" {
	local d=$BATS_TEST_TMPDIR
	timeout 20 ktopic -b "$BOOT" create -p 1 -r 1 bad
	printf '{"version":1,"partitions":[{"topic":"bad","partition":0,"replicas":[2,9]},{"topic":"bad","partition":4,"replicas":[1]}]}' >"$d/p.json"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --execute --plan "$d/p.json"
	assert_equal "$status" 65
	assert_output "$(printf 'bad\t0\tINVALID_REPLICA_ASSIGNMENT\nbad\t4\tUNKNOWN_TOPIC_OR_PARTITION')"
	[[ "$stderr" == *"bad:0: INVALID_REPLICA_ASSIGNMENT: Replica assignment has brokers that are not alive. Replica list: [2, 9], live broker list: [1, 2, 3]"* ]] || fail "$stderr"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --cancel --plan "$d/p.json"
	assert_equal "$status" 65
	assert_line --index 0 "$(printf 'bad\t0\tnot-in-progress')"
}

@test "reassign: in progress while the new replica cannot catch up, then cancelled" {
	local d=$BATS_TEST_TMPDIR c from x pid
	wait_for zk stat /controller
	timeout 20 ktopic -b "$BOOT" create -p 1 -r 1 cx
	c=$(controller)
	from=$(field "$(part_json cx 0)" replicas | tr -d '[]')
	# the added replica: neither the controller nor the current one
	for x in 1 2 3; do
		[ "$x" != "$c" ] && [ "$x" != "$from" ] && break
	done
	printf '{"version":1,"partitions":[{"topic":"cx","partition":0,"replicas":[%s,%s]}]}\n' "$x" "$from" >"$d/p.json"
	# stopped, it stays registered for its session timeout but fetches
	# nothing: the move cannot finish (a session that outlives the test:
	# the controller takes only live brokers, even under load)
	broker_kill "$x" TERM
	CL_SESSION_MS=20000 broker_start "$x"
	wait_for zk stat "/brokers/ids/$x"
	pid=$(broker_pid "$x")
	kill -STOP "$pid"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --execute --plan "$d/p.json"
	assert_success
	assert_output "$(printf 'cx\t0\tstarted')"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" --json reassign --verify --plan "$d/p.json"
	assert_equal "$status" 75
	assert_output "{\"topic\":\"cx\",\"partition\":0,\"status\":\"in-progress\",\"replicas\":[$x,$from],\"target\":[$x,$from],\"adding\":[$x],\"removing\":[]}"
	[ "$(zk_field /brokers/topics/cx adding_replicas)" = "{\"0\":[$x]}" ] || fail "$(zk get /brokers/topics/cx)"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --cancel --plan "$d/p.json"
	assert_success
	assert_output "$(printf 'cx\t0\tcancelled')"
	wait_for -t 20 replicas_are cx 0 "[$from]"
	[ "$(zk_field /brokers/topics/cx adding_replicas)" = "{}" ] || fail "$(zk get /brokers/topics/cx)"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --verify --plan "$d/p.json"
	assert_equal "$status" 65
	assert_output "$(printf 'cx\t0\tdiffers\t%s\t%s' "$from" "$x,$from")"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --cancel --plan "$d/p.json"
	assert_success
	assert_output "$(printf 'cx\t0\tnot-in-progress')"
	kill -CONT "$pid"
}

# leader_not TOPIC P ID: the partition has a live leader other than ID.
leader_not() {
	local l
	l=$(field "$(part_json "$1" "$2")" leader) || return 1
	[ "$l" != "$3" ] && [ "$l" != -1 ]
}

# in_isr TOPIC P ID
in_isr() {
	field "$(part_json "$1" "$2")" isr | grep -qE "[[,]$3[],]"
}

# all_preferred TOPIC: every partition led by its first replica.
all_preferred() {
	timeout 20 kreplicate -b "$(cluster_boot)" --json status "$1" |
	    $PY -c 'import json, sys
rows = [json.loads(l) for l in sys.stdin]
sys.exit(0 if rows and all(r["leader"] == r["replicas"][0] for r in rows) else 1)'
}

# records N: N numbered lines.
records() {
	seq 1 "$1" | sed 's/^/record-/'
}

dump() {	# dump TOPIC: every value, sorted
	timeout 30 kconsume -b "$(cluster_boot)" -e -f '%s\n' -t "$1" | sort
}

@test "elect: after the preferred leader's broker is killed and restarted, a preferred election gives leadership back" {
	local p j want
	timeout 20 ktopic -b "$BOOT" create -p 3 -r 3 pe
	wait_for -t 30 all_preferred pe
	records 300 | timeout 30 kproduce -b "$BOOT" --acks all -t pe
	j=$(part_json pe 0)
	p=$(field "$j" replicas | tr -d '[]' | cut -d, -f1)
	# the partitions broker p prefers: those it must get back
	want=$(timeout 20 kreplicate -b "$BOOT" --json status pe |
	    $PY -c 'import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["replicas"][0] == int(sys.argv[1]):
        print("pe\t%d\telected" % r["partition"])' "$p")
	[ -n "$want" ] || fail "broker $p prefers nothing"
	broker_kill "$p"
	wait_for -t 30 leader_not pe 0 "$p"
	broker_start "$p"
	wait_for -t 30 in_isr pe 0 "$p"
	# back in sync, but not leading: nothing moves leadership by itself
	leader_not pe 0 "$p"
	run all_preferred pe
	assert_failure
	run --separate-stderr timeout 30 kreplicate -b "$(cluster_boot)" elect --type preferred --all
	assert_success
	assert_output "$want"
	wait_for -t 20 leader_is pe 0 "$p"
	wait_for -t 20 all_preferred pe
	[ "$(zk_state pe 0 leader)" = "$p" ] || fail "state $(zk_state pe 0)"
	run --separate-stderr timeout 30 kreplicate -b "$(cluster_boot)" elect --all
	assert_success
	assert_output ''
	assert_equal "$stderr" "kreplicate: elect: no election needed: every partition has its preferred leader"
	# and nothing acknowledged was lost on the way
	run dump pe
	assert_output "$(records 300 | sort)"
}

@test "reassign: --execute, then --verify until done; the records are on the new replicas" {
	local d=$BATS_TEST_TMPDIR from a b
	timeout 20 ktopic -b "$BOOT" create -p 1 -r 1 mv
	wait_for -t 20 leader_not mv 0 -1
	records 500 | timeout 30 kproduce -b "$BOOT" --acks all -t mv
	from=$(field "$(part_json mv 0)" replicas | tr -d '[]')
	a=$((from % 3 + 1))
	b=$((a % 3 + 1))
	printf '{"version":1,"partitions":[{"topic":"mv","partition":0,"replicas":[%s,%s]}]}\n' "$a" "$b" >"$d/p.json"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --execute --plan "$d/p.json"
	assert_success
	assert_output "$(printf 'mv\t0\tstarted')"
	wait_for -t 60 timeout 20 kreplicate -b "$BOOT" reassign --verify --plan "$d/p.json"
	run --separate-stderr timeout 30 kreplicate -b "$BOOT" reassign --verify --plan "$d/p.json"
	assert_success
	assert_output "$(printf 'mv\t0\tdone\t%s,%s\t%s,%s' "$a" "$b" "$a" "$b")"
	wait_for -t 20 replicas_are mv 0 "[$a,$b]"
	wait_for -t 20 leader_is mv 0 "$a"
	[ "$(zk_field /brokers/topics/mv partitions)" = "{\"0\":[$a,$b]}" ] || fail "$(zk get /brokers/topics/mv)"
	# the old replica's log goes; with it down the records are still there
	wait_for -t 20 test ! -e "$CL_DIR/b$from/mv-0"
	broker_kill "$from"
	run dump mv
	assert_output "$(records 500 | sort)"
	# and on the second new replica too, once the first is gone
	wait_for -t 30 in_isr mv 0 "$b"
	broker_kill "$a"
	wait_for -t 30 leader_is mv 0 "$b"
	run dump mv
	assert_output "$(records 500 | sort)"
}
