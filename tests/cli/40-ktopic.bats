#!/usr/bin/env bats
# 40-ktopic.bats -- ktopic: admin commands against kbroker, offline dump

load client_helper

setup() {
	start_broker
}

teardown() {
	stop_broker
}

@test "ktopic --help prints the synopsis; bad commands are 64" {
	run ktopic --help
	assert_success
	assert_output --partial "usage: ktopic"
	run ktopic -V
	assert_output --regexp '^ktopic [0-9]'
	run ktopic
	assert_equal "$status" 64
	run ktopic frobnicate
	assert_equal "$status" 64
	assert_output --partial "unknown command 'frobnicate'"
	run ktopic create
	assert_equal "$status" 64
	run ktopic create -p 0 t
	assert_equal "$status" 64
	run ktopic alter t
	assert_equal "$status" 64
	run ktopic trim t
	assert_equal "$status" 64
}

@test "ktopic create then list shows the topic" {
	ktopic create -p 3 alpha
	ktopic create beta gamma
	run ktopic list
	assert_success
	assert_output "alpha
beta
gamma"
}

@test "ktopic --json list gives one object per topic" {
	ktopic create -p 3 alpha
	run ktopic --json list
	assert_output '{"topic":"alpha","partitions":3,"replication_factor":1,"internal":false}'
}

@test "ktopic create of an existing topic is 65 unless --if-not-exists" {
	ktopic create t
	run ktopic create t
	assert_equal "$status" 65
	assert_output --partial "ktopic: topic 't': TOPIC_ALREADY_EXISTS"
	run ktopic create --if-not-exists t
	assert_success
}

@test "ktopic create with a bad replication factor reports the Kafka error" {
	run ktopic create -r 3 t
	assert_equal "$status" 65
	assert_output --partial "INVALID_REPLICATION_FACTOR"
}

@test "ktopic create -c sets configs that describe shows" {
	ktopic create -p 2 -c retention.ms=60000 -c cleanup.policy=compact t
	run ktopic describe t
	assert_success
	assert_line --index 0 --regexp '^Topic: t	PartitionCount: 2	ReplicationFactor: 1	Configs: .*retention.ms=60000'
	assert_line --index 0 --partial "cleanup.policy=compact"
}

@test "ktopic describe shows leader, replicas, ISR, log start and high watermark" {
	ktopic create -p 2 t
	printf 'a\nb\nc\n' | kproduce -t t -p 1
	run ktopic describe t
	assert_line --index 1 --regexp '^PARTITION +LEADER +REPLICAS +ISR +LOG-START-OFFSET +HIGH-WATERMARK +ERROR$'
	assert_line --index 2 --regexp '^0 +0 +0 +0 +0 +0 +-$'
	assert_line --index 3 --regexp '^1 +0 +0 +0 +0 +3 +-$'
}

@test "ktopic --json describe is one object with partition_info and configs" {
	ktopic create -p 1 -c retention.ms=60000 t
	echo a | kproduce -t t
	run bash -c 'ktopic --json describe t | jq -c "[.topic, .partitions, .partition_info[0].high_watermark, .configs[\"retention.ms\"]]"'
	assert_output '["t",1,1,"60000"]'
}

@test "ktopic describe of an unknown topic is 65" {
	stop_broker
	start_broker -o auto.create.topics.enable=false
	run ktopic describe nosuch
	assert_equal "$status" 65
	assert_output --partial "topic 'nosuch': UNKNOWN_TOPIC_OR_PARTITION"
}

@test "ktopic alter -p adds partitions" {
	ktopic create -p 2 t
	ktopic alter -p 5 t
	run ktopic --json list
	assert_output --partial '"partitions":5'
	run ktopic alter -p 3 t
	assert_equal "$status" 65
	assert_output --partial "INVALID_PARTITIONS"
}

@test "ktopic alter -c sets and -d deletes configs" {
	ktopic create t
	ktopic alter -c retention.ms=5000 t
	run ktopic describe t
	assert_line --index 0 --partial "retention.ms=5000"
	ktopic alter -d retention.ms t
	run ktopic describe t
	refute_line --index 0 --partial "retention.ms=5000"
}

@test "ktopic delete removes topics; unknown is 65 unless --if-exists" {
	ktopic create a b
	ktopic delete a
	run ktopic list
	assert_output "b"
	stop_broker
	start_broker -o auto.create.topics.enable=false
	run ktopic delete nosuch
	assert_equal "$status" 65
	assert_output --partial "UNKNOWN_TOPIC_OR_PARTITION"
	run ktopic delete --if-exists nosuch
	assert_success
}

