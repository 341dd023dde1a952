// onlyone::Lock: drives a Contender with the POSIX driver (see lock.h).
//
// Lifetime of one acquisition, and the descriptors it holds:
//   parent dir fd, lock dir fd: opened (and checked, H10) at the first
//     acquisition, kept for the Lock's life; all Ops are relative to them.
//   anchor k.<nonce>: created and flock()ed before the Contender's first Op.
//     After a release or a failed attempt it is kept, still locked, and the
//     next acquisition uses it again under the same nonce (Anchor::Keep and
//     Reuse), so its entry is o.<nonce> again: no directory change at all
//     instead of a create, an flock, a write, an unlink and a close. Safe
//     because others remove an entry only after proving its owner dead, and
//     a kept anchor stays locked, so no remover can have judged that nonce's
//     owner dead while we live; each scan reads each entry's record afresh,
//     and a waiter checks the record, not the name (Driver::WatchAnchor).
//     A new anchor, and with it a new nonce, when the anchor was removed:
//     when a job may share it (anchor_fd, RecordJobGroup: what the job left
//     running must not hold the lock after the holding ends, see job.h),
//     when our entry was lost, in a forked child, and never kept under a
//     lease (LockOptions::lease_ms): there others remove an entry whose
//     lease ran out without proof of death, so a remover that read our last
//     entry expired could remove the next one under the same name.
//   listing fd: a second descriptor of the lock directory, for listings
//     only (they move its offset), kept like dir fd.
//   inotify instance (posix::Watch): created by the first wait and kept for
//     the Lock's life (closing one sleeps); each wait watches what it needs
//     (its predecessor's anchor, or the directory) and the driver removes
//     those watches when its operation ends.
//   driver: one per operation.
#include "platform/posix/lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "core/contender.h"
#include "core/record.h"
#include "platform/posix/driver.h"
#include "platform/posix/driver_os.h"
#include "platform/posix/job.h"

