// The model checker's small configurations, run as tests. The large ones
// (3 processes, 2 rounds, crashes) are documented in docs/verification.md
// with their state counts; they take minutes, so they are not tests.
#include "sim/modelcheck.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace onlyone {
namespace sim {
namespace {

ModelCheckConfig Config(uint32_t procs, uint32_t slots, uint32_t rounds, uint32_t crashes) {
  ModelCheckConfig config;
  config.world.procs = procs;
  config.world.slots = slots;
  config.world.rounds = rounds;
  config.crashes = crashes;
  config.reuses = crashes;
  return config;
}

std::string ReadFile(const std::string& path);

void ExpectProven(const ModelCheckReport& report) {
  EXPECT_EQ(report.violations, 0u) << report.first_violation << "\n" << report.trace;
  EXPECT_TRUE(report.complete);
}

TEST(ModelCheck, ProvesTwoProcessesTwoRoundsWithCrashesAndPidReuse) {
  const ModelCheckReport report = ModelCheck(Config(2, 1, 2, 1));
  ExpectProven(report);
  EXPECT_GT(report.states, 10'000u);
  // The rare branches the proof is about were reached, not merely allowed.
  EXPECT_GT(report.reached.crashes_while_choosing, 0u);
  EXPECT_GT(report.reached.dead_entries_removed, 0u);
  EXPECT_GT(report.reached.dead_verdicts_on_reused_pid, 0u);
  EXPECT_GT(report.reached.names_skipped, 0u);
}

// Both record versions, as native (compact) and WASI (full) contenders write
// them. Full records tell apart states in which different rounds of a process
// fenced last; compact fence records do not name the round, which no
// contender reads: so at least as many states, and the same verdict.
TEST(ModelCheck, ProvesFullRecordsAsWellWithAtLeastAsManyStates) {
  const ModelCheckReport compact = ModelCheck(Config(2, 1, 2, 1));
  ModelCheckConfig config = Config(2, 1, 2, 1);
  config.world.full_records = true;
  const ModelCheckReport full = ModelCheck(config);
  ExpectProven(full);
  EXPECT_GE(full.states, compact.states);
}

// The WASI module moves the counter with a link and an unlink: a crash
// between them leaves a lower counter name beside the new one, which the
// next holder must remove before a stale listing can move it (P6).
TEST(ModelCheck, ProvesTokensIncreaseWhenTheCounterMovesInTwoStepsAndCrashesFallBetween) {
  ModelCheckConfig config = Config(2, 1, 2, 1);
  config.world.linked_moves = true;
  const ModelCheckReport report = ModelCheck(config);
  ExpectProven(report);
  EXPECT_GT(report.reached.crashes_mid_move, 0u);
  EXPECT_GT(report.reached.strays_removed, 0u);
}

// One directory, two kinds of holders: a WASI module (or onlyone on an NFS
// client) moves the counter by link and decides from a listing of its own,
// onlyone on the file system itself by one rename, from its scan's listing.
// A linked mover killed mid-move leaves a stray that the others meet.
TEST(ModelCheck, ProvesTokensIncreaseWhereHoldersMoveTheCounterInDifferentWays) {
  ModelCheckConfig config = Config(2, 1, 2, 1);
  config.world.mixed_moves = true;
  const ModelCheckReport report = ModelCheck(config);
  ExpectProven(report);
  EXPECT_GT(report.reached.crashes_mid_move, 0u);
  EXPECT_GT(report.reached.strays_removed, 0u);
}

// The POSIX driver's listing is one getdents64 call, atomic on a local file
// system: modelled so, a listing misses nothing, and the proof still holds.
TEST(ModelCheck, SnapshotListingsSkipNoNameAndStillProveTheProtocol) {
  ModelCheckConfig config = Config(2, 1, 2, 1);
  config.world.snapshot_listings = true;
  const ModelCheckReport report = ModelCheck(config);
  ExpectProven(report);
  EXPECT_EQ(report.reached.names_skipped, 0u);
  EXPECT_GT(report.reached.dead_entries_removed, 0u);
  const ModelCheckReport cursors = ModelCheck(Config(2, 1, 2, 1));
  EXPECT_GT(cursors.reached.names_skipped, 0u) << "the contrast: cursor listings skip names";
}

TEST(ModelCheck, ProvesThreeProcessesWhenWaitsWakeOnlyOnChanges) {
  ModelCheckConfig config = Config(3, 1, 1, 1);
  config.world.spurious_wakeups = false;
  const ModelCheckReport report = ModelCheck(config);
  ExpectProven(report);
  EXPECT_GT(report.reached.crashes_while_holding, 0u);
}

TEST(ModelCheck, ProvesTwoProcessesSharingTwoSlotsWithCrashes) {
  ExpectProven(ModelCheck(Config(2, 2, 2, 1)));
}

TEST(ModelCheck, ProvesThreeProcessesOnOneSlot) {
  const ModelCheckReport report = ModelCheck(Config(3, 1, 1, 0));
  ExpectProven(report);
  EXPECT_GT(report.states, 100'000u);
}

TEST(ModelCheck, ProvesThreeProcessesTryingOnceWithACrash) {
  ModelCheckConfig config = Config(3, 1, 1, 1);
  config.world.try_mode = true;
  const ModelCheckReport report = ModelCheck(config);
  ExpectProven(report);
  EXPECT_GT(report.reached.busy, 0u);
}

TEST(ModelCheck, ReductionFindsTheSameVerdictAsFullExploration) {
  ModelCheckConfig reduced = Config(2, 1, 2, 1);
  ModelCheckConfig full = reduced;
  full.limits.reduce = false;
  const ModelCheckReport a = ModelCheck(reduced);
  const ModelCheckReport b = ModelCheck(full);
  ExpectProven(a);
  ExpectProven(b);
  EXPECT_LT(a.states, b.states);
}

TEST(ModelCheck, ProvesThatAKilledHoldersRunningJobKeepsTheLock) {
  ModelCheckConfig config = Config(3, 1, 1, 1);
  config.world.spurious_wakeups = false;
  const ModelCheckReport report = ModelCheck(config);
  ExpectProven(report);
  // A holder was killed with its job running, and the job ended later.
  EXPECT_GT(report.reached.crashes_leaving_job, 0u);
  EXPECT_GT(report.reached.jobs_ended, 0u);
  EXPECT_GT(report.reached.acquisitions, 1u);
}

TEST(ModelCheck, CatchesAJobThatRunsOnWithoutItsHoldersAnchor) {
  ModelCheckConfig config = Config(2, 1, 1, 1);
  config.reuses = 0;
  config.world.job_inherits_anchor = false;
  const ModelCheckReport report = ModelCheck(config);
  EXPECT_GT(report.violations, 0u);
  EXPECT_NE(report.first_violation.find("P2 violated"), std::string::npos)
      << report.first_violation << "\n"
      << report.trace;
  // The counterexample is checked in, as the broken steal's is.
  const std::string golden = ReadFile("sim/testdata/job_without_anchor_trace.txt");
  ASSERT_FALSE(golden.empty()) << "missing sim/testdata/job_without_anchor_trace.txt";
  EXPECT_EQ(report.first_violation + "\n" + report.trace, golden);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ModelCheck, CatchesTheBrokenUnlinkThenCreateSteal) {
  ModelCheckConfig config = Config(3, 1, 1, 1);
  config.world.broken_steal = true;
  const ModelCheckReport report = ModelCheck(config);
  EXPECT_GT(report.violations, 0u);
  EXPECT_NE(report.first_violation.find("violated"), std::string::npos);
  // The counterexample is checked in; a change in the checker or the world
  // that changes it must be looked at by a person.
  const std::string golden = ReadFile("sim/testdata/broken_steal_trace.txt");
  ASSERT_FALSE(golden.empty()) << "missing sim/testdata/broken_steal_trace.txt";
  EXPECT_EQ(report.first_violation + "\n" + report.trace, golden);
}

TEST(ModelCheck, CatchesTheBrokenStealWithoutAnyPidReuse) {
  ModelCheckConfig config = Config(3, 1, 1, 1);
  config.reuses = 0;
  config.world.broken_steal = true;
  EXPECT_GT(ModelCheck(config).violations, 0u);
}

}  // namespace
}  // namespace sim
}  // namespace onlyone
