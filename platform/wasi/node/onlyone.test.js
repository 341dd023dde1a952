// Tests of the Node.js host and the WebAssembly module it runs: the JS API,
// the WASI driver's handling of real directories, and the host's liveness
// import. Real files in $TEST_TMPDIR, real child processes; every wait bounded.
'use strict';

const { describe, test } = require('node:test');
const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const onlyone = require('./onlyone.js');

const { judgeOwner, localIdentity, parseStartTime, Liveness } = onlyone._internals;

const contender = require('./contender.js');
// Upper bound of any single test; the Bazel target's size bounds the file.
const TEST_TIMEOUT_MS = 20000;
// How long a child contender may take to start and acquire.
const CHILD_START_TIMEOUT_MS = 10000;
const startHolder = (dir, name, extra = []) => contender.startHolder(dir, name, extra, CHILD_START_TIMEOUT_MS);
const { killHard } = contender;

function lockDir() {
  const dir = fs.mkdtempSync(path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'onlyone-wasi-'));
  fs.chmodSync(dir, 0o700);
  return dir;
}

// The format marker (core/names.h): an "o." name that is no contender's
// entry, made with the first fence counter of a directory.
const FORMAT_MARKER = `o.${'0'.repeat(32)}`;

function entries(dir, name) {
  return fs.readdirSync(path.join(dir, name)).filter((entry) => entry.startsWith('o.') && entry !== FORMAT_MARKER).sort();
}

const HEX32 = 'f'.repeat(32);

