#!/usr/bin/env bats
# 60-kreplicate.bats -- kreplicate status and mirror between two real kbrokers
#
# Two brokers per test (own data dirs, Unix sockets and port 0 in the
# test's temp dir): SRC is the source cluster, DST the target.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# kb_start NAME: a kbroker; sets NAME (unix:socket), NAME_PID, NAME_TCP.
kb_start() {
	local n=$1 d=$BATS_TEST_TMPDIR i
	kbroker --data-dir "$d/$n.data" --listen 127.0.0.1:0 \
	    --socket "$d/$n.sock" >"$d/$n.out" 2>"$d/$n.err" 8>&- &
	printf -v "${n}_PID" %s "$!"
	for i in $(seq 1 200); do
		grep -q '^listening unix' "$d/$n.out" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^listening unix' "$d/$n.out" || {
		cat "$d/$n.err" >&2
		return 1
	}
	printf -v "$n" %s "unix:$d/$n.sock"
	printf -v "${n}_TCP" %s \
	    "$(sed -n 's/^listening \([0-9].*\)/\1/p' "$d/$n.out")"
}

setup() {
	kb_start SRC
	kb_start DST
	MIRROR_PID=
	MOCK_PID=
}

teardown() {
	local p
	for p in "$MIRROR_PID" "$MOCK_PID" "$SRC_PID" "$DST_PID"; do
		[ -n "$p" ] || continue
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	return 0
}

# wait_exit PID SECONDS: wait for a child, bounded; sets RC.
wait_exit() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; fail "pid $1 still running after $2 s"; }
	RC=0
	wait "$1" || RC=$?
}

# dump BROKER TOPIC: every record as JSON, topic name left out, sorted.
dump() {
	timeout 20 kconsume -b "$1" -f json -e -t "$2" |
	    sed 's/^{"topic":"[^"]*",/{/' | sort
}

count() {	# count BROKER TOPIC
	timeout 20 kconsume -b "$1" -f '%p %o\n' -e -t "$2" | wc -l
}

# wait_count BROKER TOPIC N: until TOPIC holds at least N records (bounded).
wait_count() {
	local i
	for i in $(seq 1 200); do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	fail "$2 has $(count "$1" "$2") records, not $3"
}

# The records every mirror test copies: keys, null keys and values,
# binary bytes, repeated and null headers, explicit timestamps, and on
# partition 0 enough bytes to take several rounds.
records() {
	cat <<-'JSON'
	{"partition":0,"key":"k1","value":"v1","timestamp":1600000000000,"headers":[{"key":"h","value":"x"},{"key":"h","value":null},{"key":"bin","value":{"base64":"AP8="}}]}
	{"partition":1,"key":null,"value":"no key","timestamp":1600000000001}
	{"partition":2,"key":"k3","value":null,"timestamp":1600000000002}
	{"partition":2,"key":{"base64":"AAEC/w=="},"value":{"base64":"/wABAgM="},"timestamp":1500000000003}
	{"partition":1,"key":"","value":"","timestamp":0}
	JSON
	/usr/bin/python3 -c '
import json
for i in range(1500):
    print(json.dumps({"partition": i % 3, "key": "key%d" % i,
        "value": "%05d" % i + "v" * 1000, "timestamp": 1700000000000 + i,
        "headers": [{"key": "n", "value": str(i)}]}, separators=(",", ":")))'
}

