#!/usr/bin/env bats
# 13-kbroker-txn.bats -- confluent-kafka 1.7.0 (librdkafka 2.0.2) transactions against a real kbroker

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../cli/10-kbroker-lib'

setup() {
	start_broker -o num.partitions=2
	run timeout 30 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for t, f in a.create_topics([NewTopic("in", 2, 1), NewTopic("ta", 2, 1),
                             NewTopic("tb", 1, 1)]).items():
    f.result()
EOF
	[ "$status" = 0 ] || { echo "$output" >&2; return 1; }
}

# read TOPIC ISOLATION: every value of the topic, sorted, on one line
read_all() {
	timeout 60 $PY - "$KB_ADDR" "$1" "$2" <<'EOF'
import sys
from confluent_kafka import Consumer, TopicPartition
bs, topic, iso = sys.argv[1:]
c = Consumer({"bootstrap.servers": bs, "group.id": "reader",
              "enable.auto.commit": False, "isolation.level": iso,
              "enable.partition.eof": True})
parts = c.list_topics(topic, timeout=10).topics[topic].partitions
c.assign([TopicPartition(topic, p, 0) for p in parts])
vals, eof = [], set()
for _ in range(200):
    m = c.poll(0.5)
    if m is None:
        continue
    if m.error():
        eof.add(m.partition())
        if len(eof) == len(parts):
            break
        continue
    vals.append(m.value().decode())
c.close()
print(" ".join(sorted(vals)) or "-")
EOF
}

@test "confluent-kafka: commit and abort across topics; read_committed sees only the committed" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "t-1"})
p.init_transactions(20)
p.begin_transaction()
for i in range(3):
    p.produce("ta", b"c%d" % i, partition=i % 2)
p.produce("tb", b"c3", partition=0)
p.commit_transaction(20)
p.begin_transaction()
p.produce("ta", b"a0", partition=0)
p.produce("tb", b"a1", partition=0)
p.flush(10)
p.abort_transaction(20)
p.begin_transaction()
p.produce("ta", b"c4", partition=1)
p.commit_transaction(20)
print("done")
EOF
	assert_success
	assert_output 'done'
	run read_all ta read_committed
	assert_output 'c0 c1 c2 c4'
	run read_all tb read_committed
	assert_output 'c3'
	run read_all ta read_uncommitted
	assert_output 'a0 c0 c1 c2 c4'
	run read_all tb read_uncommitted
	assert_output 'a1 c3'
	# and after a SIGKILL and restart, the abort still filters
	kill -KILL "$KB_PID"
	wait "$KB_PID" || true
	KB_PID=
	start_broker -o num.partitions=2
	run read_all ta read_committed
	assert_output 'c0 c1 c2 c4'
	run read_all tb read_committed
	assert_output 'c3'
}

@test "confluent-kafka: send_offsets_to_transaction commits the group offset with the output" {
	kcat -b "$KB_ADDR" -t in -p 0 -P -K: <<-EOF
	k:i0
	k:i1
	k:i2
	k:i3
	EOF
	run timeout 90 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka import Consumer, Producer, TopicPartition
bs = sys.argv[1]
c = Consumer({"bootstrap.servers": bs, "group.id": "ctp",
              "enable.auto.commit": False, "auto.offset.reset": "earliest",
              "isolation.level": "read_committed"})
c.assign([TopicPartition("in", 0, 0)])
p = Producer({"bootstrap.servers": bs, "transactional.id": "ctp-1"})
p.init_transactions(20)

def step(n, commit):
    p.begin_transaction()
    got = 0
    while got < n:
        m = c.poll(10)
        if m is None:
            raise SystemExit("no input")
        if m.error():
            continue
        p.produce("ta", m.value().upper(), partition=0)
        got += 1
    p.send_offsets_to_transaction(c.position(c.assignment()),
                                  c.consumer_group_metadata(), 20)
    if commit:
        p.commit_transaction(20)
    else:
        p.abort_transaction(20)

step(2, True)
step(2, False)
c.close()
chk = Consumer({"bootstrap.servers": bs, "group.id": "ctp"})
print("committed", chk.committed([TopicPartition("in", 0)], 10)[0].offset)
chk.close()
EOF
	assert_success
	assert_output 'committed 2'
	run read_all ta read_committed
	assert_output 'I0 I1'
	# the group offset survives a restart, the aborted one stays out
	stop_broker
	start_broker -o num.partitions=2
	run kgroup -b "$KB_ADDR" describe ctp
	assert_output --regexp $'^ctp\tin\t0\t2\t'
}

