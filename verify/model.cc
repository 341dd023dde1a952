#include "verify/model.h"

#include <assert.h>
#include <ctype.h>

#include "core/fingerprint.h"
#include "verify/resources.h"

namespace onlyone {
namespace verify {
namespace internal {
namespace {

using sim::TransitionKind;

bool IsLockRequest(ActionKind kind) {
  return kind == ActionKind::kAcquire || kind == ActionKind::kTryAcquire ||
         kind == ActionKind::kValidate || kind == ActionKind::kRefresh ||
         kind == ActionKind::kRelease;
}

// Requests that touch nothing another process reads: starting a lock
// operation only computes the protocol's first Op (World::Begin), and a
// failed check or a throw ends the run. Exploring them alone loses nothing
// (partial-order reduction, docs/verify.md).
bool IsLocalRequest(ActionKind kind) {
  return IsLockRequest(kind) || kind == ActionKind::kAssertFailed || kind == ActionKind::kThrew ||
         kind == ActionKind::kNondeterministic;
}

// Whether a local move must not be explored alone while a pause may still
// come, because the clock it reads decides something later: the time an
// acquisition writes into its records, and for TryAcquire every deadline.
// Other moves also take the time from their results, but only into fields
// the next result overwrites before anything reads them (now_wall_ms_ and
// now_mono_ms_ of a contender that waits without deadline), so a pause
// commutes with them. Probes judge leases by the clock: never alone.
bool ReadsTheClock(ActionKind kind) {
  return kind == ActionKind::kAcquire || kind == ActionKind::kTryAcquire;
}

sim::LockAction LockActionOf(ActionKind kind) {
  switch (kind) {
    case ActionKind::kTryAcquire: return sim::LockAction::kTryAcquire;
    case ActionKind::kValidate: return sim::LockAction::kValidate;
    case ActionKind::kRefresh: return sim::LockAction::kRefresh;
    case ActionKind::kRelease: return sim::LockAction::kRelease;
    default: return sim::LockAction::kAcquire;
  }
}

// The process whose lock entry (core/names.h) `name` is; -1 for any other
// name.
int OwnerIndexOfName(const std::string& name) {
  const ParsedName parsed = ParseName(Bytes{name.data(), static_cast<uint32_t>(name.size())});
  return parsed.kind == NameKind::kEntry ? sim::ProcessIndexOfNonce(parsed.nonce) : -1;
}

// The World's texts name processes by "P" and their index, and properties
// the same way (docs/protocol.md); a user's trace names processes "p" and
// the index (Who), so an uppercase one stays only where it names a property:
// right before " violated".
std::string InUsersNames(const std::string& text) {
  std::string out = text;
  for (size_t at = 0; at + 1 < out.size(); ++at) {
    if (out[at] != 'P' || out[at + 1] < '0' || out[at + 1] > '9') continue;
    if (at > 0 && isalnum(static_cast<unsigned char>(out[at - 1]))) continue;
    size_t end = at + 1;
    while (end < out.size() && out[end] >= '0' && out[end] <= '9') ++end;
    if (out.compare(end, 9, " violated") == 0) continue;
    out[at] = 'p';
  }
  return out;
}

}  // namespace

std::string MoveToken(const Move& move) {
  const std::string proc = std::to_string(move.proc);
  switch (move.kind) {
    case MoveKind::kProgram: return "a" + proc;
    case MoveKind::kPause: return "z";
    case MoveKind::kWorld: break;
  }
  switch (move.world) {
    case TransitionKind::kStep: return "s" + proc;
    case TransitionKind::kTimeout: return "t" + proc;
    case TransitionKind::kSkipName: return "n" + proc;
    case TransitionKind::kCrash: return "k" + proc;
    case TransitionKind::kReusePid: return "r" + proc;
    default: return "?" + proc;
  }
}

bool ParseMoveToken(const std::string& token, Move* move) {
  if (token == "z") {
    *move = Move{MoveKind::kPause, 0, TransitionKind::kStep};
    return true;
  }
  if (token.size() < 2 || token.size() > 3) return false;
  uint32_t proc = 0;
  for (size_t i = 1; i < token.size(); ++i) {
    if (token[i] < '0' || token[i] > '9') return false;
    proc = proc * 10 + static_cast<uint32_t>(token[i] - '0');
  }
  *move = Move{MoveKind::kWorld, proc, TransitionKind::kStep};
  switch (token[0]) {
    case 'a': move->kind = MoveKind::kProgram; return true;
    case 's': return true;
    case 't': move->world = TransitionKind::kTimeout; return true;
    case 'n': move->world = TransitionKind::kSkipName; return true;
    case 'k': move->world = TransitionKind::kCrash; return true;
    case 'r': move->world = TransitionKind::kReusePid; return true;
    default: return false;
  }
}

sim::WorldConfig WorldConfigOf(const Scenario& scenario) {
  sim::WorldConfig config;
  config.procs = scenario.processes;
  config.slots = scenario.lock.slots;
  config.external_program = true;
  config.owners_unknown = scenario.lock.lease_ms != 0;
  config.lease_ms = scenario.lock.lease_ms;
  // Users' programs are not the command: no job outlives its process.
  config.jobs_outlive_holders = false;
  return config;
}

uint64_t PauseMs(const Scenario& scenario) {
  return scenario.faults.pause_ms != 0 ? scenario.faults.pause_ms : scenario.lock.lease_ms + 1;
}

class Model::ResourceView : public View {
 public:
  explicit ResourceView(const Model& model) : model_(model) {}
  int64_t Value(RegisterId r) const override {
    return static_cast<const RegisterResource&>(*model_.resources_.at(r.index)).value;
  }
  int64_t Value(StoreId s) const override {
    return static_cast<const StoreResource&>(*model_.resources_.at(s.index)).value;
  }
  const Resource& Get(ResourceId r) const override { return *model_.resources_.at(r.index); }
  uint32_t holders() const override {
    uint32_t count = 0;
    for (const ProgramState& p : model_.programs_) count += p.belief == Belief::kHolding;
    return count;
  }

