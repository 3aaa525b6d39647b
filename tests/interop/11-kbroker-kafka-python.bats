#!/usr/bin/env bats
# 11-kbroker-kafka-python.bats -- kafka-python 2.0.2 against a real kbroker

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../cli/10-kbroker-lib'

setup() {
	start_broker
}

@test "kafka-python admin: create, list, grow and delete topics" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from kafka.admin import KafkaAdminClient, NewTopic, NewPartitions
from kafka.errors import TopicAlreadyExistsError, InvalidPartitionsError
a = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=10000)
a.create_topics([NewTopic("adm", 3, 1), NewTopic("adm2", 1, 1)])
print("topics", sorted(a.list_topics()))
try:
    a.create_topics([NewTopic("adm", 3, 1)])
    print("no error for an existing topic")
except TopicAlreadyExistsError:
    print("exists")
a.create_partitions({"adm": NewPartitions(5)})
try:
    a.create_partitions({"adm": NewPartitions(2)})
    print("shrank?")
except InvalidPartitionsError:
    print("cannot shrink")
meta = a.describe_topics(["adm"])
print("partitions", len(meta[0]["partitions"]))
a.delete_topics(["adm2"])
print("after delete", sorted(a.list_topics()))
EOF
	assert_success
	assert_line "topics ['adm', 'adm2']"
	assert_line 'exists'
	assert_line 'cannot shrink'
	assert_line 'partitions 5'
	assert_line "after delete ['adm']"
	[ ! -e "$KB_DATA/adm2-0" ]
}

@test "kafka-python admin: describe and alter topic and broker configs" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from kafka.admin import (KafkaAdminClient, NewTopic, ConfigResource,
                         ConfigResourceType)
a = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=10000)
a.create_topics([NewTopic("cfg", 1, 1,
                          topic_configs={"retention.ms": "3600000"})])

def show(name):
    r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "cfg")])
    for entry in r[0].resources[0][4]:
        if entry[0] == name:
            return entry[1], entry[3]

print("retention", show("retention.ms"))
print("segment", show("segment.bytes"))
a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "cfg",
                                configs={"cleanup.policy": "compact"})])
# AlterConfigs replaces the whole set: retention.ms is back to default.
print("policy", show("cleanup.policy"))
print("retention after", show("retention.ms"))
r = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, "0")])
names = {e[0]: e[1] for e in r[0].resources[0][4]}
print("broker num.partitions", names.get("num.partitions"))
print("broker group delay", names.get("group.initial.rebalance.delay.ms"))
EOF
	assert_success
	# (value, config_source): 1 = topic override, 5 = default
	assert_line "retention ('3600000', 1)"
	assert_line "segment ('1073741824', 5)"
	assert_line "policy ('compact', 1)"
	assert_line "retention after ('604800000', 5)"
	assert_line "broker num.partitions 1"
	# a lone consumer of a script starts at once, as with Kafka's
	# shipped server.properties
	assert_line "broker group delay 0"
}

@test "kafka-python: acks=all gzip producer, consumer with assign and seek" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
bs = sys.argv[1]
p = KafkaProducer(bootstrap_servers=bs, acks="all", compression_type="gzip",
                  linger_ms=20)
futs = [p.send("kp", key=b"k%d" % i, value=b"value-%d" % i, partition=0)
        for i in range(500)]
p.flush()
offs = [f.get(timeout=10).offset for f in futs]
print("acked", len(offs), offs[0], offs[-1])
tp = TopicPartition("kp", 0)
c = KafkaConsumer(bootstrap_servers=bs, enable_auto_commit=False,
                  consumer_timeout_ms=3000)
c.assign([tp])
c.seek(tp, 250)
vals = [m.value for m in c]
print("from 250", len(vals), vals[0], vals[-1])
c.seek_to_beginning(tp)
keys = [m.key for m in c]
print("all", len(keys), keys[0], keys[-1])
print("end", c.end_offsets([tp])[tp], "begin", c.beginning_offsets([tp])[tp])
EOF
	assert_success
	assert_line 'acked 500 0 499'
	assert_line "from 250 250 b'value-250' b'value-499'"
	assert_line "all 500 b'k0' b'k499'"
	assert_line 'end 500 begin 0'
	# gzip batches are stored as they came.
	run $PY - "$KB_DATA/kp-0/00000000000000000000.log" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
print("codec", struct.unpack(">h", d[21:23])[0] & 7)
EOF
	assert_output 'codec 1'
}

@test "kafka-python: offsets_for_times and end_offsets" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
bs = sys.argv[1]
p = KafkaProducer(bootstrap_servers=bs, acks=1)
for i, ts in enumerate((5000, 6000, 7000, 8000)):
    p.send("times", value=b"t%d" % i, partition=0, timestamp_ms=ts)
p.flush()
tp = TopicPartition("times", 0)
c = KafkaConsumer(bootstrap_servers=bs, enable_auto_commit=False)
r = c.offsets_for_times({tp: 6500})[tp]
print("6500 ->", r.offset, r.timestamp)
r = c.offsets_for_times({tp: 6000})[tp]
print("6000 ->", r.offset, r.timestamp)
print("9000 ->", c.offsets_for_times({tp: 9000})[tp])
print("end", c.end_offsets([tp])[tp])
EOF
	assert_success
	assert_line '6500 -> 2 7000'
	assert_line '6000 -> 1 6000'
	assert_line '9000 -> None'
	assert_line 'end 4'
}

@test "kafka-python: DeleteRecords moves the log start offset" {
	run timeout 60 $PY - "$KB_ADDR" <<'EOF'
import sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
bs = sys.argv[1]
p = KafkaProducer(bootstrap_servers=bs, acks=1)
for i in range(10):
    p.send("dr", value=b"d%d" % i, partition=0)
    p.flush()
a = KafkaAdminClient(bootstrap_servers=bs)
if not hasattr(a, "delete_records"):
    # kafka-python 2.0.2 has no delete_records: speak the API directly.
    from kafka.protocol.struct import Struct
    from kafka.protocol.api import Request, Response
    from kafka.protocol.types import Array, Int16, Int32, Int64, String, Schema

    class DeleteRecordsResponse_v0(Response):
        API_KEY = 21
        API_VERSION = 0
        SCHEMA = Schema(("throttle_time_ms", Int32),
                        ("topics", Array(("name", String("utf-8")),
                                         ("partitions", Array(
                                             ("partition", Int32),
                                             ("low_watermark", Int64),
                                             ("error_code", Int16))))))

    class DeleteRecordsRequest_v0(Request):
        API_KEY = 21
        API_VERSION = 0
        RESPONSE_TYPE = DeleteRecordsResponse_v0
        SCHEMA = Schema(("topics", Array(("name", String("utf-8")),
                                         ("partitions", Array(
                                             ("partition", Int32),
                                             ("offset", Int64))))),
                        ("timeout_ms", Int32))

    req = DeleteRecordsRequest_v0(topics=[("dr", [(0, 4)])], timeout_ms=5000)
    f = a._send_request_to_node(a._client.least_loaded_node(), req)
    a._wait_for_futures([f])
    print("delete", f.value.topics[0][1][0][1:])
tp = TopicPartition("dr", 0)
c = KafkaConsumer(bootstrap_servers=bs, enable_auto_commit=False,
                  consumer_timeout_ms=3000)
print("begin", c.beginning_offsets([tp])[tp])
c.assign([tp])
c.seek_to_beginning(tp)
print("first", next(c).value)
EOF
	assert_success
	assert_line 'delete (4, 0)'
	assert_line 'begin 4'
	assert_line "first b'd4'"
}