namespace onlyone {

namespace {

// The observer hears from a waiting Acquire at most this often.
constexpr uint64_t kObserverIntervalMs = 1000;

std::string FromBytes(const FixedBytes<kHostBytesMax>& bytes) {
  return std::string(bytes.data, bytes.size);
}
std::string FromBytes(const FixedBytes<kCommandBytesMax>& bytes) {
  return std::string(bytes.data, bytes.size);
}

bool ValidName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  if (name.size() > NAME_MAX) return false;
  return name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

// A holder as `status` shows it. A version 2 record leaves the host and
// command to its owner's anchor in dir_fd: read there.
Holder HolderFrom(int dir_fd, OwnerRecord record) {
  if (record.owner.host.size == 0 && record.owner.command.size == 0) {
    posix::ReadAnchorOwner(dir_fd, &record);
  }
  Holder holder;
  holder.pid = record.owner.pid;
  holder.host = FromBytes(record.owner.host);
  holder.command = FromBytes(record.owner.command);
  holder.since_ms = record.since_ms;
  holder.ticket = record.ticket;
  holder.slots = record.slots;
  return holder;
}

// Fills holder.owner_gone and job_pids for an owner judged alive: its pid
// may be gone while its job keeps the lock (see job.h). Only where its record
// proves the process gone (same boot and PID namespace, see ProbeOwnerRecord).
void DescribeJob(int dir_fd, const OwnerRecord& record, Holder* holder) {
  if (posix::ProbeOwnerRecord(record) != Liveness::kDead) return;
  holder->owner_gone = true;
  holder->job_pids = posix::ProcessesKeepingAnchor(dir_fd, record.owner.nonce);
}

std::string LocalTimeText(uint64_t wall_ms) {
  time_t seconds = static_cast<time_t>(wall_ms / 1000);
  struct tm parts;
  char text[32] = "?";
  if (localtime_r(&seconds, &parts) != nullptr)
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts);
  return text;
}

// An entry as `status` lists it.
struct Found {
  OwnerRecord record;
  Holder holder;
};

// Every name of the directory, from one listing by `driver`. Returns the
// kListNext result that ended it: kEnd, or the failure.
Result ListDirectory(posix::Driver* driver, std::vector<std::string>* names) {
  Op list;
  list.kind = OpKind::kListStart;
  Result listed = driver->Perform(list);
  list.kind = OpKind::kListNext;
  for (listed = listed.status == IoStatus::kOk ? driver->Perform(list) : listed;
       listed.status == IoStatus::kOk; listed = driver->Perform(list)) {
    names->emplace_back(listed.data.data, listed.data.size);
  }
  return listed;
}

// Reads, parses and probes the entry `entry_name` in dir_fd. false: gone
// meanwhile, not a symlink, or garbage.
bool ReadEntry(posix::Driver* driver, int dir_fd, const std::string& entry_name, Found* item) {
  Op read;
  read.kind = OpKind::kRead;
  read.name = Bytes{entry_name.data(), static_cast<uint32_t>(entry_name.size())};
  const Result got = driver->Perform(read);
  if (got.status != IoStatus::kOk) return false;  // gone meanwhile, or not a symlink
  // The nonce spelled by the name: a planted copy of someone's record under
  // another name is garbage (H10), which the parser's check refuses.
  const ParsedName name = posix::ParseName(entry_name);
  if (name.kind != NameKind::kEntry) return false;
  if (ParseRecord(got.data, name.nonce, &item->record).error != ParseError::kNone) return false;
  item->holder = HolderFrom(dir_fd, item->record);
  const Liveness liveness = posix::ProbeOwner(dir_fd, item->record);
  item->holder.alive_known = liveness != Liveness::kUnknown;
  item->holder.alive = liveness != Liveness::kDead;
  if (liveness == Liveness::kAlive) DescribeJob(dir_fd, item->record, &item->holder);
  return true;
}

// Puts the entries in bakery order (tickets first, smallest first; choosing
// entries last), marks the first `slots` live tickets as holding (the slots
// their contenders agreed on, when one says), and moves those first.
void RankEntries(uint32_t slots, std::vector<Found>* found) {
  std::sort(found->begin(), found->end(), [](const Found& a, const Found& b) {
    const bool a_choosing = a.record.state == EntryState::kChoosing;
    const bool b_choosing = b.record.state == EntryState::kChoosing;
    if (a_choosing != b_choosing) return b_choosing;
    return RankOf(a.record) < RankOf(b.record);
  });
  for (const Found& item : *found) {
    if (item.holder.alive && item.record.state == EntryState::kWaiting) {
      slots = item.record.slots;  // the slots its contenders agreed on
      break;
    }
  }
  uint32_t holding = 0;
  for (Found& item : *found) {
    if (item.holder.alive && item.record.state == EntryState::kWaiting && holding < slots) {
      item.holder.holding = true;
      ++holding;
    }
  }
  std::stable_sort(found->begin(), found->end(), [](const Found& a, const Found& b) {
    return a.holder.holding && !b.holder.holding;
  });
}

std::string IoAdvice(IoStatus status) {
  switch (status) {
    case IoStatus::kNoSpace:
      return "the file system is full: free some space or use --dir elsewhere";
    case IoStatus::kReadOnly: return "the file system is read-only: use --dir on a writable one";
    case IoStatus::kPermission:
      return "permission denied: check the directory's owner and mode, or use --dir";
    case IoStatus::kTooLong: return "a name or record is too long for this file system";
    default: return "check the file system (dmesg) or use --dir elsewhere";
  }
}

}  // namespace

std::string JobHoldsText(const Holder& holder) {
  if (!holder.owner_gone) return "";
  std::string text = "pid " + std::to_string(holder.pid) + " is gone";
  if (holder.job_pids.empty()) return text + ", yet its job still holds the lock";
  text += "; its job's processes still hold the lock:";
  for (size_t i = 0; i < holder.job_pids.size(); ++i) {
    text += (i == 0 ? " " : ", ") + std::to_string(holder.job_pids[i]);
  }
  return text;
}

