#!/usr/bin/python3
# kb_raw.py -- raw Kafka protocol checks against a running kbroker
#
# usage: kb_raw.py HOST:PORT CHECK
# Each check prints what it saw and exits 0 when kbroker behaved as the
# protocol requires, 1 otherwise. Requests are encoded with kafka-python's
# protocol classes so the bytes are a real client's, sent on a plain socket
# so the test controls pipelining, acks=0 and malformed input.
import socket
import struct
import sys
import threading
import time

from kafka.protocol.api import RequestHeader
from kafka.protocol.admin import ApiVersionRequest, ApiVersionResponse
from kafka.protocol.fetch import FetchRequest, FetchResponse
from kafka.protocol.offset import OffsetRequest, OffsetResponse
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

TIMEOUT = 10


def connect(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    return s


def frame(req, corr):
    hdr = RequestHeader(req, correlation_id=corr, client_id="kb-raw")
    body = hdr.encode() + req.encode()
    return struct.pack(">i", len(body)) + body


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" %
                           (len(buf), n))
        buf += chunk
    return buf


def recv_frame(s):
    (n,) = struct.unpack(">i", recv_exact(s, 4))
    return recv_exact(s, n)


def recv_resp(s, resp_cls):
    data = recv_frame(s)
    (corr,) = struct.unpack(">i", data[:4])
    return corr, resp_cls.decode(data[4:])


def closed(s):
    """True when the peer closes the connection within TIMEOUT."""
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def batch(values, pid=-1, epoch=-1, seq=-1, ts=None):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0,
                                  is_transactional=False, producer_id=pid,
                                  producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 20)
    now = int(time.time() * 1000) if ts is None else ts
    for i, v in enumerate(values):
        b.append(i, timestamp=now, key=None, value=v, headers=[])
    return bytes(b.build())


def produce(topic, records, acks=-1, part=0):
    return ProduceRequest[3](transactional_id=None, required_acks=acks,
                             timeout=5000,
                             topics=[(topic, [(part, records)])])


def produce_result(resp):
    # ((topic, [(partition, error, base_offset, append_time, ...)]),)
    p = resp.topics[0][1][0]
    return p[1], p[2]


def meta_create(s, topic, corr):
    s.sendall(frame(MetadataRequest[4](topics=[topic],
                                       allow_auto_topic_creation=True), corr))
    _, m = recv_resp(s, MetadataResponse[4])
    return m


def check_apiversions_too_new(addr):
    s = connect(addr)
    req = ApiVersionRequest[0]()
    # Same bytes as v0 but claiming version 9 in the header.
    body = struct.pack(">hhih", 18, 9, 7, 6) + b"kb-raw"
    s.sendall(struct.pack(">i", len(body)) + body)
    data = recv_frame(s)
    corr, err, n = struct.unpack(">ihi", data[:10])
    key, vmin, vmax = struct.unpack(">hhh", data[10:16])
    print("corr", corr, "error", err, "entries", n, key, vmin, vmax)
    del req
    return corr == 7 and err == 35 and n == 1 and key == 18 and \
        vmin == 0 and vmax >= 3 and len(data) == 16


def check_apiversions(addr):
    s = connect(addr)
    s.sendall(frame(ApiVersionRequest[0](), 1))
    _, r = recv_resp(s, ApiVersionResponse[0])
    keys = {k: (lo, hi) for k, lo, hi in r.api_versions}
    print("error", r.error_code, "keys", sorted(keys.items()))
    want = {0: (0, 7), 1: (4, 11), 2: (1, 5), 3: (0, 8), 18: (0, 3),
            19: (0, 4), 20: (0, 3), 22: (0, 4), 32: (0, 2),
            24: (0, 3), 25: (0, 3), 26: (0, 3), 28: (0, 3)}
    ok = r.error_code == 0 and all(keys.get(k) == v for k, v in want.items())
    # Nothing without a handler: no SASL, no ACLs.
    return ok and not any(k in keys for k in (17, 29, 36))


