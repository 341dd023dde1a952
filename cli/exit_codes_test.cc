#include "cli/exit_codes.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace onlyone {
namespace cli {
namespace {

BackendStatus StatusWith(BackendError error, int os_error = 0) {
  BackendStatus status;
  status.error = error;
  status.os_error = os_error;
  return status;
}

// A real wait status, from a real child.
int WaitStatusOfChildThat(void (*body)()) {
  const pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(99);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(ExitCodeForBackendStatus, MapsEachErrorToItsSysexitsCode) {
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kNone)), 0);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kBusy)), 75);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kInvalidArgument)), 64);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kUnsafeDirectory)), 73);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kIo, EIO)), 74);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kIncompatibleEntry)), 65);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kFenceCorrupt)), 65);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kLost)), 69);
}

TEST(ExitCodeForBackendStatus, MapsTheLockServicesErrorsToTheirOwnCodes) {
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kCancelled)), 75);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kUnreachable)), 68);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kNoChroot)), 78);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kSessionTooShort)), 78);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kSessionExpired)), 69);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kServer)), 69);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kPermission)), 77);
}

TEST(ExitCodeForBackendStatus, TreatsPermissionAndSpaceErrorsAsCannotCreate) {
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kIo, EACCES)), 73);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kIo, EROFS)), 73);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kIo, ENOSPC)), 73);
  EXPECT_EQ(ExitCodeForBackendStatus(StatusWith(BackendError::kIo, ENOENT)), 73);
}

TEST(AdviceForBackendStatus, SaysWhatToDoForDirectoryProblems) {
  EXPECT_NE(AdviceForBackendStatus(StatusWith(BackendError::kUnsafeDirectory)).find("--dir"),
            std::string::npos);
  EXPECT_NE(AdviceForBackendStatus(StatusWith(BackendError::kIo, EACCES)).find("writable"),
            std::string::npos);
}

TEST(ExitCodeForWaitStatus, PassesTheExitCodeThrough) {
  EXPECT_EQ(ExitCodeForWaitStatus(WaitStatusOfChildThat([] { _exit(0); })), 0);
  EXPECT_EQ(ExitCodeForWaitStatus(WaitStatusOfChildThat([] { _exit(42); })), 42);
  EXPECT_EQ(ExitCodeForWaitStatus(WaitStatusOfChildThat([] { _exit(255); })), 255);
}

TEST(ExitCodeForWaitStatus, AddsTheSignalNumberTo128) {
  EXPECT_EQ(ExitCodeForWaitStatus(WaitStatusOfChildThat([] { raise(SIGKILL); })), 128 + SIGKILL);
  EXPECT_EQ(ExitCodeForWaitStatus(WaitStatusOfChildThat([] { raise(SIGTERM); })), 128 + SIGTERM);
}

TEST(ExitCodeForExecErrno, FollowsTheShell) {
  EXPECT_EQ(ExitCodeForExecErrno(ENOENT), 127);
  EXPECT_EQ(ExitCodeForExecErrno(EACCES), 126);
  EXPECT_EQ(ExitCodeForExecErrno(ENOEXEC), 126);
}

}  // namespace
}  // namespace cli
}  // namespace onlyone
