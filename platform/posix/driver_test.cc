#include "platform/posix/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "platform/posix/job.h"
#include "tests/posix/process_util.h"

namespace onlyone {
namespace posix {
namespace {

Bytes B(const std::string& text) { return Bytes{text.data(), static_cast<uint32_t>(text.size())}; }
std::string S(Bytes bytes) { return std::string(bytes.data, bytes.size); }

// A fresh lock directory under the test's private temporary directory.
class PosixDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing_posix::MakeScratchDir("driver");
    ASSERT_FALSE(path_.empty());
    dir_fd_ = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(dir_fd_, 0);
  }
  void TearDown() override { close(dir_fd_); }

  Result Do(Driver* driver, OpKind kind, const std::string& name, const std::string& record = "",
            const std::string& from = "") {
    Op op;
    op.kind = kind;
    op.name = B(name);
    op.record = B(record);
    op.from = B(from);
    return driver->Perform(op);
  }

  std::set<std::string> ListAll(Driver* driver) {
    driver->ArmWatch();  // as a waiting acquisition does; idempotent
    std::set<std::string> names;
    EXPECT_EQ(Do(driver, OpKind::kListStart, "").status, IoStatus::kOk);
    for (;;) {
      Result r = Do(driver, OpKind::kListNext, "");
      if (r.status == IoStatus::kEnd) break;
      EXPECT_EQ(r.status, IoStatus::kOk);
      EXPECT_TRUE(names.insert(S(r.data)).second) << "listed twice: " << S(r.data);
    }
    return names;
  }

  // As the core asks: a named target is the predecessor we queue behind
  // unless `reason` says otherwise.
  Result Wait(Driver* driver, uint64_t timeout_ms, const std::string& target = "",
              WaitReason reason = WaitReason::kPredecessor) {
    Op op;
    op.kind = OpKind::kWait;
    op.name = Bytes{target.data(), static_cast<uint32_t>(target.size())};
    op.wait_reason = target.empty() ? WaitReason::kAnyChange : reason;
    op.deadline_mono_ms = MonotonicMs() + timeout_ms;
    return driver->Perform(op);
  }

  OwnerRecord Me(Id128 nonce) {
    OwnerRecord record;
    record.owner = LocalIdentity(nonce, "driver_test");
    return record;
  }

  // A child process that creates the anchor of `nonce` and holds it until it
  // is killed. Returns once the anchor exists (its pid), or -1.
  pid_t ForkAnchorHolder(Id128 nonce) {
    int ready[2];
    if (pipe(ready) != 0) return -1;
    const pid_t child = fork();
    if (child == 0) {
      Anchor anchor;
      int os_error = 0;
      anchor.Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error);
      char byte = 1;
      if (write(ready[1], &byte, 1) != 1) _exit(1);
      pause();  // killed by the parent
      _exit(0);
    }
    char byte = 0;
    const bool created = child > 0 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    close(ready[1]);
    return created ? child : -1;
  }

  // Kills `child` with SIGKILL 100 ms from now while `wait` blocks; returns
  // how long `wait` took. A death must wake it well before the safety net.
  template <typename WaitFunction>
  uint64_t MsUntilWokenByDeathOf(pid_t child, WaitFunction wait) {
    std::thread killer([child] {
      usleep(100 * 1000);
      kill(child, SIGKILL);
    });
    const uint64_t start = MonotonicMs();
    wait();
    const uint64_t waited_ms = MonotonicMs() - start;
    killer.join();
    waitpid(child, nullptr, 0);
    return waited_ms;
  }

  std::string path_;
  int dir_fd_ = -1;
};

TEST_F(PosixDriver, CreatesASymlinkOnlyWhenTheNameIsFree) {
  Driver driver(dir_fd_, -1);
  EXPECT_EQ(Do(&driver, OpKind::kCreate, "o.a", "record-1").status, IoStatus::kOk);
  Result again = Do(&driver, OpKind::kCreate, "o.a", "record-2");
  EXPECT_EQ(again.status, IoStatus::kExists);
  EXPECT_EQ(again.os_error, EEXIST);
  EXPECT_EQ(S(Do(&driver, OpKind::kRead, "o.a").data), "record-1");
}

TEST_F(PosixDriver, RenameReplacesTheDestinationAndConsumesTheSource) {
  Driver driver(dir_fd_, -1);
  ASSERT_EQ(Do(&driver, OpKind::kCreate, "o.a", "old").status, IoStatus::kOk);
  ASSERT_EQ(Do(&driver, OpKind::kCreate, "t.a", "new").status, IoStatus::kOk);
  EXPECT_EQ(Do(&driver, OpKind::kRename, "o.a", "", "t.a").status, IoStatus::kOk);
  EXPECT_EQ(S(Do(&driver, OpKind::kRead, "o.a").data), "new");
  EXPECT_EQ(Do(&driver, OpKind::kRead, "t.a").status, IoStatus::kNotFound);
  EXPECT_EQ(Do(&driver, OpKind::kRename, "o.a", "", "t.missing").status, IoStatus::kNotFound);
}

