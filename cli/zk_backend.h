// The ZooKeeper backend of the command (--zk): zookeeper::ZkLock behind the
// LockBackend interface, and `status` for locks on an ensemble.
#ifndef ONLYONE_CLI_ZK_BACKEND_H_
#define ONLYONE_CLI_ZK_BACKEND_H_

#include <string>
#include <vector>

#include "cli/backend.h"
#include "cli/status_format.h"
#include "platform/zookeeper/zk_lock.h"

namespace onlyone {
namespace cli {

// The exit code for a failed ZooKeeper lock operation other than "busy".
int ExitCodeForZkError(zookeeper::ZkError error);

// An entry of a ZooKeeper lock as `status` and the conflict line show it.
// A node exists only while its owner's session lives: alive is known, true.
Holder HolderFromZkEntry(const zookeeper::ZkEntry& entry);

class ZkBackend : public LockBackend {
 public:
  ZkBackend(const std::string& name, const zookeeper::ZkOptions& options);

  const std::string& name() const override { return name_; }
  std::string where() const override;
  bool TryAcquire() override;
  bool Acquire(int64_t timeout_ms) override;
  bool Release() override { return lock_.Release(); }
  void Cancel() override { lock_.Cancel(); }
  void set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) override;
  std::string fence() const override { return std::to_string(lock_.fence()); }
  const LockStatus& status() const override { return status_; }
  int ReportFailure() const override;
  std::string DescribeStatus() const override { return lock_.status().message; }
  Check CheckHeld(std::string* why, int64_t* next_check_ms) override;
  int wake_fd() const override { return lock_.wake_fd(); }
  // At once: the first check sends the first heartbeat.
  int64_t first_check_ms() const override { return 0; }

  const zookeeper::ZkLock& zk_lock() const { return lock_; }
  // The grace to stop the command with: the stop margin in force, which is
  // --grace unless it was fitted to a short session (fit_stop_margin).
  int64_t grace_ms() const { return lock_.stop_margin_ms(); }
  // For -v, once acquired: the session the server granted, and the grace
  // and tolerance it left when the grace is not `default_grace_ms`.
  std::string DescribeFittedGrace(int64_t default_grace_ms) const;

 private:
  void UpdateStatus();

  std::string name_;
  zookeeper::ZkOptions options_;
  zookeeper::ZkLock lock_;
  LockStatus status_;
};

// `onlyone --zk ... status [NAME]`: the locks under `root` (or the one lock
// at options.lock_path when `single` is set). false: *error_line and
// *exit_code say why.
bool ListZkLocks(const zookeeper::ZkOptions& options, const std::string& root,
                 const std::string& name, bool single, std::vector<LockListing>* locks,
                 std::string* error_line, int* exit_code);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_ZK_BACKEND_H_
