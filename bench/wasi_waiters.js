// Many waiters on one lock, for docs/wasi.md: how long the last of 32 waiters
// waits once the holder releases, with 32 Node-hosted wasm waiters (twice: see
// 'wasm-sh' below), 16 wasm + 16 native `onlyone --wait` waiters, and 32
// native waiters (the peer), in
// turns in one run, on each file system given. bench/wasi_waiters.sh builds
// what it needs and mounts the file systems; by hand:
//
//   node bench/wasi_waiters.js --onlyone bazel-bin/cli/onlyone \
//     --wasm bazel-bin/platform/wasi/onlyone.wasm --fs tmpfs=/dev/shm [--fs ext4=/mnt/x] \
//     [--rounds 5] [--waiters 32] [--hold-ms 10]
//
// One sample: this process takes the lock (a wasm tryLock), starts the
// waiters, waits until every one has its entry in the queue, then releases.
// Each holder stamps its acquisition with the realtime clock in a shared log,
// then holds by running `sleep HOLD`: a native waiter's command is
// `sh -c 'echo KIND $(date +%s%N) >> LOG; exec sleep HOLD'`, a wasm waiter
// appends its stamp itself and runs the sleep with spawnSync, so each kind
// starts a process or two per holding. A 'wasm-sh' holder runs the native
// command through spawnSync instead, stamping with date as they do. A
// waiter's wait is its stamp minus the release; the sample is the longest.
// Prints one line per sample: "fs config round longest_ms median_ms", then a
// markdown summary.
'use strict';

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const LOCK_NAME = 'waiters';
// Configurations: how many waiters of each kind, out of --waiters.
// 'wasm-sh' is 'wasm' with each holder running the native holders' very
// command through spawnSync: the same processes, Node's way of starting them.
const CONFIGS = ['wasm', 'wasm-sh', 'mixed', 'native'];
// How long the waiters may take to queue, and a sample to finish.
const QUEUE_TIMEOUT_MS = 60000;
const SAMPLE_TIMEOUT_MS = 300000;
// Once every waiter has an entry, how long the queue settles (doorways close)
// before the release.
const SETTLE_MS = 300;

function parseArgs(argv) {
  const args = { onlyone: null, wasm: null, fs: [], rounds: 5, waiters: 32, holdMs: 10, waiter: null };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = () => {
      i += 1;
      if (i >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[i];
    };
    switch (flag) {
      case '--onlyone': args.onlyone = path.resolve(value()); break;
      case '--wasm': args.wasm = path.resolve(value()); break;
      case '--fs': {
        const [name, dir] = value().split('=');
        if (!name || !dir) throw new Error('--fs takes NAME=DIR');
        args.fs.push({ name, dir });
        break;
      }
      case '--rounds': args.rounds = Number(value()); break;
      case '--waiters': args.waiters = Number(value()); break;
      case '--hold-ms': args.holdMs = Number(value()); break;
      // Internal: this process is one wasm waiter: DIR LOG COMMAND ('': stamp, sleep).
      case '--waiter': args.waiter = { dir: value(), log: value(), command: value() }; break;
      default: throw new Error(`unknown argument: ${flag}`);
    }
  }
  return args;
}

function hostModule(wasm) {
  process.env.ONLYONE_WASM = wasm;
  return require(path.join(__dirname, '..', 'platform', 'wasi', 'node', 'onlyone.js'));
}

async function runWaiter(args) {
  const onlyone = hostModule(args.wasm);
  const { dir, log, command } = args.waiter;
  const lock = await onlyone.lock(LOCK_NAME, { dir });
  if (!lock.held) throw new Error(lock.status().message);
  if (command === '') {
    fs.appendFileSync(log, `wasm ${nowNs()}\n`);
    childProcess.spawnSync('sleep', [String(args.holdMs / 1000)], { stdio: 'inherit' });
  } else {
    childProcess.spawnSync('/bin/sh', ['-c', command], { stdio: 'inherit' });
  }
  lock.release();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function queued(dir) {
  try {
    return fs.readdirSync(path.join(dir, LOCK_NAME)).filter((name) => name.startsWith('o.')).length;
  } catch {
    return 0;
  }
}

// Realtime in nanoseconds, the clock `date +%s%N` reads.
function nowNs() {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

function kinds(config, count) {
  if (config === 'wasm' || config === 'wasm-sh') return Array(count).fill(config);
  if (config === 'native') return Array(count).fill('native');
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? 'wasm' : 'native'));
}

