// Native `onlyone` processes and Node-hosted wasm contenders on one lock
// directory: exclusion and slots across both kinds, liveness judged in both
// directions after kill -9, and leases for hosts without liveness checks.
// Real processes, real files in $TEST_TMPDIR; every wait bounded.
//
// Environment (set by the Bazel target): ONLYONE_BIN (native onlyone),
// ONLYONE_WASM, ONLYONE_HOST_JS (onlyone.js), ONLYONE_CONTENDER_JS, WITNESS_SH.
'use strict';

const { describe, test } = require('node:test');
const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const onlyone = require(process.env.ONLYONE_HOST_JS);

const ONLYONE = process.env.ONLYONE_BIN;
const CONTENDER = process.env.ONLYONE_CONTENDER_JS;
const { gone, killHard, processState, startHolder, startUnreapedHolder } = require(CONTENDER);
const WITNESS = process.env.WITNESS_SH;
const TEST_TIMEOUT_MS = 60000;
// How long a child contender may take to start and acquire.
const CHILD_START_TIMEOUT_MS = 15000;
// A Node wasm contender that holds `name` until killed; resolves once held.
const startWasmHolder = (dir, name, extra = []) => startHolder(dir, name, extra, CHILD_START_TIMEOUT_MS);
// Exit status of `onlyone` and of the contenders when not acquired.
const EXIT_BUSY = 75;
// Exit status of the witness script and the wasm contender when they see
// more holders at once than the lock allows.
const EXIT_VIOLATION = 3;
// A native waiter re-scans at least this often (platform/posix/driver.h's
// kWaitSafetyNetMs): a wasm owner's death makes no inotify event.
const NATIVE_SAFETY_NET_MS = 1000;

function lockDir() {
  const dir = fs.mkdtempSync(path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'onlyone-interop-'));
  fs.chmodSync(dir, 0o700);
  return dir;
}

// The format marker (core/names.h): an "o." name that is no contender's
// entry, made with the first fence counter of a directory.
const FORMAT_MARKER = `o.${'0'.repeat(32)}`;

function entries(dir, name) {
  try {
    return fs.readdirSync(path.join(dir, name)).filter((entry) => entry.startsWith('o.') && entry !== FORMAT_MARKER).sort();
  } catch {
    return [];
  }
}

