#!/usr/bin/env bats
# 10-kbroker.bats -- kbroker as a program: options, listeners, config, signals

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '10-kbroker-lib'

@test "kbroker --help prints the usage on stdout and exits 0" {
	run --separate-stderr kbroker --help
	assert_success
	assert_line --index 0 --partial 'usage: kbroker [-hVv] [--config file]'
	assert_output --partial '[--no-socket | --socket path] [-o key=value]'
}

@test "kbroker --socket with --no-socket is a usage error" {
	run --separate-stderr kbroker --socket /tmp/x.sock --no-socket
	assert_equal "$status" 64
	[[ "$stderr" == *"--socket and --no-socket conflict"* ]]
}

@test "kbroker with an operand is a usage error" {
	run --separate-stderr kbroker extra
	assert_equal "$status" 64
	[[ "$stderr" == *"usage: kbroker"* ]]
}

@test "kbroker -o without '=' is a usage error" {
	run --separate-stderr kbroker -o num.partitions
	assert_equal "$status" 64
	[[ "$stderr" == *"expected key=value"* ]]
}

@test "kbroker rejects a bad config value with exit 78" {
	run --separate-stderr kbroker --data-dir "$BATS_TEST_TMPDIR/d" \
	    --listen 127.0.0.1:0 --no-socket -o num.partitions=many
	assert_equal "$status" 78
	[[ "$stderr" == *"num.partitions"*"many"* ]]
}

@test "kbroker warns about an unknown config key and starts anyway" {
	start_broker -o no.such.key=1
	grep -q "kbroker: config 'no.such.key': unknown, ignored" "$KB_ERR"
	timeout 10 kcat -b "$KB_ADDR" -L >/dev/null
}

@test "kbroker rejects a config file line without key=value" {
	printf 'num.partitions=2\njust words\n' >"$BATS_TEST_TMPDIR/k.conf"
	run --separate-stderr kbroker --config "$BATS_TEST_TMPDIR/k.conf" \
	    --data-dir "$BATS_TEST_TMPDIR/d" --no-socket
	assert_equal "$status" 78
	[[ "$stderr" == *"line 2"* ]]
}

@test "kbroker prints one listening line per listener, socket mode 0600" {
	start_broker
	run cat "$KB_OUT"
	assert_line --index 0 --regexp '^listening 127\.0\.0\.1:[0-9]+$'
	assert_line --index 1 "listening unix:$KB_SOCK"
	[ "$(stat -c %a "$KB_SOCK")" = 600 ]
	[ "$KB_PORT" -ne 0 ]
}

@test "kbroker --no-socket listens on TCP only" {
	KB_SOCK=
	"$KP_BIN/kbroker" --data-dir "$BATS_TEST_TMPDIR/d" --listen 127.0.0.1:0 \
	    --no-socket >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	KB_PID=$!
	for i in $(seq 1 100); do
		grep -q '^listening' "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	sleep 0.2
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output --regexp '^listening 127\.0\.0\.1:[0-9]+$'
	refute_output --partial unix
}

@test "kbroker with no options uses the per-user socket and data folder" {
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
	export KPIPE_DATA="$BATS_TEST_TMPDIR/kpdata"
	mkdir -p "$XDG_RUNTIME_DIR"
	# Port 9092 may be taken on this machine: only the TCP address is
	# given, everything else is the default.
	"$KP_BIN/kbroker" --listen 127.0.0.1:0 >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" &
	KB_PID=$!
	for i in $(seq 1 100); do
		grep -q '^listening unix:' "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line "listening unix:$XDG_RUNTIME_DIR/kpipe.sock"
	[ -d "$KPIPE_DATA" ]
	grep -q "data directory $KPIPE_DATA" "$BATS_TEST_TMPDIR/err"
}

@test "kbroker refuses a socket path held by a live broker" {
	start_broker
	run --separate-stderr timeout 10 "$KP_BIN/kbroker" \
	    --data-dir "$BATS_TEST_TMPDIR/d2" --listen 127.0.0.1:0 \
	    --socket "$KB_SOCK"
	assert_equal "$status" 69
	[[ "$stderr" == *"Address already in use"* ]]
}

@test "kbroker replaces a stale socket left by a killed broker" {
	start_broker
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	[ -S "$KB_SOCK" ]
	start_broker
	timeout 10 kcat -b "$KB_ADDR" -L >/dev/null
}

@test "kbroker stops on SIGTERM with exit 0 and removes its socket" {
	start_broker
	timeout 10 kcat -b "$KB_ADDR" -L >/dev/null
	stop_broker
	assert_equal "$KB_STATUS" 0
	[ ! -e "$KB_SOCK" ]
	grep -q 'kbroker: stopped' "$KB_ERR"
}

