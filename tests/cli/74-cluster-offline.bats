#!/usr/bin/env bats
# 74-cluster-offline.bats -- a topic with one offline partition: the tools read and describe the rest, and pick it up when it is back

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

bats_require_minimum_version 1.5.0

RAW="$BATS_TEST_DIRNAME/71-cluster-raw.py"

setup_file() {
	zk_start
	# one cluster for the file; each test makes its own topic and takes
	# broker 3 down itself
	BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR cluster_start 3 \
	    -o group.initial.rebalance.delay.ms=0
	export CL_DIR CL_ZK CL_ARGS
}

teardown_file() {
	zk_stop
}

setup() {
	# a test that failed half way may have left broker 3 down
	[ -n "$(broker_pid 3)" ] || broker_start 3
	wait_for -t 20 zk stat /brokers/ids/3
	CPID=
}

teardown() {
	if [ -n "$CPID" ]; then
		kill -TERM "$CPID" 2>/dev/null || true
		wait "$CPID" 2>/dev/null || true
	fi
}

addr() { echo "127.0.0.1:$(broker_port "$1")"; }

# The leader of topic/partition as broker 1 reports it (-1: none).
leader_of() {
	$PY "$RAW" meta "$(addr 1)" "$1" | $PY -c 'import json, sys
print(json.load(sys.stdin)["topics"][sys.argv[1]]["partitions"][sys.argv[2]]["leader"])' "$1" "$2"
}

leader_is() { [ "$(leader_of "$1" "$2")" = "$3" ]; }

# Topic $1: three partitions, one on each broker, two records in each
# ("p<P>-1", "p<P>-2"). Sets OFF to the partition broker 3 holds and
# LIVE to the other two.
make_topic() {
	local p
	run ktopic -b "$(addr 1)" create -p 3 -r 1 "$1"
	assert_success
	for p in 0 1 2; do
		wait_for -t 20 sh -c "[ \"\$($PY '$RAW' meta '$(addr 1)' '$1' |
		    $PY -c 'import json, sys
print(json.load(sys.stdin)[\"topics\"][\"$1\"][\"partitions\"][\"$p\"][\"leader\"])')\" -ge 1 ]"
		printf 'p%s-1\np%s-2\n' "$p" "$p" |
		    kproduce -b "$(addr 1)" -t "$1" -p "$p"
	done
	OFF= LIVE=
	for p in 0 1 2; do
		if [ "$(leader_of "$1" "$p")" = 3 ]; then
			OFF=$p
		else
			LIVE="$LIVE $p"
		fi
	done
	[ -n "$OFF" ]
}

# Take broker 3 down and wait until its partition of $1 is offline.
offline() {
	broker_kill 3 KILL
	wait_for -t 30 leader_is "$1" "$OFF" -1
}

# Bring broker 3 back and wait until it leads its partition of $1 again.
online() {
	broker_start 3
	wait_for -t 30 leader_is "$1" "$OFF" 3
}

coord_ok() { $PY "$RAW" coord "$(addr 1)" "$1" | grep -q '^error 0 '; }

# A group name starting with $1 whose coordinator is not broker 3: a
# kbroker coordinator keeps a group's offsets to itself (they do not
# follow a coordinator that moves), and these tests are about data
# partitions going offline, not the coordinator.
group_not_on_3() {
	local i
	for i in a b c d e f g h i j k l; do
		wait_for -t 20 coord_ok "$1$i" || return 1
		case $($PY "$RAW" coord "$(addr 1)" "$1$i") in
		'error 0 node 1' | 'error 0 node 2')
			echo "$1$i"
			return 0
			;;
		esac
	done
	return 1
}

# The records make_topic wrote to the given partitions, sorted.
want() {
	local p
	for p in "$@"; do
		printf 'p%s-1\np%s-2\n' "$p" "$p"
	done | sort
}

@test "kconsume -e reads every partition that has a leader, then exits 75 naming the offline one" {
	make_topic off1
	offline off1
	run --separate-stderr timeout 60 kconsume -b "$(cluster_boot)" \
	    -t off1 -e --timeout-ms 1500
	[ "$status" -eq 75 ]
	[ "$(echo "$output" | sort)" = "$(want $LIVE)" ]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ "$stderr" = "kconsume: topic 'off1' partition $OFF: LEADER_NOT_AVAILABLE for 1500 ms, not read" ]
	# the same with the partitions named
	run --separate-stderr timeout 60 kconsume -b "$(cluster_boot)" \
	    -t off1 -p "0-2" -e --timeout-ms 1500 -f '%p %s\n'
	[ "$status" -eq 75 ]
	[ "$(echo "$output" | cut -d' ' -f2 | sort)" = "$(want $LIVE)" ]
	[ "$stderr" = "kconsume: topic 'off1' partition $OFF: LEADER_NOT_AVAILABLE for 1500 ms, not read" ]
	# only the live ones named: nothing is missing
	run timeout 60 kconsume -b "$(cluster_boot)" -t off1 \
	    -p "$(echo $LIVE | tr ' ' ,)" -e --timeout-ms 1500
	assert_success
	[ "$(echo "$output" | sort)" = "$(want $LIVE)" ]
	online off1
}

