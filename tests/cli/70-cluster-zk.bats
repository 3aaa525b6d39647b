#!/usr/bin/env bats
# 70-cluster-zk.bats -- cluster mode against a real ZooKeeper: registration, controller, leaders, deletion

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 70-cluster-lib

setup_file() {
	zk_start
}

teardown_file() {
	zk_stop
}

teardown() {
	cluster_stop
}

# assign TOPIC JSON-PARTITIONS: what Kafka's tools write to create a topic
assign() {
	zk create "/config/topics/$1" '{"version":1,"config":{}}'
	zk create "/brokers/topics/$1" "{\"version\":2,\"partitions\":$2,\"adding_replicas\":{},\"removing_replicas\":{}}"
}

controller_is() {	# the live controller's id is $1 (or, with "!", not $2)
	local c
	c=$(zk_field /controller brokerid) || return 1
	if [ "$1" = '!' ]; then [ "$c" != "$2" ]; else [ "$c" = "$1" ]; fi
}

state_is() {		# state_is TOPIC P KEY VALUE
	[ "$(zk_state "$1" "$2" "$3")" = "$4" ]
}

registered_twice() {
	[ "$(grep -c 'registered as broker 2' "$CL_DIR/b2.err")" = 2 ]
}

gone() {
	! zk stat "$1"
}

@test "cluster mode needs an explicit broker.id and a TCP listener" {
	run "$KP_BIN/kbroker" --data-dir "$BATS_TEST_TMPDIR/d" --no-socket \
	    --listen 127.0.0.1:0 -o zookeeper.connect="$ZK_HOSTS"
	assert_equal "$status" 78
	assert_output --partial "cluster mode needs broker.id set explicitly"
	run "$KP_BIN/kbroker" --data-dir "$BATS_TEST_TMPDIR/d" \
	    --listen "unix:$BATS_TEST_TMPDIR/s.sock" -o broker.id=1 \
	    -o zookeeper.connect="$ZK_HOSTS"
	assert_equal "$status" 78
	assert_output --partial "cluster mode needs a TCP listener"
	run "$KP_BIN/kbroker" --data-dir "$BATS_TEST_TMPDIR/d" --no-socket \
	    --listen 127.0.0.1:0 -o default.replication.factor=3
	assert_equal "$status" 78
	assert_output --partial "more than 1 needs zookeeper.connect"
}

@test "no ZooKeeper within zookeeper.connection.timeout.ms: startup fails clearly" {
	local port
	port=$(free_port)	# nobody listens there
	run timeout 20 "$KP_BIN/kbroker" --data-dir "$BATS_TEST_TMPDIR/d" \
	    --no-socket --listen 127.0.0.1:0 -o broker.id=1 \
	    -o zookeeper.connect=127.0.0.1:$port \
	    -o zookeeper.connection.timeout.ms=1000
	assert_equal "$status" 69
	assert_output --partial "no session within 1000 ms"
	refute_output --partial "listening 127.0.0.1"
}

@test "every broker registers an ephemeral /brokers/ids/<id> in Kafka's JSON" {
	cluster_start 3
	run zk ls /brokers/ids
	assert_output "$(printf '1\n2\n3')"
	for id in 1 2 3; do
		p=$(broker_port $id)
		run zk get /brokers/ids/$id
		assert_output --regexp "^\{\"listener_security_protocol_map\":\{\"PLAINTEXT\":\"PLAINTEXT\"\},\"endpoints\":\[\"PLAINTEXT://127\.0\.0\.1:$p\"\],\"jmx_port\":-1,\"host\":\"127\.0\.0\.1\",\"timestamp\":\"[0-9]{13}\",\"port\":$p,\"version\":5\}$"
		run zk stat /brokers/ids/$id
		assert_output --partial "ephemeral 1"
	done
	# Kafka's persistent paths, made by the first broker
	for path in /brokers/topics /config/topics /admin/delete_topics \
	    /controller_epoch /cluster/id; do
		zk stat $path | grep -q 'ephemeral 0'
	done
	run zk_field /cluster/id id
	assert_output --regexp '^[A-Za-z0-9_-]{22}$'
	# under the chroot of zookeeper.connect, which the brokers made
	run "$KP_TOOLS/zk_cli" "$ZK_HOSTS" ls "/${CL_ZK#*/}"
	assert_output --partial brokers
	run "$KP_TOOLS/zk_cli" "$ZK_HOSTS" stat /brokers
	assert_failure 1
	# a clean stop takes the registration away at once
	broker_kill 2 TERM
	run zk ls /brokers/ids
	assert_output "$(printf '1\n3')"
}

