#!/usr/bin/env bats
# 21-kproduce-txn.bats -- kproduce --transactional-id and kconsume --isolation-level, on kbroker and on librdkafka's mock cluster

bats_require_minimum_version 1.5.0
load client_helper

setup() {
	MOCK_PID=
	KP_PID=
}

teardown() {
	exec 8>&- 2>/dev/null || true
	[ -z "$KP_PID" ] || kill "$KP_PID" 2>/dev/null || true
	[ -z "$MOCK_PID" ] || kill "$MOCK_PID" 2>/dev/null || true
	stop_broker
}

# start_mock [TOPIC:N | API=ERR*N ...]: librdkafka's mock cluster as the
# broker and transaction coordinator; sets MOCK_PID and MOCK
start_mock() {
	local d=$BATS_TEST_TMPDIR
	mkfifo "$d/mock.in"
	"$KP_TOOLS/rk_mock_txn" "$@" <"$d/mock.in" >"$d/mock.out" 8>&- &
	MOCK_PID=$!
	exec 8>"$d/mock.in"
	for _ in $(seq 1 100); do
		grep -q '^BROKERS=' "$d/mock.out" && break
		sleep 0.05
	done
	MOCK=$(sed -n 's/^BROKERS=//p' "$d/mock.out")
	[ -n "$MOCK" ]
}

# committed TOPIC... / uncommitted TOPIC...: what a reader at that
# isolation level sees now, "topic partition offset value" per record
committed() {
	local a=() t
	for t in "$@"; do a+=(-t "$t"); done
	timeout 20 kconsume "${a[@]}" -e --isolation-level read_committed \
	    -f '%t %p %o %s\n'
}
uncommitted() {
	local a=() t
	for t in "$@"; do a+=(-t "$t"); done
	timeout 20 kconsume "${a[@]}" -e --isolation-level read_uncommitted \
	    -f '%t %p %o %s\n'
}

# kproduce in the background reading the FIFO on fd 8; sets KP_PID.
# --foreground: a signal for KP_PID then reaches kproduce once; plain
# timeout sends it to the child and again to its process group, and a
# second SIGINT ends a transactional kproduce at once, before its abort.
start_producer() {	# start_producer kproduce-args...
	mkfifo "$BATS_TEST_TMPDIR/in"
	timeout --foreground 60 kproduce "$@" <"$BATS_TEST_TMPDIR/in" \
	    >"$BATS_TEST_TMPDIR/kp.out" 2>"$BATS_TEST_TMPDIR/kp.err" &
	KP_PID=$!
	exec 8>"$BATS_TEST_TMPDIR/in"
}

# wait until an uncommitted reader of TOPIC sees VALUE (bounded)
wait_uncommitted() {	# wait_uncommitted TOPIC VALUE
	for _ in $(seq 1 100); do
		uncommitted "$1" | grep -q " $2\$" && return 0
		sleep 0.1
	done
	return 1
}

@test "kproduce --transactional-id / kconsume --isolation-level: usage errors (64)" {
	run kproduce -t t --transactional-id x --acks 1 </dev/null
	assert_equal "$status" 64
	assert_output --partial "kproduce: --transactional-id needs --acks all"
	run kproduce -t t --transactional-id x --no-idempotence </dev/null
	assert_equal "$status" 64
	run kproduce -t t --transaction-timeout-ms 1000 </dev/null
	assert_equal "$status" 64
	assert_output --partial "--transaction-timeout-ms goes with --transactional-id"
	run kproduce -t t --transactional-id x --transaction-timeout-ms 0 </dev/null
	assert_equal "$status" 64
	run kproduce -t t --transactional-id '' </dev/null
	assert_equal "$status" 64
	run kconsume -t t --isolation-level serializable
	assert_equal "$status" 64
	assert_output --partial "isolation level 'serializable'"
}

