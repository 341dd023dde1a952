// The onlyone lock protocol.
// The hazards (H1..H10) and properties (P1..P6) cited here are defined in docs/protocol.md.
//
// One lock is one directory. Every contender owns exactly one entry in it,
// "o.<nonce>", a symlink whose target is the contender's owner record
// (core/record.h); every name the protocol uses is defined in core/names.h.
// The entry exists from the contender's first step until it
// leaves, and only its owner ever writes it. The only thing anyone else does
// to it is remove it, and only after proving its owner dead; a dead owner
// never acts again, so that removal can never hit a fresh lock. This is
// Lamport's bakery algorithm with the directory as the set of registers.
//
// Acquire:
//   1. Doorway: create o.<nonce> as "choosing" with one exclusive symlink.
//      Exclusive create of a name nobody else uses: there is no window in
//      which the entry exists without its record (H2), and nothing here can be
//      raced by a check-then-create (H1).
//   2. List the directory and read every other entry; our ticket is 1 + the
//      largest ticket seen. Entries missed because the listing is not atomic
//      (H8) either were created after our doorway began, so they will see us
//      and draw a larger ticket, or are caught by step 4.
//   3. Publish our entry as "waiting, ticket N": symlink t.<nonce>, then rename
//      it onto o.<nonce>. The same name for choosing and ticket is essential:
//      with two names a reader that listed one and then finds it gone cannot
//      tell whether its owner left or moved to the other name, which its
//      non-atomic listing may have missed (H8).
//   4. Scan: list again and read each other entry. Whose owner is proven dead
//      (Liveness::kDead, never a guess: H4, H5, H6) is removed: its temporary,
//      its entry, then its liveness anchor "k.<nonce>" if the driver keeps
//      one. It is the owner's own entry, the owner never comes back, so no
//      ABA (H3, H7). A live "choosing" entry means someone is in the doorway
//      and may still pick a ticket below ours: wait for it. Count the live
//      entries whose (ticket, nonce) is smaller than ours; if fewer than
//      `slots`, we hold. Otherwise fail now (try mode) or wait for a change
//      and scan again.
//   5. Fence: the counter is a name, "fence.<N>", N the last token. The
//      holder takes N from the listing of its scan and renames fence.<N> to
//      fence.<N+1> with a rename that fails if fence.<N> is gone or
//      fence.<N+1> exists (kMove): one operation, and a compare-and-swap, so
//      no two holders can ever move the counter from the same N, even two at
//      once under an expired lease. A move that finds fence.<N> gone had a
//      listing older than its predecessor's move (listings are not atomic,
//      H8): it lists again and moves from there. With slots = 1 the holder
//      fences alone, so that second listing is exact and the tokens strictly
//      increase (P6). With slots > 1 several holders may fence at once, so
//      they first pass a second bakery with one slot over entries "f.<nonce>"
//      (the fence ring) and leave it right after. Even in try mode a holder
//      waits in the fence ring: it already holds a slot, and the ring is busy
//      only for another holder's few operations.
//      A counter name beside the largest (a stray: left by a crash between
//      the link and the unlink of a move where the platform has no
//      RENAME_NOREPLACE, or made by hand) would let a later holder whose
//      listing misses the real counter move the stray and get a smaller
//      token; so a holder whose listing showed one lists again after its
//      move and removes every counter below its token before it wins.
//      Where the move is a link and an unlink (Config::linked_moves: the
//      WASI module, the POSIX driver on NFS or FUSE), a scan listing can
//      miss a stray made while it ran, so the holder decides its move from
//      a listing of its own made while it holds, which only static crash
//      leftovers can predate.
//      The first holder of a directory creates the counter, after a listing
//      of its own made while it holds (the scan's may have missed a counter
//      being moved), starting from the value of "fence", the counter of
//      older builds, if there is one; and before it, the format marker
//      (core/names.h), an entry that older builds refuse the lock for: they
//      would fence with "fence" and hand out a token twice.
//   The holder does not rewrite its entry to say so: who holds follows from
//   the ranks of the live tickets, and the last token is the counter's name.
// Release: remove o.<nonce>. If it is already gone, someone removed a live
// entry: report kLost, never pretend.
//
// Hostile directories (H10): names that are not ours to read (foreign files,
// the other ring, temporaries, anchors) are skipped; an entry that is not a
// symlink, does not parse, or whose record names another nonce than its file
// name (a planted copy) is garbage: skipped, counted, never removed. An entry
// of a newer format version is a contender we cannot judge: refuse (kFailed)
// rather than ignore it. Inherited descriptors (H9) are the driver's to
// prevent (O_CLOEXEC); the core holds none.
//
// Listing (kListStart, kListNext) must return every name present for the
// whole listing, including a name replaced by rename meanwhile. Not every
// file system's readdir does: on tmpfs a rename over an existing name moves
// its directory entry, and a listing spread over several getdents calls can
// miss it, which lets two contenders in (a waiting entry missed while its
// owner publishes its ticket). The POSIX driver reads a listing in one call.
//
// Waiting (kWait) is the driver's business: block on the kernel lock of the
// entry we wait behind, or on inotify, or poll as a fallback. Its contract is
// to return when the directory may have changed since the last kListStart or
// an owner may have died. Liveness (kProbe) is also the driver's: only a proof
// of death may be answered kDead. An owner is its whole job: a process killed
// while the work it guards runs on (the command's job keeps the anchor) is
// alive until that work ends, and the model checker kills holders that way
// too (kCrashLeavingJob).
//
// Every step above is one Op, and every Op is one atomic primitive of the
// platform; the model checker (sim/modelcheck.cc) explores all interleavings of
// these Ops with crashes between any two of them, PID reuse and non-atomic
// listings, and checks k-exclusion (P1), no false theft (P2), deadlock
// freedom (P3) and fencing (P6); see docs/verification.md. The bug it exists
// to catch, an unlink-then-create steal, is in
// sim/testdata/broken_steal_trace.txt.
#include "core/contender.h"

#include "core/assert.h"
#include "core/fingerprint.h"

