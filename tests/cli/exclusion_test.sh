#!/usr/bin/env bash
# Many concurrent onlyone processes on one lock, each proving in its critical
# section that it is alone (an O_EXCL witness file), or one of at most N.
source "$(dirname "$0")/lib.sh" "$1"

CONTENDERS=24

begin "$CONTENDERS waiting contenders never overlap"
pids=()
for i in $(seq "$CONTENDERS"); do
  # set -C: '>' creates with O_EXCL, so a second holder fails to create it.
  timeout -s KILL 60 "$ONLYONE" --wait ex -- sh -c \
    "set -C; : > '$WORK/witness' || exit 99; echo \$ONLYONE_FENCE >> '$WORK/fences'; sleep 0.01; rm '$WORK/witness'" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
expect_eq "contenders that failed (99: overlapped)" 0 "$failed"
expect_eq "critical sections run" "$CONTENDERS" "$(wc -l <"$WORK/fences")"
expect_eq "distinct fences" "$CONTENDERS" "$(sort -u "$WORK/fences" | wc -l)"

begin "with --slots 3, never more than three at once"
mkdir "$WORK/inside"
pids=()
for i in $(seq "$CONTENDERS"); do
  timeout -s KILL 60 "$ONLYONE" --wait --slots 3 pool -- sh -c \
    "mkdir '$WORK/inside/$i'; n=\$(ls '$WORK/inside' | wc -l); sleep 0.02; rmdir '$WORK/inside/$i'; [ \$n -le 3 ] || exit 98" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
expect_eq "contenders that failed (98: more than three inside)" 0 "$failed"

finish
