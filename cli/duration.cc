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
constexpr int kSecondsRank = 3;

// Spellings people type for our units (after lowering the case), and the unit
// to write instead. "M" lands here as "m": months make no sense for a lock.
struct Alias {
  const char* typed;
  const char* unit;
};
constexpr Alias kAliases[] = {
    {"d", "d"},       {"day", "d"},     {"days", "d"},         {"h", "h"},
    {"hr", "h"},      {"hrs", "h"},     {"hour", "h"},         {"hours", "h"},
    {"m", "m"},       {"min", "m"},     {"mins", "m"},         {"minute", "m"},
    {"minutes", "m"}, {"s", "s"},       {"sec", "s"},          {"secs", "s"},
    {"second", "s"},  {"seconds", "s"}, {"ms", "ms"},          {"msec", "ms"},
    {"msecs", "ms"},  {"millis", "ms"}, {"millisecond", "ms"}, {"milliseconds", "ms"},
};

constexpr const char* kAccepted =
    "write seconds (30, 0.5) or numbers with units (ms, s, m, h, d), e.g. 250ms, 1.5s, 5m, 1h30m";
constexpr int64_t kFractionScale = 1000000000;  // fraction digits kept exactly: 9
constexpr int kFractionDigitsExact = 9;

bool IsDigit(char c) { return isdigit(static_cast<unsigned char>(c)) != 0; }
bool IsLetter(char c) { return isalpha(static_cast<unsigned char>(c)) != 0; }

// The rank of unit `text`, or -1.
int RankOf(const std::string& text) {
  for (int rank = 0; rank < kUnitCount; ++rank) {
    if (text == kUnitsByRank[rank].suffix) return rank;
  }
  return -1;
}

// What to write instead of an unknown unit, or "" when we cannot tell.
std::string UnitFor(const std::string& typed) {
  std::string lowered;
  for (char c : typed) lowered += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  for (const Alias& alias : kAliases) {
    if (lowered == alias.typed) return alias.unit;
  }
  return "";
}

// ceil(0.<fraction> * unit_ms) without floating point: the first 9 digits
// exactly, any further non-zero digit as "a little more".
int64_t FractionMs(const std::string& fraction, int64_t unit_ms) {
  int64_t scaled = 0;
  bool more = false;
  for (size_t i = 0; i < fraction.size(); ++i) {
    if (i < static_cast<size_t>(kFractionDigitsExact)) {
      scaled = scaled * 10 + (fraction[i] - '0');
    } else if (fraction[i] != '0') {
      more = true;
    }
  }
  for (size_t i = fraction.size(); i < static_cast<size_t>(kFractionDigitsExact); ++i) scaled *= 10;
  // scaled < 1e9 and unit_ms <= 86.4e6: the product fits in 64 bits.
  const int64_t product = scaled * unit_ms;
  return product / kFractionScale + ((product % kFractionScale != 0 || more) ? 1 : 0);
}

class DurationParser {
 public:
  explicit DurationParser(const std::string& text) : text_(text), quoted_("'" + text + "'") {}

  bool Run(int64_t* duration_ms, std::string* error) {
    if (!Check()) {
      *error = error_;
      return false;
    }
    while (pos_ < text_.size()) {
      if (!Part()) {
        *error = error_;
        return false;
      }
    }
    *duration_ms = total_ms_;
    return true;
  }

 private:
  bool Fail(const std::string& error) {
    error_ = error;
    return false;
  }

  // Refusals about the whole word, before reading it part by part.
  bool Check() {
    if (text_.empty()) return Fail("empty duration: " + std::string(kAccepted));
    if (text_[0] == '-') return Fail("duration " + quoted_ + " is negative: " + kAccepted);
    if (text_.find_first_of(" \t") != std::string::npos) {
      return Fail("bad duration " + quoted_ + ": no spaces inside a duration (e.g. 30s, not 30 s)");
    }
    return true;
  }

