#include "sim/broken_steal.h"

#include "core/fingerprint.h"

namespace onlyone {
namespace sim {
namespace {

constexpr char kLockName[] = "lock";

Op MakeOp(OpKind kind, const char* name) {
  Op op;
  op.kind = kind;
  op.name = View(name);
  return op;
}

}  // namespace

void BrokenSteal::Init(const Identity& identity) {
  *this = BrokenSteal();
  mine_.owner = identity;
  mine_.state = EntryState::kWaiting;
  mine_.ticket = 1;
  // A lock file of this kind names its owner in its record: the full version.
  EncodeRecord(mine_, &text_);
}

Op BrokenSteal::Create() {
  phase_ = Phase::kCreate;
  Op op = MakeOp(OpKind::kCreate, kLockName);
  op.record = text_.view();
  return op;
}

Op BrokenSteal::Finish(Outcome outcome) {
  outcome_ = outcome;
  phase_ = Phase::kDone;
  return Op{OpKind::kDone, {}, {}, {}, nullptr, kNoDeadline};
}

Op BrokenSteal::Acquire(bool try_mode) {
  try_mode_ = try_mode;
  outcome_ = Outcome::kRunning;
  return Create();
}

Op BrokenSteal::Release() {
  outcome_ = Outcome::kRunning;
  phase_ = Phase::kRelease;
  return MakeOp(OpKind::kRemove, kLockName);
}

Op BrokenSteal::Step(const Result& result) {
  switch (phase_) {
    case Phase::kCreate:
      if (result.status == IoStatus::kOk) return Finish(Outcome::kAcquired);
      phase_ = Phase::kRead;
      return MakeOp(OpKind::kRead, kLockName);
    case Phase::kRead:
      if (result.status == IoStatus::kNotFound) return Create();
      if (result.status != IoStatus::kOk ||
          ParseRecord(result.data, &other_).error != ParseError::kNone) {
        return Finish(Outcome::kFailed);
      }
      phase_ = Phase::kProbe;
      {
        Op op;
        op.kind = OpKind::kProbe;
        op.owner = &other_;
        return op;
      }
    case Phase::kProbe:
      if (result.liveness == Liveness::kDead) {
        // The bug: remove by a name that someone else may have re-created
        // since we judged its owner dead.
        phase_ = Phase::kRemoveStale;
        return MakeOp(OpKind::kRemove, kLockName);
      }
      if (try_mode_) return Finish(Outcome::kBusy);
      phase_ = Phase::kWait;
      return MakeOp(OpKind::kWait, kLockName);
    case Phase::kRemoveStale:
    case Phase::kWait: return Create();
    case Phase::kRelease:
      return Finish(result.status == IoStatus::kOk ? Outcome::kReleased : Outcome::kLost);
    case Phase::kIdle:
    case Phase::kDone: break;
  }
  return Finish(outcome_);
}

uint64_t BrokenSteal::ProtocolFingerprint(uint64_t seed) const {
  Hasher hash(seed);
  hash.Word(static_cast<uint64_t>(phase_));
  hash.Word(static_cast<uint64_t>(outcome_));
  hash.Word(try_mode_ ? 1 : 0);
  hash.Word(other_.owner.pid);
  hash.Word(other_.owner.start_time);
  hash.Id(mine_.owner.nonce);
  return hash.value();
}

}  // namespace sim
}  // namespace onlyone
