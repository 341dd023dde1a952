// A simulated machine for the lock protocol: an in-memory lock directory, a
// process table, and contenders driven one Op at a time.
//
// The file system gives exactly the atomicity the POSIX and WASI drivers rely
// on and nothing more:
//   - kCreate is an exclusive symlink: it fails if the name exists;
//   - kRename atomically replaces its destination;
//   - kMove atomically renames, failing if its source is gone or its
//     destination exists (renameat2 RENAME_NOREPLACE); or, with
//     WorldConfig::linked_moves, links then unlinks in two steps;
//   - kRead returns a whole symlink target;
//   - kRemove unlinks one name;
//   - listings are NOT atomic: a listing is a cursor over names in sorted
//     order, advanced one kListNext at a time while other processes act. A
//     name created behind the cursor is missed, one removed ahead of it is not
//     seen; only names present for the whole listing are guaranteed (H8).
// Processes can crash (kill -9) between any two Ops, and a dead process's
// PID can be handed to an unrelated process (H4). Liveness is judged by
// (pid, start time, boot id), as the POSIX driver does.
//
// After every transition the world checks P1 (at most `slots` live holders),
// P2 (nobody removes or overwrites an entry of another live process) and P6
// (each acquisition's fencing token is larger than every earlier one).
//
// The world is a value: copying it copies the whole simulation, which is what
// the model checker does at every branch.
#ifndef ONLYONE_SIM_WORLD_H_
#define ONLYONE_SIM_WORLD_H_

#include <stdint.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/contender.h"
#include "sim/broken_steal.h"

