#include "sim/world.h"

#include <assert.h>
#include <errno.h>

#include <utility>

#include "core/fingerprint.h"

namespace onlyone {
namespace sim {
namespace {

Bytes ViewOf(const std::string& text) {
  return Bytes{text.data(), static_cast<uint32_t>(text.size())};
}

std::string StringOf(Bytes bytes) { return std::string(bytes.data, bytes.size); }

ParsedName NameOf(const std::string& name) { return ParseName(ViewOf(name)); }

// The nonce spelled by one of the protocol's names (core/names.h); (0, 0)
// for the fence counter and any other name.
Id128 NameNonce(const std::string& name) { return NameOf(name).nonce; }

std::string OwnerNameOf(NameKind kind, Id128 nonce) {
  FixedBytes<kNameBytesMax> name;
  MakeOwnerName(kind, nonce, &name);
  return StringOf(name.view());
}

// The counter and the older builds' counter: names a scan notes (the fence
// is taken from them) and nobody owns.
bool IsCounterLike(const std::string& name) {
  const NameKind kind = NameOf(name).kind;
  return kind == NameKind::kFenceCounter || kind == NameKind::kOldFenceCounter;
}

// The counters and the format marker, which nobody owns (see CheckWrite).
bool IsNobodys(const std::string& name) {
  return IsCounterLike(name) || NameOf(name).kind == NameKind::kFormatMarker;
}

// Whose record or fence record `content`, created as `name`, is; (0, 0) for
// anything else. A version 2 record names its owner by the name it is
// created under (its entry or temporary) and keeps it when renamed.
Id128 OwnerNonce(const std::string& name, const std::string& content) {
  OwnerRecord record;
  const ParseResult parsed = ParseRecord(ViewOf(content), &record);
  if (parsed.error == ParseError::kNone) {
    return parsed.version == 2 ? NameNonce(name) : record.owner.nonce;
  }
  FenceRecord fence;
  const ParseResult fenced = ParseFence(ViewOf(content), &fence);
  if (fenced.error == ParseError::kNone) {
    return fenced.version == 2 ? NameNonce(name) : fence.owner.nonce;
  }
  return Id128{};
}

uint64_t NodeHash(const std::string& name, const Node& node) {
  Hasher hash(0x40DE);
  hash.Text(ViewOf(name));
  hash.Word(node.symlink ? 1 : 0);
  hash.Text(ViewOf(node.content));
  return hash.value();
}

// Which operations an injected fault can hit: ENOSPC only those that
// allocate directory space; EIO (or EROFS) any write, including unlink.
bool FaultApplies(IoStatus fault, OpKind kind) {
  if (fault == IoStatus::kOk) return false;
  const bool renames = kind == OpKind::kRename || kind == OpKind::kMove;
  if (fault == IoStatus::kNoSpace) return kind == OpKind::kCreate || renames;
  return kind == OpKind::kCreate || renames || kind == OpKind::kRemove;
}

// "o.<32 hex>" -> "o.P1r2" for traces: the name's prefix, then the process,
// incarnation and round its nonce spells (ProcessNonce: the round that drew
// it, see NonceOf).
std::string ShortName(const std::string& name) {
  const ParsedName parsed = NameOf(name);
  if (parsed.kind == NameKind::kFormatMarker) return "marker";
  if (parsed.kind == NameKind::kForeign || IsCounterLike(name)) return name;
  const uint64_t lo = parsed.nonce.lo;
  std::string text =
      name.substr(0, kNamePrefixBytes) + "P" + std::to_string(ProcessIndexOfNonce(parsed.nonce));
  if ((lo >> 32) != 0) text += "i" + std::to_string(lo >> 32);
  return text + "r" + std::to_string(lo & 0xFFFFFFFFull);
}

// `owner`: whose record it is (Node::owner; a version 2 record does not say).
std::string ShortRecord(const std::string& content, Id128 owner) {
  OwnerRecord record;
  if (ParseRecord(ViewOf(content), &record).error == ParseError::kNone) {
    std::string text = record.state == EntryState::kChoosing ? "choosing" : "ticket=";
    if (record.ticket != 0) text += std::to_string(record.ticket);
    text += " owner=P" + std::to_string(ProcessIndexOfNonce(owner));
    return text;
  }
  if (ViewOf(content).size != 0 && Equal(ViewOf(content), FenceCounterRecord())) return "counter";
  if (ViewOf(content).size != 0 && Equal(ViewOf(content), FormatMarkerRecord())) return "marker";
  FenceRecord fence;
  if (ParseFence(ViewOf(content), &fence).error == ParseError::kNone) {
    return "fence=" + std::to_string(fence.fence) + " by P" +
           std::to_string(ProcessIndexOfNonce(owner));
  }
  return "garbage";
}

// Names a contender reacts to in a listing: entries of either ring, and the
// counter's names (IsCounterLike). Temporaries, anchors, the format marker
// and foreign names are skipped by the core without any effect, so the simulated listing steps over
// them (and over the lister's own names) within the same kListNext: fewer
// states, same behaviours.
bool IsEntryLike(const std::string& name) { return IsRingEntry(NameOf(name).kind); }

bool IsTemporary(const std::string& name) { return NameOf(name).kind == NameKind::kTemporary; }

// In the critical section, for P1: holding, validating or refreshing its
// holding, or releasing (a releasing process holds until its removal lands).
bool InCriticalSection(const Process& p) {
  return p.pc == ProgramCounter::kHolding || p.pc == ProgramCounter::kReleasing ||
         p.pc == ProgramCounter::kChecking;
}

}  // namespace

bool World::Lists(const Process& p, const std::string& name, const Node& node) const {
  if (p.lists_everything) return true;
  const bool listed = IsEntryLike(name) || (p.lists_counter && IsCounterLike(name)) ||
                      (p.lists_temporaries && IsTemporary(name));
  return listed && OwnerOf(node) != &p;
}

std::map<std::string, Node>::const_iterator World::NextListed(const Process& p) const {
  auto it = p.at_start ? fs_.begin() : fs_.upper_bound(p.cursor);
  while (it != fs_.end() && !Lists(p, it->first, it->second)) ++it;
  return it;
}

std::string World::NextListedName(const Process& p) const {
  if (ListsSnapshots(p)) return p.snapshot.empty() ? std::string() : p.snapshot.front();
  auto it = NextListed(p);
  return it == fs_.end() ? std::string() : it->first;
}

bool World::MovesByLink(const Process& p) const {
  return config_.linked_moves || (config_.mixed_moves && p.index % 2 == 0);
}

bool World::ListsSnapshots(const Process& p) const {
  return config_.snapshot_listings && !MovesByLink(p);
}

Id128 ProcessNonce(uint32_t index, uint32_t incarnation, uint32_t round) {
  return Id128{index + 1ull, (uint64_t{incarnation} << 32) | (round + 1ull)};
}

int ProcessIndexOfNonce(Id128 nonce) { return nonce.hi == 0 ? -1 : static_cast<int>(nonce.hi - 1); }

World::World(const WorldConfig& config) : config_(config) {
  procs_.resize(config.procs);
  for (uint32_t i = 0; i < config.procs; ++i) {
    Process& p = procs_[i];
    p.index = i;
    p.pid = kSimFirstPid + i;
    p.start_time = next_start_time_++;
    pid_table_[p.pid] = p.start_time;
  }
}

Id128 World::NonceOf(const Process& p) const {
  return ProcessNonce(p.index, p.incarnation, config_.lease_ms != 0 ? p.round : 0);
}

Identity World::MakeIdentity(const Process& p) const {
  Identity id;
  id.nonce = NonceOf(p);
  id.pid = p.pid;
  id.start_time = p.start_time;
  id.boot_id = kSimBootId;
  id.pid_namespace = kSimPidNamespace;
  id.host.Assign(View("sim"));
  id.command.Assign(View("job"));
  return id;
}

const Process* World::OwnerOf(const Node& node) const {
  const int index = ProcessIndexOfNonce(node.owner);
  if (index < 0 || static_cast<size_t>(index) >= procs_.size()) return nullptr;
  // A respawned slot is a different process: the entry belongs to the
  // incarnation spelled in the nonce.
  if ((node.owner.lo >> 32) != procs_[index].incarnation) return nullptr;
  return &procs_[index];
}
void World::Violate(const std::string& what) {
  if (violation_.empty()) violation_ = what;
}

// P2: nobody removes or overwrites an entry whose owner is alive, except the
// owner itself.
void World::CheckWrite(const Process& p, const std::string& name) {
  auto it = fs_.find(name);
  // The counter and the marker are nobody's.
  if (it == fs_.end() || IsNobodys(name)) return;
  const Process* owner = OwnerOf(it->second);
  if (owner == nullptr || owner->index == p.index || !Lives(*owner)) return;
  if (LeaseExpired(it->second)) return;
  // A temporary goes with its owner's entry, removed first when that
  // entry's lease ran out.
  if (IsTemporary(name) && TemporaryOfExpiredOwner(name)) return;
  Violate("P2 violated: P" + std::to_string(p.index) + " removed or replaced " + ShortName(name) +
          " of live process P" + std::to_string(owner->index));
}

// Whether a node's lease ran out: its record was not refreshed for lease_ms
// of the world's clock. Only under WorldConfig::owners_unknown.
bool World::LeaseExpired(const Node& node) const {
  if (!config_.owners_unknown || config_.lease_ms == 0) return false;
  OwnerRecord record;
  if (ParseRecord(ViewOf(node.content), &record).error != ParseError::kNone) return false;
  return now_ms_ > record.refreshed_ms && now_ms_ - record.refreshed_ms > config_.lease_ms;
}

bool World::TemporaryOfExpiredOwner(const std::string& temp) const {
  for (const NameKind ring : {NameKind::kEntry, NameKind::kRingEntry}) {
    auto entry = fs_.find(OwnerNameOf(ring, NameNonce(temp)));
    if (entry != fs_.end() && LeaseExpired(entry->second)) return true;
  }
  return false;
}

// What the POSIX driver's inotify watch reports: changes of the entries of
// either ring, not of temporaries or the fence counter, which no waiting
// scan reads, and deaths (an owner's anchor closed for writing).
void World::Announce(uint32_t except_proc, const std::string& news) {
  for (Process& other : procs_) {
    if (other.index != except_proc && other.alive) other.news.insert(news);
  }
}

void World::AnnounceDeath(const Process& dead) {
  Announce(dead.index, OwnerNameOf(NameKind::kAnchor, MakeIdentity(dead).nonce));
}

// The kWait contract as the POSIX driver keeps it: an unnamed wait wakes for
// any news; a wait naming an entry wakes for that entry or its owner's death.
bool World::IsWokenFor(const Process& waiter) const {
  if (waiter.news.empty()) return false;
  const std::string& target = waiter.op.name;
  if (target.empty() || waiter.news.count("timer") != 0) return true;
  return waiter.news.count(target) != 0 ||
         waiter.news.count(OwnerNameOf(NameKind::kAnchor, NameNonce(target))) != 0;
}

void World::Pause(uint64_t ms) {
  now_ms_ += ms;
  for (Process& p : procs_) {
    if (p.alive) p.news.insert("timer");
  }
}

bool World::Blocked(uint32_t proc) const {
  const Process& p = procs_[proc];
  return p.alive && p.op.kind == OpKind::kWait && !IsWokenFor(p);
}

bool World::AllDone() const {
  for (const Process& p : procs_) {
    if (p.alive && p.pc != ProgramCounter::kDone) return false;
    if (p.job_running) return false;
  }
  return true;
}

uint32_t World::LiveHolders() const {
  uint32_t holders = 0;
  for (const Process& p : procs_) {
    // A killed holder whose job runs on still holds: its job is in the
    // critical section.
    const bool holds = InCriticalSection(p);
    // Under a lease the lock vouches only for holders whose entry is still
    // there; a holder whose lease ran out was told nothing (see WorldConfig).
    if (Lives(p) && holds && (!config_.owners_unknown || EntryPresent(p))) ++holders;
  }
  return holders;
}

bool World::EntryPresent(const Process& p) const {
  return fs_.count(StringOf(p.contender.entry_name())) != 0;
}

bool World::IsEnabled(const Transition& t) const {
  if (t.proc >= procs_.size()) return false;
  const Process& p = procs_[t.proc];
  const bool at_program = p.pc == ProgramCounter::kIdle || p.pc == ProgramCounter::kHolding;
  switch (t.kind) {
    case TransitionKind::kStep:
      if (!p.alive || p.pc == ProgramCounter::kDone) return false;
      if (config_.external_program && at_program) return false;  // the program's move
      // A waiter runs only when something changed since its last listing
      // began: the driver's contract for kWait.
      if ((p.pc == ProgramCounter::kAcquiring || p.pc == ProgramCounter::kReleasing) &&
          p.op.kind == OpKind::kWait && !config_.spurious_wakeups && !IsWokenFor(p)) {
        return false;
      }
      return true;
    case TransitionKind::kCrash: return p.alive && p.pc != ProgramCounter::kDone;
    case TransitionKind::kCrashLeavingJob:
      return config_.jobs_outlive_holders && p.alive && InCriticalSection(p);
    case TransitionKind::kJobEnds: return p.job_running;
    case TransitionKind::kReusePid: return !p.alive && pid_table_.count(p.pid) == 0;
    case TransitionKind::kTimeout:
      return p.alive && p.pc == ProgramCounter::kAcquiring && p.op.kind == OpKind::kWait &&
             p.op.deadline_mono_ms != kNoDeadline;
    case TransitionKind::kSkipName: {
      if (!p.alive || p.op.kind != OpKind::kListNext) return false;
      if (p.pc != ProgramCounter::kAcquiring && p.pc != ProgramCounter::kReleasing &&
          p.pc != ProgramCounter::kChecking) {
        return false;
      }
      if (ListsSnapshots(p)) return false;  // a snapshot misses nothing
      auto it = NextListed(p);
      return it != fs_.end() && (it->second.listed_since_start & (1u << p.index)) == 0;
    }
  }
  return false;
}

bool World::LocalTransition(uint32_t proc, bool crashes_possible, Transition* out) const {
  const Process& p = procs_[proc];
  if (!p.alive) return false;
  *out = Transition{TransitionKind::kStep, proc};
  switch (p.pc) {
    case ProgramCounter::kIdle:
    case ProgramCounter::kHolding: return !config_.external_program;
    case ProgramCounter::kDone: return false;
    case ProgramCounter::kAcquiring:
    case ProgramCounter::kReleasing:
    case ProgramCounter::kChecking: break;
  }
  if (p.op.kind == OpKind::kWait) {
    return (config_.spurious_wakeups || IsWokenFor(p)) && p.op.deadline_mono_ms == kNoDeadline;
  }
  // With waits that may return at any moment, starting a listing touches
  // nothing another process reads: it marks which names this listing must
  // return. Starting it before another process creates a name only lets the
  // listing skip that name or not, which covers the other order's behaviour
  // (the name returned), so exploring it first loses nothing.
  if (p.op.kind == OpKind::kListStart && config_.spurious_wakeups) return true;
  // Only its owner creates a temporary, and others remove one only after its
  // owner died; its name is never listed (see IsEntryLike). Creating or
  // removing one commutes with everything anyone else does.
  if ((p.op.kind == OpKind::kCreate || p.op.kind == OpKind::kRemove) && IsTemporary(p.op.name)) {
    return true;
  }
  // Liveness anchors belong to drivers with kernel locks; the simulated
  // platform has none, so removing one is a no-op.
  if (p.op.kind == OpKind::kRemove && NameOf(p.op.name).kind == NameKind::kAnchor) {
    return true;
  }
  if (p.op.kind != OpKind::kProbe) return false;
  if (!crashes_possible) return true;
  for (const Process& other : procs_) {
    // It may still die, or its job end.
    if (Lives(other) && other.pid == p.op.probe_pid) return false;
  }
  return true;
}

void World::EnabledTransitions(bool allow_crash, bool allow_reuse,
                               std::vector<Transition>* out) const {
  out->clear();
  for (uint32_t i = 0; i < procs_.size(); ++i) {
    const Transition step{TransitionKind::kStep, i};
    if (IsEnabled(step)) out->push_back(step);
    const Transition timeout{TransitionKind::kTimeout, i};
    if (IsEnabled(timeout)) out->push_back(timeout);
    const Transition crash{TransitionKind::kCrash, i};
    if (allow_crash && IsEnabled(crash)) out->push_back(crash);
    const Transition crash_leaving_job{TransitionKind::kCrashLeavingJob, i};
    if (allow_crash && IsEnabled(crash_leaving_job)) out->push_back(crash_leaving_job);
    const Transition job_ends{TransitionKind::kJobEnds, i};
    if (IsEnabled(job_ends)) out->push_back(job_ends);
    const Transition reuse{TransitionKind::kReusePid, i};
    if (allow_reuse && IsEnabled(reuse)) out->push_back(reuse);
    const Transition skip{TransitionKind::kSkipName, i};
    if (IsEnabled(skip)) out->push_back(skip);
  }
}

void World::Start(Process* p) { StartAcquire(p, config_.try_mode); }

void World::StartAcquire(Process* p, bool try_mode) {
  // Leak check: a process that finished its previous acquisition or release
  // owns nothing in the directory.
  for (const auto& entry : fs_) {
    if (!IsNobodys(entry.first) && OwnerOf(entry.second) == p) {
      Violate("P" + std::to_string(p->index) + " starts round " + std::to_string(p->round + 1) +
              " but still owns " + ShortName(entry.first));
    }
  }
  p->pc = ProgramCounter::kAcquiring;
  p->lease_expired = false;
  const Identity id = MakeIdentity(*p);
  if (config_.broken_steal) {
    p->broken.Init(id);
    Advance(p, p->broken.Acquire(config_.try_mode));
    return;
  }
  Config lock_config;
  lock_config.slots = config_.slots;
  lock_config.lease_ms = config_.lease_ms;
  lock_config.full_records = config_.full_records;
  lock_config.linked_moves = MovesByLink(*p);
  p->contender.Init(lock_config, id);
  Advance(p, p->contender.Acquire(now_ms_, now_ms_, try_mode ? now_ms_ : kNoDeadline));
}

void World::Advance(Process* p, const Op& op) {
  if (op.kind == OpKind::kDone) {
    p->op = PendingOp();
    OnDone(p);
    return;
  }
  PendingOp& pending = p->op;
  pending.kind = op.kind;
  pending.name = StringOf(op.name);
  pending.from = StringOf(op.from);
  pending.record = StringOf(op.record);
  pending.deadline_mono_ms = op.deadline_mono_ms;
  pending.wait_reason = op.wait_reason;
  pending.counter_names = op.counter_names;
  if (op.owner != nullptr) {
    pending.probe_pid = op.owner->owner.pid;
    pending.probe_start_time = op.owner->owner.start_time;
    pending.probe_boot_id = op.owner->owner.boot_id;
  } else {
    pending.probe_pid = 0;
    pending.probe_start_time = 0;
    pending.probe_boot_id = Id128{};
  }
}

void World::Begin(uint32_t proc, LockAction action) {
  Process* p = &procs_[proc];
  assert(config_.external_program && p->alive);
  if (action == LockAction::kAcquire || action == LockAction::kTryAcquire) {
    assert(p->pc == ProgramCounter::kIdle);
    StartAcquire(p, action == LockAction::kTryAcquire);
    return;
  }
  assert(p->pc == ProgramCounter::kHolding);
  if (action == LockAction::kRelease) {
    p->pc = ProgramCounter::kReleasing;
    Advance(p, p->contender.Release());
    return;
  }
  p->pc = ProgramCounter::kChecking;
  Advance(
      p, action == LockAction::kValidate ? p->contender.Validate() : p->contender.Refresh(now_ms_));
}

void World::End(uint32_t proc) {
  Process* p = &procs_[proc];
  assert(config_.external_program && p->alive);
  p->pc = ProgramCounter::kDone;
  Exit(p);
}

// A finished process exits: its pid is free and its entries, if a failed
// removal left any, belong to a dead owner that others may clean up.
void World::Exit(Process* p) {
  p->alive = false;
  p->listing = false;
  pid_table_.erase(p->pid);
  ++counters_.exits;
  // Exiting is dying: a waiter blocked behind one of its entries must wake.
  AnnounceDeath(*p);
}

void World::Respawn(uint32_t proc) {
  Process& p = procs_[proc];
  if (Lives(p)) return;  // a running job keeps its owner's pid and slot
  ++p.incarnation;
  p.alive = true;
  p.pc = ProgramCounter::kIdle;
  p.round = 0;
  p.op = PendingOp();
  p.listing = false;
  p.cursor.clear();
  p.news.clear();
  p.fence = 0;
  // A new process gets a pid nobody alive has; reusing dead ones' pids is
  // what kReusePid is for.
  uint32_t pid = p.pid;
  while (pid_table_.count(pid) != 0) ++pid;
  p.pid = pid;
  p.start_time = next_start_time_++;
  pid_table_[p.pid] = p.start_time;
}

void World::Plant(const std::string& name, bool symlink, const std::string& content) {
  Node node{symlink, content, 0, 0, symlink ? OwnerNonce(name, content) : Id128{}};
  node.hash = NodeHash(name, node);
  fs_[name] = node;
  ++counters_.planted;
  if (IsEntryLike(name)) Announce(static_cast<uint32_t>(procs_.size()), name);
}

bool World::Unplant(const std::string& name) {
  auto it = fs_.find(name);
  if (it == fs_.end()) return false;
  const Process* owner = OwnerOf(it->second);
  if (owner != nullptr && Lives(*owner)) return false;
  fs_.erase(it);
  if (IsEntryLike(name)) Announce(static_cast<uint32_t>(procs_.size()), name);
  return true;
}

// A contender fails only for a cause: an injected fault, or for the kinds a
// planted entry can cause (a newer format, a damaged fence counter, a huge
// ticket, a name taken), a planted node.
bool World::FailureExplained(const Failure& failure) const {
  if (counters_.io_faults != 0) return true;
  if (counters_.planted == 0) return false;
  return failure.kind == FailureKind::kIncompatibleEntry ||
         failure.kind == FailureKind::kFenceCorrupt ||
         failure.kind == FailureKind::kTicketOverflow ||
         failure.kind == FailureKind::kNonceCollision;
}

Result World::PerformOwn(Process* p) {
  Result result;
  if (interference_ != nullptr && interference_->Preempt(*p, &result)) {
    if (result.status != IoStatus::kOk && result.status != IoStatus::kTimedOut) {
      ++counters_.io_faults;
    }
    return result;
  }
  result = Perform(p);
  if (interference_ != nullptr) interference_->Adjust(*p, &result);
  return result;
}

Result World::PerformFor(Process* outside, const Op& op) {
  Advance(outside, op);
  return Perform(outside);
}

bool World::RunCleanup() {
  Process cleaner;
  cleaner.index = static_cast<uint32_t>(procs_.size());
  cleaner.pid = 1;
  cleaner.start_time = next_start_time_++;
  cleaner.pc = ProgramCounter::kAcquiring;
  cleaner.lists_temporaries = true;
  Config lock_config;
  lock_config.slots = config_.slots;
  lock_config.full_records = config_.full_records;
  Identity id = MakeIdentity(cleaner);
  id.nonce = Id128{0xC1EA4E4ull, 1};
  cleaner.contender.Init(lock_config, id);
  pid_table_[cleaner.pid] = cleaner.start_time;
  Op op = cleaner.contender.Cleanup(now_ms_);
  constexpr int kCleanupStepsMax = 1'000'000;
  for (int i = 0; i < kCleanupStepsMax && op.kind != OpKind::kDone; ++i) {
    op = cleaner.contender.Step(PerformFor(&cleaner, op));
  }
  pid_table_.erase(cleaner.pid);
  return op.kind == OpKind::kDone && cleaner.contender.outcome() == Outcome::kCleaned;
}

void World::OnDone(Process* p) {
  const Outcome outcome = config_.broken_steal ? p->broken.outcome() : p->contender.outcome();
  auto next_round = [&] {
    ++p->round;
    p->pc = p->round < config_.rounds && !stopping_ ? ProgramCounter::kIdle : ProgramCounter::kDone;
    if (p->pc == ProgramCounter::kDone) Exit(p);
  };
  if (!config_.broken_steal) {
    const Counters& seen = p->contender.counters();
    counters_.waits_for_choosing += seen.waits_for_choosing;
    counters_.vanished_while_reading += seen.vanished_while_reading;
  }
  if (outcome == Outcome::kFailed && !config_.broken_steal &&
      p->contender.failure().entry_left_behind) {
    // What the contract asks of a caller whose entry could not be removed:
    // exit, so that others can prove it dead and clean up.
    p->pc = ProgramCounter::kDone;
    Exit(p);
    return;
  }
  if (config_.external_program) {
    OnDoneExternal(p, outcome);
    return;
  }
  if (p->pc == ProgramCounter::kAcquiring) {
    if (outcome == Outcome::kAcquired) {
      p->pc = ProgramCounter::kHolding;
      ++counters_.acquisitions;
      if (!config_.broken_steal) p->fence = p->contender.fence();
      CheckAcquired(*p);
      return;
    }
    if (outcome == Outcome::kBusy) {
      ++counters_.busy;
      next_round();
      return;
    }
    if (outcome == Outcome::kFailed && !FailureExplained(p->contender.failure())) {
      Violate("P" + std::to_string(p->index) + " failed without any injected fault: " +
              FailureKindName(p->contender.failure().kind));
    }
    next_round();
    return;
  }
  if (p->pc == ProgramCounter::kReleasing) {
    if (outcome == Outcome::kLost) {
      Violate("P2 violated: P" + std::to_string(p->index) + " found its entry gone when releasing");
    }
    next_round();
  }
}

// P1 and P6 at the moment `p` becomes a holder.
void World::CheckAcquired(const Process& p) {
  if (LiveHolders() > config_.slots) {
    Violate("P1 violated: " + std::to_string(LiveHolders()) + " live holders with slots=" +
            std::to_string(config_.slots) + " after P" + std::to_string(p.index) + " acquired");
  }
  if (config_.broken_steal) return;
  if (p.fence <= last_fence_) {
    Violate("P6 violated: P" + std::to_string(p.index) + " got fence " + std::to_string(p.fence) +
            " after fence " + std::to_string(last_fence_));
  }
  last_fence_ = p.fence;
}

// An external program's lock operation finished: the process is back where
// its program decides (kIdle or kHolding), with the outcome in p->outcome.
// Losing the lock is the protocol's answer only under a lease; with proven
// liveness nobody may remove a live holder's entry (P2).
void World::OnDoneExternal(Process* p, Outcome outcome) {
  p->outcome = outcome;
  const bool was_acquiring = p->pc == ProgramCounter::kAcquiring;
  // Under a lease, others may remove what a contender whose own lease ran
  // out is still writing (its temporary, its entry): its next operation on
  // it fails with "not found", which fails the operation, as it should.
  const Failure& failure = p->contender.failure();
  const bool lease_ran_out = p->lease_expired && failure.status == IoStatus::kNotFound;
  if (outcome == Outcome::kFailed && !FailureExplained(failure) && !lease_ran_out) {
    Violate("P" + std::to_string(p->index) +
            " failed without any injected fault: " + FailureKindName(failure.kind));
  }
  if (outcome == Outcome::kLost && !config_.owners_unknown) {
    Violate("P2 violated: P" + std::to_string(p->index) + " found its entry gone");
  }
  if (outcome == Outcome::kAcquired || outcome == Outcome::kHeld ||
      (outcome == Outcome::kFailed && !was_acquiring && p->pc != ProgramCounter::kReleasing)) {
    p->pc = ProgramCounter::kHolding;
    if (outcome != Outcome::kAcquired) return;
    ++counters_.acquisitions;
    p->fence = p->contender.fence();
    CheckAcquired(*p);
    return;
  }
  if (outcome == Outcome::kBusy) ++counters_.busy;
  // The entry is gone (released, lost, given up): the next acquisition is a
  // new contender (with the same nonce unless under a lease: NonceOf).
  ++p->round;
  p->pc = ProgramCounter::kIdle;
}

// Performs p's pending Op with exactly the semantics world.h promises: an
// injected fault instead of the Op, or the one handler for its kind.
Result World::Perform(Process* p) {
  Result result;
  result.mono_ms = now_ms_;
  result.wall_ms = now_ms_;
  if (TakeInjectedFault(p->op.kind, &result)) return result;
  switch (p->op.kind) {
    case OpKind::kCreate: PerformCreate(p, &result); break;
    case OpKind::kRename: PerformRename(p, &result); break;
    case OpKind::kMove: PerformMove(p, &result); break;
    case OpKind::kRead: PerformRead(p->op, &result); break;
    case OpKind::kListStart: PerformListStart(p); break;
    case OpKind::kListNext: PerformListNext(p, &result); break;
    case OpKind::kRemove: PerformRemove(p, &result); break;
    case OpKind::kProbe: PerformProbe(p->op, &result); break;
    case OpKind::kWait:
      // `news` stays: the kListStart that follows every wait clears it.
      // Leaving it alone makes waking touch nothing shared.
    case OpKind::kNone:
    case OpKind::kDone: break;
  }
  return result;
}

// The fault InjectFault set replaces the first Op it can hit, once, so that
// one draw of the random simulator is one failed operation.
bool World::TakeInjectedFault(OpKind kind, Result* result) {
  if (!FaultApplies(next_fault_, kind)) return false;
  result->status = next_fault_;
  result->os_error = LinuxErrno(next_fault_);
  next_fault_ = IoStatus::kOk;
  ++counters_.io_faults;
  return true;
}

// kCreate: an exclusive symlink, the only way a name comes into being.
void World::PerformCreate(Process* p, Result* result) {
  const PendingOp& op = p->op;
  if (fs_.count(op.name) != 0) {
    result->status = IoStatus::kExists;
    return;
  }
  Node node{true, op.record, 0, 0, OwnerNonce(op.name, op.record)};
  node.hash = NodeHash(op.name, node);
  fs_[op.name] = node;
  if (IsEntryLike(op.name)) Announce(p->index, op.name);
}

// kRename: atomically replaces the destination.
void World::PerformRename(Process* p, Result* result) {
  const PendingOp& op = p->op;
  auto from = fs_.find(op.from);
  if (from == fs_.end()) {
    result->status = IoStatus::kNotFound;
    return;
  }
  CheckWrite(*p, op.name);
  Node moved = from->second;
  fs_.erase(from);
  // The destination name stays in the directory throughout a replacing
  // rename, so listings that began before it must still return it.
  auto to = fs_.find(op.name);
  moved.listed_since_start = to == fs_.end() ? 0 : to->second.listed_since_start;
  moved.hash = NodeHash(op.name, moved);
  fs_[op.name] = moved;
  if (IsEntryLike(op.name)) Announce(p->index, op.name);
}

// kMove: a rename that neither replaces nor recreates: kNotFound when the
// source is gone, kExists when the destination is there.
void World::PerformMove(Process* p, Result* result) {
  const PendingOp& op = p->op;
  auto from = fs_.find(op.from);
  if (from == fs_.end()) {
    result->status = IoStatus::kNotFound;
    return;
  }
  if (fs_.count(op.name) != 0) {
    result->status = IoStatus::kExists;
    return;
  }
  Node moved = from->second;
  if (MovesByLink(*p)) {
    p->unlink_pending = op.from;
  } else {
    fs_.erase(from);
  }
  // A new name: listings that began before it may miss it (H8).
  moved.listed_since_start = 0;
  moved.hash = NodeHash(op.name, moved);
  fs_[op.name] = moved;
  if (IsEntryLike(op.name)) Announce(p->index, op.name);
}

// kRead: a whole symlink target; a regular file (foreign, or planted) is
// told apart from a missing name, as readlink(2) tells EINVAL from ENOENT.
void World::PerformRead(const PendingOp& op, Result* result) const {
  auto it = fs_.find(op.name);
  if (it == fs_.end()) {
    result->status = IoStatus::kNotFound;
  } else if (!it->second.symlink) {
    result->status = IoStatus::kNotSymlink;
  } else {
    result->data = ViewOf(it->second.content);
  }
}

// kListStart: every name present now must be returned by this listing (H8),
// and the news a waiter consumed are forgotten.
void World::PerformListStart(Process* p) {
  for (auto& entry : fs_) entry.second.listed_since_start |= 1u << p->index;
  p->listing = true;
  p->lists_counter = p->op.counter_names;
  p->at_start = true;
  p->cursor.clear();
  p->news.clear();
  p->snapshot.clear();
  if (!ListsSnapshots(*p)) return;
  for (const auto& entry : fs_) {
    if (Lists(*p, entry.first, entry.second)) p->snapshot.push_back(entry.first);
  }
}

// kListNext: the next name after the cursor, as the directory is now (not
// as it was when the listing started).
void World::PerformListNext(Process* p, Result* result) {
  std::string next = NextListedName(*p);
  p->at_start = false;
  if (next.empty()) {
    result->status = IoStatus::kEnd;
    p->listing = false;
    p->cursor.clear();
    return;
  }
  if (ListsSnapshots(*p)) p->snapshot.erase(p->snapshot.begin());
  p->cursor = std::move(next);
  result->data = ViewOf(p->cursor);
}

// kRemove: unlinks one name, after P2 has judged whether it was anyone's to
// remove.
void World::PerformRemove(Process* p, Result* result) {
  const PendingOp& op = p->op;
  auto it = fs_.find(op.name);
  if (it == fs_.end()) {
    result->status = IoStatus::kNotFound;
    return;
  }
  CheckWrite(*p, op.name);
  NoteRemovalOfOthers(*p, op.name, it->second);
  if (NameOf(op.name).kind == NameKind::kFenceCounter) ++counters_.strays_removed;
  fs_.erase(it);
  if (IsEntryLike(op.name)) Announce(p->index, op.name);
}

// What removing another owner's node means: a dead owner's entry cleaned up
// (counted, so tests can prove the branch ran), or a lease run out, which the
// owner learns through Process::lease_expired.
void World::NoteRemovalOfOthers(const Process& remover, const std::string& name, const Node& node) {
  const Process* owner = OwnerOf(node);
  if (owner == nullptr || owner->index == remover.index) return;
  if (NameOf(name).kind == NameKind::kEntry) {
    if (!Lives(*owner)) ++counters_.dead_entries_removed;
    if (LeaseExpired(node)) {
      ++counters_.leases_expired;
      procs_[owner->index].lease_expired = true;
    }
  }
  // Removing an expired owner starts with its temporary (CheckWrite): from
  // then on its own next step on that temporary may find it gone.
  if (IsTemporary(name) && TemporaryOfExpiredOwner(name)) {
    procs_[owner->index].lease_expired = true;
  }
}

// kProbe: judged by (pid, start time, boot id) against the process table, as
// the POSIX driver judges /proc, so a reused pid probes dead (H4).
void World::PerformProbe(const PendingOp& op, Result* result) {
  auto it = pid_table_.find(op.probe_pid);
  const bool alive = it != pid_table_.end() && it->second == op.probe_start_time &&
                     SameBoot(op.probe_boot_id, kSimBootId);
  result->liveness = alive ? Liveness::kAlive : Liveness::kDead;
  if (config_.owners_unknown) {
    result->liveness = Liveness::kUnknown;
    return;
  }
  if (!alive && it != pid_table_.end()) ++counters_.dead_verdicts_on_reused_pid;
}

void World::Apply(const Transition& t) {
  Process* p = &procs_[t.proc];
  narration_.clear();
  ++counters_.steps;
  switch (t.kind) {
    case TransitionKind::kStep: ApplyStep(p); break;
    case TransitionKind::kTimeout: ApplyTimeout(p); break;
    case TransitionKind::kCrash: ApplyCrash(p); break;
    case TransitionKind::kCrashLeavingJob: ApplyCrashLeavingJob(p); break;
    case TransitionKind::kJobEnds: ApplyJobEnds(p); break;
    case TransitionKind::kReusePid:
      pid_table_[p->pid] = next_start_time_++;
      ++counters_.pids_reused;
      break;
    case TransitionKind::kSkipName: ApplySkipName(p); break;
  }
  // P1 after every transition, not only when someone acquires: a killed
  // holder's job that runs on still holds.
  if (LiveHolders() > config_.slots) {
    Violate("P1 violated: " + std::to_string(LiveHolders()) +
            " live holders with slots=" + std::to_string(config_.slots));
  }
}

// kStep: an idle process starts its next round (or exits once the run
// stops), a holder leaves its critical section, anyone else performs its
// pending Op.
void World::ApplyStep(Process* p) {
  if (p->pc == ProgramCounter::kIdle) {
    if (stopping_) {
      p->pc = ProgramCounter::kDone;
      Exit(p);
      return;
    }
    Start(p);
    return;
  }
  if (p->pc == ProgramCounter::kHolding) {
    p->pc = ProgramCounter::kReleasing;
    Advance(p, config_.broken_steal ? p->broken.Release() : p->contender.Release());
    return;
  }
  if (!p->unlink_pending.empty()) {
    FinishLinkedMove(p);
    return;
  }
  PerformPending(p);
}

// The second step of a linked move: unlink the source (gone already is
// fine, as the drivers treat ENOENT there), then answer the move.
void World::FinishLinkedMove(Process* p) {
  fs_.erase(p->unlink_pending);
  p->unlink_pending.clear();
  Result result;
  result.mono_ms = now_ms_;
  result.wall_ms = now_ms_;
  StepMachine(p, result);
}

// Performs p's pending Op and, with WorldConfig::merge_reads, the read and
// the probe that follow a listing step, within the same transition.
void World::PerformPending(Process* p) {
  OpKind performed = p->op.kind;
  const std::string listed = performed == OpKind::kListNext ? NextListedName(*p) : std::string();
  const Result result = PerformOwn(p);
  if (!p->unlink_pending.empty()) return;  // a linked move: its unlink is the next step
  StepMachine(p, result);
  while (config_.merge_reads && p->alive &&
         ((performed == OpKind::kListNext && p->op.kind == OpKind::kRead && p->op.name == listed) ||
          (performed == OpKind::kRead && p->op.kind == OpKind::kProbe))) {
    performed = p->op.kind;
    if (narrate_) {
      narration_ += ", then " + Describe(Transition{TransitionKind::kStep, p->index})
                                    .substr(("P" + std::to_string(p->index) + " ").size());
    }
    StepMachine(p, PerformOwn(p));
  }
}

// Hands a result to p's machine (the protocol's, or the broken one's) and
// makes its next Op pending.
void World::StepMachine(Process* p, const Result& result) {
  Advance(p, config_.broken_steal ? p->broken.Step(result) : p->contender.Step(result));
}

// kTimeout: the driver answers a wait whose deadline passed.
void World::ApplyTimeout(Process* p) {
  Result result;
  result.status = IoStatus::kTimedOut;
  result.mono_ms = now_ms_;
  result.wall_ms = now_ms_;
  ++counters_.timeouts;
  StepMachine(p, result);
}

// kCrash: kill -9. The process and its listing are gone; its entries stay
// for others to judge.
void World::ApplyCrash(Process* p) {
  CountCrash(*p);
  p->alive = false;
  p->listing = false;
  p->snapshot.clear();
  p->unlink_pending.clear();
  pid_table_.erase(p->pid);
  // A death is an event a waiter must notice (its driver blocks on the
  // dead owner's kernel lock, or rechecks liveness on a timer).
  AnnounceDeath(*p);
}

// Which rare moment a crash hit, so tests can prove each was reached.
void World::CountCrash(const Process& p) {
  ++counters_.crashes;
  if (!p.unlink_pending.empty()) ++counters_.crashes_mid_move;
  if (InCriticalSection(p)) ++counters_.crashes_while_holding;
  for (const auto& entry : fs_) {
    const Process* owner = OwnerOf(entry.second);
    OwnerRecord record;
    if (owner == &p && NameOf(entry.first).kind == NameKind::kEntry &&
        ParseRecord(ViewOf(entry.second.content), &record).error == ParseError::kNone &&
        record.state == EntryState::kChoosing) {
      ++counters_.crashes_while_choosing;
    }
  }
}

// kCrashLeavingJob: a holder is killed, but its job runs on.
void World::ApplyCrashLeavingJob(Process* p) {
  ++counters_.crashes;
  ++counters_.crashes_while_holding;
  ++counters_.crashes_leaving_job;
  // The process is gone, but the kernel lock its job inherited is not:
  // no death to announce, and its pid still answers probes.
  p->alive = false;
  p->listing = false;
  p->snapshot.clear();
  p->unlink_pending.clear();
  p->job_running = true;
  if (!config_.job_inherits_anchor) {
    pid_table_.erase(p->pid);
    AnnounceDeath(*p);
  }
}

// kJobEnds: the last process of a killed holder's job exits.
void World::ApplyJobEnds(Process* p) {
  ++counters_.jobs_ended;
  p->job_running = false;
  if (config_.job_inherits_anchor) {
    pid_table_.erase(p->pid);
    AnnounceDeath(*p);  // the anchor's last descriptor closed
  }
}

// kSkipName: the listing steps over a name created after it started (H8).
void World::ApplySkipName(Process* p) {
  auto it = NextListed(*p);
  p->at_start = false;
  p->cursor = it->first;
  ++counters_.names_skipped;
}

void World::Fingerprint(uint64_t* hi, uint64_t* lo) const {
  Hasher a(0x0A11CE);
  Hasher b(0x0B0B);
  auto word = [&](uint64_t value) {
    a.Word(value);
    b.Word(value);
  };
  auto text = [&](const std::string& value) {
    a.Text(ViewOf(value));
    b.Text(ViewOf(value));
  };
  for (const Process& p : procs_) {
    word(p.alive);
    word(p.job_running);
    word(p.pid);
    word(p.start_time);
    // A dead process is only its pid and its entries: where it was in its
    // program no longer matters, and forgetting it merges the states reached
    // by crashing just before or just after a local step.
    if (!p.alive) continue;
    word(static_cast<uint64_t>(p.pc));
    word(p.round);
    if (p.pc != ProgramCounter::kDone) {
      // One 64-bit hash per machine is plenty: a machine has only thousands
      // of distinct states; the 128 bits matter for the product space.
      word(config_.broken_steal ? p.broken.ProtocolFingerprint(1)
                                : p.contender.ProtocolFingerprint(1));
      // The pending Op is a function of the machine's state, which is hashed
      // above; its kind and deadline suffice.
      word(static_cast<uint64_t>(p.op.kind));
      word(p.op.deadline_mono_ms);
      word(p.listing);
      word(p.lists_counter);
      word(p.at_start);
      text(p.cursor);
      text(p.unlink_pending);
      word(p.snapshot.size());
      for (const std::string& name : p.snapshot) text(name);
      if (!config_.spurious_wakeups) {
        word(p.news.size());
        for (const std::string& item : p.news) text(item);
      }
    }
  }
  uint32_t listing_mask = 0;
  for (const Process& p : procs_) {
    if (p.alive && p.listing) listing_mask |= 1u << p.index;
  }
  word(fs_.size());
  for (const auto& entry : fs_) {
    word(entry.second.hash);
    word(entry.second.listed_since_start & listing_mask);
  }
  word(pid_table_.size());
  for (const auto& entry : pid_table_) {
    word(entry.first);
    word(entry.second);
  }
  word(last_fence_);
  // Time decides only leases; elsewhere it would split equal states. Under a
  // lease the time each contender will write into its record matters too.
  if (config_.owners_unknown) {
    word(now_ms_);
    for (const Process& p : procs_) {
      if (p.alive) word(p.contender.record().refreshed_ms * 2 + (p.lease_expired ? 1 : 0));
    }
  }
  *hi = a.value();
  *lo = b.value();
}

std::string World::Describe(const Transition& t) const {
  const Process& p = procs_[t.proc];
  const std::string who = "P" + std::to_string(t.proc);
  switch (t.kind) {
    case TransitionKind::kCrash: return who + " is killed (SIGKILL)";
    case TransitionKind::kCrashLeavingJob:
      return who + " is killed (SIGKILL); its job runs on and keeps its anchor locked";
    case TransitionKind::kJobEnds: return who + "'s job ends: its anchor's last descriptor closes";
    case TransitionKind::kReusePid:
      return "an unrelated process gets P" + std::to_string(t.proc) + "'s pid " +
             std::to_string(p.pid);
    case TransitionKind::kTimeout: return who + " wait times out";
    case TransitionKind::kSkipName: {
      auto it = NextListed(p);
      return who + " list: next -> (skips " + ShortName(it->first) +
             ", created during the listing)";
    }
    case TransitionKind::kStep: break;
  }
  if (p.pc == ProgramCounter::kIdle)
    return who + " starts acquiring (round " + std::to_string(p.round + 1) + ")";
  if (p.pc == ProgramCounter::kHolding)
    return who + " leaves its critical section, starts releasing";
  const PendingOp& op = p.op;
  switch (op.kind) {
    case OpKind::kCreate:
      return who + " create " + ShortName(op.name) + " [" +
             ShortRecord(op.record, OwnerNonce(op.name, op.record)) + "]" +
             (fs_.count(op.name) != 0 ? " -> exists" : "");
    case OpKind::kRename:
      return who + " rename " + ShortName(op.from) + " -> " + ShortName(op.name);
    case OpKind::kMove:
      if (!p.unlink_pending.empty()) {
        return who + " unlink " + ShortName(p.unlink_pending) + " (its move's second step)";
      }
      return who + (MovesByLink(p) ? " link " : " move ") + ShortName(op.from) + " -> " +
             ShortName(op.name) +
             (fs_.count(op.from) == 0   ? " -> not found"
              : fs_.count(op.name) != 0 ? " -> exists"
                                        : "");
    case OpKind::kRead: {
      auto it = fs_.find(op.name);
      return who + " read " + ShortName(op.name) + " -> " +
             (it == fs_.end() ? std::string("not found")
                              : "[" + ShortRecord(it->second.content, it->second.owner) + "]");
    }
    case OpKind::kListStart: return who + " list: start";
    case OpKind::kListNext: {
      const std::string next = NextListedName(p);
      return who + " list: next -> " + (next.empty() ? std::string("end") : ShortName(next)) +
             (ListsSnapshots(p) ? " (snapshot)" : "");
    }
    case OpKind::kRemove:
      return who + " remove " + ShortName(op.name) +
             (fs_.count(op.name) == 0 ? " -> not found" : "");
    case OpKind::kProbe: {
      auto it = pid_table_.find(op.probe_pid);
      const bool alive = it != pid_table_.end() && it->second == op.probe_start_time;
      if (config_.owners_unknown) {
        return who + " probe pid " + std::to_string(op.probe_pid) +
               " -> cannot tell (another host)";
      }
      return who + " probe pid " + std::to_string(op.probe_pid) + " -> " +
             (alive ? "alive" : "dead");
    }
    case OpKind::kWait: return who + " wakes up from wait";
    case OpKind::kNone:
    case OpKind::kDone: break;
  }
  return who + " ?";
}

int32_t LinuxErrno(IoStatus status) {
  switch (status) {
    case IoStatus::kExists: return EEXIST;
    case IoStatus::kNotFound: return ENOENT;
    case IoStatus::kNotSymlink: return EINVAL;  // readlink(2) of a regular file
    case IoStatus::kNoSpace: return ENOSPC;
    case IoStatus::kReadOnly: return EROFS;
    case IoStatus::kPermission: return EACCES;
    case IoStatus::kTooLong: return ENAMETOOLONG;
    case IoStatus::kIo: return EIO;
    case IoStatus::kOk:
    case IoStatus::kEnd:
    case IoStatus::kTimedOut: break;
  }
  return 0;
}

std::string FormatCounters(const WorldCounters& counters) {
  std::string text;
  for (const CounterField& field : kCounterFields) {
    if (!text.empty()) text += ' ';
    text += std::string(field.name) + "=" + std::to_string(counters.*field.member);
  }
  return text;
}

void AddCounters(const WorldCounters& from, WorldCounters* into) {
  for (const CounterField& field : kCounterFields) into->*field.member += from.*field.member;
}

void MaxCounters(const WorldCounters& from, WorldCounters* into) {
  for (const CounterField& field : kCounterFields) {
    if (from.*field.member > into->*field.member) into->*field.member = from.*field.member;
  }
}

std::string World::DescribeFs() const {
  std::string text;
  for (const auto& entry : fs_) {
    text += "  " + ShortName(entry.first) + ": " +
            (entry.second.symlink ? ShortRecord(entry.second.content, entry.second.owner)
                                  : std::string("regular file")) +
            "\n";
  }
  return text.empty() ? "  (empty)\n" : text;
}

}  // namespace sim
}  // namespace onlyone
