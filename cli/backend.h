// The lock the command runs under, whichever backend holds it: a lock
// directory on this host (onlyone::Lock) or a ZooKeeper ensemble
// (zookeeper::ZkLock). main.cc acquires and releases through this interface
// and supervise.cc watches it while the command runs, so the contract (try
// once, --wait, conflict line, fence, lost-lock stop) is written once.
#ifndef ONLYONE_CLI_BACKEND_H_
#define ONLYONE_CLI_BACKEND_H_

#include <stdint.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "platform/posix/lock.h"

namespace onlyone {
namespace cli {

class LockBackend {
 public:
  virtual ~LockBackend() = default;

  virtual const std::string& name() const = 0;
  // Where the lock lives, for messages: "in /run/onlyone", "on ZooKeeper ...".
  virtual std::string where() const = 0;

  virtual bool TryAcquire() = 0;
  virtual bool Acquire(int64_t timeout_ms) = 0;  // kWaitForever: no limit
  virtual bool Release() = 0;
  // Interrupts a waiting Acquire. REQUIRES: async-signal-safe.
  virtual void Cancel() = 0;
  virtual void set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) = 0;
  // The fencing token of the current holding, as ONLYONE_FENCE shows it.
  virtual std::string fence() const = 0;

  // After a failed acquire: the outcome, with the holder when busy (for
  // ConflictLine; status().error is kBusy then).
  virtual const LockStatus& status() const = 0;
  // After a failure other than busy: prints why (one line, what to do) and
  // returns the exit code.
  virtual int ReportFailure() const = 0;
  // After Release() failed: why, for a warning.
  virtual std::string DescribeStatus() const = 0;

  // While the command runs: is the lock still ours? kLost: *why says why,
  // and the supervisor stops the command. *next_check_ms: check again within
  // this many ms, or earlier when wake_fd() (if not -1) is readable.
  enum class Check : uint8_t { kHeld, kLost };
  virtual Check CheckHeld(std::string* why, int64_t* next_check_ms) = 0;
  virtual int wake_fd() const { return -1; }
  // The job's share of the lock, so that it stays held while the job runs
  // even if onlyone is killed (see platform/posix/job.h): the descriptor
  // the command inherits (-1: none), and the job's process group, recorded
  // once it exists. false: *why says what is not covered. ZooKeeper's lock
  // lives in the session on the server, which the job cannot share: none.
  virtual int job_fd() const { return -1; }
  virtual bool RecordJobGroup(pid_t group_id, std::string* why) {
    (void)group_id;
    (void)why;
    return true;
  }
  // When to call CheckHeld first, in ms after the command starts.
  virtual int64_t first_check_ms() const = 0;
};

// The local backend: onlyone::Lock in a lock directory.
class LocalBackend : public LockBackend {
 public:
  LocalBackend(const std::string& name, const LockOptions& options, std::string display_dir);

  Lock* lock() { return &lock_; }  // --replace works on local locks only

  const std::string& name() const override { return lock_.name(); }
  std::string where() const override { return "in " + display_dir_; }
  bool TryAcquire() override { return lock_.TryAcquire(); }
  bool Acquire(int64_t timeout_ms) override { return lock_.Acquire(timeout_ms); }
  bool Release() override { return lock_.Release(); }
  void Cancel() override { lock_.Cancel(); }
  void set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) override {
    lock_.set_wait_observer(std::move(observer));
  }
  std::string fence() const override { return std::to_string(lock_.fence()); }
  const LockStatus& status() const override { return lock_.status(); }
  int ReportFailure() const override;
  std::string DescribeStatus() const override;
  Check CheckHeld(std::string* why, int64_t* next_check_ms) override;
  int job_fd() const override { return lock_.anchor_fd(); }
  bool RecordJobGroup(pid_t group_id, std::string* why) override;
  // The entry was just written: reading it back at once would only cost
  // every run of the command a few system calls.
  int64_t first_check_ms() const override;

 private:
  Lock lock_;
  std::string display_dir_;
  int validate_failures_ = 0;
};

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_BACKEND_H_
