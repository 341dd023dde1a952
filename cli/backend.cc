#include "cli/backend.h"

#include <stdio.h>

#include "cli/exit_codes.h"

namespace onlyone {
namespace cli {
namespace {

// How often the local backend reads our entry back while the command runs:
// the longest time the command can run unprotected after the lock is lost.
constexpr int kValidateIntervalMs = 1000;
// Consecutive failed Validate() calls (other than kLost, which counts at
// once) after which we stop treating them as transient.
constexpr int kValidateFailuresMax = 3;

}  // namespace

LocalBackend::LocalBackend(const std::string& name, const LockOptions& options,
                           std::string display_dir)
    : lock_(name, options), display_dir_(std::move(display_dir)) {}

int LocalBackend::ReportFailure() const {
  const LockStatus& status = lock_.status();
  std::string line = "onlyone: cannot lock '" + lock_.name() + "' in " + display_dir_ + ": " +
                     DescribeLockStatus(status);
  // The library's messages usually say what to do; add ours when it did not.
  const std::string advice = AdviceForLockStatus(status);
  if (status.message.empty() && !advice.empty()) line += "; " + advice;
  fprintf(stderr, "%s\n", line.c_str());
  if (status.entry_left_behind) {
    fprintf(stderr,
            "onlyone: our entry in '%s' could not be removed; it blocks others until "
            "this process exits\n",
            lock_.name().c_str());
  }
  return ExitCodeForLockStatus(status);
}

bool LocalBackend::RecordJobGroup(pid_t group_id, std::string* why) {
  if (lock_.RecordJobGroup(group_id)) return true;
  *why = lock_.status().message;
  return false;
}

int64_t LocalBackend::first_check_ms() const { return kValidateIntervalMs; }

std::string LocalBackend::DescribeStatus() const { return DescribeLockStatus(lock_.status()); }

LockBackend::Check LocalBackend::CheckHeld(std::string* why, int64_t* next_check_ms) {
  *next_check_ms = kValidateIntervalMs;
  if (lock_.Validate()) {
    validate_failures_ = 0;
    return Check::kHeld;
  }
  const LockStatus& status = lock_.status();
  if (status.error != LockError::kLost && ++validate_failures_ < kValidateFailuresMax) {
    return Check::kHeld;
  }
  // kLost: our entry was removed or replaced (someone judged us dead, or
  // removed it by hand); anything else: we can no longer read it back.
  *why = status.error == LockError::kLost
             ? "our entry in the lock directory was removed or replaced"
             : DescribeLockStatus(status);
  return Check::kLost;
}

}  // namespace cli
}  // namespace onlyone
