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
#include "core/names.h"
#include "core/record.h"
#include "fuzz/check.h"

namespace onlyone {
namespace fuzz {

// The protocol's names (core/names.h). The core operates on nothing else,
// whatever names a listing returns.
inline bool IsProtocolName(Bytes name) { return ParseName(name).kind != NameKind::kForeign; }

inline Bytes ViewOf(const std::string& text) {
  return Bytes{text.data(), static_cast<uint32_t>(text.size())};
}

inline std::string ProtocolName(NameKind kind, Id128 nonce) {
  FixedBytes<kNameBytesMax> name;
  MakeOwnerName(kind, nonce, &name);
  return std::string(name.data, name.size);
}

inline std::string CounterText(uint64_t fence) {
  FixedBytes<kNameBytesMax> name;
  FenceCounterName(fence, &name);
  return std::string(name.data, name.size);
}

inline std::string OldCounterText() {
  return std::string(OldFenceCounterName().data, OldFenceCounterName().size);
}

// `name` is one of the names that carry a nonce, and the nonce is `own`.
inline bool IsOwnName(Bytes name, Id128 own) {
  const ParsedName parsed = ParseName(name);
  return parsed.kind != NameKind::kForeign && parsed.kind != NameKind::kFenceCounter &&
         parsed.kind != NameKind::kOldFenceCounter && parsed.kind != NameKind::kFormatMarker &&
         parsed.nonce == own;
}

// One Op, before it is performed. `own` is the issuing contender's nonce.
inline void CheckOp(const Op& op, Id128 own) {
  const OpKind kind = op.kind;
  const Bytes name = op.name;
  FUZZ_CHECK(kind != OpKind::kNone);
  switch (kind) {
    case OpKind::kCreate: {
      // The counter and the marker, each with its one record.
      const NameKind created = ParseName(name).kind;
      if (created == NameKind::kFenceCounter || created == NameKind::kFormatMarker) {
        FUZZ_CHECK(Equal(op.record, created == NameKind::kFenceCounter ? FenceCounterRecord()
                                                                       : FormatMarkerRecord()));
        break;
      }
      // Otherwise only its own names, with a record naming itself: a
      // contender never writes anything that another would misread as
      // someone else's.
      FUZZ_CHECK(IsOwnName(name, own));
      FUZZ_CHECK(op.record.size <= kRecordBytesMax);
      OwnerRecord owner;
      FenceRecord fence;
      if (ParseRecord(op.record, own, &owner).error != ParseError::kNone) {
        const ParseResult parsed = ParseFence(op.record, &fence);
        FUZZ_CHECK(parsed.error == ParseError::kNone);
        // A version 2 fence record leaves the nonce to its temporary's name.
        FUZZ_CHECK(parsed.version == 2 || fence.owner.nonce == own);
      }
      break;
    }
    case OpKind::kRename:
      FUZZ_CHECK(IsOwnName(op.from, own) && ParseName(op.from).kind == NameKind::kTemporary);
      FUZZ_CHECK(IsOwnName(name, own));
      break;
    case OpKind::kMove: {
      // Only the counter, and only one step up.
      const ParsedName from = ParseName(op.from);
      const ParsedName to = ParseName(name);
      FUZZ_CHECK(from.kind == NameKind::kFenceCounter && to.kind == NameKind::kFenceCounter);
      FUZZ_CHECK(to.fence == from.fence + 1);
      break;
    }
    case OpKind::kRead:
    case OpKind::kRemove: FUZZ_CHECK(IsProtocolName(name)); break;
    case OpKind::kWait:
      // A named wait names an entry of a ring, never our own; only a wait
      // for any change names none.
      FUZZ_CHECK((op.wait_reason == WaitReason::kAnyChange) == (name.size == 0));
      FUZZ_CHECK(name.size == 0 || (IsRingEntry(ParseName(name).kind) && !IsOwnName(name, own)));
      break;
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
