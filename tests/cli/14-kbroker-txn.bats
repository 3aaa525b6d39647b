#!/usr/bin/env bats
# 14-kbroker-txn.bats -- the transaction coordinator: InitProducerId, AddPartitionsToTxn, EndTxn, TxnOffsetCommit, timeouts, restarts

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '10-kbroker-lib'

TXN="$BATS_TEST_DIRNAME/14-kbroker-txn.py"

setup() {
	start_broker -o num.partitions=2 "${BROKER_ARGS[@]}"
	kcat -b "$KB_ADDR" -t ta -p 0 -P <<<"plain" || return 1
	kcat -b "$KB_ADDR" -t ta -p 1 -P <<<"plain" || return 1
	kcat -b "$KB_ADDR" -t tb -p 0 -P <<<"plain" || return 1
}

txn() {
	timeout 20 $PY "$TXN" "$1" "$KB_ADDR" "${@:2}"
}

# init ID TIMEOUT: sets PID and EPOCH from a successful InitProducerId
init() {
	local out
	out=$(txn init "$@") || return 1
	set -- $out
	[ "$2" = 0 ] || { echo "init: $out" >&2; return 1; }
	PID=$4
	EPOCH=$6
}

# wait_state ID STATE: poll DescribeTransactions, bounded
wait_state() {
	local i
	for i in $(seq 1 100); do
		txn describe "$1" | grep -q " state $2 " && return 0
		sleep 0.1
	done
	txn describe "$1" >&2
	return 1
}

@test "FindCoordinator and InitProducerId: a new id, epoch bumps, bad timeouts" {
	run txn coord tx1
	assert_output 'error 0 node 0'
	init tx1 10000
	[ "$EPOCH" = 0 ]
	[ "$PID" -ge 0 ]
	first=$PID
	run txn init tx1 10000
	assert_output "error 0 pid $first epoch 1"
	# over transaction.max.timeout.ms (900000), zero, an empty id
	run txn init tx1 900001
	assert_output 'error 50 pid -1 epoch -1'
	run txn init tx1 0
	assert_output 'error 50 pid -1 epoch -1'
	run txn init "" 1000
	assert_output 'error 42 pid -1 epoch -1'
	# another id, another producer id
	init tx2 10000
	[ "$PID" != "$first" ]
	# KIP-360 (v3+): naming the current producer bumps; a stale one is fenced
	run txn init tx1 10000 "$first" 1 v=3
	assert_output "error 0 pid $first epoch 2"
	run txn init tx1 10000 "$first" 1 v=4
	assert_output 'error 90 pid -1 epoch -1'
	run txn init tx1 10000 "$first" 1 v=3
	assert_output 'error 47 pid -1 epoch -1'
}

@test "AddPartitionsToTxn: unknown id, other producer, old epoch, unknown partition" {
	init tx 10000
	run txn add nosuch "$PID" 0 ta:0
	assert_output 'ta-0 49'
	run txn add tx $((PID + 1)) 0 ta:0
	assert_output 'ta-0 49'
	run txn add tx "$PID" 1 ta:0
	assert_output 'ta-0 47'
	run txn add tx "$PID" 1 ta:0 v=2
	assert_output 'ta-0 90'
	# one unknown partition: nothing is added
	run txn add tx "$PID" 0 ta:0 ta:1 ta:9 nope:0
	assert_line 'ta-0 55'
	assert_line 'ta-1 55'
	assert_line 'ta-9 3'
	assert_line 'nope-0 3'
	run txn describe tx
	assert_output "error 0 state Empty pid $PID epoch 0 timeout 10000 parts -"
	run txn add tx "$PID" 0 ta:0 tb:0 ta:1
	assert_output $'ta-0 0\nta-1 0\ntb-0 0'
	run txn describe tx
	assert_output "error 0 state Ongoing pid $PID epoch 0 timeout 10000 parts ta-0,ta-1,tb-0"
	# v3 is flexible: compact arrays, tagged fields
	run txn add tx "$PID" 0 ta:1 ta:9 v=3
	assert_output $'ta-1 55\nta-9 3'
	run txn add tx "$PID" 0 ta:1 v=3
	assert_output 'ta-1 0'
}