# produce BROKER TOPIC [FILE]: JSON lines (stdin or FILE) into TOPIC.
produce() {
	if [ $# -gt 2 ]; then
		timeout 20 kproduce -b "$1" -t "$2" -f json <"$3"
	else
		timeout 20 kproduce -b "$1" -t "$2" -f json
	fi
}

@test "status: leader, replicas, ISR and high watermark per partition, table and --json" {
	timeout 10 ktopic -b "$SRC" create -p 3 st
	printf '{"partition":1,"value":"a"}\n{"partition":1,"value":"b"}\n{"partition":2,"value":"c"}\n' |
	    produce "$SRC" st
	run --separate-stderr timeout 10 kreplicate -b "$SRC" --json status st
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 '{"topic":"st","partition":0,"leader":0,"replicas":[0],"isr":[0],"high_watermark":0,"under_replicated":false,"offline":false}'
	assert_line --index 1 '{"topic":"st","partition":1,"leader":0,"replicas":[0],"isr":[0],"high_watermark":2,"under_replicated":false,"offline":false}'
	assert_line --index 2 '{"topic":"st","partition":2,"leader":0,"replicas":[0],"isr":[0],"high_watermark":1,"under_replicated":false,"offline":false}'
	# not a terminal: tab-separated, no header
	run --separate-stderr timeout 10 kreplicate -b "$SRC" status st
	assert_success
	assert_line --index 1 "$(printf 'st\t1\t0\t0\t0\t2\tok')"
	assert_equal "${#lines[@]}" 3
	# a terminal: aligned with a header
	run timeout 10 script -qec "kreplicate -b $SRC status st" /dev/null
	assert_success
	assert_line --index 0 --regexp '^TOPIC +PARTITION +LEADER +REPLICAS +ISR +HIGH-WATERMARK +STATUS'
	assert_line --index 3 --regexp '^st +2 +0 +0 +0 +1 +ok'
	# every topic when none is named; a healthy broker has nothing under-replicated
	timeout 10 ktopic -b "$SRC" create -p 1 other
	run --separate-stderr timeout 10 kreplicate -b "$SRC" status
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 --regexp "^other	0	"
	run --separate-stderr timeout 10 kreplicate -b "$SRC" status --under-replicated
	assert_success
	assert_output ''
}

@test "status: a missing topic is an error, the others are still shown" {
	timeout 10 ktopic -b "$SRC" create -p 2 here
	run --separate-stderr timeout 20 kreplicate -b "$SRC" status nosuch here
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: topic 'nosuch': UNKNOWN_TOPIC_OR_PARTITION"
	assert_equal "${#lines[@]}" 2
	run --separate-stderr timeout 10 kreplicate -b unix:"$BATS_TEST_TMPDIR/none.sock" status
	assert_equal "$status" 69
}

@test "status: a replicated cluster with a leaderless partition (librdkafka mock)" {
	mkfifo "$BATS_TEST_TMPDIR/mock.in"
	"$KP_TOOLS/rk_mock_repl" 3 rt 4 3 2 <"$BATS_TEST_TMPDIR/mock.in" \
	    >"$BATS_TEST_TMPDIR/mock.out" 8>&- &
	MOCK_PID=$!
	exec 8>"$BATS_TEST_TMPDIR/mock.in"
	for i in $(seq 1 100); do
		grep -q BROKERS= "$BATS_TEST_TMPDIR/mock.out" && break
		sleep 0.05
	done
	local b
	b=$(sed -n 's/^BROKERS=//p' "$BATS_TEST_TMPDIR/mock.out")
	[ -n "$b" ] || fail "mock cluster did not start"
	# The mock answers its first requests while it still sets itself up,
	# now and then; an unreachable-broker exit (69) is tried again, twice.
	for i in 1 2 3; do
		run --separate-stderr timeout 20 kreplicate -b "$b" --json status rt
		[ "$status" -ne 69 ] && break
		sleep 0.5
	done
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "${#lines[@]}" 4
	assert_line --index 2 --regexp '^\{"topic":"rt","partition":2,"leader":-1,"replicas":\[[1-3],[1-3],[1-3]\],"isr":\[[1-3],[1-3],[1-3]\],"high_watermark":-1,"under_replicated":false,"offline":true\}$'
	assert_line --index 0 --regexp '"leader":[1-3],"replicas":\[[1-3],[1-3],[1-3]\],.*"offline":false\}$'
	run --separate-stderr timeout 20 kreplicate -b "$b" status --under-replicated rt
	assert_success
	assert_output --regexp '^rt	2	none	[1-3],[1-3],[1-3]	[1-3],[1-3],[1-3]	-	offline$'
	exec 8>&-
}

@test "mirror: partitions, keys, values, headers and timestamps arrive as they were" {
	timeout 10 ktopic -b "$SRC" create -p 3 t
	records >"$BATS_TEST_TMPDIR/in.json"
	produce "$SRC" t "$BATS_TEST_TMPDIR/in.json"
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e t
	assert_success
	assert_output ''
	# created with the source's partition count
	run timeout 10 kreplicate -b "$DST" --json status t
	assert_equal "${#lines[@]}" 3
	dump "$SRC" t >"$BATS_TEST_TMPDIR/src"
	dump "$DST" t >"$BATS_TEST_TMPDIR/dst"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/src")" 1505
	# same partition, offset, key, value, headers and timestamp
	cmp "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" ||
	    fail "$(diff "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" | head -5)"
	grep -qF '{"partition":2,"offset":1,"timestamp":1500000000003,"key":{"base64":"AAEC/w=="},"value":{"base64":"/wABAgM="},"headers":[]}' \
	    "$BATS_TEST_TMPDIR/dst" || fail "binary record not mirrored as it was"
	# the checkpoint is the source group's committed offsets
	run timeout 10 kgroup -b "$SRC" --json describe kreplicate-mirror
	assert_success
	assert_output --partial '"current_offset":502'
	# nothing new: a second run copies nothing
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e t
	assert_success
	assert_equal "$(count "$DST" t)" 1505
}

@test "mirror: kcat reads the mirrored topic like the source" {
	timeout 10 ktopic -b "$SRC" create -p 3 t
	records | head -n 40 | produce "$SRC" t
	timeout 30 kreplicate -b "$SRC" mirror --to "$DST" -e t
	local f='%p|%o|%k|%s|%T|%h\n'
	timeout 20 kcat -q -b "$SRC_TCP" -C -t t -e -f "$f" | sort >"$BATS_TEST_TMPDIR/a"
	timeout 20 kcat -q -b "$DST_TCP" -C -t t -e -f "$f" | sort >"$BATS_TEST_TMPDIR/b"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/b")" 40
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" ||
	    fail "$(diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" | head -5)"
}

