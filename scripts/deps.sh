#!/bin/sh
# deps.sh -- install the Debian packages kpipe needs that are missing
#
# Quick when nothing is missing: one dpkg-query call. As root it installs
# with apt-get; otherwise it prints the exact command and fails.
set -eu

build="pkg-config make gcc libbsd-dev libjansson-dev zlib1g-dev
	libzookeeper-mt-dev"
tests="bats bats-support bats-assert mandoc kcat librdkafka-dev
	python3 python3-kafka python3-confluent-kafka clang libclang-rt-14-dev
	procps iproute2 zookeeper"
pkgs="$build $tests"

missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: install them with: sudo apt-get install -y$missing" >&2
	exit 69
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
