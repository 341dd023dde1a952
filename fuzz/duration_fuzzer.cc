// Fuzz target: the duration parser of the command line (cli/duration.h).
//
// People type durations (--wait=5m, --grace 30s). Properties, for any text:
//   - ParseDuration never crashes;
//   - it accepts only values from 0 to kDurationMsMax, and explains every
//     refusal in a non-empty message;
//   - FormatDuration of an accepted value is itself accepted, and never
//     reads as more than the value it shows (it only drops precision);
//   - FormatDurationExact of an accepted value reads back as that value.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "cli/duration.h"
#include "fuzz/check.h"

namespace {

// Longer texts exercise nothing new: the parser fails on overflow first.
constexpr size_t kInputBytesMax = 256;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using onlyone::cli::kDurationMsMax;
  if (size > kInputBytesMax) size = kInputBytesMax;
  const std::string text(reinterpret_cast<const char*>(data), size);
  int64_t duration_ms = -1;
  std::string error;
  if (!onlyone::cli::ParseDuration(text, &duration_ms, &error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(duration_ms >= 0 && duration_ms <= kDurationMsMax);
  const std::string shown = onlyone::cli::FormatDuration(duration_ms);
  int64_t shown_ms = -1;
  FUZZ_CHECK(onlyone::cli::ParseDuration(shown, &shown_ms, &error));
  FUZZ_CHECK(shown_ms >= 0 && shown_ms <= duration_ms);
  int64_t exact_ms = -1;
  FUZZ_CHECK(onlyone::cli::ParseDuration(onlyone::cli::FormatDurationExact(duration_ms), &exact_ms,
                                         &error));
  FUZZ_CHECK(exact_ms == duration_ms);
  return 0;
}
