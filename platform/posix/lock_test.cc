#include "platform/posix/lock.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/names.h"
#include "gtest/gtest.h"
#include "tests/posix/process_util.h"

namespace onlyone {
namespace {

const std::string kMarker(FormatMarkerName().data, FormatMarkerName().size);

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string scratch = testing_posix::MakeScratchDir("lock");
    ASSERT_FALSE(scratch.empty());
    options_.dir = scratch + "/locks";
    options_.command = "lock_test";
  }
  // Names in the lock directory, but the format marker, which every
  // directory where someone fenced holds (core/names.h).
  std::vector<std::string> Entries(const std::string& name) {
    std::vector<std::string> names;
    std::string command = "ls -A " + options_.dir + "/" + name;
    FILE* pipe = popen(command.c_str(), "r");
    char line[256];
    while (pipe != nullptr && fgets(line, sizeof line, pipe) != nullptr) {
      std::string entry = line;
      if (!entry.empty() && entry.back() == '\n') entry.pop_back();
      if (entry != kMarker) names.push_back(entry);
    }
    if (pipe != nullptr) pclose(pipe);
    return names;
  }
  // How many names in the lock directory start with `prefix`.
  size_t Count(const std::string& name, const std::string& prefix) {
    size_t count = 0;
    for (const std::string& entry : Entries(name))
      count += entry.compare(0, prefix.size(), prefix) == 0;
    return count;
  }
  // Acquires and releases `lock` once: a reused Lock keeps its anchor after.
  static void CycleOnce(Lock* lock) {
    ASSERT_TRUE(lock->TryAcquire()) << lock->status().message;
    ASSERT_TRUE(lock->Release());
  }
  // The events queued on the non-blocking inotify instance `watch`: each
  // one's mask and name ("" for the watched directory itself).
  static std::vector<std::pair<uint32_t, std::string>> ReadEvents(int watch) {
    std::vector<std::pair<uint32_t, std::string>> events;
    alignas(struct inotify_event) char buffer[4096];
    for (ssize_t n; (n = read(watch, buffer, sizeof buffer)) > 0;) {
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + at);
        events.emplace_back(event->mask, event->len > 0 ? event->name : "");
        at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      }
    }
    return events;
  }
  LockOptions options_;
};

TEST_F(LockTest, AcquiresAFreeLockAndReleasesIt) {
  Lock lock("job", options_);
  ASSERT_TRUE(lock.TryAcquire()) << lock.status().message;
  EXPECT_TRUE(lock.held());
  EXPECT_EQ(lock.fence(), 1u);
  EXPECT_TRUE(lock.Validate());
  EXPECT_TRUE(lock.Release()) << lock.status().message;
  EXPECT_FALSE(lock.held());
  // No entry or temporary; the anchor stays for this Lock's next holding.
  const std::vector<std::string> left = Entries("job");
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0], "fence.1");
  EXPECT_EQ(left[1].compare(0, 2, "k."), 0) << left[1];
}