describe('TryLock', () => {
  // Regression: in Node 20.20, V8's fast API calls into node:wasi corrupted
  // the heap once the calling loop was hot; 1000 cycles in one process hit
  // SIGSEGV 8 times out of 8 (nodejs/node#53087). A child, so that a crash
  // fails this test instead of the runner.
  test('AThousandCyclesInOneProcessDoNotCrashNode', { timeout: 60000 }, () => {
    const dir = lockDir();
    const script = `
      const onlyone = require(${JSON.stringify(path.join(__dirname, 'onlyone.js'))});
      for (let i = 0; i < 1000; i += 1) {
        const lock = onlyone.tryLock('hot', { dir: ${JSON.stringify(dir)} });
        if (!lock.held) throw new Error('not acquired: ' + lock.status().message);
        lock.release();
      }`;
    const child = childProcess.spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 55000 });
    assert.strictEqual(child.signal, null, `the child died of ${child.signal}: ${child.stderr}`);
    assert.strictEqual(child.status, 0, child.stderr);
    assert.deepStrictEqual(entries(dir, 'hot'), []);
  });

  test('AcquiresAFreeLockAndReleaseFreesIt', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const lock = onlyone.tryLock('job', { dir });
    assert.strictEqual(lock.held, true);
    assert.strictEqual(entries(dir, 'job').length, 1);
    assert.strictEqual(lock.release(), true);
    assert.strictEqual(lock.held, false);
    assert.deepStrictEqual(entries(dir, 'job'), []);
  });

  test('ReportsTheHolderWhenBusy', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const first = onlyone.tryLock('job', { dir, command: 'first job' });
    const second = onlyone.tryLock('job', { dir });
    assert.strictEqual(second.held, false);
    const { holder, message } = second.status();
    assert.strictEqual(holder.pid, process.pid);
    assert.strictEqual(holder.command, 'first job');
    assert.strictEqual(holder.host, os.hostname());
    assert.match(message, new RegExp(`held by pid ${process.pid} \\(first job\\)`));
    assert.deepStrictEqual(entries(dir, 'job').length, 1, 'the busy attempt left its entry behind');
    first.release();
  });

  test('HandsOutStrictlyIncreasingFences', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    let last = 0n;
    for (let round = 0; round < 5; round += 1) {
      const lock = onlyone.tryLock('job', { dir });
      assert.strictEqual(lock.held, true);
      assert.match(lock.fence, /^[0-9]+$/);
      assert.ok(BigInt(lock.fence) > last, `fence ${lock.fence} after ${last}`);
      last = BigInt(lock.fence);
      lock.release();
    }
  });

  test('AdmitsAtMostSlotsHolders', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const a = onlyone.tryLock('job', { dir, slots: 2 });
    const b = onlyone.tryLock('job', { dir, slots: 2 });
    const c = onlyone.tryLock('job', { dir, slots: 2 });
    assert.deepStrictEqual([a.held, b.held, c.held], [true, true, false]);
    assert.notStrictEqual(a.fence, b.fence);
    a.release();
    const d = onlyone.tryLock('job', { dir, slots: 2 });
    assert.strictEqual(d.held, true);
    b.release();
    d.release();
  });

  test('RefusesAnInvalidNameOrSlotCount', () => {
    const dir = lockDir();
    for (const name of ['', '.', '..', 'a/b']) {
      assert.throws(() => onlyone.tryLock(name, { dir }), { code: 'EINVAL' });
    }
    for (const slots of [0, 1025, 1.5]) {
      assert.throws(() => onlyone.tryLock('job', { dir, slots }), { code: 'EINVAL' });
    }
  });

  test('RefusesASymlinkedLockDirectory', () => {
    const dir = lockDir();
    fs.mkdirSync(path.join(dir, 'elsewhere'));
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'job'));
    assert.throws(() => onlyone.tryLock('job', { dir }), { code: 'EUNSAFE', message: /symbolic link/ });
  });

  test('RefusesALockDirectoryWritableByOthers', () => {
    const dir = lockDir();
    fs.mkdirSync(path.join(dir, 'job'));
    fs.chmodSync(path.join(dir, 'job'), 0o777);
    assert.throws(() => onlyone.tryLock('job', { dir }), { code: 'EUNSAFE', message: /writable by others/ });
  });

  test('SkipsForeignEntriesAndNeverRemovesThem', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const lockPath = path.join(dir, 'job');
    fs.mkdirSync(lockPath, { mode: 0o700 });
    // A regular file and a garbage symlink under entry names, and a stranger.
    fs.writeFileSync(path.join(lockPath, `o.${HEX32}`), 'not a symlink');
    fs.symlinkSync('hello world', path.join(lockPath, `o.${'e'.repeat(32)}`));
    fs.writeFileSync(path.join(lockPath, 'README'), 'foreign');
    const lock = onlyone.tryLock('job', { dir });
    assert.strictEqual(lock.held, true);
    for (const planted of [`o.${HEX32}`, `o.${'e'.repeat(32)}`, 'README']) {
      assert.doesNotThrow(() => fs.lstatSync(path.join(lockPath, planted)), planted);
    }
    lock.release();
  });

  test('RefusesAnEntryOfANewerFormatVersion', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const lockPath = path.join(dir, 'job');
    fs.mkdirSync(lockPath, { mode: 0o700 });
    fs.symlinkSync('onlyone9;whatever;end', path.join(lockPath, `o.${HEX32}`));
    assert.throws(() => onlyone.tryLock('job', { dir }), { code: 'EONLYONE', message: /unknown newer version on o.f{32}/ });
    assert.deepStrictEqual(entries(dir, 'job'), [`o.${HEX32}`], 'our own entry was not cleaned up');
  });

  test('ListsADirectoryThatFitsOneCall', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const lockPath = path.join(dir, 'job');
    fs.mkdirSync(lockPath, { mode: 0o700 });
    // 200 names of 100 bytes: 24.8 KiB of WASI dirents, under the 28 KiB.
    for (let i = 0; i < 200; i += 1) fs.writeFileSync(path.join(lockPath, `${i}`.padStart(100, 'x')), '');
    const lock = onlyone.tryLock('job', { dir });
    assert.strictEqual(lock.held, true, lock.status().message);
    lock.release();
  });

  test('RefusesAListingTooLargeForOneCall', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const lockPath = path.join(dir, 'job');
    fs.mkdirSync(lockPath, { mode: 0o700 });
    // 300 names of 100 bytes: more than the 28 KiB one fd_readdir may fill.
    for (let i = 0; i < 300; i += 1) fs.writeFileSync(path.join(lockPath, `${i}`.padStart(100, 'x')), '');
    assert.throws(() => onlyone.tryLock('job', { dir }), { code: 'EONLYONE', message: /WASI errno 61/ });
    assert.deepStrictEqual(entries(dir, 'job'), []);
  });
});