  // digits ["." digits] | "." digits; sets whole_, fraction_, point_.
  bool Number() {
    const size_t start = pos_;
    whole_ = 0;
    fraction_.clear();
    point_ = false;
    bool too_long = false;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) {
      whole_ = whole_ * 10 + (text_[pos_++] - '0');
      if (whole_ > kDurationMsMax) {  // keep reading the digits, without overflow
        too_long = true;
        whole_ = kDurationMsMax + 1;
      }
    }
    if (pos_ < text_.size() && text_[pos_] == ',') {
      return Fail("bad duration " + quoted_ + ": write a decimal point, not a comma (e.g. 0.5)");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      point_ = true;
      ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) fraction_ += text_[pos_++];
      if (fraction_.empty()) {
        return Fail("bad duration " + quoted_ + ": expected a digit after '.' (e.g. 1.5 or 1)");
      }
    }
    if (pos_ == start) {
      return Fail("bad duration " + quoted_ + ": expected a number at '" + text_.substr(pos_) +
                  "'; " + kAccepted);
    }
    if (too_long) return Fail("duration " + quoted_ + " is too long: the limit is 1000d");
    return true;
  }

  // The unit after a number: the whole run of letters.
  bool UnitRank(int* rank) {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsLetter(text_[pos_])) ++pos_;
    const std::string typed = text_.substr(start, pos_ - start);
    if (typed.empty()) {
      return Fail("bad duration " + quoted_ + ": unexpected '" + text_.substr(pos_) + "'; " +
                  kAccepted);
    }
    *rank = RankOf(typed);
    if (*rank >= 0) return true;
    const std::string unit = UnitFor(typed);
    if (unit.empty()) {
      return Fail("bad duration " + quoted_ + ": unknown unit '" + typed + "'; " + kAccepted);
    }
    return Fail("bad duration " + quoted_ + ": unknown unit '" + typed + "'; write " + unit + " (" +
                text_.substr(0, start) + unit + text_.substr(pos_) + ")");
  }

  bool Part() {
    const size_t number_start = pos_;
    if (!Number()) return false;
    int rank = kSecondsRank;  // a bare number is seconds...
    if (pos_ == text_.size()) {
      if (previous_rank_ >= 0) return Ambiguous(number_start);  // "1h30" is 30 what?
    } else if (!UnitRank(&rank)) {
      return false;
    }
    if (rank <= previous_rank_) {
      return Fail("bad duration " + quoted_ +
                  ": units must appear once each, largest first (e.g. 1h30m, not 30m1h)");
    }
    if (point_ && pos_ < text_.size()) {
      return Fail("bad duration " + quoted_ +
                  ": only the last number may have a fraction (e.g. 1h30m or 90.5m)");
    }
    const int64_t unit_ms = kUnitsByRank[rank].ms;
    if (whole_ > (kDurationMsMax - total_ms_) / unit_ms) return TooLong();
    total_ms_ += whole_ * unit_ms + FractionMs(fraction_, unit_ms);
    if (total_ms_ > kDurationMsMax) return TooLong();
    previous_rank_ = rank;
    return true;
  }

  bool Ambiguous(size_t number_start) {
    const std::string what =
        "duration " + quoted_ + " is ambiguous: '" + text_.substr(number_start) + "' has no unit; ";
    if (previous_rank_ + 1 >= kUnitCount) return Fail(what + kAccepted);
    return Fail(what + "write e.g. " + text_ + kUnitsByRank[previous_rank_ + 1].suffix);
  }

  bool TooLong() { return Fail("duration " + quoted_ + " is too long: the limit is 1000d"); }

  const std::string& text_;
  const std::string quoted_;
  size_t pos_ = 0;
  int64_t total_ms_ = 0;
  int previous_rank_ = -1;
  int64_t whole_ = 0;
  std::string fraction_;
  bool point_ = false;
  std::string error_;
};

}  // namespace

bool ParseDuration(const std::string& text, int64_t* duration_ms, std::string* error) {
  return DurationParser(text).Run(duration_ms, error);
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

std::string FormatDurationExact(int64_t duration_ms) {
  if (duration_ms <= 0) return "0s";
  std::string text;
  int64_t rest_ms = duration_ms;
  for (int rank = 0; rank < kSecondsRank; ++rank) {
    const int64_t amount = rest_ms / kUnitsByRank[rank].ms;
    rest_ms %= kUnitsByRank[rank].ms;
    if (amount > 0) text += std::to_string(amount) + kUnitsByRank[rank].suffix;
  }
  if (rest_ms == 0) return text;
  const int64_t seconds = rest_ms / 1000;
  const int64_t ms = rest_ms % 1000;
  if (seconds == 0) return text + std::to_string(ms) + "ms";
  text += std::to_string(seconds);
  if (ms != 0) {
    std::string digits = std::to_string(1000 + ms).substr(1);  // "050" for 50 ms
    while (digits.back() == '0') digits.pop_back();
    text += "." + digits;
  }
  return text + "s";
}

}  // namespace cli
}  // namespace onlyone
