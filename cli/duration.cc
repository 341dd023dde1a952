#include "cli/duration.h"

#include <ctype.h>

namespace onlyone {
namespace cli {
namespace {

struct Unit {
  const char* suffix;
  int64_t ms;
};

// In rank order: a duration's parts must have strictly increasing ranks, so
// "1h30m" is accepted and "30m1h" or "1s1s" are not.
constexpr Unit kUnitsByRank[] = {
    {"d", 24LL * 60 * 60 * 1000},
    {"h", 60LL * 60 * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
};
constexpr int kUnitCount = sizeof(kUnitsByRank) / sizeof(kUnitsByRank[0]);
constexpr const char* kAccepted =
    "write a number with a unit (ms, s, m, h, d), e.g. 250ms, 30s, 5m, 1h30m";

// Matches the longest unit suffix at text[pos] ("ms" before "m"); returns its
// rank and sets *unit_end, or returns -1.
int MatchUnit(const std::string& text, size_t pos, size_t* unit_end) {
  int best_rank = -1;
  size_t best_length = 0;
  for (int rank = 0; rank < kUnitCount; ++rank) {
    const std::string suffix = kUnitsByRank[rank].suffix;
    if (suffix.size() > best_length && text.compare(pos, suffix.size(), suffix) == 0) {
      best_rank = rank;
      best_length = suffix.size();
    }
  }
  *unit_end = pos + best_length;
  return best_rank;
}

}  // namespace

bool ParseDuration(const std::string& text, int64_t* duration_ms, std::string* error) {
  const std::string quoted = "'" + text + "'";
  if (text.empty()) {
    *error = "empty duration: " + std::string(kAccepted);
    return false;
  }
  int64_t total_ms = 0;
  int previous_rank = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!isdigit(static_cast<unsigned char>(text[pos]))) {
      *error = "bad duration " + quoted + ": expected a digit at '" + text.substr(pos) + "'; " +
               kAccepted;
      return false;
    }
    int64_t amount = 0;
    while (pos < text.size() && isdigit(static_cast<unsigned char>(text[pos]))) {
      amount = amount * 10 + (text[pos] - '0');
      if (amount > kDurationMsMax) {
        *error = "duration " + quoted + " is too long: the limit is 1000d";
        return false;
      }
      ++pos;
    }
    if (pos == text.size()) {
      *error = "duration " + quoted + " has no unit: " + kAccepted;
      return false;
    }
    if (text[pos] == '.' || text[pos] == ',') {
      *error = "duration " + quoted + " has a fraction: use a smaller unit, e.g. 1500ms or 1m30s";
      return false;
    }
    size_t unit_end = pos;
    const int rank = MatchUnit(text, pos, &unit_end);
    if (rank < 0) {
      *error =
          "bad duration " + quoted + ": unknown unit at '" + text.substr(pos) + "'; " + kAccepted;
      return false;
    }
    if (rank <= previous_rank) {
      *error = "bad duration " + quoted +
               ": units must appear once each, largest first (e.g. 1h30m, not 30m1h)";
      return false;
    }
    const int64_t unit_ms = kUnitsByRank[rank].ms;
    if (amount > (kDurationMsMax - total_ms) / unit_ms) {
      *error = "duration " + quoted + " is too long: the limit is 1000d";
      return false;
    }
    total_ms += amount * unit_ms;
    previous_rank = rank;
    pos = unit_end;
  }
  *duration_ms = total_ms;
  return true;
}

std::string FormatDuration(int64_t duration_ms) {
  if (duration_ms < 0) duration_ms = 0;
  if (duration_ms < 1000) return std::to_string(duration_ms) + "ms";
  int64_t seconds = duration_ms / 1000;
  if (seconds < 60) return std::to_string(seconds) + "s";
  const int64_t days = seconds / 86400;
  const int64_t hours = seconds % 86400 / 3600;
  const int64_t minutes = seconds % 3600 / 60;
  seconds %= 60;
  // Two most significant non-empty units at most: "1h30m", not "1h30m12s".
  if (days > 0) return std::to_string(days) + "d" + (hours ? std::to_string(hours) + "h" : "");
  if (hours > 0)
    return std::to_string(hours) + "h" + (minutes ? std::to_string(minutes) + "m" : "");
  return std::to_string(minutes) + "m" + (seconds ? std::to_string(seconds) + "s" : "");
}

}  // namespace cli
}  // namespace onlyone
