// The protocol's vocabulary: the names a lock directory holds and the order
// of tickets. Every driver, tool and binding asks this module instead of
// spelling a prefix or comparing tickets itself, so that the grammar lives in
// one place (docs/protocol.md uses these names).
//
// A lock directory holds:
//
//   o.<nonce>   an entry of the main ring: one contender, its owner record
//   f.<nonce>   an entry of the fence ring (slots > 1 only, while fencing)
//   t.<nonce>   the owner's only temporary, renamed onto one of the above
//   k.<nonce>   the owner's liveness anchor, if its platform keeps one
//   fence.<N>   the fencing counter: N (decimal) is the last token handed
//               out; the next holder renames it to fence.<N+1>
//   o.<zeros>   the format marker (nonce zero, which no contender draws):
//               says the counter is a fence.<N> name. Its record is of a
//               version older builds cannot read, so they refuse the lock
//               ("written by a newer onlyone") instead of fencing with:
//   fence       the counter of older builds (a fence record as its target);
//               read once, when fence.<N> is first made, never written
//
// <nonce> is 32 lowercase hex digits, the owner's Identity::nonce, most
// significant first. Every other name is foreign: never read, never removed
// (hazard H10).
#ifndef ONLYONE_CORE_NAMES_H_
#define ONLYONE_CORE_NAMES_H_

#include <stdint.h>

#include "core/bytes.h"
#include "core/record.h"

namespace onlyone {

// Longest name the protocol creates: a prefix plus 32 hex digits, or the
// counter's name "fence.<N>" (at most 6 + 19 bytes). Longer names in the
// directory are foreign.
constexpr uint32_t kNameBytesMax = 40;
constexpr uint32_t kNamePrefixBytes = 2;  // "o.", "f.", "t.", "k."
constexpr uint32_t kNonceHexDigits = 32;
constexpr uint32_t kOwnerNameBytes = kNamePrefixBytes + kNonceHexDigits;
static_assert(kOwnerNameBytes <= kNameBytesMax, "owner names must fit their buffers");

enum class NameKind : uint8_t {
  kForeign = 0,      // not the protocol's: skipped, counted, never touched
  kEntry,            // "o.<nonce>"
  kRingEntry,        // "f.<nonce>"
  kTemporary,        // "t.<nonce>"
  kAnchor,           // "k.<nonce>"
  kFenceCounter,     // "fence.<N>", 1 <= N <= kFenceMax
  kOldFenceCounter,  // "fence", the counter of older builds
  kFormatMarker,     // "o.<32 zeros>"
};

// The largest token the counter's name may spell; tickets share the limit
// (kTicketMax in core/contender.h).
constexpr uint64_t kFenceMax = UINT64_MAX / 2;
constexpr uint32_t kFenceDigitsMax = 19;  // decimal digits of kFenceMax

const char* NameKindName(NameKind kind);

struct ParsedName {
  NameKind kind = NameKind::kForeign;
  Id128 nonce;         // of the kinds with a nonce; zero otherwise
  uint64_t fence = 0;  // kFenceCounter: N
};

// What `name` is. Exactly the names MakeOwnerName, FenceCounterName,
// OldFenceCounterName and FormatMarkerName write parse as the protocol's;
// anything else (upper-case hex, a leading zero, another length, a
// lookalike prefix) is kForeign.
ParsedName ParseName(Bytes name);

// The name of kind `kind` (one that carries a nonce) for `nonce`.
// REQUIRES: kind is kEntry, kRingEntry, kTemporary or kAnchor.
void MakeOwnerName(NameKind kind, Id128 nonce, FixedBytes<kNameBytesMax>* out);

// "fence.<fence>". REQUIRES: 1 <= fence <= kFenceMax.
void FenceCounterName(uint64_t fence, FixedBytes<kNameBytesMax>* out);
// "fence".
Bytes OldFenceCounterName();
// "o.<32 zeros>", and the record it holds: "onlyone3.format", which every
// build before the fence.<N> counter reads as an unknown newer version.
Bytes FormatMarkerName();
Bytes FormatMarkerRecord();
// The target of a fence.<N> symlink: a constant, since the token is the
// name (a rename moves it without reading or writing it).
Bytes FenceCounterRecord();

// Whether a waiting scan reads names of this kind: the entries of either
// ring. Temporaries reach an entry by a rename, which changes the entry
// itself; anchors and the counter decide no rank.
inline bool IsRingEntry(NameKind kind) {
  return kind == NameKind::kEntry || kind == NameKind::kRingEntry;
}

// The bakery order: a contender's place in line is (ticket, nonce), and the
// nonce breaks ties, so no two live entries are ever equal.
struct Rank {
  uint64_t ticket = 0;
  Id128 nonce;
};

inline bool operator<(Rank a, Rank b) {
  return a.ticket < b.ticket || (a.ticket == b.ticket && a.nonce < b.nonce);
}

inline Rank RankOf(const OwnerRecord& record) { return Rank{record.ticket, record.owner.nonce}; }

}  // namespace onlyone

#endif  // ONLYONE_CORE_NAMES_H_