@test "EndTxn: commit shows the records to read_committed, abort hides them" {
	init tx 10000
	run txn end tx "$PID" 0 commit
	assert_output 'error 48'		# Empty: nothing to end
	run txn add tx "$PID" 0 ta:0 tb:0
	run txn produce ta 0 "$PID" 0 0 c1
	assert_output 'error 0 offset 1'
	run txn produce tb 0 "$PID" 0 0 c2
	assert_output 'error 0 offset 1'
	run txn fetch ta 0 1
	assert_output 'lso 1 values plain'
	run txn fetch ta 0 0
	assert_output 'lso 1 values plain,c1'
	run txn end tx "$PID" 0 commit
	assert_output 'error 0'
	run txn describe tx
	assert_output "error 0 state CompleteCommit pid $PID epoch 0 timeout 10000 parts -"
	run txn fetch ta 0 1
	assert_output 'lso 3 values plain,c1'
	run txn fetch tb 0 1
	assert_output 'lso 3 values plain,c2'
	# a retried commit is fine, an abort of it is not
	run txn end tx "$PID" 0 commit
	assert_output 'error 0'
	run txn end tx "$PID" 0 abort
	assert_output 'error 48'
	# the next transaction, aborted
	run txn add tx "$PID" 0 ta:0
	run txn produce ta 0 "$PID" 0 1 a1
	assert_output 'error 0 offset 3'
	run txn end tx "$PID" 0 abort
	assert_output 'error 0'
	run txn fetch ta 0 1
	assert_output 'lso 5 values plain,c1'
	run txn fetch ta 0 0
	assert_output 'lso 5 values plain,c1,a1'
	run txn end tx "$PID" 0 commit
	assert_output 'error 48'
	# an old epoch is fenced (v2+ says PRODUCER_FENCED)
	run txn end tx "$PID" 1 commit v=2
	assert_output 'error 90'
}

@test "InitProducerId aborts an open transaction with a bumped epoch: the old producer is fenced" {
	init tx 10000
	old=$PID
	run txn add tx "$PID" 0 ta:0
	run txn produce ta 0 "$PID" 0 0 zombie
	assert_output 'error 0 offset 1'
	init tx 10000
	[ "$PID" = "$old" ]
	[ "$EPOCH" = 2 ]
	run txn describe tx
	assert_output "error 0 state Empty pid $PID epoch 2 timeout 10000 parts -"
	run txn fetch ta 0 1
	assert_output 'lso 3 values plain'
	# the fenced producer can neither write nor add nor end
	run txn produce ta 0 "$old" 0 1 late
	assert_output --partial 'error 47 '
	run txn add tx "$old" 0 tb:0
	assert_output 'tb-0 47'
	run txn end tx "$old" 0 commit
	assert_output 'error 47'
}

@test "TxnOffsetCommit: offsets count once the transaction commits, never after an abort" {
	init tx 10000
	# not added with AddOffsetsToTxn first
	run txn txncommit tx "$PID" 0 g1 ta 0 4
	assert_output 'ta-0 48'
	run txn offsets tx "$PID" 0 g1
	assert_output 'error 0'
	run txn offsets tx "$PID" 1 g1
	assert_output 'error 47'
	run txn txncommit tx "$PID" 0 g1 ta 0 4
	assert_output 'ta-0 0'
	run txn txncommit tx "$PID" 0 g1 nope 0 4
	assert_output 'nope-0 3'
	run txn txncommit tx "$PID" 0 g1 ta 0 4 v=3
	assert_output 'ta-0 0'
	run txn offsetfetch g1 ta 0
	assert_output 'offset -1'
	run txn end tx "$PID" 0 commit
	assert_output 'error 0'
	run txn offsetfetch g1 ta 0
	assert_output 'offset 4'
	run txn offsets tx "$PID" 0 g1
	run txn txncommit tx "$PID" 0 g1 ta 0 9
	run txn end tx "$PID" 0 abort
	run txn offsetfetch g1 ta 0
	assert_output 'offset 4'
	# an old epoch is fenced
	run txn offsets tx "$PID" 0 g1
	init tx 10000
	run txn txncommit tx "$PID" "$EPOCH" g1 ta 0 7
	assert_output 'ta-0 48'
	run txn txncommit tx "$PID" 1 g1 ta 0 7 v=1
	assert_output 'ta-0 47'
	run txn txncommit tx "$PID" 1 g1 ta 0 7 v=2
	assert_output 'ta-0 90'
}

@test "a transaction open longer than its timeout is aborted and its producer fenced" {
	stop_broker
	BROKER_ARGS=(-o log.retention.check.interval.ms=100
	    -o transaction.abort.timed.out.transaction.cleanup.interval.ms=100)
	start_broker "${BROKER_ARGS[@]}"
	init tx 600
	run txn add tx "$PID" 0 ta:0
	run txn produce ta 0 "$PID" 0 0 slow
	assert_output 'error 0 offset 1'
	wait_state tx CompleteAbort
	run txn describe tx
	assert_output "error 0 state CompleteAbort pid $PID epoch 1 timeout 600 parts -"
	grep -q "transaction 'tx': open longer than 600 ms, aborting it" "$KB_ERR"
	run txn fetch ta 0 1
	assert_output 'lso 3 values plain'
	run txn end tx "$PID" 0 commit
	assert_output 'error 47'
	# a transaction inside its timeout stays open
	init tx2 60000
	run txn add tx2 "$PID" 0 tb:0
	sleep 0.5
	run txn describe tx2
	assert_output --partial ' state Ongoing '
}

