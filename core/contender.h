// The lock protocol as a caller-driven state machine (sans-IO).
//
// A Contender never touches the OS. Each call returns one Op, the single
// platform primitive it needs next; the driver performs it and hands back a
// Result through Step(), until the Op is kDone and outcome() says what
// happened. The protocol itself is described at the top of contender.cc.
//
//   Contender c;
//   c.Init(config, identity);
//   for (Op op = c.Acquire(clock, deadline); op.kind != OpKind::kDone;)
//     op = c.Step(driver.Perform(op));
//   if (c.outcome() == Outcome::kAcquired) { ... c.Release() ... }
//
// Storage is fixed-size and owned by the Contender; views inside an Op stay
// valid until the next call on the same Contender. Views inside a Result are
// owned by the driver and need only live until Step() returns.
#ifndef ONLYONE_CORE_CONTENDER_H_
#define ONLYONE_CORE_CONTENDER_H_

#include <stdint.h>

#include "core/bytes.h"
#include "core/names.h"
#include "core/record.h"

namespace onlyone {

class Hasher;  // core/fingerprint.h

// A deadline that never passes: wait forever.
constexpr uint64_t kNoDeadline = UINT64_MAX;
// In try mode a contender still waits this long for others that are in their
// doorway (state "choosing"): one of them may draw a larger ticket, and
// answering "busy" because of it would be a false busy. The doorway is a few
// file operations long, so this only runs out when a contender is stopped
// (SIGSTOP) or stalled mid-doorway.
constexpr uint64_t kChoosingPatienceMs = 2000;
// Tickets above this are refused rather than incremented; far beyond what a
// real lock reaches (one acquisition per nanosecond for a century is ~2^62).
constexpr uint64_t kTicketMax = UINT64_MAX / 2;
static_assert(kTicketMax == kFenceMax, "tickets and tokens share one limit");
// How many times a holder lists the counter again after its move found the
// counter gone: once is enough for an exclusive holder (its listing may
// predate its predecessor's move); more means holders fence at once, which
// only an expired lease can cause.
constexpr uint32_t kFenceAttemptsMax = 8;

// One platform primitive. Each maps to exactly one atomic operation of POSIX
// and WASI preview1, so that an interleaving of Ops in the simulator is an
// interleaving real processes can produce.
enum class OpKind : uint8_t {
  kNone = 0,
  kCreate,     // symlink(record, name); must fail with kExists if name exists
  kRename,     // rename(from, name): atomically replaces name
  kMove,       // rename(from, name) that never replaces: kExists if name
               // exists, kNotFound if from does not (renameat2 NOREPLACE)
  kRead,       // readlink(name)
  kListStart,  // start a listing of the lock directory (the driver's cursor)
  kListNext,   // the next name of the listing, or kEnd
  kRemove,     // unlink(name)
  kProbe,      // is the owner of `owner` alive? -> Liveness
  kWait,       // block until the directory changes, an owner dies, or deadline;
               // see WaitReason for what a driver may wait on
  kDone,       // finished; see outcome()
};

// Why a kWait waits, and so which change can end it. The contract: return
// when the directory may have changed since the last kListStart, an owner
// may have died, or the deadline passed; spurious returns are allowed. With
// a reason other than kAnyChange, Op::name is the one entry whose change (or
// whose owner's death) can let us in, and a driver may wake for nothing
// else: that is what spares the other waiters a thundering herd.
enum class WaitReason : uint8_t {
  kAnyChange = 0,    // no name: with several slots any holder ahead may go
  kDoorway,          // `name` is in its doorway: its ticket may be below ours
  kPredecessor,      // `name` is the main-ring entry just ahead of us: it goes
                     // when its owner releases or dies (which touches the
                     // owner's anchor, where the platform keeps one)
  kRingPredecessor,  // `name` is the fence-ring entry just ahead of us: it goes
                     // while its owner lives on and holds, anchor untouched
};

struct Op {
  OpKind kind = OpKind::kNone;
  Bytes name;                          // kCreate, kRead, kRemove; kRename's destination; kWait: the
                                       // one entry whose change can let us in (see WaitReason)
  Bytes from;                          // kRename's and kMove's source
  Bytes record;                        // kCreate: the symlink target to write
  const OwnerRecord* owner = nullptr;  // kProbe
  uint64_t deadline_mono_ms = kNoDeadline;          // kWait
  WaitReason wait_reason = WaitReason::kAnyChange;  // kWait
  // kListStart: whether the core reads the fence counter's names from this
  // listing (a scan's, or its own for the fence; not the doorway's). A
  // driver lists every name regardless; the simulator lists only the names
  // the core acts on, and steps over the rest (fewer states, same runs).
  bool counter_names = false;
};

enum class IoStatus : uint8_t {
  kOk = 0,
  kExists,      // kCreate, kMove: the name exists
  kNotFound,    // kRead, kRemove, kRename, kMove: the name (kMove: from) does not exist
  kNotSymlink,  // kRead: the name exists but is not a symlink (foreign file)
  kEnd,         // kListNext: no more names
  kTimedOut,    // kWait: the deadline passed
  kNoSpace,     // ENOSPC, EDQUOT
  kReadOnly,    // EROFS
  kPermission,  // EACCES, EPERM
  kTooLong,     // a name or record over a platform limit
  kIo,          // anything else; see os_error
};

const char* IoStatusName(IoStatus status);

enum class Liveness : uint8_t {
  kAlive = 0,
  kDead,     // proven dead: only this verdict lets anyone remove an entry
  kUnknown,  // cannot tell (another host, unseen namespace): counts as alive
             // unless Config::lease_ms lets an unrefreshed entry expire
};

struct Result {
  IoStatus status = IoStatus::kOk;
  int32_t os_error = 0;                    // the raw errno where there is one
  Bytes data;                              // kRead: the symlink target; kListNext: the name
  Liveness liveness = Liveness::kUnknown;  // kProbe
  uint64_t mono_ms = 0;                    // driver's monotonic clock when the op completed
  uint64_t wall_ms = 0;                    // driver's wall clock (records, leases)
};

// A Result that reports `status`, with the raw errno where there is one.
inline Result StatusResult(IoStatus status, int32_t os_error = 0) {
  Result result;
  result.status = status;
  result.os_error = os_error;
  return result;
}

enum class Outcome : uint8_t {
  kRunning = 0,
  kAcquired,  // Acquire: we hold a slot; fence() is our token
  kBusy,      // Acquire: not acquired (try mode, the deadline passed, or
              // lease_ran_out())
  kReleased,  // Release: our entry is gone
  kHeld,      // Validate / Refresh: we still hold
  kLost,      // Validate / Refresh / Release: our entry was removed by someone
  kCleaned,   // Cleanup: finished; see counters()
  kFailed,    // see failure()
};

const char* OutcomeName(Outcome outcome);

enum class FailureKind : uint8_t {
  kNone = 0,
  kIo,                 // an operation failed; see Failure::op, status, os_error
  kNonceCollision,     // our entry name already existed
  kIncompatibleEntry,  // an entry written by a newer, unknown format version
  kFenceCorrupt,       // the fence counter holds something we cannot parse
  kFenceContended,     // the counter moved under us kFenceAttemptsMax times
  kTicketOverflow,     // an entry's ticket is beyond kTicketMax
};

const char* FailureKindName(FailureKind kind);

struct Failure {
  FailureKind kind = FailureKind::kNone;
  OpKind op = OpKind::kNone;
  IoStatus status = IoStatus::kOk;
  int32_t os_error = 0;
  FixedBytes<kNameBytesMax> name;  // the entry involved, when there is one
  // Our own entry could not be removed (EIO, EROFS). It blocks everyone until
  // this process exits, because only then can others prove it dead and
  // remove it: a caller that sees this must exit, or retry Release() soon.
  bool entry_left_behind = false;
};

struct Config {
  uint32_t slots = 1;  // at most this many holders (k-exclusion)
  // Write version 1 records (core/record.h), with host and command, for a
  // driver that keeps them nowhere else (WASI). Otherwise version 2: short
  // enough for a symlink kept in its inode, the host and command left to the
  // driver (the POSIX driver writes them into the owner's anchor).
  bool full_records = false;
  // The driver's kMove is a hard link, then an unlink of the source (WASI
  // has no rename that refuses to replace): a crash between the two leaves
  // a lower counter name that a listing made meanwhile may not show. The
  // move is then always decided by a listing of our own made while we
  // hold, which nothing but a crash's leftovers can be older than.
  bool linked_moves = false;
  // 0: Unknown owners never expire. Otherwise an Unknown owner (one we
  // cannot check: another host) whose record was not refreshed for lease_ms
  // of wall clock is treated as dead, and a holder answers Validate and
  // Refresh with kHeld only while its own record is within lease_ms (it
  // gives the lock up, kLost, otherwise). Clocks of the hosts must agree to
  // well within lease_ms: the lease is judged by each side's own clock.
  uint64_t lease_ms = 0;
};

// What happened during the last operation: for diagnostics, and for the
// simulator to prove that rare branches were reached.
struct Counters {
  uint32_t entries_read = 0;
  uint32_t dead_entries_removed = 0;
  uint32_t leases_expired = 0;
  uint32_t waits_for_choosing = 0;
  uint32_t waits_for_holders = 0;
  uint32_t vanished_while_reading = 0;  // listed, then gone before the read
  uint32_t garbage_entries = 0;         // unparsable records, skipped
  uint32_t foreign_names = 0;           // names that are not ours, skipped
};

class Contender {
 public:
  // REQUIRES: identity.nonce is fresh randomness (it names our entry);
  // 1 <= config.slots <= kSlotsMax.
  void Init(const Config& config, const Identity& identity);

