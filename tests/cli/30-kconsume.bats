#!/usr/bin/env bats
# 30-kconsume.bats -- kconsume: offsets, ranges, exit conditions, output formats

load client_helper

setup() {
	start_broker
}

teardown() {
	if [ -n "${HOLE_PID:-}" ]; then
		kill "$HOLE_PID" 2>/dev/null || true
		wait "$HOLE_PID" 2>/dev/null || true
	fi
	if [ -n "${BG_PID:-}" ]; then
		kill "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	stop_broker
}

# topic t, one partition, records 0..9 with values v0..v9
fill() {
	ktopic create -p 1 t
	for i in 0 1 2 3 4 5 6 7 8 9; do echo "v$i"; done | kproduce -t t
}

kc() {
	timeout 20 kconsume "$@"
}

@test "kconsume --help prints the synopsis; usage errors are 64" {
	run kconsume --help
	assert_success
	assert_output --partial "usage: kconsume"
	run kconsume -V
	assert_output --regexp '^kconsume [0-9]'
	run kconsume
	assert_equal "$status" 64
	assert_output --partial "no topic"
	run kconsume -t t -o bogus
	assert_equal "$status" 64
	assert_output --partial "kconsume: offset 'bogus'"
	run kconsume -t t -f '%q'
	assert_equal "$status" 64
	assert_output --partial "unknown token '%q'"
	run kconsume -t t -c 0
	assert_equal "$status" 64
	run kconsume -t t -p x
	assert_equal "$status" 64
}

@test "kconsume -e reads from the beginning and exits 0 at the end" {
	fill
	run kc -t t -e
	assert_success
	assert_equal "${#lines[@]}" 10
	assert_line --index 0 v0
	assert_line --index 9 v9
}

@test "kconsume -e on an empty topic exits at once" {
	ktopic create -p 3 t
	run kc -t t -e
	assert_success
	assert_output ""
}

@test "kconsume -o N, -N, +N, end" {
	fill
	run kc -t t -e -o 7
	assert_output "v7
v8
v9"
	run kc -t t -e -o -2
	assert_output "v8
v9"
	run kc -t t -e -o +8
	assert_output "v8
v9"
	run kc -t t -e -o end
	assert_output ""
	run kc -t t -e -o beginning -c 1
	assert_output "v0"
}

@test "kconsume -o START:END reads a range, END exclusive" {
	fill
	run kc -t t -o 2:5
	assert_success
	assert_output "v2
v3
v4"
	run kc -t t -o -3:end
	assert_output "v7
v8
v9"
	run kc -t t -o :+2
	assert_output "v0
v1"
}

@test "kconsume -o :end stops at the end seen at start, without -e" {
	fill
	run kc -t t -o :end
	assert_success
	assert_equal "${#lines[@]}" 10
}

@test "kconsume -o -N counts per partition" {
	ktopic create -p 2 t
	printf 'a\nb\nc\n' | kproduce -t t -p 0
	printf 'x\ny\nz\n' | kproduce -t t -p 1
	run kc -t t -e -o -1 -f '%p:%s\n'
	assert_output "0:c
1:z"
}

@test "kconsume -o @TIME starts at the first record that new" {
	ktopic create -p 1 t
	printf '{"timestamp":1000,"value":"a"}\n{"timestamp":2000,"value":"b"}\n{"timestamp":3000,"value":"c"}\n' |
	    kproduce -t t -f json
	run kc -t t -e -o @2000
	assert_output "b
c"
	run kc -t t -e -o @1970-01-01T00:00:02.500Z
	assert_output "c"
	run kc -t t -o @1000:@3000
	assert_output "a
b"
	run kc -t t -e -o @-1h
	assert_output ""
}

@test "kconsume -o @-1h finds records written just now" {
	fill
	run kc -t t -e -o @-1h
	assert_equal "${#lines[@]}" 10
	run kc -t t -e -o "@$(date -u +%Y-%m-%d)"
	assert_equal "${#lines[@]}" 10
}

@test "kconsume -c N stops after N records across partitions" {
	ktopic create -p 3 t
	seq 1 30 | kproduce -t t -K: -k x
	run kc -t t -c 4
	assert_success
	assert_equal "${#lines[@]}" 4
}

@test "kconsume -t is repeatable, -p picks partitions" {
	ktopic create -p 1 a
	ktopic create -p 3 b
	echo one | kproduce -t a
	echo two | kproduce -t b -p 2
	echo three | kproduce -t b -p 0
	run kc -t a -t b -e -f '%t/%p %s\n'
	assert_line "a/0 one"
	assert_line "b/2 two"
	assert_line "b/0 three"
	run kc -t b -p 2 -e
	assert_output "two"
	run kc -t b -p 0-1 -e
	assert_output "three"
}

@test "kconsume follows new records until -c is met (long polling)" {
	ktopic create -p 1 t
	timeout 20 kconsume -t t -c 3 >"$BATS_TEST_TMPDIR/out" &
	BG_PID=$!
	sleep 0.5
	printf 'a\nb\n' | kproduce -t t
	sleep 0.3
	echo c | kproduce -t t
	wait "$BG_PID"
	BG_PID=
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "a
b
c"
}

