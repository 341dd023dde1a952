// A rapidcheck stateful test of the lock protocol on the simulator.
//
// The system under test is sim::World in try mode: every acquisition answers
// at once. Commands drive one process at a time through World::Apply while
// all others are frozen, so each outcome is determined and a small model can
// predict it: an acquisition succeeds iff fewer than `slots` live processes
// hold. Crashes (before or in the middle of an acquisition, or while holding),
// PID reuse and clock jumps are mixed in. After every command the test checks
// the world's own safety checks (P1, P2, P6), the holder count against the
// model, strictly increasing fences, and that the directory holds exactly
// what the model says it should: one "o." entry per live holder, nothing of
// any other live process, and no entry of a dead owner once someone has
// scanned past it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <stdint.h>

#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/contender.h"
#include "core/record.h"
#include "sim/world.h"

namespace onlyone {
namespace {

using sim::ProgramCounter;
using sim::Transition;
using sim::TransitionKind;
using sim::World;
using sim::WorldConfig;

// Steps one command may take before the process is declared stuck.
constexpr int kStepsMax = 10000;

struct Model {
  uint32_t slots = 1;
  std::vector<bool> alive;
  std::vector<bool> holding;
  std::vector<bool> pid_reused;

  uint32_t procs() const { return static_cast<uint32_t>(alive.size()); }
  uint32_t Holders() const {
    uint32_t holders = 0;
    for (uint32_t p = 0; p < procs(); ++p) holders += alive[p] && holding[p] ? 1 : 0;
    return holders;
  }
  bool Idle(uint32_t p) const { return p < procs() && alive[p] && !holding[p]; }
};

// What the test remembers about the world beyond the world itself.
struct Harness {
  explicit Harness(const WorldConfig& config) : world(config) {}
  World world;
  uint64_t last_fence = 0;  // largest fence handed out so far
  // Coverage of the rare branches, summed by the caller over all runs.
  uint64_t busy = 0;
  uint64_t acquired = 0;
};

using Command = rc::state::Command<Model, Harness>;
using CommandPtr = std::shared_ptr<const Command>;

std::string Where(const World& world) { return "directory:\n" + world.DescribeFs(); }

void Step(Harness* h, uint32_t p) {
  const Transition step{TransitionKind::kStep, p};
  if (!h->world.IsEnabled(step)) {
    RC_FAIL("P" + std::to_string(p) + " is blocked in try mode with every other process " +
            "frozen\n" + Where(h->world));
  }
  h->world.Apply(step);
}

// Called when `p` has just entered its critical section: its fence must be
// larger than every earlier one (P6).
void RecordAcquisition(Harness* h, uint32_t p) {
  const uint64_t fence = h->world.procs()[p].fence;
  if (fence <= h->last_fence) {
    RC_FAIL("P" + std::to_string(p) + " got fence " + std::to_string(fence) + " after " +
            std::to_string(h->last_fence));
  }
  h->last_fence = fence;
  ++h->acquired;
}

// The index of the process that owns a protocol name ("o.", "f.", "t." plus
// 32 hex digits), whose nonce the simulator makes (index + 1 in the high
// half, see ProcessNonce), and the nonce's low half in *nonce_lo; -1 for any
// other name.
int OwnerIndex(const std::string& name, uint64_t* nonce_lo) {
  if (name.size() != 34 || name[1] != '.') return -1;
  if (name[0] != 'o' && name[0] != 'f' && name[0] != 't') return -1;
  uint64_t hi = 0;
  uint64_t lo = 0;
  for (size_t i = 2; i < name.size(); ++i) {
    const char c = name[i];
    const uint64_t nibble =
        c >= 'a' ? static_cast<uint64_t>(c - 'a' + 10) : static_cast<uint64_t>(c - '0');
    (i < 18 ? hi : lo) = ((i < 18 ? hi : lo) << 4) | nibble;
  }
  *nonce_lo = lo;
  return static_cast<int>(hi) - 1;
}

// Invariants after every command, against the model state after it.
// `scanned`: a process just completed a main-ring scan (any Acquire), which
// removes every dead owner's "o." entry and its temporary; `fenced`: it also
// passed the fence ring (an acquisition with slots > 1), which removes dead
// owners' "f." entries.
void CheckWorld(const Model& model, const Harness& h, bool scanned, bool fenced) {
  const World& world = h.world;
  if (!world.violation().empty()) RC_FAIL(world.violation() + "\n" + Where(world));
  RC_ASSERT(world.LiveHolders() == model.Holders());
  RC_ASSERT(world.LiveHolders() <= model.slots);

  std::vector<int> live_entries(model.procs(), 0);
  uint32_t counters = 0;
  for (const auto& entry : world.fs()) {
    const std::string& name = entry.first;
    const ParsedName parsed = ParseName(Bytes{name.data(), static_cast<uint32_t>(name.size())});
    if (parsed.kind == NameKind::kFormatMarker) continue;
    if (parsed.kind == NameKind::kFenceCounter) {
      // One counter, never behind the holders. A crash between moving it
      // and leaving the fence ring can burn a token, so it may run ahead.
      RC_ASSERT(++counters == 1u);
      RC_ASSERT(parsed.fence >= h.last_fence);
      continue;
    }
    uint64_t nonce_lo = 0;
    const int owner = OwnerIndex(name, &nonce_lo);
    if (owner < 0 || static_cast<uint32_t>(owner) >= model.procs()) {
      RC_FAIL("unexpected name " + name + "\n" + Where(world));
    }
    const uint32_t p = static_cast<uint32_t>(owner);
    if (model.alive[p]) {
      // A live process between commands is idle or holding: it has exactly
      // its current "o." entry if it holds (under its current nonce), and
      // nothing else.
      if (name[0] != 'o' || !model.holding[p] || nonce_lo != world.NonceOf(world.procs()[p]).lo) {
        RC_FAIL("live P" + std::to_string(p) + " left " + name + "\n" + Where(world));
      }
      ++live_entries[p];
    } else {
      if (scanned && name[0] != 'f') {
        RC_FAIL("dead P" + std::to_string(p) + "'s " + name + " survived a scan\n" + Where(world));
      }
      if (fenced && name[0] == 'f') {
        RC_FAIL("dead P" + std::to_string(p) + "'s " + name + " survived the fence ring\n" +
                Where(world));
      }
    }
  }
  for (uint32_t p = 0; p < model.procs(); ++p) {
    const bool holds = model.alive[p] && model.holding[p];
    RC_ASSERT(live_entries[p] == (holds ? 1 : 0));
  }
}

// Acquire(p): p runs its whole try-acquisition alone.
struct Acquire : Command {
  uint32_t p;
  explicit Acquire(uint32_t proc) : p(proc) {}

