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

#include "sim/explore.h"
#include "sim/world.h"

namespace onlyone {
namespace sim {

struct ModelCheckConfig {
  WorldConfig world;
  uint32_t crashes = 1;  // crash transitions allowed per run
  uint32_t reuses = 1;   // PID reuses allowed per run
  ExploreLimits limits;  // bounds and options of the search (sim/explore.h)
};

// What the search found; `reached` is the largest value of each counter in
// any state.
using ModelCheckReport = ExploreReport<Transition, WorldCounters>;

ModelCheckReport ModelCheck(const ModelCheckConfig& config);

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_MODELCHECK_H_
