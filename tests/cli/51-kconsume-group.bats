#!/usr/bin/env bats
# 51-kconsume-group.bats -- kconsume -g: sharing partitions, rebalances, commits, -e

bats_require_minimum_version 1.5.0
load client_helper

setup() {
	start_broker -o group.initial.rebalance.delay.ms=0 \
	    -o group.min.session.timeout.ms=500
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		kill -CONT "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	stop_broker
}

# produce FIRST LAST TOPIC: values v<FIRST>..v<LAST> keyed k<i>
produce() {
	seq "$1" "$2" | awk '{ print "k" $1 "\tv" $1 }' | kproduce -K '\t' -t "$3"
}

# member NAME GROUP [kconsume options]: a following member writing to NAME.out
member() {
	local name=$1 group=$2
	shift 2
	kconsume -u -g "$group" --session-timeout-ms 2000 "$@" -t t \
	    >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" &
	PIDS+=($!)
	eval "${name}_PID=$!"
}

# wait_members GROUP N: Stable with N members (15 s)
wait_members() {
	local i
	for i in $(seq 1 150); do
		kgroup --json describe --state "$1" 2>/dev/null |
		    grep -q "\"state\":\"Stable\",\"members\":$2}" && return 0
		sleep 0.1
	done
	kgroup describe --state "$1" >&2
	return 1
}

# wait_read N FILE...: until the files hold N distinct lines (20 s)
wait_read() {
	local n=$1 i
	shift
	for i in $(seq 1 200); do
		[ "$(cat "$@" | sort -u | wc -l)" -ge "$n" ] && return 0
		sleep 0.1
	done
	echo "read $(cat "$@" | sort -u | wc -l) of $n" >&2
	return 1
}

out() { echo "$BATS_TEST_TMPDIR/$1.out"; }

@test "two members share the partitions; each record is read once" {
	ktopic create -p 4 t
	member a g
	wait_members g 1
	member b g
	wait_members g 2
	produce 1 200 t
	wait_read 200 "$(out a)" "$(out b)"
	sleep 0.5	# anything more would be a duplicate
	assert_equal "$(cat "$(out a)" "$(out b)" | wc -l)" 200
	assert_equal "$(cat "$(out a)" "$(out b)" | sort -u)" "$(seq 1 200 | sed 's/^/v/' | sort)"
	[ "$(wc -l <"$(out a)")" -gt 0 ] || fail "a read nothing"
	[ "$(wc -l <"$(out b)")" -gt 0 ] || fail "b read nothing"
	# range: two partitions each
	run kgroup describe --members g
	assert_line --regexp $'\t2\tt\\(0,1\\)$'
	assert_line --regexp $'\t2\tt\\(2,3\\)$'
}

@test "a member leaving hands its partitions over; nothing is lost" {
	ktopic create -p 4 t
	member a g
	member b g
	wait_members g 2
	produce 1 100 t
	wait_read 100 "$(out a)" "$(out b)"
	kill -TERM "$b_PID"
	wait "$b_PID" || true
	wait_members g 1
	produce 101 200 t
	wait_read 200 "$(out a)" "$(out b)"
	# a read everything produced after b left
	assert_equal "$(grep -cE '^v(1[0-9][1-9]|1[1-9]0|200)$' "$(out a)")" 100
	# a member joining takes partitions back
	member c g
	wait_members g 2
	produce 201 300 t
	wait_read 300 "$(out a)" "$(out b)" "$(out c)"
	[ "$(wc -l <"$(out c)")" -gt 0 ] || fail "c read nothing"
}

@test "a killed member's partitions move after its session timeout" {
	ktopic create -p 4 t
	member a g
	member b g
	wait_members g 2
	kill -KILL "$b_PID"
	wait "$b_PID" || true
	wait_members g 1
	produce 1 100 t
	wait_read 100 "$(out a)"
}

