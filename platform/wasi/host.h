// The onlyone WebAssembly module's ABI: what the host must import into it
// (module "onlyone_host") and what the module exports. This header is the
// contract; platform/wasi/node/onlyone.js is one host that implements it.
//
// Why host imports at all: WASI preview1 has no getpid, no flock and no
// /proc, so a sandboxed contender can neither say who it is in terms a
// native process can check, nor judge whether another owner is alive. The
// host (the runtime that instantiates the module) can, and lends both.
//
// Memory: the module has no allocator and never grows its memory; every
// buffer below is a fixed static area of the module's linear memory, whose
// address an export returns. All integers are little-endian (wasm32).
//
// ---------------------------------------------------------------------------
// Imports, module "onlyone_host":
//
//   identity(out: i32)              -> void
//     Writes the caller's own HostProcess at `out`: the host process's real
//     pid, its start time in the same units as native records (Linux: field
//     22 of /proc/self/stat, clock ticks since boot), boot id, PID namespace
//     inode and host name. A native prober then judges a sandboxed owner
//     exactly like a native one (its tier 2: pid and start time). Unknown
//     facts are 0 (boot id all zero, namespace 0): the owner is then
//     Unknown to everyone, never Dead.
//
//   process_alive(owner: i32)       -> i32
//     Judges the HostProcess at `owner` (another entry's owner):
//     0 alive, 1 dead, 2 unknown (the values of onlyone::Liveness).
//     1 only on proof: a different boot id, or, in the host's own boot and
//     PID namespace, no process with that pid and start time. A host that
//     cannot check answers 2 for everything; then only an explicit lease
//     (onlyone_configure's lease_ms) can expire an unrefreshed entry.
//     The POSIX driver's first tier, the flock of the owner's anchor
//     "k.<nonce>" in the lock directory, has no WASI call. A host that can
//     see it held (Linux: /proc/locks) must answer 0 whatever the pid says:
//     a native `onlyone` killed with SIGKILL leaves its command running
//     under a watchdog that keeps that flock until the command is dead.
//
// Waiting is not imported: WASI preview1 has no inotify and a blocking
// poll_oneoff would freeze a JavaScript host's event loop. The module returns
// kStepPause with a pause (polling with a bounded backoff, kPollFirstPauseMs
// doubling to kPollLongestPauseMs); the host sleeps as it likes (setTimeout,
// Atomics.wait) and calls onlyone_resume. A host that can watch the
// directory may resume earlier, at the first change of the entry
// onlyone_wait_name() names (any entry when it names none), as the POSIX
// driver's inotify wait does; the pause is then only its safety net.
//
// WASI functions used (wasi_snapshot_preview1): fd_prestat_get, path_symlink,
// path_readlink, path_rename, path_unlink_file, fd_readdir, clock_time_get,
// random_get; and, to show a native holder's host and command, which its
// record leaves to its anchor file: path_filestat_get, path_open, fd_read,
// fd_close. The lock directory is the first preopened directory (fd 3).
//
// ---------------------------------------------------------------------------
// Exports:
//
//   memory, _initialize                       (a WASI reactor)
//   onlyone_input() -> i32                    address of kInputBytesMax bytes
//                                             the host writes text into
//   onlyone_configure(slots: i32, lease_ms: i64, command_bytes: i32) -> i32
//       the command summary is the first command_bytes of the input area;
//       returns kStepReady or kStepFailed (bad slots, no preopened directory)
//   onlyone_acquire(timeout_ms: i64) -> i32   0: try once; -1: forever
//   onlyone_resume() -> i32                   after kStepPause
//   onlyone_release() -> i32
//   onlyone_validate() -> i32                 kStepHeld or kStepLost
//   onlyone_refresh() -> i32                  validate, then rewrite `seen`
//   onlyone_pause_ms() -> i32                 after kStepPause: how long
//   onlyone_wait_name() -> i32                after kStepPause: address of
//                                             the NUL-terminated name of the
//                                             one entry whose change can let
//                                             us in, or of "" (any change)
//   onlyone_is_ring_entry(bytes: i32) -> i32  1 if the first `bytes` of the
//                                             input area name an entry of
//                                             either ring (core/names.h)
//   onlyone_anchor_name() -> i32              during process_alive: address
//                                             of the NUL-terminated name of
//                                             the probed owner's anchor
//   onlyone_fence() -> i64                    after kStepAcquired
//   onlyone_blocker() -> i32                  address of a HostHolder, or 0
//   onlyone_message() -> i32                  address of a NUL-terminated
//                                             line saying what failed
//
// Every call that runs the protocol returns a StepCode.
#ifndef ONLYONE_PLATFORM_WASI_HOST_H_
#define ONLYONE_PLATFORM_WASI_HOST_H_

