// The contract suite: the same typed tests against the
// simulated platform (sim/platform.h) and the POSIX driver on a temporary
// directory, so the fake the model checker trusts cannot drift from the real
// thing. First each Op alone, then whole Contender scenarios.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/contender.h"
#include "core/record.h"
#include "gtest/gtest.h"
#include "platform/posix/driver.h"
#include "sim/platform.h"
#include "tests/posix/process_util.h"

namespace onlyone {
namespace {

using sim::Platform;

// The POSIX driver behind the Platform interface. Contenders of one test
// share the process, so each is told apart by its nonce: its anchor is the
// one thing that makes it alive or dead to others, and Kill closes it
// without unlinking, exactly what the kernel does when a process dies.
class PosixPlatform : public Platform {
 public:
  PosixPlatform() {
    path_ = testing_posix::MakeScratchDir("contract");
    dir_fd_ = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    driver_.reset(new posix::Driver(dir_fd_, -1));
  }
  ~PosixPlatform() override {
    anchors_.clear();
    driver_.reset();
    close(dir_fd_);
  }
  Identity NewIdentity(const std::string& command) override {
    Id128 nonce;
    int os_error = 0;
    posix::RandomNonce(&nonce, &os_error);
    return posix::LocalIdentity(nonce, command);
  }
  bool Enter(const Identity& who) override {
    auto anchor = std::make_unique<posix::Anchor>();
    int os_error = 0;
    if (anchor->Create(dir_fd_, who, posix::WallMs(), &os_error) != IoStatus::kOk) return false;
    anchors_[Key(who)] = std::move(anchor);
    return true;
  }
  void Leave(const Identity& who) override {
    auto it = anchors_.find(Key(who));
    if (it == anchors_.end()) return;
    it->second->Remove();
    anchors_.erase(it);
  }
  void Kill(const Identity& who) override { anchors_.erase(Key(who)); }
  void PlantFile(const std::string& name, const std::string& content) override {
    int fd = openat(dir_fd_, name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      (void)!write(fd, content.data(), content.size());
      close(fd);
    }
  }
  Result Perform(const Op& op) override { return driver_->Perform(op); }

 private:
  static std::string Key(const Identity& who) {
    return posix::OwnerName(NameKind::kEntry, who.nonce);
  }
  std::string path_;
  int dir_fd_ = -1;
  std::unique_ptr<posix::Driver> driver_;
  std::map<std::string, std::unique_ptr<posix::Anchor>> anchors_;
};

Bytes B(const std::string& text) { return Bytes{text.data(), static_cast<uint32_t>(text.size())}; }
std::string S(Bytes bytes) { return std::string(bytes.data, bytes.size); }

template <typename PlatformType>
class Contract : public ::testing::Test {
 protected:
  Result Do(OpKind kind, const std::string& name = "", const std::string& record = "",
            const std::string& from = "") {
    Op op;
    op.kind = kind;
    op.name = B(name);
    op.record = B(record);
    op.from = B(from);
    return platform_.Perform(op);
  }
  std::multiset<std::string> ListAll() {
    std::multiset<std::string> names;
    EXPECT_EQ(Do(OpKind::kListStart).status, IoStatus::kOk);
    for (int guard = 0; guard < 1000; ++guard) {
      Result r = Do(OpKind::kListNext);
      if (r.status == IoStatus::kEnd) return names;
      EXPECT_EQ(r.status, IoStatus::kOk);
      names.insert(S(r.data));
    }
    ADD_FAILURE() << "a listing that never ends";
    return names;
  }
  // Names of the lock's protocol entries (not anchors, which only POSIX has).
  std::multiset<std::string> ProtocolNames() {
    std::multiset<std::string> names;
    for (const std::string& name : ListAll()) {
      if (name.rfind("k.", 0) != 0) names.insert(name);
    }
    return names;
  }

