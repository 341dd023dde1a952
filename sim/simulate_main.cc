// bazel run //sim:simulate -- [--seed N | --seeds FIRST:COUNT] [--steps N]
//
// Runs the random simulator for one seed or a range of seeds. A failure
// prints its seed; `--seed N` replays it exactly. Exit 0 when every seed
// passed, 1 when one failed, 2 for usage errors.
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "sim/simulate.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

[[noreturn]] void Usage(const std::string& problem) {
  fprintf(stderr,
          "simulate: %s\nusage: simulate [--seed N | --seeds FIRST:COUNT] [--steps N] [--trace "
          "LAST_N]\n",
          problem.c_str());
  exit(kExitUsage);
}

uint64_t ParseNumber(const std::string& text, const char* what) {
  char* end = nullptr;
  const unsigned long long value = strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || text[0] == '-') {
    Usage(std::string(what) + " takes a whole number, not '" + text + "'");
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t first_seed = 1;
  uint64_t seed_count = 100;
  onlyone::sim::SimulateConfig config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--seed" && has_value) {
      first_seed = ParseNumber(argv[++i], "--seed");
      seed_count = 1;
    } else if (arg == "--seeds" && has_value) {
      const std::string range = argv[++i];
      const size_t colon = range.find(':');
      if (colon == std::string::npos) Usage("--seeds takes FIRST:COUNT, e.g. 1:500");
      first_seed = ParseNumber(range.substr(0, colon), "--seeds");
      seed_count = ParseNumber(range.substr(colon + 1), "--seeds");
    } else if (arg == "--trace" && has_value) {
      config.trace_steps = static_cast<uint32_t>(ParseNumber(argv[++i], "--trace"));
    } else if (arg == "--steps" && has_value) {
      config.fault_steps = ParseNumber(argv[++i], "--steps");
    } else {
      Usage("unknown or incomplete option '" + arg + "'");
    }
  }
  onlyone::sim::WorldCounters total;
  uint64_t failures = 0;
  for (uint64_t seed = first_seed; seed < first_seed + seed_count; ++seed) {
    config.seed = seed;
    const onlyone::sim::SimulateReport report = onlyone::sim::Simulate(config);
    if (!report.ok) {
      ++failures;
      printf("%sFAIL %s\n  replay: bazel run //sim:simulate -- --seed %llu --steps %llu\n",
             report.trace.c_str(), report.failure.c_str(), (unsigned long long)seed,
             (unsigned long long)config.fault_steps);
    } else if (seed_count == 1) {
      printf("seed %llu: %s\n", (unsigned long long)seed, report.setup.c_str());
    }
    onlyone::sim::AddCounters(report.counters, &total);
  }
  printf("reached (summed over seeds): %s\n", onlyone::sim::FormatCounters(total).c_str());
  printf("simulate: seeds=%llu failures=%llu\n", (unsigned long long)seed_count,
         (unsigned long long)failures);
  return failures == 0 ? 0 : kExitFailure;
}
