// The POSIX driver: performs a Contender's Ops on an open lock directory.
//
// Every Op is one system call relative to the directory's descriptor
// (symlinkat, renameat, readlinkat, unlinkat, a snapshot listing), never a path
// that could be swapped between a check and its use. Every descriptor is
// O_CLOEXEC: a child started by exec never inherits a lock (H9).
//
// Liveness (kProbe) answers kDead only on proof (H4, H5, H6):
//   1. the owner's anchor "k.<nonce>": a file the owner keeps flock()ed for
//      its whole acquisition or holding (see Anchor). If a probe can take the
//      flock, the owner is gone: the kernel drops an flock only when every
//      descriptor of it is closed, i.e. when the owner released or died. This
//      is immune to PID reuse (H4) and to PID namespaces (H5). "The owner"
//      includes the job it runs: processes that inherited the anchor keep it
//      locked, and a job process group recorded in the anchor keeps a free
//      anchor's owner alive while a live process of the group remains
//      (job.h). An owner whose pid is dead is alive while either holds.
//   2. no anchor (the owner released meanwhile, or another platform wrote the
//      record): the record's (boot id, PID namespace, pid, start time). A
//      different boot id is proof of death; in our own PID namespace, no
//      process with that pid and start time is proof too.
//   3. anything else (another host, another namespace, no /proc of our own
//      namespace): kUnknown, which the core counts as alive.
//
// Waiting (kWait) on Linux uses inotify, in one of two ways:
//   - behind a predecessor (a wait naming an "o." entry that the last scan
//     read with a ticket): a watch on that entry's own inode (its release
//     unlinks it) and one on its owner's anchor file (its death closes it).
//     Only those can let us in. Each waiter watches a different entry and
//     anchor, so a release wakes exactly one waiter, in the kernel, with no
//     herd. Either may change before the watches exist, so the driver checks
//     once after arming (see WatchAnchor).
//   - otherwise (a doorway, the fence ring, k slots, an owner without an
//     anchor): a watch on the directory that existed before the listing that
//     precedes the wait, so no change after a kListStart can be missed: a
//     change of an entry ("o.", "f."), or an anchor closed for writing, which
//     is how the death of its owner shows. A wait that finds no such watch
//     arms it and returns at once, so that the core scans again with it.
// Without an inotify instance (inotify_init1 failed: the per-user limit of
// instances) it polls with a backoff. Either way it re-scans at least every
// kWaitSafetyNetMs.
//
// What is the OS's and what a port must provide: driver_os.h. This file
// declares both; the functions and members marked "by the OS file" are
// defined in driver_<os>.cc (driver_linux.cc), the rest in driver.cc.
#ifndef ONLYONE_PLATFORM_POSIX_DRIVER_H_
#define ONLYONE_PLATFORM_POSIX_DRIVER_H_

#include <stdint.h>
#include <sys/types.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "core/contender.h"
#include "core/record.h"
#include "platform/posix/process.h"

