#!/usr/bin/env bash
# The core must build with no C++ standard library, no libc and no OS, for
# wasm32-wasi, bare wasm32 and a Cortex-M4 (thumbv7em), and link against
# nothing but the compiler's memory intrinsics: no allocator, no exceptions,
# no RTTI, no libc. This test compiles it for each target and checks the
# undefined symbols of the objects.
set -euo pipefail

clang=$(command -v clang-14 || true)
nm=$(command -v llvm-nm-14 || command -v llvm-nm || true)
if [[ -z "$clang" || -z "$nm" ]]; then
  echo "FAIL: clang-14 and llvm-nm are required (tools/bootstrap.sh installs them)" >&2
  exit 1
fi

core_dir=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# Under bazel the sources are runfiles next to this script; locate the
# workspace root that contains core/.
root=${TEST_SRCDIR:+$TEST_SRCDIR/${TEST_WORKSPACE:-onlyone}}
[[ -n "$root" && -f "$root/core/contender.cc" ]] || root=$(dirname "$core_dir")
out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/freestanding.XXXXXX")
trap 'rm -rf "$out"' EXIT

# Memory intrinsics a compiler may emit for struct copies even in
# freestanding mode, and the compiler runtime's 64-bit division on 32-bit
# cores (compiler-rt builtins, part of every freestanding toolchain);
# everything else must be defined by the core itself.
allowed='^(memcpy|memset|memmove|__stack_pointer|__aeabi_mem(cpy|clr|set|move)[48]?|__aeabi_u?ldivmod|__u?(div|mod)di3)$'

status=0
for target in wasm32-wasi wasm32 thumbv7em-none-eabi x86_64-linux-gnu; do
  objects=()
  for source in record.cc names.cc contender.cc; do
    object="$out/$target-${source%.cc}.o"
    "$clang" --target="$target" -std=c++17 -O2 -ffreestanding -fno-exceptions -fno-rtti \
      -nostdinc++ -nostdlib -Wall -Wextra -Werror -I "$root" -c "$root/core/$source" -o "$object"
    objects+=("$object")
  done
  defined=$("$nm" -A --defined-only "${objects[@]}" | awk '{print $NF}' | sort -u)
  undefined=$("$nm" -A --undefined-only "${objects[@]}" | awk '{print $NF}' | sort -u)
  unexpected=$(comm -23 <(echo "$undefined") <(echo "$defined") | grep -Ev "$allowed" || true)
  if [[ -n "$unexpected" ]]; then
    echo "FAIL: the core for $target needs symbols it must not: $unexpected" >&2
    status=1
  else
    echo "ok: core builds freestanding for $target ($(cat "${objects[@]}" | wc -c) bytes of objects)"
  fi
done

# The checker must be able to fail: an allocation in the core is caught.
cat > "$out/allocates.cc" <<'CC'
void* operator new(decltype(sizeof 0));
int* Leak() { return new int(1); }
CC
"$clang" --target=wasm32-wasi -std=c++17 -ffreestanding -fno-exceptions -fno-rtti -nostdinc++ \
  -c "$out/allocates.cc" -o "$out/allocates.o"
if ! "$nm" --undefined-only "$out/allocates.o" | awk '{print $NF}' | grep -Ev "$allowed" | grep -q .; then
  echo "FAIL: the symbol check did not catch operator new" >&2
  status=1
fi
exit $status
