// The backend contract suite: the same typed tests against every backend of
// platform/backend.h, so that what the command relies on holds whichever
// backend it runs under:
//   Simulated  the protocol core on the simulated file system (sim/backend.h)
//   Posix      onlyone::Lock in a temporary directory (platform/posix/backend.h)
//   ZooKeeper  ZkLock on a real standalone server on loopback, started by
//              contract_test.sh, which passes its address in $ZK_CONNECT
// A backend that cannot keep a point of the contract says so in its
// Backends type (Cannot()), with the reason; the test then reports that
// reason as a skip, never silently. Today every backend keeps every point.
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "platform/backend.h"
#include "platform/posix/backend.h"
#include "platform/zookeeper/backend.h"
#include "sim/backend.h"

namespace onlyone {
namespace {

constexpr const char* kCommand = "contract";
// A wait that must end with busy: short, since the POSIX and ZooKeeper
// backends spend it in real time.
constexpr int64_t kShortWaitMs = 300;
// How long a test waits for something that should take milliseconds, before
// it calls it a failure (a loaded 2-core machine, a Java server).
constexpr int64_t kPatienceMs = 20 * 1000;
// The holder releases this long after the waiter started, so that the
// waiter is (almost always) asleep in its wait by then.
constexpr int64_t kReleaseAfterMs = 200;

enum class Point { kTryAndBusy, kWait, kSlots, kFence, kValidate, kLost, kList, kCancel };

class SimulatedBackends {
 public:
  static const char* Name() { return "Simulated"; }
  static const char* Cannot(Point) { return nullptr; }
  std::unique_ptr<Backend> Make(uint32_t slots) {
    return std::unique_ptr<Backend>(new sim::SimBackend(&lock_, slots, kCommand));
  }
  // Removes `holder`'s entry, as an operator's rm would.
  bool TakeAway(Backend* holder) {
    return lock_.Remove(static_cast<sim::SimBackend*>(holder)->entry_name());
  }

