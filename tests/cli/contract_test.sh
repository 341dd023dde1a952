#!/usr/bin/env bash
# The command's contract (README.md, docs/onlyone.1) with real processes: conflict
# exit code and holder line, -E, --wait, exit status passthrough, the child's
# environment, usage errors, derived names, slots.
source "$(dirname "$0")/lib.sh" "$1"

# A holder whose child says when it runs, then sleeps until stopped.
start_holder() {  # start_holder NAME MARKER [OPTIONS...]
  local name="$1" marker="$2"
  shift 2
  start_onlyone "$@" "$name" -- sh -c "touch '$marker'; exec sleep 30"
  HOLDER_PID=$BG_PID
  wait_until 10 file_exists "$marker" || fail "holder of $name did not start"
}

begin "second instance exits 75 with one line naming the holder"
start_holder job "$WORK/job.started"
run_onlyone job -- true
expect_eq "exit code" 75 "$RC"
expect_eq "stderr lines" 1 "$(printf '%s\n' "$ERR" | wc -l)"
expect_contains "holder line" "pid $HOLDER_PID" "$ERR"
expect_contains "holder line" "(sh -c 'touch" "$ERR"
expect_contains "holder line" "since 20" "$ERR"

begin "-E sets the conflict exit code"
run_onlyone -E 3 job -- true
expect_eq "exit code" 3 "$RC"
run_onlyone --conflict-exit-code=0 -q job -- true
expect_eq "exit code" 0 "$RC"
expect_eq "quiet stderr" "" "$ERR"

begin "--wait=1s gives up after about a second with 75"
started=$(date +%s%N)
run_onlyone --wait=1s job -- true
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
expect_eq "exit code" 75 "$RC"
expect_contains "holder line" "gave up after waiting 1s" "$ERR"
((elapsed_ms >= 900 && elapsed_ms < 5000)) || fail "waited ${elapsed_ms}ms, expected about 1000"

begin "--wait acquires when the holder exits"
start_onlyone --wait job -- sh -c "echo waited-and-ran > '$WORK/waiter.out'"
WAITER_PID=$BG_PID
sleep 0.3
process_gone "$WAITER_PID" && fail "waiter did not wait"
kill -TERM "$HOLDER_PID"
wait_background "$HOLDER_PID" 10
expect_eq "holder's exit code (its child got SIGTERM)" 143 "$BG_RC"
wait_background "$WAITER_PID" 10
expect_eq "waiter's exit code" 0 "$BG_RC"
expect_eq "waiter's output" "waited-and-ran" "$(cat "$WORK/waiter.out" 2>/dev/null)"

begin "-w SECONDS like flock(1): a bare number is seconds, fractions allowed"
start_holder job "$WORK/job2.started"
started=$(date +%s%N)
run_onlyone -v -w 0.5 job -- true
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
expect_eq "exit code" 75 "$RC"
expect_contains "what -v understood" "onlyone: waiting up to 500ms for 'job'" "$ERR"
expect_contains "holder line" "gave up after waiting 500ms" "$ERR"
((elapsed_ms >= 400 && elapsed_ms < 4000)) || fail "waited ${elapsed_ms}ms, expected about 500"
run_onlyone --timeout=0.3 job -- true
expect_eq "--timeout=0.3 exit code" 75 "$RC"
expect_contains "--timeout=0.3" "gave up after waiting 300ms" "$ERR"
run_onlyone --wait=0.3 job -- true
expect_contains "--wait=0.3 is seconds too" "gave up after waiting 300ms" "$ERR"

begin "-n is accepted and wins over -w and --wait in either order, as in flock(1)"
for args in "-n" "--nonblock" "--nb" "-n -w 5" "-w 5 -n" "--wait --nonblock" "--wait=5 -n"; do
  started=$(date +%s%N)
  # shellcheck disable=SC2086
  run_onlyone $args job -- true
  elapsed_ms=$((($(date +%s%N) - started) / 1000000))
  expect_eq "exit code of '$args'" 75 "$RC"
  ((elapsed_ms < 4000)) || fail "'$args' waited ${elapsed_ms}ms instead of giving up at once"
done
run_onlyone -v -w 5 -n job -- true
expect_contains "what -v understood" "onlyone: not waiting for 'job': -n overrides -w 5" "$ERR"

begin "'--wait 30s' is refused as ambiguous, also without a NAME"
run_onlyone --wait 30s -- true
expect_eq "exit code" 64 "$RC"
expect_contains "message" "'--wait 30s' is ambiguous: for a time limit write --wait=30s or -w 30s" "$ERR"
[[ ! -e "$LOCKS/30s" ]] || fail "'30s' was taken as a lock name"

