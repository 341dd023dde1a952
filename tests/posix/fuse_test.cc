// A lock directory on a file system without a one-step rename that refuses
// to replace (RENAME_NOREPLACE): a FUSE mount (bindfs), the same answer as
// NFS gives, EINVAL. The fence counter then moves by a hard link and an
// unlink, and the core must decide those moves from a listing made while it
// holds (Config::linked_moves; docs/protocol.md, P6). Real mounts, real
// processes: the test runs as root in a mount namespace of its own, so the
// mounts go with it whatever happens.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "platform/posix/driver.h"
#include "platform/posix/driver_os.h"
#include "tests/posix/process_util.h"

namespace onlyone {
namespace {

using testing_posix::FreeLockNames;
using testing_posix::NamesIn;
using testing_posix::ReadFile;
using testing_posix::RunShell;
using testing_posix::ShellResult;

// One mount namespace for the whole test process, made once: mounts made
// in it are nobody else's and vanish with the process.
bool EnterPrivateMountNamespace(std::string* why) {
  static int error = -1;
  if (error < 0) {
    error = 0;
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      error = errno;
    }
  }
  if (error != 0) *why = std::string("unshare/mount: ") + strerror(error);
  return error == 0;
}

class FuseDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "these tests mount file systems: run them as root";
    std::string why;
    ASSERT_TRUE(EnterPrivateMountNamespace(&why)) << why;
    scratch_ = testing_posix::MakeScratchDir("fuse");
    ASSERT_FALSE(scratch_.empty());
    contender_ = testing_posix::ContenderPath();
    ASSERT_FALSE(contender_.empty());
    backing_ = scratch_ + "/backing";
    mount_point_ = scratch_ + "/fuse";
    ASSERT_EQ(mkdir(backing_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(mount_point_.c_str(), 0700), 0);
    const ShellResult bindfs = RunShell({"bindfs", backing_, mount_point_}, {});
    ASSERT_EQ(bindfs.exit_code, 0) << "bindfs (Debian's bindfs and fuse3, /dev/fuse) is needed; "
                                      "tools/bootstrap.sh installs it: "
                                   << bindfs.output;
    mounted_ = true;
    locks_ = mount_point_ + "/locks";
    tokens_ = scratch_ + "/tokens";
    ASSERT_EQ(mkdir(locks_.c_str(), 0700), 0);
  }
  void TearDown() override {
    // The daemon ends when its mount goes.
    if (mounted_) {
      EXPECT_EQ(umount2(mount_point_.c_str(), MNT_DETACH), 0) << strerror(errno);
    }
  }
  // One process's command line: `rounds` acquisitions of "job", each token
  // appended to tokens_ while it holds.
  std::vector<std::string> ContenderArgs(int rounds) const {
    return {contender_, "--dir", locks_, "--name", "job", "--rounds", std::to_string(rounds),
            "--tokens", tokens_};
  }
  ShellResult Contend(int rounds) { return RunShell(ContenderArgs(rounds), {}); }
  std::string scratch_;
  std::string contender_;
  std::string backing_;
  std::string mount_point_;
  std::string locks_;
  std::string tokens_;
  bool mounted_ = false;
};

// The tokens in tokens_, in the order they were handed out.
std::vector<uint64_t> TokensIn(const std::string& path) {
  std::vector<uint64_t> tokens;
  const std::string text = ReadFile(path);
  for (size_t at = 0; at < text.size();) {
    const size_t end = text.find('\n', at);
    if (end == std::string::npos) break;
    tokens.push_back(strtoull(text.substr(at, end - at).c_str(), nullptr, 10));
    at = end + 1;
  }
  return tokens;
}

