// Uncontended cycle of the Node-hosted wasm module, for docs/wasi.md: one
// round of N tryLock('wasm') + release() on DIR after 20 warm-up cycles,
// each timed on its own; prints one nanosecond figure per line. tryLock makes
// a new module instance per call, so its peer is cycle_bench's lib_fresh (a
// new onlyone::Lock per cycle), run in turns with it on the same directory:
//
//   for r in 1 2 3; do
//     ONLYONE_WASM=bazel-bin/platform/wasi/onlyone.wasm \
//       node bench/wasi_cycle.js DIR 300 > OUT/wasm.$r
//     bazel-bin/bench/cycle_bench --dir DIR --out OUT/native$r --cycles 300 --variants raw,lib_fresh
//   done
//
// (bazel build -c opt //bench:cycle_bench //platform/wasi:onlyone.wasm first.)
'use strict';

const path = require('node:path');
const onlyone = require(path.join(__dirname, '..', 'platform', 'wasi', 'node', 'onlyone.js'));

const WARMUP_CYCLES = 20;

function main() {
  const [dir, countText] = process.argv.slice(2);
  const cycles = Number(countText);
  if (!dir || !Number.isInteger(cycles) || cycles < 1) {
    process.stderr.write('usage: node bench/wasi_cycle.js DIR CYCLES\n');
    process.exit(64);
  }
  for (let i = 0; i < WARMUP_CYCLES; i += 1) onlyone.tryLock('wasm', { dir }).release();
  const samples = [];
  for (let i = 0; i < cycles; i += 1) {
    const started = process.hrtime.bigint();
    const lock = onlyone.tryLock('wasm', { dir });
    if (!lock.held) throw new Error(`not acquired: ${lock.status().message}`);
    lock.release();
    samples.push(process.hrtime.bigint() - started);
  }
  process.stdout.write(`${samples.join('\n')}\n`);
}

main();