namespace onlyone {
namespace posix {

// kWait re-scans at least this often even without an event: an owner on
// another host (its death makes no local event), or an event lost to an
// inotify queue overflow.
constexpr uint64_t kWaitSafetyNetMs = 1000;
// Polling fallback where there is no inotify: first and longest pause.
constexpr uint64_t kPollFirstPauseMs = 10;
constexpr uint64_t kPollLongestPauseMs = 500;
// readlinkat buffer. Our records are at most kRecordBytesMax; a longer target
// is someone else's and is handed to the parser, which refuses it, rather
// than failing the scan.
constexpr uint32_t kReadBufferBytes = 4096;
// A listing is read whole at kListStart with one getdents64 call when it fits
// this many bytes (about 100k entries): one call runs under the directory's
// lock, so it is a snapshot no rename can tear. Several calls are not: on
// tmpfs a rename over an existing name moves its entry, and a listing that
// spans getdents calls can miss a name that existed throughout (H8, stronger
// than the model assumes). Larger directories are refused (EOVERFLOW) rather
// than listed unsafely.
constexpr uint32_t kListingBytesMax = 8u << 20;
constexpr uint32_t kListingBytesFirst = 64u << 10;

// The protocol's names (core/names.h) as strings, for the system calls.
std::string OwnerName(NameKind kind, Id128 nonce);
// The name of the liveness anchor of the owner with `nonce`.
std::string AnchorName(Id128 nonce);
ParsedName ParseName(const std::string& name);

// The outcome of opening a directory safely (H10).
struct DirectoryProblem {
  bool unsafe = false;  // failed a safety check (else: an I/O error)
  int os_error = 0;
  std::string message;  // one line: what is wrong and what to do
};

// Creates (mode 0700, or 0755 / sticky-parent with `shared`; unless `create`
// is false, for read-only uses such as status) and opens the parent directory
// `path`, then checks it: not a symlink, owned by us or root, not
// group/world-writable unless sticky (and sticky when `shared`).
// Returns the descriptor, or -1 with *problem filled in.
int OpenParentDirectory(const std::string& path, bool shared, DirectoryProblem* problem,
                        bool create = true);
// Creates (0700, or 0755 when `shared`) and opens the lock directory `name`
// inside `parent_fd`; refuses a symlink, a foreign owner (unless `shared`) and
// a group/world-writable directory. `path` names it in messages.
int OpenLockDirectory(int parent_fd, const std::string& name, const std::string& path, bool shared,
                      DirectoryProblem* problem);
// Opens an existing lock directory for reading (status): -1 with errno ENOENT
// when there is none. Same safety checks as OpenLockDirectory.
int OpenExistingLockDirectory(int parent_fd, const std::string& name, const std::string& path,
                              bool shared, DirectoryProblem* problem);

// The errno of a failed call, as the core's IoStatus.
IoStatus StatusFromErrno(int os_error);

struct JobGroup;  // job.h

// Our own liveness anchor "k.<nonce>": created before the first Op of an
// acquisition and flock()ed until the acquisition fails or the holding ends.
// A Lock used again keeps it between acquisitions (Keep, then Reuse), and
// its next acquisition keeps the nonce too: a kept anchor has no entry, so
// it says nothing to probers, and SweepOrphanAnchors leaves it alone while
// its flock is held.
class Anchor {
 public:
  Anchor() = default;
  ~Anchor();  // closes without unlinking
  Anchor(const Anchor&) = delete;
  Anchor& operator=(const Anchor&) = delete;

  // Creates k.<nonce> exclusively (O_NOFOLLOW, 0600) in dir_fd, takes its
  // flock and writes `owner`'s owner line (ParseAnchorOwner in
  // core/record.h: the host and command a version 2 record leaves out).
  // Returns kOk or the failing status, with *os_error. A failed write of the
  // owner line is no failure: `status` then shows no host or command.
  IoStatus Create(int dir_fd, const Identity& owner, uint64_t now_wall_ms, int* os_error);
  // Unlinks the anchor, drops its flock, then closes it: after a release or
  // a failed attempt, when our entry is already gone. (Unlink first: closing
  // first would let a prober take the flock of a file that still names us;
  // harmless, but the core would then remove it for us.) The flock is
  // dropped with LOCK_UN, not left to close(): a job that inherited the
  // descriptor shares its open file description, and whatever the job left
  // running would otherwise keep the lock of an entry nobody has.
  void Remove();
  // After our entry is gone (released, or an attempt given up), keeps the
  // anchor locked for the next acquisition of this process instead of
  // removing it. Nothing touches it: a waiter behind our entry watches the
  // entry's own inode too, whose unlink woke it (Driver::WatchAnchor).
  // A child forked while an anchor is kept closes its copy (pthread_atfork),
  // so that it never keeps a later holding of ours alive.
  void Keep();
  // A kept anchor, taken up again by the next acquisition in dir_fd under
  // the same nonce (an fstat instead of a create, an flock, a write, an
  // unlink and a close). false: not kept by this process, in another
  // directory, or unlinked meanwhile (the lock directory removed, or a user
  // removing files): the caller removes it and creates one, under a new
  // nonce, since a new anchor file is a new owner for probers.
  bool Reuse(int dir_fd);
  bool kept() const { return kept_; }
  // Writes `group` into the anchor, after the owner line (see JobGroup in
  // job.h). false: errno in *os_error.
  bool RecordJobGroup(const JobGroup& group, int* os_error);
  // The descriptor holding the flock, or -1. A process that inherits it
  // shares the flock: the owner then looks alive while that process lives.
  int fd() const { return fd_; }
  // Without Remove, the destructor only closes: used when our entry could not
  // be removed (EROFS, EIO; Failure::entry_left_behind). The file then lets
  // others prove us gone, and remove the entry, as soon as we drop the flock.
  bool active() const { return fd_ >= 0; }

 private:
  void WriteOwnerLine(const Identity& owner, uint64_t now_wall_ms);
  void Unkeep();

