#include "platform/zookeeper/zk_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>

#include "core/record.h"
#include "platform/posix/driver.h"
#include "platform/zookeeper/connect_string.h"

namespace onlyone {
namespace zookeeper {

namespace {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
// How often a waiter calls the wait observer (a terminal status line).
constexpr int64_t kObserverIntervalMs = 1000;
// A waiter nobody watches (no observer) sleeps until a node or session event,
// the deadline, Cancel, or this long, then runs the same checks again: a
// bound on any one sleep, not a poll (every event wakes it at once).
constexpr int64_t kUnobservedWaitPeriodMs = int64_t{60} * 1000;
// Attempts at creating our node when its parents are missing: a concurrent
// deletion of an empty parent (by an operator) can make one attempt fail.
constexpr int kCreateAttemptsMax = 4;
// Longest node path the server can hand back to us (lock path + child name).
constexpr int kPathBufferBytes = 2048;

int64_t NowMs() { return static_cast<int64_t>(posix::MonotonicMs()); }

// true when the server answered (with success or a definite error), so it
// provably heard from our session when it handled the request.
bool ServerAnswered(int rc) {
  return rc == ZOK || (rc <= ZAPIERROR && rc != ZSESSIONEXPIRED && rc != ZCLOSING &&
                       rc != ZNOTHING && rc != ZSESSIONMOVED);
}

bool IsConnectionLoss(int rc) { return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT; }

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::string JoinPath(const std::string& parent, const std::string& child) {
  return parent == "/" ? "/" + child : parent + "/" + child;
}

}  // namespace

const char* ZkErrorName(ZkError error) {
  switch (error) {
    case ZkError::kNone: return "none";
    case ZkError::kBusy: return "busy";
    case ZkError::kCancelled: return "cancelled";
    case ZkError::kInvalidArgument: return "invalid_argument";
    case ZkError::kUnreachable: return "unreachable";
    case ZkError::kNoChroot: return "no_chroot";
    case ZkError::kTimeoutTooShort: return "timeout_too_short";
    case ZkError::kSessionExpired: return "session_expired";
    case ZkError::kLost: return "lost";
    case ZkError::kNoAuth: return "no_auth";
    case ZkError::kServer: return "server";
  }
  return "unknown";
}

struct ZkLock::State {
  ZkOptions options;
  ConnectString connect;
  zhandle_t* zh = nullptr;
  int wake_pipe[2] = {-1, -1};

