// Tests of the owner record and fence codecs (core/record.h): version 1
// (full) first, then version 2 (compact) at the end.
//
// The codec's promise is strictness: the parser accepts exactly what the
// encoder writes, so parse(encode(r)) == r and encode(parse(t)) == t, and
// anything else (truncation, non-canonical numbers, foreign text, newer
// versions) is an error and never a misread owner.
#include "core/record.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <stdint.h>

#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace onlyone {

// For rapidcheck's counterexamples (found by argument-dependent lookup).
void showValue(const OwnerRecord& record, std::ostream& os) {
  RecordText text;
  if (EncodeRecord(record, &text)) {
    os << std::string(text.data, text.size);
  } else {
    os << "<unencodable record, slots=" << record.slots << ">";
  }
}

namespace {

Bytes ViewOf(const std::string& text) {
  return Bytes{text.data(), static_cast<uint32_t>(text.size())};
}

std::string StringOf(Bytes bytes) { return std::string(bytes.data, bytes.size); }

template <uint32_t kCapacityBytes>
void AssignOrDie(FixedBytes<kCapacityBytes>* out, const std::string& text) {
  ASSERT_TRUE(out->Assign(ViewOf(text))) << "test text does not fit: " << text;
}

// A waiting record with every field set to a value that exercises its
// encoding: letters in both hex ids, multi-digit numbers, escapes in host and
// command.
OwnerRecord FullRecord() {
  OwnerRecord record;
  record.state = EntryState::kWaiting;
  record.ticket = 7;
  record.slots = 3;
  record.owner.nonce = Id128{0x0123456789abcdefull, 0xfedcba9876543210ull};
  record.owner.pid = 4242;
  record.owner.start_time = 123456;
  record.owner.boot_id = Id128{0xa1b2c3d4e5f60718ull, 0x293a4b5c6d7e8f90ull};
  record.owner.pid_namespace = 4026531836ull;
  record.owner.host.Assign(View("build-3"));
  record.owner.command.Assign(View("make all"));
  record.since_ms = 1700000000000ull;
  record.refreshed_ms = 1700000000123ull;
  return record;
}

// The encoding of FullRecord(), spelled out: the documented format.
const char kFullRecordText[] =
    "onlyone1;state=waiting;ticket=7;slots=3;nonce=0123456789abcdeffedcba9876543210;"
    "pid=4242;start=123456;boot=a1b2c3d4e5f60718293a4b5c6d7e8f90;pidns=4026531836;"
    "host=build-3;since=1700000000000;seen=1700000000123;cmd=make%20all;end";

::testing::AssertionResult SameRecord(const OwnerRecord& a, const OwnerRecord& b) {
  auto fail = [](const char* field) {
    return ::testing::AssertionFailure() << "records differ in " << field;
  };
  if (a.state != b.state) return fail("state");
  if (a.ticket != b.ticket) return fail("ticket");
  if (a.slots != b.slots) return fail("slots");
  if (a.owner.nonce != b.owner.nonce) return fail("nonce");
  if (a.owner.pid != b.owner.pid) return fail("pid");
  if (a.owner.start_time != b.owner.start_time) return fail("start");
  if (a.owner.boot_id != b.owner.boot_id) return fail("boot");
  if (a.owner.pid_namespace != b.owner.pid_namespace) return fail("pidns");
  if (!Equal(a.owner.host.view(), b.owner.host.view())) return fail("host");
  if (!Equal(a.owner.command.view(), b.owner.command.view())) return fail("cmd");
  if (a.since_ms != b.since_ms) return fail("since");
  if (a.refreshed_ms != b.refreshed_ms) return fail("seen");
  return ::testing::AssertionSuccess();
}

bool Same(const OwnerRecord& a, const OwnerRecord& b) {
  return static_cast<bool>(SameRecord(a, b));
}

std::string Encode(const OwnerRecord& record) {
  RecordText text;
  EXPECT_TRUE(EncodeRecord(record, &text));
  return StringOf(text.view());
}

ParseError ParseErrorOf(const std::string& text) {
  OwnerRecord record;
  return ParseRecord(ViewOf(text), &record).error;
}

// `text` with the first occurrence of `from` replaced by `to`; the test fails
// if `from` is not there (so a typo cannot make a rejection test vacuous).
std::string Replace(const std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in " << text;
  if (at == std::string::npos) return text;
  return text.substr(0, at) + to + text.substr(at + from.size());
}

// ---------------------------------------------------------------------------
// Round trips.

TEST(RecordCodec, EncodesTheDocumentedFormat) { EXPECT_EQ(Encode(FullRecord()), kFullRecordText); }

TEST(RecordCodec, RoundTripsARecordWithEveryFieldSet) {
  const OwnerRecord original = FullRecord();
  const std::string text = Encode(original);
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(ViewOf(text), &parsed);
  ASSERT_EQ(result.error, ParseError::kNone)
      << ParseErrorName(result.error) << " at " << result.offset << " in " << text;
  EXPECT_TRUE(SameRecord(parsed, original));
}

TEST(RecordCodec, RoundTripsAChoosingRecordWithTicketZero) {
  OwnerRecord original = FullRecord();
  original.state = EntryState::kChoosing;
  original.ticket = 0;
  const std::string text = Encode(original);
  EXPECT_NE(text.find(";state=choosing;ticket=0;"), std::string::npos) << text;
  OwnerRecord parsed;
  ASSERT_EQ(ParseRecord(ViewOf(text), &parsed).error, ParseError::kNone) << text;
  EXPECT_EQ(parsed.state, EntryState::kChoosing);
  EXPECT_TRUE(SameRecord(parsed, original));
}

TEST(RecordCodec, DistinguishesChoosingFromWaiting) {
  OwnerRecord choosing = FullRecord();
  choosing.state = EntryState::kChoosing;
  choosing.ticket = 0;
  OwnerRecord parsed;
  ASSERT_EQ(ParseRecord(ViewOf(Encode(choosing)), &parsed).error, ParseError::kNone);
  EXPECT_EQ(parsed.state, EntryState::kChoosing);
  ASSERT_EQ(ParseRecord(ViewOf(Encode(FullRecord())), &parsed).error, ParseError::kNone);
  EXPECT_EQ(parsed.state, EntryState::kWaiting);
  EXPECT_EQ(parsed.ticket, 7u);
}

TEST(RecordCodec, RoundTripsExtremeNumbers) {
  OwnerRecord original = FullRecord();
  original.ticket = UINT64_MAX;
  original.slots = kSlotsMax;
  original.owner.pid = UINT32_MAX;
  original.owner.start_time = UINT64_MAX;
  original.owner.pid_namespace = 0;
  original.owner.nonce = Id128{UINT64_MAX, UINT64_MAX};
  original.owner.boot_id = Id128{};
  original.since_ms = 0;
  original.refreshed_ms = UINT64_MAX;
  const std::string text = Encode(original);
  EXPECT_NE(text.find("ticket=18446744073709551615;"), std::string::npos) << text;
  EXPECT_NE(text.find("boot=00000000000000000000000000000000;"), std::string::npos) << text;
  OwnerRecord parsed;
  ASSERT_EQ(ParseRecord(ViewOf(text), &parsed).error, ParseError::kNone) << text;
  EXPECT_TRUE(SameRecord(parsed, original));
}

TEST(RecordCodec, PercentEncodesDelimitersSpacesAndNonAsciiBytes) {
  OwnerRecord original = FullRecord();
  std::string host = "h st;x=1%y";
  host += '\xC3';
  host += '\xA9';
  host += '\0';
  host += "/z";
  AssignOrDie(&original.owner.host, host);
  AssignOrDie(&original.owner.command, "sh -c 'a;b=c' 100% /usr/bin/\xE2\x9C\x93\n");
  const std::string text = Encode(original);

  // Only the bytes that need it are escaped, with uppercase hex digits; '/'
  // stands for itself.
  EXPECT_NE(text.find(";host=h%20st%3Bx%3D1%25y%C3%A9%00/z;"), std::string::npos) << text;
  EXPECT_NE(text.find(";cmd=sh%20-c%20%27a%3Bb%3Dc%27%20100%25%20/usr/bin/%E2%9C%93%0A"),
            std::string::npos)
      << text;
  // The free text cannot forge a field: every byte of the record is printable
  // ASCII, and ';' appears only as the 13 field separators (before each field after the version,
  // and before the terminator).
  size_t separators = 0;
  for (char c : text) {
    EXPECT_TRUE(c > ' ' && c < 127) << "unprintable byte " << static_cast<int>(c);
    if (c == ';') ++separators;
  }
  EXPECT_EQ(separators, 13u);

  OwnerRecord parsed;
  ASSERT_EQ(ParseRecord(ViewOf(text), &parsed).error, ParseError::kNone) << text;
  EXPECT_TRUE(SameRecord(parsed, original));
  EXPECT_EQ(StringOf(parsed.owner.host.view()), host);
}

TEST(RecordCodec, RoundTripsEmptyAndMaximalFreeText) {
  OwnerRecord empty = FullRecord();
  empty.owner.host.Clear();
  empty.owner.command.Clear();
  OwnerRecord parsed;
  ASSERT_EQ(ParseRecord(ViewOf(Encode(empty)), &parsed).error, ParseError::kNone);
  EXPECT_TRUE(SameRecord(parsed, empty));

  // Every byte escaped: the worst case of the encoding still fits.
  OwnerRecord full = FullRecord();
  full.ticket = UINT64_MAX;
  full.owner.start_time = UINT64_MAX;
  full.owner.pid_namespace = UINT64_MAX;
  full.since_ms = UINT64_MAX;
  full.refreshed_ms = UINT64_MAX;
  AssignOrDie(&full.owner.host, std::string(kHostBytesMax, '\xFF'));
  AssignOrDie(&full.owner.command, std::string(kCommandBytesMax, ' '));
  const std::string text = Encode(full);
  EXPECT_LE(text.size(), kRecordBytesMax);
  ASSERT_EQ(ParseRecord(ViewOf(text), &parsed).error, ParseError::kNone);
  EXPECT_TRUE(SameRecord(parsed, full));
}

TEST(RecordCodec, EncodeRefusesSlotsOutOfRange) {
  RecordText text;
  OwnerRecord record = FullRecord();
  record.slots = 0;
  EXPECT_FALSE(EncodeRecord(record, &text));
  record.slots = kSlotsMax + 1;
  EXPECT_FALSE(EncodeRecord(record, &text));
  record.slots = kSlotsMax;
  EXPECT_TRUE(EncodeRecord(record, &text));
  record.slots = 1;
  EXPECT_TRUE(EncodeRecord(record, &text));
}

TEST(RecordCodec, EncodeReplacesWhatTheBufferHeld) {
  RecordText text;
  ASSERT_TRUE(text.Assign(View("previous contents that are longer than nothing")));
  ASSERT_TRUE(EncodeRecord(FullRecord(), &text));
  EXPECT_EQ(StringOf(text.view()), kFullRecordText);
}

// ---------------------------------------------------------------------------
// Strictness.

TEST(RecordCodec, AcceptsTheDocumentedText) {
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(View(kFullRecordText), &parsed);
  ASSERT_EQ(result.error, ParseError::kNone);
  EXPECT_TRUE(SameRecord(parsed, FullRecord()));
}

// Offset of the first byte after ";cmd=": prefixes that end at or after it
// are syntactically complete records (cmd is last and unterminated).
size_t CommandValueOffset(const std::string& text) { return text.rfind(";cmd=") + 5; }

// Parses the first `length` bytes of `text` from an exact heap copy, so that a
// read past the end is a heap overflow under ASan and not a read of the rest
// of the record.
ParseResult ParsePrefix(const std::string& text, size_t length, OwnerRecord* parsed) {
  const std::unique_ptr<char[]> copy(new char[length + 1]);
  text.copy(copy.get(), length);
  return ParseRecord(Bytes{copy.get(), static_cast<uint32_t>(length)}, parsed);
}

TEST(RecordCodec, RejectsTruncationBeforeTheCommandField) {
  for (const bool choosing : {false, true}) {
    OwnerRecord record = FullRecord();
    if (choosing) {
      record.state = EntryState::kChoosing;
      record.ticket = 0;
    }
    const std::string text = Encode(record);
    for (size_t length = 0; length < CommandValueOffset(text); ++length) {
      OwnerRecord parsed;
      const ParseResult result = ParsePrefix(text, length, &parsed);
      EXPECT_NE(result.error, ParseError::kNone)
          << "truncated record accepted: '" << text.substr(0, length) << "'";
      EXPECT_LE(result.offset, length) << "error offset beyond the input";
    }
  }
}

TEST(RecordCodec, RejectsTruncationOfARecordWithEmptyCommandAtEveryPrefixLength) {
  OwnerRecord record = FullRecord();
  record.owner.command.Clear();
  const std::string text = Encode(record);
  for (size_t length = 0; length < text.size(); ++length) {
    OwnerRecord parsed;
    EXPECT_NE(ParsePrefix(text, length, &parsed).error, ParseError::kNone)
        << "truncated record accepted: '" << text.substr(0, length) << "'";
  }
}

TEST(RecordCodec, RejectsTruncationInsideAPercentEscape) {
  const std::string text = kFullRecordText;  // ends in "cmd=make%20all"
  EXPECT_EQ(ParseErrorOf(text.substr(0, text.find("%20") + 1)), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(text.substr(0, text.find("%20") + 2)), ParseError::kMalformed);
}

// Why records end in ";end": record.h promises
// that "truncation [is] reported as such and never misread as an owner", but
// the format has no terminator and cmd, the last field, is free text, so any
// prefix that ends inside cmd at an escape boundary ("...;cmd=", "...;cmd=m",
// ..., "...;cmd=make") parses as a valid record with a different command.
// The fence record ends in cmd too, with the same effect (see
// FenceCodec.RejectsTruncationAtEveryPrefixLength). With the terminator, no
// prefix passes for a whole record.
TEST(RecordCodec, RejectsTruncationAtEveryPrefixLength) {
  for (const bool choosing : {false, true}) {
    OwnerRecord record = FullRecord();
    if (choosing) {
      record.state = EntryState::kChoosing;
      record.ticket = 0;
    }
    const std::string text = Encode(record);
    std::string accepted;
    for (size_t length = 0; length < text.size(); ++length) {
      OwnerRecord parsed;
      if (ParsePrefix(text, length, &parsed).error == ParseError::kNone) {
        accepted += "\n  '" + text.substr(0, length) + "'";
      }
    }
    EXPECT_TRUE(accepted.empty()) << "truncated records accepted as valid owners:" << accepted;
  }
}

TEST(RecordCodec, RejectsLeadingZeroInTicket) {
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "ticket=7;", "ticket=07;")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsLeadingZeroInEveryDecimalField) {
  const std::string text = kFullRecordText;
  for (const char* field : {";slots=", ";pid=", ";start=", ";pidns=", ";since=", ";seen="}) {
    const std::string bad = Replace(text, field, std::string(field) + "0");
    EXPECT_EQ(ParseErrorOf(bad), ParseError::kMalformed) << bad;
  }
  // "0" itself is canonical, "00" is not.
  OwnerRecord zero = FullRecord();
  zero.owner.pid_namespace = 0;
  const std::string zero_text = Encode(zero);
  EXPECT_EQ(ParseErrorOf(zero_text), ParseError::kNone);
  EXPECT_EQ(ParseErrorOf(Replace(zero_text, ";pidns=0;", ";pidns=00;")), ParseError::kMalformed);
}

