#include "cli/args.h"

#include <gtest/gtest.h>

namespace onlyone {
namespace cli {
namespace {

Options Parsed(const std::vector<std::string>& args) {
  const ParseResult result = ParseArgs(args);
  EXPECT_TRUE(result.ok) << result.error;
  return result.options;
}

std::string ErrorFor(const std::vector<std::string>& args) {
  const ParseResult result = ParseArgs(args);
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.error.empty());
  return result.error;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ParseArgs, ReadsNameAndCommand) {
  const Options options = Parsed({"backup", "--", "rsync", "-a", "--", "x"});
  EXPECT_EQ(options.mode, Mode::kRun);
  EXPECT_EQ(options.name, "backup");
  EXPECT_EQ(options.command, (std::vector<std::string>{"rsync", "-a", "--", "x"}));
  EXPECT_FALSE(options.wait);
  EXPECT_EQ(options.conflict_exit_code, 75);
  EXPECT_EQ(options.slots, 1u);
  EXPECT_EQ(options.grace_ms, kDefaultGraceMs);
}

TEST(ParseArgs, LeavesNameEmptyWhenOnlyACommandIsGiven) {
  const Options options = Parsed({"--", "make", "all"});
  EXPECT_TRUE(options.name.empty());
  EXPECT_EQ(options.command.size(), 2u);
}

TEST(ParseArgs, ReadsWaitWithAndWithoutDuration) {
  EXPECT_EQ(Parsed({"--wait", "n", "--", "x"}).wait_ms, kWaitForever);
  EXPECT_TRUE(Parsed({"--wait", "n", "--", "x"}).wait);
  EXPECT_EQ(Parsed({"--wait=1h30m", "n", "--", "x"}).wait_ms, 5400000);
}

TEST(ParseArgs, HintsAtEqualsSignWhenWaitIsFollowedByADuration) {
  EXPECT_TRUE(Contains(ErrorFor({"--wait", "30s", "n", "--", "x"}), "--wait=30s"));
}

TEST(ParseArgs, RefusesAWaitFollowedByADurationAsAmbiguousEvenWithoutAName) {
  // Without a NAME, "30s" could be taken for the lock's name, and the command
  // would wait forever where a limit was meant.
  const std::string error = ErrorFor({"--wait", "30s", "--", "x"});
  EXPECT_TRUE(Contains(error, "ambiguous")) << error;
  EXPECT_TRUE(Contains(error, "--wait=30s")) << error;
  EXPECT_TRUE(Contains(error, "-w 30s")) << error;
  EXPECT_TRUE(Contains(error, "onlyone 30s --wait -- COMMAND")) << error;
  EXPECT_TRUE(Contains(ErrorFor({"--wait", "30", "--", "x"}), "--wait=30"));
  EXPECT_TRUE(Contains(ErrorFor({"n", "--wait", "0.5", "--", "x"}), "-w 0.5"));
}

TEST(ParseArgs, TakesALockNamedLikeADurationWhenTheNameComesFirst) {
  const Options options = Parsed({"30s", "--wait", "--", "x"});
  EXPECT_EQ(options.name, "30s");
  EXPECT_EQ(options.wait_ms, kWaitForever);
  EXPECT_EQ(Parsed({"--wait", "backup", "--", "x"}).name, "backup");
}

TEST(ParseArgs, ReadsTimeoutAsSecondsWithFractionsAndUnitsLikeFlock) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-w", "0.5", "n", "--", "x"},
                                             {"-w0.5", "n", "--", "x"},
                                             {"--timeout", "0.5", "n", "--", "x"},
                                             {"--timeout=.5", "n", "--", "x"},
                                             {"--wait=0.5", "n", "--", "x"},
                                             {"-w", "500ms", "n", "--", "x"},
                                             {"-vw", "0.5", "n", "--", "x"}}) {
    const Options options = Parsed(args);
    EXPECT_TRUE(options.wait) << args[0];
    EXPECT_EQ(options.wait_ms, 500) << args[0];
  }
  EXPECT_EQ(Parsed({"--timeout", "30", "n", "--", "x"}).wait_ms, 30000);
  EXPECT_EQ(Parsed({"--wait=30", "n", "--", "x"}).wait_ms, 30000);
  EXPECT_EQ(Parsed({"-w", "5m", "n", "--", "x"}).wait_ms, 300000);
  EXPECT_EQ(Parsed({"-w", "0", "n", "--", "x"}).wait_ms, 0);
}

