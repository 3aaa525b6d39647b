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

# Has id $1's coordinator moved away from broker $2?
coord_moved() {
	local n
	n=$(txn_coord "$1") && [ "$n" != "$2" ]
}

# Is id $1 in state $2 on its coordinator?
txn_state() {
	local n
	n=$(txn_coord "$1") &&
	    "$PY" "$RAW" describe "$(addr "$n")" "$1" | grep -q "^error 0 state $2 "
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

@test "cluster: the coordinator dies; its successor has the state and aborts a killed producer's transaction" {
	boot=$(cluster_boot)
	d=$BATS_TEST_TMPDIR
	run timeout 20 ktopic -b "$boot" create -p 3 -r 3 tx2
	assert_success
	wait_for all_led tx2 1
	wait_for -t 30 txn_coord tid-s
	c=$(txn_coord tid-s)
	# an id the same broker coordinates, for the producer killed midway
	h=
	for i in $(seq 1 60); do
		if [ "$(txn_coord "hang-$i")" = "$c" ]; then
			h=hang-$i
			break
		fi
	done
	[ -n "$h" ]
	$PY "$TX" survive "$boot" tid-s tx2 "$d" >"$d/survive.out" 2>&1 3>&- &
	echo $! >"$d/survive.pypid"
	wait_for -t 90 test -e "$d/t1"
	$PY "$TX" hang "$boot" "$h" tx2 4000 >"$d/hang.out" 2>&1 3>&- &
	echo $! >"$d/hang.pypid"
	wait_for -t 90 grep -q '^open' "$d/hang.out"
	kill -KILL "$(cat "$d/hang.pypid")"
	run timeout 20 $PY "$RAW" describe "$(addr "$c")" "$h"
	assert_output --regexp '^error 0 state Ongoing '
	broker_kill "$c" KILL
	touch "$d/go"
	# the same producer goes on with the new coordinator
	wait_for -t 120 grep -q 't2 committed' "$d/survive.out"
	wait_for -t 30 coord_moved tid-s "$c"
	# the open transaction is aborted by its timeout there, so the
	# read_committed consumer gets past it to t2
	run timeout 90 $PY "$TX" read "$(cluster_boot)" tx2 6 read_committed
	assert_output 't1-0 t1-1 t1-2 t2-0 t2-1 t2-2'
	wait_for -t 30 coord_moved "$h" "$c"
	wait_for -t 30 txn_state "$h" CompleteAbort
	run timeout 60 $PY "$TX" read "$(cluster_boot)" tx2 9 read_uncommitted
	assert_output 'open-0 open-1 open-2 t1-0 t1-1 t1-2 t2-0 t2-1 t2-2'
	broker_start "$c"
	wait_for zk stat "/brokers/ids/$c"
}

@test "cluster: send_offsets_to_transaction with the group coordinated by another broker" {
	boot=$(cluster_boot)
	run timeout 20 ktopic -b "$boot" create -p 2 -r 3 in3
	assert_success
	run timeout 20 ktopic -b "$boot" create -p 2 -r 3 out3
	assert_success
	wait_for all_led in3 1
	wait_for all_led out3 1
	seq 1 3 | timeout 30 kproduce -b "$boot" -t in3 -p 0 --acks all
	seq 4 6 | timeout 30 kproduce -b "$boot" -t in3 -p 1 --acks all
	wait_for -t 30 txn_coord tid-x
	wait_for -t 30 group_coord g-0
	c=$(txn_coord tid-x)
	g=
	for i in $(seq 0 60); do
		if [ "$(group_coord "g-$i")" != "$c" ]; then
			g=g-$i
			break
		fi
	done
	[ -n "$g" ]
	run timeout 120 $PY "$TX" cxp "$boot" tid-x in3 out3 "$g" 6
	assert_output 'committed 6'
	run timeout 60 $PY "$TX" read "$boot" out3 6 read_committed
	assert_output 'out-1 out-2 out-3 out-4 out-5 out-6'
	# the group's offsets committed with the transaction
	run timeout 60 $PY "$TX" committed "$boot" "$g" in3 2
	assert_output '0:3 1:3'
}

@test "cluster: a commit under way when its coordinator dies is finished by the successor" {
	boot=$(cluster_boot)
	run timeout 20 ktopic -b "$boot" create -p 2 -r 3 tx3
	assert_success
	wait_for all_led tx3 1
	wait_for -t 30 txn_coord tid-p
	c=$(txn_coord tid-p)
	run timeout 20 $PY "$RAW" init "$(addr "$c")" tid-p 60000
	assert_output --regexp '^error 0 pid '
	pid=$(echo "$output" | cut -d' ' -f4)
	ep=$(echo "$output" | cut -d' ' -f6)
	run timeout 20 $PY "$RAW" add "$(addr "$c")" tid-p "$pid" "$ep" tx3:0 tx3:1
	assert_output $'tx3-0 0\ntx3-1 0'
	read -r l0 l1 <<<"$(leaders tx3 1)"
	run timeout 20 $PY "$RAW" produce "$(addr "$l0")" tx3 0 "$pid" "$ep" 0 p0
	assert_output --regexp '^error 0 '
	run timeout 20 $PY "$RAW" produce "$(addr "$l1")" tx3 1 "$pid" "$ep" 0 p1
	assert_output --regexp '^error 0 '
	# the coordinator "died" after logging PrepareCommit, before markers
	run timeout 20 $PY "$TX" staterec "$(addr "$c")" 6 tid-p "$pid" "$ep" \
	    PrepareCommit tx3:0 tx3:1
	assert_output 'error 0'
	run timeout 20 $PY "$RAW" fetch "$(addr "$l0")" tx3 0 1
	assert_output 'lso 0 values -'
	broker_kill "$c" KILL
	wait_for -t 30 coord_moved tid-p "$c"
	wait_for -t 30 txn_state tid-p CompleteCommit
	run timeout 60 $PY "$TX" read "$(cluster_boot)" tx3 2 read_committed
	assert_output 'p0 p1'
	broker_start "$c"
	wait_for zk stat "/brokers/ids/$c"
}
