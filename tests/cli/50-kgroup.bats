#!/usr/bin/env bats
# 50-kgroup.bats -- kgroup: list, describe and lag, reset, delete, delete-offsets

bats_require_minimum_version 1.5.0
load client_helper

setup() {
	start_broker -o group.initial.rebalance.delay.ms=0
}

teardown() {
	if [ -n "${BG_PID:-}" ]; then
		kill "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	stop_broker
}

# fill TOPIC PARTITIONS COUNT: records v0.. spread by key over partitions
fill() {
	ktopic create -p "$2" "$1"
	seq 0 $(($3 - 1)) | awk '{ print "k" $1 "\tv" $1 }' |
	    kproduce -K '\t' -t "$1"
}

kc() {
	timeout 20 kconsume "$@"
}

# wait_state GROUP STATE: until kgroup describe --state says so (10 s)
wait_state() {
	local i
	for i in $(seq 1 100); do
		kgroup --json describe --state "$1" 2>/dev/null |
		    grep -q "\"state\":\"$2\"" && return 0
		sleep 0.1
	done
	kgroup describe --state "$1" >&2
	return 1
}

# sum of a column of kgroup describe's tab-separated rows
colsum() {	# colsum COLUMN GROUP
	kgroup describe "$2" | awk -F '\t' -v c="$1" '{ s += $c } END { print s + 0 }'
}

@test "list: nothing on a new broker; names after a group commits" {
	run --separate-stderr kgroup list
	assert_success
	assert_output ''
	ktopic create -p 1 t
	echo a | kproduce -t t
	kc -g g1 -e -t t >/dev/null
	kc -g g2 -e -t t >/dev/null
	run --separate-stderr kgroup list
	assert_success
	assert_output $'g1\ng2'
	run --separate-stderr kgroup --json list
	assert_line --index 0 '{"group":"g1","state":"Empty","protocol_type":"consumer"}'
}

@test "describe: current offset, log end and lag per partition" {
	fill t 1 10
	run kc -g g -c 4 -t t
	assert_output $'v0\nv1\nv2\nv3'
	run --separate-stderr kgroup describe g
	assert_success
	assert_output "$(printf 'g\tt\t0\t4\t10\t6\t-\t-\t-')"
	run --separate-stderr kgroup --json describe g
	assert_output --partial '"current_offset":4,"log_end_offset":10,"lag":6'
	assert_output --partial '"total_lag":6'
}

@test "describe: lag is log end minus committed, checked against produced counts" {
	fill t 3 90
	kc -g g -c 50 -t t >/dev/null
	# 50 records read and committed, 40 left
	assert_equal "$(colsum 4 g)" 50
	assert_equal "$(colsum 5 g)" 90
	assert_equal "$(colsum 6 g)" 40
	seq 1 7 | kproduce -t t
	assert_equal "$(colsum 6 g)" 47
	run kgroup --json describe g
	assert_output --partial '"total_lag":47'
}

@test "describe: an unknown group is an error (65)" {
	run --separate-stderr kgroup describe nosuch
	assert_equal "$status" 65
	assert_equal "$stderr" "kgroup: group 'nosuch': GROUP_ID_NOT_FOUND"
	run --separate-stderr kgroup describe
	assert_equal "$status" 64
	run --separate-stderr kgroup describe --members --state g
	assert_equal "$status" 64
}

@test "describe --members and --state show a running consumer" {
	fill t 2 4
	kconsume -g live -t t >"$BATS_TEST_TMPDIR/out" &
	BG_PID=$!
	wait_state live Stable
	run --separate-stderr kgroup describe --state live
	assert_success
	assert_output --regexp $'^live\t.*\trange\tStable\t1$'
	run --separate-stderr kgroup describe --members live
	assert_success
	assert_output --regexp $'^live\tkconsume-[0-9a-f-]+\t-\t.*\tkconsume\t2\tt\\(0,1\\)$'
	# the assigned partitions carry the member in the offsets view
	run --separate-stderr kgroup describe live
	assert_line --regexp $'^live\tt\t0\t.*\tkconsume-[0-9a-f-]+\t.*\tkconsume$'
}

@test "reset: a dry run prints the plan and changes nothing" {
	fill t 1 10
	kc -g g -c 6 -t t >/dev/null
	run --separate-stderr kgroup reset --to-earliest g
	assert_success
	assert_output "$(printf 'g\tt\t0\t6\t0')"
	assert_equal "$(colsum 4 g)" 6
	run --separate-stderr kgroup --json reset --to-offset 3 g
	assert_output '{"group":"g","topic":"t","partition":0,"current_offset":6,"new_offset":3}'
	assert_equal "$(colsum 4 g)" 6
}

@test "reset --execute: earliest, latest, offset, shift, datetime" {
	fill t 1 10
	kc -g g -c 6 -t t >/dev/null
	kgroup reset --to-earliest --execute g >/dev/null
	assert_equal "$(colsum 4 g)" 0
	run kc -g g -c 2 -t t
	assert_output $'v0\nv1'
	kgroup reset --to-latest --execute g >/dev/null
	assert_equal "$(colsum 4 g)" 10
	kgroup reset --to-offset 4 --execute g >/dev/null
	run kc -g g -c 1 -t t
	assert_output 'v4'
	kgroup reset --shift-by -3 --execute g >/dev/null
	assert_equal "$(colsum 4 g)" 2
	# offsets outside the log are clamped to it
	kgroup reset --to-offset 999 --execute g >/dev/null
	assert_equal "$(colsum 4 g)" 10
	kgroup reset --shift-by -99 --execute g >/dev/null
	assert_equal "$(colsum 4 g)" 0
	# every record is older than a minute from now
	kgroup reset --to-datetime "$(( $(date +%s) * 1000 + 60000 ))" --execute g >/dev/null
	assert_equal "$(colsum 4 g)" 10
	kgroup reset --to-datetime 0 --execute g >/dev/null
	assert_equal "$(colsum 4 g)" 0
}

