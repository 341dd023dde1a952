// Type declarations of onlyone for Node.js (onlyone.js): the whole API.
// Every value the API returns is plain JSON data: 64-bit counters (fence,
// ticket) are decimal strings; compare them with BigInt(a) < BigInt(b).

/** Options of tryLock() and lock(). */
export interface LockOptions {
  /**
   * The lock directory; the lock NAME is the directory DIR/NAME. Default:
   * $ONLYONE_DIR, else /run/onlyone for root, else $XDG_RUNTIME_DIR/onlyone,
   * else ~/.cache/onlyone (the same as the onlyone command).
   */
  dir?: string;
  /** At most this many holders at once, 1 to 1024. Default 1. */
  slots?: number;
  /**
   * Milliseconds after which an entry whose owner cannot be checked (another
   * host, another PID namespace) and that was not refreshed counts as dead.
   * 0 (the default): never.
   */
  leaseMs?: number;
  /** What `onlyone status` shows for this holder. Default: this process's argv. */
  command?: string;
  /**
   * false: judge no other owner's liveness (every owner is "unknown"), like a
   * runtime that cannot see processes; then only leaseMs expires entries.
   * Default true.
   */
  hostLiveness?: boolean;
  /** Path of onlyone.wasm. Default: $ONLYONE_WASM, else the one in this package. */
  module?: string;
}

/** Options of lock(): LockOptions and how long to wait. */
export interface WaitOptions extends LockOptions {
  /** Give up after this many milliseconds; -1 (the default): wait forever. */
  timeoutMs?: number;
}

/** Who holds the lock (or is ahead of us in the queue), after a busy attempt. */
export interface Holder {
  pid: number;
  host: string;
  command: string;
  /** The holder's slot count. */
  slots: number;
  /** When it took its entry: milliseconds since the epoch. */
  sinceMs: number;
  /** Its place in the queue: a 64-bit counter as a decimal string. */
  ticket: string;
}

/** A Lock's state as plain data: JSON.stringify works on it. */
export interface LockStatus {
  name: string;
  dir: string;
  /** The lock's own directory, dir/name. */
  path: string;
  held: boolean;
  /** The fencing token of the last acquisition (a decimal string), null before one. */
  fence: string | null;
  slots: number;
  /** After a busy attempt: who holds; null otherwise. */
  holder: Holder | null;
  /** What happened, for humans: who holds, or why the lock was lost. */
  message: string;
}

/** One contender on one lock. Get one from tryLock() or lock(). */
export class Lock {
  /** Use tryLock() or lock(): they run the protocol. */
  constructor(name: string, options?: LockOptions);
  readonly name: string;
  /** The lock directory (absolute). */
  readonly dir: string;
  /** dir/name. */
  readonly path: string;
  readonly slots: number;
  readonly leaseMs: number;
  readonly hostLiveness: boolean;
  /** Whether we hold the lock now. */
  readonly held: boolean;
  /**
   * The fencing token of the last acquisition: larger than every earlier
   * holder's, native or not. A decimal string (64 bits); null before one.
   */
  readonly fence: string | null;
  /** Releases the lock. true: released; false: it had been taken from us (status() says why). */
  release(): boolean;
  /** Reads our entry back: true while it is intact, false if the lock was lost. */
  validate(): boolean;
  /** validate(), then rewrites our entry's `seen` time for contenders that use leaseMs. */
  refresh(): boolean;
  status(): LockStatus;
  /** status(): JSON.stringify(lock) works. */
  toJSON(): LockStatus;
}

/**
 * Codes: EINVAL (a bad argument, or releasing a lock not held), EUNSAFE (the
 * lock directory is a symlink, not ours, or writable by others), EIO and the
 * system's codes (EACCES, ...) for directories it cannot stat or create,
 * EONLYONE (the protocol failed: the message says why).
 */
export class OnlyoneError extends Error {
  constructor(code: string, message: string);
  code: string;
}

/** One attempt; never waits for the holder. `held` says whether we got it. */
export function tryLock(name: string, options?: LockOptions): Lock;

/**
 * Waits for the lock without blocking the event loop (first come, first
 * served); resolves to a Lock whose `held` is false if timeoutMs passed.
 */
export function lock(name: string, options?: WaitOptions): Promise<Lock>;