def check_unknown_api(addr):
    s = connect(addr)
    body = struct.pack(">hhih", 29, 0, 1, 6) + b"kb-raw"   # DescribeAcls
    s.sendall(struct.pack(">i", len(body)) + body)
    ok = closed(s)
    # Everyone else is still served.
    t = connect(addr)
    t.sendall(frame(ApiVersionRequest[0](), 2))
    corr, r = recv_resp(t, ApiVersionResponse[0])
    print("closed", ok, "other client corr", corr)
    return ok and corr == 2 and r.error_code == 0


def check_oversized(addr):
    s = connect(addr)
    s.sendall(struct.pack(">i", 1 << 20) + b"\0" * 1024)
    ok = closed(s)
    print("oversized frame closed:", ok)
    return ok


def check_garbage(addr):
    for junk in (b"\xff\xff\xff\xff", b"\x00\x00\x00\x02\x00",
                 b"\x00\x00\x00\x08" + b"\x00\x03\x00\x04\xff\xff\xff\xff",
                 struct.pack(">i", 40) + struct.pack(">hhih", 0, 7, 1, -1) +
                 b"\x7f" * 30):
        s = connect(addr)
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        try:
            s.recv(100)
        except OSError:
            pass
        s.close()
    t = connect(addr)
    t.sendall(frame(ApiVersionRequest[0](), 5))
    corr, r = recv_resp(t, ApiVersionResponse[0])
    print("still serving after garbage, corr", corr)
    return corr == 5


def check_pipelined(addr):
    s = connect(addr)
    meta_create(s, "pipe", 1)
    reqs = b""
    for corr in range(10, 30):
        if corr % 3 == 0:
            reqs += frame(MetadataRequest[1](topics=None), corr)
        elif corr % 3 == 1:
            reqs += frame(produce("pipe", batch([b"x%d" % corr])), corr)
        else:
            reqs += frame(ApiVersionRequest[0](), corr)
    s.sendall(reqs)
    got = []
    for corr in range(10, 30):
        data = recv_frame(s)
        got.append(struct.unpack(">i", data[:4])[0])
    print("order", got)
    return got == list(range(10, 30))


def check_acks0(addr):
    s = connect(addr)
    meta_create(s, "acks0", 1)
    s.sendall(frame(produce("acks0", batch([b"a", b"b"]), acks=0), 2))
    s.sendall(frame(produce("acks0", batch([b"c"]), acks=1), 3))
    corr, r = recv_resp(s, ProduceResponse[3])
    err, off = produce_result(r)
    print("first response corr", corr, "error", err, "offset", off)
    # The acks=0 batch was written (offsets 0-1) but never answered.
    return corr == 3 and err == 0 and off == 2


def check_idempotent(addr):
    s = connect(addr)
    meta_create(s, "idem", 1)
    pid = 4242
    first = batch([b"one", b"two"], pid=pid, epoch=0, seq=0)
    s.sendall(frame(produce("idem", first), 2))
    _, r = recv_resp(s, ProduceResponse[3])
    e1, o1 = produce_result(r)
    s.sendall(frame(produce("idem", batch([b"three"], pid=pid, epoch=0,
                                          seq=2)), 3))
    _, r = recv_resp(s, ProduceResponse[3])
    e2, o2 = produce_result(r)
    # A retry of the first batch: success with the original offset.
    s.sendall(frame(produce("idem", first), 4))
    _, r = recv_resp(s, ProduceResponse[3])
    e3, o3 = produce_result(r)
    # A gap (sequence 7 after 2): OUT_OF_ORDER_SEQUENCE_NUMBER.
    s.sendall(frame(produce("idem", batch([b"gap"], pid=pid, epoch=0,
                                          seq=7)), 5))
    _, r = recv_resp(s, ProduceResponse[3])
    e4, _ = produce_result(r)
    # Corrupt batches are CORRUPT_MESSAGE whatever their sequence: a
    # retry of the first, and the next in order (nothing is recorded).
    bad = []
    for b in (first, batch([b"four"], pid=pid, epoch=0, seq=3)):
        b = bytearray(b)
        b[-1] ^= 0xff
        s.sendall(frame(produce("idem", bytes(b)), 6 + len(bad)))
        _, r = recv_resp(s, ProduceResponse[3])
        bad.append(produce_result(r)[0])
    print("first", e1, o1, "next", e2, o2, "dup", e3, o3, "gap", e4,
          "corrupt", bad)
    if bad != [2, 2]:
        return False
    if sys.argv[3:] == ["after-restart"]:
        return (e1, o1, e2, e3, o3, e4) == (0, 0, 0, 0, 0, 45) and o2 == 2
    return (e1, o1, e2, o2, e3, o3, e4) == (0, 0, 0, 2, 0, 0, 45)


