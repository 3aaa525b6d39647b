#!/usr/bin/python3
# flipbit.py -- flip one bit inside the CRC-covered part of a random record batch of a segment file
#
#   flipbit.py SEGMENT.log SEED
#
# Bytes outside the CRC (baseOffset, batchLength, partitionLeaderEpoch,
# magic) are left alone: damage there is not what a CRC can find.
import random
import struct
import sys

path, seed = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
batches, pos = [], 0
while pos + 61 <= len(data):
    n = struct.unpack(">i", data[pos + 8:pos + 12])[0]
    if n < 49 or pos + 12 + n > len(data):
        break
    batches.append((pos, 12 + n))
    pos += 12 + n
if not batches:
    sys.exit("flipbit.py: no whole batch in " + path)
rng = random.Random(seed)
i = rng.randrange(len(batches))
start, size = batches[i]
at = start + rng.randrange(21, size)
data[at] ^= 1 << rng.randrange(8)
with open(path, "r+b") as f:
    f.write(data)
print("flipped a bit at byte %d of %d, in batch %d of %d"
      % (at, len(data), i + 1, len(batches)))