namespace onlyone {
namespace sim {

struct WorldConfig {
  uint32_t procs = 3;
  uint32_t slots = 1;
  uint32_t rounds = 1;        // acquisitions (each followed by a release) per process
  bool broken_steal = false;  // run the broken unlink-then-create protocol instead
  bool try_mode = false;      // acquire once instead of waiting
  // Perform "list next -> read that entry -> probe its owner" as one step.
  // Sound for this protocol: the read commutes with everything but writes to
  // that entry, which a later read sees all the same, and the probe commutes
  // with everything but the owner's crash, after which the owner is removed
  // whatever its entry said (see docs/verification.md). Off: every Op alone.
  bool merge_reads = true;
  // A wait may return at any moment, not only after a change: drivers have
  // timers and safety-net rechecks, and EINTR exists. Safety must hold under
  // every wake schedule, so this is the default. Off: a waiter moves only
  // after a write or a death since its listing began (the inotify contract
  // alone), which checks that no wake-up the protocol needs can be lost.
  bool spurious_wakeups = true;
  // A holder may be killed while its job keeps running: the onlyone
  // command's job inherits the holder's liveness anchor, whose kernel lock
  // then stays held until the job's last process exits. To everyone else
  // such an owner is alive, and its holding counts for P1, until its job
  // ends (kJobEnds). Off: every kill ends the whole job at once.
  bool jobs_outlive_holders = true;
  // The job inherits the anchor. Off: it does not (the command as it was
  // before its job inherited the anchor), so a holder killed with its job
  // running probes dead while the job still works: the checker must catch
  // the overlap.
  bool job_inherits_anchor = true;
  // Owners live on other hosts: every probe answers Liveness::kUnknown, and
  // only a lease (lease_ms > 0: Config::lease_ms of every contender) lets an
  // entry that was not refreshed for that long be removed. A holder whose
  // entry was removed so no longer counts for P1: the lock stopped vouching
  // for it, which is what a lease means (verify/ checks what users make of it).
  bool owners_unknown = false;
  uint64_t lease_ms = 0;
  // Processes run a program outside the World (verify/): it starts each lock
  // operation with Begin() and reads its outcome when the process is back at
  // kIdle or kHolding; the World never starts one by itself.
  bool external_program = false;
  // Contenders write version 1 (full) records, as the WASI module does.
  // Version 2 leaves out what no contender reads (host, command, and in the
  // fence record the fencer's nonce), so states that differed only in which
  // round of a process fenced last are one state there.
  bool full_records = false;
  // kMove is a hard link, then an unlink of the source, in two steps, as
  // the WASI module (and the POSIX driver where RENAME_NOREPLACE is missing)
  // moves the fence counter: a crash between them leaves both names.
  bool linked_moves = false;
  // A directory two kinds of holders share: the even-numbered processes move
  // by link (as above: the WASI module, or onlyone on an NFS client), the
  // odd-numbered ones by one rename (the POSIX driver on the file system
  // itself), each with its own Config::linked_moves.
  bool mixed_moves = false;
  // Processes that move by rename list in one atomic step, a snapshot, as
  // the POSIX driver's single getdents64 call does on a local file system
  // (platform/posix/driver_os.h, 1); the others' listings stay cursors.
  bool snapshot_listings = false;
};

enum class TransitionKind : uint8_t {
  kStep = 0,  // process performs its pending Op (or starts its next action)
  kCrash,     // process is killed with SIGKILL
  kReusePid,  // a dead process's pid is given to an unrelated new process
  kTimeout,   // a waiting process's deadline passes
  kSkipName,  // a listing skips a name created after it started (H8)
  // A holder is killed with SIGKILL, but the job it runs keeps its anchor
  // locked (see WorldConfig::jobs_outlive_holders). Counts as a crash.
  kCrashLeavingJob,
  kJobEnds,  // the last process of a killed holder's job exits
};

struct Transition {
  TransitionKind kind = TransitionKind::kStep;
  uint32_t proc = 0;
};

// Where a process is in its program: rounds of acquire, hold, release.
enum class ProgramCounter : uint8_t {
  kIdle = 0,  // about to start an acquisition
  kAcquiring,
  kHolding,  // in its critical section; next step starts the release
  kReleasing,
  kChecking,  // holding, and validating or refreshing its entry (external programs)
  kDone,
};

// A lock operation an external program starts (WorldConfig::external_program).
enum class LockAction : uint8_t {
  kAcquire = 0,  // wait until acquired
  kTryAcquire,   // acquire once
  kRelease,
  kValidate,
  kRefresh,
};

// The nonce process `index` draws in `round` of `incarnation` (Respawn), so
// that a name in the simulated directory says whose it is: the index + 1 in
// the high half, never zero. Which round draws one: World::NonceOf.
Id128 ProcessNonce(uint32_t index, uint32_t incarnation, uint32_t round);
// The process index a World nonce spells; -1 for a nonce the World did not
// make (zero high half).
int ProcessIndexOfNonce(Id128 nonce);

// The Op a process will perform next, copied out of its machine so that a
// copied World does not point into another World's memory.
struct PendingOp {
  OpKind kind = OpKind::kNone;
  std::string name;
  std::string from;
  std::string record;
  uint32_t probe_pid = 0;
  uint64_t probe_start_time = 0;
  Id128 probe_boot_id;
  uint64_t deadline_mono_ms = kNoDeadline;
  WaitReason wait_reason = WaitReason::kAnyChange;
  bool counter_names = false;  // kListStart: Op::counter_names
};

struct Process {
  uint32_t index = 0;
  uint32_t incarnation = 0;  // bumped by Respawn: a new process in a dead slot
  uint32_t pid = 0;
  uint64_t start_time = 0;
  bool alive = true;
  // Killed while holding (kCrashLeavingJob), its job still running: its pid
  // and start time stay in the process table, so it probes alive.
  bool job_running = false;
  ProgramCounter pc = ProgramCounter::kIdle;
  uint32_t round = 0;
  Contender contender;
  BrokenSteal broken;
  PendingOp op;
  bool listing = false;
  std::string cursor;  // last name returned by the listing
  // A snapshot listing (WorldConfig::snapshot_listings): the names it has
  // yet to return, taken all at once by its kListStart.
  std::vector<std::string> snapshot;
  bool at_start = false;  // listing started, nothing returned yet
  // What changed since our last kListStart, as the POSIX driver's inotify
  // watch reports it: entry names ("o.", "f.") that were written or removed,
  // and "k.<nonce>" for each owner that died (its anchor closed). A waiter
  // with a named target wakes only for that entry or its owner's death.
  std::set<std::string> news;
  bool lists_temporaries = false;  // a cleaner: its listings include t.* names
  bool lists_counter = false;      // the current listing includes fence.<N>, "fence"
  bool lists_everything = false;   // an outside driver: listings hide nothing
  uint64_t fence = 0;              // token of the current holding
  // A linked move (WorldConfig::linked_moves) whose link is done: this
  // source name is unlinked by the process's next step, which answers it.
  std::string unlink_pending;
  Outcome outcome = Outcome::kRunning;  // of the last lock operation that finished
  // Someone removed this process's entry because its lease ran out (since
  // its current acquisition began).
  bool lease_expired = false;
};

struct Node {
  bool symlink = true;  // false: a regular file (foreign, or planted)
  std::string content;
  // Bit i: present since process i's current listing started. A listing must
  // return such names; names created after it started may or may not appear.
  uint32_t listed_since_start = 0;
  // Fingerprint of name and content, computed once when the node is written:
  // the model checker fingerprints every state, and rehashing whole records
  // each time dominated its run time.
  uint64_t hash = 0;
  // The owner's nonce, parsed once when the node is written (0, 0 when the
  // content names no owner): listings and safety checks ask for it at every
  // step, and parsing records there dominated the model checker's time.
  Id128 owner;
};

// Rare branches, counted so tests can prove they were reached.
struct WorldCounters {
  uint64_t steps = 0;
  uint64_t acquisitions = 0;
  uint64_t busy = 0;
  uint64_t crashes = 0;
  uint64_t crashes_while_choosing = 0;  // crashed with its entry in the doorway
  uint64_t crashes_while_holding = 0;
  uint64_t crashes_leaving_job = 0;  // killed holders whose job ran on
  uint64_t jobs_ended = 0;
  uint64_t pids_reused = 0;
  uint64_t dead_verdicts_on_reused_pid = 0;  // probe said dead; pid was alive
  uint64_t dead_entries_removed = 0;
  uint64_t waits_for_choosing = 0;
  uint64_t vanished_while_reading = 0;
  uint64_t io_faults = 0;
  uint64_t timeouts = 0;
  uint64_t names_skipped = 0;     // listings that missed a name created meanwhile
  uint64_t exits = 0;             // processes that finished and exited
  uint64_t planted = 0;           // nodes planted by a hostile or careless user
  uint64_t leases_expired = 0;    // entries removed because their lease ran out
  uint64_t crashes_mid_move = 0;  // between a linked move's link and its unlink
  uint64_t strays_removed = 0;    // counter names a holder removed below its token
};

// Every counter by name: one list for printing, summing and taking maxima.
struct CounterField {
  const char* name;
  uint64_t WorldCounters::*member;
};
inline constexpr CounterField kCounterFields[] = {
    {"steps", &WorldCounters::steps},
    {"acquisitions", &WorldCounters::acquisitions},
    {"busy", &WorldCounters::busy},
    {"crashes", &WorldCounters::crashes},
    {"crashes_while_choosing", &WorldCounters::crashes_while_choosing},
    {"crashes_while_holding", &WorldCounters::crashes_while_holding},
    {"crashes_leaving_job", &WorldCounters::crashes_leaving_job},
    {"jobs_ended", &WorldCounters::jobs_ended},
    {"pids_reused", &WorldCounters::pids_reused},
    {"dead_verdicts_on_reused_pid", &WorldCounters::dead_verdicts_on_reused_pid},
    {"dead_entries_removed", &WorldCounters::dead_entries_removed},
    {"waits_for_choosing", &WorldCounters::waits_for_choosing},
    {"vanished_while_reading", &WorldCounters::vanished_while_reading},
    {"io_faults", &WorldCounters::io_faults},
    {"timeouts", &WorldCounters::timeouts},
    {"names_skipped", &WorldCounters::names_skipped},
    {"exits", &WorldCounters::exits},
    {"planted", &WorldCounters::planted},
    {"leases_expired", &WorldCounters::leases_expired},
    {"crashes_mid_move", &WorldCounters::crashes_mid_move},
    {"strays_removed", &WorldCounters::strays_removed},
};

// "name=value name=value ...", for reports.
std::string FormatCounters(const WorldCounters& counters);
void AddCounters(const WorldCounters& from, WorldCounters* into);
void MaxCounters(const WorldCounters& from, WorldCounters* into);

// The errno a Linux driver reports with `status` (0 for statuses that are
// not errors), so that an injected fault looks like the real one to callers
// that print or branch on Failure::os_error.
int32_t LinuxErrno(IoStatus status);

// The pid and start time of the world's first process; the others follow.
constexpr uint32_t kSimFirstPid = 100;
constexpr uint64_t kSimFirstStartTime = 1000;

// A driver that misbehaves the ways a real one may: the core fuzzer
// (fuzz/core_world_fuzzer.cc) answers the world's own processes' Ops through
// it. Whatever it does must stay within what a real platform can do (an
// error instead of the operation, a verdict of "cannot tell", a phantom name
// in a listing, any clock), or the safety checks would blame the protocol for
// the driver's lie.
class Interference {
 public:
  virtual ~Interference() = default;
  // Before `p` performs p.op: return true and fill *result to answer the Op
  // without performing it. A status other than kOk or kTimedOut counts as an
  // injected fault.
  virtual bool Preempt(const Process& p, Result* result) = 0;
  // After `p` performed p.op: may change *result. Views it sets must stay
  // valid until the next call.
  virtual void Adjust(const Process& p, Result* result) = 0;
};

class World {
 public:
  explicit World(const WorldConfig& config);

