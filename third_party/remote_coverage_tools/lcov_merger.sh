#!/usr/bin/env bash
# Minimal LcovMerger: concatenates every *.dat / *.info LCOV file found in
# --coverage_dir into --output_file. Other flags are accepted and ignored.
set -euo pipefail
coverage_dir=""
output_file=""
for arg in "$@"; do
  case "$arg" in
    --coverage_dir=*) coverage_dir="${arg#*=}" ;;
    --output_file=*) output_file="${arg#*=}" ;;
  esac
done
if [[ -z "$output_file" ]]; then
  echo "lcov_merger (offline stand-in): missing --output_file" >&2
  exit 1
fi
: >"$output_file"
if [[ -n "$coverage_dir" && -d "$coverage_dir" ]]; then
  find "$coverage_dir" -type f \( -name '*.dat' -o -name '*.info' \) -size +0 -print0 |
    sort -z | while IFS= read -r -d '' f; do
      [[ "$f" == "$output_file" ]] || cat "$f" >>"$output_file"
    done
fi
exit 0
