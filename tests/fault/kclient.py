#!/usr/bin/python3
# kclient.py -- idempotent acks=all producer that logs every acknowledgement, and the verifier that checks them
#
#   kclient.py produce -b HOST:PORT -t TOPIC -i ID -a ACKED [-n COUNT] [-d SECONDS] [-s STOPFILE]
#   kclient.py verify  -b HOST:PORT -t TOPIC [-p] ACKED...
#
# produce writes records "ID-<n>" (n = 0, 1, 2, ...) keyed by n, so they
# spread over the partitions, with enable.idempotence (acks=all, retries
# without duplicates) and appends one line per acknowledged record to
# ACKED: "partition offset value". It keeps producing through broker
# restarts and stops after COUNT records, SECONDS, or when STOPFILE
# exists; then it waits for the records in flight.
#
# verify reads every partition from its start to its high watermark with
# CRC checks on, and checks what a broker promises an idempotent
# producer: every acknowledged record is at the offset it was acknowledged
# at; no value appears twice; each producer's records of a partition are
# in the order it sent them; offsets have no holes. It prints the figures
# and exits 1 on any violation.
import argparse
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka import TopicPartition


def log(*a):
    print("kclient:", *a, file=sys.stderr, flush=True)


def produce(o):
    acked = open(o.acked, "a", buffering=1)
    st = {"acked": 0, "failed": 0, "fatal": None, "errors": {}}

    def on_delivery(e, m):
        if e is None:
            acked.write("%d %d %s\n" % (m.partition(), m.offset(),
                                        m.value().decode().rstrip("~")))
            st["acked"] += 1
        else:
            st["failed"] += 1
            st["errors"][e.name()] = st["errors"].get(e.name(), 0) + 1
            if e.fatal():
                st["fatal"] = e.name()

    def on_error(e):
        if e.fatal():
            st["fatal"] = e.name()

    conf = {
        "bootstrap.servers": o.broker,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": o.timeout * 1000,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "retry.backoff.ms": 50,
        "topic.metadata.refresh.interval.ms": 1000,
        "error_cb": on_error,
    }
    if o.batch:
        conf["batch.num.messages"] = o.batch
    if o.no_retry:
        # See the broker's own error in the delivery report.
        conf.update({"enable.idempotence": False, "retries": 0})
    p = Producer(conf)
    end = time.monotonic() + o.duration
    n = 0
    while n < o.count and time.monotonic() < end and st["fatal"] is None:
        if o.stop and os.path.exists(o.stop):
            break
        try:
            p.produce(o.topic, key=str(n).encode(),
                      value=("%s-%d" % (o.id, n)).encode() +
                      (b"~" * o.pad if o.pad else b""),
                      on_delivery=on_delivery)
            n += 1
        except BufferError:
            p.poll(0.05)
            continue
        if o.rate:
            time.sleep(1.0 / o.rate)
        p.poll(0)
    left = p.flush(o.timeout + 5)
    log("producer %s: %d sent, %d acknowledged, %d failed %s, "
        "%d still in flight%s" % (o.id, n, st["acked"], st["failed"],
                                  st["errors"] or "", left,
                                  ", fatal: " + st["fatal"]
                                  if st["fatal"] else ""))
    acked.close()
    return 0 if st["fatal"] is None and left == 0 else 1


def read_all(o):
    """Every record of every partition, {partition: [(offset, value)]}."""
    c = Consumer({
        "bootstrap.servers": o.broker,
        "group.id": "kclient-verify",
        "enable.auto.commit": False,
        "check.crcs": True,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "fetch.max.bytes": 1 << 20,
    })
    md = c.list_topics(o.topic, timeout=10)
    t = md.topics.get(o.topic)
    if t is None or t.error is not None:
        raise SystemExit("kclient: topic %s: %s" % (o.topic,
                         t.error if t else "missing"))
    parts = sorted(t.partitions)
    marks = {}
    for p in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(o.topic, p),
                                         timeout=10)
        marks[p] = (lo, hi)
    c.assign([TopicPartition(o.topic, p, marks[p][0]) for p in parts
              if marks[p][1] > marks[p][0]])
    got = {p: [] for p in parts}
    todo = {p for p in parts if marks[p][1] > marks[p][0]}
    deadline = time.monotonic() + o.timeout
    while todo and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                todo.discard(m.partition())
                continue
            raise SystemExit("kclient: consume: %s" % m.error())
        got[m.partition()].append((m.offset(),
                                   m.value().decode().rstrip("~")))
        if m.offset() + 1 >= marks[m.partition()][1]:
            todo.discard(m.partition())
    c.close()
    if todo:
        raise SystemExit("kclient: partitions %s not read to their end "
                         "in %ds" % (sorted(todo), o.timeout))
    return got, marks


