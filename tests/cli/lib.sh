# Helpers for the onlyone command tests: real processes, every wait bounded.
# Usage: source lib.sh "$ONLYONE_BINARY"; then test_* functions; then finish.
set -u

ONLYONE="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
WORK="$(mktemp -d "${TEST_TMPDIR:-/tmp}/onlyone-cli.XXXXXX")"
LOCKS="$WORK/locks"
mkdir -m 700 "$LOCKS"
export ONLYONE_DIR="$LOCKS"
FAILURES=0
BACKGROUND_PIDS=()
CURRENT_TEST=""

fail() {
  echo "FAIL [$CURRENT_TEST]: $*" >&2
  FAILURES=$((FAILURES + 1))
}

begin() {
  CURRENT_TEST="$1"
  echo "--- $1"
}

expect_eq() {  # expect_eq WHAT EXPECTED ACTUAL
  if [[ "$2" != "$3" ]]; then fail "$1: expected '$2', got '$3'"; fi
}

expect_contains() {  # expect_contains WHAT NEEDLE HAYSTACK
  if [[ "$3" != *"$2"* ]]; then fail "$1: expected to contain '$2', got '$3'"; fi
}

# Runs onlyone bounded in time; sets RC, OUT, ERR.
run_onlyone() {
  timeout -s KILL 30 "$ONLYONE" "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT="$(cat "$WORK/out")"
  ERR="$(cat "$WORK/err")"
}

# Starts onlyone in the background; sets BG_PID.
start_onlyone() {
  "$ONLYONE" "$@" &
  BG_PID=$!
  BACKGROUND_PIDS+=("$BG_PID")
}

# wait_until TIMEOUT_S COMMAND...: polls COMMAND every 50ms; false on timeout.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

file_exists() { [[ -e "$1" ]]; }
process_gone() {  # gone or a zombie
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 0
  [[ -z "$state" || "$state" == Z ]]
}

# Waits (bounded) for a background onlyone and sets BG_RC.
wait_background() {  # wait_background PID TIMEOUT_S
  if ! wait_until "$2" process_gone "$1"; then
    fail "pid $1 still running after $2s"
    kill -KILL "$1" 2>/dev/null
  fi
  wait "$1" 2>/dev/null
  BG_RC=$?
}

finish() {
  local pid
  for pid in "${BACKGROUND_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if ((FAILURES > 0)); then
    echo "$FAILURES failure(s)" >&2
    exit 1
  fi
  echo "all passed"
  exit 0
}
