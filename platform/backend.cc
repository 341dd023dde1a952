#include "platform/backend.h"

#include <string.h>

namespace onlyone {

const char* BackendErrorName(BackendError error) {
  switch (error) {
    case BackendError::kNone: return "none";
    case BackendError::kBusy: return "busy";
    case BackendError::kCancelled: return "cancelled";
    case BackendError::kInvalidArgument: return "invalid argument";
    case BackendError::kLost: return "lost";
    case BackendError::kUnsafeDirectory: return "unsafe directory";
    case BackendError::kIo: return "i/o error";
    case BackendError::kIncompatibleEntry: return "incompatible entry";
    case BackendError::kFenceCorrupt: return "fence corrupt";
    case BackendError::kPermission: return "permission denied";
    case BackendError::kUnreachable: return "unreachable";
    case BackendError::kNoChroot: return "no chroot";
    case BackendError::kSessionTooShort: return "session too short";
    case BackendError::kSessionExpired: return "session expired";
    case BackendError::kServer: return "server error";
  }
  return "unknown";
}

std::string DescribeBackendStatus(const BackendStatus& status) {
  const std::string prefix = "onlyone: ";
  std::string message = status.message;
  if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
  if (!message.empty()) return message;
  message = BackendErrorName(status.error);
  if (status.os_error != 0) message += std::string(": ") + strerror(status.os_error);
  return message;
}

}  // namespace onlyone
