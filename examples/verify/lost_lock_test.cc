// Example 3: a program that is told it lost the lock, and keeps writing.
//
// Under a lease, a holder that stalls loses its lock to the next one; the
// lock tells it so the next time it asks (Validate answers "lost"). Writing
// on after that is the program's bug, even into a store that refuses stale
// tokens: the write was not the lock's to allow.
#include <iostream>

#include "examples/verify/golden.h"
#include "gtest/gtest.h"
#include "verify/verify.h"

namespace {

using onlyone::verify::Check;
using onlyone::verify::Process;
using onlyone::verify::Report;
using onlyone::verify::Scenario;
using onlyone::verify::StoreId;

constexpr int kBatches = 2;

Scenario BatchScenario(bool stop_when_lost) {
  Scenario s;
  s.processes = 2;
  s.lock.lease_ms = 10'000;
  s.faults.pauses = 1;
  s.faults.pause_inside_lock = false;  // your program is checked, not the lock
  const StoreId ledger = s.AddFencedStore("ledger");
  s.Program([ledger, stop_when_lost](Process& p) {
    if (!p.Acquire()) return;
    for (int batch = 0; batch < kBatches; ++batch) {
      const bool still_mine = p.Validate();  // false: the lock was taken from us
      if (!still_mine && stop_when_lost) return;
      p.Write(ledger, 10 * (p.index() + 1) + batch, p.fence());
    }
    p.Release();
  });
  return s;
}

TEST(LostLock, WritingAfterTheLockSaidLostIsCaught) {
  const Report report = Check(BatchScenario(/*stop_when_lost=*/false));
  std::cout << report.Text();
  ASSERT_TRUE(report.violated) << report.Text();
  EXPECT_EQ(golden::Rule(report), "access outside the critical section");
  golden::ExpectTrace("lost_lock_ignored.txt", report);
}

TEST(LostLock, StoppingWhenTheLockSaysLostIsVerified) {
  const Report report = Check(BatchScenario(/*stop_when_lost=*/true));
  std::cout << report.Text();
  EXPECT_TRUE(report.passed()) << report.Text();
  EXPECT_GT(report.reached.locks_lost, 0u);
}

}  // namespace
