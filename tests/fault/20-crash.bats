#!/usr/bin/env bats
# 20-crash.bats -- kill -9 kbroker at random moments under idempotent acks=all producers: nothing acknowledged is lost or doubled
#
# CRASH_CYCLES (default 10) sets the number of SIGKILL/restart cycles;
# tests/fault/soak.sh runs this file with 50 and more.

load helpers

setup() {
	CYCLES=${CRASH_CYCLES:-10}
	SEED=${CRASH_SEED:-$$}
	RANDOM=$SEED
	DATA=$BATS_TEST_TMPDIR/d
}

teardown() {
	fault_teardown
}

# restart on the same port so the clients find the broker again
restart() {
	start_broker "$DATA" "127.0.0.1:$PORT" -o num.partitions=3 "$@"
}

producers() {	# producers N [ID-PREFIX]
	local i
	PRODS=
	for i in $(seq "$1"); do
		"$PY" "$KCLIENT" produce -b "$BROKER" -t crash -i "${2:-p}$i" \
		    -a "$BATS_TEST_TMPDIR/acked.$i" -r "${CRASH_RATE:-400}" \
		    -d 3600 -T 120 -s "$BATS_TEST_TMPDIR/stop" \
		    2>"$BATS_TEST_TMPDIR/producer.$i.err" &
		track $!
		PRODS="$PRODS $!"
	done
	# Crash only once records flow (python and librdkafka start slowly
	# on a loaded machine).
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
	cat "$BATS_TEST_TMPDIR"/producer.*.err | sed 's/^/# /' >&3
	[ "$rc" -eq 0 ] || fail "a producer failed (fatal error or records never acknowledged)"
}

# kproduce beside the librdkafka producers: numbered lines "kp-N" to
# partition 0, --print-offsets logs every acknowledged record. With one
# partition acknowledgements come in input order, so line N of the
# offsets is record kp-N.
kproducer() {
	(
		i=0
		while [ ! -e "$BATS_TEST_TMPDIR/stop" ] && [ "$i" -lt 100000 ]; do
			echo "kp-$i"
			i=$((i + 1))
			sleep 0.004
		done
		echo "$i" >"$BATS_TEST_TMPDIR/kp.count"
	) | "$KP_BIN/kproduce" -b "$BROKER" -t crash -p 0 --print-offsets \
	    --retries 100 >"$BATS_TEST_TMPDIR/kp.offsets" \
	    2>"$BATS_TEST_TMPDIR/kproduce.err" &
	KPROD=$!
	track "$KPROD"
}

# wait for kproduce; turn its offsets into the "partition offset value"
# lines kclient.py verify reads
wait_kproducer() {
	local rc=0

	wait "$KPROD" || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$BATS_TEST_TMPDIR/kproduce.err" >&3
		fail "kproduce failed through the crashes (exit $rc)"
	fi
	sed -E 's/.*"partition":([0-9]+),"offset":(-?[0-9]+)\}$/\1 \2/' \
	    "$BATS_TEST_TMPDIR/kp.offsets" |
	    awk '{ print $1, $2, "kp-" NR - 1 }' >"$BATS_TEST_TMPDIR/acked.kp"
	echo "# kproduce: $(wc -l <"$BATS_TEST_TMPDIR/acked.kp") of $(cat "$BATS_TEST_TMPDIR/kp.count") records acknowledged" >&3
	[ "$(wc -l <"$BATS_TEST_TMPDIR/acked.kp")" -eq \
	    "$(cat "$BATS_TEST_TMPDIR/kp.count")" ] ||
	    fail "kproduce exited 0 without acknowledging every record"
}

acked_count() {
	cat "$BATS_TEST_TMPDIR"/acked.* 2>/dev/null | wc -l
}

# kill -9 at a random moment 0.1-1.0 s into each life, restart at once
crash_loop() {
	local i
	for i in $(seq "$CYCLES"); do
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		alive || { tail "$BROKER_ERR" >&3; fail "kbroker died on its own in cycle $i"; }
		kill9_broker
		restart
	done
	echo "# $CYCLES SIGKILL cycles (seed $SEED), $(acked_count) records acknowledged" >&3
}

