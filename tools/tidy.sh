#!/usr/bin/env bash
# clang-tidy-14 with the tree's .clang-tidy over the C++ sources (tests
# excepted: their gtest macros are not what the checks are for).
#
#   tools/tidy.sh [PATH...]   PATH: files or directories (default: DEFAULT_DIRS
#                             below); exit 1 on any finding
#
# platform/wasi is not in DEFAULT_DIRS: its driver and module build only for
# wasm32-wasi (wasi/api.h, the import attributes), which this native,
# database-free run cannot parse; the wasm toolchain compiles them with -Wall
# -Wextra -Werror instead. -DTHREADED: platform/zookeeper uses the C client's
# synchronous API, which zookeeper.h declares only then (as its BUILD does).
#
# No compile_commands.json is needed: every source here builds with
# -std=c++17 and the workspace root on the include path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLANG_TIDY="${CLANG_TIDY:-clang-tidy-14}"
CONFIG="${TIDY_CONFIG_FILE:-$ROOT/.clang-tidy}"
cd "$ROOT"
DEFAULT_DIRS=(core cli sim verify fuzz platform/backend.cc platform/posix platform/zookeeper python examples/bazel_consumer)
[[ $# -gt 0 ]] || set -- "${DEFAULT_DIRS[@]}"

mapfile -t files < <(find "$@" -type f -name '*.cc' ! -name '*_test.cc' | sort)
if ((${#files[@]} == 0)); then
  echo "tidy: no C++ sources under: $*" >&2
  exit 2
fi

# Two at a time (the machine has two cores); each file's findings are printed
# whole. xargs exits non-zero if any clang-tidy did.
rc=0
printf '%s\n' "${files[@]}" | xargs -P 2 -I{} bash -c \
  'out="$("$0" --quiet --config-file="$1" "$2" -- -std=c++17 -x c++ -I. -DTHREADED 2>&1)"; rc=$?
   grep -v "warnings generated" <<<"$out" >&2 || true; exit "$rc"' \
  "$CLANG_TIDY" "$CONFIG" {} || rc=$?
echo "tidy: ${#files[@]} files checked, $([[ $rc == 0 ]] && echo clean || echo FINDINGS above)"
exit "$rc"
