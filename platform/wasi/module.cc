// The onlyone WebAssembly module: the protocol core and the WASI driver,
// driven through the exports declared in host.h.
//
// One module instance is one contender on one lock directory (the first
// preopen). State lives in one static Module: the instance's linear memory is
// its storage, and there is no allocator to give it any other.
//
// Exports run the Contender until it is done or needs to wait; a wait is
// handed back to the host as kStepPause (host.h explains why), and
// onlyone_resume continues it. Calls in the wrong state (release without
// holding, resume without a pause) answer kStepFailed with a message and
// change nothing.
#include "core/contender.h"
#include "core/record.h"
#include "platform/wasi/driver.h"
#include "platform/wasi/host.h"

#define ONLYONE_EXPORT(name) extern "C" __attribute__((export_name(#name)))

namespace onlyone {
namespace wasi {
namespace {

// Longest line onlyone_message() returns, with its NUL.
constexpr uint32_t kMessageBytesMax = 200;
// onlyone_acquire's timeout that means "wait forever".
constexpr int64_t kTimeoutForever = -1;

class Text {
 public:
  Text& Add(Bytes bytes) {
    // Cut, never overflow: a message is for humans.
    line_.Append(Bytes{bytes.data, bytes.size < Room() ? bytes.size : Room()});
    return *this;
  }
  Text& Add(const char* text) { return Add(View(text)); }
  Text& Number(uint64_t value) {
    char digits[20];
    uint32_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) Add(Bytes{&digits[--count], 1});
    return *this;
  }
  void Clear() { line_.Clear(); }
  // NUL-terminated: the buffer keeps one byte spare (see Room).
  const char* c_str() const { return line_.data; }

 private:
  uint32_t Room() const { return kMessageBytesMax - 1 - line_.size; }
  FixedBytes<kMessageBytesMax> line_;
};

struct Module {
  bool configured = false;
  int32_t dir_fd = 0;
  Config config;
  FixedBytes<kCommandBytesMax> command;
  char input[kInputBytesMax] = {};

  Contender contender;
  // A wait handed to the host: its deadline, and the next pause.
  bool pausing = false;
  uint64_t wait_deadline_mono_ms = kNoDeadline;
  uint32_t pause_ms = 0;
  uint32_t next_pause_ms = kPollFirstPauseMs;
  // The wait's one entry whose change can let us in (Op::name of kWait);
  // empty: any change. One byte spare, and Clear() zeroes: NUL-terminated.
  FixedBytes<kNameBytesMax + 1> wait_name;
  const char* doing = "acquire";  // for messages

  // The acquisition under way: when it ends, and whether it is a try.
  uint64_t acquire_deadline_mono_ms = kNoDeadline;
  bool acquire_try = false;