const char* LockErrorName(LockError error) {
  switch (error) {
    case LockError::kNone: return "none";
    case LockError::kBusy: return "busy";
    case LockError::kCancelled: return "cancelled";
    case LockError::kInvalidArgument: return "invalid argument";
    case LockError::kUnsafeDirectory: return "unsafe directory";
    case LockError::kIo: return "i/o error";
    case LockError::kIncompatibleEntry: return "incompatible entry";
    case LockError::kFenceCorrupt: return "fence corrupt";
    case LockError::kLost: return "lost";
  }
  return "unknown";
}

std::string DefaultLockDirectory() {
  if (geteuid() == 0) return "/run/onlyone";
  const char* runtime = getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') return std::string(runtime) + "/onlyone";
  const char* home = getenv("HOME");
  std::string home_dir = home != nullptr && home[0] == '/' ? home : "";
  if (home_dir.empty()) {
    struct passwd* entry = getpwuid(geteuid());
    if (entry != nullptr && entry->pw_dir != nullptr) home_dir = entry->pw_dir;
  }
  if (home_dir.empty()) return "";
  return home_dir + "/.cache/onlyone";
}

struct Lock::State {
  std::string name;
  LockOptions options;
  LockStatus status;
  std::function<void(const Holder*, uint64_t)> observer;
  int parent_fd = -1;
  int dir_fd = -1;
  int listing_fd = -1;
  // dir_fd's file system has no one-step rename that refuses to replace, or
  // refused it once: the fence counter moves by link (Driver::Move), and the
  // core decides those moves accordingly (Config::linked_moves).
  bool moves_by_link = false;
  posix::Watch watch;
  // The last acquisition's listing showed an anchor without an entry: sweep
  // orphan anchors when this holding ends (see SweepOrphanAnchors).
  bool sweep_after_release = false;
  // The anchors sweeps found held or named by an entry: not probed again.
  posix::LiveAnchors live_anchors;
  int cancel_pipe[2] = {-1, -1};
  std::atomic<bool> cancel_requested{false};
  posix::Anchor anchor;
  // The nonce of the anchor, and so of every acquisition while it is kept.
  Id128 nonce;
  // The anchor's descriptor was handed out (anchor_fd) or a job group was
  // recorded in it: a job may share it, so it is removed at the end of this
  // holding, never kept for the next.
  bool anchor_shared = false;
  Contender contender;
  bool held = false;
  uint64_t fence = 0;

  ~State() {
    // Before the directory's descriptor closes: a kept anchor is unlinked
    // through it.
    if (anchor.kept()) anchor.Remove();
    if (listing_fd >= 0) close(listing_fd);
    if (dir_fd >= 0) close(dir_fd);
    if (parent_fd >= 0) close(parent_fd);
    for (int fd : cancel_pipe) {
      if (fd >= 0) close(fd);
    }
  }

  std::string parent() const { return options.dir.empty() ? DefaultLockDirectory() : options.dir; }
  std::string path() const { return parent() + "/" + name; }

  void SetError(LockError error, int os_error, std::string message) {
    status = LockStatus();
    status.error = error;
    status.os_error = os_error;
    status.message = std::move(message);
  }