  const WorldConfig& config() const { return config_; }
  const std::vector<Process>& procs() const { return procs_; }
  const std::map<std::string, Node>& fs() const { return fs_; }
  const WorldCounters& counters() const { return counters_; }
  // The nonce of p's current acquisition. As a reused POSIX Lock does: one
  // nonce for every round of a process life, drawn in round 0, since its
  // anchor stays locked between acquisitions; a new one each round under a
  // lease, where others remove entries without proof of death and the Lock
  // keeps no anchor.
  Id128 NonceOf(const Process& p) const;

  // Transitions possible now. `allow_crash` and `allow_reuse` let the caller
  // bound how many faults a run may contain.
  void EnabledTransitions(bool allow_crash, bool allow_reuse, std::vector<Transition>* out) const;
  bool IsEnabled(const Transition& t) const;
  void Apply(const Transition& t);

  // A transition of `proc` that touches nothing shared and cannot be
  // disabled by others: starting an acquisition or a release, waking from a
  // wait, and probing an owner that can no longer change (dead, or no crash
  // budget left). Exploring it alone loses no behaviour (partial-order
  // reduction); returns false when `proc` has none.
  bool LocalTransition(uint32_t proc, bool crashes_possible, Transition* out) const;

  // Fault injection for the random simulator: the next Op that writes the
  // directory fails with this status instead (kOk: none).
  void InjectFault(IoStatus status) { next_fault_ = status; }
  // Random simulator only: a new process (new pid, new start time) takes the
  // slot of a dead one and starts from round 0.
  void Respawn(uint32_t proc);
  // External programs: `proc`, at kIdle (acquire) or kHolding (the others),
  // starts a lock operation; its first Op becomes pending.
  void Begin(uint32_t proc, LockAction action);
  // External programs: `proc` ends its program and exits.
  void End(uint32_t proc);
  // Whether a holder's main entry is still in the directory.
  bool EntryPresent(const Process& p) const;
  // Processes finish their current acquisition or release, then stop.
  void StopNewRounds() { stopping_ = true; }
  // A fresh process runs Contender::Cleanup to completion against the
  // directory; returns false if it did not finish (a driver bug).
  bool RunCleanup();
  // A process outside the simulated programs (a contender driven by a test,
  // a cleaner): performs one Op on this world with exactly its semantics.
  Result PerformFor(Process* outside, const Op& op);
  // The process table, for such outside processes.
  void AddOutsideProcess(uint32_t pid, uint64_t start_time) { pid_table_[pid] = start_time; }
  void RemoveOutsideProcess(uint32_t pid) { pid_table_.erase(pid); }
  // Plants a node (foreign file, garbage record) as a hostile user would.
  void Plant(const std::string& name, bool symlink, const std::string& content);
  // Removes a node, as its hostile or careless owner would; refused (false)
  // when a live process owns it, which in a shared, sticky directory nobody
  // else can remove.
  bool Unplant(const std::string& name);
  // Answers the world's own processes' Ops through `interference` (not
  // owned; nullptr: none). Outside processes (PerformFor) are unaffected.
  void set_interference(Interference* interference) { interference_ = interference; }
  // Virtual clock, advanced by the random simulator.
  void AdvanceClock(uint64_t ms) { now_ms_ += ms; }
  // Time passes for everyone (a pause): the clock jumps, and every waiter
  // wakes, as a driver's timer would wake it to recheck leases.
  void Pause(uint64_t ms);
  // A waiter that nothing has woken: it can only wake spuriously.
  bool Blocked(uint32_t proc) const;
  uint64_t now_ms() const { return now_ms_; }

