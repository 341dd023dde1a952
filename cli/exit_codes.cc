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

int ExitCodeForBackendStatus(const BackendStatus& status) {
  switch (status.error) {
    case BackendError::kNone: return kExitOk;
    case BackendError::kBusy:
    case BackendError::kCancelled: return kExitTempFail;
    case BackendError::kInvalidArgument: return kExitUsage;
    case BackendError::kUnsafeDirectory: return kExitCantCreat;
    case BackendError::kIo: return IsCantCreateErrno(status.os_error) ? kExitCantCreat : kExitIoErr;
    case BackendError::kIncompatibleEntry:
    case BackendError::kFenceCorrupt: return kExitDataErr;
    case BackendError::kUnreachable: return kExitNoHost;
    case BackendError::kNoChroot:
    case BackendError::kSessionTooShort: return kExitConfig;
    case BackendError::kLost:
    case BackendError::kSessionExpired:
    case BackendError::kServer: return kExitUnavailable;
    case BackendError::kPermission: return kExitNoPerm;
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

std::string AdviceForBackendStatus(const BackendStatus& status) {
  switch (status.error) {
    case BackendError::kUnsafeDirectory:
      return "use a private directory (mode 0700, owned by you) with --dir or ONLYONE_DIR, "
             "or --shared-dir for a sticky directory shared by several users";
    case BackendError::kIo:
      if (IsCantCreateErrno(status.os_error)) {
        return "check that the lock directory is writable by you, or choose another with "
               "--dir or ONLYONE_DIR";
      }
      return "check the file system of the lock directory, then try again";
    case BackendError::kIncompatibleEntry:
      return "a newer onlyone uses this lock: run that version, or wait until it is released";
    case BackendError::kFenceCorrupt:
      return "the lock's fence counter is damaged: when nothing holds the lock, remove its "
             "directory (see 'onlyone status') and try again";
    case BackendError::kInvalidArgument:
      return "see 'onlyone --help' for valid names and slot counts";
    default: return "";
  }
}

}  // namespace cli
}  // namespace onlyone
