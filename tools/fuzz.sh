#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (--config=fuzz) and runs each for a
# bounded time. Called by `./run fuzz [SECONDS] [NAME...]`.
#
#   tools/fuzz.sh [--merge] [SECONDS] [NAME...]
#       SECONDS per target (default 60); NAME: record, core_world, ... (default:
#       all). --merge: afterwards, add to fuzz/corpus/NAME/ the inputs of the
#       working corpus that reach coverage the checked-in corpus does not
#       (libFuzzer's -merge=1), so that the replay tests run them too.
#
# The build uses an output base of its own ($ONLYONE_FUZZ_OUTPUT_BASE, default
# ~/.cache/onlyone-fuzz/<hash of this checkout>), so switching the C++
# toolchain to clang never invalidates the everyday GCC build. Each fuzzer
# reads its checked-in seeds (fuzz/corpus/NAME/, never written) and keeps what
# it finds in a working corpus next to that output base, so runs accumulate.
# A crash is saved under the working directory's crashes/ and printed with
# the command to reproduce it; add the file to fuzz/corpus/NAME/ as a
# regression test once fixed.
#
# Ends with one line per target, "fuzz: NAME: N execs in S s ...", then
# "N passed, N failed" (a target passes when it ran its time without a crash).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BAZEL="${BAZEL:-bazel}"

merge=0
if [[ "${1:-}" == --merge ]]; then
  merge=1
  shift
fi
seconds=60
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
  seconds="$1"
  shift
fi
names=("$@")

checkout_hash="$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
output_base="${ONLYONE_FUZZ_OUTPUT_BASE:-$HOME/.cache/onlyone-fuzz/$checkout_hash}"
work="$output_base-work"
mkdir -p "$output_base" "$work"

bazel_fuzz() {
  "$BAZEL" --output_base="$output_base" "$@"
}
flags=(--config=fuzz)
[[ -n "${CI:-}" ]] && flags+=(--config=ci)

if ((${#names[@]} == 0)); then
  mapfile -t labels < <(bazel_fuzz query --noshow_progress 'attr(tags, "\bfuzzer\b", //fuzz:*)')
else
  labels=()
  for name in "${names[@]}"; do labels+=("//fuzz:${name}_fuzzer"); done
fi
if ((${#labels[@]} == 0)); then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi

# The fuzz server is needed again only at the next ./run fuzz: free its memory.
trap 'bazel_fuzz shutdown >/dev/null 2>&1 || true' EXIT
bazel_fuzz build "${flags[@]}" -- "${labels[@]}"
bin="$(bazel_fuzz info "${flags[@]}" bazel-bin 2>/dev/null)"

passed=0
failed=0
summary=()
for label in "${labels[@]}"; do
  target="${label##*:}"
  name="${target%_fuzzer}"
  corpus="$work/corpus/$name"
  crashes="$work/crashes/$name"
  mkdir -p "$corpus" "$crashes"
  log="$work/$name.log"
  rc=0
  # -timeout: one input running this long is a hang (the targets bound their
  # own loops far below it). -rss_limit_mb: well within a 24 GiB machine
  # shared by several builds.
  "$bin/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$corpus" "fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  units="$(find "$corpus" -type f | wc -l)"
  line="fuzz: $name: ${execs:-?} execs in ${seconds} s (${rate:-?}/s), working corpus $units files"
  if ((rc == 0)); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    line="$line, FAILED (exit $rc): see $log"
    grep -E 'property violated|ERROR: (AddressSanitizer|libFuzzer|UndefinedBehavior)|runtime error' "$log" | head -5 >&2 || true
    for crash in "$crashes"/*; do
      [[ -f "$crash" ]] && echo "fuzz: reproduce with: $bin/fuzz/$target $crash" >&2
    done
  fi
  if ((merge && rc == 0)); then
    before="$(find "fuzz/corpus/$name" -type f | wc -l)"
    "$bin/fuzz/$target" -merge=1 "fuzz/corpus/$name" "$corpus" >"$work/$name.merge.log" 2>&1
    line="$line, checked-in corpus $before -> $(find "fuzz/corpus/$name" -type f | wc -l) files"
  fi
  summary+=("$line")
done

printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
((failed == 0))