  uint64_t fence = 0;
  HostHolder blocker = {};
  bool has_blocker = false;
  Text message;
};

Module module_state;
// Apart from module_state: all zero, so it takes no room in the module file
// (its 32 KiB of buffers go to .bss), where module_state's non-zero defaults
// (deadlines of kNoDeadline) put all of module_state in .data.
Driver driver;

int32_t Refuse(const char* why) {
  module_state.message.Clear();
  module_state.message.Add("onlyone: ").Add(why);
  return kStepFailed;
}

void DescribeFailure() {
  Module& m = module_state;
  const Failure& failure = m.contender.failure();
  m.message.Clear();
  m.message.Add("onlyone: cannot ").Add(m.doing).Add(": ");
  if (failure.kind == FailureKind::kIo) {
    m.message.Add(IoStatusName(failure.status));
    if (failure.os_error != 0)
      m.message.Add(" (WASI errno ").Number(static_cast<uint32_t>(failure.os_error)).Add(")");
  } else {
    m.message.Add(FailureKindName(failure.kind));
  }
  if (failure.name.size != 0) m.message.Add(" on ").Add(failure.name.view());
  if (failure.entry_left_behind) {
    m.message.Add("; our entry could not be removed and blocks others until this process exits");
  }
}

void NoteBlocker() {
  Module& m = module_state;
  m.has_blocker = m.contender.has_blocker();
  m.blocker = HostHolder{};
  if (!m.has_blocker) return;
  OwnerRecord record = m.contender.blocker();
  driver.ReadAnchorOwner(&record);
  m.blocker.pid = record.owner.pid;
  m.blocker.slots = record.slots;
  m.blocker.since_ms = record.since_ms;
  m.blocker.ticket = record.ticket;
  m.blocker.host_bytes = record.owner.host.size;
  for (uint32_t i = 0; i < record.owner.host.size; ++i)
    m.blocker.host[i] = record.owner.host.data[i];
  m.blocker.command_bytes = record.owner.command.size;
  for (uint32_t i = 0; i < record.owner.command.size; ++i) {
    m.blocker.command[i] = record.owner.command.data[i];
  }
}

int32_t Finish() {
  Module& m = module_state;
  switch (m.contender.outcome()) {
    case Outcome::kAcquired: m.fence = m.contender.fence(); return kStepAcquired;
    case Outcome::kBusy: NoteBlocker(); return kStepBusy;
    case Outcome::kReleased: return kStepReleased;
    case Outcome::kHeld: return kStepHeld;
    case Outcome::kLost:
      m.message.Clear();
      m.message.Add("onlyone: the lock was lost: our entry had been removed by someone else");
      return kStepLost;
    case Outcome::kFailed: DescribeFailure(); return kStepFailed;
    case Outcome::kRunning:
    case Outcome::kCleaned: break;
  }
  return Refuse("internal error: unexpected outcome");
}

// Draws a nonce and starts an acquisition that ends by the module's
// acquire_deadline_mono_ms. false: no randomness for the nonce.
bool StartAcquisition(Op* op) {
  Module& m = module_state;
  Identity identity;
  int32_t os_error = 0;
  if (!RandomNonce(&identity.nonce, &os_error)) return false;
  HostProcess self = {};
  onlyone_host_identity(&self);
  identity.pid = self.pid;
  identity.start_time = self.start_time;
  identity.boot_id = Id128{self.boot_id_hi, self.boot_id_lo};
  identity.pid_namespace = self.pid_namespace;
  const uint32_t host_bytes = self.host_bytes < kHostBytesMax ? self.host_bytes : kHostBytesMax;
  identity.host.Assign(Bytes{self.host, host_bytes});
  identity.command = m.command;
  m.contender.Init(m.config, identity);
  m.next_pause_ms = kPollFirstPauseMs;
  *op = m.contender.Acquire(MonotonicMs(), WallMs(), m.acquire_deadline_mono_ms);
  return true;
}

// A waiter that stalled past its own lease gives its place up
// (Contender::lease_ran_out) and, with time left, queues again under a new
// nonce: under the same one, a remover that read its old record could
// remove the new one.
bool Requeue(Op* op) {
  const Module& m = module_state;
  if (m.contender.outcome() != Outcome::kBusy || !m.contender.lease_ran_out() || m.acquire_try) {
    return false;
  }
  if (m.acquire_deadline_mono_ms != kNoDeadline && MonotonicMs() >= m.acquire_deadline_mono_ms) {
    return false;
  }
  return StartAcquisition(op);
}

// Runs the Contender from `op` until it is done or waits.
int32_t Run(Op op) {
  Module& m = module_state;
  for (;;) {
    if (op.kind == OpKind::kDone) {
      if (Requeue(&op)) continue;
      return Finish();
    }
    if (op.kind == OpKind::kWait) {
      const uint64_t now = MonotonicMs();
      if (op.deadline_mono_ms != kNoDeadline && now >= op.deadline_mono_ms) {
        Result timed_out;
        timed_out.status = IoStatus::kTimedOut;
        timed_out.mono_ms = now;
        timed_out.wall_ms = WallMs();
        op = m.contender.Step(timed_out);
        continue;
      }
      uint64_t pause = m.next_pause_ms;
      if (op.deadline_mono_ms != kNoDeadline && op.deadline_mono_ms - now < pause) {
        pause = op.deadline_mono_ms - now;
      }
      m.next_pause_ms =
          m.next_pause_ms * 2 > kPollLongestPauseMs ? kPollLongestPauseMs : m.next_pause_ms * 2;
      m.pausing = true;
      m.wait_name.Clear();
      if (op.name.size <= kNameBytesMax) m.wait_name.Assign(op.name);
      m.wait_deadline_mono_ms = op.deadline_mono_ms;
      m.pause_ms = static_cast<uint32_t>(pause);
      return kStepPause;
    }
    op = m.contender.Step(driver.Perform(op));
  }
}

bool Idle() { return module_state.configured && !module_state.pausing; }

}  // namespace
}  // namespace wasi
}  // namespace onlyone

using onlyone::wasi::module_state;
namespace w = onlyone::wasi;

ONLYONE_EXPORT(onlyone_input) char* onlyone_input() { return module_state.input; }

ONLYONE_EXPORT(onlyone_configure)
int32_t onlyone_configure(int32_t slots, int64_t lease_ms, int32_t command_bytes) {
  w::Module& m = module_state;
  if (m.pausing || m.contender.holding()) return w::Refuse("configure while acquiring or holding");
  if (slots < 1 || static_cast<uint32_t>(slots) > onlyone::kSlotsMax) {
    return w::Refuse("slots must be between 1 and 1024");
  }
  if (lease_ms < 0) return w::Refuse("lease_ms must not be negative");
  if (command_bytes < 0 || static_cast<uint32_t>(command_bytes) > onlyone::kCommandBytesMax) {
    return w::Refuse("the command summary is longer than 96 bytes");
  }
  if (!w::FindLockDirectory(&m.dir_fd)) {
    return w::Refuse("no preopened directory: the host must preopen the lock directory");
  }
  w::driver.Open(m.dir_fd);
  m.config.slots = static_cast<uint32_t>(slots);
  m.config.lease_ms = static_cast<uint64_t>(lease_ms);
  // No anchor file here to keep the host and command in: records carry them.
  m.config.full_records = true;
  // The driver moves the fence counter with a link and an unlink.
  m.config.linked_moves = true;
  m.command.Assign(onlyone::Bytes{m.input, static_cast<uint32_t>(command_bytes)});
  m.configured = true;
  return w::kStepReady;
}

