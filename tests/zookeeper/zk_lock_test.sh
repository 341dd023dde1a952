#!/usr/bin/env bash
# Runs a gtest binary ($1: the ZkLock test, the backend contract suite) against a standalone server that
# zk_fixture.py starts on a free loopback port and stops when its stdin closes.
set -u
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)"
coproc SERVER { "$python" "$(dirname "$0")/zk_fixture.py" serve; }
if ! read -r -t 120 ZK_CONNECT <&"${SERVER[0]}"; then
  echo "zk_lock_test: the ZooKeeper server did not start" >&2
  exit 1
fi
export ZK_CONNECT
# Under ASan: the C client's one known close-time leak (see the file).
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan_suppressions.txt:print_suppressions=0"
"$1"
rc=$?
exec {SERVER[1]}>&-
wait "$SERVER_PID" 2>/dev/null
exit "$rc"
