// Durations on the command line: "250ms", "30s", "5m", "1h30m", "2d".
//
// The grammar is strict on purpose: a typo in a timeout of a cron job should
// fail loudly at the first run, not turn into "wait forever" or "don't wait".
//
//   duration := part+          parts in decreasing unit order, each unit once
//   part     := digits unit    unit is one of d, h, m, s, ms
//
// A bare number ("30") is refused because its unit would be a guess (flock(1)
// reads seconds, sleep(1) too, many daemons read milliseconds).
#ifndef ONLYONE_CLI_DURATION_H_
#define ONLYONE_CLI_DURATION_H_

#include <stdint.h>

#include <string>

namespace onlyone {
namespace cli {

// Longest duration accepted: 1000 days. Far beyond any sensible timeout, and
// small enough that adding it to a millisecond clock never overflows.
constexpr int64_t kDurationMsMax = 1000LL * 24 * 60 * 60 * 1000;

// Parses `text` into milliseconds. On failure returns false and sets *error to
// one sentence saying what is wrong and what would be accepted.
bool ParseDuration(const std::string& text, int64_t* duration_ms, std::string* error);

// Renders a duration compactly for people: "250ms", "42s", "3m12s", "1h30m",
// "2d3h". Precision drops with size (no milliseconds above a minute).
std::string FormatDuration(int64_t duration_ms);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_DURATION_H_
