// onlyone::Backend: the lock contract every backend keeps, whatever holds
// the lock: a lock directory on this host (platform/posix/backend.h, over
// onlyone::Lock) or a ZooKeeper ensemble (platform/zookeeper/backend.h, over
// ZkLock). The command drives any of them through this interface, and one
// typed suite (tests/backend/contract_test.cc) holds each to it.
//
// The contract:
//  - TryAcquire: one attempt; busy names the holder (status().holder).
//  - Acquire(timeout_ms): waits up to timeout_ms (kWaitForever: no limit),
//    then is busy; Cancel() (async-signal-safe) ends the wait as kCancelled.
//  - slots = k: at most k holders at a time.
//  - fence(): a token that strictly increases from one holding to the next.
//  - Validate(): true while the holding is intact; false with kLost once it
//    was taken from us (our entry or node removed), false when not held.
//  - CheckHold(): the lost-lock notification of a supervisor: never blocks,
//    says when to call again, and kLost (with why) once the holding is gone
//    or can no longer be vouched for.
//  - List(): the lock's holders and waiters, holders first.
//
// Adding a backend: a folder under platform/ that implements Backend, one
// BackendKind in the command (cli/backends.cc, ChooseBackend), and one
// Backends type in the suite's list.
#ifndef ONLYONE_PLATFORM_BACKEND_H_
#define ONLYONE_PLATFORM_BACKEND_H_

#include <stdint.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace onlyone {

// Timeouts: wait forever. The one spelling of it (the C API's
// ONLYONE_WAIT_FOREVER is checked equal to it where the two meet).
constexpr int64_t kWaitForever = -1;

// One contender of a lock: a holder or a waiter.
struct Holder {
  uint32_t pid = 0;
  std::string host;
  std::string command;
  uint64_t since_ms = 0;  // wall clock (ms since the epoch) when it started
  uint64_t ticket = 0;    // 0 while choosing (ZooKeeper: the node's sequence)
  uint32_t slots = 1;
  bool holding = false;      // among the first `slots` live tickets
  bool alive_known = false;  // liveness could be checked
  bool alive = true;         // meaningful when alive_known
  // The owner process (pid) is gone, yet the lock is held: processes of the
  // job it ran still hold its liveness anchor or run in its job's process
  // group (see Lock::RecordJobGroup). job_pids names them, as far as /proc
  // shows them to us (another user's processes only to root).
  bool owner_gone = false;
  std::vector<uint32_t> job_pids;
};

// Why an operation failed, in terms that hold for every backend. A caller
// maps these to what it reports (the command: exit codes); the backend's own
// detail stays in BackendStatus's os_error, server_code and message.
enum class BackendError : uint8_t {
  kNone = 0,
  kBusy,               // held by `slots` others: try once, or the wait limit passed
  kCancelled,          // Cancel() while waiting
  kInvalidArgument,    // bad name, path, connect string or slots
  kLost,               // our holding was taken from us (entry or node removed)
  kUnsafeDirectory,    // the lock's directory failed a safety check (mode, owner)
  kIo,                 // the storage failed (see os_error)
  kIncompatibleEntry,  // an entry written by a newer onlyone
  kFenceCorrupt,       // the fence counter cannot be read
  kPermission,         // the lock service refused us (ACL, authentication)
  kUnreachable,        // no server of the lock service answered
  kNoChroot,           // the connect string's chroot does not exist
  kSessionTooShort,    // the granted session leaves no time to stop the work safely
  kSessionExpired,     // the session the holding lived in expired
  kServer,             // any other error of the lock service (see server_code)
};

const char* BackendErrorName(BackendError error);

struct BackendStatus {
  BackendError error = BackendError::kNone;
  int os_error = 0;         // errno, where one applies
  int server_code = 0;      // the lock service's own code (ZooKeeper's rc), where one applies
  std::string message;      // one line: what happened and what to do
  bool has_holder = false;  // kBusy: who holds it
  Holder holder;
  // Our entry could not be removed after a failure (EIO, EROFS): it blocks
  // others until this process exits. See core/contender.h.
  bool entry_left_behind = false;
};

// The status as one line for a message: its message without a leading
// "onlyone: " (the library's own prefix, which a caller adds itself), or
// the error's name and errno text when there is no message.
std::string DescribeBackendStatus(const BackendStatus& status);

// Thread safety: one thread uses a Backend, except Cancel().
class Backend {
 public:
  virtual ~Backend() = default;

  virtual const std::string& name() const = 0;
  // Where the lock lives, for messages: "in /run/onlyone", "on ZooKeeper ...".
  virtual std::string where() const = 0;

  virtual bool TryAcquire() = 0;
  virtual bool Acquire(int64_t timeout_ms) = 0;
  // true: released. false: see status() (kLost: it had been taken from us).
  virtual bool Release() = 0;
  // Interrupts a waiting Acquire. REQUIRES: async-signal-safe.
  virtual void Cancel() = 0;
  // Called about once a second while Acquire waits: the holder (if known)
  // and the time waited so far.
  virtual void set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) = 0;
  // The fencing token of the current holding (0 when not held).
  virtual uint64_t fence() const = 0;
  // Asks the lock's storage whether our holding is intact (one round trip).
  virtual bool Validate() = 0;
  // The outcome of the last call.
  virtual const BackendStatus& status() const = 0;

  // The lost-lock notification, for a supervisor that runs work while
  // holding. Never blocks for long. kLost: *why says why. *next_check_ms:
  // call again within this many ms, or earlier when wake_fd() (if not -1)
  // is readable.
  enum class Hold : uint8_t { kHeld, kLost };
  virtual Hold CheckHold(std::string* why, int64_t* next_check_ms) = 0;
  virtual int wake_fd() const { return -1; }
  // When to call CheckHold first, in ms after the holding began.
  virtual int64_t first_check_ms() const = 0;

  // The lock's holders and waiters, holders first (`status`).
  virtual bool List(std::vector<Holder>* entries) = 0;

  // The work's share of the lock, so that it stays held while the work runs
  // even if the holder process is killed (see platform/posix/job.h): the
  // descriptor a child inherits (-1: none), and its process group, recorded
  // once it exists. false: *why says what is not covered. A lock that lives
  // in a session on a server cannot be shared: none.
  virtual int job_fd() const { return -1; }
  virtual bool RecordJobGroup(pid_t group_id, std::string* why) {
    (void)group_id;
    (void)why;
    return true;
  }
  // The time the holder has to stop its work once CheckHold says kLost:
  // `wanted_ms`, or less when the backend had to fit it (a short session).
  virtual int64_t stop_margin_ms(int64_t wanted_ms) const { return wanted_ms; }
};

}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_BACKEND_H_
