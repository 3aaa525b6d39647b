#!/usr/bin/python3
# 71-cluster-raw.py -- raw Kafka requests to ONE chosen broker of a cluster
#
# usage: 71-cluster-raw.py COMMAND HOST:PORT ARGS...
#   meta ADDR [TOPIC]         JSON: brokers, controller, per partition
#                             leader, epoch, replicas, isr, offline, error
#   produce ADDR TOPIC PART   "error E offset O" (one record, acks=1)
#   fetch ADDR TOPIC PART     "error E records N" (from offset 0)
#   coord ADDR GROUP          "error E node N"
#   offsetfetch ADDR GROUP TOPIC   "error E" (OffsetFetch v3's own error)
# Clients route around a non-leader by themselves; a test that wants to
# see what a broker answers when asked the wrong thing must not use one.
# The requests are kafka-python's protocol classes, sent on a plain socket.
import json
import socket
import struct
import sys
import time

from kafka.protocol.api import RequestHeader
from kafka.protocol.commit import (GroupCoordinatorRequest,
                                   GroupCoordinatorResponse,
                                   OffsetFetchRequest, OffsetFetchResponse)
from kafka.protocol.fetch import FetchRequest, FetchResponse
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords


def call(addr, req, resp_cls):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    hdr = RequestHeader(req, correlation_id=1, client_id="cl-raw")
    body = hdr.encode() + req.encode()
    s.sendall(struct.pack(">i", len(body)) + body)
    buf = b""
    while len(buf) < 4:
        buf += s.recv(4 - len(buf))
    (n,) = struct.unpack(">i", buf)
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("closed")
        data += chunk
    s.close()
    return resp_cls.decode(data[4:])


def meta(addr, topic=None):
    r = call(addr, MetadataRequest[5](
        topics=[topic] if topic else None, allow_auto_topic_creation=False),
        MetadataResponse[5])
    out = {"brokers": sorted([b[0], b[1], b[2]] for b in r.brokers),
           "controller": r.controller_id, "topics": {}}
    for terr, name, _internal, parts in r.topics:
        t = {"error": terr, "partitions": {}}
        for perr, p, leader, replicas, isr, offline in parts:
            t["partitions"][str(p)] = {
                "error": perr, "leader": leader, "replicas": list(replicas),
                "isr": list(isr), "offline": list(offline)}
        out["topics"][name] = t
    print(json.dumps(out, sort_keys=True))
    return 0


def produce(addr, topic, part):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0,
                                  is_transactional=False, producer_id=-1,
                                  producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    b.append(0, timestamp=int(time.time() * 1000), key=None,
             value=b"raw", headers=[])
    r = call(addr, ProduceRequest[3](
        transactional_id=None, required_acks=1, timeout=5000,
        topics=[(topic, [(int(part), bytes(b.build()))])]),
        ProduceResponse[3])
    p = r.topics[0][1][0]
    print("error %d offset %d" % (p[1], p[2]))
    return 0


def fetch(addr, topic, part):
    r = call(addr, FetchRequest[4](
        replica_id=-1, max_wait_time=0, min_bytes=0, max_bytes=1 << 20,
        isolation_level=0,
        topics=[(topic, [(int(part), 0, 1 << 20)])]), FetchResponse[4])
    p = r.topics[0][1][0]
    n = 0
    recs = MemoryRecords(p[-1]) if p[-1] else None
    while recs is not None and recs.has_next():
        batch = recs.next_batch()
        n += sum(1 for _ in batch)
    print("error %d records %d" % (p[1], n))
    return 0


def coord(addr, group):
    # v0: kafka-python's v1 response schema lacks throttle_time_ms
    r = call(addr, GroupCoordinatorRequest[0](consumer_group=group),
             GroupCoordinatorResponse[0])
    print("error %d node %d" % (r.error_code, r.coordinator_id))
    return 0


def offsetfetch(addr, group, topic):
    r = call(addr, OffsetFetchRequest[3](
        consumer_group=group, topics=[(topic, [0])]), OffsetFetchResponse[3])
    print("error %d" % r.error_code)
    return 0


CMDS = {"meta": meta, "produce": produce, "fetch": fetch, "coord": coord,
        "offsetfetch": offsetfetch}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in CMDS:
        sys.stderr.write("usage: 71-cluster-raw.py %s ADDR ...\n" %
                         "|".join(sorted(CMDS)))
        sys.exit(64)
    sys.exit(CMDS[sys.argv[1]](*sys.argv[2:]))