  // A contender "process" on the platform.
  struct Proc {
    Identity identity;
    Contender contender;
  };
  std::unique_ptr<Proc> NewProc(uint32_t slots = 1) {
    auto proc = std::make_unique<Proc>();
    proc->identity = platform_.NewIdentity("contract");
    Config config;
    config.slots = slots;
    proc->contender.Init(config, proc->identity);
    return proc;
  }
  Outcome Run(Proc* proc, Op op) {
    for (int guard = 0; guard < 10000 && op.kind != OpKind::kDone; ++guard) {
      op = proc->contender.Step(platform_.Perform(op));
    }
    return proc->contender.outcome();
  }
  // Try mode, as TryAcquire does it: enter, one attempt, leave unless held.
  Outcome TryAcquire(Proc* proc) {
    EXPECT_TRUE(platform_.Enter(proc->identity));
    const Result now = Do(OpKind::kRead, "o.clock");  // any Op: both clocks
    Outcome outcome = Run(proc, proc->contender.Acquire(now.mono_ms, now.wall_ms, now.mono_ms));
    if (outcome != Outcome::kAcquired) platform_.Leave(proc->identity);
    return outcome;
  }
  Outcome Release(Proc* proc) {
    Outcome outcome = Run(proc, proc->contender.Release());
    platform_.Leave(proc->identity);
    return outcome;
  }

  PlatformType platform_;
};

using Platforms = ::testing::Types<sim::SimPlatform, PosixPlatform>;
class PlatformNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same<T, sim::SimPlatform>::value ? "Simulated" : "Posix";
  }
};
TYPED_TEST_SUITE(Contract, Platforms, PlatformNames);

TYPED_TEST(Contract, CreateSucceedsOnlyWhileTheNameIsFree) {
  EXPECT_EQ(this->Do(OpKind::kCreate, "o.a", "first").status, IoStatus::kOk);
  EXPECT_EQ(this->Do(OpKind::kCreate, "o.a", "second").status, IoStatus::kExists);
  EXPECT_EQ(S(this->Do(OpKind::kRead, "o.a").data), "first");
}

TYPED_TEST(Contract, RenameReplacesTheDestinationWhole) {
  ASSERT_EQ(this->Do(OpKind::kCreate, "o.a", "old").status, IoStatus::kOk);
  ASSERT_EQ(this->Do(OpKind::kCreate, "t.a", "new").status, IoStatus::kOk);
  EXPECT_EQ(this->Do(OpKind::kRename, "o.a", "", "t.a").status, IoStatus::kOk);
  EXPECT_EQ(S(this->Do(OpKind::kRead, "o.a").data), "new");
  EXPECT_EQ(this->Do(OpKind::kRead, "t.a").status, IoStatus::kNotFound);
  EXPECT_EQ(this->ListAll(), std::multiset<std::string>{"o.a"});
}

TYPED_TEST(Contract, RenameOfAMissingSourceIsNotFound) {
  EXPECT_EQ(this->Do(OpKind::kRename, "o.a", "", "t.none").status, IoStatus::kNotFound);
}

TYPED_TEST(Contract, ReadTellsMissingNamesFromForeignFiles) {
  this->platform_.PlantFile("o.file", "junk");
  EXPECT_EQ(this->Do(OpKind::kRead, "o.none").status, IoStatus::kNotFound);
  EXPECT_EQ(this->Do(OpKind::kRead, "o.file").status, IoStatus::kNotSymlink);
}

TYPED_TEST(Contract, RemoveDeletesOnceThenReportsNotFound) {
  ASSERT_EQ(this->Do(OpKind::kCreate, "o.a", "r").status, IoStatus::kOk);
  EXPECT_EQ(this->Do(OpKind::kRemove, "o.a").status, IoStatus::kOk);
  EXPECT_EQ(this->Do(OpKind::kRemove, "o.a").status, IoStatus::kNotFound);
  EXPECT_EQ(this->Do(OpKind::kRead, "o.a").status, IoStatus::kNotFound);
}

TYPED_TEST(Contract, MoveRenamesOnlyFromANameThatIsThereToOneThatIsNot) {
  ASSERT_EQ(this->Do(OpKind::kCreate, "fence.1", "c").status, IoStatus::kOk);
  EXPECT_EQ(this->Do(OpKind::kMove, "fence.2", "", "fence.1").status, IoStatus::kOk);
  EXPECT_EQ(this->ListAll(), std::multiset<std::string>{"fence.2"});
  // The compare-and-swap of the fence counter: a second move from 1 fails.
  EXPECT_EQ(this->Do(OpKind::kMove, "fence.2", "", "fence.1").status, IoStatus::kNotFound);
  ASSERT_EQ(this->Do(OpKind::kCreate, "fence.3", "c").status, IoStatus::kOk);
  EXPECT_EQ(this->Do(OpKind::kMove, "fence.3", "", "fence.2").status, IoStatus::kExists);
  EXPECT_EQ(this->ListAll(), (std::multiset<std::string>{"fence.2", "fence.3"}))
      << "a move never replaces";
}