@test "kbroker: one run is one transaction across topics; --print-offsets comes after the commit" {
	start_broker
	ktopic create t -p 2
	ktopic create u
	run --separate-stderr kproduce -t t -K : --transactional-id tx1 \
	    --print-offsets <<<$'k1:a\nk2:b\nk3:c'
	assert_success
	assert_equal "${#lines[@]}" 3
	printf 'x\n' | kproduce -t u --transactional-id tx1
	run committed t u
	assert_success
	assert_equal "$(awk '{ print $1, $4 }' <<<"$output" | sort | tr '\n' ' ')" \
	    "t a t b t c u x "
	# the commit markers took offsets of their own
	run uncommitted u
	assert_output "u 0 0 x"
	run ktopic dump "$KB_DATA"/u-0/*.log
	assert_output --partial "COMMIT"
}

# markers of TYPE (COMMIT or ABORT) left in the segments of TOPIC-0
markers_left() {	# markers_left TOPIC TYPE
	ktopic dump "$KB_DATA/$1-0/"*.log | grep -c "$2" || true
}

@test "kbroker: the cleaner removes the markers of transactions compaction emptied" {
	start_broker -o log.retention.check.interval.ms=100
	ktopic create cm -c cleanup.policy=compact -c segment.bytes=400 \
	    -c delete.retention.ms=0 -c min.compaction.lag.ms=0
	local i c a
	# transactions that each give the same key a new value, and one
	# aborted among them
	for i in $(seq 1 6); do
		printf 'k:%s\n' "$i" | kproduce -t cm -K : --transactional-id tc
	done
	start_producer -t cm -f json --transactional-id tc
	echo '{"key":"k","value":"x"}' >&8
	wait_uncommitted cm x
	echo 'not json' >&8
	exec 8>&-
	wait "$KP_PID" || true
	KP_PID=
	grep -q "transaction aborted" "$BATS_TEST_TMPDIR/kp.err"
	for i in $(seq 7 12); do
		printf 'k:%s\n' "$i" | kproduce -t cm -K : --transactional-id tc
	done
	for i in $(seq 1 100); do
		c=$(markers_left cm COMMIT)
		a=$(markers_left cm ABORT)
		[ "$c" -le 4 ] && [ "$a" -eq 0 ] && break
		sleep 0.1
	done
	[ "$c" -le 4 ]
	[ "$a" -eq 0 ]
	# and the aborted transaction left the .txnindex with its marker
	! ktopic dump "$KB_DATA"/cm-0/*.txnindex 2>/dev/null | grep -q 'producer'
	run committed cm
	assert_success
	assert_equal "$(tail -1 <<<"$output" | cut -d' ' -f4)" 12
	# a restart after a crash replays from the producer state snapshot:
	# no transaction it had open may wait for a marker that is gone
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	start_broker
	run committed cm
	assert_success
	assert_equal "$(tail -1 <<<"$output" | cut -d' ' -f4)" 12
	printf 'k:13\n' | kproduce -t cm -K : --transactional-id tc
	run committed cm
	assert_equal "$(tail -1 <<<"$output" | cut -d' ' -f4)" 13
}

@test "kbroker: SIGINT aborts the run's transaction; read_committed never shows it, read_uncommitted does" {
	start_broker
	ktopic create t
	printf 'before\n' | kproduce -t t
	start_producer -t t --transactional-id tx2
	printf 'doomed1\ndoomed2\n' >&8
	wait_uncommitted t doomed2
	# open: a read_committed reader stops at the LSO, before them
	run committed t
	assert_output "t 0 0 before"
	kill -INT "$KP_PID"
	wait "$KP_PID" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/kp.err")
	KP_PID=
	assert_equal "$status" 75
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_output "kproduce: transaction aborted: interrupted"
	run committed t
	assert_output "t 0 0 before"
	run uncommitted t
	assert_line "t 0 1 doomed1"
	assert_line "t 0 2 doomed2"
	# the same id goes on; only the committed run shows
	printf 'after\n' | kproduce -t t --transactional-id tx2
	run committed t
	assert_output $'t 0 0 before\nt 0 4 after'
}

@test "kbroker: a read_committed follower sees a transaction's records only when it commits" {
	start_broker
	ktopic create t
	start_producer -t t --transactional-id tx3
	printf 'one\ntwo\n' >&8
	wait_uncommitted t two
	timeout 30 kconsume -t t -c 2 --isolation-level read_committed \
	    -f '%o %s\n' >"$BATS_TEST_TMPDIR/follow" 8>&- &
	local cpid=$!
	sleep 1
	[ ! -s "$BATS_TEST_TMPDIR/follow" ] ||
	    fail "read before the commit: $(cat "$BATS_TEST_TMPDIR/follow")"
	exec 8>&-	# end of input: commit
	wait "$KP_PID" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/kp.err")
	KP_PID=
	assert_success
	wait "$cpid" || fail "kconsume: $?"
	run cat "$BATS_TEST_TMPDIR/follow"
	assert_output $'0 one\n1 two'
}

@test "kbroker: a second producer with the same id fences the first, whose commit fails" {
	start_broker
	ktopic create t
	start_producer -t t --transactional-id same
	printf 'old\n' >&8
	wait_uncommitted t old
	printf 'new\n' | kproduce -t t --transactional-id same
	exec 8>&-
	wait "$KP_PID" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/kp.err")
	KP_PID=
	assert_failure
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_output --regexp "kproduce: transaction (not committed|aborted): .*(PRODUCER_FENCED|INVALID_PRODUCER_EPOCH)"
	run committed t
	assert_output --regexp '^t 0 [0-9]+ new$'
}

@test "kbroker: a transaction open past --transaction-timeout-ms is aborted by the coordinator" {
	start_broker -o transaction.abort.timed.out.transaction.cleanup.interval.ms=200
	ktopic create t
	start_producer -t t --transactional-id slow --transaction-timeout-ms 500
	printf 'late\n' >&8
	wait_uncommitted t late
	# the coordinator's ABORT marker lands: the LSO moves past it
	for _ in $(seq 1 100); do
		ktopic dump "$KB_DATA"/t-0/*.log 2>/dev/null | grep -q ABORT && break
		sleep 0.1
	done
	run ktopic dump "$KB_DATA"/t-0/*.log
	assert_output --partial ABORT
	exec 8>&-
	wait "$KP_PID" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/kp.err")
	KP_PID=
	assert_failure
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_output --partial "kproduce: transaction not committed"
	run committed t
	assert_output ""
}

@test "kbroker: INVALID_TRANSACTION_TIMEOUT above transaction.max.timeout.ms; nothing written" {
	start_broker -o transaction.max.timeout.ms=1000
	ktopic create t
	run kproduce -t t --transactional-id big --transaction-timeout-ms 5000 <<<x
	assert_failure
	assert_output --partial "INVALID_TRANSACTION_TIMEOUT"
	run uncommitted t
	assert_output ""
}

@test "mock cluster: commit, with CONCURRENT_TRANSACTIONS and a moving coordinator retried" {
	# InitProducerId: COORDINATOR_NOT_AVAILABLE twice; AddPartitionsToTxn
	# and EndTxn: CONCURRENT_TRANSACTIONS twice each
	start_mock t:2 22=15*2 24=51*2 26=51*2
	run --separate-stderr kproduce -b "$MOCK" -t t --transactional-id m1 \
	    --print-offsets <<<$'a\nb'
	assert_success
	assert_equal "${#lines[@]}" 2
	run timeout 20 kconsume -b "$MOCK" -t t -e -f '%s\n'
	assert_output $'a\nb'
}

@test "mock cluster: a fenced commit fails, and the held offsets are not printed" {
	start_mock t:1 26=90*1
	run --separate-stderr kproduce -b "$MOCK" -t t --transactional-id m2 \
	    --print-offsets <<<a
	assert_equal "$status" 69
	assert_output ""
	[[ "$stderr" == *"EndTxn(commit): PRODUCER_FENCED"* ]] ||
	    fail "stderr: $stderr"
}

@test "mock cluster: a failed record aborts the transaction (EndTxn abort is sent)" {
	# Produce: INVALID_PRODUCER_EPOCH is fatal; EndTxn answers
	# INVALID_TXN_STATE, which shows it was the abort that went out
	start_mock t:1 0=47*1 26=48*1
	run --separate-stderr kproduce -b "$MOCK" -t t --transactional-id m3 <<<a
	assert_failure
	[[ "$stderr" == *"transaction aborted: 1 of 1 records not delivered"*"INVALID_PRODUCER_EPOCH"* ]] ||
	    fail "stderr: $stderr"
	# bad input aborts too, with the input's exit status
	run --separate-stderr kproduce -b "$MOCK" -f json -t t \
	    --transactional-id m4 <<<'{"value":"ok"}
not json'
	assert_equal "$status" 65
	[[ "$stderr" == *"transaction aborted"* ]] || fail "stderr: $stderr"
}

@test "mock cluster: SIGINT sends EndTxn(abort) after what was sent is answered" {
	start_mock t:1 26=48*1
	start_producer -b "$MOCK" -t t --transactional-id m5
	printf 'a\n' >&8
	for _ in $(seq 1 100); do
		[ -n "$(timeout 5 kconsume -b "$MOCK" -t t -e)" ] && break
		sleep 0.1
	done
	kill -INT "$KP_PID"
	wait "$KP_PID" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/kp.err")
	KP_PID=
	assert_failure
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_output --partial "EndTxn(abort): INVALID_TXN_STATE"
}

@test "kbroker: kp_txn_send_offsets: a group's offset counts only when its transaction commits" {
	start_broker
	ktopic create t
	seq 10 | kproduce -t t
	run "$KP_TOOLS/txn_offsets" "$KPIPE_BROKERS" tid g1 t 0 7 abort
	assert_success
	assert_output --regexp '^pid [0-9]+ epoch 0$'
	run kgroup describe g1
	refute_output --regexp 't[[:space:]]+0[[:space:]]+7'
	run "$KP_TOOLS/txn_offsets" "$KPIPE_BROKERS" tid g1 t 0 4 commit
	assert_success
	assert_output --regexp '^pid [0-9]+ epoch 1$'
	run kgroup describe g1
	assert_output --regexp 'g1[[:space:]]+t[[:space:]]+0[[:space:]]+4[[:space:]]+10'
	# a group member resumes there
	run timeout 20 kconsume -g g1 -t t -c 2 --commit none
	assert_output $'5\n6'
}

@test "kbroker: kconsume -g --isolation-level read_committed skips an aborted run" {
	start_broker
	ktopic create t
	printf 'a\n' | kproduce -t t --transactional-id g
	start_producer -t t --transactional-id g
	printf 'x\n' >&8
	wait_uncommitted t x
	kill -TERM "$KP_PID"
	wait "$KP_PID" || true
	KP_PID=
	printf 'b\n' | kproduce -t t --transactional-id g
	run uncommitted t
	assert_output $'t 0 0 a\nt 0 2 x\nt 0 4 b'
	run timeout 20 kconsume -g rc -t t -c 2 --isolation-level read_committed
	assert_output $'a\nb'
}

@test "kbroker: --commit-interval-ms commits the stream in pieces; an abort takes back only the last" {
	start_broker
	ktopic create t
	run kproduce -t t --commit-interval-ms 100 </dev/null
	assert_equal "$status" 64
	start_producer -t t -f json --transactional-id iv \
	    --commit-interval-ms 200 --print-offsets
	printf '{"value":"one"}\n' >&8
	for _ in $(seq 1 100); do
		[ -n "$(committed t)" ] && break
		sleep 0.1
	done
	run committed t
	assert_output "t 0 0 one"
	# its offset is printed once committed, while the run goes on
	for _ in $(seq 1 50); do
		[ -s "$BATS_TEST_TMPDIR/kp.out" ] && break
		sleep 0.1
	done
	run cat "$BATS_TEST_TMPDIR/kp.out"
	assert_output '{"topic":"t","partition":0,"offset":0}'
	# one write(2) (printf may make two), so no commit falls between
	# the two lines
	/usr/bin/python3 -c 'import os; os.write(8, b"{\"value\":\"two\"}\nnot json\n")'
	wait "$KP_PID" && status=0 || status=$?
	KP_PID=
	assert_equal "$status" 65
	run committed t
	assert_output "t 0 0 one"
	run cat "$BATS_TEST_TMPDIR/kp.out"
	assert_output '{"topic":"t","partition":0,"offset":0}'
}