def verify(o):
    got, marks = read_all(o)
    bad = []
    where = {}          # value -> (partition, offset)
    dups = 0
    for p, recs in got.items():
        lo, hi = marks[p]
        if [off for off, _ in recs] != list(range(lo, hi)):
            bad.append("partition %d: offsets are not %d..%d without "
                       "holes" % (p, lo, hi - 1))
        last = {}
        for off, v in recs:
            if v in where:
                dups += 1
                if dups <= 10:
                    bad.append("%s twice: %s and %d/%d" %
                               (v, where[v], p, off))
            where[v] = (p, off)
            pid, _, seq = v.rpartition("-")
            if not seq.isdigit():
                continue
            if int(seq) <= last.get(pid, -1):
                bad.append("partition %d offset %d: %s after %s-%d" %
                           (p, off, v, pid, last[pid]))
            last[pid] = int(seq)
    acked = missing = moved = cut = 0
    kept = open(o.kept, "w") if o.kept else None
    for f in o.acked:
        with open(f) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) != 3:
                    continue
                acked += 1
                p, off, v = int(parts[0]), int(parts[1]), parts[2]
                if v not in where and o.prefix and off >= marks[p][1]:
                    cut += 1
                elif v not in where:
                    missing += 1
                    if missing <= 10:
                        bad.append("acknowledged %s at %d/%d: missing" %
                                   (v, p, off))
                elif kept and where[v] == (p, off):
                    kept.write(line)
                elif where[v] != (p, off):
                    moved += 1
                    if moved <= 10:
                        bad.append("acknowledged %s at %d/%d: found at "
                                   "%d/%d" % (v, p, off, *where[v]))
    if kept:
        kept.close()
    found = sum(len(r) for r in got.values())
    print("acknowledged %d, found %d of them, %d records in the topic, "
          "%d duplicates, %d missing, %d at another offset, %d problems"
          % (acked, acked - missing - cut, found, dups, missing, moved,
             len(bad)) +
          (", %d cut off (a lost or corrupt tail)" % cut if o.prefix else ""))
    for b in bad[:30]:
        print("problem:", b)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(prog="kclient.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("produce")
    pp.add_argument("-b", "--broker", required=True)
    pp.add_argument("-t", "--topic", required=True)
    pp.add_argument("-i", "--id", required=True)
    pp.add_argument("-a", "--acked", required=True)
    pp.add_argument("-n", "--count", type=int, default=1 << 62)
    pp.add_argument("-d", "--duration", type=float, default=60)
    pp.add_argument("-r", "--rate", type=float, default=0,
                    help="records per second (0: as fast as possible)")
    pp.add_argument("-s", "--stop")
    pp.add_argument("-p", "--pad", type=int, default=0,
                    help="bytes of padding after each value")
    pp.add_argument("-B", "--batch", type=int, default=0,
                    help="at most this many records a batch")
    pp.add_argument("-R", "--no-retry", action="store_true",
                    help="no idempotence, no retries")
    pp.add_argument("-T", "--timeout", type=int, default=60)
    vp = sub.add_parser("verify")
    vp.add_argument("-b", "--broker", required=True)
    vp.add_argument("-t", "--topic", required=True)
    vp.add_argument("-T", "--timeout", type=int, default=60)
    vp.add_argument("-p", "--prefix", action="store_true",
                    help="acknowledged records past a partition's end "
                    "may be gone (a corrupt tail was cut off)")
    vp.add_argument("-k", "--kept",
                    help="write the acknowledged lines found to this file")
    vp.add_argument("acked", nargs="*")
    o = ap.parse_args()
    try:
        return produce(o) if o.cmd == "produce" else verify(o)
    except KafkaException as e:
        log(e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
