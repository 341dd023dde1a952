#!/bin/sh
# Runs one_test.py with the system python3 against the onlyone package's
# sources (python/onlyone) and the freshly built library.
set -eu
python="$(command -v python3 || true)"
if [ -z "$python" ]; then
  echo "one_test: python3 is required (apt-get install python3)" >&2
  exit 1
fi
export PYTHONPATH="$PWD/python"
export ONLYONE_LIB="$PWD/python/libonlyone.so"
# Built with ASan (./run test's sanitizer pass), the library needs the ASan
# runtime loaded before everything else, which python3 is not linked with;
# Python's own allocations are not ours to leak-check.
asan_runtime="$(ldd "$ONLYONE_LIB" | awk '/libasan/ { print $3 }')"
if [ -n "$asan_runtime" ]; then
  export LD_PRELOAD="$asan_runtime"
  export ASAN_OPTIONS="detect_leaks=0"
fi
exec "$python" examples/python/one_test.py -v