TEST_F(PosixDriver, ReportsAForeignRegularFileAsNotASymlink) {
  Driver driver(dir_fd_, -1);
  int fd = openat(dir_fd_, "o.file", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  EXPECT_EQ(Do(&driver, OpKind::kRead, "o.file").status, IoStatus::kNotSymlink);
}

TEST_F(PosixDriver, ReportsMissingNamesAsNotFound) {
  Driver driver(dir_fd_, -1);
  EXPECT_EQ(Do(&driver, OpKind::kRead, "o.none").status, IoStatus::kNotFound);
  EXPECT_EQ(Do(&driver, OpKind::kRemove, "o.none").status, IoStatus::kNotFound);
}

TEST_F(PosixDriver, ReportsATargetThatFillsTheBufferAsTooLong) {
  Driver driver(dir_fd_, -1);
  const std::string huge(kReadBufferBytes, 'x');
  // Linux allows targets up to 4095 bytes: the longest one fits the buffer
  // minus one; make the check reachable with a target of exactly that size.
  const std::string longest(kReadBufferBytes - 1, 'y');
  ASSERT_EQ(Do(&driver, OpKind::kCreate, "o.long", longest).status, IoStatus::kOk);
  Result r = Do(&driver, OpKind::kRead, "o.long");
  EXPECT_EQ(r.status, IoStatus::kOk);
  EXPECT_EQ(r.data.size, longest.size());
  EXPECT_NE(Do(&driver, OpKind::kCreate, "o.huge", huge).status, IoStatus::kOk);
}

TEST_F(PosixDriver, MapsANameOverTheLimitToTooLong) {
  Driver driver(dir_fd_, -1);
  EXPECT_EQ(Do(&driver, OpKind::kCreate, std::string(300, 'n'), "r").status, IoStatus::kTooLong);
}

TEST_F(PosixDriver, ListsEveryNameOnceAndStartsOverAtEachListStart) {
  Driver driver(dir_fd_, -1);
  for (const char* name : {"o.1", "o.2", "fence", "junk"}) {
    ASSERT_EQ(Do(&driver, OpKind::kCreate, name, "r").status, IoStatus::kOk);
  }
  const std::set<std::string> expected = {"o.1", "o.2", "fence", "junk"};
  EXPECT_EQ(ListAll(&driver), expected);
  EXPECT_EQ(ListAll(&driver), expected);
  ASSERT_EQ(Do(&driver, OpKind::kRemove, "junk").status, IoStatus::kOk);
  EXPECT_EQ(ListAll(&driver), (std::set<std::string>{"o.1", "o.2", "fence"}));
}

// On tmpfs a rename over an existing name moves its directory entry, and a
// listing that spans several getdents calls can miss a name that existed the
// whole time: the one thing H8 says a listing must never do. The driver reads
// the listing in one call. /run (the default for root) is a tmpfs.
TEST(PosixDriverOnTmpfs, ListsEveryNameThatExistsThroughoutWhileOthersRenameOverThem) {
  std::string pattern = "/dev/shm/onlyone-driver-XXXXXX";
  ASSERT_NE(mkdtemp(&pattern[0]), nullptr) << "needs a tmpfs at /dev/shm";
  constexpr int kNames = 3000;  // several getdents calls' worth for readdir
  int dir_fd = open(pattern.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  auto name_of = [](const char* prefix, int i) {
    return std::string(prefix) + std::to_string(10000 + i);
  };
  for (int i = 0; i < kNames; ++i) ASSERT_EQ(symlinkat("r", dir_fd, name_of("o.", i).c_str()), 0);
  std::atomic<bool> stop{false};
  std::atomic<int> renamer_failures{0};  // a renamer that fails tests nothing
  std::thread renamer([&] {
    for (unsigned i = 0; !stop.load(); i = i * 1103515245u + 12345u) {
      const int which = static_cast<int>(i % kNames);
      const std::string temp = name_of("t.", which);
      if (symlinkat("r2", dir_fd, temp.c_str()) != 0 ||
          renameat(dir_fd, temp.c_str(), dir_fd, name_of("o.", which).c_str()) != 0) {
        ++renamer_failures;
      }
    }
  });
  Driver driver(dir_fd, -1);
  int listings = 0;
  size_t fewest = kNames;
  for (const uint64_t end = MonotonicMs() + 1000; MonotonicMs() < end; ++listings) {
    Op op;
    op.kind = OpKind::kListStart;
    ASSERT_EQ(driver.Perform(op).status, IoStatus::kOk);
    size_t seen = 0;
    op.kind = OpKind::kListNext;
    for (Result r = driver.Perform(op); r.status == IoStatus::kOk; r = driver.Perform(op)) {
      if (r.data.size > 2 && r.data.data[0] == 'o') ++seen;
    }
    fewest = std::min(fewest, seen);
  }
  stop = true;
  renamer.join();
  close(dir_fd);
  EXPECT_EQ(std::system(("rm -rf " + pattern).c_str()), 0) << pattern;
  EXPECT_EQ(renamer_failures.load(), 0);
  EXPECT_EQ(fewest, static_cast<size_t>(kNames)) << "over " << listings << " listings";
  EXPECT_GT(listings, 10);
}

TEST_F(PosixDriver, StampsEveryResultWithBothClocks) {
  Driver driver(dir_fd_, -1);
  Result r = Do(&driver, OpKind::kRead, "o.none");
  EXPECT_NE(r.mono_ms, 0u);
  EXPECT_GT(r.wall_ms, 1600000000000u);  // after 2020: a real wall clock in ms
}

TEST_F(PosixDriver, DescribesItselfWithThisProcessesIdentity) {
  Id128 nonce;
  int os_error = 0;
  ASSERT_TRUE(RandomNonce(&nonce, &os_error));
  Id128 other;
  ASSERT_TRUE(RandomNonce(&other, &os_error));
  EXPECT_NE(nonce, other);
  Identity me = LocalIdentity(nonce, "make all");
  EXPECT_EQ(me.pid, static_cast<uint32_t>(getpid()));
  EXPECT_NE(me.start_time, 0u);
  EXPECT_NE(me.boot_id, Id128());
  EXPECT_NE(me.pid_namespace, 0u);
  EXPECT_NE(me.host.size, 0u);
  EXPECT_EQ(S(me.command.view()), "make all");
}

TEST_F(PosixDriver, CutsACommandOnAUtf8Boundary) {
  // "é" is two bytes: a cut after 3 bytes of "aéé" would split the second.
  EXPECT_EQ(TruncateUtf8("a\xc3\xa9\xc3\xa9", 4), "a\xc3\xa9");
  EXPECT_EQ(TruncateUtf8("a\xc3\xa9\xc3\xa9", 5), "a\xc3\xa9\xc3\xa9");
  Identity me = LocalIdentity(Id128(), std::string(200, 'x') + "\xc3\xa9");
  EXPECT_EQ(me.command.size, kCommandBytesMax);
}

TEST_F(PosixDriver, JudgesAnOwnerAliveWhileItHoldsItsAnchor) {
  Id128 nonce;
  int os_error = 0;
  ASSERT_TRUE(RandomNonce(&nonce, &os_error));
  Anchor anchor;
  ASSERT_EQ(anchor.Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error),
            IoStatus::kOk);
  OwnerRecord record = Me(nonce);
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kAlive);
  // Even a record claiming another host: the anchor is proof.
  record.owner.boot_id = Id128{1, 2};
  record.owner.pid_namespace = 1;
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kAlive);
  anchor.Remove();
  EXPECT_EQ(
      faccessat(dir_fd_, OwnerName(NameKind::kAnchor, nonce).c_str(), F_OK, AT_SYMLINK_NOFOLLOW),
      -1);
}