@test "confluent-kafka: a second producer with the same transactional.id fences the first" {
	run timeout 90 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka import KafkaException, Producer
bs = sys.argv[1]
conf = {"bootstrap.servers": bs, "transactional.id": "fence"}
p1 = Producer(conf)
p1.init_transactions(20)
p1.begin_transaction()
p1.produce("ta", b"zombie", partition=0)
p1.flush(10)
p2 = Producer(conf)
p2.init_transactions(20)
p2.begin_transaction()
p2.produce("ta", b"fresh", partition=1)
p2.commit_transaction(20)
print("p2 committed")
try:
    p1.produce("ta", b"late", partition=0)
    p1.commit_transaction(20)
    print("p1 committed")
except KafkaException as e:
    err = e.args[0]
    print("p1 fatal", err.fatal(), err.name())
EOF
	assert_success
	assert_line 'p2 committed'
	assert_line --regexp '^p1 fatal True (_FENCED|PRODUCER_FENCED|INVALID_PRODUCER_EPOCH)$'
	run read_all ta read_committed
	assert_output 'fresh'
}

@test "kcat read_committed sees nothing past an open transaction until it commits" {
	kcat -b "$KB_ADDR" -t tb -p 0 -P <<<"before"
	cat >"$BATS_TEST_TMPDIR/open.py" <<'EOF'
import os, sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "open"})
p.init_transactions(20)
p.begin_transaction()
p.produce("tb", b"inside", partition=0)
p.flush(10)
print("open", flush=True)
for _ in range(600):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.05)
p.commit_transaction(20)
print("committed", flush=True)
EOF
	coproc PRODUCER { timeout 60 $PY -u "$BATS_TEST_TMPDIR/open.py" \
	    "$KB_ADDR" "$BATS_TEST_TMPDIR/go"; }
	read -r -t 30 line <&"${PRODUCER[0]}"
	[ "$line" = open ]
	kcat -b "$KB_ADDR" -t tb -p 0 -P <<<"after"
	run -0 --separate-stderr timeout 30 kcat -b "$KB_ADDR" -t tb -p 0 -C \
	    -o beginning -e -X isolation.level=read_committed
	assert_output 'before'
	run -0 --separate-stderr timeout 30 kcat -b "$KB_ADDR" -t tb -p 0 -C \
	    -o beginning -e -X isolation.level=read_uncommitted
	assert_output $'before\ninside\nafter'
	touch "$BATS_TEST_TMPDIR/go"
	read -r -t 30 line <&"${PRODUCER[0]}"
	[ "$line" = committed ]
	run -0 --separate-stderr timeout 30 kcat -b "$KB_ADDR" -t tb -p 0 -C \
	    -o beginning -e -X isolation.level=read_committed
	assert_output $'before\ninside\nafter'
}

@test "confluent-kafka: a transaction left open past transaction.timeout.ms is aborted" {
	stop_broker
	start_broker -o num.partitions=2 -o log.retention.check.interval.ms=100 \
	    -o transaction.abort.timed.out.transaction.cleanup.interval.ms=100
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys, time
from confluent_kafka import KafkaException, Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "slow",
              "transaction.timeout.ms": 1000})
p.init_transactions(20)
p.begin_transaction()
p.produce("ta", b"slow", partition=0)
p.flush(10)
time.sleep(3)
try:
    p.commit_transaction(20)
    print("committed")
except KafkaException as e:
    print("commit failed")
EOF
	assert_success
	assert_line 'commit failed'
	grep -q "transaction 'slow': open longer than 1000 ms, aborting it" "$KB_ERR"
	run read_all ta read_committed
	[ "$output" = - ]
}