@test "ktopic offsets prints topic:partition:offset per partition" {
	ktopic create -p 2 t
	printf 'a\nb\n' | kproduce -t t -p 0
	run ktopic offsets t
	assert_output "t:0:2
t:1:0"
	run ktopic offsets --time earliest -p 0 t
	assert_output "t:0:0"
	run ktopic --json offsets -p 0 t
	assert_output '{"topic":"t","partition":0,"offset":2}'
}

@test "ktopic offsets --time finds the first record that new" {
	ktopic create -p 1 t
	printf '{"timestamp":1000,"value":"a"}\n{"timestamp":2000,"value":"b"}\n' |
	    kproduce -t t -f json
	run ktopic offsets --time 1500 t
	assert_output "t:0:1"
	run ktopic offsets --time 1970-01-01T00:00:00Z t
	assert_output "t:0:0"
	run ktopic offsets --time nonsense t
	assert_equal "$status" 64
}

@test "ktopic trim deletes records before an offset" {
	ktopic create -p 1 t
	seq 1 10 | kproduce -t t
	run ktopic trim -o 4 t
	assert_success
	assert_output "t:0:4"
	run ktopic offsets --time earliest t
	assert_output "t:0:4"
	run timeout 20 kconsume -t t -e -c 1
	assert_output "5"
	run ktopic trim -o 99 t
	assert_equal "$status" 65
	assert_output --partial "OFFSET_OUT_OF_RANGE"
}

@test "ktopic dump prints batches and records and checks CRCs" {
	ktopic create -p 1 t
	printf 'k1:v1\nk2:v2\n' | kproduce -t t -K: -H h=x
	seg=$KB_DATA/t-0/00000000000000000000.log
	run ktopic dump "$seg"
	assert_success
	assert_line --index 0 "Dumping $seg"
	assert_line --index 1 "Log starting offset: 0"
	assert_line --index 2 --regexp '^baseOffset: 0 lastOffset: 1 count: 2 .* magic: 2 compresscodec: none crc: [0-9]+ isvalid: true$'
	assert_line --index 3 --regexp '^\| offset: 0 CreateTime: [0-9]+ keySize: 2 valueSize: 2 sequence: 0 headerKeys: \[h\]$'
	run ktopic dump -d "$seg"
	assert_line --index 4 --regexp 'offset: 1 .* key: k2 payload: v2$'
	run bash -c "ktopic --json dump -d '$seg' | jq -c '[.count, .isvalid, .records[1].value]'"
	assert_output '[2,true,"v2"]'
}

@test "ktopic dump decodes __consumer_offsets and __transaction_state as kafka-dump-log does" {
	ktopic create -p 2 t
	printf 'a\nb\nc\n' | kproduce -t t -p 0
	run timeout 30 kconsume -g g -t t -e
	assert_success
	kgroup delete g
	printf 'x\n' | kproduce -t t -p 1 --transactional-id tx
	stop_broker
	seg=$(ls -S "$KB_DATA"/__consumer_offsets-*/00000000000000000000.log |
	    head -1)
	run ktopic dump --offsets-decoder "$seg"
	assert_success
	# the group as assigned, its commit, emptied, then deleted
	assert_line --index 3 --regexp '^\| offset: 0 .* key: \{"type":"2","data":\{"group":"g"\}\} payload: \{"version":"3","data":\{"protocolType":"consumer","generation":1,"protocol":"range",.*"subscription":\{"topics":\["t"\],.*"assignment":\{"assignedPartitions":\[\{"topic":"t","partitions":\[0,1\]\}\]'
	assert_line --regexp 'key: \{"type":"1","data":\{"group":"g","topic":"t","partition":0\}\} payload: \{"version":"3","data":\{"offset":3,"leaderEpoch":-?[0-9]+,"metadata":"","commitTimestamp":[0-9]+\}\}$'
	assert_line --regexp 'payload: \{"version":"3","data":\{"protocolType":"consumer","generation":2,"protocol":null,"leader":null,"currentStateTimestamp":[0-9]+,"members":\[\]\}\}$'
	assert_line --regexp 'key: \{"type":"2","data":\{"group":"g"\}\} payload: <DELETE>$'
	run bash -c "ktopic --json dump --offsets-decoder '$seg' | jq -c '.records[] | select(.key.type == \"1\" and .value != null) | [.key.data.partition, .value.data.offset]'"
	assert_line '[0,3]'
	seg=$(ls -S "$KB_DATA"/__transaction_state-*/00000000000000000000.log |
	    head -1)
	run ktopic dump --transaction-log-decoder "$seg"
	assert_success
	assert_line --regexp 'key: \{"type":"0","data":\{"transactionalId":"tx"\}\} payload: \{"version":"0","data":\{"producerId":[0-9]+,"producerEpoch":0,"transactionTimeoutMs":[0-9]+,"transactionStatus":1,"transactionPartitions":\[\{"topic":"t","partitionIds":\[1\]\}\],'
	assert_line --regexp '"transactionStatus":4,'
	# a marker shows as one, not as its bytes, with -d too
	run ktopic dump -d "$KB_DATA"/t-1/00000000000000000000.log
	assert_line --regexp 'endTxnMarker: COMMIT coordinatorEpoch: [0-9]+$'
	# not records of that topic: shown as -d shows them
	run ktopic dump --offsets-decoder "$KB_DATA"/t-1/00000000000000000000.log
	assert_line --regexp 'key: null payload: x$'
	run ktopic dump --offsets-decoder --transaction-log-decoder "$seg"
	assert_equal "$status" 64
}