TEST_F(PosixDriver, JudgesAnOwnerDeadOnceItsProcessExitedEvenIfItsPidLivesOn) {
  Id128 nonce;
  int os_error = 0;
  ASSERT_TRUE(RandomNonce(&nonce, &os_error));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Anchor anchor;
    _exit(anchor.Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error) == IoStatus::kOk
              ? 0
              : 1);  // dies holding it
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  // The record claims to be us (a live pid with the right start time): the
  // anchor's free flock still proves its owner gone (H4).
  EXPECT_EQ(ProbeOwner(dir_fd_, Me(nonce)), Liveness::kDead);
}

// A process group standing in for a job whose owner is gone: a child that
// leads its own group and sleeps until killed.
pid_t ForkGroupLeader() {
  const pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    pause();
    _exit(0);
  }
  if (child > 0) setpgid(child, child);
  return child;
}

// An owner that died holding its anchor, after recording `group` in it.
Id128 DeadOwnerWithJobGroup(int dir_fd, const JobGroup& group) {
  Id128 nonce;
  int os_error = 0;
  EXPECT_TRUE(RandomNonce(&nonce, &os_error));
  const pid_t owner = fork();
  if (owner == 0) {
    Anchor anchor;
    const bool ok =
        anchor.Create(dir_fd, LocalIdentity(nonce, "test"), WallMs(), &os_error) == IoStatus::kOk &&
        anchor.RecordJobGroup(group, &os_error);
    _exit(ok ? 0 : 1);  // dies holding it
  }
  int wstatus = 0;
  EXPECT_EQ(waitpid(owner, &wstatus, 0), owner);
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  return nonce;
}

TEST(JobGroup, ReadsBackExactlyWhatItWritesAndNothingElse) {
  JobGroup group;
  group.process_group = 4242;
  group.session = 4200;
  group.leader_start_time = 987654321;
  group.boot_id = Id128{0x0123456789abcdefull, 0xfedcba9876543210ull};
  group.pid_namespace = 4026531836ull;
  const std::string text = FormatJobGroup(group);
  JobGroup back;
  ASSERT_TRUE(ParseJobGroup(text.data(), text.size(), &back)) << text;
  EXPECT_EQ(FormatJobGroup(back), text);
  for (const std::string& bad :
       {text.substr(0, text.size() - 1), text + "x", "onlyone-job v2" + text.substr(14),
        std::string("onlyone-job v1 pgid=1 ") + text.substr(text.find("sid=")), std::string(),
        " " + text}) {
    EXPECT_FALSE(ParseJobGroup(bad.data(), bad.size(), &back)) << bad;
  }
}