namespace onlyone {

// The phases, and which handler of Step() owns each (one arrow: one Op and
// its Result; "..." loops over the listing's names):
//
//   Acquire, BeginRing(ring)
//     -> kCreateEntry -> kDoorwayListStart -> kDoorwayListNext <-> kDoorwayRead   [StepDoorway]
//     -> PublishTicket: kPublishTemp [-> kPublishRemoveStaleTemp] -> kPublishRename  [StepPublish]
//     -> kScanListStart -> kScanListNext <-> kScanRead <-> kScanProbe                [StepScan]
//                          kScanProbe (dead) -> kRemoveDeadTemp -> kRemoveDeadEntry
//                                            -> kRemoveDeadAnchor -> kScanListNext [StepRemoveDead]
//     -> FinishScan: behind others -> kWait -> kScanListStart                        [StepScan]
//                    busy or timed out -> leave (below)
//                    won, slots > 1, main ring -> BeginRing(fence ring) (again from the top)
//                    won otherwise -> DecideFence:                                  [StepFence]
//                       (linked moves: kFenceListStart ... first)
//                       kFenceMove (fence.<N> -> fence.<N+1>)
//                       moved, a stray seen -> kSweepListStart -> kSweepListNext
//                                              <-> kSweepRemove (fence.<M>, M < ours)
//                       moved -> [kLeaveFenceRing ->] Won: kDone (acquired)
//                       counter gone, none seen -> kFenceListStart -> kFenceListNext ...
//                                                  -> DecideFence
//                       none after that listing -> kFenceMarkCreate [-> kFenceOldRead]
//                                                  -> kFenceCreate -> as moved
//   leave: kLeaveTemp -> kLeaveRing -> kLeaveMain -> kDone (busy, failed)           [StepLeave]
//          (a holder whose refresh failed: kDropTemp -> kDone (failed))
//   Release -> kReleaseRemove -> kDone (released, lost)                             [StepHolding]
//   Validate, Refresh -> kValidateRead [-> publish the record] -> kDone (held, lost)  [StepHolding]
//   Cleanup -> kScanListStart ... (purpose kCleanup) -> kDone (cleaned)             [StepScan]
//
// What holds in every phase: holding_ implies in_main_ring_ and the main
// ring; in_fence_ring_ implies in_main_ring_; issued_ is the Op kind the
// phase waits for (ExpectedOp). Step() checks these on every call.
enum class Contender::Phase : uint8_t {
  kIdle = 0,
  kCreateEntry,  // Create(o. or f.) as choosing
  kDoorwayListStart,
  kDoorwayListNext,
  kDoorwayRead,
  kPublishTemp,  // Create(t.<nonce>) with the record to publish
  kPublishRemoveStaleTemp,
  kPublishRename,  // Rename(t.<nonce> -> target)
  kScanListStart,
  kScanListNext,
  kScanRead,
  kScanProbe,
  kRemoveDeadTemp,
  kRemoveDeadEntry,
  kRemoveDeadAnchor,
  kWait,
  kFenceMarkCreate,  // Create(format marker)
  kFenceListStart,   // a listing of our own, for the counter alone
  kFenceListNext,
  kFenceMove,       // Move(fence.<N> -> fence.<N+1>)
  kFenceOldRead,    // Read("fence"), an older build's counter
  kFenceCreate,     // Create(fence.<N+1>): the first counter of the directory
  kSweepListStart,  // after our move: a listing of our own, for stray counters
  kSweepListNext,
  kSweepRemove,  // Remove(fence.<M>), M below our token
  kLeaveFenceRing,
  kLeaveTemp,  // giving up or failing: remove what we created
  kDropTemp,   // a holder's publish failed: remove its temporary
  kLeaveRing,
  kLeaveMain,
  kReleaseRemove,
  kValidateRead,
  kDone,
};

enum class Contender::Ring : uint8_t {
  kMain = 0,   // entries "o.<nonce>": the lock itself
  kFence = 1,  // entries "f.<nonce>": one slot, only to serialize fencing
};

enum class Contender::ScanPurpose : uint8_t {
  kDecide = 0,   // step 4: may we hold?
  kCleanup = 1,  // remove dead owners' entries, decide nothing
};

const char* IoStatusName(IoStatus status) {
  switch (status) {
    case IoStatus::kOk: return "ok";
    case IoStatus::kExists: return "exists";
    case IoStatus::kNotFound: return "not found";
    case IoStatus::kNotSymlink: return "not a symlink";
    case IoStatus::kEnd: return "end of listing";
    case IoStatus::kTimedOut: return "timed out";
    case IoStatus::kNoSpace: return "no space left on device";
    case IoStatus::kReadOnly: return "read-only file system";
    case IoStatus::kPermission: return "permission denied";
    case IoStatus::kTooLong: return "name or record too long";
    case IoStatus::kIo: return "I/O error";
  }
  return "unknown status";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRunning: return "running";
    case Outcome::kAcquired: return "acquired";
    case Outcome::kBusy: return "busy";
    case Outcome::kReleased: return "released";
    case Outcome::kHeld: return "held";
    case Outcome::kLost: return "lost";
    case Outcome::kCleaned: return "cleaned";
    case Outcome::kFailed: return "failed";
  }
  return "unknown outcome";
}

const char* FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNone: return "none";
    case FailureKind::kIo: return "I/O failure";
    case FailureKind::kNonceCollision: return "entry name already taken";
    case FailureKind::kIncompatibleEntry: return "entry written by an unknown newer version";
    case FailureKind::kFenceCorrupt: return "fence counter unreadable";
    case FailureKind::kFenceContended: return "fence counter kept moving";
    case FailureKind::kTicketOverflow: return "ticket overflow";
  }
  return "unknown failure";
}

void Contender::Init(const Config& config, const Identity& identity) {
  *this = Contender();
  // Nonce zero spells the format marker's name.
  ONLYONE_ASSERT(identity.nonce.hi != 0 || identity.nonce.lo != 0);
  config_ = config;
  mine_.owner = identity;
  mine_.slots = config.slots;
  MakeOwnerName(NameKind::kEntry, identity.nonce, &entry_name_);
  MakeOwnerName(NameKind::kRingEntry, identity.nonce, &ring_name_);
  MakeOwnerName(NameKind::kTemporary, identity.nonce, &temp_name_);
}

// ---------------------------------------------------------------------------
// Op constructors. Views point into this object and stay valid until the next
// call.

Op Contender::SimpleOp(OpKind kind) {
  issued_ = kind;
  Op op;
  op.kind = kind;
  return op;
}

Op Contender::ListStartOp(bool counter_names) {
  Op op = SimpleOp(OpKind::kListStart);
  op.counter_names = counter_names;
  return op;
}

Op Contender::CreateOp(Bytes name, Bytes record) {
  Op op = SimpleOp(OpKind::kCreate);
  op.name = name;
  op.record = record;
  return op;
}

Op Contender::RenameOp(Bytes from, Bytes to) {
  Op op = SimpleOp(OpKind::kRename);
  op.from = from;
  op.name = to;
  return op;
}

Op Contender::MoveOp(Bytes from, Bytes to) {
  Op op = SimpleOp(OpKind::kMove);
  op.from = from;
  op.name = to;
  return op;
}

Op Contender::ReadOp(Bytes name) {
  Op op = SimpleOp(OpKind::kRead);
  op.name = name;
  return op;
}

Op Contender::RemoveOp(Bytes name) {
  Op op = SimpleOp(OpKind::kRemove);
  op.name = name;
  return op;
}

Op Contender::Finish(Outcome outcome) {
  ONLYONE_ASSERT(outcome != Outcome::kRunning);
  // An acquisition that did not win leaves nothing behind; one that did
  // holds exactly its main entry.
  ONLYONE_ASSERT(!in_fence_ring_);
  ONLYONE_ASSERT(outcome != Outcome::kAcquired || (holding_ && in_main_ring_));
  ONLYONE_ASSERT(outcome != Outcome::kReleased || (!holding_ && !in_main_ring_));
  outcome_ = outcome;
  phase_ = Phase::kDone;
  return SimpleOp(OpKind::kDone);
}

