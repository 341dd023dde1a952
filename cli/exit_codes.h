// Exit codes of the onlyone command.
//
// The child's own status is passed through (0-255, or 128+N when signal N
// killed it), so onlyone's own outcomes use the sysexits(3) range 64-78,
// which commands rarely use, plus the shell's 126/127 for "could not run".
#ifndef ONLYONE_CLI_EXIT_CODES_H_
#define ONLYONE_CLI_EXIT_CODES_H_

#include <string>

#include "platform/backend.h"

namespace onlyone {
namespace cli {

// sysexits(3) values, spelled out so the numbers are visible where used.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 64;  // EX_USAGE: bad option or value
constexpr int kExitDataErr =
    65;  // EX_DATAERR: lock data we cannot read (newer onlyone, corrupt fence)
constexpr int kExitNoHost =
    68;  // EX_NOHOST: ZooKeeper ensemble unreachable (or a host does not resolve)
constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: the lock was lost while the command ran
constexpr int kExitSoftware = 70;     // EX_SOFTWARE: internal error (a bug)
constexpr int kExitOsErr = 71;        // EX_OSERR: fork, pipe or signal setup failed
constexpr int kExitCantCreat = 73;    // EX_CANTCREAT: lock directory unsafe or not writable
constexpr int kExitIoErr = 74;        // EX_IOERR: other file system failure
constexpr int kExitTempFail = 75;     // EX_TEMPFAIL: held by others (default), or wait timed out
constexpr int kExitNoPerm = 77;       // EX_NOPERM: ZooKeeper refused access (ACL, authentication)
constexpr int kExitConfig = 78;  // EX_CONFIG: ZooKeeper chroot missing, session timeout too short
constexpr int kExitCannotExecute = 126;  // the command exists but cannot be executed
constexpr int kExitNotFound = 127;       // the command was not found
constexpr int kExitSignalBase = 128;     // 128+N: killed by (or cancelled on) signal N

// The exit code for a failed lock operation other than "busy" (which the
// caller maps to its conflict code), whichever backend failed.
int ExitCodeForBackendStatus(const BackendStatus& status);

// The exit code that passes a child's wait status through: its exit code, or
// 128+N when signal N terminated it.
int ExitCodeForWaitStatus(int wait_status);

// The exit code for an exec() failure with this errno (as shells do).
int ExitCodeForExecErrno(int exec_errno);

// (The status as one line: DescribeBackendStatus in platform/backend.h.)

// One line of advice for a failed lock operation: what to do about it.
std::string AdviceForBackendStatus(const BackendStatus& status);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_EXIT_CODES_H_