TEST(RecordCodec, ReportsTheOffsetOfALeadingZero) {
  const std::string bad = Replace(kFullRecordText, "pid=4242", "pid=04242");
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(ViewOf(bad), &parsed);
  EXPECT_EQ(result.error, ParseError::kMalformed);
  EXPECT_EQ(result.offset, bad.find("pid=") + 4);
}

TEST(RecordCodec, RejectsEmptyNumbersAndSigns) {
  const std::string text = kFullRecordText;
  EXPECT_EQ(ParseErrorOf(Replace(text, "pid=4242", "pid=")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "pid=4242", "pid=+4242")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "pid=4242", "pid=-4242")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "pid=4242", "pid= 4242")), ParseError::kMalformed);
}

TEST(RecordCodec, RejectsUppercaseHexInNonce) {
  const std::string bad =
      Replace(kFullRecordText, "nonce=0123456789abcdef", "nonce=0123456789ABCDEF");
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(ViewOf(bad), &parsed);
  EXPECT_EQ(result.error, ParseError::kMalformed);
  EXPECT_EQ(result.offset, bad.find("ABCDEF")) << "offset should point at the uppercase digit";
}

TEST(RecordCodec, RejectsUppercaseHexInBootId) {
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "boot=a1b2", "boot=A1b2")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsHexIdsOfTheWrongLength) {
  const std::string text = kFullRecordText;
  EXPECT_EQ(ParseErrorOf(Replace(text, "nonce=0123", "nonce=123")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "nonce=0123", "nonce=00123")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "boot=a1b2", "boot=g1b2")), ParseError::kMalformed);
}