Op Contender::Fail(FailureKind kind, const Result* result, Bytes name) {
  failure_.kind = kind;
  failure_.op = result != nullptr ? issued_ : OpKind::kNone;
  if (result != nullptr) {
    failure_.status = result->status;
    failure_.os_error = result->os_error;
  }
  failure_.name.Assign(Bytes{name.data, name.size <= kNameBytesMax ? name.size : 0});
  // A contender that failed mid-acquisition must not leave its entry behind:
  // it is alive, so nobody else may remove it, and it would block them.
  if (!holding_ && (in_main_ring_ || in_fence_ring_)) return LeaveAfter(Outcome::kFailed);
  // A holder whose refresh failed keeps its entry, but not a temporary that
  // the failed publish may have left: Release removes only the entry.
  if (holding_ && phase_ >= Phase::kPublishTemp && phase_ <= Phase::kPublishRename) {
    ONLYONE_ASSERT(publish_kind_ == PublishKind::kRefresh);
    pending_outcome_ = Outcome::kFailed;
    phase_ = Phase::kDropTemp;
    return RemoveOp(temp_name_.view());
  }
  return Finish(Outcome::kFailed);
}

// A holder's entry is gone or is not what it wrote: someone removed it, so
// exclusion was already lost. We never remove or overwrite what is not ours.
Op Contender::Lost() {
  holding_ = false;
  in_main_ring_ = false;
  return Finish(Outcome::kLost);
}

bool Contender::EncodeOwner(const OwnerRecord& record) {
  return config_.full_records ? EncodeRecord(record, &text_) : EncodeCompactRecord(record, &text_);
}

// While leaving: a removal of one of our own names failed (EIO, EROFS). The
// name stays, owned by a live process that nobody may clean up after.
void Contender::NoteLeftBehind(const Result& result, Bytes name) {
  if (result.status == IoStatus::kOk || result.status == IoStatus::kNotFound) return;
  if (failure_.kind == FailureKind::kNone) {
    failure_.kind = FailureKind::kIo;
    failure_.op = OpKind::kRemove;
    failure_.status = result.status;
    failure_.os_error = result.os_error;
    failure_.name.Assign(name);
  }
  failure_.entry_left_behind = true;
  pending_outcome_ = Outcome::kFailed;
}

bool Contender::IsMine(Bytes name) const {
  return Equal(name, entry_name_.view()) || Equal(name, ring_name_.view()) ||
         Equal(name, temp_name_.view());
}

Bytes Contender::RingEntryName() const {
  return ring_ == Ring::kMain ? entry_name_.view() : ring_name_.view();
}

// ---------------------------------------------------------------------------
// Public entry points.

Op Contender::Acquire(uint64_t now_mono_ms, uint64_t now_wall_ms, uint64_t deadline_mono_ms) {
  ONLYONE_ASSERT(!holding_ && !in_main_ring_ && !in_fence_ring_);
  outcome_ = Outcome::kRunning;
  failure_ = Failure();
  lease_ran_out_ = false;
  counters_ = Counters();
  has_blocker_ = false;
  now_mono_ms_ = now_mono_ms;
  now_wall_ms_ = now_wall_ms;
  try_mode_ = deadline_mono_ms <= now_mono_ms;
  deadline_mono_ms_ = deadline_mono_ms;
  // A doorway and the fence ring are each busy for a few operations of a
  // contender that is running: in try mode both are still waited for, up to
  // kChoosingPatienceMs, since answering "busy" because of them would be a
  // false busy.
  doorway_deadline_mono_ms_ = try_mode_ ? now_mono_ms + kChoosingPatienceMs : deadline_mono_ms;
  fence_ring_deadline_mono_ms_ = doorway_deadline_mono_ms_;
  mine_.since_ms = now_wall_ms;
  mine_.refreshed_ms = now_wall_ms;
  return BeginRing(Ring::kMain);
}

Op Contender::Release() {
  outcome_ = Outcome::kRunning;
  failure_ = Failure();
  lease_ran_out_ = false;
  phase_ = Phase::kReleaseRemove;
  return RemoveOp(entry_name_.view());
}

Op Contender::Validate() {
  outcome_ = Outcome::kRunning;
  failure_ = Failure();
  lease_ran_out_ = false;
  check_kind_ = CheckKind::kValidate;
  pending_outcome_ = Outcome::kRunning;
  phase_ = Phase::kValidateRead;
  return ReadOp(entry_name_.view());
}

Op Contender::Refresh(uint64_t now_wall_ms) {
  now_wall_ms_ = now_wall_ms;
  Op op = Validate();
  // Refresh reads first: renaming onto a name that is gone would resurrect an
  // entry someone already judged expired and removed.
  check_kind_ = CheckKind::kRefresh;
  return op;
}

Op Contender::Cleanup(uint64_t now_wall_ms) {
  outcome_ = Outcome::kRunning;
  failure_ = Failure();
  counters_ = Counters();
  now_wall_ms_ = now_wall_ms;
  return BeginScan(ScanPurpose::kCleanup);
}

// ---------------------------------------------------------------------------
// The engine: one result in, one operation out. Step() checks what must hold
// and dispatches; each handler owns the phases the chart at the top gives it.

OpKind Contender::ExpectedOp(Phase phase) {
  switch (phase) {
    case Phase::kIdle:
    case Phase::kDone: return OpKind::kNone;
    case Phase::kCreateEntry:
    case Phase::kPublishTemp:
    case Phase::kFenceMarkCreate:
    case Phase::kFenceCreate: return OpKind::kCreate;
    case Phase::kDoorwayListStart:
    case Phase::kScanListStart:
    case Phase::kFenceListStart:
    case Phase::kSweepListStart: return OpKind::kListStart;
    case Phase::kDoorwayListNext:
    case Phase::kScanListNext:
    case Phase::kFenceListNext:
    case Phase::kSweepListNext: return OpKind::kListNext;
    case Phase::kFenceMove: return OpKind::kMove;
    case Phase::kDoorwayRead:
    case Phase::kScanRead:
    case Phase::kFenceOldRead:
    case Phase::kValidateRead: return OpKind::kRead;
    case Phase::kScanProbe: return OpKind::kProbe;
    case Phase::kWait: return OpKind::kWait;
    case Phase::kPublishRename: return OpKind::kRename;
    case Phase::kPublishRemoveStaleTemp:
    case Phase::kRemoveDeadTemp:
    case Phase::kRemoveDeadEntry:
    case Phase::kRemoveDeadAnchor:
    case Phase::kSweepRemove:
    case Phase::kLeaveFenceRing:
    case Phase::kLeaveTemp:
    case Phase::kDropTemp:
    case Phase::kLeaveRing:
    case Phase::kLeaveMain:
    case Phase::kReleaseRemove: return OpKind::kRemove;
  }
  return OpKind::kNone;
}

void Contender::AssertInvariants() const {
  const OpKind expected = ExpectedOp(phase_);
  ONLYONE_ASSERT(expected == OpKind::kNone || expected == issued_);
  ONLYONE_ASSERT(!holding_ || (in_main_ring_ && ring_ == Ring::kMain));
  ONLYONE_ASSERT(!in_fence_ring_ || in_main_ring_);
  ONLYONE_ASSERT(ring_ == Ring::kMain || config_.slots > 1);
}

