#!/usr/bin/env bats
# 02-unbuilt.bats -- kreplicate refuses bad usage before it contacts any broker
#
# (elect and reassign once refused outright; they work now, against a
# single kbroker in 60-kreplicate.bats and a cluster in 73-cluster-admin.bats.)

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# Usage errors of elect and reassign are found before any broker is
# contacted (-b points nowhere): exit 64, nothing on stdout.
@test "kreplicate elect and reassign: usage errors exit 64 before contacting a broker" {
	local args
	while IFS= read -r args; do
		eval "set -- $args"
		run --separate-stderr kreplicate -b unix:/nonexistent "$@"
		[ "$status" -eq 64 ] || fail "$args: exit $status, want 64: $stderr"
		assert_output ''
		[[ "$stderr" == "kreplicate: "* ]] || fail "$args: $stderr"
	done <<-'ARGS'
	elect
	elect --all t
	elect --type sometimes --all
	elect t:x
	elect :1
	elect --no-such
	reassign
	reassign --execute
	reassign --execute --verify --plan p
	reassign --generate --brokers 1,2
	reassign --generate --topics t
	reassign --generate --brokers 1,x --topics t
	reassign --verify --plan p --brokers 1
	reassign --cancel --plan p extra
	ARGS
	run --separate-stderr kreplicate nosuchcommand
	assert_equal "$status" 64
	run --separate-stderr kreplicate
	assert_equal "$status" 64
}

@test "kreplicate reassign: a bad plan is refused before contacting a broker" {
	local d=$BATS_TEST_TMPDIR
	run --separate-stderr kreplicate -b unix:/nonexistent reassign --execute --plan "$d/none.json"
	assert_equal "$status" 66
	printf '{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,1]}]}' >"$d/dup.json"
	run --separate-stderr kreplicate -b unix:/nonexistent reassign --execute --plan "$d/dup.json"
	assert_equal "$status" 65
	assert_equal "$stderr" "kreplicate: $d/dup.json: partitions[0]: a broker is in \"replicas\" twice"
	printf '{"version":2,"partitions":[]}' | {
		run --separate-stderr kreplicate -b unix:/nonexistent reassign --verify --plan -
		assert_equal "$status" 65
		assert_equal "$stderr" 'kreplicate: -: "version" is not 1'
	}
	printf '{"version":1,"partitions":[]}' >"$d/empty.json"
	run --separate-stderr kreplicate -b unix:/nonexistent reassign --cancel --plan "$d/empty.json"
	assert_equal "$status" 65
	# a valid plan goes to the broker: none answers
	printf '{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1]}]}' >"$d/ok.json"
	run --separate-stderr timeout 30 kreplicate -b unix:/nonexistent reassign --execute --plan "$d/ok.json"
	assert_equal "$status" 69
	assert_output ''
}

@test "kreplicate mirror without --to or topics is a usage error" {
	run --separate-stderr kreplicate mirror t
	assert_equal "$status" 64
	assert_equal "$stderr" "kreplicate: mirror: --to names the target cluster"
	run --separate-stderr kreplicate mirror --to unix:/nonexistent
	assert_equal "$status" 64
	run --separate-stderr kreplicate mirror --to x --from sometime t
	assert_equal "$status" 64
	run --separate-stderr kreplicate mirror -b unix:/x --to unix:/x t
	assert_equal "$status" 64
	assert_equal "$stderr" "kreplicate: mirror: source and target are the same; use --prefix"
	KPIPE_BROKERS=unix:/x run --separate-stderr kreplicate mirror --to unix:/x t
	assert_equal "$status" 64
	# a bad pattern is found before any broker is contacted
	run --separate-stderr kreplicate -b unix:/nonexistent mirror --to x --pattern '(' t
	assert_equal "$status" 64
	[[ "$stderr" == "kreplicate: pattern '(': "* ]] || fail "$stderr"
}
