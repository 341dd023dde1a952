#!/usr/bin/env bash
# Runs Node's built-in test runner (node --test) for Bazel: a spec report on
# stdout, and a JUnit report in $XML_OUTPUT_FILE so that Bazel, and
# tools/test_totals.py, count every JavaScript test case.
#
# Usage: node_test_runner.sh [VAR=PATH ...] -- TEST_FILE...
# Each VAR=PATH is exported with PATH made absolute (runfiles paths are
# relative to the test's starting directory; the tests start processes in
# other directories).
set -euo pipefail

node=$(command -v node || true)
if [[ -z "$node" ]]; then
  echo "FAIL: node is required (tools/bootstrap.sh installs nodejs)" >&2
  exit 1
fi

while (($# > 0)) && [[ "$1" != "--" ]]; do
  name=${1%%=*}
  value=${1#*=}
  export "$name=$(readlink -f "$value")"
  shift
done
shift  # --

reporters=(--test-reporter=spec --test-reporter-destination=stdout)
if [[ -n "${XML_OUTPUT_FILE:-}" ]]; then
  reporters+=(--test-reporter=junit "--test-reporter-destination=$XML_OUTPUT_FILE")
fi
exec "$node" --test "${reporters[@]}" "$@"
