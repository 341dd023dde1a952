// Fuzz target: contenders in the simulated world, with a driver and a
// directory that misbehave in every way a real platform and a hostile user
// can, and the simulator's own safety checks after every transition.
//
// The input is a schedule, decoded step by step:
//   - which process steps next, crashes (kill -9), gets its pid reused by an
//     unrelated process, respawns, times out, or has its listing skip a name
//     created meanwhile (World's transitions, as the simulator uses them);
//   - what a hostile user does to the directory: plant garbage, truncated or
//     unknown-version records, forged records of made-up owners (alive or
//     dead pids), regular files, a fence counter (while no contender is in
//     the directory); and remove what it planted;
//   - how the driver answers each Op (sim::Interference): the truth, or an
//     I/O error in its place (EIO, ENOSPC, EROFS, EACCES, ENAMETOOLONG), a
//     name that is taken for a moment (EEXIST), a phantom or repeated name in
//     a listing, a liveness verdict of "cannot tell" or "alive" for an owner
//     that is dead, an early time-out or wake-up, and arbitrary clocks.
// The driver never lies in a way that no real platform can: it never reports
// a live owner dead, never skips a name present for a whole listing, and
// never returns a record that is not what the directory holds. Within that,
// the protocol must stay safe, so the checks are the simulator's (P1 at most
// `slots` live holders, P2 nobody removes a live process's entry, P6 fencing
// tokens increase, no entry leaked between rounds, no failure without a
// cause) plus the core's own (fuzz/core_checks.h) on every Op and outcome.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <set>
#include <string>
#include <vector>

#include "core/contender.h"
#include "core/record.h"
#include "fuzz/check.h"
#include "fuzz/core_checks.h"
#include "fuzz/input.h"
#include "sim/world.h"

namespace onlyone {
namespace fuzz {

// Off in the fuzzer. core_world_lie_test turns it on to show that this
// harness catches a broken driver: one that reports a live owner dead.
bool g_driver_reports_live_owners_dead = false;

namespace {

using sim::Process;
using sim::ProcessNonce;
using sim::ProgramCounter;
using sim::Transition;
using sim::TransitionKind;
using sim::World;
using sim::WorldConfig;

// Bounds that keep one input well under a millisecond or so per hundred
// steps, while leaving room for several rounds with crashes and respawns.
constexpr int kTransitionsMax = 3000;
constexpr uint32_t kProcsMin = 2;
constexpr uint32_t kProcsMax = 4;
constexpr uint32_t kRoundsMax = 4;
// Made-up owners' nonces start here, far from the world's (process index + 1).
constexpr uint64_t kForgedNonceHi = 0xF0F0;

// How the driver answers one Op, decided by one input byte per Op.
enum class Answer : uint8_t {
  kTruth = 0,
  kError,      // an I/O error instead of performing it
  kQuirk,      // the Op's own misbehaviour (EEXIST, phantom name, time-out...)
  kClocks,     // performed; arbitrary clocks in the result
  kDenyDeath,  // kProbe: "alive" for an owner that is dead; kWait: wake up now
};
constexpr uint32_t kAnswerCount = 5;
// One byte picks the answer: each misbehaviour one in kAnswerRolls, the
// truth the rest (half), so that runs still get deep into the protocol.
constexpr uint32_t kAnswerRolls = 8;

class HostileDriver : public sim::Interference {
 public:
  HostileDriver(FuzzInput* input, const World* world) : input_(input), world_(world) {}

  bool Preempt(const Process& p, Result* result) override {
    CheckOp(OpOf(p), world_->NonceOf(p));
    // An exhausted input answers the truth: the run winds down faithfully.
    const uint32_t roll = input_->Empty() ? 0 : input_->Below(kAnswerRolls);
    answer_ = roll < kAnswerCount ? static_cast<Answer>(roll) : Answer::kTruth;
    switch (answer_) {
      case Answer::kTruth:
      case Answer::kClocks: return false;
      case Answer::kError:
        if (p.op.kind == OpKind::kProbe) return false;  // a probe has no status
        result->status = kErrors[input_->Below(sizeof kErrors / sizeof kErrors[0])];
        result->os_error = static_cast<int32_t>(input_->Byte());
        return true;
      case Answer::kQuirk: return Quirk(p, result);
      case Answer::kDenyDeath:
        if (p.op.kind == OpKind::kWait) return true;  // kOk: a spurious wake-up
        return false;
    }
    return false;
  }

