#!/usr/bin/env bats
# 01-install.bats -- make install / uninstall put and take back every file
#
# Runs the real targets against a DESTDIR in the test's temp dir; the
# build itself is the one `make check` already made (same SAN setting).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

PROGS="kbroker kproduce kconsume ktopic kgroup kreplicate"

setup() {
	ROOT="$BATS_TEST_TMPDIR/root"
	MK=(make --no-print-directory -s -C "$KP_TOP" SAN="${SAN:-}"
	    DESTDIR="$ROOT" PREFIX=/usr)
}

# expected: every path make install must create, relative to $ROOT
expected() {
	local p f
	for p in $PROGS; do
		echo "usr/bin/$p"
	done
	for f in "$KP_TOP"/man/man[1-9]/*.[1-9]; do
		[ -f "$f" ] && echo "usr/share/man/$(basename "$(dirname "$f")")/$(basename "$f")"
	done
	for f in "$KP_TOP"/completions/bash/*; do
		[ -f "$f" ] && echo "usr/share/bash-completion/completions/$(basename "$f")"
	done
	for f in "$KP_TOP"/completions/zsh/_*; do
		[ -f "$f" ] && echo "usr/share/zsh/site-functions/$(basename "$f")"
	done
}

@test "make install puts programs, man pages and completions under DESTDIR/PREFIX" {
	run "${MK[@]}" install
	assert_success
	local want got
	want=$(expected | sort)
	got=$(cd "$ROOT" && find . -type f | sed 's|^\./||' | sort)
	assert_equal "$got" "$want"
	grep -qx usr/share/man/man7/kpipe.7 <<<"$got" || fail "kpipe.7 not installed"
}

@test "installed files have the right modes and the programs run" {
	run "${MK[@]}" install
	assert_success
	local p f
	for p in $PROGS; do
		[ "$(stat -c %a "$ROOT/usr/bin/$p")" = 755 ] || fail "$p is not mode 755"
		run "$ROOT/usr/bin/$p" --version
		assert_success
		assert_output --regexp "^$p [0-9]"
	done
	for f in $(expected | grep -v ^usr/bin/); do
		[ "$(stat -c %a "$ROOT/$f")" = 644 ] || fail "$f is not mode 644"
	done
	# An installed page is a page man(1) can render, not an empty file.
	run mandoc -Tascii "$ROOT/usr/share/man/man7/kpipe.7"
	assert_success
	assert_output --partial 'append-only'
}

@test "make uninstall with the same variables removes every installed file" {
	run "${MK[@]}" install
	assert_success
	[ -n "$(find "$ROOT" -type f)" ] || fail "install put nothing in $ROOT"
	run "${MK[@]}" uninstall
	assert_success
	run find "$ROOT" -type f
	assert_output ''
}

@test "PREFIX is honoured: /opt/kp puts nothing under usr/" {
	MK=(make --no-print-directory -s -C "$KP_TOP" SAN="${SAN:-}"
	    DESTDIR="$ROOT" PREFIX=/opt/kp)
	run "${MK[@]}" install
	assert_success
	[ -x "$ROOT/opt/kp/bin/kgroup" ] || fail "no opt/kp/bin/kgroup"
	[ -f "$ROOT/opt/kp/share/man/man1/kgroup.1" ] || fail "no opt/kp/share/man/man1/kgroup.1"
	[ ! -e "$ROOT/usr" ] || fail "something went to usr/ with PREFIX=/opt/kp"
}
