#!/usr/bin/python3
# txn_rate.py BOOT TOPIC N -- N transactions of one record per partition of
# TOPIC (4 partitions) with confluent-kafka; prints the milliseconds each
# took, after one unmeasured warm-up transaction
import sys
import time

from confluent_kafka import Producer

boot, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({"bootstrap.servers": boot, "transactional.id": "bench-txn",
              "linger.ms": 0})
p.init_transactions(30)
ms = []
for i in range(n + 1):
    t0 = time.monotonic()
    p.begin_transaction()
    for part in range(4):
        p.produce(topic, value=b"v%d" % i, partition=part)
    p.commit_transaction(30)
    ms.append((time.monotonic() - t0) * 1000)
ms = sorted(ms[1:])
print("%d transactions: p50 %.1f ms, p90 %.1f ms, max %.1f ms" %
      (n, ms[n // 2], ms[n * 9 // 10], ms[-1]))