@test "ktopic dump reads index files" {
	ktopic create -p 1 t
	seq 1 3 | kproduce -t t
	stop_broker
	run ktopic dump "$KB_DATA"/t-0/00000000000000000000.timeindex
	assert_success
	assert_line --index 0 --partial "Dumping"
}

@test "ktopic dump of a corrupt segment is 65 and says where" {
	ktopic create -p 1 t
	printf 'a\nb\n' | kproduce -t t
	stop_broker
	cp "$KB_DATA"/t-0/00000000000000000000.log "$BATS_TEST_TMPDIR/bad.log"
	# flip a byte inside the records, covered by the CRC
	printf '\x58' | dd of="$BATS_TEST_TMPDIR/bad.log" bs=1 seek=70 conv=notrunc 2>/dev/null
	run ktopic dump "$BATS_TEST_TMPDIR/bad.log"
	assert_equal "$status" 65
	assert_output --partial "isvalid: false"
	assert_output --partial "CRC mismatch"
	printf 'xyz' >>"$BATS_TEST_TMPDIR/bad.log"
	run ktopic dump "$BATS_TEST_TMPDIR/bad.log"
	assert_output --partial "invalid bytes"
	run ktopic dump "$BATS_TEST_TMPDIR/missing.log"
	assert_equal "$status" 66
}

@test "ktopic: no broker is exit 69" {
	run ktopic -b 127.0.0.1:$(dead_port) list
	assert_equal "$status" 69
	assert_output --partial "ktopic: connect 127.0.0.1:"
}

@test "ktopic: every long option is in ktopic(1)" {
	check_man_options ktopic "$KP_TOP"/cmd/ktopic/*.c
}

# complete_bash PROG WORDS...: run PROG's bash completion on the command
# line PROG WORDS with the cursor on the last word, print the candidates
complete_bash() {
	local prog=$1
	shift
	bash -c 'source "$0"; COMP_WORDS=('"$prog"' "${@}"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _'"$prog"'; printf "%s\n" "${COMPREPLY[@]}"' \
	    "$KP_TOP/completions/bash/$prog" "$@"
}

@test "bash completion offers topic names from the running broker" {
	ktopic create alpha
	ktopic create beta
	run complete_bash kconsume -t ''
	assert_output "alpha
beta"
	run complete_bash kproduce -t a
	assert_output "alpha"
	run complete_bash ktopic describe b
	assert_output "beta"
	run complete_bash ktopic ''
	assert_line "create"
	assert_line "dump"
	run complete_bash kconsume -b "$KB_TCP" -t al
	assert_output "alpha"
}

@test "bash completions know every long option of their program" {
	for p in kproduce kconsume ktopic; do
		for opt in $(grep -hoE '\{[[:space:]]*"[a-z][a-z-]*",[[:space:]]*[a-z_]*_argument' \
		    "$KP_TOP"/cmd/$p/*.c | sed -E 's/\{[[:space:]]*"([a-z-]*)".*/\1/'); do
			grep -q -- "--$opt\\b" "$KP_TOP/completions/bash/$p" ||
			    { echo "$p: --$opt not completed"; return 1; }
			grep -q -- "--$opt\\b" "$KP_TOP/completions/zsh/_$p" ||
			    { echo "$p: --$opt not in zsh"; return 1; }
		done
	done
}

@test "ktopic --help prints the SYNOPSIS of ktopic(1)" {
	check_synopsis ktopic
}

@test "ktopic(1) is clean under mandoc -Tlint" {
	run mandoc -Tlint -Wwarning "$KP_TOP/man/man1/ktopic.1"
	assert_success
	assert_output ""
}
