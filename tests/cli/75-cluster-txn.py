#!/usr/bin/python3
# 75-cluster-txn.py -- confluent-kafka transactions against a kbroker cluster
#
# usage: 75-cluster-txn.py COMMAND BOOTSTRAP ARGS...
#   two BOOT TID TOPIC NPARTS      one transaction committed (c0..),
#                                  one aborted (a0..), a record per
#                                  partition each; "committed", "aborted"
#   read BOOT TOPIC N ISOLATION    the first N values (sorted, one line),
#                                  read_committed or read_uncommitted;
#                                  stops after 20 s of nothing new
#   survive BOOT TID TOPIC DIR     commit t1-*, write DIR/t1, wait for
#                                  DIR/go, then (same producer, new
#                                  coordinator) commit t2-*; "t2 committed"
#   hang BOOT TID TOPIC TIMEOUT_MS open a transaction, produce open-*,
#                                  flush, print "open", then sleep (the
#                                  test SIGKILLs it)
#   cxp BOOT TID IN OUT GROUP N    consume N records of IN in group GROUP,
#                                  produce them to OUT and commit the
#                                  group's offsets in the transaction
#                                  (send_offsets_to_transaction);
#                                  "committed N"
#   committed BOOT GROUP TOPIC NPARTS   the group's committed offsets, "p:o ..."
#   staterec ADDR NPARTS TID PID EPOCH STATE T:P...   a __transaction_state
#                                  record (acks=all) appended by hand to
#                                  the id's partition of NPARTS at ADDR,
#                                  its leader: a coordinator that died
#                                  between two steps; "error E"
import os
import socket
import struct
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def producer(boot, tid, **extra):
    conf = {"bootstrap.servers": boot, "transactional.id": tid,
            "enable.idempotence": True, "acks": "all",
            "message.timeout.ms": 60000}
    conf.update(extra)
    if "transaction.timeout.ms" in extra:
        conf["message.timeout.ms"] = extra["transaction.timeout.ms"]
    p = Producer(conf)
    p.init_transactions(60)
    return p


def produce_all(p, topic, nparts, prefix):
    for i in range(nparts):
        p.produce(topic, value=("%s%d" % (prefix, i)).encode(), partition=i)
    p.flush(30)


def cmd_two(boot, tid, topic, nparts):
    p = producer(boot, tid)
    nparts = int(nparts)
    p.begin_transaction()
    produce_all(p, topic, nparts, "c")
    p.commit_transaction(60)
    print("committed")
    p.begin_transaction()
    produce_all(p, topic, nparts, "a")
    p.abort_transaction(60)
    print("aborted")


def cmd_read(boot, topic, n, isolation):
    c = Consumer({"bootstrap.servers": boot, "group.id": "r%d" % os.getpid(),
                  "auto.offset.reset": "earliest",
                  "enable.auto.commit": False,
                  "isolation.level": isolation})
    c.subscribe([topic])
    got, last = [], time.time()
    while len(got) < int(n) and time.time() - last < 20:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got.append(m.value().decode())
        last = time.time()
    c.close()
    print(" ".join(sorted(got)))


def wait_file(path, secs):
    end = time.time() + secs
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.1)
    return False


def cmd_survive(boot, tid, topic, d):
    p = producer(boot, tid)
    p.begin_transaction()
    produce_all(p, topic, 3, "t1-")
    p.commit_transaction(60)
    open(os.path.join(d, "t1"), "w").close()
    if not wait_file(os.path.join(d, "go"), 60):
        print("no go")
        return
    p.begin_transaction()
    produce_all(p, topic, 3, "t2-")
    p.commit_transaction(90)
    print("t2 committed")


def cmd_hang(boot, tid, topic, timeout_ms):
    p = producer(boot, tid, **{"transaction.timeout.ms": int(timeout_ms)})
    p.begin_transaction()
    produce_all(p, topic, 3, "open-")
    print("open", flush=True)
    time.sleep(120)


def cmd_cxp(boot, tid, src, dst, group, n):
    c = Consumer({"bootstrap.servers": boot, "group.id": group,
                  "auto.offset.reset": "earliest",
                  "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    c.subscribe([src])
    p = producer(boot, tid)
    p.begin_transaction()
    got, end = 0, time.time() + 40
    while got < int(n) and time.time() < end:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        p.produce(dst, value=b"out-" + m.value(), partition=m.partition())
        got += 1
    p.flush(30)
    p.send_offsets_to_transaction(c.position(c.assignment()),
                                  c.consumer_group_metadata(), 60)
    p.commit_transaction(60)
    c.close()
    print("committed %d" % got)


def cmd_committed(boot, group, topic, nparts):
    c = Consumer({"bootstrap.servers": boot, "group.id": group,
                  "enable.auto.commit": False})
    tps = [TopicPartition(topic, i) for i in range(int(nparts))]
    offs = c.committed(tps, 30)
    c.close()
    print(" ".join("%d:%d" % (tp.partition, tp.offset) for tp in offs))


def java_hash(s):
    b, h = s.encode("utf-16-be"), 0
    for i in range(0, len(b), 2):
        h = (31 * h + int.from_bytes(b[i:i + 2], "big")) & 0xffffffff
    return h


def s16(v):
    b = v.encode()
    return struct.pack(">h", len(b)) + b


def cmd_staterec(addr, nparts, tid, pid, epoch, state, *tps):
    from kafka.protocol.api import RequestHeader
    from kafka.protocol.produce import ProduceRequest, ProduceResponse
    from kafka.record.default_records import DefaultRecordBatchBuilder
    states = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort",
              "CompleteCommit", "CompleteAbort"]
    topics = {}
    for tp in tps:
        t, p = tp.rsplit(":", 1)
        topics.setdefault(t, []).append(int(p))
    now = int(time.time() * 1000)
    key = struct.pack(">h", 0) + s16(tid)
    val = struct.pack(">hqhib", 0, int(pid), int(epoch), 60000,
                      states.index(state)) + struct.pack(">i", len(topics))
    for t, ps in topics.items():
        val += s16(t) + struct.pack(">i", len(ps))
        val += b"".join(struct.pack(">i", p) for p in ps)
    val += struct.pack(">qq", now, now)
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0,
                                  is_transactional=False, producer_id=-1,
                                  producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    b.append(0, timestamp=now, key=key, value=val, headers=[])
    part = (java_hash(tid) & 0x7fffffff) % int(nparts)
    req = ProduceRequest[3](transactional_id=None, required_acks=-1,
                            timeout=10000,
                            topics=[("__transaction_state",
                                     [(part, bytes(b.build()))])])
    host, port = addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=20)
    hdr = RequestHeader(req, correlation_id=1, client_id="t")
    body = hdr.encode() + req.encode()
    sock.sendall(struct.pack(">i", len(body)) + body)
    buf = b""
    while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
        d = sock.recv(65536)
        if not d:
            break
        buf += d
    r = ProduceResponse[3].decode(buf[8:])
    print("error %d" % r.topics[0][1][0][1])


def main():
    cmds = {"two": cmd_two, "read": cmd_read, "survive": cmd_survive,
            "hang": cmd_hang, "cxp": cmd_cxp, "committed": cmd_committed,
            "staterec": cmd_staterec}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit("usage: 75-cluster-txn.py COMMAND BOOTSTRAP ARGS...")
    cmds[sys.argv[1]](*sys.argv[2:])


main()
