#include "sim/backend.h"

#include <algorithm>
#include <thread>

#include "core/record.h"

namespace onlyone {
namespace sim {
namespace {

// A contender never needs more Ops than this for one operation on a lock of
// a few entries; more means a livelock, which the suite must see as a
// failure rather than hang on.
constexpr int kStepsMax = 10 * 1000 * 1000;
// How often a waiter calls its observer, in simulated ms.
constexpr uint64_t kObserverIntervalMs = 1000;

Bytes ViewOf(const std::string& text) {
  return Bytes{text.data(), static_cast<uint32_t>(text.size())};
}

// Any Op: its result carries both clocks.
Op ClockOp() {
  Op op;
  op.kind = OpKind::kRead;
  op.name = View("o.clock");
  return op;
}

}  // namespace

Holder HolderFromRecord(const OwnerRecord& record) {
  Holder holder;
  holder.pid = record.owner.pid;
  holder.host.assign(record.owner.host.data, record.owner.host.size);
  holder.command.assign(record.owner.command.data, record.owner.command.size);
  holder.since_ms = record.since_ms;
  holder.ticket = record.ticket;
  holder.slots = record.slots;
  return holder;
}

Identity SimLock::NewIdentity(const std::string& command) {
  std::lock_guard<std::mutex> guard(mutex_);
  return platform_.NewIdentity(command);
}

Result SimLock::Perform(const Op& op, std::string* data) {
  std::lock_guard<std::mutex> guard(mutex_);
  Result result = platform_.Perform(op);
  data->assign(result.data.data, result.data.size);
  result.data = ViewOf(*data);
  return result;
}

bool SimLock::Remove(Bytes entry_name) {
  Op op;
  op.kind = OpKind::kRemove;
  op.name = entry_name;
  std::string data;
  return Perform(op, &data).status == IoStatus::kOk;
}

std::vector<Holder> SimLock::List() {
  std::vector<OwnerRecord> records;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (const auto& node : platform_.world().fs()) {
      if (node.first.compare(0, 2, "o.") != 0 || !node.second.symlink) continue;
      OwnerRecord record;
      if (ParseRecord(ViewOf(node.second.content), &record).error == ParseError::kNone) {
        records.push_back(record);
      }
    }
  }
  // Holders first: the smallest tickets, as the core decides (choosing
  // entries, ticket 0, last). Every simulated owner lives.
  std::stable_sort(records.begin(), records.end(), [](const OwnerRecord& a, const OwnerRecord& b) {
    return (a.ticket == 0 ? UINT64_MAX : a.ticket) < (b.ticket == 0 ? UINT64_MAX : b.ticket);
  });
  std::vector<Holder> entries;
  for (const OwnerRecord& record : records) {
    Holder holder = HolderFromRecord(record);
    holder.holding = record.ticket != 0 && entries.size() < record.slots;
    holder.alive_known = true;
    entries.push_back(holder);
  }
  return entries;
}

SimBackend::SimBackend(SimLock* lock, uint32_t slots, const std::string& command) : lock_(lock) {
  identity_ = lock_->NewIdentity(command);
  Config config;
  config.slots = slots;
  config.full_records = true;  // host and command in the record: no anchor keeps them
  contender_.Init(config, identity_);
}

bool SimBackend::Fail(BackendError error, const std::string& message) {
  status_ = BackendStatus();
  status_.error = error;
  status_.message = message;
  return false;
}

bool SimBackend::Run(Op op, uint64_t started_mono_ms) {
  uint64_t next_observe_ms = started_mono_ms + kObserverIntervalMs;
  for (int step = 0; step < kStepsMax && op.kind != OpKind::kDone; ++step) {
    Result result;
    if (op.kind == OpKind::kWait && cancelled_.load()) {
      // A wait that "timed out": the core leaves the queue as it would at
      // its deadline, and the caller reports kCancelled.
      result = lock_->Perform(ClockOp(), &data_);
      result.status = IoStatus::kTimedOut;
    } else {
      result = lock_->Perform(op, &data_);
    }
    if (op.kind == OpKind::kWait) {
      if (observer_ && result.mono_ms >= next_observe_ms) {
        const bool known = contender_.has_blocker();
        const Holder holder = HolderFromRecord(contender_.blocker());
        observer_(known ? &holder : nullptr, result.mono_ms - started_mono_ms);
        next_observe_ms = result.mono_ms + kObserverIntervalMs;
      }
      std::this_thread::yield();  // let the contender we wait for act
    }
    op = contender_.Step(result);
  }
  return op.kind == OpKind::kDone;
}

bool SimBackend::AcquireUntil(bool try_once, uint64_t deadline_mono_ms) {
  if (held_) return Fail(BackendError::kInvalidArgument, "'" + name() + "' is already held");
  const Result now = lock_->Perform(ClockOp(), &data_);
  const uint64_t deadline = try_once ? now.mono_ms : deadline_mono_ms;
  if (!Run(contender_.Acquire(now.mono_ms, now.wall_ms, deadline), now.mono_ms)) {
    return Fail(BackendError::kIo, "the contender did not finish");
  }
  status_ = BackendStatus();
  switch (contender_.outcome()) {
    case Outcome::kAcquired: held_ = true; return true;
    case Outcome::kBusy:
      if (cancelled_.load()) return Fail(BackendError::kCancelled, "cancelled while waiting");
      Fail(BackendError::kBusy, "'" + name() + "' is held by others");
      status_.has_holder = contender_.has_blocker();
      if (status_.has_holder) status_.holder = HolderFromRecord(contender_.blocker());
      status_.holder.holding = true;
      return false;
    default:
      return Fail(BackendError::kIo,
                  std::string("acquire failed: ") + FailureKindName(contender_.failure().kind));
  }
}

bool SimBackend::Acquire(int64_t timeout_ms) {
  if (timeout_ms == kWaitForever) return AcquireUntil(false, kNoDeadline);
  const Result now = lock_->Perform(ClockOp(), &data_);
  return AcquireUntil(false, now.mono_ms + static_cast<uint64_t>(timeout_ms));
}

bool SimBackend::Release() {
  if (!held_) return Fail(BackendError::kInvalidArgument, "'" + name() + "' is not held");
  held_ = false;
  if (!Run(contender_.Release(), 0)) return Fail(BackendError::kIo, "release did not finish");
  if (contender_.outcome() == Outcome::kLost) {
    return Fail(BackendError::kLost, "our entry had been removed");
  }
  status_ = BackendStatus();
  return contender_.outcome() == Outcome::kReleased ||
         Fail(BackendError::kIo, OutcomeName(contender_.outcome()));
}

bool SimBackend::Validate() {
  if (!held_) return Fail(BackendError::kInvalidArgument, "'" + name() + "' is not held");
  if (!Run(contender_.Validate(), 0)) return Fail(BackendError::kIo, "validate did not finish");
  if (contender_.outcome() == Outcome::kHeld) {
    status_ = BackendStatus();
    return true;
  }
  if (contender_.outcome() == Outcome::kLost) {
    held_ = false;
    return Fail(BackendError::kLost, "our entry had been removed or replaced");
  }
  return Fail(BackendError::kIo, OutcomeName(contender_.outcome()));
}

Backend::Hold SimBackend::CheckHold(std::string* why, int64_t* next_check_ms) {
  *next_check_ms = kCheckIntervalMs;
  if (Validate()) return Hold::kHeld;
  *why = DescribeBackendStatus(status_);
  return Hold::kLost;
}

bool SimBackend::List(std::vector<Holder>* entries) {
  *entries = lock_->List();
  status_ = BackendStatus();
  return true;
}

}  // namespace sim
}  // namespace onlyone
