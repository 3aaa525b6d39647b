#!/usr/bin/env bats
# 10-hostile.bats -- malformed frames and resource abuse: kbroker stays up and keeps serving

load helpers

setup() {
	ulimit -n 8192
	start_broker "$BATS_TEST_TMPDIR/d" 127.0.0.1:0 \
	    -o socket.request.max.bytes=1048576 -o num.partitions=2
}

teardown() {
	fault_teardown
}

# Well-behaved clients beside the abuse: an idempotent acks=all producer
# (librdkafka through confluent-kafka) and kcat following the topic.
start_good_clients() {
	"$PY" "$KCLIENT" produce -b "$BROKER" -t good -i good \
	    -a "$BATS_TEST_TMPDIR/acked" -r 300 -d 240 \
	    -s "$BATS_TEST_TMPDIR/stop" 2>"$BATS_TEST_TMPDIR/producer.err" &
	PRODUCER=$!
	track "$PRODUCER"
	for i in $(seq 200); do
		[ -s "$BATS_TEST_TMPDIR/acked" ] && break
		sleep 0.05
	done
	[ -s "$BATS_TEST_TMPDIR/acked" ] || fail "producer got no ack"
	kcat -C -b "$BROKER" -t good -o beginning -u -q \
	    -f '%p %o %s\n' >"$BATS_TEST_TMPDIR/consumed" 2>/dev/null &
	CONSUMER=$!
	track "$CONSUMER"
}

# Stop the producer; every ack must be in the log exactly once, and the
# kcat consumer that ran through the abuse must have seen all of them.
check_good_clients() {
	local i
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$PRODUCER" || { cat "$BATS_TEST_TMPDIR/producer.err" >&3; \
	    fail "the well-behaved producer failed"; }
	sed 's/^/# /' "$BATS_TEST_TMPDIR/producer.err" >&3
	run "$PY" "$KCLIENT" verify -b "$BROKER" -t good \
	    "$BATS_TEST_TMPDIR/acked"
	echo "# good producer: $output" >&3
	assert_success
	sort "$BATS_TEST_TMPDIR/acked" >"$BATS_TEST_TMPDIR/want"
	for i in $(seq 200); do
		sort "$BATS_TEST_TMPDIR/consumed" >"$BATS_TEST_TMPDIR/got"
		[ -z "$(comm -23 "$BATS_TEST_TMPDIR/want" \
		    "$BATS_TEST_TMPDIR/got")" ] && break
		sleep 0.1
	done
	run comm -23 "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	assert_output ''
	echo "# kcat consumer: $(wc -l <"$BATS_TEST_TMPDIR/got") records" \
	    "while under attack" >&3
}

@test "malformed frames over TCP and Unix: answered or closed, broker keeps serving, no leak" {
	start_good_clients
	run timeout "${HOSTILE_TIMEOUT:-150}" "$HOSTILE" -n "${HOSTILE_COUNT:-300}" \
	    -m 1048576 -z 64 -s "${HOSTILE_SEED:-7}" "$BROKER"
	echo "$output" | sed 's/^/# tcp: /' >&3
	assert_success
	assert_line --partial "misbehaviours, broker still serving"
	run timeout 60 "$HOSTILE" -c size,trunc,apikey,array,random -n 100 \
	    -m 1048576 -s 8 "unix:$BATS_TEST_TMPDIR/s.sock"
	echo "$output" | sed 's/^/# unix: /' >&3
	assert_success
	alive || fail "kbroker died"
	check_good_clients
	echo "# peak RSS after the malformed frames: $(peak_rss "$BROKER_PID") kB" >&3
	stop_broker
	asan_clean || fail "sanitizer report"
}

@test "hostile client notices a broker that is gone" {
	# The check above must be able to fail: with no broker, hostile
	# reports that it stopped being served and exits non-zero.
	stop_broker
	run timeout 30 "$HOSTILE" -c size -n 5 "$BROKER"
	assert_failure 69
	assert_output --partial "broker stopped serving"
}

# A broker that is broken on purpose: hostile must notice.
fake_broker() {
	"$PY" "$KP_TOP/tests/fault/fakebroker.py" "$1" \
	    >"$BATS_TEST_TMPDIR/fake.out" 2>&1 &
	track $!
	for i in $(seq 100); do
		grep -q listening "$BATS_TEST_TMPDIR/fake.out" && break
		sleep 0.05
	done
	FAKE=$(sed -n 's/^listening //p' "$BATS_TEST_TMPDIR/fake.out")
	[ -n "$FAKE" ] || fail "fake broker did not start"
}

@test "hostile flags a broker that accepts corrupt batches or never answers" {
	fake_broker accept
	run timeout 60 "$HOSTILE" -c batch -n 20 "$FAKE"
	assert_failure 1
	assert_output --partial "invalid batch accepted"
	assert_line --regexp '^class batch: 20 sent, 20 answered, 0 closed, 0 silent, 1[0-9] misbehaved$'
	fake_broker silent
	run timeout 60 "$HOSTILE" -c batch -n 3 -T 300 "$FAKE"
	assert_failure 1
	assert_output --partial "no answer and no close on a whole frame"
}

@test "1000 connections, stalled half-requests, never-reading clients: limits hold, others served" {
	start_good_clients
	run timeout 150 "$HOSTILE" -c conns,stall,noread,oversize -C 1000 \
	    -S 200 -R 20 -H 3 -m 1048576 "$BROKER"
	echo "$output" | sed 's/^/# /' >&3
	assert_success
	assert_line "class conns: 1000 connections, 1000 answered, 0 closed, 0 silent"
	assert_line --regexp '^class oversize: [0-9]+ sent, 0 answered'
	alive || fail "kbroker died"
	check_good_clients
	rss=$(peak_rss "$BROKER_PID")
	echo "# peak RSS under the connection storm: $rss kB" >&3
	# Generous: 20 clients each allowed a few MiB of queued answers.
	# ASan's shadow memory and quarantine roughly triple it.
	limit=$((512 * 1024))
	[ "${SAN:-}" = 1 ] && limit=$((1536 * 1024))
	[ "$rss" -lt "$limit" ] || fail "peak RSS $rss kB above $limit kB"
	stop_broker
	asan_clean || fail "sanitizer report"
}
