#!/bin/sh
# The native side of the exclusion proof (see platform/wasi/node/contender.js):
# run as `onlyone ... -- sh witness.sh DIR SLOTS HOLD_SECONDS`. Creates
# DIR/witness.<pid>, a name of its own holding this shell's pid, written
# whole before it appears (a temporary renamed into place: a witness created
# empty would be left so forever by a holder killed before the write, and
# could not name its dead owner). Then counts the other witnesses whose
# owners live; more than SLOTS-1, still there with their owners alive at a
# second look, means more than SLOTS holders at once: DIR/violation, exit 3.
# Appends "native" to DIR/log, holds, and removes its witness before onlyone
# releases.
#
# A witness whose process is gone was left by a holder killed with SIGKILL:
# it is removed (its name is its dead owner's alone). "Gone" includes dying:
# a zombie, a process already exiting, or one with a SIGKILL pending. When
# onlyone is killed, its watchdog SIGKILLs this shell and then exits, which
# frees the lock; the next holder can run before this shell has even begun
# to exit.
#
# Names of their own, not one per slot: with per-slot names a holder that
# judged a slot's previous owner gone (it had just released and exited)
# removed the witness a new holder had put there meanwhile.
dir=$1
slots=$2
hold=$3

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

mine="$dir/witness.$$"
echo "$$" > "$dir/.pending.$$"
mv -f "$dir/.pending.$$" "$mine"

# Prints the other witnesses whose owners live, one per line; removes those
# of owners that are gone.
live_others() {
  for witness in "$dir"/witness.*; do
    [ "$witness" = "$mine" ] && continue
    owner=$(cat "$witness" 2>/dev/null) || continue  # removed: released
    if gone "$owner"; then
      rm -f "$witness"
    else
      echo "$witness $owner"
    fi
  done
}

others=$(live_others)
count=$(printf '%s' "$others" | grep -c .)
if [ "$count" -ge "$slots" ]; then
  # A second look: present at the first read and still there with a live
  # owner means present throughout, so all of them existed at once.
  still=$(printf '%s\n' "$others" | while read -r witness owner; do
    [ -e "$witness" ] && ! gone "$owner" && echo "$owner"
  done)
  if [ "$(printf '%s' "$still" | grep -c .)" -ge "$slots" ]; then
    echo "native $$ saw other holders:" $still >> "$dir/violation"
    rm -f "$mine"
    exit 3
  fi
fi
echo native >> "$dir/log"
sleep "$hold"
rm "$mine"