describe('Lock', () => {
  test('WaitsUntilTheHolderReleases', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = onlyone.tryLock('job', { dir });
    setTimeout(() => holder.release(), 200);
    const started = Date.now();
    const waiter = await onlyone.lock('job', { dir, timeoutMs: 10000 });
    assert.strictEqual(waiter.held, true);
    assert.ok(Date.now() - started >= 150, 'acquired before the release');
    assert.ok(BigInt(waiter.fence) > BigInt(holder.fence));
    waiter.release();
  });

  // A waiter scans on each change of its predecessor's entry, and otherwise
  // only at the safety net (1 s): a poll backing off to 250 ms scanned 14
  // times in 2.5 s and noticed a release up to 250 ms late.
  test('WakesOnTheReleaseAndScansOnlyAtTheSafetyNetMeanwhile', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = onlyone.tryLock('job', { dir });
    const waiter = new onlyone.Lock('job', { dir });
    const scans = [];
    const { onlyone_resume: resume } = waiter._exports;
    waiter._exports = { ...waiter._exports, onlyone_resume: () => {
      scans.push(performance.now());
      return resume();
    } };
    const acquired = waiter._acquire(TEST_TIMEOUT_MS).then(() => performance.now());
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.ok(scans.length <= 5, `${scans.length} scans in 2.5 s of waiting: it polls`);
    // Released just after a scan, a safety-net scan would come a second later.
    const before = scans.length;
    while (scans.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const released = performance.now();
    holder.release();
    const woke = await acquired;
    assert.strictEqual(waiter.held, true);
    assert.ok(woke - released < 500, `acquired ${Math.round(woke - released)} ms after the release`);
    waiter.release();
  });

  test('GivesUpWhenTheTimeoutPasses', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = onlyone.tryLock('job', { dir });
    const started = Date.now();
    const waiter = await onlyone.lock('job', { dir, timeoutMs: 300 });
    const waited = Date.now() - started;
    assert.strictEqual(waiter.held, false);
    assert.ok(waited >= 290 && waited < 5000, `waited ${waited} ms`);
    assert.strictEqual(waiter.status().holder.pid, process.pid);
    assert.deepStrictEqual(entries(dir, 'job').length, 1);
    holder.release();
  });

  test('KeepsTheEventLoopRunningWhileWaiting', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = onlyone.tryLock('job', { dir });
    let ticks = 0;
    const ticker = setInterval(() => { ticks += 1; }, 10);
    await onlyone.lock('job', { dir, timeoutMs: 500 });
    clearInterval(ticker);
    assert.ok(ticks >= 10, `only ${ticks} timer ticks in 500 ms`);
    holder.release();
  });
});

describe('Json', () => {
  // Every value the API returns, in each state a Lock can be in.
  test('EveryValueTheApiReturnsSerializesWithJsonStringify', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const returned = [];
    const keep = (value) => {
      returned.push(value);
      return value;
    };
    const held = keep(onlyone.tryLock('job', { dir, command: 'first' }));
    const busy = keep(onlyone.tryLock('job', { dir }));
    const timedOut = keep(await onlyone.lock('job', { dir, timeoutMs: 50 }));
    for (const lock of [held, busy, timedOut]) keep(lock.status());
    keep(held.validate());
    keep(held.refresh());
    keep(held.release());
    keep(held.status());
    try {
      held.release();
    } catch (error) {
      keep(error);
    }
    for (const value of returned) {
      const text = JSON.stringify(value);
      assert.strictEqual(typeof text, 'string');
      if (typeof value === 'object' && !(value instanceof Error)) {
        const plain = value instanceof onlyone.Lock ? value.status() : value;
        assert.deepStrictEqual(JSON.parse(text), plain, 'something did not survive the round trip');
      }
    }
    const { holder } = busy.status();
    assert.strictEqual(typeof holder.ticket, 'string');
    assert.match(holder.ticket, /^[0-9]+$/);
    assert.strictEqual(busy.status().fence, null);
    assert.strictEqual(JSON.parse(JSON.stringify(held)).fence, held.fence);
  });
});

describe('Holding', () => {
  test('ValidateReportsLostWhenOurEntryWasRemoved', { timeout: TEST_TIMEOUT_MS }, () => {
    const dir = lockDir();
    const lock = onlyone.tryLock('job', { dir });
    assert.strictEqual(lock.validate(), true);
    for (const entry of entries(dir, 'job')) fs.unlinkSync(path.join(dir, 'job', entry));
    assert.strictEqual(lock.validate(), false);
    assert.strictEqual(lock.held, false);
    assert.match(lock.status().message, /lost/);
  });

  test('RefreshRewritesTheSeenTime', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const lock = onlyone.tryLock('job', { dir });
    const [entry] = entries(dir, 'job');
    const seen = () => Number(/;seen=([0-9]+);/.exec(fs.readlinkSync(path.join(dir, 'job', entry)))[1]);
    const before = seen();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.strictEqual(lock.refresh(), true);
    assert.ok(seen() > before);
    lock.release();
  });

  test('ReleaseWithoutHoldingThrows', () => {
    const dir = lockDir();
    const lock = onlyone.tryLock('job', { dir });
    lock.release();
    assert.throws(() => lock.release(), { code: 'EINVAL' });
  });
});