def check_idempotent_restart(addr):
    """After a restart, a retry of the last batch is still a duplicate."""
    s = connect(addr)
    pid = 4242
    s.sendall(frame(produce("idem", batch([b"three"], pid=pid, epoch=0,
                                          seq=2)), 2))
    _, r = recv_resp(s, ProduceResponse[3])
    e, o = produce_result(r)
    s.sendall(frame(produce("idem", batch([b"four"], pid=pid, epoch=0,
                                          seq=3)), 3))
    _, r = recv_resp(s, ProduceResponse[3])
    e2, o2 = produce_result(r)
    print("retry after restart", e, o, "next", e2, o2)
    return (e, o, e2, o2) == (0, 2, 0, 3)


IDEM_FILL = 30          # batches of producer 4242 after one of EARLY
EARLY = 1 << 62         # far above the broker's clock-based id floor


def idem_send(s, pid, seq, corr, value=b"v"):
    s.sendall(frame(produce("idem", batch([value + b"." * 200], pid=pid,
                                          epoch=0, seq=seq)), corr))
    _, r = recv_resp(s, ProduceResponse[3])
    return produce_result(r)


def check_idem_fill(addr):
    """Producer EARLY writes once, then 4242 many batches over segments."""
    s = connect(addr)
    meta_create(s, "idem", 1)
    got = [idem_send(s, EARLY, 0, 2, b"early")]
    for seq in range(IDEM_FILL):
        got.append(idem_send(s, 4242, seq, 3 + seq, b"v%d" % seq))
    print("appended", got)
    return got == [(0, off) for off in range(IDEM_FILL + 1)]


def check_idem_after(addr):
    """
    After a restart both producers are still known: retries are
    duplicates with their first offsets, the next batch is in order, a
    gap is OUT_OF_ORDER_SEQUENCE_NUMBER. With "cut" the log lost its last
    batch while stopped, so that batch is new again. A new producer id is
    above every id the broker has seen.
    """
    s = connect(addr)
    cut = sys.argv[3:] == ["cut"]
    last = IDEM_FILL - (2 if cut else 1)    # last sequence in the log
    early = idem_send(s, EARLY, 0, 2, b"early")
    retry = idem_send(s, 4242, last, 3, b"v%d" % last)
    nxt = idem_send(s, 4242, last + 1, 4, b"v%d" % (last + 1))
    gap = idem_send(s, 4242, last + 5, 5)
    # InitProducerId v0: null transactional id, timeout
    body = struct.pack(">hhih", 22, 0, 6, 6) + b"kb-raw" + \
        struct.pack(">hi", -1, 60000)
    s.sendall(struct.pack(">i", len(body)) + body)
    _, _, err, pid, epoch = struct.unpack(">iihqh", recv_frame(s))
    print("early retry", early, "last retry", retry, "next", nxt, "gap",
          gap, "new producer", err, pid, epoch)
    return (early, retry, nxt, gap[0]) == \
        ((0, 0), (0, last + 1), (0, last + 2), 45) and \
        (err, pid, epoch) == (0, EARLY + 1, 0)


def check_bad_batch(addr):
    s = connect(addr)
    meta_create(s, "bad", 1)
    good = bytearray(batch([b"hello"]))
    good[-1] ^= 0xff            # breaks the CRC
    s.sendall(frame(produce("bad", bytes(good)), 2))
    _, r = recv_resp(s, ProduceResponse[3])
    e1, _ = produce_result(r)
    two = batch([b"a"]) + batch([b"b"])     # two batches: invalid at v3+
    s.sendall(frame(produce("bad", two), 3))
    _, r = recv_resp(s, ProduceResponse[3])
    e2, _ = produce_result(r)
    s.sendall(frame(produce("nosuchtopic", batch([b"x"])), 4))
    _, r = recv_resp(s, ProduceResponse[3])
    e3, _ = produce_result(r)
    s.sendall(frame(produce("bad", batch([b"ok"])), 5))
    _, r = recv_resp(s, ProduceResponse[3])
    e4, o4 = produce_result(r)
    print("crc", e1, "two batches", e2, "unknown", e3, "good", e4, o4)
    # Nothing of the bad requests was written: the good one is offset 0.
    return (e1, e2, e3, e4, o4) == (2, 87, 3, 0, 0)