TEST(ParseArgs, RefusesATimeoutWithoutAValidValue) {
  EXPECT_TRUE(Contains(ErrorFor({"n", "-w"}), "-w needs a value"));
  EXPECT_TRUE(Contains(ErrorFor({"-w", "--", "x"}), "-w needs a value"));
  EXPECT_TRUE(Contains(ErrorFor({"--timeout", "soon", "n", "--", "x"}), "--timeout: "));
  EXPECT_TRUE(Contains(ErrorFor({"-w", "-1", "n", "--", "x"}), "negative"));
  EXPECT_TRUE(Contains(ErrorFor({"-w", "0,5", "n", "--", "x"}), "decimal point"));
}

TEST(ParseArgs, LetsNonblockWinOverAnyWaitInEitherOrderLikeFlock) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-n", "-w", "5", "n", "--", "x"},
                                             {"-w", "5", "-n", "n", "--", "x"},
                                             {"--wait", "--nonblock", "n", "--", "x"},
                                             {"--nonblocking", "--wait=5", "n", "--", "x"},
                                             {"--nb", "--timeout", "5", "n", "--", "x"},
                                             {"-nw5", "n", "--", "x"}}) {
    const Options options = Parsed(args);
    EXPECT_TRUE(options.nonblock) << args[0] << " " << args[1];
    EXPECT_FALSE(options.wait) << args[0] << " " << args[1];
  }
  EXPECT_FALSE(Parsed({"-n", "n", "--", "x"}).wait);
  ErrorFor({"--nonblock=1", "n", "--", "x"});
}

TEST(DescribeWaiting, SaysWhatWasUnderstood) {
  EXPECT_EQ(DescribeWaiting(Parsed({"-w", "1.5", "n", "--", "x"}), "n"),
            "waiting up to 1.5s for 'n'");
  EXPECT_EQ(DescribeWaiting(Parsed({"--wait=30", "n", "--", "x"}), "n"),
            "waiting up to 30s for 'n'");
  EXPECT_EQ(DescribeWaiting(Parsed({"--wait", "n", "--", "x"}), "n"),
            "waiting for 'n' with no time limit");
  EXPECT_EQ(DescribeWaiting(Parsed({"n", "--", "x"}), "n"),
            "not waiting for 'n' (no --wait or -w): trying once");
  EXPECT_EQ(DescribeWaiting(Parsed({"-w", "0", "n", "--", "x"}), "n"),
            "not waiting for 'n' (-w 0)");
  EXPECT_EQ(DescribeWaiting(Parsed({"--wait=30", "-n", "n", "--", "x"}), "n"),
            "not waiting for 'n': -n overrides --wait=30");
  EXPECT_EQ(DescribeWaiting(Parsed({"-w5", "--nonblock", "n", "--", "x"}), "n"),
            "not waiting for 'n': -n overrides -w 5");
}

TEST(ParseArgs, ReadsEveryValueOptionInBothSpellings) {
  const Options options = Parsed({"--slots", "3", "--dir=/d", "--grace", "2s", "-E", "3",
                                  "--shared-dir", "--replace", "-v", "n", "--", "x"});
  EXPECT_EQ(options.slots, 3u);
  EXPECT_EQ(options.dir, "/d");
  EXPECT_EQ(options.grace_ms, 2000);
  EXPECT_EQ(options.conflict_exit_code, 3);
  EXPECT_TRUE(options.shared_dir);
  EXPECT_TRUE(options.replace);
  EXPECT_EQ(options.verbosity, Verbosity::kVerbose);
  EXPECT_EQ(Parsed({"-E0", "n", "--", "x"}).conflict_exit_code, 0);
  EXPECT_EQ(Parsed({"--conflict-exit-code=9", "n", "--", "x"}).conflict_exit_code, 9);
  EXPECT_EQ(Parsed({"--slots=7", "n", "--", "x"}).slots, 7u);
}