  bool OpenDirectories() {
    struct stat st;
    if (dir_fd >= 0 && fstat(dir_fd, &st) == 0 && st.st_nlink == 0) {
      // Removed (rm -rf) since we last used it: operations in a deleted
      // directory fail with ENOENT. Start over with the current one.
      close(dir_fd);
      dir_fd = -1;
      if (listing_fd >= 0) close(listing_fd);
      listing_fd = -1;
    }
    if (dir_fd >= 0) return true;
    posix::DirectoryProblem problem;
    if (parent_fd < 0) {
      parent_fd = posix::OpenParentDirectory(parent(), options.shared_dir, &problem);
      if (parent_fd < 0) {
        SetError(problem.unsafe ? LockError::kUnsafeDirectory : LockError::kIo, problem.os_error,
                 problem.message);
        return false;
      }
    }
    dir_fd = posix::OpenLockDirectory(parent_fd, name, path(), options.shared_dir, &problem);
    if (dir_fd < 0) {
      SetError(problem.unsafe ? LockError::kUnsafeDirectory : LockError::kIo, problem.os_error,
               problem.message);
      return false;
    }
    // Opened through dir_fd, so it is the same (already checked) directory.
    // -1 is fine: the driver then opens one per listing.
    listing_fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    moves_by_link = !posix::RenameNoReplaceIsAtomic(dir_fd);
    return true;
  }

  // What OpenForLooking found.
  enum class Looking : uint8_t {
    kOpen,     // parent_fd and dir_fd are open
    kMissing,  // no such directory: no locks at all, or no such lock
    kFailed,   // status says why
  };

  // Opens the directories without creating anything: `onlyone status --dir
  // /typo` must not leave a /typo behind.
  Looking OpenForLooking() {
    posix::DirectoryProblem problem;
    parent_fd = posix::OpenParentDirectory(parent(), options.shared_dir, &problem,
                                           /*create=*/false);
    if (parent_fd < 0 && problem.os_error == ENOENT) return Looking::kMissing;
    if (parent_fd >= 0) {
      dir_fd =
          posix::OpenExistingLockDirectory(parent_fd, name, path(), options.shared_dir, &problem);
      if (dir_fd < 0 && problem.os_error == ENOENT) return Looking::kMissing;
    }
    if (dir_fd < 0) {
      SetError(problem.unsafe ? LockError::kUnsafeDirectory : LockError::kIo, problem.os_error,
               problem.message);
      return Looking::kFailed;
    }
    return Looking::kOpen;
  }

  bool CheckArguments() {
    if (!ValidName(name)) {
      SetError(LockError::kInvalidArgument, 0,
               "onlyone: invalid lock name \"" + name +
                   "\": use a non-empty name without '/', other than \".\" and \"..\"");
      return false;
    }
    if (options.slots < 1 || options.slots > kSlotsMax) {
      SetError(LockError::kInvalidArgument, 0,
               "onlyone: slots must be between 1 and " + std::to_string(kSlotsMax));
      return false;
    }
    return true;
  }

  // A new anchor for `owner`, whose nonce was just drawn. false: status
  // says why.
  bool CreateAnchor(const Identity& owner) {
    int os_error = 0;
    const IoStatus created = anchor.Create(dir_fd, owner, posix::WallMs(), &os_error);
    if (created == IoStatus::kOk) return true;
    SetError(LockError::kIo, os_error,
             "onlyone: cannot create an entry in " + path() + ": " + strerror(os_error) + "; " +
                 IoAdvice(created));
    return false;
  }

  // Our entry is gone (released, or an attempt given up): keep the anchor,
  // and its nonce, for the next acquisition, unless a job may share it or a
  // lease lets others remove entries without proof of death (see the top of
  // this file).
  void EndAnchorUse() {
    if (anchor_shared || options.lease_ms != 0) {
      anchor.Remove();
      anchor_shared = false;
    } else {
      anchor.Keep();
    }
  }

  // Runs the Contender from `op` to kDone.
  void Drive(Op op, posix::Driver* driver, uint64_t started_mono_ms) {
    uint64_t last_report_mono_ms = 0;
    while (op.kind != OpKind::kDone) {
      if (op.kind == OpKind::kWait && observer) {
        const uint64_t now = posix::MonotonicMs();
        if (last_report_mono_ms == 0 || now - last_report_mono_ms >= kObserverIntervalMs) {
          last_report_mono_ms = now;
          Holder holder;
          const bool known = contender.has_blocker();
          if (known) holder = HolderFrom(dir_fd, contender.blocker());
          observer(known ? &holder : nullptr, now - started_mono_ms);
        }
      }
      op = contender.Step(driver->Perform(op));
    }
  }

