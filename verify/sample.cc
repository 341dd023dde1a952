// Seeded random exploration with PCT priorities (Burckhardt et al., "A
// Randomized Scheduler with Probabilistic Guarantees of Finding Bugs",
// ASPLOS 2010): each run gives the processes random distinct priorities,
// always runs the highest-priority process that can move, and at d - 1
// random steps lowers the running process's priority below all others. A bug
// that needs d ordering constraints ("depth d") is found by one run with
// probability at least 1 / (n * k^(d-1)) for n processes and k steps.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "verify/model.h"
#include "verify/verify.h"

namespace onlyone {
namespace verify {

using internal::Model;
using internal::Move;
using internal::MoveKind;

namespace {

using Run = internal::SampledRun;

// A fault due at a step: `kind` as a move of a randomly chosen process.
struct FaultPoint {
  uint32_t step = 0;
  Move move;
};

class PctRun {
 public:
  PctRun(const Scenario& s, uint64_t seed, uint32_t steps_estimate, uint32_t depth)
      : s_(s), rng_(seed), k_(std::max<uint32_t>(steps_estimate, 1)), depth_(depth) {
    std::vector<uint32_t> order(s.processes);
    for (uint32_t i = 0; i < s.processes; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng_);
    priority_.resize(s.processes);
    for (uint32_t i = 0; i < s.processes; ++i) priority_[order[i]] = depth_ + i;
    for (uint32_t j = 1; j < depth_; ++j) change_steps_.push_back(Uniform(1, k_));
    auto faults = [&](uint32_t count, Move move) {
      for (uint32_t c = 0; c < count; ++c)
        fault_points_.push_back(FaultPoint{Uniform(1, k_), move});
    };
    faults(s.faults.crashes, Move{MoveKind::kWorld, 0, sim::TransitionKind::kCrash});
    faults(s.faults.pauses, Move{MoveKind::kPause, 0, sim::TransitionKind::kStep});
    faults(s.faults.pid_reuses, Move{MoveKind::kWorld, 0, sim::TransitionKind::kReusePid});
  }

  Run Go(Model model) {
    Run run;
    for (uint32_t step = 1; step <= s_.bounds.max_steps; ++step) {
      if (!model.violation().empty() || model.Finished()) break;
      InjectFaults(step, &model, &run);
      if (!model.violation().empty() || model.Finished()) break;
      Move move;
      if (!Choose(model, &move)) break;  // nobody can move: a deadlock the search reports
      for (uint32_t j = 0; j < change_steps_.size(); ++j) {
        if (change_steps_[j] == step) priority_[move.proc] = depth_ - 1 - j;
      }
      model.Apply(move);
      run.path.push_back(move);
      if (step == s_.bounds.max_steps) run.cut = !model.Finished();
    }
    run.violation = model.violation();
    run.reached = model.counters();
    return run;
  }

 private:
  uint32_t Uniform(uint32_t low, uint32_t high) {
    return std::uniform_int_distribution<uint32_t>(low, high)(rng_);
  }

  // A fault due now hits a random process it can hit (a pause hits all).
  void InjectFaults(uint32_t step, Model* model, Run* run) {
    for (const FaultPoint& point : fault_points_) {
      if (point.step != step) continue;
      std::vector<Move> candidates;
      for (uint32_t i = 0; i < s_.processes; ++i) {
        Move move = point.move;
        move.proc = i;
        if (model->Enabled(move)) candidates.push_back(move);
        if (move.kind == MoveKind::kPause) break;
      }
      if (candidates.empty()) continue;
      const Move move = candidates[Uniform(0, static_cast<uint32_t>(candidates.size() - 1))];
      model->Apply(move);
      run->path.push_back(move);
    }
  }

  // The highest-priority process that can move without waking spuriously
  // (else any), and one of its moves: mostly its next step, sometimes a
  // listing that skips a new name or a wait that times out.
  bool Choose(const Model& model, Move* out) {
    int best = -1;
    bool best_blocked = true;
    for (uint32_t i = 0; i < s_.processes; ++i) {
      if (!MovesOf(model, i, nullptr)) continue;
      const bool blocked = model.Blocked(i);
      if (best < 0 || (best_blocked && !blocked) ||
          (blocked == best_blocked && priority_[i] > priority_[static_cast<uint32_t>(best)])) {
        best = static_cast<int>(i);
        best_blocked = blocked;
      }
    }
    if (best < 0) return false;
    std::vector<Move> moves;
    MovesOf(model, static_cast<uint32_t>(best), &moves);
    constexpr uint32_t kAlternativeOneIn = 8;
    *out = moves.size() > 1 && Uniform(1, kAlternativeOneIn) == 1
               ? moves[Uniform(1, static_cast<uint32_t>(moves.size() - 1))]
               : moves[0];
    return true;
  }

  static bool MovesOf(const Model& model, uint32_t i, std::vector<Move>* out) {
    static constexpr Move kCandidates[] = {
        {MoveKind::kProgram, 0, sim::TransitionKind::kStep},
        {MoveKind::kWorld, 0, sim::TransitionKind::kStep},
        {MoveKind::kWorld, 0, sim::TransitionKind::kSkipName},
        {MoveKind::kWorld, 0, sim::TransitionKind::kTimeout},
    };
    bool any = false;
    for (Move move : kCandidates) {
      move.proc = i;
      if (!model.Enabled(move)) continue;
      any = true;
      if (out != nullptr) out->push_back(move);
    }
    return any;
  }

  const Scenario& s_;
  std::mt19937_64 rng_;
  const uint32_t k_;
  const uint32_t depth_;
  std::vector<uint32_t> priority_;
  std::vector<uint32_t> change_steps_;
  std::vector<FaultPoint> fault_points_;
};

// k for PCT: the length of one deterministic run without faults, doubled,
// so that change points and faults fall within a run. It depends only on
// the scenario, so a seed replays the same run.
}  // namespace

namespace internal {

uint32_t PctStepsEstimate(const Scenario& s, Oracle* oracle) {
  Scenario calm = s;
  calm.faults = Faults();
  calm.faults.pause_ms = s.faults.pause_ms;
  PctRun run(calm, /*seed=*/0, /*steps_estimate=*/1, /*depth=*/1);
  const Run result = run.Go(Model(calm, oracle));
  return 2 * static_cast<uint32_t>(std::max<size_t>(result.path.size(), 1));
}

SampledRun PctSample(const Scenario& s, Oracle* oracle, uint64_t seed, uint32_t steps_estimate,
                     uint32_t depth) {
  PctRun run(s, seed, steps_estimate, depth);
  return run.Go(Model(s, oracle));
}

}  // namespace internal

}  // namespace verify
}  // namespace onlyone
