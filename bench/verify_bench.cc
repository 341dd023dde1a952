// How fast //verify explores: example 1 of docs/verify.md (a fenced store
// under a lease) with 3 processes, 1 crash and 1 pause, exhaustively, beside
// the protocol model checker's default configuration on the same World in
// the same run (its peer: the same engine without users' programs).
//
//   bazel run -c opt //bench:verify_bench
#include <stdio.h>

#include <chrono>

#include "sim/modelcheck.h"
#include "verify/verify.h"

namespace {

using onlyone::verify::Process;
using onlyone::verify::Report;
using onlyone::verify::Scenario;
using onlyone::verify::StoreId;

// Example 1's fixed program (examples/verify/fencing_test.cc), with a crash.
Scenario Orders() {
  Scenario s;
  s.processes = 3;
  s.lock.lease_ms = 10'000;
  s.faults.pauses = 1;
  s.faults.crashes = 1;
  s.faults.pause_inside_lock = false;
  const StoreId orders = s.AddFencedStore("orders");
  s.Program([orders](Process& p) {
    if (!p.Acquire()) return;
    if (!p.Write(orders, 100 + p.index(), p.fence())) {
      p.Release();
      return;
    }
    p.Release();
  });
  return s;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  const Report report = onlyone::verify::Check(Orders());
  printf("%s", report.Text().c_str());
  printf(
      "verify: example 1, 3 processes, 1 crash, 1 pause: %llu states, %llu transitions in "
      "%.1f s: %.0f states/s, %.0f transitions/s\n",
      static_cast<unsigned long long>(report.states),
      static_cast<unsigned long long>(report.transitions), report.seconds,
      report.states / report.seconds, report.transitions / report.seconds);

  onlyone::sim::ModelCheckConfig config;  // 3 processes, 1 slot, 1 crash, 1 pid reuse
  const auto start = std::chrono::steady_clock::now();
  const onlyone::sim::ModelCheckReport peer = onlyone::sim::ModelCheck(config);
  const double peer_seconds = Seconds(start);
  printf(
      "modelcheck (peer): default configuration: %llu states, %llu transitions in %.1f s: "
      "%.0f states/s, %.0f transitions/s\n",
      static_cast<unsigned long long>(peer.states),
      static_cast<unsigned long long>(peer.transitions), peer_seconds, peer.states / peer_seconds,
      peer.transitions / peer_seconds);
  printf("verify / modelcheck, states per second: %.2f\n",
         (report.states / report.seconds) / (peer.states / peer_seconds));
  return report.passed() && peer.violations == 0 ? 0 : 1;
}
