#!/usr/bin/env bash
# Runs a Python test of this package with Debian's python3 (it has kazoo;
# another python3 on PATH may not), with the onlyone binary as argument.
set -eu
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)"
# Under ASan: the C client's one known close-time leak (see the file).
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan_suppressions.txt:print_suppressions=0"
exec "$python" "$(dirname "$0")/$1" "$2"