  // Every live process has finished its rounds (or given up), and no killed
  // holder's job still runs.
  bool AllDone() const;
  // Whether the owner `p` still counts as alive: running, or killed with its
  // job still running.
  static bool Lives(const Process& p) { return p.alive || p.job_running; }
  uint32_t LiveHolders() const;

  // The first safety violation seen, empty if none.
  const std::string& violation() const { return violation_; }

  // 128-bit fingerprint of everything that decides the future.
  void Fingerprint(uint64_t* hi, uint64_t* lo) const;

  std::string Describe(const Transition& t) const;
  // With narration on, Apply records what a merged step did besides its
  // first Op (the read and probe that follow a listing step), for traces.
  void set_narrate(bool narrate) { narrate_ = narrate; }
  const std::string& narration() const { return narration_; }
  std::string DescribeFs() const;

 private:
  Result Perform(Process* p);
  bool TakeInjectedFault(OpKind kind, Result* result);
  void PerformCreate(Process* p, Result* result);
  void PerformRename(Process* p, Result* result);
  void PerformMove(Process* p, Result* result);
  void PerformRead(const PendingOp& op, Result* result) const;
  void PerformListStart(Process* p);
  void PerformListNext(Process* p, Result* result);
  void PerformRemove(Process* p, Result* result);
  void NoteRemovalOfOthers(const Process& remover, const std::string& name, const Node& node);
  void PerformProbe(const PendingOp& op, Result* result);
  Result PerformOwn(Process* p);
  void ApplyStep(Process* p);
  void PerformPending(Process* p);
  void FinishLinkedMove(Process* p);
  void StepMachine(Process* p, const Result& result);
  void ApplyTimeout(Process* p);
  void ApplyCrash(Process* p);
  void CountCrash(const Process& p);
  void ApplyCrashLeavingJob(Process* p);
  void ApplyJobEnds(Process* p);
  void ApplySkipName(Process* p);
  bool FailureExplained(const Failure& failure) const;
  void Advance(Process* p, const Op& op);
  void Start(Process* p);
  void StartAcquire(Process* p, bool try_mode);
  void OnDoneExternal(Process* p, Outcome outcome);
  void OnDone(Process* p);
  void Exit(Process* p);
  // Whether p's listings show `name` at all (the core acts on it, and it is
  // not p's own); a cursor listing may still skip it (kSkipName).
  bool Lists(const Process& p, const std::string& name, const Node& node) const;
  std::map<std::string, Node>::const_iterator NextListed(const Process& p) const;
  std::string NextListedName(const Process& p) const;
  // Whether p moves the counter by link (WorldConfig::linked_moves,
  // mixed_moves), and whether its listings are snapshots.
  bool MovesByLink(const Process& p) const;
  bool ListsSnapshots(const Process& p) const;
  void Announce(uint32_t except_proc, const std::string& news);
  void AnnounceDeath(const Process& dead);
  bool IsWokenFor(const Process& waiter) const;
  Identity MakeIdentity(const Process& p) const;
  const Process* OwnerOf(const Node& node) const;
  void CheckWrite(const Process& p, const std::string& name);
  void CheckAcquired(const Process& p);
  bool LeaseExpired(const Node& node) const;
  bool TemporaryOfExpiredOwner(const std::string& temp) const;
  void Violate(const std::string& what);

  WorldConfig config_;
  std::vector<Process> procs_;
  std::map<std::string, Node> fs_;
  std::map<uint32_t, uint64_t> pid_table_;  // live pid -> start time
  uint64_t next_start_time_ = kSimFirstStartTime;
  uint64_t last_fence_ = 0;
  uint64_t now_ms_ = 1;
  IoStatus next_fault_ = IoStatus::kOk;
  bool stopping_ = false;
  bool narrate_ = false;
  Interference* interference_ = nullptr;
  std::string narration_;
  std::string violation_;
  WorldCounters counters_;
};

// The boot id and the pid namespace every simulated process shares (one
// simulated machine).
constexpr Id128 kSimBootId = {0x5eed5eed5eed5eedull, 0x0b007b007b007b00ull};
constexpr uint64_t kSimPidNamespace = 1;

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_WORLD_H_