// The inode of `name` in the lock directory of `lock`, or 0.
ino_t InodeOf(const Lock& lock, const std::string& name) {
  struct stat st;
  return lstat((lock.path() + "/" + name).c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST_F(LockTest, AReusedLockKeepsOneNonceAndRemovesItsAnchorWithTheLock) {
  {
    Lock lock("job", options_);
    std::string first_anchor;
    ino_t first_inode = 0;
    for (int cycle = 0; cycle < 3; ++cycle) {
      ASSERT_TRUE(lock.TryAcquire()) << lock.status().message;
      const std::vector<std::string> held = Entries("job");
      ASSERT_EQ(held.size(), 3u) << "fence, k. and o. of one nonce";
      EXPECT_EQ(held[1].substr(2), held[2].substr(2));
      if (cycle == 0) {
        first_anchor = held[1];
        first_inode = InodeOf(lock, first_anchor);
      }
      EXPECT_EQ(held[1], first_anchor) << "one nonce for every holding";
      EXPECT_EQ(InodeOf(lock, held[1]), first_inode) << "the same anchor file, never recreated";
      ASSERT_TRUE(lock.Release()) << lock.status().message;
      EXPECT_EQ(Entries("job").size(), 2u) << "fence and the kept anchor";
    }
    // Whoever waits or probes meanwhile sees a locked anchor without an
    // entry: another Lock takes the lock at once.
    Lock other("job", options_);
    ASSERT_TRUE(other.TryAcquire()) << other.status().message;
    ASSERT_TRUE(other.Release());
  }
  EXPECT_EQ(Entries("job"), std::vector<std::string>{"fence.4"});
}

TEST_F(LockTest, AReusedLockUnderALeaseTakesANewNonceForEveryHolding) {
  // Under a lease others remove an entry whose lease ran out without proof
  // of death: one that read our last entry expired must find nothing of
  // ours under that name any more.
  options_.lease_ms = 60'000;
  Lock lock("job", options_);
  std::vector<std::string> anchors;
  for (int cycle = 0; cycle < 2; ++cycle) {
    ASSERT_TRUE(lock.TryAcquire()) << lock.status().message;
    const std::vector<std::string> held = Entries("job");
    ASSERT_EQ(held.size(), 3u) << "fence, k. and o. of one nonce";
    anchors.push_back(held[1]);
    ASSERT_TRUE(lock.Release()) << lock.status().message;
    EXPECT_EQ(Entries("job"), std::vector<std::string>{"fence." + std::to_string(cycle + 1)})
        << "no anchor kept";
  }
  EXPECT_NE(anchors[0], anchors[1]);
}

TEST_F(LockTest, RemovesAnAnchorItHandedOutAtRelease) {
  // A supervisor may give the descriptor to a job (anchor_fd): the anchor
  // must not outlive the holding then, or leftovers of the job would keep
  // the next holding's lock.
  Lock lock("job", options_);
  ASSERT_TRUE(lock.TryAcquire());
  const std::string handed_out = Entries("job")[1];
  ASSERT_GE(lock.anchor_fd(), 0);
  ASSERT_TRUE(lock.Release());
  EXPECT_EQ(Entries("job"), std::vector<std::string>{"fence.1"});
  ASSERT_TRUE(lock.TryAcquire()) << lock.status().message;
  EXPECT_NE(Entries("job")[1], handed_out) << "a new anchor, under a new nonce";
  ASSERT_TRUE(lock.Release());
  EXPECT_EQ(Entries("job").size(), 2u) << "kept again once nobody asked for it";
}

TEST_F(LockTest, AChildForkedBetweenHoldingsDoesNotKeepTheNextHoldingAlive) {
  // A process holds once, forks a worker that lives on without exec, holds
  // again with the same Lock (its kept anchor) and is killed. The worker
  // got a copy of the kept anchor at fork: had it kept it, the killed
  // holder would look alive for as long as the worker ran.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t holder = fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    close(ready[0]);
    Lock lock("job", options_);
    if (!lock.TryAcquire() || !lock.Release()) _exit(1);
    int started[2];
    if (pipe(started) != 0) _exit(3);
    const pid_t worker = fork();
    if (worker == 0) {
      // Running: fork's handlers in this child have run.
      (void)!write(started[1], "w", 1);
      pause();
      _exit(0);
    }
    char byte;
    if (worker < 0 || read(started[0], &byte, 1) != 1 || !lock.TryAcquire()) _exit(2);
    (void)!write(ready[1], &worker, sizeof worker);
    pause();
    _exit(0);
  }
  close(ready[1]);
  pid_t worker = 0;
  ASSERT_EQ(read(ready[0], &worker, sizeof worker), static_cast<ssize_t>(sizeof worker))
      << "the holder did not hold";
  close(ready[0]);
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  Lock other("job", options_);
  EXPECT_TRUE(other.TryAcquire()) << other.status().message;
  kill(worker, SIGKILL);  // orphaned by the holder's death: reaped by init
}

TEST_F(LockTest, EachHoldingGetsALargerFence) {
  Lock lock("job", options_);
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(lock.TryAcquire()) << lock.status().message;
    EXPECT_GT(lock.fence(), last);
    last = lock.fence();
    ASSERT_TRUE(lock.Release());
  }
}