begin "-w waits and acquires when the holder exits"
start_onlyone -w 20 job -- sh -c "echo waited-and-ran > '$WORK/w.out'"
WAITER_PID=$BG_PID
sleep 0.3
process_gone "$WAITER_PID" && fail "-w 20 did not wait"
kill -TERM "$HOLDER_PID"
wait_background "$HOLDER_PID" 10
wait_background "$WAITER_PID" 10
expect_eq "waiter's exit code" 0 "$BG_RC"
expect_eq "waiter's output" "waited-and-ran" "$(cat "$WORK/w.out" 2>/dev/null)"

begin "child exit status is passed through"
run_onlyone job -- sh -c 'exit 42'
expect_eq "exit code" 42 "$RC"
run_onlyone job -- sh -c 'exit 0'
expect_eq "exit code" 0 "$RC"

begin "child killed by a signal gives 128+signal"
run_onlyone job -- sh -c 'kill -TERM $$'
expect_eq "SIGTERM" 143 "$RC"
run_onlyone job -- sh -c 'kill -KILL $$'
expect_eq "SIGKILL" 137 "$RC"

begin "missing and non-executable commands give 127 and 126"
run_onlyone job -- /nonexistent/command
expect_eq "not found" 127 "$RC"
expect_contains "message" "cannot run '/nonexistent/command'" "$ERR"
run_onlyone job -- "$WORK"
expect_eq "not executable" 126 "$RC"

begin "ONLYONE_FENCE increases across runs and ONLYONE_NAME is set"
run_onlyone job -- sh -c 'echo "$ONLYONE_FENCE $ONLYONE_NAME"'
first_fence="${OUT%% *}"
expect_eq "name" "job" "${OUT#* }"
run_onlyone job -- sh -c 'echo "$ONLYONE_FENCE"'
((OUT > first_fence)) || fail "fence did not increase: $first_fence then $OUT"

begin "usage errors exit 64 and say what to do"
for args in "--bogus job -- true" "--wait=30x job -- true" "--slots 0 job -- true" \
            "job true" "job --" "-E 300 job -- true" "--grace=soon job -- true" "" \
            "-w job -- true" "-w 1h30 job -- true" "--wait 30 job -- true" "-w 0,5 job -- true"; do
  # shellcheck disable=SC2086
  run_onlyone $args
  expect_eq "exit code of 'onlyone $args'" 64 "$RC"
  expect_contains "message of 'onlyone $args'" "onlyone: " "$ERR"
done
run_onlyone job true
expect_contains "message" "missing '--' before the command" "$ERR"
run_onlyone --wait 30s job -- true
expect_contains "hint" "--wait=30s" "$ERR"

begin "--help and --version exit 0"
run_onlyone --help
expect_eq "exit code" 0 "$RC"
expect_contains "usage" "onlyone [OPTIONS] NAME -- COMMAND" "$OUT"
run_onlyone --version
expect_eq "exit code" 0 "$RC"

begin "a name derived from argv is stable and quoting-safe"
run_onlyone -- sh -c 'echo "$ONLYONE_NAME"' x 'b c'
name_quoted="$OUT"
run_onlyone -- sh -c 'echo "$ONLYONE_NAME"' x 'b c'
expect_eq "same argv, same name" "$name_quoted" "$OUT"
run_onlyone -- sh -c 'echo "$ONLYONE_NAME"' x b c
[[ "$OUT" != "$name_quoted" ]] || fail "'b c' and b c gave the same name $OUT"
[[ "$name_quoted" == cmd-sh-* ]] || fail "derived name $name_quoted lacks the cmd-sh- prefix"

begin "a derived name excludes the same command line"
start_onlyone -- sh -c "touch '$WORK/derived.started'; exec sleep 30"
DERIVED_PID=$BG_PID
wait_until 10 file_exists "$WORK/derived.started" || fail "derived holder did not start"
run_onlyone -- sh -c "touch '$WORK/derived.started'; exec sleep 30"
expect_eq "exit code" 75 "$RC"
kill -TERM "$DERIVED_PID"
wait_background "$DERIVED_PID" 10

begin "--slots 2 lets two run and refuses the third"
start_holder pool "$WORK/pool1.started" --slots 2
POOL1=$HOLDER_PID
start_holder pool "$WORK/pool2.started" --slots 2
POOL2=$HOLDER_PID
run_onlyone --slots 2 pool -- true
expect_eq "third exit code" 75 "$RC"
expect_contains "conflict line" "'pool' is held (all 2 slots) by pid" "$ERR"
kill -TERM "$POOL1" "$POOL2"
wait_background "$POOL1" 10
wait_background "$POOL2" 10

finish