@test "mirror: killed with -9 and restarted, no source record is missing" {
	timeout 10 ktopic -b "$SRC" create -p 3 t
	records >"$BATS_TEST_TMPDIR/in.json"
	kreplicate -b "$SRC" mirror --to "$DST" t 2>"$BATS_TEST_TMPDIR/m.err" &
	MIRROR_PID=$!
	produce "$SRC" t "$BATS_TEST_TMPDIR/in.json"
	wait_count "$DST" t 1
	kill -KILL "$MIRROR_PID"
	wait "$MIRROR_PID" 2>/dev/null || true
	MIRROR_PID=
	sed 's/"timestamp":1/"timestamp":2/; s/"value":"/"value":"again /' \
	    "$BATS_TEST_TMPDIR/in.json" | produce "$SRC" t
	run --separate-stderr timeout 30 kreplicate -b "$SRC" mirror --to "$DST" -e t
	assert_success
	# at-least-once: every source record is there (duplicates allowed)
	dump "$SRC" t | sed 's/"offset":[0-9]*,//' | sort -u >"$BATS_TEST_TMPDIR/src"
	dump "$DST" t | sed 's/"offset":[0-9]*,//' | sort -u >"$BATS_TEST_TMPDIR/dst"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/src")" 3010
	missing=$(comm -23 "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" | wc -l)
	assert_equal "$missing" 0
	extra=$(comm -13 "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" | wc -l)
	assert_equal "$extra" 0
}

@test "mirror: stopped with SIGTERM and restarted, every record exactly once" {
	timeout 10 ktopic -b "$SRC" create -p 3 t
	records >"$BATS_TEST_TMPDIR/in.json"
	kreplicate -b "$SRC" mirror --to "$DST" t 2>"$BATS_TEST_TMPDIR/m.err" &
	MIRROR_PID=$!
	produce "$SRC" t "$BATS_TEST_TMPDIR/in.json"
	wait_count "$DST" t 1
	kill -TERM "$MIRROR_PID"
	wait_exit "$MIRROR_PID" 20
	MIRROR_PID=
	assert_equal "$RC" 0
	sed 's/"timestamp":1/"timestamp":2/' "$BATS_TEST_TMPDIR/in.json" |
	    produce "$SRC" t
	run --separate-stderr timeout 30 kreplicate -b "$SRC" mirror --to "$DST" -e t
	assert_success
	# no duplicates: the target is the source, offsets and all
	dump "$SRC" t >"$BATS_TEST_TMPDIR/src"
	dump "$DST" t >"$BATS_TEST_TMPDIR/dst"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/src")" 3010
	cmp "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" ||
	    fail "$(diff "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" | head -5)"
}

