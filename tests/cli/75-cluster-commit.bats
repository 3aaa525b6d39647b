#!/usr/bin/env bats
# 75-cluster-commit.bats -- what a cluster calls committed: the high watermark across restarts, offset commits and transactional writes answered only once the ISR has them, group membership carried to the next coordinator, commit markers sent over kept connections

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

RAW=$BATS_TEST_DIRNAME/75-cluster-commit.py
RAW71=$BATS_TEST_DIRNAME/71-cluster-raw.py
TXN=$BATS_TEST_DIRNAME/14-kbroker-txn.py

setup_file() {
	zk_start
}

teardown_file() {
	zk_stop
}

teardown() {
	# a test that failed half-way may leave a broker stopped
	local f
	for f in "${CL_DIR:-/nonexistent}"/b*.pid; do
		[ -e "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null
	done
	cluster_stop
}

isr_is_p() {	# isr_is_p TOPIC P JSON-ARRAY (sorted)
	[ "$(zk_state "$1" "$2" isr | jq -c 'sort')" = "$3" ]
}

leader_is_not_p() {	# leader_is_not_p TOPIC P ID: a live leader, not ID
	local l
	l=$(zk_state "$1" "$2" leader)
	[ "$l" != "$3" ] && [ "$l" -ge 0 ]
}

leader_is_p() {	# leader_is_p TOPIC P ID
	[ "$(zk_state "$1" "$2" leader)" = "$3" ]
}

addr() { echo "127.0.0.1:$(broker_port "$1")"; }

# The ISR in broker ID's own view (its Metadata), sorted.
view_isr_is() {	# view_isr_is ID TOPIC P JSON-ARRAY
	[ "$(timeout 10 "$RAW71" meta "$(addr "$1")" "$2" |
	    jq -c ".topics[\"$2\"].partitions[\"$3\"].isr | sort")" = "$4" ]
}

other() { echo $(($1 % 2 + 1)); }	# the other broker of two

txn_state_is() {	# txn_state_is ID TXN-ID STATE: as broker ID describes it
	timeout 10 $PY "$TXN" describe "$(addr "$1")" "$2" |
	    grep -q "^error 0 state $3 "
}

# ListOffsets latest (the high watermark) from broker ID, "error E offset O"
latest() {	# latest ID TOPIC
	timeout 20 "$RAW" latest "$(addr "$1")" "$2"
}

latest_is() {	# latest_is ID TOPIC N
	[ "$(latest "$1" "$2")" = "error 0 offset $3" ]
}

checkpoint_hw_is() {	# checkpoint_hw_is ID TOPIC-P N
	grep -qx "high_watermark=$3" "$CL_DIR/b$1/$2/kpipe.checkpoint"
}

fetched_is() {	# fetched_is ID GROUP TOPIC N: OffsetFetch from broker ID
	[ "$(timeout 10 "$RAW" fetch "$(addr "$1")" "$2" "$3")" = "offset $4" ]
}

# Two brokers, __consumer_offsets with one partition on both; prints the
# coordinator of every group (that partition's leader).
offsets_setup() {
	local boot coord
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 2 -r 2 ct >&2
	wait_for isr_is_p ct 0 '[1,2]'
	# FindCoordinator makes __consumer_offsets
	wait_for -t 30 sh -c "timeout 10 '$RAW71' coord '$(addr 1)' g | grep -q '^error 0 '"
	wait_for isr_is_p __consumer_offsets 0 '[1,2]'
	coord=$(zk_state __consumer_offsets 0 leader)
	# and the coordinator knows it (its view follows ZooKeeper)
	wait_for sh -c "timeout 10 '$RAW71' coord '$(addr "$coord")' g | grep -qx 'error 0 node $coord'"
	echo "$coord"
}

@test "cluster commit: a restarted leader keeps its checkpointed high watermark until the ISR has the rest" {
	# no follower leaves the ISR in this test: the restart alone decides
	cluster_start 2 -o replica.lag.time.max.ms=600000
	local boot leader fol fpid
	boot=$(cluster_boot)
	timeout 20 ktopic -b "$boot" create -p 1 -r 2 hw
	wait_for isr_is_p hw 0 '[1,2]'
	leader=$(zk_state hw 0 leader)
	fol=$(other "$leader")
	# the follower gets a ZooKeeper session that outlives its pause
	# below: a broker whose session ends leaves every ISR (controller)
	broker_kill "$fol" TERM
	wait_for isr_is_p hw 0 "[$leader]"
	CL_SESSION_MS=20000 broker_start "$fol"
	wait_for isr_is_p hw 0 '[1,2]'
	seq 1 3 | sed 's/^/c-/' | timeout 20 kproduce -b "$boot" -t hw --acks all
	wait_for checkpoint_hw_is "$leader" hw-0 3
	# the follower stops fetching, still in the ISR (registered, a long
	# lag time), so what the leader appends now is not committed
	fpid=$(broker_pid "$fol")
	kill -STOP "$fpid"
	seq 1 2 | sed 's/^/u-/' |
	    timeout 20 kproduce -b "$(addr "$leader")" -t hw --acks 1
	run latest "$leader" hw
	assert_output "error 0 offset 3"
	# the leader crashes and comes back: still leader, ISR still both;
	# its high watermark (3, checkpointed) lags the start of its
	# leadership (5, its log end), so it answers offset lookups
	# OFFSET_NOT_AVAILABLE (KIP-207) where one that took its log end as
	# committed would say 5
	broker_kill "$leader"
	broker_start "$leader"
	wait_for sh -c "timeout 20 '$RAW' latest '$(addr "$leader")' hw | grep -qx 'error 78 offset -1'"
	[ "$(zk_state hw 0 leader)" = "$leader" ]
	isr_is_p hw 0 '[1,2]'
	# the uncommitted records stay hidden from consumers
	run timeout 20 "$RAW71" fetch "$(addr "$leader")" hw 0
	assert_output "error 0 records 3"
	# once the follower has them they are committed
	kill -CONT "$fpid"
	wait_for latest_is "$leader" hw 5
	isr_is_p hw 0 '[1,2]'
	run timeout 20 kconsume -b "$(cluster_boot)" -t hw -o beginning -e
	assert_success
	assert_output $'c-1\nc-2\nc-3\nu-1\nu-2'
}

@test "cluster commit: a partition whose only ISR member restarts serves its whole log at once" {
	cluster_start 2
	local leader
	timeout 20 ktopic -b "$(cluster_boot)" create -p 1 -r 1 solo
	wait_for zk stat /brokers/topics/solo/partitions/0/state
	leader=$(zk_state solo 0 leader)
	seq 1 4 | sed 's/^/s-/' |
	    timeout 20 kproduce -b "$(cluster_boot)" -t solo --acks all
	broker_kill "$leader"
	# as if it had crashed before its checkpoint caught up
	sed -i 's/^high_watermark=.*/high_watermark=0/' \
	    "$CL_DIR/b$leader/solo-0/kpipe.checkpoint"
	grep -qx 'high_watermark=0' "$CL_DIR/b$leader/solo-0/kpipe.checkpoint"
	broker_start "$leader"
	# the first answer it gives already has everything
	wait_for sh -c "timeout 20 '$RAW' latest '$(addr "$leader")' solo | grep -q '^error 0 '"
	run latest "$leader" solo
	assert_output "error 0 offset 4"
	run timeout 20 kconsume -b "$(addr "$leader")" -t solo -o beginning -e
	assert_output $'s-1\ns-2\ns-3\ns-4'
}

@test "cluster commit: an OffsetCommit is answered only once the follower has it" {
	# sessions outlive the follower's pauses; nobody leaves the ISR
	CL_SESSION_MS=10000 cluster_start 2 -o replica.lag.time.max.ms=600000 \
	    -o offsets.topic.num.partitions=1 \
	    -o offsets.topic.replication.factor=2
	local coord fol fpid bg out=$BATS_TEST_TMPDIR/commit.out
	coord=$(offsets_setup)
	fol=$(other "$coord")
	fpid=$(broker_pid "$fol")
	run timeout 20 "$RAW" commit "$(addr "$coord")" g ct 5
	assert_output $'error 0\nerror 0'
	# the follower stops: the commit waits for it...
	kill -STOP "$fpid"
	timeout 30 "$RAW" commit "$(addr "$coord")" g ct 9 2 >"$out" &
	bg=$!
	sleep 1
	kill -0 "$bg"
	[ ! -s "$out" ]
	# ...an OffsetFetch meanwhile shows what is committed, not what waits
	run fetched_is "$coord" g ct 5
	assert_success
	# ...and is answered once it goes on and fetches the record
	kill -CONT "$fpid"
	wait "$bg"
	run cat "$out"
	assert_output $'error 0\nerror 0'
	fetched_is "$coord" g ct 9
	# a follower that does not come back in offsets.commit.timeout.ms
	# (5 s) times the commit out (REQUEST_TIMED_OUT, v3's layout)
	kill -STOP "$fpid"
	run timeout 30 "$RAW" commit "$(addr "$coord")" g ct 11 3
	kill -CONT "$fpid"
	assert_output $'error 7\nerror 7'
}

@test "cluster commit: a commit the coordinator acknowledged survives its loss; one it could not replicate is neither acknowledged nor fetched" {
	cluster_start 2 -o replica.lag.time.max.ms=600000 \
	    -o offsets.topic.num.partitions=1 \
	    -o offsets.topic.replication.factor=2
	local coord fol cpid watch out=$BATS_TEST_TMPDIR/commit.out
	coord=$(offsets_setup)
	fol=$(other "$coord")
	cpid=$(broker_pid "$coord")
	# the coordinator dies the moment its answer is out
	: >"$out"
	timeout 30 sh -c "while [ ! -s '$out' ]; do sleep 0.01; done
	    kill -KILL $cpid" &
	watch=$!
	timeout 30 "$RAW" commit "$(addr "$coord")" g ct 42 >"$out"
	wait "$watch"
	run cat "$out"
	assert_output $'error 0\nerror 0'
	# (the watcher killed it: broker_kill's own kill would fail)
	wait "$cpid" 2>/dev/null || true
	rm -f "$CL_DIR/b$coord.pid"
	# the follower takes over the group with the commit it was told of
	wait_for -t 30 leader_is_not_p __consumer_offsets 0 "$coord"
	wait_for fetched_is "$fol" g ct 42
	# the old coordinator comes back as follower (with a session that
	# outlives its pause below); now it stops fetching, still in the
	# ISR: registered, and a long lag time
	CL_SESSION_MS=20000 broker_start "$coord"
	wait_for isr_is_p __consumer_offsets 0 '[1,2]'
	cpid=$(broker_pid "$coord")
	kill -STOP "$cpid"
	# a commit no follower can copy is not acknowledged...
	run timeout 30 "$RAW" commit "$(addr "$fol")" g ct 77 2
	assert_output $'error 7\nerror 7'
	# ...nor shown by its coordinator, which keeps what it acknowledged
	run timeout 20 "$RAW" fetch "$(addr "$fol")" g ct
	assert_output "offset 42"
	# ...and indeed is lost with its coordinator: the other one, going
	# on, leads the group's partition with what was acknowledged
	broker_kill "$fol"
	kill -CONT "$cpid"
	wait_for -t 30 leader_is_p __consumer_offsets 0 "$coord"
	wait_for fetched_is "$coord" g ct 42
}

group_is() {	# group_is ID GROUP JSON-TAIL: kgroup --state from broker ID
	kgroup -b "$(addr "$1")" --json describe --state "$2" | grep -q "$3"
}

hw_moved() {	# hw_moved ID TOPIC OLD: its high watermark is past OLD
	[ "$(latest "$1" "$2")" != "$3" ]
}

@test "cluster commit: a group's members move with its coordinator and go on unrebalanced" {
	cluster_start 2 -o offsets.topic.num.partitions=1 \
	    -o offsets.topic.replication.factor=2 \
	    -o group.initial.rebalance.delay.ms=0
	local coord fol hw ids kc out=$BATS_TEST_TMPDIR/member.out
	coord=$(offsets_setup)
	fol=$(other "$coord")
	hw=$(latest "$coord" __consumer_offsets)
	timeout 120 kconsume -b "$(cluster_boot)" -u -g g \
	    --session-timeout-ms 10000 -t ct >"$out" \
	    2>"$BATS_TEST_TMPDIR/member.err" &
	kc=$!
	wait_for -t 30 group_is "$coord" g '"state":"Stable","members":1}'
	ids=$(kgroup -b "$(addr "$coord")" describe --members g | cut -f2)
	# the membership reached the follower: the high watermark passed it
	wait_for hw_moved "$coord" __consumer_offsets "$hw"
	broker_kill "$coord"
	wait_for -t 30 leader_is_p __consumer_offsets 0 "$fol"
	wait_for -t 30 leader_is_p ct 0 "$fol"
	wait_for -t 30 leader_is_p ct 1 "$fol"
	printf 'a\nb\nc\nd\n' | kproduce -b "$(addr "$fol")" -t ct
	wait_for -t 30 sh -c "[ \$(wc -l <'$out') -ge 4 ]"
	# the member's heartbeats went on: a rejoin gets a new member id
	assert_equal "$(kgroup -b "$(addr "$fol")" describe --members g |
	    cut -f2)" "$ids"
	run kgroup -b "$(addr "$fol")" describe --state g
	assert_output --regexp $'\tStable\t1$'
	kill "$kc"
	wait "$kc" || true
}