TEST_F(PosixDriver, JudgesAGoneOwnerAliveWhileALiveProcessOfItsJobGroupRemains) {
  const pid_t leader = ForkGroupLeader();
  ASSERT_GT(leader, 0);
  JobGroup group;
  ASSERT_TRUE(LocalJobGroup(leader, &group));
  const Id128 nonce = DeadOwnerWithJobGroup(dir_fd_, group);
  // The record says the owner's pid is alive (it is ours); only the group
  // can keep it alive once the anchor is free, so use a dead pid's record.
  OwnerRecord record = Me(nonce);
  record.owner.start_time += 1;
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kAlive);
  EXPECT_EQ(ProcessesKeepingAnchor(dir_fd_, nonce), std::vector<uint32_t>{uint32_t(leader)});
  // Killed but not reaped: a zombie runs no more, so the job is over.
  kill(leader, SIGKILL);
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(leader), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kDead);
  EXPECT_TRUE(ProcessesKeepingAnchor(dir_fd_, nonce).empty());
  waitpid(leader, nullptr, 0);
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kDead);
}

TEST_F(PosixDriver, NeverTakesAReusedProcessGroupForTheJobs) {
  const pid_t leader = ForkGroupLeader();
  ASSERT_GT(leader, 0);
  JobGroup group;
  ASSERT_TRUE(LocalJobGroup(leader, &group));
  // The recorded leader started at another time: this group is a new one
  // that got the old group's number.
  group.leader_start_time += 1;
  const Id128 nonce = DeadOwnerWithJobGroup(dir_fd_, group);
  OwnerRecord record = Me(nonce);
  record.owner.start_time += 1;
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kDead);
  kill(leader, SIGKILL);
  waitpid(leader, nullptr, 0);
}

TEST_F(PosixDriver, IgnoresAJobGroupOfAnotherBootOrPidNamespace) {
  const pid_t leader = ForkGroupLeader();
  ASSERT_GT(leader, 0);
  JobGroup group;
  ASSERT_TRUE(LocalJobGroup(leader, &group));
  JobGroup other_namespace = group;
  other_namespace.pid_namespace += 1;  // its pids mean other processes here (H5)
  const Id128 nonce = DeadOwnerWithJobGroup(dir_fd_, other_namespace);
  OwnerRecord record = Me(nonce);
  record.owner.start_time += 1;
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kDead);
  kill(leader, SIGKILL);
  waitpid(leader, nullptr, 0);
}

TEST_F(PosixDriver, FallsBackToTheRecordWhenThereIsNoAnchor) {
  Id128 nonce{7, 7};
  OwnerRecord record = Me(nonce);
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kAlive) << "our own pid and start time";

  OwnerRecord reused = record;
  reused.owner.start_time += 1;  // same pid, another process: PID reuse (H4)
  EXPECT_EQ(ProbeOwner(dir_fd_, reused), Liveness::kDead);

  OwnerRecord other_boot = record;
  other_boot.owner.boot_id.hi ^= 1;
  EXPECT_EQ(ProbeOwner(dir_fd_, other_boot), Liveness::kDead);
  // A compact record keeps the boot id's first 64 bits alone (SameBoot).
  OwnerRecord compact_boot = record;
  compact_boot.owner.boot_id.lo = 0;
  EXPECT_EQ(ProbeOwner(dir_fd_, compact_boot), Liveness::kAlive);

  OwnerRecord other_namespace = reused;
  other_namespace.owner.pid_namespace += 1;  // a pid we cannot see (H5)
  EXPECT_EQ(ProbeOwner(dir_fd_, other_namespace), Liveness::kUnknown);

  OwnerRecord no_boot = reused;
  no_boot.owner.boot_id = Id128();  // another platform, or another host (H6)
  EXPECT_EQ(ProbeOwner(dir_fd_, no_boot), Liveness::kUnknown);
}

TEST_F(PosixDriver, JudgesAnOwnerWithoutAnchorDeadOnceItIsAZombie) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  uint64_t start_time = 0;
  bool usable = false;
  ASSERT_TRUE(ProcessStartTime(static_cast<uint32_t>(child), &start_time, &usable));
  ASSERT_TRUE(usable);
  OwnerRecord record = Me(Id128{5, 5});  // no anchor: a WASI owner's record
  record.owner.pid = static_cast<uint32_t>(child);
  record.owner.start_time = start_time;
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kAlive);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  // Not reaped yet: a zombie keeps its pid and start time until waited for.
  siginfo_t info = {};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kDead);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
}

TEST_F(PosixDriver, NeverTakesAPlantedFifoForAnAnchor) {
  Id128 nonce{9, 9};
  ASSERT_EQ(mkfifoat(dir_fd_, OwnerName(NameKind::kAnchor, nonce).c_str(), 0600), 0);
  OwnerRecord record = Me(nonce);
  record.owner.pid_namespace += 1;
  EXPECT_EQ(ProbeOwner(dir_fd_, record), Liveness::kUnknown);
}

TEST_F(PosixDriver, WaitReturnsAtTheDeadlineWhenNothingChanges) {
  Driver driver(dir_fd_, -1);
  ListAll(&driver);
  ASSERT_TRUE(driver.event_driven());
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 150).status, IoStatus::kTimedOut);
  EXPECT_GE(MonotonicMs() - start, 150u);
}

TEST_F(PosixDriver, WaitWakesForAChangeMadeAfterTheListingStarted) {
  Driver driver(dir_fd_, -1);
  ASSERT_EQ(Do(&driver, OpKind::kListStart, "").status, IoStatus::kOk);
  // A change during the scan, before the wait begins, must not be lost.
  int other = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_EQ(symlinkat("r", other, "o.someone"), 0);
  close(other);
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - start, 500u);
}