@test "mirror: --prefix, --pattern, --group and --from latest" {
	local t
	for t in app.a app.b other; do
		timeout 10 ktopic -b "$SRC" create -p 2 "$t"
		printf '{"partition":1,"key":"k","value":"%s"}\n' "$t" | produce "$SRC" "$t"
	done
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e \
	    --group g1 --prefix dc1. --pattern 'app\..*'
	assert_success
	run timeout 10 ktopic -b "$DST" list
	assert_output "$(printf 'dc1.app.a\ndc1.app.b')"
	run timeout 20 kconsume -b "$DST" -e -f '%p %k %s\n' -t dc1.app.b
	assert_output '1 k app.b'
	# the pattern matches whole names only
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e \
	    --group g2 --prefix x. --pattern 'app'
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: mirror: no source topic matches"
	# a cluster mirrored into itself leaves its own mirrors alone
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$SRC" -e \
	    --group g3 --prefix m. --pattern '.*'
	assert_success
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$SRC" -e \
	    --group g3 --prefix m. --pattern '.*'
	assert_success
	run timeout 10 ktopic -b "$SRC" list
	lines=$(grep -v '^__' <<<"$output")
	assert_equal "$lines" "$(printf 'app.a\napp.b\nm.app.a\nm.app.b\nm.other\nother')"
	# --from latest: what was there before the first run is not copied
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e \
	    --group g4 --from latest other
	assert_success
	assert_equal "$(count "$DST" other)" 0
	printf '{"partition":0,"value":"new"}\n' | produce "$SRC" other
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e \
	    --group g4 --from latest other
	assert_success
	run timeout 20 kconsume -b "$DST" -e -t other
	assert_output 'new'
}

@test "mirror: a missing source topic or too few target partitions is a clear error" {
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e nosuch
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: source: topic 'nosuch': UNKNOWN_TOPIC_OR_PARTITION"
	timeout 10 ktopic -b "$SRC" create -p 4 t4
	timeout 10 ktopic -b "$DST" create -p 2 t4
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e t4
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: target: topic 't4' has 2 partitions, fewer than the 4 of source topic 't4': add partitions to it first"
}

@test "mirror: the target broker down is exit 69, before and while mirroring" {
	timeout 10 ktopic -b "$SRC" create -p 1 t
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" \
	    --to unix:"$BATS_TEST_TMPDIR/none.sock" -e t
	assert_equal "$status" 69
	[[ "$stderr" == "kreplicate: target: connect unix:"* ]] || fail "$stderr"
	run --separate-stderr timeout 30 kreplicate mirror -b unix:"$BATS_TEST_TMPDIR/none.sock" \
	    --to "$DST" -e t
	assert_equal "$status" 69
	[[ "$stderr" == "kreplicate: source: connect unix:"* ]] || fail "$stderr"
	# the target goes away under a running mirror: records cannot be
	# written, so nothing is committed and the mirror gives up with 69
	kreplicate -b "$SRC" mirror --to "$DST" t 2>"$BATS_TEST_TMPDIR/m.err" &
	MIRROR_PID=$!
	printf '{"value":"one"}\n' | produce "$SRC" t
	wait_count "$DST" t 1
	kill -KILL "$DST_PID"
	wait "$DST_PID" 2>/dev/null || true
	DST_PID=
	printf '{"value":"two"}\n' | produce "$SRC" t
	wait_exit "$MIRROR_PID" 30
	MIRROR_PID=
	assert_equal "$RC" 69
	grep -q '^kreplicate: target: ' "$BATS_TEST_TMPDIR/m.err" ||
	    fail "$(cat "$BATS_TEST_TMPDIR/m.err")"
	run timeout 10 kgroup -b "$SRC" --json describe kreplicate-mirror
	assert_output --partial '"current_offset":1,'
}

@test "mirror: gzip batches on the source are copied record for record" {
	timeout 10 ktopic -b "$SRC" create -p 3 t
	records | head -n 300 | timeout 20 kproduce -b "$SRC" -t t -f json -z gzip
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e t
	assert_success
	dump "$SRC" t >"$BATS_TEST_TMPDIR/src"
	dump "$DST" t >"$BATS_TEST_TMPDIR/dst"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/dst")" 300
	cmp "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" ||
	    fail "$(diff "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst" | head -5)"
}