  // Starts an acquisition. deadline_mono_ms <= now_mono_ms means try once;
  // kNoDeadline waits forever.
  // REQUIRES: no operation running; not holding.
  Op Acquire(uint64_t now_mono_ms, uint64_t now_wall_ms, uint64_t deadline_mono_ms);
  // REQUIRES: holding (outcome kAcquired, kHeld).
  Op Release();
  // Reads our entry back: kHeld if it is still ours (and, under a lease,
  // still within it), kLost if not; a holder whose lease ran out removes
  // its entry before it answers kLost.
  // REQUIRES: holding.
  Op Validate();
  // Rewrites our entry with a new `seen` time so a lease does not expire it.
  // kHeld only when the rewrite landed while the record it replaced was
  // still within its lease; otherwise as Validate, kLost.
  // REQUIRES: holding.
  Op Refresh(uint64_t now_wall_ms);
  // Removes the entries (and stray temporaries) of dead owners.
  // REQUIRES: no operation running. Usable whether or not we hold.
  Op Cleanup(uint64_t now_wall_ms);

  // Feeds the result of the last Op; returns the next one.
  Op Step(const Result& result);

  Outcome outcome() const { return outcome_; }
  const Failure& failure() const { return failure_; }
  // After kLost: our own lease ran out (Config::lease_ms), rather than
  // someone having removed our entry. After kBusy: we would have won, but
  // our record had run out of its lease meanwhile (we were stalled), so it
  // may have been removed and put back; queue again, with a new nonce.
  bool lease_ran_out() const { return lease_ran_out_; }
  bool holding() const { return holding_; }
  uint64_t fence() const { return fence_; }
  uint64_t ticket() const { return mine_.ticket; }
  const OwnerRecord& record() const { return mine_; }
  Bytes entry_name() const { return entry_name_.view(); }
  // After kBusy: the live entry with the smallest ticket in the last scan,
  // normally the holder. has_blocker() is false when none was seen.
  bool has_blocker() const { return has_blocker_; }
  const OwnerRecord& blocker() const { return blocker_; }
  const Counters& counters() const { return counters_; }

