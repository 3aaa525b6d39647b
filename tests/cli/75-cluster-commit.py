#!/usr/bin/python3
# 75-cluster-commit.py -- raw OffsetCommit/OffsetFetch/ListOffsets to ONE chosen broker
#
# usage: 75-cluster-commit.py COMMAND HOST:PORT ARGS...
#   commit ADDR GROUP TOPIC OFFSET [VERSION]
#                        "error E" per partition: a simple (generation -1)
#                        commit of OFFSET for partitions 0 and 1 of TOPIC,
#                        OffsetCommit v2 or v3 (default); the answer may
#                        take a while (the broker waits for its ISR)
#   fetch ADDR GROUP TOPIC    "offset O" (OffsetFetch v1, partition 0)
#   latest ADDR TOPIC         "error E offset O": ListOffsets v2, latest,
#                        read_uncommitted: the high watermark
# Clients retry and reroute by themselves; these show what ONE broker
# answers, and when. The requests are kafka-python's protocol classes,
# sent on a plain socket.
import socket
import struct
import sys

from kafka.protocol.api import RequestHeader
from kafka.protocol.commit import (OffsetCommitRequest, OffsetCommitResponse,
                                   OffsetFetchRequest, OffsetFetchResponse)
from kafka.protocol.offset import OffsetRequest, OffsetResponse


def call(addr, req, resp_cls):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=20)
    hdr = RequestHeader(req, correlation_id=7, client_id="cl-commit")
    body = hdr.encode() + req.encode()
    s.sendall(struct.pack(">i", len(body)) + body)
    buf = b""
    while len(buf) < 4:
        chunk = s.recv(4 - len(buf))
        if not chunk:
            raise EOFError("closed")
        buf += chunk
    (n,) = struct.unpack(">i", buf)
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("closed")
        data += chunk
    s.close()
    return resp_cls.decode(data[4:])


def commit(addr, group, topic, offset, version="3"):
    v = int(version)
    r = call(addr, OffsetCommitRequest[v](
        consumer_group=group, consumer_group_generation_id=-1,
        consumer_id="", retention_time=-1,
        topics=[(topic, [(0, int(offset), ""), (1, int(offset), "")])]),
        OffsetCommitResponse[v])
    for _name, parts in r.topics:
        for _p, err in parts:
            print("error %d" % err)
    return 0


def fetch(addr, group, topic):
    r = call(addr, OffsetFetchRequest[1](
        consumer_group=group, topics=[(topic, [0])]), OffsetFetchResponse[1])
    print("offset %d" % r.topics[0][1][0][1])
    return 0


def latest(addr, topic):
    r = call(addr, OffsetRequest[2](
        replica_id=-1, isolation_level=0, topics=[(topic, [(0, -1)])]),
        OffsetResponse[2])
    _p, err, _ts, off = r.topics[0][1][0]
    print("error %d offset %d" % (err, off))
    return 0


CMDS = {"commit": commit, "fetch": fetch, "latest": latest}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in CMDS:
        sys.stderr.write("usage: 75-cluster-commit.py %s ADDR ...\n" %
                         "|".join(sorted(CMDS)))
        sys.exit(64)
    sys.exit(CMDS[sys.argv[1]](*sys.argv[2:]))
