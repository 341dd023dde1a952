#include "cli/exit_codes.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

namespace onlyone {
namespace cli {
namespace {

// I/O errors that mean "this directory cannot hold our lock" rather than "the
// disk failed": the user fixes them by choosing or fixing the directory.
bool IsCantCreateErrno(int os_error) {
  switch (os_error) {
    case ENOENT:  // a missing parent directory
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOSPC:
    case EDQUOT:
    case ENOTDIR:
    case ELOOP:
    case ENAMETOOLONG: return true;
    default: return false;
  }
}

}  // namespace

int ExitCodeForLockStatus(const LockStatus& status) {
  switch (status.error) {
    case LockError::kNone: return kExitOk;
    case LockError::kBusy:
    case LockError::kCancelled: return kExitTempFail;
    case LockError::kInvalidArgument: return kExitUsage;
    case LockError::kUnsafeDirectory: return kExitCantCreat;
    case LockError::kIo: return IsCantCreateErrno(status.os_error) ? kExitCantCreat : kExitIoErr;
    case LockError::kIncompatibleEntry:
    case LockError::kFenceCorrupt: return kExitDataErr;
    case LockError::kLost: return kExitUnavailable;
  }
  return kExitSoftware;
}

int ExitCodeForWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return kExitSignalBase + WTERMSIG(wait_status);
  return kExitSoftware;  // stopped/continued are never passed here
}

int ExitCodeForExecErrno(int exec_errno) {
  return exec_errno == ENOENT || exec_errno == ENOTDIR ? kExitNotFound : kExitCannotExecute;
}

std::string DescribeLockStatus(const LockStatus& status) {
  const std::string prefix = "onlyone: ";
  std::string message = status.message;
  if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
  if (!message.empty()) return message;
  message = LockErrorName(status.error);
  if (status.os_error != 0) message += std::string(": ") + strerror(status.os_error);
  return message;
}

std::string AdviceForLockStatus(const LockStatus& status) {
  switch (status.error) {
    case LockError::kUnsafeDirectory:
      return "use a private directory (mode 0700, owned by you) with --dir or ONLYONE_DIR, "
             "or --shared-dir for a sticky directory shared by several users";
    case LockError::kIo:
      if (IsCantCreateErrno(status.os_error)) {
        return "check that the lock directory is writable by you, or choose another with "
               "--dir or ONLYONE_DIR";
      }
      return "check the file system of the lock directory, then try again";
    case LockError::kIncompatibleEntry:
      return "a newer onlyone uses this lock: run that version, or wait until it is released";
    case LockError::kFenceCorrupt:
      return "the lock's fence counter is damaged: when nothing holds the lock, remove its "
             "directory (see 'onlyone status') and try again";
    case LockError::kInvalidArgument: return "see 'onlyone --help' for valid names and slot counts";
    default: return "";
  }
}

}  // namespace cli
}  // namespace onlyone