@test "one controller; killing it elects another with a higher controller_epoch" {
	cluster_start 3
	wait_for zk stat /controller
	run zk stat /controller
	assert_output --partial "ephemeral 1"
	old=$(zk_field /controller brokerid)
	epoch=$(zk get /controller_epoch)
	[[ "$old" =~ ^[123]$ ]]
	# exactly one broker says it is the controller
	run grep -l "is the controller" "$CL_DIR"/b1.err "$CL_DIR"/b2.err "$CL_DIR"/b3.err
	assert_output "$CL_DIR/b$old.err"
	broker_kill "$old" KILL
	wait_for -t 15 controller_is '!' "$old"
	new=$(zk_field /controller brokerid)
	[ "$new" != "$old" ]
	assert_equal "$(zk get /controller_epoch)" "$((epoch + 1))"
	grep -q "broker $new is the controller, epoch $((epoch + 1))" "$CL_DIR/b$new.err"
}

@test "a new topic's partitions get states: first live replica leads, the live replicas are the ISR" {
	cluster_start 3
	wait_for zk stat /controller
	epoch=$(zk get /controller_epoch)
	assign t3 '{"0":[1,2,3],"1":[2,3,1],"2":[3,1,2]}'
	for p in 0 1 2; do
		wait_for zk stat /brokers/topics/t3/partitions/$p/state
	done
	run zk_state t3 0
	assert_output "{\"controller_epoch\":$epoch,\"leader\":1,\"version\":1,\"leader_epoch\":0,\"isr\":[1,2,3]}"
	run zk_state t3 1
	assert_output "{\"controller_epoch\":$epoch,\"leader\":2,\"version\":1,\"leader_epoch\":0,\"isr\":[2,3,1]}"
	run zk_state t3 2
	assert_output "{\"controller_epoch\":$epoch,\"leader\":3,\"version\":1,\"leader_epoch\":0,\"isr\":[3,1,2]}"
	# a replica that is down at creation is neither leader nor in the ISR
	broker_kill 1 TERM
	assign t1 '{"0":[1,2]}'
	wait_for zk stat /brokers/topics/t1/partitions/0/state
	assert_equal "$(zk_state t1 0 leader)" 2
	assert_equal "$(zk_state t1 0 isr)" "[2]"
}

@test "the leader's broker killed: the next ISR member leads with leader_epoch + 1" {
	cluster_start 3
	wait_for zk stat /controller
	ctl=$(zk_field /controller brokerid)
	# broker 2 leads partition 0 and is not the controller (unless it
	# is: then its successor's election is tested too)
	assign lt '{"0":[2,3,1],"1":[3,1,2]}'
	wait_for zk stat /brokers/topics/lt/partitions/1/state
	wait_for state_is lt 0 leader 2
	broker_kill 2 KILL
	# leader 3 (next in assignment order that is live and in the ISR)
	wait_for -t 15 state_is lt 0 leader 3
	assert_equal "$(zk_state lt 0 leader_epoch)" 1
	assert_equal "$(zk_state lt 0 isr)" "[3,1]"
	# partition 1's leader is alive: untouched
	assert_equal "$(zk_state lt 1 leader)" 3
	assert_equal "$(zk_state lt 1 leader_epoch)" 0
	if [ "$ctl" = 2 ]; then
		assert_equal "$(zk_state lt 0 controller_epoch)" "$(zk get /controller_epoch)"
	fi
}