@test "kconsume -f json writes one object per record" {
	ktopic create -p 1 t
	printf 'k:v\n' | kproduce -t t -K: -H h=1
	run kc -t t -e -f json
	assert_output --regexp '^\{"topic":"t","partition":0,"offset":0,"timestamp":[0-9]{13},"key":"k","value":"v","headers":\[\{"key":"h","value":"1"\}\]\}$'
	printf '\377\000\n' | kproduce -t t -w
	run bash -c 'kconsume -t t -e -f json -o 1 | jq -c .value'
	assert_output '{"base64":"/wAK"}'
}

@test "kconsume -f with kcat tokens and escapes" {
	fill
	run kc -t t -e -o 9 -f 'topic=%t p=%p o=%o k=%k K=%K s=%s S=%S h=%h\t%%\n'
	assert_output "topic=t p=0 o=9 k= K=-1 s=v9 S=2 h=	%"
	run kc -t t -e -o 9 -f '%T\n'
	assert_output --regexp '^[0-9]{13}$'
}

@test "kconsume -K prints keys; --null-str shows nulls" {
	ktopic create -p 1 t
	printf 'k:v\nnokey\n' | kproduce -t t -K:
	run kc -t t -e -K '='
	assert_output "k=v
=nokey"
	run kc -t t -e -K '=' --null-str '<null>'
	assert_output "k=v
<null>=nokey"
	run kc -t t -e -D ';'
	assert_output "v;nokey;"
}

@test "kconsume -u and a pipe both deliver every record" {
	fill
	run bash -c 'kconsume -t t -e -u | cat'
	assert_equal "${#lines[@]}" 10
}

@test "kconsume -f json | kproduce -f json copies a topic exactly" {
	ktopic create -p 3 src
	ktopic create -p 3 dst
	printf '%s\n' \
	    '{"partition":0,"timestamp":1000,"key":"k","value":"v","headers":[{"key":"h","value":"x"},{"key":"h","value":null}]}' \
	    '{"partition":1,"timestamp":2000,"key":null,"value":null}' \
	    '{"partition":2,"timestamp":3000,"key":{"base64":"AAEC/w=="},"value":{"base64":"gA=="}}' \
	    '{"partition":2,"timestamp":4000,"key":"","value":""}' |
	    kproduce -t src -f json
	kc -t src -e -f json | kproduce -t dst -f json
	kc -t src -e -f json | sed 's/"topic":"src"//' | sort >"$BATS_TEST_TMPDIR/a"
	kc -t dst -e -f json | sed 's/"topic":"dst"//' | sort >"$BATS_TEST_TMPDIR/b"
	run diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_success
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/a")" 4
}

@test "kconsume: an unknown topic is exit 65 with the Kafka error name" {
	stop_broker
	start_broker -o auto.create.topics.enable=false
	run kc -t nosuch -e
	assert_equal "$status" 65
	assert_output "kconsume: topic 'nosuch': UNKNOWN_TOPIC_OR_PARTITION"
}

@test "kconsume: a partition the topic lacks is exit 65" {
	ktopic create -p 2 t
	run kc -t t -p 7 -e
	assert_equal "$status" 65
	assert_output --partial "partition 7"
}

@test "kconsume: no broker is exit 69" {
	run kc -b 127.0.0.1:$(dead_port) -t t -e
	assert_equal "$status" 69
	assert_output --partial "kconsume: connect 127.0.0.1:"
}

@test "kconsume --bench prints the consumer perf test figures" {
	ktopic create -p 1 t
	seq 1 1000 | kproduce -t t
	run kc -t t --bench 1000
	assert_success
	assert_line --index 0 "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
	assert_line --index 1 --regexp ', 1000, [0-9.]+, 0, '
}

@test "kconsume: every long option is in kconsume(1)" {
	check_man_options kconsume "$KP_TOP"/cmd/kconsume/main.c
}

@test "kconsume --help prints the SYNOPSIS of kconsume(1)" {
	check_synopsis kconsume
}

@test "kconsume(1) is clean under mandoc -Tlint" {
	run mandoc -Tlint -Wwarning "$KP_TOP/man/man1/kconsume.1"
	assert_success
	assert_output ""
}

@test "--timeout-ms bounds the wait for a broker that never answers" {
	start_black_hole
	run timeout 20 kconsume -b 127.0.0.1:$HOLE_PORT --timeout-ms 300 -t t -e
	assert_equal "$status" 69
	assert_output --partial "ApiVersions: Connection timed out"
	run timeout 20 kproduce -b 127.0.0.1:$HOLE_PORT --timeout-ms 300 -t t < <(echo a)
	assert_equal "$status" 69
	run timeout 20 ktopic -b 127.0.0.1:$HOLE_PORT --timeout-ms 300 list
	assert_equal "$status" 69
}

@test "kconsume keeps following across a broker restart" {
	ktopic create -p 1 t
	echo a | kproduce -t t
	timeout 30 kconsume -t t -c 2 >"$BATS_TEST_TMPDIR/out" &
	BG_PID=$!
	for i in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/out" ] && break
		sleep 0.05
	done
	stop_broker
	sleep 0.3
	start_broker
	echo b | kproduce -t t
	st=0
	wait "$BG_PID" || st=$?
	BG_PID=
	assert_equal "$st" 0
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "a
b"
}
