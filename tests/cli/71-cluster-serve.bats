#!/usr/bin/env bats
# 71-cluster-serve.bats -- three kbrokers and a real ZooKeeper, as clients see them: metadata, leaders, routing, groups, a broker lost and back

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

RAW="$BATS_TEST_DIRNAME/71-cluster-raw.py"

setup_file() {
	zk_start
	# one cluster for the whole file: tests build on each other's topics
	BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR cluster_start 3 \
	    -o num.partitions=3 -o group.initial.rebalance.delay.ms=0
	export CL_DIR CL_ZK CL_ARGS
}

teardown_file() {
	zk_stop
}

addr() { echo "127.0.0.1:$(broker_port "$1")"; }

raw() { $PY "$RAW" "$@"; }

# The leader of topic/partition as broker $3 reports it.
leader_of() {
	raw meta "$(addr "${3:-1}")" "$1" | $PY -c 'import json, sys
print(json.load(sys.stdin)["topics"][sys.argv[1]]["partitions"][sys.argv[2]]["leader"])' "$1" "$2"
}

# Every partition of topic has a leader (as broker 1 sees it).
all_led() {
	raw meta "$(addr "${2:-1}")" "$1" | $PY -c 'import json, sys
t = json.load(sys.stdin)["topics"][sys.argv[1]]
sys.exit(0 if t["error"] == 0 and t["partitions"] and
    all(p["leader"] >= 0 for p in t["partitions"].values()) else 1)' "$1"
}

@test "metadata: three brokers, the controller, leaders spread over them" {
	run ktopic -b "$(addr 1)" create -p 6 -r 1 spread
	assert_success
	# answered once the cluster shows it: no waiting needed
	run ktopic -b "$(addr 2)" --json describe spread
	assert_success
	echo "$output" | $PY -c 'import json, sys
d = json.loads(sys.stdin.readline())
ps = d["partition_info"]
assert d["partitions"] == 6 and len(ps) == 6, d
leaders = [p["leader"] for p in ps]
assert sorted(leaders) == [1, 1, 2, 2, 3, 3], leaders
for p in ps:
    assert p["replicas"] == [p["leader"]] and p["isr"] == [p["leader"]], p'
	ctl=$(zk_field /controller brokerid)
	for b in 1 2 3; do
		run raw meta "$(addr "$b")" spread
		assert_success
		echo "$output" | $PY -c 'import json, sys
m = json.load(sys.stdin)
ports = {int(i): int(p) for i, p in (x.split(":") for x in sys.argv[2:])}
assert [b[0] for b in m["brokers"]] == [1, 2, 3], m["brokers"]
for i, host, port in m["brokers"]:
    assert host == "127.0.0.1" and port == ports[i], (i, host, port)
assert m["controller"] == int(sys.argv[1]), m["controller"]
ps = m["topics"]["spread"]["partitions"]
assert all(p["error"] == 0 and p["offline"] == [] for p in ps.values())' \
		    "$ctl" "1:$(broker_port 1)" "2:$(broker_port 2)" \
		    "3:$(broker_port 3)"
	done
	run kcat -b "$(addr 3)" -L -t spread
	assert_success
	assert_output --partial "3 brokers:"
	assert_output --partial "broker $ctl at 127.0.0.1:$(broker_port "$ctl") (controller)"
	assert_output --regexp "partition 5, leader [123], replicas: [123], isrs: [123]"
}

@test "a broker holds directories only for the partitions it replicates" {
	for p in 0 1 2 3 4 5; do
		l=$(leader_of spread $p)
		[ -d "$CL_DIR/b$l/spread-$p" ]
		for b in 1 2 3; do
			[ "$b" = "$l" ] || [ ! -e "$CL_DIR/b$b/spread-$p" ]
		done
	done
}

@test "records produced through one broker reach every partition and come back exactly" {
	seq 1 600 | sed 's/.*/key&:value&/' >"$BATS_TEST_TMPDIR/in"
	run kproduce -b "$(addr 1)" -t spread -K : "$BATS_TEST_TMPDIR/in"
	assert_success
	run ktopic -b "$(addr 1)" --json describe spread
	assert_success
	echo "$output" | $PY -c 'import json, sys
ps = json.loads(sys.stdin.readline())["partition_info"]
assert all(p["high_watermark"] > 0 for p in ps), ps
assert sum(p["high_watermark"] for p in ps) == 600, ps'
	run timeout 30 kconsume -b "$(addr 2)" -t spread -o beginning -e -f json
	assert_success
	echo "$output" | $PY -c 'import json, sys
got = sorted((r["key"], r["value"]) for r in map(json.loads, sys.stdin))
want = sorted(("key%d" % i, "value%d" % i) for i in range(1, 601))
assert got == want, (len(got), got[:3])'
}

