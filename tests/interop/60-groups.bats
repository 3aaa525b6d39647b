#!/usr/bin/env bats
# 60-groups.bats -- consumer groups: kcat -G, confluent-kafka, kafka-python and kconsume -g together

bats_require_minimum_version 1.5.0
load '../cli/client_helper'

PY=/usr/bin/python3

setup() {
	start_broker -o group.initial.rebalance.delay.ms=0 \
	    -o group.min.session.timeout.ms=1000
	PIDS=()
	HELPER=$KP_TOP/tests/interop/group_member.py
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	stop_broker
}

out() { echo "$BATS_TEST_TMPDIR/$1.out"; }

# produce FIRST LAST: values v<FIRST>..v<LAST> keyed k<i> to topic t
produce() {
	seq "$1" "$2" | awk '{ print "k" $1 "\tv" $1 }' | kproduce -K '\t' -t t
}

# Start a member NAME of group G with a client: kcat, kp, ck or kconsume.
start_member() {	# start_member NAME CLIENT G
	local name=$1 o
	o=$(out "$name")
	: >"$o"
	case $2 in
	kcat)
		timeout 120 kcat -b "$KB_TCP" -G "$3" -o beginning -u \
		    -f '%s\n' -q -X session.timeout.ms=3000 \
		    -X heartbeat.interval.ms=1000 \
		    -X max.poll.interval.ms=10000 t \
		    >"$o" 2>"$BATS_TEST_TMPDIR/$name.err" & ;;
	kp|ck)
		$PY "$HELPER" "$2" "$KB_TCP" "$3" t "$o" 3000 \
		    2>"$BATS_TEST_TMPDIR/$name.err" & ;;
	kconsume)
		timeout 120 kconsume -u -g "$3" --session-timeout-ms 3000 \
		    -t t >"$o" 2>"$BATS_TEST_TMPDIR/$name.err" & ;;
	esac
	PIDS+=($!)
	eval "${name}_PID=$!"
}

# wait_members GROUP N: Stable with N members (30 s)
wait_members() {
	local i
	for i in $(seq 1 300); do
		kgroup --json describe --state "$1" 2>/dev/null |
		    grep -q "\"state\":\"Stable\",\"members\":$2}" && return 0
		sleep 0.1
	done
	kgroup describe --state "$1" >&2
	return 1
}

# wait_read N FILE...: until the files hold N distinct lines (30 s)
wait_read() {
	local n=$1 i
	shift
	for i in $(seq 1 300); do
		[ "$(cat "$@" | sort -u | wc -l)" -ge "$n" ] && return 0
		sleep 0.1
	done
	echo "read $(cat "$@" | sort -u | wc -l) of $n" >&2
	return 1
}

expect() { seq "$1" "$2" | sed 's/^/v/' | sort; }

# wait_values N FILE...: wait_read of the values only, not "assign" notes
wait_values() {
	local n=$1 i
	shift
	for i in $(seq 1 300); do
		[ "$(grep -hv '^assign' "$@" | sort -u | wc -l)" -ge "$n" ] &&
		    return 0
		sleep 0.1
	done
	echo "read $(grep -hv '^assign' "$@" | sort -u | wc -l) of $n" >&2
	return 1
}

@test "kcat -G, confluent-kafka, kafka-python and kconsume -g share one group" {
	ktopic create -p 8 t
	start_member a kcat mix
	start_member b ck mix
	start_member c kp mix
	start_member d kconsume mix
	wait_members mix 4
	produce 1 400
	wait_read 400 "$(out a)" "$(out b)" "$(out c)" "$(out d)"
	sleep 1		# a duplicate would show up now
	# stable membership: every record exactly once, everyone busy
	assert_equal "$(cat "$(out a)" "$(out b)" "$(out c)" "$(out d)" | sort)" \
	    "$(expect 1 400)"
	for m in a b c d; do
		[ -s "$(out $m)" ] || fail "member $m read nothing"
	done
	run kgroup describe --members mix
	assert_line --regexp $'\trdkafka\t2\t'
	assert_line --regexp $'\tkafka-python-[0-9.]+\t2\t'
	assert_line --regexp $'\tkconsume\t2\t'

	# SIGKILL the kafka-python member: its partitions move after the
	# session timeout and nothing produced afterwards is lost
	kill -KILL "$c_PID"
	wait_members mix 3
	produce 401 600
	wait_read 600 "$(out a)" "$(out b)" "$(out c)" "$(out d)"
	assert_equal "$(cat "$(out a)" "$(out b)" "$(out d)" | sort -u |
	    sed 's/^v//' | awk '$1 > 400 && $1 <= 600' | wc -l)" 200

	# a member leaves cleanly, another joins: still nothing lost
	kill -TERM "$b_PID"
	wait_members mix 2
	produce 601 700
	start_member e kp mix
	wait_members mix 3
	produce 701 800
	wait_read 800 "$(out a)" "$(out b)" "$(out c)" "$(out d)" "$(out e)"
	assert_equal "$(cat "$(out a)" "$(out b)" "$(out c)" "$(out d)" \
	    "$(out e)" | sort -u)" "$(expect 1 800)"
}

