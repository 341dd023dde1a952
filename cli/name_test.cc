#include "cli/name.h"

#include <gtest/gtest.h>

namespace onlyone {
namespace cli {
namespace {

TEST(DeriveLockName, IsStableAcrossRunsAndVersions) {
  // Pinned (computed independently in Python): changing the derivation would
  // let two versions of onlyone run the same cron job at once.
  EXPECT_EQ(DeriveLockName({"make", "all"}), "cmd-make-4daf70f80dec397b");
  EXPECT_EQ(DeriveLockName({"a", "b c"}), "cmd-a-3df6c5df049dbb57");
  EXPECT_EQ(DeriveLockName({"a", "b", "c"}), "cmd-a-7dca9e2a4cc8f522");
}

TEST(DeriveLockName, DistinguishesQuoting) {
  EXPECT_NE(DeriveLockName({"a", "b c"}), DeriveLockName({"a", "b", "c"}));
  EXPECT_NE(DeriveLockName({"a", "b c"}), DeriveLockName({"a b", "c"}));
  EXPECT_NE(DeriveLockName({"a", ""}), DeriveLockName({"a"}));
  EXPECT_NE(DeriveLockName({"ab"}), DeriveLockName({"a", "b"}));
}

TEST(DeriveLockName, UsesTheProgramsBasenameAsAReadablePrefix) {
  const std::string name = DeriveLockName({"/usr/bin/rsync", "-a"});
  EXPECT_EQ(name.substr(0, 10), "cmd-rsync-");
  EXPECT_EQ(name.size(), 10u + 16u);
}

TEST(DeriveLockName, ProducesOnlyPortableCharacters) {
  const std::string name = DeriveLockName({"../we ird\n$(x)", "y"});
  for (char c : name) {
    EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                c == '+')
        << name;
  }
  EXPECT_NE(name.substr(0, 5), "cmd-.");
}

TEST(DeriveLockName, LimitsThePrefix) {
  const std::string name = DeriveLockName({std::string(200, 'x')});
  EXPECT_EQ(name.size(), 4 + kDerivedPrefixBytesMax + 1 + 16);
}

TEST(DeriveLockName, NeverStartsWithADot) {
  EXPECT_EQ(DeriveLockName({".."}).substr(0, 6), "cmd-_.");
  EXPECT_EQ(DeriveLockName({"/"}).substr(0, 4), "cmd-");
  EXPECT_EQ(DeriveLockName({"/"}).size(), 4u + 16u);
}

TEST(HashArgv, MatchesTheDocumentedDefinition) {
  // FNV-1a 64 over: length as 8 little-endian bytes, then the bytes.
  uint64_t hash = 14695981039346656037ull;
  const unsigned char bytes[] = {1, 0, 0, 0, 0, 0, 0, 0, 'x'};
  for (unsigned char b : bytes) {
    hash ^= b;
    hash *= 1099511628211ull;
  }
  EXPECT_EQ(HashArgv({"x"}), hash);
}

TEST(SummarizeCommand, QuotesWordsThatNeedIt) {
  EXPECT_EQ(SummarizeCommand({"make", "all"}, 96), "make all");
  EXPECT_EQ(SummarizeCommand({"a", "b c"}, 96), "a 'b c'");
  EXPECT_EQ(SummarizeCommand({"echo", "it's"}, 96), "echo 'it'\\''s'");
  EXPECT_EQ(SummarizeCommand({"x", ""}, 96), "x ''");
}

TEST(SummarizeCommand, ReplacesControlCharacters) {
  EXPECT_EQ(SummarizeCommand({"a\nb"}, 96), "'a?b'");
}

TEST(SummarizeCommand, TruncatesWithoutSplittingUtf8) {
  const std::string summary = SummarizeCommand({std::string(100, 'x')}, 20);
  EXPECT_EQ(summary, std::string(17, 'x') + "...");
  // "'" + 15 x + "é" puts the cut (byte 17) inside the two bytes of "é":
  // it must back up to before the "é".
  const std::string accented = SummarizeCommand({std::string(15, 'x') + "\xC3\xA9\xC3\xA9"}, 20);
  EXPECT_EQ(accented, "'" + std::string(15, 'x') + "...");
}

}  // namespace
}  // namespace cli
}  // namespace onlyone
