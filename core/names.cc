#include "core/names.h"

namespace onlyone {

namespace {

constexpr char kOldFenceCounterName[] = "fence";
constexpr char kFenceCounterPrefix[] = "fence.";
constexpr uint32_t kFenceCounterPrefixBytes = sizeof(kFenceCounterPrefix) - 1;
constexpr char kFormatMarkerName[] = "o.00000000000000000000000000000000";
constexpr char kFormatMarkerRecord[] = "onlyone3.format";
constexpr char kFenceCounterRecord[] = "onlyone3.counter";
static_assert(sizeof(kFormatMarkerName) - 1 == kOwnerNameBytes, "the marker is an entry's name");
static_assert(kFenceCounterPrefixBytes + kFenceDigitsMax <= kNameBytesMax,
              "counter names must fit their buffers");

// N of "fence.<N>": canonical decimal (no sign, no leading zero), 1 to
// kFenceMax. false for anything else, so that "fence.01" and "fence.1"
// never both count as the counter.
bool ParseFenceDigits(Bytes digits, uint64_t* fence) {
  if (digits.size == 0 || digits.size > kFenceDigitsMax || digits.data[0] == '0') return false;
  uint64_t value = 0;
  for (uint32_t i = 0; i < digits.size; ++i) {
    const char c = digits.data[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (kFenceMax - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *fence = value;
  return true;
}

// One row per kind that carries a nonce: the grammar, once.
struct OwnerNamePrefix {
  NameKind kind;
  char letter;  // the prefix is "<letter>."
};
constexpr OwnerNamePrefix kOwnerNamePrefixes[] = {
    {NameKind::kEntry, 'o'},
    {NameKind::kRingEntry, 'f'},
    {NameKind::kTemporary, 't'},
    {NameKind::kAnchor, 'k'},
};

}  // namespace

const char* NameKindName(NameKind kind) {
  switch (kind) {
    case NameKind::kForeign: return "foreign";
    case NameKind::kEntry: return "entry";
    case NameKind::kRingEntry: return "fence-ring entry";
    case NameKind::kTemporary: return "temporary";
    case NameKind::kAnchor: return "anchor";
    case NameKind::kFenceCounter: return "fence counter";
    case NameKind::kOldFenceCounter: return "fence counter of an older version";
    case NameKind::kFormatMarker: return "format marker";
  }
  return "foreign";
}

ParsedName ParseName(Bytes name) {
  ParsedName parsed;
  if (Equal(name, OldFenceCounterName())) {
    parsed.kind = NameKind::kOldFenceCounter;
    return parsed;
  }
  if (Equal(name, FormatMarkerName())) {
    parsed.kind = NameKind::kFormatMarker;
    return parsed;
  }
  if (StartsWith(name, View(kFenceCounterPrefix))) {
    const Bytes digits{name.data + kFenceCounterPrefixBytes, name.size - kFenceCounterPrefixBytes};
    if (ParseFenceDigits(digits, &parsed.fence)) parsed.kind = NameKind::kFenceCounter;
    return parsed;
  }
  if (name.size != kOwnerNameBytes || name.data[1] != '.') return parsed;
  const Bytes hex{name.data + kNamePrefixBytes, kNonceHexDigits};
  for (const OwnerNamePrefix& prefix : kOwnerNamePrefixes) {
    if (name.data[0] != prefix.letter) continue;
    if (ParseId128(hex, &parsed.nonce)) parsed.kind = prefix.kind;
    return parsed;
  }
  return parsed;
}

void MakeOwnerName(NameKind kind, Id128 nonce, FixedBytes<kNameBytesMax>* out) {
  out->Clear();
  for (const OwnerNamePrefix& prefix : kOwnerNamePrefixes) {
    if (prefix.kind != kind) continue;
    char hex[kId128HexDigits];
    FormatId128(nonce, hex);
    out->AppendChar(prefix.letter);
    out->AppendChar('.');
    out->Append(Bytes{hex, kId128HexDigits});
    return;
  }
  // Not a kind with a nonce: a caller's bug. An empty name fails every Op
  // that uses it (no file has an empty name) rather than touching another.
}

void FenceCounterName(uint64_t fence, FixedBytes<kNameBytesMax>* out) {
  out->Clear();
  if (fence == 0 || fence > kFenceMax) return;  // a caller's bug: see MakeOwnerName
  char digits[kFenceDigitsMax];
  uint32_t count = 0;
  for (; fence != 0; fence /= 10) digits[count++] = static_cast<char>('0' + fence % 10);
  out->Append(View(kFenceCounterPrefix));
  while (count != 0) out->AppendChar(digits[--count]);
}

Bytes OldFenceCounterName() { return View(kOldFenceCounterName); }
Bytes FormatMarkerName() { return View(kFormatMarkerName); }
Bytes FormatMarkerRecord() { return View(kFormatMarkerRecord); }
Bytes FenceCounterRecord() { return View(kFenceCounterRecord); }

}  // namespace onlyone
