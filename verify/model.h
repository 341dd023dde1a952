// A scenario as a model for the exhaustive search (sim/explore.h) and for
// random runs: the simulated World running the real protocol core, the
// users' programs (through the Oracle), the simulated resources, the fault
// budgets, and the checks.
//
// A state is: the World (lock directory, processes, contenders, clock), each
// program's history and what it believes (holding, fence), the resources,
// and the faults spent. Programs are deterministic, so a program's history
// stands for its whole state (oracle.h); two schedules that bring every
// program to the same history and the world and resources to the same state
// are one state, explored once.
#ifndef ONLYONE_VERIFY_MODEL_H_
#define ONLYONE_VERIFY_MODEL_H_

#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/world.h"
#include "verify/oracle.h"
#include "verify/verify.h"

namespace onlyone {
namespace verify {
namespace internal {

enum class ResourceKind : uint8_t { kUser = 0, kRegister, kStore };

enum class MoveKind : uint8_t {
  kProgram = 0,  // the program performs its pending request
  kWorld,        // a World transition of `proc` (a protocol step, a crash, ...)
  kPause,        // time jumps past the lease while everyone stalls
};

struct Move {
  MoveKind kind = MoveKind::kProgram;
  uint32_t proc = 0;
  sim::TransitionKind world = sim::TransitionKind::kStep;
};

// "a0" (program), "s0" (protocol step), "t0" (wait times out), "n0" (listing
// skips a new name), "k0" (kill -9), "r0" (pid reused), "z" (pause).
std::string MoveToken(const Move& move);
// False when `token` is not one of the above.
bool ParseMoveToken(const std::string& token, Move* move);

enum class Status : uint8_t {
  kAtRequest = 0,  // the program waits for its request to be performed
  kInLock,         // a lock operation is running in the World
  kEnded,          // the program returned (or threw)
  kKilled,
};

// What the program believes about the lock: checks are about beliefs,
// because a program acts on what it was told.
enum class Belief : uint8_t { kNever = 0, kHolding, kReleased, kLost };

struct ProgramState {
  History history;
  const Action* request = nullptr;  // owned by the Oracle
  Status status = Status::kAtRequest;
  Belief belief = Belief::kNever;
  uint64_t fence = 0;
};

class Model {
 public:
  using Move = internal::Move;
  using Counters = Coverage;

  Model(const Scenario& scenario, Oracle* oracle);

  static void MaxCounters(const Counters& from, Counters* into);
  void Fingerprint(uint64_t* hi, uint64_t* lo) const;
  bool Moves(bool allow_reduction, std::vector<Move>* out) const;
  void Apply(const Move& move);
  const std::string& violation() const { return violation_; }
  void Masks(uint32_t* live, uint32_t* disabled) const;
  uint64_t progress() const { return world_.counters().acquisitions; }
  bool IsFault(const Move& move) const;
  const Counters& counters() const { return coverage_; }
  std::string Trace(const std::vector<Move>& path) const;
  // verbose: every protocol step too, for violations of the lock itself.
  std::string TraceOf(const std::vector<Move>& path, bool verbose) const;

  // For random runs and replays.
  bool Enabled(const Move& move) const;
  bool Finished() const;              // every program ended or was killed
  bool Blocked(uint32_t proc) const;  // waiting, and nothing woke it
  // With narration on, Apply leaves one trace line per event in events().
  void set_narrate(bool narrate, bool verbose) {
    narrate_ = narrate;
    verbose_ = verbose;
    world_.set_narrate(verbose);
  }
  const std::vector<std::string>& events() const { return events_; }
  std::string DescribeResources() const;

 private:
  class ResourceView;
  bool StepReadsTheClock(uint32_t i, const sim::Transition& local) const;
  void ApplyProgram(uint32_t i);
  void ApplyWorld(const Move& move);
  void Answer(uint32_t i, int64_t result);
  void FinishLockOperation(uint32_t i);
  void Access(uint32_t i, const Action& request);
  bool CheckGuarded(uint32_t i, const std::string& what);
  void LeaveCriticalSection(uint32_t i, Belief belief);
  void CheckInvariants();
  void Violate(const std::string& what);
  void Narrate(const std::string& line);
  // Processes are "p0", "p1": as in the programs' `Process& p`, and never to
  // be read as the properties P1-P6 that lock-protocol violations name.
  std::string Who(uint32_t i) const { return "p" + std::to_string(i); }
  std::string NameOf(uint32_t resource) const;
  Resource* Mutable(uint32_t resource);

  const Scenario* scenario_;
  Oracle* oracle_;
  sim::World world_;
  std::vector<ProgramState> programs_;
  std::vector<std::shared_ptr<const Resource>> resources_;  // copied on write
  uint32_t crashes_used_ = 0;
  uint32_t pauses_used_ = 0;
  uint32_t reuses_used_ = 0;
  // Who moved last: only orders the search (not part of the state).
  uint32_t last_proc_ = 0;
  Coverage coverage_;
  std::string violation_;
  bool narrate_ = false;
  bool verbose_ = false;
  std::vector<std::string> events_;
};

// One seeded PCT run (sample.cc): its moves, its violation, whether the step
// bound cut it, what it reached.
struct SampledRun {
  std::vector<Move> path;
  std::string violation;
  bool cut = false;
  Coverage reached;
};
// PCT's k for a scenario: twice the length of one run without faults.
uint32_t PctStepsEstimate(const Scenario& scenario, Oracle* oracle);
SampledRun PctSample(const Scenario& scenario, Oracle* oracle, uint64_t seed,
                     uint32_t steps_estimate, uint32_t depth);

// The World a scenario runs in.
sim::WorldConfig WorldConfigOf(const Scenario& scenario);
uint64_t PauseMs(const Scenario& scenario);

}  // namespace internal
}  // namespace verify
}  // namespace onlyone

#endif  // ONLYONE_VERIFY_MODEL_H_