@test "mirror: only committed transactions are copied; an open one holds its partition back" {
	timeout 10 ktopic -b "$SRC" create -p 2 t
	# committed c0 c1; a0 a1 written, then aborted; o1 in a
	# transaction left open while the mirror runs
	timeout 60 /usr/bin/python3 - "$SRC_TCP" >"$BATS_TEST_TMPDIR/py.out" \
	    2>&1 <<-'PY' &
	import sys, time
	from confluent_kafka import Producer
	p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "m"})
	p.init_transactions(20)
	p.begin_transaction()
	p.produce("t", b"c0", partition=0)
	p.produce("t", b"c1", partition=1)
	p.commit_transaction(20)
	p.begin_transaction()
	p.produce("t", b"a0", partition=0)
	p.produce("t", b"a1", partition=1)
	p.flush(10)
	p.abort_transaction(20)
	p.begin_transaction()
	p.produce("t", b"o1", partition=1)
	p.flush(10)
	print("open", flush=True)
	time.sleep(30)
	PY
	MOCK_PID=$!
	local i
	for i in $(seq 1 400); do
		grep -q '^open' "$BATS_TEST_TMPDIR/py.out" && break
		sleep 0.05
	done
	grep -q '^open' "$BATS_TEST_TMPDIR/py.out" ||
	    fail "$(cat "$BATS_TEST_TMPDIR/py.out")"
	# the source log holds all five
	run timeout 20 kconsume -b "$SRC" -f '%s\n' -e -t t
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" \
	    'a0 a1 c0 c1 o1 '
	run --separate-stderr timeout 30 kreplicate mirror -b "$SRC" --to "$DST" -e t
	assert_success
	run timeout 20 kconsume -b "$DST" -f '%s\n' -e -t t
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" \
	    'c0 c1 '
}

@test "elect: a single broker leads every partition already, no election is needed" {
	timeout 10 ktopic -b "$SRC" create -p 3 el
	timeout 10 ktopic -b "$SRC" create -p 1 other
	run --separate-stderr timeout 20 kreplicate -b "$SRC" elect --all
	assert_success
	assert_output ''
	assert_equal "$stderr" "kreplicate: elect: no election needed: every partition has its preferred leader"
	# named partitions are each answered, sorted
	run --separate-stderr timeout 20 kreplicate -b "$SRC" elect other el:2 el
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 "$(printf 'el\t0\tnot-needed')"
	assert_line --index 2 "$(printf 'el\t2\tnot-needed')"
	assert_line --index 3 "$(printf 'other\t0\tnot-needed')"
	run --separate-stderr timeout 20 kreplicate -b "$SRC_TCP" --json elect --type unclean el:1
	assert_success
	assert_output '{"topic":"el","partition":1,"result":"not-needed"}'
	# a partition that does not exist: the broker says so, exit 65
	run --separate-stderr timeout 20 kreplicate -b "$SRC" --json elect el:7 el:0
	assert_equal "$status" 65
	assert_line --index 0 '{"topic":"el","partition":0,"result":"not-needed"}'
	assert_line --index 1 '{"topic":"el","partition":7,"result":"UNKNOWN_TOPIC_OR_PARTITION","message":"The partition does not exist."}'
	assert_equal "$stderr" "kreplicate: el:7: UNKNOWN_TOPIC_OR_PARTITION: The partition does not exist."
	run --separate-stderr timeout 20 kreplicate -b "$SRC" elect nosuch
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: topic 'nosuch': UNKNOWN_TOPIC_OR_PARTITION"
}

@test "reassign: on a single broker the only plan is [this broker]; others are refused" {
	local d=$BATS_TEST_TMPDIR
	timeout 10 ktopic -b "$SRC" create -p 2 ra
	run --separate-stderr timeout 20 kreplicate -b "$SRC" reassign --generate --brokers 0 --topics ra
	assert_success
	assert_output '{"version":1,"partitions":[{"topic":"ra","partition":0,"replicas":[0]},{"topic":"ra","partition":1,"replicas":[0]}]}'
	echo "$output" >"$d/plan.json"
	run --separate-stderr timeout 20 kreplicate -b "$SRC" reassign --execute --plan "$d/plan.json"
	assert_success
	assert_output "$(printf 'ra\t0\tstarted\nra\t1\tstarted')"
	run --separate-stderr timeout 20 kreplicate -b "$SRC" reassign --verify --plan "$d/plan.json"
	assert_success
	assert_output "$(printf 'ra\t0\tdone\t0\t0\nra\t1\tdone\t0\t0')"
	run --separate-stderr timeout 20 kreplicate -b "$SRC" --json reassign --cancel --plan - <"$d/plan.json"
	assert_success
	assert_line --index 1 '{"topic":"ra","partition":1,"result":"not-in-progress","message":"No reassignment in progress"}'
	# brokers that do not exist: the broker refuses, in Kafka's words
	printf '{"version":1,"partitions":[{"topic":"ra","partition":0,"replicas":[1,0]},{"topic":"nosuch","partition":0,"replicas":[0]}]}' >"$d/bad.json"
	run --separate-stderr timeout 20 kreplicate -b "$SRC" reassign --execute --plan "$d/bad.json"
	assert_equal "$status" 65
	assert_output "$(printf 'ra\t0\tINVALID_REPLICA_ASSIGNMENT\nnosuch\t0\tUNKNOWN_TOPIC_OR_PARTITION')"
	assert_line --index 0 --partial 'INVALID_REPLICA_ASSIGNMENT'
	[[ "$stderr" == *"kreplicate: ra:0: INVALID_REPLICA_ASSIGNMENT: Replica assignment has brokers that are not alive. Replica list: [1, 0], live broker list: [0]"* ]] || fail "$stderr"
	run --separate-stderr timeout 20 kreplicate -b "$SRC" --json reassign --verify --plan "$d/bad.json"
	assert_equal "$status" 65
	assert_line --index 0 '{"topic":"ra","partition":0,"status":"differs","replicas":[0],"target":[1,0]}'
	assert_line --index 1 '{"topic":"nosuch","partition":0,"status":"UNKNOWN_TOPIC_OR_PARTITION","replicas":[],"target":[0]}'
	# a broker that is not in the cluster cannot be planned for
	run --separate-stderr timeout 20 kreplicate -b "$SRC" reassign --generate --brokers 0,3 --topics ra
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: reassign: broker 3 is not in the cluster"
}