#include <stddef.h>
#include <stdint.h>

#include "core/record.h"

namespace onlyone {
namespace wasi {

// The text area the host writes into (the command summary).
constexpr uint32_t kInputBytesMax = 256;
// Polling backoff while waiting (see above): first and longest pause.
constexpr uint32_t kPollFirstPauseMs = 5;
constexpr uint32_t kPollLongestPauseMs = 250;

enum StepCode : int32_t {
  kStepReady = 0,     // configured; nothing running
  kStepAcquired = 1,  // we hold a slot; onlyone_fence() is our token
  kStepBusy = 2,      // not acquired (try once, or the timeout passed)
  kStepPause = 3,     // waiting: sleep onlyone_pause_ms(), then onlyone_resume()
  kStepReleased = 4,  // our entry is gone
  kStepHeld = 5,      // validate/refresh: still ours
  kStepLost = 6,      // our entry had been removed by someone else
  kStepFailed = 7,    // see onlyone_message()
};

// A process, as the host describes it. Layout fixed (offsets below).
struct HostProcess {
  uint32_t pid;              //  0
  uint32_t host_bytes;       //  4: used bytes of `host`
  uint64_t start_time;       //  8: Linux: /proc/PID/stat field 22
  uint64_t boot_id_hi;       // 16: /proc/sys/kernel/random/boot_id, first 16 hex
  uint64_t boot_id_lo;       // 24: ... last 16 hex digits
  uint64_t pid_namespace;    // 32: inode of /proc/self/ns/pid
  char host[kHostBytesMax];  // 40: host name, not NUL-terminated
  uint64_t nonce_hi;         // 104: process_alive: the entry's nonce, which
  uint64_t nonce_lo;         // 112: names its anchor k.<32 hex> (identity: unused)
};
static_assert(offsetof(HostProcess, start_time) == 8, "ABI: start_time at 8");
static_assert(offsetof(HostProcess, boot_id_hi) == 16, "ABI: boot_id_hi at 16");
static_assert(offsetof(HostProcess, pid_namespace) == 32, "ABI: pid_namespace at 32");
static_assert(offsetof(HostProcess, host) == 40, "ABI: host at 40");
static_assert(offsetof(HostProcess, nonce_hi) == 40 + kHostBytesMax, "ABI: nonce_hi at 104");
static_assert(sizeof(HostProcess) == 56 + kHostBytesMax, "ABI: HostProcess size");

// Who holds (or is ahead of us), after kStepBusy. Layout fixed.
struct HostHolder {
  uint32_t pid;                    //  0
  uint32_t host_bytes;             //  4
  uint32_t command_bytes;          //  8
  uint32_t slots;                  // 12
  uint64_t since_ms;               // 16: wall clock, ms since the epoch
  uint64_t ticket;                 // 24
  char host[kHostBytesMax];        // 32
  char command[kCommandBytesMax];  // 32 + kHostBytesMax
};
static_assert(offsetof(HostHolder, since_ms) == 16, "ABI: since_ms at 16");
static_assert(offsetof(HostHolder, host) == 32, "ABI: host at 32");
static_assert(offsetof(HostHolder, command) == 32 + kHostBytesMax, "ABI: command offset");

}  // namespace wasi
}  // namespace onlyone

#if defined(__wasm__)
extern "C" {
__attribute__((import_module("onlyone_host"), import_name("identity"))) void onlyone_host_identity(
    onlyone::wasi::HostProcess* out);
__attribute__((import_module("onlyone_host"), import_name("process_alive"))) int32_t
onlyone_host_process_alive(const onlyone::wasi::HostProcess* owner);
}
#endif

#endif  // ONLYONE_PLATFORM_WASI_HOST_H_
