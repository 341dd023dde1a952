// onlyone for Node.js: the proven lock protocol, compiled to WebAssembly,
// run under node:wasi on a preopened lock directory. Excludes with native
// `onlyone` processes on the same directory (same entries, same records).
//
//   const onlyone = require('./onlyone.js');
//   const lock = onlyone.tryLock('backup', { dir: '/run/user/1000/onlyone' });
//   if (!lock.held) throw new Error(lock.status().message);   // names the holder
//   try { ... lock.fence ... } finally { lock.release(); }
//
//   const lock2 = await onlyone.lock('backup', { timeoutMs: 30000, slots: 2 });
//
// The host side of the module's ABI (platform/wasi/host.h) is here:
// `identity` reports this Node process (pid, start time from /proc/self/stat,
// boot id, PID namespace, host name), so native processes judge us as they
// judge each other; `process_alive` judges other owners the way the native
// driver does: an anchor flock listed in /proc/locks, or an anchor still
// open by some process, proves life (Node has no flock(2) to probe it), then
// tier 2 (boot id, PID namespace, pid and start time via /proc,
// process.kill(pid, 0) where /proc is not ours).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// Liveness answers of onlyone_host.process_alive (onlyone::Liveness).
const Liveness = Object.freeze({ ALIVE: 0, DEAD: 1, UNKNOWN: 2 });

// StepCode (host.h).
const Step = Object.freeze({
  READY: 0, ACQUIRED: 1, BUSY: 2, PAUSE: 3, RELEASED: 4, HELD: 5, LOST: 6, FAILED: 7,
});

// Limits shared with the core (core/record.h, core/contender.h).
const HOST_BYTES_MAX = 64;
const COMMAND_BYTES_MAX = 96;
const INPUT_BYTES_MAX = 256;  // host.h kInputBytesMax: onlyone_input()'s area
const SLOTS_MAX = 1024;
const NAME_BYTES_MAX = 255;
// HostProcess / HostHolder layouts (host.h).
const PROCESS_HOST_OFFSET = 40;
const PROCESS_NONCE_OFFSET = PROCESS_HOST_OFFSET + HOST_BYTES_MAX;
const HOLDER_HOST_OFFSET = 32;
const HOLDER_COMMAND_OFFSET = HOLDER_HOST_OFFSET + HOST_BYTES_MAX;
// Field 22 of /proc/PID/stat (start time, clock ticks since boot), counted
// from the first field after the ")" that ends the command name (field 3).
const START_TIME_FIELD_AFTER_COMM = 22 - 3;
const PROCESS_GROUP_FIELD_AFTER_COMM = 5 - 3;
const SESSION_FIELD_AFTER_COMM = 6 - 3;
// A watching waiter scans at least this often without an event, as the
// native driver's kWaitSafetyNetMs: deaths make no event it sees.
const WAIT_SAFETY_NET_MS = 1000;
// Where the lock directory appears inside the sandbox.
const SANDBOX_LOCK_DIR = '/lock';

class OnlyoneError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------
// Facts about processes, from /proc (Linux). Mirrors platform/posix/driver_linux.cc.

function readText(file) {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch (error) {
    return error;
  }
}

// /proc/PID/stat is at most a few hundred bytes (a 16-byte command name and
// 52 numbers): one read into a reused buffer. A waiting scan reads one per
// entry ahead of it, and readFileSync's fstat and allocation were a good part
// of a scan.
const STAT_BYTES_MAX = 1024;
const statBuffer = Buffer.alloc(STAT_BYTES_MAX);

