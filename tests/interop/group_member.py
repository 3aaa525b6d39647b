#!/usr/bin/python3
# group_member.py -- a kafka-python or confluent-kafka consumer group member for the interop tests
#
# group_member.py kp|ck BROKER GROUP TOPIC OUT [SESSION_MS] [MAX]
#
# Appends each record's value to OUT (a line, flushed), auto-committing as
# the client does by default. SIGTERM closes the consumer properly
# (commit, LeaveGroup). With MAX it stops after MAX records, commits
# exactly their offsets synchronously and exits 0.
import signal
import sys
import time

kind, broker, group, topic, out = sys.argv[1:6]
session = int(sys.argv[6]) if len(sys.argv) > 6 else 3000
limit = int(sys.argv[7]) if len(sys.argv) > 7 else 0
stop = False


def on_term(sig, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
deadline = time.time() + 120        # never outlive a test by much
f = open(out, "a")
n = 0
pos = {}                            # (topic, partition) -> next offset

if kind == "kp":
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    c = KafkaConsumer(topic, bootstrap_servers=broker, group_id=group,
                      auto_offset_reset="earliest",
                      enable_auto_commit=not limit,
                      session_timeout_ms=session,
                      heartbeat_interval_ms=max(session // 3, 100),
                      max_poll_interval_ms=10000,
                      request_timeout_ms=max(session + 5000, 30000))
    while not stop and time.time() < deadline and (not limit or n < limit):
        for tp, msgs in c.poll(timeout_ms=200).items():
            for m in msgs:
                if limit and n >= limit:
                    break
                f.write(m.value.decode() + "\n")
                f.flush()
                n += 1
                pos[tp] = m.offset + 1
            if limit and n >= limit:
                break
    if limit:
        c.commit({tp: OffsetAndMetadata(o, None) for tp, o in pos.items()})
        c.close(autocommit=False)
    else:
        c.close()
else:
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": broker, "group.id": group,
                  "auto.offset.reset": "earliest",
                  "session.timeout.ms": session,
                  "heartbeat.interval.ms": max(session // 3, 100),
                  "max.poll.interval.ms": 10000,
                  "enable.auto.offset.store": False})
    c.subscribe([topic])
    while not stop and time.time() < deadline and (not limit or n < limit):
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        f.write(m.value().decode() + "\n")
        f.flush()
        n += 1
        c.store_offsets(m)
        pos[(m.topic(), m.partition())] = m.offset() + 1
    if limit:
        c.commit(offsets=[TopicPartition(t, p, o)
                          for (t, p), o in pos.items()], asynchronous=False)
    c.close()
f.close()
