// Hostile and broken directories, with real processes (H10): a world-writable
// parent, a foreign owner, a planted symlink, garbage entries, a read-only
// and a full file system. Each must end in a clear message, and nothing of
// anyone else's may be touched.
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/posix/process_util.h"

namespace onlyone {
namespace {

using testing_posix::NamesIn;
using testing_posix::ReadFile;
using testing_posix::RunShell;
using testing_posix::ShellResult;

constexpr int kFailure = 1;

class HostileDirectories : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "these tests need root (chown, mount); run them as root";
    scratch_ = testing_posix::MakeScratchDir("hostile");
    ASSERT_FALSE(scratch_.empty());
    contender_ = testing_posix::ContenderPath();
    ASSERT_FALSE(contender_.empty());
  }
  ShellResult Contend(const std::string& dir, std::vector<std::string> extra = {"--try"}) {
    std::vector<std::string> args = {contender_, "--dir", dir, "--name", "job"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunShell(args, {});
  }
  std::string scratch_;
  std::string contender_;
};

TEST_F(HostileDirectories, RefusesAWorldWritableParentAndSaysHowToFixIt) {
  const std::string dir = scratch_ + "/open";
  ASSERT_EQ(mkdir(dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  ShellResult result = Contend(dir);
  EXPECT_EQ(result.exit_code, kFailure);
  EXPECT_NE(result.output.find("writable by others"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("chmod go-w " + dir), std::string::npos) << result.output;
  EXPECT_TRUE(NamesIn(dir).empty()) << "nothing created in a refused directory";
}

TEST_F(HostileDirectories, RefusesALockDirectoryPlantedByAnotherUser) {
  const std::string dir = scratch_ + "/locks";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir + "/job").c_str(), 0700), 0);
  ASSERT_EQ(chown((dir + "/job").c_str(), 65534, 65534), 0);
  ShellResult result = Contend(dir);
  EXPECT_EQ(result.exit_code, kFailure);
  EXPECT_NE(result.output.find("owned by uid 65534"), std::string::npos) << result.output;
}

TEST_F(HostileDirectories, RefusesAParentOwnedByAnotherUser) {
  const std::string dir = scratch_ + "/theirs";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chown(dir.c_str(), 65534, 65534), 0);
  ShellResult result = Contend(dir);
  EXPECT_EQ(result.exit_code, kFailure);
  EXPECT_NE(result.output.find("owned by uid 65534"), std::string::npos) << result.output;
}

TEST_F(HostileDirectories, NeverFollowsAPlantedSymlinkAsTheLockDirectory) {
  const std::string dir = scratch_ + "/locks";
  const std::string victim = scratch_ + "/victim";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(victim.c_str(), 0700), 0);
  ASSERT_EQ(symlink(victim.c_str(), (dir + "/job").c_str()), 0);
  ShellResult result = Contend(dir);
  EXPECT_EQ(result.exit_code, kFailure);
  EXPECT_NE(result.output.find("symbolic link"), std::string::npos) << result.output;
  EXPECT_TRUE(NamesIn(victim).empty()) << "nothing written through the link";
}

TEST_F(HostileDirectories, SkipsGarbageEntriesAndLeavesThemUntouched) {
  const std::string dir = scratch_ + "/locks";
  const std::string job = dir + "/job";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(job.c_str(), 0700), 0);
  const std::string hex = "0123456789abcdef0123456789abcdef";
  // A symlink with garbage, a regular file under an entry name, a foreign
  // file, and a real-looking record whose nonce does not match its name.
  ASSERT_EQ(symlink("not a record", (job + "/o." + hex).c_str()), 0);
  int fd = open((job + "/o.fedcba9876543210fedcba9876543210").c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "junk", 4), 4);
  close(fd);
  fd = open((job + "/notes.txt").c_str(), O_CREAT | O_WRONLY, 0600);
  close(fd);
  const std::string planted =
      "onlyone1;state=waiting;ticket=1;slots=1;nonce=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;pid=1;"
      "start=1;boot=00000000000000000000000000000000;pidns=0;host=x;since=1;seen=1;cmd=;end";
  ASSERT_EQ(symlink(planted.c_str(), (job + "/o.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").c_str()), 0);
  const std::vector<std::string> before = NamesIn(job);

  ShellResult result = Contend(dir);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::vector<std::string> after = NamesIn(job);
  for (const std::string& fenced : testing_posix::FreeLockNames(1)) {
    after.erase(std::remove(after.begin(), after.end(), fenced), after.end());
  }
  EXPECT_EQ(after, before);
  char target[256] = {};
  ASSERT_GT(readlink((job + "/o." + hex).c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "not a record");
  EXPECT_EQ(ReadFile(job + "/o.fedcba9876543210fedcba9876543210"), "junk");
}