Op Contender::Step(const Result& result) {
  AssertInvariants();
  if (result.mono_ms != 0) now_mono_ms_ = result.mono_ms;
  if (result.wall_ms != 0) now_wall_ms_ = result.wall_ms;
  switch (phase_) {
    case Phase::kIdle:
    case Phase::kDone: return SimpleOp(OpKind::kDone);
    case Phase::kCreateEntry:
    case Phase::kDoorwayListStart:
    case Phase::kDoorwayListNext:
    case Phase::kDoorwayRead: return StepDoorway(result);
    case Phase::kPublishTemp:
    case Phase::kPublishRemoveStaleTemp:
    case Phase::kPublishRename: return StepPublish(result);
    case Phase::kScanListStart:
    case Phase::kScanListNext:
    case Phase::kScanRead:
    case Phase::kScanProbe:
    case Phase::kWait: return StepScan(result);
    case Phase::kRemoveDeadTemp:
    case Phase::kRemoveDeadEntry:
    case Phase::kRemoveDeadAnchor: return StepRemoveDead(result);
    case Phase::kFenceMarkCreate:
    case Phase::kFenceListStart:
    case Phase::kFenceListNext:
    case Phase::kFenceMove:
    case Phase::kFenceOldRead:
    case Phase::kFenceCreate:
    case Phase::kSweepListStart:
    case Phase::kSweepListNext:
    case Phase::kSweepRemove:
    case Phase::kLeaveFenceRing: return StepFence(result);
    case Phase::kLeaveTemp:
    case Phase::kDropTemp:
    case Phase::kLeaveRing:
    case Phase::kLeaveMain: return StepLeave(result);
    case Phase::kReleaseRemove:
    case Phase::kValidateRead: return StepHolding(result);
  }
  return Fail(FailureKind::kIo, nullptr, Bytes{});
}

// kListStart and kListNext of either listing (doorway or scan).
Op Contender::StepListing(const Result& result) {
  const bool doorway = phase_ == Phase::kDoorwayListStart || phase_ == Phase::kDoorwayListNext;
  if (phase_ == Phase::kDoorwayListStart || phase_ == Phase::kScanListStart) {
    if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, Bytes{});
    phase_ = doorway ? Phase::kDoorwayListNext : Phase::kScanListNext;
    return SimpleOp(OpKind::kListNext);
  }
  if (result.status == IoStatus::kEnd) {
    if (!doorway) return FinishScan();
    if (max_ticket_seen_ >= kTicketMax) {
      return Fail(FailureKind::kTicketOverflow, nullptr, RingEntryName());
    }
    ring_ticket_ = max_ticket_seen_ + 1;
    return PublishTicket();
  }
  if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, Bytes{});
  return OnListName(result.data);
}

// ---------------------------------------------------------------------------
// Steps 1 and 2: the doorway.

Op Contender::BeginRing(Ring ring) {
  ONLYONE_ASSERT(ring == Ring::kMain ? !in_main_ring_ : (in_main_ring_ && !in_fence_ring_));
  ring_ = ring;
  ring_ticket_ = 0;
  OwnerRecord choosing = mine_;
  choosing.state = EntryState::kChoosing;
  choosing.ticket = 0;
  if (ring == Ring::kFence) choosing.slots = 1;
  if (!EncodeOwner(choosing)) {
    // Only an identity out of range gets here (host or command too long).
    return Fail(FailureKind::kIo, nullptr, RingEntryName());
  }
  phase_ = Phase::kCreateEntry;
  if (ring == Ring::kMain) {
    in_main_ring_ = true;
  } else {
    in_fence_ring_ = true;
  }
  return CreateOp(RingEntryName(), text_.view());
}

Op Contender::StepDoorway(const Result& result) {
  switch (phase_) {
    case Phase::kCreateEntry: return OnCreateEntry(result);
    case Phase::kDoorwayRead: return OnEntryRead(result);
    default: return StepListing(result);
  }
}

Op Contender::OnCreateEntry(const Result& result) {
  if (result.status != IoStatus::kOk) {
    // We created nothing, so there is nothing to leave.
    if (ring_ == Ring::kMain) {
      in_main_ring_ = false;
    } else {
      in_fence_ring_ = false;
    }
    // kExists: our nonce names our entry and someone already has it. Never
    // reuse it: not ours to replace.
    const FailureKind kind =
        result.status == IoStatus::kExists ? FailureKind::kNonceCollision : FailureKind::kIo;
    return Fail(kind, &result, RingEntryName());
  }
  return BeginDoorwayList();
}

Op Contender::BeginDoorwayList() {
  max_ticket_seen_ = 0;
  phase_ = Phase::kDoorwayListStart;
  return ListStartOp(/*counter_names=*/false);
}

// Step 3: publish our ticket under the same name (see the top).
Op Contender::PublishTicket() {
  OwnerRecord record = mine_;
  record.state = EntryState::kWaiting;
  record.ticket = ring_ticket_;
  if (ring_ == Ring::kFence) {
    record.slots = 1;
  }
  if (!EncodeOwner(record)) return Fail(FailureKind::kIo, nullptr, RingEntryName());
  if (ring_ == Ring::kMain) mine_ = record;
  return Publish(PublishKind::kTicket);
}

// ---------------------------------------------------------------------------
// Step 4: the scan (and Cleanup, which is a scan that decides nothing).

Op Contender::BeginScan(ScanPurpose purpose) {
  purpose_ = purpose;
  smaller_live_ = 0;
  saw_choosing_ = false;
  has_blocker_ = false;
  has_predecessor_ = false;
  wait_target_.Clear();
  choosing_target_.Clear();
  counter_seen_ = 0;
  old_counter_seen_ = false;
  counter_listed_ = false;
  stray_counter_seen_ = false;
  phase_ = Phase::kScanListStart;
  return ListStartOp(/*counter_names=*/true);
}

Op Contender::StepScan(const Result& result) {
  switch (phase_) {
    case Phase::kScanRead: return OnEntryRead(result);
    case Phase::kScanProbe: return OnProbe(result.liveness);
    case Phase::kWait:
      if (result.status == IoStatus::kTimedOut) return LeaveAfter(Outcome::kBusy);
      if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, Bytes{});
      return BeginScan(ScanPurpose::kDecide);
    default: return StepListing(result);
  }
}

Op Contender::OnListName(Bytes name) {
  const bool cleanup = purpose_ == ScanPurpose::kCleanup && phase_ == Phase::kScanListNext;
  if (IsMine(name)) return SimpleOp(OpKind::kListNext);
  const ParsedName parsed = ParseName(name);
  const NameKind kind = parsed.kind;
  if (phase_ == Phase::kScanListNext) NoteCounterName(parsed);
  const NameKind ring_kind = ring_ == Ring::kMain ? NameKind::kEntry : NameKind::kRingEntry;
  // Cleanup also judges temporaries: one whose owner died between its
  // symlink and its rename would otherwise stay forever.
  const bool wanted =
      cleanup ? (IsRingEntry(kind) || kind == NameKind::kTemporary) : kind == ring_kind;
  if (!wanted) {
    // Temporaries, anchors, the fence counter and the other ring's entries
    // are part of the protocol; anything else is foreign and never touched
    // (H10).
    if (kind == NameKind::kForeign) ++counters_.foreign_names;
    return SimpleOp(OpKind::kListNext);
  }
  other_name_.Assign(name);
  phase_ = phase_ == Phase::kDoorwayListNext ? Phase::kDoorwayRead : Phase::kScanRead;
  ++counters_.entries_read;
  return ReadOp(other_name_.view());
}

