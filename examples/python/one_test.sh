#!/bin/sh
# Runs one_test.py with the system python3 against the freshly built library.
set -eu
python="$(command -v python3 || true)"
if [ -z "$python" ]; then
  echo "one_test: python3 is required (apt-get install python3)" >&2
  exit 1
fi
export ONLYONE_LIB="$PWD/platform/posix/libonlyone.so"
exec "$python" examples/python/one_test.py -v
