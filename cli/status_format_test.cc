#include "cli/status_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace onlyone {
namespace cli {
namespace {

constexpr uint64_t kNowMs = 1795388101000;  // 2026-11-22T22:55:01Z

Holder HolderOf(uint32_t pid, const std::string& host, const std::string& command,
                uint64_t since_ms) {
  Holder holder;
  holder.pid = pid;
  holder.host = host;
  holder.command = command;
  holder.since_ms = since_ms;
  holder.ticket = 7;
  holder.holding = true;
  holder.alive_known = true;
  holder.alive = true;
  return holder;
}

// A local lock's listing: its entries, no ZooKeeper nodes.
LockListing Listing(const std::string& name, std::vector<Holder> entries = {}) {
  return LockListing{name, std::move(entries), {}};
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
  EXPECT_EQ(JsonString(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(JsonString(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonString("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(JsonString("\xF0\x9F\x94\x92"), "\"\xF0\x9F\x94\x92\"");
  EXPECT_EQ(JsonString("\xFF"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("\xC3"), "\"\xEF\xBF\xBD\"");                                  // truncated
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

TEST(FormatUtcTime, WritesIso8601) { EXPECT_EQ(FormatUtcTime(kNowMs), "2026-11-22T22:55:01Z"); }

TEST(ConflictLine, NamesPidCommandAndSince) {
  BackendStatus status;
  status.error = BackendError::kBusy;
  status.has_holder = true;
  status.holder = HolderOf(4242, "here", "make all", kNowMs - 192000);
  EXPECT_EQ(ConflictLine("build", status, "here", kNowMs),
            "onlyone: 'build' is held by pid 4242 (make all) since 2026-11-22T22:51:49Z, "
            "3m12s ago");
}

TEST(ConflictLine, SaysAllSlotsAreTaken) {
  BackendStatus status;
  status.has_holder = true;
  status.holder = HolderOf(7, "here", "x", kNowMs);
  status.holder.slots = 3;
  EXPECT_TRUE(Contains(ConflictLine("n", status, "here", kNowMs),
                       "onlyone: 'n' is held (all 3 slots) by pid 7 (x)"));
}

TEST(ConflictLine, NamesTheHostWhenItIsAnotherOne) {
  BackendStatus status;
  status.has_holder = true;
  status.holder = HolderOf(7, "far", "x", kNowMs);
  EXPECT_TRUE(Contains(ConflictLine("n", status, "here", kNowMs), "pid 7 on far (x)"));
}

TEST(ConflictLine, FallsBackToTheLibraryMessageWithoutAHolder) {
  BackendStatus status;
  status.message = "held by 2 others";
  EXPECT_EQ(ConflictLine("n", status, "here", kNowMs), "onlyone: 'n' is held: held by 2 others");
}

// Found by //fuzz:status_format (corpus files c1_csi_raw, c1_csi_utf8,
// invalid_utf8): C1 controls passed through, and 0x9B is CSI to an 8-bit
// terminal, U+009B to a terminal that honours C1 in UTF-8.
TEST(DescribeHolder, NeutralizesC1ControlsAndBytesThatAreNotUtf8) {
  const Holder holder = HolderOf(5,
                                 "a\x9b"
                                 "2Jb",
                                 "c\xc2\x9b"
                                 "31md \xff\xfe caf\xc3\xa9",
                                 kNowMs);
  const std::string text = DescribeHolder(holder, "here", kNowMs);
  EXPECT_TRUE(Contains(text, "pid 5 on a?2Jb (c?31md ?? caf\xc3\xa9)")) << text;
}

// Found by //fuzz:status_format (corpus file long_lock_names): rows went
// through a 160-byte buffer, so a long lock name lost its row's line end.
TEST(FormatStatusText, KeepsOneLinePerEntryForTheLongestLockNames) {
  const std::string longest(255, 'n');  // NAME_MAX
  const Holder holder = HolderOf(5, std::string(64, 'h'), std::string(96, 'c'), kNowMs);
  const std::string table =
      FormatStatusText({Listing(longest), Listing(longest, {holder})}, "here", kNowMs);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4) << table;
  EXPECT_TRUE(Contains(table, longest + " free    \n")) << table;
  EXPECT_TRUE(Contains(table, std::string(96, 'c') + "\n")) << table;
}

TEST(DescribeHolder, NeutralizesTerminalEscapesFromOtherUsersRecords) {
  const Holder holder = HolderOf(5, "evil\x1b]0;x\x07", "rm\x1b[2J -rf", kNowMs);
  const std::string text = DescribeHolder(holder, "here", kNowMs);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_TRUE(Contains(text, "(rm?[2J -rf)")) << text;
  const std::string table = FormatStatusText({Listing("n", {holder})}, "here", kNowMs);
  EXPECT_EQ(table.find('\x1b'), std::string::npos) << table;
}

TEST(WaitingLine, SaysHowLongAndWho) {
  const Holder holder = HolderOf(9, "here", "sleep 60", kNowMs - 5000);
  EXPECT_EQ(WaitingLine("n", &holder, 12000, "here", kNowMs),
            "onlyone: waiting 12s for 'n', held by pid 9 (sleep 60) since 2026-11-22T22:54:56Z, "
            "5s ago");
  EXPECT_EQ(WaitingLine("n", nullptr, 500, "here", kNowMs), "onlyone: waiting 500ms for 'n'");
}

TEST(EntryStateName, MarksDeadChoosingWaitingAndHolding) {
  Holder holder = HolderOf(1, "h", "c", kNowMs);
  EXPECT_STREQ(EntryStateName(holder), "holding");
  holder.holding = false;
  EXPECT_STREQ(EntryStateName(holder), "waiting");
  holder.ticket = 0;
  EXPECT_STREQ(EntryStateName(holder), "choosing");
  holder.alive = false;
  EXPECT_STREQ(EntryStateName(holder), "dead");
  holder.alive_known = false;  // unknown counts as alive
  EXPECT_STREQ(EntryStateName(holder), "choosing");
}

TEST(FormatStatusText, ListsEveryEntryWithItsState) {
  Holder waiter = HolderOf(20, "far", "job", kNowMs);
  waiter.holding = false;
  waiter.alive_known = false;
  const std::vector<LockListing> locks = {
      Listing("build", {HolderOf(10, "here", "make all", kNowMs - 60000), waiter}),
      Listing("idle")};
  const std::string text = FormatStatusText(locks, "here", kNowMs);
  EXPECT_TRUE(Contains(text, "LOCK")) << text;
  EXPECT_TRUE(Contains(text, "holding")) << text;
  EXPECT_TRUE(Contains(text, "make all")) << text;
  EXPECT_TRUE(Contains(text, "waiting")) << text;
  EXPECT_TRUE(Contains(text, "far?")) << text;
  EXPECT_TRUE(Contains(text, "idle")) << text;
  EXPECT_TRUE(Contains(text, "free")) << text;
  EXPECT_EQ(FormatStatusText({}, "here", kNowMs), "no locks\n");
}

TEST(FormatStatusJson, WritesEveryFieldWithEscapedStrings) {
  Holder dead = HolderOf(11, "h\"x", "echo \"hi\"\n", kNowMs);
  dead.alive = false;
  const std::string json = FormatStatusJson("/run/o", {Listing("a", {dead}), Listing("b")});
  EXPECT_EQ(json,
            "{\"dir\": \"/run/o\", \"locks\": [{\"name\": \"a\", \"entries\": [{\"state\": "
            "\"dead\", \"pid\": 11, \"host\": \"h\\\"x\", \"command\": \"echo \\\"hi\\\"\\n\", "
            "\"since_ms\": 1795388101000, \"since\": \"2026-11-22T22:55:01Z\", \"ticket\": 7, "
            "\"slots\": 1, \"holding\": true, \"alive\": false, \"owner_gone\": false, "
            "\"job_pids\": []}]}, {\"name\": \"b\", "
            "\"entries\": []}]}\n");
}

TEST(FormatStatusJson, WritesNullForUnknownLivenessAndMissingTime) {
  Holder unknown = HolderOf(3, "far", "x", 0);
  unknown.alive_known = false;
  const std::string json = FormatStatusJson("/d", {Listing("a", {unknown})});
  EXPECT_TRUE(Contains(json, "\"alive\": null")) << json;
  EXPECT_TRUE(Contains(json, "\"since\": null")) << json;
}

TEST(FormatStatus, NamesTheJobProcessesThatHoldTheLockOfAGoneOwner) {
  Holder gone = HolderOf(4242, "here", "backup", kNowMs - 60000);
  gone.owner_gone = true;
  gone.job_pids = {4250, 4251};
  const std::string text = FormatStatusText({Listing("b", {gone})}, "here", kNowMs);
  EXPECT_TRUE(
      Contains(text, "\n  pid 4242 is gone; its job's processes still hold the lock: 4250, 4251\n"))
      << text;
  const std::string json = FormatStatusJson("/d", {Listing("b", {gone})});
  EXPECT_TRUE(Contains(json, "\"owner_gone\": true, \"job_pids\": [4250, 4251]")) << json;
  BackendStatus busy;
  busy.error = BackendError::kBusy;
  busy.has_holder = true;
  busy.holder = gone;
  EXPECT_TRUE(Contains(ConflictLine("b", busy, "here", kNowMs),
                       "1m ago; pid 4242 is gone; its job's processes still hold the lock: "
                       "4250, 4251"))
      << ConflictLine("b", busy, "here", kNowMs);
}

TEST(FormatZkStatusJson, AddsTheEnsembleAndEachEntrysNode) {
  LockListing listing{"a", {HolderOf(11, "h", "x", kNowMs)}, {}};
  listing.zk_nodes.push_back(ZkNodeFields{"0123__lock__0000000004", 77, "kazoo"});
  const std::string json = FormatZkStatusJson("zk1:2181/app", "/onlyone/locks", {listing});
  EXPECT_TRUE(
      Contains(json, "{\"zk\": \"zk1:2181/app\", \"root\": \"/onlyone/locks\", \"locks\": ["))
      << json;
  EXPECT_TRUE(
      Contains(json, "\"node\": \"0123__lock__0000000004\", \"czxid\": 77, \"owner\": \"kazoo\"}"))
      << json;
}

}  // namespace
}  // namespace cli
}  // namespace onlyone
