#!/usr/bin/env bats
# 40-durable.bats -- kpipe.acks.all.fsync: acks=all answered only once synced, with syncs shared by concurrent producers

load helpers

setup() {
	DATA=$BATS_TEST_TMPDIR/d
	RANDOM=${CRASH_SEED:-$$}
}

teardown() {
	fault_teardown
}

producers() {	# producers N [ID-PREFIX]
	local i
	PRODS=
	for i in $(seq "$1"); do
		"$PY" "$KCLIENT" produce -b "$BROKER" -t dur -i "${2:-p}$i" \
		    -a "$BATS_TEST_TMPDIR/acked.$i" -r "${RATE:-400}" \
		    -d 3600 -T 120 -s "$BATS_TEST_TMPDIR/stop" \
		    2>"$BATS_TEST_TMPDIR/producer.$i.err" &
		track $!
		PRODS="$PRODS $!"
	done
	for i in $(seq 600); do
		[ "$(acked_count)" -gt 0 ] && return
		sleep 0.05
	done
	fail "no record acknowledged within 30s of starting the producers"
}

wait_producers() {
	local p rc=0
	touch "$BATS_TEST_TMPDIR/stop"
	for p in $PRODS; do
		wait "$p" || rc=1
	done
	[ "$rc" -eq 0 ] || { cat "$BATS_TEST_TMPDIR"/producer.*.err >&3; \
	    fail "a producer failed"; }
}

acked_count() {
	cat "$BATS_TEST_TMPDIR"/acked.* 2>/dev/null | wc -l
}

@test "fsync mode: every acknowledged record survives simulated machine crashes under 4 concurrent producers" {
	build_syncshim
	opts="-o num.partitions=3 -o kpipe.acks.all.fsync=true"
	start_broker "$DATA" 127.0.0.1:0 $opts
	producers 4
	dropped=0
	for i in 1 2 3; do
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		alive || fail "kbroker died on its own in cycle $i"
		machine_crash "$DATA"
		dropped=$((dropped + DROPPED))
		start_broker "$DATA" "127.0.0.1:$PORT" $opts
	done
	sleep 0.5
	wait_producers
	machine_crash "$DATA"
	dropped=$((dropped + DROPPED))
	start_broker "$DATA" "127.0.0.1:$PORT" $opts
	[ "$(acked_count)" -gt 0 ] || fail "nothing was acknowledged"
	run "$PY" "$KCLIENT" verify -b "$BROKER" -t dur -T 120 \
	    "$BATS_TEST_TMPDIR"/acked.*
	echo "# 4 machine crashes, $dropped unsynced bytes dropped: $output" >&3
	assert_success
	stop_broker
}

@test "fsync mode: concurrent producers share syncs (group commit): fewer fdatasyncs than produce requests" {
	build_syncshim
	# a disk that takes 2 ms per sync, as a real one does
	BROKER_ENV="$BROKER_ENV KP_SYNC_DELAY_US=2000"
	start_broker "$DATA" 127.0.0.1:0 -o num.partitions=1 \
	    -o kpipe.acks.all.fsync=true
	RATE=300 producers 8
	sleep 2
	wait_producers
	stop_broker
	line=$(grep 'acks=all fsync:' "$BROKER_ERR")
	[ -n "$line" ] || fail "no fsync summary in kbroker's log"
	reqs=$(echo "$line" | sed -E 's/.*: ([0-9]+) produce.*/\1/')
	syncs=$(grep -c '/dur-0/.*\.log$' "$SYNC_LOG")
	echo "# $reqs acks=all produce requests, $syncs fdatasyncs of the log ($(acked_count) records)" >&3
	[ "$reqs" -gt 0 ] || fail "no produce request went through the fsync path"
	[ "$syncs" -gt 0 ] || fail "the log was never synced"
	[ "$syncs" -lt "$reqs" ] || fail "$syncs syncs for $reqs requests: no group commit"
}

@test "recovery is logged per partition: a torn tail, and a log shorter than its checkpoint after a machine crash" {
	build_syncshim
	# flushes left to the OS; the tick checkpoints the high watermark
	start_broker "$DATA" 127.0.0.1:0 -o num.partitions=2 \
	    -o log.retention.check.interval.ms=100 \
	    -o replica.high.watermark.checkpoint.interval.ms=0
	seq 1 25 | timeout 20 "$KP_BIN/kproduce" -b "$BROKER" -t rec -p 0 ||
	    fail "kproduce failed"
	seq 26 50 | timeout 20 "$KP_BIN/kproduce" -b "$BROKER" -t rec -p 0 ||
	    fail "kproduce failed"
	seq 51 80 | timeout 20 "$KP_BIN/kproduce" -b "$BROKER" -t rec -p 1 ||
	    fail "kproduce failed"
	sleep 0.5	# a few ticks: the checkpoint now says 50 and 30
	kill9_broker
	# partition 0: the process died mid-write, the last batch is torn
	size=$(stat -c %s "$DATA/rec-0/00000000000000000000.log")
	truncate -s $((size - 7)) "$DATA/rec-0/00000000000000000000.log"
	# partition 1: the machine died, nothing of the log was written back
	machine_crash_one() {
		local f=$1 len
		len=$(awk -v f="$f" '$2 == f { n = $1 } END { print n + 0 }' \
		    "$SYNC_LOG")
		truncate -s "$len" "$f"
	}
	for f in "$DATA"/rec-1/*.log "$DATA"/rec-1/*index; do
		machine_crash_one "$f"
	done
	start_broker "$DATA" 127.0.0.1:0
	grep 'rec-' "$BROKER_ERR" | sed 's/^/# /' >&3
	run grep -c '^kbroker: rec-0: recovered from offset 0: .* [1-9][0-9]* byte(s) truncated.*log ends at offset 25; 25 record(s) lost' "$BROKER_ERR"
	assert_output 1
	run grep -c '^kbroker: rec-1: recovered .*; 30 record(s) lost: the checkpointed high watermark was 30' "$BROKER_ERR"
	assert_output 1
	stop_broker
}
