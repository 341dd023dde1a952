// The random simulator (VOPR-style): one seed decides everything.
//
// A seed picks the number of processes, the slots, whether contenders try
// once or wait, and the probability of each fault: crash (kill -9) between
// any two operations, PID reuse, I/O errors (ENOSPC) on writes, and a
// contender respawning in a dead process's place. Garbage and foreign files
// are planted in the lock directory first. Then:
//   1. the fault phase: random transitions, faults at the seed's rates, and a
//      safety check (P1, P2, P6) after every step;
//   2. the convergence phase: no more faults, no new rounds; every live
//      process must finish within a bound (P3 in practice);
//   3. a fresh process runs Cleanup, after which only the fence counter and
//      the planted files may remain (P4: dead owners' entries never stick),
//      and the planted files must be untouched (H10).
// A failing seed is printed; running it again replays it exactly.
#ifndef ONLYONE_SIM_SIMULATE_H_
#define ONLYONE_SIM_SIMULATE_H_

#include <stdint.h>

#include <string>

#include "sim/world.h"

namespace onlyone {
namespace sim {

struct SimulateConfig {
  uint64_t seed = 1;
  uint64_t fault_steps = 20'000;
  uint64_t converge_steps_max = 2'000'000;
  uint32_t trace_steps = 0;  // keep the last N transitions for the report
};

struct SimulateReport {
  bool ok = true;
  std::string failure;  // what went wrong, with the seed
  std::string setup;    // what the seed chose
  std::string trace;    // the last trace_steps transitions, when asked for
  WorldCounters counters;
};

SimulateReport Simulate(const SimulateConfig& config);

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_SIMULATE_H_