// Read-only and full file systems: a private mount namespace (unshare
// --mount) so that the tmpfs disappears with the test whatever happens.
TEST_F(HostileDirectories, ReportsAReadOnlyFileSystemClearly) {
  const std::string script = R"(
set -u
mount -t tmpfs -o size=1m tmpfs "$M" || { echo "cannot mount tmpfs"; exit 10; }
mkdir -m 700 "$M/locks"
mount -o remount,ro "$M" || { echo "cannot remount read-only"; exit 11; }
"$C" --dir "$M/locks" --name job --try; rc=$?
echo "exit $rc"
ls -A "$M/locks"
exit $rc
)";
  const std::string mount_point = scratch_ + "/ro";
  ASSERT_EQ(mkdir(mount_point.c_str(), 0700), 0);
  ShellResult result =
      RunShell({"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script},
               {{"C", contender_}, {"M", mount_point}});
  EXPECT_EQ(result.exit_code, kFailure) << "needs root and mount namespaces: " << result.output;
  EXPECT_NE(result.output.find("read-only"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("use --dir"), std::string::npos) << result.output;
}

// One try on a fresh tmpfs mounted with `options` whose blocks are all
// taken by a file, in a private mount namespace; prints its exit status and
// what it left in the lock directory.
ShellResult TryOnAFilledTmpfs(const std::string& options, const std::string& mount_point,
                              const std::string& contender) {
  const std::string script = R"(
set -u
mount -t tmpfs -o "$O" tmpfs "$M" || { echo "cannot mount tmpfs"; exit 10; }
mkdir -m 700 "$M/locks" "$M/locks/job"
dd if=/dev/zero of="$M/fill" bs=4k count=1000 2>/dev/null
"$C" --dir "$M/locks" --name job --try; rc=$?
echo "exit $rc"
echo "left: [$(ls -A "$M/locks/job")]"
exit $rc
)";
  EXPECT_EQ(mkdir(mount_point.c_str(), 0700), 0);
  return RunShell({"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script},
                  {{"C", contender}, {"M", mount_point}, {"O", options}});
}

// Full: no inode left, so not even the anchor can be made. (With inodes left
// but no blocks, the lock works: every record fits in its symlink's inode.)
TEST_F(HostileDirectories, ReportsAFullFileSystemAndLeavesNothingBehind) {
  const ShellResult result =
      TryOnAFilledTmpfs("size=64k,nr_inodes=4", scratch_ + "/full", contender_);
  EXPECT_EQ(result.exit_code, kFailure) << "needs root and mount namespaces: " << result.output;
  EXPECT_NE(result.output.find("full"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("left: []"), std::string::npos) << result.output;
}

TEST_F(HostileDirectories, AcquiresOnAFileSystemWithInodesButNoFreeBlocks) {
  // Records fit in their symlinks' inodes (core/record.h, version 2): a file
  // system out of blocks still takes and releases the lock.
  const ShellResult result = TryOnAFilledTmpfs("size=64k", scratch_ + "/noblocks", contender_);
  EXPECT_EQ(result.exit_code, 0) << "needs root and mount namespaces: " << result.output;
  const std::vector<std::string> left = testing_posix::FreeLockNames(1);
  EXPECT_NE(result.output.find("left: [" + left[0] + "\n" + left[1] + "]"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace onlyone