TYPED_TEST(Contract, ListingReturnsEveryNameOnceAndRestartsAtListStart) {
  for (const char* name : {"o.b", "o.a", "fence.3", "t.c"}) {
    ASSERT_EQ(this->Do(OpKind::kCreate, name, "r").status, IoStatus::kOk);
  }
  this->platform_.PlantFile("notes.txt", "x");
  const std::multiset<std::string> all = {"o.a", "o.b", "fence.3", "t.c", "notes.txt"};
  EXPECT_EQ(this->ListAll(), all);
  EXPECT_EQ(this->ListAll(), all);
}

TYPED_TEST(Contract, WaitReturnsOnceSomethingChangedSinceTheListingStarted) {
  EXPECT_EQ(this->Do(OpKind::kListStart).status, IoStatus::kOk);
  ASSERT_EQ(this->Do(OpKind::kCreate, "o.new", "r").status, IoStatus::kOk);
  Op wait;
  wait.kind = OpKind::kWait;
  wait.deadline_mono_ms = kNoDeadline;  // must not need a deadline to return
  EXPECT_EQ(this->platform_.Perform(wait).status, IoStatus::kOk);
}

TYPED_TEST(Contract, AWaitPastItsDeadlineTimesOutWithoutBlocking) {
  // A driver may first answer kOk (a spurious wake-up: POSIX arms its
  // directory watch and asks for a rescan); once the listing is watched,
  // nothing changed and the deadline passed: kTimedOut.
  Result waited;
  for (int round = 0; round < 2 && waited.status != IoStatus::kTimedOut; ++round) {
    const Result listed = this->Do(OpKind::kListStart);
    ASSERT_EQ(listed.status, IoStatus::kOk);
    Op wait;
    wait.kind = OpKind::kWait;
    wait.deadline_mono_ms = listed.mono_ms;
    waited = this->platform_.Perform(wait);
    EXPECT_TRUE(waited.status == IoStatus::kOk || waited.status == IoStatus::kTimedOut)
        << IoStatusName(waited.status);
  }
  EXPECT_EQ(waited.status, IoStatus::kTimedOut);
}

TYPED_TEST(Contract, AnOwnerInAnotherPidNamespaceIsNeitherAliveNorDead) {
  // A process in a namespace we cannot see into: its pid here means nothing
  // (H5), so only its anchor could prove it alive or dead, and it has none.
  OwnerRecord record;
  record.state = EntryState::kWaiting;
  record.ticket = 1;
  record.owner = this->platform_.NewIdentity("contract");
  record.owner.pid_namespace += 1;
  Op probe;
  probe.kind = OpKind::kProbe;
  probe.owner = &record;
  EXPECT_EQ(this->platform_.Perform(probe).liveness, Liveness::kUnknown);
  // The same process in our namespace is provably alive.
  record.owner.pid_namespace -= 1;
  EXPECT_EQ(this->platform_.Perform(probe).liveness, Liveness::kAlive);
}

TYPED_TEST(Contract, StampsResultsWithClocksThatNeverGoBack) {
  const Result first = this->Do(OpKind::kRead, "o.none");
  const Result second = this->Do(OpKind::kRead, "o.none");
  EXPECT_NE(first.wall_ms, 0u);
  EXPECT_GE(second.mono_ms, first.mono_ms);
}

// Whole scenarios through a Contender.

TYPED_TEST(Contract, AContenderAcquiresAFreeLockAndReleasesIt) {
  auto a = this->NewProc();
  ASSERT_EQ(this->TryAcquire(a.get()), Outcome::kAcquired);
  EXPECT_EQ(a->contender.fence(), 1u);
  const std::string marker = S(FormatMarkerName());
  EXPECT_EQ(this->ProtocolNames(),
            (std::multiset<std::string>{"fence.1", marker, S(a->contender.entry_name())}));
  EXPECT_EQ(this->Release(a.get()), Outcome::kReleased);
  EXPECT_EQ(this->ListAll(), (std::multiset<std::string>{"fence.1", marker}));
}

