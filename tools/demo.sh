#!/usr/bin/env bash
# A real example of onlyone, run by `./run demo`: a nightly job that must
# not overlap with itself, in a private temporary lock directory.
#   1. a first run holds the lock for two seconds;
#   2. a second run is refused at once: exit 75, one line naming the holder;
#   3. a third run waits for the lock, then runs with its fencing token;
#   4. `onlyone status` shows the lock while the first run holds it.
set -euo pipefail
onlyone=${1:?usage: demo.sh PATH_TO_ONLYONE}
dir=$(mktemp -d "${TMPDIR:-/tmp}/onlyone-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT
chmod 700 "$dir"

if [[ -t 1 ]]; then
  say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
  say() { printf '\n$ %s\n' "$*"; }
fi

say "onlyone --dir DIR nightly -- sleep 2 &    # the first run holds the lock"
"$onlyone" --dir "$dir" nightly -- sleep 2 &
first=$!
sleep 0.3

say "onlyone --dir DIR status"
"$onlyone" --dir "$dir" status

say "onlyone --dir DIR nightly -- echo overlapping    # refused while the first runs"
set +e
"$onlyone" --dir "$dir" nightly -- echo overlapping
echo "exit status $? (75: not acquired)"
set -e

say "onlyone --dir DIR --wait=10s nightly -- sh -c 'echo ran with fence \$ONLYONE_FENCE'"
"$onlyone" --dir "$dir" --wait=10s nightly -- sh -c 'echo "ran with fence $ONLYONE_FENCE after the first run finished"'
wait "$first"