def fetch_req(topic, offset, wait, min_bytes=1):
    return FetchRequest[4](replica_id=-1, max_wait_time=wait,
                           min_bytes=min_bytes, max_bytes=1 << 20,
                           isolation_level=0,
                           topics=[(topic, [(0, offset, 1 << 20)])])


def fetch_values(resp):
    p = resp.topics[0][1][0]
    err, hwm, recs = p[1], p[2], p[-1]
    out = []
    mr = MemoryRecords(recs)
    while mr.has_next():
        for rec in mr.next_batch():
            out.append(rec.value)
    return err, hwm, out


def check_long_poll(addr):
    s = connect(addr)
    meta_create(s, "lp", 1)
    result = {}

    def waiter():
        c = connect(addr)
        t0 = time.monotonic()
        c.sendall(frame(fetch_req("lp", 0, 20000), 9))
        _, r = recv_resp(c, FetchResponse[4])
        result["elapsed"] = time.monotonic() - t0
        result["fetch"] = fetch_values(r)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    s.sendall(frame(produce("lp", batch([b"wake"])), 2))
    recv_resp(s, ProduceResponse[3])
    th.join(25)
    print("long poll", result)
    # Answered because data came, long before max_wait (20 s) ran out.
    return result.get("fetch") == (0, 1, [b"wake"]) and \
        result["elapsed"] < 15


def check_long_poll_timeout(addr):
    s = connect(addr)
    meta_create(s, "lpt", 1)
    t0 = time.monotonic()
    s.sendall(frame(fetch_req("lpt", 0, 300), 2))
    # A request behind the waiting fetch is answered after it, in order.
    s.sendall(frame(ApiVersionRequest[0](), 3))
    corr, r = recv_resp(s, FetchResponse[4])
    waited = time.monotonic() - t0
    corr2 = struct.unpack(">i", recv_frame(s)[:4])[0]
    print("empty fetch after", round(waited, 3), "s; corr", corr, corr2)
    return fetch_values(r) == (0, 0, []) and waited >= 0.25 and \
        (corr, corr2) == (2, 3)


def check_out_of_range(addr):
    s = connect(addr)
    meta_create(s, "oor", 1)
    s.sendall(frame(produce("oor", batch([b"a", b"b"])), 2))
    recv_resp(s, ProduceResponse[3])
    s.sendall(frame(fetch_req("oor", 5, 0), 3))
    _, r = recv_resp(s, FetchResponse[4])
    err, hwm, vals = fetch_values(r)
    s.sendall(frame(fetch_req("oor", 1, 0), 4))
    _, r = recv_resp(s, FetchResponse[4])
    err2, hwm2, vals2 = fetch_values(r)
    print("offset 5:", err, hwm, "offset 1:", err2, hwm2, vals2)
    # A fetch inside a batch returns the whole batch; clients skip.
    return (err, hwm) == (1, 2) and (err2, hwm2) == (0, 2) and \
        vals2 == [b"a", b"b"]


def check_too_large(addr):
    # The broker runs with message.max.bytes=2000.
    s = connect(addr)
    meta_create(s, "large", 1)
    s.sendall(frame(produce("large", batch([b"x" * 3000])), 2))
    _, r = recv_resp(s, ProduceResponse[3])
    e1, _ = produce_result(r)
    s.sendall(frame(produce("large", batch([b"x" * 500])), 3))
    _, r = recv_resp(s, ProduceResponse[3])
    e2, o2 = produce_result(r)
    print("3000 bytes:", e1, "500 bytes:", e2, o2)
    return (e1, e2, o2) == (10, 0, 0)