 private:
  const Model& model_;
};

Model::Model(const Scenario& scenario, Oracle* oracle)
    : scenario_(&scenario), oracle_(oracle), world_(WorldConfigOf(scenario)) {
  programs_.resize(scenario.processes);
  for (uint32_t i = 0; i < scenario.processes; ++i) {
    programs_[i].request = &oracle_->Next(i, nullptr);
  }
  for (const Scenario::ResourceSpec& spec : scenario.resources())
    resources_.push_back(spec.initial);
  CheckInvariants();
}

void Model::MaxCounters(const Counters& from, Counters* into) {
  auto max = [](uint64_t a, uint64_t* b) {
    if (a > *b) *b = a;
  };
  max(from.crashes, &into->crashes);
  max(from.pauses, &into->pauses);
  max(from.pid_reuses, &into->pid_reuses);
  max(from.leases_expired, &into->leases_expired);
  max(from.locks_lost, &into->locks_lost);
  max(from.acquisitions, &into->acquisitions);
  max(from.busy, &into->busy);
}

void Model::Fingerprint(uint64_t* hi, uint64_t* lo) const {
  world_.Fingerprint(hi, lo);
  Hasher a(*hi);
  Hasher b(*lo);
  auto word = [&](uint64_t value) {
    a.Word(value);
    b.Word(value);
  };
  for (uint32_t i = 0; i < programs_.size(); ++i) {
    const ProgramState& p = programs_[i];
    word(static_cast<uint64_t>(p.status));
    // A finished program's past no longer decides anything.
    if (p.status == Status::kEnded || p.status == Status::kKilled) continue;
    word(HashOf(p.history, i));
    word(static_cast<uint64_t>(p.belief));
    word(p.fence);
  }
  for (const auto& resource : resources_) word(resource->Fingerprint());
  word(crashes_used_);
  word(pauses_used_);
  word(reuses_used_);
  *hi = a.value();
  *lo = b.value();
}

bool Model::Enabled(const Move& move) const {
  if (move.kind == MoveKind::kPause) {
    if (scenario_->lock.lease_ms == 0 || pauses_used_ >= scenario_->faults.pauses) return false;
    if (Finished()) return false;
    if (scenario_->faults.pause_inside_lock) return true;
    for (const ProgramState& p : programs_) {
      if (p.status == Status::kInLock) return false;
    }
    return true;
  }
  if (move.proc >= programs_.size()) return false;
  const ProgramState& p = programs_[move.proc];
  const bool running = p.status == Status::kAtRequest || p.status == Status::kInLock;
  if (move.kind == MoveKind::kProgram) return p.status == Status::kAtRequest;
  const sim::Transition t{move.world, move.proc};
  switch (move.world) {
    case TransitionKind::kStep:
    case TransitionKind::kTimeout:
    case TransitionKind::kSkipName: return p.status == Status::kInLock && world_.IsEnabled(t);
    case TransitionKind::kCrash:
      return running && crashes_used_ < scenario_->faults.crashes && world_.IsEnabled(t);
    case TransitionKind::kReusePid:
      return reuses_used_ < scenario_->faults.pid_reuses && world_.IsEnabled(t);
    default: return false;
  }
}

bool Model::Moves(bool allow_reduction, std::vector<Move>* out) const {
  out->clear();
  // While a pause may still come, every step that reads the clock (records
  // carry their time; probes judge leases) depends on it: no reduction.
  const bool pause_possible = Enabled(Move{MoveKind::kPause, 0, TransitionKind::kStep});
  const bool pauses_left = scenario_->lock.lease_ms != 0 && pauses_used_ < scenario_->faults.pauses;
  // With pauses only between requests, starting or finishing a lock
  // operation disables or enables the pause: no move is independent of it
  // then, and none is explored alone.
  if (allow_reduction && !(pauses_left && !scenario_->faults.pause_inside_lock)) {
    const bool crashes_left = crashes_used_ < scenario_->faults.crashes;
    for (uint32_t i = 0; i < programs_.size(); ++i) {
      const ProgramState& p = programs_[i];
      if (p.status == Status::kAtRequest && IsLocalRequest(p.request->kind) &&
          !(pauses_left && ReadsTheClock(p.request->kind))) {
        out->push_back(Move{MoveKind::kProgram, i, TransitionKind::kStep});
        return true;
      }
      sim::Transition local;
      if (p.status == Status::kInLock && world_.LocalTransition(i, crashes_left, &local) &&
          !(pauses_left && StepReadsTheClock(i, local))) {
        out->push_back(Move{MoveKind::kWorld, i, local.kind});
        return true;
      }
    }
  }
  static constexpr TransitionKind kWorldKinds[] = {
      TransitionKind::kStep, TransitionKind::kTimeout, TransitionKind::kSkipName,
      TransitionKind::kCrash, TransitionKind::kReusePid};
  // Round robin from the process after the one that moved last: the search
  // then starts with the most interleaved schedule, where bugs that need
  // several processes inside their programs at once show up first.
  const uint32_t n = static_cast<uint32_t>(programs_.size());
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t i = (last_proc_ + 1 + k) % n;
    const Move program{MoveKind::kProgram, i, TransitionKind::kStep};
    if (Enabled(program)) out->push_back(program);
    for (TransitionKind kind : kWorldKinds) {
      const Move move{MoveKind::kWorld, i, kind};
      if (Enabled(move)) out->push_back(move);
    }
  }
  if (pause_possible) out->push_back(Move{MoveKind::kPause, 0, TransitionKind::kStep});
  return false;
}

bool Model::StepReadsTheClock(uint32_t i, const sim::Transition& local) const {
  return programs_[i].request->kind == ActionKind::kTryAcquire ||
         world_.procs()[i].op.kind == OpKind::kProbe || local.kind != TransitionKind::kStep;
}

bool Model::IsFault(const Move& move) const {
  return move.kind == MoveKind::kPause ||
         (move.kind == MoveKind::kWorld &&
          (move.world == TransitionKind::kCrash || move.world == TransitionKind::kReusePid));
}

bool Model::Finished() const {
  for (const ProgramState& p : programs_) {
    if (p.status == Status::kAtRequest || p.status == Status::kInLock) return false;
  }
  return true;
}

bool Model::Blocked(uint32_t proc) const {
  return programs_[proc].status == Status::kInLock && world_.Blocked(proc);
}

void Model::Masks(uint32_t* live, uint32_t* disabled) const {
  *live = 0;
  *disabled = 0;
  for (uint32_t i = 0; i < programs_.size(); ++i) {
    const ProgramState& p = programs_[i];
    if (p.status != Status::kAtRequest && p.status != Status::kInLock) continue;
    *live |= 1u << i;
    const bool can_move = Enabled(Move{MoveKind::kProgram, i, TransitionKind::kStep}) ||
                          Enabled(Move{MoveKind::kWorld, i, TransitionKind::kStep}) ||
                          Enabled(Move{MoveKind::kWorld, i, TransitionKind::kTimeout});
    if (!can_move) *disabled |= 1u << i;
  }
}

void Model::Apply(const Move& move) {
  events_.clear();
  assert(Enabled(move));
  if (move.kind != MoveKind::kPause) last_proc_ = move.proc;
  switch (move.kind) {
    case MoveKind::kProgram: ApplyProgram(move.proc); break;
    case MoveKind::kWorld: ApplyWorld(move); break;
    case MoveKind::kPause:
      ++pauses_used_;
      ++coverage_.pauses;
      world_.Pause(PauseMs(*scenario_));
      Narrate("pause: time jumps " + std::to_string(PauseMs(*scenario_)) +
              " ms while every process stalls (the lease is " +
              std::to_string(scenario_->lock.lease_ms) + " ms)");
      break;
  }
  coverage_.leases_expired = world_.counters().leases_expired;
  coverage_.acquisitions = world_.counters().acquisitions;
  CheckInvariants();
}

void Model::ApplyProgram(uint32_t i) {
  ProgramState& p = programs_[i];
  const Action& request = *p.request;
  const bool holding = world_.procs()[i].pc == sim::ProgramCounter::kHolding;
  if (IsLockRequest(request.kind)) {
    const bool acquiring =
        request.kind == ActionKind::kAcquire || request.kind == ActionKind::kTryAcquire;
    if (acquiring && holding) {
      Violate("program error: " + Who(i) + " called " + DescribeRequest(request) +
              " while holding the lock");
      return;
    }
    if (!acquiring && !holding) {
      // Nothing to ask the lock: this process holds nothing (it lost, or
      // released, or never acquired).
      Narrate(Who(i) + " " + DescribeRequest(request) + " -> not holding");
      Answer(i, 0);
      return;
    }
    Narrate(Who(i) + " " + DescribeRequest(request) + " ...");
    world_.Begin(i, LockActionOf(request.kind));
    p.status = Status::kInLock;
    return;
  }
  switch (request.kind) {
    case ActionKind::kAssertFailed:
      Violate("assertion failed in " + Who(i) + ": " + request.text);
      return;
    case ActionKind::kThrew:
      Violate(Who(i) + "'s program threw: " + request.text);
      p.status = Status::kEnded;
      return;
    case ActionKind::kNondeterministic:
      Violate("program error: " + request.text);
      p.status = Status::kEnded;
      return;
    case ActionKind::kEnd:
      Narrate(Who(i) + "'s program returns" +
              (p.belief == Belief::kHolding ? " while holding the lock" : ""));
      LeaveCriticalSection(i, p.belief == Belief::kHolding ? Belief::kReleased : p.belief);
      p.status = Status::kEnded;
      world_.End(i);
      return;
    default: Access(i, request); return;
  }
}

std::string Model::NameOf(uint32_t resource) const {
  return "'" + scenario_->resources().at(resource).name + "'";
}

Resource* Model::Mutable(uint32_t resource) {
  std::shared_ptr<const Resource>& slot = resources_.at(resource);
  if (slot.use_count() != 1) slot = std::shared_ptr<const Resource>(slot->Clone());
  return const_cast<Resource*>(slot.get());
}

// A guarded resource may be accessed only inside a critical section, as the
// program believes it: after being told the lock was lost, after releasing,
// or before acquiring, an access is the program's bug.
bool Model::CheckGuarded(uint32_t i, const std::string& what) {
  switch (programs_[i].belief) {
    case Belief::kHolding: return true;
    case Belief::kNever:
      Violate("access outside the critical section: " + Who(i) + " " + what +
              " without holding the lock");
      return false;
    case Belief::kReleased:
      Violate("access outside the critical section: " + Who(i) + " " + what +
              " after releasing the lock");
      return false;
    case Belief::kLost:
      Violate("access outside the critical section: " + Who(i) + " " + what +
              " after the lock told it the lock was lost");
      return false;
  }
  return false;
}

void Model::Access(uint32_t i, const Action& request) {
  const ProgramState& p = programs_[i];
  const Scenario::ResourceSpec& spec = scenario_->resources().at(request.resource);
  const auto kind = static_cast<ResourceKind>(spec.kind);
  uint32_t op = request.op;
  if (request.kind == ActionKind::kReadRegister || request.kind == ActionKind::kReadStore)
    op = kRead;
  if (request.kind == ActionKind::kWriteRegister || request.kind == ActionKind::kWriteStore)
    op = kWrite;
  if (request.kind == ActionKind::kWriteStoreFenced) op = kWriteFenced;
  Resource* resource = Mutable(request.resource);
  const int64_t result = resource->Apply(op, request.a, request.b);
  const std::string what = (op == kRead && kind != ResourceKind::kUser ? "read " : "") +
                           std::string(op == kWrite || op == kWriteFenced ? "wrote " : "") +
                           NameOf(request.resource);
  Narrate(Who(i) + " " + NameOf(request.resource) + " " +
          resource->Describe(op, request.a, request.b, result));
  if (!resource->guarded() || CheckGuarded(i, what)) {
    if (kind == ResourceKind::kRegister && op == kWrite) {
      auto* reg = static_cast<RegisterResource*>(resource);
      for (uint32_t q = 0; q < programs_.size(); ++q) {
        if (q != i && (reg->writers & (1u << q)) != 0 && programs_[q].belief == Belief::kHolding) {
          Violate("two writers in a critical section: " + Who(i) + " wrote " +
                  NameOf(request.resource) + " while " + Who(q) +
                  ", which wrote it in its critical section, still believes it holds the lock");
        }
      }
      reg->writers |= 1u << i;
    }
    if (kind == ResourceKind::kStore && op != kRead && result == 1) {
      auto* store = static_cast<StoreResource*>(resource);
      const uint64_t fence = p.belief == Belief::kHolding ? p.fence : 0;
      // A write is stale when an earlier accepted write came from a holder
      // with a larger fence, or from another holder with the same one: then
      // two holders' writes are interleaved in the store.
      const bool stale = store->last_writer != UINT32_MAX &&
                         (fence < store->last_writer_fence ||
                          (fence == store->last_writer_fence && store->last_writer != i));
      if (stale) {
        Violate("stale write accepted: " + NameOf(request.resource) + " accepted " + Who(i) +
                "'s write made with fence " + std::to_string(fence) + " after " +
                Who(store->last_writer) + "'s made with fence " +
                std::to_string(store->last_writer_fence));
      }
      store->last_writer = i;
      store->last_writer_fence = fence;
    }
  }
  Answer(i, result);
}

void Model::Answer(uint32_t i, int64_t result) {
  ProgramState& p = programs_[i];
  p.history = Extend(p.history, i, Observed{*p.request, result});
  p.request = &oracle_->Next(i, p.history);
  p.status = Status::kAtRequest;
}

// Leaving a critical section (or never having been in one): the register
// overlap check forgets this process's writes.
void Model::LeaveCriticalSection(uint32_t i, Belief belief) {
  programs_[i].belief = belief;
  for (uint32_t r = 0; r < resources_.size(); ++r) {
    if (scenario_->resources()[r].kind != static_cast<uint8_t>(ResourceKind::kRegister)) continue;
    const auto& reg = static_cast<const RegisterResource&>(*resources_[r]);
    if ((reg.writers & (1u << i)) == 0) continue;
    static_cast<RegisterResource*>(Mutable(r))->writers &= ~(1u << i);
  }
}

void Model::ApplyWorld(const Move& move) {
  const uint32_t i = move.proc;
  const sim::Process& before = world_.procs()[i];
  std::string removal;
  if (move.world == TransitionKind::kStep && before.op.kind == OpKind::kRemove) {
    const int owner = OwnerIndexOfName(before.op.name);
    if (owner >= 0 && static_cast<uint32_t>(owner) != i && world_.fs().count(before.op.name) != 0) {
      removal = Who(i) + " removes " + Who(static_cast<uint32_t>(owner)) + "'s lock entry (" +
                (scenario_->lock.lease_ms != 0 ? "its lease ran out" : "its owner is dead") + ")";
    }
  }
  const std::string verbose_line = verbose_ ? world_.Describe(sim::Transition{move.world, i}) : "";
  world_.Apply(sim::Transition{move.world, i});
  if (!verbose_line.empty()) Narrate(InUsersNames(verbose_line + world_.narration()));
  if (!removal.empty() && !verbose_) Narrate(removal);
  switch (move.world) {
    case TransitionKind::kCrash:
      ++crashes_used_;
      ++coverage_.crashes;
      Narrate(Who(i) + " is killed (kill -9)" +
              (programs_[i].belief == Belief::kHolding ? " while holding the lock" : ""));
      LeaveCriticalSection(i, programs_[i].belief);
      programs_[i].status = Status::kKilled;
      return;
    case TransitionKind::kReusePid:
      ++reuses_used_;
      ++coverage_.pid_reuses;
      Narrate("an unrelated process gets " + Who(i) + "'s pid " +
              std::to_string(world_.procs()[i].pid));
      return;
    case TransitionKind::kTimeout: Narrate(Who(i) + "'s wait times out"); break;
    default: break;
  }
  const sim::ProgramCounter pc = world_.procs()[i].pc;
  if (pc == sim::ProgramCounter::kIdle || pc == sim::ProgramCounter::kHolding) {
    FinishLockOperation(i);
  } else if (!world_.procs()[i].alive) {
    // The contract of an entry left behind: the process exits (World).
    programs_[i].status = Status::kEnded;
  }
}

void Model::FinishLockOperation(uint32_t i) {
  ProgramState& p = programs_[i];
  const sim::Process& w = world_.procs()[i];
  const ActionKind kind = p.request->kind;
  std::string text;
  int64_t result = 0;
  switch (w.outcome) {
    case Outcome::kAcquired:
      result = static_cast<int64_t>(w.fence);
      p.fence = w.fence;
      p.belief = Belief::kHolding;
      text = "acquired, fence " + std::to_string(w.fence);
      break;
    case Outcome::kBusy:
      ++coverage_.busy;
      text = "busy";
      break;
    case Outcome::kHeld:
      result = 1;
      text = "held";
      break;
    case Outcome::kReleased:
      result = 1;
      LeaveCriticalSection(i, Belief::kReleased);
      text = "released";
      break;
    case Outcome::kLost:
      ++coverage_.locks_lost;
      LeaveCriticalSection(i, kind == ActionKind::kRelease ? Belief::kReleased : Belief::kLost);
      text = w.contender.lease_ran_out() ? "lost (its lease ran out; it removed its entry)"
                                         : "lost (its entry was removed)";
      break;
    default:
      result = -1;
      const Failure& failure = w.contender.failure();
      text = std::string("failed: ") + FailureKindName(failure.kind) + " (" +
             std::string(failure.name.view().data, failure.name.view().size) + ": " +
             IoStatusName(failure.status) + ")";
      break;
  }
  Narrate(Who(i) + " " + DescribeRequest(*p.request) + " -> " + text);
  Answer(i, result);
}

void Model::CheckInvariants() {
  if (!world_.violation().empty()) Violate("lock protocol: " + InUsersNames(world_.violation()));
  if (!violation_.empty()) return;
  const ResourceView view(*this);
  for (const Scenario::NamedInvariant& inv : scenario_->always()) {
    if (!inv.holds(view)) {
      Violate("invariant '" + inv.name + "' does not hold");
      return;
    }
  }
  if (!Finished()) return;
  for (const Scenario::NamedInvariant& inv : scenario_->at_end()) {
    if (!inv.holds(view)) {
      Violate("at the end, invariant '" + inv.name + "' does not hold");
      return;
    }
  }
}

void Model::Violate(const std::string& what) {
  if (violation_.empty()) violation_ = what;
}

void Model::Narrate(const std::string& line) {
  if (narrate_) events_.push_back(line);
}

std::string Model::DescribeResources() const {
  std::string text;
  for (uint32_t r = 0; r < resources_.size(); ++r) {
    if (!text.empty()) text += ", ";
    text += NameOf(r) + " = " + resources_[r]->State();
  }
  return text;
}

std::string Model::Trace(const std::vector<Move>& path) const {
  return TraceOf(path, /*verbose=*/false);
}

std::string Model::TraceOf(const std::vector<Move>& path, bool verbose) const {
  Model model(*scenario_, oracle_);
  model.set_narrate(true, verbose);
  std::string trace;
  uint32_t line = 0;
  for (const Move& move : path) {
    model.Apply(move);
    for (const std::string& event : model.events()) {
      trace += "  " + std::to_string(++line) + ". " + event + "\n";
    }
  }
  trace += "  violated: " + model.violation() + "\n";
  if (!resources_.empty()) trace += "  resources at the end: " + model.DescribeResources() + "\n";
  return trace;
}

}  // namespace internal
}  // namespace verify
}  // namespace onlyone
