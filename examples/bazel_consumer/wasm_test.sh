#!/bin/sh
# The module as a consumer gets it: valid WebAssembly that Node.js compiles,
# exporting the lock's entry points. (Running it needs a host: onlyone's Node
# package, platform/wasi/node.)
set -eu
module="$1"
node="$(command -v node || command -v nodejs || true)"
[ -n "$node" ] || { echo "wasm_test: Node.js is required (apt-get install nodejs)" >&2; exit 1; }
"$node" -e '
const fs = require("fs");
const module = new WebAssembly.Module(fs.readFileSync(process.argv[1]));
const exports = WebAssembly.Module.exports(module).map((e) => e.name);
const want = ["onlyone_configure", "onlyone_acquire", "onlyone_release", "onlyone_fence"];
const missing = want.filter((name) => !exports.includes(name));
if (missing.length) { console.error("missing exports: " + missing.join(", ")); process.exit(1); }
console.log("wasm_test: " + exports.length + " exports, " + fs.statSync(process.argv[1]).size + " bytes");
' "$module"
