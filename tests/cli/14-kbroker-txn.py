#!/usr/bin/python3
# 14-kbroker-txn.py -- raw transaction coordinator requests to a kbroker
#
# usage: 14-kbroker-txn.py COMMAND HOST:PORT ARGS... [v=VERSION]
#   coord ADDR ID                      "error E node N" [+ "message M"]
#                                      (FindCoordinator v1, key_type 1)
#   init ADDR ID TIMEOUT [PID EPOCH]   "error E pid P epoch X"  (InitProducerId)
#   add ADDR ID PID EPOCH T:P...       "T-P E" per partition  (AddPartitionsToTxn)
#   offsets ADDR ID PID EPOCH GROUP    "error E"  (AddOffsetsToTxn)
#   end ADDR ID PID EPOCH commit|abort "error E"  (EndTxn)
#   txncommit ADDR ID PID EPOCH GROUP T P OFFSET   "T-P E"  (TxnOffsetCommit)
#   describe ADDR ID                   "error E state S pid P epoch X timeout T parts T-P,..."
#   list ADDR [STATE...]               "ID STATE" per id, "unknown S" per bad filter
#   produce ADDR T P PID EPOCH SEQ VALUE   "error E offset O" (a transactional batch)
#   staterec ADDR ID PID EPOCH STATE T:P...  "error E" (a __transaction_state
#                                      record appended by hand: a coordinator
#                                      that stopped between two writes)
#   offsetfetch ADDR GROUP T P         "offset O"
#   fetch ADDR T P ISOLATION           "lso L values V,..." (Fetch v4 from 0)
#   markers ADDR PID EPOCH CEPOCH commit|abort T:P...  "T-P E" per partition
#                                      (WriteTxnMarkers v0, as a coordinator
#                                      at coordinator epoch CEPOCH sends it)
# Requests are encoded here (kafka-python 2.0.2 has no transaction
# classes) and sent on a plain socket; versions are the lowest a client
# uses unless v=N says otherwise.
import socket
import struct
import sys
import time

from kafka.protocol.api import RequestHeader
from kafka.protocol.commit import OffsetFetchRequest, OffsetFetchResponse
from kafka.protocol.fetch import FetchRequest, FetchResponse
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

API = {"find_coordinator": 10, "init": 22, "add": 24, "offsets": 25,
       "end": 26, "txncommit": 28, "describe": 65, "list": 66}
STATES = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort",
          "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"]


def java_hash(s):
    b, h = s.encode("utf-16-be"), 0
    for i in range(0, len(b), 2):
        h = (31 * h + int.from_bytes(b[i:i + 2], "big")) & 0xffffffff
    return h


# ---- encoding ----

def s16(v):
    if v is None:
        return struct.pack(">h", -1)
    b = v.encode()
    return struct.pack(">h", len(b)) + b


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7f) | 0x80])
        n >>= 7
    return out + bytes([n])


def cstr(v):
    if v is None:
        return uvarint(0)
    b = v.encode()
    return uvarint(len(b) + 1) + b


def carr(items):
    return uvarint(len(items) + 1) + b"".join(items)


TAGS = b"\x00"


