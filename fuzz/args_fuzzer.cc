// Fuzz target: the command-line parser (cli/args.h) and the lock-name
// derivation it feeds (cli/name.h).
//
// The input is split at zero bytes into arguments, as argv reaches main().
// Properties, for any arguments:
//   - ParseArgs never crashes;
//   - a refusal comes with a message (what is wrong, what to write);
//   - accepted options are within their documented ranges: slots 1 to
//     kSlotsMax, exit code 0 to 255, durations 0 to kDurationMsMax (or the
//     wait-forever marker), and a run has a command;
//   - -n (nonblock) never leaves a wait in force, whatever came after it;
//   - a derived lock name and a command summary are produced for any
//     command, the summary within its byte limit.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/duration.h"
#include "cli/name.h"
#include "core/record.h"
#include "fuzz/check.h"
#include "fuzz/input.h"

namespace {

// A command line longer than this tests nothing the parser has not seen.
constexpr size_t kArgsMax = 64;
// SummarizeCommand's limit as `status` uses it (a record's command field).
constexpr size_t kSummaryBytesMax = onlyone::kCommandBytesMax;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onlyone::cli;
  onlyone::fuzz::FuzzInput input(data, size);
  const std::vector<std::string> args = input.RestAsArgs(kArgsMax);
  const ParseResult parsed = ParseArgs(args);
  if (!parsed.ok) {
    FUZZ_CHECK(!parsed.error.empty());
    return 0;
  }
  const Options& options = parsed.options;
  FUZZ_CHECK(options.slots >= 1 && options.slots <= onlyone::kSlotsMax);
  FUZZ_CHECK(options.conflict_exit_code >= 0 && options.conflict_exit_code <= 255);
  FUZZ_CHECK(options.wait_ms == onlyone::kWaitForever ||
             (options.wait_ms >= 0 && options.wait_ms <= kDurationMsMax));
  FUZZ_CHECK(options.grace_ms >= 0 && options.grace_ms <= kDurationMsMax);
  FUZZ_CHECK(!(options.nonblock && options.wait));
  if (options.mode == Mode::kRun) {
    FUZZ_CHECK(!options.command.empty());
    const std::string name = DeriveLockName(options.command);
    FUZZ_CHECK(name.compare(0, 4, "cmd-") == 0);
    FUZZ_CHECK(SummarizeCommand(options.command, kSummaryBytesMax).size() <= kSummaryBytesMax);
  }
  return 0;
}