  void checkPreconditions(const Model& m) const override { RC_PRE(m.Idle(p)); }
  void apply(Model& m) const override {
    if (m.Holders() < m.slots) m.holding[p] = true;
  }
  void run(const Model& m, Harness& h) const override {
    const bool expect_acquired = m.Holders() < m.slots;
    RC_ASSERT(h.world.procs()[p].pc == ProgramCounter::kIdle);
    Step(&h, p);  // starts the acquisition
    for (int steps = 0; h.world.procs()[p].pc == ProgramCounter::kAcquiring; ++steps) {
      RC_ASSERT(steps < kStepsMax);
      Step(&h, p);
    }
    const ProgramCounter pc = h.world.procs()[p].pc;
    if (expect_acquired) {
      if (pc != ProgramCounter::kHolding) {
        RC_FAIL("P" + std::to_string(p) + " was refused with " + std::to_string(m.Holders()) +
                " live holder(s) and " + std::to_string(m.slots) + " slot(s): " +
                OutcomeName(h.world.procs()[p].contender.outcome()) + "\n" + Where(h.world));
      }
      RecordAcquisition(&h, p);
    } else {
      if (pc != ProgramCounter::kIdle) {
        RC_FAIL("P" + std::to_string(p) + " was not busy with " + std::to_string(m.Holders()) +
                " live holder(s) and " + std::to_string(m.slots) + " slot(s)\n" + Where(h.world));
      }
      RC_ASSERT(h.world.procs()[p].contender.outcome() == Outcome::kBusy);
      ++h.busy;
    }
    CheckWorld(nextState(m), h, /*scanned=*/true, /*fenced=*/expect_acquired && m.slots > 1);
  }
  void show(std::ostream& os) const override { os << "Acquire(P" << p << ")"; }
};

// Release(p): the holder p leaves.
struct Release : Command {
  uint32_t p;
  explicit Release(uint32_t proc) : p(proc) {}

  void checkPreconditions(const Model& m) const override {
    RC_PRE(p < m.procs() && m.alive[p] && m.holding[p]);
  }
  void apply(Model& m) const override { m.holding[p] = false; }
  void run(const Model& m, Harness& h) const override {
    RC_ASSERT(h.world.procs()[p].pc == ProgramCounter::kHolding);
    Step(&h, p);  // leaves the critical section
    for (int steps = 0; h.world.procs()[p].pc == ProgramCounter::kReleasing; ++steps) {
      RC_ASSERT(steps < kStepsMax);
      Step(&h, p);
    }
    RC_ASSERT(h.world.procs()[p].pc == ProgramCounter::kIdle);
    RC_ASSERT(h.world.procs()[p].contender.outcome() == Outcome::kReleased);
    CheckWorld(nextState(m), h, false, false);
  }
  void show(std::ostream& os) const override { os << "Release(P" << p << ")"; }
};

// Crash(p): SIGKILL, idle or holding.
struct Crash : Command {
  uint32_t p;
  explicit Crash(uint32_t proc) : p(proc) {}