class Reader:
    def __init__(self, data):
        self.d, self.o = data, 0

    def take(self, n):
        v = self.d[self.o:self.o + n]
        if len(v) != n:
            raise ValueError("short response")
        self.o += n
        return v

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def s16(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def uvarint(self):
        n, shift = 0, 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                return n

    def cstr(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def carr(self, fn):
        n = self.uvarint()
        return [] if n == 0 else [fn() for _ in range(n - 1)]

    def arr(self, fn):
        n = self.i32()
        return [] if n < 0 else [fn() for _ in range(n)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def connect(addr):
    host, port = addr.rsplit(":", 1)
    # an answer held for the ISR comes after up to 15 s
    return socket.create_connection((host, int(port)), timeout=30)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            raise EOFError("connection closed")
        buf += c
    return buf


def call(addr, key, ver, body, flexible):
    s = connect(addr)
    hdr = struct.pack(">hhi", key, ver, 7) + s16("txn-raw")
    if flexible:
        hdr += TAGS
    s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
    (n,) = struct.unpack(">i", recv_exact(s, 4))
    r = Reader(recv_exact(s, n))
    s.close()
    if r.i32() != 7:
        raise ValueError("correlation id")
    if flexible:
        r.tags()
    return r


def kp_call(addr, req, resp_cls):
    s = connect(addr)
    hdr = RequestHeader(req, correlation_id=1, client_id="txn-raw")
    body = hdr.encode() + req.encode()
    s.sendall(struct.pack(">i", len(body)) + body)
    (n,) = struct.unpack(">i", recv_exact(s, 4))
    data = recv_exact(s, n)
    s.close()
    return resp_cls.decode(data[4:])


def parts_of(args):
    out = []
    for a in args:
        t, p = a.rsplit(":", 1)
        out.append((t, int(p)))
    return out


# ---- commands ----

def cmd_coord(addr, ver, tid):
    r = call(addr, 10, 1, s16(tid) + struct.pack(">b", 1), False)
    r.i32()
    err = r.i16()
    msg = r.s16()
    print("error %d node %d" % (err, r.i32()))
    if msg:
        print("message %s" % msg)


def cmd_init(addr, ver, tid, timeout, pid="-1", epoch="-1"):
    ver = 1 if ver is None else ver
    flex = ver >= 2
    body = (cstr(tid) if flex else s16(tid)) + struct.pack(">i", int(timeout))
    if ver >= 3:
        body += struct.pack(">qh", int(pid), int(epoch))
    if flex:
        body += TAGS
    r = call(addr, 22, ver, body, flex)
    r.i32()
    err = r.i16()
    print("error %d pid %d epoch %d" % (err, r.i64(), r.i16()))


def print_parts(r, flex):
    """[name, [partition, error]] after throttle_time_ms: "T-P E" each"""
    r.i32()
    if flex:
        def part():
            p, e = r.i32(), r.i16()
            r.tags()
            return p, e

        def topic():
            t, res = r.cstr(), r.carr(part)
            r.tags()
            return t, res
        topics = r.carr(topic)
    else:
        topics = r.arr(lambda: (r.s16(),
                                r.arr(lambda: (r.i32(), r.i16()))))
    for t, res in topics:
        for p, e in res:
            print("%s-%d %d" % (t, p, e))


def cmd_add(addr, ver, tid, pid, epoch, *tps):
    ver = 0 if ver is None else ver
    flex = ver >= 3
    topics = {}
    for t, p in parts_of(tps):
        topics.setdefault(t, []).append(p)
    ids = struct.pack(">qh", int(pid), int(epoch))
    if flex:
        body = cstr(tid) + ids + carr([
            cstr(t) + carr([struct.pack(">i", p) for p in ps]) + TAGS
            for t, ps in topics.items()]) + TAGS
    else:
        body = s16(tid) + ids + struct.pack(">i", len(topics))
        for t, ps in topics.items():
            body += s16(t) + struct.pack(">i", len(ps))
            body += b"".join(struct.pack(">i", p) for p in ps)
    print_parts(call(addr, 24, ver, body, flex), flex)


def cmd_offsets(addr, ver, tid, pid, epoch, group):
    ver = 0 if ver is None else ver
    body = s16(tid) + struct.pack(">qh", int(pid), int(epoch)) + s16(group)
    r = call(addr, 25, ver, body, False)
    r.i32()
    print("error %d" % r.i16())


def cmd_end(addr, ver, tid, pid, epoch, what):
    ver = 1 if ver is None else ver
    body = s16(tid) + struct.pack(">qhb", int(pid), int(epoch),
                                  1 if what == "commit" else 0)
    r = call(addr, 26, ver, body, False)
    r.i32()
    print("error %d" % r.i16())


def cmd_txncommit(addr, ver, tid, pid, epoch, group, topic, part, offset):
    ver = 2 if ver is None else ver
    flex = ver >= 3
    ids = struct.pack(">qh", int(pid), int(epoch))
    po = struct.pack(">iq", int(part), int(offset))
    if ver >= 2:
        po += struct.pack(">i", -1)
    if flex:
        # generation -1, member "", no instance id: a producer outside
        # the group, as send_offsets_to_transaction without metadata
        body = cstr(tid) + cstr(group) + ids + struct.pack(">i", -1)
        body += cstr("") + cstr(None)
        body += carr([cstr(topic) + carr([po + cstr("") + TAGS]) + TAGS])
        body += TAGS
    else:
        body = s16(tid) + s16(group) + ids + struct.pack(">i", 1)
        body += s16(topic) + struct.pack(">i", 1) + po + s16("")
    print_parts(call(addr, 28, ver, body, flex), flex)


def cmd_describe(addr, ver, tid):
    r = call(addr, 65, 0, carr([cstr(tid)]) + TAGS, True)
    r.i32()

    def topic():
        t = r.cstr()
        ps = r.carr(r.i32)
        r.tags()
        return t, ps

    def state():
        err, t, st, to = r.i16(), r.cstr(), r.cstr(), r.i32()
        r.i64()
        pid, epoch = r.i64(), r.i16()
        tps = r.carr(topic)
        r.tags()
        parts = ",".join("%s-%d" % (t, p) for t, ps in tps for p in ps)
        return "error %d state %s pid %d epoch %d timeout %d parts %s" % (
            err, st or "-", pid, epoch, to, parts or "-")
    for line in r.carr(state):
        print(line)


def cmd_list(addr, ver, *states):
    body = carr([cstr(s) for s in states]) + carr([]) + TAGS
    r = call(addr, 66, 0, body, True)
    r.i32()
    err = r.i16()
    for u in r.carr(r.cstr):
        print("unknown %s" % u)

    def one():
        tid, pid, st = r.cstr(), r.i64(), r.cstr()
        r.tags()
        return tid, st
    for tid, st in sorted(r.carr(one)):
        print("%s %s" % (tid, st))
    print("error %d" % err)


def cmd_produce(addr, ver, topic, part, pid, epoch, seq, value):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0,
                                  is_transactional=True,
                                  producer_id=int(pid),
                                  producer_epoch=int(epoch),
                                  base_sequence=int(seq), batch_size=1 << 20)
    b.append(0, timestamp=int(time.time() * 1000), key=None,
             value=value.encode(), headers=[])
    req = ProduceRequest[3](transactional_id=None, required_acks=-1,
                            timeout=5000,
                            topics=[(topic, [(int(part), bytes(b.build()))])])
    p = kp_call(addr, req, ProduceResponse[3]).topics[0][1][0]
    print("error %d offset %d" % (p[1], p[2]))


def cmd_staterec(addr, ver, tid, pid, epoch, state, *tps):
    topics = {}
    for t, p in parts_of(tps):
        topics.setdefault(t, []).append(p)
    now = int(time.time() * 1000)
    key = struct.pack(">h", 0) + s16(tid)
    val = struct.pack(">hqhib", 0, int(pid), int(epoch), 60000,
                      STATES.index(state))
    val += struct.pack(">i", len(topics))
    for t, ps in topics.items():
        val += s16(t) + struct.pack(">i", len(ps))
        val += b"".join(struct.pack(">i", p) for p in ps)
    val += struct.pack(">qq", now, now)
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0,
                                  is_transactional=False, producer_id=-1,
                                  producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    b.append(0, timestamp=now, key=key, value=val, headers=[])
    part = (java_hash(tid) & 0x7fffffff) % 50
    req = ProduceRequest[3](transactional_id=None, required_acks=-1,
                            timeout=5000,
                            topics=[("__transaction_state",
                                     [(part, bytes(b.build()))])])
    p = kp_call(addr, req, ProduceResponse[3]).topics[0][1][0]
    print("error %d" % p[1])


def cmd_offsetfetch(addr, ver, group, topic, part):
    req = OffsetFetchRequest[1](group, [(topic, [int(part)])])
    resp = kp_call(addr, req, OffsetFetchResponse[1])
    print("offset %d" % resp.topics[0][1][0][1])


def cmd_fetch(addr, ver, topic, part, isolation):
    req = FetchRequest[4](-1, 100, 1, 1 << 20, int(isolation),
                          [(topic, [(int(part), 0, 1 << 20)])])
    resp = kp_call(addr, req, FetchResponse[4])
    # (partition, error, hw, lso, aborted [(pid, first)], records)
    p = resp.topics[0][1][0]
    aborted = sorted((first, pid) for pid, first in (p[4] or []))
    active, vals = set(), []
    recs = MemoryRecords(p[5]) if p[5] else None
    # What a read_committed consumer does with the aborted list.
    while recs is not None and recs.has_next():
        batch = recs.next_batch()
        pid = struct.unpack_from(">q", bytes(batch._buffer[43:51]))[0]
        while aborted and aborted[0][0] <= batch.base_offset:
            active.add(aborted.pop(0)[1])
        if batch.is_control_batch:
            active.discard(pid)
            continue
        if batch.is_transactional and pid in active:
            continue
        vals += [r.value.decode() for r in batch]
    print("lso %d values %s" % (p[3], ",".join(vals) or "-"))


def cmd_markers(addr, ver, pid, epoch, cepoch, what, *tps):
    topics = {}
    for t, p in parts_of(tps):
        topics.setdefault(t, []).append(p)
    body = struct.pack(">iqhbi", 1, int(pid), int(epoch),
                       1 if what == "commit" else 0, len(topics))
    for t, ps in topics.items():
        body += s16(t) + struct.pack(">i", len(ps))
        body += b"".join(struct.pack(">i", p) for p in ps)
    body += struct.pack(">i", int(cepoch))
    r = call(addr, 27, 0, body, False)

    def marker():
        r.i64()
        return r.arr(lambda: (r.s16(), r.arr(lambda: (r.i32(), r.i16()))))
    for res in r.arr(marker):
        for t, ps in res:
            for p, e in ps:
                print("%s-%d %d" % (t, p, e))


def main():
    args = sys.argv[1:]
    ver = None
    for a in list(args):
        if a.startswith("v="):
            ver = int(a[2:])
            args.remove(a)
    cmd = args.pop(0)
    globals()["cmd_" + cmd](args[0], ver, *args[1:])


if __name__ == "__main__":
    main()