@test "kbroker answers a waiting long poll and exits 0 on SIGTERM" {
	start_broker
	timeout 10 kcat -b "$KB_ADDR" -L -t lp >/dev/null
	timeout 30 kcat -b "$KB_ADDR" -C -t lp -o end -q \
	    >"$BATS_TEST_TMPDIR/c.out" 2>&1 &
	local cpid=$!
	sleep 1
	stop_broker
	assert_equal "$KB_STATUS" 0
	kill "$cpid" 2>/dev/null || true
	wait "$cpid" || true
}

@test "kbroker stops on SIGINT with exit 0" {
	start_broker
	kill -INT "$KB_PID"
	wait_pid "$KB_PID" 15
	KB_PID=
	assert_equal "$KB_STATUS" 0
}

@test "kbroker: --config and -o set Kafka's server configs" {
	printf '# kafka names\nnum.partitions = 2\nauto.create.topics.enable: true\n' \
	    >"$BATS_TEST_TMPDIR/k.conf"
	start_broker --config "$BATS_TEST_TMPDIR/k.conf" -o num.partitions=3
	run timeout 10 kcat -b "$KB_ADDR" -L -t auto3
	assert_success
	assert_output --partial 'topic "auto3" with 3 partitions'
}

@test "kbroker: auto.create.topics.enable=false leaves unknown topics unknown" {
	start_broker -o auto.create.topics.enable=false
	run timeout 10 kcat -b "$KB_ADDR" -L -t nothere
	assert_output --partial 'Broker: Unknown topic or partition'
	[ ! -e "$KB_DATA/nothere-0" ]
}

@test "kbroker: a topic listed in the data folder survives a restart" {
	start_broker
	printf 'a\nb\nc\n' | timeout 10 kcat -b "$KB_ADDR" -P -t keep
	stop_broker
	start_broker
	run timeout 10 kcat -b "$KB_ADDR" -C -t keep -e -q
	assert_success
	assert_output $'a\nb\nc'
}

@test "kbroker: ApiVersions above v3 gets UNSUPPORTED_VERSION in v0 form" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" apiversions-too-new
	assert_success
}

@test "kbroker: ApiVersions advertises what is implemented and nothing else" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" apiversions
	assert_success
}

@test "kbroker: an unknown API closes that connection only" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" unknown-api
	assert_success
	grep -q 'unsupported' "$KB_ERR"
}

@test "kbroker: a frame above socket.request.max.bytes closes the connection" {
	start_broker -o socket.request.max.bytes=65536
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" oversized
	assert_success
	grep -q 'socket.request.max.bytes' "$KB_ERR"
}

@test "kbroker: garbage frames never crash it" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" garbage
	assert_success
	kill -0 "$KB_PID"
}

@test "kbroker: random and corrupted requests never crash it" {
	start_broker
	run timeout 120 $PY "$KB_RAW" "$KB_ADDR" random-frames
	assert_success
	kill -0 "$KB_PID"
}

@test "kbroker: pipelined requests are answered in order" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" pipelined
	assert_success
}

@test "kbroker: acks=0 produce gets no response" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" acks0
	assert_success
}

@test "kbroker: bad batches are refused and nothing of them is written" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" bad-batch
	assert_success
}

@test "kbroker: idempotent duplicates get their first offset, gaps are refused" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" idempotent
	assert_success
}

@test "kbroker: idempotence state is rebuilt from the log after a restart" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" idempotent
	assert_success
	stop_broker
	assert_equal "$KB_STATUS" 0
	start_broker
	# the clean stop snapshotted the state at the log end: nothing to read
	grep -q 'producer state: 1 partition(s) from snapshots, 0 read whole, 0 batch header(s) replayed' "$KB_ERR"
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" idempotent-restart
	assert_success
}

@test "kbroker: a long-polling fetch returns as soon as a record arrives" {
	start_broker
	run timeout 40 $PY "$KB_RAW" "$KB_ADDR" long-poll
	assert_success
}

@test "kbroker: a long-polling fetch with no data answers at max wait, in order" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" long-poll-timeout
	assert_success
}

@test "kbroker: fetching past the end is OFFSET_OUT_OF_RANGE" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" out-of-range
	assert_success
}

@test "kbroker: the Unix socket serves the protocol too" {
	start_broker
	run timeout 20 $PY - "$KB_SOCK" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
body = struct.pack(">hhih", 18, 0, 42, 2) + b"ux"
s.sendall(struct.pack(">i", len(body)) + body)
n = struct.unpack(">i", s.recv(4))[0]
data = b""
while len(data) < n:
    data += s.recv(n - len(data))
corr, err = struct.unpack(">ih", data[:6])
print(corr, err)
sys.exit(0 if (corr, err) == (42, 0) else 1)
EOF
	assert_success
	assert_output '42 0'
}

@test "kbroker: a batch over message.max.bytes is MESSAGE_TOO_LARGE" {
	start_broker -o message.max.bytes=2000
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" too-large
	assert_success
}

@test "kbroker: log.message.timestamp.type=LogAppendTime stamps batches" {
	start_broker -o log.message.timestamp.type=LogAppendTime
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" log-append-time
	assert_success
}

