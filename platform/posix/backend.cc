#include "platform/posix/backend.h"

namespace onlyone {
namespace posix {
namespace {

BackendError ToBackendError(LockError error) {
  switch (error) {
    case LockError::kNone: return BackendError::kNone;
    case LockError::kBusy: return BackendError::kBusy;
    case LockError::kCancelled: return BackendError::kCancelled;
    case LockError::kInvalidArgument: return BackendError::kInvalidArgument;
    case LockError::kUnsafeDirectory: return BackendError::kUnsafeDirectory;
    case LockError::kIo: return BackendError::kIo;
    case LockError::kIncompatibleEntry: return BackendError::kIncompatibleEntry;
    case LockError::kFenceCorrupt: return BackendError::kFenceCorrupt;
    case LockError::kLost: return BackendError::kLost;
  }
  return BackendError::kIo;
}

}  // namespace

BackendStatus ToBackendStatus(const LockStatus& status) {
  BackendStatus out;
  out.error = ToBackendError(status.error);
  out.os_error = status.os_error;
  out.message = status.message;
  out.has_holder = status.has_holder;
  out.holder = status.holder;
  out.entry_left_behind = status.entry_left_behind;
  return out;
}

PosixBackend::PosixBackend(const std::string& name, const LockOptions& options,
                           std::string display_dir)
    : lock_(name, options), options_(options), display_dir_(std::move(display_dir)) {}

const BackendStatus& PosixBackend::status() const {
  if (!list_status_valid_) status_ = ToBackendStatus(lock_.status());
  return status_;
}

Backend::Hold PosixBackend::CheckHold(std::string* why, int64_t* next_check_ms) {
  *next_check_ms = kValidateIntervalMs;
  if (Validate()) {
    validate_failures_ = 0;
    return Hold::kHeld;
  }
  const BackendStatus& failed = status();
  if (failed.error != BackendError::kLost && ++validate_failures_ < kValidateFailuresMax) {
    return Hold::kHeld;
  }
  // kLost: our entry was removed or replaced (someone judged us dead, or
  // removed it by hand); anything else: we can no longer read it back.
  *why = failed.error == BackendError::kLost
             ? "our entry in the lock directory was removed or replaced"
             : DescribeBackendStatus(failed);
  return Hold::kLost;
}

bool PosixBackend::List(std::vector<Holder>* entries) {
  LockStatus listed;
  const bool ok = Lock::List(lock_.name(), options_, entries, &listed);
  status_ = ToBackendStatus(listed);
  list_status_valid_ = true;
  return ok;
}

bool PosixBackend::RecordJobGroup(pid_t group_id, std::string* why) {
  if (lock_.RecordJobGroup(group_id)) return true;
  *why = lock_.status().message;
  return false;
}

}  // namespace posix
}  // namespace onlyone