TEST_F(LockTest, RefusesASecondHolderAndNamesTheFirst) {
  Lock first("job", options_);
  ASSERT_TRUE(first.TryAcquire());
  Lock second("job", options_);
  EXPECT_FALSE(second.TryAcquire());
  EXPECT_EQ(second.status().error, LockError::kBusy);
  ASSERT_TRUE(second.status().has_holder);
  EXPECT_EQ(second.status().holder.pid, static_cast<uint32_t>(getpid()));
  const std::string& message = second.status().message;
  EXPECT_NE(
      message.find("lock \"job\" is held by pid " + std::to_string(getpid()) + " (lock_test) on "),
      std::string::npos)
      << message;
  EXPECT_NE(message.find(" since 20"), std::string::npos) << message;
  // The refused attempt left nothing behind but its anchor, kept for its
  // next attempt.
  EXPECT_EQ(Count("job", "o."), 1u) << "the holder's entry alone";
  EXPECT_EQ(Count("job", "k."), 2u) << "the holder's anchor and the one kept";
  EXPECT_EQ(Entries("job").size(), 4u) << "and the fence";
}

TEST_F(LockTest, LetsThreeInWithThreeSlotsButNotAFourth) {
  options_.slots = 3;
  std::vector<Lock> locks;
  for (int i = 0; i < 3; ++i) {
    locks.emplace_back("pool", options_);
    ASSERT_TRUE(locks.back().TryAcquire()) << locks.back().status().message;
  }
  Lock fourth("pool", options_);
  EXPECT_FALSE(fourth.TryAcquire());
  EXPECT_EQ(fourth.status().error, LockError::kBusy);
  ASSERT_TRUE(locks[1].Release());
  EXPECT_TRUE(fourth.TryAcquire()) << fourth.status().message;
}

TEST_F(LockTest, AcquireWaitsUntilTheHolderReleases) {
  Lock first("job", options_);
  ASSERT_TRUE(first.TryAcquire());
  std::thread releaser([&first] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first.Release();
  });
  Lock second("job", options_);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(second.Acquire(5000)) << second.status().message;
  const auto waited = std::chrono::steady_clock::now() - start;
  releaser.join();
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::milliseconds(900)) << "woken by inotify, not the safety net";
}

// A Lock keeps one inotify instance for all its waits: events and watches
// left by one wait must neither wake nor blind the next.
TEST_F(LockTest, WaitsAgainAndAgainWithTheSameLock) {
  Lock waiter("job", options_);
  for (int round = 0; round < 3; ++round) {
    Lock holder("job", options_);
    ASSERT_TRUE(holder.TryAcquire()) << holder.status().message;
    std::thread releaser([&holder] {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      holder.Release();
    });
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(waiter.Acquire(5000)) << waiter.status().message;
    const auto waited = std::chrono::steady_clock::now() - start;
    releaser.join();
    EXPECT_GE(waited, std::chrono::milliseconds(100)) << "round " << round << ": woken early";
    EXPECT_LT(waited, std::chrono::milliseconds(900))
        << "round " << round << ": woken by the safety net, not by the release";
    EXPECT_TRUE(waiter.Release());
  }
}

// With k slots a waiter watches the directory (no single predecessor).
TEST_F(LockTest, AWaiterForOneOfTwoSlotsWakesWhenEitherHolderReleases) {
  options_.slots = 2;
  Lock first("job", options_);
  Lock second("job", options_);
  ASSERT_TRUE(first.TryAcquire());
  ASSERT_TRUE(second.TryAcquire());
  std::thread releaser([&first] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    first.Release();
  });
  Lock third("job", options_);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(third.Acquire(5000)) << third.status().message;
  const auto waited = std::chrono::steady_clock::now() - start;
  releaser.join();
  EXPECT_GE(waited, std::chrono::milliseconds(100));
  EXPECT_LT(waited, std::chrono::milliseconds(900)) << "woken by inotify, not the safety net";
}

TEST_F(LockTest, AcquireGivesUpAtTheTimeout) {
  Lock first("job", options_);
  ASSERT_TRUE(first.TryAcquire());
  Lock second("job", options_);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(second.Acquire(300));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_EQ(second.status().error, LockError::kBusy);
}

