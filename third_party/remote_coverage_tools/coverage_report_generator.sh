#!/usr/bin/env bash
# Minimal CoverageOutputGenerator: concatenates the LCOV files listed in
# --reports_file into --output_file. Other flags are accepted and ignored.
set -euo pipefail
reports_file=""
output_file=""
for arg in "$@"; do
  case "$arg" in
    --reports_file=*) reports_file="${arg#*=}" ;;
    --output_file=*) output_file="${arg#*=}" ;;
  esac
done
if [[ -z "$output_file" ]]; then
  echo "coverage_report_generator (offline stand-in): missing --output_file" >&2
  exit 1
fi
: >"$output_file"
if [[ -n "$reports_file" && -f "$reports_file" ]]; then
  while IFS= read -r f; do
    [[ -n "$f" && -s "$f" ]] && cat "$f" >>"$output_file"
  done <"$reports_file"
fi
exit 0