function readStat(pid) {
  let fd;
  try {
    fd = fs.openSync(`/proc/${pid}/stat`, 'r');
    const bytes = fs.readSync(fd, statBuffer, 0, STAT_BYTES_MAX, 0);
    return statBuffer.toString('latin1', 0, bytes);
  } catch (error) {
    return error;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// The fields of a /proc/PID/stat text that say which job a process belongs
// to, as platform/posix/driver_linux.cc's ParseStat; null if it cannot be parsed.
// The command name may hold spaces and ")": parse after the last ")".
function parseStat(text) {
  const paren = text.lastIndexOf(')');
  if (paren < 0) return null;
  const fields = text.slice(paren + 1).trim().split(/ +/);
  const numbers = [PROCESS_GROUP_FIELD_AFTER_COMM, SESSION_FIELD_AFTER_COMM, START_TIME_FIELD_AFTER_COMM]
    .map((index) => fields[index]);
  if (!numbers.every((value) => value !== undefined && /^[0-9]+$/.test(value))) return null;
  return {
    state: fields[0],
    processGroup: Number(numbers[0]),
    session: Number(numbers[1]),
    startTime: BigInt(numbers[2]),
  };
}

// The start time in a /proc/PID/stat text, or null.
function parseStartTime(text) {
  const stat = parseStat(text);
  return stat === null ? null : stat.startTime;
}

// Whether a /proc/PID/stat state shows a process that has exited: a zombie
// (Z) waiting for its parent to reap it, or one being reaped (X). It keeps
// its pid and start time until reaped, but it has closed every descriptor
// and runs no code, so it holds nothing: counting it alive kept a lock busy
// for as long as a parent neglected to wait.
function stateHasExited(state) {
  return state === 'Z' || state === 'X';
}

function hasExited(text) {
  const stat = parseStat(text);
  return stat !== null && stateHasExited(stat.state);
}

// /proc shows the PID namespace it was mounted for, not necessarily ours:
// reading another namespace's pids there would be a false "dead" (H5).
function procIsOurNamespace() {
  try {
    return fs.readlinkSync('/proc/self') === String(process.pid);
  } catch {
    return false;
  }
}

// { exists, usable, startTime } for a pid of our namespace, as
// platform/posix/driver_linux.cc's ProcessStartTime: a process that has exited
// but is not reaped yet does not exist.
function processStartTime(pid) {
  if (pid === process.pid) {
    const text = readText('/proc/self/stat');
    const startTime = typeof text === 'string' ? parseStartTime(text) : null;
    return { exists: true, usable: startTime !== null, startTime };
  }
  if (!procIsOurNamespace()) return { exists: true, usable: false, startTime: null };
  const text = readStat(pid);
  if (typeof text !== 'string') {
    const gone = text.code === 'ENOENT' || text.code === 'ESRCH';
    return { exists: !gone, usable: gone, startTime: null };
  }
  if (hasExited(text)) return { exists: false, usable: true, startTime: null };
  const startTime = parseStartTime(text);
  return { exists: true, usable: startTime !== null, startTime };
}

function localBootId() {
  const text = readText('/proc/sys/kernel/random/boot_id');
  if (typeof text !== 'string') return { hi: 0n, lo: 0n };
  const hex = text.replace(/[-\n]/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return { hi: 0n, lo: 0n };
  return { hi: BigInt('0x' + hex.slice(0, 16)), lo: BigInt('0x' + hex.slice(16)) };
}

function localPidNamespace() {
  try {
    return fs.statSync('/proc/self/ns/pid', { bigint: true }).ino;
  } catch {
    return 0n;
  }
}

// `text` as UTF-8, cut to at most `maxBytes` without splitting a character.
function utf8Prefix(text, maxBytes) {
  const bytes = Buffer.from(String(text), 'utf8');
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end);
}

let cachedIdentity = null;

// This process, read once: none of it changes while the process lives.
function localIdentity() {
  if (cachedIdentity !== null && cachedIdentity.pid === process.pid) return cachedIdentity;
  const self = processStartTime(process.pid);
  cachedIdentity = {
    pid: process.pid,
    startTime: self.usable ? self.startTime : 0n,
    bootId: localBootId(),
    pidNamespace: localPidNamespace(),
    host: utf8Prefix(os.hostname(), HOST_BYTES_MAX),
  };
  return cachedIdentity;
}

// The kernel's "MAJOR:MINOR" of a device number as /proc/locks prints it
// (two hex digits at least), from glibc's dev_t encoding.
function procLocksDevice(dev) {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

// The owner's anchor "k.<nonce>" (the POSIX driver's tier 1), as a bigint
// stat, or null when there is none. A planted FIFO or link is no evidence
// (H10).
function anchorStat(lockPath, anchorName) {
  if (!lockPath) return null;
  try {
    // No exception for a missing anchor (a wasm owner never has one): a
    // waiting scan probes every entry ahead of it, and building an Error per
    // probe was the largest cost of a scan.
    const st = fs.lstatSync(`${lockPath}/${anchorName}`, { bigint: true, throwIfNoEntry: false });
    return st !== undefined && st.isFile() ? st : null;
  } catch {
    return null;
  }
}

// Whether /proc/locks lists an flock on the anchor: Node has no flock(2) to
// probe it the native way. Only ever a proof of life: in a child PID
// namespace /proc/locks hides a lock whose taker has died even while a
// forked copy of its descriptor still holds it, which is exactly the lock of
// a SIGKILLed `onlyone` that its watchdog keeps (see anchorOpen).
function anchorListed(anchor) {
  const key = `${procLocksDevice(anchor.dev)}:${anchor.ino}`;
  const text = readText('/proc/locks');
  if (typeof text !== 'string') return false;
  for (const line of text.split('\n')) {
    // "12: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"; lines with "->"
    // are processes blocked waiting for a lock, not holders.
    if (line.includes('->')) continue;
    const fields = line.trim().split(/\s+/);
    if (fields[1] === 'FLOCK' && fields[5] === key) return true;
  }
  return false;
}

// Whether any process we can see has the anchor open. An owner, and the
// watchdog of a native `onlyone`, keep it open (and flocked) for their whole
// holding; anyone else opens it only for an instant to probe it, which here
// errs towards "alive". Scans every /proc/PID/fd, so it runs only when the
// pid and start time say "dead" and an anchor exists: a dead owner is
// removed once, and with it its anchor.
function anchorOpen(anchor, anchorName) {
  const suffix = `/${anchorName}`;
  let pids;
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return false;
  }
  for (const pid of pids) {
    let fds;
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;  // gone, or another user's
    }
    for (const fd of fds) {
      const link = `/proc/${pid}/fd/${fd}`;
      try {
        if (!fs.readlinkSync(link).endsWith(suffix)) continue;
        const st = fs.statSync(link, { bigint: true });
        if (st.dev === anchor.dev && st.ino === anchor.ino) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

// The job an `onlyone` command ran while it held: the process group it
// recorded in its anchor (platform/posix/job.h). The anchor's kernel lock is
// free, but the owner still counts as alive while a live process of that
// group and session remains: a process of the job that closed its inherited
// descriptors. Ignored for another boot or PID namespace (its pids mean
// other processes here) and for a reused group (a leader that started at
// another time). Where /proc shows another namespace, any process of the
// group counts, zombies included: the safe side.
// The anchor's owner line (core/record.h, ParseAnchorOwner) comes first when
// there is one; anchors of older versions hold the job line alone.
const JOB_GROUP_PATTERN =
  /^(?:onlyone1;[^\n]*\n)?onlyone-job v1 pgid=([0-9]+) sid=([0-9]+) start=([0-9]+) boot=([0-9a-f]{32}) pidns=([0-9]+)\n$/;

function jobStillRuns(lockPath, anchorName) {
  const text = readText(`${lockPath}/${anchorName}`);
  const match = typeof text === 'string' ? JOB_GROUP_PATTERN.exec(text) : null;
  if (match === null) return false;
  const [processGroup, session] = [Number(match[1]), Number(match[2])];
  const leaderStartTime = BigInt(match[3]);
  const local = localIdentity();
  const boot = { hi: BigInt('0x' + match[4].slice(0, 16)), lo: BigInt('0x' + match[4].slice(16)) };
  if (boot.hi !== local.bootId.hi || boot.lo !== local.bootId.lo) return false;
  if (BigInt(match[5]) !== local.pidNamespace || processGroup <= 1) return false;
  if (!procIsOurNamespace()) {
    try {
      process.kill(-processGroup, 0);
      return true;
    } catch (error) {
      return error.code === 'EPERM';
    }
  }
  let pids;
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return false;
  }
  let live = false;
  for (const pid of pids) {
    const text = readStat(pid);
    const stat = typeof text === 'string' ? parseStat(text) : null;
    if (stat === null || stat.processGroup !== processGroup) continue;
    if (Number(pid) === processGroup && leaderStartTime !== 0n && stat.startTime !== leaderStartTime) {
      return false;  // the group's number was reused
    }
    if (stat.session === session && !stateHasExited(stat.state)) live = true;
  }
  return live;
}

// platform/posix/driver.cc's ProbeOwner, for an owner described by a
// HostProcess, in the lock directory `lockPath`. Tier 1, as a proof of life
// only: an anchor that is flocked (in /proc/locks) or, when the pid says
// dead, still open somewhere or naming a job group that still runs. Tier 2: a different boot is proof of death; in
// our own boot and PID namespace, no process with that pid and start time is
// proof too. Anything else (another host, another namespace, no evidence) is
// unknown.
// `anchorName` is the module's name for the owner's anchor ('' for none).
function judgeOwner(owner, lockPath, anchorName) {
  const anchor = anchorName ? anchorStat(lockPath, anchorName) : null;
  if (anchor !== null && anchorListed(anchor)) return Liveness.ALIVE;
  const verdict = judgeByPid(owner);
  if (verdict === Liveness.DEAD && anchor !== null &&
      (anchorOpen(anchor, anchorName) || jobStillRuns(lockPath, anchorName))) {
    return Liveness.ALIVE;
  }
  return verdict;
}

// Tier 2 alone.
function judgeByPid(owner) {
  const local = localIdentity();
  // The first 64 bits of boot ids only: a compact record keeps no more
  // (SameBoot in core/record.h).
  const ownerBoot = owner.bootHi !== 0n;
  const localBoot = local.bootId.hi !== 0n;
  if (!ownerBoot || !localBoot) return Liveness.UNKNOWN;
  if (owner.bootHi !== local.bootId.hi) return Liveness.DEAD;
  if (owner.pidNamespace === 0n || owner.pidNamespace !== local.pidNamespace || owner.startTime === 0n) {
    return Liveness.UNKNOWN;
  }
  const found = processStartTime(owner.pid);
  if (found.usable) {
    if (!found.exists) return Liveness.DEAD;
    return found.startTime === owner.startTime ? Liveness.ALIVE : Liveness.DEAD;
  }
  // /proc is not ours (or unreadable), but the namespace is: signal 0 still
  // tells "no such process" apart. A process that exists may be a reused
  // pid, so that is no proof of life: unknown, which counts as alive.
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if (error.code === 'ESRCH') return Liveness.DEAD;
  }
  return Liveness.UNKNOWN;
}

// ---------------------------------------------------------------------------
// Lock directories. Mirrors the POSIX driver's checks (H10), on paths: Node
// cannot preopen a descriptor, so a directory is checked, then preopened by
// path. In a private (0700) parent nobody else can swap it in between.

function defaultLockDirectory() {
  if (process.env.ONLYONE_DIR) return process.env.ONLYONE_DIR;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/run/onlyone';
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime && runtime.startsWith('/')) return path.join(runtime, 'onlyone');
  return path.join(os.homedir(), '.cache', 'onlyone');
}

function checkDirectory(dir, isLockDir) {
  let st;
  try {
    st = fs.lstatSync(dir);
  } catch (error) {
    throw new OnlyoneError('EIO', `onlyone: cannot stat ${dir}: ${error.message}`);
  }
  if (st.isSymbolicLink()) {
    throw new OnlyoneError('EUNSAFE', `onlyone: ${dir} is a symbolic link, which is never followed (a planted link could redirect the lock); remove it or use another dir`);
  }
  if (!st.isDirectory()) throw new OnlyoneError('EUNSAFE', `onlyone: ${dir} is not a directory; remove it or use another dir`);
  const me = typeof process.geteuid === 'function' ? process.geteuid() : st.uid;
  if (st.uid !== me && st.uid !== 0) {
    throw new OnlyoneError('EUNSAFE', `onlyone: ${dir} is owned by uid ${st.uid}, not by you or root: another user could plant or remove entries; use a directory of your own`);
  }
  const othersWrite = (st.mode & 0o022) !== 0;
  const sticky = (st.mode & 0o1000) !== 0;
  if (othersWrite && (isLockDir || !sticky)) {
    throw new OnlyoneError('EUNSAFE', `onlyone: ${dir} is writable by others (mode ${(st.mode & 0o7777).toString(8)}): another user could plant fake holders; run "chmod ${isLockDir ? '700' : 'go-w'} ${dir}" or use another dir`);
  }
}

function makeDirectory(dir) {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (error.code !== 'EEXIST') {
      throw new OnlyoneError(error.code, `onlyone: cannot create ${dir}: ${error.message}`);
    }
  }
}

function validName(name) {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' &&
      !name.includes('/') && !name.includes('\0') && Buffer.byteLength(name) <= NAME_BYTES_MAX;
}

// ---------------------------------------------------------------------------
// The module.

let compiledModule = null;
let compiledPath = null;

function modulePath(options) {
  return options.module || process.env.ONLYONE_WASM || path.join(__dirname, 'onlyone.wasm');
}

function compile(file) {
  if (compiledModule === null || compiledPath !== file) {
    compiledModule = new WebAssembly.Module(fs.readFileSync(file));
    compiledPath = file;
  }
  return compiledModule;
}

// node:wasi prints an ExperimentalWarning once per process; it says nothing
// to a lock's user, so it is loaded quietly.
function loadWasi() {
  const emit = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    const text = typeof warning === 'string' ? warning : warning && warning.message;
    if (/WASI/.test(String(text))) return;
    emit.call(process, warning, ...rest);
  };
  try {
    // Trap: V8's fast API calls into node:wasi's imports corrupt the heap
    // once the calling code is hot (nodejs/node#53087, still in Node 20.20
    // here): bench/wasi_cycle.js, 320 tryLock+release per process, crashed
    // with SIGSEGV in 4 runs of 20; with them off, 0 of 20. The flag is
    // read when TurboFan optimizes, so setting it before any module runs
    // covers every call we make.
    require('node:v8').setFlagsFromString('--no-turbo-fast-api-calls');
    return require('node:wasi').WASI;
  } finally {
    process.emitWarning = emit;
  }
}