// The pid a record names: a version 1 record spells it (";pid=4242;"), a
// version 2 one has it as its third base-64 field (core/record.h).
const BASE64_DIGITS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_';
function recordPid(text) {
  if (text.startsWith('onlyone2.')) {
    return [...text.split('.')[3]].reduce((value, digit) => value * 64 + BASE64_DIGITS.indexOf(digit), 0);
  }
  const match = /;pid=([0-9]+);/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

function entryOfPid(dir, name, pid) {
  return entries(dir, name).find((entry) => {
    try {
      return recordPid(fs.readlinkSync(path.join(dir, name, entry))) === pid;
    } catch {
      return false;
    }
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what, predicate, timeoutMs = CHILD_START_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// Runs a process to its end (bounded); resolves to { code, stdout, stderr }.
function run(file, args, timeoutMs = TEST_TIMEOUT_MS) {
  return new Promise((resolve) => {
    childProcess.execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function native(dir, args) {
  return run(ONLYONE, ['--dir', dir, ...args]);
}

// A native `onlyone NAME -- COMMAND` (default `sleep 60`); resolves once its
// entry holds.
async function startNativeHolder(dir, name, command = ['sleep', '60']) {
  const child = childProcess.spawn(ONLYONE, ['--dir', dir, name, '--', ...command], { stdio: 'ignore' });
  child.exitCode_ = null;
  child.on('exit', (code) => { child.exitCode_ = code; });
  // Holding, not merely in the queue: onlyone starts its watchdog and the
  // command only once it holds. An entry alone may still be in the doorway,
  // and a contender that then wins the bakery order is right to (this raced
  // under ASan, where the doorway is slower).
  const startedChildren = () => {
    try {
      return fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim() !== '';
    } catch {
      return false;
    }
  };
  await waitFor('the native holder', () =>
    (entryOfPid(dir, name, child.pid) !== undefined && startedChildren()) || child.exitCode_ !== null);
  assert.strictEqual(child.exitCode_, null, 'the native holder exited early');
  return child;
}

// Running and not dying: a zombie, an exiting process or one with SIGKILL
// pending will never run user code again. The watchdog of a killed onlyone
// sends SIGKILL to its whole group and then exits, which frees the lock; the
// group's members may still be on their way out at that moment.
function isRunning(pid) {
  return !gone(pid);
}

// K native contender loops and K wasm contenders, R rounds each, on one lock
// with `slots`; every holder proves the bound with witness files.
async function contend(slots) {
  const dir = lockDir();
  const witnesses = fs.mkdtempSync(path.join(dir, 'witness-'));
  const contendersPerKind = 3;
  const rounds = 6;
  const holdSeconds = '0.01';
  const runs = [];
  for (let i = 0; i < contendersPerKind; i += 1) {
    const loop = `for r in $(seq ${rounds}); do "$0" --dir "$1" --slots ${slots} --wait=40s job -- sh "$2" "$3" ${slots} ${holdSeconds} || exit $?; done`;
    runs.push(run('/bin/bash', ['-c', loop, ONLYONE, dir, WITNESS, witnesses]));
    runs.push(run(process.execPath, [CONTENDER, '--dir', dir, '--name', 'job', '--slots', String(slots),
      '--timeout-ms', '40000', '--rounds', String(rounds), '--hold-ms', '10', '--witness-dir', witnesses]));
  }
  const results = await Promise.all(runs);
  for (const result of results) assert.strictEqual(result.code, 0, `a contender failed: ${result.stderr}`);
  assert.ok(!fs.existsSync(path.join(witnesses, 'violation')),
    `more than ${slots} holders at once: ${fs.existsSync(path.join(witnesses, 'violation')) && fs.readFileSync(path.join(witnesses, 'violation'), 'utf8')}`);
  const log = fs.readFileSync(path.join(witnesses, 'log'), 'utf8').trim().split('\n');
  assert.strictEqual(log.filter((kind) => kind === 'native').length, contendersPerKind * rounds);
  assert.strictEqual(log.filter((kind) => kind === 'wasm').length, contendersPerKind * rounds);
  assert.deepStrictEqual(entries(dir, 'job'), [], 'entries left behind');
}

describe('Exclusion', () => {
  // The witness files can fail: a native and a wasm holder of two different
  // locks, one witness directory, overlap and are caught. Without this the
  // exclusion tests could pass with a proof that never detects anything.
  test('TheWitnessFilesCatchTwoHoldersOfDifferentLocks', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const witnesses = fs.mkdtempSync(path.join(dir, 'witness-'));
    const [nativeRun, wasmRun] = await Promise.all([
      native(dir, ['one', '--', 'sh', WITNESS, witnesses, '1', '0.8']),
      run(process.execPath, [CONTENDER, '--dir', dir, '--name', 'two', '--timeout-ms', '10000',
        '--hold-ms', '800', '--witness-dir', witnesses]),
    ]);
    assert.ok(nativeRun.code === EXIT_VIOLATION || wasmRun.code === EXIT_VIOLATION,
      `exit codes ${nativeRun.code} and ${wasmRun.code}: the overlap went unseen`);
    assert.ok(fs.existsSync(path.join(witnesses, 'violation')));
  });

  test('NeverTwoHoldersAcrossNativeAndWasmContenders', { timeout: TEST_TIMEOUT_MS }, async () => {
    await contend(1);
  });

  test('TwoSlotsAreRespectedAcrossNativeAndWasmContenders', { timeout: TEST_TIMEOUT_MS }, async () => {
    await contend(2);
  });

  test('ANativeAndAWasmHolderFillTwoSlotsAndRefuseAThirdOfEitherKind', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const nativeHolder = await startNativeHolder(dir, 'job');
    // The native holder runs with one slot: its record says slots=1. The
    // bakery counts smaller live tickets against each contender's own slots.
    const wasm = onlyone.tryLock('job', { dir, slots: 2 });
    assert.strictEqual(wasm.held, true, wasm.status().message);
    assert.strictEqual((await native(dir, ['--slots', '2', 'job', '--', 'true'])).code, EXIT_BUSY);
    assert.strictEqual(onlyone.tryLock('job', { dir, slots: 2 }).held, false);
    wasm.release();
    await killHard(nativeHolder);
  });

  test('FencesIncreaseAcrossBothKinds', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const fences = [];
    for (let round = 0; round < 3; round += 1) {
      const wasm = onlyone.tryLock('job', { dir });
      fences.push(BigInt(wasm.fence));
      wasm.release();
      const result = await native(dir, ['job', '--', 'sh', '-c', 'echo $ONLYONE_FENCE']);
      assert.strictEqual(result.code, 0, result.stderr);
      fences.push(BigInt(result.stdout.trim()));
    }
    for (let i = 1; i < fences.length; i += 1) assert.ok(fences[i] > fences[i - 1], `fences ${fences}`);
  });
});

describe('Chaos', () => {
  test('NeverTwoHoldersWhileContendersOfBothKindsAreKilled', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    // A pool of single-shot contenders, native and wasm alternately, each
    // waiting for the lock and holding it briefly; every KILL_EVERY_MS one of
    // them, waiting or holding, is killed with SIGKILL and replaced. Holders
    // prove exclusion with witness files; a killed holder's stale witness is
    // cleared by the next holder. Afterwards one contender of each kind must
    // acquire: every dead entry was recognised and removed.
    const CHAOS_MS = 5000;
    const POOL_SIZE = 6;
    const KILL_EVERY_MS = 150;
    const HOLD_MS = 40;
    const dir = lockDir();
    const witnesses = fs.mkdtempSync(path.join(dir, 'witness-'));
    const live = new Set();
    const failures = [];
    let spawned = 0;
    let killed = 0;
    const spawnOne = () => {
      const isNative = spawned % 2 === 0;
      spawned += 1;
      const child = isNative
        ? childProcess.spawn(ONLYONE, ['--dir', dir, '--wait=30s', 'job', '--', 'sh', WITNESS, witnesses, '1', String(HOLD_MS / 1000)], { stdio: ['ignore', 'ignore', 'pipe'] })
        : childProcess.spawn(process.execPath, [CONTENDER, '--dir', dir, '--name', 'job', '--timeout-ms', '30000',
          '--hold-ms', String(HOLD_MS), '--witness-dir', witnesses], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.kind = isNative ? 'native' : 'wasm';
      let stderr = '';
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      live.add(child);
      child.done = new Promise((resolve) => {
        child.on('exit', (code, signal) => {
          live.delete(child);
          if (!child.killedHere && code !== 0) failures.push(`${child.kind} exited ${code} ${signal}: ${stderr}`);
          resolve();
        });
      });
    };
    const started = Date.now();
    while (Date.now() - started < CHAOS_MS) {
      while (live.size < POOL_SIZE) spawnOne();
      await sleep(KILL_EVERY_MS);
      const victims = [...live];
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (victim) {
        victim.killedHere = true;
        victim.kill('SIGKILL');
        killed += 1;
      }
    }
    await Promise.all([...live].map((child) => child.done));
    const log = fs.existsSync(path.join(witnesses, 'log')) ? fs.readFileSync(path.join(witnesses, 'log'), 'utf8').trim().split('\n') : [];
    t.diagnostic(`${spawned} contenders, ${killed} killed, ${log.filter((k) => k === 'native').length} native and ${log.filter((k) => k === 'wasm').length} wasm holdings`);
    assert.ok(!fs.existsSync(path.join(witnesses, 'violation')),
      `two holders at once: ${fs.existsSync(path.join(witnesses, 'violation')) && fs.readFileSync(path.join(witnesses, 'violation'), 'utf8')}`);
    assert.deepStrictEqual(failures, []);
    assert.ok(log.includes('native') && log.includes('wasm'), 'one kind never held: the test proves little');
    const nativeAfter = await native(dir, ['--wait=10s', 'job', '--', 'true']);
    assert.strictEqual(nativeAfter.code, 0, nativeAfter.stderr);
    const wasmAfter = await onlyone.lock('job', { dir, timeoutMs: 10000 });
    assert.strictEqual(wasmAfter.held, true, wasmAfter.status().message);
    wasmAfter.release();
  });
});

describe('Records', () => {
  test('NativeReadsAWasmRecordExactly', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const command = '/usr/bin/backup --to=/mnt/x ünïcode ;=%';
    const wasm = onlyone.tryLock('job', { dir, command });
    assert.strictEqual(wasm.held, true);
    const status = JSON.parse((await native(dir, ['status', '--json', 'job'])).stdout);
    const [shown] = status.locks[0].entries;
    assert.strictEqual(shown.pid, process.pid);
    assert.strictEqual(shown.command, command);
    assert.strictEqual(shown.host, os.hostname());
    assert.strictEqual(shown.state, 'holding');
    assert.strictEqual(shown.alive, true);
    wasm.release();
  });

  test('WasmReadsANativeRecordExactly', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const startedMs = Date.now();
    const holder = await startNativeHolder(dir, 'job');
    const wasm = onlyone.tryLock('job', { dir });
    assert.strictEqual(wasm.held, false);
    const { holder: shown } = wasm.status();
    assert.strictEqual(shown.pid, holder.pid);
    assert.strictEqual(shown.command, 'sleep 60');
    assert.strictEqual(shown.host, os.hostname());
    assert.ok(shown.sinceMs >= startedMs - 1000 && shown.sinceMs <= Date.now(), `since ${shown.sinceMs}`);
    await killHard(holder);
  });
});

describe('Liveness', () => {
  test('ALiveWasmHolderIsNeverJudgedDeadByNative', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = await startWasmHolder(dir, 'job');
    const entry = entryOfPid(dir, 'job', holder.pid);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const result = await native(dir, ['--wait=300ms', 'job', '--', 'true']);
      assert.strictEqual(result.code, EXIT_BUSY, result.stderr);
      assert.match(result.stderr, new RegExp(`held by pid ${holder.pid}`));
    }
    assert.strictEqual(entryOfPid(dir, 'job', holder.pid), entry, 'the live wasm holder\'s entry was touched');
    const status = JSON.parse((await native(dir, ['status', '--json', 'job'])).stdout);
    const [shown] = status.locks[0].entries;
    assert.strictEqual(shown.pid, holder.pid);
    assert.strictEqual(shown.alive, true, 'native could not check the wasm owner (tier 2)');
    assert.strictEqual(shown.state, 'holding');
    await killHard(holder);
  });

  test('AKilledWasmHolderIsJudgedDeadByNative', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = await startWasmHolder(dir, 'job');
    const deadEntry = entryOfPid(dir, 'job', holder.pid);
    await killHard(holder);
    const result = await native(dir, ['job', '--', 'true']);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.ok(!entries(dir, 'job').includes(deadEntry), 'the dead wasm holder\'s entry is still there');
  });

  test('ANativeWaiterTakesOverWhenTheWasmHolderIsKilled', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const dir = lockDir();
    const holder = await startWasmHolder(dir, 'job');
    const waiter = native(dir, ['--wait=30s', 'job', '--', 'true']);
    await sleep(300);
    const killedAt = Date.now();
    await killHard(holder);
    const result = await waiter;
    const tookMs = Date.now() - killedAt;
    assert.strictEqual(result.code, 0, result.stderr);
    t.diagnostic(`native waiter took over ${tookMs} ms after the kill`);
    assert.ok(tookMs < NATIVE_SAFETY_NET_MS * 5, `took ${tookMs} ms`);
  });

  // Regression: a holder killed with kill -9 is a zombie until its parent
  // reaps it, with its pid and start time; it kept the lock busy meanwhile.
  test('AKilledWasmHolderItsParentHasNotReapedRefusesNeitherKind', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const zombies = [];
    try {
      for (const name of ['native', 'wasm']) {
        const holder = await startUnreapedHolder(dir, name, CHILD_START_TIMEOUT_MS);
        zombies.push(holder);
        process.kill(holder.pid, 'SIGKILL');
        await waitFor(`holder ${holder.pid} to be a zombie`, () => processState(holder.pid) === 'Z');
      }
      const result = await native(dir, ['native', '--', 'true']);
      assert.strictEqual(result.code, 0, result.stderr);
      const lock = onlyone.tryLock('wasm', { dir });
      assert.strictEqual(lock.held, true, lock.status().message);
      lock.release();
      for (const { pid } of zombies) assert.strictEqual(processState(pid), 'Z', `pid ${pid} was reaped meanwhile`);
    } finally {
      for (const { reaper } of zombies) reaper.kill('SIGKILL');
    }
  });

  test('ALiveNativeHolderIsNeverJudgedDeadByWasm', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = await startNativeHolder(dir, 'job');
    const entry = entryOfPid(dir, 'job', holder.pid);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const wasm = onlyone.tryLock('job', { dir });
      assert.strictEqual(wasm.held, false);
      assert.strictEqual(wasm.status().holder.pid, holder.pid);
    }
    const waited = await onlyone.lock('job', { dir, timeoutMs: 300 });
    assert.strictEqual(waited.held, false);
    assert.strictEqual(entryOfPid(dir, 'job', holder.pid), entry, 'the live native holder\'s entry was touched');
    await killHard(holder);
  });

  test('AJobProcessThatClosedItsDescriptorsKeepsAKilledNativeHoldersLockFromWasm', { timeout: TEST_TIMEOUT_MS }, async () => {
    // `onlyone` and its watchdog both killed (killall -9 onlyone) while a
    // process of the job that closed every inherited descriptor, the anchor
    // included, runs on in the job's process group: the anchor's flock is
    // free, but the process group it records keeps the owner alive, for a
    // Node-hosted contender as for a native one (platform/posix/job.h).
    const dir = lockDir();
    const scratch = fs.mkdtempSync(path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'closer-'));
    const pidFile = path.join(scratch, 'closer.pid');
    // It ignores SIGHUP, as daemons do: stopping the watchdog below makes the
    // job's group an orphaned group with a stopped member once onlyone dies,
    // and the kernel then sends SIGHUP (and SIGCONT) to the whole group.
    const closer = 'import os, signal, sys, time\n' +
      'signal.signal(signal.SIGHUP, signal.SIG_IGN)\n' +
      'os.closerange(3, 65536)\n' +
      'open(sys.argv[1] + ".tmp", "w").write(str(os.getpid()))\n' +
      'os.rename(sys.argv[1] + ".tmp", sys.argv[1])\n' +
      'time.sleep(60)\n';
    // A grandchild of onlyone: the shell dies with onlyone (its parent-death
    // signal), the closer stays in the group.
    const holder = await startNativeHolder(dir, 'job', ['sh', '-c', 'python3 -c "$0" "$1" & wait', closer, pidFile]);
    await waitFor('the job to close its descriptors', () => fs.existsSync(pidFile));
    const closerPid = Number(fs.readFileSync(pidFile, 'utf8'));
    const processGroup = (pid) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(')').pop().trim().split(/\s+/)[2]);
    const watchdog = processGroup(closerPid);
    // Stopped first, so that it cannot kill the group between the two kills.
    process.kill(watchdog, 'SIGSTOP');
    await killHard(holder);
    process.kill(watchdog, 'SIGKILL');
    await waitFor('the watchdog to be gone', () => gone(watchdog));
    try {
      assert.strictEqual(gone(closerPid), false, 'the closer died with onlyone (test is blind)');
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const wasm = onlyone.tryLock('job', { dir });
        assert.strictEqual(wasm.held, false, 'a wasm contender acquired beside the job\'s closer');
        assert.strictEqual(wasm.status().holder.pid, holder.pid);
      }
    } finally {
      process.kill(closerPid, 'SIGKILL');
    }
    await waitFor('the closer to be gone', () => gone(closerPid));
    // The group is empty (or holds a zombie until the sandbox's init reaps it).
    let wasm;
    await waitFor('the lock to be free once the job is gone', () => {
      wasm = onlyone.tryLock('job', { dir });
      return wasm.held;
    });
    wasm.release();
  });

  test('AWasmContenderWaitsForTheWatchdogOfAKilledNativeHolder', { timeout: TEST_TIMEOUT_MS }, async () => {
    // `onlyone` killed with SIGKILL: its pid is gone at once, but its watchdog
    // keeps the anchor's flock until it has killed the command. Stopped here,
    // the watchdog holds that state open; the lock must not look free.
    // The command's own shell dies with onlyone (its parent-death signal);
    // its child `sleep` stays in the process group, which only the watchdog
    // kills.
    const dir = lockDir();
    const holder = await startNativeHolder(dir, 'job', ['sh', '-c', 'sleep 60; true']);
    const childrenOf = (pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    const processGroup = (pid) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(')').pop().trim().split(/\s+/)[2]);
    let watchdog;
    let command;
    await waitFor('the command\'s sleep', () => {
      const children = childrenOf(holder.pid);
      watchdog = children.find((pid) => processGroup(pid) === pid);
      const shell = children.find((pid) => pid !== watchdog);
      [command] = shell ? childrenOf(shell) : [];
      return watchdog !== undefined && command !== undefined;
    });
    // A stopped watchdog in a group that becomes orphaned (onlyone, the only
    // member's parent outside it, dies) would get SIGHUP and SIGCONT from the
    // kernel and carry on at once. A group member whose parent is this test
    // (same session, another group) keeps the group from being orphaned.
    const anchor = childProcess.spawn('python3', ['-c', `import os, time; os.setpgid(0, ${watchdog}); time.sleep(60)`], { stdio: 'ignore' });
    await waitFor('the helper to join the watchdog\'s group', () => {
      try {
        return processGroup(anchor.pid) === watchdog;
      } catch {
        return false;
      }
    });
    process.kill(watchdog, 'SIGSTOP');
    try {
      await killHard(holder);
      assert.strictEqual(onlyone.tryLock('job', { dir }).held, false, 'the lock looked free while the command ran');
      assert.strictEqual((await native(dir, ['job', '--', 'true'])).code, EXIT_BUSY, 'native saw the lock free too');
      assert.ok(isRunning(command), 'the command\'s sleep died early; the test proves nothing');
    } finally {
      process.kill(watchdog, 'SIGCONT');  // it SIGKILLs its group, helper included
    }
    const lock = await onlyone.lock('job', { dir, timeoutMs: 10000 });
    assert.strictEqual(lock.held, true, lock.status().message);
    assert.ok(!isRunning(command), 'acquired while the native command still ran');
    lock.release();
  });

  test('NativeReplaceStopsAWasmHolderAndTakesOver', { timeout: TEST_TIMEOUT_MS }, async () => {
    // --replace signals only a pid that has the lock's directory open: the
    // Node host does, through its preopen.
    const dir = lockDir();
    const holder = await startWasmHolder(dir, 'job');
    const stopped = new Promise((resolve) => {
      holder.removeAllListeners('exit');
      holder.on('exit', (code, signal) => resolve(signal));
    });
    const result = await native(dir, ['--replace', '--grace', '5s', 'job', '--', 'echo', 'replaced']);
    assert.strictEqual(result.code, 0, result.stderr);
    assert.strictEqual(result.stdout.trim(), 'replaced');
    assert.strictEqual(await stopped, 'SIGTERM');
  });

  test('AKilledNativeHolderIsJudgedDeadByWasm', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = await startNativeHolder(dir, 'job');
    const deadEntry = entryOfPid(dir, 'job', holder.pid);
    await killHard(holder);
    const wasm = onlyone.tryLock('job', { dir });
    assert.strictEqual(wasm.held, true, wasm.status().message);
    assert.ok(!entries(dir, 'job').includes(deadEntry), 'the dead native holder\'s entry is still there');
    wasm.release();
  });
});