 private:
  sim::SimLock lock_{"contract"};
};

class PosixBackends {
 public:
  static const char* Name() { return "Posix"; }
  static const char* Cannot(Point) { return nullptr; }
  PosixBackends() {
    const char* tmp = getenv("TEST_TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/contract.XXXXXX";
    if (mkdtemp(&pattern[0]) != nullptr) dir_ = pattern;  // mode 0700: a private lock directory
  }
  std::unique_ptr<Backend> Make(uint32_t slots) {
    LockOptions options;
    options.dir = dir_;
    options.slots = slots;
    options.command = kCommand;
    return std::unique_ptr<Backend>(new posix::PosixBackend("contract", options, dir_));
  }
  // Removes the lock's "o." entries (the suite calls it with one contender,
  // the holder), as an operator's rm would.
  bool TakeAway(Backend*) {
    const std::string lock_dir = dir_ + "/contract";
    DIR* dir = opendir(lock_dir.c_str());
    if (dir == nullptr) return false;
    int removed = 0;
    while (struct dirent* entry = readdir(dir)) {
      if (strncmp(entry->d_name, "o.", 2) != 0) continue;
      if (unlinkat(dirfd(dir), entry->d_name, 0) == 0) ++removed;
    }
    closedir(dir);
    return removed > 0;
  }

 private:
  std::string dir_;
};

class ZooKeeperBackends {
 public:
  static const char* Name() { return "ZooKeeper"; }
  static const char* Cannot(Point) { return nullptr; }
  ZooKeeperBackends() {
    static int counter = 0;
    const char* connect = getenv("ZK_CONNECT");
    connect_ = connect != nullptr ? connect : "";
    path_ = "/contract_test/lock-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  }
  std::unique_ptr<Backend> Make(uint32_t slots) {
    EXPECT_FALSE(connect_.empty()) << "no $ZK_CONNECT: run the suite through contract_test.sh";
    zookeeper::ZkOptions options;
    options.connect = connect_;
    options.lock_path = path_;
    options.slots = slots;
    options.session_timeout_ms = 10 * 1000;
    options.command = kCommand;
    return std::unique_ptr<Backend>(new zookeeper::ZkBackend("contract", options));
  }
  // Deletes the holder's node from another session, as an operator would.
  bool TakeAway(Backend* holder) {
    const auto* zk = static_cast<zookeeper::ZkBackend*>(holder);
    const std::string node = path_ + "/" + zk->zk_lock().node();
    zhandle_t* zh = zookeeper_init(connect_.c_str(), nullptr, 10 * 1000, nullptr, nullptr, 0);
    if (zh == nullptr) return false;
    for (int64_t waited_ms = 0; zoo_state(zh) != ZOO_CONNECTED_STATE && waited_ms < kPatienceMs;
         waited_ms += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const int rc = zoo_delete(zh, node.c_str(), -1);
    zookeeper_close(zh);
    return rc == ZOK;
  }

 private:
  std::string connect_;
  std::string path_;
};

template <typename Backends>
class BackendContract : public ::testing::Test {
 protected:
  // Why this backend cannot keep `point` (the test is then skipped with
  // that reason), or null.
  static const char* Declined(Point point) { return Backends::Cannot(point); }
  std::unique_ptr<Backend> NewHolder(uint32_t slots = 1) {
    std::unique_ptr<Backend> holder = backends_.Make(slots);
    EXPECT_TRUE(holder->TryAcquire()) << holder->status().message;
    return holder;
  }

  Backends backends_;
};

class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::Name();
  }
};

using AllBackends = ::testing::Types<SimulatedBackends, PosixBackends, ZooKeeperBackends>;
TYPED_TEST_SUITE(BackendContract, AllBackends, BackendNames);

TYPED_TEST(BackendContract, TryOnAFreeLockAcquiresIt) {
  if (const char* why = this->Declined(Point::kTryAndBusy)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> lock = this->backends_.Make(1);
  ASSERT_TRUE(lock->TryAcquire()) << lock->status().message;
  EXPECT_EQ(lock->status().error, BackendError::kNone);
  EXPECT_GT(lock->fence(), 0u);
  EXPECT_TRUE(lock->Release()) << lock->status().message;
}

TYPED_TEST(BackendContract, TryOnAHeldLockIsBusyAndNamesTheHolder) {
  if (const char* why = this->Declined(Point::kTryAndBusy)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  std::unique_ptr<Backend> other = this->backends_.Make(1);
  EXPECT_FALSE(other->TryAcquire());
  EXPECT_EQ(other->status().error, BackendError::kBusy) << other->status().message;
  ASSERT_TRUE(other->status().has_holder);
  EXPECT_EQ(other->status().holder.command, kCommand);
  EXPECT_TRUE(holder->Release());
}

TYPED_TEST(BackendContract, AWaiterAcquiresOnceTheHolderReleases) {
  if (const char* why = this->Declined(Point::kWait)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  const uint64_t holder_fence = holder->fence();
  std::unique_ptr<Backend> waiter = this->backends_.Make(1);
  std::atomic<bool> released{false};
  bool acquired = false;
  bool acquired_after_release = false;
  std::thread waiting([&] {
    acquired = waiter->Acquire(kWaitForever);
    acquired_after_release = released.load();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(kReleaseAfterMs));
  released.store(true);
  ASSERT_TRUE(holder->Release()) << holder->status().message;
  waiting.join();
  ASSERT_TRUE(acquired) << waiter->status().message;
  EXPECT_TRUE(acquired_after_release) << "the waiter got in while the holder held";
  EXPECT_GT(waiter->fence(), holder_fence);
  EXPECT_TRUE(waiter->Release());
}

TYPED_TEST(BackendContract, AWaitThatRunsOutIsBusy) {
  if (const char* why = this->Declined(Point::kWait)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  std::unique_ptr<Backend> waiter = this->backends_.Make(1);
  EXPECT_FALSE(waiter->Acquire(kShortWaitMs));
  EXPECT_EQ(waiter->status().error, BackendError::kBusy) << waiter->status().message;
  EXPECT_TRUE(waiter->status().has_holder);
  // The waiter left no trace: once the holder is gone, a newcomer gets in.
  EXPECT_TRUE(holder->Release());
  std::unique_ptr<Backend> newcomer = this->backends_.Make(1);
  EXPECT_TRUE(newcomer->TryAcquire()) << newcomer->status().message;
  EXPECT_TRUE(newcomer->Release());
}

TYPED_TEST(BackendContract, CancelEndsAWait) {
  if (const char* why = this->Declined(Point::kCancel)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  std::unique_ptr<Backend> waiter = this->backends_.Make(1);
  std::atomic<bool> done{false};
  bool acquired = true;
  std::thread waiting([&] {
    acquired = waiter->Acquire(kWaitForever);
    done.store(true);
  });
  // Cancel until the wait ends: a Cancel that lands before the wait began
  // must not leave the test hanging on a backend that forgets it.
  for (int64_t waited_ms = 0; !done.load() && waited_ms < kPatienceMs; waited_ms += 50) {
    waiter->Cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  waiting.join();
  EXPECT_FALSE(acquired);
  EXPECT_EQ(waiter->status().error, BackendError::kCancelled) << waiter->status().message;
  EXPECT_TRUE(holder->Release());
}

TYPED_TEST(BackendContract, KSlotsAdmitKHoldersAndRefuseTheNext) {
  if (const char* why = this->Declined(Point::kSlots)) GTEST_SKIP() << why;
  constexpr uint32_t kSlots = 3;
  std::vector<std::unique_ptr<Backend>> holders;
  for (uint32_t i = 0; i < kSlots; ++i) {
    holders.push_back(this->backends_.Make(kSlots));
    ASSERT_TRUE(holders.back()->TryAcquire())
        << "holder " << i << ": " << holders.back()->status().message;
  }
  std::unique_ptr<Backend> extra = this->backends_.Make(kSlots);
  EXPECT_FALSE(extra->TryAcquire());
  EXPECT_EQ(extra->status().error, BackendError::kBusy) << extra->status().message;
  ASSERT_TRUE(holders.front()->Release());
  EXPECT_TRUE(extra->TryAcquire()) << "a freed slot admits one more: " << extra->status().message;
  EXPECT_TRUE(extra->Release());
  for (size_t i = 1; i < holders.size(); ++i) EXPECT_TRUE(holders[i]->Release());
}

TYPED_TEST(BackendContract, FencesStrictlyIncreaseFromHolderToHolder) {
  if (const char* why = this->Declined(Point::kFence)) GTEST_SKIP() << why;
  uint64_t previous = 0;
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<Backend> holder = this->NewHolder();
    EXPECT_GT(holder->fence(), previous) << "round " << round;
    previous = holder->fence();
    ASSERT_TRUE(holder->Release());
  }
}

TYPED_TEST(BackendContract, ValidateIsTrueWhileHeldAndFalseOnceReleased) {
  if (const char* why = this->Declined(Point::kValidate)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  EXPECT_TRUE(holder->Validate()) << holder->status().message;
  EXPECT_TRUE(holder->Validate()) << "a check changes nothing";
  ASSERT_TRUE(holder->Release());
  EXPECT_FALSE(holder->Validate());
}

TYPED_TEST(BackendContract, ValidateReportsAHoldingRemovedFromUnderItAsLost) {
  if (const char* why = this->Declined(Point::kLost)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  ASSERT_TRUE(this->backends_.TakeAway(holder.get()));
  EXPECT_FALSE(holder->Validate());
  EXPECT_EQ(holder->status().error, BackendError::kLost) << holder->status().message;
}

TYPED_TEST(BackendContract, CheckHoldNotifiesTheLossOfARemovedHolding) {
  if (const char* why = this->Declined(Point::kLost)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  std::string why;
  int64_t next_check_ms = 0;
  EXPECT_EQ(holder->CheckHold(&why, &next_check_ms), Backend::Hold::kHeld) << why;
  ASSERT_TRUE(this->backends_.TakeAway(holder.get()));
  Backend::Hold hold = Backend::Hold::kHeld;
  // A backend may learn of the loss asynchronously (a ZooKeeper watch): call
  // it as a supervisor would, when it asks, for up to kPatienceMs.
  for (int64_t waited_ms = 0; waited_ms < kPatienceMs; waited_ms += next_check_ms) {
    hold = holder->CheckHold(&why, &next_check_ms);
    if (hold == Backend::Hold::kLost) break;
    next_check_ms = std::max<int64_t>(1, std::min<int64_t>(next_check_ms, 100));
    std::this_thread::sleep_for(std::chrono::milliseconds(next_check_ms));
  }
  EXPECT_EQ(hold, Backend::Hold::kLost);
  EXPECT_FALSE(why.empty());
}

TYPED_TEST(BackendContract, ListShowsTheHolderFirst) {
  if (const char* why = this->Declined(Point::kList)) GTEST_SKIP() << why;
  std::unique_ptr<Backend> holder = this->NewHolder();
  std::unique_ptr<Backend> observer = this->backends_.Make(1);
  std::vector<Holder> entries;
  ASSERT_TRUE(observer->List(&entries)) << observer->status().message;
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].holding);
  EXPECT_EQ(entries[0].command, kCommand);
  ASSERT_TRUE(holder->Release());
  ASSERT_TRUE(observer->List(&entries)) << observer->status().message;
  EXPECT_TRUE(entries.empty());
}

}  // namespace
}  // namespace onlyone
