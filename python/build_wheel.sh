#!/usr/bin/env bash
# Builds the wheel onlyone-<VERSION>-py3-none-linux_x86_64.whl in OUT_DIR,
# offline, and prints its path.
#
#   build_wheel.sh LIBONLYONE_SO VERSION_FILE LICENSE OUT_DIR
#
# LIBONLYONE_SO is the release build of //python:libonlyone.so. The
# package's sources are next to this script. Built with Debian's Python and
# its setuptools and wheel (python3-setuptools, python3-wheel): no build
# isolation, no index, so nothing is downloaded. $PYTHON overrides the
# interpreter (default /usr/bin/python3, where Debian's packages are).
set -euo pipefail

if (($# != 4)); then
  echo "usage: build_wheel.sh LIBONLYONE_SO VERSION_FILE LICENSE OUT_DIR" >&2
  exit 64
fi
python="${PYTHON:-/usr/bin/python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! "$python" -c 'import setuptools, wheel' 2>/dev/null; then
  echo "build_wheel.sh: $python lacks setuptools or wheel;" \
       "apt-get install python3-setuptools python3-wheel (or run tools/bootstrap.sh)" >&2
  exit 69
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/onlyone-wheel.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/onlyone"
cp "$here/pyproject.toml" "$here/setup.py" "$here/README.md" "$stage/"
cp "$here/onlyone/__init__.py" "$stage/onlyone/"
install -m 0755 "$1" "$stage/onlyone/libonlyone.so"
cp "$2" "$stage/VERSION"
cp "$3" "$stage/LICENSE"

mkdir -p "$4"
out="$(cd "$4" && pwd)"
before="$(ls "$out")"
"$python" -m pip wheel --no-build-isolation --no-index --no-deps --no-cache-dir \
  --quiet --wheel-dir "$out" "$stage" >&2
comm -13 <(echo "$before") <(ls "$out") | grep '\.whl$' | sed "s|^|$out/|"