@test "two groups on one topic each get every record" {
	ktopic create -p 3 t
	produce 1 150
	run timeout 30 kconsume -g one -e -t t
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort)" "$(expect 1 150)"
	run timeout 60 $PY "$HELPER" ck "$KB_TCP" two t "$(out two)" 3000 150
	assert_success
	assert_equal "$(sort "$(out two)")" "$(expect 1 150)"
	run timeout 60 $PY "$HELPER" kp "$KB_TCP" three t "$(out three)" 3000 150
	assert_success
	assert_equal "$(sort "$(out three)")" "$(expect 1 150)"
	run kgroup list
	assert_output $'one\nthree\ntwo'
}

@test "committed offsets survive a broker restart; a member resumes after them" {
	ktopic create -p 1 t
	produce 1 50
	run timeout 60 $PY "$HELPER" ck "$KB_TCP" g t "$(out first)" 3000 20
	assert_success
	assert_equal "$(cat "$(out first)")" "$(seq 1 20 | sed 's/^/v/')"
	stop_broker
	start_broker -o group.initial.rebalance.delay.ms=0 \
	    -o group.min.session.timeout.ms=1000
	run timeout 60 $PY "$HELPER" kp "$KB_TCP" g t "$(out second)" 3000 30
	assert_success
	assert_equal "$(cat "$(out second)")" "$(seq 21 50 | sed 's/^/v/')"
	run kgroup describe g
	assert_output "$(printf 'g\tt\t0\t50\t50\t0\t-\t-\t-')"
	# kcat sees the same committed offset after another restart
	stop_broker
	start_broker
	run timeout 30 kcat -b "$KB_TCP" -G g -e -q -f '%s\n' t
	assert_output ''
}

@test "a broker restart keeps the group: confluent-kafka and kafka-python go on unrebalanced" {
	ktopic create -p 2 t
	# a member that notes each assignment it gets and each value read
	cat >"$BATS_TEST_TMPDIR/assigns.py" <<'PY'
import sys, time, signal
kind, broker, out = sys.argv[1:4]
stop = False
def term(s, f):
    global stop
    stop = True
signal.signal(signal.SIGTERM, term)
n = 0
def note(line):
    with open(out, "a") as f:
        f.write(line + "\n")
def assigned(parts):
    global n
    n += 1
    note("assign %d" % n)
end = time.time() + 90
if kind == "ck":
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": broker, "group.id": "r",
                  "auto.offset.reset": "earliest",
                  "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
    c.subscribe(["t"], on_assign=lambda c, p: assigned(p))
    while not stop and time.time() < end:
        m = c.poll(0.1)
        if m is not None and not m.error():
            note(m.value().decode())
else:
    from kafka import KafkaConsumer, ConsumerRebalanceListener
    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            pass
        def on_partitions_assigned(self, parts):
            assigned(parts)
    c = KafkaConsumer(bootstrap_servers=broker, group_id="r",
                      auto_offset_reset="earliest",
                      session_timeout_ms=10000, heartbeat_interval_ms=500)
    c.subscribe(["t"], listener=Listener())
    while not stop and time.time() < end:
        for tp, msgs in c.poll(timeout_ms=100).items():
            for m in msgs:
                note(m.value.decode())
c.close()
PY
	$PY "$BATS_TEST_TMPDIR/assigns.py" ck "$KB_TCP" "$(out ck)" &
	PIDS+=($!)
	wait_members r 1
	$PY "$BATS_TEST_TMPDIR/assigns.py" kp "$KB_TCP" "$(out kp)" &
	PIDS+=($!)
	wait_members r 2
	produce 1 20
	wait_values 20 "$(out ck)" "$(out kp)"
	sleep 1		# a late assignment callback shows before the count
	before=$(grep -c '^assign' "$(out ck)" "$(out kp)")
	ids=$(kgroup describe --members r | cut -f2 | sort)
	KB_LISTEN=$KB_TCP
	stop_broker
	start_broker -o group.initial.rebalance.delay.ms=0 \
	    -o group.min.session.timeout.ms=1000
	KB_LISTEN=
	produce 21 40
	wait_values 40 "$(out ck)" "$(out kp)"
	sleep 2		# heartbeats at 500 ms: a rejoin would show by now
	assert_equal "$(grep -c '^assign' "$(out ck)" "$(out kp)")" "$before"
	assert_equal "$(kgroup describe --members r | cut -f2 | sort)" "$ids"
	run kgroup describe --state r
	assert_output --regexp $'\tStable\t2$'
}

@test "kgroup describe lag equals log end minus committed offset" {
	ktopic create -p 4 t
	produce 1 100
	# commit 0 everywhere first, so every partition has a lag
	kgroup reset -t t --to-earliest --execute g >/dev/null
	run kgroup --json describe g
	assert_output --partial '"total_lag":100'
	run timeout 60 $PY "$HELPER" kp "$KB_TCP" g t "$(out kp)" 3000 37
	assert_success
	assert_equal "$(wc -l <"$(out kp)")" 37
	run kgroup --json describe g
	assert_output --partial '"total_lag":63'
	# per partition against what librdkafka reads back
	$PY - "$KB_TCP" >"$BATS_TEST_TMPDIR/ck" <<'EOF'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "g"})
