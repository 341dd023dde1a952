#!/usr/bin/env bash
# Signals and supervision with real processes: forwarding, cancelling a wait,
# kill -9 of onlyone taking its child along, no lock descriptors in the child,
# a lost lock stopping the child, --replace.
source "$(dirname "$0")/lib.sh" "$1"

# A child that records the signals it gets in $1.log and exits 3 on SIGTERM.
# (sh runs traps between commands, so it sleeps in short steps.)
trapping_child() {
  local base="$1"
  echo "echo \$\$ > '$base.pid'
trap 'echo USR1 >> \"$base.log\"' USR1
trap 'echo TERM >> \"$base.log\"; exit 3' TERM
while :; do sleep 0.05; done"
}

# A child that ignores SIGTERM.
stubborn_child() {
  local base="$1"
  echo "echo \$\$ > '$base.pid'; trap '' TERM; while :; do sleep 0.05; done"
}

begin "SIGTERM and SIGUSR1 sent to onlyone reach the child"
start_onlyone sig -- sh -c "$(trapping_child "$WORK/fwd")"
ONLYONE_PID=$BG_PID
wait_until 10 file_exists "$WORK/fwd.pid" || fail "child did not start"
kill -USR1 "$ONLYONE_PID"
wait_until 5 grep -q USR1 "$WORK/fwd.log" 2>/dev/null || fail "SIGUSR1 not forwarded"
kill -TERM "$ONLYONE_PID"
wait_background "$ONLYONE_PID" 10
expect_eq "exit code (the child's)" 3 "$BG_RC"
expect_eq "signals seen by the child" "USR1 TERM" "$(tr '\n' ' ' <"$WORK/fwd.log" | sed 's/ $//')"

begin "SIGINT sent to onlyone reaches the whole group, as Ctrl-C would"
# The outer shell traps SIGINT but runs its trap only after its foreground
# child ends; that child (sleep 30) ends at once only if it gets SIGINT too.
env --default-signal=INT "$ONLYONE" intr -- sh -c \
  "trap 'exit 42' INT; sh -c 'touch \"$WORK/intr.started\"; exec sleep 30'; echo survived" \
  >"$WORK/intr.out" &
INTR_PID=$!
BACKGROUND_PIDS+=("$INTR_PID")
wait_until 10 file_exists "$WORK/intr.started" || fail "child did not start"
sleep 0.2
kill -INT "$INTR_PID"
wait_background "$INTR_PID" 5
expect_eq "exit code (the outer shell's trap)" 42 "$BG_RC"
expect_eq "output" "" "$(cat "$WORK/intr.out")"

begin "SIGTERM or SIGINT while waiting cancels the wait with 128+signal"
start_onlyone busy -- sh -c "touch '$WORK/busy.started'; exec sleep 30"
BUSY_PID=$BG_PID
wait_until 10 file_exists "$WORK/busy.started" || fail "holder did not start"
start_onlyone --wait busy -- true
WAITER_PID=$BG_PID
sleep 0.3
kill -TERM "$WAITER_PID"
wait_background "$WAITER_PID" 5
expect_eq "exit code" 143 "$BG_RC"
# Background jobs of a script start with SIGINT ignored; restore it.
env --default-signal=INT "$ONLYONE" --wait busy -- true &
WAITER_PID=$!
BACKGROUND_PIDS+=("$WAITER_PID")
sleep 0.3
kill -INT "$WAITER_PID"
wait_background "$WAITER_PID" 5
expect_eq "exit code" 130 "$BG_RC"
run_onlyone status --json busy
expect_eq "cancelled waiters left no entry (entries)" 1 \
  "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["locks"][0]["entries"]))')"
kill -TERM "$BUSY_PID"
wait_background "$BUSY_PID" 10

begin "kill -9 of onlyone kills the child, and the lock is free again at once"
start_onlyone k9 -- sh -c "echo \$\$ > '$WORK/k9.pid'; exec sleep 60"
K9_PID=$BG_PID
wait_until 10 file_exists "$WORK/k9.pid" || fail "child did not start"
sleep 0.1
CHILD_PID="$(cat "$WORK/k9.pid")"
kill -KILL "$K9_PID"
wait_background "$K9_PID" 5
wait_until 5 process_gone "$CHILD_PID" || fail "child $CHILD_PID survived kill -9 of onlyone"
started=$(date +%s%N)
run_onlyone k9 -- true
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
expect_eq "next run's exit code" 0 "$RC"
echo "next run after kill -9 took ${elapsed_ms}ms"