TEST_F(PosixDriver, WaitWakesWhenAnOwnerDiesHoldingItsAnchor) {
  Id128 nonce{3, 3};
  const pid_t child = ForkAnchorHolder(nonce);
  ASSERT_GT(child, 0);
  Driver driver(dir_fd_, -1);
  ListAll(&driver);
  const uint64_t waited_ms =
      MsUntilWokenByDeathOf(child, [&] { EXPECT_EQ(Wait(&driver, 5000).status, IoStatus::kOk); });
  EXPECT_LT(waited_ms, kWaitSafetyNetMs) << "woken by the death, not by the safety net";
}

TEST_F(PosixDriver, WaitIsNotWokenByItsOwnNames) {
  Driver driver(dir_fd_, -1);
  Id128 nonce{5, 5};
  driver.set_own_nonce(nonce);
  ListAll(&driver);
  ASSERT_EQ(Do(&driver, OpKind::kCreate, OwnerName(NameKind::kTemporary, nonce), "r").status,
            IoStatus::kOk);
  ASSERT_EQ(Do(&driver, OpKind::kRename, OwnerName(NameKind::kEntry, nonce), "",
               OwnerName(NameKind::kTemporary, nonce))
                .status,
            IoStatus::kOk);
  EXPECT_EQ(Wait(&driver, 200).status, IoStatus::kTimedOut);
}

TEST_F(PosixDriver, WaitIsNotWokenByOthersTemporariesButByTheirEntries) {
  Driver driver(dir_fd_, -1);
  ListAll(&driver);
  int other = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_EQ(symlinkat("r", other, "t.0123"), 0);
  EXPECT_EQ(Wait(&driver, 200).status, IoStatus::kTimedOut);
  ASSERT_EQ(renameat(other, "t.0123", other, "o.0123"), 0);
  EXPECT_EQ(Wait(&driver, 5000).status, IoStatus::kOk);
  close(other);
}

// The herd fix: a waiter that names the entry it queues behind sleeps
// through every other change and wakes for that entry alone.
TEST_F(PosixDriver, ATargetedWaitWakesOnlyForItsTargetEntry) {
  Driver driver(dir_fd_, -1);
  const std::string target = OwnerName(NameKind::kEntry, Id128{7, 7});
  const std::string other = OwnerName(NameKind::kEntry, Id128{8, 8});
  int fd = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_EQ(symlinkat("r", fd, target.c_str()), 0);
  ListAll(&driver);
  ASSERT_EQ(symlinkat("r", fd, other.c_str()), 0);
  ASSERT_EQ(unlinkat(fd, other.c_str(), 0), 0);
  EXPECT_EQ(Wait(&driver, 200, target).status, IoStatus::kTimedOut);
  ASSERT_EQ(unlinkat(fd, target.c_str(), 0), 0);
  EXPECT_EQ(Wait(&driver, 5000, target).status, IoStatus::kOk);
  close(fd);
}

TEST_F(PosixDriver, TheFirstWaitWithoutAWatchReturnsAtOnceToRescanWithOne) {
  Driver driver(dir_fd_, -1);
  EXPECT_EQ(Do(&driver, OpKind::kListStart, "").status, IoStatus::kOk);
  const uint64_t before = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - before, 1000u);
  EXPECT_EQ(Do(&driver, OpKind::kListStart, "").status, IoStatus::kOk);
  EXPECT_EQ(Wait(&driver, 200).status, IoStatus::kTimedOut);  // now it really waits
}

TEST_F(PosixDriver, WaitEndsWhenCancelled) {
  int cancel[2];
  ASSERT_EQ(pipe(cancel), 0);
  Driver driver(dir_fd_, cancel[0]);
  ListAll(&driver);
  std::thread canceller([&cancel] {
    usleep(50 * 1000);
    char byte = 1;
    (void)!write(cancel[1], &byte, 1);
  });
  Result r = Wait(&driver, 5000);
  canceller.join();
  EXPECT_EQ(r.status, IoStatus::kIo);
  EXPECT_EQ(r.os_error, ECANCELED);
  EXPECT_TRUE(driver.cancelled());
  close(cancel[0]);
  close(cancel[1]);
}

// Waiting behind a predecessor: the watch is on its anchor alone.
// One timed sleep is one voluntary context switch; a few more are allowed for
// the machine's own reasons (page faults on a busy host).
constexpr long kWakeUpsOfOneSleepMax = 4;

