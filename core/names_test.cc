#include "core/names.h"

#include <string>

#include "gtest/gtest.h"

namespace onlyone {
namespace {

const Id128 kNonce{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
const char kNonceHex[] = "0123456789abcdeffedcba9876543210";

std::string NameOf(NameKind kind, Id128 nonce) {
  FixedBytes<kNameBytesMax> name;
  MakeOwnerName(kind, nonce, &name);
  return std::string(name.data, name.size);
}

ParsedName Parse(const std::string& name) {
  return ParseName(Bytes{name.data(), static_cast<uint32_t>(name.size())});
}

TEST(Names, EachKindIsSpelledWithItsPrefixAndTheNonceInLowercaseHex) {
  EXPECT_EQ(NameOf(NameKind::kEntry, kNonce), std::string("o.") + kNonceHex);
  EXPECT_EQ(NameOf(NameKind::kRingEntry, kNonce), std::string("f.") + kNonceHex);
  EXPECT_EQ(NameOf(NameKind::kTemporary, kNonce), std::string("t.") + kNonceHex);
  EXPECT_EQ(NameOf(NameKind::kAnchor, kNonce), std::string("k.") + kNonceHex);
}

TEST(Names, EveryNameMadeParsesBackToItsKindAndNonce) {
  for (NameKind kind :
       {NameKind::kEntry, NameKind::kRingEntry, NameKind::kTemporary, NameKind::kAnchor}) {
    const ParsedName parsed = Parse(NameOf(kind, kNonce));
    EXPECT_EQ(parsed.kind, kind) << NameKindName(kind);
    EXPECT_TRUE(parsed.nonce == kNonce) << NameKindName(kind);
  }
}

std::string CounterName(uint64_t fence) {
  FixedBytes<kNameBytesMax> name;
  FenceCounterName(fence, &name);
  return std::string(name.data, name.size);
}

TEST(Names, TheCounterSpellsItsTokenInCanonicalDecimal) {
  EXPECT_EQ(CounterName(1), "fence.1");
  EXPECT_EQ(CounterName(907), "fence.907");
  EXPECT_EQ(CounterName(kFenceMax), "fence.9223372036854775807");
  for (uint64_t fence : {uint64_t{1}, uint64_t{10}, uint64_t{12345}, kFenceMax}) {
    const ParsedName parsed = Parse(CounterName(fence));
    EXPECT_EQ(parsed.kind, NameKind::kFenceCounter) << fence;
    EXPECT_EQ(parsed.fence, fence);
  }
}

TEST(Names, ACounterNameThatIsNotCanonicalIsForeign) {
  for (const char* name :
       {"fence.", "fence.0", "fence.01", "fence.+1", "fence.1a", "fence.-1", "fence. 1",
        "fence.9223372036854775808", "fence.99999999999999999999", "Fence.1", "fence2"}) {
    EXPECT_EQ(Parse(name).kind, NameKind::kForeign) << '"' << name << '"';
  }
}

TEST(Names, TheOlderCountersNameAndTheFormatMarkerAreTheirOwnKinds) {
  EXPECT_EQ(Parse("fence").kind, NameKind::kOldFenceCounter);
  EXPECT_EQ(std::string(OldFenceCounterName().data, OldFenceCounterName().size), "fence");
  const std::string marker(FormatMarkerName().data, FormatMarkerName().size);
  EXPECT_EQ(marker, NameOf(NameKind::kEntry, Id128{}))
      << "older builds must read the marker as an entry, to refuse its record";
  EXPECT_EQ(Parse(marker).kind, NameKind::kFormatMarker);
  EXPECT_EQ(std::string(FormatMarkerRecord().data, FormatMarkerRecord().size).substr(0, 8),
            "onlyone3")
      << "a version older builds report as newer";
}

TEST(Names, LookalikesAreForeign) {
  const std::string hex = kNonceHex;
  for (const std::string& name : {
           "o." + hex.substr(1),                      // a digit short
           "o." + hex + "0",                          // a digit long
           "O." + hex,                                // upper-case prefix
           "o." + hex.substr(0, 31) + "A",            // upper-case hex
           "o-" + hex,                                // another separator
           "x." + hex,                                // an unknown prefix
           "o." + hex.substr(0, 31) + "g",            // not hex
           std::string("o.") + std::string(32, ' '),  // spaces
           std::string(""),
           std::string("o."),
       }) {
    EXPECT_EQ(Parse(name).kind, NameKind::kForeign) << '"' << name << '"';
  }
}

TEST(Names, RanksOrderByTicketThenNonce) {
  const Id128 low{0, 1};
  const Id128 high{0, 2};
  EXPECT_TRUE((Rank{1, high}) < (Rank{2, low}));
  EXPECT_TRUE((Rank{2, low}) < (Rank{2, high}));
  EXPECT_FALSE((Rank{2, high}) < (Rank{2, high}));
  EXPECT_FALSE((Rank{3, low}) < (Rank{2, high}));
}

TEST(Names, AnIdSpelledInHexParsesOnlyInItsOneSpelling) {
  char hex[kId128HexDigits];
  FormatId128(kNonce, hex);
  EXPECT_EQ(std::string(hex, kId128HexDigits), kNonceHex);
  Id128 parsed;
  EXPECT_TRUE(ParseId128(Bytes{hex, kId128HexDigits}, &parsed));
  EXPECT_TRUE(parsed == kNonce);
  hex[5] = 'B';
  EXPECT_FALSE(ParseId128(Bytes{hex, kId128HexDigits}, &parsed));
  EXPECT_FALSE(ParseId128(Bytes{hex, kId128HexDigits - 1}, &parsed));
}

}  // namespace
}  // namespace onlyone
