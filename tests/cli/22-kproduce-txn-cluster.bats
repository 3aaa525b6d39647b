#!/usr/bin/env bats
# 22-kproduce-txn-cluster.bats -- kproduce --transactional-id in cluster mode, which has no transaction coordinator yet: a clear error, at once

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

bats_require_minimum_version 1.5.0

setup_file() {
	zk_start
	BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR cluster_start 1
	export CL_DIR CL_ZK CL_ARGS
}

teardown_file() {
	zk_stop
}

@test "cluster mode: kproduce --transactional-id says transactions are not supported, and writes nothing" {
	addr=127.0.0.1:$(broker_port 1)
	ktopic -b "$addr" create t
	# bounded well below kproduce's 30 s of retries: the refusal is final
	run --separate-stderr timeout 20 kproduce -b "$addr" -t t \
	    --transactional-id tx <<<a
	assert_equal "$status" 69
	[[ "$stderr" == "kproduce: transactional id 'tx': FindCoordinator: INVALID_REQUEST: transactions are not supported in cluster mode" ]] ||
	    fail "stderr: $stderr"
	run timeout 20 kconsume -b "$addr" -t t -e
	assert_success
	assert_output ""
	# without transactions the same producer works
	run timeout 20 kproduce -b "$addr" -t t <<<b
	assert_success
}