@test "cluster commit: too small an ISR for __consumer_offsets refuses commits (COORDINATOR_NOT_AVAILABLE)" {
	# the follower leaves the ISR when its session ends (controller);
	# a short lag time would let a follower slowed down by load flap in
	# and out of it meanwhile, and the first commit with it
	cluster_start 2 -o replica.lag.time.max.ms=600000 \
	    -o min.insync.replicas=2 -o offsets.topic.num.partitions=1 \
	    -o offsets.topic.replication.factor=2
	local coord fol
	coord=$(offsets_setup)
	fol=$(other "$coord")
	run timeout 20 "$RAW" commit "$(addr "$coord")" g ct 5
	assert_output $'error 0\nerror 0'
	broker_kill "$fol"
	wait_for isr_is_p __consumer_offsets 0 "[$coord]"
	# and the coordinator's view has it (it decides on its view)
	wait_for view_isr_is "$coord" __consumer_offsets 0 "[$coord]"
	run timeout 20 "$RAW" commit "$(addr "$coord")" g ct 6
	assert_output $'error 15\nerror 15'
	# nothing was committed
	run timeout 20 "$RAW" fetch "$(addr "$coord")" g ct
	assert_output "offset 5"
}

@test "cluster commit: AddPartitionsToTxn and TxnOffsetCommit the ISR never copies fail per partition, as Kafka's coordinators answer" {
	# sessions outlive the 15 s pause below; nobody leaves the ISR
	CL_SESSION_MS=20000 cluster_start 2 -o replica.lag.time.max.ms=600000 \
	    -o offsets.topic.num.partitions=1 \
	    -o offsets.topic.replication.factor=2 \
	    -o transaction.state.log.num.partitions=1 \
	    -o transaction.state.log.replication.factor=2
	local coord tc pid
	coord=$(offsets_setup)
	# FindCoordinator for a transactional id makes __transaction_state
	wait_for -t 30 sh -c "timeout 10 $PY '$TXN' coord '$(addr 1)' tx | grep -q '^error 0 '"
	wait_for isr_is_p __transaction_state 0 '[1,2]'
	tc=$(zk_state __transaction_state 0 leader)
	wait_for sh -c "timeout 10 $PY '$TXN' coord '$(addr "$tc")' tx | grep -qx 'error 0 node $tc'"
	run timeout 20 $PY "$TXN" init "$(addr "$tc")" tx 60000
	assert_output --regexp '^error 0 pid [0-9]+ epoch 0$'
	pid=$(echo "$output" | awk '{ print $4 }')
	run timeout 20 $PY "$TXN" add "$(addr "$tc")" tx "$pid" 0 ct:0
	assert_output 'ct-0 0'
	run timeout 20 $PY "$TXN" offsets "$(addr "$tc")" tx "$pid" 0 g
	assert_output 'error 0'
	# the state's follower stops: adding a partition waits 15 s for it,
	# then says COORDINATOR_NOT_AVAILABLE for it (v3, flexible)
	kill -STOP "$(broker_pid "$(other "$tc")")"
	run timeout 40 $PY "$TXN" add "$(addr "$tc")" tx "$pid" 0 ct:1 v=3
	kill -CONT "$(broker_pid "$(other "$tc")")"
	assert_output 'ct-1 15'
	# the offsets' follower stops: the offsets wait offsets.commit.timeout.ms
	# (5 s), then REQUEST_TIMED_OUT (v3)
	kill -STOP "$(broker_pid "$(other "$coord")")"
	run timeout 40 $PY "$TXN" txncommit "$(addr "$coord")" tx "$pid" 0 g ct 0 5 v=3
	kill -CONT "$(broker_pid "$(other "$coord")")"
	assert_output 'ct-0 7'
}