TEST(ParseArgs, LetsTheLastOfQuietAndVerboseWin) {
  EXPECT_EQ(Parsed({"-vq", "n", "--", "x"}).verbosity, Verbosity::kQuiet);
  EXPECT_EQ(Parsed({"--quiet", "--verbose", "n", "--", "x"}).verbosity, Verbosity::kVerbose);
}

TEST(ParseArgs, AcceptsOptionsAfterTheName) {
  EXPECT_EQ(Parsed({"n", "--slots", "2", "--", "x"}).slots, 2u);
}

TEST(ParseArgs, RefusesOutOfRangeNumbers) {
  EXPECT_TRUE(Contains(ErrorFor({"--slots", "0", "n", "--", "x"}), "1 to 1024"));
  ErrorFor({"--slots", "1025", "n", "--", "x"});
  ErrorFor({"--slots", "-1", "n", "--", "x"});
  ErrorFor({"--slots", "2x", "n", "--", "x"});
  ErrorFor({"-E", "256", "n", "--", "x"});
  ErrorFor({"-E", "", "n", "--", "x"});
  ErrorFor({"--slots", "99999999999999999999", "n", "--", "x"});
}

TEST(ParseArgs, RefusesBadDurationsWithTheParsersReason) {
  EXPECT_TRUE(Contains(ErrorFor({"--wait=30x", "n", "--", "x"}), "unknown unit 'x'"));
  EXPECT_TRUE(Contains(ErrorFor({"--wait=1h30", "n", "--", "x"}), "ambiguous"));
  EXPECT_TRUE(Contains(ErrorFor({"--grace", "soon", "n", "--", "x"}), "--grace"));
}

TEST(ParseArgs, RefusesUnknownOptionsAndPointsAtHelp) {
  EXPECT_TRUE(Contains(ErrorFor({"--frobnicate", "n", "--", "x"}), "--frobnicate"));
  EXPECT_TRUE(Contains(ErrorFor({"-x", "n", "--", "x"}), "--help"));
}

TEST(ParseArgs, RefusesValuesForFlags) {
  ErrorFor({"--replace=yes", "n", "--", "x"});
  ErrorFor({"--quiet=1", "n", "--", "x"});
}

TEST(ParseArgs, RefusesMissingValue) {
  EXPECT_TRUE(Contains(ErrorFor({"n", "--slots"}), "needs a value"));
  EXPECT_TRUE(Contains(ErrorFor({"n", "--dir", "--", "x"}), "needs a value"));
}

TEST(ParseArgs, RefusesACommandWithoutSeparatorAndShowsWhereItGoes) {
  EXPECT_TRUE(Contains(ErrorFor({"backup", "rsync"}), "onlyone [OPTIONS] backup -- COMMAND"));
  ErrorFor({});
  ErrorFor({"n", "--"});
  ErrorFor({"a", "b", "--", "x"});
}

TEST(ParseArgs, ReadsStatusWithAndWithoutName) {
  const Options all = Parsed({"status"});
  EXPECT_EQ(all.mode, Mode::kStatus);
  EXPECT_TRUE(all.name.empty());
  const Options one = Parsed({"--dir", "/d", "status", "--json", "backup"});
  EXPECT_EQ(one.mode, Mode::kStatus);
  EXPECT_EQ(one.name, "backup");
  EXPECT_TRUE(one.json);
  EXPECT_EQ(one.dir, "/d");
  ErrorFor({"status", "a", "b"});
}

TEST(ParseArgs, TreatsStatusBeforeSeparatorAsALockName) {
  const Options options = Parsed({"status", "--", "x"});
  EXPECT_EQ(options.mode, Mode::kRun);
  EXPECT_EQ(options.name, "status");
}

TEST(ParseArgs, RefusesJsonOutsideStatus) { ErrorFor({"--json", "n", "--", "x"}); }

