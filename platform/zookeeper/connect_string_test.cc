#include "platform/zookeeper/connect_string.h"

#include <gtest/gtest.h>

namespace onlyone {
namespace zookeeper {
namespace {

ConnectString MustParse(const std::string& text) {
  ConnectString parsed;
  const ConnectStringResult result = ParseConnectString(text, &parsed);
  EXPECT_EQ(result.error, ConnectStringError::kNone) << text << ": " << result.message;
  return parsed;
}

ConnectStringError ErrorOf(const std::string& text) {
  ConnectString parsed;
  const ConnectStringResult result = ParseConnectString(text, &parsed);
  if (result.error != ConnectStringError::kNone) {
    EXPECT_FALSE(result.message.empty()) << text;
  }
  return result.error;
}

TEST(ConnectString, ParsesOneHostAndPort) {
  const ConnectString parsed = MustParse("zk1:2182");
  ASSERT_EQ(parsed.endpoints.size(), 1u);
  EXPECT_EQ(parsed.endpoints[0].host, "zk1");
  EXPECT_EQ(parsed.endpoints[0].port, 2182);
  EXPECT_EQ(parsed.chroot, "");
}

TEST(ConnectString, ParsesSeveralHostsAndAChroot) {
  const ConnectString parsed = MustParse("10.0.0.1:2181,zk-2.example.com:3000/app/locks");
  ASSERT_EQ(parsed.endpoints.size(), 2u);
  EXPECT_EQ(parsed.endpoints[0].host, "10.0.0.1");
  EXPECT_EQ(parsed.endpoints[1].host, "zk-2.example.com");
  EXPECT_EQ(parsed.endpoints[1].port, 3000);
  EXPECT_EQ(parsed.chroot, "/app/locks");
}

TEST(ConnectString, DefaultsThePortTo2181LikeTheJavaClient) {
  EXPECT_EQ(MustParse("zk1").endpoints[0].port, kDefaultClientPort);
}

TEST(ConnectString, ParsesBracketedIpv6) {
  const ConnectString parsed = MustParse("[::1]:2181,[fe80::1%eth0]");
  ASSERT_EQ(parsed.endpoints.size(), 2u);
  EXPECT_EQ(parsed.endpoints[0].host, "::1");
  EXPECT_EQ(parsed.endpoints[1].host, "fe80::1%eth0");
  EXPECT_EQ(parsed.endpoints[1].port, kDefaultClientPort);
}

TEST(ConnectString, TreatsARootChrootAsNone) { EXPECT_EQ(MustParse("zk1:2181/").chroot, ""); }

TEST(ConnectString, FormatsWhatItParsesAndParsesBackTheSame) {
  for (const char* text : {"zk1:2181", "a:1,b:2/x", "[::1]:2181/a/b", "zk1"}) {
    const ConnectString parsed = MustParse(text);
    const std::string formatted = FormatConnectString(parsed);
    const ConnectString again = MustParse(formatted);
    EXPECT_EQ(FormatConnectString(again), formatted) << text;
    ASSERT_EQ(again.endpoints.size(), parsed.endpoints.size());
    EXPECT_EQ(again.chroot, parsed.chroot);
  }
  EXPECT_EQ(FormatConnectString(MustParse("zk1")), "zk1:2181");
}

TEST(ConnectString, RefusesEmptyInput) {
  EXPECT_EQ(ErrorOf(""), ConnectStringError::kEmpty);
  EXPECT_EQ(ErrorOf("/chroot"), ConnectStringError::kEmpty);
}

TEST(ConnectString, RefusesEmptyHosts) {
  EXPECT_EQ(ErrorOf("a:1,,b:2"), ConnectStringError::kEmptyHost);
  EXPECT_EQ(ErrorOf("a:1,"), ConnectStringError::kEmptyHost);
  EXPECT_EQ(ErrorOf(":2181"), ConnectStringError::kEmptyHost);
  EXPECT_EQ(ErrorOf("[]:2181"), ConnectStringError::kEmptyHost);
}

TEST(ConnectString, RefusesBadPorts) {
  for (const char* text :
       {"a:", "a:0", "a:65536", "a:99999", "a:-1", "a:+1", "a:01", "a:12x", "a:123456"}) {
    EXPECT_EQ(ErrorOf(text), ConnectStringError::kBadPort) << text;
  }
  EXPECT_EQ(MustParse("a:65535").endpoints[0].port, 65535);
}

TEST(ConnectString, RefusesCharactersNoHostHas) {
  EXPECT_EQ(ErrorOf("a b:1"), ConnectStringError::kBadHost);
  EXPECT_EQ(ErrorOf("a@b:1"), ConnectStringError::kBadHost);
  EXPECT_EQ(ErrorOf("::1:2181"), ConnectStringError::kBadHost);
  EXPECT_EQ(ErrorOf("[zz::1]:1"), ConnectStringError::kBadHost);
  EXPECT_EQ(ErrorOf(std::string(kHostBytesMax + 1, 'a') + ":1"), ConnectStringError::kBadHost);
}

TEST(ConnectString, RefusesAnUnclosedBracket) {
  EXPECT_EQ(ErrorOf("[::1:2181"), ConnectStringError::kBadBracket);
  EXPECT_EQ(ErrorOf("[::1]2181"), ConnectStringError::kBadBracket);
}

TEST(ConnectString, RefusesBadChroots) {
  for (const char* text : {"a:1/x/", "a:1//x", "a:1/x//y", "a:1/x/./y", "a:1/..", "a:1/x\ty"}) {
    EXPECT_EQ(ErrorOf(text), ConnectStringError::kBadChroot) << text;
  }
}

TEST(ConnectString, RefusesTooManyHostsAndTooLongText) {
  std::string many;
  for (size_t i = 0; i <= kEndpointsMax; ++i) many += (i ? ",h:1" : "h:1");
  EXPECT_EQ(ErrorOf(many), ConnectStringError::kTooManyHosts);
  EXPECT_EQ(ErrorOf(std::string(kConnectStringBytesMax + 1, 'a')), ConnectStringError::kTooLong);
}

TEST(ConnectString, ReportsWhereTheProblemIs) {
  ConnectString parsed;
  EXPECT_EQ(ParseConnectString("good:1,b@d:2", &parsed).offset, 8u);
  EXPECT_EQ(ParseConnectString("a:1/x//", &parsed).offset, 3u);
}

// Regression (found by //fuzz:connect_string_fuzzer): messages quoted the
// input raw, so a newline split the one-line error and an escape sequence
// reached the terminal.
TEST(ConnectString, QuotesControlBytesOfTheInputAsHexInItsMessages) {
  for (const std::string& text :
       {std::string("zk\n1:2181"), std::string("zk1:21\x1b[31m81"), std::string("[::1\r]:2181"),
        std::string("zk1:2181/a\x7f\\b"), std::string("zk1\xc2\xa0:2181")}) {
    ConnectString parsed;
    const ConnectStringResult result = ParseConnectString(text, &parsed);
    ASSERT_NE(result.error, ConnectStringError::kNone) << text;
    for (char c : result.message) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f)
          << "byte " << static_cast<int>(static_cast<unsigned char>(c))
          << " in: " << result.message;
    }
  }
  ConnectString parsed;
  EXPECT_EQ(ParseConnectString("zk\n1:2181", &parsed).message,
            "'zk\\x0a1' is not a host name or address (unexpected '\\x0a')");
}

// Regression (found by //fuzz:connect_string_fuzzer): "[%nA]" parsed as an
// IPv6 host "%nA", which formats back without brackets and then fails to
// parse: the C client would have been given a host we never checked.
TEST(ConnectString, RefusesBracketsAroundWhatIsNotAnIpv6Address) {
  EXPECT_EQ(ErrorOf("[%nA]"), ConnectStringError::kBadHost);
  EXPECT_EQ(ErrorOf("[1.2.3.4]:2181"), ConnectStringError::kBadHost);
  EXPECT_EQ(ErrorOf("[fe80::1%]:2181"), ConnectStringError::kBadHost);
  EXPECT_EQ(MustParse("[fe80::1%eth0]:2181").endpoints[0].host, "fe80::1%eth0");
}

TEST(ZnodePath, AcceptsAbsolutePathsAndTheRoot) {
  EXPECT_EQ(ValidateZnodePath("/"), "");
  EXPECT_EQ(ValidateZnodePath("/onlyone/locks/backup"), "");
  EXPECT_EQ(ValidateZnodePath("/a.b/c..d/..e"), "");
}

TEST(ZnodePath, RefusesWhatZooKeeperRefuses) {
  for (const char* path : {"", "relative", "/a/", "/a//b", "/./a", "/a/..", "/a\x01"}) {
    EXPECT_NE(ValidateZnodePath(path), "") << path;
  }
  EXPECT_NE(ValidateZnodePath("/" + std::string(kPathBytesMax, 'a')), "");
}

}  // namespace
}  // namespace zookeeper
}  // namespace onlyone