@test "a produce or fetch sent to a non-leader answers NOT_LEADER_OR_FOLLOWER" {
	l=$(leader_of spread 0)
	n=$(ktopic -b "$(addr 1)" --json describe spread | $PY -c 'import json, sys
print(json.loads(sys.stdin.readline())["partition_info"][0]["high_watermark"])')
	for b in 1 2 3; do
		run raw produce "$(addr "$b")" spread 0
		assert_success
		if [ "$b" = "$l" ]; then
			assert_output "error 0 offset $n"
		else
			assert_output 'error 6 offset -1'
		fi
		run raw fetch "$(addr "$b")" spread 0
		assert_success
		if [ "$b" = "$l" ]; then
			assert_output "error 0 records $((n + 1))"
		else
			assert_output 'error 6 records 0'
		fi
	done
}

@test "kcat produces and consumes through the cluster, auto-creating the topic" {
	seq 1 90 | sed 's/.*/k&:v&/' | timeout 30 kcat -b "$(addr 2)" -P -t kc -K :
	wait_for all_led kc
	run timeout 30 kcat -b "$(addr 3)" -C -t kc -e -q -f '%p %k %s\n'
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 90 ]
	[ "$(echo "$output" | cut -d' ' -f1 | sort -u | wc -l)" -eq 3 ]
	[ "$(echo "$output" | cut -d' ' -f3 | sort -u | wc -l)" -eq 90 ]
}

@test "kafka-python and confluent-kafka work against the cluster" {
	run timeout 90 $PY - "$(cluster_boot)" <<-'EOF'
		import sys, time
		from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
		from kafka.admin import NewTopic
		from confluent_kafka import Consumer, Producer
		b = sys.argv[1].split(",")
		KafkaAdminClient(bootstrap_servers=b[0]).create_topics(
		    [NewTopic("py", 4, 1)])
		p = KafkaProducer(bootstrap_servers=b[1], acks="all")
		for i in range(200):
		    p.send("py", key=b"k%d" % i, value=b"v%d" % i)
		p.flush()
		c = KafkaConsumer("py", bootstrap_servers=b[2], group_id="pyg",
		                  auto_offset_reset="earliest",
		                  consumer_timeout_ms=5000)
		got = sorted(m.value for m in c)
		assert got == sorted(b"v%d" % i for i in range(200)), len(got)
		c.close()
		pr = Producer({"bootstrap.servers": b[0]})
		for i in range(100):
		    pr.produce("py", key=b"c%d" % i, value=b"c%d" % i)
		assert pr.flush(20) == 0
		co = Consumer({"bootstrap.servers": b[2], "group.id": "cg",
		               "auto.offset.reset": "earliest"})
		co.subscribe(["py"])
		n, parts, end = 0, set(), time.time() + 30
		while time.time() < end and n < 300:
		    m = co.poll(0.5)
		    if m is not None and m.error() is None:
		        n += 1
		        parts.add(m.partition())
		co.close()
		assert n == 300 and parts == {0, 1, 2, 3}, (n, parts)
		print("ok", n)
	EOF
	assert_success
	assert_output --partial "ok 300"
}