  // A hash of everything that decides this Contender's future Ops, and of
  // nothing else (not counters, clocks or diagnostics), so that the model
  // checker can recognise states it has already explored. Two Contenders with
  // equal fingerprints under two seeds behave identically from here on.
  uint64_t ProtocolFingerprint(uint64_t seed) const;

 private:
  enum class Phase : uint8_t;
  enum class Ring : uint8_t;
  enum class ScanPurpose : uint8_t;
  // What a publish (temporary + rename) writes, and so what follows it.
  enum class PublishKind : uint8_t { kTicket, kRefresh };
  // What reading our own entry back is for.
  enum class CheckKind : uint8_t { kValidate, kRefresh };

  // One handler per concern; Step() only dispatches (the chart at the top of
  // contender.cc shows which phases each one owns).
  Op StepDoorway(const Result& result);
  Op StepScan(const Result& result);
  Op StepRemoveDead(const Result& result);
  Op StepPublish(const Result& result);
  Op StepFence(const Result& result);
  Op StepLeave(const Result& result);
  Op StepHolding(const Result& result);
  Op StepListing(const Result& result);
  // The Op whose result each phase consumes (kNone: any): Step() checks
  // that it is fed the answer to the question it asked.
  static OpKind ExpectedOp(Phase phase);
  void AssertInvariants() const;

  Op BeginRing(Ring ring);
  Op OnCreateEntry(const Result& result);
  Op BeginDoorwayList();
  Op BeginScan(ScanPurpose purpose);
  Op OnListName(Bytes name);
  Op OnEntryRead(const Result& result);
  bool ReadOtherRecord(const Result& result, ParseResult* parsed);
  Op OnProbe(Liveness liveness);
  void TallyLiveOwner();
  Op RemoveDeadOwner();
  Op FinishScan();
  Op WaitOrGiveUp(uint64_t deadline_mono_ms, WaitReason reason, Bytes target);
  Op AfterWin();
  Op DecideFence();
  void NoteCounterName(const ParsedName& name);
  Op MoveCounter();
  Op CreateCounter();
  Op ListCounter();
  Op StepCounterListing(const Result& result);
  Op OnCounterWritten(const Result& result);
  Op OnOldCounterRead(const Result& result);
  Op AfterFenced();
  Op StepStraySweep(const Result& result);
  Op PublishTicket();
  Op Won();
  Op Publish(PublishKind kind);
  Bytes PublishTarget() const;
  Op AfterPublish();
  Op OnCheckRead(const Result& result);
  Op AfterRefresh();
  bool LeaseRanOut(uint64_t refreshed_ms) const;
  Op GiveUpHolding();
  Op OnReleaseRemove(const Result& result);
  Op LeaveAfter(Outcome outcome);
  Op Lost();
  Op Fail(FailureKind kind, const Result* result, Bytes name);
  bool EncodeOwner(const OwnerRecord& record);
  void NoteLeftBehind(const Result& result, Bytes name);
  Op Finish(Outcome outcome);