  void ReportFailure(const char* doing) {
    const Failure& failure = contender.failure();
    LockError error = LockError::kIo;
    std::string message;
    switch (failure.kind) {
      case FailureKind::kIncompatibleEntry:
        error = LockError::kIncompatibleEntry;
        message = "onlyone: lock \"" + name + "\" has an entry (" +
                  std::string(failure.name.data, failure.name.size) +
                  ") written by a newer onlyone: use the same version everywhere";
        break;
      case FailureKind::kFenceCorrupt:
        error = LockError::kFenceCorrupt;
        message = "onlyone: the fence counter of lock \"" + name + "\" (" + path() +
                  "/fence) cannot be read: inspect it, or remove it if no holder needs the token";
        break;
      case FailureKind::kTicketOverflow:
        message = "onlyone: lock \"" + name +
                  "\" has a ticket or fence beyond the maximum: inspect " + path();
        break;
      case FailureKind::kNonceCollision:
        message = "onlyone: our random entry name already existed in " + path() + ": retry";
        break;
      case FailureKind::kFenceContended:
        message =
            "onlyone: the fence counter of lock \"" + name + "\" (" + path() +
            "/fence.<N>) kept moving while we took our token: another holder is fencing "
            "at the same time, which only an expired lease allows: lengthen lease_ms, or retry";
        break;
      default: {
        const std::string entry(failure.name.data, failure.name.size);
        message = std::string("onlyone: cannot ") + doing + " lock \"" + name + "\" in " + path() +
                  ": " +
                  (failure.os_error != 0 ? std::string(strerror(failure.os_error))
                                         : std::string(IoStatusName(failure.status))) +
                  (entry.empty() ? "" : " (" + entry + ")") + "; " + IoAdvice(failure.status);
        break;
      }
    }
    const int os_error = failure.os_error;
    SetError(error, os_error, message);
    status.entry_left_behind = failure.entry_left_behind;
    if (failure.entry_left_behind) {
      status.message +=
          "; our entry could not be removed and blocks others until this process exits";
    }
  }

  void DrainCancel() {
    char buffer[64];
    while (cancel_pipe[0] >= 0 && read(cancel_pipe[0], buffer, sizeof buffer) > 0) {
    }
    cancel_requested.store(false);
  }

  // Everything before the Contender's first Op: the directories, our anchor
  // and nonce, and the Contender. false: status says why.
  bool BeginAcquisition() {
    if (held) {
      SetError(LockError::kInvalidArgument, 0,
               "onlyone: lock \"" + name + "\" is already held by this Lock");
      return false;
    }
    if (!CheckArguments() || !OpenDirectories()) return false;
    // The kept anchor and its nonce, or, when there is none (not kept, kept
    // by the parent of this forked process, or in a lock directory since
    // removed), a new nonce and then a new anchor.
    const bool kept = anchor.Reuse(dir_fd);
    if (!kept) {
      anchor.Remove();
      anchor_shared = false;
      int os_error = 0;
      if (!posix::RandomNonce(&nonce, &os_error)) {
        SetError(LockError::kIo, os_error,
                 std::string("onlyone: no randomness for the entry name: ") + strerror(os_error));
        return false;
      }
    }
    Config config;
    config.slots = options.slots;
    config.lease_ms = options.lease_ms;
    config.linked_moves = moves_by_link;
    contender.Init(config, posix::LocalIdentity(nonce, options.command));
    return kept || CreateAnchor(contender.record().owner);
  }

