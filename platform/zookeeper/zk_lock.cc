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
#include <mutex>

#include "core/record.h"
#include "platform/posix/process.h"
#include "platform/zookeeper/connect_string.h"
#include "platform/zookeeper/session.h"

namespace onlyone {
namespace zookeeper {

namespace {

// How often a waiter calls the wait observer (a terminal status line).
constexpr int64_t kObserverIntervalMs = 1000;
// Attempts at creating our node when its parents are missing: a concurrent
// deletion of an empty parent (by an operator) can make one attempt fail.
constexpr int kCreateAttemptsMax = 4;
// Longest node path the server can hand back to us (lock path + child name).
constexpr int kPathBufferBytes = 2048;

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

namespace {

// The watches of a lock node of ours: its deletion, noticed at once, and the
// heartbeat that proves our session alive while we hold (see "Session
// safety" in zk_lock.h).
struct Watches {
  // Only the address of `owner` is taken: it may not be constructed yet.
  explicit Watches(Session* owner) : session(*owner) {}

  // Session's NodeEventHandler: on the C client's thread.
  static void OnNodeEvent(void* context, int type, const char* path) {
    Watches* self = static_cast<Watches*>(context);
    self->node_events.fetch_add(1);
    if (type == ZOO_DELETED_EVENT && path != nullptr) {
      std::lock_guard<std::mutex> guard(self->own_path_mutex);
      if (!self->own_path.empty() && self->own_path == path) self->own_node_deleted.store(true);
    }
  }

  static void OnHeartbeat(int rc, const struct Stat*, const void* data) {
    Watches* self = const_cast<Watches*>(static_cast<const Watches*>(data));
    // A heartbeat for a node we have since released says nothing now.
    if (self->heartbeat_generation.load() == self->node_generation.load()) {
      if (ServerAnswered(rc)) self->session.NoteContact(self->heartbeat_sent_ms.load());
      if (rc == ZNONODE) self->own_node_deleted.store(true);
      if (rc == ZSESSIONEXPIRED) self->session.expired.store(true);
    }
    self->heartbeat_outstanding.store(false);
    self->session.Wake();
  }

  void SetOwnPath(const std::string& path) {
    std::lock_guard<std::mutex> guard(own_path_mutex);
    own_path = path;
  }

  // Sends the heartbeat when it is due and judges the session (see
  // "Session safety" in zk_lock.h). own_node_path: for messages and the watch.
  ZkLock::Hold Judge(const std::string& own_node_path, std::string* why, int64_t* next_check_ms) {
    const int64_t now_ms = NowMs();
    *next_check_ms = kHeartbeatIntervalMsMax;
    if (session.expired.load() ||
        (session.zh != nullptr && zoo_state(session.zh) == ZOO_EXPIRED_SESSION_STATE)) {
      *why = "the ZooKeeper session expired (the ensemble did not hear from us for " +
             std::to_string(session.granted_timeout_ms) + " ms); our node is gone";
      return ZkLock::Hold::kLost;
    }
    if (own_node_deleted.load()) {
      *why = "our lock node '" + own_node_path + "' was deleted";
      return ZkLock::Hold::kLost;
    }
    const int64_t heartbeat_interval_ms = std::min(
        kHeartbeatIntervalMsMax, session.granted_timeout_ms / kHeartbeatsPerSessionTimeout);
    if (!heartbeat_outstanding.load() && now_ms >= next_heartbeat_ms) {
      const std::string& path = own_node_path;
      heartbeat_sent_ms.store(now_ms);
      heartbeat_generation.store(node_generation.load());
      heartbeat_outstanding.store(true);
      session.requests.fetch_add(1);
      // Also (re)sets a watch on our own node, so that its deletion by
      // someone else is noticed at once rather than at the next heartbeat.
      if (zoo_awexists(session.zh, path.c_str(), &Session::OnEvent, &session, &Watches::OnHeartbeat,
                       this) != ZOK) {
        heartbeat_outstanding.store(false);
      }
      next_heartbeat_ms = now_ms + heartbeat_interval_ms;
    }
    const int64_t silent_ms = now_ms - session.last_contact_ms.load();
    const int64_t stop_after_ms = session.ToleranceMs();
    if (silent_ms >= stop_after_ms) {
      *why = "no answer from ZooKeeper for " + std::to_string(silent_ms) +
             " ms: the session (timeout " + std::to_string(session.granted_timeout_ms) +
             " ms) may expire before the command could be stopped";
      return ZkLock::Hold::kLost;
    }
    *next_check_ms =
        std::max<int64_t>(0, std::min(next_heartbeat_ms - now_ms, stop_after_ms - silent_ms));
    return ZkLock::Hold::kHeld;
  }

