#!/usr/bin/python3
# 13-kbroker-txnlog.py -- transactions on kbroker's partition side, over the wire
#
# usage: 13-kbroker-txnlog.py HOST:PORT CHECK [ARG]
# Transactional batches go in with Produce (kafka-python's batch
# builder), markers with WriteTxnMarkers (API 27, encoded here, v0 and
# v1), and Fetch / ListOffsets with isolation_level show the last stable
# offset and the aborted transactions. Each check prints what it saw and
# exits 0 when kbroker behaved as KIP-98 says, 1 otherwise.
import socket
import struct
import sys
import threading
import time

from kafka.protocol.api import RequestHeader
from kafka.protocol.fetch import FetchRequest, FetchResponse
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.offset import OffsetRequest, OffsetResponse
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record.default_records import DefaultRecordBatchBuilder

TIMEOUT = 20
BATCH_HDR = struct.Struct(">qiibIhiqqqhii")


class Conn:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        self.corr = 0

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def recv_frame(self):
        (n,) = struct.unpack(">i", self.recv_exact(4))
        return self.recv_exact(n)

    def call(self, req, resp_cls):
        self.corr += 1
        hdr = RequestHeader(req, correlation_id=self.corr, client_id="t13")
        body = hdr.encode() + req.encode()
        self.s.sendall(struct.pack(">i", len(body)) + body)
        data = self.recv_frame()
        (corr,) = struct.unpack(">i", data[:4])
        assert corr == self.corr
        return resp_cls.decode(data[4:])

    def call_raw(self, body):
        """body starts after the size; returns the response after corr."""
        self.s.sendall(struct.pack(">i", len(body)) + body)
        return self.recv_frame()


def create(c, topic):
    c.call(MetadataRequest[4](topics=[topic], allow_auto_topic_creation=True),
           MetadataResponse[4])


def batch(values, pid=-1, epoch=-1, seq=-1, txn=False):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0,
                                  is_transactional=txn, producer_id=pid,
                                  producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 20)
    now = int(time.time() * 1000)
    for i, v in enumerate(values):
        b.append(i, timestamp=now, key=None, value=v, headers=[])
    return bytearray(b.build())


def produce(c, topic, records, part=0):
    r = c.call(ProduceRequest[3](transactional_id=None, required_acks=-1,
                                 timeout=5000,
                                 topics=[(topic, [(part, bytes(records))])]),
               ProduceResponse[3])
    p = r.topics[0][1][0]
    return p[1], p[2]


def walk(recs):
    """[(base, last, control, transactional, pid)] of the batches."""
    out, pos = [], 0
    while pos + 61 <= len(recs):
        h = BATCH_HDR.unpack_from(recs, pos)
        base, blen, attrs, last_delta, pid = h[0], h[1], h[5], h[6], h[9]
        if pos + 12 + blen > len(recs):
            break
        out.append((base, base + last_delta, bool(attrs & 0x20),
                    bool(attrs & 0x10), pid))
        pos += 12 + blen
    return out


def fetch(c, topic, offset, iso, part=0, wait=0, min_bytes=0, version=4):
    r = c.call(FetchRequest[version](replica_id=-1, max_wait_time=wait,
                                     min_bytes=min_bytes, max_bytes=1 << 20,
                                     isolation_level=iso,
                                     topics=[(topic, [(part, offset,
                                                       1 << 20)])]),
               FetchResponse[version])
    p = r.topics[0][1][0]
    return {"err": p[1], "hw": p[2], "lso": p[3], "aborted": p[4],
            "batches": walk(p[-1])}


def latest(c, topic, iso, part=0):
    r = c.call(OffsetRequest[2](replica_id=-1, isolation_level=iso,
                                topics=[(topic, [(part, -1)])]),
               OffsetResponse[2])
    p = r.topics[0][1][0]
    return p[1], p[3]


def s16(v):
    return struct.pack(">h", len(v)) + v.encode()


