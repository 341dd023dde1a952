// onlyone::zookeeper::ZkLock: the lock contract (try once, wait, slots,
// fence, release, lost-lock detection) on a ZooKeeper ensemble, with the
// standard recipe (see lock_node.h) and the multi-threaded C client.
//
//   ZkOptions options;
//   options.connect = "zk1:2181,zk2:2181/app";     // validated by ParseConnectString
//   options.lock_path = "/onlyone/locks/backup";
//   options.stop_margin_ms = 10000;                 // time the caller needs to stop its work
//   ZkLock lock(options);
//   if (!lock.TryAcquire()) ... lock.status() says why (kBusy names the holder)
//   ... lock.fence() is the holder node's creation zxid ...
//   while working: lock.CheckHold(...) until it says kLost
//
// Round trips (each one request and its reply): acquiring a free lock is 2,
// create (EPHEMERAL_SEQUENTIAL, whose reply carries the node's Stat and so
// the fence) and getChildren; a lock path whose parents do not exist yet
// costs one create per missing parent, once. Releasing is 1 (delete).
//
// Session safety. While we hold, the ensemble keeps our node only as long as
// our session lives; it expires a session it has not heard from for the
// session timeout T. While disconnected we cannot know whether it expired,
// so we track the last moment the server provably heard from us: the send
// time of the latest request that was answered (a heartbeat every
// min(T/10, 1 s) while holding). The server cannot expire us before
// last_contact + T. CheckHold reports kLost once
//     now >= last_contact + T - stop_margin_ms - kSessionSafetySlackMs,
// so the caller, given stop_margin_ms to stop its work (SIGTERM, grace,
// SIGKILL), is done before anyone else can acquire. The slack covers a
// follower that dies before forwarding our last contact to the leader (up
// to one server tick, 2 s by default) and our own scheduling. A disconnection
// shorter than T - stop_margin_ms - kSessionSafetySlackMs (the "tolerance")
// is ridden out; SESSION_EXPIRED or the deletion of our node is kLost at once.
//
// Thread safety: one thread uses a ZkLock, except Cancel(), which may be
// called from any thread or a signal handler. The C client's own threads
// only touch atomics and write to a pipe.
#ifndef ONLYONE_PLATFORM_ZOOKEEPER_ZK_LOCK_H_
#define ONLYONE_PLATFORM_ZOOKEEPER_ZK_LOCK_H_

#include <stdint.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "platform/backend.h"
#include "platform/zookeeper/lock_node.h"

namespace onlyone {
namespace zookeeper {

// Timeouts take platform/backend.h's kWaitForever: no limit.
using onlyone::kWaitForever;
constexpr int64_t kSessionTimeoutMsDefault = int64_t{30} * 1000;
// See "Session safety" above.
constexpr int64_t kSessionSafetySlackMs = 2000;
// The shortest tolerance we accept: below it, a routine leader election
// would stop the command.
constexpr int64_t kToleranceMsMin = 1000;
// Connecting gives up after the session timeout or this, whichever is less.
constexpr int64_t kConnectTimeoutMsMax = int64_t{10} * 1000;
constexpr int64_t kHeartbeatIntervalMsMax = 1000;
constexpr int64_t kHeartbeatsPerSessionTimeout = 10;
// Node data we read: our records are under 1 KiB; others' are cut here.
constexpr int kNodeDataBytesMax = 1024;
// Default parent of lock nodes: the lock NAME is /onlyone/locks/NAME.
constexpr const char* kDefaultLockRoot = "/onlyone/locks";

// The stop margin for a granted session timeout when the caller wants
// `wanted_ms` but can do with less: what the timeout leaves after the safety
// slack, split evenly between the margin and the tolerance, and at most
// `wanted_ms` (granted 30 s, wanted 10 s: 10 s; granted 10 s: 4 s, leaving
// 4 s of tolerance). An even split, rather than lowering the margin only as
// far as the tolerance minimum, keeps a short session from turning every
// leader election into a stopped command. -1 when the halves would be under
// kToleranceMsMin (a granted timeout under 4 s).
int64_t FitStopMarginMs(int64_t granted_timeout_ms, int64_t wanted_ms);

enum class ZkError : uint8_t {
  kNone = 0,
  kBusy,             // held by `slots` others: try mode, or the timeout passed
  kCancelled,        // Cancel() while waiting
  kInvalidArgument,  // bad connect string, lock path or slots
  kUnreachable,      // no server of the ensemble answered (or a host name did not resolve)
  kNoChroot,         // the connect string's chroot node does not exist
  kTimeoutTooShort,  // the granted session timeout leaves less than kToleranceMsMin
  kSessionExpired,   // the session expired (while holding: the lock is lost)
  kLost,             // our node was deleted while we held the lock
  kNoAuth,           // the ensemble refused (ACL or authentication)
  kServer,           // any other ZooKeeper error (see zk_code)
};

const char* ZkErrorName(ZkError error);

// One contender of a lock, as `status` shows it.
struct ZkEntry {
  std::string node;  // child name
  NodeKind kind = NodeKind::kLock;
  int64_t sequence = 0;
  bool holding = false;     // among the first `slots` (its own slots; 1 for others' nodes)
  int64_t czxid = 0;        // creation zxid: the fence of this holding
  uint64_t created_ms = 0;  // the server's creation time (wall clock)
  bool is_onlyone = false;  // the data is an onlyone owner record
  uint32_t pid = 0;
  std::string host;
  std::string command;
  uint64_t since_ms = 0;
  uint32_t slots = 1;
  std::string data;  // the raw data of a node that is not ours (kazoo's identifier, ...)
};

struct ZkStatus {
  ZkError error = ZkError::kNone;
  int zk_code = 0;          // the C client's return code, when one applies
  std::string message;      // one line: what happened and what to do
  bool has_holder = false;  // kBusy: the first contender
  ZkEntry holder;
};

struct ZkOptions {
  std::string connect;    // "HOST:PORT[,HOST:PORT...][/chroot]"
  std::string lock_path;  // absolute node path of the lock
  uint32_t slots = 1;
  int64_t session_timeout_ms = kSessionTimeoutMsDefault;  // requested; the server may clamp it
  int64_t stop_margin_ms = 0;  // the caller's time to stop its work (see above)
  // The caller can do with less than stop_margin_ms: when the granted
  // session timeout is short, use FitStopMarginMs's margin instead of failing
  // with kTimeoutTooShort. stop_margin_ms() says which margin is in force.
  bool fit_stop_margin = false;
  std::string command;      // summary of the guarded work, in our node's data
  bool client_log = false;  // let the C client log errors to stderr
  // Tests only: the first create of an acquisition succeeds on the server
  // but is reported to us as a connection loss, as when its reply is lost.
  bool lose_first_create_reply_for_tests = false;
};

// Instrumentation, for the benchmark and tests.
struct ZkCounters {
  uint64_t requests = 0;     // requests sent (each one round trip)
  uint64_t node_events = 0;  // watch notifications received for nodes
  // "connected" session events the C client's completion thread delivered
  // to us; every successful connect waits for one (see Connect).
  uint64_t connected_events = 0;
};

class ZkLock {
 public:
  // Does not connect.
  explicit ZkLock(ZkOptions options);
  ~ZkLock();  // releases if held, closes the session
  ZkLock(const ZkLock&) = delete;
  ZkLock& operator=(const ZkLock&) = delete;

