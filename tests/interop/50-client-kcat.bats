#!/usr/bin/env bats
# 50-client-kcat.bats -- kproduce/kconsume/ktopic with kcat and kafka-python as peers

load ../cli/client_helper

setup() {
	start_broker
}

teardown() {
	if [ -n "${MOCK_PID:-}" ]; then
		exec 8>&-
		kill "$MOCK_PID" 2>/dev/null || true
		wait "$MOCK_PID" 2>/dev/null || true
	fi
	stop_broker
}

# librdkafka's mock cluster with TOPIC:PARTITIONS created; sets MOCK_BR.
start_mock() {
	local i
	mkfifo "$BATS_TEST_TMPDIR/mock.in"
	"$KP_TOOLS/rk_mock" 1 "$@" <"$BATS_TEST_TMPDIR/mock.in" \
	    >"$BATS_TEST_TMPDIR/mock.out" 2>&1 &
	MOCK_PID=$!
	# hold the mock's stdin open (bats owns fd 3)
	exec 8>"$BATS_TEST_TMPDIR/mock.in"
	for i in $(seq 1 100); do
		grep -q BROKERS= "$BATS_TEST_TMPDIR/mock.out" && break
		sleep 0.05
	done
	MOCK_BR=$(sed -n 's/^BROKERS=//p' "$BATS_TEST_TMPDIR/mock.out")
	[ -n "$MOCK_BR" ]
}

@test "kproduce writes what kcat -C reads: keys, values, headers" {
	ktopic create -p 1 t
	printf 'k1:v1\nk2:v2\n' | kproduce -b "$KB_TCP" -t t -K: -H app=kp
	run timeout 20 kcat -b "$KB_TCP" -C -t t -e -q -f '%k=%s [%h]\n'
	assert_success
	assert_output "k1=v1 [app=kp]
k2=v2 [app=kp]"
}

@test "kproduce -z gzip batches are readable by kcat" {
	ktopic create -p 1 t
	seq 1 300 | kproduce -t t -z gzip
	run timeout 20 kcat -b "$KB_TCP" -C -t t -e -q
	assert_success
	assert_equal "${#lines[@]}" 300
	assert_line --index 299 300
}

@test "kcat -P writes what kconsume reads: keys, values, headers" {
	ktopic create -p 1 t
	printf 'a:1\nb:2\n' | timeout 20 kcat -b "$KB_TCP" -P -t t -K: -H h=x
	run timeout 20 kconsume -t t -e -f '%k=%s [%h]\n'
	assert_success
	assert_output "a=1 [h=x]
b=2 [h=x]"
}

@test "kcat -P -z gzip and binary values reach kconsume -f json intact" {
	ktopic create -p 1 t
	seq 1 200 | timeout 20 kcat -b "$KB_TCP" -P -t t -z gzip
	printf '\xff\x00\xfe' >"$BATS_TEST_TMPDIR/bin"
	timeout 20 kcat -b "$KB_TCP" -P -t t "$BATS_TEST_TMPDIR/bin"
	run timeout 20 kconsume -t t -e -c 200
	assert_equal "${#lines[@]}" 200
	run bash -c 'kconsume -t t -o 200 -e -f json | jq -r .value.base64'
	assert_output "/wD+"
}

@test "keyed records land where kafka-python's murmur2 puts them" {
	ktopic create -p 7 t
	keys="a foo user-101 user-102 kafka key1 key2 key3 hello-world x y z 0 1 2"
	for k in $keys; do echo "$k:v"; done | kproduce -t t -K:
	run timeout 20 kconsume -t t -e -f '%k %p\n'
	sort <<<"$output" >"$BATS_TEST_TMPDIR/got"
	/usr/bin/python3 -c '
import sys
from kafka.partitioner.default import murmur2
for k in sys.argv[1:]:
    print(k, (murmur2(k.encode()) & 0x7fffffff) % 7)
' $keys | sort >"$BATS_TEST_TMPDIR/want"
	run diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	assert_success
}

@test "kproduce agrees with kcat's murmur2_random partitioner" {
	ktopic create -p 5 a
	ktopic create -p 5 b
	seq -f 'key%g:v' 1 40 | kproduce -t a -K:
	seq -f 'key%g:v' 1 40 | timeout 20 kcat -b "$KB_TCP" -P -t b -K: \
	    -X partitioner=murmur2_random
	kconsume -t a -e -f '%k %p\n' | sort >"$BATS_TEST_TMPDIR/a"
	kconsume -t b -e -f '%k %p\n' | sort >"$BATS_TEST_TMPDIR/b"
	run diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_success
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/a")" 40
}

@test "ktopic list and describe agree with kcat -L" {
	ktopic create -p 3 t
	run timeout 20 kcat -b "$KB_TCP" -L -t t
	assert_output --partial 'topic "t" with 3 partitions'
	run bash -c "ktopic --json describe t | jq .partitions"
	assert_output "3"
}

@test "kproduce and kconsume work against librdkafka's mock cluster" {
	start_mock m:3
	printf 'k1:a\nk2:b\nk3:c\n' | kproduce -b "$MOCK_BR" -t m -K:
	run timeout 20 kconsume -b "$MOCK_BR" -t m -e -f '%k=%s\n'
	assert_success
	assert_equal "$(sort <<<"$output")" "k1=a
k2=b
k3=c"
	run timeout 20 kcat -b "$MOCK_BR" -C -t m -e -q -f '%k=%s\n'
	assert_equal "$(sort <<<"$output")" "k1=a
k2=b
k3=c"
}

@test "kproduce pauses, growing, between retries of a retriable error" {
	# Three answers of LEADER_NOT_AVAILABLE come back at once; resent at
	# once too, they would use up the retries in milliseconds. With the
	# pauses (100, 200, 400 ms) the fourth try lands no sooner than 0.7 s.
	start_mock m:1 produce-errors=3
	local t0 t1
	t0=$(date +%s%N)
	run kproduce -b "$MOCK_BR" -t m --retries 3 <<<"late"
	t1=$(date +%s%N)
	assert_success
	[ $(((t1 - t0) / 1000000)) -ge 700 ]
	run timeout 20 kconsume -b "$MOCK_BR" -t m -e
	assert_output "late"
}

@test "kproduce gives up after --retries tries, and says why" {
	start_mock m:1 produce-errors=3
	run kproduce -b "$MOCK_BR" -t m --retries 2 <<<"lost"
	assert_failure 75
	assert_output --partial "LEADER_NOT_AVAILABLE"
}

@test "kconsume reads what kcat -P wrote to the mock cluster" {
	start_mock m:1
	printf 'x\ny\n' | timeout 20 kcat -b "$MOCK_BR" -P -t m
	run timeout 20 kconsume -b "$MOCK_BR" -t m -e -o -1
	assert_output "y"
}
