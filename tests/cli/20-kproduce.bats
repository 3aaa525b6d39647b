#!/usr/bin/env bats
# 20-kproduce.bats -- kproduce: input modes, delivery options, exit status

load client_helper

setup() {
	start_broker
}

teardown() {
	stop_broker
}

# all records of a topic as "partition offset key=value", read back
readback() {	# readback TOPIC [kconsume args]
	local t=$1
	shift
	timeout 20 kconsume -t "$t" -e -f '%p %o %k=%s\n' --null-str NULL "$@"
}

@test "kproduce --help prints the synopsis and exits 0" {
	run kproduce --help
	assert_success
	assert_output --partial "usage: kproduce"
	run kproduce -V
	assert_success
	assert_output --regexp '^kproduce [0-9]'
}

@test "kproduce: unknown option and missing topic are usage errors (64)" {
	run kproduce --no-such-option
	assert_equal "$status" 64
	run kproduce </dev/null
	assert_equal "$status" 64
	assert_output --partial "kproduce: no topic"
	run kproduce -t t -p x </dev/null
	assert_equal "$status" 64
	run kproduce -t t --acks 2 </dev/null
	assert_equal "$status" 64
	run kproduce -t t -z snappy </dev/null
	assert_equal "$status" 64
}

@test "kproduce: lines become records, empty lines included" {
	ktopic create -p 1 t
	printf 'a\n\nb\n' | kproduce -t t
	run readback t
	assert_success
	assert_output "0 0 NULL=a
0 1 NULL=
0 2 NULL=b"
}

@test "kproduce: a last line without newline is a record" {
	ktopic create -p 1 t
	printf 'one\ntwo' | kproduce -t t
	run readback t
	assert_output "0 0 NULL=one
0 1 NULL=two"
}

@test "kproduce -D splits on another delimiter, escapes allowed" {
	ktopic create -p 1 t
	printf 'x;y;z' | kproduce -t t -D ';'
	printf 'p\tq' | kproduce -t t -D '\t'
	run readback t
	assert_output "0 0 NULL=x
0 1 NULL=y
0 2 NULL=z
0 3 NULL=p
0 4 NULL=q"
}

@test "kproduce -K splits key and value at the first delimiter" {
	ktopic create -p 1 t
	printf 'k1:v1\nk2:v:2\nnokey\n' | kproduce -t t -K:
	run readback t
	assert_output "0 0 k1=v1
0 1 k2=v:2
0 2 NULL=nokey"
}

@test "kproduce -k gives every record the same key" {
	ktopic create -p 1 t
	printf 'a\nb\n' | kproduce -t t -k fixed
	run readback t
	assert_output "0 0 fixed=a
0 1 fixed=b"
}

@test "kproduce -H adds headers; a name alone is a null header" {
	ktopic create -p 1 t
	echo v | kproduce -t t -H trace=abc -H trace=def -H flag
	run timeout 20 kconsume -t t -e -f '%h\n' --null-str NULL
	assert_output "trace=abc,trace=def,flag=NULL"
}

@test "kproduce -p writes to one partition" {
	ktopic create -p 3 t
	printf 'a\nb\n' | kproduce -t t -p 2
	run readback t
	assert_output "2 0 NULL=a
2 1 NULL=b"
}

@test "kproduce -Z turns empty keys and values into null (tombstones)" {
	ktopic create -p 1 t
	printf 'k:\n:v\n' | kproduce -t t -K: -Z
	run timeout 20 kconsume -t t -e -f json
	assert_line --index 0 --partial '"key":"k","value":null'
	assert_line --index 1 --partial '"key":null,"value":"v"'
}

@test "kproduce --null-marker turns a marker into null" {
	ktopic create -p 1 t
	printf 'k:NULL\nNULL:v\n' | kproduce -t t -K: --null-marker NULL
	run timeout 20 kconsume -t t -e -f json
	assert_line --index 0 --partial '"key":"k","value":null'
	assert_line --index 1 --partial '"key":null,"value":"v"'
}

