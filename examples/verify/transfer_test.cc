// Example 2: a transfer between two accounts, guarded by the lock, and a
// crash inside the critical section.
//
// The lock keeps two transfers from interleaving, but it cannot undo half of
// one: a process killed between the debit and the credit leaves money
// missing, and the next holder builds on it. The fix is not a better lock but
// an idempotent update: write the intended result to a journal first, apply
// it, clear the journal; whoever holds the lock next finishes a journal it
// finds (redoing it is harmless, because it writes absolute values).
#include <iostream>

#include "examples/verify/golden.h"
#include "gtest/gtest.h"
#include "verify/verify.h"

namespace {

using onlyone::verify::Check;
using onlyone::verify::Process;
using onlyone::verify::RegisterId;
using onlyone::verify::Report;
using onlyone::verify::Scenario;
using onlyone::verify::View;

constexpr int64_t kTotal = 100;
constexpr int64_t kAmount = 10;
// The journal holds "checking * kJournalBase + savings" of a transfer in
// flight, 0 when none is.
constexpr int64_t kJournalBase = 1000;

struct Accounts {
  RegisterId checking;
  RegisterId savings;
  RegisterId journal;
};

Scenario TransferScenario(bool journaled) {
  Scenario s;
  s.processes = 2;
  s.faults.crashes = 1;  // the lock proves the dead dead: no lease
  const Accounts a{s.AddRegister("checking", kTotal / 2), s.AddRegister("savings", kTotal / 2),
                   s.AddRegister("journal", 0)};
  s.Program([a, journaled](Process& p) {
    if (!p.Acquire()) return;
    if (journaled) {
      const int64_t pending = p.Read(a.journal);
      if (pending != 0) {  // a holder died mid-transfer: finish its transfer
        p.Write(a.checking, pending / kJournalBase);
        p.Write(a.savings, pending % kJournalBase);
        p.Write(a.journal, 0);
      }
    }
    const int64_t checking = p.Read(a.checking) - kAmount;
    const int64_t savings = p.Read(a.savings) + kAmount;
    if (journaled) p.Write(a.journal, checking * kJournalBase + savings);
    p.Write(a.checking, checking);
    p.Write(a.savings, savings);
    if (journaled) p.Write(a.journal, 0);
    p.Release();
  });
  // Money is never lost: either no transfer is in flight and the accounts
  // add up, or the journal holds one that adds up, for the next holder.
  s.AtEnd("the accounts add up, or a journaled transfer will make them", [a](const View& v) {
    const int64_t pending = v.Value(a.journal);
    if (pending == 0) return v.Value(a.checking) + v.Value(a.savings) == kTotal;
    return pending / kJournalBase + pending % kJournalBase == kTotal;
  });
  return s;
}

TEST(Transfer, ACrashBetweenDebitAndCreditLosesMoney) {
  const Report report = Check(TransferScenario(/*journaled=*/false));
  std::cout << report.Text();
  ASSERT_TRUE(report.violated) << report.Text();
  EXPECT_EQ(golden::Rule(report),
            "at the end, invariant 'the accounts add up, or a journaled "
            "transfer will make them' does not hold");
  golden::ExpectTrace("transfer_half_done.txt", report);
}

TEST(Transfer, AJournaledIdempotentTransferSurvivesEveryCrash) {
  const Report report = Check(TransferScenario(/*journaled=*/true));
  std::cout << report.Text();
  EXPECT_TRUE(report.passed()) << report.Text();
  EXPECT_GT(report.reached.crashes, 0u);
}

}  // namespace
