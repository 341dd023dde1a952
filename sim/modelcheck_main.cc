// bazel run //sim:modelcheck -- --procs 3 --slots 1 [--rounds 2] [--crashes 1]
//     [--reuses 1] [--try] [--broken-steal] [--max-states N] [--no-livelock]
//
// Ends with one line "modelcheck: procs=P slots=S states=N violations=V".
// Exit 0 when there is no violation, 1 when there is one (its trace is
// printed), 2 for usage errors and 3 when --max-states cut the search short.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "sim/modelcheck.h"

namespace {

constexpr int kExitViolation = 1;
constexpr int kExitUsage = 2;
constexpr int kExitIncomplete = 3;
constexpr uint32_t kProcsMax = 8;

[[noreturn]] void Usage(const char* problem) {
  fprintf(stderr,
          "modelcheck: %s\n"
          "usage: modelcheck [--procs N] [--slots K] [--rounds R] [--crashes C] [--reuses U]\n"
          "                  [--try] [--broken-steal] [--max-states N] [--no-livelock]\n"
          "                  [--no-reduction] [--progress] [--compact] [--wake-on-change-only]\n"
          "                  [--no-lingering-jobs] [--job-without-anchor]\n"
          "                  [--full-records] [--linked-moves] [--mixed-moves]\n"
          "                  [--snapshot-listings]\n",
          problem);
  exit(kExitUsage);
}

uint64_t NumberArgument(int argc, char** argv, int* i, uint64_t max) {
  if (*i + 1 >= argc) Usage((std::string(argv[*i]) + " needs a number").c_str());
  const char* text = argv[++*i];
  char* end = nullptr;
  const unsigned long long value = strtoull(text, &end, 10);
  if (*text == '\0' || *end != '\0' || text[0] == '-' || value > max) {
    Usage((std::string(argv[*i - 1]) + " takes a whole number up to " + std::to_string(max) +
           ", not '" + text + "'")
              .c_str());
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  onlyone::sim::ModelCheckConfig config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--procs") {
      config.world.procs = static_cast<uint32_t>(NumberArgument(argc, argv, &i, kProcsMax));
    } else if (arg == "--slots") {
      config.world.slots = static_cast<uint32_t>(NumberArgument(argc, argv, &i, kProcsMax));
    } else if (arg == "--rounds") {
      config.world.rounds = static_cast<uint32_t>(NumberArgument(argc, argv, &i, 8));
    } else if (arg == "--crashes") {
      config.crashes = static_cast<uint32_t>(NumberArgument(argc, argv, &i, kProcsMax));
    } else if (arg == "--reuses") {
      config.reuses = static_cast<uint32_t>(NumberArgument(argc, argv, &i, kProcsMax));
    } else if (arg == "--max-states") {
      config.limits.max_states = NumberArgument(argc, argv, &i, UINT32_MAX - 1);
    } else if (arg == "--try") {
      config.world.try_mode = true;
    } else if (arg == "--broken-steal") {
      config.world.broken_steal = true;
    } else if (arg == "--no-reduction") {
      config.limits.reduce = false;
    } else if (arg == "--wake-on-change-only") {
      config.world.spurious_wakeups = false;
    } else if (arg == "--compact") {
      config.limits.compact = true;
    } else if (arg == "--progress") {
      config.limits.progress = true;
    } else if (arg == "--full-records") {
      config.world.full_records = true;
    } else if (arg == "--linked-moves") {
      config.world.linked_moves = true;
    } else if (arg == "--mixed-moves") {
      config.world.mixed_moves = true;
    } else if (arg == "--snapshot-listings") {
      config.world.snapshot_listings = true;
    } else if (arg == "--job-without-anchor") {
      config.world.job_inherits_anchor = false;
    } else if (arg == "--no-lingering-jobs") {
      config.world.jobs_outlive_holders = false;
    } else if (arg == "--no-livelock") {
      config.limits.check_livelock = false;
    } else if (arg == "--help" || arg == "-h") {
      Usage("exhaustive model checker for the onlyone protocol");
    } else {
      Usage(("unknown option '" + arg + "'").c_str());
    }
  }
  if (config.world.procs == 0) Usage("--procs must be at least 1");
  if (config.world.slots == 0) Usage("--slots must be at least 1");

  const onlyone::sim::ModelCheckReport report = onlyone::sim::ModelCheck(config);
  if (report.violations > 0) {
    printf("first violation: %s\ncounterexample (%s):\n%s", report.first_violation.c_str(),
           config.world.broken_steal ? "broken unlink-then-create steal" : "onlyone protocol",
           report.trace.c_str());
  }
  printf("reached (largest in any state): %s\n",
         onlyone::sim::FormatCounters(report.reached).c_str());
  printf("transitions=%llu complete=%s\n", (unsigned long long)report.transitions,
         report.complete ? "yes" : "no (--max-states reached)");
  printf("modelcheck: procs=%u slots=%u states=%llu violations=%llu\n", config.world.procs,
         config.world.slots, (unsigned long long)report.states,
         (unsigned long long)report.violations);
  if (report.violations > 0) return kExitViolation;
  if (!report.complete) return kExitIncomplete;
  return 0;
}