@test "SIGKILL loop under idempotent acks=all producers: every acknowledged record exactly once, in order" {
	start_broker "$DATA" 127.0.0.1:0 -o num.partitions=3
	producers 2
	kproducer
	crash_loop
	sleep 1
	wait_producers
	wait_kproducer
	[ "$(acked_count)" -gt 0 ] || fail "nothing was acknowledged"
	# One more crash with everything acknowledged, then read it all back.
	kill9_broker
	restart
	run "$PY" "$KCLIENT" verify -b "$BROKER" -t crash -T 120 \
	    "$BATS_TEST_TMPDIR"/acked.*
	echo "# $output" >&3
	assert_success
	grep -h 'recover\|repair\|truncat' "$BATS_TEST_TMPDIR"/broker.*.err | \
	    sort | uniq -c | sort -rn | head -5 | sed 's/^/# broker: /' >&3
	stop_broker
	asan_clean || fail "sanitizer report"
}

@test "SIGKILL loop with flush.messages=1: same guarantee on the fsync path" {
	start_broker "$DATA" 127.0.0.1:0 -o num.partitions=3 \
	    -o log.flush.interval.messages=1
	producers 2
	CYCLES=$(( (CYCLES + 1) / 2 ))
	for i in $(seq "$CYCLES"); do
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		alive || fail "kbroker died on its own in cycle $i"
		kill9_broker
		restart -o log.flush.interval.messages=1
	done
	echo "# $CYCLES SIGKILL cycles with fsync per batch, $(acked_count) acknowledged" >&3
	sleep 1
	wait_producers
	[ "$(acked_count)" -gt 0 ] || fail "nothing was acknowledged"
	run "$PY" "$KCLIENT" verify -b "$BROKER" -t crash -T 120 \
	    "$BATS_TEST_TMPDIR"/acked.*
	echo "# $output" >&3
	assert_success
	stop_broker
	asan_clean || fail "sanitizer report"
}

@test "simulated machine crash with flush.messages=1: unsynced bytes dropped, nothing acknowledged lost" {
	build_syncshim
	start_broker "$DATA" 127.0.0.1:0 -o num.partitions=3 \
	    -o log.flush.interval.messages=1
	producers 2
	n=$(( (CYCLES + 1) / 2 )) dropped=0
	for i in $(seq "$n"); do
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		alive || fail "kbroker died on its own in cycle $i"
		machine_crash "$DATA"
		dropped=$((dropped + DROPPED))
		restart -o log.flush.interval.messages=1
	done
	[ "$(wc -l <"$SYNC_LOG")" -gt 0 ] || fail "the shim saw no fsync"
	echo "# $n simulated machine crashes, $dropped unsynced bytes dropped, $(acked_count) acknowledged" >&3
	sleep 1
	wait_producers
	machine_crash "$DATA"
	restart -o log.flush.interval.messages=1
	run "$PY" "$KCLIENT" verify -b "$BROKER" -t crash -T 120 \
	    "$BATS_TEST_TMPDIR"/acked.*
	echo "# $output" >&3
	assert_success
	stop_broker
	asan_clean || fail "sanitizer report"
}

@test "simulated machine crash with flush left to the OS: a valid prefix survives, the log goes on" {
	build_syncshim
	# small segments: each roll flushes the segment it closes
	start_broker "$DATA" 127.0.0.1:0 -o num.partitions=3 \
	    -o log.segment.bytes=4096
	producers 2
	sleep 3
	wait_producers
	machine_crash "$DATA"
	restart -o log.segment.bytes=4096
	run "$PY" "$KCLIENT" verify -p -b "$BROKER" -t crash -T 120 \
	    -k "$BATS_TEST_TMPDIR/kept" "$BATS_TEST_TMPDIR"/acked.*
	echo "# $DROPPED unsynced bytes dropped: $output" >&3
	assert_success
	grep -v listening "$BROKER_ERR" | sed 's/^/# broker: /' >&3
	kept=$(wc -l <"$BATS_TEST_TMPDIR/kept")
	[ "$kept" -gt 0 ] || fail "nothing survived, though rolled segments were flushed"
	# What was cut is gone for good; the log goes on from the cut.
	rm "$BATS_TEST_TMPDIR"/acked.*
	mv "$BATS_TEST_TMPDIR/kept" "$BATS_TEST_TMPDIR/acked.0"
	rm "$BATS_TEST_TMPDIR/stop"
	producers 1 q
	sleep 1
	wait_producers
	run "$PY" "$KCLIENT" verify -b "$BROKER" -t crash -T 120 \
	    "$BATS_TEST_TMPDIR"/acked.*
	echo "# after the crash: $output" >&3
	assert_success
	stop_broker
	asan_clean || fail "sanitizer report"
}