@test "a broker killed and restarted keeps the group: no member rejoins" {
	ktopic create -p 2 t
	member a g
	member b g
	wait_members g 2
	produce 1 20 t
	wait_read 20 "$(out a)" "$(out b)"
	ids=$(kgroup describe --members g | cut -f2 | sort)
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	start_broker -o group.initial.rebalance.delay.ms=0 \
	    -o group.min.session.timeout.ms=500
	# back from __consumer_offsets before either member calls
	run kgroup describe --state g
	assert_output --regexp $'\tStable\t2$'
	assert_equal "$(kgroup describe --members g | cut -f2 | sort)" "$ids"
	produce 21 40 t
	wait_read 40 "$(out a)" "$(out b)"
	# their heartbeats went on: a rejoin would have meant new member ids
	assert_equal "$(kgroup describe --members g | cut -f2 | sort)" "$ids"
	run kgroup describe --state g
	assert_output --regexp $'\tStable\t2$'
}

@test "--assignor roundrobin deals partitions in turn" {
	ktopic create -p 4 t
	member a g --assignor roundrobin
	member b g --assignor roundrobin
	wait_members g 2
	run kgroup describe --members g
	assert_line --regexp $'\t2\tt\\(0,2\\)$'
	assert_line --regexp $'\t2\tt\\(1,3\\)$'
	run kgroup describe --state g
	assert_output --regexp $'\troundrobin\tStable\t2$'
}

@test "-e exits at the end; the group resumes after what it committed" {
	ktopic create -p 3 t
	produce 1 30 t
	run timeout 20 kconsume -g g -e -t t
	assert_success
	assert_equal "${#lines[@]}" 30
	run timeout 20 kconsume -g g -e -t t
	assert_success
	assert_output ''
	produce 31 35 t
	run timeout 20 kconsume -g g -e -t t
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort)" "$(printf 'v%s\n' 31 32 33 34 35 | sort)"
	# another group reads everything
	run timeout 20 kconsume -g other -e -t t
	assert_equal "${#lines[@]}" 35
}

@test "--commit none commits nothing" {
	ktopic create -p 1 t
	produce 1 5 t
	run timeout 20 kconsume -g g --commit none -e -t t
	assert_equal "${#lines[@]}" 5
	run --separate-stderr kgroup describe g
	assert_output ''
	run timeout 20 kconsume -g g --commit none -e -t t
	assert_equal "${#lines[@]}" 5
}

@test "--commit sync is at most once, auto at least once, when output fails" {
	ktopic create -p 1 t
	produce 1 5 t
	# the write fails: sync had committed first, auto commits nothing
	run -74 sh -c 'timeout 20 kconsume -g s2 --commit sync -e -t t >/dev/full'
	run -74 sh -c 'timeout 20 kconsume -g a2 --commit auto -e -t t >/dev/full'
	run timeout 20 kconsume -g s2 -e -t t
	assert_output ''
	run timeout 20 kconsume -g a2 -e -t t
	assert_equal "${#lines[@]}" 5
}

@test "an interrupted member does not wait for a rebalance to end" {
	ktopic create -p 2 t
	member a g --session-timeout-ms 30000
	wait_members g 1
	kill -STOP "$a_PID"
	member b g
	# b's JoinGroup now waits for a, up to a's 30 s session
	for i in $(seq 1 50); do
		kgroup --json describe --state g | grep -q PreparingRebalance &&
		    break
		sleep 0.1
	done
	run kgroup --json describe --state g
	assert_output --partial '"state":"PreparingRebalance"'
	sleep 0.5
	kill -TERM "$b_PID"
	for i in $(seq 1 100); do
		kill -0 "$b_PID" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$b_PID"
	assert_failure
	wait "$b_PID"	# and exited 0
	kill -CONT "$a_PID"
}

@test "-g usage errors" {
	run --separate-stderr kconsume -g g -p 0 -t t
	assert_equal "$status" 64
	run --separate-stderr kconsume --commit auto -t t
	assert_equal "$status" 64
	assert_equal "$stderr" "kconsume: --commit goes with -g"
	run --separate-stderr kconsume -g g --commit maybe -t t
	assert_equal "$status" 64
	run --separate-stderr kconsume -g g --assignor sticky -t t
	assert_equal "$status" 64
	assert_equal "$stderr" "kconsume: assignor 'sticky': not range or roundrobin"
}
