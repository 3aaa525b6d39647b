#!/usr/bin/env bats
# 75-cluster-txn.bats -- transactions on three kbrokers: coordinators placed by __transaction_state, markers between brokers, a coordinator lost

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

bats_require_minimum_version 1.5.0

TX="$BATS_TEST_DIRNAME/75-cluster-txn.py"
RAW="$BATS_TEST_DIRNAME/14-kbroker-txn.py"
CLRAW="$BATS_TEST_DIRNAME/71-cluster-raw.py"

setup_file() {
	zk_start
	BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR cluster_start 3 \
	    -o transaction.state.log.num.partitions=6 \
	    -o offsets.topic.num.partitions=6 \
	    -o replica.lag.time.max.ms=1500 \
	    -o transaction.abort.timed.out.transaction.cleanup.interval.ms=300
	export CL_DIR CL_ZK CL_ARGS
}

teardown_file() {
	zk_stop
}

teardown() {
	local f
	for f in "$BATS_TEST_TMPDIR"/*.pypid; do
		[ -e "$f" ] || continue
		kill -KILL "$(cat "$f")" 2>/dev/null || true
	done
}

addr() { echo "127.0.0.1:$(broker_port "$1")"; }

# A live broker's address (the first of 1..3 running).
any_addr() {
	local i
	for i in 1 2 3; do
		[ -n "$(broker_pid "$i")" ] && { addr "$i"; return; }
	done
}

# The transaction coordinator of id $1, as a live broker answers.
txn_coord() {
	"$PY" "$RAW" coord "$(any_addr)" "$1" | sed -n 's/^error 0 node //p' |
	    grep .
}

group_coord() {
	"$PY" "$CLRAW" coord "$(any_addr)" "$1" | sed -n 's/^error 0 node //p' |
	    grep .
}

# Leaders of topic $1's partitions, one line, as broker $2 reports them.
leaders() {
	"$PY" "$CLRAW" meta "$(addr "$2")" "$1" | $PY -c 'import json, sys
ps = json.load(sys.stdin)["topics"][sys.argv[1]]["partitions"]
print(" ".join(str(ps[k]["leader"]) for k in sorted(ps, key=int)))' "$1"
}

all_led() {
	local l
	l=$(leaders "$1" "$2") && [ -n "$l" ] && ! echo "$l" | grep -q -- -1
}

@test "cluster: commit and abort over partitions led by different brokers" {
	boot=$(cluster_boot)
	run timeout 20 ktopic -b "$boot" create -p 3 -r 2 tx1
	assert_success
	wait_for all_led tx1 1
	# the partitions really are spread: markers cross brokers
	run leaders tx1 1
	n=$(echo "$output" | tr ' ' '\n' | sort -u | wc -l)
	[ "$n" -ge 2 ]
	run timeout 120 $PY "$TX" two "$boot" tid-a tx1 3
	assert_success
	assert_output $'committed\naborted'
	run timeout 60 $PY "$TX" read "$boot" tx1 6 read_committed
	assert_output 'c0 c1 c2'
	run timeout 60 $PY "$TX" read "$boot" tx1 6 read_uncommitted
	assert_output 'a0 a1 a2 c0 c1 c2'
	# every broker but the coordinator answers NOT_COORDINATOR (16)
	c=$(txn_coord tid-a)
	for i in 1 2 3; do
		run timeout 20 $PY "$RAW" init "$(addr "$i")" tid-a 10000
		if [ "$i" = "$c" ]; then
			assert_output --regexp '^error 0 pid [0-9]+ epoch [0-9]+$'
		else
			assert_output 'error 16 pid -1 epoch -1'
		fi
	done
	# the state topic was made through ZooKeeper, replicated
	run zk_field /brokers/topics/__transaction_state/partitions/0/state isr
	assert_output --regexp '^\[[0-9],[0-9],[0-9]\]$'
	run zk get /latest_producer_id_block
	assert_output --regexp '"block_start":"[0-9]+"'
}

@test "cluster: producer ids are unique across brokers" {
	# idempotent producers on each broker: ids from ZooKeeper blocks
	ids=
	for i in 1 2 3 1 2 3; do
		id=$($PY - "$(addr "$i")" <<-'PY'
		import socket, struct, sys
		h, p = sys.argv[1].rsplit(":", 1)
		s = socket.create_connection((h, int(p)), timeout=10)
		body = struct.pack(">hhih", 22, 0, 7, 1) + b"t" + struct.pack(">hi", -1, 10000)
		s.sendall(struct.pack(">i", len(body)) + body)
		d = b""
		while len(d) < 4 or len(d) < 4 + struct.unpack(">i", d[:4])[0]:
		    d += s.recv(4096)
		t, e, pid, ep = struct.unpack(">ihqh", d[8:24])
		print(e, pid)
		PY
		)
		ids="$ids$id"$'\n'
	done
	run bash -c "printf '%s' \"\$1\" | grep -c '^0 '" _ "$ids"
	assert_output 6
	run bash -c "printf '%s' \"\$1\" | sort | uniq -d" _ "$ids"
	assert_output ''
}