TEST(RecordCodec, RejectsLowercasePercentEscapes) {
  OwnerRecord record = FullRecord();
  AssignOrDie(&record.owner.host, "a;b");
  const std::string text = Encode(record);
  ASSERT_NE(text.find("host=a%3Bb;"), std::string::npos) << text;
  EXPECT_EQ(ParseErrorOf(text), ParseError::kNone);
  EXPECT_EQ(ParseErrorOf(Replace(text, "host=a%3Bb;", "host=a%3bb;")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "cmd=make%20all", "cmd=make%2all")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsEscapingAByteThatNeedsNoEscape) {
  const std::string text = kFullRecordText;
  // 'b' (0x62), '/' (0x2F) and '-' (0x2D) stand for themselves.
  EXPECT_EQ(ParseErrorOf(Replace(text, "host=build-3", "host=%62uild-3")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "host=build-3", "host=build%2D3")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "cmd=make%20all", "cmd=make%20%2Fall")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsBareBytesThatMustBeEscaped) {
  const std::string text = kFullRecordText;
  EXPECT_EQ(ParseErrorOf(Replace(text, "cmd=make%20all", "cmd=make all")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "host=build-3", "host=build=3")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "host=build-3", "host=b\xC3\xA9")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "cmd=make%20all", "cmd=100%")), ParseError::kMalformed);
}