TEST_F(FuseDirectory, IsNotTakenForAFileSystemWithAnAtomicNoReplaceRename) {
  const int fuse_fd = open(mount_point_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fuse_fd, 0);
  EXPECT_FALSE(posix::RenameNoReplaceIsAtomic(fuse_fd));
  close(fuse_fd);
  // The contrast, on a tmpfs of our own: the rename there is one step.
  const std::string tmpfs = scratch_ + "/tmpfs";
  ASSERT_EQ(mkdir(tmpfs.c_str(), 0700), 0);
  ASSERT_EQ(mount("tmpfs", tmpfs.c_str(), "tmpfs", 0, "size=1m"), 0) << strerror(errno);
  const int tmpfs_fd = open(tmpfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(tmpfs_fd, 0);
  EXPECT_TRUE(posix::RenameNoReplaceIsAtomic(tmpfs_fd));
  close(tmpfs_fd);
  EXPECT_EQ(umount2(tmpfs.c_str(), MNT_DETACH), 0);
}

// A driver told the rename is atomic where the file system refuses it: the
// move it was asked for was decided for a one-step rename, so it is not
// made; the core hears "the counter moved" and lists again, and the driver
// links from then on.
TEST_F(FuseDirectory, AMoveTheFileSystemRefusesIsNotMadeAndLaterMovesLink) {
  const int dir_fd = open(locks_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  ASSERT_EQ(symlinkat("fence", dir_fd, "fence.1"), 0);
  posix::Driver driver(dir_fd, -1);
  Op move;
  move.kind = OpKind::kMove;
  move.from = Bytes{"fence.1", 7};
  move.name = Bytes{"fence.2", 7};
  const Result refused = driver.Perform(move);
  EXPECT_EQ(refused.status, IoStatus::kNotFound);
  EXPECT_EQ(refused.os_error, EINVAL);
  EXPECT_TRUE(driver.moves_by_link());
  EXPECT_EQ(NamesIn(locks_), std::vector<std::string>{"fence.1"}) << "nothing moved";
  EXPECT_EQ(driver.Perform(move).status, IoStatus::kOk);
  EXPECT_EQ(NamesIn(locks_), std::vector<std::string>{"fence.2"});
  // And as a compare-and-swap: from a counter that has gone, nothing.
  EXPECT_EQ(driver.Perform(move).status, IoStatus::kNotFound);
  EXPECT_EQ(NamesIn(locks_), std::vector<std::string>{"fence.2"});
  close(dir_fd);
}

TEST_F(FuseDirectory, HandsOutStrictlyIncreasingTokensToContendingProcesses) {
  constexpr int kProcesses = 3;
  constexpr int kRounds = 40;
  std::vector<pid_t> pids;
  const std::string log = scratch_ + "/contenders.log";
  for (int i = 0; i < kProcesses; ++i) {
    std::vector<std::string> args = ContenderArgs(kRounds);
    args.insert(args.end(), {"--witness-dir", scratch_});
    pids.push_back(testing_posix::Spawn(args, log));
  }
  for (pid_t pid : pids) {
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    EXPECT_EQ(testing_posix::ExitCode(wstatus), 0) << ReadFile(log);
  }
  const std::vector<uint64_t> tokens = TokensIn(tokens_);
  ASSERT_EQ(tokens.size(), static_cast<size_t>(kProcesses * kRounds)) << ReadFile(log);
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(tokens[i], i + 1) << "holding " << i;
  }
  EXPECT_EQ(NamesIn(locks_ + "/job"), FreeLockNames(kProcesses * kRounds));
}

// What a holder killed between the link and the unlink of its move leaves:
// the counter under its old name and its new one. The next holder takes a
// token above both and removes the lower name.
TEST_F(FuseDirectory, ATokenComesAfterBothNamesAMoveCutShortLeft) {
  ASSERT_EQ(Contend(1).exit_code, 0);
  const std::string job = locks_ + "/job/";
  ASSERT_EQ(rename((job + "fence.1").c_str(), (job + "fence.4").c_str()), 0);
  ASSERT_EQ(link((job + "fence.4").c_str(), (job + "fence.5").c_str()), 0);
  const ShellResult result = Contend(1);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(TokensIn(tokens_), (std::vector<uint64_t>{1, 6}));
  EXPECT_EQ(NamesIn(locks_ + "/job"), FreeLockNames(6));
}

}  // namespace
}  // namespace onlyone
