#!/bin/sh
# The native side of the exclusion proof (see platform/wasi/node/contender.js):
# run as `onlyone ... -- sh witness.sh DIR SLOTS HOLD_SECONDS`. Creates the
# first free DIR/witness.<i>, i < SLOTS, exclusively (noclobber); none free
# means more than SLOTS holders at once: DIR/violation, exit 3. Appends
# "native" to DIR/log, holds, removes its witness before onlyone releases.
dir=$1
slots=$2
hold=$3
i=0
mine=""
while [ "$i" -lt "$slots" ]; do
  if (set -C; echo "native $PPID" > "$dir/witness.$i") 2>/dev/null; then
    mine="$dir/witness.$i"
    break
  fi
  i=$((i + 1))
done
if [ -z "$mine" ]; then
  echo "native $PPID" >> "$dir/violation"
  exit 3
fi
echo native >> "$dir/log"
sleep "$hold"
rm -f "$mine"
