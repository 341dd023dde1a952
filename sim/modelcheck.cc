#include "sim/modelcheck.h"

#include <stdio.h>

#include <string>
#include <vector>

#include "core/fingerprint.h"
#include "sim/explore.h"

namespace onlyone {
namespace sim {
namespace {

// The protocol's own program (rounds of acquire, hold, release) as a model
// for the exhaustive search: the World plus the fault budgets spent so far.
class WorldModel {
 public:
  using Move = Transition;
  using Counters = WorldCounters;

  WorldModel(const ModelCheckConfig& config) : config_(&config), world_(config.world) {}

  static void MaxCounters(const Counters& from, Counters* into) { sim::MaxCounters(from, into); }

  void Fingerprint(uint64_t* hi, uint64_t* lo) const {
    world_.Fingerprint(hi, lo);
    Hasher budget(*hi);
    budget.Word(crashes_used_);
    budget.Word(reuses_used_);
    *hi = budget.value();
  }

  // One local transition when some process has one (partial-order
  // reduction), else every enabled transition.
  bool Moves(bool allow_reduction, std::vector<Move>* out) const {
    const bool crashes_left = crashes_used_ < config_->crashes;
    if (allow_reduction) {
      for (uint32_t i = 0; i < world_.procs().size(); ++i) {
        Transition local;
        if (world_.LocalTransition(i, crashes_left, &local)) {
          out->assign(1, local);
          return true;
        }
      }
    }
    world_.EnabledTransitions(crashes_left, reuses_used_ < config_->reuses, out);
    return false;
  }

  void Apply(const Move& t) {
    world_.Apply(t);
    if (t.kind == TransitionKind::kCrash || t.kind == TransitionKind::kCrashLeavingJob) {
      ++crashes_used_;
    }
    if (t.kind == TransitionKind::kReusePid) ++reuses_used_;
  }

  bool IsFault(const Move& t) const {
    return t.kind == TransitionKind::kCrash || t.kind == TransitionKind::kCrashLeavingJob ||
           t.kind == TransitionKind::kReusePid;
  }

  const std::string& violation() const { return world_.violation(); }
  uint64_t progress() const { return world_.counters().acquisitions; }
  const Counters& counters() const { return world_.counters(); }

  // Live processes, and those of them that cannot take a step (a waiter that
  // has not been woken). Deadlock: live processes but none can move.
  void Masks(uint32_t* live, uint32_t* disabled) const {
    *live = 0;
    *disabled = 0;
    for (const Process& p : world_.procs()) {
      // A killed holder's running job is live for fairness: it will end, and
      // a cycle in which it never does is not a fair one. It is never blocked.
      if (p.job_running) {
        *live |= 1u << p.index;
        continue;
      }
      if (!p.alive || p.pc == ProgramCounter::kDone) continue;
      *live |= 1u << p.index;
      const bool can_step = world_.IsEnabled(Transition{TransitionKind::kStep, p.index}) ||
                            world_.IsEnabled(Transition{TransitionKind::kTimeout, p.index});
      if (!can_step) *disabled |= 1u << p.index;
    }
  }

  std::string Trace(const std::vector<Move>& path) const {
    World world(config_->world);
    world.set_narrate(true);
    std::string trace;
    for (size_t i = 0; i < path.size(); ++i) {
      const std::string step = world.Describe(path[i]);
      world.Apply(path[i]);
      trace += "  " + std::to_string(i + 1) + ". " + step + world.narration() + "\n";
    }
    trace += "  lock directory at the end:\n" + world.DescribeFs();
    return trace;
  }

 private:
  const ModelCheckConfig* config_;
  World world_;
  uint32_t crashes_used_ = 0;
  uint32_t reuses_used_ = 0;
};

}  // namespace

ModelCheckReport ModelCheck(const ModelCheckConfig& config) {
  return Explore(WorldModel(config), config.limits);
}

}  // namespace sim
}  // namespace onlyone