TYPED_TEST(Contract, ASecondContenderIsBusyAndLearnsWhoHolds) {
  auto a = this->NewProc();
  auto b = this->NewProc();
  ASSERT_EQ(this->TryAcquire(a.get()), Outcome::kAcquired);
  EXPECT_EQ(this->TryAcquire(b.get()), Outcome::kBusy);
  ASSERT_TRUE(b->contender.has_blocker());
  EXPECT_EQ(b->contender.blocker().owner.pid, a->identity.pid);
  EXPECT_EQ(b->contender.blocker().owner.nonce, a->identity.nonce);
  EXPECT_EQ(this->Release(a.get()), Outcome::kReleased);
  ASSERT_EQ(this->TryAcquire(b.get()), Outcome::kAcquired);
  EXPECT_EQ(b->contender.fence(), 2u);
  EXPECT_EQ(this->Release(b.get()), Outcome::kReleased);
}

TYPED_TEST(Contract, ADeadHoldersEntryIsRemovedAndTheLockTaken) {
  auto a = this->NewProc();
  ASSERT_EQ(this->TryAcquire(a.get()), Outcome::kAcquired);
  this->platform_.Kill(a->identity);
  auto b = this->NewProc();
  ASSERT_EQ(this->TryAcquire(b.get()), Outcome::kAcquired);
  EXPECT_EQ(b->contender.counters().dead_entries_removed, 1u);
  EXPECT_EQ(b->contender.fence(), 2u);
  // The dead owner's entry and (on POSIX) its anchor are gone.
  EXPECT_EQ(this->ListAll().count(S(a->contender.entry_name())), 0u);
  EXPECT_EQ(this->ListAll().count(posix::OwnerName(NameKind::kAnchor, a->identity.nonce)), 0u);
  EXPECT_EQ(this->Release(b.get()), Outcome::kReleased);
}

TYPED_TEST(Contract, ThreeSlotsAdmitThreeHoldersAndRefuseTheFourth) {
  std::vector<std::unique_ptr<typename TestFixture::Proc>> procs;
  for (int i = 0; i < 4; ++i) procs.push_back(this->NewProc(3));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(this->TryAcquire(procs[i].get()), Outcome::kAcquired) << i;
  EXPECT_EQ(this->TryAcquire(procs[3].get()), Outcome::kBusy);
  EXPECT_EQ(this->Release(procs[0].get()), Outcome::kReleased);
  EXPECT_EQ(this->TryAcquire(procs[3].get()), Outcome::kAcquired);
}

TYPED_TEST(Contract, GarbageAndForeignFilesAreSkippedAndLeftAlone) {
  this->platform_.PlantFile("o.0123456789abcdef0123456789abcdef", "junk");
  ASSERT_EQ(this->Do(OpKind::kCreate, "o.fedcba9876543210fedcba9876543210", "garbage").status,
            IoStatus::kOk);
  this->platform_.PlantFile("notes.txt", "x");
  auto a = this->NewProc();
  ASSERT_EQ(this->TryAcquire(a.get()), Outcome::kAcquired);
  // Two garbage entries, seen by the doorway listing and again by the scan.
  EXPECT_EQ(a->contender.counters().garbage_entries, 4u);
  EXPECT_EQ(this->Release(a.get()), Outcome::kReleased);
  EXPECT_EQ(this->ListAll(),
            (std::multiset<std::string>{"fence.1", S(FormatMarkerName()), "notes.txt",
                                        "o.0123456789abcdef0123456789abcdef",
                                        "o.fedcba9876543210fedcba9876543210"}));
}

TYPED_TEST(Contract, ValidateNoticesAnEntryRemovedBehindTheHoldersBack) {
  auto a = this->NewProc();
  ASSERT_EQ(this->TryAcquire(a.get()), Outcome::kAcquired);
  EXPECT_EQ(this->Run(a.get(), a->contender.Validate()), Outcome::kHeld);
  ASSERT_EQ(this->Do(OpKind::kRemove, S(a->contender.entry_name())).status, IoStatus::kOk);
  EXPECT_EQ(this->Run(a.get(), a->contender.Validate()), Outcome::kLost);
  this->platform_.Leave(a->identity);
}

}  // namespace
}  // namespace onlyone