TEST(RecordCodec, RejectsFreeTextBeyondItsLimit) {
  const std::string text = kFullRecordText;
  const std::string longest_host(kHostBytesMax, 'h');
  EXPECT_EQ(ParseErrorOf(Replace(text, "host=build-3", "host=" + longest_host)), ParseError::kNone);
  EXPECT_EQ(ParseErrorOf(Replace(text, "host=build-3", "host=" + longest_host + "h")),
            ParseError::kMalformed);
  const std::string longest_cmd(kCommandBytesMax, 'c');
  EXPECT_EQ(ParseErrorOf(Replace(text, "cmd=make%20all", "cmd=" + longest_cmd)), ParseError::kNone);
  EXPECT_EQ(ParseErrorOf(Replace(text, "cmd=make%20all", "cmd=" + longest_cmd + "%20")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsUnknownVersion) {
  const std::string text = kFullRecordText;
  EXPECT_EQ(ParseErrorOf(Replace(text, "onlyone1;", "onlyone2;")), ParseError::kUnknownVersion);
  EXPECT_EQ(ParseErrorOf(Replace(text, "onlyone1;", "onlyone10;")), ParseError::kUnknownVersion);
  EXPECT_EQ(ParseErrorOf("onlyone2;state=whatever"), ParseError::kUnknownVersion);
  EXPECT_EQ(ParseErrorOf("onlyone"), ParseError::kUnknownVersion);
}

TEST(RecordCodec, RejectsForeignText) {
  EXPECT_EQ(ParseErrorOf("hello"), ParseError::kNotARecord);
  EXPECT_EQ(ParseErrorOf(""), ParseError::kNotARecord);
  EXPECT_EQ(ParseErrorOf("/tmp/onlyone1;state=waiting"), ParseError::kNotARecord);
  EXPECT_EQ(ParseErrorOf("OnlyOne1;state=waiting"), ParseError::kNotARecord);
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "onlyone1;", " onlyone1;")),
            ParseError::kNotARecord);
}

TEST(RecordCodec, RejectsOverLongInput) {
  std::string text = kFullRecordText;
  text.resize(kRecordBytesMax + 1, 'x');
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(ViewOf(text), &parsed);
  EXPECT_EQ(result.error, ParseError::kTooLong);
  // Even foreign text is refused for its length first: it is never scanned.
  EXPECT_EQ(ParseErrorOf(std::string(100000, 'h')), ParseError::kTooLong);
  // Exactly the limit is not "too long" (it is malformed here).
  text.resize(kRecordBytesMax);
  EXPECT_EQ(ParseErrorOf(text), ParseError::kMalformed);
}

TEST(RecordCodec, RejectsChoosingWithATicket) {
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "state=waiting", "state=choosing")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsWaitingWithTicketZero) {
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "ticket=7;", "ticket=0;")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsUnknownState) {
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "state=waiting", "state=holding")),
            ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(kFullRecordText, "state=waiting", "state=Waiting")),
            ParseError::kMalformed);
}

TEST(RecordCodec, RejectsSlotsZeroOrAboveTheMaximum) {
  const std::string text = kFullRecordText;
  EXPECT_EQ(ParseErrorOf(Replace(text, "slots=3;", "slots=0;")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "slots=3;", "slots=1025;")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "slots=3;", "slots=4294967297;")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "slots=3;", "slots=1024;")), ParseError::kNone);
}

TEST(RecordCodec, RejectsTrailingBytes) {
  const std::string text = kFullRecordText;
  EXPECT_EQ(ParseErrorOf(text + ";"), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(text + ";x=1"), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(text + std::string(1, '\0')), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(text + "\n"), ParseError::kMalformed);
}

TEST(RecordCodec, RejectsFieldsOutOfOrderOrMissing) {
  const std::string text = kFullRecordText;
  // pid and start swapped.
  EXPECT_EQ(ParseErrorOf(Replace(text, "pid=4242;start=123456;", "start=123456;pid=4242;")),
            ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "pidns=4026531836;", "")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, ";cmd=make%20all", "")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "seen=", "Seen=")), ParseError::kMalformed);
}

TEST(RecordCodec, RejectsDecimalOverflow) {
  const std::string text = kFullRecordText;
  // The largest uint64_t is accepted, one more is not, nor are 20+ digits.
  EXPECT_EQ(ParseErrorOf(Replace(text, "since=1700000000000", "since=18446744073709551615")),
            ParseError::kNone);
  EXPECT_EQ(ParseErrorOf(Replace(text, "since=1700000000000", "since=18446744073709551616")),
            ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "since=1700000000000", "since=99999999999999999999")),
            ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, "ticket=7;", "ticket=100000000000000000000;")),
            ParseError::kMalformed);
  EXPECT_EQ(
      ParseErrorOf(Replace(text, "start=123456", "start=1234567890123456789012345678901234567890")),
      ParseError::kMalformed);
  // 2^64 + 7 would wrap to 7 in a careless parser: it must not equal ticket 7.
  EXPECT_EQ(ParseErrorOf(Replace(text, "ticket=7;", "ticket=18446744073709551623;")),
            ParseError::kMalformed);
  // 32-bit fields overflow at 2^32.
  EXPECT_EQ(ParseErrorOf(Replace(text, "pid=4242", "pid=4294967295")), ParseError::kNone);
  EXPECT_EQ(ParseErrorOf(Replace(text, "pid=4242", "pid=4294967296")), ParseError::kMalformed);
}

TEST(RecordCodec, RejectsAFenceRecordAsAnOwnerRecord) {
  FenceRecord fence;
  fence.fence = 5;
  fence.owner = FullRecord().owner;
  RecordText text;
  ASSERT_TRUE(EncodeFence(fence, &text));
  OwnerRecord parsed;
  EXPECT_EQ(ParseRecord(text.view(), &parsed).error, ParseError::kMalformed);
}

TEST(RecordCodec, NamesEveryParseError) {
  const ParseError errors[] = {ParseError::kNone, ParseError::kNotARecord,
                               ParseError::kUnknownVersion, ParseError::kMalformed,
                               ParseError::kTooLong};
  for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); ++i) {
    const std::string name = ParseErrorName(errors[i]);
    EXPECT_FALSE(name.empty());
    for (size_t j = 0; j < i; ++j) EXPECT_NE(name, ParseErrorName(errors[j]));
  }
}