# Two brokers logging every connection and request (-vv), the coordinator
# of transactional id "tx" on one (__transaction_state with RF replicas,
# default 2), and TOPIC with PARTS partitions of one replica each; sets TC
# (the coordinator), LEAD (the other broker), P (a partition of TOPIC that
# LEAD leads) and PID (tx's producer id, epoch 0).
markers_setup() {	# markers_setup TOPIC PARTS [RF]
	cluster_start 2 -v -v -o transaction.state.log.num.partitions=1 \
	    -o transaction.state.log.replication.factor="${3:-2}"
	timeout 20 ktopic -b "$(cluster_boot)" create -p "$2" -r 1 "$1"
	wait_for -t 30 sh -c "timeout 10 $PY '$TXN' coord '$(addr 1)' tx | grep -q '^error 0 '"
	[ "${3:-2}" = 1 ] || wait_for isr_is_p __transaction_state 0 '[1,2]'
	TC=$(zk_state __transaction_state 0 leader)
	LEAD=$(other "$TC")
	wait_for sh -c "timeout 10 $PY '$TXN' coord '$(addr "$TC")' tx | grep -qx 'error 0 node $TC'"
	for P in $(seq 0 $(($2 - 1))); do
		[ "$(zk_state "$1" "$P" leader)" = "$LEAD" ] && break
	done
	[ "$(zk_state "$1" "$P" leader)" = "$LEAD" ]
	run timeout 20 $PY "$TXN" init "$(addr "$TC")" tx 60000
	assert_output --regexp '^error 0 pid [0-9]+ epoch 0$'
	PID=$(echo "$output" | awk '{ print $4 }')
}

