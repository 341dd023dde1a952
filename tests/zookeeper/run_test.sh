#!/usr/bin/env bash
# Runs a Python test of this package with Debian's python3 (it has kazoo;
# another python3 on PATH may not), with the onlyone binary as argument.
set -eu
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)"
exec "$python" "$(dirname "$0")/$1" "$2"