describe('HostLiveness', () => {
  const me = localIdentity();
  const owner = (changes) => ({
    pid: me.pid, startTime: me.startTime, bootHi: me.bootId.hi, bootLo: me.bootId.lo,
    pidNamespace: me.pidNamespace, ...changes,
  });

  test('IdentityIsWhatProcSaysOfThisProcess', () => {
    const stat = fs.readFileSync('/proc/self/stat', 'latin1');
    assert.strictEqual(me.pid, process.pid);
    assert.strictEqual(me.startTime, parseStartTime(stat));
    assert.ok(me.startTime > 0n);
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').replace(/[-\n]/g, '');
    assert.strictEqual(me.bootId.hi.toString(16).padStart(16, '0') + me.bootId.lo.toString(16).padStart(16, '0'), boot);
    assert.strictEqual(me.pidNamespace, fs.statSync('/proc/self/ns/pid', { bigint: true }).ino);
  });

  test('JudgesThisProcessAlive', () => {
    assert.strictEqual(judgeOwner(owner({})), Liveness.ALIVE);
  });

  test('JudgesAReusedPidDead', () => {
    assert.strictEqual(judgeOwner(owner({ startTime: me.startTime + 1n })), Liveness.DEAD);
  });

  test('JudgesAnExitedProcessDead', () => {
    const child = childProcess.spawnSync('/bin/sh', ['-c', 'echo $$']);
    const pid = Number(String(child.stdout).trim());
    assert.strictEqual(judgeOwner(owner({ pid })), Liveness.DEAD);
  });

  test('JudgesAKilledProcessDeadBeforeItsParentReapsIt', { timeout: TEST_TIMEOUT_MS }, async () => {
    // The sleep's parent execs another sleep, which never reaps it.
    const parent = childProcess.spawn('/bin/sh', ['-c', 'sleep 600 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number((await new Promise((resolve) => parent.stdout.once('data', resolve))).toString().trim());
      const startTime = parseStartTime(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
      assert.strictEqual(judgeOwner(owner({ pid, startTime })), Liveness.ALIVE);
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
      while (contender.processState(pid) !== 'Z') {
        assert.ok(Date.now() < deadline, `pid ${pid} never became a zombie`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.strictEqual(judgeOwner(owner({ pid, startTime })), Liveness.DEAD);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  test('JudgesAnotherBootDead', () => {
    assert.strictEqual(judgeOwner(owner({ bootHi: me.bootId.hi ^ 1n })), Liveness.DEAD);
  });

  test('ComparesOnlyTheFirst64BitsOfBootIdsAsACompactRecordKeepsNoMore', () => {
    assert.strictEqual(judgeOwner(owner({ bootLo: 0n })), Liveness.ALIVE);
  });

  test('JudgesAnotherPidNamespaceUnknown', () => {
    assert.strictEqual(judgeOwner(owner({ pid: 999999, pidNamespace: me.pidNamespace + 1n })), Liveness.UNKNOWN);
  });

  test('JudgesAnOwnerWithoutBootIdUnknown', () => {
    assert.strictEqual(judgeOwner(owner({ pid: 999999, bootHi: 0n, bootLo: 0n })), Liveness.UNKNOWN);
  });

  test('AnAnchorSomeoneFlocksProvesTheOwnerAliveWhateverItsPid', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const lockPath = path.join(dir, 'job');
    fs.mkdirSync(lockPath, { mode: 0o700 });
    const exited = childProcess.spawnSync('/bin/sh', ['-c', 'echo $$']);
    const deadPid = Number(String(exited.stdout).trim());
    const nonce = { nonceHi: 0x0123456789abcdefn, nonceLo: 0xfedcba9876543210n };
    const anchorName = 'k.0123456789abcdeffedcba9876543210';
    const anchor = path.join(lockPath, anchorName);
    fs.writeFileSync(anchor, '');
    const dead = owner({ pid: deadPid, ...nonce });
    assert.strictEqual(judgeOwner(dead, lockPath, anchorName), Liveness.DEAD, 'an unlocked anchor proved life');
    // flock(1) holds the anchor the way a native owner (or its watchdog) does.
    const locker = childProcess.spawn('flock', [anchor, 'sleep', '30'], { detached: true, stdio: 'ignore' });
    const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
    while (judgeOwner(dead, lockPath, anchorName) !== Liveness.ALIVE) {
      assert.ok(Date.now() < deadline, 'the flocked anchor never proved life');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => {
      locker.on('exit', resolve);
      process.kill(-locker.pid, 'SIGKILL');
    });
    await new Promise((resolve) => setTimeout(resolve, 100));  // the group's sleep exits too
    assert.strictEqual(judgeOwner(dead, lockPath, anchorName), Liveness.DEAD);
  });

  test('RemovesTheEntryOfAKilledHolder', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = lockDir();
    const holder = await startHolder(dir, 'job');
    const [deadEntry] = entries(dir, 'job');
    assert.strictEqual(onlyone.tryLock('job', { dir }).held, false, 'a live holder was judged dead');
    await killHard(holder);
    const lock = onlyone.tryLock('job', { dir });
    assert.strictEqual(lock.held, true);
    assert.ok(!entries(dir, 'job').includes(deadEntry), 'the dead holder\'s entry is still there');
    lock.release();
  });
});