def check_log_append_time(addr):
    # The broker runs with log.message.timestamp.type=LogAppendTime.
    s = connect(addr)
    meta_create(s, "lat", 1)
    before = int(time.time() * 1000)
    s.sendall(frame(ProduceRequest[3](
        transactional_id=None, required_acks=1, timeout=5000,
        topics=[("lat", [(0, batch([b"old"], ts=1000))])]), 2))
    _, r = recv_resp(s, ProduceResponse[3])
    p = r.topics[0][1][0]
    err, append_time = p[1], p[3]
    s.sendall(frame(fetch_req("lat", 0, 0), 3))
    _, f = recv_resp(s, FetchResponse[4])
    recs = MemoryRecords(f.topics[0][1][0][-1])
    b = recs.next_batch()
    rec = next(iter(b))
    print("error", err, "append time", append_time, "record ts",
          rec.timestamp, "type", rec.timestamp_type)
    return err == 0 and append_time >= before and \
        rec.timestamp == append_time and rec.timestamp_type == 1


def check_idle_close(addr):
    # The broker runs with connections.max.idle.ms=300.
    s = connect(addr)
    s.sendall(frame(ApiVersionRequest[0](), 1))
    recv_resp(s, ApiVersionResponse[0])
    t0 = time.monotonic()
    ok = closed(s)
    print("idle connection closed:", ok, "after",
          round(time.monotonic() - t0, 2), "s")
    return ok


def check_max_connections(addr):
    # The broker runs with max.connections=2.
    keep = [connect(addr), connect(addr)]
    for i, c in enumerate(keep):
        c.sendall(frame(ApiVersionRequest[0](), i))
        recv_resp(c, ApiVersionResponse[0])
    extra = connect(addr)
    refused = closed(extra)
    keep[0].close()
    time.sleep(0.3)
    again = connect(addr)
    again.sendall(frame(ApiVersionRequest[0](), 9))
    corr, _ = recv_resp(again, ApiVersionResponse[0])
    print("third refused:", refused, "after one left:", corr)
    return refused and corr == 9


def earliest(s, topic, corr):
    s.sendall(frame(OffsetRequest[1](replica_id=-1,
                                     topics=[(topic, [(0, -2)])]), corr))
    _, r = recv_resp(s, OffsetResponse[1])
    return r.topics[0][1][0][3]


def check_retention(addr):
    # log.segment.bytes=200, log.retention.ms=60000, check every 100 ms:
    # batches stamped in 1970 are past retention once their segment rolls.
    s = connect(addr)
    meta_create(s, "ret", 1)
    for i in range(10):
        s.sendall(frame(produce("ret", batch([b"r%d" % i], ts=1000 + i)),
                        10 + i))
        recv_resp(s, ProduceResponse[3])
    start = 0
    for i in range(100):
        start = earliest(s, "ret", 100 + i)
        if start > 0:
            break
        time.sleep(0.1)
    s.sendall(frame(fetch_req("ret", 0, 0), 300))
    _, f = recv_resp(s, FetchResponse[4])
    err = f.topics[0][1][0][1]
    print("log start offset", start, "fetch from 0:", err)
    return 0 < start <= 9 and err == 1


def check_slow_client(addr):
    s = connect(addr)
    meta_create(s, "slow", 1)
    for i in range(20):
        s.sendall(frame(produce("slow", batch([b"y" * 50000] * 2)), 10 + i))
        recv_resp(s, ProduceResponse[3])
    # A client that asks for 2 MB again and again and never reads.
    hog = connect(addr)
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = frame(fetch_req("slow", 0, 0), 1)
    hog.settimeout(0.5)
    sent = 0
    try:
        for i in range(400):
            hog.sendall(req)
            sent += 1
    except (socket.timeout, BlockingIOError):
        pass
    # Everyone else is served meanwhile.
    t0 = time.monotonic()
    other = connect(addr)
    other.sendall(frame(produce("slow", batch([b"z"])), 2))
    _, r = recv_resp(other, ProduceResponse[3])
    e, off = produce_result(r)
    other.sendall(frame(fetch_req("slow", off, 0), 3))
    _, f = recv_resp(other, FetchResponse[4])
    err, hwm, vals = fetch_values(f)
    print("hog sent", sent, "fetch requests; other client:", e, off, err,
          hwm, vals[-1][:1], "in", round(time.monotonic() - t0, 2), "s")
    return e == 0 and off == 40 and err == 0 and vals[-1] == b"z"


