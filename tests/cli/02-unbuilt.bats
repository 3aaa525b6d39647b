#!/usr/bin/env bats
# 02-unbuilt.bats -- kgroup and kreplicate refuse honestly until they are built
#
# Replace each test with the real ones when that program lands.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# The placeholders must not pretend: a real command is refused with 69 and
# prints nothing on stdout; a typo is a usage error.
@test "kgroup list: not implemented, exit 69, nothing on stdout" {
	run --separate-stderr kgroup list
	assert_equal "$status" 69
	assert_output ''
	assert_equal "$stderr" "kgroup: consumer groups are not implemented in this release"
	run --separate-stderr kgroup nosuchcommand
	assert_equal "$status" 64
	run --separate-stderr kgroup
	assert_equal "$status" 64
}

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
