#include "cli/duration.h"

#include <gtest/gtest.h>

namespace onlyone {
namespace cli {
namespace {

int64_t ParsedMs(const std::string& text) {
  int64_t ms = -1;
  std::string error;
  EXPECT_TRUE(ParseDuration(text, &ms, &error)) << text << ": " << error;
  return ms;
}

std::string ErrorFor(const std::string& text) {
  int64_t ms = -1;
  std::string error;
  EXPECT_FALSE(ParseDuration(text, &ms, &error)) << text << " parsed as " << ms;
  EXPECT_EQ(ms, -1) << "a failed parse must not write the result";
  return error;
}

TEST(ParseDuration, ReadsEachUnit) {
  EXPECT_EQ(ParsedMs("250ms"), 250);
  EXPECT_EQ(ParsedMs("30s"), 30000);
  EXPECT_EQ(ParsedMs("5m"), 300000);
  EXPECT_EQ(ParsedMs("2h"), 7200000);
  EXPECT_EQ(ParsedMs("1d"), 86400000);
}

TEST(ParseDuration, AddsPartsInDecreasingOrder) {
  EXPECT_EQ(ParsedMs("1h30m"), 5400000);
  EXPECT_EQ(ParsedMs("1m30s250ms"), 90250);
  EXPECT_EQ(ParsedMs("1d1h1m1s1ms"), 90061001);
}

TEST(ParseDuration, AcceptsZero) { EXPECT_EQ(ParsedMs("0s"), 0); }

TEST(ParseDuration, ReadsABareNumberAsSecondsLikeFlock) {
  EXPECT_EQ(ParsedMs("30"), 30000);
  EXPECT_EQ(ParsedMs("0"), 0);
  EXPECT_EQ(ParsedMs("0.5"), 500);
  EXPECT_EQ(ParsedMs(".5"), 500);
  EXPECT_EQ(ParsedMs("1.25"), 1250);
}

TEST(ParseDuration, ReadsAFractionInTheLastPart) {
  EXPECT_EQ(ParsedMs("1.5s"), 1500);
  EXPECT_EQ(ParsedMs("0.5m"), 30000);
  EXPECT_EQ(ParsedMs("1.5h"), 5400000);
  EXPECT_EQ(ParsedMs("1h30.5m"), 5430000);
  EXPECT_EQ(ParsedMs("1m0.25s"), 60250);
}

TEST(ParseDuration, RoundsUpToAWholeMillisecond) {
  EXPECT_EQ(ParsedMs("0.0001"), 1) << "a positive duration never becomes 0";
  EXPECT_EQ(ParsedMs("0.001"), 1);
  EXPECT_EQ(ParsedMs("0.0011"), 2);
  EXPECT_EQ(ParsedMs("1.5ms"), 2);
  EXPECT_EQ(ParsedMs("0.000"), 0);
  EXPECT_EQ(ParsedMs("1.0000000000001"), 1001) << "digits past the ninth still count";
  EXPECT_EQ(ParsedMs("1.0000000000000"), 1000);
}

TEST(ParseDuration, RefusesAFractionBeforeTheLastPart) {
  EXPECT_NE(ErrorFor("1.5h30m").find("only the last number"), std::string::npos);
}

TEST(ParseDuration, RefusesADecimalCommaAndSaysToWriteAPoint) {
  EXPECT_NE(ErrorFor("0,5").find("decimal point"), std::string::npos);
}

TEST(ParseDuration, RefusesANumberWithoutUnitAfterAPartAsAmbiguous) {
  const std::string error = ErrorFor("1h30");
  EXPECT_NE(error.find("ambiguous"), std::string::npos) << error;
  EXPECT_NE(error.find("1h30m"), std::string::npos) << error;
  EXPECT_NE(ErrorFor("1s30").find("1s30ms"), std::string::npos);
  ErrorFor("1ms30");
}

TEST(ParseDuration, NamesTheUnitForCommonSpellings) {
  EXPECT_NE(ErrorFor("5min").find("write m (5m)"), std::string::npos) << ErrorFor("5min");
  EXPECT_NE(ErrorFor("30sec").find("(30s)"), std::string::npos);
  EXPECT_NE(ErrorFor("5M").find("(5m)"), std::string::npos);
  EXPECT_NE(ErrorFor("1h5mins").find("(1h5m)"), std::string::npos);
  EXPECT_NE(ErrorFor("2Days").find("(2d)"), std::string::npos);
  EXPECT_NE(ErrorFor("5x").find("unknown unit 'x'"), std::string::npos);
}

TEST(ParseDuration, RefusesNegativeDurationsAndSpaces) {
  EXPECT_NE(ErrorFor("-1").find("negative"), std::string::npos);
  EXPECT_NE(ErrorFor("30 s").find("no spaces"), std::string::npos);
}

TEST(ParseDuration, RefusesUnitsOutOfOrderOrRepeated) {
  EXPECT_NE(ErrorFor("30m1h").find("largest first"), std::string::npos);
  ErrorFor("1s1s");
  ErrorFor("1ms1s");
}

TEST(ParseDuration, RefusesGarbage) {
  ErrorFor("");
  ErrorFor("s");
  ErrorFor("-5s");
  ErrorFor("+5s");
  ErrorFor(" 5s");
  ErrorFor("5s ");
  ErrorFor("5sec");
  ErrorFor("5 s");
  ErrorFor("5S");
  ErrorFor("1h30");
  ErrorFor("forever");
  ErrorFor(".");
  ErrorFor("5.");
  ErrorFor("1..5");
  ErrorFor("1.5.2");
  ErrorFor("1e3");
  ErrorFor("0x10");
}

TEST(ParseDuration, RefusesDurationsBeyondTheLimitWithoutOverflow) {
  EXPECT_EQ(ParsedMs("1000d"), kDurationMsMax);
  EXPECT_NE(ErrorFor("1001d").find("too long"), std::string::npos);
  ErrorFor("99999999999999999999999999s");
  ErrorFor("999d999h");
  EXPECT_EQ(ParsedMs("86400000"), kDurationMsMax) << "1000d in seconds";
  ErrorFor("86400000.001");
  ErrorFor("86400001");
  EXPECT_EQ(ParsedMs("999d23h59m59.999s"), kDurationMsMax - 1);
}

TEST(FormatDuration, KeepsTwoUnitsAtMost) {
  EXPECT_EQ(FormatDuration(0), "0ms");
  EXPECT_EQ(FormatDuration(250), "250ms");
  EXPECT_EQ(FormatDuration(42000), "42s");
  EXPECT_EQ(FormatDuration(192000), "3m12s");
  EXPECT_EQ(FormatDuration(180000), "3m");
  EXPECT_EQ(FormatDuration(5400000 + 12000), "1h30m");
  EXPECT_EQ(FormatDuration(2 * 86400000LL + 3 * 3600000), "2d3h");
}

TEST(FormatDurationExact, ReadsBackAsTheSameValue) {
  EXPECT_EQ(FormatDurationExact(0), "0s");
  EXPECT_EQ(FormatDurationExact(250), "250ms");
  EXPECT_EQ(FormatDurationExact(1500), "1.5s");
  EXPECT_EQ(FormatDurationExact(30000), "30s");
  EXPECT_EQ(FormatDurationExact(60050), "1m50ms");
  EXPECT_EQ(FormatDurationExact(61050), "1m1.05s");
  EXPECT_EQ(FormatDurationExact(5400000), "1h30m");
  EXPECT_EQ(FormatDurationExact(90061001), "1d1h1m1.001s");
  for (int64_t ms : {int64_t{1}, int64_t{999}, int64_t{1001}, int64_t{59999}, int64_t{60001},
                     int64_t{3600000}, int64_t{86399999}, kDurationMsMax}) {
    EXPECT_EQ(ParsedMs(FormatDurationExact(ms)), ms) << FormatDurationExact(ms);
  }
}

TEST(FormatDuration, TreatsNegativeAsZero) { EXPECT_EQ(FormatDuration(-5), "0ms"); }

}  // namespace
}  // namespace cli
}  // namespace onlyone
