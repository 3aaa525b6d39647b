#!/bin/bash
# txn.sh -- how long a transaction takes: confluent-kafka commits N
# transactions (one record to each of 4 partitions) against one kbroker,
# then against a 2-broker cluster (a real ZooKeeper, replication factor 2,
# the coordinator and the leaders on different brokers)
#
#   bash bench/txn.sh      N=200 by default; needs `make tests` built
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KP_BUILD:-build/default}
export KP_BIN=$TOP/$BUILD/bin KP_TOOLS=$TOP/$BUILD/tests/tools KP_TOP=$TOP
N=${N:-200}
BATS_FILE_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/kptxn.XXXXXX") || exit 73
# shellcheck source=tests/cli/70-cluster-lib.bash
. "$TOP/tests/cli/70-cluster-lib.bash"
KB_PID=
cleanup() {
	[ -n "$KB_PID" ] && kill "$KB_PID" 2>/dev/null && wait "$KB_PID"
	zk_stop
	rm -rf "$BATS_FILE_TMPDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

d=$BATS_FILE_TMPDIR/single
mkdir -p "$d"
"$KP_BIN/kbroker" --data-dir "$d/data" --listen 127.0.0.1:0 --no-socket \
    >"$d/out" 2>"$d/err" &
KB_PID=$!
wait_for grep -q '^listening 127' "$d/out" || exit 70
boot=$(sed -n 's/^listening \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$d/out")
timeout 20 "$KP_BIN/ktopic" -b "$boot" create -p 4 tx >/dev/null || exit 70
printf 'one kbroker: '
timeout 300 "$PY" "$TOP/bench/txn_rate.py" "$boot" tx "$N" || exit 70
kill "$KB_PID"
wait "$KB_PID"
KB_PID=

zk_start || exit 70
cluster_start 2 -o transaction.state.log.num.partitions=1 \
    -o transaction.state.log.replication.factor=2 || exit 70
boot=$(cluster_boot)
timeout 20 "$KP_BIN/ktopic" -b "$boot" create -p 4 -r 2 tx >/dev/null ||
    exit 70
printf '2-broker cluster: '
timeout 300 "$PY" "$TOP/bench/txn_rate.py" "$boot" tx "$N" || exit 70
