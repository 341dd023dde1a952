// The ZooKeeper session of a ZkLock or a ZkReader (zk_lock.h): connecting
// and fitting the session timeout, sending requests across connection
// losses, and knowing when the server last provably heard from us (see
// "Session safety" in zk_lock.h). It knows nothing of the lock recipe; node
// watch notifications are handed to the owner's NodeEventHandler.
//
// Thread safety: one thread uses a Session. The C client's threads only
// touch its atomics, call the handler and write to the wake pipe.
#ifndef ONLYONE_PLATFORM_ZOOKEEPER_SESSION_H_
#define ONLYONE_PLATFORM_ZOOKEEPER_SESSION_H_

#include <stdint.h>
#include <zookeeper/zookeeper.h>

#include <atomic>
#include <limits>
#include <string>

#include "platform/zookeeper/connect_string.h"
#include "platform/zookeeper/zk_lock.h"

namespace onlyone {
namespace zookeeper {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
// A waiter nobody watches (no observer) sleeps until a node or session event,
// the deadline, Cancel, or this long, then runs the same checks again: a
// bound on any one sleep, not a poll (every event wakes it at once).
constexpr int64_t kUnobservedWaitPeriodMs = int64_t{60} * 1000;

int64_t NowMs();  // monotonic

// true when the server answered (with success or a definite error), so it
// provably heard from our session when it handled the request.
bool ServerAnswered(int rc);
bool IsConnectionLoss(int rc);

struct Session {
  // Called on the C client's thread for each watch notification of a node
  // (not for session events), with the context given to the constructor.
  using NodeEventHandler = void (*)(void* context, int type, const char* path);

  // `options` outlives the session and is read at each Connect.
  Session(const ZkOptions* options, NodeEventHandler on_node_event, void* context);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The C client's watcher for the session and for every watch we set:
  // context is the Session.
  static void OnEvent(zhandle_t*, int type, int state, const char* path, void* session);

  void CloseSession();
  void Wake();
  void DrainWakes();
  void WaitForWake(int64_t timeout_ms);
  void NoteContact(int64_t sent_ms);
  bool Fail(ZkError error, const std::string& message, int zk_code = 0);
  bool FailRequest(int rc, const std::string& what);
  int64_t ToleranceMs() const;

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
  bool SessionConnected() const;

  // How long one connection loss is waited out: a session timeout (past
  // that the session is gone anyway), never past the acquisition's deadline.
  int64_t ReconnectDeadlineMs() const;

  // After a connection loss: waits until the client is connected again.
  // false: the session expired, we were cancelled, or deadline_ms passed.
  bool AwaitReconnect(int64_t deadline_ms);

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

  // A new session (closing the old one). false: status says why.
  bool Connect();

  const ZkOptions* options;
  NodeEventHandler on_node_event;
  void* context;
  ConnectString connect;
  zhandle_t* zh = nullptr;
  int wake_pipe[2] = {-1, -1};

  // Written by the C client's threads (watcher and completions), read here.
  std::atomic<bool> expired{false};
  std::atomic<bool> auth_failed{false};
  std::atomic<bool> cancelled{false};
  std::atomic<int64_t> last_contact_ms{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> connected_events{0};

  int64_t granted_timeout_ms = 0;
  int64_t stop_margin_ms = 0;  // in force for this session (see fit_stop_margin)
  // While an acquisition runs: its deadline. Waiting for a reconnection
  // never goes past it (a --wait=10s must not become 10 s plus a session
  // timeout when the ensemble is out of reach).
  int64_t give_up_ms = kForever;
  // connected_events when a request last failed with a connection loss,
  // counted before it was sent (see SessionConnected).
  uint64_t connected_events_at_loss = 0;
  ZkStatus status;  // the outcome of the last operation of the lock or reader

 private:
  // The C client started, waits until it is connected. false: closed, status says why.
  bool AwaitConnected(int64_t started_ms, int64_t deadline_ms, const std::string& connect_text);
  // Sets the stop margin for the granted timeout; false (session closed)
  // when it leaves too little tolerance.
  bool FitSession();
};

}  // namespace zookeeper
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_ZOOKEEPER_SESSION_H_
