// onlyone::posix::PosixBackend: onlyone::Lock (a lock directory on this
// host) behind the backend-neutral interface of platform/backend.h.
#ifndef ONLYONE_PLATFORM_POSIX_BACKEND_H_
#define ONLYONE_PLATFORM_POSIX_BACKEND_H_

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "platform/backend.h"
#include "platform/posix/lock.h"

namespace onlyone {
namespace posix {

// How often CheckHold reads our entry back while work runs under the lock:
// the longest time the work can run unprotected after the lock is lost.
constexpr int64_t kValidateIntervalMs = 1000;
// Consecutive failed reads (other than kLost, which counts at once) after
// which CheckHold stops treating them as transient.
constexpr int kValidateFailuresMax = 3;

// The library's outcome in the backend-neutral terms.
BackendStatus ToBackendStatus(const LockStatus& status);

class PosixBackend : public Backend {
 public:
  // display_dir: the lock's parent directory as messages name it.
  PosixBackend(const std::string& name, const LockOptions& options, std::string display_dir);

  Lock* lock() { return &lock_; }  // for what only a local lock can do (--replace)
  const LockOptions& options() const { return options_; }

  const std::string& name() const override { return lock_.name(); }
  std::string where() const override { return "in " + display_dir_; }
  bool TryAcquire() override { return Track(lock_.TryAcquire()); }
  bool Acquire(int64_t timeout_ms) override { return Track(lock_.Acquire(timeout_ms)); }
  bool Release() override { return Track(lock_.Release()); }
  void Cancel() override { lock_.Cancel(); }
  void set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) override {
    lock_.set_wait_observer(std::move(observer));
  }
  uint64_t fence() const override { return lock_.held() ? lock_.fence() : 0; }
  bool Validate() override { return Track(lock_.Validate()); }
  const BackendStatus& status() const override;
  Hold CheckHold(std::string* why, int64_t* next_check_ms) override;
  // The entry was just written: reading it back at once would only cost
  // every holding a few system calls.
  int64_t first_check_ms() const override { return kValidateIntervalMs; }
  bool List(std::vector<Holder>* entries) override;
  int job_fd() const override { return lock_.anchor_fd(); }
  bool RecordJobGroup(pid_t group_id, std::string* why) override;

 private:
  // After a call on the Lock: status() reports the Lock's outcome again.
  bool Track(bool ok) {
    list_status_valid_ = false;
    return ok;
  }

  Lock lock_;
  LockOptions options_;
  std::string display_dir_;
  int validate_failures_ = 0;
  // status() maps the Lock's status when asked, so that it also covers
  // calls made on lock() directly; List's outcome is its own.
  mutable BackendStatus status_;
  bool list_status_valid_ = false;
};

}  // namespace posix
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_POSIX_BACKEND_H_