  void Adjust(const Process& p, Result* result) override {
    if (answer_ == Answer::kClocks) {
      // Any clock, including 0 (unknown), far future, and going backwards.
      result->mono_ms = input_->Bool() ? input_->U64() : input_->Below(4);
      result->wall_ms = input_->Bool() ? input_->U64() : input_->Below(4);
    }
    if (p.op.kind == OpKind::kProbe && result->liveness == Liveness::kDead) {
      // Dead, but the driver cannot prove it (another namespace, no start
      // time) or is fooled into "alive" (a reused pid it cannot tell apart).
      if (answer_ == Answer::kQuirk) result->liveness = Liveness::kUnknown;
      if (answer_ == Answer::kDenyDeath) result->liveness = Liveness::kAlive;
    } else if (p.op.kind == OpKind::kProbe && answer_ == Answer::kQuirk &&
               g_driver_reports_live_owners_dead) {
      result->liveness = Liveness::kDead;  // the lie no real driver may tell
    }
  }

 private:
  // A view of the process's pending Op, valid while `p` is unchanged.
  static Op OpOf(const Process& p) {
    Op op;
    op.kind = p.op.kind;
    op.name = ViewOf(p.op.name);
    op.from = ViewOf(p.op.from);
    op.record = ViewOf(p.op.record);
    op.deadline_mono_ms = p.op.deadline_mono_ms;
    op.wait_reason = p.op.wait_reason;
    return op;
  }

  static constexpr IoStatus kErrors[] = {IoStatus::kIo, IoStatus::kNoSpace, IoStatus::kReadOnly,
                                         IoStatus::kPermission, IoStatus::kTooLong};

  bool Quirk(const Process& p, Result* result) {
    switch (p.op.kind) {
      case OpKind::kCreate:
        // Someone held the name for a moment (and has removed it since).
        result->status = IoStatus::kExists;
        return true;
      case OpKind::kListNext:
        // A name that came and went during the listing, or one listed
        // twice (readdir may repeat a name renamed meanwhile); the real next
        // name is still returned by the following kListNext.
        phantom_ = PhantomName(p);
        result->data = ViewOf(phantom_);
        return true;
      case OpKind::kWait:
        result->status = IoStatus::kTimedOut;  // gives up early: allowed, never unsafe
        return true;
      default: return false;
    }
  }

  std::string PhantomName(const Process& p) {
    switch (input_->Below(4)) {
      case 0: {  // a name listed again
        if (world_->fs().empty()) return CounterText(1);
        auto it = world_->fs().begin();
        for (uint32_t skip = input_->Below(8); skip > 0 && std::next(it) != world_->fs().end();
             --skip) {
          ++it;
        }
        return it->first;
      }
      case 1: {  // an entry of a process that came and went
        constexpr NameKind kKinds[] = {NameKind::kEntry, NameKind::kRingEntry,
                                       NameKind::kTemporary};
        return ProtocolName(kKinds[input_->Below(3)],
                            ProcessNonce(input_->Below(kProcsMax), 0, input_->Below(kRoundsMax)));
      }
      case 2:  // our own name: the core must recognise it
        return ProtocolName(NameKind::kEntry, world_->NonceOf(p));
      default:  // anything a file name can be, or not
        return input_->ShortString();
    }
  }

  FuzzInput* input_;
  const World* world_;
  Answer answer_ = Answer::kTruth;
  std::string phantom_;
};

// A hostile or careless user of the directory. It can add names but, in a
// sticky shared directory, neither replace nor remove another user's; it
// removes only what it planted, while that is unchanged.
class HostileUser {
 public:
  static std::string MarkerText() {
    return std::string(FormatMarkerName().data, FormatMarkerName().size);
  }

  HostileUser(FuzzInput* input, World* world) : input_(input), world_(world) {}

