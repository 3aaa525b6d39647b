#!/usr/bin/env bats
# 72-cluster-repl.bats -- replication on 3 kbrokers with a real ZooKeeper: every replica's log, HW and ISR, min.insync.replicas, a follower leaving and rejoining the ISR

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

setup_file() {
	zk_start
}

teardown_file() {
	zk_stop
}

teardown() {
	cluster_stop
}

# describe as JSON: one field of partition 0 (leader, isr, high_watermark)
part0() {	# part0 TOPIC FIELD
	timeout 20 ktopic -b "$(cluster_boot)" --json describe "$1" |
	    jq -c ".partition_info[0].$2"
}

# The records of one broker's replica, read offline from its segment files.
replica_dump() {	# replica_dump ID TOPIC-P
	local f
	for f in "$CL_DIR/b$1/$2"/*.log; do
		ktopic dump -d "$f" | grep -av '^Dumping '
	done
}

replica_values() {	# replica_values ID TOPIC-P: offset and value per record
	replica_dump "$1" "$2" | sed -n 's/^| offset: \([0-9]*\) .* payload: \(.*\)$/\1 \2/p'
}

isr_is() {	# isr_is TOPIC JSON-ARRAY (sorted)
	[ "$(zk_state "$1" 0 isr | jq -c 'sort')" = "$2" ]
}

isr_is_p() {	# isr_is_p TOPIC P JSON-ARRAY (sorted)
	[ "$(zk_state "$1" "$2" isr | jq -c 'sort')" = "$3" ]
}

leader_is_not_p() {	# leader_is_not_p TOPIC P ID: a live leader, not ID
	local l
	l=$(zk_state "$1" "$2" leader)
	[ "$l" != "$3" ] && [ "$l" -ge 0 ]
}

hw_is() {	# hw_is TOPIC N
	[ "$(part0 "$1" high_watermark)" = "$2" ]
}

dumps_equal() {	# dumps_equal ID1 ID2 TOPIC-P
	[ "$(replica_dump "$1" "$3")" = "$(replica_dump "$2" "$3")" ]
}

has_records() {	# has_records ID TOPIC-P N
	[ "$(replica_values "$1" "$2" | wc -l)" -eq "$3" ]
}

@test "cluster repl: acks=all records are in every replica's log, the same bytes" {
	cluster_start 3
	local boot
	boot=$(cluster_boot)
	run timeout 20 ktopic -b "$boot" create -p 1 -r 3 r3
	assert_success
	wait_for isr_is r3 '[1,2,3]'
	seq 1 200 | sed 's/^/rec-/' >"$BATS_TEST_TMPDIR/in"
	run timeout 30 kproduce -b "$boot" -t r3 --acks all --print-offsets \
	    "$BATS_TEST_TMPDIR/in"
	assert_success
	[ "$(echo "$output" | grep -c '"offset"')" -eq 200 ]
	# acks=all answered: the HW is past every record, so every ISR
	# member has them (the followers took the HW from their fetches)
	for id in 1 2 3; do
		wait_for has_records "$id" r3-0 200
		run replica_values "$id" r3-0
		assert_line --index 0 "0 rec-1"
		assert_line --index 199 "199 rec-200"
	done
	replica_dump 1 r3-0 >"$BATS_TEST_TMPDIR/d1"
	replica_dump 2 r3-0 >"$BATS_TEST_TMPDIR/d2"
	replica_dump 3 r3-0 >"$BATS_TEST_TMPDIR/d3"
	cmp "$BATS_TEST_TMPDIR/d1" "$BATS_TEST_TMPDIR/d2"
	cmp "$BATS_TEST_TMPDIR/d1" "$BATS_TEST_TMPDIR/d3"
	# every replica keeps Kafka's leader-epoch checkpoint: epoch 0 at 0
	for id in 1 2 3; do
		run cat "$CL_DIR/b$id/r3-0/leader-epoch-checkpoint"
		assert_output $'0\n1\n0 0'
	done
	# consumers read it all from the leader
	run timeout 20 kconsume -b "$boot" -t r3 -o beginning -e
	assert_success
	assert_line --index 0 rec-1
	[ "${#lines[@]}" -eq 200 ]
}

@test "cluster repl: high watermark and ISR are in the metadata" {
	cluster_start 3
	local boot
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 meta
	wait_for isr_is meta '[1,2,3]'
	seq 1 7 | timeout 20 kproduce -b "$boot" -t meta --acks all
	wait_for hw_is meta 7
	run part0 meta isr
	assert_success
	[ "$(echo "$output" | jq -c sort)" = "[1,2,3]" ]
	run part0 meta replicas
	[ "$(echo "$output" | jq length)" = 3 ]
	run timeout 20 ktopic -b "$boot" offsets meta
	assert_output "meta:0:7"
}

@test "cluster repl: min.insync.replicas=2 with two brokers down refuses acks=all" {
	cluster_start 3 -o replica.lag.time.max.ms=1000
	local boot leader others id
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 -c min.insync.replicas=2 mi
	wait_for isr_is mi '[1,2,3]'
	run timeout 20 kproduce -b "$boot" -t mi --acks all <<<"before"
	assert_success
	leader=$(zk_state mi 0 leader)
	others=
	for id in 1 2 3; do
		[ "$id" = "$leader" ] || others="$others $id"
	done
	for id in $others; do
		broker_kill "$id"
	done
	wait_for isr_is mi "[$leader]"
	boot=127.0.0.1:$(broker_port "$leader")
	run timeout 20 kproduce -b "$boot" -t mi --acks all --retries 0 <<<"lost"
	assert_failure
	assert_output --partial NOT_ENOUGH_REPLICAS
	# acks=1 does not need the ISR
	run timeout 20 kproduce -b "$boot" -t mi --acks 1 <<<"one"
	assert_success
	# and the refused record was never appended
	run replica_values "$leader" mi-0
	assert_output $'0 before\n1 one'
}

@test "cluster repl: a killed follower leaves the ISR and rejoins once caught up" {
	# its ZooKeeper session outlives the lag time: the leader's lag
	# check drops it, not the controller at the session's end
	CL_SESSION_MS=8000 cluster_start 3 -o replica.lag.time.max.ms=1000
	local boot leader victim id
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 lag
	wait_for isr_is lag '[1,2,3]'
	seq 1 50 | timeout 20 kproduce -b "$boot" -t lag --acks all
	leader=$(zk_state lag 0 leader)
	victim=$((leader % 3 + 1))
	broker_kill "$victim"
	# the leader drops it after replica.lag.time.max.ms
	wait_for isr_is lag "$(echo "[1,2,3]" | jq -c "map(select(. != $victim))")"
	# acks=all goes on with the two left
	seq 51 150 | timeout 20 kproduce -b "$boot" -t lag --acks all
	wait_for hw_is lag 150
	has_records "$victim" lag-0 50
	broker_start "$victim"
	wait_for isr_is lag '[1,2,3]'
	wait_for has_records "$victim" lag-0 150
	replica_dump "$leader" lag-0 >"$BATS_TEST_TMPDIR/dl"
	replica_dump "$victim" lag-0 >"$BATS_TEST_TMPDIR/dv"
	cmp "$BATS_TEST_TMPDIR/dl" "$BATS_TEST_TMPDIR/dv"
	grep -q "lag-0: ISR shrunk" "$(broker_err "$leader")"
	grep -q "lag-0: ISR expanded" "$(broker_err "$leader")"
}

@test "cluster repl: the controller drops a dead follower from the ISR when its session ends; it rejoins once back" {
	# the leader's own lag check would wait ten minutes
	cluster_start 3 -o replica.lag.time.max.ms=600000
	local boot leader epoch victim rest
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 gone
	wait_for isr_is gone '[1,2,3]'
	seq 1 5 | timeout 20 kproduce -b "$boot" -t gone --acks all
	leader=$(zk_state gone 0 leader)
	epoch=$(zk_state gone 0 leader_epoch)
	victim=$((leader % 3 + 1))
	rest=$(echo "[1,2,3]" | jq -c "map(select(. != $victim))")
	broker_kill "$victim"
	wait_for isr_is gone "$rest"
	# the same leader at the same epoch: only the ISR changed
	[ "$(zk_state gone 0 leader)" = "$leader" ]
	[ "$(zk_state gone 0 leader_epoch)" = "$epoch" ]
	cat "$CL_DIR"/b*.err | grep -q "controller: gone-0: follower gone: leader $leader, epoch $epoch, isr "
	# acks=all needs only the two left: no wait for the dead one
	boot=$(cluster_boot)
	run timeout 20 kproduce -b "$boot" -t gone --acks all --retries 0 \
	    --timeout-ms 5000 --print-offsets <<<"after"
	assert_success
	assert_output --partial '"offset":5'
	run part0 gone isr
	assert_success
	[ "$(echo "$output" | jq -c sort)" = "$rest" ]
	run timeout 20 ktopic -b "$boot" describe gone
	assert_success
	echo "$output" | grep -Eq "^0 +$leader +[1-3],[1-3],[1-3] +$(echo "$rest" | jq -r 'join(",")') +0 +6 +-\$" ||
	    echo "$output" | grep -Eq "^0 +$leader +[1-3],[1-3],[1-3] +$(echo "$rest" | jq -r 'reverse | join(",")') +0 +6 +-\$"
	# back, it catches up and the leader takes it in again: the leader's
	# ISR write goes on the state version the controller left
	broker_start "$victim"
	wait_for isr_is gone '[1,2,3]'
	grep -q "gone-0: ISR expanded" "$(broker_err "$leader")"
	wait_for has_records "$victim" gone-0 6
	[ "$(zk_state gone 0 leader_epoch)" = "$epoch" ]
}

@test "cluster repl: kpipe.acks.all.fsync and the ISR both hold acks=all" {
	cluster_start 3 -o kpipe.acks.all.fsync=true
	local boot leader
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 fs
	wait_for isr_is fs '[1,2,3]'
	seq 1 30 | sed 's/^/fs-/' >"$BATS_TEST_TMPDIR/in"
	run timeout 30 kproduce -b "$boot" -t fs --acks all --print-offsets \
	    "$BATS_TEST_TMPDIR/in"
	assert_success
	[ "$(echo "$output" | grep -c '"offset"')" -eq 30 ]
	for id in 1 2 3; do
		wait_for has_records "$id" fs-0 30
	done
	wait_for hw_is fs 30
	leader=$(zk_state fs 0 leader)
	broker_kill "$leader" TERM
	# the sync thread released them: its count is in the stop line
	grep -q 'acks=all fsync: [1-9][0-9]* produce request(s) acknowledged' \
	    "$(broker_err "$leader")"
}

@test "cluster repl: a follower behind the leader's log start starts over there" {
	cluster_start 3 -o replica.lag.time.max.ms=1000
	local boot leader victim
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 tr
	wait_for isr_is tr '[1,2,3]'
	seq 1 10 | sed 's/^/old-/' | timeout 20 kproduce -b "$boot" -t tr --acks all
	leader=$(zk_state tr 0 leader)
	victim=$((leader % 3 + 1))
	broker_kill "$victim"
	wait_for isr_is tr "$(echo "[1,2,3]" | jq -c "map(select(. != $victim))")"
	seq 11 30 | sed 's/^/new-/' | timeout 20 kproduce -b "$boot" -t tr --acks all
	# the leader deletes what the absent follower still lacks
	run timeout 20 ktopic -b "$boot" trim -o 25 tr
	assert_success
	broker_start "$victim"
	wait_for isr_is tr '[1,2,3]'
	grep -q "tr-0: behind the leader's log start 25: starting over there" \
	    "$(broker_err "$victim")"
	run replica_values "$victim" tr-0
	refute_output --partial old-
	assert_line "29 new-30"
	seq 31 32 | sed 's/^/new-/' | timeout 20 kproduce -b "$boot" -t tr --acks all
	wait_for has_records "$victim" tr-0 "$(replica_values "$leader" tr-0 | grep -c new-)"
	run replica_values "$victim" tr-0
	assert_line "31 new-32"
}

@test "cluster repl: acks=all times out when the ISR does not follow" {
	CL_SESSION_MS=8000 cluster_start 3
	local boot leader id others=
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 to
	wait_for isr_is to '[1,2,3]'
	leader=$(zk_state to 0 leader)
	for id in 1 2 3; do
		[ "$id" = "$leader" ] || others="$others $(broker_pid "$id")"
	done
	# the followers freeze, still in the ISR: the HW cannot move
	# shellcheck disable=SC2086
	kill -STOP $others
	run timeout 20 kproduce -b "127.0.0.1:$(broker_port "$leader")" -t to \
	    --acks all --retries 0 --timeout-ms 1000 <<<"stuck"
	# shellcheck disable=SC2086
	kill -CONT $others
	assert_failure
	assert_output --partial REQUEST_TIMED_OUT
	# appended on the leader all the same; replicated once they wake
	for id in 1 2 3; do
		wait_for has_records "$id" to-0 1
	done
	wait_for hw_is to 1
}

@test "cluster repl: committed offsets survive the loss of the group coordinator" {
	cluster_start 3 -o replica.lag.time.max.ms=10000
	local boot p coord
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 gt
	wait_for isr_is gt '[1,2,3]'
	seq 1 10 | sed 's/^/a-/' | timeout 20 kproduce -b "$boot" -t gt --acks all
	run timeout 30 kconsume -b "$boot" -t gt -g grp -e
	assert_success
	assert_line --index 9 a-10
	# the coordinator leads the group's partition of __consumer_offsets
	p=$(/usr/bin/python3 -c 'import sys
h = 0
for ch in sys.argv[1]:
    h = (31 * h + ord(ch)) & 0xffffffff
h = h - (1 << 32) if h >= 1 << 31 else h
print(abs(h) % 50)' grp)
	coord=$(zk_state __consumer_offsets "$p" leader)
	wait_for isr_is_p __consumer_offsets "$p" '[1,2,3]'
	# the commit reaches the other replicas (an OffsetCommit is answered
	# before that: see the report's gaps)
	for id in 1 2 3; do
		wait_for dumps_equal "$id" "$coord" "__consumer_offsets-$p"
	done
	replica_dump "$coord" "__consumer_offsets-$p" | grep -aq "^| offset: "
	broker_kill "$coord"
	wait_for leader_is_not_p __consumer_offsets "$p" "$coord"
	seq 1 5 | sed 's/^/b-/' |
	    timeout 20 kproduce -b "$(cluster_boot)" -t gt --acks all
	# the new coordinator has the commit: only the new records come
	run timeout 30 kconsume -b "$(cluster_boot)" -t gt -g grp -e
	assert_success
	assert_output $'b-1\nb-2\nb-3\nb-4\nb-5'
}
