// The protocol's own program (acquire, release) through the same engine as
// users' programs, with the lock's options and faults of a scenario.
//
// With proven liveness it is verified, as the model checker proves it
// (sim/modelcheck.cc explores the same World with a program built in). Under
// a lease, with a pause allowed anywhere, the engine finds that the lock's
// lease mode does not keep fencing tokens unique: a holder paused between
// reading the fence counter and writing it back loses its lease, the next
// holder reads the same counter, and both are handed the same token. This
// test keeps that counterexample until the fence is fixed; then it must be
// turned into a proof. The Refresh that a remover could undo is fixed, and
// proved below, with its old counterexample replayed.
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

TEST(ProtocolProgram, UnderALeaseAPauseInsideTheFenceStepHandsOutOneTokenTwice) {
  Scenario s = ProtocolScenario(2, 1, 1);
  s.lock.lease_ms = 10'000;
  s.faults.pauses = 1;  // anywhere, inside the lock's operations too
  const Report report = Check(s);
  std::cout << report.Text();
  ASSERT_TRUE(report.violated) << report.Text();
  EXPECT_NE(report.violation.find("P6 violated"), std::string::npos) << report.violation;
  golden::ExpectTrace("lease_fence_token_twice.txt", report);
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
  const std::string trace = golden::Read("examples/verify/testdata/lease_refresh_undone.txt");
  const size_t at = trace.find("schedule: ");
  ASSERT_NE(at, std::string::npos);
  const std::string schedule = trace.substr(at + 10, trace.find('\n', at) - at - 10);
  const Report replayed = Replay(RefreshScenario(2, 1), schedule);
  std::cout << replayed.Text();
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