TEST(ParseArgs, AnswersHelpAndVersionWhateverElseIsThere) {
  EXPECT_EQ(Parsed({"--help"}).mode, Mode::kHelp);
  EXPECT_EQ(Parsed({"-h", "n"}).mode, Mode::kHelp);
  EXPECT_EQ(Parsed({"--version"}).mode, Mode::kVersion);
  EXPECT_EQ(Parsed({"-V"}).mode, Mode::kVersion);
}

TEST(ParseArgs, DoesNotReadOptionsAfterTheSeparator) {
  const Options options = Parsed({"n", "--", "ls", "--help", "-v"});
  EXPECT_EQ(options.mode, Mode::kRun);
  EXPECT_EQ(options.verbosity, Verbosity::kNormal);
}

TEST(ChooseLockDirectory, PrefersFlagThenEnvironment) {
  EXPECT_EQ(ChooseLockDirectory("/flag", "/env"), "/flag");
  EXPECT_EQ(ChooseLockDirectory("", "/env"), "/env");
  EXPECT_EQ(ChooseLockDirectory("", ""), "");
  EXPECT_EQ(ChooseLockDirectory("", nullptr), "");
}

TEST(UsageText, MentionsEveryOption) {
  const std::string usage = UsageText();
  for (const char* option :
       {"-w, --timeout SECONDS", "-n, --nonblock", "--wait", "--conflict-exit-code", "--slots",
        "--dir", "--shared-dir", "--replace", "--grace", "--json", "--verbose", "--quiet", "--help",
        "--version", "ONLYONE_FENCE", "ONLYONE_NAME"}) {
    EXPECT_TRUE(Contains(usage, option)) << option;
  }
}

TEST(UsageText, FitsAnEightyColumnTerminal) {
  const std::string usage = UsageText();
  size_t start = 0;
  while (start < usage.size()) {
    const size_t end = usage.find('\n', start);
    const std::string line = usage.substr(start, end - start);
    EXPECT_LE(line.size(), 80u) << line;
    start = end + 1;
  }
}

TEST(ParseArgs, ReadsTheZooKeeperOptions) {
  const Options options = Parsed({"--zk", "zk1:2181,zk2:2181/app", "--zk-path=/a/b",
                                  "--zk-session-timeout", "20s", "n", "--", "x"});
  EXPECT_EQ(options.zk, "zk1:2181,zk2:2181/app");
  EXPECT_EQ(options.zk_path, "/a/b");
  EXPECT_EQ(options.zk_session_timeout_ms, 20000);
  EXPECT_FALSE(options.grace_given);
  EXPECT_TRUE(Parsed({"--grace", "1s", "n", "--", "x"}).grace_given);
}

TEST(ParseArgs, RefusesEmptyOrRelativeZooKeeperValues) {
  EXPECT_TRUE(Contains(ErrorFor({"--zk", "", "n", "--", "x"}), "connect string"));
  EXPECT_TRUE(Contains(ErrorFor({"--zk-path", "a/b", "n", "--", "x"}), "absolute"));
  EXPECT_TRUE(Contains(ErrorFor({"--zk-path", "/", "n", "--", "x"}), "absolute"));
  EXPECT_TRUE(Contains(ErrorFor({"--zk-session-timeout", "0s", "n", "--", "x"}), "longer than 0"));
  EXPECT_TRUE(
      Contains(ErrorFor({"--zk-session-timeout", "30x", "n", "--", "x"}), "--zk-session-timeout"));
  EXPECT_EQ(Parsed({"--zk-session-timeout", "12.5", "n", "--", "x"}).zk_session_timeout_ms, 12500);
}

TEST(ChooseZkConnect, PrefersTheFlagThenOnlyoneZkThenZkhosts) {
  EXPECT_EQ(ChooseZkConnect("flag:1", "env:2", "hosts:3"), "flag:1");
  EXPECT_EQ(ChooseZkConnect("", "env:2", "hosts:3"), "env:2");
  EXPECT_EQ(ChooseZkConnect("", "", "hosts:3"), "hosts:3");
  EXPECT_EQ(ChooseZkConnect("", nullptr, nullptr), "");
}

}  // namespace
}  // namespace cli
}  // namespace onlyone
