#!/usr/bin/env bats
# cluster-failover.bats -- SIGKILL a partition leader under acks=all: no acknowledged record lost, the old leader cuts its divergent tail and catches up

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load ../cli/70-cluster-lib

setup_file() {
	zk_start
}

teardown_file() {
	zk_stop
}

teardown() {
	if [ -n "${PROD_PID:-}" ]; then
		kill "$PROD_PID" 2>/dev/null || true
		wait "$PROD_PID" 2>/dev/null || true
	fi
	cluster_stop
}

isr_is() {	# isr_is TOPIC JSON-ARRAY (sorted)
	[ "$(zk_state "$1" 0 isr | jq -c 'sort')" = "$2" ]
}

leader_is_not() {	# leader_is_not TOPIC ID: a live leader other than ID
	local l
	l=$(zk_state "$1" 0 leader)
	[ "$l" != "$2" ] && [ "$l" -ge 0 ]
}

lines_at_least() {	# lines_at_least FILE N
	[ "$(wc -l <"$1")" -ge "$2" ]
}

# A replica's records, offline, without the line naming the file.
replica_dump() {	# replica_dump ID TOPIC-P
	local f
	for f in "$CL_DIR/b$1/$2"/*.log; do
		ktopic dump -d "$f" | grep -av '^Dumping '
	done
}

dumps_equal() {	# dumps_equal ID1 ID2 TOPIC-P
	[ "$(replica_dump "$1" "$3")" = "$(replica_dump "$2" "$3")" ]
}

# Offset and value of every record the leader serves, oldest first.
consume_all() {	# consume_all OUT
	timeout 30 kcat -C -b "$(cluster_boot)" -t fo -p 0 -o beginning -e \
	    -q -f '%o %s\n' >"$1"
}

# Every acknowledged "OFFSET VALUE" is in the consumed log, and no offset
# is read twice.
check_acked() {	# check_acked ACKED CONSUMED
	local missing dup
	missing=$(sort "$1" | comm -23 - <(sort "$2") | head -5)
	[ -z "$missing" ] || { echo "acknowledged but lost: $missing"; return 1; }
	dup=$(cut -d' ' -f1 "$2" | sort | uniq -d | head -5)
	[ -z "$dup" ] || { echo "offsets read twice: $dup"; return 1; }
}

@test "cluster failover: SIGKILL the leader under acks=all, no acknowledged record lost" {
	cluster_start 3 -o replica.lag.time.max.ms=10000
	local boot old epoch new acked="$BATS_TEST_TMPDIR/acked"
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 -c min.insync.replicas=2 fo
	wait_for isr_is fo '[1,2,3]'
	old=$(zk_state fo 0 leader)
	epoch=$(zk_state fo 0 leader_epoch)
	"$KP_TOOLS/rk_acked" "$boot" fo 1500 3000 >"$acked" \
	    2>"$BATS_TEST_TMPDIR/prod.err" 3>&- &
	PROD_PID=$!
	wait_for lines_at_least "$acked" 200
	broker_kill "$old"
	wait_for leader_is_not fo "$old"
	new=$(zk_state fo 0 leader)
	[ "$(zk_state fo 0 leader_epoch)" -eq $((epoch + 1)) ]
	run timeout 120 bash -c "while kill -0 $PROD_PID 2>/dev/null; do sleep 0.2; done"
	assert_success
	wait "$PROD_PID" || true
	PROD_PID=
	# most went through the failover (librdkafka retried the rest)
	[ "$(wc -l <"$acked")" -ge 1000 ]
	consume_all "$BATS_TEST_TMPDIR/consumed"
	run check_acked "$acked" "$BATS_TEST_TMPDIR/consumed"
	assert_success
	# the old leader comes back as a follower and ends up with the same log
	broker_start "$old"
	wait_for isr_is fo '[1,2,3]'
	wait_for dumps_equal "$old" "$new" fo-0
	consume_all "$BATS_TEST_TMPDIR/consumed2"
	cmp "$BATS_TEST_TMPDIR/consumed" "$BATS_TEST_TMPDIR/consumed2"
}

@test "cluster failover: the old leader's unreplicated tail is cut when it returns" {
	cluster_start 3 -o replica.lag.time.max.ms=10000
	local boot old new f1 f2 acked="$BATS_TEST_TMPDIR/acked"
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 fo
	wait_for isr_is fo '[1,2,3]'
	seq 1 20 | sed 's/^/acked-/' |
	    timeout 20 kproduce -b "$boot" -t fo --acks all
	old=$(zk_state fo 0 leader)
	read -r f1 f2 <<<"$(others_of "$old")"
	# The followers freeze (still in the ISR: the lag limit is long), the
	# leader takes records only it has (acks=1), and dies.
	kill -STOP "$(broker_pid "$f1")" "$(broker_pid "$f2")"
	seq 1 5 | sed 's/^/lost-/' |
	    timeout 20 kproduce -b "127.0.0.1:$(broker_port "$old")" -t fo --acks 1
	[ "$(replica_dump "$old" fo-0 | grep -c 'payload: lost-')" -eq 5 ]
	broker_kill "$old"
	kill -CONT "$(broker_pid "$f1")" "$(broker_pid "$f2")"
	wait_for leader_is_not fo "$old"
	new=$(zk_state fo 0 leader)
	# the new leader's epoch goes on from offset 20; more records come
	"$KP_TOOLS/rk_acked" "$(cluster_boot)" fo 30 >"$acked"
	[ "$(head -1 "$acked")" = "20 rec-1" ]
	# back: offsets 20-24 (lost-1..5) diverge and are cut, then it fetches
	broker_start "$old"
	wait_for isr_is fo '[1,2,3]'
	wait_for dumps_equal "$old" "$new" fo-0
	run replica_dump "$old" fo-0
	refute_output --partial 'payload: lost-'
	assert_output --partial 'payload: rec-30'
	grep -q 'fo-0: divergent tail cut: 5 record(s) from offset 20' \
	    "$(broker_err "$old")"
	# both keep the epochs: 0 from 0, then the new leader's from 20
	run cat "$CL_DIR/b$old/fo-0/leader-epoch-checkpoint"
	assert_output "$(cat "$CL_DIR/b$new/fo-0/leader-epoch-checkpoint")"
	assert_output --partial $'\n0 0\n'
	assert_line --index 3 --regexp '^[1-9][0-9]* 20$'
	consume_all "$BATS_TEST_TMPDIR/consumed"
	run check_acked "$acked" "$BATS_TEST_TMPDIR/consumed"
	assert_success
	[ "$(wc -l <"$BATS_TEST_TMPDIR/consumed")" -eq 50 ]
}