// ---------------------------------------------------------------------------
// The fence counter.

FenceRecord FullFence() {
  FenceRecord fence;
  fence.fence = 17;
  fence.owner = FullRecord().owner;
  return fence;
}

const char kFullFenceText[] =
    "onlyone1;fence=17;nonce=0123456789abcdeffedcba9876543210;pid=4242;start=123456;"
    "boot=a1b2c3d4e5f60718293a4b5c6d7e8f90;pidns=4026531836;host=build-3;cmd=make%20all;end";

::testing::AssertionResult SameFence(const FenceRecord& a, const FenceRecord& b) {
  if (a.fence != b.fence) return ::testing::AssertionFailure() << "fences differ";
  OwnerRecord ra;
  OwnerRecord rb;
  ra.owner = a.owner;
  rb.owner = b.owner;
  return SameRecord(ra, rb);
}

ParseError FenceErrorOf(const std::string& text) {
  FenceRecord fence;
  return ParseFence(ViewOf(text), &fence).error;
}

TEST(FenceCodec, EncodesTheDocumentedFormat) {
  RecordText text;
  ASSERT_TRUE(EncodeFence(FullFence(), &text));
  EXPECT_EQ(StringOf(text.view()), kFullFenceText);
}

TEST(FenceCodec, RoundTrips) {
  for (const uint64_t value : {uint64_t{0}, uint64_t{1}, uint64_t{42}, uint64_t{UINT64_MAX}}) {
    FenceRecord original = FullFence();
    original.fence = value;
    RecordText text;
    ASSERT_TRUE(EncodeFence(original, &text));
    FenceRecord parsed;
    parsed.fence = 12345;
    ASSERT_EQ(ParseFence(text.view(), &parsed).error, ParseError::kNone) << StringOf(text.view());
    EXPECT_TRUE(SameFence(parsed, original));
  }
}

TEST(FenceCodec, RoundTripsEscapedOwnerText) {
  FenceRecord original = FullFence();
  AssignOrDie(&original.owner.host, "h;o=s%t \xFF");
  AssignOrDie(&original.owner.command, std::string(kCommandBytesMax, ';'));
  RecordText text;
  ASSERT_TRUE(EncodeFence(original, &text));
  FenceRecord parsed;
  ASSERT_EQ(ParseFence(text.view(), &parsed).error, ParseError::kNone) << StringOf(text.view());
  EXPECT_TRUE(SameFence(parsed, original));
}

TEST(FenceCodec, RejectsGarbage) {
  const std::string text = kFullFenceText;
  EXPECT_EQ(FenceErrorOf("hello"), ParseError::kNotARecord);
  EXPECT_EQ(FenceErrorOf(""), ParseError::kNotARecord);
  EXPECT_EQ(FenceErrorOf(Replace(text, "onlyone1;", "onlyone2;")), ParseError::kUnknownVersion);
  for (const std::string& bad :
       {std::string("onlyone1;"), std::string("onlyone1;fence=17"),
        Replace(text, "fence=17", "fence="), Replace(text, "fence=17", "fence=017"),
        Replace(text, "fence=17", "fence=-17"), Replace(text, "fence=17", "fence= 17"),
        Replace(text, "fence=17", "Fence=17"), Replace(text, "fence=17", "fence=17x"),
        Replace(text, "fence=17", "fence=18446744073709551616"),
        Replace(text, "fence=17", "fence=99999999999999999999"),
        Replace(text, "nonce=0123456789abcdef", "nonce=0123456789ABCDEF"),
        Replace(text, "pid=4242", "pid=04242"), Replace(text, "cmd=make%20all", "cmd=make all"),
        Replace(text, "cmd=make%20all", "cmd=make%2fall"), Replace(text, ";host=build-3", ""),
        text + ";", text + " ", text + "%"}) {
    EXPECT_EQ(FenceErrorOf(bad), ParseError::kMalformed) << bad;
  }
  EXPECT_EQ(FenceErrorOf(kFullRecordText), ParseError::kMalformed);
  std::string too_long = text;
  too_long.resize(kRecordBytesMax + 1, 'l');
  EXPECT_EQ(FenceErrorOf(too_long), ParseError::kTooLong);
}

TEST(FenceCodec, RejectsTruncationBeforeTheCommandField) {
  // The fence number is followed by the owner, so a cut inside it (which
  // would read as a smaller token) is caught.
  const std::string text = kFullFenceText;
  for (size_t length = 0; length < CommandValueOffset(text); ++length) {
    FenceRecord fence;
    const std::unique_ptr<char[]> copy(new char[length + 1]);
    text.copy(copy.get(), length);
    EXPECT_NE(ParseFence(Bytes{copy.get(), static_cast<uint32_t>(length)}, &fence).error,
              ParseError::kNone)
        << "truncated fence accepted: '" << text.substr(0, length) << "'";
  }
}

// Regression (same as RecordCodec.RejectsTruncationAtEveryPrefixLength): the fence
// record ends in the free-text cmd, so "...;cmd=" and "...;cmd=make" parse
// as whole fence records.
TEST(FenceCodec, RejectsTruncationAtEveryPrefixLength) {
  const std::string text = kFullFenceText;
  std::string accepted;
  for (size_t length = 0; length < text.size(); ++length) {
    FenceRecord fence;
    if (ParseFence(Bytes{text.data(), static_cast<uint32_t>(length)}, &fence).error ==
        ParseError::kNone) {
      accepted += "\n  '" + text.substr(0, length) + "'";
    }
  }
  EXPECT_TRUE(accepted.empty()) << "truncated fence records accepted:" << accepted;
}

// ---------------------------------------------------------------------------
// Properties.

// Numbers biased towards their edges: rapidcheck's arbitrary integers grow
// with the test size, and the interesting failures sit at 0 and the maximum.
template <typename T>
rc::Gen<T> EdgyNumber() {
  return rc::gen::weightedOneOf<T>({{4, rc::gen::arbitrary<T>()},
                                    {1, rc::gen::just<T>(0)},
                                    {1, rc::gen::just<T>(std::numeric_limits<T>::max())},
                                    {1, rc::gen::just<T>(std::numeric_limits<T>::max() - 1)}});
}