begin "kill -9 of onlyone kills what the child started in its group too"
start_onlyone k9group -- sh -c "sleep 60 & echo \$! > '$WORK/k9g.grandchild'; wait"
K9_PID=$BG_PID
wait_until 10 file_exists "$WORK/k9g.grandchild" || fail "grandchild did not start"
sleep 0.1
GRANDCHILD_PID="$(cat "$WORK/k9g.grandchild")"
kill -KILL "$K9_PID"
wait_background "$K9_PID" 5
wait_until 5 process_gone "$GRANDCHILD_PID" || fail "grandchild $GRANDCHILD_PID survived kill -9 of onlyone"
run_onlyone k9group -- true
expect_eq "next run's exit code" 0 "$RC"

begin "after kill -9 the lock stays held until the job's group is dead"
start_onlyone held -- sh -c "echo \$\$ > '$WORK/held.pid'; exec sleep 60"
HELD_PID=$BG_PID
wait_until 10 file_exists "$WORK/held.pid" || fail "child did not start"
sleep 0.1
CHILD_PID="$(cat "$WORK/held.pid")"
WATCHDOG_PID="$(ps -o pgid= -p "$CHILD_PID" | tr -d ' ')"
[[ "$WATCHDOG_PID" != "$HELD_PID" && "$WATCHDOG_PID" != "$CHILD_PID" ]] ||
  fail "the child's group ($WATCHDOG_PID) is not led by a watchdog"
# A stopped watchdog cannot act yet, but it shares onlyone's kernel lock (the
# anchor), so the lock must still look held after onlyone is gone.
kill -STOP "$WATCHDOG_PID"
kill -KILL "$HELD_PID"
wait_background "$HELD_PID" 5
run_onlyone held -- true
expect_eq "lock while the watchdog is stopped" 75 "$RC"
kill -CONT "$WATCHDOG_PID"
wait_until 5 process_gone "$WATCHDOG_PID" || fail "watchdog did not exit"
run_onlyone held -- true
expect_eq "lock after the watchdog acted" 0 "$RC"

begin "a normal end leaves the watchdog no time to kill anything"
run_onlyone nk -- sh -c "sleep 3 & echo \$! > '$WORK/nk.grandchild'"
expect_eq "exit code" 0 "$RC"
GRANDCHILD_PID="$(cat "$WORK/nk.grandchild")"
sleep 0.3
process_gone "$GRANDCHILD_PID" && fail "a background helper was killed after a normal end"
# It inherited the anchor, but a normal end dropped the anchor's kernel lock
# for everyone: the helper does not keep the lock.
run_onlyone nk -- true
expect_eq "a second run beside the background helper" 0 "$RC"
kill "$GRANDCHILD_PID" 2>/dev/null

begin "the child inherits one descriptor of the lock: its liveness anchor, and no other"
start_onlyone fds -- sh -c "ls -l /proc/\$\$/fd > '$WORK/child-fds'; touch '$WORK/fds.listed'; exec sleep 30"
FDS_PID=$BG_PID
wait_until 10 file_exists "$WORK/fds.listed" || fail "child did not list its fds"
# The test can see lock descriptors: onlyone itself has some.
ls -l "/proc/$FDS_PID/fd" >"$WORK/onlyone-fds"
grep -q "$LOCKS" "$WORK/onlyone-fds" || fail "onlyone holds no descriptor in $LOCKS (test is blind)"
# The anchor keeps the lock held while the job's processes live, even if
# onlyone is killed (tests/cli/job_tree_test.sh); the lock directory's own
# descriptors, the listing's and the inotify instance stay behind.
expect_eq "lock descriptors the child inherited" 1 "$(grep -c "$LOCKS" "$WORK/child-fds")"
expect_contains "the inherited descriptor" "$LOCKS/fds/k." "$(grep "$LOCKS" "$WORK/child-fds")"
if grep -q inotify "$WORK/child-fds"; then fail "child inherited the inotify instance"; fi
kill -TERM "$FDS_PID"
wait_background "$FDS_PID" 10

begin "a lost lock stops the child with SIGTERM and exits 69"
start_onlyone lost -- sh -c "$(trapping_child "$WORK/lost")"
LOST_PID=$BG_PID
wait_until 10 file_exists "$WORK/lost.pid" || fail "child did not start"
rm -f "$LOCKS"/lost/o.*
wait_background "$LOST_PID" 10
expect_eq "exit code" 69 "$BG_RC"
expect_eq "child got" "TERM" "$(cat "$WORK/lost.log" 2>/dev/null)"