class WaitBehindPredecessor : public PosixDriver {
 protected:
  // Publishes the entry (of the main ring unless `kind` says otherwise) of
  // `nonce` with a record in `state` (ticket `ticket` when waiting).
  std::string PublishEntry(Id128 nonce, EntryState state, NameKind kind = NameKind::kEntry,
                           uint64_t ticket = 1) {
    OwnerRecord record = Me(nonce);
    record.state = state;
    record.ticket = state == EntryState::kWaiting ? ticket : 0;
    RecordText text;
    EXPECT_TRUE(EncodeCompactRecord(record, &text));
    const std::string name = OwnerName(kind, nonce);
    const std::string target(text.data, text.size);
    EXPECT_EQ(symlinkat(target.c_str(), dir_fd_, name.c_str()), 0);
    return name;
  }
  // A scan as the core makes it: list, then read the entry it will name.
  // No directory watch is armed first, as in a one-slot acquisition.
  void Scan(Driver* driver, const std::string& entry) {
    ASSERT_EQ(Do(driver, OpKind::kListStart, "").status, IoStatus::kOk);
    while (Do(driver, OpKind::kListNext, "").status == IoStatus::kOk) {
    }
    ASSERT_EQ(Do(driver, OpKind::kRead, entry).status, IoStatus::kOk);
  }
  // What Lock::Release does: the entry first, then the anchor.
  void Release(const std::string& entry, Anchor* anchor) {
    ASSERT_EQ(unlinkat(dir_fd_, entry.c_str(), 0), 0);
    anchor->Remove();
  }
  // A predecessor with `nonce`: its anchor, created and locked, and its
  // ticketed entry, which `driver` has scanned. Returns the entry's name.
  std::string Predecessor(Id128 nonce, Anchor* anchor, Driver* driver) {
    int os_error = 0;
    EXPECT_EQ(anchor->Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error),
              IoStatus::kOk);
    const std::string entry = PublishEntry(nonce, EntryState::kWaiting);
    Scan(driver, entry);
    return entry;
  }
  // Waits behind `entry` while another thread runs `release` 100 ms later:
  // woken by it, neither before nor only by the safety net.
  void ExpectWokenBy(Driver* driver, const std::string& entry,
                     const std::function<void()>& release) {
    std::thread releaser([&] {
      usleep(100 * 1000);
      release();
    });
    const uint64_t start = MonotonicMs();
    EXPECT_EQ(Wait(driver, 5000, entry).status, IoStatus::kOk);
    const uint64_t waited_ms = MonotonicMs() - start;
    releaser.join();
    EXPECT_GE(waited_ms, 50u) << "returned before the release";
    EXPECT_LT(waited_ms, kWaitSafetyNetMs) << "woken by the release, not by the safety net";
  }
};

TEST_F(WaitBehindPredecessor, WakesWhenThePredecessorReleases) {
  Anchor anchor;
  Driver driver(dir_fd_, -1);
  const std::string entry = Predecessor(Id128{21, 21}, &anchor, &driver);
  ExpectWokenBy(&driver, entry, [&] { Release(entry, &anchor); });
}

TEST_F(WaitBehindPredecessor, WakesWhenThePredecessorReleasesAndKeepsItsAnchor) {
  // A reused Lock keeps its anchor, locked and untouched, after a release:
  // neither an unlink nor a close of it tells the waiter; the watch on the
  // entry's own inode does.
  Anchor anchor;
  Driver driver(dir_fd_, -1);
  const std::string entry = Predecessor(Id128{24, 24}, &anchor, &driver);
  ExpectWokenBy(&driver, entry, [&] {
    ASSERT_EQ(unlinkat(dir_fd_, entry.c_str(), 0), 0);
    anchor.Keep();
  });
  anchor.Remove();
}

TEST_F(WaitBehindPredecessor, ReturnsAtOnceWhenTheEntryWentBeforeTheWatchThoughTheAnchorIsHeld) {
  Anchor anchor;
  Driver driver(dir_fd_, -1);
  const std::string entry = Predecessor(Id128{25, 25}, &anchor, &driver);
  // Released between our scan and our wait; the anchor stays locked.
  ASSERT_EQ(unlinkat(dir_fd_, entry.c_str(), 0), 0);
  anchor.Keep();
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000, entry).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - start, kWaitSafetyNetMs) << "slept until the safety net";
  anchor.Remove();
}

TEST_F(WaitBehindPredecessor, ReturnsAtOnceWhenThePredecessorLeftAndCameBackUnderItsName) {
  // A reused Lock keeps its nonce: between our scan and our wait the
  // predecessor released (keeping its anchor locked) and queued again, now
  // behind us, under the same entry name. A wait that only checked that the
  // name is there would sleep behind an entry that no longer precedes us:
  // nothing would wake it before the safety net.
  const Id128 nonce{27, 27};
  Anchor anchor;
  Driver driver(dir_fd_, -1);
  const std::string entry = Predecessor(nonce, &anchor, &driver);
  ASSERT_EQ(unlinkat(dir_fd_, entry.c_str(), 0), 0);
  anchor.Keep();
  ASSERT_TRUE(anchor.Reuse(dir_fd_));
  EXPECT_EQ(PublishEntry(nonce, EntryState::kWaiting, NameKind::kEntry, /*ticket=*/3), entry);
  // A deadline before the safety net: sleeping at all ends in kTimedOut.
  EXPECT_EQ(Wait(&driver, kWaitSafetyNetMs * 9 / 10, entry).status, IoStatus::kOk)
      << "slept behind the predecessor's new entry as if it were the one scanned";
  anchor.Remove();
}

