// Wall time of whole commands (fork/exec/wait), interleaved run by run.
//
//   exec_bench [--runs N] [--warmup W] [--round R] --out PREFIX
//       -- LABEL_A CMD_A [ARG...] ::: LABEL_B CMD_B [ARG...] [::: ...]
//
// Each run is posix_spawnp() of the command, then waitpid(); the time from
// just before the spawn to just after the wait is one sample. The commands
// take turns run by run, and the order rotates each run (A B, B A, ...), so
// neither always runs first after the other. A command that exits non-zero is
// counted as a failure and its time is not a sample. Samples are appended to
// PREFIX.<label>.ns ("<round> <ns>" lines).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/bench_util.h"

extern char** environ;

namespace onlyone_bench {
namespace {

struct Command {
  std::string label;
  std::vector<std::string> argv;
  std::vector<int64_t> samples_ns;
  int64_t failures = 0;
  int last_status = 0;
};

// Returns the wall time of one run, or -1 if it did not exit 0.
int64_t RunOnce(Command* command) {
  std::vector<char*> argv;
  for (std::string& a : command->argv) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  const int64_t start = NowNs();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0) Die("cannot run " + command->argv[0] + ": " + strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) Die(std::string("waitpid: ") + strerror(errno));
  }
  const int64_t elapsed = NowNs() - start;
  command->last_status = status;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return elapsed;
}

int Main(int argc, char** argv) {
  std::vector<std::string> options;
  std::vector<Command> commands;
  int i = 1;
  for (; i < argc && std::string(argv[i]) != "--"; ++i) options.push_back(argv[i]);
  for (++i; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == ":::" || commands.empty()) {
      commands.push_back(Command());
      if (a == ":::") continue;
    }
    Command& c = commands.back();
    if (c.label.empty()) {
      c.label = a;
    } else {
      c.argv.push_back(a);
    }
  }
  for (const Command& c : commands) {
    if (c.label.empty() || c.argv.empty())
      Die("each command needs a label and a program: LABEL CMD [ARG...]");
  }
  if (commands.size() < 1)
    Die("usage: exec_bench [--runs N] --out PREFIX -- LABEL CMD... ::: LABEL CMD...");
  std::vector<char*> option_argv = {argv[0]};
  for (std::string& o : options) option_argv.push_back(&o[0]);
  Args args(static_cast<int>(option_argv.size()), option_argv.data());
  const int64_t runs = args.GetInt("runs", 500);
  const int64_t warmup = args.GetInt("warmup", 20);
  const int round = static_cast<int>(args.GetInt("round", 0));
  const std::string out = args.Get("out", "");

  for (int64_t r = 0; r < warmup; ++r) {
    for (Command& c : commands) RunOnce(&c);
  }
  for (int64_t r = 0; r < runs; ++r) {
    for (size_t k = 0; k < commands.size(); ++k) {
      Command& c = commands[(static_cast<size_t>(r) + k) % commands.size()];
      const int64_t ns = RunOnce(&c);
      if (ns < 0) {
        ++c.failures;
      } else {
        c.samples_ns.push_back(ns);
      }
    }
  }
  int failed = 0;
  for (Command& c : commands) {
    if (!out.empty()) AppendSamples(out + "." + c.label + ".ns", round, c.samples_ns);
    std::vector<int64_t> sorted = c.samples_ns;
    std::sort(sorted.begin(), sorted.end());
    fprintf(stderr, "exec_bench: %-12s n=%zu failures=%lld median=%.1fus\n", c.label.c_str(),
            sorted.size(), static_cast<long long>(c.failures),
            sorted.empty() ? 0.0 : static_cast<double>(sorted[sorted.size() / 2]) / 1000.0);
    if (c.failures > 0) {
      fprintf(stderr, "exec_bench: %s failed %lld times (last wait status 0x%x)\n", c.label.c_str(),
              static_cast<long long>(c.failures), static_cast<unsigned>(c.last_status));
      failed = 1;
    }
  }
  return failed;
}

}  // namespace
}  // namespace onlyone_bench

int main(int argc, char** argv) { return onlyone_bench::Main(argc, argv); }
