#!/usr/bin/env bash
# Builds and tests examples/bazel_consumer, a workspace that uses this one as
# @onlyone through local_repository, with a nested Bazel:
#   - its tests (a C++ program on the guard, a C one on the C API, one test
#     per other public target) pass;
#   - a target reaching past the public aliases to a private one fails with
#     Bazel's "is not visible";
#   - the guard built for an OS without a port of the POSIX driver (macOS)
#     fails at analysis with onlyone's message naming what a port needs.
#
# Traps this avoids:
#   - The nested Bazel must not share the outer one's output base (it holds
#     its lock): it gets an output user root of its own. That root persists
#     in $TMPDIR between runs, so after the first (cold: about a minute on 2
#     cores) a run only re-checks; a fresh one per run would rebuild all.
#   - Runfiles are symlinks into the source tree (the test runs unsandboxed);
#     the consumer's WORKSPACE names the checkout as "../..", so it must run
#     in the real tree, found through the WORKSPACE file's real path.
#   - The user's ~/.bazelrc (a disk cache, say) is not read: the consumer is
#     built the way a newcomer's would be. Its own .bazelrc keeps it offline.
#   - No bazel-* symlinks are written into the source tree (--symlink_prefix).
set -euo pipefail

root="$(dirname "$(readlink -f "$TEST_SRCDIR/onlyone/WORKSPACE")")"
consumer="$root/examples/bazel_consumer"
[[ -f "$consumer/WORKSPACE" ]] || { echo "consumer_test: no $consumer/WORKSPACE" >&2; exit 1; }
bazel="$(command -v bazel)" || { echo "consumer_test: bazel not found on PATH" >&2; exit 1; }

output_root="${TMPDIR:-/tmp}/onlyone-bazel-consumer-$(id -u)"
startup=(--nohome_rc "--output_user_root=$output_root" --max_idle_secs=60)
common=(--symlink_prefix=/ --color=no --curses=no --show_progress_rate_limit=30)
export HOME="$TEST_TMPDIR"
cd "$consumer"
# shellcheck disable=SC2317
shutdown() { "$bazel" "${startup[@]}" shutdown >/dev/null 2>&1 || true; }
trap shutdown EXIT

echo "consumer_test: bazel test //... in $consumer"
"$bazel" "${startup[@]}" test "${common[@]}" --test_output=errors //...

for target in //private:uses_private_driver //private:uses_core_package; do
  rc=0
  "$bazel" "${startup[@]}" build "${common[@]}" "$target" >"$TEST_TMPDIR/private.log" 2>&1 || rc=$?
  if ((rc == 0)) || ! grep -q "is not visible from target '$target'" "$TEST_TMPDIR/private.log"; then
    cat "$TEST_TMPDIR/private.log" >&2
    echo "consumer_test: $target built or failed for another reason;" \
         "a private target of onlyone must not be visible outside it" >&2
    exit 1
  fi
  echo "consumer_test: $target refused: not visible (as it must be)"
done
# An OS without a port of the POSIX driver: refused at analysis, by name.
rc=0
"$bazel" "${startup[@]}" build "${common[@]}" --platforms=//private:unported_os \
  --extra_toolchains=//private:unported_os_cc @onlyone//:lock >"$TEST_TMPDIR/port.log" 2>&1 || rc=$?
if ((rc == 0)) || ! grep -q "onlyone's POSIX driver has no port for this OS" "$TEST_TMPDIR/port.log"; then
  cat "$TEST_TMPDIR/port.log" >&2
  echo "consumer_test: @onlyone//:lock for an OS without a port built or failed for another" \
       "reason; it must be refused naming the missing port (platform/posix/driver_os.h)" >&2
  exit 1
fi
echo "consumer_test: @onlyone//:lock for an unported OS refused: no port (as it must be)"
echo "consumer_test: ok"
