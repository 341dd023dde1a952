// A TypeScript user of the package: must type-check against onlyone.d.ts
// (tsc --noEmit --strict).
import { lock, tryLock, Lock, LockOptions, LockStatus, OnlyoneError } from 'onlyone';

const options: LockOptions = { dir: '/run/user/1000/onlyone', slots: 2, leaseMs: 0, command: 'report' };
const held: Lock = tryLock('report', options);
if (held.held) {
  const fence: bigint = BigInt(held.fence ?? '0');
  const status: LockStatus = held.status();
  const text: string = JSON.stringify(held) + status.message + fence.toString();
  const intact: boolean = held.validate() && held.refresh();
  const released: boolean = held.release();
  if (!intact || !released || text === '') throw new OnlyoneError('EONLYONE', 'lost');
} else if (held.status().holder !== null) {
  const ticket: string = held.status().holder!.ticket;
  const since: Date = new Date(held.status().holder!.sinceMs);
  if (ticket === '' || since.getTime() < 0) throw new Error('impossible');
}

async function waitForIt(): Promise<string | null> {
  const waited = await lock('report', { timeoutMs: 30000, slots: 1 });
  return waited.held ? waited.fence : null;
}

void waitForIt().catch((error: unknown) => {
  if (error instanceof OnlyoneError) throw new Error(error.code);
});
