// Example 1: a lease, a pause across its expiry, and a fenced store.
//
// Owners on other hosts cannot be proven dead, so the lock trusts a lease: an
// entry not refreshed for lease_ms is removed. A holder that stalls longer
// than that (a GC pause, SIGSTOP, a VM migration) loses the lock without
// knowing it, and the next holder gets a larger fencing token. Writing to
// the store without the token lets the stale holder overwrite the new one's
// write; passing the token lets the store refuse it (Kleppmann's fencing).
#include <iostream>

#include "examples/verify/golden.h"
#include "gtest/gtest.h"
#include "verify/verify.h"

namespace {

using onlyone::verify::Check;
using onlyone::verify::Process;
using onlyone::verify::Replay;
using onlyone::verify::Report;
using onlyone::verify::Scenario;
using onlyone::verify::StoreId;

constexpr uint64_t kLeaseMs = 10'000;

Scenario OrdersScenario(uint32_t processes, bool pass_the_token) {
  Scenario s;
  s.processes = processes;
  s.lock.lease_ms = kLeaseMs;
  s.faults.pauses = 1;
  // Your program is what is checked here: pauses fall between its requests,
  // not inside the lock's own operations (see protocol_test.cc for why).
  s.faults.pause_inside_lock = false;
  const StoreId orders = s.AddFencedStore("orders");
  s.Program([orders, pass_the_token](Process& p) {
    if (!p.Acquire()) return;
    const int64_t order = 100 + p.index();
    if (pass_the_token) {
      // Refused: a later holder has written, so this one lost the lock.
      if (!p.Write(orders, order, p.fence())) {
        p.Release();
        return;
      }
    } else {
      p.Write(orders, order);
    }
    p.Release();
  });
  return s;
}

TEST(FencedStore, WithoutTheTokenAStaleHolderOverwritesTheNewHoldersWrite) {
  const Report report = Check(OrdersScenario(2, /*pass_the_token=*/false));
  std::cout << report.Text();
  ASSERT_TRUE(report.violated) << report.Text();
  EXPECT_EQ(golden::Rule(report), "stale write accepted");
  golden::ExpectTrace("fencing_without_token.txt", report);
}

TEST(FencedStore, TheFailingScheduleReplaysToTheSameViolation) {
  const Scenario scenario = OrdersScenario(2, false);
  const Report found = Check(scenario);
  ASSERT_TRUE(found.violated);
  const Report replayed = Replay(scenario, found.schedule);
  EXPECT_EQ(replayed.violation, found.violation);
  EXPECT_EQ(replayed.trace, found.trace);
}

TEST(FencedStore, WithTheTokenEveryScheduleIsVerified) {
  const Report report = Check(OrdersScenario(2, /*pass_the_token=*/true));
  std::cout << report.Text();
  EXPECT_TRUE(report.passed()) << report.Text();
  // The faults were exercised, not merely allowed.
  EXPECT_GT(report.reached.pauses, 0u);
  EXPECT_GT(report.reached.leases_expired, 0u);
  EXPECT_GT(report.reached.locks_lost, 0u);
}

TEST(FencedStore, WithTheTokenThreeProcessesAreVerified) {
  const Report report = Check(OrdersScenario(3, /*pass_the_token=*/true));
  std::cout << report.Text();
  EXPECT_TRUE(report.passed()) << report.Text();
}

}  // namespace