TEST(KeptAnchor, IsReusedUnderItsNonceAndStaysLocked) {
  const std::string dir = testing_posix::MakeScratchDir("kept");
  ASSERT_FALSE(dir.empty());
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  Anchor anchor;
  int os_error = 0;
  ASSERT_EQ(anchor.Create(dir_fd, LocalIdentity(Id128{1, 1}, "test"), WallMs(), &os_error),
            IoStatus::kOk);
  EXPECT_FALSE(anchor.Reuse(dir_fd)) << "only a kept anchor is reused";
  anchor.Keep();
  ASSERT_TRUE(anchor.Reuse(dir_fd));
  const int probe = openat(dir_fd, AnchorName(Id128{1, 1}).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  EXPECT_NE(flock(probe, LOCK_EX | LOCK_NB), 0) << "the reused anchor is still locked";
  close(probe);
  EXPECT_FALSE(anchor.Reuse(dir_fd)) << "reused once per Keep";
  anchor.Remove();
  close(dir_fd);
}

TEST(KeptAnchor, IsNotReusedOnceUnlinked) {
  // Someone removed the file (the lock directory with rm -rf, or by hand):
  // an entry under its nonce would have no anchor for probers to find.
  const std::string dir = testing_posix::MakeScratchDir("kept");
  ASSERT_FALSE(dir.empty());
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  Anchor anchor;
  int os_error = 0;
  ASSERT_EQ(anchor.Create(dir_fd, LocalIdentity(Id128{1, 1}, "test"), WallMs(), &os_error),
            IoStatus::kOk);
  anchor.Keep();
  ASSERT_EQ(unlinkat(dir_fd, AnchorName(Id128{1, 1}).c_str(), 0), 0);
  EXPECT_FALSE(anchor.Reuse(dir_fd));
  anchor.Remove();
  close(dir_fd);
}

TEST_F(WaitBehindPredecessor, SleepsThroughEveryOtherChangeOfTheDirectory) {
  const Id128 nonce{22, 22};
  Anchor anchor;
  int os_error = 0;
  ASSERT_EQ(anchor.Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error),
            IoStatus::kOk);
  const std::string entry = PublishEntry(nonce, EntryState::kWaiting);
  Driver driver(dir_fd_, -1);
  Scan(&driver, entry);
  std::thread others([&] {
    usleep(20 * 1000);
    const std::string other = OwnerName(NameKind::kEntry, Id128{23, 23});
    for (int i = 0; i < 20; ++i) {
      (void)!symlinkat("r", dir_fd_, other.c_str());
      (void)!unlinkat(dir_fd_, other.c_str(), 0);
    }
  });
  // Not woken by 40 changes of other entries: only the deadline ends it.
  // And not woken inside the kernel either (the herd): a watch on the
  // directory would wake this thread for each change, only for the driver
  // to discard the event; the anchor watch lets it sleep through them all.
  struct rusage before, after;
  ASSERT_EQ(getrusage(RUSAGE_THREAD, &before), 0);
  EXPECT_EQ(Wait(&driver, 300, entry).status, IoStatus::kTimedOut);
  ASSERT_EQ(getrusage(RUSAGE_THREAD, &after), 0);
  others.join();
  EXPECT_LE(after.ru_nvcsw - before.ru_nvcsw, kWakeUpsOfOneSleepMax)
      << "the waiting thread was woken for changes of other entries";
  anchor.Remove();
}

TEST_F(WaitBehindPredecessor, NoticesAReleaseBetweenTheScanAndTheWait) {
  const Id128 nonce{24, 24};
  Anchor anchor;
  int os_error = 0;
  ASSERT_EQ(anchor.Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error),
            IoStatus::kOk);
  const std::string entry = PublishEntry(nonce, EntryState::kWaiting);
  Driver driver(dir_fd_, -1);
  Scan(&driver, entry);
  Release(entry, &anchor);  // before any watch on the anchor exists
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000, entry).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - start, 500u);
}

TEST_F(WaitBehindPredecessor, NoticesADeathBetweenTheScanAndTheWait) {
  const Id128 nonce{25, 25};
  const pid_t child = ForkAnchorHolder(nonce);
  ASSERT_GT(child, 0);
  const std::string entry = PublishEntry(nonce, EntryState::kWaiting);
  Driver driver(dir_fd_, -1);
  Scan(&driver, entry);
  // Dies holding its anchor (the kernel drops the flock) while the entry
  // stays: only the check after arming the watch can see it.
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000, entry).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - start, 500u);
}

TEST_F(WaitBehindPredecessor, WakesWhenThePredecessorDiesWhileWatched) {
  const Id128 nonce{26, 26};
  const pid_t child = ForkAnchorHolder(nonce);
  ASSERT_GT(child, 0);
  const std::string entry = PublishEntry(nonce, EntryState::kWaiting);
  Driver driver(dir_fd_, -1);
  Scan(&driver, entry);
  const uint64_t waited_ms = MsUntilWokenByDeathOf(
      child, [&] { EXPECT_EQ(Wait(&driver, 5000, entry).status, IoStatus::kOk); });
  EXPECT_LT(waited_ms, kWaitSafetyNetMs) << "woken by the death, not by the safety net";
}

TEST_F(WaitBehindPredecessor, WatchesTheDirectoryWhenThePredecessorHasNoAnchor) {
  // Written by a platform without anchors: its entry's removal must still
  // wake us (after one immediate return to scan with the directory watched).
  const std::string entry = PublishEntry(Id128{27, 27}, EntryState::kWaiting);
  Driver driver(dir_fd_, -1);
  Scan(&driver, entry);
  const uint64_t first = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000, entry).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - first, 500u) << "returns at once to scan with the watch armed";
  Scan(&driver, entry);
  EXPECT_EQ(Wait(&driver, 200, entry).status, IoStatus::kTimedOut);
  std::thread remover([&] {
    usleep(100 * 1000);
    unlinkat(dir_fd_, entry.c_str(), 0);
  });
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000, entry).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - start, kWaitSafetyNetMs);
  remover.join();
}

