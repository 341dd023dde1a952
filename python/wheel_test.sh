#!/usr/bin/env bash
# The wheel as a Python user gets it: built offline, named for its platform,
# installed into a fresh venv with no index, then used from there by
# wheel_check.py (run from an empty directory, so only the installed copy
# can be imported).
set -euo pipefail
lib="$1"
version="$(tr -d '[:space:]' <"$2")"
license="$3"
here="$(cd "$(dirname "$0")" && pwd)"
python=/usr/bin/python3
fail() { echo "wheel_test: $*" >&2; exit 1; }

wheel="$("$here/build_wheel.sh" "$lib" "$2" "$license" "$TEST_TMPDIR/dist")"
[[ "$(basename "$wheel")" == "onlyone-$version-py3-none-linux_x86_64.whl" ]] ||
  fail "wheel named '$wheel', want onlyone-$version-py3-none-linux_x86_64.whl"
"$python" - "$wheel" <<'CHECK'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert "onlyone/libonlyone.so" in names, names
assert "onlyone/__init__.py" in names, names
wheel_meta = zipfile.ZipFile(sys.argv[1]).read(
    [n for n in names if n.endswith(".dist-info/WHEEL")][0]).decode()
assert "Root-Is-Purelib: false" in wheel_meta, wheel_meta
CHECK

"$python" -m venv "$TEST_TMPDIR/venv"
"$TEST_TMPDIR/venv/bin/pip" install --no-index --no-cache-dir --quiet "$wheel"
# A copy of the check in an empty directory: Python puts the script's (real)
# directory first on sys.path, which for the runfiles' symlink is the source
# tree, whose onlyone/ would shadow the installed package.
mkdir "$TEST_TMPDIR/empty"
cp "$here/wheel_check.py" "$TEST_TMPDIR/empty/"
cd "$TEST_TMPDIR/empty"
# ONLYONE_LIB unset: the library inside the installed package is the one used.
env -u ONLYONE_LIB ONLYONE_EXPECTED_VERSION="$version" \
  "$TEST_TMPDIR/venv/bin/python" wheel_check.py -v
echo "wheel_test: $(basename "$wheel") ($(stat -c %s "$wheel") bytes) works from a fresh venv"
