#include "verify/verify.h"

#include <stdio.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/contender.h"
#include "sim/explore.h"
#include "verify/model.h"
#include "verify/resources.h"

namespace onlyone {
namespace verify {

using internal::Model;
using internal::Move;
using internal::MoveKind;
using internal::Oracle;

namespace {

// Check(): PCT runs tried before the exhaustive search.
constexpr uint64_t kQuickSampleRuns = 10'000;
// Histories re-run at the end of a search to check programs are deterministic.
constexpr uint32_t kDeterminismRerunsMax = 1'000;
// Processes are bits in 32-bit masks in the World and the search; state
// spaces beyond a handful of processes are out of reach anyway.
constexpr uint32_t kProcessesMax = 8;
// Shrinking re-runs the failing schedule many times; each pass is bounded.
constexpr uint32_t kShrinkPassesMax = 4;
// Searching smaller scenarios while shrinking: at most this many states each.
constexpr uint64_t kShrinkSearchStatesMax = 300'000;

void Validate(const Scenario& s) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("verify: " + what); };
  if (s.processes == 0 || s.processes > kProcessesMax) {
    fail("processes = " + std::to_string(s.processes) + ": give 1 to " +
         std::to_string(kProcessesMax));
  }
  if (s.lock.slots == 0 || s.lock.slots > kSlotsMax) {
    fail("lock.slots = " + std::to_string(s.lock.slots) + ": give 1 to " +
         std::to_string(kSlotsMax));
  }
  for (uint32_t i = 0; i < s.processes; ++i) {
    if (s.ProgramOf(i) == nullptr) {
      fail("process " + std::to_string(i) +
           " has no program: call Program(program) for all, or Program(index, program)");
    }
  }
  if (s.faults.pauses != 0 && s.lock.lease_ms == 0) {
    fail("faults.pauses = " + std::to_string(s.faults.pauses) +
         " but lock.lease_ms = 0: time matters only to a lease; set lock.lease_ms (owners on "
         "other hosts) or faults.pauses = 0");
  }
  if (s.faults.pause_ms != 0 && s.faults.pause_ms <= s.lock.lease_ms) {
    fail("faults.pause_ms = " + std::to_string(s.faults.pause_ms) +
         " is not longer than lock.lease_ms: such a pause expires nothing; leave it 0 (lease + 1)");
  }
}

std::string ViolationRule(const std::string& violation) {
  return violation.substr(0, violation.find(':'));
}

std::string Join(const std::vector<Move>& path) {
  std::string text;
  for (const Move& move : path) {
    if (!text.empty()) text += ' ';
    text += internal::MoveToken(move);
  }
  return text;
}

// Runs `path` leniently (moves not possible at their turn are skipped) until
// a violation of `rule`; returns the moves that ran, or false.
bool FailsWith(const Scenario& s, Oracle* oracle, const std::vector<Move>& path,
               const std::string& rule, std::vector<Move>* ran, std::string* violation = nullptr) {
  Model model(s, oracle);
  ran->clear();
  for (const Move& move : path) {
    if (!model.Enabled(move)) continue;
    model.Apply(move);
    ran->push_back(move);
    if (model.violation().empty()) continue;
    if (violation != nullptr) *violation = model.violation();
    return ViolationRule(model.violation()) == rule;
  }
  return false;
}

uint32_t Switches(const std::vector<Move>& path) {
  uint32_t switches = 0;
  for (size_t i = 1; i < path.size(); ++i) switches += path[i].proc != path[i - 1].proc;
  return switches;
}

// Removes every move whose absence still fails the same way, to a fixpoint.
void ShrinkByDeletion(const Scenario& s, Oracle* oracle, const std::string& rule,
                      std::vector<Move>* path) {
  for (uint32_t pass = 0; pass < kShrinkPassesMax; ++pass) {
    bool changed = false;
    for (size_t at = path->size(); at-- > 0;) {
      if (at >= path->size()) continue;
      std::vector<Move> candidate = *path;
      candidate.erase(candidate.begin() + static_cast<long>(at));
      std::vector<Move> ran;
      if (FailsWith(s, oracle, candidate, rule, &ran)) {
        *path = ran;
        changed = true;
      }
    }
    if (!changed) return;
  }
}

// Moves a step back to just after its process's previous step when the run
// still fails: fewer context switches, the same bug.
void ShrinkSwitches(const Scenario& s, Oracle* oracle, const std::string& rule,
                    std::vector<Move>* path) {
  for (uint32_t pass = 0; pass < kShrinkPassesMax; ++pass) {
    bool changed = false;
    for (size_t at = 1; at < path->size(); ++at) {
      const uint32_t proc = (*path)[at].proc;
      if ((*path)[at - 1].proc == proc) continue;
      size_t previous = at;
      while (previous-- > 0 && (*path)[previous].proc != proc) {
      }
      if (previous >= at) continue;  // no earlier step of this process
      std::vector<Move> candidate = *path;
      const Move move = candidate[at];
      candidate.erase(candidate.begin() + static_cast<long>(at));
      candidate.insert(candidate.begin() + static_cast<long>(previous + 1), move);
      std::vector<Move> ran;
      if (FailsWith(s, oracle, candidate, rule, &ran) && Switches(ran) < Switches(*path)) {
        *path = ran;
        changed = true;
      }
    }
    if (!changed) return;
  }
}

Report Search(const Scenario& s, bool shrink);

// `path` followed by each process in turn running on (its program and its
// protocol steps, no faults) until every program has ended.
std::vector<Move> Completed(const Scenario& s, Oracle* oracle, std::vector<Move> path) {
  Model model(s, oracle);
  for (const Move& move : path) {
    if (model.Enabled(move)) model.Apply(move);
  }
  constexpr uint32_t kCompletionStepsMax = 100'000;
  for (uint32_t step = 0; step < kCompletionStepsMax && !model.Finished(); ++step) {
    // The first process that can move, a waiter nothing woke only when no
    // other can (it would wake for nothing).
    bool moved = false;
    for (bool allow_blocked : {false, true}) {
      for (uint32_t i = 0; i < s.processes && !moved; ++i) {
        if (model.Blocked(i) && !allow_blocked) continue;
        for (MoveKind kind : {MoveKind::kProgram, MoveKind::kWorld}) {
          const Move move{kind, i, sim::TransitionKind::kStep};
          if (!model.Enabled(move)) continue;
          model.Apply(move);
          path.push_back(move);
          moved = true;
          break;
        }
      }
      if (moved) break;
    }
    if (!moved || !model.violation().empty()) break;
  }
  return path;
}

// The fewest processes that still fail the same way: smaller scenarios are
// searched first; a schedule of fewer processes replays unchanged in the
// larger scenario, whose other processes simply never move.
std::vector<Move> FewestProcesses(const Scenario& s, Oracle* oracle, const std::string& rule,
                                  std::vector<Move> path) {
  if (s.processes <= 1 || s.ProgramOf(s.processes - 1) == nullptr) return path;
  for (uint32_t n = 1; n < s.processes; ++n) {
    Scenario smaller = s;
    smaller.processes = n;
    smaller.bounds.max_states = std::min<uint64_t>(s.bounds.max_states, kShrinkSearchStatesMax);
    const Report found = Search(smaller, /*shrink=*/false);
    if (found.violated && ViolationRule(found.violation) == rule) {
      std::vector<Move> smaller_path;
      std::istringstream tokens(found.schedule);
      std::string token;
      while (tokens >> token) {
        Move move;
        if (internal::ParseMoveToken(token, &move)) smaller_path.push_back(move);
      }
      // The smaller run must fail in this scenario too: its other processes
      // never moved, which matters only to checks at the end; let them run
      // to the end when that is what it takes.
      std::vector<Move> ran;
      if (FailsWith(s, oracle, smaller_path, rule, &ran)) return ran;
      if (FailsWith(s, oracle, Completed(s, oracle, smaller_path), rule, &ran)) return ran;
    }
  }
  return path;
}

void Shrink(const Scenario& s, Oracle* oracle, const std::string& violation,
            std::vector<Move>* path) {
  const std::string rule = ViolationRule(violation);
  *path = FewestProcesses(s, oracle, rule, *path);
  ShrinkByDeletion(s, oracle, rule, path);
  ShrinkSwitches(s, oracle, rule, path);
  ShrinkByDeletion(s, oracle, rule, path);
}

// Fills the failure part of a report from a failing path.
void Describe(const Scenario& s, Oracle* oracle, std::vector<Move> path, bool shrink,
              Report* report) {
  if (shrink) Shrink(s, oracle, report->violation, &path);
  Model root(s, oracle);
  std::vector<Move> ran;
  // The shrunk run may break the same rule at an earlier step, in other
  // words: report what it shows.
  std::string shown;
  if (FailsWith(s, oracle, path, ViolationRule(report->violation), &ran, &shown)) {
    path = ran;
    report->violation = shown;
  }
  report->schedule = Join(path);
  // A violation of the lock itself is explained by its protocol steps.
  const bool lock_violation = report->violation.rfind("lock protocol", 0) == 0;
  report->trace = root.TraceOf(path, lock_violation);
  uint32_t faults = 0;
  uint32_t procs = 0;
  for (const Move& move : path) {
    if (root.IsFault(move)) {
      ++faults;
    } else {
      procs |= 1u << move.proc;
    }
  }
  report->shrunk = std::to_string(__builtin_popcount(procs)) + " process(es), " +
                   std::to_string(faults) + " fault(s), " + std::to_string(Switches(path)) +
                   " context switch(es), " + std::to_string(path.size()) + " steps";
}

void Warn(const Scenario& s, Report* report) {
  const Coverage& c = report->reached;
  auto warn_if = [&](bool missing, const std::string& what) {
    if (missing) report->warnings.push_back(what);
  };
  warn_if(s.faults.crashes != 0 && c.crashes == 0,
          "faults.crashes = " + std::to_string(s.faults.crashes) + " but no crash was reached");
  warn_if(s.faults.pauses != 0 && c.pauses == 0,
          "faults.pauses = " + std::to_string(s.faults.pauses) + " but no pause was reached");
  warn_if(s.faults.pauses != 0 && c.leases_expired == 0,
          "pauses were allowed but no lease ever expired: no lock was taken from a paused "
          "holder");
  warn_if(s.faults.pid_reuses != 0 && c.pid_reuses == 0,
          "faults.pid_reuses = " + std::to_string(s.faults.pid_reuses) + " but no pid was reused");
  warn_if(c.acquisitions == 0, "nobody ever acquired the lock");
}

// Every search ends by re-running programs on histories it saw: a pass of a
// program that is not deterministic would prove nothing.
void CheckDeterminism(Oracle* oracle, Report* report) {
  const std::string differed = oracle->CheckDeterminism(kDeterminismRerunsMax);
  if (differed.empty()) return;
  report->violated = true;
  report->violation = "program error: " + differed;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Report Search(const Scenario& s, bool shrink) {
  Validate(s);
  const auto start = std::chrono::steady_clock::now();
  Oracle oracle(s);
  const Model root(s, &oracle);
  sim::ExploreLimits limits;
  limits.max_states = s.bounds.max_states;
  limits.check_livelock = false;  // verify checks safety; the protocol's progress is proven
  limits.reduce = s.bounds.reduce;
  const sim::ReportOf<Model> found = sim::Explore(root, limits);
  Report report;
  report.method = "exhaustive";
  report.states = found.states;
  report.transitions = found.transitions;
  report.complete = found.complete;
  if (!found.complete) {
    report.cut_by = "bounds.max_states = " + std::to_string(s.bounds.max_states);
  }
  report.reached = found.reached;
  CheckDeterminism(&oracle, &report);
  if (found.violations != 0 && !report.violated) {
    report.violated = true;
    report.violation = found.first_violation;
    Describe(s, &oracle, found.path, shrink && s.bounds.shrink, &report);
  } else {
    Warn(s, &report);
  }
  report.seconds = SecondsSince(start);
  return report;
}

}  // namespace

RegisterId Scenario::AddRegister(const std::string& name, int64_t initial) {
  resources_.push_back(ResourceSpec{name, std::make_shared<internal::RegisterResource>(initial),
                                    static_cast<uint8_t>(internal::ResourceKind::kRegister)});
  return RegisterId{static_cast<uint32_t>(resources_.size() - 1)};
}

StoreId Scenario::AddFencedStore(const std::string& name, int64_t initial) {
  resources_.push_back(ResourceSpec{name, std::make_shared<internal::StoreResource>(initial),
                                    static_cast<uint8_t>(internal::ResourceKind::kStore)});
  return StoreId{static_cast<uint32_t>(resources_.size() - 1)};
}

ResourceId Scenario::AddResource(const std::string& name, std::unique_ptr<Resource> resource) {
  if (resource == nullptr)
    throw std::invalid_argument("verify: AddResource(\"" + name + "\", nullptr)");
  resources_.push_back(ResourceSpec{name, std::shared_ptr<const Resource>(std::move(resource)),
                                    static_cast<uint8_t>(internal::ResourceKind::kUser)});
  return ResourceId{static_cast<uint32_t>(resources_.size() - 1)};
}

void Scenario::Program(verify::Program program) { common_ = std::move(program); }

void Scenario::Program(uint32_t index, verify::Program program) {
  if (own_.size() <= index) own_.resize(index + 1);
  own_[index] = std::move(program);
}

const Program* Scenario::ProgramOf(uint32_t index) const {
  if (index < own_.size() && own_[index]) return &own_[index];
  return common_ ? &common_ : nullptr;
}

void Scenario::Always(const std::string& name, Invariant holds) {
  always_.push_back(NamedInvariant{name, std::move(holds)});
}

void Scenario::AtEnd(const std::string& name, Invariant holds) {
  at_end_.push_back(NamedInvariant{name, std::move(holds)});
}

Scenario ProtocolScenario(uint32_t processes, uint32_t slots, uint32_t rounds) {
  Scenario s;
  s.processes = processes;
  s.lock.slots = slots;
  s.Program([rounds](Process& p) {
    for (uint32_t round = 0; round < rounds; ++round) {
      if (p.Acquire()) p.Release();
    }
  });
  return s;
}

Report Check(const Scenario& scenario) {
  // Random schedules first: a bug that needs several processes deep in
  // their programs at once is found in a few PCT runs, where a depth-first
  // search may first spend millions of states on schedules that keep them
  // apart. A pass still takes the exhaustive search.
  Sampling quick;
  quick.runs = kQuickSampleRuns;
  Report sampled = Sample(scenario, quick);
  if (sampled.violated) return sampled;
  return Search(scenario, /*shrink=*/true);
}

Report Sample(const Scenario& scenario, const Sampling& sampling) {
  Validate(scenario);
  if (sampling.runs == 0 || sampling.depth == 0) {
    throw std::invalid_argument("verify: Sampling needs runs >= 1 and depth >= 1");
  }
  const auto start = std::chrono::steady_clock::now();
  Oracle oracle(scenario);
  const uint32_t k = internal::PctStepsEstimate(scenario, &oracle);
  Report report;
  uint64_t cut = 0;
  for (uint64_t r = 0; r < sampling.runs; ++r) {
    const uint64_t seed = sampling.seed + r;
    const internal::SampledRun run =
        internal::PctSample(scenario, &oracle, seed, k, sampling.depth);
    ++report.runs;
    cut += run.cut;
    Model::MaxCounters(run.reached, &report.reached);
    if (run.violation.empty()) continue;
    if (run.violation.rfind("program error", 0) == 0) break;  // reported below
    report.violated = true;
    report.violation = run.violation;
    report.seed = seed;
    Describe(scenario, &oracle, run.path, scenario.bounds.shrink, &report);
    break;
  }
  const double n = scenario.processes;
  const double bound = 1.0 / (n * std::pow(static_cast<double>(k), sampling.depth - 1.0));
  char method[256];
  snprintf(method, sizeof method,
           "PCT depth %u, k = %u steps: each run finds a given bug of depth %u with probability "
           ">= 1/(n*k^(d-1)) = %.3g; seeds %llu..%llu",
           sampling.depth, k, sampling.depth, bound, static_cast<unsigned long long>(sampling.seed),
           static_cast<unsigned long long>(sampling.seed + report.runs - 1));
  report.method = method;
  if (cut != 0) {
    report.complete = false;
    report.cut_by = std::to_string(cut) + " run(s) reached bounds.max_steps = " +
                    std::to_string(scenario.bounds.max_steps);
  }
  if (!report.violated) CheckDeterminism(&oracle, &report);
  if (!report.violated) Warn(scenario, &report);
  report.seconds = SecondsSince(start);
  return report;
}

Report Replay(const Scenario& scenario, const std::string& schedule) {
  Validate(scenario);
  const auto start = std::chrono::steady_clock::now();
  Oracle oracle(scenario);
  Model model(scenario, &oracle);
  std::vector<Move> path;
  std::istringstream tokens(schedule);
  std::string token;
  while (tokens >> token && model.violation().empty()) {
    Move move;
    if (!internal::ParseMoveToken(token, &move)) {
      throw std::invalid_argument("verify: schedule step " + std::to_string(path.size() + 1) +
                                  " '" + token +
                                  "' is not a step; paste Report::schedule as "
                                  "printed");
    }
    if (!model.Enabled(move)) {
      throw std::invalid_argument("verify: schedule step " + std::to_string(path.size() + 1) +
                                  " '" + token +
                                  "' is not possible at that point: replay it "
                                  "with the scenario it was recorded with");
    }
    model.Apply(move);
    path.push_back(move);
  }
  Report report;
  report.method = "replay";
  report.runs = 1;
  report.reached = model.counters();
  report.schedule = Join(path);
  if (!model.violation().empty()) {
    report.violated = true;
    report.violation = model.violation();
  }
  report.trace = Model(scenario, &oracle).Trace(path);
  report.seconds = SecondsSince(start);
  return report;
}

std::string Report::Text() const {
  std::string text = "onlyone verify: ";
  text += violated
              ? "VIOLATED"
              : (!complete ? "INCOMPLETE" : (warnings.empty() ? "PASSED" : "PASSED WITH WARNINGS"));
  text += "\nmethod: " + method;
  if (method == "exhaustive") {
    text += ", " + std::to_string(states) + " states, " + std::to_string(transitions) +
            " transitions, " + (complete ? "complete" : "cut by " + cut_by);
  } else {
    text += ", " + std::to_string(runs) + " run(s)";
  }
  char seconds_text[48];
  snprintf(seconds_text, sizeof seconds_text, " (%.2f s)", seconds);
  text += seconds_text;
  text += "\nreached: crashes " + std::to_string(reached.crashes) + ", pauses " +
          std::to_string(reached.pauses) + ", pid reuses " + std::to_string(reached.pid_reuses) +
          ", leases expired " + std::to_string(reached.leases_expired) + ", locks lost " +
          std::to_string(reached.locks_lost) + ", acquisitions " +
          std::to_string(reached.acquisitions) + ", busy " + std::to_string(reached.busy) + "\n";
  for (const std::string& warning : warnings) text += "warning: " + warning + "\n";
  if (!violated) return text;
  text += "violation: " + violation + "\n";
  if (seed != 0) text += "seed: " + std::to_string(seed) + "\n";
  if (!shrunk.empty()) text += "shrunk to: " + shrunk + "\n";
  text += "replay: onlyone::verify::Replay(scenario, \"" + schedule + "\")\n";
  text += "trace:\n" + trace;
  return text;
}

}  // namespace verify
}  // namespace onlyone
