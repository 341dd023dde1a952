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

LockStatus StatusWith(LockError error, int os_error = 0) {
  LockStatus status;
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

TEST(ExitCodeForLockStatus, MapsEachErrorToItsSysexitsCode) {
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kNone)), 0);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kBusy)), 75);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kInvalidArgument)), 64);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kUnsafeDirectory)), 73);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kIo, EIO)), 74);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kIncompatibleEntry)), 65);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kFenceCorrupt)), 65);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kLost)), 69);
}

TEST(ExitCodeForLockStatus, TreatsPermissionAndSpaceErrorsAsCannotCreate) {
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kIo, EACCES)), 73);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kIo, EROFS)), 73);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kIo, ENOSPC)), 73);
  EXPECT_EQ(ExitCodeForLockStatus(StatusWith(LockError::kIo, ENOENT)), 73);
}

TEST(AdviceForLockStatus, SaysWhatToDoForDirectoryProblems) {
  EXPECT_NE(AdviceForLockStatus(StatusWith(LockError::kUnsafeDirectory)).find("--dir"),
            std::string::npos);
  EXPECT_NE(AdviceForLockStatus(StatusWith(LockError::kIo, EACCES)).find("writable"),
            std::string::npos);
}

TEST(DescribeLockStatus, DropsTheLibrarysPrefixOrNamesTheError) {
  LockStatus status = StatusWith(LockError::kIo, EIO);
  status.message = "onlyone: cannot read x: Input/output error";
  EXPECT_EQ(DescribeLockStatus(status), "cannot read x: Input/output error");
  status.message.clear();
  EXPECT_EQ(DescribeLockStatus(status),
            std::string(LockErrorName(LockError::kIo)) + ": " + strerror(EIO));
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