@test "a consumer group commits and resumes through its coordinator" {
	run timeout 30 kconsume -b "$(addr 3)" -t spread -g grp -e
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 601 ]
	# one coordinator for the group, named alike by every broker
	coord=
	for b in 1 2 3; do
		run raw coord "$(addr "$b")" grp
		assert_output --regexp '^error 0 node [123]$'
		[ -z "$coord" ] || [ "$output" = "$coord" ]
		coord=$output
	done
	node=${coord##* }
	# ... the leader of the group's __consumer_offsets partition
	p=$($PY -c 'import sys
h = 0
for ch in sys.argv[1]:
    h = (31 * h + ord(ch)) & 0xffffffff
h = h - (1 << 32) if h >= 1 << 31 else h
print(abs(h) % 50)' grp)
	[ "$(leader_of __consumer_offsets "$p")" = "$node" ]
	for b in 1 2 3; do
		run raw offsetfetch "$(addr "$b")" grp spread
		if [ "$b" = "$node" ]; then
			assert_output 'error 0'
		else
			assert_output 'error 16'	# NOT_COORDINATOR
		fi
	done
	printf 'late1\nlate2\n' | kproduce -b "$(addr 1)" -t spread
	run timeout 30 kconsume -b "$(addr 1)" -t spread -g grp -e
	assert_success
	assert_output "$(printf 'late1\nlate2')"
}

@test "topic admin through ZooKeeper: validate-only, refusals, configs, growth, deletion" {
	run ktopic -b "$(addr 1)" create -r 4 toomany
	assert_failure
	assert_output --partial INVALID_REPLICATION_FACTOR
	run timeout 30 $PY - "$(addr 2)" <<-'EOF'
		import sys
		from kafka import KafkaAdminClient
		from kafka.admin import NewTopic
		a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
		r = a.create_topics([NewTopic("vo", 2, 1)], validate_only=True)
		assert all(e == 0 for _, e, _ in r.topic_errors), r
		try:
		    a.create_topics([NewTopic("vo2", 2, 5)], validate_only=True)
		    sys.exit("replication factor 5 accepted")
		except Exception as e:
		    assert type(e).__name__ == "InvalidReplicationFactorError", e
		try:
		    a.create_topics([NewTopic("asg9", -1, -1,
		                              replica_assignments={0: [9]})])
		    sys.exit("broker 9 accepted")
		except Exception as e:
		    assert type(e).__name__ == "InvalidReplicationAssignmentError", e
		a.create_topics([NewTopic("asg", -1, -1,
		                          replica_assignments={0: [2], 1: [3]})])
		print("ok")
	EOF
	assert_success
	assert_output ok
	run ktopic -b "$(addr 3)" describe vo
	assert_failure
	assert_output --partial UNKNOWN_TOPIC_OR_PARTITION
	# explicit replica lists are kept as given
	[ "$(leader_of asg 0)" = 2 ] && [ "$(leader_of asg 1)" = 3 ]
	[ -d "$CL_DIR/b2/asg-0" ] && [ -d "$CL_DIR/b3/asg-1" ]
	! ls -d "$CL_DIR"/b1/asg-* 2>/dev/null
	run ktopic -b "$(addr 2)" create -c retention.ms=1234 -p 2 conf
	assert_success
	for b in 1 2 3; do
		run ktopic -b "$(addr "$b")" describe conf
		assert_success
		assert_line --index 0 --partial 'Configs: retention.ms=1234'
	done
	# the logs themselves have it
	for p in 0 1; do
		l=$(leader_of conf $p)
		grep -qx retention.ms=1234 "$CL_DIR/b$l/.topics/conf"
	done
	run ktopic -b "$(addr 3)" create conf
	assert_failure
	assert_output --partial TOPIC_ALREADY_EXISTS
	run ktopic -b "$(addr 3)" alter -c retention.ms=5678 -c segment.ms=99999 conf
	assert_success
	# as in Kafka, every broker takes the change from ZooKeeper soon after
	for b in 1 2 3; do
		wait_for sh -c "ktopic -b $(addr "$b") describe conf | head -1 |
		    grep -q 'Configs: .*retention.ms=5678'"
		run ktopic -b "$(addr "$b")" describe conf
		assert_line --index 0 --partial 'segment.ms=99999'
	done
	for p in 0 1; do
		l=$(leader_of conf $p)
		wait_for grep -qx retention.ms=5678 "$CL_DIR/b$l/.topics/conf"
	done
	run ktopic -b "$(addr 3)" alter -p 5 conf
	assert_success
	run ktopic -b "$(addr 1)" --json describe conf
	echo "$output" | $PY -c 'import json, sys
ps = json.loads(sys.stdin.readline())["partition_info"]
assert len(ps) == 5 and all(p["leader"] in (1, 2, 3) for p in ps), ps'
	[ "$(ls -d "$CL_DIR"/b*/conf-* | wc -l)" -eq 5 ]
	run ktopic -b "$(addr 2)" delete conf
	assert_success
	run ktopic -b "$(addr 1)" describe conf
	assert_failure
	! ls -d "$CL_DIR"/b*/conf-* "$CL_DIR"/b*/.topics/conf 2>/dev/null
}

@test "a killed broker's partitions go offline, the rest serve, and it comes back with its data" {
	# partitions of 'spread' led by broker 3, with their record counts
	before=$(ktopic -b "$(addr 1)" --json describe spread)
	broker_kill 3 KILL
	wait_for -t 20 sh -c "$PY '$RAW' meta '$(addr 1)' spread | grep -q '\"leader\": -1'"
	run raw meta "$(addr 1)" spread
	echo "$output" | $PY -c 'import json, sys
m = json.load(sys.stdin)
assert [b[0] for b in m["brokers"]] == [1, 2], m["brokers"]
ps = m["topics"]["spread"]["partitions"].values()
off = [p for p in ps if p["leader"] == -1]
assert len(off) == 2, off
for p in off:
    assert p["error"] == 5 and p["offline"] == [3] and p["replicas"] == [3], p
assert all(p["leader"] in (1, 2) for p in ps if p not in off)'
	for p in 0 1 2 3 4 5; do
		if [ "$(leader_of spread $p)" = -1 ]; then
			run raw produce "$(addr 1)" spread $p
			assert_output 'error 5 offset -1'	# LEADER_NOT_AVAILABLE
		else
			l=$(leader_of spread $p)
			echo "more$p" | kproduce -b "$(addr 1)" -t spread -p $p
			run timeout 20 kconsume -b "$(addr 2)" -t spread -p $p -o -1 -e
			assert_success
			assert_output "more$p"
		fi
	done
	broker_start 3
	wait_for -t 20 all_led spread
	after=$(ktopic -b "$(addr 3)" --json describe spread)
	$PY -c 'import json, sys
b = {p["partition"]: p for p in json.loads(sys.argv[1])["partition_info"]}
a = {p["partition"]: p for p in json.loads(sys.argv[2])["partition_info"]}
for i, p in a.items():
    assert p["leader"] == b[i]["leader"], (i, p, b[i])
    if p["leader"] == 3:
        assert p["high_watermark"] == b[i]["high_watermark"] > 0, (p, b[i])
    else:
        assert p["high_watermark"] == b[i]["high_watermark"] + 1, (p, b[i])' \
	    "$before" "$after"
	run timeout 30 kconsume -b "$(addr 3)" -t spread -o beginning -e
	assert_success
	# 600, the raw one, late1 and late2, and one per serving partition
	[ "$(echo "$output" | wc -l)" -eq 607 ]
}

@test "replication factor 3: metadata shows the replicas and ISR, a lost leader moves, nothing is lost" {
	run ktopic -b "$(addr 2)" create -p 3 -r 3 r3
	assert_success
	run raw meta "$(addr 3)" r3
	echo "$output" | $PY -c 'import json, sys
ps = json.load(sys.stdin)["topics"]["r3"]["partitions"]
assert sorted(p["leader"] for p in ps.values()) == [1, 2, 3], ps
for p in ps.values():
    assert sorted(p["replicas"]) == [1, 2, 3] and p["replicas"][0] == p["leader"], p
    assert sorted(p["isr"]) == [1, 2, 3] and p["offline"] == [], p'
	seq 1 300 | sed 's/.*/k&:v&/' >"$BATS_TEST_TMPDIR/in"
	run kproduce -b "$(addr 1)" -t r3 -K : --acks all "$BATS_TEST_TMPDIR/in"
	assert_success
	l=$(leader_of r3 0)
	broker_kill "$l" KILL
	other=$(( l % 3 + 1 ))
	# the controller moves the leadership to another in-sync replica
	wait_for -t 20 sh -c "[ \"\$($PY '$RAW' meta '$(addr $other)' r3 |
	    $PY -c 'import json, sys
ps = json.load(sys.stdin)[\"topics\"][\"r3\"][\"partitions\"].values()
print(all(p[\"leader\"] not in (-1, $l) and p[\"offline\"] == [$l] for p in ps))')\" = True ]"
	# a new leader's high watermark catches up once its followers fetch
	wait_for -t 20 sh -c "ktopic -b '$(addr $other)' --json describe r3 |
	    $PY -c 'import json, sys
ps = json.loads(sys.stdin.readline())[\"partition_info\"]
sys.exit(0 if sum(p[\"high_watermark\"] for p in ps) == 300 else 1)'"
	run timeout 30 kconsume -b "$(addr $other)" -t r3 -o beginning -e -f '%k:%s\n'
	assert_success
	[ "$(echo "$output" | sort)" = "$(sort "$BATS_TEST_TMPDIR/in")" ]
	echo 'k0:after' | kproduce -b "$(addr $other)" -t r3 -K : --acks all
	broker_start "$l"
	# back in every ISR, and serving the same records
	wait_for -t 30 sh -c "$PY '$RAW' meta '$(addr $l)' r3 | $PY -c 'import json, sys
ps = json.load(sys.stdin)[\"topics\"][\"r3\"][\"partitions\"].values()
sys.exit(0 if all(sorted(p[\"isr\"]) == [1, 2, 3] for p in ps) else 1)'"
	run timeout 30 kconsume -b "$(addr "$l")" -t r3 -o beginning -e
	assert_success
	[ "$(echo "$output" | wc -l)" -eq 301 ]
	assert_line after
}
