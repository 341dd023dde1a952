#!/bin/sh
# The command built from source: it runs a job under a lock and hands it the
# fence; a second run while the first holds is refused with 75.
set -eu
onlyone="$1"
dir="$TEST_TMPDIR/locks"
# shellcheck disable=SC2016 # expanded by the job's shell, not here
fence="$("$onlyone" --dir "$dir" job -- sh -c 'echo "$ONLYONE_FENCE"')"
[ "$fence" -ge 1 ] || { echo "command_test: fence '$fence'" >&2; exit 1; }
rc=0
"$onlyone" --dir "$dir" job -- "$onlyone" --dir "$dir" job -- true 2>"$TEST_TMPDIR/err" || rc=$?
[ "$rc" -eq 75 ] || { echo "command_test: nested run exited $rc, want 75" >&2; exit 1; }
grep -q "'job' is held by pid" "$TEST_TMPDIR/err"
echo "command_test: ok (fence $fence)"