  int dir_fd_ = -1;
  int fd_ = -1;
  bool kept_ = false;
  pid_t owner_pid_ = 0;            // who created it: a forked child does not reuse it
  uint32_t owner_line_bytes_ = 0;  // where a job group line goes
  std::string name_;
};

// The host, command and since of the owner of `record` (a version 2 record
// leaves them to the anchor's owner line): *record's fields are filled in
// from the anchor in dir_fd when it has them, else left as they are.
void ReadAnchorOwner(int dir_fd, OwnerRecord* record);

// Probes the owner of `owner` whose anchor would be in dir_fd.
Liveness ProbeOwner(int dir_fd, const OwnerRecord& owner);
// Tiers 2 and 3 alone: what the record's (boot id, PID namespace, pid, start
// time) say of its owner process, whatever its anchor says.
Liveness ProbeOwnerRecord(const OwnerRecord& owner);

// Anchors a Lock's sweeps found held by their owners, or named by an entry:
// the kept anchors of other reused Locks (Anchor::Keep), not orphans.
// They are not probed again. The trap this avoids: two reused Locks on one
// directory each see the other's idle anchor in every acquisition's listing,
// and without the memo each release would list the directory once more and
// open, fstat, flock and close that anchor: nine system calls on a 2-CPU
// machine beside the hand-off they follow. Remembering too long is safe: an
// owner that dies later leaves an orphan that only this memo's Lock skips;
// any other Lock's sweep removes it. The memo holds kRememberedMax anchors,
// as many as the 64-waiter hand-off benchmark has other contenders; beyond
// that the oldest are forgotten and probed again (the cost without a memo).
class LiveAnchors {
 public:
  bool Contains(Id128 nonce) const;
  // Remembers `nonce`, forgetting the oldest when full.
  void Add(Id128 nonce);

 private:
  static constexpr size_t kRememberedMax = 64;
  std::array<Id128, kRememberedMax> nonces_{};
  size_t count_ = 0;
  size_t next_ = 0;  // where Add writes when full: the oldest
};

// Removes anchors that no entry names ("k.X" without "o.X", "f.X" or "t.X")
// and whose flock can be taken: left by an owner killed between creating its
// anchor and its entry, or by a cleaner killed between removing a dead
// owner's entry and its anchor. The core never sees them (they have no
// entry), so nobody else would. Safe against a live owner: its anchor is
// locked before its entry exists and until after its entry is gone; and in
// the instant between an anchor's creation and its flock, removing it costs
// only the anchor (the record still proves the owner alive, never dead).
// Skips `own` (a kept anchor of ours has no entry between acquisitions) and
// the anchors `live` remembers; remembers those whose flock is held and
// those an entry names.
// Returns how many it removed.
int SweepOrphanAnchors(int dir_fd, Id128 own, LiveAnchors* live);

// The inotify instance of waits. A Lock keeps one for its whole life:
// creating and closing an instance costs two system calls and a sleep in
// close (the kernel waits for an RCU grace period), which a hand-off would
// otherwise pay between being woken and returning from Acquire.
class Watch {
 public:
  Watch() = default;
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // Creates the instance once. false: no inotify here (waits poll). By the
  // OS file.
  bool Open();
  int fd() const { return fd_; }
  bool tried() const { return tried_; }

 private:
  friend class Driver;
  int fd_ = -1;
  bool tried_ = false;
  int dir_wd_ = -1;     // watch of the lock directory, or -1
  int anchor_wd_ = -1;  // watch of the anchor of the entry we queue behind
  int entry_wd_ = -1;   // watch of that entry itself (its symlink), or -1
};

class Driver {
 public:
  // Does not take ownership of dir_fd, which must outlive the driver.
  // cancel_fd (or -1): readable once Cancel was requested; kWait then
  // returns kIo with os_error ECANCELED. watch (or null: the driver makes its
  // own): the inotify instance to wait with, which must outlive the driver;
  // the driver removes its watches from it when it ends. listing_fd (or -1:
  // the driver opens one per listing): a second descriptor of the same
  // directory, used for nothing but listings, which move its file offset.
  Driver(int dir_fd, int cancel_fd, Watch* watch = nullptr, int listing_fd = -1);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Names of our own entries (o./f./t./k. with this nonce): changes to them
  // do not wake a wait, since the core made them itself.
  void set_own_nonce(Id128 nonce);
  // Watches the directory now rather than at the first kWait that needs it
  // (which otherwise returns at once after arming it, so that the core scans
  // again with the watch in place). For waits that will not name a
  // predecessor (k slots). Returns false when there is no watch (polling).
  bool ArmWatch();

  // How kMove is done: false (the default), one renameat2 that refuses to
  // replace; true, a hard link and then an unlink of the source, for a
  // directory where that rename is not one atomic step
  // (RenameNoReplaceIsAtomic). The core must then run with
  // Config::linked_moves, which decides such moves from a listing made
  // while holding.
  void set_moves_by_link(bool moves_by_link) { moves_by_link_ = moves_by_link; }
  // Whether kMove is (now) done by a link: set, or learned when the file
  // system refused the one-step rename (see Move). A caller keeps this for
  // its next acquisitions, and runs the core with Config::linked_moves.
  bool moves_by_link() const { return moves_by_link_; }