TEST_F(LockTest, CancelInterruptsAWaitingAcquire) {
  Lock first("job", options_);
  ASSERT_TRUE(first.TryAcquire());
  Lock second("job", options_);
  std::thread canceller([&second] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    second.Cancel();
  });
  EXPECT_FALSE(second.Acquire(kWaitForever));
  canceller.join();
  EXPECT_EQ(second.status().error, LockError::kCancelled);
  EXPECT_EQ(Count("job", "o."), 1u) << "the cancelled waiter removed its entry";
  EXPECT_EQ(Entries("job").size(), 4u) << "fence, the holder's o. and k., the waiter's kept k.";
  ASSERT_TRUE(first.Release());
  EXPECT_TRUE(second.TryAcquire()) << "a consumed Cancel does not stick";
}

TEST_F(LockTest, TellsTheObserverWhoItWaitsFor) {
  Lock first("job", options_);
  ASSERT_TRUE(first.TryAcquire());
  Lock second("job", options_);
  std::atomic<int> calls{0};
  std::atomic<uint32_t> pid{0};
  second.set_wait_observer([&](const Holder* holder, uint64_t) {
    ++calls;
    if (holder != nullptr) pid = holder->pid;
  });
  EXPECT_FALSE(second.Acquire(1500));
  EXPECT_GE(calls.load(), 1);
  EXPECT_EQ(pid.load(), static_cast<uint32_t>(getpid()));
}

TEST_F(LockTest, TakesOverFromAHolderKilledWithSigkill) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Lock lock("job", options_);
    if (!lock.TryAcquire()) _exit(1);
    kill(getpid(), SIGKILL);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  {
    Lock lock("job", options_);
    ASSERT_TRUE(lock.TryAcquire()) << lock.status().message;
    EXPECT_EQ(lock.fence(), 2u);
    ASSERT_TRUE(lock.Release());
  }
  EXPECT_EQ(Entries("job"), std::vector<std::string>{"fence.2"})
      << "the dead owner's entry and anchor are gone";
}

TEST_F(LockTest, SweepsAnchorsLeftByOwnersKilledBeforeTheirFirstEntry) {
  {
    Lock lock("job", options_);
    ASSERT_TRUE(lock.TryAcquire());
    ASSERT_TRUE(lock.Release());
  }
  // An anchor nobody holds and no entry names: what a kill -9 between the
  // anchor's creation and the first entry leaves.
  const std::string orphan = options_.dir + "/job/k.0123456789abcdef0123456789abcdef";
  int fd = open(orphan.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    Lock holder("job", options_);
    ASSERT_TRUE(holder.TryAcquire());
    ASSERT_TRUE(holder.Release());
  }
  EXPECT_EQ(Entries("job"), std::vector<std::string>{"fence.2"});
}

// Two reused Locks on one directory: each acquisition's listing shows the
// other's kept anchor without an entry. The releaser probes it once, finds
// its flock held and remembers it as live; it never probes its own kept
// anchor. (Before, every release listed again and opened both anchors.)
TEST_F(LockTest, AReleaseProbesAnotherLocksKeptAnchorOnceAndItsOwnNever) {
  Lock idle("job", options_);
  CycleOnce(&idle);
  Lock cycling("job", options_);
  CycleOnce(&cycling);  // its first sweep: probes `idle`'s anchor
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(inotify_add_watch(watch, (options_.dir + "/job").c_str(), IN_OPEN), 0);
  constexpr int kCycles = 5;
  for (int i = 0; i < kCycles; ++i) {
    ASSERT_TRUE(cycling.TryAcquire()) << cycling.status().message;
    ASSERT_TRUE(cycling.Release());
  }
  std::vector<std::string> opened;
  for (const auto& [mask, name] : ReadEvents(watch)) {
    if (name.compare(0, 2, "k.") == 0) opened.push_back(name);
  }
  close(watch);
  EXPECT_EQ(Count("job", "k."), 2u) << "both kept anchors are there";
  EXPECT_TRUE(opened.empty()) << "an anchor was opened by name " << opened.size() << " times in "
                              << kCycles << " cycles, first " << opened.front();
}

