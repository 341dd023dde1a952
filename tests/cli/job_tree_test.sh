#!/usr/bin/env bash
# The lock is never free while a process of the job's tree runs, whatever
# kills onlyone and its watchdog (`killall -9 onlyone` kills both at once),
# in either order, however fast; and what a job leaves behind after a normal
# end does not keep the lock.
#
# The witness: every process of the first job that may outlive onlyone
# writes its pid to a file when it starts. A second copy, if onlyone ever
# lets it run, looks up each of those pids in /proc: one still running (not
# a zombie) is an overlap, which the second copy records by creating the
# file "overlap" with O_EXCL (set -C) and exiting 99. Each kill pattern runs
# ROUNDS times, because whether the watchdog's SIGKILL of the group or the
# kill of the watchdog comes first is a race (it decided 1 run in 5 before
# the job inherited the anchor).
source "$(dirname "$0")/lib.sh" "$1"

ROUNDS=8
BASH_BIN="$(command -v bash)"

# What the second copy runs: exits 99 if a process of the first job runs.
CHECK_SCRIPT="$WORK/check.sh"
cat >"$CHECK_SCRIPT" <<'EOF'
set -C
while read -r pid; do
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)"
  if [[ -n "$state" && "$state" != Z ]]; then
    echo "$pid" >"$1/overlap" || true
    exit 99
  fi
done <"$1/pids"
exit 0
EOF

# A process of the job that records its pid, then runs for 30 s.
cat >"$WORK/member.sh" <<'EOF'
echo $$ >>"$1/pids"
exec sleep 30
EOF
member() { echo "sh '$WORK/member.sh' '$1'"; }
# One that closes every inherited descriptor first, as daemons and Python's
# subprocess (close_fds) do, but stays in the job's process group.
cat >"$WORK/closer.py" <<'EOF'
import os, sys, time
with open(sys.argv[1] + "/pids", "a") as pids:
    pids.write("%d\n" % os.getpid())
os.closerange(3, 65536)
time.sleep(30)
EOF
closer() { echo "python3 '$WORK/closer.py' '$1'"; }

job_for() {  # job_for SHAPE DIR: sets JOB (the job's shell script) and MEMBERS
  local d="$2"
  case "$1" in
    two-children) JOB="$(member "$d") & $(member "$d") & wait"; MEMBERS=2 ;;
    grandchildren) JOB="bash -c \"$(member "$d") & wait\" & $(member "$d") & wait"; MEMBERS=2 ;;
    closes-descriptors) JOB="$(closer "$d") & wait"; MEMBERS=1 ;;
    setsid-child) JOB="setsid $(member "$d") & $(member "$d") & wait"; MEMBERS=2 ;;
  esac
}

lines_in() { [[ -f "$1" ]] && (($(wc -l <"$1") >= $2)); }

kill_members() {  # SIGKILL whatever the first job left running
  local pid
  [[ -f "$1/pids" ]] || return 0
  while read -r pid; do kill -KILL "$pid" 2>/dev/null; done <"$1/pids"
  while read -r pid; do wait_until 5 process_gone "$pid" || fail "member $pid survived SIGKILL"; done <"$1/pids"
}

any_member_runs() {
  local pid
  while read -r pid; do process_gone "$pid" || return 0; done <"$1/pids"
  return 1
}

# One round: start the job, kill onlyone and its watchdog in PATTERN, run a
# second copy, then end the survivors and check that the lock is free again.
SURVIVED=0
one_round() {  # one_round SHAPE PATTERN ROUND
  local d="$WORK/$1-$2-$3"
  mkdir -p "$d"
  job_for "$1" "$d"
  "$ONLYONE" tree -- "$BASH_BIN" -c "$JOB" 2>"$d/err" &
  local main=$!
  BACKGROUND_PIDS+=("$main")
  wait_until 10 lines_in "$d/pids" "$MEMBERS" || fail "$1: the job did not start"
  local watchdog
  watchdog="$(ps -o pid=,comm= --ppid "$main" | awk '$2 == "onlyone" {print $1}')"
  [[ -n "$watchdog" ]] || fail "$1: no watchdog under onlyone $main"
  case "$2" in
    together) kill -KILL "$main" $watchdog ;;
    onlyone-first) kill -KILL "$main"; kill -KILL $watchdog ;;
    watchdog-first) kill -KILL $watchdog; sleep 0.2; kill -KILL "$main" ;;
  esac
  wait "$main" 2>/dev/null
  any_member_runs "$d" && SURVIVED=$((SURVIVED + 1))
  timeout -s KILL 30 "$ONLYONE" tree -- "$BASH_BIN" "$CHECK_SCRIPT" "$d" >"$d/second.out" 2>&1
  local rc=$?
  if [[ -e "$d/overlap" || $rc == 99 ]]; then
    fail "$1/$2 round $3: a second copy ran beside pid $(cat "$d/overlap" 2>/dev/null) of the first job"
  elif [[ $rc != 0 && $rc != 75 ]]; then
    fail "$1/$2 round $3: second copy exited $rc: $(cat "$d/second.out")"
  fi
  if [[ "$2" == watchdog-first ]]; then
    expect_contains "$1 round $3: onlyone says the watchdog died" \
      "the watchdog (pid $watchdog) was killed by signal 9" "$(cat "$d/err")"
  fi
  kill_members "$d"
  # Free again once the job's processes are gone (no stale lock, no manual
  # clean-up): at once, or after a wait for zombies to be reaped.
  run_onlyone --wait=5s tree -- true
  expect_eq "$1/$2 round $3: the lock is free once the job is gone" 0 "$RC"
}