@test "an offline partition gets its leader back when its ISR member returns" {
	cluster_start 3
	wait_for zk stat /controller
	assign off '{"0":[3]}'
	wait_for state_is off 0 leader 3
	broker_kill 3 KILL
	# no replica left: offline, the ISR keeps the last member
	wait_for -t 15 state_is off 0 leader -1
	assert_equal "$(zk_state off 0 isr)" "[3]"
	assert_equal "$(zk_state off 0 leader_epoch)" 1
	broker_start 3
	wait_for -t 15 state_is off 0 leader 3
	assert_equal "$(zk_state off 0 leader_epoch)" 2
	assert_equal "$(zk_state off 0 isr)" "[3]"
}

@test "a live replica outside the ISR does not lead unless unclean election is on" {
	cluster_start 3 -o unclean.leader.election.enable=false
	wait_for zk stat /controller
	assign uc '{"0":[1,2]}'
	wait_for state_is uc 0 leader 1
	# broker 2 fell behind: the leader took it out of the ISR (frozen,
	# it cannot fetch, catch up and rejoin meanwhile)
	kill -STOP "$(broker_pid 2)"
	zk set /brokers/topics/uc/partitions/0/state '{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1]}'
	broker_kill 1 KILL
	kill -CONT "$(broker_pid 2)"
	wait_for -t 15 state_is uc 0 leader -1
	assert_equal "$(zk_state uc 0 isr)" "[1]"
	# the same with unclean election: broker 2 leads, alone in the ISR
	cluster_stop
	cluster_start 3 -o unclean.leader.election.enable=true
	wait_for zk stat /controller
	assign uc '{"0":[1,2]}'
	wait_for state_is uc 0 leader 1
	kill -STOP "$(broker_pid 2)"
	zk set /brokers/topics/uc/partitions/0/state '{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1]}'
	broker_kill 1 KILL
	kill -CONT "$(broker_pid 2)"
	wait_for -t 15 state_is uc 0 leader 2
	assert_equal "$(zk_state uc 0 isr)" "[2]"
}

@test "a reassignment finishes once the new replicas are in the ISR" {
	cluster_start 3
	wait_for zk stat /controller
	assign ra '{"0":[1]}'
	wait_for state_is ra 0 leader 1
	broker_kill 2 TERM
	# [1] -> [2], the Kafka way: replicas = new + old while 2 catches up
	zk set /brokers/topics/ra '{"version":2,"partitions":{"0":[2,1]},"adding_replicas":{"0":[2]},"removing_replicas":{"0":[1]}}'
	# broker 2 is down, so it cannot be in the ISR: still moving
	sleep 1
	run zk get /brokers/topics/ra
	assert_output '{"version":2,"partitions":{"0":[2,1]},"adding_replicas":{"0":[2]},"removing_replicas":{"0":[1]}}'
	assert_equal "$(zk_state ra 0 leader)" 1
	assert_equal "$(zk_state ra 0 isr)" "[1]"
	broker_start 2
	# The leader puts 2 in the ISR once it caught up (replication does
	# that; without it, write what the leader would, unless the state
	# moved on meanwhile: the write is conditional on its version).
	v=$(zk stat /brokers/topics/ra/partitions/0/state | cut -d' ' -f2)
	if [ "$(zk_state ra 0 isr)" = "[1]" ]; then
		zk set /brokers/topics/ra/partitions/0/state '{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2]}' "$v" || true
	fi
	wait_for state_is ra 0 leader 2
	assert_equal "$(zk_state ra 0 isr)" "[2]"
	assert_equal "$(zk_state ra 0 leader_epoch)" 1
	run zk get /brokers/topics/ra
	assert_output '{"version":2,"partitions":{"0":[2]},"adding_replicas":{},"removing_replicas":{}}'
}

