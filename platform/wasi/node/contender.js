#!/usr/bin/env node
// A Node-hosted wasm contender for real-process tests, the counterpart of
// tests/posix/contender_main.cc:
//
//   node contender.js --dir DIR --name NAME [--slots K] [--try | --timeout-ms T]
//                     [--rounds R] [--hold-ms M] [--witness-dir W]
//                     [--hold-forever] [--refresh-ms P] [--lease-ms L]
//                     [--no-host-liveness]
//
// The proof of exclusion: each holder creates a witness file of its own,
// W/witness.<pid>.<round>, holding its pid, after it acquires and removes it
// before it releases; then it counts the other witnesses whose owners live.
// A witness of a process that is gone or dying was left by a holder killed
// with SIGKILL and is removed. More than K-1 others, still there with their
// owners alive at a second look, is a violation (exit 3). Each holding
// appends "wasm" to W/log. Native holders (tests/wasi/witness.sh under
// `onlyone`) use the same files, so the proof spans both kinds.
//
// --hold-forever: print "held <pid> <fence>" once acquired, refresh every P
// ms if --refresh-ms is given, and stay until killed.
//
// Exit codes: 0 every round acquired and released; 75 not acquired; 3
// exclusion violated; 1 any other failure (message on stderr).
'use strict';

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const onlyone = require('./onlyone.js');

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_VIOLATION = 3;
const EXIT_BUSY = 75;

function parseArgs(argv) {
  const args = { slots: 1, rounds: 1, holdMs: 0, timeoutMs: -1, tryOnce: false, leaseMs: 0,
    hostLiveness: true, holdForever: false, refreshMs: 0, witnessDir: null, dir: null, name: null };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = () => {
      i += 1;
      if (i >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[i];
    };
    const number = () => {
      const text = value();
      if (!/^-?[0-9]+$/.test(text)) throw new Error(`${flag}: not an integer: ${text}`);
      return Number(text);
    };
    switch (flag) {
      case '--dir': args.dir = value(); break;
      case '--name': args.name = value(); break;
      case '--slots': args.slots = number(); break;
      case '--rounds': args.rounds = number(); break;
      case '--hold-ms': args.holdMs = number(); break;
      case '--timeout-ms': args.timeoutMs = number(); break;
      case '--try': args.tryOnce = true; break;
      case '--lease-ms': args.leaseMs = number(); break;
      case '--no-host-liveness': args.hostLiveness = false; break;
      case '--hold-forever': args.holdForever = true; break;
      case '--refresh-ms': args.refreshMs = number(); break;
      case '--witness-dir': args.witnessDir = value(); break;
      default: throw new Error(`unknown argument: ${flag}`);
    }
  }
  if (!args.dir || !args.name) throw new Error('--dir and --name are required');
  return args;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// PF_EXITING in the flags of /proc/PID/stat: the process has begun to exit.
const TASK_EXITING = 4;
// SIGKILL (9) in the pending-signal masks of /proc/PID/status.
const SIGKILL_PENDING_BIT = 1n << 8n;

// Dead, a zombie, exiting, or with a SIGKILL pending: a witness it left is
// stale (see tests/wasi/witness.sh for why dying counts).
function gone(pid) {
  let status;
  let stat;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return true;
  }
  const state = /^State:\s*([A-Z])/m.exec(status);
  if (state && (state[1] === 'Z' || state[1] === 'X')) return true;
  for (const match of status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)/gm)) {
    if ((BigInt(`0x${match[1]}`) & SIGKILL_PENDING_BIT) !== 0n) return true;
  }
  const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
  return (flags & TASK_EXITING) !== 0;
}

// Creates this holding's witness, W/witness.<pid>.<round> (written whole
// under a private name, then renamed into place: a holder killed between
// create and write cannot leave an ownerless witness), and checks the bound.
// Returns the witness, or null (and no witness left) when more than `slots`
// holders are proven at once (see the top of this file).
//
// Each witness has a name of its own, so no holder ever removes another
// live holder's file: a shared per-slot name raced when a holder judged the
// previous owner of a slot gone (it had just released and exited) and then
// removed the witness a new holder had put there meanwhile.
function takeWitness(dir, slots, round) {
  const mine = path.join(dir, `witness.${process.pid}.${round}`);
  const pending = path.join(dir, `.pending.${process.pid}`);
  fs.writeFileSync(pending, `${process.pid}\n`);
  fs.renameSync(pending, mine);
  const others = liveWitnesses(dir, mine);
  if (others.length + 1 <= slots) return mine;
  // A second look: a witness present at its first read and still there, its
  // owner still alive, existed throughout, so all of them existed at once.
  const still = others.filter(({ file, owner }) => fs.existsSync(file) && !gone(owner));
  if (still.length + 1 <= slots) return mine;
  fs.writeFileSync(path.join(dir, 'violation'),
    `wasm ${process.pid} saw ${still.length} other holders: ${still.map(({ owner }) => owner).join(' ')}\n`, { flag: 'a' });
  fs.rmSync(mine, { force: true });
  return null;
}

