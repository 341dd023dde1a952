// Fuzz target: one Contender fed arbitrary operation results.
//
// Nothing here is consistent: any status for any Op, listings that return any
// bytes as names, reads that return any bytes (garbage, truncated and forged
// records, the seeds' valid ones), any liveness verdict, clocks that jump
// both ways. The contender cannot be safe against a driver that lies (that is
// what core_world_fuzzer checks, with a driver that cannot), but it must stay
// sound: for any input,
//   - no crash, no read outside a buffer, no undefined behaviour (ASan,
//     UBSan);
//   - every Op satisfies CheckOp (its own names only, records that parse and
//     name itself, protocol names only) and every outcome CheckOutcome;
//   - after kDone it stays done, and it follows the API's REQUIRES clauses
//     as the fuzzer does (Release, Validate, Refresh only while holding).
//
// Input: a config byte, then for each step one byte choosing the result's
// shape and the bytes it needs (see NextResult).
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "core/contender.h"
#include "core/record.h"
#include "fuzz/check.h"
#include "fuzz/core_checks.h"
#include "fuzz/input.h"

namespace onlyone {
namespace fuzz {
namespace {

// Enough for many acquisitions, scans and waits; each step is microseconds.
constexpr int kStepsMax = 5000;
constexpr uint32_t kIoStatusCount = static_cast<uint32_t>(IoStatus::kIo) + 1;
constexpr uint32_t kLivenessCount = static_cast<uint32_t>(Liveness::kUnknown) + 1;

Identity MakeIdentity() {
  Identity id;
  id.nonce = Id128{0x0123456789abcdefull, 0xfedcba9876543210ull};
  id.pid = 4242;
  id.start_time = 123456;
  id.boot_id = Id128{0xa1b2c3d4e5f60718ull, 0x293a4b5c6d7e8f90ull};
  id.pid_namespace = 4026531836ull;
  id.host.Assign(View("fuzz"));
  id.command.Assign(View("job"));
  return id;
}

// A valid owner record of another contender, with fields from the input, so
// that the fuzzer reaches the probe, removal and ranking paths at once.
std::string ForgedRecord(FuzzInput* input) {
  OwnerRecord record;
  record.state = input->Bool() ? EntryState::kWaiting : EntryState::kChoosing;
  record.ticket = record.state == EntryState::kWaiting ? 1 + input->Below(8) : 0;
  if (input->Bool()) record.ticket = record.state == EntryState::kWaiting ? input->U64() | 1 : 0;
  record.slots = 1 + input->Below(3);
  record.owner.nonce = Id128{input->Below(4), input->Below(4)};
  record.owner.pid = input->U32();
  record.since_ms = input->U64();
  record.refreshed_ms = input->U64();
  RecordText text;
  // Either version: both are read from every entry.
  if (input->Bool()) {
    if (!EncodeRecord(record, &text)) return "garbage";
  } else {
    if (record.since_ms > record.refreshed_ms) record.since_ms = record.refreshed_ms;
    if (!EncodeCompactRecord(record, &text)) return "garbage";
  }
  return std::string(text.data, text.size);
}

// The result the driver "returns" for `op`. `storage` backs result.data until
// the next call.
Result NextResult(const Op& op, FuzzInput* input, std::string* storage) {
  Result result;
  const uint8_t shape = input->Byte();
  // Low bits: mostly success, so that runs get deep into the protocol.
  result.status =
      (shape & 0x3) != 0 ? IoStatus::kOk : static_cast<IoStatus>(input->Below(kIoStatusCount));
  if (op.kind == OpKind::kListNext && (shape & 0x3) == 1) result.status = IoStatus::kEnd;
  result.os_error = (shape & 0x4) != 0 ? static_cast<int32_t>(input->U32()) : 0;
  result.liveness = static_cast<Liveness>(input->Below(kLivenessCount));
  if ((shape & 0x8) != 0) {
    result.mono_ms = input->U64();
    result.wall_ms = input->U64();
  }
  switch ((shape >> 4) & 0x3) {
    case 0: *storage = input->ShortString(); break;
    case 1: *storage = ForgedRecord(input); break;
    case 2: {
      constexpr NameKind kKinds[] = {NameKind::kEntry, NameKind::kRingEntry, NameKind::kTemporary,
                                     NameKind::kAnchor};
      *storage = ProtocolName(kKinds[input->Below(4)], Id128{input->Below(4), input->Below(4)});
      break;
    }
    case 3: *storage = input->Bool() ? CounterText(1 + input->Below(8)) : OldCounterText(); break;
  }
  result.data = Bytes{storage->data(), static_cast<uint32_t>(storage->size())};
  return result;
}

// What the fuzzer asks of the contender next, within its REQUIRES clauses.
Op StartNext(Contender* contender, FuzzInput* input) {
  const uint8_t choice = input->Byte();
  const uint64_t now_ms = input->U32();
  if (contender->holding()) {
    switch (choice % 4) {
      case 0: return contender->Validate();
      case 1: return contender->Refresh(now_ms);
      case 2: return contender->Cleanup(now_ms);
      default: return contender->Release();
    }
  }
  if (choice % 4 == 0) return contender->Cleanup(now_ms);
  const uint64_t deadline_ms = choice % 4 == 1 ? now_ms : now_ms + input->Below(100);
  return contender->Acquire(now_ms, now_ms, choice % 4 == 3 ? kNoDeadline : deadline_ms);
}

}  // namespace
}  // namespace fuzz
}  // namespace onlyone

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onlyone;
  using namespace onlyone::fuzz;
  FuzzInput input(data, size);
  Config config;
  config.slots = 1 + input.Below(3);
  config.lease_ms = input.Bool() ? input.Below(100) : 0;
  const Identity identity = MakeIdentity();
  Contender contender;
  contender.Init(config, identity);
  std::string storage;
  Op op = StartNext(&contender, &input);
  for (int step = 0; step < kStepsMax && !input.Empty(); ++step) {
    CheckOp(op, identity.nonce);
    if (op.kind == OpKind::kDone) {
      CheckOutcome(contender);
      // Done stays done: a stray result changes nothing.
      const Outcome outcome = contender.outcome();
      FUZZ_CHECK(contender.Step(Result{}).kind == OpKind::kDone);
      FUZZ_CHECK(contender.outcome() == outcome);
      op = StartNext(&contender, &input);
      continue;
    }
    const Result result = NextResult(op, &input, &storage);
    op = contender.Step(result);
  }
  return 0;
}