@test "transactional.id.expiration.ms forgets an idle id" {
	stop_broker
	start_broker -o log.retention.check.interval.ms=100 \
	    -o transaction.abort.timed.out.transaction.cleanup.interval.ms=100 \
	    -o transactional.id.expiration.ms=300
	init old 10000
	for i in $(seq 1 100); do
		txn describe old | grep -q '^error 105 ' && break
		sleep 0.1
	done
	run txn describe old
	assert_output 'error 105 state - pid -1 epoch -1 timeout 0 parts -'
	# and after a restart too (its tombstone is in __transaction_state)
	stop_broker
	start_broker
	run txn describe old
	assert_output 'error 105 state - pid -1 epoch -1 timeout 0 parts -'
}

@test "restart after SIGKILL: coordinator state, open transactions and pending offsets survive" {
	init tx 60000
	run txn add tx "$PID" 0 ta:1
	run txn offsets tx "$PID" 0 g1
	run txn txncommit tx "$PID" 0 g1 ta 0 7
	run txn produce ta 1 "$PID" 0 0 open1
	assert_output --regexp '^error 0 offset [0-9]+$'
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	start_broker
	grep -q '__transaction_state: .* 1 transactional id(s), 1 transaction(s) open or ending' "$KB_ERR"
	run txn describe tx
	assert_output "error 0 state Ongoing pid $PID epoch 0 timeout 60000 parts ta-1,__consumer_offsets-42"
	run txn offsetfetch g1 ta 0
	assert_output 'offset -1'
	run txn fetch ta 1 1
	assert_output 'lso 1 values plain'
	run txn end tx "$PID" 0 commit
	assert_output 'error 0'
	run txn offsetfetch g1 ta 0
	assert_output 'offset 7'
	run txn fetch ta 1 1
	assert_output --partial 'open1'
	# ids above every one the coordinator handed out
	init other 1000
	[ "$PID" -gt "$(txn describe tx | cut -d' ' -f6)" ]
	# committed offsets survive another restart (the marker replays)
	stop_broker
	start_broker
	run txn offsetfetch g1 ta 0
	assert_output 'offset 7'
}

@test "restart in PrepareCommit: the coordinator writes the markers and completes" {
	init tx 60000
	run txn add tx "$PID" 0 ta:0 tb:0
	run txn produce ta 0 "$PID" 0 0 p1
	run txn produce tb 0 "$PID" 0 0 p2
	run txn fetch ta 0 1
	assert_output 'lso 1 values plain'
	# as if the coordinator stopped after logging PrepareCommit
	run txn staterec tx "$PID" 0 PrepareCommit ta:0 tb:0
	assert_output 'error 0'
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	start_broker
	wait_state tx CompleteCommit
	run txn fetch ta 0 1
	assert_output 'lso 3 values plain,p1'
	run txn fetch tb 0 1
	assert_output 'lso 3 values plain,p2'
}

@test "ListTransactions and DescribeTransactions" {
	init a 10000
	pa=$PID
	init b 10000
	run txn add b "$PID" 0 ta:0
	run txn list
	assert_output $'a Empty\nb Ongoing\nerror 0'
	run txn list Ongoing Bogus
	assert_output $'unknown Bogus\nb Ongoing\nerror 0'
	run txn describe a
	assert_output "error 0 state Empty pid $pa epoch 0 timeout 10000 parts -"
	run txn describe nosuch
	assert_output 'error 105 state - pid -1 epoch -1 timeout 0 parts -'
}

@test "kbroker.conf: transaction keys are known and checked" {
	stop_broker
	run timeout 10 "$KP_BIN/kbroker" --data-dir "$BATS_TEST_TMPDIR/d2" \
	    --listen 127.0.0.1:0 --no-socket -o transaction.max.timeout.ms=0
	assert_failure
	assert_output --partial "config 'transaction.max.timeout.ms': invalid value '0'"
	start_broker -o transaction.max.timeout.ms=5000 \
	    -o transaction.state.log.num.partitions=3 \
	    -o transaction.state.log.replication.factor=1 \
	    -o transaction.state.log.min.isr=1
	run txn init tx 5001
	assert_output 'error 50 pid -1 epoch -1'
	init tx 5000
	[ -d "$KB_DATA/__transaction_state-2" ]
	[ ! -d "$KB_DATA/__transaction_state-3" ]
}

