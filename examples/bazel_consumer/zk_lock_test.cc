// The ZooKeeper lock, without a server: a malformed connect string is
// refused as such, and an ensemble nobody answers for is reported
// unreachable, each with a message saying what to do.
#include <stdio.h>

#include "platform/zookeeper/zk_lock.h"

using onlyone::zookeeper::ZkError;
using onlyone::zookeeper::ZkErrorName;
using onlyone::zookeeper::ZkLock;
using onlyone::zookeeper::ZkOptions;

static bool TryFails(const char* connect, ZkError want) {
  ZkOptions options;
  options.connect = connect;
  options.lock_path = "/onlyone/locks/consumer";
  options.session_timeout_ms = 4000;
  ZkLock lock(options);
  if (lock.TryAcquire()) {
    fprintf(stderr, "%s: acquired, want %s\n", connect, ZkErrorName(want));
    return false;
  }
  const auto& status = lock.status();
  printf("%s: %s: %s\n", connect, ZkErrorName(status.error), status.message.c_str());
  return status.error == want && !status.message.empty();
}

int main() {
  bool ok = TryFails("no port here", ZkError::kInvalidArgument);
  // Port 1 on loopback: nothing listens there (and it is privileged).
  ok = TryFails("127.0.0.1:1", ZkError::kUnreachable) && ok;
  return ok ? 0 : 1;
}