begin "a lost lock SIGKILLs a child that ignores SIGTERM after --grace"
start_onlyone --grace 500ms lost2 -- sh -c "$(stubborn_child "$WORK/lost2")"
LOST_PID=$BG_PID
wait_until 10 file_exists "$WORK/lost2.pid" || fail "child did not start"
CHILD_PID="$(cat "$WORK/lost2.pid")"
rm -f "$LOCKS"/lost2/o.*
wait_background "$LOST_PID" 10
expect_eq "exit code" 69 "$BG_RC"
wait_until 5 process_gone "$CHILD_PID" || fail "stubborn child $CHILD_PID survived"

begin "--replace stops the holder and takes over"
start_onlyone rep -- sh -c "$(trapping_child "$WORK/rep")"
REP_PID=$BG_PID
wait_until 10 file_exists "$WORK/rep.pid" || fail "holder did not start"
run_onlyone --replace rep -- sh -c 'echo replaced'
expect_eq "exit code" 0 "$RC"
expect_eq "output" "replaced" "$OUT"
wait_background "$REP_PID" 5
expect_eq "old holder's exit code (its child's, on SIGTERM)" 3 "$BG_RC"

begin "--replace SIGKILLs a holder that does not stop within --grace"
start_onlyone rep2 -- sh -c "$(stubborn_child "$WORK/rep2")"
REP_PID=$BG_PID
wait_until 10 file_exists "$WORK/rep2.pid" || fail "holder did not start"
CHILD_PID="$(cat "$WORK/rep2.pid")"
started=$(date +%s%N)
run_onlyone --replace --grace 500ms rep2 -- sh -c 'echo replaced'
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
expect_eq "exit code" 0 "$RC"
expect_eq "output" "replaced" "$OUT"
wait_background "$REP_PID" 5
expect_eq "old holder's exit code" 137 "$BG_RC"
wait_until 5 process_gone "$CHILD_PID" || fail "old holder's child $CHILD_PID survived"
echo "replace of a stubborn holder took ${elapsed_ms}ms"

begin "--replace refuses a holder in another PID namespace"
# The holder's pid is a number in its own namespace; here it names another
# process (or none), which must never be signalled.
if unshare --pid --fork true 2>/dev/null; then
  # Not exec'd: onlyone gets a pid other than 1 in the new namespace.
  unshare --pid --fork sh -c "sleep 0; \"\$0\" ns -- sh -c \"touch '$WORK/ns.started'; exec sleep 30\"; :" \
    "$ONLYONE" &
  NS_PID=$!
  BACKGROUND_PIDS+=("$NS_PID")
  wait_until 10 file_exists "$WORK/ns.started" || fail "holder in a PID namespace did not start"
  run_onlyone --replace --grace 200ms ns -- true
  expect_eq "exit code" 75 "$RC"
  expect_contains "reason" "not replaced: pid" "$ERR"
  expect_contains "reason" "(another PID namespace?)" "$ERR"
  [[ "$ERR" != *"held by pid 1 "* ]] || fail "the holder got pid 1; the test needs another pid"
  process_gone "$NS_PID" && fail "the namespaced holder was stopped"
  kill -KILL "$NS_PID" 2>/dev/null
  wait "$NS_PID" 2>/dev/null
else
  echo "SKIP: unshare --pid is not permitted here; the refusal is not exercised"
fi

begin "a signal ignored when onlyone starts stays ignored, by onlyone and by the command"
# Signal set-up is one sigaction per signal that puts SIG_IGN back when it
# was there: nohup's SIGHUP must survive it.
if env --ignore-signal=HUP true 2>/dev/null; then
  run_onlyone ignored -- true  # warm: the lock directory exists
  env --ignore-signal=HUP "$ONLYONE" --dir "$LOCKS" ignored -- \
    sh -c "grep '^SigIgn:' /proc/self/status > '$WORK/ignored.mask'; touch '$WORK/ignored.started'; exec sleep 30" &
  IGN_PID=$!
  BACKGROUND_PIDS+=("$IGN_PID")
  wait_until 10 file_exists "$WORK/ignored.started" || fail "command did not start"
  MASK="$(cut -f2 "$WORK/ignored.mask")"
  (( (16#$MASK & 1) == 1 )) || fail "SIGHUP is not ignored by the command (SigIgn $MASK)"
  kill -HUP "$IGN_PID"
  sleep 0.3
  process_gone "$IGN_PID" && fail "onlyone died of a SIGHUP it was started ignoring"
  kill -TERM "$IGN_PID"
  wait_background "$IGN_PID" 10
  expect_eq "exit code after SIGTERM" 143 "$BG_RC"
else
  echo "SKIP: env --ignore-signal is not available"
fi

finish