def check_random_frames(addr):
    """Random and bit-flipped requests: answered or closed, never a crash."""
    import random
    rnd = random.Random(4)
    s = connect(addr)
    meta_create(s, "fuzz", 1)
    s.sendall(frame(produce("fuzz", batch([b"seed", b"data"])), 2))
    recv_resp(s, ProduceResponse[3])
    good = [frame(produce("fuzz", batch([b"a", b"b"])), 1),
            frame(fetch_req("fuzz", 0, 0), 1),
            frame(MetadataRequest[4](topics=["fuzz"],
                                     allow_auto_topic_creation=False), 1),
            frame(OffsetRequest[1](replica_id=-1,
                                   topics=[("fuzz", [(0, -2)])]), 1),
            frame(ApiVersionRequest[0](), 1)]
    ranges = {0: (3, 7), 1: (4, 11), 2: (1, 5), 3: (0, 8), 18: (0, 3),
              19: (0, 4), 20: (0, 3), 21: (0, 1), 22: (0, 4), 32: (0, 2),
              33: (0, 1), 37: (0, 1), 44: (0, 1)}
    frames = []
    for i in range(300):
        key = rnd.choice(sorted(ranges))
        ver = rnd.randint(*ranges[key])
        body = struct.pack(">hhih", key, ver, i, 2) + b"fz"
        if ver >= 3 and key in (18, 22, 44) or (key == 22 and ver >= 2):
            body += b"\0"          # flexible header: empty tag buffer
        body += bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 120)))
        frames.append(struct.pack(">i", len(body)) + body)
    for i in range(300):
        g = bytearray(rnd.choice(good))
        for _ in range(rnd.randint(1, 4)):
            pos = rnd.randrange(8, len(g))   # keep size and api key
            g[pos] ^= 1 << rnd.randrange(8)
        frames.append(bytes(g))
    answered = closed_n = 0
    for f in frames:
        c = connect(addr)
        c.settimeout(5)
        c.sendall(f)
        try:
            recv_frame(c)
            answered += 1
        except (EOFError, ConnectionResetError):
            closed_n += 1
        except socket.timeout:
            # A request whose bytes claim acks=0 or a long wait.
            pass
        c.close()
    t = connect(addr)
    t.sendall(frame(ApiVersionRequest[0](), 77))
    corr, _ = recv_resp(t, ApiVersionResponse[0])
    print("answered", answered, "closed", closed_n, "then corr", corr)
    return corr == 77 and answered > 0 and closed_n > 0


def kstr(v):
    if v is None:
        return struct.pack(">h", -1)
    b = v.encode()
    return struct.pack(">h", len(b)) + b


def raw_request(s, key, ver, corr, body):
    hdr = struct.pack(">hhi", key, ver, corr) + kstr("kb-raw")
    s.sendall(struct.pack(">i", len(hdr) + len(body)) + hdr + body)
    data = recv_frame(s)
    return struct.unpack(">i", data[:4])[0], data[4:]


def incremental_alter(s, corr, topic, ops, validate=False):
    body = struct.pack(">i", 1) + struct.pack(">b", 2) + kstr(topic)
    body += struct.pack(">i", len(ops))
    for name, op, value in ops:
        body += kstr(name) + struct.pack(">b", op) + kstr(value)
    body += struct.pack(">?", validate)
    _, data = raw_request(s, 44, 0, corr, body)
    # throttle, [error, message, type, name]
    n = struct.unpack(">i", data[4:8])[0]
    err = struct.unpack(">h", data[8:10])[0]
    return n, err