rc::Gen<std::string> FreeText(uint32_t max_bytes) {
  return rc::gen::mapcat(rc::gen::inRange<uint32_t>(0, max_bytes + 1), [](uint32_t size) {
    return rc::gen::container<std::string>(size, rc::gen::arbitrary<char>());
  });
}

// A record within every documented limit, with a ticket consistent with its
// state (0 exactly while choosing).
rc::Gen<OwnerRecord> ArbitraryRecord() {
  return rc::gen::exec([] {
    OwnerRecord record;
    const bool choosing = *rc::gen::arbitrary<bool>();
    record.state = choosing ? EntryState::kChoosing : EntryState::kWaiting;
    record.ticket =
        choosing ? 0
                 : *rc::gen::suchThat(EdgyNumber<uint64_t>(), [](uint64_t t) { return t != 0; });
    record.slots = *rc::gen::inRange<uint32_t>(1, kSlotsMax + 1);
    record.owner.nonce = Id128{*EdgyNumber<uint64_t>(), *EdgyNumber<uint64_t>()};
    record.owner.pid = *EdgyNumber<uint32_t>();
    record.owner.start_time = *EdgyNumber<uint64_t>();
    record.owner.boot_id = Id128{*EdgyNumber<uint64_t>(), *EdgyNumber<uint64_t>()};
    record.owner.pid_namespace = *EdgyNumber<uint64_t>();
    const std::string host = *FreeText(kHostBytesMax);
    const std::string command = *FreeText(kCommandBytesMax);
    record.owner.host.Assign(ViewOf(host));
    record.owner.command.Assign(ViewOf(command));
    record.since_ms = *EdgyNumber<uint64_t>();
    record.refreshed_ms = *EdgyNumber<uint64_t>();
    return record;
  });
}

// `text` with one to three bytes replaced, inserted or removed, drawn from
// `alphabet`: near-misses of a valid record, which arbitrary bytes never are.
std::string Mutated(std::string text, const std::string& alphabet) {
  const int mutations = *rc::gen::inRange(1, 4);
  for (int i = 0; i < mutations && !text.empty(); ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, text.size());
    const char c = *rc::gen::elementOf(alphabet);
    switch (*rc::gen::inRange(0, 3)) {
      case 0: text[at] = c; break;
      case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
      default: text.erase(at, 1); break;
    }
  }
  return text;
}

RC_GTEST_PROP(RecordProperties, ParseInvertsEncode, ()) {
  const OwnerRecord original = *ArbitraryRecord();
  RecordText text;
  RC_ASSERT(EncodeRecord(original, &text));
  RC_ASSERT(text.size <= kRecordBytesMax);
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(text.view(), &parsed);
  RC_ASSERT(result.error == ParseError::kNone);
  RC_ASSERT(Same(parsed, original));
}

// Whatever the parser accepts, the encoder reproduces byte for byte: one
// record has exactly one text.
void CheckAcceptedTextReencodes(const std::string& text) {
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(ViewOf(text), &parsed);
  RC_CLASSIFY(result.error == ParseError::kNone, "accepted");
  if (result.error != ParseError::kNone) {
    RC_ASSERT(result.offset <= kRecordBytesMax);
    return;
  }
  RecordText again;
  const bool encoded =
      result.version == 1 ? EncodeRecord(parsed, &again) : EncodeCompactRecord(parsed, &again);
  RC_ASSERT(encoded);
  RC_ASSERT(StringOf(again.view()) == text);
}

RC_GTEST_PROP(RecordProperties, AcceptedArbitraryBytesReencodeExactly, (const std::string& text)) {
  CheckAcceptedTextReencodes(text);
}

// Arbitrary bytes are almost never accepted, so also mutate valid records
// with the characters that matter to the grammar: digits, hex letters in both
// cases, escapes and delimiters.
RC_GTEST_PROP(RecordProperties, AcceptedMutationsOfValidRecordsReencodeExactly, ()) {
  RecordText valid;
  RC_ASSERT(EncodeRecord(*ArbitraryRecord(), &valid));
  std::string text = StringOf(valid.view());
  const std::string alphabet = "0123456789abcdefABCDEF%;=x/ \xC3";
  text = Mutated(text, alphabet);
  CheckAcceptedTextReencodes(text);
}

// The parser reads only `size` bytes. The buffer's tail is chosen to tempt a
// parser that overreads: the rest of the valid record (which would complete
// a truncated one) or arbitrary garbage.
RC_GTEST_PROP(RecordProperties, ParseNeverReadsPastSize, ()) {
  RecordText valid;
  RC_ASSERT(EncodeRecord(*ArbitraryRecord(), &valid));
  const std::string record = StringOf(valid.view());
  const size_t length = *rc::gen::inRange<size_t>(0, record.size() + 1);
  std::string buffer = record.substr(0, length);
  if (*rc::gen::arbitrary<bool>()) {
    buffer += record.substr(length);
  } else {
    buffer += *rc::gen::arbitrary<std::string>();
  }
  const Bytes view{buffer.data(), static_cast<uint32_t>(length)};

  const std::unique_ptr<char[]> exact(new char[length + 1]);
  buffer.copy(exact.get(), length);
  const Bytes exact_view{exact.get(), static_cast<uint32_t>(length)};

  OwnerRecord from_view;
  OwnerRecord from_exact;
  const ParseResult a = ParseRecord(view, &from_view);
  const ParseResult b = ParseRecord(exact_view, &from_exact);
  RC_ASSERT(a.error == b.error);
  RC_ASSERT(a.offset == b.offset);
  if (length == record.size()) RC_ASSERT(a.error == ParseError::kNone);
  // Every shorter prefix fails (see the regression test
  // RecordCodec.RejectsTruncationAtEveryPrefixLength).
  if (length < record.size()) RC_ASSERT(a.error != ParseError::kNone);
  if (a.error == ParseError::kNone) RC_ASSERT(Same(from_view, from_exact));

  FenceRecord fence_a;
  FenceRecord fence_b;
  const ParseResult fa = ParseFence(view, &fence_a);
  const ParseResult fb = ParseFence(exact_view, &fence_b);
  RC_ASSERT(fa.error == fb.error);
  RC_ASSERT(fa.offset == fb.offset);
  if (fa.error == ParseError::kNone) RC_ASSERT(static_cast<bool>(SameFence(fence_a, fence_b)));
}

