#!/usr/bin/env bats
# 30-disk.bats -- disk full while producing, and corrupt segment files found at startup

load helpers

teardown() {
	fault_teardown
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount "$MNT" || umount -l "$MNT"
	fi
}

# produce_n TOPIC ID N [kclient options]: N acknowledged records or fail
produce_n() {
	local topic=$1 id=$2 n=$3
	shift 3
	run timeout 120 "$PY" "$KCLIENT" produce -b "$BROKER" -t "$topic" \
	    -i "$id" -a "$BATS_TEST_TMPDIR/acked.$id" -n "$n" -d 100 "$@"
	echo "# $output" >&3
	assert_success
}

verify() {	# verify TOPIC [-p]
	local topic=$1
	shift
	run timeout 120 "$PY" "$KCLIENT" verify -b "$BROKER" -t "$topic" \
	    "$@" "$BATS_TEST_TMPDIR"/acked.*
	echo "# $output" >&3
	assert_success
}

@test "disk full: producers get KAFKA_STORAGE_ERROR, nothing acknowledged is damaged, producing resumes" {
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir "$MNT"
	mount -t tmpfs -o size=8m tmpfs "$MNT" ||
	    fail "cannot mount a tmpfs (the test needs root): disk full untested"
	start_broker "$MNT/d" 127.0.0.1:0 -o num.partitions=1
	produce_n full before 300
	# Fill the file system to the last block.
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
	run df --output=avail -k "$MNT"
	echo "# free after filling: ${lines[1]} kB" >&3
	run timeout 120 "$PY" "$KCLIENT" produce -b "$BROKER" -t full \
	    -i during -a "$BATS_TEST_TMPDIR/acked.during" -n 200 -p 4000 \
	    -R -T 10
	echo "# $output" >&3
	assert_success
	assert_output --partial KAFKA_STORAGE_ERROR
	alive || fail "kbroker died on a full disk"
	rm "$MNT/filler"
	produce_n full after 300 -p 1000
	verify full
	# What is on disk survives a crash too.
	kill9_broker
	start_broker "$MNT/d" "127.0.0.1:$PORT" -o num.partitions=1
	verify full
	stop_broker
	asan_clean || fail "sanitizer report"
}

# A topic of several segments, written then crashed (kill -9): the
# recovery scan runs from the last flushed point.
make_segments() {
	DATA=$BATS_TEST_TMPDIR/d
	start_broker "$DATA" 127.0.0.1:0 -o num.partitions=1 \
	    -o log.segment.bytes=16384
	# at most 10 records a batch, so damage leaves a prefix
	produce_n seg base 1500 -p 40 -r 2000 -B 10
	# the active segment must hold something to damage
	for i in 1 2 3 4 5; do
		[ -s "$(ls "$DATA"/seg-0/*.log | sort | tail -1)" ] && break
		produce_n seg "tail$i" 5 -B 1
	done
	kill9_broker
	PART=$DATA/seg-0
	LAST=$(ls "$PART"/*.log | sort | tail -1)
	echo "# $(ls "$PART"/*.log | wc -l) segment(s) before the damage" >&3
}

restart() {
	start_broker "$DATA" "127.0.0.1:$PORT" -o num.partitions=1 \
	    -o log.segment.bytes=16384
	echo "# broker log: $(grep -v listening "$BROKER_ERR" | tr '\n' '|')" >&3
}

@test "bit flips in the active segment: broker starts, cuts the tail, logs it, serves only valid batches" {
	make_segments
	# a CRC-covered byte of the active segment: never flushed, so the
	# recovery scan must look at it
	run "$PY" "$KP_TOP/tests/fault/flipbit.py" "$LAST" "$RANDOM"
	echo "# $output" >&3
	assert_success
	restart
	grep -qiE 'truncat|repair|corrupt|cut' "$BROKER_ERR" ||
	    fail "kbroker did not log the repair"
	verify seg -p
	kept=$(echo "$output" | sed -n 's/.* \([0-9]*\) records in the topic.*/\1/p')
	total=$(cat "$BATS_TEST_TMPDIR"/acked.* | wc -l)
	echo "# kept $kept of $total records" >&3
	[ "$kept" -gt 0 ] && [ "$kept" -lt "$total" ] ||
	    fail "expected the valid prefix before the flipped byte, kept $kept"
	# The cut records are gone for good: the log goes on from the cut
	# without holes and the offsets are reused.
	for f in "$BATS_TEST_TMPDIR"/acked.*; do
		awk -v c="$kept" '$2 < c' "$f" >"$BATS_TEST_TMPDIR/kept"
		mv "$BATS_TEST_TMPDIR/kept" "$f"
	done
	produce_n seg more 50
	verify seg
	stop_broker
	asan_clean || fail "sanitizer report"
}

@test "a garbage tail on the last segment is cut off; every acknowledged record stays" {
	make_segments
	head -c 5000 /dev/urandom >>"$LAST"
	restart
	grep -qiE 'truncat|repair|corrupt|cut' "$BROKER_ERR" ||
	    fail "kbroker did not log the repair"
	verify seg
	produce_n seg more 50
	verify seg
	stop_broker
	asan_clean || fail "sanitizer report"
}

@test "truncated and deleted index files are rebuilt; fetches from the middle still work" {
	make_segments
	for f in "$PART"/*.index; do
		truncate -s $(( $(stat -c %s "$f") / 2 + 3 )) "$f"
	done
	rm -f "$PART"/*.timeindex "${LAST%.log}.index"
	restart
	grep -qiE 'index|rebuil|repair' "$BROKER_ERR" ||
	    fail "kbroker did not log the rebuild"
	verify seg
	# a fetch from the middle goes through the offset index
	line=$(sed -n 777p "$BATS_TEST_TMPDIR/acked.base")
	off=$(echo "$line" | cut -d' ' -f2)
	want=$(echo "$line" | cut -d' ' -f3)
	run timeout 20 kcat -C -b "$BROKER" -t seg -p 0 -o "$off" -c 1 -e \
	    -f '%o %s\n'
	assert_success
	assert_output --regexp "^$off $want~*\$"
	stop_broker
	asan_clean || fail "sanitizer report"
}
