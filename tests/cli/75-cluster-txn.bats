#!/usr/bin/env bats
# 75-cluster-txn.bats -- cluster mode has no transaction coordinator yet, and says so

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

bats_require_minimum_version 1.5.0

TXN="$BATS_TEST_DIRNAME/14-kbroker-txn.py"

setup_file() {
	zk_start
	BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR cluster_start 1
	export CL_DIR CL_ZK CL_ARGS
}

teardown_file() {
	zk_stop
}

@test "cluster mode: transactions are refused with a clear error" {
	addr=127.0.0.1:$(broker_port 1)
	run timeout 20 $PY "$TXN" coord "$addr" tx
	assert_output $'error 42 node -1\nmessage transactions are not supported in cluster mode'
	run timeout 20 $PY "$TXN" init "$addr" tx 10000
	assert_output 'error 15 pid -1 epoch -1'
	# groups still have their coordinator
	run timeout 20 $PY "$BATS_TEST_DIRNAME/71-cluster-raw.py" coord "$addr" g1
	assert_output --regexp '^error (0 node 1|15 node -1)$'
	# a transactional producer gives up with that message
	run timeout 60 $PY - "$addr" <<'PY'
import sys
from confluent_kafka import KafkaException, Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "tx"})
try:
    p.init_transactions(5)
    print("initialised")
except KafkaException as e:
    print("failed:", e.args[0].str())
PY
	assert_line --regexp "^failed: "
	refute_line 'initialised'
	run grep -c 'transactions are not supported in cluster mode' \
	    "$(broker_err 1)"
	assert_output 1
}
