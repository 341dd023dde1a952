#include "sim/simulate.h"

#include <stdio.h>

#include <deque>
#include <map>
#include <vector>

namespace onlyone {
namespace sim {
namespace {

// SplitMix64: tiny, fast, and the same sequence on every platform, so a seed
// replays exactly anywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound).
  uint64_t Below(uint64_t bound) { return Next() % bound; }
  // True with probability parts_per_million / 1e6.
  bool Chance(uint64_t parts_per_million) { return Below(1'000'000) < parts_per_million; }

 private:
  uint64_t state_;
};

constexpr uint32_t kProcsMin = 2;
constexpr uint32_t kProcsMax = 12;
constexpr uint32_t kRoundsForever = 1u << 30;

struct FaultRates {  // parts per million, per step
  uint64_t crash = 0;
  uint64_t reuse = 0;
  uint64_t io_fault = 0;
  uint64_t respawn = 0;
  uint64_t skip_name = 0;   // listings missing names created meanwhile
  uint64_t clock_jump = 0;  // lets try-mode patience deadlines expire
  uint64_t job_end = 0;     // a killed holder's running job ends
};

std::string Describe(const WorldConfig& world, const FaultRates& rates) {
  char text[256];
  snprintf(text, sizeof text,
           "procs=%u slots=%u %s%s%s crash=%lluppm reuse=%lluppm io_fault=%lluppm "
           "respawn=%lluppm skip_name=%lluppm job_end=%lluppm",
           world.procs, world.slots, world.try_mode ? "try" : "wait",
           world.spurious_wakeups ? " spurious-wakeups" : "",
           world.linked_moves ? " linked-moves" : "", (unsigned long long)rates.crash,
           (unsigned long long)rates.reuse, (unsigned long long)rates.io_fault,
           (unsigned long long)rates.respawn, (unsigned long long)rates.skip_name,
           (unsigned long long)rates.job_end);
  return text;
}

// What a seed decides before its first step.
struct Setup {
  WorldConfig world;
  FaultRates rates;
};

// The draws happen in a fixed order: changing it changes what every seed
// runs, and the seeds kept as regression runs would test something else.
Setup DrawSetup(uint64_t seed, Random* random) {
  Setup setup;
  WorldConfig& world = setup.world;
  world.procs = kProcsMin + static_cast<uint32_t>(random->Below(kProcsMax - kProcsMin + 1));
  world.slots = 1 + static_cast<uint32_t>(random->Below(3));
  world.rounds = kRoundsForever;
  world.try_mode = random->Chance(300'000);
  // Every Op on its own: the simulator is not bounded by state counts, and
  // the merged steps would hide a read finding its entry gone.
  world.merge_reads = false;
  // Half the seeds let waits return at any time (timers, EINTR); the other
  // half wake waiters only on changes, which is where a lost wake-up would
  // show as a deadlock.
  world.spurious_wakeups = random->Chance(500'000);
  // Each seed draws its own fault mix, so that across seeds both rare and
  // heavy fault loads are explored (TigerBeetle's VOPR does the same).
  FaultRates& rates = setup.rates;
  rates.crash = random->Below(3'000);
  rates.reuse = random->Below(20'000);
  rates.io_fault = random->Chance(500'000) ? random->Below(2'000) : 0;
  rates.respawn = random->Below(50'000);
  rates.skip_name = random->Below(500'000);
  rates.clock_jump = random->Below(20'000);
  rates.job_end = 1 + random->Below(20'000);
  // Half the seeds move the fence counter as the WASI module does, a link
  // then an unlink. Drawn from a stream of its own, so that every other
  // draw of a seed stays what it was.
  constexpr uint64_t kLinkedMovesStream = 0x6c696e6b6d6f7665;  // "linkmove"
  Random linked(seed ^ kLinkedMovesStream);
  world.linked_moves = linked.Chance(500'000);
  return setup;
}

// What a hostile or careless user leaves in the directory: none of it may
// be followed, removed, or mistaken for a contender.
const std::map<std::string, Node>& PlantedFiles() {
  static const std::map<std::string, Node> planted = {
      {"README", Node{false, "not a lock entry", 0, 0, {}}},
      {"o.0123456789abcdef0123456789abcdef", Node{true, "garbage, not a record", 0, 0, {}}},
      {"o.ffffffffffffffffffffffffffffffff",
       Node{false, "regular file named like an entry", 0, 0, {}}},
      {"o.short", Node{true, "onlyone1;state=choosing", 0, 0, {}}},
  };
  return planted;
}

// One seed's run, phase by phase (simulate.h). Each phase returns false once
// the run failed; the report says why.
class Run {
 public:
  Run(const SimulateConfig& config, SimulateReport* report)
      : config_(config),
        report_(report),
        random_(config.seed),
        setup_(DrawSetup(config.seed, &random_)),
        world_(setup_.world) {
    report_->setup = Describe(setup_.world, setup_.rates);
    for (const auto& entry : PlantedFiles()) {
      world_.Plant(entry.first, entry.second.symlink, entry.second.content);
    }
  }

  bool FaultPhase();
  bool ConvergencePhase();
  bool CleanupPhase();
  const WorldCounters& counters() const { return world_.counters(); }

 private:
  void BetweenSteps();
  bool FaultStep();
  void StepSomeone();
  bool ConvergenceStep();
  void Apply(const Transition& t);
  bool Fail(const std::string& what);
  bool CheckSafety() {
    return world_.violation().empty() || Fail(world_.violation() + "\n" + world_.DescribeFs());
  }
  // The enabled transitions of kind `kind`, into steps_.
  void Collect(TransitionKind kind) {
    for (const Transition& t : enabled_) {
      if (t.kind == kind) steps_.push_back(t);
    }
  }

  const SimulateConfig& config_;
  SimulateReport* report_;
  Random random_;
  const Setup setup_;
  World world_;
  std::deque<std::string> recent_;  // the last trace_steps transitions
  std::vector<Transition> enabled_;
  std::vector<Transition> steps_;
};

void Run::Apply(const Transition& t) {
  if (config_.trace_steps != 0) {
    recent_.push_back(world_.Describe(t));
    if (recent_.size() > config_.trace_steps) recent_.pop_front();
  }
  world_.Apply(t);
}

bool Run::Fail(const std::string& what) {
  for (const std::string& line : recent_) report_->trace += "  " + line + "\n";
  report_->ok = false;
  report_->failure = "seed " + std::to_string(config_.seed) + " (" + report_->setup + "): " + what;
  return false;
}

bool Run::FaultPhase() {
  for (uint64_t step = 0; step < config_.fault_steps; ++step) {
    BetweenSteps();
    if (!FaultStep() || !CheckSafety()) return false;
  }
  return true;
}

// The faults that are not a process's transition: respawns, the end of a
// killed holder's job, pid reuse, time passing, an I/O error armed for the
// next write.
void Run::BetweenSteps() {
  const FaultRates& rates = setup_.rates;
  for (uint32_t i = 0; i < setup_.world.procs; ++i) {
    const Process& p = world_.procs()[i];
    if (!p.alive && random_.Chance(rates.respawn)) world_.Respawn(i);
    if (p.job_running && random_.Chance(rates.job_end)) {
      Apply(Transition{TransitionKind::kJobEnds, i});
    }
    if (!p.alive && random_.Chance(rates.reuse)) {
      const Transition reuse{TransitionKind::kReusePid, i};
      if (world_.IsEnabled(reuse)) Apply(reuse);
    }
  }
  if (random_.Chance(rates.clock_jump)) world_.AdvanceClock(kChoosingPatienceMs);
  world_.AdvanceClock(1);
  if (random_.Chance(rates.io_fault)) {
    world_.InjectFault(random_.Chance(800'000) ? IoStatus::kNoSpace : IoStatus::kIo);
  }
}

// One transition: a crash, a skipped name, or a step of a random process;
// when nobody can step, a deadline or a job's end, or else a deadlock.
bool Run::FaultStep() {
  world_.EnabledTransitions(true, false, &enabled_);
  steps_.clear();
  Collect(TransitionKind::kStep);
  const uint32_t victim = static_cast<uint32_t>(random_.Below(setup_.world.procs));
  const Transition crash{TransitionKind::kCrash, victim};
  const Transition crash_leaving_job{TransitionKind::kCrashLeavingJob, victim};
  const Transition skip{TransitionKind::kSkipName, victim};
  if (random_.Chance(setup_.rates.crash) && world_.IsEnabled(crash)) {
    // Half the holders killed leave their job running on their anchor.
    Apply(world_.IsEnabled(crash_leaving_job) && random_.Chance(500'000) ? crash_leaving_job
                                                                         : crash);
  } else if (world_.IsEnabled(skip) && random_.Chance(setup_.rates.skip_name)) {
    Apply(skip);
  } else if (!steps_.empty()) {
    StepSomeone();
  } else {
    // Every live process waits and nothing will wake it: a deadlock, unless
    // a deadline can still pass or a killed holder's job end lets the
    // waiters behind it in.
    for (const Transition& t : enabled_) {
      if (t.kind == TransitionKind::kTimeout || t.kind == TransitionKind::kJobEnds) {
        world_.AdvanceClock(kChoosingPatienceMs);
        Apply(t);
        return true;
      }
    }
    if (!world_.AllDone()) {
      return Fail("deadlock: every live contender waits, nothing wakes them\n" +
                  world_.DescribeFs());
    }
  }
  return true;
}

// A random process steps; a waiter whose deadline passed times out instead.
void Run::StepSomeone() {
  const Transition pick = steps_[random_.Below(steps_.size())];
  const Transition timeout{TransitionKind::kTimeout, pick.proc};
  const Process& p = world_.procs()[pick.proc];
  if (world_.IsEnabled(timeout) && world_.now_ms() >= p.op.deadline_mono_ms) {
    Apply(timeout);
  } else {
    Apply(pick);
  }
}

bool Run::ConvergencePhase() {
  world_.StopNewRounds();
  // Fault-free from here: no I/O fault injected in the last faulty step
  // may still be pending (it failed the cleaner's first write when nobody
  // wrote in between: seed 1586), and killed holders' jobs end too.
  world_.InjectFault(IoStatus::kOk);
  for (uint32_t i = 0; i < setup_.world.procs; ++i) {
    const Transition job_ends{TransitionKind::kJobEnds, i};
    if (world_.IsEnabled(job_ends)) Apply(job_ends);
  }
  for (uint64_t step = 0; step < config_.converge_steps_max && !world_.AllDone(); ++step) {
    if (!ConvergenceStep() || !CheckSafety()) return false;
  }
  if (!world_.AllDone()) {
    return Fail("did not converge within " + std::to_string(config_.converge_steps_max) + " steps");
  }
  return true;
}

// A random step; when nobody can step, time passes to the next deadline.
bool Run::ConvergenceStep() {
  world_.AdvanceClock(1);
  world_.EnabledTransitions(false, false, &enabled_);
  steps_.clear();
  Collect(TransitionKind::kStep);
  if (steps_.empty()) {
    Collect(TransitionKind::kTimeout);
    world_.AdvanceClock(kChoosingPatienceMs);
  }
  if (steps_.empty()) {
    return Fail("no progress in the fault-free phase: live contenders wait forever\n" +
                world_.DescribeFs());
  }
  Apply(steps_[random_.Below(steps_.size())]);
  return true;
}

// Cleanup leaves only the fence counter (one name: a move never leaves its
// source; with linked moves, also the lower names crashes between a link and
// an unlink left, which the next holder removes, if nobody fenced since), the
// format marker and the planted files (P4), and those untouched (H10).
bool Run::CleanupPhase() {
  if (!world_.RunCleanup()) return Fail("cleanup did not finish");
  const std::map<std::string, Node>& planted = PlantedFiles();
  uint32_t counters = 0;
  for (const auto& entry : world_.fs()) {
    const NameKind kind =
        ParseName(Bytes{entry.first.data(), static_cast<uint32_t>(entry.first.size())}).kind;
    if (kind == NameKind::kFenceCounter && (++counters == 1 || setup_.world.linked_moves)) continue;
    if (planted.count(entry.first) != 0 || kind == NameKind::kFormatMarker) continue;
    return Fail("entry left behind after convergence and cleanup: " + entry.first + "\n" +
                world_.DescribeFs());
  }
  for (const auto& entry : planted) {
    auto it = world_.fs().find(entry.first);
    if (it == world_.fs().end() || it->second.content != entry.second.content) {
      return Fail("planted file " + entry.first + " was removed or changed");
    }
  }
  return true;
}

}  // namespace

SimulateReport Simulate(const SimulateConfig& config) {
  SimulateReport report;
  Run run(config, &report);
  // Each phase runs only if the ones before it passed.
  if (run.FaultPhase() && run.ConvergencePhase()) run.CleanupPhase();
  report.counters = run.counters();
  return report;
}

}  // namespace sim
}  // namespace onlyone