  void checkPreconditions(const Model& m) const override { RC_PRE(p < m.procs() && m.alive[p]); }
  void apply(Model& m) const override {
    m.alive[p] = false;
    m.holding[p] = false;
  }
  void run(const Model& m, Harness& h) const override {
    const Transition crash{TransitionKind::kCrash, p};
    RC_ASSERT(h.world.IsEnabled(crash));
    h.world.Apply(crash);
    CheckWorld(nextState(m), h, false, false);
  }
  void show(std::ostream& os) const override { os << "Crash(P" << p << ")"; }
};

// CrashMidAcquire(p, k): p starts acquiring and is killed after k steps
// (or as soon as its acquisition ends, if that comes first).
struct CrashMidAcquire : Command {
  uint32_t p;
  int k;
  CrashMidAcquire(uint32_t proc, int steps) : p(proc), k(steps) {}

  void checkPreconditions(const Model& m) const override { RC_PRE(m.Idle(p)); }
  void apply(Model& m) const override {
    m.alive[p] = false;
    m.holding[p] = false;
  }
  void run(const Model& m, Harness& h) const override {
    RC_ASSERT(h.world.procs()[p].pc == ProgramCounter::kIdle);
    Step(&h, p);
    for (int steps = 1; steps < k && h.world.procs()[p].pc == ProgramCounter::kAcquiring; ++steps) {
      Step(&h, p);
    }
    const ProgramCounter pc = h.world.procs()[p].pc;
    if (pc == ProgramCounter::kHolding) {
      // It finished before the crash: it must have been allowed to.
      RC_ASSERT(m.Holders() < m.slots);
      RecordAcquisition(&h, p);
    } else if (pc == ProgramCounter::kIdle) {
      RC_ASSERT(m.Holders() >= m.slots);
    }
    h.world.Apply(Transition{TransitionKind::kCrash, p});
    CheckWorld(nextState(m), h, false, false);
  }
  void show(std::ostream& os) const override {
    os << "CrashMidAcquire(P" << p << ", " << k << " steps)";
  }
};

// ReusePid(p): an unrelated process is born with dead p's pid.
struct ReusePid : Command {
  uint32_t p;
  explicit ReusePid(uint32_t proc) : p(proc) {}

  void checkPreconditions(const Model& m) const override {
    RC_PRE(p < m.procs() && !m.alive[p] && !m.pid_reused[p]);
  }
  void apply(Model& m) const override { m.pid_reused[p] = true; }
  void run(const Model& m, Harness& h) const override {
    const Transition reuse{TransitionKind::kReusePid, p};
    RC_ASSERT(h.world.IsEnabled(reuse));
    h.world.Apply(reuse);
    CheckWorld(nextState(m), h, false, false);
  }
  void show(std::ostream& os) const override { os << "ReusePid(P" << p << ")"; }
};

struct AdvanceClock : Command {
  uint64_t ms;
  explicit AdvanceClock(uint64_t millis) : ms(millis) {}