@test "deleting a topic removes its znodes, its config, then the request" {
	cluster_start 2
	wait_for zk stat /controller
	assign dt '{"0":[1,2],"1":[2,1]}'
	wait_for zk stat /brokers/topics/dt/partitions/1/state
	zk create /admin/delete_topics/dt
	wait_for gone /admin/delete_topics/dt
	run zk stat /brokers/topics/dt
	assert_failure 1
	run zk stat /config/topics/dt
	assert_failure 1
	run zk ls /brokers/topics
	refute_output --partial dt
	# a request for a topic that never was just goes
	zk create /admin/delete_topics/never
	wait_for gone /admin/delete_topics/never
}

@test "a deposed controller's writes fail on the epoch check, and it resigns" {
	cluster_start 2
	wait_for zk stat /controller
	ctl=$(zk_field /controller brokerid)
	# another controller took office meanwhile (as after a pause)
	zk set /controller_epoch 99
	assign fz '{"0":[1,2]}'
	wait_for grep -q "controller epoch 1 is stale: resigning" "$CL_DIR/b$ctl.err"
	# the state is written only by the controller elected after it
	wait_for zk stat /brokers/topics/fz/partitions/0/state
	assert_equal "$(zk get /controller_epoch)" 100
	assert_equal "$(zk_state fz 0 controller_epoch)" 100
	grep -q "is the controller, epoch 100" "$CL_DIR"/b[12].err
}

@test "a broker killed and restarted at once registers after its old session expires" {
	cluster_start 2 -vv
	p=$(broker_port 2)
	broker_kill 2 KILL
	broker_start 2
	# its old registration lingers until the session timeout (2 s)
	wait_for -t 15 registered_twice
	grep -q "held by an older session" "$CL_DIR/b2.err"
	run zk_field /brokers/ids/2 port
	assert_output "$p"
}

@test "a paused broker's session expires; it starts a new one and registers again" {
	cluster_start 2
	wait_for zk stat /controller
	pid=$(broker_pid 2)
	kill -STOP "$pid"
	# the session timeout is 2 s: ZooKeeper drops the registration
	wait_for -t 15 gone /brokers/ids/2
	kill -CONT "$pid"
	wait_for -t 15 zk stat /brokers/ids/2
	grep -q "session expired, starting a new one" "$CL_DIR/b2.err"
	assert_equal "$(grep -c 'registered as broker 2' "$CL_DIR/b2.err")" 2
	# one controller still, known to both
	run zk ls /brokers/ids
	assert_output "$(printf '1\n2')"
	zk stat /controller
}

@test "a paused controller is replaced; resumed, it rejoins as a plain broker" {
	cluster_start 3
	wait_for zk stat /controller
	old=$(zk_field /controller brokerid)
	epoch=$(zk get /controller_epoch)
	pid=$(broker_pid "$old")
	kill -STOP "$pid"
	wait_for -t 15 controller_is '!' "$old"
	new=$(zk_field /controller brokerid)
	assert_equal "$(zk get /controller_epoch)" "$((epoch + 1))"
	kill -CONT "$pid"
	wait_for -t 15 zk stat "/brokers/ids/$old"
	grep -q "session expired, starting a new one" "$CL_DIR/b$old.err"
	# the new controller does the work, with its epoch; the resumed one
	# never claims the office again
	other=$(for i in 1 2 3; do [ "$i" != "$new" ] && echo "$i"; done | head -1)
	assign pc "{\"0\":[$other,$new]}"
	wait_for state_is pc 0 leader "$other"
	assert_equal "$(zk_state pc 0 controller_epoch)" "$((epoch + 1))"
	assert_equal "$(zk_field /controller brokerid)" "$new"
	assert_equal "$(grep -c 'is the controller' "$CL_DIR/b$old.err")" 1
}
