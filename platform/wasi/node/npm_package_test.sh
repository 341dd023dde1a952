#!/usr/bin/env bash
# The npm package as a user gets it: `npm pack` of the package Bazel built,
# `npm install --offline` of the tarball into an empty project, a script
# there that takes and releases a lock, and `tsc --noEmit` of a TypeScript
# user file against the declarations (and of a misuse, which must fail).
# No network: the package has no dependencies, and TypeScript comes from
# tools/npm (installed by tools/bootstrap.sh).
#
# Usage: npm_package_test.sh PACKAGE_JSON VERSION_FILE TSC USE_JS USE_TS MISUSE_TS
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ $# -eq 6 ]] || fail "usage: $0 PACKAGE_JSON VERSION_FILE TSC USE_JS USE_TS MISUSE_TS"
package_dir="$(dirname "$(readlink -f "$1")")"
version="$(tr -d '[:space:]' <"$2")"
tsc="$3"
use_js="$(readlink -f "$4")"
use_ts="$(readlink -f "$5")"
misuse_ts="$(readlink -f "$6")"
[[ -f "$tsc" ]] || fail "TypeScript is not installed in tools/npm: run tools/bootstrap.sh"
tsc="$(readlink -f "$tsc")"

work="${TEST_TMPDIR:-$(mktemp -d)}/npm"
rm -rf "$work"
mkdir -p "$work/home" "$work/project" "$work/locks"
chmod 700 "$work/locks"
# npm's cache, logs and settings stay in the test's directory; never ask the
# registry anything.
export HOME="$work/home" npm_config_cache="$work/npm-cache" npm_config_offline=true \
  npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false

# The built files are symlinks in Bazel's output tree: pack real copies.
mkdir "$work/package"
for file in "$package_dir"/*; do cp -L "$file" "$work/package/"; done
tarball="$(cd "$work" && npm pack --silent ./package)"
[[ "$tarball" == "onlyone-$version.tgz" ]] || fail "npm pack made '$tarball', not onlyone-$version.tgz (VERSION)"

expected="package/LICENSE
package/README.md
package/onlyone.d.ts
package/onlyone.js
package/onlyone.wasm
package/package.json"
contents="$(tar -tzf "$work/$tarball" | LC_ALL=C sort)"
[[ "$contents" == "$expected" ]] || fail "the tarball holds:
$contents
expected:
$expected"

cd "$work/project"
printf '{ "name": "consumer", "private": true }\n' >package.json
npm install --offline --silent "../$tarball" || fail "npm install --offline ../$tarball failed"
installed="$(node -p 'require("onlyone/package.json").version')"
[[ "$installed" == "$version" ]] || fail "installed version $installed, VERSION says $version"

cp "$use_js" use.js
node use.js "$work/locks" || fail "the user's script failed"

cp "$use_ts" use.ts
tsc_flags=(--noEmit --strict --module commonjs --target es2020 --lib es2020)
node "$tsc" "${tsc_flags[@]}" use.ts || fail "tsc rejected use.ts"
cp "$misuse_ts" misuse.ts
if output="$(node "$tsc" "${tsc_flags[@]}" misuse.ts)"; then
  fail "tsc accepted misuse.ts: the declarations check nothing"
fi
for code in TS2561 TS2322; do
  [[ "$output" == *"$code"* ]] || fail "tsc did not report $code on misuse.ts:
$output"
done
echo "PASS: $tarball packed, installed offline, used from JavaScript and TypeScript"