  Op CreateOp(Bytes name, Bytes record);
  Op RenameOp(Bytes from, Bytes to);
  Op MoveOp(Bytes from, Bytes to);
  Op ReadOp(Bytes name);
  Op RemoveOp(Bytes name);
  Op SimpleOp(OpKind kind);
  Op ListStartOp(bool counter_names);
  void HashCounterSeen(Hasher* hash) const;
  void HashScanState(Hasher* hash) const;

  bool IsMine(Bytes name) const;
  Bytes RingEntryName() const;

  Config config_;
  OwnerRecord mine_;
  FixedBytes<kNameBytesMax> entry_name_;  // "o.<nonce>": our main entry
  FixedBytes<kNameBytesMax> ring_name_;   // "f.<nonce>": our fence-ring entry
  FixedBytes<kNameBytesMax> temp_name_;   // "t.<nonce>": our only temporary
  RecordText text_;                       // what we are writing

  Phase phase_{};
  OpKind issued_ = OpKind::kNone;  // the Op whose result Step() consumes next
  Ring ring_{};
  ScanPurpose purpose_{};
  PublishKind publish_kind_{};
  CheckKind check_kind_{};
  bool removed_stale_temp_ = false;
  Outcome outcome_ = Outcome::kRunning;
  Outcome pending_outcome_ = Outcome::kRunning;  // what a leave finishes with
  Failure failure_;
  bool holding_ = false;
  bool in_main_ring_ = false;   // our "o." entry exists (or may exist)
  bool in_fence_ring_ = false;  // our "f." entry exists (or may exist)
  bool try_mode_ = false;
  bool lease_ran_out_ = false;  // why the last kLost or kBusy

  uint64_t now_mono_ms_ = 0;
  uint64_t now_wall_ms_ = 0;
  uint64_t deadline_mono_ms_ = kNoDeadline;             // waiting behind holders
  uint64_t doorway_deadline_mono_ms_ = kNoDeadline;     // waiting for a doorway
  uint64_t fence_ring_deadline_mono_ms_ = kNoDeadline;  // waiting to fence
  uint64_t ring_ticket_ = 0;                            // our ticket in the current ring
  uint64_t max_ticket_seen_ = 0;
  uint64_t fence_ = 0;
  // The counter as the last listing showed it (see DecideFence).
  uint64_t counter_seen_ = 0;      // the largest N of fence.<N>; 0: none
  bool marker_made_ = false;       // the format marker, by us or before
  bool old_counter_seen_ = false;  // "fence" of older builds
  bool counter_listed_ = false;    // that listing was made while we won
  // That listing showed a fence.<N> besides the largest: a stray, which
  // goes before we win (see AfterFenced).
  bool stray_counter_seen_ = false;
  uint32_t fence_attempts_ = 0;
  FixedBytes<kNameBytesMax> counter_name_;       // what we move or create
  FixedBytes<kNameBytesMax> next_counter_name_;  // fence.<fence_>
  // The refreshed_ms of the record a refresh is replacing (AfterRefresh).
  uint64_t replaced_refresh_ms_ = 0;

  // The entry being examined by the current scan.
  FixedBytes<kNameBytesMax> other_name_;
  OwnerRecord other_;
  // Another name of the dead owner of other_name_ that is being removed: its
  // temporary, then its anchor.
  FixedBytes<kNameBytesMax> dead_owner_name_;
  // Scan tallies.
  uint32_t smaller_live_ = 0;
  bool saw_choosing_ = false;
  FixedBytes<kNameBytesMax> wait_target_;      // nearest smaller live ticket
  FixedBytes<kNameBytesMax> choosing_target_;  // first live doorway seen
  bool has_predecessor_ = false;
  Rank predecessor_;  // the rank of wait_target_
  bool has_blocker_ = false;
  OwnerRecord blocker_;

  Counters counters_;
};

}  // namespace onlyone

#endif  // ONLYONE_CORE_CONTENDER_H_
