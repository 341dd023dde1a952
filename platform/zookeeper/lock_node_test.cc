#include "platform/zookeeper/lock_node.h"

#include <gtest/gtest.h>

namespace onlyone {
namespace zookeeper {
namespace {

const std::string kUuid = "0123456789abcdef0123456789abcdef";

std::vector<std::string> Names(const std::vector<LockNode>& nodes) {
  std::vector<std::string> names;
  for (const LockNode& node : nodes) names.push_back(node.name);
  return names;
}

TEST(LockNode, OwnPrefixIsKazoosScheme) { EXPECT_EQ(OwnNodePrefix(kUuid), kUuid + "__lock__"); }

TEST(LockNode, ParsesOursAndKazoosLockNodes) {
  LockNode node;
  ASSERT_TRUE(ParseLockNode(kUuid + "__lock__0000000042", &node));
  EXPECT_EQ(node.kind, NodeKind::kLock);
  EXPECT_EQ(node.sequence, 42);
  EXPECT_EQ(node.sequence_text, "0000000042");
}

TEST(LockNode, ParsesKazooReadLockAndCuratorNodes) {
  LockNode node;
  ASSERT_TRUE(ParseLockNode(kUuid + "__rlock__0000000007", &node));
  EXPECT_EQ(node.kind, NodeKind::kReadLock);
  ASSERT_TRUE(ParseLockNode("_c_a1b2c3d4-0000-1111-2222-333344445555-lock-0000000003", &node));
  EXPECT_EQ(node.kind, NodeKind::kCurator);
  EXPECT_EQ(node.sequence, 3);
  EXPECT_EQ(node.sequence_text, "0000000003");
}

TEST(LockNode, ParsesAnOverflowedNegativeSequence) {
  LockNode node;
  ASSERT_TRUE(ParseLockNode(kUuid + "__lock__-2147483647", &node));
  EXPECT_EQ(node.sequence, -2147483647);
  EXPECT_EQ(node.sequence_text, "-2147483647");
}

TEST(LockNode, IgnoresNodesThatAreNotContenders) {
  LockNode node;
  for (const std::string& name :
       {std::string("lease_holder"), std::string("__lock__123"), kUuid + "__lock__00000000x1",
        kUuid + "__lease__0000000001", std::string("0000000001"), std::string("")}) {
    EXPECT_FALSE(ParseLockNode(name, &node)) << name;
  }
}

TEST(LockNode, SortsBySequenceAcrossNamingSchemes) {
  const std::vector<std::string> children = {
      "ffff__lock__0000000005", "_c_x-lock-0000000002",    "not-a-contender",
      "aaaa__lock__0000000009", "bbbb__rlock__0000000001",
  };
  EXPECT_EQ(Names(SortContenders(children)),
            (std::vector<std::string>{"bbbb__rlock__0000000001", "_c_x-lock-0000000002",
                                      "ffff__lock__0000000005", "aaaa__lock__0000000009"}));
}

TEST(LockNode, FirstContenderHoldsOneSlot) {
  const auto contenders = SortContenders({"a__lock__0000000001", "b__lock__0000000002"});
  EXPECT_TRUE(FindPlace(contenders, "a__lock__0000000001", 1).holding);
  const QueuePlace second = FindPlace(contenders, "b__lock__0000000002", 1);
  EXPECT_TRUE(second.found);
  EXPECT_FALSE(second.holding);
  EXPECT_EQ(second.index, 1u);
}

TEST(LockNode, AWaiterWatchesOnlyTheNodeJustAheadWithOneSlot) {
  const auto contenders = SortContenders(
      {"a__lock__0000000001", "b__lock__0000000002", "c__lock__0000000003", "d__lock__0000000004"});
  EXPECT_EQ(FindPlace(contenders, "d__lock__0000000004", 1).watch,
            (std::vector<std::string>{"c__lock__0000000003"}));
  EXPECT_TRUE(FindPlace(contenders, "a__lock__0000000001", 1).watch.empty());
}

TEST(LockNode, AWaiterWatchesTheSlotsNodesAheadWithSeveralSlots) {
  const auto contenders = SortContenders(
      {"a__lock__0000000001", "b__lock__0000000002", "c__lock__0000000003", "d__lock__0000000004"});
  EXPECT_TRUE(FindPlace(contenders, "b__lock__0000000002", 2).holding);
  // The first waiter must hear from both holders: either leaving lets it in.
  EXPECT_EQ(FindPlace(contenders, "c__lock__0000000003", 2).watch,
            (std::vector<std::string>{"a__lock__0000000001", "b__lock__0000000002"}));
  EXPECT_EQ(FindPlace(contenders, "d__lock__0000000004", 2).watch,
            (std::vector<std::string>{"b__lock__0000000002", "c__lock__0000000003"}));
}

TEST(LockNode, ReportsANodeThatIsNotInTheListing) {
  const auto contenders = SortContenders({"a__lock__0000000001"});
  EXPECT_FALSE(FindPlace(contenders, "gone__lock__0000000002", 1).found);
}

}  // namespace
}  // namespace zookeeper
}  // namespace onlyone
