#!/usr/bin/env bats
# 22-kproduce-txn-cluster.bats -- kproduce --transactional-id and kconsume --isolation-level against a kbroker in cluster mode (coordinator found through __transaction_state in ZooKeeper)

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

bats_require_minimum_version 1.5.0

setup_file() {
	zk_start
	BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR cluster_start 1 \
	    -o transaction.state.log.num.partitions=3
	export CL_DIR CL_ZK CL_ARGS
}

teardown_file() {
	zk_stop
}

@test "cluster mode: a kproduce run commits as one transaction; a run with bad input is aborted and never read committed" {
	addr=127.0.0.1:$(broker_port 1)
	ktopic -b "$addr" create t -p 2
	# the first run also has the broker create __transaction_state
	run --separate-stderr timeout 60 kproduce -b "$addr" -t t -K : \
	    --transactional-id tx <<<$'a:1\nb:2\nc:3'
	assert_success
	# the next run's first record is written, then its bad input aborts it
	mkfifo "$BATS_TEST_TMPDIR/in"
	timeout --foreground 60 kproduce -b "$addr" -t t -f json \
	    --transactional-id tx <"$BATS_TEST_TMPDIR/in" \
	    2>"$BATS_TEST_TMPDIR/kp.err" &
	kp=$!
	exec 8>"$BATS_TEST_TMPDIR/in"
	echo '{"key":"d","value":"4"}' >&8
	for _ in $(seq 1 100); do
		timeout 20 kconsume -b "$addr" -t t -e -f '%k\n' \
		    --isolation-level read_uncommitted | grep -qx d && break
		sleep 0.1
	done
	echo 'not json' >&8
	exec 8>&-
	wait "$kp" && status=0 || status=$?
	assert_equal "$status" 65
	run cat "$BATS_TEST_TMPDIR/kp.err"
	assert_output --partial "transaction aborted"
	run timeout 20 kconsume -b "$addr" -t t -e -f '%k=%s\n' \
	    --isolation-level read_committed
	assert_success
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "a=1 b=2 c=3 "
	# read_uncommitted shows the aborted record too
	run timeout 20 kconsume -b "$addr" -t t -e -f '%k=%s\n' \
	    --isolation-level read_uncommitted
	assert_success
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "a=1 b=2 c=3 d=4 "
	run ktopic -b "$addr" describe __transaction_state
	assert_success
}