// Parses the record just read into other_. false: garbage, which cannot have
// been written by a contender (records are written whole, atomically), so it
// is not one: skip it, never delete it. *parsed says why.
bool Contender::ReadOtherRecord(const Result& result, ParseResult* parsed) {
  const ParsedName name = ParseName(other_name_.view());
  *parsed = ParseRecord(result.data, name.nonce, &other_);
  if (parsed->error != ParseError::kNone && name.kind == NameKind::kTemporary) {
    // A temporary of an older build's fence publish holds a fence record;
    // its identity is all a cleaner needs. A version 2 one leaves the nonce
    // to the name.
    FenceRecord fence;
    *parsed = ParseFence(result.data, &fence);
    other_ = OwnerRecord();
    other_.owner = fence.owner;
    if (parsed->version == 2) other_.owner.nonce = name.nonce;
    other_.state = EntryState::kWaiting;
  }
  return parsed->error == ParseError::kNone && other_.owner.nonce == name.nonce;
}

Op Contender::OnEntryRead(const Result& result) {
  const bool doorway = phase_ == Phase::kDoorwayRead;
  const Phase list_phase = doorway ? Phase::kDoorwayListNext : Phase::kScanListNext;
  if (result.status == IoStatus::kNotFound || result.status == IoStatus::kNotSymlink) {
    // Not found: listed, then removed before we read it; its owner left
    // (H8). Not a symlink: a foreign file under an entry's name (H10).
    if (result.status == IoStatus::kNotFound) {
      ++counters_.vanished_while_reading;
    } else {
      ++counters_.garbage_entries;
    }
    phase_ = list_phase;
    return SimpleOp(OpKind::kListNext);
  }
  if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, other_name_.view());
  ParseResult parsed;
  const bool valid = ReadOtherRecord(result, &parsed);
  if (parsed.error == ParseError::kUnknownVersion) {
    // A newer onlyone is contending. We cannot judge its entry, and ignoring
    // a real contender would break exclusion: refuse.
    return Fail(FailureKind::kIncompatibleEntry, &result, other_name_.view());
  }
  if (!valid) ++counters_.garbage_entries;
  if (!valid || doorway) {
    if (valid && other_.ticket > max_ticket_seen_) max_ticket_seen_ = other_.ticket;
    phase_ = list_phase;
    return SimpleOp(OpKind::kListNext);
  }
  if (purpose_ == ScanPurpose::kDecide && other_.state != EntryState::kChoosing &&
      !(RankOf(other_) < Rank{ring_ticket_, mine_.owner.nonce})) {
    // Behind us in line: not our concern (they will judge us, and it).
    phase_ = list_phase;
    return SimpleOp(OpKind::kListNext);
  }
  phase_ = Phase::kScanProbe;
  Op op = SimpleOp(OpKind::kProbe);
  op.owner = &other_;
  return op;
}

Op Contender::OnProbe(Liveness liveness) {
  bool dead = liveness == Liveness::kDead;
  if (liveness == Liveness::kUnknown && config_.lease_ms != 0 &&
      now_wall_ms_ > other_.refreshed_ms && now_wall_ms_ - other_.refreshed_ms > config_.lease_ms) {
    dead = true;
    ++counters_.leases_expired;
  }
  if (dead) return RemoveDeadOwner();
  phase_ = Phase::kScanListNext;
  if (purpose_ == ScanPurpose::kDecide) TallyLiveOwner();
  return SimpleOp(OpKind::kListNext);
}

// A live owner ahead of us (or in its doorway): what FinishScan decides on.
void Contender::TallyLiveOwner() {
  if (other_.state == EntryState::kChoosing) {
    saw_choosing_ = true;
    if (choosing_target_.size == 0) choosing_target_.Assign(other_name_.view());
    return;
  }
  ++smaller_live_;
  const Rank rank = RankOf(other_);
  ONLYONE_ASSERT(rank < (Rank{ring_ticket_, mine_.owner.nonce}));
  // The nearest smaller ticket is the one we are queued behind: waiting on
  // it (not on the holder) is what spares the others a thundering herd.
  // Listings come in name order, not ticket order, so compare.
  if (!has_predecessor_ || predecessor_ < rank) {
    has_predecessor_ = true;
    predecessor_ = rank;
    wait_target_.Assign(other_name_.view());
  }
  if (!has_blocker_ || rank < RankOf(blocker_)) {
    blocker_ = other_;
    has_blocker_ = true;
  }
}

Op Contender::RemoveDeadOwner() {
  // The owner is dead and will never act again: removing its entry cannot
  // hit a fresh lock (no ABA, H3). Its temporary goes first so that a crash
  // between the two removals leaves the entry, which the next scan finds and
  // finishes; the other order could orphan the temporary forever.
  const ParsedName other = ParseName(other_name_.view());
  ONLYONE_ASSERT(other.kind != NameKind::kForeign && other.kind != NameKind::kFenceCounter);
  MakeOwnerName(NameKind::kTemporary, other.nonce, &dead_owner_name_);
  phase_ = Phase::kRemoveDeadTemp;
  return RemoveOp(dead_owner_name_.view());
}

Op Contender::StepRemoveDead(const Result& result) {
  const bool removed = result.status == IoStatus::kOk;
  // kNotFound: another contender removed it first; equally fine.
  if (!removed && result.status != IoStatus::kNotFound) {
    const Bytes name =
        phase_ == Phase::kRemoveDeadEntry ? other_name_.view() : dead_owner_name_.view();
    return Fail(FailureKind::kIo, &result, name);
  }
  switch (phase_) {
    case Phase::kRemoveDeadTemp:
      phase_ = Phase::kRemoveDeadEntry;
      return RemoveOp(other_name_.view());
    case Phase::kRemoveDeadEntry:
      if (removed) ++counters_.dead_entries_removed;
      // Last, the owner's liveness anchor, if its platform has one (drivers
      // make and read anchors; the core only removes a dead owner's). After
      // the entry, so that a crash in between leaves an orphan anchor (a few
      // bytes, harmless) rather than an entry whose owner can no longer be
      // proven dead.
      MakeOwnerName(NameKind::kAnchor, ParseName(other_name_.view()).nonce, &dead_owner_name_);
      phase_ = Phase::kRemoveDeadAnchor;
      return RemoveOp(dead_owner_name_.view());
    default: phase_ = Phase::kScanListNext; return SimpleOp(OpKind::kListNext);
  }
}

