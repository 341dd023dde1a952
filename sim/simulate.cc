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
           "procs=%u slots=%u %s%s crash=%lluppm reuse=%lluppm io_fault=%lluppm respawn=%lluppm "
           "skip_name=%lluppm job_end=%lluppm",
           world.procs, world.slots, world.try_mode ? "try" : "wait",
           world.spurious_wakeups ? " spurious-wakeups" : "", (unsigned long long)rates.crash,
           (unsigned long long)rates.reuse, (unsigned long long)rates.io_fault,
           (unsigned long long)rates.respawn, (unsigned long long)rates.skip_name,
           (unsigned long long)rates.job_end);
  return text;
}

}  // namespace

SimulateReport Simulate(const SimulateConfig& config) {
  SimulateReport report;
  Random random(config.seed);
  WorldConfig world_config;
  world_config.procs = kProcsMin + static_cast<uint32_t>(random.Below(kProcsMax - kProcsMin + 1));
  world_config.slots = 1 + static_cast<uint32_t>(random.Below(3));
  world_config.rounds = kRoundsForever;
  world_config.try_mode = random.Chance(300'000);
  // Every Op on its own: the simulator is not bounded by state counts, and
  // the merged steps would hide a read finding its entry gone.
  world_config.merge_reads = false;
  // Half the seeds let waits return at any time (timers, EINTR); the other
  // half wake waiters only on changes, which is where a lost wake-up would
  // show as a deadlock.
  world_config.spurious_wakeups = random.Chance(500'000);
  // Each seed draws its own fault mix, so that across seeds both rare and
  // heavy fault loads are explored (TigerBeetle's VOPR does the same).
  FaultRates rates;
  rates.crash = random.Below(3'000);
  rates.reuse = random.Below(20'000);
  rates.io_fault = random.Chance(500'000) ? random.Below(2'000) : 0;
  rates.respawn = random.Below(50'000);
  rates.skip_name = random.Below(500'000);
  rates.clock_jump = random.Below(20'000);
  rates.job_end = 1 + random.Below(20'000);
  report.setup = Describe(world_config, rates);

  World world(world_config);
  // What a hostile or careless user leaves in the directory: none of it may
  // be followed, removed, or mistaken for a contender.
  std::map<std::string, Node> planted = {
      {"README", Node{false, "not a lock entry", 0, 0, {}}},
      {"o.0123456789abcdef0123456789abcdef", Node{true, "garbage, not a record", 0, 0, {}}},
      {"o.ffffffffffffffffffffffffffffffff",
       Node{false, "regular file named like an entry", 0, 0, {}}},
      {"o.short", Node{true, "onlyone1;state=choosing", 0, 0, {}}},
  };
  for (const auto& entry : planted) {
    world.Plant(entry.first, entry.second.symlink, entry.second.content);
  }

  std::deque<std::string> recent;
  auto apply = [&](const Transition& t) {
    if (config.trace_steps != 0) {
      recent.push_back(world.Describe(t));
      if (recent.size() > config.trace_steps) recent.pop_front();
    }
    world.Apply(t);
  };
  auto fail = [&](const std::string& what) {
    for (const std::string& line : recent) report.trace += "  " + line + "\n";
    report.ok = false;
    report.failure = "seed " + std::to_string(config.seed) + " (" + report.setup + "): " + what;
  };

  std::vector<Transition> enabled;
  std::vector<Transition> steps;
  for (uint64_t step = 0; step < config.fault_steps; ++step) {
    for (uint32_t i = 0; i < world_config.procs; ++i) {
      const Process& p = world.procs()[i];
      if (!p.alive && random.Chance(rates.respawn)) world.Respawn(i);
      if (p.job_running && random.Chance(rates.job_end)) {
        apply(Transition{TransitionKind::kJobEnds, i});
      }
      if (!p.alive && random.Chance(rates.reuse)) {
        const Transition reuse{TransitionKind::kReusePid, i};
        if (world.IsEnabled(reuse)) apply(reuse);
      }
    }
    if (random.Chance(rates.clock_jump)) world.AdvanceClock(kChoosingPatienceMs);
    world.AdvanceClock(1);
    if (random.Chance(rates.io_fault)) {
      world.InjectFault(random.Chance(800'000) ? IoStatus::kNoSpace : IoStatus::kIo);
    }

    world.EnabledTransitions(true, false, &enabled);
    steps.clear();
    for (const Transition& t : enabled) {
      if (t.kind == TransitionKind::kStep) steps.push_back(t);
    }
    const uint32_t victim = static_cast<uint32_t>(random.Below(world_config.procs));
    const Transition crash{TransitionKind::kCrash, victim};
    const Transition crash_leaving_job{TransitionKind::kCrashLeavingJob, victim};
    const Transition skip{TransitionKind::kSkipName, victim};
    if (random.Chance(rates.crash) && world.IsEnabled(crash)) {
      // Half the holders killed leave their job running on their anchor.
      apply(world.IsEnabled(crash_leaving_job) && random.Chance(500'000) ? crash_leaving_job
                                                                         : crash);
    } else if (world.IsEnabled(skip) && random.Chance(rates.skip_name)) {
      apply(skip);
    } else if (!steps.empty()) {
      const Transition pick = steps[random.Below(steps.size())];
      const Transition timeout{TransitionKind::kTimeout, pick.proc};
      const Process& p = world.procs()[pick.proc];
      if (world.IsEnabled(timeout) && world.now_ms() >= p.op.deadline_mono_ms) {
        apply(timeout);
      } else {
        apply(pick);
      }
    } else {
      // Every live process waits and nothing will wake it: a deadlock, unless
      // a deadline can still pass.
      bool timed = false;
      for (const Transition& t : enabled) {
        // A killed holder's job that ends lets the waiters behind it in.
        if (t.kind == TransitionKind::kTimeout || t.kind == TransitionKind::kJobEnds) {
          world.AdvanceClock(kChoosingPatienceMs);
          apply(t);
          timed = true;
          break;
        }
      }
      if (!timed && !world.AllDone()) {
        fail("deadlock: every live contender waits, nothing wakes them\n" + world.DescribeFs());
        break;
      }
    }
    if (!world.violation().empty()) {
      fail(world.violation() + "\n" + world.DescribeFs());
      break;
    }
  }

  if (report.ok) {
    world.StopNewRounds();
    // Fault-free from here: no I/O fault injected in the last faulty step
    // may still be pending (it failed the cleaner's first write when nobody
    // wrote in between: seed 1586), and killed holders' jobs end too.
    world.InjectFault(IoStatus::kOk);
    for (uint32_t i = 0; i < world_config.procs; ++i) {
      const Transition job_ends{TransitionKind::kJobEnds, i};
      if (world.IsEnabled(job_ends)) apply(job_ends);
    }
    uint64_t step = 0;
    for (; step < config.converge_steps_max && !world.AllDone(); ++step) {
      world.AdvanceClock(1);
      world.EnabledTransitions(false, false, &enabled);
      steps.clear();
      for (const Transition& t : enabled) {
        if (t.kind == TransitionKind::kStep) steps.push_back(t);
      }
      if (steps.empty()) {
        for (const Transition& t : enabled) {
          if (t.kind == TransitionKind::kTimeout) steps.push_back(t);
        }
        world.AdvanceClock(kChoosingPatienceMs);
      }
      if (steps.empty()) {
        fail("no progress in the fault-free phase: live contenders wait forever\n" +
             world.DescribeFs());
        break;
      }
      apply(steps[random.Below(steps.size())]);
      if (!world.violation().empty()) {
        fail(world.violation() + "\n" + world.DescribeFs());
        break;
      }
    }
    if (report.ok && !world.AllDone()) {
      fail("did not converge within " + std::to_string(config.converge_steps_max) + " steps");
    }
  }

  if (report.ok) {
    if (!world.RunCleanup()) fail("cleanup did not finish");
  }
  if (report.ok) {
    for (const auto& entry : world.fs()) {
      auto it = planted.find(entry.first);
      if (it != planted.end()) continue;
      if (entry.first == "fence") continue;
      fail("entry left behind after convergence and cleanup: " + entry.first + "\n" +
           world.DescribeFs());
      break;
    }
  }
  if (report.ok) {
    for (const auto& entry : planted) {
      auto it = world.fs().find(entry.first);
      if (it == world.fs().end() || it->second.content != entry.second.content) {
        fail("planted file " + entry.first + " was removed or changed");
        break;
      }
    }
  }
  report.counters = world.counters();
  return report;
}

}  // namespace sim
}  // namespace onlyone
