// The verify library's own contract: determinism, replay, errors that say
// what to do, reports that say what was and was not covered.
#include "verify/verify.h"

#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace onlyone {
namespace verify {
namespace {

// Two processes each write their index to one register inside the lock: safe.
Scenario Writers() {
  Scenario s;
  const RegisterId reg = s.AddRegister("reg");
  s.Program([reg](Process& p) {
    if (!p.Acquire()) return;
    p.Write(reg, p.index());
    p.Release();
  });
  return s;
}

// The same, but the second write happens after the release: a bug.
Scenario LateWriter() {
  Scenario s;
  const RegisterId reg = s.AddRegister("reg");
  s.Program([reg](Process& p) {
    if (!p.Acquire()) return;
    p.Release();
    p.Write(reg, 1);
  });
  return s;
}

TEST(Check, VerifiesASafeProgramCompletely) {
  const Report report = Check(Writers());
  EXPECT_TRUE(report.passed()) << report.Text();
  EXPECT_TRUE(report.complete);
  EXPECT_GT(report.states, 100u);
  EXPECT_EQ(report.reached.acquisitions, 2u);
}

TEST(Check, CatchesAWriteAfterRelease) {
  const Report report = Check(LateWriter());
  ASSERT_TRUE(report.violated);
  EXPECT_EQ(report.violation,
            "access outside the critical section: p0 wrote 'reg' after releasing the lock");
  EXPECT_NE(report.Text().find("replay: onlyone::verify::Replay(scenario, \""), std::string::npos);
}

TEST(Check, CatchesTwoWritersWhenTwoSlotsShareOneRegister) {
  Scenario s = Writers();
  s.lock.slots = 2;
  const Report report = Check(s);
  ASSERT_TRUE(report.violated) << report.Text();
  EXPECT_EQ(report.violation.substr(0, report.violation.find(':')),
            "two writers in a critical section");
}

TEST(Check, FindsNoFreshLockRemovedWhenItsOwnerLocksAgainUnderALease) {
  // Under a lease others remove an entry whose lease ran out without proof
  // of death. p1 reads p0's entry after a pause across the lease and decides
  // to remove it; meanwhile p0 releases and locks again. Had p0 kept its
  // nonce (as a reused Lock without a lease does), its fresh entry would
  // have the old one's name and p1 would remove it: P2, found in about 4,000
  // states. A new nonce per acquisition under a lease (sim World::NonceOf,
  // the POSIX Lock alike) leaves p1 nothing to remove.
  Scenario s;
  s.processes = 2;
  s.lock.lease_ms = 10'000;
  s.faults.pauses = 1;
  s.faults.pause_inside_lock = false;
  s.Program([](Process& p) {
    for (uint32_t round = 0; round < 2 - p.index(); ++round) {
      if (!p.Acquire()) return;
      p.Release();
    }
  });
  const Report report = Check(s);
  EXPECT_TRUE(report.passed()) << report.Text();
  EXPECT_TRUE(report.complete);
  EXPECT_GT(report.reached.leases_expired, 0u);
}

TEST(Check, SaysWhichBoundCutAnIncompleteSearch) {
  Scenario s = Writers();
  s.bounds.max_states = 50;
  const Report report = Check(s);
  EXPECT_FALSE(report.complete);
  EXPECT_FALSE(report.passed());
  EXPECT_EQ(report.cut_by, "bounds.max_states = 50");
  EXPECT_NE(report.Text().find("INCOMPLETE"), std::string::npos);
}

TEST(Check, WarnsWhenAnAllowedFaultWasNeverReached) {
  Scenario s;
  s.processes = 1;
  s.lock.lease_ms = 10'000;
  s.faults.pauses = 1;  // alone, nobody can take the lock from the paused holder
  s.Program([](Process& p) {
    if (p.Acquire()) p.Release();
  });
  const Report report = Check(s);
  EXPECT_FALSE(report.violated);
  EXPECT_FALSE(report.passed()) << "a pass that reached none of its faults is a warning";
  ASSERT_EQ(report.warnings.size(), 1u) << report.Text();
  EXPECT_EQ(report.warnings[0],
            "pauses were allowed but no lease ever expired: no lock was taken from a paused "
            "holder");
  EXPECT_NE(report.Text().find("PASSED WITH WARNINGS"), std::string::npos);
}

TEST(Check, ChecksTheUsersInvariantAfterEveryStep) {
  Scenario s = Writers();
  s.Always("the register never holds 1", [](const View& v) { return v.Value(RegisterId{0}) != 1; });
  const Report report = Check(s);
  ASSERT_TRUE(report.violated);
  EXPECT_EQ(report.violation, "invariant 'the register never holds 1' does not hold");
}

TEST(Check, ReportsAProgramThatThrows) {
  Scenario s;
  s.processes = 1;
  s.Program([](Process& p) {
    if (p.Acquire()) throw std::runtime_error("disk full");
  });
  const Report report = Check(s);
  ASSERT_TRUE(report.violated);
  EXPECT_EQ(report.violation, "p0's program threw: disk full");
}

TEST(Check, ReportsAProgramThatIsNotDeterministic) {
  int calls = 0;  // shared across runs: exactly what programs must not do
  Scenario s;
  s.processes = 1;
  const RegisterId reg = s.AddRegister("reg");
  s.Program([reg, &calls](Process& p) {
    if (!p.Acquire()) return;
    p.Write(reg, ++calls);
    p.Release();
  });
  const Report report = Check(s);
  ASSERT_TRUE(report.violated) << report.Text();
  EXPECT_EQ(report.violation.rfind("program error: process 0's program is not deterministic", 0),
            0u)
      << report.violation;
}

TEST(Check, RefusesScenariosThatCannotBeRunWithAClearError) {
  Scenario none = Writers();
  none.processes = 0;
  EXPECT_THROW(Check(none), std::invalid_argument);
  Scenario pause_without_lease = Writers();
  pause_without_lease.faults.pauses = 1;
  try {
    Check(pause_without_lease);
    FAIL() << "a pause without a lease was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("set lock.lease_ms"), std::string::npos) << e.what();
  }
  Scenario no_program;
  EXPECT_THROW(Check(no_program), std::invalid_argument);
}

TEST(Replay, ReproducesTheViolationFromTheSchedule) {
  const Report found = Check(LateWriter());
  ASSERT_TRUE(found.violated);
  const Report replayed = Replay(LateWriter(), found.schedule);
  EXPECT_EQ(replayed.violation, found.violation);
  EXPECT_EQ(replayed.trace, found.trace);
}

TEST(Replay, RefusesAScheduleThatDoesNotFitTheScenario) {
  EXPECT_THROW(Replay(Writers(), "a0 s7"), std::invalid_argument);
  EXPECT_THROW(Replay(Writers(), "a0 bogus"), std::invalid_argument);
}

TEST(Sample, TheSameSeedReplaysTheSameRun) {
  Scenario s = LateWriter();
  s.bounds.shrink = false;
  Sampling sampling;
  sampling.seed = 7;
  sampling.runs = 50;
  const Report first = Sample(s, sampling);
  ASSERT_TRUE(first.violated);
  Sampling again;
  again.seed = first.seed;
  again.runs = 1;
  const Report second = Sample(s, again);
  EXPECT_EQ(second.schedule, first.schedule);
  EXPECT_EQ(second.seed, first.seed);
}

TEST(Sample, ReportsItsMethodAndTheRunsMade) {
  Sampling sampling;
  sampling.runs = 30;
  const Report report = Sample(Writers(), sampling);
  EXPECT_FALSE(report.violated);
  EXPECT_EQ(report.runs, 30u);
  EXPECT_EQ(report.method.rfind("PCT depth 3", 0), 0u) << report.method;
}

TEST(Shrink, FindsTheFewestProcessesThatStillFail) {
  Scenario s = LateWriter();
  s.processes = 3;
  const Report report = Check(s);
  ASSERT_TRUE(report.violated);
  EXPECT_EQ(report.shrunk.rfind("1 process(es), 0 fault(s), 0 context switch(es)", 0), 0u)
      << report.shrunk;
}

}  // namespace
}  // namespace verify
}  // namespace onlyone