def describe_v0(s, corr, topic, name):
    body = struct.pack(">i", 1) + struct.pack(">b", 2) + kstr(topic)
    body += struct.pack(">i", 1) + kstr(name)
    _, d = raw_request(s, 32, 0, corr, body)
    # throttle, [error, msg, type, name, [name, value, ro, default, sens]]
    pos = 8
    err = struct.unpack(">h", d[pos:pos + 2])[0]
    pos += 2
    ln = struct.unpack(">h", d[pos:pos + 2])[0]
    pos += 2 + max(ln, 0) + 1
    ln = struct.unpack(">h", d[pos:pos + 2])[0]
    pos += 2 + ln
    count = struct.unpack(">i", d[pos:pos + 4])[0]
    pos += 4
    ln = struct.unpack(">h", d[pos:pos + 2])[0]
    cname = d[pos + 2:pos + 2 + ln].decode()
    pos += 2 + ln
    ln = struct.unpack(">h", d[pos:pos + 2])[0]
    value = d[pos + 2:pos + 2 + ln].decode()
    pos += 2 + ln
    ro, dflt = struct.unpack(">??", d[pos:pos + 2])
    return err, count, cname, value, dflt


def check_incremental_alter(addr):
    s = connect(addr)
    meta_create(s, "inc", 1)
    r1 = incremental_alter(s, 2, "inc", [("retention.ms", 0, "5000"),
                                        ("segment.bytes", 0, "100000")])
    d1 = describe_v0(s, 3, "inc", "retention.ms")
    r2 = incremental_alter(s, 4, "inc", [("retention.ms", 1, None)])
    d2 = describe_v0(s, 5, "inc", "retention.ms")
    d3 = describe_v0(s, 6, "inc", "segment.bytes")
    r3 = incremental_alter(s, 7, "inc", [("no.such.config", 0, "1")])
    r4 = incremental_alter(s, 8, "inc", [("retention.ms", 0, "7")],
                           validate=True)
    d4 = describe_v0(s, 9, "inc", "retention.ms")
    r5 = incremental_alter(s, 10, "nosuch", [("retention.ms", 0, "7")])
    print(r1, d1, r2, d2, d3, r3, r4, d4, r5)
    return (r1, r2, r3, r4, r5) == ((1, 0), (1, 0), (1, 40), (1, 0),
                                    (1, 3)) and \
        d1 == (0, 1, "retention.ms", "5000", False) and \
        d2 == (0, 1, "retention.ms", "604800000", True) and \
        d3 == (0, 1, "segment.bytes", "100000", False) and \
        d4 == d2


def check_min_insync(addr):
    # The broker runs with min.insync.replicas=2: acks=all cannot be met
    # by one node, acks=1 can.
    s = connect(addr)
    meta_create(s, "isr", 1)
    s.sendall(frame(produce("isr", batch([b"a"]), acks=-1), 2))
    _, r = recv_resp(s, ProduceResponse[3])
    e1, _ = produce_result(r)
    s.sendall(frame(produce("isr", batch([b"b"]), acks=1), 3))
    _, r = recv_resp(s, ProduceResponse[3])
    e2, o2 = produce_result(r)
    print("acks=all:", e1, "acks=1:", e2, o2)
    return (e1, e2, o2) == (19, 0, 0)


def check_fetch_limits(addr):
    s = connect(addr)
    s.sendall(frame(MetadataRequest[4](topics=["lim"],
                                       allow_auto_topic_creation=True), 1))
    recv_resp(s, MetadataResponse[4])
    # num.partitions=2 on this broker: five ~1 kB batches in each.
    for part in (0, 1):
        for i in range(5):
            s.sendall(frame(produce("lim", batch([b"%d" % i * 1000]),
                                    part=part), 10 + i))
            recv_resp(s, ProduceResponse[3])

    def fetch(max_bytes, pmax, parts=(0,)):
        req = FetchRequest[4](replica_id=-1, max_wait_time=0, min_bytes=1,
                              max_bytes=max_bytes, isolation_level=0,
                              topics=[("lim", [(p, 0, pmax) for p in parts])])
        s.sendall(frame(req, 99))
        _, r = recv_resp(s, FetchResponse[4])
        out = []
        for p in r.topics[0][1]:
            mr = MemoryRecords(p[-1])
            n = 0
            while mr.has_next():
                mr.next_batch()
                n += 1
            out.append(n)
        return out

    a = fetch(1 << 20, 2500)          # partition limit: two whole batches
    b = fetch(1 << 20, 10)            # below one batch: still one (KIP-74)
    c = fetch(1500, 1 << 20, (0, 1))  # response limit: first partition only
    d = fetch(1 << 20, 1 << 20, (0, 1))
    print("pmax 2500:", a, "pmax 10:", b, "max 1500:", c, "unlimited:", d)
    return a == [2] and b == [1] and c == [1, 0] and d == [5, 5]