  Session& session;
  // Written by the C client's threads (watcher and completions), read here.
  std::atomic<bool> own_node_deleted{false};
  std::atomic<bool> heartbeat_outstanding{false};
  std::atomic<int64_t> heartbeat_sent_ms{0};
  std::atomic<uint64_t> heartbeat_generation{0};
  std::atomic<uint64_t> node_generation{0};
  std::atomic<uint64_t> node_events{0};
  std::mutex own_path_mutex;  // own_path is compared by the watcher thread
  std::string own_path;
  int64_t next_heartbeat_ms = 0;
};

// --- Reading a lock: a ZkLock's queue, a ZkReader's listing ---------------

// Reads one contender's node into *entry.
int ReadEntry(Session* session, const std::string& lock_path, const LockNode& node,
              ZkEntry* entry) {
  char data[kNodeDataBytesMax];
  int length = sizeof data;
  struct Stat stat;
  const std::string path = JoinPath(lock_path, node.name);
  const int rc = session->SendRetrying(
      [&] { return zoo_get(session->zh, path.c_str(), 0, data, &length, &stat); });
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
bool GetChildren(Session* session, const std::string& path, std::vector<std::string>* names) {
  struct String_vector children = {0, nullptr};
  const int rc = session->SendRetrying(
      [&] { return zoo_get_children(session->zh, path.c_str(), 0, &children); });
  names->clear();
  if (rc == ZNONODE) return true;
  if (rc != ZOK) return session->FailRequest(rc, "cannot list '" + path + "'");
  for (int32_t i = 0; i < children.count; ++i) names->push_back(children.data[i]);
  deallocate_String_vector(&children);
  return true;
}

bool ListContenders(Session* session, const std::string& lock_path,
                    std::vector<LockNode>* contenders) {
  std::vector<std::string> names;
  contenders->clear();
  // A missing lock node lists as no children: nobody ever used the lock.
  if (!GetChildren(session, lock_path, &names)) return false;
  *contenders = SortContenders(names);
  return true;
}

// Our node in the lock's queue: its name (a uuid prefix protects the
// create against a lost reply, see lock_node.h), its data (our owner
// record) and its creation, pipelined with the first listing.
struct OwnNode {
  OwnNode(ZkOptions* lock_options, Session* owner_session, Watches* node_watches)
      : options(*lock_options), session(*owner_session), watches(*node_watches) {}

  const std::string& lock_path() const { return options.lock_path; }

  // Creates the lock node and its missing ancestors (persistent, empty).
  bool EnsureParents() {
    std::vector<std::string> missing;
    for (std::string path = lock_path(); path != "/"; path = ParentOf(path)) {
      missing.push_back(path);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      const int rc = session.SendRetrying([&] {
        return zoo_create(session.zh, it->c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                          ZOO_PERSISTENT, nullptr, 0);
      });
      if (rc == ZOK || rc == ZNODEEXISTS) continue;
      if (rc == ZNONODE && it == missing.rbegin() && !session.connect.chroot.empty()) {
        // The parent of our topmost node is "/", which is the chroot: with
        // a chroot, the client maps "/" to it, and it is missing.
        return session.Fail(ZkError::kNoChroot,
                            "the chroot '" + session.connect.chroot +
                                "' of the connect string does not exist on "
                                "the ensemble; create it (zkCli.sh create " +
                                session.connect.chroot + ") or fix the connect string",
                            rc);
      }
      return session.FailRequest(rc, "cannot create the lock node '" + *it + "'");
    }
    return true;
  }

  // Finds the child we created before a connection loss hid the reply.
  bool FindOwnNode(bool* found) {
    *found = false;
    std::vector<std::string> children;
    if (!GetChildren(&session, lock_path(), &children)) return false;
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
    const int stat_rc =
        session.SendRetrying([&] { return zoo_exists(session.zh, path.c_str(), 0, &stat); });
    if (stat_rc != ZOK) {
      *found = false;
      own_node.clear();
      return stat_rc == ZNONODE ? true : session.FailRequest(stat_rc, "cannot read '" + path + "'");
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
      return session.Fail(ZkError::kServer,
                          std::string("no random source for the node name: ") + strerror(os_error));
    }
    char hex[kId128HexDigits];
    FormatId128(uuid, hex);
    uuid_hex.assign(hex, kId128HexDigits);
    own_node.clear();
    watches.own_node_deleted.store(false);
    watches.node_generation.fetch_add(1);
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
        if (!session.AwaitReconnect(session.ReconnectDeadlineMs())) {
          return session.FailRequest(ZCONNECTIONLOSS, "cannot create our lock node");
        }
        bool found = false;
        if (!FindOwnNode(&found)) return false;
        create_unresolved = false;
        if (found) break;
        maybe_created = false;
      }
      char created[kPathBufferBytes];
      struct Stat stat;
      const int rc = session.Send([&] {
        return zoo_create2(session.zh, prefix_path.c_str(), data.data(),
                           static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                           ZOO_EPHEMERAL_SEQUENTIAL, created, sizeof created, &stat);
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
      return session.FailRequest(rc, "cannot create a node under '" + lock_path() + "'");
    }
    if (own_node.empty())
      return session.FailRequest(ZNONODE, "cannot create a node under '" + lock_path() + "'");
    watches.SetOwnPath(JoinPath(lock_path(), own_node));
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
    session.requests.fetch_add(2);
    int create_sent = zoo_acreate2(session.zh, prefix_path.c_str(), data.data(),
                                   static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                                   ZOO_EPHEMERAL_SEQUENTIAL, &Pipelined::OnCreate, &pipelined);
    if (create_sent != ZOK) pipelined.Finish();  // not queued: no completion will come
    int list_sent = create_sent == ZOK ? zoo_aget_children(session.zh, lock_path().c_str(), 0,
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
    if (ServerAnswered(pipelined.create_rc)) session.NoteContact(sent_ms);
    if (options.lose_first_create_reply_for_tests && pipelined.create_rc == ZOK) {
      options.lose_first_create_reply_for_tests = false;
      pipelined.create_rc = ZCONNECTIONLOSS;
    }
    if (pipelined.create_rc != ZOK) {
      if (pipelined.create_rc == ZNONODE || IsConnectionLoss(pipelined.create_rc)) {
        return CreateOwnNodeWithCurrentUuid(IsConnectionLoss(pipelined.create_rc));
      }
      return session.FailRequest(pipelined.create_rc,
                                 "cannot create a node under '" + lock_path() + "'");
    }
    own_node = BaseName(pipelined.created);
    own_czxid = pipelined.czxid;
    watches.SetOwnPath(JoinPath(lock_path(), own_node));
    if (list_sent == ZOK && pipelined.children_rc == ZOK) {
      *contenders = SortContenders(pipelined.children);
      *listed = true;
    }
    return true;
  }

  ZkOptions& options;  // lose_first_create_reply_for_tests is used up here
  Session& session;
  Watches& watches;
  std::string own_node;  // its name ("" when none)
  int64_t own_czxid = 0;
  std::string uuid_hex;
  // A create was sent, its reply lost, and we have not yet found out
  // whether it happened: a node of ours may be in the queue unknown to us.
  bool create_unresolved = false;
};

}  // namespace

// A lock: its place in the queue of the lock node (the recipe of
// lock_node.h), over a Session and the Watches of our node.
struct ZkLock::State {
  explicit State(ZkOptions lock_options)
      : options(std::move(lock_options)),
        watches(&session),
        session(&options, &Watches::OnNodeEvent, &watches) {}

  ZkOptions options;
  // Trap: declared before the session, so that it is destroyed after it:
  // the session's destructor joins the C client's threads, which call into
  // the watches until then.
  Watches watches;
  Session session;

  OwnNode node{&options, &session, &watches};
  bool held = false;
  // CheckHold said kLost: the session is expired or may be. Release then
  // does not wait for the ensemble to delete a node it may no longer own.
  bool lost = false;
  std::function<void(const ZkEntry*, uint64_t)> observer;

  // What every acquisition needs before it talks to the ensemble.
  bool CheckOptions() {
    if (session.wake_pipe[0] < 0) return session.Fail(ZkError::kServer, "cannot create a pipe");
    if (options.slots < 1 || options.slots > kSlotsMax) {
      return session.Fail(ZkError::kInvalidArgument, "slots out of range");
    }
    const std::string problem = ValidateZnodePath(options.lock_path);
    if (!problem.empty() || options.lock_path == "/") {
      return session.Fail(ZkError::kInvalidArgument,
                          "bad lock path '" + options.lock_path +
                              "': " + (problem.empty() ? "the root cannot be a lock" : problem));
    }
    return true;
  }

  // --- The recipe ----------------------------------------------------------

  const std::string& lock_path() const { return options.lock_path; }

  // Afterwards no node of ours is in the queue, or none will be once the
  // ensemble ends our session: a node we cannot delete is left to the
  // session, which we then close. Trap: a node left behind in a session we
  // keep (a library caller that reuses the ZkLock after a failure) would sit
  // in the queue forever, and every contender behind it would wait on it.
  bool DeleteOwnNode() {
    if (node.own_node.empty()) return true;
    const std::string path = JoinPath(lock_path(), node.own_node);
    watches.SetOwnPath("");  // our own deletion is not a loss
    watches.node_generation.fetch_add(1);
    node.own_node.clear();
    if (session.zh == nullptr || session.expired.load())
      return true;  // the ephemeral node is gone with the session
    if (lost) {
      // Out of reach past the tolerance: waiting here for a reconnection
      // would only delay onlyone's exit.
      session.CloseSession();
      return true;
    }
    const int rc = session.SendRetrying([&] { return zoo_delete(session.zh, path.c_str(), -1); });
    if (rc == ZOK || rc == ZNONODE || rc == ZSESSIONEXPIRED) return true;
    session.CloseSession();
    return session.FailRequest(rc, "cannot delete our lock node '" + path +
                                       "'; closed our session, which the ensemble deletes it with");
  }

  // After a failed acquisition, whatever failed: leaves no node of ours in
  // the queue (see DeleteOwnNode), and keeps the reason in `status`.
  void Abandon() {
    const ZkStatus reason = session.status;
    DeleteOwnNode();
    if (node.create_unresolved) session.CloseSession();  // a node we never learned of goes with it
    node.create_unresolved = false;
    session.status = reason;
  }

  // A new session and a new node, after our session expired while waiting.
  bool StartOver() {
    node.own_node.clear();
    watches.SetOwnPath("");
    return session.Connect() && node.CreateOwnNode();
  }

  bool AcquireUntil(int64_t deadline_ms, bool try_once) {
    session.give_up_ms = deadline_ms;
    const bool acquired = AcquireLoop(deadline_ms, try_once);
    if (!acquired) Abandon();  // within the deadline too: past it, a node is left to the session
    session.give_up_ms = kForever;
    return acquired;
  }

  // A wait for the lock in progress: its deadline and what the observer saw.
  struct Waiting {
    int64_t started_ms = 0;
    int64_t deadline_ms = 0;
    int64_t next_observe_ms = 0;
    std::string observed_holder_node;
    ZkEntry observed_holder;
  };

  // Every `return false` leaves our node to AcquireUntil's Abandon.
  bool AcquireLoop(int64_t deadline_ms, bool try_once) {
    Waiting waiting;
    waiting.started_ms = NowMs();
    waiting.deadline_ms = deadline_ms;
    waiting.next_observe_ms = waiting.started_ms + kObserverIntervalMs;
    if (held) return true;
    if (session.zh == nullptr || session.expired.load()) {
      if (!session.Connect()) return false;
    }
    std::vector<LockNode> first_listing;
    bool first_listed = false;
    if (!node.CreateAndList(&first_listing, &first_listed)) return false;
    for (;;) {
      if (session.cancelled.load()) {
        return session.Fail(ZkError::kCancelled, "cancelled while waiting for the lock");
      }
      // Any node event after this point wakes the wait below: no lost wakeup
      // between listing the children and setting the watches.
      const uint64_t events_before = watches.node_events.load();
      std::vector<LockNode> contenders;
      if (first_listed) {
        contenders.swap(first_listing);
        first_listed = false;
      } else if (!ListContenders(&session, lock_path(), &contenders)) {
        if (session.status.error != ZkError::kSessionExpired || try_once) return false;
        if (!StartOver()) return false;
        continue;
      }
      const QueuePlace place = FindPlace(contenders, node.own_node, options.slots);
      if (!place.found) {
        // Our node is gone: the session expired (its ephemerals went with
        // it), or someone deleted it. Either way, queue again at the end.
        if (try_once) {
          return session.Fail(ZkError::kLost,
                              "our lock node disappeared while we checked the queue");
        }
        if (!(session.expired.load() ? StartOver() : node.CreateOwnNode())) return false;
        continue;
      }
      if (place.holding) return StartHolding();
      if (try_once || NowMs() >= deadline_ms) return FailBusy(contenders.front());
      if (WatchAhead(place)) continue;  // the one we would watch is already gone
      Observe(contenders.front(), &waiting);
      SleepUntilEvent(events_before, &waiting);
      if (!RecoverSession(deadline_ms)) return false;
    }
  }

  bool StartHolding() {
    held = true;
    lost = false;
    session.status = ZkStatus();
    watches.heartbeat_outstanding.store(false);
    watches.next_heartbeat_ms = NowMs();
    return true;
  }

  bool FailBusy(const LockNode& first) {
    ZkEntry holder;
    const bool has_holder = ReadEntry(&session, lock_path(), first, &holder) == ZOK;
    session.Fail(ZkError::kBusy, "'" + lock_path() + "' is held by others");
    session.status.has_holder = has_holder;
    session.status.holder = holder;
    return false;
  }

  // Sets a watch on each node ahead of ours that can let us in. true: one
  // of them is gone already.
  bool WatchAhead(const QueuePlace& place) {
    for (const std::string& name : place.watch) {
      struct Stat stat;
      const std::string path = JoinPath(lock_path(), name);
      const int rc = session.Send([&] {
        return zoo_wexists(session.zh, path.c_str(), &Session::OnEvent, &session, &stat);
      });
      if (rc == ZNONODE) return true;
      if (rc != ZOK) break;  // connection loss: the wait sees the session event
    }
    return false;
  }

  // Reads the holder for the observer when it changed.
  void Observe(const LockNode& first, Waiting* waiting) {
    if (!observer || first.name == waiting->observed_holder_node) return;
    waiting->observed_holder_node = first.name;
    if (ReadEntry(&session, lock_path(), first, &waiting->observed_holder) != ZOK)
      waiting->observed_holder_node.clear();
  }

  // Waits for a node event, a session event, the deadline or Cancel,
  // calling the observer about once a second.
  void SleepUntilEvent(uint64_t events_before, Waiting* waiting) {
    while (watches.node_events.load() == events_before && !session.cancelled.load()) {
      const int64_t now_ms = NowMs();
      if (now_ms >= waiting->deadline_ms) break;
      if (observer && now_ms >= waiting->next_observe_ms) {
        observer(waiting->observed_holder_node.empty() ? nullptr : &waiting->observed_holder,
                 static_cast<uint64_t>(now_ms - waiting->started_ms));
        waiting->next_observe_ms = now_ms + kObserverIntervalMs;
      }
      if (!session.SessionConnected() || session.expired.load()) break;
      int64_t wake_ms = std::min(waiting->deadline_ms, waiting->next_observe_ms);
      if (!observer) wake_ms = std::min(waiting->deadline_ms, now_ms + kUnobservedWaitPeriodMs);
      session.WaitForWake(wake_ms - now_ms);
    }
  }

  // After a wait: a new session and node when ours expired, or waits out a
  // disconnection. false: status says why.
  bool RecoverSession(int64_t deadline_ms) {
    if (session.expired.load()) return StartOver();
    if (session.zh == nullptr || session.SessionConnected()) return true;
    if (session.AwaitReconnect(session.ReconnectDeadlineMs()) || session.cancelled.load()) {
      return true;
    }
    if (!session.expired.load() && NowMs() >= deadline_ms) {
      return session.Fail(ZkError::kUnreachable,
                          "gave up waiting for '" + lock_path() + "': ZooKeeper at '" +
                              FormatConnectString(session.connect) +
                              "' was out of reach when the wait limit passed");
    }
    return StartOver();
  }

  bool Validate() {
    if (!held) return session.Fail(ZkError::kInvalidArgument, "'" + lock_path() + "' is not held");
    const std::string path = JoinPath(lock_path(), node.own_node);
    int rc = ZSESSIONEXPIRED;
    struct Stat stat = {};
    if (session.zh != nullptr && !session.expired.load() && !watches.own_node_deleted.load()) {
      rc = session.SendRetrying([&] { return zoo_exists(session.zh, path.c_str(), 0, &stat); });
    }
    if (rc == ZOK && stat.czxid == node.own_czxid) {
      session.status = ZkStatus();
      return true;
    }
    if (rc != ZOK && rc != ZNONODE && rc != ZSESSIONEXPIRED) {
      return session.FailRequest(rc, "cannot read our lock node '" + path + "'");
    }
    // Gone (deleted, or with its session), or a different node under its
    // name (made by hand after a deletion): either way, not our holding.
    held = false;
    lost = true;
    return session.Fail(ZkError::kLost,
                        "our lock node '" + path + "' was deleted or its session expired");
  }

  ZkLock::Hold CheckHold(std::string* why, int64_t* next_check_ms) {
    const ZkLock::Hold hold =
        watches.Judge(JoinPath(lock_path(), node.own_node), why, next_check_ms);
    if (hold == ZkLock::Hold::kLost) lost = true;
    return hold;
  }
};

ZkLock::ZkLock(ZkOptions options) : state_(new State(std::move(options))) {}

ZkLock::~ZkLock() {
  if (state_->held || !state_->node.own_node.empty()) Release();
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
  s.session.status = ZkStatus();
  return true;
}

void ZkLock::Cancel() {
  state_->session.cancelled.store(true);
  state_->session.Wake();
}

void ZkLock::set_wait_observer(
    std::function<void(const ZkEntry* holder, uint64_t waited_ms)> observer) {
  state_->observer = std::move(observer);
}

ZkLock::Hold ZkLock::CheckHold(std::string* why, int64_t* next_check_ms) {
  return state_->CheckHold(why, next_check_ms);
}

bool ZkLock::Validate() { return state_->Validate(); }

int ZkLock::wake_fd() const { return state_->session.wake_pipe[0]; }
bool ZkLock::held() const { return state_->held; }
int64_t ZkLock::fence() const { return state_->held ? state_->node.own_czxid : 0; }
const ZkStatus& ZkLock::status() const { return state_->session.status; }
const std::string& ZkLock::node() const { return state_->node.own_node; }
int64_t ZkLock::session_timeout_ms() const { return state_->session.granted_timeout_ms; }
int64_t ZkLock::tolerance_ms() const { return state_->session.ToleranceMs(); }
int64_t ZkLock::stop_margin_ms() const {
  const State& s = *state_;
  return s.session.granted_timeout_ms > 0 && s.session.stop_margin_ms >= 0
             ? s.session.stop_margin_ms
             : s.options.stop_margin_ms;
}

int64_t FitStopMarginMs(int64_t granted_timeout_ms, int64_t wanted_ms) {
  const int64_t half_ms = (granted_timeout_ms - kSessionSafetySlackMs) / 2;
  if (half_ms < kToleranceMsMin) return -1;
  return std::min(wanted_ms, half_ms);
}

ZkCounters ZkLock::counters() const {
  ZkCounters counters;
  counters.requests = state_->session.requests.load();
  counters.node_events = state_->watches.node_events.load();
  counters.connected_events = state_->session.connected_events.load();
  return counters;
}

// A reader holds nothing and sets no watch: only its session.
struct ZkReader::State {
  explicit State(ZkOptions reader_options)
      : options(std::move(reader_options)), session(&options, &IgnoreNodeEvent, nullptr) {
    options.stop_margin_ms = 0;  // a reader holds nothing: any granted session will do
  }
  static void IgnoreNodeEvent(void*, int, const char*) {}

  ZkOptions options;
  Session session;
};

ZkReader::ZkReader(ZkOptions options) : state_(new State(std::move(options))) {}

ZkReader::~ZkReader() = default;

const ZkStatus& ZkReader::status() const { return state_->session.status; }

uint64_t ZkReader::sessions() const { return sessions_; }

bool ZkReader::EnsureConnected() {
  Session& session = state_->session;
  if (session.zh != nullptr && !session.expired.load()) return true;
  ++sessions_;
  return session.Connect();
}

bool ZkReader::List(const std::string& lock_path, std::vector<ZkEntry>* entries) {
  Session& session = state_->session;
  entries->clear();
  std::vector<LockNode> contenders;
  if (!EnsureConnected() || !ListContenders(&session, lock_path, &contenders)) return false;
  for (const LockNode& contender : contenders) {
    ZkEntry entry;
    const int rc = ReadEntry(&session, lock_path, contender, &entry);
    if (rc == ZNONODE) continue;  // left while we listed
    if (rc != ZOK) {
      return session.FailRequest(rc, "cannot read '" + JoinPath(lock_path, contender.name) + "'");
    }
    entry.holding = entries->size() < (entry.is_onlyone ? entry.slots : 1);
    entries->push_back(entry);
  }
  session.status = ZkStatus();
  return true;
}

bool ZkReader::ListChildren(const std::string& parent_path, std::vector<std::string>* names) {
  Session& session = state_->session;
  names->clear();
  if (!EnsureConnected() || !GetChildren(&session, parent_path, names)) return false;
  std::sort(names->begin(), names->end());
  session.status = ZkStatus();
  return true;
}

}  // namespace zookeeper
}  // namespace onlyone
