#!/usr/bin/env bats
# 12-kbroker-confluent.bats -- confluent-kafka 1.7.0 (librdkafka 2.0.2) against a real kbroker

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../cli/10-kbroker-lib'

setup() {
	start_broker
}

@test "confluent-kafka: idempotent producer with delivery reports, consumer with assign" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
bs = sys.argv[1]
admin = AdminClient({"bootstrap.servers": bs})
for t, f in admin.create_topics([NewTopic("idem", 3, 1)]).items():
    f.result()
p = Producer({"bootstrap.servers": bs, "enable.idempotence": True,
              "linger.ms": 5})
acked, errors = {}, []

def report(err, msg):
    if err:
        errors.append(str(err))
    else:
        acked[msg.value()] = (msg.partition(), msg.offset())

for i in range(3000):
    p.produce("idem", key=b"k%d" % i, value=b"v%d" % i, partition=i % 3,
              on_delivery=report)
    p.poll(0)
p.flush(20)
print("acked", len(acked), "errors", len(errors), errors[:1])
print("offsets", sorted({acked[b"v%d" % i][1] for i in range(0, 3000, 3)})[-1])
c = Consumer({"bootstrap.servers": bs, "group.id": "unused",
              "enable.auto.commit": False})
c.assign([TopicPartition("idem", p, 0) for p in range(3)])
seen = {}
while len(seen) < 3000:
    m = c.poll(10)
    if m is None:
        break
    if m.error():
        print("error", m.error())
        continue
    seen[m.value()] = (m.partition(), m.offset())
c.close()
print("consumed", len(seen), "match", seen == acked)
EOF
	assert_success
	assert_line 'acked 3000 errors 0 []'
	assert_line 'offsets 999'
	assert_line 'consumed 3000 match True'
	# The batches carry a producer id and sequence numbers.
	run $PY - "$KB_DATA/idem-0/00000000000000000000.log" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
pid, epoch, seq = struct.unpack(">qhi", d[43:57])
print("pid", pid >= 0, "epoch", epoch, "seq", seq)
EOF
	assert_output 'pid True epoch 0 seq 0'
}

@test "confluent-kafka AdminClient: create_topics and describe_configs" {
	stop_broker
	start_broker -o num.partitions=3
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
a = AdminClient({"bootstrap.servers": sys.argv[1]})
fs = a.create_topics([NewTopic("ck", num_partitions=4, replication_factor=1,
                               config={"cleanup.policy": "compact"})])
for t, f in fs.items():
    f.result()
    print("created", t)
fs = a.create_topics([NewTopic("ck", num_partitions=4, replication_factor=1)])
for t, f in fs.items():
    try:
        f.result()
    except Exception as e:
        print("again:", e.args[0].name())
fs = a.create_topics([NewTopic("ck3", num_partitions=1, replication_factor=3)])
for t, f in fs.items():
    try:
        f.result()
    except Exception as e:
        print("rf3:", e.args[0].name())
fs = a.create_topics([NewTopic("vo", num_partitions=2, replication_factor=1)],
                     validate_only=True)
for t, f in fs.items():
    f.result()
# -1: the broker's num.partitions (3 here) and replication factor.
for t, f in a.create_topics([NewTopic("dflt", num_partitions=-1,
                                      replication_factor=-1)]).items():
    f.result()
md = a.list_topics(timeout=10)
print("partitions", len(md.topics["ck"].partitions), "vo" in md.topics)
print("default partitions", len(md.topics["dflt"].partitions))
fs = a.describe_configs([ConfigResource("topic", "ck")])
for r, f in fs.items():
    cfg = f.result()
    print("policy", cfg["cleanup.policy"].value,
          cfg["cleanup.policy"].is_default)
    print("retention", cfg["retention.ms"].value,
          cfg["retention.ms"].is_default)
fs = a.describe_configs([ConfigResource("broker", "0")])
for r, f in fs.items():
    print("broker log.dirs set", bool(f.result()["log.dirs"].value))
EOF
	assert_success
	assert_line 'created ck'
	assert_line 'again: TOPIC_ALREADY_EXISTS'
	assert_line 'rf3: INVALID_REPLICATION_FACTOR'
	assert_line 'partitions 4 False'
	assert_line 'default partitions 3'
	assert_line 'policy compact False'
	assert_line 'retention 604800000 True'
	assert_line 'broker log.dirs set True'
}

@test "confluent-kafka: delete_topics and create_partitions" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions
a = AdminClient({"bootstrap.servers": sys.argv[1]})
for t, f in a.create_topics([NewTopic("gone", 1, 1),
                             NewTopic("grow", 1, 1)]).items():
    f.result()
for t, f in a.create_partitions([NewPartitions("grow", 3)]).items():
    f.result()
for t, f in a.delete_topics(["gone"]).items():
    f.result()
for t, f in a.delete_topics(["never"]).items():
    try:
        f.result()
    except Exception as e:
        print("never:", e.args[0].name())
md = a.list_topics(timeout=10)
print(sorted(md.topics), len(md.topics["grow"].partitions))
EOF
	assert_success
	assert_line 'never: UNKNOWN_TOPIC_OR_PART'
	assert_line "['grow'] 3"
}