  void run(const Model& m, Harness& h) const override {
    const uint64_t before = h.world.now_ms();
    h.world.AdvanceClock(ms);
    RC_ASSERT(h.world.now_ms() == before + ms);
    CheckWorld(nextState(m), h, false, false);
  }
  void show(std::ostream& os) const override { os << "AdvanceClock(" << ms << " ms)"; }
};

// Picks a command that is valid in `m`, weighted towards acquisitions and
// releases so that crashes do not end the story too early.
rc::Gen<CommandPtr> GenerateCommand(const Model& m) {
  return rc::gen::exec([m]() -> CommandPtr {
    std::vector<uint32_t> idle;
    std::vector<uint32_t> holders;
    std::vector<uint32_t> alive;
    std::vector<uint32_t> reusable;
    for (uint32_t p = 0; p < m.procs(); ++p) {
      if (m.alive[p]) alive.push_back(p);
      if (m.Idle(p)) idle.push_back(p);
      if (m.alive[p] && m.holding[p]) holders.push_back(p);
      if (!m.alive[p] && !m.pid_reused[p]) reusable.push_back(p);
    }
    enum Kind { kAcquire, kRelease, kCrash, kCrashMid, kReuse, kClock };
    std::vector<std::pair<int, Kind>> weights;
    if (!idle.empty()) weights.push_back({12, kAcquire});
    if (!holders.empty()) weights.push_back({8, kRelease});
    if (!alive.empty()) weights.push_back({2, kCrash});
    if (!idle.empty()) weights.push_back({3, kCrashMid});
    if (!reusable.empty()) weights.push_back({6, kReuse});
    weights.push_back({1, kClock});
    int total = 0;
    for (const auto& w : weights) total += w.first;
    int pick = *rc::gen::inRange(0, total);
    Kind kind = kClock;
    for (const auto& w : weights) {
      if (pick < w.first) {
        kind = w.second;
        break;
      }
      pick -= w.first;
    }
    switch (kind) {
      case kAcquire: return std::make_shared<Acquire>(*rc::gen::elementOf(idle));
      case kRelease: return std::make_shared<Release>(*rc::gen::elementOf(holders));
      case kCrash:
        // Holders leave the most interesting remains.
        return std::make_shared<Crash>(!holders.empty() && *rc::gen::arbitrary<bool>()
                                           ? *rc::gen::elementOf(holders)
                                           : *rc::gen::elementOf(alive));
      case kCrashMid:
        return std::make_shared<CrashMidAcquire>(*rc::gen::elementOf(idle),
                                                 *rc::gen::inRange(1, 40));
      case kReuse: return std::make_shared<ReusePid>(*rc::gen::elementOf(reusable));
      case kClock: break;
    }
    return std::make_shared<AdvanceClock>(*rc::gen::inRange<uint64_t>(1, 3 * kChoosingPatienceMs));
  });
}

struct Coverage {
  uint64_t runs = 0;
  uint64_t acquired = 0;
  uint64_t busy = 0;
  uint64_t dead_entries_removed = 0;
  uint64_t dead_verdicts_on_reused_pid = 0;
  uint64_t crashes_while_choosing = 0;
  uint64_t crashes_while_holding = 0;
  uint64_t slots_seen[4] = {};
};

TEST(StatefulWorld, TryAcquisitionsMatchTheModel) {
  Coverage coverage;
  // Three rounds of rapidcheck's default 100 cases, so that the coverage
  // expectations below hold for every seed.
  for (int round = 0; round < 3; ++round) {
    const bool ok = rc::check("the world in try mode behaves like the model", [&coverage] {
      const uint32_t slots = *rc::gen::inRange<uint32_t>(1, 4);
      const uint32_t procs = *rc::gen::inRange<uint32_t>(slots + 1, 7);
      WorldConfig config;
      config.procs = procs;
      config.slots = slots;
      config.rounds = 1000;
      config.try_mode = true;
      Harness harness(config);
      Model model;
      model.slots = slots;
      model.alive.assign(procs, true);
      model.holding.assign(procs, false);
      model.pid_reused.assign(procs, false);

      rc::state::check(model, harness, &GenerateCommand);

      ++coverage.runs;
      coverage.acquired += harness.acquired;
      coverage.busy += harness.busy;
      coverage.dead_entries_removed += harness.world.counters().dead_entries_removed;
      coverage.dead_verdicts_on_reused_pid += harness.world.counters().dead_verdicts_on_reused_pid;
      coverage.crashes_while_choosing += harness.world.counters().crashes_while_choosing;
      coverage.crashes_while_holding += harness.world.counters().crashes_while_holding;
      ++coverage.slots_seen[slots];
    });
    ASSERT_TRUE(ok);
  }
  // The runs must have reached the branches that make this test worth
  // having; a generator that stopped producing them would pass vacuously.
  EXPECT_GT(coverage.acquired, 0u);
  EXPECT_GT(coverage.busy, 0u);
  EXPECT_GT(coverage.dead_entries_removed, 0u);
  EXPECT_GT(coverage.dead_verdicts_on_reused_pid, 0u);
  EXPECT_GT(coverage.crashes_while_choosing, 0u);
  EXPECT_GT(coverage.crashes_while_holding, 0u);
  for (uint32_t slots = 1; slots <= 3; ++slots) {
    EXPECT_GT(coverage.slots_seen[slots], 0u) << "slots=" << slots << " never tried";
  }
  std::cout << "runs " << coverage.runs << ", acquisitions " << coverage.acquired << ", busy "
            << coverage.busy << ", dead entries removed " << coverage.dead_entries_removed
            << ", dead verdicts on reused pids " << coverage.dead_verdicts_on_reused_pid
            << ", crashes while choosing " << coverage.crashes_while_choosing
            << ", crashes while holding " << coverage.crashes_while_holding << "\n";
}

}  // namespace
}  // namespace onlyone