// How a hand-off goes between two reused Locks: one acquires while the
// other is idle (its kept anchor has no entry), and releases after the
// other queued again (now it has). The release's sweep sees an entry for
// that anchor and remembers it; it used to find nothing to probe, remember
// nothing, and list the directory again at every release.
TEST_F(LockTest, HandOffsBetweenTwoReusedLocksStopSweepingAfterTheFirst) {
  Lock cycling("job", options_);
  Lock other("job", options_);
  CycleOnce(&other);
  // The other's nonce, from its kept anchor (the only anchor yet): its
  // entry, in either ring, is waited for with lstat(2), which opens no
  // directory (an entry is a symlink to its record: stat would follow it).
  std::string other_nonce;
  for (const std::string& name : Entries("job")) {
    if (name.compare(0, 2, "k.") == 0) other_nonce = name.substr(2);
  }
  ASSERT_FALSE(other_nonce.empty());
  const std::string job_dir = options_.dir + "/job/";
  const auto other_queued = [&] {
    struct stat st;
    return lstat((job_dir + "o." + other_nonce).c_str(), &st) == 0 ||
           lstat((job_dir + "f." + other_nonce).c_str(), &st) == 0;
  };
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  constexpr int kHandOffs = 4;
  int listings_after_the_first = 0;
  for (int i = 0; i < kHandOffs; ++i) {
    ASSERT_TRUE(cycling.TryAcquire()) << cycling.status().message;
    std::thread waiter([&other] {
      if (other.Acquire(10000)) other.Release();
    });
    while (!other_queued()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (i == 1) {
      ASSERT_GE(inotify_add_watch(watch, (options_.dir + "/job").c_str(), IN_OPEN), 0);
    }
    ASSERT_TRUE(cycling.Release());
    waiter.join();
  }
  for (const auto& [mask, name] : ReadEvents(watch)) {
    // A sweep opens the directory itself ("."): an event without a name.
    listings_after_the_first += name.empty() && (mask & IN_ISDIR) != 0;
  }
  close(watch);
  EXPECT_EQ(listings_after_the_first, 0) << "sweeps in " << kHandOffs - 1 << " hand-offs";
}

TEST_F(LockTest, AReusedLockStillSweepsAnOrphanLeftBesideALiveKeptAnchor) {
  Lock idle("job", options_);
  CycleOnce(&idle);
  Lock cycling("job", options_);
  CycleOnce(&cycling);  // remembers `idle`'s anchor as live
  const std::string orphan = options_.dir + "/job/k.0123456789abcdef0123456789abcdef";
  int fd = open(orphan.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(cycling.TryAcquire());
  ASSERT_TRUE(cycling.Release());
  EXPECT_NE(access(orphan.c_str(), F_OK), 0) << "the orphan is still there";
  EXPECT_EQ(Count("job", "k."), 2u) << "the two live kept anchors stay";
}

TEST_F(LockTest, RefreshKeepsTheHoldingAndRewritesOurEntry) {
  Lock lock("job", options_);
  ASSERT_TRUE(lock.TryAcquire());
  std::vector<Holder> before;
  LockStatus status;
  ASSERT_TRUE(Lock::List("job", options_, &before, &status));
  EXPECT_TRUE(lock.Refresh()) << lock.status().message;
  EXPECT_TRUE(lock.Validate());
  EXPECT_TRUE(lock.held());
  EXPECT_EQ(Entries("job").size(), 3u) << "fence, o. and k.: no temporary left";
  ASSERT_TRUE(lock.Release());
}

TEST_F(LockTest, StartsOverWhenTheLockDirectoryWasRemoved) {
  Lock lock("job", options_);
  ASSERT_TRUE(lock.TryAcquire());
  ASSERT_TRUE(lock.Release());
  ASSERT_EQ(system(("rm -rf " + options_.dir + "/job").c_str()), 0);
  EXPECT_TRUE(lock.TryAcquire()) << lock.status().message;
  EXPECT_TRUE(lock.Release());
}

TEST_F(LockTest, ListsHoldersFirstThenWaiters) {
  Lock first("job", options_);
  ASSERT_TRUE(first.TryAcquire());
  std::vector<Holder> entries;
  LockStatus status;
  ASSERT_TRUE(Lock::List("job", options_, &entries, &status)) << status.message;
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].holding);
  EXPECT_TRUE(entries[0].alive_known);
  EXPECT_TRUE(entries[0].alive);
  EXPECT_EQ(entries[0].command, "lock_test");
  EXPECT_EQ(entries[0].pid, static_cast<uint32_t>(getpid()));

  std::vector<std::string> names;
  ASSERT_TRUE(Lock::ListNames(options_, &names, &status));
  EXPECT_EQ(names, std::vector<std::string>{"job"});
  ASSERT_TRUE(Lock::List("never-used", options_, &entries, &status));
  EXPECT_TRUE(entries.empty());
}

