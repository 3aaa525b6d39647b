#!/bin/sh
# log.sh -- run the partition log benchmark: append (no flush, 1 MiB, every batch), read (sendfile, pread+write)
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s bench-build >/dev/null
exec build/default/bench/log_bench "$@"