@test "cluster commit: the transaction coordinator keeps its connection to a leader for the next markers" {
	local tc lead pid p i n
	markers_setup mk 2
	tc=$TC lead=$LEAD p=$P pid=$PID
	: >"$(broker_err "$lead")"
	# five transactions: five produce connections to the leader, and the
	# coordinator's markers, which need one more
	for i in 0 1 2 3 4; do
		run timeout 20 $PY "$TXN" add "$(addr "$tc")" tx "$pid" 0 "mk:$p"
		assert_output "mk-$p 0"
		run timeout 20 $PY "$TXN" produce "$(addr "$lead")" mk "$p" \
		    "$pid" 0 "$i" "v$i"
		assert_output --regexp '^error 0 offset '
		run timeout 20 $PY "$TXN" end "$(addr "$tc")" tx "$pid" 0 commit
		assert_output 'error 0'
		wait_for txn_state_is "$tc" tx CompleteCommit
	done
	n=$(grep -c ': connected on ' "$(broker_err "$lead")")
	# a connection per marker would make it 10 (a fetcher's reconnect, 7)
	[ "$n" -le 7 ]
	[ "$n" -ge 6 ]
}

@test "cluster commit: the coordinator sends a transaction's markers for one leader in one WriteTxnMarkers" {
	local tc lead pid p parts=()
	markers_setup mb 6
	tc=$TC lead=$LEAD pid=$PID
	for p in 0 1 2 3 4 5; do
		[ "$(zk_state mb "$p" leader)" = "$lead" ] && parts+=("mb:$p")
	done
	[ "${#parts[@]}" -ge 2 ]
	run timeout 20 $PY "$TXN" add "$(addr "$tc")" tx "$pid" 0 "${parts[@]}"
	assert_success
	for p in "${parts[@]}"; do
		run timeout 20 $PY "$TXN" produce "$(addr "$lead")" mb "${p#mb:}" \
		    "$pid" 0 0 "v$p"
		assert_output --regexp '^error 0 offset '
	done
	: >"$(broker_err "$lead")"
	run timeout 20 $PY "$TXN" end "$(addr "$tc")" tx "$pid" 0 commit
	assert_output 'error 0'
	wait_for txn_state_is "$tc" tx CompleteCommit
	# one marker per request would make it one per partition
	[ "$(grep -c ' WriteTxnMarkers v' "$(broker_err "$lead")")" -eq 1 ]
	for p in "${parts[@]}"; do
		run timeout 20 $PY "$TXN" fetch "$(addr "$lead")" mb "${p#mb:}" 1
		assert_output "lso 2 values v$p"
	done
}

@test "cluster commit: markers for a leader that is down are retried until it is back" {
	local tc lead pid p
	# the state on the coordinator alone: its writes need no leader
	markers_setup md 2 1
	tc=$TC lead=$LEAD p=$P pid=$PID
	run timeout 20 $PY "$TXN" add "$(addr "$tc")" tx "$pid" 0 "md:$p"
	assert_output "md-$p 0"
	run timeout 20 $PY "$TXN" produce "$(addr "$lead")" md "$p" "$pid" 0 0 v
	assert_output --regexp '^error 0 offset '
	broker_kill "$lead"
	: >"$(broker_err "$tc")"
	run timeout 20 $PY "$TXN" end "$(addr "$tc")" tx "$pid" 0 commit
	assert_output 'error 0'
	# refused until the leader's session expires, then no leader
	wait_for grep -q "md-$p: marker: NETWORK_EXCEPTION, will retry" \
	    "$(broker_err "$tc")"
	txn_state_is "$tc" tx PrepareCommit
	broker_start "$lead"
	wait_for -t 30 txn_state_is "$tc" tx CompleteCommit
	run timeout 20 $PY "$TXN" fetch "$(addr "$lead")" md "$p" 1
	assert_output "lso 2 values v"
}
