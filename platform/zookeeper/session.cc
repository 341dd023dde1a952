#include "platform/zookeeper/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "platform/posix/process.h"

namespace onlyone {
namespace zookeeper {

int64_t NowMs() { return static_cast<int64_t>(posix::MonotonicMs()); }

bool ServerAnswered(int rc) {
  return rc == ZOK || (rc <= ZAPIERROR && rc != ZSESSIONEXPIRED && rc != ZCLOSING &&
                       rc != ZNOTHING && rc != ZSESSIONMOVED);
}

bool IsConnectionLoss(int rc) { return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT; }

Session::Session(const ZkOptions* session_options, NodeEventHandler handler, void* handler_context)
    : options(session_options), on_node_event(handler), context(handler_context) {
  if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe[0] = wake_pipe[1] = -1;
}

Session::~Session() {
  CloseSession();
  if (wake_pipe[0] >= 0) close(wake_pipe[0]);
  if (wake_pipe[1] >= 0) close(wake_pipe[1]);
}

void Session::OnEvent(zhandle_t*, int type, int state, const char* path, void* session) {
  Session* self = static_cast<Session*>(session);
  if (type == ZOO_SESSION_EVENT) {
    if (state == ZOO_EXPIRED_SESSION_STATE) self->expired.store(true);
    if (state == ZOO_AUTH_FAILED_STATE) self->auth_failed.store(true);
    if (state == ZOO_CONNECTED_STATE) self->connected_events.fetch_add(1);
  } else {
    self->on_node_event(self->context, type, path);
  }
  self->Wake();
}

void Session::CloseSession() {
  // Joins the C client's threads: no callback runs after this returns.
  if (zh != nullptr) zookeeper_close(zh);
  zh = nullptr;
}

void Session::Wake() {
  const char byte = 0;
  ssize_t ignored = write(wake_pipe[1], &byte, 1);  // full pipe: awake anyway
  (void)ignored;
}

void Session::DrainWakes() {
  char buffer[64];
  while (read(wake_pipe[0], buffer, sizeof buffer) > 0) {
  }
}

void Session::WaitForWake(int64_t timeout_ms) {
  if (timeout_ms < 0) timeout_ms = 0;
  struct pollfd wake = {wake_pipe[0], POLLIN, 0};
  // poll takes an int: one sleep is capped (callers loop) so it never overflows.
  poll(&wake, 1, static_cast<int>(std::min<int64_t>(timeout_ms, kUnobservedWaitPeriodMs)));
  DrainWakes();
}

void Session::NoteContact(int64_t sent_ms) {
  int64_t seen = last_contact_ms.load();
  while (sent_ms > seen && !last_contact_ms.compare_exchange_weak(seen, sent_ms)) {
  }
}

bool Session::Fail(ZkError error, const std::string& message, int zk_code) {
  status = ZkStatus();
  status.error = error;
  status.zk_code = zk_code;
  status.message = message;
  return false;
}

bool Session::FailRequest(int rc, const std::string& what) {
  if (rc == ZNOAUTH) {
    return Fail(ZkError::kNoAuth,
                what + ": not allowed by the node's ACL; use a --zk-path this user may write", rc);
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

int64_t Session::ToleranceMs() const {
  return granted_timeout_ms - stop_margin_ms - kSessionSafetySlackMs;
}

bool Session::SessionConnected() const {
  return zh != nullptr && zoo_state(zh) == ZOO_CONNECTED_STATE &&
         connected_events.load() > connected_events_at_loss;
}

int64_t Session::ReconnectDeadlineMs() const {
  return std::min(give_up_ms, NowMs() + granted_timeout_ms);
}

bool Session::AwaitReconnect(int64_t deadline_ms) {
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

bool Session::Connect() {
  CloseSession();  // joins the old session's threads: no event of it can arrive
  // Connected, for this session: a "connected" event after this point.
  connected_events_at_loss = connected_events.load();
  expired.store(false);
  auth_failed.store(false);
  const ConnectStringResult parsed = ParseConnectString(options->connect, &connect);
  if (parsed.error != ConnectStringError::kNone) {
    return Fail(ZkError::kInvalidArgument,
                "bad ZooKeeper connect string '" + options->connect + "': " + parsed.message);
  }
  const std::string connect_text = FormatConnectString(connect);
  // The C client logs every failed connection attempt to stderr: noise for
  // a command line tool, unless asked for.
  zoo_set_debug_level(options->client_log ? ZOO_LOG_LEVEL_ERROR : static_cast<ZooLogLevel>(0));
  const int64_t started_ms = NowMs();
  // The C client's threads are created with every signal blocked (they
  // inherit our mask), so that signals reach the caller's thread only: a
  // handler that expects to run there (onlyone's relay) does, and the
  // client's poll() is never interrupted by SIGCHLD and friends.
  sigset_t all_signals, original_mask;
  sigfillset(&all_signals);
  pthread_sigmask(SIG_BLOCK, &all_signals, &original_mask);
  errno = 0;
  zh = zookeeper_init(connect_text.c_str(), &Session::OnEvent,
                      static_cast<int>(options->session_timeout_ms), nullptr, this, 0);
  const int init_errno = errno;
  pthread_sigmask(SIG_SETMASK, &original_mask, nullptr);
  if (zh == nullptr) {
    // zookeeper_init resolves every host at once and fails when none
    // resolves. Its errno is whatever getaddrinfo's NSS lookups left behind
    // (ENOENT for an unknown name), which would read as a missing file:
    // only an errno that says something else is shown.
    const bool errno_informative = init_errno != 0 && init_errno != ENOENT && init_errno != EINVAL;
    return Fail(
        ZkError::kUnreachable,
        "none of the hosts of '" + connect_text + "' could be resolved" +
            (errno_informative ? std::string(" (") + strerror(init_errno) + ")" : std::string()) +
            "; check the host names");
  }
  const int64_t deadline_ms =
      started_ms + std::min(options->session_timeout_ms, kConnectTimeoutMsMax);
  if (!AwaitConnected(started_ms, deadline_ms, connect_text)) return false;
  // The server heard from us at the latest when it answered the connect
  // request, which was sent after started_ms.
  NoteContact(started_ms);
  granted_timeout_ms = zoo_recv_timeout(zh);
  return FitSession();
}

bool Session::AwaitConnected(int64_t started_ms, int64_t deadline_ms,
                             const std::string& connect_text) {
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
    if (SessionConnected()) return true;
    if (state == ZOO_AUTH_FAILED_STATE || auth_failed.load()) {
      CloseSession();
      return Fail(ZkError::kNoAuth, "ZooKeeper at '" + connect_text + "' refused our session");
    }
    if (cancelled.load()) {
      CloseSession();
      return Fail(ZkError::kCancelled, "cancelled while connecting to ZooKeeper");
    }
    const int64_t now_ms = NowMs();
    if (now_ms >= deadline_ms) {
      CloseSession();
      return Fail(ZkError::kUnreachable,
                  "no ZooKeeper server at '" + connect_text + "' answered within " +
                      std::to_string((deadline_ms - started_ms) / 1000) +
                      " s; check that the ensemble is running and reachable from here");
    }
    WaitForWake(std::min<int64_t>(deadline_ms - now_ms, 100));
  }
}

bool Session::FitSession() {
  stop_margin_ms = options->fit_stop_margin
                       ? FitStopMarginMs(granted_timeout_ms, options->stop_margin_ms)
                       : options->stop_margin_ms;
  if (stop_margin_ms >= 0 && ToleranceMs() >= kToleranceMsMin) return true;
  CloseSession();
  const std::string granted =
      "the ZooKeeper session timeout is " + std::to_string(granted_timeout_ms) + " ms (asked for " +
      std::to_string(options->session_timeout_ms) + " ms; the server may clamp it)";
  if (options->fit_stop_margin) {
    return Fail(ZkError::kTimeoutTooShort,
                granted + ", too short for any grace period: it must leave " +
                    std::to_string(kSessionSafetySlackMs) + " ms of safety slack and " +
                    std::to_string(kToleranceMsMin) + " ms each to stop the command and to " +
                    "ride out a disconnection; raise the server's maxSessionTimeout");
  }
  return Fail(ZkError::kTimeoutTooShort,
              granted + ", which leaves less than " + std::to_string(kToleranceMsMin) +
                  " ms after the " + std::to_string(options->stop_margin_ms) +
                  " ms needed to stop the command and " + std::to_string(kSessionSafetySlackMs) +
                  " ms of safety slack; raise --zk-session-timeout or lower --grace");
}

}  // namespace zookeeper
}  // namespace onlyone