@test "kproduce -w sends each whole file as one record" {
	ktopic create -p 1 t
	printf 'line1\nline2\n' >"$BATS_TEST_TMPDIR/f1"
	printf 'other' >"$BATS_TEST_TMPDIR/f2"
	kproduce -t t -w "$BATS_TEST_TMPDIR/f1" "$BATS_TEST_TMPDIR/f2"
	run timeout 20 kconsume -t t -e -f '%o:%S\n'
	assert_output "0:12
1:5"
}

@test "kproduce reads files named as arguments like stdin" {
	ktopic create -p 1 t
	printf 'a\nb\n' >"$BATS_TEST_TMPDIR/f1"
	printf 'c\n' >"$BATS_TEST_TMPDIR/f2"
	kproduce -t t "$BATS_TEST_TMPDIR/f1" "$BATS_TEST_TMPDIR/f2"
	run readback t
	assert_output "0 0 NULL=a
0 1 NULL=b
0 2 NULL=c"
}

@test "kproduce: a missing input file is exit 66, the rest still goes" {
	ktopic create -p 1 t
	printf 'a\n' >"$BATS_TEST_TMPDIR/f1"
	run kproduce -t t "$BATS_TEST_TMPDIR/nope" "$BATS_TEST_TMPDIR/f1"
	assert_equal "$status" 66
	assert_output --partial "nope"
	run readback t
	assert_output "0 0 NULL=a"
}

@test "kproduce --acks 0, 1 and all all deliver" {
	ktopic create -p 1 t
	echo a | kproduce -t t --acks 0
	echo b | kproduce -t t --acks 1
	echo c | kproduce -t t --acks all
	run readback t
	assert_output "0 0 NULL=a
0 1 NULL=b
0 2 NULL=c"
}

@test "kproduce --acks 0 still writes every byte before exiting" {
	ktopic create -p 1 t
	seq 1 200000 | kproduce -t t --acks 0
	# no answers come with acks=0: wait for the broker to have them all
	for i in $(seq 1 100); do
		[ "$(ktopic offsets t)" = "t:0:200000" ] && break
		sleep 0.1
	done
	run ktopic offsets t
	assert_output "t:0:200000"
}

@test "kproduce -z gzip writes gzip batches that read back" {
	ktopic create -p 1 t
	seq 1 500 | kproduce -t t -z gzip
	run timeout 20 kconsume -t t -e
	assert_equal "${#lines[@]}" 500
	assert_line --index 499 "500"
	run ktopic dump "$KB_DATA"/t-0/00000000000000000000.log
	assert_output --partial "compresscodec: gzip"
}

@test "kproduce --batch-size and --linger-ms shape batches" {
	ktopic create -p 1 t
	seq 1 100 | kproduce -t t --batch-size 200 --linger-ms 0
	run ktopic dump "$KB_DATA"/t-0/00000000000000000000.log
	assert_success
	n=$(grep -c '^baseOffset' <<<"$output")
	[ "$n" -gt 5 ]
	seq 1 100 | kproduce -t t --batch-size 1m --linger-ms 1000
	run ktopic dump "$KB_DATA"/t-0/00000000000000000000.log
	assert_output --partial "baseOffset: 100 lastOffset: 199 count: 100"
}

@test "kproduce is idempotent by default, --no-idempotence is not" {
	ktopic create -p 1 t
	echo a | kproduce -t t
	echo b | kproduce -t t --no-idempotence
	run bash -c "ktopic dump '$KB_DATA'/t-0/00000000000000000000.log | grep ^baseOffset"
	assert_line --index 0 --regexp 'baseSequence: 0 .*producerId: [0-9]+ '
	assert_line --index 1 --partial 'baseSequence: -1 lastSequence: -1 producerId: -1'
}

@test "kproduce --print-offsets writes where each record landed" {
	ktopic create -p 1 t
	echo x | kproduce -t t
	run kproduce -t t --print-offsets < <(printf 'a\nb\n')
	assert_success
	assert_output '{"topic":"t","partition":0,"offset":1}
{"topic":"t","partition":0,"offset":2}'
}