describe('Lease', () => {
  test('WithoutHostChecksADeadOwnersEntryIsNeverRemovedWithoutALease', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = await startWasmHolder(dir, 'job');
    const deadEntry = entryOfPid(dir, 'job', holder.pid);
    await killHard(holder);
    const blind = await onlyone.lock('job', { dir, hostLiveness: false, timeoutMs: 1500 });
    assert.strictEqual(blind.held, false, 'an Unknown owner was removed without a lease');
    assert.ok(entries(dir, 'job').includes(deadEntry));
    // The same entry goes as soon as someone can prove its owner dead.
    const seeing = onlyone.tryLock('job', { dir });
    assert.strictEqual(seeing.held, true);
    seeing.release();
  });

  test('WithoutHostChecksALeaseExpiresAnUnrefreshedEntry', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const leaseMs = 500;
    // Alive but silent: without checks only its `seen` time speaks for it.
    const holder = await startWasmHolder(dir, 'job');
    const entry = entryOfPid(dir, 'job', holder.pid);
    const seenMs = Number(/;seen=([0-9]+);/.exec(fs.readlinkSync(path.join(dir, 'job', entry)))[1]);
    const lock = await onlyone.lock('job', { dir, hostLiveness: false, leaseMs, timeoutMs: 10000 });
    assert.strictEqual(lock.held, true, lock.status().message);
    assert.ok(Date.now() - seenMs >= leaseMs, 'expired before the lease ran out');
    assert.ok(!entries(dir, 'job').includes(entry), 'the expired entry is still there');
    lock.release();
    await killHard(holder);
  });

  test('WithoutHostChecksALeaseSparesARefreshedEntry', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const leaseMs = 500;
    const holder = await startWasmHolder(dir, 'job', ['--refresh-ms', '100']);
    const entry = entryOfPid(dir, 'job', holder.pid);
    const lock = await onlyone.lock('job', { dir, hostLiveness: false, leaseMs, timeoutMs: 2000 });
    assert.strictEqual(lock.held, false, 'a refreshed entry expired');
    assert.strictEqual(entryOfPid(dir, 'job', holder.pid), entry);
    await killHard(holder);
  });
});