Op Contender::FinishScan() {
  if (purpose_ == ScanPurpose::kCleanup) return Finish(Outcome::kCleaned);
  const uint32_t slots = ring_ == Ring::kMain ? config_.slots : 1;
  if (smaller_live_ >= slots) {
    // With one slot only our nearest predecessor leaving (or dying) can let
    // us in: a driver may wake us for that entry alone, which spares the
    // other waiters a scan on every change (no thundering herd). With k
    // slots any of the k ahead may go: no single entry to name.
    if (ring_ == Ring::kFence) {
      // We already hold a slot; the fence ring is only busy for the few
      // operations another holder needs to take its token. Answering "busy"
      // here would refuse a free slot, so even try mode waits.
      ++counters_.waits_for_holders;
      return WaitOrGiveUp(fence_ring_deadline_mono_ms_, WaitReason::kRingPredecessor,
                          wait_target_.view());
    }
    if (try_mode_) return LeaveAfter(Outcome::kBusy);
    ++counters_.waits_for_holders;
    if (slots > 1) return WaitOrGiveUp(deadline_mono_ms_, WaitReason::kAnyChange, Bytes{});
    return WaitOrGiveUp(deadline_mono_ms_, WaitReason::kPredecessor, wait_target_.view());
  }
  if (saw_choosing_) {
    // Fewer than `slots` ahead; only the doorway we saw can change that.
    ++counters_.waits_for_choosing;
    return WaitOrGiveUp(doorway_deadline_mono_ms_, WaitReason::kDoorway, choosing_target_.view());
  }
  return AfterWin();
}

Op Contender::WaitOrGiveUp(uint64_t deadline, WaitReason reason, Bytes target) {
  ONLYONE_ASSERT((reason == WaitReason::kAnyChange) == (target.size == 0));
  if (deadline != kNoDeadline && now_mono_ms_ >= deadline) return LeaveAfter(Outcome::kBusy);
  phase_ = Phase::kWait;
  Op op = SimpleOp(OpKind::kWait);
  op.name = target;
  op.wait_reason = reason;
  op.deadline_mono_ms = deadline;
  return op;
}

// ---------------------------------------------------------------------------
// Step 5: the fence (see the top for why a rename that cannot replace).

Op Contender::AfterWin() {
  ONLYONE_ASSERT(in_main_ring_ && !holding_);
  if (ring_ == Ring::kMain && config_.slots > 1) return BeginRing(Ring::kFence);
  fence_attempts_ = 0;
  marker_made_ = false;
  // The trap with linked moves (Config::linked_moves): a holder killed
  // between its link and its unlink leaves fence.<N> beside fence.<N+1>,
  // and a scan listing that began before may show neither N (made during
  // it by an earlier move) nor the crash. Moving from that listing and
  // unlinking the source leaves N below a gap: the model checker's
  // counterexample in sim/testdata/linked_move_stray_trace.txt.
  if (config_.linked_moves) return ListCounter();
  return DecideFence();
}

// What the last listing (the scan's, or our own) showed decides: a move of
// the largest counter; a counter is created only when a listing made while
// we hold shows none, and after the format marker (an existing one is fine),
// which stops older builds from fencing with "fence". So wherever there is a
// counter there is a marker, unless a person removed it.
Op Contender::DecideFence() {
  if (counter_seen_ != 0) return MoveCounter();
  if (!counter_listed_) return ListCounter();
  if (!marker_made_) {
    phase_ = Phase::kFenceMarkCreate;
    return CreateOp(FormatMarkerName(), FormatMarkerRecord());
  }
  if (old_counter_seen_) {
    phase_ = Phase::kFenceOldRead;
    return ReadOp(OldFenceCounterName());
  }
  return CreateCounter();
}

void Contender::NoteCounterName(const ParsedName& name) {
  if (name.kind == NameKind::kOldFenceCounter) old_counter_seen_ = true;
  if (name.kind != NameKind::kFenceCounter) return;
  // A name listed twice (readdir may repeat one) is not a second counter.
  if (counter_seen_ != 0 && name.fence != counter_seen_) stray_counter_seen_ = true;
  if (name.fence > counter_seen_) counter_seen_ = name.fence;
}

Op Contender::MoveCounter() {
  ONLYONE_ASSERT(counter_seen_ != 0);
  FenceCounterName(counter_seen_, &counter_name_);
  if (counter_seen_ >= kFenceMax) {
    return Fail(FailureKind::kTicketOverflow, nullptr, counter_name_.view());
  }
  FenceCounterName(counter_seen_ + 1, &next_counter_name_);
  phase_ = Phase::kFenceMove;
  return MoveOp(counter_name_.view(), next_counter_name_.view());
}

// The first counter of the directory: fence.<counter_seen_ + 1>, created
// exclusively, so that of two creators only one gets the token.
Op Contender::CreateCounter() {
  if (counter_seen_ >= kFenceMax) {
    return Fail(FailureKind::kTicketOverflow, nullptr, OldFenceCounterName());
  }
  FenceCounterName(counter_seen_ + 1, &next_counter_name_);
  phase_ = Phase::kFenceCreate;
  return CreateOp(next_counter_name_.view(), FenceCounterRecord());
}

Op Contender::ListCounter() {
  if (++fence_attempts_ > kFenceAttemptsMax) {
    return Fail(FailureKind::kFenceContended, nullptr, counter_name_.view());
  }
  counter_seen_ = 0;
  old_counter_seen_ = false;
  counter_listed_ = true;
  stray_counter_seen_ = false;
  phase_ = Phase::kFenceListStart;
  return ListStartOp(/*counter_names=*/true);
}

Op Contender::StepFence(const Result& result) {
  switch (phase_) {
    case Phase::kFenceMarkCreate:
      if (result.status != IoStatus::kOk && result.status != IoStatus::kExists) {
        return Fail(FailureKind::kIo, &result, FormatMarkerName());
      }
      marker_made_ = true;
      return DecideFence();
    case Phase::kFenceListStart:
    case Phase::kFenceListNext: return StepCounterListing(result);
    case Phase::kFenceMove:
    case Phase::kFenceCreate: return OnCounterWritten(result);
    case Phase::kFenceOldRead: return OnOldCounterRead(result);
    case Phase::kSweepListStart:
    case Phase::kSweepListNext:
    case Phase::kSweepRemove: return StepStraySweep(result);
    default: break;
  }
  if (result.status != IoStatus::kOk && result.status != IoStatus::kNotFound) {
    return Fail(FailureKind::kIo, &result, ring_name_.view());
  }
  in_fence_ring_ = false;
  ring_ = Ring::kMain;
  return Won();
}

Op Contender::StepCounterListing(const Result& result) {
  if (phase_ == Phase::kFenceListStart || result.status == IoStatus::kOk) {
    if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, Bytes{});
    if (phase_ == Phase::kFenceListNext) NoteCounterName(ParseName(result.data));
    phase_ = Phase::kFenceListNext;
    return SimpleOp(OpKind::kListNext);
  }
  if (result.status != IoStatus::kEnd) return Fail(FailureKind::kIo, &result, Bytes{});
  return DecideFence();
}

