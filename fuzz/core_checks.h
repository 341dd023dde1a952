// The core's own invariants, as the core fuzzers check them on every Op a
// Contender issues and on every outcome it reaches. What the protocol must
// guarantee across processes (P1, P2, P6, no leaked entries) is the
// simulator's to check (sim/world.h); these are the promises of one machine
// that hold whatever results it is fed.
#ifndef ONLYONE_FUZZ_CORE_CHECKS_H_
#define ONLYONE_FUZZ_CORE_CHECKS_H_

#include <string>

#include "core/bytes.h"
#include "core/contender.h"
#include "core/record.h"
#include "fuzz/check.h"

namespace onlyone {
namespace fuzz {

// The protocol's names: "fence", or a prefix ("o.", "f.", "t.", "k.") and 32
// lowercase hex digits. The core operates on nothing else, whatever names a
// listing returns.
inline bool IsProtocolName(Bytes name) {
  if (Equal(name, View("fence"))) return true;
  if (name.size != 34 || name.data[1] != '.') return false;
  const char prefix = name.data[0];
  if (prefix != 'o' && prefix != 'f' && prefix != 't' && prefix != 'k') return false;
  for (uint32_t i = 2; i < name.size; ++i) {
    const char c = name.data[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

inline Bytes ViewOf(const std::string& text) {
  return Bytes{text.data(), static_cast<uint32_t>(text.size())};
}

// "<prefix>.<32 lowercase hex digits of nonce>", as the core names entries.
inline std::string ProtocolName(char prefix, Id128 nonce) {
  static const char kHex[] = "0123456789abcdef";
  std::string name = {prefix, '.'};
  for (int shift = 60; shift >= 0; shift -= 4) name += kHex[(nonce.hi >> shift) & 0xF];
  for (int shift = 60; shift >= 0; shift -= 4) name += kHex[(nonce.lo >> shift) & 0xF];
  return name;
}

// `name` is "<prefix>.<nonce of `own`>".
inline bool IsOwnName(Bytes name, Id128 own) {
  if (!IsProtocolName(name) || name.size != 34) return false;
  return Equal(name, ViewOf(ProtocolName(name.data[0], own)));
}

// One Op, before it is performed. `own` is the issuing contender's nonce.
inline void CheckOp(OpKind kind, Bytes name, Bytes from, Bytes record, Id128 own) {
  FUZZ_CHECK(kind != OpKind::kNone);
  switch (kind) {
    case OpKind::kCreate: {
      // Only its own names, with a record naming itself: a contender never
      // writes anything that another would misread as someone else's.
      FUZZ_CHECK(IsOwnName(name, own));
      FUZZ_CHECK(record.size <= kRecordBytesMax);
      OwnerRecord owner;
      FenceRecord fence;
      if (ParseRecord(record, own, &owner).error != ParseError::kNone) {
        const ParseResult parsed = ParseFence(record, &fence);
        FUZZ_CHECK(parsed.error == ParseError::kNone);
        // A version 2 fence record leaves the nonce to its temporary's name.
        FUZZ_CHECK(parsed.version == 2 || fence.owner.nonce == own);
      }
      break;
    }
    case OpKind::kRename:
      FUZZ_CHECK(IsOwnName(from, own) && from.data[0] == 't');
      FUZZ_CHECK(IsOwnName(name, own) || Equal(name, View("fence")));
      break;
    case OpKind::kRead:
    case OpKind::kRemove: FUZZ_CHECK(IsProtocolName(name)); break;
    case OpKind::kWait: FUZZ_CHECK(name.size == 0 || IsProtocolName(name)); break;
    case OpKind::kListStart:
    case OpKind::kListNext:
    case OpKind::kProbe:
    case OpKind::kDone:
    case OpKind::kNone: break;
  }
}

// After a Contender finished an operation (its Op was kDone).
inline void CheckOutcome(const Contender& contender) {
  const Outcome outcome = contender.outcome();
  FUZZ_CHECK(outcome != Outcome::kRunning);
  if (outcome == Outcome::kAcquired || outcome == Outcome::kHeld) {
    FUZZ_CHECK(contender.holding());
    FUZZ_CHECK(contender.fence() > 0);
  }
  if (outcome == Outcome::kBusy || outcome == Outcome::kReleased || outcome == Outcome::kLost) {
    FUZZ_CHECK(!contender.holding());
  }
  if (outcome == Outcome::kFailed) FUZZ_CHECK(contender.failure().kind != FailureKind::kNone);
  if (outcome != Outcome::kFailed) FUZZ_CHECK(!contender.failure().entry_left_behind);
}

}  // namespace fuzz
}  // namespace onlyone

#endif  // ONLYONE_FUZZ_CORE_CHECKS_H_