function spawnWaiter(args, kind, dir, log) {
  const command = `echo ${kind} $(date +%s%N) >> '${log}'; exec sleep ${args.holdMs / 1000}`;
  const waiter = [__filename, '--wasm', args.wasm, '--hold-ms', String(args.holdMs), '--waiter', dir, log];
  const argv = kind === 'native' ? [args.onlyone, ['--dir', dir, '--wait', LOCK_NAME, '--', '/bin/sh', '-c', command]]
    : [process.execPath, [...waiter, kind === 'wasm-sh' ? command : '']];
  const child = childProcess.spawn(argv[0], argv[1], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${kind} waiter exited with ${code === null ? signal : code}`));
    });
  });
}

async function sample(args, onlyone, fsDir, config) {
  const dir = fs.mkdtempSync(path.join(fsDir, 'onlyone-waiters-'));
  fs.chmodSync(dir, 0o700);
  const log = path.join(dir, 'log');
  try {
    const holder = onlyone.tryLock(LOCK_NAME, { dir });
    if (!holder.held) throw new Error(holder.status().message);
    const waiters = kinds(config, args.waiters).map((kind) => spawnWaiter(args, kind, dir, log));
    const deadline = Date.now() + QUEUE_TIMEOUT_MS;
    while (queued(dir) < args.waiters + 1) {
      if (Date.now() > deadline) throw new Error(`only ${queued(dir) - 1} of ${args.waiters} waiters queued`);
      await sleep(20);
    }
    await sleep(SETTLE_MS);
    const releasedNs = nowNs();
    holder.release();
    let timer;
    await Promise.race([Promise.all(waiters), new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the waiters did not finish in time')), SAMPLE_TIMEOUT_MS);
    })]);
    clearTimeout(timer);
    const waits = fs.readFileSync(log, 'latin1').trim().split('\n')
      .map((line) => Number(BigInt(line.split(' ')[1]) - releasedNs) / 1e6).sort((a, b) => a - b);
    if (waits.length !== args.waiters) throw new Error(`${waits.length} acquisitions logged, not ${args.waiters}`);
    return { longestMs: waits[waits.length - 1], medianMs: waits[Math.floor(waits.length / 2)] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.wasm || !fs.existsSync(args.wasm)) throw new Error('--wasm PATH (onlyone.wasm) is required');
  if (args.waiter !== null) return runWaiter(args);
  if (!args.onlyone || args.fs.length === 0) throw new Error('--onlyone PATH and at least one --fs NAME=DIR are required');
  const onlyone = hostModule(args.wasm);
  const results = new Map();
  for (let round = 0; round < args.rounds; round += 1) {
    for (const { name, dir } of args.fs) {
      // Each round starts with another configuration: none always runs first.
      for (let i = 0; i < CONFIGS.length; i += 1) {
        const config = CONFIGS[(i + round) % CONFIGS.length];
        const result = await sample(args, onlyone, dir, config);
        process.stdout.write(`${name} ${config} ${round} ${result.longestMs.toFixed(1)} ${result.medianMs.toFixed(1)}\n`);
        const key = `${name} ${config}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push(result);
      }
    }
  }
  const half = args.waiters / 2;
  const label = { wasm: `${args.waiters} wasm`, 'wasm-sh': `${args.waiters} wasm, native's command`, mixed: `${half} wasm + ${half} native`, native: `${args.waiters} native` };
  process.stdout.write(`\n| fs | waiters | longest wait, median of ${args.rounds} | range | ÷ native |\n| --- | --- | ---: | ---: | ---: |\n`);
  for (const { name } of args.fs) {
    const nativeLongest = median(results.get(`${name} native`).map((r) => r.longestMs));
    for (const config of CONFIGS) {
      const longest = results.get(`${name} ${config}`).map((r) => r.longestMs);
      const m = median(longest);
      process.stdout.write(`| ${name} | ${label[config]} | ${m.toFixed(0)} ms | ${Math.min(...longest).toFixed(0)}–${Math.max(...longest).toFixed(0)} ms | ${(m / nativeLongest).toFixed(2)}x |\n`);
    }
  }
  return undefined;
}

main().catch((error) => {
  process.stderr.write(`wasi_waiters: ${error.message}\n`);
  process.exit(1);
});
