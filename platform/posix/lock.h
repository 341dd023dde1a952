// onlyone::Lock: the lock protocol on a real POSIX file system, as an RAII
// guard for programs that guard themselves (the C++ face of the library; the
// C API in onlyone.h wraps it).
//
//   onlyone::LockOptions options;          // default directory, one slot
//   onlyone::Lock lock("nightly-backup", options);
//   if (!lock.TryAcquire()) {
//     fprintf(stderr, "%s\n", lock.status().message.c_str());  // says who holds it
//     return 75;
//   }
//   ... lock.fence() is this holding's fencing token ...
//   // released by the destructor, or explicitly with lock.Release()
//
// A lock named NAME is the directory DIR/NAME, where DIR is LockOptions::dir
// or DefaultLockDirectory(). Every operation is relative to an open
// descriptor of that directory (no check-then-use on paths), and every
// descriptor is O_CLOEXEC: a child started by exec never inherits the lock.
//
// Thread safety: a Lock is used by one thread at a time, except Cancel(),
// which may be called from any thread or a signal handler.
#ifndef ONLYONE_PLATFORM_POSIX_LOCK_H_
#define ONLYONE_PLATFORM_POSIX_LOCK_H_

#include <stdint.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "platform/backend.h"

namespace onlyone {

enum class LockError : uint8_t {
  kNone = 0,
  kBusy,               // held by `slots` others: try mode, or the timeout passed
  kCancelled,          // Cancel() was called while waiting
  kInvalidArgument,    // bad name (empty, '/', "." or ".."), slots out of range
  kUnsafeDirectory,    // the directory failed a safety check (see message)
  kIo,                 // a file system operation failed (see os_error)
  kIncompatibleEntry,  // an entry written by a newer onlyone
  kFenceCorrupt,       // the fence counter cannot be read
  kLost,               // our entry was removed while we held the lock
};

const char* LockErrorName(LockError error);

// Holder (one entry of a lock) and kWaitForever are platform/backend.h's.

// For an owner whose job keeps the lock (Holder::owner_gone): "pid 4242 is
// gone; its job's processes still hold the lock: 4250, 4251"; else "".
std::string JobHoldsText(const Holder& holder);

struct LockStatus {
  LockError error = LockError::kNone;
  int os_error = 0;         // errno, for kIo and kUnsafeDirectory
  std::string message;      // one line: what happened and what to do
  bool has_holder = false;  // kBusy: who holds it (the smallest live ticket)
  Holder holder;
  // The lock's entry of ours could not be removed after a failure (EIO,
  // EROFS): it blocks others until this process exits. See core/contender.h.
  bool entry_left_behind = false;
};

struct LockOptions {
  std::string dir;     // parent directory of locks; empty: DefaultLockDirectory()
  uint32_t slots = 1;  // at most this many holders
  // Expire Unknown (unverifiable) owners after this; 0: never. Under a lease,
  // refresh well within lease_ms. A waiter's record is not refreshed while
  // it waits: one that waits past lease_ms may be removed by others, so it
  // does not take the lock on that record but queues again, last, under a
  // new nonce (docs/verify.md, "What a lease does not give you"). A lease
  // also costs a reused Lock its kept anchor: each acquisition makes a new
  // one, under a new nonce (lock.cc says why).
  uint64_t lease_ms = 0;
  // The parent directory may be shared by several users: it must then be
  // sticky (like /tmp) instead of private to us; each lock directory inside
  // stays owned by whoever created it and mode 0755 instead of 0700.
  bool shared_dir = false;
  std::string command;  // summary of the guarded work, shown by status
};

// The parent directory used when LockOptions::dir is empty: /run/onlyone for
// root, else $XDG_RUNTIME_DIR/onlyone, else ~/.cache/onlyone ($ONLYONE_DIR is
// the command's business, not the library's).
std::string DefaultLockDirectory();

class Lock {
 public:
  // Does not touch the file system.
  Lock(std::string name, LockOptions options);
  // Releases the lock if held.
  ~Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  Lock(Lock&& other) noexcept;
  Lock& operator=(Lock&& other) noexcept;

  // One attempt. true: held. false: see status() (kBusy names the holder).
  bool TryAcquire();
  // Waits up to timeout_ms (kWaitForever: no limit). On Linux it sleeps on
  // the anchor of the entry it queues behind (woken by that owner's release
  // or death alone), or on changes of the directory while someone is in the
  // doorway or with k slots; it never busy-polls there.
  bool Acquire(int64_t timeout_ms);
  // true: released. false with kLost: it had been taken from us.
  bool Release();
  // Reads our entry back: true while it is intact; false with kLost if not.
  // With LockOptions::lease_ms, also false with kLost once our own lease ran
  // out (our entry is then removed: others may already have judged it
  // expired).
  bool Validate();
  // Validate, then rewrite our entry with a fresh `seen` time, so that others
  // using LockOptions::lease_ms do not expire us (they do only to owners they
  // cannot check, e.g. on another host). Call it well within lease_ms: a
  // rewrite that lands after the lease it renews ran out counts as lost.
  bool Refresh();
  // Interrupts a waiting Acquire from another thread or a signal handler
  // (async-signal-safe); Acquire then fails with kCancelled.
  void Cancel();
  // Called about once a second while Acquire waits, with the current holder
  // (if known) and the time waited so far: for a terminal status line.
  void set_wait_observer(std::function<void(const Holder* holder, uint64_t waited_ms)> observer);

  // For a supervisor that runs a job while holding (the onlyone command):
  // the descriptor that holds this holding's kernel lock, or -1 when not
  // held. A child that inherits it (clear FD_CLOEXEC in the child only)
  // shares the kernel lock, so the lock stays held while that child lives,
  // even after this process was killed; Release() drops the kernel lock for
  // every process sharing it, so leftovers of a job that ended normally do
  // not keep the lock.
  int anchor_fd() const;
  // For the same supervisor: records the job's process group (of this
  // session, led by a child of ours) in the lock, so that if this process
  // dies without releasing, the lock stays held while a live process of
  // that group remains, even one that closed the descriptor above. false:
  // see status() (the lock is still held either way).
  bool RecordJobGroup(int process_group);

  bool held() const;
  uint64_t fence() const;            // token of the current holding
  const LockStatus& status() const;  // outcome of the last call
  const std::string& name() const;
  std::string path() const;  // the lock's directory

  // Holders and waiters of lock `name`, holders first; dead owners' entries
  // are reported (alive = false), not removed. false: see *status.
  static bool List(const std::string& name, const LockOptions& options,
                   std::vector<Holder>* entries, LockStatus* status);
  // Names of the locks in the parent directory.
  static bool ListNames(const LockOptions& options, std::vector<std::string>* names,
                        LockStatus* status);

 private:
  bool HoldingCheck(bool refresh);

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_POSIX_LOCK_H_