  void Plant() {
    std::string name;
    const uint8_t kind = input_->Byte();
    const bool forged_owner = (kind & 0x80) != 0;
    const Id128 nonce = forged_owner ? Id128{kForgedNonceHi, input_->Below(4)}
                                     : ProcessNonce(input_->Below(kProcsMax), input_->Below(2),
                                                    input_->Below(kRoundsMax));
    switch (kind % 6) {
      case 0: name = ProtocolName(NameKind::kEntry, nonce); break;
      case 1: name = ProtocolName(NameKind::kRingEntry, nonce); break;
      case 2: name = ProtocolName(NameKind::kTemporary, nonce); break;
      case 3: name = ProtocolName(NameKind::kAnchor, nonce); break;
      case 4:
        // The counter of an older build, a counter or the marker. Counters
        // only while no contender is in the directory (a backup restored, an
        // older build run before): P6 promises nothing against a counter
        // name written while contenders fence, which resets the count as
        // writing any counter does (docs/protocol.md, P6).
        switch (input_->Below(3)) {
          case 0: name = DirectoryIdle() ? OldCounterText() : MarkerText(); break;
          case 1: name = DirectoryIdle() ? CounterText(1 + input_->Below(16)) : MarkerText(); break;
          default: name = MarkerText(); break;
        }
        break;
      default: name = input_->ShortString(); break;
    }
    if (name.empty() || world_->fs().count(name) != 0) return;  // not ours to replace
    std::string content = Content(nonce, forged_owner);
    const bool symlink = (input_->Byte() & 0x7) != 0;
    // The simulator judges a node's owner by the nonce in its record, so a
    // planted record naming a world process would make that process the
    // owner of the user's file, and blame its contenders for removing it.
    // Records the user plants name made-up owners only.
    if (symlink && NamesAWorldProcess(content)) content = "garbage: " + content;
    world_->Plant(name, symlink, content);
    planted_.push_back({name, content});
  }

  void Unplant() {
    if (planted_.empty()) return;
    const size_t index = input_->Below(static_cast<uint32_t>(planted_.size()));
    const PlantedNode node = planted_[index];
    planted_.erase(planted_.begin() + static_cast<std::ptrdiff_t>(index));
    auto it = world_->fs().find(node.name);
    if (it == world_->fs().end() || it->second.content != node.content) return;  // not ours now
    world_->Unplant(node.name);
  }

 private:
  struct PlantedNode {
    std::string name;
    std::string content;
  };

  // No entry of either ring: nobody is between a listing and a move of the
  // counter, so every later listing of a contender starts after the plant.
  bool DirectoryIdle() const {
    for (const auto& entry : world_->fs()) {
      const NameKind kind = ParseName(ViewOf(entry.first)).kind;
      if (kind == NameKind::kEntry || kind == NameKind::kRingEntry) return false;
    }
    return true;
  }

  static bool NamesAWorldProcess(const std::string& content) {
    OwnerRecord record;
    if (ParseRecord(ViewOf(content), &record).error == ParseError::kNone) {
      return record.owner.nonce.hi != kForgedNonceHi;
    }
    FenceRecord fence;
    if (ParseFence(ViewOf(content), &fence).error == ParseError::kNone) {
      return fence.owner.nonce.hi != kForgedNonceHi;
    }
    return false;
  }

  std::string Content(Id128 nonce, bool forged_owner) {
    const uint8_t kind = input_->Byte();
    if (kind % 4 == 0) return input_->ShortString();  // garbage
    if (kind % 4 == 1) {
      // A fence record: a counter planted before anyone fenced, or a
      // temporary left by a made-up owner.
      FenceRecord fence;
      fence.fence = input_->Bool() ? input_->Below(16) : input_->U64();
      fence.owner.nonce = Id128{kForgedNonceHi, nonce.lo};
      fence.owner.pid = sim::kSimFirstPid + input_->Below(8);
      RecordText text;
      // Full records: a planted record names its made-up owner itself.
      if (!EncodeFence(fence, &text)) return "unencodable";
      return std::string(text.data, text.size);
    }
    OwnerRecord record;
    record.state = input_->Bool() ? EntryState::kWaiting : EntryState::kChoosing;
    record.ticket = record.state == EntryState::kChoosing ? 0
                    : input_->Bool()                      ? 1 + input_->Below(8)
                                                          : input_->U64() | 1;
    record.slots = 1 + input_->Below(3);
    record.owner.nonce = forged_owner ? nonce : Id128{kForgedNonceHi, input_->Below(4)};
    // A pid of a world process (alive: it blocks; dead or reused: it is
    // removed) or a pid nobody has.
    record.owner.pid = sim::kSimFirstPid + input_->Below(8);
    // Sometimes a live process's start time, so that a forged owner can
    // look alive.
    record.owner.start_time = input_->Bool() ? sim::kSimFirstStartTime + input_->Below(16)
                                             : input_->Below(sim::kSimFirstStartTime);
    record.owner.boot_id = input_->Bool() ? sim::kSimBootId : Id128{};
    RecordText text;
    if (!EncodeRecord(record, &text)) return "unencodable";
    std::string encoded(text.data, text.size);
    if (kind % 4 == 3) {
      // Damaged: truncated, or from a newer version.
      if (input_->Bool()) return "onlyone9" + encoded.substr(8);
      return encoded.substr(0, input_->Below(static_cast<uint32_t>(encoded.size())));
    }
    return encoded;
  }

