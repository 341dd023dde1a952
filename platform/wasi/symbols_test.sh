#!/usr/bin/env bash
# The module contains no allocator, no C++ runtime and no memory.grow, imports
# only WASI and the two onlyone_host functions, and stays under 64 KiB
# stripped (module_check.py). Then proves the checker can fail: a module
# that calls malloc, and a size limit below the real size, must be refused.
#
# Usage: symbols_test.sh MODULE_CHECK_PY NAMED_MODULE STRIPPED_MODULE
set -euo pipefail

check=$1
named=$2
stripped=$3
# The shipped module's size limit (docs/wasi.md).
module_bytes_max=65536

status=0
fail() {
  echo "FAIL: $*" >&2
  status=1
}

if ! python3 "$check" --names "$named" --stripped "$stripped" --max-bytes "$module_bytes_max"; then
  fail "the onlyone module failed its checks (above)"
fi

out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/symbols.XXXXXX")
trap 'rm -rf "$out"' EXIT

# A module that allocates, linked like ours (wasi-libc, reactor).
cat > "$out/allocates.c" <<'C'
#include <stdlib.h>
__attribute__((export_name("leak"))) void* leak(int bytes) { return malloc((size_t)bytes); }
C
clang-14 --target=wasm32-wasi -nostdinc -isystem /usr/lib/llvm-14/lib/clang/14.0.6/include \
  -isystem /usr/include/wasm32-wasi -O2 -c "$out/allocates.c" -o "$out/allocates.o"
clang-14 --target=wasm32-wasi -nostdlib -Wl,--no-entry /usr/lib/wasm32-wasi/crt1-reactor.o \
  "$out/allocates.o" -L/usr/lib/wasm32-wasi -lc -o "$out/allocates.wasm"
if python3 "$check" --names "$out/allocates.wasm" 2>"$out/allocates.err"; then
  fail "the checker accepted a module that calls malloc"
fi
grep -q "contains malloc" "$out/allocates.err" || fail "the checker did not name malloc: $(cat "$out/allocates.err")"
grep -q "memory.grow" "$out/allocates.err" || fail "the checker did not see memory.grow: $(cat "$out/allocates.err")"

if python3 "$check" --names "$named" --stripped "$stripped" --max-bytes 1000 2>/dev/null >/dev/null; then
  fail "the checker accepted a module over its size limit"
fi

[[ $status -eq 0 ]] && echo "ok: no allocator, no C++ runtime, no memory.grow; size within $module_bytes_max bytes"
exit $status
