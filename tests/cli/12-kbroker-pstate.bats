#!/usr/bin/env bats
# 12-kbroker-pstate.bats -- producer state snapshots: a restart reads only the batches after the last one

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '10-kbroker-lib'
load '70-cluster-lib'

teardown() {
	if [ -n "${KB_PID:-}" ]; then
		kill -KILL "$KB_PID" 2>/dev/null
		wait "$KB_PID" 2>/dev/null
	fi
	zk_stop		# and the cluster a test started on it
}

PART() { echo "$KB_DATA/idem-0"; }

# the startup summary of the latest start
summary() {
	grep 'producer state: .* partition(s) from snapshots' "$KB_ERR" | tail -1
}

# batches in the log with base offset >= $1, and in all
count_batches() {
	$PY - "$(PART)" "$1" <<'PYEOF'
import glob, struct, sys
after = total = 0
for f in sorted(glob.glob(sys.argv[1] + "/*.log")):
    d = open(f, "rb").read()
    pos = 0
    while pos + 12 <= len(d):
        base, n = struct.unpack(">qi", d[pos:pos + 12])
        if n <= 0 or pos + 12 + n > len(d):
            break
        total += 1
        after += base >= int(sys.argv[2])
        pos += 12 + n
print(after, total)
PYEOF
}

# the end offset a snapshot file covers (int64 after version and CRC)
snap_offset() {
	$PY -c 'import struct,sys; print(struct.unpack(">q", open(sys.argv[1], "rb").read()[6:14])[0])' "$(PART)/kpipe.producers"
}

# 31 idempotent batches over several 1 KiB segments
fill() {
	start_broker -o log.segment.bytes=1024 -o num.partitions=1
	run timeout 30 $PY "$KB_RAW" "$KB_ADDR" idem-fill
	assert_success
	[ "$(ls "$(PART)"/*.log | wc -l)" -ge 5 ]
}

@test "kbroker pstate: after kill -9 only the batches after the last roll are replayed" {
	fill
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	# the snapshot of the last roll, not of a shutdown
	off=$(snap_offset)
	read -r after total < <(count_batches "$off")
	[ "$off" -gt 0 ]
	[ "$total" -eq 31 ]
	[ "$after" -lt 10 ]
	start_broker -o log.segment.bytes=1024
	run summary
	assert_output --partial "producer state: 1 partition(s) from snapshots, 0 read whole, $after batch header(s) replayed"
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" idem-after
	assert_success
	# and a clean stop leaves a snapshot of the log end: nothing to replay
	stop_broker
	assert_equal "$KB_STATUS" 0
	start_broker
	run summary
	assert_output --partial "1 partition(s) from snapshots, 0 read whole, 0 batch header(s) replayed"
}

@test "kbroker pstate: a corrupt snapshot falls back to reading the whole log" {
	fill
	stop_broker
	assert_equal "$KB_STATUS" 0
	$PY - "$(PART)/kpipe.producers" <<'PYEOF'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[len(d) // 2] ^= 0x40
open(p, "wb").write(d)
PYEOF
	start_broker -o log.segment.bytes=1024
	grep -q 'idem-0: producer state snapshot at .*kpipe.producers ignored: checksum mismatch; reading the whole log' "$KB_ERR"
	# gone: nothing can load it later
	[ ! -e "$(PART)/kpipe.producers" ]
	run summary
	assert_output --partial "0 partition(s) from snapshots, 1 read whole, 31 batch header(s) replayed"
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" idem-after
	assert_success
}

@test "kbroker pstate: a snapshot past the recovered log end is ignored" {
	fill
	stop_broker
	assert_equal "$KB_STATUS" 0
	# tear the last batch: recovery cuts it, the snapshot covers it
	last=$(ls "$(PART)"/*.log | tail -1)
	truncate -s -10 "$last"
	start_broker -o log.segment.bytes=1024
	grep -q 'idem-0: producer state snapshot at .* ignored: past the log end' "$KB_ERR"
	# gone, or a regrown log would make it look valid again
	[ ! -e "$(PART)/kpipe.producers" ]
	run summary
	assert_output --partial "0 partition(s) from snapshots, 1 read whole, 30 batch header(s) replayed"
	run timeout 20 $PY "$KB_RAW" "$KB_ADDR" idem-after cut
	assert_success
}

leader_is_not_() {	# leader_is_not_ TOPIC ID: a live leader other than ID
	local l
	l=$(zk_state "$1" 0 leader)
	[ "$l" != "$2" ] && [ "$l" -ge 0 ]
}

# brokers $1 and $2 hold fo-0 up to the same offset (their .log sizes)
same_end() {
	[ "$(cat "$CL_DIR/b$1"/fo-0/*.log | wc -c)" = "$(cat "$CL_DIR/b$2"/fo-0/*.log | wc -c)" ]
}

# the end offset of broker $1's snapshot of fo-0, or "none"
cl_snap_offset() {
	local f="$CL_DIR/b$1/fo-0/kpipe.producers"
	if [ -e "$f" ]; then
		$PY -c 'import struct,sys; print(struct.unpack(">q", open(sys.argv[1], "rb").read()[6:14])[0])' "$f"
	else
		echo none
	fi
}

@test "kbroker pstate: a follower cutting its divergent tail deletes the snapshot taken in it" {
	zk_start
	cluster_start 3 -o replica.lag.time.max.ms=10000
	local boot old f1 f2 off
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 3 -c segment.bytes=4096 fo
	wait_for zk_state fo 0
	seq 1 20 | sed 's/^/acked-/' |
	    timeout 20 kproduce -b "$boot" -t fo --acks all
	old=$(zk_state fo 0 leader)
	read -r f1 f2 <<<"$(others_of "$old")"
	# Frozen followers; the leader alone takes 6 KB (a roll, so a
	# snapshot inside what will diverge) and dies.
	kill -STOP "$(broker_pid "$f1")" "$(broker_pid "$f2")"
	$PY -c 'for i in range(30): print("lost-%d-" % i + "x" * 200)' |
	    timeout 20 kproduce -b "127.0.0.1:$(broker_port "$old")" -t fo --acks 1
	off=$(cl_snap_offset "$old")
	[ "$off" != none ] && [ "$off" -gt 20 ]
	broker_kill "$old"
	kill -CONT "$(broker_pid "$f1")" "$(broker_pid "$f2")"
	wait_for leader_is_not_ fo "$old"
	# one small record: the old leader's catch-up does not roll
	"$KP_TOOLS/rk_acked" "$(cluster_boot)" fo 1 >/dev/null
	broker_start "$old"
	wait_for -t 30 grep -q 'fo-0: divergent tail cut: 30 record(s) from offset 20' "$(broker_err "$old")"
	wait_for -t 30 same_end "$old" "$(zk_state fo 0 leader)"
	run cl_snap_offset "$old"
	assert_output none
}
