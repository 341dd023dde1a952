// Durations on the command line: "30", "0.5", "250ms", "1.5s", "5m", "1h30m".
//
//   duration := number | part+     parts in decreasing unit order, each unit once
//   part     := number unit        unit is one of d, h, m, s, ms
//   number   := digits ["." digits] | "." digits
//
// A bare number is seconds, as flock(1) -w and sleep(1) read it. Only the
// last number may have a fraction ("1h30.5m", not "1.5h30m"). The value is
// rounded up to a whole millisecond, so a duration above zero never becomes
// zero (which would mean "do not wait" or "SIGKILL at once").
//
// Everything else is refused with a message saying what to write: a typo in a
// timeout of a cron job should fail loudly at the first run, not turn into
// "wait forever" or "don't wait". In particular the words whose meaning
// would be a guess: "1h30" (30 what?), "0,5" (a decimal comma), "5M"
// (minutes or months?), "30 s" (one word with a space).
#ifndef ONLYONE_CLI_DURATION_H_
#define ONLYONE_CLI_DURATION_H_

#include <stdint.h>

#include <string>

namespace onlyone {
namespace cli {

// Longest duration accepted: 1000 days. Far beyond any sensible timeout, and
// small enough that adding it to a millisecond clock never overflows.
constexpr int64_t kDurationMsMax = 1000LL * 24 * 60 * 60 * 1000;

// Parses `text` into milliseconds. On failure returns false, leaves
// *duration_ms alone and sets *error to one sentence saying what is wrong and
// what would be accepted.
bool ParseDuration(const std::string& text, int64_t* duration_ms, std::string* error);

// Renders a duration compactly for people: "250ms", "42s", "3m12s", "1h30m",
// "2d3h". Precision drops with size (no milliseconds above a minute).
std::string FormatDuration(int64_t duration_ms);

// Renders a duration exactly, in a form ParseDuration reads back to the same
// value: "250ms", "1.5s", "1m30.25s", "1d2h". For saying what was understood.
std::string FormatDurationExact(int64_t duration_ms);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_DURATION_H_