  Result Perform(const Op& op);

  bool cancelled() const { return cancelled_; }
  // Whether waiting is event-driven (inotify) rather than polling.
  bool event_driven() const { return watch_->fd() >= 0; }
  // Whether the last listing showed an anchor ("k.X") of another owner with
  // no entry or temporary of X: a candidate for SweepOrphanAnchors (it may
  // also be a contender between creating its anchor and its entry).
  // Computed from the last listing, on demand (true where there is none to
  // look at); anchors `live` remembers do not count.
  bool SawUnclaimedAnchor(const LiveAnchors& live) const;

 private:
  // What arming a watch on a predecessor's anchor found.
  enum class AnchorWatch : uint8_t {
    kArmed,     // watching; the owner still held the anchor after arming
    kReleased,  // the owner released or died already: scan again now
    kNoAnchor,  // no usable anchor: wait on the directory instead
  };

  Result Create(const Op& op);
  Result Rename(const Op& op);
  Result Move(const Op& op);
  Result Read(const Op& op);
  Result ListStart();
  Result ListNext();
  Result Remove(const Op& op);
  Result Wait(const Op& op);
  bool ArmWaitWatches(const Op& op);
  static constexpr int kSleepCancelled = -2;
  int Sleep(uint64_t pause_ms, bool event_driven);
  // The target the last scan read for `target`, or null.
  const std::string* LastRead(Bytes target) const;
  // Whether `target` still holds the record the last scan read, byte for byte
  // (one readlink): not just the name, which a reused Lock's next entry shares.
  bool EntryStillAsRead(Bytes target);
  AnchorWatch WatchAnchor(Bytes target);
  // Whether a change of `name` in the lock directory is news for a wait on
  // `target` (see DrainEvents). closed_for_writing: the file was closed
  // after being open for writing (for an anchor: its owner left or died).
  bool DirectoryChangeIsNews(const char* name, bool closed_for_writing, Bytes target) const;
  // Whether `name` is one of our own (entry, temporary or anchor).
  bool IsOwnName(const ParsedName& name) const;

  // By the OS file: the wake-up mechanism (driver_os.h, 6).
  bool WatchDirectory();
  void UnwatchDirectory();
  // Watches the anchor open at anchor_fd (the file, not its name). false:
  // no watch.
  bool AddAnchorWatch(int anchor_fd);
  // Watches the symlink `entry` of the lock directory itself (not what it
  // points to). 0, or the errno of the failure (ENOENT: gone already).
  int AddEntryWatch(const std::string& entry);
  // Drops the anchor's and the entry's watches.
  void UnwatchAnchor();
  // Reads pending inotify events; true if one is news for a wait on `target`
  // (see Op::name of kWait; empty: any entry or death). With stop_at_news,
  // stops reading once it found one. Sets queue_emptied_ when its last read
  // took every event queued (a read shorter than a buffer's worth).
  bool DrainEvents(Bytes target, bool stop_at_news = false);
  Result Done(Result result);

  int dir_fd_;
  int cancel_fd_;
  int listing_fd_;
  Watch own_watch_;  // used when the caller gives none
  Watch* watch_;
  // The directory watch existed when the last kListStart began, so the wait
  // after that listing can miss no change (see Wait).
  bool directory_watched_since_listing_ = false;
  std::vector<std::string> snapshot_;  // the whole listing (see kListingBytesMax)
  size_t snapshot_next_ = 0;
  bool snapshot_ready_ = false;
  // Records of "o." entries read since the last kListStart (name, target),
  // so that a wait knows what the core saw of the entry it names.
  std::vector<std::pair<std::string, std::string>> reads_;
  size_t reads_used_ = 0;
  bool changed_ = false;  // a relevant event since the last kListStart
  // The last DrainEvents left the queue empty: a kListStart right after the
  // wait that woke saves its own drain (a read returning EAGAIN, on the
  // hand-off's path). An event queued in between is merely read later: at
  // worst one more scan.
  bool queue_emptied_ = false;
  bool cancelled_ = false;
  bool moves_by_link_ = false;
  uint64_t poll_pause_ms_ = kPollFirstPauseMs;
  // Our nonce, once set: our own names' changes are no news.
  Id128 own_nonce_;
  bool has_own_nonce_ = false;
  std::string scratch_a_;
  std::string scratch_b_;
  std::string list_name_;
  char read_buffer_[kReadBufferBytes];
};

}  // namespace posix
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_POSIX_DRIVER_H_
