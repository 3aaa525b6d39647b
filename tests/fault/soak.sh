#!/bin/sh
# soak.sh -- the long fault run: 50+ SIGKILL cycles and thousands of malformed frames per class
#
# Run from the top of the tree after `make tests` (the lead's `make soak`
# does both). KP_BUILD picks the build (build/default, or build/san for
# the sanitizer build). Knobs: SOAK_CYCLES (SIGKILL/restart cycles per
# crash test, default 50), SOAK_FRAMES (malformed frames per class,
# default 3000), SOAK_SEED (default: the time). Ends with
# "N passed, N failed" like tests/run.sh; exit status 1 on any failure.
set -u
build=${KP_BUILD:-build/default}
[ -x "$build/bin/kbroker" ] && [ -x "$build/tests/tools/hostile" ] || {
	echo "soak.sh: $build: run make tests first" >&2
	exit 66
}
export KP_BUILD="$build"
case $build in *san*) export SAN=1 ;; esac
export KP_BIN="$(cd "$build/bin" && pwd)"
export KP_TOOLS="$(pwd)/$build/tests/tools"
export KP_TOP="$(pwd)"
export PATH="$KP_BIN:$PATH"
seed=${SOAK_SEED:-$(date +%s)}
export CRASH_CYCLES="${SOAK_CYCLES:-50}" CRASH_SEED="$seed"
export HOSTILE_COUNT="${SOAK_FRAMES:-3000}" HOSTILE_SEED="$seed"
export HOSTILE_TIMEOUT=1800
echo "soak: $CRASH_CYCLES crash cycles, $HOSTILE_COUNT frames per class, seed $seed"
pass=0 fail=0
for t in 20-crash 10-hostile 30-disk; do
	out=$(bats --tap "tests/fault/$t.bats" 2>&1)
	echo "$out" | grep -vE '^# (%[0-9]|.*rdkafka)' | sed "s|^|$t: |"
	p=$(echo "$out" | grep -cE '^ok [0-9]+')
	f=$(echo "$out" | grep -cE '^not ok [0-9]+')
	pass=$((pass + p)) fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
