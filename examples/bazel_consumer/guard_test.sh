#!/bin/sh
# The C++ and the C program on one lock: whichever holds, the other is
# refused with 75 and a line naming the holder's pid; once released, the
# next one takes it with a larger fence.
set -eu
guard="$1"
guard_c="$2"
dir="$TEST_TMPDIR/locks"
mkdir -m 700 "$dir"

fail() { echo "guard_test: $*" >&2; exit 1; }

# Starts PROGRAM holding the lock for 20 s; waits (up to 30 s) until it says
# it holds. Sets $holder_pid.
hold() {
  "$1" "$dir" shared 20000 >"$TEST_TMPDIR/$2.out" &
  holder_pid=$!
  i=0
  until grep -q '^acquired shared fence' "$TEST_TMPDIR/$2.out"; do
    i=$((i + 1))
    [ "$i" -lt 300 ] || fail "$2 did not acquire within 30 s"
    sleep 0.1
  done
}

# PROGRAM must be refused: exit 75, the holder's pid in its message.
expect_busy() {
  rc=0
  "$1" "$dir" shared 0 2>"$TEST_TMPDIR/busy.err" || rc=$?
  [ "$rc" -eq 75 ] || fail "$1 exited $rc while $holder_pid held, want 75"
  grep -q "pid $holder_pid" "$TEST_TMPDIR/busy.err" ||
    fail "the refusal does not name pid $holder_pid: $(cat "$TEST_TMPDIR/busy.err")"
}

hold "$guard" cpp
expect_busy "$guard_c"
expect_busy "$guard"
kill "$holder_pid"
wait "$holder_pid" || true
first_fence="$(awk '{ print $4 }' "$TEST_TMPDIR/cpp.out")"

hold "$guard_c" c
expect_busy "$guard"
kill "$holder_pid"
wait "$holder_pid" || true
second_fence="$(awk '{ print $4 }' "$TEST_TMPDIR/c.out")"
[ "$second_fence" -gt "$first_fence" ] ||
  fail "fence went from $first_fence to $second_fence, want larger"
echo "guard_test: C++ and C exclude each other; fences $first_fence, $second_fence"
