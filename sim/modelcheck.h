// Exhaustive model checker for the lock protocol.
//
// Explores every interleaving of the simulated processes' Ops (sim/world.h),
// with crashes between any two Ops and PID reuse, up to configurable fault
// budgets. On every state it checks P1 (k-exclusion), P2 (no false theft) and
// P6 (monotonic fencing) through the World; on the explored graph it checks P3
// (deadlock freedom): no reachable state where live contenders remain but none
// can move, and no fair cycle (every live, enabled contender keeps moving)
// along which nobody ever acquires.
#ifndef ONLYONE_SIM_MODELCHECK_H_
#define ONLYONE_SIM_MODELCHECK_H_

#include <stdint.h>

#include <string>

#include "sim/world.h"

namespace onlyone {
namespace sim {

struct ModelCheckConfig {
  WorldConfig world;
  uint32_t crashes = 1;  // crash transitions allowed per run
  uint32_t reuses = 1;   // PID reuses allowed per run
  uint64_t max_states = 50'000'000;
  bool check_livelock = true;  // the fair-cycle part of P3 (needs the graph)
  bool reduce = true;          // partial-order reduction of local transitions
  bool progress = false;       // report progress on stderr
  // Keep only 16-byte fingerprints (no graph): for configurations too large
  // for a full run. Checks P1, P2, P6 and deadlocks, not the fair-cycle half
  // of P3. The table is sized for max_states up front.
  bool compact = false;
};

struct ModelCheckReport {
  uint64_t states = 0;
  uint64_t transitions = 0;
  uint64_t violations = 0;
  bool complete = true;         // false when max_states stopped the search
  std::string first_violation;  // what was violated
  std::string trace;            // how to get there, one transition per line
  WorldCounters reached;        // the largest value of each counter in any state
};

ModelCheckReport ModelCheck(const ModelCheckConfig& config);

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_MODELCHECK_H_
