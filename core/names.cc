#include "core/names.h"

namespace onlyone {

namespace {

constexpr char kFenceCounterName[] = "fence";

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
  }
  return "foreign";
}

ParsedName ParseName(Bytes name) {
  ParsedName parsed;
  if (Equal(name, FenceCounterName())) {
    parsed.kind = NameKind::kFenceCounter;
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

Bytes FenceCounterName() { return View(kFenceCounterName); }

}  // namespace onlyone
