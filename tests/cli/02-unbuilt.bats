#!/usr/bin/env bats
# 02-unbuilt.bats -- kreplicate refuses honestly until it is built
#
# Replace each test with the real ones when that program lands.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# The placeholder must not pretend: a real command is refused with 69 and
# prints nothing on stdout; a typo is a usage error.
@test "kreplicate status: not implemented, exit 69, nothing on stdout" {
	run --separate-stderr kreplicate status
	assert_equal "$status" 69
	assert_output ''
	assert_equal "$stderr" "kreplicate: replication and mirroring are not implemented in this release"
	run --separate-stderr kreplicate nosuchcommand
	assert_equal "$status" 64
	run --separate-stderr kreplicate
	assert_equal "$status" 64
}