// The same for fence records, whose tail tempts with the rest of the fence.
RC_GTEST_PROP(FenceProperties, ParseNeverReadsPastSize, ()) {
  const OwnerRecord owner = *ArbitraryRecord();
  FenceRecord original;
  original.fence = *EdgyNumber<uint64_t>();
  original.owner = owner.owner;
  RecordText valid;
  RC_ASSERT(EncodeFence(original, &valid));
  const std::string record = StringOf(valid.view());
  const size_t length = *rc::gen::inRange<size_t>(0, record.size() + 1);
  const std::string buffer = record.substr(0, length) + record.substr(length) + "garbage";
  const std::unique_ptr<char[]> exact(new char[length + 1]);
  buffer.copy(exact.get(), length);
  FenceRecord from_view;
  FenceRecord from_exact;
  const ParseResult a = ParseFence(Bytes{buffer.data(), static_cast<uint32_t>(length)}, &from_view);
  const ParseResult b = ParseFence(Bytes{exact.get(), static_cast<uint32_t>(length)}, &from_exact);
  RC_ASSERT(a.error == b.error);
  RC_ASSERT(a.offset == b.offset);
  if (length == record.size()) RC_ASSERT(a.error == ParseError::kNone);
  if (length < record.size()) RC_ASSERT(a.error != ParseError::kNone);
  if (a.error == ParseError::kNone) RC_ASSERT(static_cast<bool>(SameFence(from_view, from_exact)));
}

rc::Gen<FenceRecord> ArbitraryFence() {
  return rc::gen::exec([] {
    FenceRecord fence;
    fence.fence = *EdgyNumber<uint64_t>();
    fence.owner = (*ArbitraryRecord()).owner;
    return fence;
  });
}

RC_GTEST_PROP(FenceProperties, ParseInvertsEncode, ()) {
  const FenceRecord original = *ArbitraryFence();
  RecordText text;
  RC_ASSERT(EncodeFence(original, &text));
  FenceRecord parsed;
  RC_ASSERT(ParseFence(text.view(), &parsed).error == ParseError::kNone);
  RC_ASSERT(static_cast<bool>(SameFence(parsed, original)));
}

RC_GTEST_PROP(FenceProperties, AcceptedMutationsReencodeExactly, ()) {
  RecordText valid;
  RC_ASSERT(EncodeFence(*ArbitraryFence(), &valid));
  std::string text = StringOf(valid.view());
  const std::string alphabet = "0123456789abcdefABCDEF%;=x/ \xC3";
  text = Mutated(text, alphabet);
  FenceRecord parsed;
  const ParseResult result = ParseFence(ViewOf(text), &parsed);
  RC_CLASSIFY(result.error == ParseError::kNone, "accepted");
  if (result.error != ParseError::kNone) return;
  RecordText again;
  const bool encoded =
      result.version == 1 ? EncodeFence(parsed, &again) : EncodeCompactFence(parsed, &again);
  RC_ASSERT(encoded);
  RC_ASSERT(StringOf(again.view()) == text);
}

// ---------------------------------------------------------------------------
// Version 2 (compact).

// The encoding of FullRecord() as version 2, spelled out: base-64 numbers
// (ticket 7, slots 3, pid 4242, start 123456, the boot id's first 64 bits,
// pidns, seen, seen - since = 123, the nonce check).
const char kCompactRecordText[] = "onlyone2.7.3.12i.u90.a6OMZjBZwso.3L___Y.oLfVmxX.1X.LA";

std::string EncodeCompact(const OwnerRecord& record) {
  RecordText text;
  EXPECT_TRUE(EncodeCompactRecord(record, &text));
  return StringOf(text.view());
}

// What version 2 keeps of a record: no host or command, the boot id's first
// 64 bits.
OwnerRecord CompactPart(OwnerRecord record) {
  record.owner.host.Clear();
  record.owner.command.Clear();
  record.owner.boot_id.lo = 0;
  return record;
}

TEST(CompactRecord, EncodesTheDocumentedFormat) {
  EXPECT_EQ(EncodeCompact(FullRecord()), kCompactRecordText);
}

TEST(CompactRecord, ParsesUnderItsNameToWhatItKeeps) {
  OwnerRecord parsed;
  const ParseResult result =
      ParseRecord(View(kCompactRecordText), FullRecord().owner.nonce, &parsed);
  ASSERT_EQ(result.error, ParseError::kNone);
  EXPECT_EQ(result.version, 2);
  EXPECT_TRUE(SameRecord(parsed, CompactPart(FullRecord())));
  EXPECT_TRUE(SameBoot(parsed.owner.boot_id, FullRecord().owner.boot_id));
}

TEST(CompactRecord, StaysUnderTheInlineSymlinkLimitOfExt4ForTypicalValues) {
  // A ticket in the hundred thousands, the largest Linux pid, a start time a
  // year after boot, a boot id with its top bit set, a 2025 wall clock.
  OwnerRecord record = FullRecord();
  record.ticket = 123456;
  record.slots = 1;
  record.owner.pid = 4194303;
  record.owner.start_time = 3153600000ull;
  record.owner.boot_id.hi = 0xf3b2c3d4e5f60718ull;
  record.since_ms = record.refreshed_ms = 1764770000000ull;
  constexpr size_t kExt4InlineSymlinkBytesMax = 59;  // a 60-byte i_block with its NUL
  EXPECT_LE(EncodeCompact(record).size(), kExt4InlineSymlinkBytesMax) << EncodeCompact(record);
}

TEST(CompactRecord, RefusesACopyUnderAnotherName) {
  OwnerRecord parsed;
  Id128 other = FullRecord().owner.nonce;
  other.lo += 1;
  EXPECT_EQ(ParseRecord(View(kCompactRecordText), other, &parsed).error, ParseError::kMalformed);
  // A full record names its nonce itself: the same rule.
  EXPECT_EQ(ParseRecord(ViewOf(kFullRecordText), other, &parsed).error, ParseError::kMalformed);
}