def check_pid_expiry(addr):
    # producer.id.expiration.ms=300, checked every 100 ms.
    s = connect(addr)
    meta_create(s, "exp", 1)
    pid = 777
    s.sendall(frame(produce("exp", batch([b"a", b"b"], pid=pid, epoch=0,
                                         seq=0)), 2))
    e1, _ = produce_result(recv_resp(s, ProduceResponse[3])[1])
    s.sendall(frame(produce("exp", batch([b"gap"], pid=pid, epoch=0,
                                         seq=9)), 3))
    e2, _ = produce_result(recv_resp(s, ProduceResponse[3])[1])
    time.sleep(1.0)
    s.sendall(frame(produce("exp", batch([b"later"], pid=pid, epoch=0,
                                         seq=9)), 4))
    e3, o3 = produce_result(recv_resp(s, ProduceResponse[3])[1])
    print("first", e1, "gap while known", e2, "after expiry", e3, o3)
    return (e1, e2, e3, o3) == (0, 45, 0, 2)


def check_hogs(addr):
    """Ten clients pipeline Metadata requests and never read."""
    req = frame(MetadataRequest[1](topics=None), 1) * 2000
    hogs = []
    for i in range(10):
        h = connect(addr)
        h.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        h.settimeout(0.2)
        hogs.append(h)
    deadline = time.monotonic() + 8
    stuck = set()
    while len(stuck) < len(hogs) and time.monotonic() < deadline:
        for i, h in enumerate(hogs):
            if i in stuck:
                continue
            try:
                h.sendall(req)
            except (socket.timeout, BlockingIOError):
                stuck.add(i)
    t = connect(addr)
    t.sendall(frame(ApiVersionRequest[0](), 5))
    corr, _ = recv_resp(t, ApiVersionResponse[0])
    print("hogs stopped by backpressure:", len(stuck), "other client", corr)
    return len(stuck) == len(hogs) and corr == 5


def check_fairness(addr):
    """A client pipelining 6000 produce requests does not hold up another.

    Both write to one partition, so the other client's offset says how
    many of the pipelined requests kbroker answered before it: all 6000
    when one read event runs the whole pipeline, a few rounds' worth when
    requests are taken in turns. The other client sends once the first
    pipelined answer is back.
    """
    topic = "fair"
    s = connect(addr)
    meta_create(s, topic, 1)
    for _ in range(50):     # the topic exists once a produce succeeds
        s.sendall(frame(produce(topic, batch([b"warm"]), acks=1), 2))
        _, r = recv_resp(s, ProduceResponse[3])
        if produce_result(r)[0] == 0:
            break
        time.sleep(0.1)
    n = 6000
    one = frame(produce(topic, batch([b"p"]), acks=1), 3)
    t = connect(addr)
    # kbroker may stop reading a client that is ahead: send from a thread
    pipe = threading.Thread(target=s.sendall, args=(one * n,))
    pipe.start()
    recv_resp(s, ProduceResponse[3])    # kbroker is at work on the pipeline
    t.sendall(frame(produce(topic, batch([b"other"]), acks=1), 4))
    _, r = recv_resp(t, ProduceResponse[3])
    err, off = produce_result(r)
    for _ in range(n - 1):
        recv_resp(s, ProduceResponse[3])
    pipe.join()
    before = off - 1
    print("other client's record landed after", before, "of", n,
          "pipelined requests")
    return err == 0 and 0 <= before < n * 3 // 4


def main():
    addr, check = sys.argv[1], sys.argv[2]
    fn = globals().get("check_" + check.replace("-", "_"))
    if fn is None:
        print("unknown check", check)
        return 2
    return 0 if fn(addr) else 1


if __name__ == "__main__":
    sys.exit(main())