  bool TryAcquire();
  // Waits up to timeout_ms (kWaitForever: no limit), watching only the
  // node(s) ahead of ours (see lock_node.h). A waiter whose session expires
  // (the ensemble was out of reach for T) starts over with a new session
  // and a new place at the end of the queue.
  bool Acquire(int64_t timeout_ms);
  // Deletes our node. true: released (or our session was already gone).
  bool Release();
  // Interrupts a waiting Acquire (async-signal-safe).
  void Cancel();
  // Called about once a second while Acquire waits.
  void set_wait_observer(std::function<void(const ZkEntry* holder, uint64_t waited_ms)> observer);

  enum class Hold : uint8_t { kHeld, kLost };
  // REQUIRES: held(). Never blocks: sends the heartbeat when it is due and
  // judges the session (see "Session safety"). *why: for kLost, one line.
  // *next_check_ms: call again within this many ms (or when wake_fd() is
  // readable: the C client writes to it on session events and node events).
  Hold CheckHold(std::string* why, int64_t* next_check_ms);
  int wake_fd() const;
  // Asks the ensemble whether our node still exists (one round trip,
  // repeated across connection losses for up to a session timeout). true
  // while held; false with kLost once the node or its session is gone (held()
  // is then false), kInvalidArgument when nothing is held.
  bool Validate();

  bool held() const;
  int64_t fence() const;  // the czxid of our node, while held
  const ZkStatus& status() const;
  const std::string& node() const;     // our node's name ("" when none)
  int64_t session_timeout_ms() const;  // granted by the server (0 before connecting)
  int64_t tolerance_ms() const;        // how long a disconnection is ridden out
  // The stop margin in force: options.stop_margin_ms, or with
  // fit_stop_margin the fitted one (once connected).
  int64_t stop_margin_ms() const;
  ZkCounters counters() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// Reads locks without taking part in them (`status`), all over one session:
// opening and closing a session are both writes the ensemble agrees on, so
// a status of a hundred locks must not cost two hundred of them.
class ZkReader {
 public:
  // Connects on first use, to options.connect; options.lock_path is unused.
  explicit ZkReader(ZkOptions options);
  ~ZkReader();
  ZkReader(const ZkReader&) = delete;
  ZkReader& operator=(const ZkReader&) = delete;

  // The contenders of the lock at `lock_path`, in queue order (none when
  // the lock node does not exist).
  bool List(const std::string& lock_path, std::vector<ZkEntry>* entries);
  // The children of `parent_path`, sorted (the names of the locks under a
  // root; none when it does not exist).
  bool ListChildren(const std::string& parent_path, std::vector<std::string>* names);
  const ZkStatus& status() const;
  uint64_t sessions() const;  // sessions opened so far (tests)

 private:
  bool EnsureConnected();
  struct State;
  std::unique_ptr<State> state_;
  uint64_t sessions_ = 0;
};

}  // namespace zookeeper
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_ZOOKEEPER_ZK_LOCK_H_