// The answer to our move or create of fence.<counter_seen_ + 1>. The
// counter gone (kNotFound) or already moved past (kExists): our listing was
// old; list again.
Op Contender::OnCounterWritten(const Result& result) {
  if (result.status == IoStatus::kNotFound || result.status == IoStatus::kExists) {
    return ListCounter();
  }
  if (result.status != IoStatus::kOk) {
    return Fail(FailureKind::kIo, &result,
                phase_ == Phase::kFenceMove ? counter_name_.view() : next_counter_name_.view());
  }
  fence_ = counter_seen_ + 1;
  if (stray_counter_seen_) {
    phase_ = Phase::kSweepListStart;
    return ListStartOp(/*counter_names=*/true);
  }
  return AfterFenced();
}

Op Contender::AfterFenced() {
  ONLYONE_ASSERT(fence_ != 0);
  if (ring_ == Ring::kFence) {
    phase_ = Phase::kLeaveFenceRing;
    return RemoveOp(ring_name_.view());
  }
  return Won();
}

// The trap: a second counter name beside the real one (left by a crash
// between the link and the unlink of a move without RENAME_NOREPLACE, or
// made by hand) is a counter nobody moves on. A later holder whose listing
// misses the real counter while it is renamed (H8) but shows the stray one
// would move that and get a token below ours. So the holder that saw a
// stray removes every counter below its token, from a listing of its own
// made after its move, before it wins: a later holder moves only after we
// release, and finds the stray gone (kNotFound), so it lists again.
Op Contender::StepStraySweep(const Result& result) {
  if (phase_ == Phase::kSweepRemove) {
    if (result.status != IoStatus::kOk && result.status != IoStatus::kNotFound) {
      return Fail(FailureKind::kIo, &result, counter_name_.view());
    }
    phase_ = Phase::kSweepListNext;
    return SimpleOp(OpKind::kListNext);
  }
  if (phase_ == Phase::kSweepListNext && result.status == IoStatus::kEnd) return AfterFenced();
  if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, Bytes{});
  if (phase_ == Phase::kSweepListNext) {
    const ParsedName name = ParseName(result.data);
    if (name.kind == NameKind::kFenceCounter && name.fence < fence_) {
      FenceCounterName(name.fence, &counter_name_);
      phase_ = Phase::kSweepRemove;
      return RemoveOp(counter_name_.view());
    }
  }
  phase_ = Phase::kSweepListNext;
  return SimpleOp(OpKind::kListNext);
}

// An older build fenced here: the new counter goes on from its value. Gone
// since our listing: only a person removes it, and then, as older builds
// did, the count starts again.
Op Contender::OnOldCounterRead(const Result& result) {
  FenceRecord last;
  if (result.status == IoStatus::kOk) {
    if (ParseFence(result.data, &last).error != ParseError::kNone) {
      return Fail(FailureKind::kFenceCorrupt, &result, OldFenceCounterName());
    }
  } else if (result.status == IoStatus::kNotSymlink) {
    return Fail(FailureKind::kFenceCorrupt, &result, OldFenceCounterName());
  } else if (result.status != IoStatus::kNotFound) {
    return Fail(FailureKind::kIo, &result, OldFenceCounterName());
  }
  counter_seen_ = last.fence;
  return CreateCounter();
}

// The trap under a lease: a contender stalled past lease_ms in its doorway
// or queue had its entry judged expired and removed, and its next publish
// (a rename) put it back, so its scan can let it in beside the holder who
// removed it. Whoever removed our entry saw it past its lease, and so do we
// now: a contender whose own record ran out does not win. It leaves, busy,
// with lease_ran_out(); the caller may queue again, with a new nonce: under
// the same one, a remover that read our old record could remove the new.
Op Contender::Won() {
  ONLYONE_ASSERT(in_main_ring_ && !in_fence_ring_ && ring_ == Ring::kMain);
  if (LeaseRanOut(mine_.refreshed_ms)) {
    lease_ran_out_ = true;
    return LeaveAfter(Outcome::kBusy);
  }
  holding_ = true;
  return Finish(Outcome::kAcquired);
}

// ---------------------------------------------------------------------------
// Leaving: giving up (busy) or failing removes every name we created, best
// effort from here on: the first failure is the one worth reporting. But a
// name of ours that could not be removed must be reported: see
// entry_left_behind.

Op Contender::LeaveAfter(Outcome outcome) {
  ONLYONE_ASSERT(!holding_);
  pending_outcome_ = outcome;
  phase_ = Phase::kLeaveTemp;
  return RemoveOp(temp_name_.view());
}

Op Contender::StepLeave(const Result& result) {
  switch (phase_) {
    case Phase::kLeaveTemp:
      NoteLeftBehind(result, temp_name_.view());
      phase_ = Phase::kLeaveRing;
      if (in_fence_ring_) return RemoveOp(ring_name_.view());
      return StepLeave(Result{});
    case Phase::kDropTemp:
      NoteLeftBehind(result, temp_name_.view());
      return Finish(Outcome::kFailed);
    case Phase::kLeaveRing:
      if (in_fence_ring_) NoteLeftBehind(result, ring_name_.view());
      in_fence_ring_ = false;
      phase_ = Phase::kLeaveMain;
      if (in_main_ring_) return RemoveOp(entry_name_.view());
      return StepLeave(Result{});
    default:
      if (in_main_ring_) NoteLeftBehind(result, entry_name_.view());
      in_main_ring_ = false;
      ring_ = Ring::kMain;
      return Finish(pending_outcome_);
  }
}

// ---------------------------------------------------------------------------
// While holding: release, validate, refresh.

Op Contender::StepHolding(const Result& result) {
  if (phase_ == Phase::kValidateRead) return OnCheckRead(result);
  return OnReleaseRemove(result);
}

Op Contender::OnReleaseRemove(const Result& result) {
  if (result.status == IoStatus::kOk) {
    holding_ = false;
    in_main_ring_ = false;
    return Finish(Outcome::kReleased);
  }
  if (result.status == IoStatus::kNotFound) return Lost();
  failure_.entry_left_behind = true;
  return Fail(FailureKind::kIo, &result, entry_name_.view());
}

Op Contender::OnCheckRead(const Result& result) {
  if (result.status == IoStatus::kNotFound || result.status == IoStatus::kNotSymlink) {
    return Lost();
  }
  if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, entry_name_.view());
  const ParseResult parsed = ParseRecord(result.data, mine_.owner.nonce, &other_);
  if (parsed.error != ParseError::kNone || other_.state != EntryState::kWaiting ||
      other_.ticket != mine_.ticket) {
    return Lost();  // not what we wrote
  }
  // Under a lease the lock vouches for us only until refreshed_ms +
  // lease_ms: after that, anyone who cannot check us may judge us expired
  // and remove our entry at any moment. "Held" then would be a guess.
  if (LeaseRanOut(mine_.refreshed_ms)) return GiveUpHolding();
  if (check_kind_ == CheckKind::kValidate) return Finish(Outcome::kHeld);
  replaced_refresh_ms_ = mine_.refreshed_ms;
  mine_.refreshed_ms = now_wall_ms_;
  if (!EncodeOwner(mine_)) return Fail(FailureKind::kIo, nullptr, entry_name_.view());
  return Publish(PublishKind::kRefresh);
}