@test "reset -t topic:partitions and --from-file" {
	fill t 3 30
	kc -g g -c 30 -t t >/dev/null
	run --separate-stderr kgroup reset -t t:1 --to-earliest --execute g
	assert_success
	assert_output --regexp $'^g\tt\t1\t[0-9]+\t0$'
	assert_equal "$(kgroup describe g | awk -F '\t' '$3 == 1 { print $4 }')" 0
	assert_equal "$(kgroup describe g | awk -F '\t' '$3 == 0 { print $4 }')" \
	    "$(kgroup describe g | awk -F '\t' '$3 == 0 { print $5 }')"
	printf 't,0,1\n# comment\n\nt,2,2\n' >"$BATS_TEST_TMPDIR/plan.csv"
	kgroup reset --from-file "$BATS_TEST_TMPDIR/plan.csv" --execute g >/dev/null
	assert_equal "$(kgroup describe g | awk -F '\t' '{ print $3 ":" $4 }' | tr '\n' ' ')" \
	    "0:1 1:0 2:2 "
	printf 't,zero,1\n' >"$BATS_TEST_TMPDIR/bad.csv"
	run --separate-stderr kgroup reset --from-file "$BATS_TEST_TMPDIR/bad.csv" g
	assert_equal "$status" 65
	assert_equal "$stderr" "kgroup: $BATS_TEST_TMPDIR/bad.csv:1: bad partition 'zero'"
}

@test "reset: refused while the group has active members" {
	fill t 1 5
	kconsume -g live -t t >/dev/null &
	BG_PID=$!
	wait_state live Stable
	run --separate-stderr kgroup reset --to-earliest --execute live
	assert_equal "$status" 75
	assert_output ''
	assert_equal "$stderr" "kgroup: group 'live': Stable with 1 active member(s); offsets can be reset only while no consumer is in it"
	kill "$BG_PID"
	wait "$BG_PID" || true
	BG_PID=
	wait_state live Empty
	run --separate-stderr kgroup reset --to-earliest --execute live
	assert_success
}

@test "reset: usage errors" {
	run --separate-stderr kgroup reset g
	assert_equal "$status" 64
	run --separate-stderr kgroup reset --to-earliest --to-latest g
	assert_equal "$status" 64
	run --separate-stderr kgroup reset --to-offset -1 g
	assert_equal "$status" 64
	run --separate-stderr kgroup reset --to-datetime yesterday g
	assert_equal "$status" 64
	run --separate-stderr kgroup reset --to-earliest
	assert_equal "$status" 64
	run --separate-stderr kgroup reset --from-file x -t t g
	assert_equal "$status" 64
}

@test "delete: removes an inactive group, refuses an active one" {
	fill t 1 3
	kc -g old -e -t t >/dev/null
	kconsume -g live -t t >/dev/null &
	BG_PID=$!
	wait_state live Stable
	run --separate-stderr kgroup delete live
	assert_equal "$status" 75
	assert_equal "$stderr" "kgroup: group 'live': NON_EMPTY_GROUP"
	run --separate-stderr kgroup delete old
	assert_success
	run --separate-stderr kgroup describe old
	assert_equal "$status" 65
	run --separate-stderr kgroup delete old
	assert_equal "$status" 65
	assert_equal "$stderr" "kgroup: group 'old': GROUP_ID_NOT_FOUND"
}

@test "delete-offsets: removes the named partitions' offsets" {
	fill t 2 10
	fill u 1 5
	kc -g g -e -t t -t u >/dev/null
	run --separate-stderr kgroup delete-offsets -t t:0 g
	assert_success
	assert_output $'t\t0\tdeleted'
	assert_equal "$(kgroup describe g | cut -f2,3 | tr '\t\n' ': ')" "t:1 u:0 "
	run --separate-stderr kgroup --json delete-offsets -t u g
	assert_output '{"group":"g","topic":"u","partition":0,"error":null}'
	run --separate-stderr kgroup delete-offsets g
	assert_equal "$status" 64
	run --separate-stderr kgroup delete-offsets -t t nosuch
	assert_equal "$status" 65
}

@test "committed offsets survive a broker restart" {
	fill t 2 20
	kc -g g -c 12 -t t >/dev/null
	before=$(kgroup describe g)
	stop_broker
	start_broker -o group.initial.rebalance.delay.ms=0
	assert_equal "$(kgroup describe g)" "$before"
	# and the group resumes after them
	run kc -g g -e -t t
	assert_equal "${#lines[@]}" 8
}

@test "bash completion offers the broker's group names" {
	ktopic create -p 1 t
	echo a | kproduce -t t
	kc -g alpha -e -t t >/dev/null
	kc -g beta -e -t t >/dev/null
	run bash -c '
		. "$1"
		COMP_WORDS=(kgroup describe ""); COMP_CWORD=2
		_kgroup
		printf "%s\n" "${COMPREPLY[@]}"
		COMP_WORDS=(kgroup delete a); COMP_CWORD=2
		_kgroup
		printf "%s\n" "${COMPREPLY[@]}"' _ "$KP_TOP/completions/bash/kgroup"
	assert_success
	assert_output $'alpha\nbeta\nalpha'
}