@test "kbroker: connections idle past connections.max.idle.ms are closed" {
	start_broker -o connections.max.idle.ms=300 \
	    -o log.retention.check.interval.ms=100
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" idle-close
	assert_success
}

@test "kbroker: connections beyond max.connections are closed" {
	start_broker -o max.connections=2
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" max-connections
	assert_success
	grep -q 'max.connections' "$KB_ERR"
}

@test "kbroker: retention runs from the event loop" {
	start_broker -o log.segment.bytes=200 -o log.retention.ms=60000 \
	    -o log.retention.check.interval.ms=100
	run timeout 30 $PY "$KB_RAW" "$KB_ADDR" retention
	assert_success
}

@test "kbroker: replica.high.watermark.checkpoint.interval.ms spaces checkpoint rewrites" {
	start_broker -o log.retention.check.interval.ms=100 \
	    -o replica.high.watermark.checkpoint.interval.ms=600000
	local ck=$KB_DATA/ck-0/kpipe.checkpoint i
	seq 1 5 | timeout 20 "$KP_BIN/kproduce" -b "$KB_ADDR" -t ck
	for i in $(seq 1 100); do
		grep -qx 'high_watermark=5' "$ck" 2>/dev/null && break
		sleep 0.1
	done
	grep -qx 'high_watermark=5' "$ck" || fail "no tick wrote the checkpoint"
	seq 6 10 | timeout 20 "$KP_BIN/kproduce" -b "$KB_ADDR" -t ck
	sleep 1	# ten ticks, all within the interval
	grep -qx 'high_watermark=5' "$ck" || fail "rewritten within the interval"
	stop_broker
	grep -qx 'high_watermark=10' "$ck" || fail "a clean stop did not write it"
}

@test "kbroker: kpipe.log.cache.bytes keeps only the newest appends cached" {
	start_broker -o kpipe.log.cache.bytes=2097152
	# ~22 MB into one partition, far past its 2 MiB of page cache
	run "$KP_BIN/kproduce" -b "$KB_ADDR" -t pc --bench 200000 \
	    --record-size 100
	assert_success
	local log=$KB_DATA/pc-0/00000000000000000000.log res size
	read -r res size < <(fincore -b -n -r -o RES,SIZE "$log")
	[ "$size" -gt 20000000 ]
	# pages still being written back may stay; most must be gone
	[ "$res" -lt $((size / 4)) ]
	# what left the cache reads back from disk, all of it
	run bash -c "timeout 60 '$KP_BIN/kconsume' -b '$KB_ADDR' -t pc -e \
	    -f '%o\n' | sort -n | uniq | wc -l"
	assert_output 200000
}

@test "kbroker rejects a kpipe.log.cache.bytes below -1" {
	run --separate-stderr kbroker --data-dir "$BATS_TEST_TMPDIR/d" \
	    --listen 127.0.0.1:0 --no-socket -o kpipe.log.cache.bytes=-2
	assert_equal "$status" 78
	[[ "$stderr" == *"kpipe.log.cache.bytes"* ]]
}

@test "kbroker: a client that never reads does not stall the others" {
	start_broker
	run timeout 60 $PY "$KB_RAW" "$KB_ADDR" slow-client
	assert_success
	kill -0 "$KB_PID"
	# The hog's queue stays bounded: the broker stopped reading from it.
	local rss
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$KB_PID/status")
	[ "$rss" -lt 200000 ] || fail "kbroker RSS ${rss} kB"
}

@test "kbroker: IncrementalAlterConfigs sets and deletes topic configs" {
	start_broker
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" incremental-alter
	assert_success
}

@test "kbroker: acks=all with min.insync.replicas=2 is NOT_ENOUGH_REPLICAS" {
	start_broker -o min.insync.replicas=2
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" min-insync
	assert_success
}

@test "kbroker: fetch honours max bytes and partition max bytes, always one batch" {
	start_broker -o num.partitions=2
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" fetch-limits
	assert_success
}

@test "kbroker: idle producers are forgotten after producer.id.expiration.ms" {
	start_broker -o producer.id.expiration.ms=300 \
	    -o log.retention.check.interval.ms=100
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" pid-expiry
	assert_success
}

@test "kbroker: queued.max.request.bytes bounds memory held for clients that never read" {
	# Under ASan freed memory sits in quarantine and would count.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
	    start_broker -o queued.max.request.bytes=1048576
	local base hwm
	base=$(awk '/^VmRSS/ { print $2 }' "/proc/$KB_PID/status")
	run timeout 30 $PY "$KB_RAW" "$KB_ADDR" hogs
	assert_success
	# Ten clients times 8 MiB per connection would be ~80 MB more.
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$KB_PID/status")
	[ $((hwm - base)) -lt 40000 ] ||
	    fail "kbroker grew from ${base} kB to a peak of ${hwm} kB"
}

@test "kbroker: a client pipelining thousands of requests takes turns with the others" {
	start_broker
	run timeout 60 $PY "$KB_RAW" "$KB_ADDR" fairness
	echo "# $output" >&3
	assert_success
}