  // Written by the C client's threads (watcher and completions), read here.
  std::atomic<bool> expired{false};
  std::atomic<bool> auth_failed{false};
  std::atomic<bool> cancelled{false};
  std::atomic<bool> own_node_deleted{false};
  std::atomic<int64_t> last_contact_ms{0};
  std::atomic<bool> heartbeat_outstanding{false};
  std::atomic<int64_t> heartbeat_sent_ms{0};
  std::atomic<uint64_t> heartbeat_generation{0};
  std::atomic<uint64_t> node_generation{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> node_events{0};
  std::atomic<uint64_t> connected_events{0};
  std::mutex own_path_mutex;  // own_path is compared by the watcher thread
  std::string own_path;

  std::string own_node;
  int64_t own_czxid = 0;
  std::string uuid_hex;
  int64_t granted_timeout_ms = 0;
  int64_t stop_margin_ms = 0;  // in force for this session (see fit_stop_margin)
  int64_t next_heartbeat_ms = 0;
  bool held = false;
  // CheckHold said kLost: the session is expired or may be. Release then
  // does not wait for the ensemble to delete a node it may no longer own.
  bool lost = false;
  // While an acquisition runs: its deadline. Waiting for a reconnection
  // never goes past it (a --wait=10s must not become 10 s plus a session
  // timeout when the ensemble is out of reach).
  int64_t give_up_ms = kForever;
  // connected_events when a request last failed with a connection loss,
  // counted before it was sent (see SessionConnected).
  uint64_t connected_events_at_loss = 0;
  // A create was sent, its reply lost, and we have not yet found out
  // whether it happened: a node of ours may be in the queue unknown to us.
  bool create_unresolved = false;
  ZkStatus status;
  std::function<void(const ZkEntry*, uint64_t)> observer;

  ~State() {
    CloseSession();
    if (wake_pipe[0] >= 0) close(wake_pipe[0]);
    if (wake_pipe[1] >= 0) close(wake_pipe[1]);
  }

  void CloseSession() {
    // Joins the C client's threads: no callback runs after this returns.
    if (zh != nullptr) zookeeper_close(zh);
    zh = nullptr;
  }

  void Wake() {
    const char byte = 0;
    ssize_t ignored = write(wake_pipe[1], &byte, 1);  // full pipe: awake anyway
    (void)ignored;
  }

  void DrainWakes() {
    char buffer[64];
    while (read(wake_pipe[0], buffer, sizeof buffer) > 0) {
    }
  }

  void WaitForWake(int64_t timeout_ms) {
    if (timeout_ms < 0) timeout_ms = 0;
    struct pollfd wake = {wake_pipe[0], POLLIN, 0};
    // poll takes an int: one sleep is capped (callers loop) so it never overflows.
    poll(&wake, 1, static_cast<int>(std::min<int64_t>(timeout_ms, kUnobservedWaitPeriodMs)));
    DrainWakes();
  }

  void NoteContact(int64_t sent_ms) {
    int64_t seen = last_contact_ms.load();
    while (sent_ms > seen && !last_contact_ms.compare_exchange_weak(seen, sent_ms)) {
    }
  }

  void SetOwnPath(const std::string& path) {
    std::lock_guard<std::mutex> guard(own_path_mutex);
    own_path = path;
  }

  bool Fail(ZkError error, const std::string& message, int zk_code = 0) {
    status = ZkStatus();
    status.error = error;
    status.zk_code = zk_code;
    status.message = message;
    return false;
  }

  bool FailRequest(int rc, const std::string& what) {
    if (rc == ZNOAUTH) {
      return Fail(ZkError::kNoAuth,
                  what + ": not allowed by the node's ACL; use a --zk-path this user may write",
                  rc);
    }
    if (rc == ZSESSIONEXPIRED || rc == ZINVALIDSTATE || expired.load()) {
      return Fail(ZkError::kSessionExpired, what + ": the ZooKeeper session expired", rc);
    }
    if (IsConnectionLoss(rc)) {
      return Fail(ZkError::kUnreachable,
                  what + ": lost the connection to ZooKeeper at '" + FormatConnectString(connect) +
                      "' and could not get it back",
                  rc);
    }
    return Fail(ZkError::kServer, what + ": " + zerror(rc), rc);
  }

  int64_t ToleranceMs() const {
    return granted_timeout_ms - stop_margin_ms - kSessionSafetySlackMs;
  }

  // What every acquisition needs before it talks to the ensemble.
  bool CheckOptions() {
    if (wake_pipe[0] < 0) return Fail(ZkError::kServer, "cannot create a pipe");
    if (options.slots < 1 || options.slots > kSlotsMax) {
      return Fail(ZkError::kInvalidArgument, "slots out of range");
    }
    const std::string problem = ValidateZnodePath(options.lock_path);
    if (!problem.empty() || options.lock_path == "/") {
      return Fail(ZkError::kInvalidArgument,
                  "bad lock path '" + options.lock_path +
                      "': " + (problem.empty() ? "the root cannot be a lock" : problem));
    }
    return true;
  }

  // --- Requests ------------------------------------------------------------

  // Runs one synchronous request, counts it, and records the contact (or
  // the connection it lost, see SessionConnected).
  template <typename Request>
  int Send(Request request) {
    const int64_t sent_ms = NowMs();
    const uint64_t connections_before = connected_events.load();
    requests.fetch_add(1);
    const int rc = request();
    if (ServerAnswered(rc)) NoteContact(sent_ms);
    if (IsConnectionLoss(rc)) connected_events_at_loss = connections_before;
    return rc;
  }

  // The session is connected and a request sent now goes out. Trap: the C
  // client fails a request with a connection loss before it marks itself
  // disconnected, so right after a loss zoo_state() still says connected;
  // a request sent then is held until the next connection attempt ends,
  // 2/3 of a session timeout later (CI: a --wait=8s waiter took 12 s). A
  // connection made after the loss delivers a new "connected" event.
  bool SessionConnected() const {
    return zh != nullptr && zoo_state(zh) == ZOO_CONNECTED_STATE &&
           connected_events.load() > connected_events_at_loss;
  }

  // How long one connection loss is waited out: a session timeout (past
  // that the session is gone anyway), never past the acquisition's deadline.
  int64_t ReconnectDeadlineMs() const { return std::min(give_up_ms, NowMs() + granted_timeout_ms); }

  // After a connection loss: waits until the client is connected again.
  // false: the session expired, we were cancelled, or deadline_ms passed.
  bool AwaitReconnect(int64_t deadline_ms) {
    for (;;) {
      if (expired.load() || zh == nullptr) return false;
      if (SessionConnected()) return true;
      const int state = zoo_state(zh);
      if (state == ZOO_EXPIRED_SESSION_STATE) {
        expired.store(true);
        return false;
      }
      if (cancelled.load()) return false;
      const int64_t now_ms = NowMs();
      if (now_ms >= deadline_ms) return false;
      WaitForWake(std::min<int64_t>(deadline_ms - now_ms, 100));
    }
  }

  // An idempotent request, sent on a connected session only and repeated
  // across connection losses (each waited out up to ReconnectDeadlineMs).
  // Trap: the C client accepts a request while it is (re)connecting and
  // holds it until that connection attempt ends, 2/3 of a session timeout
  // later, whatever our deadline.
  template <typename Request>
  int SendRetrying(Request request) {
    for (;;) {
      if (!SessionConnected()) {
        if (!AwaitReconnect(ReconnectDeadlineMs())) {
          return expired.load() ? ZSESSIONEXPIRED : ZCONNECTIONLOSS;
        }
      }
      const int rc = Send(request);
      if (!IsConnectionLoss(rc)) return rc;
    }
  }

  // --- Session -------------------------------------------------------------

  bool Connect() {
    CloseSession();  // joins the old session's threads: no event of it can arrive
    // Connected, for this session: a "connected" event after this point.
    connected_events_at_loss = connected_events.load();
    expired.store(false);
    auth_failed.store(false);
    const ConnectStringResult parsed = ParseConnectString(options.connect, &connect);
    if (parsed.error != ConnectStringError::kNone) {
      return Fail(ZkError::kInvalidArgument,
                  "bad ZooKeeper connect string '" + options.connect + "': " + parsed.message);
    }
    const std::string connect_text = FormatConnectString(connect);
    // The C client logs every failed connection attempt to stderr: noise for
    // a command line tool, unless asked for.
    zoo_set_debug_level(options.client_log ? ZOO_LOG_LEVEL_ERROR : static_cast<ZooLogLevel>(0));
    const int64_t started_ms = NowMs();
    // The C client's threads are created with every signal blocked (they
    // inherit our mask), so that signals reach the caller's thread only: a
    // handler that expects to run there (onlyone's relay) does, and the
    // client's poll() is never interrupted by SIGCHLD and friends.
    sigset_t all_signals, original_mask;
    sigfillset(&all_signals);
    pthread_sigmask(SIG_BLOCK, &all_signals, &original_mask);
    errno = 0;
    zh = zookeeper_init(connect_text.c_str(), &ZkLock::State::OnEvent,
                        static_cast<int>(options.session_timeout_ms), nullptr, this, 0);
    const int init_errno = errno;
    pthread_sigmask(SIG_SETMASK, &original_mask, nullptr);
    if (zh == nullptr) {
      // zookeeper_init resolves every host at once and fails when none
      // resolves. Its errno is whatever getaddrinfo's NSS lookups left behind
      // (ENOENT for an unknown name), which would read as a missing file:
      // only an errno that says something else is shown.
      const bool errno_informative =
          init_errno != 0 && init_errno != ENOENT && init_errno != EINVAL;
      return Fail(
          ZkError::kUnreachable,
          "none of the hosts of '" + connect_text + "' could be resolved" +
              (errno_informative ? std::string(" (") + strerror(init_errno) + ")" : std::string()) +
              "; check the host names");
    }
    const int64_t connect_deadline_ms =
        started_ms + std::min(options.session_timeout_ms, kConnectTimeoutMsMax);
    for (;;) {
      const int state = zoo_state(zh);
      // Connected means: the state says so and our watcher has had the
      // "connected" session event. The multi-threaded client sets the state
      // before it queues that event for its completion thread, and
      // zookeeper_close frees only the events that thread got to
      // (ZOOKEEPER-2894, ZOOKEEPER-3868: destroy() drains the queue in
      // single-threaded builds only). A status that connected on the state
      // alone and closed before a starved completion thread first ran leaked
      // the event (seen under ASan on a loaded CI machine).
      if (SessionConnected()) break;
      if (state == ZOO_AUTH_FAILED_STATE || auth_failed.load()) {
        CloseSession();
        return Fail(ZkError::kNoAuth, "ZooKeeper at '" + connect_text + "' refused our session");
      }
      if (cancelled.load()) {
        CloseSession();
        return Fail(ZkError::kCancelled, "cancelled while connecting to ZooKeeper");
      }
      const int64_t now_ms = NowMs();
      if (now_ms >= connect_deadline_ms) {
        CloseSession();
        return Fail(ZkError::kUnreachable,
                    "no ZooKeeper server at '" + connect_text + "' answered within " +
                        std::to_string((connect_deadline_ms - started_ms) / 1000) +
                        " s; check that the ensemble is running and reachable from here");
      }
      WaitForWake(std::min<int64_t>(connect_deadline_ms - now_ms, 100));
    }
    // The server heard from us at the latest when it answered the connect
    // request, which was sent after started_ms.
    NoteContact(started_ms);
    granted_timeout_ms = zoo_recv_timeout(zh);
    return FitSession();
  }

  // Sets the stop margin for the granted timeout; false (session closed)
  // when it leaves too little tolerance.
  bool FitSession() {
    stop_margin_ms = options.fit_stop_margin
                         ? FitStopMarginMs(granted_timeout_ms, options.stop_margin_ms)
                         : options.stop_margin_ms;
    if (stop_margin_ms >= 0 && ToleranceMs() >= kToleranceMsMin) return true;
    CloseSession();
    const std::string granted = "the ZooKeeper session timeout is " +
                                std::to_string(granted_timeout_ms) + " ms (asked for " +
                                std::to_string(options.session_timeout_ms) +
                                " ms; the server may clamp it)";
    if (options.fit_stop_margin) {
      return Fail(ZkError::kTimeoutTooShort,
                  granted + ", too short for any grace period: it must leave " +
                      std::to_string(kSessionSafetySlackMs) + " ms of safety slack and " +
                      std::to_string(kToleranceMsMin) + " ms each to stop the command and to " +
                      "ride out a disconnection; raise the server's maxSessionTimeout");
    }
    return Fail(ZkError::kTimeoutTooShort,
                granted + ", which leaves less than " + std::to_string(kToleranceMsMin) +
                    " ms after the " + std::to_string(options.stop_margin_ms) +
                    " ms needed to stop the command and " + std::to_string(kSessionSafetySlackMs) +
                    " ms of safety slack; raise --zk-session-timeout or lower --grace");
  }

  static void OnEvent(zhandle_t*, int type, int state, const char* path, void* context) {
    State* self = static_cast<State*>(context);
    if (type == ZOO_SESSION_EVENT) {
      if (state == ZOO_EXPIRED_SESSION_STATE) self->expired.store(true);
      if (state == ZOO_AUTH_FAILED_STATE) self->auth_failed.store(true);
      if (state == ZOO_CONNECTED_STATE) self->connected_events.fetch_add(1);
    } else {
      self->node_events.fetch_add(1);
      if (type == ZOO_DELETED_EVENT && path != nullptr) {
        std::lock_guard<std::mutex> guard(self->own_path_mutex);
        if (!self->own_path.empty() && self->own_path == path) self->own_node_deleted.store(true);
      }
    }
    self->Wake();
  }

  static void OnHeartbeat(int rc, const struct Stat*, const void* data) {
    State* self = const_cast<State*>(static_cast<const State*>(data));
    // A heartbeat for a node we have since released says nothing now.
    if (self->heartbeat_generation.load() == self->node_generation.load()) {
      if (ServerAnswered(rc)) self->NoteContact(self->heartbeat_sent_ms.load());
      if (rc == ZNONODE) self->own_node_deleted.store(true);
      if (rc == ZSESSIONEXPIRED) self->expired.store(true);
    }
    self->heartbeat_outstanding.store(false);
    self->Wake();
  }

  // --- The recipe ----------------------------------------------------------

  const std::string& lock_path() const { return options.lock_path; }

  // Creates the lock node and its missing ancestors (persistent, empty).
  bool EnsureParents() {
    std::vector<std::string> missing;
    for (std::string path = lock_path(); path != "/"; path = ParentOf(path)) {
      missing.push_back(path);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      const int rc = SendRetrying([&] {
        return zoo_create(zh, it->c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                          nullptr, 0);
      });
      if (rc == ZOK || rc == ZNODEEXISTS) continue;
      if (rc == ZNONODE && it == missing.rbegin() && !connect.chroot.empty()) {
        // The parent of our topmost node is "/", which is the chroot: with
        // a chroot, the client maps "/" to it, and it is missing.
        return Fail(ZkError::kNoChroot,
                    "the chroot '" + connect.chroot +
                        "' of the connect string does not exist on "
                        "the ensemble; create it (zkCli.sh create " +
                        connect.chroot + ") or fix the connect string",
                    rc);
      }
      return FailRequest(rc, "cannot create the lock node '" + *it + "'");
    }
    return true;
  }

  // Finds the child we created before a connection loss hid the reply.
  bool FindOwnNode(bool* found) {
    *found = false;
    std::vector<std::string> children;
    if (!GetChildren(lock_path(), &children)) return false;
    const std::string prefix = OwnNodePrefix(uuid_hex);
    for (const std::string& child : children) {
      if (child.compare(0, prefix.size(), prefix) == 0) {
        *found = true;
        own_node = child;
      }
    }
    if (!*found) return true;
    struct Stat stat;
    const std::string path = JoinPath(lock_path(), own_node);
    const int stat_rc = SendRetrying([&] { return zoo_exists(zh, path.c_str(), 0, &stat); });
    if (stat_rc != ZOK) {
      *found = false;
      own_node.clear();
      return stat_rc == ZNONODE ? true : FailRequest(stat_rc, "cannot read '" + path + "'");
    }
    own_czxid = stat.czxid;
    return true;
  }

  std::string OwnData() {
    OwnerRecord record;
    Id128 nonce;
    int os_error = 0;
    if (!posix::RandomNonce(&nonce, &os_error)) nonce = Id128{};
    record.state = EntryState::kChoosing;  // the ticket is the node's sequence
    record.ticket = 0;
    record.slots = options.slots;
    record.owner = posix::LocalIdentity(nonce, options.command);
    record.since_ms = posix::WallMs();
    record.refreshed_ms = record.since_ms;
    RecordText text;
    // No anchor holds the host and command here: the node data does.
    if (!EncodeRecord(record, &text)) return "";
    return std::string(text.data, text.size);
  }

  // A new uuid (and so a new node name prefix) for our next node.
  bool NewOwnUuid() {
    Id128 uuid;
    int os_error = 0;
    if (!posix::RandomNonce(&uuid, &os_error)) {
      return Fail(ZkError::kServer,
                  std::string("no random source for the node name: ") + strerror(os_error));
    }
    uuid_hex = posix::EntryName("", uuid);
    own_node.clear();
    own_node_deleted.store(false);
    node_generation.fetch_add(1);
    return true;
  }

  std::string OwnPrefixPath() const { return JoinPath(lock_path(), OwnNodePrefix(uuid_hex)); }

  // Creates our EPHEMERAL_SEQUENTIAL node, protected against a lost reply.
  bool CreateOwnNode() { return NewOwnUuid() && CreateOwnNodeWithCurrentUuid(false); }

  // maybe_created: a create with this uuid was sent and its reply lost.
  bool CreateOwnNodeWithCurrentUuid(bool maybe_created) {
    const std::string data = OwnData();
    const std::string prefix_path = OwnPrefixPath();
    for (int attempt = 0; attempt < kCreateAttemptsMax; ++attempt) {
      if (maybe_created) {
        // The create may have happened and only its reply been lost: look
        // for our uuid among the children before creating another node.
        create_unresolved = true;
        if (!AwaitReconnect(ReconnectDeadlineMs())) {
          return FailRequest(ZCONNECTIONLOSS, "cannot create our lock node");
        }
        bool found = false;
        if (!FindOwnNode(&found)) return false;
        create_unresolved = false;
        if (found) break;
        maybe_created = false;
      }
      char created[kPathBufferBytes];
      struct Stat stat;
      const int rc = Send([&] {
        return zoo_create2(zh, prefix_path.c_str(), data.data(), static_cast<int>(data.size()),
                           &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, created, sizeof created,
                           &stat);
      });
      if (rc == ZOK) {
        own_node = BaseName(created);
        own_czxid = stat.czxid;
        break;
      }
      if (rc == ZNONODE) {
        if (!EnsureParents()) return false;
        continue;
      }
      if (IsConnectionLoss(rc)) {
        maybe_created = true;
        --attempt;  // a connection loss is not a failed attempt
        continue;
      }
      return FailRequest(rc, "cannot create a node under '" + lock_path() + "'");
    }
    if (own_node.empty())
      return FailRequest(ZNONODE, "cannot create a node under '" + lock_path() + "'");
    SetOwnPath(JoinPath(lock_path(), own_node));
    return true;
  }

  // The first create and listing of an acquisition, sent back to back
  // without waiting for the create's reply: the server runs one session's
  // requests in order (a read waits for the session's pending writes), so
  // the listing already includes our node. A free lock then costs the
  // latency of one round trip, for the same two requests. Anything unusual
  // (missing parents, a connection loss) falls back to one request at a time.
  struct Pipelined {
    std::mutex mutex;
    std::condition_variable done;
    int pending = 0;
    int create_rc = ZSYSTEMERROR;
    std::string created;
    int64_t czxid = 0;
    int children_rc = ZSYSTEMERROR;
    std::vector<std::string> children;

    void Finish() {
      std::lock_guard<std::mutex> guard(mutex);
      if (--pending == 0) done.notify_all();
    }
    static void OnCreate(int rc, const char* path, const struct Stat* stat, const void* data) {
      Pipelined* self = const_cast<Pipelined*>(static_cast<const Pipelined*>(data));
      self->create_rc = rc;
      if (rc == ZOK && path != nullptr) self->created = path;
      if (rc == ZOK && stat != nullptr) self->czxid = stat->czxid;
      self->Finish();
    }
    static void OnChildren(int rc, const struct String_vector* strings, const void* data) {
      Pipelined* self = const_cast<Pipelined*>(static_cast<const Pipelined*>(data));
      self->children_rc = rc;
      if (rc == ZOK && strings != nullptr) {
        for (int32_t i = 0; i < strings->count; ++i) self->children.push_back(strings->data[i]);
      }
      self->Finish();
    }
  };

  // *listed: *contenders holds a listing made after our create.
  bool CreateAndList(std::vector<LockNode>* contenders, bool* listed) {
    *listed = false;
    if (!NewOwnUuid()) return false;
    const std::string data = OwnData();
    const std::string prefix_path = OwnPrefixPath();
    Pipelined pipelined;
    const int64_t sent_ms = NowMs();
    pipelined.pending = 2;
    requests.fetch_add(2);
    int create_sent = zoo_acreate2(zh, prefix_path.c_str(), data.data(),
                                   static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                                   ZOO_EPHEMERAL_SEQUENTIAL, &Pipelined::OnCreate, &pipelined);
    if (create_sent != ZOK) pipelined.Finish();  // not queued: no completion will come
    int list_sent = create_sent == ZOK ? zoo_aget_children(zh, lock_path().c_str(), 0,
                                                           &Pipelined::OnChildren, &pipelined)
                                       : create_sent;
    if (list_sent != ZOK) pipelined.Finish();
    {
      // The C client calls every completion exactly once, also on a
      // connection loss or close, so this wait ends.
      std::unique_lock<std::mutex> guard(pipelined.mutex);
      pipelined.done.wait(guard, [&] { return pipelined.pending == 0; });
    }
    if (create_sent != ZOK) return CreateOwnNodeWithCurrentUuid(false);
    if (ServerAnswered(pipelined.create_rc)) NoteContact(sent_ms);
    if (options.lose_first_create_reply_for_tests && pipelined.create_rc == ZOK) {
      options.lose_first_create_reply_for_tests = false;
      pipelined.create_rc = ZCONNECTIONLOSS;
    }
    if (pipelined.create_rc != ZOK) {
      if (pipelined.create_rc == ZNONODE || IsConnectionLoss(pipelined.create_rc)) {
        return CreateOwnNodeWithCurrentUuid(IsConnectionLoss(pipelined.create_rc));
      }
      return FailRequest(pipelined.create_rc, "cannot create a node under '" + lock_path() + "'");
    }
    own_node = BaseName(pipelined.created);
    own_czxid = pipelined.czxid;
    SetOwnPath(JoinPath(lock_path(), own_node));
    if (list_sent == ZOK && pipelined.children_rc == ZOK) {
      *contenders = SortContenders(pipelined.children);
      *listed = true;
    }
    return true;
  }

  // Afterwards no node of ours is in the queue, or none will be once the
  // ensemble ends our session: a node we cannot delete is left to the
  // session, which we then close. Trap: a node left behind in a session we
  // keep (a library caller that reuses the ZkLock after a failure) would sit
  // in the queue forever, and every contender behind it would wait on it.
  bool DeleteOwnNode() {
    if (own_node.empty()) return true;
    const std::string path = JoinPath(lock_path(), own_node);
    SetOwnPath("");  // our own deletion is not a loss
    node_generation.fetch_add(1);
    own_node.clear();
    if (zh == nullptr || expired.load())
      return true;  // the ephemeral node is gone with the session
    if (lost) {
      // Out of reach past the tolerance: waiting here for a reconnection
      // would only delay onlyone's exit.
      CloseSession();
      return true;
    }
    const int rc = SendRetrying([&] { return zoo_delete(zh, path.c_str(), -1); });
    if (rc == ZOK || rc == ZNONODE || rc == ZSESSIONEXPIRED) return true;
    CloseSession();
    return FailRequest(rc, "cannot delete our lock node '" + path +
                               "'; closed our session, which the ensemble deletes it with");
  }

  // After a failed acquisition, whatever failed: leaves no node of ours in
  // the queue (see DeleteOwnNode), and keeps the reason in `status`.
  void Abandon() {
    const ZkStatus reason = status;
    DeleteOwnNode();
    if (create_unresolved) CloseSession();  // a node we never learned of goes with it
    create_unresolved = false;
    status = reason;
  }

  // Reads one contender's node into *entry.
  int ReadEntry(const LockNode& node, ZkEntry* entry) {
    char data[kNodeDataBytesMax];
    int length = sizeof data;
    struct Stat stat;
    const std::string path = JoinPath(lock_path(), node.name);
    const int rc = SendRetrying([&] { return zoo_get(zh, path.c_str(), 0, data, &length, &stat); });
    entry->node = node.name;
    entry->kind = node.kind;
    entry->sequence = node.sequence;
    if (rc != ZOK) return rc;
    entry->czxid = stat.czxid;
    entry->created_ms = static_cast<uint64_t>(stat.ctime);
    const std::string text = length > 0 ? std::string(data, static_cast<size_t>(length)) : "";
    OwnerRecord record;
    const onlyone::ParseResult parsed =
        ParseRecord(Bytes{text.data(), static_cast<uint32_t>(text.size())}, &record);
    if (parsed.error == onlyone::ParseError::kNone) {
      entry->is_onlyone = true;
      entry->pid = record.owner.pid;
      entry->host.assign(record.owner.host.data, record.owner.host.size);
      entry->command.assign(record.owner.command.data, record.owner.command.size);
      entry->since_ms = record.since_ms;
      entry->slots = record.slots;
    } else {
      entry->data = text;
      entry->since_ms = entry->created_ms;
    }
    return ZOK;
  }

  // The children of `path`; none when it does not exist.
  bool GetChildren(const std::string& path, std::vector<std::string>* names) {
    struct String_vector children = {0, nullptr};
    const int rc = SendRetrying([&] { return zoo_get_children(zh, path.c_str(), 0, &children); });
    names->clear();
    if (rc == ZNONODE) return true;
    if (rc != ZOK) return FailRequest(rc, "cannot list '" + path + "'");
    for (int32_t i = 0; i < children.count; ++i) names->push_back(children.data[i]);
    deallocate_String_vector(&children);
    return true;
  }

  bool ListContenders(std::vector<LockNode>* contenders) {
    std::vector<std::string> names;
    contenders->clear();
    // A missing lock node lists as no children: nobody ever used the lock.
    if (!GetChildren(lock_path(), &names)) return false;
    *contenders = SortContenders(names);
    return true;
  }

  // A new session and a new node, after our session expired while waiting.
  bool StartOver() {
    own_node.clear();
    SetOwnPath("");
    return Connect() && CreateOwnNode();
  }

  bool AcquireUntil(int64_t deadline_ms, bool try_once) {
    give_up_ms = deadline_ms;
    const bool acquired = AcquireLoop(deadline_ms, try_once);
    if (!acquired) Abandon();  // within the deadline too: past it, a node is left to the session
    give_up_ms = kForever;
    return acquired;
  }

  // Every `return false` leaves our node to AcquireUntil's Abandon.
  bool AcquireLoop(int64_t deadline_ms, bool try_once) {
    const int64_t started_ms = NowMs();
    int64_t next_observe_ms = started_ms + kObserverIntervalMs;
    std::string observed_holder_node;
    ZkEntry observed_holder;
    if (held) return true;
    if (zh == nullptr || expired.load()) {
      if (!Connect()) return false;
    }
    std::vector<LockNode> first_listing;
    bool first_listed = false;
    if (!CreateAndList(&first_listing, &first_listed)) return false;
    for (;;) {
      if (cancelled.load()) {
        return Fail(ZkError::kCancelled, "cancelled while waiting for the lock");
      }
      // Any node event after this point wakes the wait below: no lost wakeup
      // between listing the children and setting the watches.
      const uint64_t events_before = node_events.load();
      std::vector<LockNode> contenders;
      if (first_listed) {
        contenders.swap(first_listing);
        first_listed = false;
      } else if (!ListContenders(&contenders)) {
        if (status.error != ZkError::kSessionExpired || try_once) return false;
        if (!StartOver()) return false;
        continue;
      }
      const QueuePlace place = FindPlace(contenders, own_node, options.slots);
      if (!place.found) {
        // Our node is gone: the session expired (its ephemerals went with
        // it), or someone deleted it. Either way, queue again at the end.
        if (try_once) {
          return Fail(ZkError::kLost, "our lock node disappeared while we checked the queue");
        }
        if (!(expired.load() ? StartOver() : CreateOwnNode())) return false;
        continue;
      }
      if (place.holding) {
        held = true;
        lost = false;
        status = ZkStatus();
        heartbeat_outstanding.store(false);
        next_heartbeat_ms = NowMs();
        return true;
      }
      const int64_t now_ms = NowMs();
      if (try_once || now_ms >= deadline_ms) {
        ZkEntry holder;
        const bool has_holder = ReadEntry(contenders.front(), &holder) == ZOK;
        Fail(ZkError::kBusy, "'" + lock_path() + "' is held by others");
        status.has_holder = has_holder;
        status.holder = holder;
        return false;
      }
      bool ahead_gone = false;
      for (const std::string& name : place.watch) {
        struct Stat stat;
        const std::string path = JoinPath(lock_path(), name);
        const int rc =
            Send([&] { return zoo_wexists(zh, path.c_str(), &State::OnEvent, this, &stat); });
        if (rc == ZNONODE) {
          ahead_gone = true;
          break;
        }
        if (rc != ZOK) break;  // connection loss: the wait below sees the session event
      }
      if (ahead_gone) continue;
      if (observer && contenders.front().name != observed_holder_node) {
        observed_holder_node = contenders.front().name;
        if (ReadEntry(contenders.front(), &observed_holder) != ZOK) observed_holder_node.clear();
      }
      // Wait for a node event, a session event, the deadline or Cancel.
      while (node_events.load() == events_before && !cancelled.load()) {
        const int64_t wait_now_ms = NowMs();
        if (wait_now_ms >= deadline_ms) break;
        if (observer && wait_now_ms >= next_observe_ms) {
          observer(observed_holder_node.empty() ? nullptr : &observed_holder,
                   static_cast<uint64_t>(wait_now_ms - started_ms));
          next_observe_ms = wait_now_ms + kObserverIntervalMs;
        }
        if (!SessionConnected() || expired.load()) break;
        int64_t wake_ms = std::min(deadline_ms, next_observe_ms);
        if (!observer) wake_ms = std::min(deadline_ms, wait_now_ms + kUnobservedWaitPeriodMs);
        WaitForWake(wake_ms - wait_now_ms);
      }
      if (expired.load()) {
        if (!StartOver()) return false;
        continue;
      }
      if (zh != nullptr && !SessionConnected()) {
        if (!AwaitReconnect(ReconnectDeadlineMs()) && !cancelled.load()) {
          if (!expired.load() && NowMs() >= deadline_ms) {
            return Fail(ZkError::kUnreachable,
                        "gave up waiting for '" + lock_path() + "': ZooKeeper at '" +
                            FormatConnectString(connect) + "' was out of reach when the wait " +
                            "limit passed");
          }
          if (!StartOver()) return false;
        }
      }
    }
  }

  bool Validate() {
    if (!held) return Fail(ZkError::kInvalidArgument, "'" + lock_path() + "' is not held");
    const std::string path = JoinPath(lock_path(), own_node);
    int rc = ZSESSIONEXPIRED;
    struct Stat stat;
    if (zh != nullptr && !expired.load() && !own_node_deleted.load()) {
      rc = SendRetrying([&] { return zoo_exists(zh, path.c_str(), 0, &stat); });
    }
    if (rc == ZOK && stat.czxid == own_czxid) {
      status = ZkStatus();
      return true;
    }
    if (rc != ZOK && rc != ZNONODE && rc != ZSESSIONEXPIRED) {
      return FailRequest(rc, "cannot read our lock node '" + path + "'");
    }
    // Gone, or replaced by a node of the same name (a deletion and a new
    // node of ours cannot share a sequence number, but a hand-made one can).
    held = false;
    lost = true;
    return Fail(ZkError::kLost, "our lock node '" + path + "' was deleted or its session expired");
  }

  ZkLock::Hold CheckHold(std::string* why, int64_t* next_check_ms) {
    const ZkLock::Hold hold = JudgeHold(why, next_check_ms);
    if (hold == ZkLock::Hold::kLost) lost = true;
    return hold;
  }

  ZkLock::Hold JudgeHold(std::string* why, int64_t* next_check_ms) {
    const int64_t now_ms = NowMs();
    *next_check_ms = kHeartbeatIntervalMsMax;
    if (expired.load() || (zh != nullptr && zoo_state(zh) == ZOO_EXPIRED_SESSION_STATE)) {
      *why = "the ZooKeeper session expired (the ensemble did not hear from us for " +
             std::to_string(granted_timeout_ms) + " ms); our node is gone";
      return ZkLock::Hold::kLost;
    }
    if (own_node_deleted.load()) {
      *why = "our lock node '" + JoinPath(lock_path(), own_node) + "' was deleted";
      return ZkLock::Hold::kLost;
    }
    const int64_t heartbeat_interval_ms =
        std::min(kHeartbeatIntervalMsMax, granted_timeout_ms / kHeartbeatsPerSessionTimeout);
    if (!heartbeat_outstanding.load() && now_ms >= next_heartbeat_ms) {
      const std::string path = JoinPath(lock_path(), own_node);
      heartbeat_sent_ms.store(now_ms);
      heartbeat_generation.store(node_generation.load());
      heartbeat_outstanding.store(true);
      requests.fetch_add(1);
      // Also (re)sets a watch on our own node, so that its deletion by
      // someone else is noticed at once rather than at the next heartbeat.
      if (zoo_awexists(zh, path.c_str(), &State::OnEvent, this, &State::OnHeartbeat, this) != ZOK) {
        heartbeat_outstanding.store(false);
      }
      next_heartbeat_ms = now_ms + heartbeat_interval_ms;
    }
    const int64_t silent_ms = now_ms - last_contact_ms.load();
    const int64_t stop_after_ms = ToleranceMs();
    if (silent_ms >= stop_after_ms) {
      *why = "no answer from ZooKeeper for " + std::to_string(silent_ms) +
             " ms: the session (timeout " + std::to_string(granted_timeout_ms) +
             " ms) may expire before the command could be stopped";
      return ZkLock::Hold::kLost;
    }
    *next_check_ms =
        std::max<int64_t>(0, std::min(next_heartbeat_ms - now_ms, stop_after_ms - silent_ms));
    return ZkLock::Hold::kHeld;
  }
};

ZkLock::ZkLock(ZkOptions options) : state_(new State) {
  state_->options = std::move(options);
  if (pipe2(state_->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    state_->wake_pipe[0] = state_->wake_pipe[1] = -1;
  }
}

ZkLock::~ZkLock() {
  if (state_->held || !state_->own_node.empty()) Release();
}

bool ZkLock::TryAcquire() { return state_->CheckOptions() && state_->AcquireUntil(kForever, true); }

bool ZkLock::Acquire(int64_t timeout_ms) {
  if (timeout_ms == 0) return TryAcquire();
  // `cancelled` is not reset: a Cancel() that came before Acquire (a signal
  // while we were connecting) must still cancel it.
  const int64_t deadline_ms = timeout_ms < 0 ? kForever : NowMs() + timeout_ms;
  return state_->CheckOptions() && state_->AcquireUntil(deadline_ms, false);
}

bool ZkLock::Release() {
  State& s = *state_;
  s.held = false;
  if (!s.DeleteOwnNode()) return false;
  s.status = ZkStatus();
  return true;
}

void ZkLock::Cancel() {
  state_->cancelled.store(true);
  state_->Wake();
}

void ZkLock::set_wait_observer(
    std::function<void(const ZkEntry* holder, uint64_t waited_ms)> observer) {
  state_->observer = std::move(observer);
}

ZkLock::Hold ZkLock::CheckHold(std::string* why, int64_t* next_check_ms) {
  return state_->CheckHold(why, next_check_ms);
}

bool ZkLock::Validate() { return state_->Validate(); }

int ZkLock::wake_fd() const { return state_->wake_pipe[0]; }
bool ZkLock::held() const { return state_->held; }
int64_t ZkLock::fence() const { return state_->held ? state_->own_czxid : 0; }
const ZkStatus& ZkLock::status() const { return state_->status; }
const std::string& ZkLock::node() const { return state_->own_node; }
int64_t ZkLock::session_timeout_ms() const { return state_->granted_timeout_ms; }
int64_t ZkLock::tolerance_ms() const { return state_->ToleranceMs(); }
int64_t ZkLock::stop_margin_ms() const {
  const State& s = *state_;
  return s.granted_timeout_ms > 0 && s.stop_margin_ms >= 0 ? s.stop_margin_ms
                                                           : s.options.stop_margin_ms;
}

int64_t FitStopMarginMs(int64_t granted_timeout_ms, int64_t wanted_ms) {
  const int64_t half_ms = (granted_timeout_ms - kSessionSafetySlackMs) / 2;
  if (half_ms < kToleranceMsMin) return -1;
  return std::min(wanted_ms, half_ms);
}

ZkCounters ZkLock::counters() const {
  ZkCounters counters;
  counters.requests = state_->requests.load();
  counters.node_events = state_->node_events.load();
  counters.connected_events = state_->connected_events.load();
  return counters;
}

ZkReader::ZkReader(ZkOptions options) : state_(new ZkLock::State) {
  state_->options = std::move(options);
  state_->options.stop_margin_ms = 0;  // a reader holds nothing
  state_->options.lock_path.clear();
}

ZkReader::~ZkReader() = default;

const ZkStatus& ZkReader::status() const { return state_->status; }

uint64_t ZkReader::sessions() const { return sessions_; }

bool ZkReader::EnsureConnected() {
  ZkLock::State& s = *state_;
  if (s.zh != nullptr && !s.expired.load()) return true;
  ++sessions_;
  return s.Connect();
}

bool ZkReader::List(const std::string& lock_path, std::vector<ZkEntry>* entries) {
  ZkLock::State& s = *state_;
  entries->clear();
  s.options.lock_path = lock_path;
  std::vector<LockNode> contenders;
  if (!EnsureConnected() || !s.ListContenders(&contenders)) return false;
  for (const LockNode& contender : contenders) {
    ZkEntry entry;
    const int rc = s.ReadEntry(contender, &entry);
    if (rc == ZNONODE) continue;  // left while we listed
    if (rc != ZOK)
      return s.FailRequest(rc, "cannot read '" + JoinPath(lock_path, contender.name) + "'");
    entry.holding = entries->size() < (entry.is_onlyone ? entry.slots : 1);
    entries->push_back(entry);
  }
  s.status = ZkStatus();
  return true;
}

bool ZkReader::ListChildren(const std::string& parent_path, std::vector<std::string>* names) {
  ZkLock::State& s = *state_;
  names->clear();
  if (!EnsureConnected() || !s.GetChildren(parent_path, names)) return false;
  std::sort(names->begin(), names->end());
  s.status = ZkStatus();
  return true;
}

}  // namespace zookeeper
}  // namespace onlyone