for shape in two-children grandchildren closes-descriptors setsid-child; do
  for pattern in together onlyone-first watchdog-first; do
    begin "$shape: killing onlyone and its watchdog ($pattern) never lets a second copy run beside the job"
    SURVIVED=0
    for ((round = 1; round <= ROUNDS; round++)); do one_round "$shape" "$pattern" "$round"; done
    echo "$shape/$pattern: the job outlived onlyone and its watchdog in $SURVIVED of $ROUNDS rounds"
    # A setsid child leaves the group the watchdog kills: it survives every
    # round. So does anything when both die at once often enough; the
    # survival count proves the witness had something to see.
    if [[ "$shape" == setsid-child ]]; then
      expect_eq "$shape/$pattern: rounds where the setsid child outlived the kills" "$ROUNDS" "$SURVIVED"
    fi
  done
done

begin "status names the job's processes that hold the lock of a killed onlyone"
d="$WORK/status"
mkdir -p "$d"
job_for setsid-child "$d"
"$ONLYONE" held -- "$BASH_BIN" -c "$JOB" &
MAIN=$!
BACKGROUND_PIDS+=("$MAIN")
wait_until 10 lines_in "$d/pids" 2 || fail "the job did not start"
# Only onlyone: its watchdog then kills the job's group, and the setsid child,
# outside the group, is the one process that still holds the lock.
kill -KILL "$MAIN"
wait "$MAIN" 2>/dev/null
# The two members append their pids in either order: the setsid child is
# the one that leads its own session.
SETSID_PID="" GROUP_MEMBER=""
while read -r pid; do
  if [[ "$(ps -o sid= -p "$pid" | tr -d ' ')" == "$pid" ]]; then SETSID_PID=$pid; else GROUP_MEMBER=$pid; fi
done <"$d/pids"
[[ -n "$SETSID_PID" ]] || fail "no member leads its own session (setsid)"
wait_until 5 process_gone "$GROUP_MEMBER" || fail "the watchdog did not kill the job's group"
run_onlyone status held
expect_contains "status text" "pid $MAIN is gone; its job's processes still hold the lock: $SETSID_PID" "$OUT"
run_onlyone status --json held
expect_eq "status --json" "True [$SETSID_PID]" "$(printf '%s' "$OUT" | python3 -c '
import json, sys
entry = json.load(sys.stdin)["locks"][0]["entries"][0]
print(entry["owner_gone"], entry["job_pids"])')"
run_onlyone held -- true
expect_eq "a second copy" 75 "$RC"
expect_contains "the conflict line" "pid $MAIN is gone; its job's processes still hold the lock: $SETSID_PID" "$ERR"

begin "--replace stops the job's processes of a killed onlyone and takes over"
run_onlyone --replace --grace 1s held -- echo replaced
expect_eq "exit code" 0 "$RC"
expect_eq "output" "replaced" "$OUT"
process_gone "$SETSID_PID" || fail "--replace left pid $SETSID_PID running"

begin "after a normal end, what the job left running does not hold the lock"
d="$WORK/normal"
mkdir -p "$d"
run_onlyone leftover -- "$BASH_BIN" -c "setsid $(member "$d") & $(member "$d") &"
expect_eq "exit code" 0 "$RC"
wait_until 10 lines_in "$d/pids" 2 || fail "the job's background processes did not start"
any_member_runs "$d" || fail "the background processes are gone (test is blind)"
run_onlyone leftover -- true
expect_eq "a second run while the leftovers run" 0 "$RC"
kill_members "$d"

finish