// The trap a refresh must not fall into: a remover that read our previous
// record after its lease ran out will remove whatever stands under our
// name, including the fresh record a late rename put there. A refresh
// counts only if its rename landed while the record it replaced was still
// within its lease, because then no remover can have judged that record
// expired: its read would have come after refreshed + lease_ms, and the
// record was gone by then. (One wall clock: with clocks that disagree, the
// margin is the user's, see Config::lease_ms.)
Op Contender::AfterRefresh() {
  if (LeaseRanOut(replaced_refresh_ms_)) return GiveUpHolding();
  return Finish(Outcome::kHeld);
}

bool Contender::LeaseRanOut(uint64_t refreshed_ms) const {
  return config_.lease_ms != 0 && now_wall_ms_ > refreshed_ms &&
         now_wall_ms_ - refreshed_ms > config_.lease_ms;
}

// Our lease ran out while we held: we hold no longer, and our entry, if it
// is still there, goes with us so that it blocks nobody while we live.
Op Contender::GiveUpHolding() {
  ONLYONE_ASSERT(holding_);
  holding_ = false;
  lease_ran_out_ = true;
  return LeaveAfter(Outcome::kLost);
}

// ---------------------------------------------------------------------------
// Model checking support.

void Contender::HashCounterSeen(Hasher* hash) const {
  hash->Word(counter_seen_);
  hash->Word((marker_made_ ? 1u : 0u) | (old_counter_seen_ ? 2u : 0u) |
             (counter_listed_ ? 4u : 0u) | (stray_counter_seen_ ? 8u : 0u));
}

// The scan's tallies, the entry it examines, and the counter it saw.
void Contender::HashScanState(Hasher* hash) const {
  hash->Word(static_cast<uint64_t>(purpose_));
  hash->Word(smaller_live_);
  hash->Word(saw_choosing_ ? 1 : 0);
  hash->Text(other_name_.view());
  hash->Word(static_cast<uint64_t>(other_.state));
  hash->Word(other_.ticket);
  hash->Id(other_.owner.nonce);
  hash->Word(other_.owner.pid);
  hash->Word(other_.owner.start_time);
  hash->Word(other_.refreshed_ms);
  HashCounterSeen(hash);
}

uint64_t Contender::ProtocolFingerprint(uint64_t seed) const {
  Hasher hash(seed);
  hash.Word(static_cast<uint64_t>(phase_));
  hash.Word(static_cast<uint64_t>(ring_));
  hash.Word(static_cast<uint64_t>(outcome_));
  hash.Word(static_cast<uint64_t>(pending_outcome_));
  hash.Word((holding_ ? 1u : 0u) | (in_main_ring_ ? 2u : 0u) | (in_fence_ring_ ? 4u : 0u) |
            (try_mode_ ? 8u : 0u));
  // Under a lease our record's age decides (Won, Validate).
  if (config_.lease_ms != 0) hash.Word(mine_.refreshed_ms);
  hash.Word(static_cast<uint64_t>(mine_.state));
  hash.Word(mine_.ticket);
  hash.Id(mine_.owner.nonce);
  hash.Word(ring_ticket_);
  hash.Word(fence_);
  switch (phase_) {
    case Phase::kCreateEntry:
    case Phase::kPublishTemp:
    case Phase::kPublishRemoveStaleTemp:
    case Phase::kPublishRename:
      // text_ is not hashed: it is derived from the fields above and the
      // identity, which never changes between Init calls.
      hash.Word(static_cast<uint64_t>(publish_kind_));
      hash.Word(removed_stale_temp_ ? 1 : 0);
      // A refresh's verdict depends on the lease of the record it replaces.
      if (publish_kind_ == PublishKind::kRefresh) hash.Word(replaced_refresh_ms_);
      break;
    case Phase::kDoorwayListStart:
    case Phase::kDoorwayListNext:
    case Phase::kDoorwayRead:
      hash.Word(max_ticket_seen_);
      hash.Text(other_name_.view());
      break;
    case Phase::kScanListStart:
    case Phase::kScanListNext:
    case Phase::kScanRead:
    case Phase::kScanProbe:
    case Phase::kRemoveDeadTemp:
    case Phase::kRemoveDeadEntry:
    case Phase::kRemoveDeadAnchor: HashScanState(&hash); break;
    case Phase::kValidateRead: hash.Word(static_cast<uint64_t>(check_kind_)); break;
    case Phase::kFenceMarkCreate:
    case Phase::kFenceListStart:
    case Phase::kFenceListNext:
    case Phase::kFenceMove:
    case Phase::kFenceOldRead:
    case Phase::kFenceCreate:
      HashCounterSeen(&hash);
      hash.Word(fence_attempts_);
      break;
    case Phase::kSweepRemove: hash.Text(counter_name_.view()); break;
    case Phase::kSweepListStart:
    case Phase::kSweepListNext:
    case Phase::kLeaveFenceRing:
    case Phase::kLeaveTemp:
    case Phase::kDropTemp:
    case Phase::kLeaveRing:
    case Phase::kLeaveMain:
    case Phase::kWait:
    case Phase::kReleaseRemove:
    case Phase::kIdle:
    case Phase::kDone: break;
  }
  return hash.value();
}

// ---------------------------------------------------------------------------
// Publishing: symlink our temporary, then rename it over the target. A
// reader sees the old record or the new one; a crash in between leaves our
// temporary, removed with our entry once we are proven dead.

Op Contender::StepPublish(const Result& result) {
  switch (phase_) {
    case Phase::kPublishTemp:
      if (result.status == IoStatus::kExists && !removed_stale_temp_) {
        // A temporary of ours survived a failed rename; only we write it.
        removed_stale_temp_ = true;
        phase_ = Phase::kPublishRemoveStaleTemp;
        return RemoveOp(temp_name_.view());
      }
      if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, temp_name_.view());
      phase_ = Phase::kPublishRename;
      return RenameOp(temp_name_.view(), PublishTarget());
    case Phase::kPublishRemoveStaleTemp:
      if (result.status != IoStatus::kOk && result.status != IoStatus::kNotFound) {
        return Fail(FailureKind::kIo, &result, temp_name_.view());
      }
      phase_ = Phase::kPublishTemp;
      return CreateOp(temp_name_.view(), text_.view());
    default:
      if (result.status != IoStatus::kOk) return Fail(FailureKind::kIo, &result, PublishTarget());
      return AfterPublish();
  }
}

Op Contender::Publish(PublishKind kind) {
  publish_kind_ = kind;
  removed_stale_temp_ = false;
  phase_ = Phase::kPublishTemp;
  return CreateOp(temp_name_.view(), text_.view());
}

Bytes Contender::PublishTarget() const {
  switch (publish_kind_) {
    case PublishKind::kTicket: return RingEntryName();
    case PublishKind::kRefresh: return entry_name_.view();
  }
  return entry_name_.view();
}

Op Contender::AfterPublish() {
  switch (publish_kind_) {
    case PublishKind::kTicket: return BeginScan(ScanPurpose::kDecide);
    case PublishKind::kRefresh: return AfterRefresh();
  }
  return Finish(Outcome::kFailed);
}

}  // namespace onlyone
