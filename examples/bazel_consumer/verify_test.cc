// A user's own lock usage checked with @onlyone//verify, from outside the
// onlyone workspace: example 1 of docs/verify.md. Writing to a fenced store
// without the fencing token must be caught (a paused holder whose lease ran
// out overwrites the next holder's write); passing the token must verify.
#include <stdio.h>

#include "verify/verify.h"

namespace {

using onlyone::verify::Process;
using onlyone::verify::Report;
using onlyone::verify::Scenario;
using onlyone::verify::StoreId;

Scenario Orders(bool pass_the_token) {
  Scenario s;
  s.processes = 2;
  s.lock.lease_ms = 10'000;
  s.faults.pauses = 1;
  s.faults.pause_inside_lock = false;
  const StoreId orders = s.AddFencedStore("orders");
  s.Program([orders, pass_the_token](Process& p) {
    if (!p.Acquire()) return;
    if (pass_the_token) {
      p.Write(orders, 100 + p.index(), p.fence());
    } else {
      p.Write(orders, 100 + p.index());
    }
    p.Release();
  });
  return s;
}

}  // namespace

int main() {
  const Report broken = onlyone::verify::Check(Orders(false));
  const Report fixed = onlyone::verify::Check(Orders(true));
  printf("without the token:\n%s\nwith the token:\n%s", broken.Text().c_str(),
         fixed.Text().c_str());
  const Report replayed = onlyone::verify::Replay(Orders(false), broken.schedule);
  if (!broken.violated || broken.violation.rfind("stale write accepted", 0) != 0) {
    fprintf(stderr, "verify_test: the stale write was not caught\n");
    return 1;
  }
  if (replayed.violation != broken.violation) {
    fprintf(stderr, "verify_test: the schedule did not replay to the same violation\n");
    return 1;
  }
  if (!fixed.passed()) {
    fprintf(stderr, "verify_test: the fenced program did not verify\n");
    return 1;
  }
  return 0;
}