@test "kconsume -e waits for a partition that comes back within --timeout-ms" {
	make_topic off2
	offline off2
	timeout 60 kconsume -b "$(cluster_boot)" -t off2 -e \
	    --timeout-ms 40000 >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" &
	CPID=$!
	# the live partitions are printed while the other is still down
	wait_for -t 20 sh -c "[ \$(wc -l <'$BATS_TEST_TMPDIR/out') -ge 4 ]"
	online off2
	wait "$CPID"
	CPID=
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	[ "$(sort "$BATS_TEST_TMPDIR/out")" = "$(want 0 1 2)" ]
}

@test "kconsume without -e reads the live partitions and the offline one once it is back, each record once" {
	make_topic off3
	offline off3
	out=$BATS_TEST_TMPDIR/out
	kconsume -b "$(cluster_boot)" -t off3 -u >"$out" \
	    2>"$BATS_TEST_TMPDIR/err" &
	CPID=$!
	wait_for -t 20 sh -c "[ \$(wc -l <'$out') -eq 4 ]"
	[ "$(sort "$out")" = "$(want $LIVE)" ]
	# records to a live partition go on flowing while one is down
	live1=$(echo $LIVE | cut -d' ' -f1)
	echo "live-late" | kproduce -b "$(addr 1)" -t off3 -p "$live1"
	wait_for -t 20 grep -qx live-late "$out"
	online off3
	wait_for -t 30 sh -c "[ \$(wc -l <'$out') -eq 7 ]"
	echo "back-late" | kproduce -b "$(addr 3)" -t off3 -p "$OFF"
	wait_for -t 20 grep -qx back-late "$out"
	kill -0 "$CPID"
	kill -TERM "$CPID"
	wait "$CPID"
	CPID=
	[ "$(sort "$out")" = "$( (want 0 1 2; echo live-late; echo back-late) | sort)" ]
}

@test "ktopic describe shows an offline partition's offsets as unknown and exits 0" {
	make_topic off4
	offline off4
	run --separate-stderr timeout 60 ktopic -b "$(cluster_boot)" \
	    describe off4
	assert_success
	[ -z "$stderr" ]
	# PARTITION LEADER REPLICAS ISR LOG-START-OFFSET HIGH-WATERMARK ERROR
	echo "$output" | grep -Eq "^$OFF +none +3 +[0-9,]* +- +- +LEADER_NOT_AVAILABLE\$"
	for p in $LIVE; do
		echo "$output" | grep -Eq "^$p +[12] +[12] +[12] +0 +2 +-\$"
	done
	run --separate-stderr timeout 60 ktopic -b "$(cluster_boot)" \
	    --json describe off4
	assert_success
	[ -z "$stderr" ]
	echo "$output" | $PY -c 'import json, sys
ps = json.loads(sys.stdin.readline())["partition_info"]
off = int(sys.argv[1])
for p in ps:
    if p["partition"] == off:
        assert p["leader"] == -1 and p["offline"] is True, p
        assert p["log_start_offset"] is None and p["high_watermark"] is None, p
    else:
        assert p["leader"] in (1, 2) and p["offline"] is False, p
        assert p["log_start_offset"] == 0 and p["high_watermark"] == 2, p' "$OFF"
	online off4
	run ktopic -b "$(cluster_boot)" --json describe off4
	assert_success
	echo "$output" | $PY -c 'import json, sys
ps = json.loads(sys.stdin.readline())["partition_info"]
assert all(p["high_watermark"] == 2 and not p["offline"] for p in ps), ps'
}

@test "kgroup describe shows the lag of the live partitions when one is offline" {
	make_topic off5
	g=$(group_not_on_3 g5)
	run timeout 60 kconsume -b "$(addr 1)" -g "$g" -t off5 -e -c 6 \
	    --commit sync
	assert_success
	echo "p0-3" | kproduce -b "$(addr 1)" -t off5 -p 0
	echo "p1-3" | kproduce -b "$(addr 1)" -t off5 -p 1
	echo "p2-3" | kproduce -b "$(addr 1)" -t off5 -p 2
	offline off5
	run --separate-stderr timeout 60 kgroup -b "$(cluster_boot)" \
	    --json describe "$g"
	assert_success
	echo "$output" | $PY -c 'import json, sys
d = json.loads(sys.stdin.readline())
off = int(sys.argv[1])
ps = {p["partition"]: p for p in d["partitions"] if p["topic"] == "off5"}
assert sorted(ps) == [0, 1, 2], d
for i, p in ps.items():
    assert p["current_offset"] == 2, p
    if i == off:
        assert p["log_end_offset"] is None and p["lag"] is None, p
    else:
        assert p["log_end_offset"] == 3 and p["lag"] == 1, p
assert d["total_lag"] == 2, d' "$OFF"
	online off5
}

@test "kconsume -g -e reads and commits the live partitions, exits 75, and a later run reads only the rest" {
	make_topic off6
	g=$(group_not_on_3 g6)
	offline off6
	run --separate-stderr timeout 60 kconsume -b "$(cluster_boot)" \
	    -g "$g" -t off6 -e --timeout-ms 1500
	[ "$status" -eq 75 ]
	[ "$(echo "$output" | sort)" = "$(want $LIVE)" ]
	[ "$stderr" = "kconsume: topic 'off6' partition $OFF: LEADER_NOT_AVAILABLE for 1500 ms, not read" ]
	online off6
	run timeout 60 kconsume -b "$(cluster_boot)" -g "$g" -t off6 -e
	assert_success
	[ "$(echo "$output" | sort)" = "$(want "$OFF")" ]
}
