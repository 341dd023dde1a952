// onlyone::zookeeper::ZkBackend: ZkLock (a lock on a ZooKeeper ensemble)
// behind the backend-neutral interface of platform/backend.h.
#ifndef ONLYONE_PLATFORM_ZOOKEEPER_BACKEND_H_
#define ONLYONE_PLATFORM_ZOOKEEPER_BACKEND_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "platform/backend.h"
#include "platform/zookeeper/zk_lock.h"

namespace onlyone {
namespace zookeeper {

BackendError ToBackendError(ZkError error);

// An entry of a ZooKeeper lock as `status` and the conflict line show it.
// A node exists only while its owner's session lives: alive is known, true.
Holder HolderFromZkEntry(const ZkEntry& entry);

class ZkBackend : public Backend {
 public:
  // name: the lock's name for messages; options.lock_path is its node.
  ZkBackend(const std::string& name, const ZkOptions& options);

  const ZkLock& zk_lock() const { return lock_; }
  const ZkOptions& options() const { return options_; }

  const std::string& name() const override { return name_; }
  std::string where() const override;
  bool TryAcquire() override { return Track(lock_.TryAcquire()); }
  bool Acquire(int64_t timeout_ms) override { return Track(lock_.Acquire(timeout_ms)); }
  bool Release() override { return Track(lock_.Release()); }
  void Cancel() override { lock_.Cancel(); }
  void set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) override;
  uint64_t fence() const override { return static_cast<uint64_t>(lock_.fence()); }
  bool Validate() override { return Track(lock_.Validate()); }
  const BackendStatus& status() const override { return status_; }
  Hold CheckHold(std::string* why, int64_t* next_check_ms) override;
  int wake_fd() const override { return lock_.wake_fd(); }
  // At once: the first check sends the first heartbeat.
  int64_t first_check_ms() const override { return 0; }
  bool List(std::vector<Holder>* entries) override;
  // The stop margin the session was judged with (see zk_lock.h).
  int64_t stop_margin_ms(int64_t wanted_ms) const override;

 private:
  bool Track(bool ok);
  void SetStatus(const ZkStatus& zk);

  std::string name_;
  ZkOptions options_;
  ZkLock lock_;
  BackendStatus status_;
};

}  // namespace zookeeper
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_ZOOKEEPER_BACKEND_H_
