#!/usr/bin/env bats
# 13-kbroker-txnlog.bats -- transactions on the partition side: markers, LSO, aborted index, restart

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '10-kbroker-lib'

TXN="$BATS_TEST_DIRNAME/13-kbroker-txnlog.py"

check() {
	run timeout 40 $PY "$TXN" "$KB_ADDR" "$@"
	echo "$output"
	assert_success
	assert_line PASS
}

# the .txnindex entries of a partition folder: "pid first last lso" lines
txnindex() {
	$PY - "$1" <<'PYEOF'
import glob, struct, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.txnindex")):
    d = open(f, "rb").read()
    for i in range(0, len(d) - len(d) % 34, 34):
        v, pid, first, last, lso = struct.unpack(">hqqqq", d[i:i + 34])
        print(f.rsplit("/", 1)[1], v, pid, first, last, lso)
PYEOF
}

@test "kbroker txnlog: an open transaction holds the LSO, a COMMIT marker releases it" {
	start_broker -o num.partitions=1
	check lso
}

@test "kbroker txnlog: aborted transactions are listed for the range a read_committed fetch returns" {
	start_broker -o num.partitions=1
	check abort
	# the two aborts, in the segment of their markers, as Kafka lays them out
	run txnindex "$KB_DATA/ab-0"
	assert_output "00000000000000000000.txnindex 0 2000 0 4 3
00000000000000000000.txnindex 0 2001 3 5 6"
}

@test "kbroker txnlog: ktopic dump shows the markers and the .txnindex" {
	start_broker -o num.partitions=1
	check abort
	stop_broker
	run ktopic dump "$KB_DATA/ab-0/00000000000000000000.log"
	assert_success
	assert_line --regexp '^\| offset: 4 .* endTxnMarker: ABORT coordinatorEpoch: 7$'
	assert_line --regexp '^\| offset: 7 .* endTxnMarker: COMMIT coordinatorEpoch: 7$'
	assert_line --regexp '^baseOffset: 4 lastOffset: 4 count: 1 .* producerId: 2000 producerEpoch: 0 .* isTransactional: true isControl: true '
	run ktopic dump "$KB_DATA/ab-0/00000000000000000000.txnindex"
	assert_success
	assert_line "version: 0 producerId: 2000 firstOffset: 0 lastOffset: 4 lastStableOffset: 3"
	assert_line "version: 0 producerId: 2001 firstOffset: 3 lastOffset: 5 lastStableOffset: 6"
	run bash -c "ktopic --json dump '$KB_DATA/ab-0/00000000000000000000.txnindex' | jq -c '[.producerId, .firstOffset, .lastOffset]'"
	assert_output "[2000,0,4]
[2001,3,5]"
	printf 'junk' >>"$KB_DATA/ab-0/00000000000000000000.txnindex"
	run ktopic dump "$KB_DATA/ab-0/00000000000000000000.txnindex"
	[ "$status" -eq 65 ]
	assert_output --partial "found 4 invalid bytes at position 68"
}

@test "kbroker txnlog: a marker with a newer epoch fences the producer" {
	start_broker -o num.partitions=1
	check fence
}

@test "kbroker txnlog: clients cannot write markers; markers for unknown partitions fail" {
	start_broker -o num.partitions=1
	check refused
}

@test "kbroker txnlog: a read_committed long poll wakes when the transaction commits" {
	start_broker -o num.partitions=1
	check longpoll
}

@test "kbroker txnlog: the LSO and the aborted list survive kill -9" {
	start_broker -o num.partitions=1 -o log.segment.bytes=1024
	check restart-setup
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	start_broker -o num.partitions=1 -o log.segment.bytes=1024
	check restart-verify
}

@test "kbroker txnlog: the LSO survives a clean restart (from the producer state snapshot)" {
	start_broker -o num.partitions=1 -o log.segment.bytes=1024
	check restart-setup
	stop_broker
	[ "$KB_STATUS" -eq 0 ]
	start_broker -o num.partitions=1 -o log.segment.bytes=1024
	grep -q 'producer state: 1 partition(s) from snapshots, 0 read whole' "$KB_ERR"
	check restart-verify
}

@test "kbroker txnlog: a lost .txnindex entry is rebuilt from the log at startup" {
	start_broker -o num.partitions=1 -o log.segment.bytes=1024
	check restart-setup
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	run txnindex "$KB_DATA/rs-0"
	assert_output "00000000000000000006.txnindex 0 6001 6 7 1"
	rm "$KB_DATA"/rs-0/*.txnindex "$KB_DATA"/rs-0/kpipe.producers
	start_broker -o num.partitions=1 -o log.segment.bytes=1024
	run txnindex "$KB_DATA/rs-0"
	assert_output "00000000000000000006.txnindex 0 6001 6 7 1"
	check restart-verify
}

@test "kbroker txnlog: retention deletes a segment's .txnindex with it; the LSO stays at or above the log start" {
	start_broker -o num.partitions=1 -o log.segment.bytes=1024
	check restart-setup
	stop_broker
	[ -f "$KB_DATA/rs-0/00000000000000000006.txnindex" ]
	# the active segment rolls by age, then every closed one goes by age
	start_broker -o num.partitions=1 -o log.segment.bytes=1024 \
	    -o log.roll.ms=200 -o log.retention.ms=1 \
	    -o log.retention.check.interval.ms=100
	for i in $(seq 1 50); do
		[ -f "$KB_DATA/rs-0/00000000000000000006.txnindex" ] || break
		sleep 0.1
	done
	[ ! -f "$KB_DATA/rs-0/00000000000000000006.txnindex" ]
	[ ! -f "$KB_DATA/rs-0/00000000000000000006.log" ]
	# the transaction open from offset 1 no longer holds the LSO below
	# the log start, as in Kafka
	check lso-is rs:9
}
