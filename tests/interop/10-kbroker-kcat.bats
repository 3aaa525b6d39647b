#!/usr/bin/env bats
# 10-kbroker-kcat.bats -- kcat (librdkafka 2.0.2) against a real kbroker

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../cli/10-kbroker-lib'

setup() {
	start_broker
}

@test "kcat -L lists the broker as controller and the topics" {
	printf 'x\n' | timeout 10 kcat -b "$KB_ADDR" -P -t listed
	run timeout 10 kcat -b "$KB_ADDR" -L
	assert_success
	assert_output --partial "broker 0 at $KB_ADDR (controller)"
	assert_output --partial 'topic "listed" with 1 partitions'
}

@test "kcat: 100000 lines produced come back all, in order" {
	seq 1 100000 >"$BATS_TEST_TMPDIR/in"
	timeout 60 kcat -b "$KB_ADDR" -P -t big <"$BATS_TEST_TMPDIR/in"
	timeout 60 kcat -b "$KB_ADDR" -C -t big -e -q >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "kcat: keys and headers round-trip" {
	printf 'k1:v1\nk2:v2\n:novalkey\n' |
	    timeout 10 kcat -b "$KB_ADDR" -P -t kh -K: -H h1=one -H h2=two
	run timeout 10 kcat -b "$KB_ADDR" -C -t kh -e -q \
	    -f '%k=%s [%h] @%o\n'
	assert_success
	assert_line --index 0 'k1=v1 [h1=one,h2=two] @0'
	assert_line --index 1 'k2=v2 [h1=one,h2=two] @1'
	assert_line --index 2 '=novalkey [h1=one,h2=two] @2'
}

@test "kcat -z gzip: batches are stored compressed, as sent, and read back" {
	seq 1 2000 | sed 's/^/compressible-record-/' >"$BATS_TEST_TMPDIR/in"
	timeout 30 kcat -b "$KB_ADDR" -P -t gz -z gzip <"$BATS_TEST_TMPDIR/in"
	timeout 30 kcat -b "$KB_ADDR" -C -t gz -e -q >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	# Batches on disk carry codec 1 (gzip) as kcat sent them; librdkafka
	# sends a small tail batch uncompressed when gzip would not shrink it.
	run $PY - "$KB_DATA/gz-0/00000000000000000000.log" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
codecs = set()
pos = 0
while pos + 61 <= len(data):
    length = struct.unpack(">i", data[pos + 8:pos + 12])[0]
    attrs = struct.unpack(">h", data[pos + 21:pos + 23])[0]
    codecs.add(attrs & 7)
    pos += 12 + length
print(sorted(codecs), len(data))
sys.exit(0 if 1 in codecs and codecs <= {0, 1} and pos == len(data) else 1)
EOF
	assert_success
}

@test "kcat -Q and -o s@ts find the first record at or after a time" {
	# Records with explicit CreateTime timestamps through a tiny
	# librdkafka producer: kcat -P cannot set them.
	run timeout 20 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
for i, ts in enumerate((1000000, 2000000, 3000000)):
    p.produce("tstopic", value=b"r%d" % i, partition=0, timestamp=ts)
p.flush(10)
EOF
	assert_success
	run timeout 10 kcat -b "$KB_ADDR" -Q -t tstopic:0:1500000
	assert_success
	assert_output --partial 'tstopic [0] offset 1'
	run timeout 10 kcat -b "$KB_ADDR" -Q -t tstopic:0:9999999
	assert_output --partial 'tstopic [0] offset -1'
	run timeout 10 kcat -b "$KB_ADDR" -C -t tstopic -o s@2000000 -e -q
	assert_success
	assert_output $'r1\nr2'
}

@test "kcat: data survives a broker restart" {
	seq 1 5000 >"$BATS_TEST_TMPDIR/in"
	timeout 30 kcat -b "$KB_ADDR" -P -t durable -X acks=all \
	    <"$BATS_TEST_TMPDIR/in"
	stop_broker
	assert_equal "$KB_STATUS" 0
	start_broker
	timeout 30 kcat -b "$KB_ADDR" -C -t durable -e -q >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "kcat: data acknowledged before a kill -9 is there after restart" {
	seq 1 3000 >"$BATS_TEST_TMPDIR/in"
	timeout 30 kcat -b "$KB_ADDR" -P -t crash -X acks=all \
	    <"$BATS_TEST_TMPDIR/in"
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	start_broker
	timeout 30 kcat -b "$KB_ADDR" -C -t crash -e -q >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "kcat -C waits for new records and gets them as they come" {
	timeout 10 kcat -b "$KB_ADDR" -L -t follow >/dev/null
	timeout 30 kcat -b "$KB_ADDR" -C -t follow -o beginning -c 2 -q \
	    >"$BATS_TEST_TMPDIR/out" &
	local cpid=$!
	sleep 1
	printf 'first\nsecond\n' | timeout 10 kcat -b "$KB_ADDR" -P -t follow
	wait_pid "$cpid" 25
	assert_equal "$KB_STATUS" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output $'first\nsecond'
}