// The witnesses other than `mine` whose owners live. A witness whose owner
// is gone or dying was left by a holder killed with SIGKILL: it is removed
// (its name is its owner's alone, so this removes nothing else).
function liveWitnesses(dir, mine) {
  const live = [];
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (!name.startsWith('witness.') || file === mine) continue;
    let owner;
    try {
      owner = fs.readFileSync(file, 'latin1').trim();
    } catch {
      continue;  // removed meanwhile: its holder released
    }
    if (!/^[0-9]+$/.test(owner)) throw new Error(`witness ${file} names no pid: "${owner}"`);
    if (gone(Number(owner))) {
      fs.rmSync(file, { force: true });
    } else {
      live.push({ file, owner: Number(owner) });
    }
  }
  return live;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const options = { dir: args.dir, slots: args.slots, leaseMs: args.leaseMs,
    hostLiveness: args.hostLiveness, command: `contender.js ${args.name}` };
  for (let round = 0; round < args.rounds; round += 1) {
    const held = args.tryOnce ? onlyone.tryLock(args.name, options)
      : await onlyone.lock(args.name, { ...options, timeoutMs: args.timeoutMs });
    if (!held.held) {
      process.stderr.write(`${held.status().message}\n`);
      return EXIT_BUSY;
    }
    if (args.holdForever) {
      process.stdout.write(`held ${process.pid} ${held.fence}\n`);
      if (args.refreshMs > 0) {
        setInterval(() => {
          if (!held.refresh()) process.stderr.write('contender: lost the lock\n');
        }, args.refreshMs);
      } else {
        setInterval(() => {}, 1 << 30);
      }
      return null;  // stay until killed
    }
    let witness = null;
    if (args.witnessDir) {
      witness = takeWitness(args.witnessDir, args.slots, round);
      if (witness === null) {
        process.stderr.write(`contender: more than ${args.slots} holders at once\n`);
        return EXIT_VIOLATION;
      }
    }
    if (args.witnessDir) fs.appendFileSync(path.join(args.witnessDir, 'log'), 'wasm\n');
    if (args.holdMs > 0) await sleep(args.holdMs);
    if (witness !== null) fs.unlinkSync(witness);
    if (!held.release()) {
      process.stderr.write(`${held.status().message}\n`);
      return EXIT_FAILURE;
    }
  }
  return EXIT_OK;
}

// Resolves to onHeld(line) once `child` prints its "held <pid> <fence>"
// line; rejects, after SIGKILL, when it has not within startTimeoutMs, and
// when it exits first.
function whenHeld(child, startTimeoutMs, onHeld) {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`holder did not acquire in time: ${err}`));
    }, startTimeoutMs);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const held = /^held ([0-9]+) /m.exec(out);
      if (held) {
        clearTimeout(timer);
        resolve(onHeld(Number(held[1])));
      }
    });
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited with ${code}: ${err}`));
    });
  });
}

// For tests, in this module because it speaks this script's protocol:
// starts a contender that holds `name` until killed (--try --hold-forever)
// and resolves to the child once it has printed "held"; rejects if it exits
// or has not acquired within startTimeoutMs.
function startHolder(dir, name, extra, startTimeoutMs) {
  const child = childProcess.spawn(process.execPath,
    [__filename, '--dir', dir, '--name', name, '--try', '--hold-forever', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  return whenHeld(child, startTimeoutMs, () => child);
}

// Starts a contender that holds `name` until killed, as the child of a
// process that never reaps its children (a shell that execs `sleep`), so that
// once killed the holder stays a zombie. Resolves to { pid, reaper } once it
// holds; killing `reaper` lets the zombie be reaped.
function startUnreapedHolder(dir, name, startTimeoutMs) {
  const holder = [process.execPath, __filename, '--dir', dir, '--name', name, '--try', '--hold-forever']
    .map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  const reaper = childProcess.spawn('/bin/sh', ['-c', `${holder} & exec sleep 600`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  return whenHeld(reaper, startTimeoutMs, (pid) => ({ pid, reaper }));
}

// The state letter of /proc/PID/stat (R, S, Z, ...), or null when gone.
function processState(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return null;
  }
}

// SIGKILL, then wait until reaped, so that the pid is gone from /proc.
function killHard(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

module.exports = { gone, killHard, processState, startHolder, startUnreapedHolder };

if (require.main === module) {
  main().then((code) => {
    if (code !== null) process.exit(code);
  }, (error) => {
    process.stderr.write(`contender: ${error.message}\n`);
    process.exit(EXIT_FAILURE);
  });
}