  // kBusy, with the holder that blocked us when the core knows it.
  void ReportBusy() {
    SetError(LockError::kBusy, 0, "");
    if (!contender.has_blocker()) {
      status.message = "onlyone: lock \"" + name + "\" is busy";
      return;
    }
    status.has_holder = true;
    status.holder = HolderFrom(dir_fd, contender.blocker());
    status.holder.holding = true;
    status.holder.alive_known = false;
    DescribeJob(dir_fd, contender.blocker(), &status.holder);
    const Holder& h = status.holder;
    status.message = "onlyone: lock \"" + name + "\" is held by pid " + std::to_string(h.pid) +
                     (h.command.empty() ? "" : " (" + h.command + ")") + " on " + h.host +
                     " since " + LocalTimeText(h.since_ms) +
                     (h.owner_gone ? "; " + JobHoldsText(h) : "");
  }

  bool Acquire(int64_t timeout_ms, bool try_once) {
    const uint64_t start = posix::MonotonicMs();
    uint64_t deadline = kNoDeadline;
    if (try_once) {
      deadline = start;
    } else if (timeout_ms >= 0) {
      // MonotonicMs truncates: one more millisecond, so that a caller's own
      // clock never sees the timeout pass early.
      deadline = start + static_cast<uint64_t>(timeout_ms) + 1;
    }
    // A waiter that stalled past its own lease gives its place up (see
    // Contender::lease_ran_out) and, with time left, queues again under a
    // new nonce (under a lease, BeginAcquisition draws one every time).
    for (;;) {
      const bool acquired = AcquireBefore(deadline, try_once);
      if (acquired || try_once || !contender.lease_ran_out() ||
          contender.outcome() != Outcome::kBusy) {
        return acquired;
      }
      if (deadline != kNoDeadline && posix::MonotonicMs() >= deadline) return false;
    }
  }

  bool AcquireBefore(uint64_t deadline, bool try_once) {
    if (!BeginAcquisition()) return false;
    posix::Driver driver(dir_fd, cancel_pipe[0], &watch, listing_fd);
    driver.set_own_nonce(nonce);
    driver.set_moves_by_link(moves_by_link);
    // With k slots every wait watches the directory: watch it from the first
    // listing. With one slot a wait watches its predecessor's anchor, and a
    // try rarely waits (only for a doorway): the first wait that needs the
    // directory watch arms it.
    if (!try_once && options.slots > 1) driver.ArmWatch();
    const uint64_t now = posix::MonotonicMs();
    Drive(contender.Acquire(now, posix::WallMs(), deadline), &driver, now);
    moves_by_link = driver.moves_by_link();

    const Outcome outcome = contender.outcome();
    if (outcome == Outcome::kAcquired) {
      held = true;
      fence = contender.fence();
      status = LockStatus();
      sweep_after_release = driver.SawUnclaimedAnchor(live_anchors);
      return true;
    }
    if (driver.cancelled()) {
      DrainCancel();
      SetError(LockError::kCancelled, 0,
               "onlyone: waiting for lock \"" + name + "\" was cancelled");
      if (contender.failure().entry_left_behind) status.entry_left_behind = true;
    } else if (outcome == Outcome::kBusy) {
      ReportBusy();
    } else {
      ReportFailure("acquire");
    }
    if (!status.entry_left_behind) EndAnchorUse();
    if (driver.SawUnclaimedAnchor(live_anchors))
      posix::SweepOrphanAnchors(dir_fd, nonce, &live_anchors);
    return false;
  }
};

Lock::Lock(std::string name, LockOptions options) : state_(new State) {
  state_->name = std::move(name);
  state_->options = std::move(options);
  // Made now, not at Acquire: Cancel() may run on another thread at any time
  // and must find it in place. (A pipe, not a file: nothing on disk.)
  if (posix::MakeNonblockingPipe(state_->cancel_pipe) != 0)
    state_->cancel_pipe[0] = state_->cancel_pipe[1] = -1;
}

