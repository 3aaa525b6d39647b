#!/usr/bin/env bats
# 02-unbuilt.bats -- what kreplicate cannot do yet it refuses honestly
#
# reassign and elect need cluster mode (replicating brokers). Replace
# these tests with real ones when that lands.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# No broker is needed to refuse: a real command is refused with 69 and
# prints nothing on stdout; a typo is a usage error.
@test "kreplicate reassign and elect: need cluster mode, exit 69, nothing on stdout" {
	local c
	for c in reassign elect; do
		run --separate-stderr kreplicate -b unix:/nonexistent $c x
		assert_equal "$status" 69
		assert_output ''
		assert_equal "$stderr" "kreplicate: $c: needs cluster mode (several replicating brokers), which is not implemented in this release"
	done
	run --separate-stderr kreplicate nosuchcommand
	assert_equal "$status" 64
	run --separate-stderr kreplicate
	assert_equal "$status" 64
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