// Listing only reads: `onlyone status --dir /typo` must not create /typo.
TEST_F(LockTest, ListingCreatesNoDirectory) {
  std::vector<std::string> names;
  std::vector<Holder> entries;
  LockStatus status;
  ASSERT_TRUE(Lock::ListNames(options_, &names, &status)) << status.message;
  EXPECT_TRUE(names.empty());
  ASSERT_TRUE(Lock::List("job", options_, &entries, &status)) << status.message;
  EXPECT_TRUE(entries.empty());
  struct stat st;
  EXPECT_NE(stat(options_.dir.c_str(), &st), 0) << options_.dir << " was created by a listing";
}

TEST_F(LockTest, RejectsBadNamesAndSlots) {
  for (const char* name : {"", ".", "..", "a/b"}) {
    Lock lock(name, options_);
    EXPECT_FALSE(lock.TryAcquire());
    EXPECT_EQ(lock.status().error, LockError::kInvalidArgument) << name;
  }
  options_.slots = 0;
  Lock lock("job", options_);
  EXPECT_FALSE(lock.TryAcquire());
  EXPECT_EQ(lock.status().error, LockError::kInvalidArgument);
}

TEST_F(LockTest, ReportsALostEntryOnValidateAndRelease) {
  Lock lock("job", options_);
  ASSERT_TRUE(lock.TryAcquire());
  for (const std::string& entry : Entries("job")) {
    if (entry.rfind("o.", 0) == 0) unlink((options_.dir + "/job/" + entry).c_str());
  }
  EXPECT_FALSE(lock.Validate());
  EXPECT_EQ(lock.status().error, LockError::kLost);
  EXPECT_FALSE(lock.held());
}

TEST_F(LockTest, ReleasesInTheDestructorAndMoves) {
  {
    Lock lock("job", options_);
    ASSERT_TRUE(lock.TryAcquire());
    Lock moved = std::move(lock);
    EXPECT_TRUE(moved.held());
  }
  Lock again("job", options_);
  EXPECT_TRUE(again.TryAcquire()) << again.status().message;
}

TEST_F(LockTest, ASharedDirectoryIsStickyAndItsLocksReadableByAll) {
  options_.shared_dir = true;
  Lock lock("job", options_);
  ASSERT_TRUE(lock.TryAcquire()) << lock.status().message;
  struct stat parent;
  struct stat job;
  ASSERT_EQ(stat(options_.dir.c_str(), &parent), 0);
  ASSERT_EQ(stat((options_.dir + "/job").c_str(), &job), 0);
  EXPECT_EQ(parent.st_mode & 07777, 01777u)
      << "like /tmp: anyone may add a lock, nobody remove another's";
  EXPECT_EQ(job.st_mode & 07777, 0755u);
  ASSERT_TRUE(lock.Release());
}

TEST_F(LockTest, DefaultDirectoryFollowsTheUser) {
  const std::string dir = DefaultLockDirectory();
  if (geteuid() == 0) {
    EXPECT_EQ(dir, "/run/onlyone");
  } else {
    EXPECT_NE(dir.find("onlyone"), std::string::npos);
  }
}

}  // namespace
}  // namespace onlyone