Lock::~Lock() {
  if (state_ != nullptr && state_->held) Release();
}

Lock::Lock(Lock&& other) noexcept = default;

Lock& Lock::operator=(Lock&& other) noexcept {
  if (this != &other) {
    if (state_ != nullptr && state_->held) Release();
    state_ = std::move(other.state_);
  }
  return *this;
}

bool Lock::TryAcquire() { return state_->Acquire(0, /*try_once=*/true); }

bool Lock::Acquire(int64_t timeout_ms) {
  return state_->Acquire(timeout_ms, /*try_once=*/timeout_ms == 0);
}

bool Lock::Release() {
  State& s = *state_;
  if (!s.held) {
    s.SetError(LockError::kInvalidArgument, 0, "onlyone: lock \"" + s.name + "\" is not held");
    return false;
  }
  posix::Driver driver(s.dir_fd, -1, &s.watch, s.listing_fd);
  s.Drive(s.contender.Release(), &driver, posix::MonotonicMs());
  const Outcome outcome = s.contender.outcome();
  if (outcome == Outcome::kReleased) {
    s.held = false;
    s.status = LockStatus();
    s.EndAnchorUse();
    // Only when the acquisition's listing showed a candidate: a sweep is a
    // listing of its own, and orphans are rare (a crash between two steps).
    if (s.sweep_after_release) posix::SweepOrphanAnchors(s.dir_fd, s.nonce, &s.live_anchors);
    return true;
  }
  if (outcome == Outcome::kLost) {
    s.held = false;
    s.SetError(
        LockError::kLost, 0,
        "onlyone: lock \"" + s.name + "\" was lost: our entry had been removed by someone else");
    s.anchor.Remove();
    return false;
  }
  s.ReportFailure("release");
  // Our entry stays (EROFS, EIO): keep the anchor locked while we live, so
  // nobody takes it for a dead owner's; when this process exits the kernel
  // drops the flock and others can clean up.
  s.status.entry_left_behind = true;
  s.held = false;
  return false;
}

// Validate and Refresh: both read our entry back (Refresh then rewrites it),
// and both end in kHeld, kLost or a failure.
bool Lock::HoldingCheck(bool refresh) {
  State& s = *state_;
  if (!s.held) {
    s.SetError(LockError::kInvalidArgument, 0, "onlyone: lock \"" + s.name + "\" is not held");
    return false;
  }
  posix::Driver driver(s.dir_fd, -1, &s.watch, s.listing_fd);
  const Op first = refresh ? s.contender.Refresh(posix::WallMs()) : s.contender.Validate();
  s.Drive(first, &driver, posix::MonotonicMs());
  const Outcome outcome = s.contender.outcome();
  if (outcome == Outcome::kHeld) {
    s.status = LockStatus();
    return true;
  }
  if (outcome == Outcome::kLost) {
    s.held = false;
    s.SetError(LockError::kLost, 0,
               "onlyone: lock \"" + s.name + "\" was lost: our entry had been removed or replaced");
    s.anchor.Remove();
    return false;
  }
  s.ReportFailure(refresh ? "refresh" : "validate");
  return false;
}

bool Lock::Validate() { return HoldingCheck(/*refresh=*/false); }

bool Lock::Refresh() { return HoldingCheck(/*refresh=*/true); }

void Lock::Cancel() {
  // Async-signal-safe: an atomic store and a write(2) to a pipe.
  if (state_ == nullptr) return;
  state_->cancel_requested.store(true);
  const int fd = state_->cancel_pipe[1];
  if (fd >= 0) {
    const char byte = 1;
    ssize_t ignored = write(fd, &byte, 1);
    (void)ignored;
  }
}

void Lock::set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) {
  state_->observer = std::move(observer);
}

int Lock::anchor_fd() const {
  if (!state_->held) return -1;
  state_->anchor_shared = true;  // whoever asks may hand it to a job
  return state_->anchor.fd();
}

