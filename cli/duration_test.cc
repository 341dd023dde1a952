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

TEST(ParseDuration, RefusesABareNumberAndNamesTheUnits) {
  EXPECT_NE(ErrorFor("30").find("no unit"), std::string::npos);
  EXPECT_NE(ErrorFor("30").find("30s"), std::string::npos);
}

TEST(ParseDuration, RefusesFractionsAndSuggestsASmallerUnit) {
  EXPECT_NE(ErrorFor("1.5s").find("1500ms"), std::string::npos);
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
}

TEST(ParseDuration, RefusesDurationsBeyondTheLimitWithoutOverflow) {
  EXPECT_EQ(ParsedMs("1000d"), kDurationMsMax);
  EXPECT_NE(ErrorFor("1001d").find("too long"), std::string::npos);
  ErrorFor("99999999999999999999999999s");
  ErrorFor("999d999h");
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

TEST(FormatDuration, TreatsNegativeAsZero) { EXPECT_EQ(FormatDuration(-5), "0ms"); }

}  // namespace
}  // namespace cli
}  // namespace onlyone