ONLYONE_EXPORT(onlyone_acquire) int32_t onlyone_acquire(int64_t timeout_ms) {
  w::Module& m = module_state;
  if (!w::Idle()) return w::Refuse("acquire before configure, or while waiting");
  if (m.contender.holding()) return w::Refuse("acquire while holding: release first");
  if (timeout_ms < w::kTimeoutForever) return w::Refuse("timeout_ms must be -1, 0 or positive");
  const uint64_t now = w::MonotonicMs();
  m.acquire_deadline_mono_ms = onlyone::kNoDeadline;
  if (timeout_ms >= 0) m.acquire_deadline_mono_ms = now + static_cast<uint64_t>(timeout_ms);
  m.acquire_try = timeout_ms == 0;
  m.doing = "acquire";
  m.has_blocker = false;
  m.fence = 0;
  onlyone::Op first;
  if (!w::StartAcquisition(&first)) return w::Refuse("random_get failed: no nonce for our entry");
  return w::Run(first);
}

ONLYONE_EXPORT(onlyone_resume) int32_t onlyone_resume() {
  w::Module& m = module_state;
  if (!m.pausing) return w::Refuse("resume without a pause");
  m.pausing = false;
  onlyone::Result woke;
  woke.mono_ms = w::MonotonicMs();
  woke.wall_ms = w::WallMs();
  // A wait ends when the directory may have changed (we cannot tell: every
  // pause is a poll) or the deadline passed.
  if (m.wait_deadline_mono_ms != onlyone::kNoDeadline && woke.mono_ms >= m.wait_deadline_mono_ms) {
    woke.status = onlyone::IoStatus::kTimedOut;
  }
  return w::Run(m.contender.Step(woke));
}

ONLYONE_EXPORT(onlyone_release) int32_t onlyone_release() {
  w::Module& m = module_state;
  if (!w::Idle() || !m.contender.holding()) return w::Refuse("release without holding the lock");
  m.doing = "release";
  return w::Run(m.contender.Release());
}

ONLYONE_EXPORT(onlyone_validate) int32_t onlyone_validate() {
  w::Module& m = module_state;
  if (!w::Idle() || !m.contender.holding()) return w::Refuse("validate without holding the lock");
  m.doing = "validate";
  return w::Run(m.contender.Validate());
}

ONLYONE_EXPORT(onlyone_refresh) int32_t onlyone_refresh() {
  w::Module& m = module_state;
  if (!w::Idle() || !m.contender.holding()) return w::Refuse("refresh without holding the lock");
  m.doing = "refresh";
  return w::Run(m.contender.Refresh(w::WallMs()));
}

ONLYONE_EXPORT(onlyone_pause_ms) int32_t onlyone_pause_ms() {
  return module_state.pausing ? static_cast<int32_t>(module_state.pause_ms) : 0;
}

ONLYONE_EXPORT(onlyone_wait_name) const char* onlyone_wait_name() {
  return module_state.pausing ? module_state.wait_name.data : "";
}

// Whether the name in the first `bytes` of the input area is an entry of
// either ring (core/names.h): the names whose change can change a waiting
// scan's verdict, which a host's directory watch filters on.
ONLYONE_EXPORT(onlyone_is_ring_entry) int32_t onlyone_is_ring_entry(int32_t bytes) {
  if (bytes < 0 || static_cast<uint32_t>(bytes) > w::kInputBytesMax) return 0;
  const onlyone::Bytes name{module_state.input, static_cast<uint32_t>(bytes)};
  return onlyone::IsRingEntry(onlyone::ParseName(name).kind) ? 1 : 0;
}

// While the host's process_alive runs: the probed owner's anchor name.
ONLYONE_EXPORT(onlyone_anchor_name) const char* onlyone_anchor_name() {
  return w::driver.probe_anchor_name();
}

ONLYONE_EXPORT(onlyone_fence) int64_t onlyone_fence() {
  return static_cast<int64_t>(module_state.fence);
}

ONLYONE_EXPORT(onlyone_blocker) const w::HostHolder* onlyone_blocker() {
  return module_state.has_blocker ? &module_state.blocker : nullptr;
}

ONLYONE_EXPORT(onlyone_message) const char* onlyone_message() {
  return module_state.message.c_str();
}