bool Lock::RecordJobGroup(int process_group) {
  State& s = *state_;
  if (!s.held) {
    s.SetError(LockError::kInvalidArgument, 0, "onlyone: lock \"" + s.name + "\" is not held");
    return false;
  }
  posix::JobGroup group;
  int os_error = 0;
  s.anchor_shared = true;  // the group is written into the anchor
  if (!posix::LocalJobGroup(process_group, &group)) {
    s.SetError(LockError::kIo, ENOENT,
               "onlyone: cannot read process group " + std::to_string(process_group) +
                   " in /proc: processes of the job that close their descriptors are not "
                   "covered if onlyone is killed");
    return false;
  }
  if (!s.anchor.RecordJobGroup(group, &os_error)) {
    s.SetError(LockError::kIo, os_error,
               "onlyone: cannot record the job's process group in " + s.path() + ": " +
                   strerror(os_error));
    return false;
  }
  return true;
}

bool Lock::held() const { return state_->held; }
uint64_t Lock::fence() const { return state_->fence; }
const LockStatus& Lock::status() const { return state_->status; }
const std::string& Lock::name() const { return state_->name; }
std::string Lock::path() const { return state_->path(); }

bool Lock::List(const std::string& name, const LockOptions& options, std::vector<Holder>* entries,
                LockStatus* status) {
  entries->clear();
  *status = LockStatus();
  Lock probe(name, options);
  State& s = *probe.state_;
  const State::Looking looking = s.CheckArguments() ? s.OpenForLooking() : State::Looking::kFailed;
  if (looking == State::Looking::kMissing) return true;  // no such lock: nobody holds it
  if (looking == State::Looking::kFailed) {
    *status = s.status;
    return false;
  }
  std::vector<Found> found;
  // The same listing and reads as an acquisition (a getdents snapshot, then
  // readlink), through the driver.
  posix::Driver driver(s.dir_fd, -1);
  std::vector<std::string> names;
  const Result listed = ListDirectory(&driver, &names);
  if (listed.status != IoStatus::kEnd) {
    status->error = LockError::kIo;
    status->os_error = listed.os_error;
    status->message = "onlyone: cannot list " + s.path() + ": " + strerror(listed.os_error);
    return false;
  }
  for (const std::string& entry_name : names) {
    if (posix::ParseName(entry_name).kind != NameKind::kEntry) continue;
    Found item;
    if (ReadEntry(&driver, s.dir_fd, entry_name, &item)) found.push_back(item);
  }
  RankEntries(options.slots, &found);
  for (const Found& item : found) entries->push_back(item.holder);
  return true;
}

bool Lock::ListNames(const LockOptions& options, std::vector<std::string>* names,
                     LockStatus* status) {
  names->clear();
  *status = LockStatus();
  const std::string parent = options.dir.empty() ? DefaultLockDirectory() : options.dir;
  posix::DirectoryProblem problem;
  int parent_fd = posix::OpenParentDirectory(parent, options.shared_dir, &problem,
                                             /*create=*/false);
  if (parent_fd < 0 && problem.os_error == ENOENT) return true;  // no locks at all
  if (parent_fd < 0) {
    status->error = problem.unsafe ? LockError::kUnsafeDirectory : LockError::kIo;
    status->os_error = problem.os_error;
    status->message = problem.message;
    return false;
  }
  DIR* dir = fdopendir(parent_fd);
  if (dir == nullptr) {
    status->error = LockError::kIo;
    status->os_error = errno;
    status->message = "onlyone: cannot list " + parent + ": " + strerror(errno);
    close(parent_fd);
    return false;
  }
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    struct stat st;
    // Never follow a planted symlink (H10): only real directories are locks.
    if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
      continue;
    names->push_back(entry->d_name);
  }
  closedir(dir);
  std::sort(names->begin(), names->end());
  return true;
}

}  // namespace onlyone