@test "kproduce: keyed records land on Java's murmur2 partitions" {
	ktopic create -p 3 t
	printf 'a:1\nfoo:2\nuser-101:3\nkey1:4\nkey3:5\n:6\n' | kproduce -t t -K:
	run timeout 20 kconsume -t t -e -f '%k %p\n'
	assert_success
	# research/protocol.md table: murmur2 % 3
	assert_line "a 1"
	assert_line "foo 2"
	assert_line "user-101 1"
	assert_line "key1 2"
	assert_line "key3 1"
	assert_line " 0"
}

@test "kproduce: keyless records stick to one partition per batch" {
	ktopic create -p 4 t
	seq 1 50 | kproduce -t t --linger-ms 1000
	run timeout 20 kconsume -t t -e -f '%p\n'
	assert_equal "$(sort -u <<<"$output" | wc -l)" 1
}

@test "kproduce -f json reads what kconsume -f json writes" {
	ktopic create -p 2 t
	printf '%s\n' \
	    '{"partition":1,"timestamp":1000,"key":"k","value":"v","headers":[{"key":"h","value":"x"}]}' \
	    '{"key":null,"value":{"base64":"AP8="},"timestamp":2000,"partition":0}' \
	    '' \
	    '{"value":"plain"}' | kproduce -t t -f json
	run timeout 20 kconsume -t t -e -f json -p 1 -o 0:1
	assert_output '{"topic":"t","partition":1,"offset":0,"timestamp":1000,"key":"k","value":"v","headers":[{"key":"h","value":"x"}]}'
	run timeout 20 kconsume -t t -e -f '%p %o %T %S\n' -p 0 -o 0:1
	assert_output "0 0 2000 2"
	run timeout 20 kconsume -t t -e -f '%T %s\n'
	assert_line --regexp '^[0-9]{13} plain$'
}

@test "kproduce -f json places records whose partition the topic lacks anew" {
	ktopic create -p 1 t
	printf '{"partition":3,"value":"a"}\n{"partition":0,"value":"b"}\n' |
	    kproduce -t t -f json
	run readback t
	assert_output "0 0 NULL=a
0 1 NULL=b"
}

@test "kproduce -f json takes the topic from each line without -t" {
	ktopic create -p 1 a
	ktopic create -p 1 b
	printf '{"topic":"a","value":"1"}\n{"topic":"b","value":"2"}\n' |
	    kproduce -f json
	run readback a
	assert_output "0 0 NULL=1"
	run readback b
	assert_output "0 0 NULL=2"
}

@test "kproduce: an invalid JSON line is exit 65, earlier lines are kept" {
	ktopic create -p 1 t
	run kproduce -t t -f json < <(printf '{"value":"a"}\n{"value":"b"}\n{"value":\n{"value":"c"}\n')
	assert_equal "$status" 65
	assert_output --partial "stdin:3: invalid JSON"
	run readback t
	assert_output "0 0 NULL=a
0 1 NULL=b"
}

@test "kproduce: a partition the topic lacks is exit 65" {
	ktopic create -p 2 t
	run kproduce -t t -p 5 < <(echo a)
	assert_equal "$status" 65
	assert_output --partial "partition 5: UNKNOWN_TOPIC_OR_PARTITION"
	assert_output --partial "1 of 1 records not delivered"
}

@test "kproduce: topics are auto-created when the broker allows it" {
	echo a | kproduce -t fresh
	run readback fresh
	assert_output --partial "NULL=a"
}

@test "kproduce: an unknown topic with auto-create off is exit 65" {
	stop_broker
	start_broker -o auto.create.topics.enable=false
	run kproduce -t nosuch < <(echo a)
	assert_equal "$status" 65
	assert_output --partial "topic 'nosuch': UNKNOWN_TOPIC_OR_PARTITION"
}

@test "kproduce: no broker is exit 69 with the address in the message" {
	port=$(dead_port)
	run kproduce -b 127.0.0.1:$port -t t < <(echo a)
	assert_equal "$status" 69
	assert_output --partial "kproduce: connect 127.0.0.1:$port:"
	run env KPIPE_BROKERS=unix:$BATS_TEST_TMPDIR/none.sock kproduce -t t < <(echo a)
	assert_equal "$status" 69
	assert_output --partial "none.sock"
}