for tp in c.committed([TopicPartition("t", p) for p in range(4)], 10):
    lo, hi = c.get_watermark_offsets(tp, 10)
    print(tp.partition, max(tp.offset, 0), hi, hi - max(tp.offset, 0))
c.close()
EOF
	assert_equal "$(kgroup describe g | cut -f3-6 | tr '\t' ' ')" \
	    "$(cat "$BATS_TEST_TMPDIR/ck")"
	produce 101 110
	run kgroup --json describe g
	assert_output --partial '"total_lag":73'
}

@test "static membership: a confluent-kafka member restarted in time keeps its place" {
	ktopic create -p 4 t
	# i2 leads and counts its assignments; i1 comes and goes
	cat >"$BATS_TEST_TMPDIR/static.py" <<'PY'
import sys, time, signal
from confluent_kafka import Consumer
broker, iid, out = sys.argv[1:4]
stop = False
def term(s, f):
    global stop
    stop = True
signal.signal(signal.SIGTERM, term)
n = 0
def on_assign(c, parts):
    global n
    n += 1
    with open(out, "a") as f:
        f.write("assign %d %s\n" % (n, ",".join(str(p.partition) for p in parts)))
c = Consumer({"bootstrap.servers": broker, "group.id": "st",
              "group.instance.id": iid, "session.timeout.ms": 6000,
              "heartbeat.interval.ms": 500, "max.poll.interval.ms": 10000})
c.subscribe(["t"], on_assign=on_assign)
end = time.time() + 60
while not stop and time.time() < end:
    c.poll(0.1)
c.close()
PY
	$PY "$BATS_TEST_TMPDIR/static.py" "$KB_TCP" i2 "$(out i2)" &
	PIDS+=($!)
	wait_members st 1
	$PY "$BATS_TEST_TMPDIR/static.py" "$KB_TCP" i1 "$(out i1)" &
	i1=$!
	PIDS+=($i1)
	wait_members st 2
	for i in $(seq 1 100); do
		[ "$(wc -l <"$(out i2)")" -ge 2 ] && [ -s "$(out i1)" ] && break
		sleep 0.1
	done
	before=$(kgroup describe --members st | cut -f3 | sort | tr '\n' ' ')
	assert_equal "$before" "i1 i2 "
	ids1=$(kgroup describe --members st | cut -f2 | sort)
	kill -TERM "$i1"
	wait "$i1" || true
	# a static member leaves no gap: the group waits for it
	run kgroup describe --state st
	assert_output --regexp $'\tStable\t2$'
	$PY "$BATS_TEST_TMPDIR/static.py" "$KB_TCP" i1 "$(out i1b)" &
	PIDS+=($!)
	for i in $(seq 1 100); do
		[ -s "$(out i1b)" ] && break
		sleep 0.1
	done
	# the new instance got the old partitions, i2 was not rebalanced
	assert_equal "$(cut -d' ' -f3 "$(out i1b)")" "$(tail -1 "$(out i1)" | cut -d' ' -f3)"
	sleep 1
	assert_equal "$(wc -l <"$(out i2)")" 2
	run kgroup describe --state st
	assert_output --regexp $'\tStable\t2$'
	[ "$(kgroup describe --members st | cut -f2 | sort)" != "$ids1" ] ||
	    fail "i1 kept its old member id"
}

@test "an offset committed with a retention time expires, also across a restart" {
	ktopic create -p 1 t
	produce 1 10
	# OffsetCommit v2 with retention_time 4000 ms, as old clients send
	run timeout 60 $PY - "$KB_TCP" <<'PY'
import sys, time
from kafka import KafkaClient
from kafka.protocol.commit import OffsetCommitRequest
cl = KafkaClient(bootstrap_servers=sys.argv[1])
node = cl.least_loaded_node()
end = time.time() + 20
while not cl.ready(node) and time.time() < end:
    cl.poll(timeout_ms=100)
f = cl.send(node, OffsetCommitRequest[2]("old", -1, "", 4000,
                                          [("t", [(0, 5, "md")])]))
cl.poll(future=f, timeout_ms=10000)
print(f.value.topics)
cl.close()
PY
	assert_success
	assert_output "[('t', [(0, 0)])]"
	run kgroup describe old
	assert_output "$(printf 'old\tt\t0\t5\t10\t5\t-\t-\t-')"
	# retention plus log.retention.check.interval.ms (1 s) later it is gone
	for i in $(seq 1 100); do
		[ -z "$(kgroup describe old 2>/dev/null)" ] && break
		sleep 0.1
	done
	run --separate-stderr kgroup describe old
	assert_success
	assert_output ''
	# the tombstone keeps it gone after a restart
	stop_broker
	start_broker
	run --separate-stderr kgroup describe old
	assert_equal "$status" 65
}