TEST(CompactRecord, NoncesDifferingInAPatternGetDifferentChecks) {
  // Test nonces, hand-edited copies: a fold of the bits alone would give
  // these the same check.
  const Id128 a{0x5ca1ab1e000007e7ull, 0x17};
  const Id128 b{0x5ca1ab1e000007e9ull, 0x19};
  EXPECT_NE(NonceCheck(a), NonceCheck(b));
}

TEST(CompactRecord, WithoutANameReencodesExactly) {
  OwnerRecord parsed;
  ASSERT_EQ(ParseRecord(View(kCompactRecordText), &parsed).error, ParseError::kNone);
  EXPECT_EQ(EncodeCompact(parsed), kCompactRecordText);
}

TEST(CompactRecord, ReadsTicketZeroAsChoosing) {
  OwnerRecord record = FullRecord();
  record.state = EntryState::kChoosing;
  record.ticket = 0;
  OwnerRecord parsed;
  ASSERT_EQ(ParseRecord(ViewOf(EncodeCompact(record)), record.owner.nonce, &parsed).error,
            ParseError::kNone);
  EXPECT_EQ(parsed.state, EntryState::kChoosing);
}

TEST(CompactRecord, RefusesASinceAfterItsRefresh) {
  OwnerRecord record = FullRecord();
  record.since_ms = record.refreshed_ms + 1;
  RecordText text;
  EXPECT_FALSE(EncodeCompactRecord(record, &text));
}

TEST(CompactRecord, RejectsTruncationAtEveryPrefixLength) {
  const std::string text = kCompactRecordText;
  const Id128 nonce = FullRecord().owner.nonce;
  for (size_t size = 0; size < text.size(); ++size) {
    OwnerRecord parsed;
    EXPECT_NE(ParseRecord(ViewOf(text.substr(0, size)), nonce, &parsed).error, ParseError::kNone)
        << "accepted a prefix of " << size << " bytes";
  }
}

TEST(CompactRecord, RejectsLeadingZerosEmptyFieldsAndForeignDigits) {
  const std::string text = kCompactRecordText;
  EXPECT_EQ(ParseErrorOf(Replace(text, ".7.", ".07.")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, ".7.", "..")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, ".7.", ".7+.")), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(text + ".1"), ParseError::kMalformed);
  EXPECT_EQ(ParseErrorOf(Replace(text, ".1X.", ".____________.")), ParseError::kMalformed);
}

TEST(CompactRecord, AnOlderReaderSeesANewerVersionNotGarbage) {
  // An onlyone of version 1 refuses "onlyone" followed by anything but "1;"
  // as an unknown version; version 2 keeps that prefix for the same reason.
  EXPECT_EQ(ParseErrorOf("onlyone3.1.1"), ParseError::kUnknownVersion);
  EXPECT_TRUE(StartsWith(View(kCompactRecordText), View("onlyone")));
}

TEST(CompactRecord, RejectsAFenceRecordAsAnOwnerRecordAndViceVersa) {
  FenceRecord fence;
  fence.fence = 41;
  fence.owner = FullRecord().owner;
  RecordText text;
  ASSERT_TRUE(EncodeCompactFence(fence, &text));
  EXPECT_EQ(StringOf(text.view()), "onlyone2f.F.12i.u90.a6OMZjBZwso.3L___Y");
  OwnerRecord owner;
  EXPECT_EQ(ParseRecord(text.view(), &owner).error, ParseError::kMalformed);
  FenceRecord parsed;
  EXPECT_EQ(ParseFence(View(kCompactRecordText), &parsed).error, ParseError::kMalformed);
  ASSERT_EQ(ParseFence(text.view(), &parsed).error, ParseError::kNone);
  EXPECT_EQ(parsed.fence, 41u);
  EXPECT_EQ(parsed.owner.pid, 4242u);
}

TEST(AnchorOwnerLine, GivesTheHostAndCommandOfItsOwner) {
  RecordText line;
  ASSERT_TRUE(EncodeRecord(FullRecord(), &line));
  const std::string content = StringOf(line.view()) + "\nonlyone-job v1 pgid=7\n";
  OwnerRecord owner;
  ASSERT_TRUE(ParseAnchorOwner(ViewOf(content), &owner));
  EXPECT_EQ(StringOf(owner.owner.command.view()), "make all");
  EXPECT_EQ(StringOf(owner.owner.host.view()), "build-3");
  EXPECT_FALSE(ParseAnchorOwner(ViewOf(StringOf(line.view())), &owner))
      << "a line without its newline was cut short";
  EXPECT_FALSE(ParseAnchorOwner(View("onlyone-job v1 pgid=7\n"), &owner));
  EXPECT_FALSE(ParseAnchorOwner(View("onlyone2.7.3.12i\n"), &owner)) << "only a full record";
}

rc::Gen<OwnerRecord> ArbitraryCompactRecord() {
  return rc::gen::map(ArbitraryRecord(), [](OwnerRecord record) {
    if (record.since_ms > record.refreshed_ms) std::swap(record.since_ms, record.refreshed_ms);
    return CompactPart(record);
  });
}

RC_GTEST_PROP(CompactRecordProperties, ParseUnderItsNameInvertsEncode, ()) {
  const OwnerRecord original = *ArbitraryCompactRecord();
  RecordText text;
  RC_ASSERT(EncodeCompactRecord(original, &text));
  OwnerRecord parsed;
  const ParseResult result = ParseRecord(text.view(), original.owner.nonce, &parsed);
  RC_ASSERT(result.error == ParseError::kNone);
  RC_ASSERT(Same(parsed, original));
}

RC_GTEST_PROP(CompactRecordProperties, AcceptedMutationsReencodeExactly, ()) {
  RecordText valid;
  RC_ASSERT(EncodeCompactRecord(*ArbitraryCompactRecord(), &valid));
  std::string text = StringOf(valid.view());
  static const std::string alphabet = "0123456789azAZ-_.f";
  text = Mutated(text, alphabet);
  CheckAcceptedTextReencodes(text);
}

}  // namespace
}  // namespace onlyone
