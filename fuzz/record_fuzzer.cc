// Fuzz target: the owner-record and fence-record parsers (core/record.h).
//
// Entries in a shared lock directory are written by other users' processes,
// so every byte read back is untrusted. Properties, for any input:
//   - parsing never crashes and never reads outside the input (ASan);
//   - an error's offset lies within the input;
//   - a record the parser accepts re-encodes to exactly the same bytes (the
//     codec is canonical: one record, one text), and that text parses back
//     to the same record.
// The input is offered whole to both parsers: the core tries an owner record
// first and a fence record for temporaries (contender.cc, OnEntryRead).
#include <stddef.h>
#include <stdint.h>

#include "core/record.h"
#include "fuzz/check.h"

namespace onlyone {
namespace {

// Inputs far beyond kRecordBytesMax all take the same "too long" path;
// capping keeps the Bytes size in range without hiding anything.
constexpr size_t kInputBytesMax = size_t{4} * kRecordBytesMax;

bool SameIdentity(const Identity& a, const Identity& b) {
  return a.nonce == b.nonce && a.pid == b.pid && a.start_time == b.start_time &&
         a.boot_id == b.boot_id && a.pid_namespace == b.pid_namespace &&
         Equal(a.host.view(), b.host.view()) && Equal(a.command.view(), b.command.view());
}

void CheckOwnerRecord(Bytes text) {
  OwnerRecord record;
  const ParseResult parsed = ParseRecord(text, &record);
  FUZZ_CHECK(parsed.offset <= text.size || parsed.error == ParseError::kTooLong);
  if (parsed.error != ParseError::kNone) return;
  RecordText encoded;
  if (parsed.version == 1) {
    FUZZ_CHECK(EncodeRecord(record, &encoded));
  } else {
    FUZZ_CHECK(parsed.version == 2);
    FUZZ_CHECK(EncodeCompactRecord(record, &encoded));
  }
  FUZZ_CHECK(Equal(encoded.view(), text));
  // Under the name its nonce spells, a record parses the same.
  OwnerRecord named;
  FUZZ_CHECK(ParseRecord(text, record.owner.nonce, &named).error == ParseError::kNone);
  OwnerRecord again;
  FUZZ_CHECK(ParseRecord(encoded.view(), &again).error == ParseError::kNone);
  FUZZ_CHECK(again.state == record.state && again.ticket == record.ticket &&
             again.slots == record.slots && again.since_ms == record.since_ms &&
             again.refreshed_ms == record.refreshed_ms && SameIdentity(again.owner, record.owner));
}

void CheckFenceRecord(Bytes text) {
  FenceRecord record;
  const ParseResult parsed = ParseFence(text, &record);
  FUZZ_CHECK(parsed.offset <= text.size || parsed.error == ParseError::kTooLong);
  if (parsed.error != ParseError::kNone) return;
  RecordText encoded;
  FUZZ_CHECK(parsed.version == 1 ? EncodeFence(record, &encoded)
                                 : EncodeCompactFence(record, &encoded));
  FUZZ_CHECK(Equal(encoded.view(), text));
  FenceRecord again;
  FUZZ_CHECK(ParseFence(encoded.view(), &again).error == ParseError::kNone);
  FUZZ_CHECK(again.fence == record.fence && SameIdentity(again.owner, record.owner));
}

}  // namespace
}  // namespace onlyone

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > onlyone::kInputBytesMax) size = onlyone::kInputBytesMax;
  const onlyone::Bytes text{reinterpret_cast<const char*>(data), static_cast<uint32_t>(size)};
  onlyone::CheckOwnerRecord(text);
  onlyone::CheckFenceRecord(text);
  return 0;
}
