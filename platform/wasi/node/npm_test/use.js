// A user's script in a project that installed the packed onlyone package:
// takes a lock, is refused a second time, serializes what it got, releases.
//
//   node use.js LOCK_DIR
'use strict';

const assert = require('node:assert');
const onlyone = require('onlyone');

const dir = process.argv[2];
const lock = onlyone.tryLock('npm-package', { dir });
assert.strictEqual(lock.held, true, lock.status().message);
const second = onlyone.tryLock('npm-package', { dir });
assert.strictEqual(second.held, false);
assert.strictEqual(second.status().holder.pid, process.pid);
JSON.stringify([lock, second, lock.status(), second.status()]);
assert.strictEqual(lock.release(), true);
const third = onlyone.tryLock('npm-package', { dir });
assert.strictEqual(third.held, true, 'not acquired after the release');
assert.ok(BigInt(third.fence) > BigInt(lock.fence));
third.release();
process.stdout.write(`took and released npm-package (fence ${lock.fence}, then ${third.fence})\n`);