def uv(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def read_uv(d, pos):
    n = shift = 0
    while True:
        b = d[pos]
        pos += 1
        n |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return n, pos


def markers(c, marks, version=0):
    """marks: [(pid, epoch, commit, coord_epoch, [(topic, [parts])])];
    returns [(pid, [(topic, [(part, error)])])]."""
    c.corr += 1
    flex = version >= 1
    body = struct.pack(">hhi", 27, version, c.corr) + s16("t13")
    if flex:
        body += b"\0"
        body += uv(len(marks) + 1)
    else:
        body += struct.pack(">i", len(marks))
    for pid, epoch, commit, cepoch, topics in marks:
        body += struct.pack(">qh?", pid, epoch, commit)
        body += uv(len(topics) + 1) if flex else \
            struct.pack(">i", len(topics))
        for t, parts in topics:
            if flex:
                body += uv(len(t) + 1) + t.encode() + uv(len(parts) + 1)
            else:
                body += s16(t) + struct.pack(">i", len(parts))
            body += b"".join(struct.pack(">i", p) for p in parts)
            if flex:
                body += b"\0"
        body += struct.pack(">i", cepoch)
        if flex:
            body += b"\0"
    if flex:
        body += b"\0"
    d = c.call_raw(body)
    (corr,) = struct.unpack_from(">i", d, 0)
    assert corr == c.corr
    pos = 4
    if flex:
        pos += 1                       # header tags
        n, pos = read_uv(d, pos)
        n -= 1
    else:
        (n,) = struct.unpack_from(">i", d, pos)
        pos += 4
    out = []
    for _ in range(n):
        (pid,) = struct.unpack_from(">q", d, pos)
        pos += 8
        if flex:
            nt, pos = read_uv(d, pos)
            nt -= 1
        else:
            (nt,) = struct.unpack_from(">i", d, pos)
            pos += 4
        topics = []
        for _ in range(nt):
            if flex:
                ln, pos = read_uv(d, pos)
                ln -= 1
            else:
                (ln,) = struct.unpack_from(">h", d, pos)
                pos += 2
            name = d[pos:pos + ln].decode()
            pos += ln
            if flex:
                npart, pos = read_uv(d, pos)
                npart -= 1
            else:
                (npart,) = struct.unpack_from(">i", d, pos)
                pos += 4
            parts = []
            for _ in range(npart):
                parts.append(struct.unpack_from(">ih", d, pos))
                pos += 6
                if flex:
                    pos += 1
            topics.append((name, parts))
            if flex:
                pos += 1
        out.append((pid, topics))
        if flex:
            pos += 1
    return out


def marker(c, topic, pid, epoch, commit, part=0, version=0):
    r = markers(c, [(pid, epoch, commit, 7, [(topic, [part])])], version)
    return r[0][1][0][1][0][1]


def offsets(f):
    return [(b[0], b[1]) for b in f["batches"]]


# ---- checks ----

def check_lso(addr):
    """An open transaction holds the LSO; a COMMIT releases it."""
    c = Conn(addr)
    create(c, "lso")
    e0, _ = produce(c, "lso", batch([b"a", b"b"]))
    e1, o1 = produce(c, "lso", batch([b"t1", b"t2"], 1000, 0, 0, True))
    e2, o2 = produce(c, "lso", batch([b"c"]))
    ru = fetch(c, "lso", 0, 0)
    rc = fetch(c, "lso", 0, 1)
    l0, l1 = latest(c, "lso", 0), latest(c, "lso", 1)
    print("produce", e0, e1, o1, e2, o2)
    print("uncommitted", ru)
    print("committed", rc)
    print("latest", l0, l1)
    ok = (e0, e1, o1, e2, o2) == (0, 0, 2, 0, 4)
    ok &= ru["lso"] == 2 and ru["hw"] == 5 and ru["aborted"] is None
    ok &= offsets(ru) == [(0, 1), (2, 3), (4, 4)]
    ok &= rc["lso"] == 2 and rc["hw"] == 5 and rc["aborted"] == []
    ok &= offsets(rc) == [(0, 1)]
    ok &= l0 == (0, 5) and l1 == (0, 2)
    err = marker(c, "lso", 1000, 0, True)
    rc = fetch(c, "lso", 0, 1)
    l1 = latest(c, "lso", 1)
    print("commit", err, "then", rc, l1)
    ok &= err == 0 and rc["lso"] == 6 and rc["hw"] == 6
    ok &= offsets(rc) == [(0, 1), (2, 3), (4, 4), (5, 5)]
    ok &= rc["batches"][-1][2:] == (True, True, 1000)
    ok &= rc["aborted"] == [] and l1 == (0, 6)
    return ok


def check_abort(addr):
    """Aborted transactions are listed for the ranges they overlap."""
    c = Conn(addr)
    create(c, "ab")
    produce(c, "ab", batch([b"x", b"y"], 2000, 0, 0, True))       # 0-1
    produce(c, "ab", batch([b"p"]))                               # 2
    produce(c, "ab", batch([b"z"], 2001, 3, 0, True))             # 3
    e1 = marker(c, "ab", 2000, 0, False)                          # 4
    r_open = fetch(c, "ab", 0, 1)
    e2 = marker(c, "ab", 2001, 3, False, version=1)               # 5
    produce(c, "ab", batch([b"q"], 2002, 0, 0, True))             # 6
    e3 = marker(c, "ab", 2002, 0, True)                           # 7
    produce(c, "ab", batch([b"r"]))                               # 8
    whole = fetch(c, "ab", 0, 1)
    mid = fetch(c, "ab", 5, 1)
    late = fetch(c, "ab", 6, 1)
    ru = fetch(c, "ab", 0, 0)
    print("markers", e1, e2, e3)
    print("while 2001 open", r_open)
    print("whole", whole)
    print("from 5", mid)
    print("from 6", late)
    ok = (e1, e2, e3) == (0, 0, 0)
    # 2000 aborted, 2001 still open from 3: committed reads stop at 3
    ok &= r_open["lso"] == 3 and offsets(r_open) == [(0, 1), (2, 2)]
    ok &= sorted(r_open["aborted"]) == [(2000, 0)]
    ok &= whole["lso"] == 9 and len(whole["batches"]) == 8
    ok &= sorted(whole["aborted"]) == [(2000, 0), (2001, 3)]
    ok &= mid["aborted"] == [(2001, 3)]      # its marker is at 5
    ok &= late["aborted"] == [] and offsets(late)[0] == (6, 6)
    ok &= ru["aborted"] is None and len(ru["batches"]) == 8
    return ok


def check_fence(addr):
    """A marker with a newer epoch fences the producer's older epoch."""
    c = Conn(addr)
    create(c, "fence")
    e0, _ = produce(c, "fence", batch([b"a"], 3000, 0, 0, True))
    e1 = marker(c, "fence", 3000, 1, False)
    e2, _ = produce(c, "fence", batch([b"b"], 3000, 0, 1, True))
    e3 = marker(c, "fence", 3000, 0, True)
    e4, o4 = produce(c, "fence", batch([b"c"], 3000, 1, 0, True))
    e5 = marker(c, "fence", 3000, 1, True)
    f = fetch(c, "fence", 0, 1)
    print("produce", e0, "fence marker", e1, "old produce", e2,
          "old marker", e3, "new produce", e4, o4, "commit", e5, f)
    return (e0, e1, e2, e3, e4, o4, e5) == (0, 0, 47, 47, 0, 2, 0) and \
        f["lso"] == 4 and f["aborted"] == [(3000, 0)]


def check_refused(addr):
    """Clients never write markers; a transaction needs a producer id;
    markers for what is not there are refused."""
    c = Conn(addr)
    create(c, "ref")
    ctl = batch([b"x"], 4000, 0, -1, True)
    struct.pack_into(">h", ctl, 21, 0x30)      # control | transactional
    ctl[17:21] = b"\0\0\0\0"                   # CRC no longer matters
    e0, _ = produce(c, "ref", ctl)
    e1, _ = produce(c, "ref", batch([b"y"], txn=True))
    r = markers(c, [(4001, 0, True, 0, [("ref", [0, 5]),
                                         ("no-such-topic", [0])])])
    end = latest(c, "ref", 0)
    print("control", e0, "non-idempotent txn", e1, "markers", r, "end", end)
    return e0 == 87 and e1 == 87 and end == (0, 1) and \
        r == [(4001, [("ref", [(0, 0), (5, 3)]),
                      ("no-such-topic", [(0, 3)])])]


def check_longpoll(addr):
    """A read_committed long poll wakes when a COMMIT moves the LSO."""
    c = Conn(addr)
    create(c, "lp")
    produce(c, "lp", batch([b"t"], 5000, 0, 0, True))
    res = {}

    def commit():
        time.sleep(0.5)
        d = Conn(addr)
        res["marker"] = marker(d, "lp", 5000, 0, True)

    th = threading.Thread(target=commit)
    t0 = time.monotonic()
    th.start()
    f = fetch(c, "lp", 0, 1, wait=15000, min_bytes=1)
    took = time.monotonic() - t0
    th.join()
    print("fetch", f, "marker", res, "after %.1f s" % took)
    # woken by the marker, long before the 15 s the fetch would wait
    return res.get("marker") == 0 and offsets(f) == [(0, 0), (1, 1)] and \
        took < 12


def check_restart_setup(addr):
    """Before a restart: an open transaction and an aborted one, over
    several segments so a roll's snapshot has one open."""
    c = Conn(addr)
    create(c, "rs")
    pad = b"p" * 300
    ok = produce(c, "rs", batch([pad]))[0] == 0                   # 0
    ok &= produce(c, "rs", batch([pad], 6000, 0, 0, True)) == (0, 1)
    for i in range(4):                                            # 2-5
        ok &= produce(c, "rs", batch([pad]))[0] == 0
    ok &= produce(c, "rs", batch([pad], 6001, 0, 0, True)) == (0, 6)
    ok &= marker(c, "rs", 6001, 0, False) == 0                    # 7
    ok &= produce(c, "rs", batch([pad]))[0] == 0                  # 8
    f = fetch(c, "rs", 0, 1)
    print("before restart", f)
    return ok and f["lso"] == 1 and f["hw"] == 9


def check_restart_verify(addr):
    """After the restart: the LSO is still held; committing releases it
    and the abort is still listed."""
    c = Conn(addr)
    f0 = fetch(c, "rs", 0, 1)
    l1 = latest(c, "rs", 1)
    old = produce(c, "rs", batch([b"late"], 6001, 0, 1, True))
    e = marker(c, "rs", 6000, 0, True)
    f1 = fetch(c, "rs", 0, 1)
    print("after restart", f0, l1, "old epoch txn produce", old,
          "commit", e, "then", f1)
    return f0["lso"] == 1 and f0["hw"] == 9 and l1 == (0, 1) and \
        old == (0, 9) and e == 0 and f1["lso"] == 9 and \
        sorted(f1["aborted"]) == [(6001, 6)]


def check_lso_is(addr, arg):
    """TOPIC:N -- the LSO of partition 0 is N (ListOffsets and Fetch)."""
    topic, want = arg.rsplit(":", 1)
    c = Conn(addr)
    l1 = latest(c, topic, 1)
    f = fetch(c, topic, int(want), 1)
    print("latest read_committed", l1, "fetch", f)
    return l1 == (0, int(want)) and f["lso"] == int(want)


CHECKS = {
    "lso": check_lso,
    "abort": check_abort,
    "fence": check_fence,
    "refused": check_refused,
    "longpoll": check_longpoll,
    "restart-setup": check_restart_setup,
    "restart-verify": check_restart_verify,
    "lso-is": check_lso_is,
}

if __name__ == "__main__":
    ok = CHECKS[sys.argv[2]](sys.argv[1], *sys.argv[3:])
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)