@test "kproduce -b takes TCP host:port and KPIPE_BROKERS a list" {
	ktopic create -p 1 t
	echo a | kproduce -b "$KB_TCP" -t t
	echo b | KPIPE_BROKERS="127.0.0.1:$(dead_port),$KB_TCP" kproduce -t t
	run readback t
	assert_output "0 0 NULL=a
0 1 NULL=b"
}

@test "kproduce prints no progress into a pipe" {
	ktopic create -p 1 t
	run bash -c 'seq 1 1000 | kproduce -t t 2>&1 >/dev/null'
	assert_success
	assert_output ""
}

@test "kproduce --progress reports into a pipe too" {
	ktopic create -p 1 t
	run bash -c 'seq 1 100 | kproduce -t t --progress 2>&1 >/dev/null'
	assert_success
	assert_output --regexp 'kproduce: 100 records, [0-9]+ records/s'
}

@test "kproduce --bench prints the producer perf test line" {
	ktopic create -p 1 t
	run kproduce -t t --bench 2000 --record-size 100
	assert_success
	assert_output --regexp '^2000 records sent, [0-9.]+ records/sec \([0-9.]+ MB/sec\), [0-9.]+ ms avg latency, [0-9.]+ ms max latency, [0-9]+ ms 50th, [0-9]+ ms 95th, [0-9]+ ms 99th, [0-9]+ ms 99.9th.$'
	run ktopic offsets t
	assert_output "t:0:2000"
	run kproduce -t t --bench 200 --record-size 10 --throughput 2000
	assert_success
	assert_output --regexp '^200 records sent, '
	run kproduce -t t --bench 10
	assert_equal "$status" 64
}

@test "kproduce: every long option is in kproduce(1)" {
	check_man_options kproduce "$KP_TOP"/cmd/kproduce/main.c
}

@test "kproduce survives a broker restart and delivers everything once" {
	ktopic create -p 1 t
	mkfifo "$BATS_TEST_TMPDIR/in"
	kproduce -t t <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/po" \
	    2>"$BATS_TEST_TMPDIR/err" --print-offsets &
	pid=$!
	exec 8>"$BATS_TEST_TMPDIR/in"
	printf 'a\nb\n' >&8
	for i in $(seq 1 100); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/po")" -ge 2 ] && break
		sleep 0.05
	done
	stop_broker
	echo c >&8
	sleep 0.3
	start_broker
	echo d >&8
	exec 8>&-
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 0
	run timeout 20 kconsume -t t -e
	assert_output "a
b
c
d"
	run cat "$BATS_TEST_TMPDIR/po"
	assert_line --index 3 '{"topic":"t","partition":0,"offset":3}'
}

@test "kproduce: a broker gone for good fails with a count, not a hang" {
	ktopic create -p 1 t
	mkfifo "$BATS_TEST_TMPDIR/in"
	kproduce -t t --timeout-ms 1000 --retries 1 <"$BATS_TEST_TMPDIR/in" \
	    2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 8>"$BATS_TEST_TMPDIR/in"
	echo a >&8
	sleep 0.3
	stop_broker
	printf 'b\nc\n' >&8
	exec 8>&-
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 69 ] || [ "$st" -eq 75 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --partial "2 of 3 records not delivered"
}

@test "kproduce shows progress when stderr is a terminal" {
	ktopic create -p 1 t
	run script -qec "seq 1 1000 | kproduce -t t" /dev/null
	assert_success
	assert_output --regexp 'kproduce: 1000 records, [0-9]+ records/s, [0-9.]+ MB/s'
}

@test "kproduce --help prints the SYNOPSIS of kproduce(1)" {
	check_synopsis kproduce
}

@test "kproduce(1) is clean under mandoc -Tlint" {
	run mandoc -Tlint -Wwarning "$KP_TOP/man/man1/kproduce.1"
	assert_success
	assert_output ""
}
