// The protocol's own program (acquire, release) through the same engine as
// users' programs, with the lock's options and faults of a scenario.
//
// With proven liveness it is verified, as the model checker proves it
// (sim/modelcheck.cc explores the same World with a program built in). Under
// a lease, with a pause allowed anywhere, it is verified too: the engine once
// found one fencing token handed out twice (a holder paused between reading
// the counter and writing it back) and, once that was fixed, two holders (a
// contender paused in its doorway, its entry removed as expired and put back
// by its own publish). Both schedules are replayed below on the current
// protocol, as is the Refresh a remover could undo.
#include <iostream>
#include <string>
#include <utility>

#include "examples/verify/golden.h"
#include "gtest/gtest.h"
#include "verify/verify.h"

namespace {

using onlyone::verify::Check;
using onlyone::verify::ProtocolScenario;
using onlyone::verify::Replay;
using onlyone::verify::Report;
using onlyone::verify::Scenario;

TEST(ProtocolProgram, IsVerifiedWithProvenLivenessCrashesAndPidReuse) {
  Scenario s = ProtocolScenario(/*processes=*/2, /*slots=*/1, /*rounds=*/2);
  s.faults.crashes = 1;
  s.faults.pid_reuses = 1;
  const Report report = Check(s);
  std::cout << report.Text();
  EXPECT_TRUE(report.passed()) << report.Text();
  EXPECT_GT(report.reached.crashes, 0u);
  EXPECT_GT(report.reached.pid_reuses, 0u);
}

TEST(ProtocolProgram, IsVerifiedOnTwoSlots) {
  const Report report = Check(ProtocolScenario(3, 2, 1));
  std::cout << report.Text();
  EXPECT_TRUE(report.passed()) << report.Text();
}

Scenario LeasePauseAnywhere(uint32_t processes, uint32_t pauses) {
  Scenario s = ProtocolScenario(processes, 1, 1);
  s.lock.lease_ms = 10'000;
  s.faults.pauses = pauses;  // anywhere, inside the lock's operations too
  return s;
}

TEST(ProtocolProgram, UnderALeaseAPauseAnywhereNeverLetsTwoInNorHandsOutATokenTwice) {
  // (3 processes with 1 pause pass 5,000,000 states with no violation, the
  // default bound: too long for a test; see docs/verify.md.)
  for (const auto& [processes, pauses] : {std::pair<uint32_t, uint32_t>{2, 1}, {2, 2}}) {
    const Report report = Check(LeasePauseAnywhere(processes, pauses));
    std::cout << report.Text();
    EXPECT_TRUE(report.passed()) << processes << " processes, " << pauses << " pauses\n"
                                 << report.Text();
    EXPECT_GT(report.reached.leases_expired, 0u);
  }
}

// The checked-in counterexamples were recorded on an older protocol, whose
// steps a schedule counts: these are their schedules with the same faults at
// the same points of the same runs, on today's steps (a scan also lists the
// counter; the fence is a listing, the marker and a create, or one move).
TEST(ProtocolProgram, UnderALeaseTheHolderPausedBeforeItsFenceNoLongerSharesItsToken) {
  // lease_fence_token_twice.txt: p1 pauses in its doorway and again just
  // before it makes the counter; p0 takes over, fences, and p1 resumes.
  const std::string schedule =
      "a1 s1 z s1 s1 s1 s1 s1 s1 s1 s1 s1 a0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 "
      "s1 s1 s1 s1 s1 s1 s1 s1";
  const Report replayed = Replay(LeasePauseAnywhere(2, 1), schedule);
  std::cout << replayed.Text() << replayed.trace;
  EXPECT_FALSE(replayed.violated) << replayed.Text();
  EXPECT_EQ(replayed.method.rfind("replay", 0), 0u) << replayed.Text();
  EXPECT_EQ(replayed.reached.acquisitions, 1u) << replayed.Text();
  EXPECT_EQ(replayed.reached.busy, 1u) << "p1 stalled past its lease: " << replayed.Text();
}

// A Refresh raced with a remover: the remover read the old record and
// judged its lease run out, the holder refreshed it, and the remover then
// deleted the fresh entry while Refresh said "held" (the checked-in trace
// lease_refresh_undone.txt). A refresh now counts only if it landed while the
// record it replaced was within its lease, and a holder past its lease gives
// the lock up. The checked-in schedule must no longer break anything, and no
// schedule may.
Scenario RefreshScenario(uint32_t processes, uint32_t pauses) {
  Scenario s;
  s.processes = processes;
  s.lock.lease_ms = 10'000;
  s.faults.pauses = pauses;
  s.faults.pause_inside_lock = false;
  s.Program([](onlyone::verify::Process& p) {
    if (p.Acquire() && p.Refresh()) p.Release();
  });
  return s;
}

TEST(ProtocolProgram, UnderALeaseTheRemoverOfAnOldReadNoLongerUndoesARefresh) {
  // lease_refresh_undone.txt, on today's steps (see above): p1 acquires,
  // everyone pauses, p0 judges p1 expired, p1 refreshes, p0 removes.
  const std::string schedule =
      "a1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 s1 z a0 a1 s0 s0 s0 s0 s0 s0 s0 s0 s0 s0 s1 s1 s1 s0";
  const Report replayed = Replay(RefreshScenario(2, 1), schedule);
  std::cout << replayed.Text() << replayed.trace;
  EXPECT_FALSE(replayed.violated) << replayed.Text();
  EXPECT_EQ(replayed.method.rfind("replay", 0), 0u) << replayed.Text();
  // The holder past its lease is told, instead of told "held".
  EXPECT_EQ(replayed.reached.locks_lost, 1u) << replayed.Text();
}

TEST(ProtocolProgram, UnderALeaseARefreshIsNeverUndone) {
  for (const auto& [processes, pauses] : {std::pair<uint32_t, uint32_t>{2, 1}, {2, 2}, {3, 1}}) {
    const Report report = Check(RefreshScenario(processes, pauses));
    std::cout << report.Text();
    EXPECT_TRUE(report.passed()) << processes << " processes, " << pauses << " pauses\n"
                                 << report.Text();
  }
}

TEST(ProtocolProgram, ReductionGivesTheSameVerdictAsTheFullSearch) {
  Scenario reduced = ProtocolScenario(2, 1, 1);
  reduced.faults.crashes = 1;
  Scenario full = reduced;
  full.bounds.reduce = false;
  const Report a = Check(reduced);
  const Report b = Check(full);
  EXPECT_TRUE(a.passed()) << a.Text();
  EXPECT_TRUE(b.passed()) << b.Text();
  EXPECT_LT(a.states, b.states);
}

}  // namespace