@test "kpipe.acks.all.fsync: the coordinator's writes are synced and it works the same" {
	stop_broker
	start_broker -o kpipe.acks.all.fsync=true
	init tx 10000
	run txn add tx "$PID" 0 ta:0
	assert_output 'ta-0 0'
	run txn offsets tx "$PID" 0 g1
	assert_output 'error 0'
	run txn txncommit tx "$PID" 0 g1 ta 0 1
	assert_output 'ta-0 0'
	run txn produce ta 0 "$PID" 0 0 synced
	assert_output 'error 0 offset 1'
	run txn end tx "$PID" 0 commit
	assert_output 'error 0'
	run txn fetch ta 0 1
	assert_output 'lso 3 values plain,synced'
	run txn offsetfetch g1 ta 0
	assert_output 'offset 1'
}

@test "an exhausted producer epoch gets a new producer id" {
	init tx 10000
	old=$PID
	# as if this id had been initialised 32766 times
	run txn staterec tx "$PID" 32766 Empty
	assert_output 'error 0'
	stop_broker
	start_broker
	run txn describe tx
	assert_output "error 0 state Empty pid $old epoch 32766 timeout 60000 parts -"
	init tx 10000
	[ "$PID" != "$old" ]
	[ "$EPOCH" = 0 ]
}

@test "WriteTxnMarkers: a stale coordinator epoch is fenced (52), also after restarts" {
	init tx 60000
	run txn add tx "$PID" 0 ta:0
	run txn produce ta 0 "$PID" 0 0 open1
	assert_output --regexp '^error 0 offset 1$'
	run txn markers "$PID" 0 5 commit ta:0
	assert_output 'ta-0 0'
	run txn fetch ta 0 1
	assert_output 'lso 3 values plain,open1'
	# an older coordinator's marker writes nothing
	run txn markers "$PID" 0 3 abort ta:0
	assert_output 'ta-0 52'
	run txn fetch ta 0 0
	assert_output 'lso 3 values plain,open1'
	# the epoch is per partition: ta-1 has seen no marker yet
	run txn markers "$PID" 0 3 abort ta:1
	assert_output 'ta-1 0'
	# the same epoch is accepted (a coordinator retrying)
	run txn markers "$PID" 0 5 abort ta:0
	assert_output 'ta-0 0'
	run txn fetch ta 0 0
	assert_output 'lso 4 values plain,open1'

	# clean stop: the snapshot (version 3) carries the epoch
	stop_broker
	[ "$(od -An -tx1 -N2 "$KB_DATA/ta-0/kpipe.producers" | tr -d ' ')" = 0003 ]
	start_broker
	run txn markers "$PID" 0 4 abort ta:0
	assert_output 'ta-0 52'
	run txn markers "$PID" 0 6 abort ta:0
	assert_output 'ta-0 0'
	run txn fetch ta 0 0
	assert_output 'lso 5 values plain,open1'

	# SIGKILL and no snapshot: the markers in the log say it again
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	rm -f "$KB_DATA"/ta-*/kpipe.producers
	start_broker
	run txn markers "$PID" 0 5 abort ta:0
	assert_output 'ta-0 52'
	run txn markers "$PID" 0 3 abort ta:1
	assert_output 'ta-1 0'
	run txn markers "$PID" 0 2 abort ta:1
	assert_output 'ta-1 52'
	run txn markers "$PID" 0 6 commit ta:0
	assert_output 'ta-0 0'
	run txn fetch ta 0 0
	assert_output 'lso 6 values plain,open1'
}

@test "the coordinator drops a marker fenced by a newer coordinator's instead of retrying it" {
	init tx 60000
	run txn add tx "$PID" 0 ta:0
	run txn produce ta 0 "$PID" 0 0 open1
	assert_output --regexp '^error 0 offset 1$'
	# a newer coordinator (epoch 5) already ended it on ta-0
	run txn markers "$PID" 0 5 abort ta:0
	assert_output 'ta-0 0'
	# this one's markers carry epoch 0 (no cluster: no leader epoch)
	run txn end tx "$PID" 0 commit
	assert_output 'error 0'
	wait_state tx CompleteCommit
	grep -q "transaction 'tx': ta-0: marker dropped: coordinator epoch 0 fenced" "$KB_ERR"
	run txn fetch ta 0 1
	assert_output 'lso 3 values plain'
}