TEST_F(WaitBehindPredecessor, WaitsForAFenceRingPredecessorThroughTheDirectory) {
  // A holder leaves the fence ring with its anchor still locked (it goes on
  // holding a slot): only the entry's removal can tell the waiter.
  const Id128 nonce{29, 29};
  Anchor anchor;
  int os_error = 0;
  ASSERT_EQ(anchor.Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error),
            IoStatus::kOk);
  const std::string entry = PublishEntry(nonce, EntryState::kWaiting, NameKind::kRingEntry);
  Driver driver(dir_fd_, -1);
  driver.ArmWatch();
  Scan(&driver, entry);
  std::thread leaver([&] {
    usleep(100 * 1000);
    (void)!unlinkat(dir_fd_, entry.c_str(), 0);
  });
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000, entry, WaitReason::kRingPredecessor).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - start, kWaitSafetyNetMs) << "slept until the safety net";
  leaver.join();
  anchor.Remove();
}

TEST_F(WaitBehindPredecessor, WaitsForADoorwayThroughTheDirectory) {
  // A choosing entry turns into a ticket by a rename that leaves its anchor
  // alone: that change must wake us.
  const Id128 nonce{28, 28};
  Anchor anchor;
  int os_error = 0;
  ASSERT_EQ(anchor.Create(dir_fd_, LocalIdentity(nonce, "test"), WallMs(), &os_error),
            IoStatus::kOk);
  const std::string entry = PublishEntry(nonce, EntryState::kChoosing);
  Driver driver(dir_fd_, -1);
  driver.ArmWatch();  // a try, or the scan after the first return, has it
  Scan(&driver, entry);
  std::thread publisher([&] {
    usleep(100 * 1000);
    (void)!symlinkat("ticket", dir_fd_, "t.x");
    (void)!renameat(dir_fd_, "t.x", dir_fd_, entry.c_str());
  });
  const uint64_t start = MonotonicMs();
  EXPECT_EQ(Wait(&driver, 5000, entry, WaitReason::kDoorway).status, IoStatus::kOk);
  EXPECT_LT(MonotonicMs() - start, kWaitSafetyNetMs);
  publisher.join();
  anchor.Remove();
}

// Directory safety (H10).
class DirectorySafety : public PosixDriver {};

TEST_F(DirectorySafety, CreatesAPrivateParentAndLockDirectory) {
  DirectoryProblem problem;
  const std::string parent = path_ + "/locks";
  int parent_fd = OpenParentDirectory(parent, false, &problem);
  ASSERT_GE(parent_fd, 0) << problem.message;
  int lock_fd = OpenLockDirectory(parent_fd, "job", parent + "/job", false, &problem);
  ASSERT_GE(lock_fd, 0) << problem.message;
  struct stat st;
  ASSERT_EQ(fstat(lock_fd, &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  close(lock_fd);
  close(parent_fd);
}

TEST_F(DirectorySafety, RefusesAWorldWritableParentWithoutTheStickyBit) {
  const std::string parent = path_ + "/open";
  ASSERT_EQ(mkdir(parent.c_str(), 0700), 0);
  ASSERT_EQ(chmod(parent.c_str(), 0777), 0);
  DirectoryProblem problem;
  EXPECT_LT(OpenParentDirectory(parent, false, &problem), 0);
  EXPECT_TRUE(problem.unsafe);
  EXPECT_NE(problem.message.find("chmod"), std::string::npos) << problem.message;
  ASSERT_EQ(chmod(parent.c_str(), 01777), 0);  // like /tmp: accepted
  int fd = OpenParentDirectory(parent, false, &problem);
  EXPECT_GE(fd, 0) << problem.message;
  close(fd);
}

TEST_F(DirectorySafety, RefusesAPlantedSymlinkAsTheLockDirectory) {
  const std::string elsewhere = path_ + "/elsewhere";
  ASSERT_EQ(mkdir(elsewhere.c_str(), 0700), 0);
  ASSERT_EQ(symlinkat(elsewhere.c_str(), dir_fd_, "job"), 0);
  DirectoryProblem problem;
  EXPECT_LT(OpenLockDirectory(dir_fd_, "job", path_ + "/job", false, &problem), 0);
  EXPECT_TRUE(problem.unsafe);
  EXPECT_NE(problem.message.find("symbolic link"), std::string::npos) << problem.message;
}

TEST_F(DirectorySafety, RefusesALockDirectoryOwnedByAnotherUser) {
  if (geteuid() != 0) FAIL() << "this test needs root to chown a directory to nobody";
  ASSERT_EQ(mkdirat(dir_fd_, "job", 0700), 0);
  ASSERT_EQ(fchownat(dir_fd_, "job", 65534, 65534, AT_SYMLINK_NOFOLLOW), 0);
  DirectoryProblem problem;
  EXPECT_LT(OpenLockDirectory(dir_fd_, "job", path_ + "/job", false, &problem), 0);
  EXPECT_TRUE(problem.unsafe);
  EXPECT_NE(problem.message.find("owned by uid 65534"), std::string::npos) << problem.message;
}

}  // namespace
}  // namespace posix
}  // namespace onlyone