# elect_raw ADDR VERSION TYPE: ElectLeaders for el:0 and el:5 built by
# hand (not with lib/kp_proto), printing "top-level-error p:error ...".
elect_raw() {
	/usr/bin/python3 - "$@" <<-'PY'
	import socket, struct, sys
	host, port = sys.argv[1].rsplit(":", 1)
	v, etype = int(sys.argv[2]), int(sys.argv[3])
	flex = v >= 2
	def s16(x): return struct.pack(">h", len(x)) + x
	def cstr(x): return bytes([len(x) + 1]) + x
	def arr(n): return bytes([n + 1]) if flex else struct.pack(">i", n)
	tags = b"\x00" if flex else b""
	body = (struct.pack(">b", etype) if v >= 1 else b"") + arr(1)
	body += (cstr(b"el") if flex else s16(b"el")) + arr(2)
	body += struct.pack(">ii", 0, 5) + tags + struct.pack(">i", 5000) + tags
	hdr = struct.pack(">hhi", 43, v, 9) + s16(b"raw") + tags
	s = socket.create_connection((host, int(port)), timeout=10)
	s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
	def recv(n):
	    b = b""
	    while len(b) < n:
	        c = s.recv(n - len(b))
	        if not c:
	            raise SystemExit("closed")
	        b += c
	    return b
	d = recv(struct.unpack(">i", recv(4))[0])
	o = 4 + (1 if flex else 0)
	assert struct.unpack(">i", d[:4])[0] == 9
	o += 4					# throttle
	top = 0
	if v >= 1:
	    top, = struct.unpack(">h", d[o:o + 2]); o += 2
	def count():
	    global o
	    if flex:
	        n = d[o] - 1; o += 1
	    else:
	        n, = struct.unpack(">i", d[o:o + 4]); o += 4
	    return n
	def string():
	    global o
	    if flex:
	        n = d[o] - 1; o += 1
	    else:
	        n, = struct.unpack(">h", d[o:o + 2]); o += 2
	    r = d[o:o + n] if n >= 0 else None; o += max(n, 0)
	    return r
	out = [str(top)]
	for _ in range(count()):
	    string()
	    for _ in range(count()):
	        p, e = struct.unpack(">ih", d[o:o + 6]); o += 6
	        string()
	        o += len(tags)
	        out.append("%d:%d" % (p, e))
	    o += len(tags)
	o += len(tags)
	assert o == len(d), (o, len(d))
	print(" ".join(out))
	PY
}

@test "elect: kbroker answers ElectLeaders v0, v1 and v2 as a one-broker Kafka" {
	timeout 10 ktopic -b "$SRC" create -p 1 el
	# 84 ELECTION_NOT_NEEDED, 3 UNKNOWN_TOPIC_OR_PARTITION
	run elect_raw "$SRC_TCP" 0 0
	assert_success
	assert_output '0 0:84 5:3'
	run elect_raw "$SRC_TCP" 1 1
	assert_output '0 0:84 5:3'
	run elect_raw "$SRC_TCP" 2 0
	assert_output '0 0:84 5:3'
	# an election type Kafka does not know: INVALID_REQUEST (42), no results
	run elect_raw "$SRC_TCP" 2 7
	assert_output '42'
}
