#!/bin/sh
# The native side of the exclusion proof (see platform/wasi/node/contender.js):
# run as `onlyone ... -- sh witness.sh DIR SLOTS HOLD_SECONDS`. Creates the
# first free DIR/witness.<i>, i < SLOTS, exclusively and whole (a linked
# temporary), holding this shell's pid; none free means more than SLOTS holders at once:
# DIR/violation, exit 3. Appends "native" to DIR/log, holds, and removes its
# witness before onlyone releases.
#
# A witness whose process is gone was left by a holder killed with SIGKILL:
# it is cleared first. "Gone" includes dying: a zombie, a process already
# exiting, or one with a SIGKILL pending. When onlyone is killed, its
# watchdog SIGKILLs this shell and then exits, which frees the lock; the
# next holder can run before this shell has even begun to exit.
dir=$1
slots=$2
hold=$3
# Bounded retries of one slot whose stale witness another holder cleared too.
attempts_max=8

gone() {
  status=$(cat "/proc/$1/status" 2>/dev/null) || return 0
  [ -n "$status" ] || return 0
  state=$(printf '%s\n' "$status" | sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p')
  case "$state" in Z | X) return 0 ;; esac
  for pending in $(printf '%s\n' "$status" | sed -n 's/^\(SigPnd\|ShdPnd\):[[:space:]]*//p'); do
    low=$(printf '%s' "$pending" | tail -c 4)
    # SIGKILL is signal 9: bit 8 of the pending masks.
    [ $((0x$low & 256)) -ne 0 ] && return 0
  done
  # Field 9 of /proc/PID/stat, the 7th after the command's ")": PF_EXITING (4).
  flags=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f7)
  [ -n "$flags" ] && [ $((flags & 4)) -ne 0 ] && return 0
  return 1
}

i=0
attempts=0
mine=""
while [ "$i" -lt "$slots" ] && [ "$attempts" -lt "$attempts_max" ]; do
  witness="$dir/witness.$i"
  # Written whole before it appears: a temporary linked to the witness name
  # (link(2) fails if the name exists). A create-then-write witness would be
  # left empty forever by a holder killed between the two, and an empty
  # witness cannot name its dead owner.
  echo "$$" > "$dir/.pending.$$"
  if ln "$dir/.pending.$$" "$witness" 2>/dev/null; then
    rm -f "$dir/.pending.$$"
    mine=$witness
    break
  fi
  rm -f "$dir/.pending.$$"
  if ! owner=$(cat "$witness" 2>/dev/null); then
    attempts=$((attempts + 1))  # removed meanwhile: the same slot again
    continue
  fi
  if [ -n "$owner" ] && gone "$owner"; then
    rm -f "$witness"
    attempts=$((attempts + 1))
    continue
  fi
  i=$((i + 1))
done
if [ -z "$mine" ]; then
  echo "native $$ found every witness taken: $(cat "$dir"/witness.* 2>/dev/null | tr '\n' ' ')" >> "$dir/violation"
  exit 3
fi
echo native >> "$dir/log"
sleep "$hold"
rm -f "$mine"