const heldLocks = new Set();
let exitHookInstalled = false;

function releaseOnExit() {
  for (const lock of heldLocks) {
    try {
      lock.release();
    } catch {
      // Exiting anyway: the entry is removed by the next contender that
      // proves this process dead.
    }
  }
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// A 64-bit counter of the module (fence, ticket) as the API returns it: a
// decimal string. A BigInt would be exact but breaks JSON.stringify; a Number
// loses precision past 2^53, and a fence read back wrong can let a stale
// holder's write through. The native command hands its job the fence as
// text too (ONLYONE_FENCE). Compare with BigInt(a) < BigInt(b).
function counterText(value) {
  return BigInt.asUintN(64, value).toString();
}

// Wakes a waiting acquisition when the lock directory changes, so that a
// waiter sees a release at once instead of at its next poll (fs.watch is
// inotify on Linux, like the native driver's directory watch). The module's
// polling pause stays as the safety net: a death makes no event that
// fs.watch reports (a wasm owner has no anchor, and libuv does not watch for
// the close of a native owner's anchor), nor does an owner on another host.
//
// The trap: a change between the start of a scan and the watch would go
// unseen, and the waiter would sleep through the release. So the watch
// exists before the first scan, and each scan is preceded by reset(): any
// change after that point wakes the next wait. Changes made by our own scan
// wake it once for nothing, which costs one scan.
class DirectoryChanges {
  // isRingEntry(name): whether a name is an entry of either ring.
  constructor(dir, isRingEntry) {
    this._isRingEntry = isRingEntry;
    this._changed = false;
    this._wake = null;
    this._target = '';
    try {
      this._watcher = fs.watch(dir, { persistent: false }, (event, name) => this._onEvent(name));
      this._watcher.on('error', () => this._stop());
    } catch {
      this._watcher = null;  // no watch (inotify limits, not Linux): poll
    }
  }

  // As the native driver's DrainEvents: a waiting scan reads only the
  // entries of the two rings (the module's onlyone_is_ring_entry says which
  // names those are), so only their changes can change its verdict; temporaries and anchors come and go around them. When the
  // module names the one entry that can let us in (our nearest predecessor,
  // or a doorway), only that entry's change is news: each waiter then wakes
  // for its own predecessor alone, not all of them for every hand-off (the
  // herd: 32 Node waiters each scanning 33 entries per event took 4.1 s to
  // drain against 0.56 s for native waiters). No name: the directory itself
  // changed, or events were lost.
  _onEvent(name) {
    const text = name === null || name === undefined ? '' : String(name);
    if (text !== '') {
      if (this._target !== '' ? text !== this._target : !this._isRingEntry(text)) return;
    }
    this._notify();
  }

  // The entry the next wait is about ('' for any), from onlyone_wait_name().
  target(name) {
    this._target = name;
  }

  _notify() {
    this._changed = true;
    if (this._wake !== null) this._wake();
  }

  _stop() {
    if (this._watcher !== null) this._watcher.close();
    this._watcher = null;
    this._notify();  // scan again now, then poll
  }

  // Forgets the changes so far: the scan that follows sees them.
  reset() {
    this._changed = false;
  }

  // Resolves at the first change since reset(), or after `ms` (the poll).
  next(ms) {
    if (this._changed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this._wake = null;
        resolve();
      }, ms);
      this._wake = () => {
        this._wake = null;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close() {
    if (this._watcher !== null) this._watcher.close();
    this._watcher = null;
    this._wake = null;
  }
}

class Lock {
  // Use tryLock() or lock(): they open the directory and run the protocol.
  constructor(name, options = {}) {
    if (!validName(name)) {
      throw new OnlyoneError('EINVAL', `onlyone: invalid lock name "${name}": use a non-empty name without '/', other than "." and ".."`);
    }
    const slots = options.slots === undefined ? 1 : options.slots;
    if (!Number.isInteger(slots) || slots < 1 || slots > SLOTS_MAX) {
      throw new OnlyoneError('EINVAL', `onlyone: slots must be an integer between 1 and ${SLOTS_MAX}`);
    }
    const leaseMs = options.leaseMs === undefined ? 0 : options.leaseMs;
    if (!Number.isInteger(leaseMs) || leaseMs < 0) throw new OnlyoneError('EINVAL', 'onlyone: leaseMs must be a non-negative integer');
    this.name = name;
    this.dir = path.resolve(options.dir || defaultLockDirectory());
    this.path = path.join(this.dir, name);
    this.slots = slots;
    this.leaseMs = leaseMs;
    // hostLiveness: false makes this host answer "unknown" for every other
    // owner, like a runtime that cannot check processes (host.h).
    this.hostLiveness = options.hostLiveness !== false;
    this.held = false;
    // The fencing token of the last acquisition (counterText), null before.
    this.fence = null;
    this._holder = null;
    this._message = '';
    this._busyWaiting = false;

    makeDirectory(this.dir);
    checkDirectory(this.dir, false);
    makeDirectory(this.path);
    checkDirectory(this.path, true);

    const WASI = loadWasi();
    this._wasi = new WASI({ version: 'preview1', preopens: { [SANDBOX_LOCK_DIR]: this.path }, returnOnExit: true });
    const imports = {
      wasi_snapshot_preview1: this._wasi.wasiImport,
      onlyone_host: {
        identity: (address) => this._writeIdentity(address),
        process_alive: (address) =>
          this.hostLiveness
            ? judgeOwner(this._readProcess(address), this.path, this._cString(this._exports.onlyone_anchor_name()))
            : Liveness.UNKNOWN,
      },
    };
    this._instance = new WebAssembly.Instance(compile(modulePath(options)), imports);
    this._exports = this._instance.exports;
    this._wasi.initialize(this._instance);

    const command = utf8Prefix(options.command === undefined ? process.argv.slice(1).join(' ') : options.command, COMMAND_BYTES_MAX);
    new Uint8Array(this._exports.memory.buffer, this._exports.onlyone_input(), command.length).set(command);
    if (this._check(this._exports.onlyone_configure(slots, BigInt(leaseMs), command.length), 'configure') !== Step.READY) {
      throw new OnlyoneError('EONLYONE', 'onlyone: the module did not configure');
    }
  }

  _view() {
    return new DataView(this._exports.memory.buffer);
  }

  _writeIdentity(address) {
    const me = localIdentity();
    const view = this._view();
    view.setUint32(address, me.pid, true);
    view.setUint32(address + 4, me.host.length, true);
    view.setBigUint64(address + 8, me.startTime, true);
    view.setBigUint64(address + 16, me.bootId.hi, true);
    view.setBigUint64(address + 24, me.bootId.lo, true);
    view.setBigUint64(address + 32, me.pidNamespace, true);
    new Uint8Array(this._exports.memory.buffer, address + PROCESS_HOST_OFFSET, me.host.length).set(me.host);
  }

  _readProcess(address) {
    const view = this._view();
    return {
      pid: view.getUint32(address, true),
      startTime: view.getBigUint64(address + 8, true),
      bootHi: view.getBigUint64(address + 16, true),
      bootLo: view.getBigUint64(address + 24, true),
      pidNamespace: view.getBigUint64(address + 32, true),
      nonceHi: view.getBigUint64(address + PROCESS_NONCE_OFFSET, true),
      nonceLo: view.getBigUint64(address + PROCESS_NONCE_OFFSET + 8, true),
    };
  }

  _text(address, bytes) {
    return Buffer.from(this._exports.memory.buffer, address, bytes).toString('utf8');
  }

  // Asks the module (core/names.h) rather than spelling the grammar here.
  _isRingEntry(name) {
    const bytes = Buffer.from(name, 'utf8');
    if (bytes.length > INPUT_BYTES_MAX) return false;
    new Uint8Array(this._exports.memory.buffer, this._exports.onlyone_input(), bytes.length).set(bytes);
    return this._exports.onlyone_is_ring_entry(bytes.length) === 1;
  }

  _cString(start) {
    const memory = new Uint8Array(this._exports.memory.buffer);
    let end = start;
    while (memory[end] !== 0) end += 1;
    return Buffer.from(memory.subarray(start, end)).toString('utf8');
  }

  _readMessage() {
    return this._cString(this._exports.onlyone_message());
  }

  _readHolder() {
    const address = this._exports.onlyone_blocker();
    if (address === 0) return null;
    const view = this._view();
    return {
      pid: view.getUint32(address, true),
      host: this._text(address + HOLDER_HOST_OFFSET, view.getUint32(address + 4, true)),
      command: this._text(address + HOLDER_COMMAND_OFFSET, view.getUint32(address + 8, true)),
      slots: view.getUint32(address + 12, true),
      sinceMs: Number(view.getBigUint64(address + 16, true)),
      ticket: counterText(view.getBigUint64(address + 24, true)),
    };
  }

  // Throws on kStepFailed; returns the step otherwise.
  _check(step, doing) {
    if (step === Step.FAILED) {
      this._message = this._readMessage();
      throw new OnlyoneError('EONLYONE', this._message || `onlyone: ${doing} failed`);
    }
    return step;
  }

  // Records the end of an acquisition.
  _settle(step) {
    this._check(step, 'acquire');
    if (step !== Step.ACQUIRED && step !== Step.BUSY) {
      throw new OnlyoneError('EONLYONE', `onlyone: acquire ended with step ${step}`);
    }
    if (step === Step.ACQUIRED) {
      this.held = true;
      this.fence = counterText(this._exports.onlyone_fence());
      this._holder = null;
      this._message = '';
      heldLocks.add(this);
      if (!exitHookInstalled) {
        process.on('exit', releaseOnExit);
        exitHookInstalled = true;
      }
    } else if (step === Step.BUSY) {
      this._holder = this._readHolder();
      const h = this._holder;
      this._message = h === null
        ? `onlyone: lock "${this.name}" is busy`
        : `onlyone: lock "${this.name}" is held by pid ${h.pid}${h.command ? ` (${h.command})` : ''} on ${h.host} since ${new Date(h.sinceMs).toISOString()}`;
    }
    return this.held;
  }

  _tryAcquire() {
    // Try once; only a contender in its doorway makes the core pause, for a
    // few file operations: waited out synchronously.
    let step = this._check(this._exports.onlyone_acquire(0n), 'acquire');
    while (step === Step.PAUSE) {
      sleepSync(this._exports.onlyone_pause_ms());
      step = this._check(this._exports.onlyone_resume(), 'acquire');
    }
    return this._settle(step);
  }

  async _acquire(timeoutMs) {
    const changes = timeoutMs === 0 ? null : new DirectoryChanges(this.path, (name) => this._isRingEntry(name));
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    try {
      changes?.reset();
      let step = this._check(this._exports.onlyone_acquire(BigInt(timeoutMs)), 'acquire');
      while (step === Step.PAUSE) {
        const pauseMs = this._exports.onlyone_pause_ms();
        if (changes === null) {
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        } else {
          changes.target(this._cString(this._exports.onlyone_wait_name()));
          // The module's pause ends at its deadline, which is a little later
          // than ours: past ours, its pause is what is left.
          const leftMs = deadline - performance.now();
          await changes.next(leftMs > 0 ? Math.min(WAIT_SAFETY_NET_MS, leftMs) : pauseMs);
        }
        changes?.reset();
        step = this._check(this._exports.onlyone_resume(), 'acquire');
      }
      return this._settle(step);
    } finally {
      changes?.close();
    }
  }

  _afterHolding(step, doing, expected) {
    if (step === Step.LOST) {
      this.held = false;
      heldLocks.delete(this);
      this._message = this._readMessage();
      return false;
    }
    try {
      this._check(step, doing);
      if (step !== expected) throw new OnlyoneError('EONLYONE', `onlyone: ${doing} ended with step ${step}, not ${expected}`);
    } catch (error) {
      if (doing === 'release') {
        this.held = false;
        heldLocks.delete(this);
      }
      throw error;
    }
    return true;
  }

  // true: released. false: the lock had been taken from us (status() says).
  release() {
    if (!this.held) throw new OnlyoneError('EINVAL', `onlyone: lock "${this.name}" is not held`);
    const step = this._exports.onlyone_release();
    const released = this._afterHolding(step, 'release', Step.RELEASED);
    if (released) {
      this.held = false;
      heldLocks.delete(this);
    }
    return released;
  }

  // Reads our entry back: true while it is intact.
  validate() {
    if (!this.held) throw new OnlyoneError('EINVAL', `onlyone: lock "${this.name}" is not held`);
    return this._afterHolding(this._exports.onlyone_validate(), 'validate', Step.HELD);
  }

  // Validates, then rewrites our entry's `seen` time, so that contenders
  // using leaseMs do not expire us. Call it well within their lease.
  refresh() {
    if (!this.held) throw new OnlyoneError('EINVAL', `onlyone: lock "${this.name}" is not held`);
    return this._afterHolding(this._exports.onlyone_refresh(), 'refresh', Step.HELD);
  }

  // Plain data (strings, numbers, booleans, null): JSON.stringify works on
  // it, and on the Lock itself (toJSON).
  status() {
    return {
      name: this.name,
      dir: this.dir,
      path: this.path,
      held: this.held,
      fence: this.fence,
      slots: this.slots,
      holder: this._holder === null ? null : { ...this._holder },
      message: this._message,
    };
  }

  toJSON() {
    return this.status();
  }
}

// One attempt. Returns a Lock: `held` says whether we got it; if not,
// status().holder and status().message name the holder.
// options: dir (default $ONLYONE_DIR, else /run/onlyone for root, else
// $XDG_RUNTIME_DIR/onlyone, else ~/.cache/onlyone), slots (1), leaseMs (0:
// never expire owners we cannot check), command (shown by `onlyone status`),
// hostLiveness (true), module (path of onlyone.wasm).
function tryLock(name, options = {}) {
  const lock = new Lock(name, options);
  lock._tryAcquire();
  return lock;
}

// Waits up to options.timeoutMs (default: forever) without blocking the event
// loop; resolves to a Lock whose `held` is false if the time ran out.
async function lock(name, options = {}) {
  const timeoutMs = options.timeoutMs === undefined ? -1 : options.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < -1) {
    throw new OnlyoneError('EINVAL', 'onlyone: timeoutMs must be a non-negative integer (or -1: forever)');
  }
  const result = new Lock(name, options);
  await result._acquire(timeoutMs);
  return result;
}

module.exports = {
  tryLock,
  lock,
  Lock,
  OnlyoneError,
  // Not part of the API (no types, no promises): the host's liveness rules,
  // for the tests.
  _internals: { judgeOwner, localIdentity, parseStartTime, Liveness },
};
