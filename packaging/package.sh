#!/usr/bin/env bash
# Writes the packages for users into OUT_DIR (`./run package` passes dist/):
#   onlyone_<VERSION>_amd64.deb              (packaging/debian/build_deb.sh)
#   onlyone-<VERSION>-py3-none-linux_x86_64.whl (python/build_wheel.sh)
#   onlyone-<VERSION>.tgz                    (npm pack of //platform/wasi/node:npm_package)
# from the release builds in this sh_binary's runfiles.
#
#   bazel run //packaging:package -- OUT_DIR
set -euo pipefail
if (($# != 1)); then
  echo "usage: bazel run //packaging:package -- OUT_DIR" >&2
  exit 64
fi
runfiles="${RUNFILES_DIR:-$0.runfiles}/onlyone"
out="$1"
mkdir -p "$out"

deb="$("$runfiles/packaging/debian/build_deb.sh" "$runfiles/cli/onlyone" \
  "$runfiles/docs/onlyone.1" "$runfiles/VERSION" "$out")"
wheel="$("$runfiles/python/build_wheel.sh" "$runfiles/python/libonlyone.so" \
  "$runfiles/VERSION" "$runfiles/LICENSE" "$out")"
lintian --fail-on error,warning "$deb" 2>/dev/null || {
  echo "package: lintian reports errors or warnings for $deb" >&2
  exit 1
}
# npm pack skips symlinks, and runfiles are symlinks: pack a copy. It prints
# the tarball's name last; no network, packing reads only the folder.
npm_dir="$(mktemp -d)"
trap 'rm -rf "$npm_dir"' EXIT
cp -L "$runfiles"/platform/wasi/node/npm/* "$npm_dir/"
tgz="$(cd "$npm_dir" && npm pack --offline --pack-destination "$(cd "$out" && pwd)" . 2>/dev/null |
  tail -1)"
echo "$deb"
echo "$wheel"
echo "$out/$tgz"