  FuzzInput* input_;
  World* world_;
  std::vector<PlantedNode> planted_;
};

void CheckContenders(const World& world) {
  FUZZ_CHECK_MSG(world.violation().empty(),
                 (world.violation() + "\n" + world.DescribeFs()).c_str());
  for (const Process& p : world.procs()) {
    if (!p.alive) continue;
    if (p.pc == ProgramCounter::kHolding) FUZZ_CHECK(p.contender.holding());
    // Holding, or between rounds: the last operation's outcome.
    if (p.pc == ProgramCounter::kHolding || (p.pc == ProgramCounter::kIdle && p.round > 0)) {
      CheckOutcome(p.contender);
    }
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace onlyone

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace onlyone;
  using namespace onlyone::fuzz;
  FuzzInput input(data, size);
  WorldConfig config;
  const uint8_t setup = input.Byte();
  config.procs = kProcsMin + setup % (kProcsMax - kProcsMin + 1);
  config.slots = 1 + (setup >> 2) % 2;
  config.try_mode = ((setup >> 3) & 1) != 0;
  config.rounds = 1 + (setup >> 4) % kRoundsMax;
  config.spurious_wakeups = ((setup >> 6) & 1) != 0;
  config.linked_moves = ((setup >> 7) & 1) != 0;
  config.merge_reads = false;  // every Op alone, each answered by the driver
  World world(config);
  HostileDriver driver(&input, &world);
  HostileUser user(&input, &world);
  world.set_interference(&driver);

  std::vector<Transition> enabled;
  for (int i = 0; i < kTransitionsMax && !input.Empty() && !world.AllDone(); ++i) {
    const uint8_t action = input.Byte();
    const uint32_t proc = input.Below(config.procs);
    Transition t{TransitionKind::kStep, proc};
    if (action < 176) {
      // Mostly steps, of the chosen process or else of any that can.
      if (!world.IsEnabled(t)) {
        world.EnabledTransitions(false, false, &enabled);
        if (enabled.empty()) break;
        t = enabled[proc % enabled.size()];
      }
      world.Apply(t);
    } else if (action < 184) {
      t.kind = TransitionKind::kCrash;
      if (world.IsEnabled(t)) world.Apply(t);
    } else if (action < 192) {
      t.kind = TransitionKind::kReusePid;
      if (world.IsEnabled(t)) world.Apply(t);
    } else if (action < 200) {
      world.Respawn(proc);
    } else if (action < 208) {
      t.kind = TransitionKind::kTimeout;
      if (world.IsEnabled(t)) world.Apply(t);
    } else if (action < 224) {
      t.kind = TransitionKind::kSkipName;
      if (world.IsEnabled(t)) world.Apply(t);
    } else if (action < 236) {
      user.Plant();
    } else if (action < 244) {
      user.Unplant();
    } else {
      world.AdvanceClock(input.Bool() ? kChoosingPatienceMs : input.Below(100));
    }
    CheckContenders(world);
  }
  world.set_interference(nullptr);
  // How deep inputs get (acquisitions, removals of dead owners, faults...):
  // ONLYONE_FUZZ_STATS=1 with the replay test over a corpus prints it.
  static const bool print_stats = getenv("ONLYONE_FUZZ_STATS") != nullptr;
  if (print_stats) fprintf(stderr, "world: %s\n", sim::FormatCounters(world.counters()).c_str());
  return 0;
}
