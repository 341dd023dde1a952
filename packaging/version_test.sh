#!/usr/bin/env bash
# The version in VERSION, and where it is written again because the file
# cannot be read there: `onlyone --version` (cli/main.cc), the man page's
# .TH line, MODULE.bazel's module(). The packages (deb, wheel, npm) read
# VERSION itself.
set -euo pipefail
version="$(tr -d '[:space:]' <"$1")"
status=0
check() {
  if [[ "$2" != *"$3"* ]]; then
    echo "version_test: $1 says '$2', want it to contain '$3' (VERSION is $version)" >&2
    status=1
  fi
}
check "onlyone --version" "$("$2" --version)" "onlyone $version"
check "the man page's .TH line" "$(grep -m1 '^\.TH' "$3")" "\"onlyone $version\""
check "MODULE.bazel" "$(grep -A3 '^module(' "$4" | tr -d '\n')" "version = \"$version\""
((status == 0)) && echo "version_test: $version everywhere"
exit "$status"
