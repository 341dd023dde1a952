#include "platform/posix/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "platform/posix/driver_os.h"
#include "platform/posix/job.h"

namespace onlyone {
namespace posix {

namespace {

uint64_t ClockMs(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

std::string ModeText(mode_t mode) {
  char text[16];
  snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// H10: the checks every directory we lock in must pass.
bool CheckDirectory(int fd, const std::string& path, bool is_lock_dir, bool shared,
                    DirectoryProblem* problem) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    problem->os_error = errno;
    problem->message = "onlyone: cannot stat " + path + ": " + strerror(errno);
    return false;
  }
  problem->unsafe = true;
  if (!S_ISDIR(st.st_mode)) {
    problem->message = "onlyone: " + path + " is not a directory; remove it or use --dir";
    return false;
  }
  const uid_t me = geteuid();
  const bool owner_ok = st.st_uid == me || st.st_uid == 0 || (is_lock_dir && shared);
  if (!owner_ok) {
    problem->message = "onlyone: " + path + " is owned by uid " + std::to_string(st.st_uid) +
                       ", not by you or root: another user could plant or remove entries; "
                       "use a directory of your own (--dir)";
    return false;
  }
  const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  const bool sticky = (st.st_mode & S_ISVTX) != 0;
  if (others_write && !sticky) {
    problem->message = "onlyone: " + path + " is writable by others (mode " + ModeText(st.st_mode) +
                       ") without the sticky bit: another user could plant fake holders; "
                       "run \"chmod " +
                       (is_lock_dir ? "700 " : "go-w ") + path + "\" or use --dir";
    return false;
  }
  if (is_lock_dir && others_write) {
    problem->message = "onlyone: lock directory " + path + " is writable by others (mode " +
                       ModeText(st.st_mode) + "); run \"chmod 700 " + path + "\" or use --dir";
    return false;
  }
  problem->unsafe = false;
  return true;
}

int OpenDirectoryAt(int at_fd, const char* path) {
  return openat(at_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

void DescribeOpenFailure(int os_error, const std::string& path, DirectoryProblem* problem) {
  problem->os_error = os_error;
  if (os_error == ELOOP || os_error == ENOTDIR) {
    // O_NOFOLLOW refused a symlink (ELOOP), or the name is a plain file.
    problem->unsafe = true;
    problem->message = "onlyone: " + path +
                       (os_error == ELOOP ? " is a symbolic link, which is never followed (a "
                                            "planted link could redirect the lock); remove it "
                                            "or use --dir"
                                          : " is not a directory; remove it or use --dir");
    return;
  }
  problem->message = "onlyone: cannot open " + path + ": " + strerror(os_error);
  if (os_error == EACCES || os_error == EPERM)
    problem->message += "; check its permissions or use --dir";
  if (os_error == EROFS) problem->message += "; use --dir on a writable file system";
  if (os_error == ENOSPC || os_error == EDQUOT)
    problem->message += "; free some space or use --dir";
}

int FinishOpenLockDirectory(int fd, int open_errno, int parent_fd, const std::string& name,
                            const std::string& path, bool shared, DirectoryProblem* problem);

int OpenLockDirectoryImpl(int parent_fd, const std::string& name, const std::string& path,
                          bool shared, bool create, DirectoryProblem* problem) {
  // Open first, create only when missing: the directory exists at every
  // acquisition but the first, and a mkdirat that fails with EEXIST costs a
  // path walk of its own (a Lock made per acquisition paid it every time).
  int fd = OpenDirectoryAt(parent_fd, name.c_str());
  if (fd >= 0 || errno != ENOENT || !create) {
    return FinishOpenLockDirectory(fd, errno, parent_fd, name, path, shared, problem);
  }
  if (mkdirat(parent_fd, name.c_str(), shared ? 0755 : 0700) != 0 && errno != EEXIST) {
    DescribeOpenFailure(errno, path, problem);
    problem->message =
        "onlyone: cannot create " + path + ": " + strerror(problem->os_error) +
        (problem->os_error == EROFS ? "; the file system is read-only, use --dir on a writable one"
         : problem->os_error == ENOSPC || problem->os_error == EDQUOT
             ? "; free some space or use --dir"
             : "; check permissions of its parent or use --dir");
    return -1;
  }
  fd = OpenDirectoryAt(parent_fd, name.c_str());
  return FinishOpenLockDirectory(fd, errno, parent_fd, name, path, shared, problem);
}

// The checks after opening the lock directory (fd, or -1 with open_errno).
int FinishOpenLockDirectory(int fd, int open_errno, int parent_fd, const std::string& name,
                            const std::string& path, bool shared, DirectoryProblem* problem) {
  if (fd < 0) {
    int saved = open_errno;
    // O_DIRECTORY|O_NOFOLLOW refuses a symlink with ENOTDIR or ELOOP
    // depending on the kernel: tell the planted link (H10) apart from a file.
    struct stat st;
    if (saved == ENOTDIR && fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
      saved = ELOOP;
    }
    DescribeOpenFailure(saved, path, problem);
    errno = saved;
    return -1;
  }
  if (!CheckDirectory(fd, path, /*is_lock_dir=*/true, shared, problem)) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool ParseHexId(const std::string& text, Id128* out) {
  std::string hex;
  for (char c : text) {
    if (c == '-' || c == '\n') continue;
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    hex.push_back(c);
  }
  return ParseId128(Bytes{hex.data(), static_cast<uint32_t>(hex.size())}, out);
}

uint64_t MonotonicMs() { return ClockMs(CLOCK_MONOTONIC); }

uint64_t WallMs() {
  uint64_t ms = ClockMs(CLOCK_REALTIME);
  return ms == 0 ? 1 : ms;
}

bool RandomNonce(Id128* nonce, int* os_error) {
  unsigned char bytes[16];
  if (!RandomBytes(bytes, sizeof bytes, os_error)) return false;
  Id128 id;
  for (int i = 0; i < 8; ++i) id.hi = (id.hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) id.lo = (id.lo << 8) | bytes[i];
  *nonce = id;
  return true;
}

std::string TruncateUtf8(const std::string& text, uint32_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the sequence
  // that does not fit, and cut before it.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string OwnerName(NameKind kind, Id128 nonce) {
  FixedBytes<kNameBytesMax> name;
  MakeOwnerName(kind, nonce, &name);
  return std::string(name.data, name.size);
}

std::string AnchorName(Id128 nonce) { return OwnerName(NameKind::kAnchor, nonce); }

ParsedName ParseName(const std::string& name) {
  return onlyone::ParseName(Bytes{name.data(), static_cast<uint32_t>(name.size())});
}

Identity LocalIdentity(Id128 nonce, const std::string& command) {
  // What does not change while this process lives (start time, boot id, PID
  // namespace, host) is read once per process: reading it took 13 system
  // calls per acquisition, a quarter of an uncontended cycle. Keyed by pid,
  // so a child of fork() reads its own.
  static std::mutex cache_mutex;
  static uint32_t cached_pid = 0;
  static Identity cached;
  const uint32_t pid = static_cast<uint32_t>(getpid());
  Identity identity;
  {
    std::lock_guard<std::mutex> guard(cache_mutex);
    if (cached_pid != pid) {
      Identity fresh;
      fresh.pid = pid;
      bool usable = false;
      uint64_t start_time = 0;
      if (ProcessStartTime(pid, &start_time, &usable) && usable) fresh.start_time = start_time;
      fresh.boot_id = LocalBootId();
      fresh.pid_namespace = LocalPidNamespace();
      char host[256] = {};
      if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
      std::string host_text = TruncateUtf8(host, kHostBytesMax);
      fresh.host.Assign(Bytes{host_text.data(), static_cast<uint32_t>(host_text.size())});
      cached = fresh;
      cached_pid = pid;
    }
    identity = cached;
  }
  identity.nonce = nonce;
  std::string summary = TruncateUtf8(command, kCommandBytesMax);
  identity.command.Assign(Bytes{summary.data(), static_cast<uint32_t>(summary.size())});
  return identity;
}

IoStatus StatusFromErrno(int os_error) {
  switch (os_error) {
    case 0: return IoStatus::kOk;
    case ENOSPC:
    case EDQUOT: return IoStatus::kNoSpace;
    case EROFS: return IoStatus::kReadOnly;
    case EACCES:
    case EPERM: return IoStatus::kPermission;
    case ENAMETOOLONG: return IoStatus::kTooLong;
    case EEXIST: return IoStatus::kExists;
    case ENOENT: return IoStatus::kNotFound;
    default: return IoStatus::kIo;
  }
}

int OpenParentDirectory(const std::string& path, bool shared, DirectoryProblem* problem,
                        bool create) {
  *problem = DirectoryProblem();
  if (path.empty()) {
    problem->message = "onlyone: no lock directory (set --dir)";
    return -1;
  }
  // A private parent that exists is opened at once, without a mkdir that
  // would fail with EEXIST (see OpenLockDirectoryImpl); a shared one goes
  // through mkdir and the mode repair below every time. An open refused for
  // another reason (a symlink, a file) is repeated and reported below.
  int fd = shared ? -1 : OpenDirectoryAt(AT_FDCWD, path.c_str());
  const bool try_create = create && fd < 0 && (shared || errno == ENOENT);
  if (try_create && mkdir(path.c_str(), shared ? (01777) : 0700) != 0 && errno != EEXIST) {
    int saved = errno;
    DescribeOpenFailure(saved, path, problem);
    problem->message = "onlyone: cannot create " + path + ": " + strerror(saved) +
                       (saved == ENOENT ? "; create its parent first or use --dir"
                                        : "; check permissions or use --dir");
    return -1;
  }
  if (shared) {
    // mkdir applies the umask, which strips the sticky and write bits that a
    // shared directory needs; chmod of our own fresh directory restores them.
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 07777) != 01777) {
      chmod(path.c_str(), 01777);
    }
  }
  if (fd < 0) fd = OpenDirectoryAt(AT_FDCWD, path.c_str());
  if (fd < 0) {
    int saved = errno;
    struct stat st;
    if (saved == ENOTDIR && lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) saved = ELOOP;
    DescribeOpenFailure(saved, path, problem);
    return -1;
  }
  if (!CheckDirectory(fd, path, /*is_lock_dir=*/false, shared, problem)) {
    close(fd);
    return -1;
  }
  if (shared) {
    struct stat st;
    fstat(fd, &st);
    if ((st.st_mode & S_ISVTX) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      problem->unsafe = true;
      problem->message =
          "onlyone: shared directory " + path + " must be sticky; run \"chmod +t " + path + "\"";
      close(fd);
      return -1;
    }
  }
  return fd;
}

int OpenLockDirectory(int parent_fd, const std::string& name, const std::string& path, bool shared,
                      DirectoryProblem* problem) {
  *problem = DirectoryProblem();
  return OpenLockDirectoryImpl(parent_fd, name, path, shared, /*create=*/true, problem);
}

int OpenExistingLockDirectory(int parent_fd, const std::string& name, const std::string& path,
                              bool shared, DirectoryProblem* problem) {
  *problem = DirectoryProblem();
  return OpenLockDirectoryImpl(parent_fd, name, path, shared, /*create=*/false, problem);
}

// ---------------------------------------------------------------------------
// Anchor.

namespace {

// Kept anchors of this process, closed in a forked child (see Anchor::Keep):
// a child that never calls exec would otherwise share their flocks, and a
// later holding of ours would look alive for as long as it lived.
std::mutex kept_anchors_mutex;
std::vector<int*>* kept_anchor_fds = nullptr;  // each kept Anchor's fd_

void LockKeptAnchors() { kept_anchors_mutex.lock(); }
void UnlockKeptAnchors() { kept_anchors_mutex.unlock(); }
void CloseKeptAnchorsInChild() {
  // The child's only thread is the one that forked, which holds the mutex.
  for (int* fd : *kept_anchor_fds) {
    close(*fd);  // not LOCK_UN: the flock belongs to the parent as well
    *fd = -1;
  }
  kept_anchor_fds->clear();
  kept_anchors_mutex.unlock();
}

void RegisterKeptAnchor(int* fd) {
  static std::once_flag once;
  std::call_once(once, [] {
    kept_anchor_fds = new std::vector<int*>();
    pthread_atfork(LockKeptAnchors, UnlockKeptAnchors, CloseKeptAnchorsInChild);
  });
  std::lock_guard<std::mutex> lock(kept_anchors_mutex);
  kept_anchor_fds->push_back(fd);
}

void UnregisterKeptAnchor(int* fd) {
  std::lock_guard<std::mutex> lock(kept_anchors_mutex);
  if (kept_anchor_fds == nullptr) return;
  auto it = std::find(kept_anchor_fds->begin(), kept_anchor_fds->end(), fd);
  if (it != kept_anchor_fds->end()) kept_anchor_fds->erase(it);
}

}  // namespace

Anchor::~Anchor() {
  if (kept_) {
    Unkeep();
    // A kept anchor names no entry: nothing of ours to keep alive.
    Remove();
    return;
  }
  if (fd_ >= 0) close(fd_);
}

void Anchor::Unkeep() {
  if (!kept_) return;
  UnregisterKeptAnchor(&fd_);
  kept_ = false;
}

void Anchor::Keep() {
  if (fd_ < 0 || kept_) return;
  kept_ = true;
  RegisterKeptAnchor(&fd_);
}

bool Anchor::Reuse(int dir_fd) {
  if (!kept_) return false;
  Unkeep();
  if (fd_ < 0 || dir_fd != dir_fd_ || owner_pid_ != getpid()) return false;
  // Still linked under its name: the name is what probers and waiters open.
  struct stat st;
  return fstat(fd_, &st) == 0 && st.st_nlink > 0;
}

IoStatus Anchor::Create(int dir_fd, const Identity& owner, uint64_t now_wall_ms, int* os_error) {
  *os_error = 0;
  if (fd_ >= 0) close(fd_);
  Unkeep();
  dir_fd_ = dir_fd;
  owner_line_bytes_ = 0;
  owner_pid_ = getpid();
  name_ = AnchorName(owner.nonce);
  // O_RDWR on purpose: when we exit, the kernel's close of a descriptor open
  // for writing makes IN_CLOSE_WRITE on the directory, which wakes waiters
  // to probe us (a death is a change they must see).
  fd_ = openat(dir_fd, name_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) {
    *os_error = errno;
    return StatusFromErrno(errno);
  }
  // Before any entry of ours exists: a prober only probes owners whose entry
  // it has read, so it can never catch the window between open and flock.
  while (flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    *os_error = errno;
    unlinkat(dir_fd, name_.c_str(), 0);
    close(fd_);
    fd_ = -1;
    return StatusFromErrno(*os_error);
  }
  WriteOwnerLine(owner, now_wall_ms);
  return IoStatus::kOk;
}

void Anchor::WriteOwnerLine(const Identity& owner, uint64_t now_wall_ms) {
  OwnerRecord record;
  record.owner = owner;
  record.since_ms = record.refreshed_ms = now_wall_ms;
  RecordText text;
  if (!EncodeRecord(record, &text) || !text.AppendChar('\n')) return;
  ssize_t written;
  do {
    written = pwrite(fd_, text.data, text.size, 0);
  } while (written < 0 && errno == EINTR);
  // Half a line reads as no owner line: the job group line then goes first.
  if (written == static_cast<ssize_t>(text.size)) owner_line_bytes_ = text.size;
}

void ReadAnchorOwner(int dir_fd, OwnerRecord* record) {
  const std::string anchor = AnchorName(record->owner.nonce);
  const int fd = openat(dir_fd, anchor.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return;
  char text[kRecordBytesMax + 1];
  struct stat st;
  ssize_t size = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {  // a planted FIFO is no anchor (H10)
    do {
      size = pread(fd, text, sizeof text, 0);
    } while (size < 0 && errno == EINTR);
  }
  close(fd);
  OwnerRecord line;
  if (size <= 0 || !ParseAnchorOwner(Bytes{text, static_cast<uint32_t>(size)}, &line)) {
    return;
  }
  record->owner.host = line.owner.host;
  record->owner.command = line.owner.command;
}

void Anchor::Remove() {
  Unkeep();
  if (fd_ < 0) return;
  unlinkat(dir_fd_, name_.c_str(), 0);
  flock(fd_, LOCK_UN);
  close(fd_);
  fd_ = -1;
}

bool Anchor::RecordJobGroup(const JobGroup& group, int* os_error) {
  *os_error = 0;
  if (fd_ < 0) {
    *os_error = EBADF;
    return false;
  }
  const std::string text = FormatJobGroup(group);
  ssize_t written;
  do {
    written = pwrite(fd_, text.data(), text.size(), owner_line_bytes_);
  } while (written < 0 && errno == EINTR);
  if (written == static_cast<ssize_t>(text.size())) return true;
  *os_error = written < 0 ? errno : EIO;
  return false;
}

// The one test of an anchor's kernel lock, shared by the prober and the
// waiter's watch: take its flock without waiting and drop it at once.
// kFree: nobody holds it, so its owner released or died (the kernel drops an
// flock only when every descriptor of it is closed). kHeld: someone does, the
// owner (or, for this instant, another prober: read as alive, the safe side).
// kError: no verdict (errno says why).
namespace {

enum class AnchorLock : uint8_t { kFree, kHeld, kError };

AnchorLock TryAnchorLock(int fd) {
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    flock(fd, LOCK_UN);
    return AnchorLock::kFree;
  }
  return errno == EWOULDBLOCK ? AnchorLock::kHeld : AnchorLock::kError;
}

}  // namespace

Liveness ProbeOwner(int dir_fd, const OwnerRecord& record) {
  const Identity& owner = record.owner;
  // 1. The anchor: proof either way, whatever host or namespace.
  const std::string anchor = AnchorName(owner.nonce);
  int fd = openat(dir_fd, anchor.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd >= 0) {
    struct stat st;
    // A regular file only: a planted FIFO or device is no evidence (H10).
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      const AnchorLock lock = TryAnchorLock(fd);
      // Free: the owner and every process that inherited the anchor are
      // gone; its job may still run in processes that closed it (job.h).
      const bool job_runs = lock == AnchorLock::kFree && JobStillRuns(fd);
      close(fd);
      if (lock == AnchorLock::kFree) return job_runs ? Liveness::kAlive : Liveness::kDead;
      if (lock == AnchorLock::kHeld) return Liveness::kAlive;
    } else {
      close(fd);
    }
  }
  return ProbeOwnerRecord(record);
}

Liveness ProbeOwnerRecord(const OwnerRecord& record) {
  const Identity& owner = record.owner;
  // 2. The record. A different boot is proof of death; so is no process with
  // this pid and start time in our own namespace (PID reuse, H4). Our own
  // namespace only: the same pid elsewhere is another process (H5).
  const Id128 boot = LocalBootId();
  const Id128 zero;
  if (owner.boot_id != zero && boot != zero) {
    if (!SameBoot(owner.boot_id, boot)) return Liveness::kDead;
    const uint64_t pid_namespace = LocalPidNamespace();
    if (owner.pid_namespace != 0 && owner.pid_namespace == pid_namespace && owner.start_time != 0) {
      uint64_t start_time = 0;
      bool usable = false;
      const bool exists = ProcessStartTime(owner.pid, &start_time, &usable);
      if (usable) {
        if (!exists) return Liveness::kDead;
        return start_time == owner.start_time ? Liveness::kAlive : Liveness::kDead;
      }
    }
  }
  // 3. Another namespace, another host, or no usable evidence (H5, H6).
  return Liveness::kUnknown;
}

// The nonces that have an entry (of either ring) or a temporary among
// `names`, sorted: their anchors are claimed.
std::vector<Id128> ClaimedNonces(const std::vector<std::string>& names) {
  std::vector<Id128> claimed;
  for (const std::string& name : names) {
    const ParsedName parsed = ParseName(name);
    if (IsRingEntry(parsed.kind) || parsed.kind == NameKind::kTemporary) {
      claimed.push_back(parsed.nonce);
    }
  }
  std::sort(claimed.begin(), claimed.end());
  return claimed;
}

bool LiveAnchors::Contains(Id128 nonce) const {
  for (size_t i = 0; i < count_; ++i) {
    if (nonces_[i] == nonce) return true;
  }
  return false;
}

void LiveAnchors::Add(Id128 nonce) {
  if (Contains(nonce)) return;
  if (count_ < kRememberedMax) {
    nonces_[count_++] = nonce;
    return;
  }
  nonces_[next_] = nonce;
  next_ = (next_ + 1) % kRememberedMax;
}

int SweepOrphanAnchors(int dir_fd, Id128 own, LiveAnchors* live) {
  ONLYONE_ASSERT(live != nullptr);
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::vector<std::string> names;
  const int error = SnapshotDirectory(fd, &names);
  close(fd);
  if (error != 0) return 0;
  std::vector<Id128> claimed = ClaimedNonces(names);
  int removed = 0;
  for (const std::string& name : names) {
    const ParsedName parsed = ParseName(name);
    if (parsed.kind != NameKind::kAnchor || parsed.nonce == own) continue;
    // An anchor with an entry belongs to a contender or holder: remembered
    // too, or a reused Lock seen idle in one listing and queued again in
    // the next would make every release sweep, never probing it.
    if (std::binary_search(claimed.begin(), claimed.end(), parsed.nonce)) {
      live->Add(parsed.nonce);
      continue;
    }
    if (live->Contains(parsed.nonce)) continue;
    int anchor = openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (anchor < 0) continue;
    struct stat st;
    if (fstat(anchor, &st) == 0 && S_ISREG(st.st_mode)) {
      if (flock(anchor, LOCK_EX | LOCK_NB) == 0) {
        // Unlinked while we hold its flock: nobody can be relying on it.
        if (unlinkat(dir_fd, name.c_str(), 0) == 0) ++removed;
      } else if (errno == EWOULDBLOCK) {
        live->Add(parsed.nonce);
      }
    }
    close(anchor);
  }
  return removed;
}

// ---------------------------------------------------------------------------
// Watch and Driver.

Watch::~Watch() {
  if (fd_ >= 0) close(fd_);
}

Driver::Driver(int dir_fd, int cancel_fd, Watch* watch, int listing_fd)
    : dir_fd_(dir_fd),
      cancel_fd_(cancel_fd),
      listing_fd_(listing_fd),
      watch_(watch != nullptr ? watch : &own_watch_) {}

// The directory watch is created by the first wait that needs it, not up
// front: most acquisitions never wait, and a waiter behind a predecessor
// watches that predecessor's anchor instead. Changes made before it existed
// went unseen, so that first wait returns at once and the core scans again,
// now with the watch in place.
bool Driver::ArmWatch() {
  if (!WatchDirectory()) return false;
  return true;
}

Driver::~Driver() {
  // A holder needs no directory watch: every contender's step would queue
  // an event. The instance stays with its owner (a Lock reuses it for its
  // next wait).
  //
  // The watch on the predecessor's anchor stays too, until the next wait
  // replaces or drops it (ArmWaitWatches) or the Watch closes. The trap:
  // inotify_rm_watch costs about 20 µs on tmpfs (the kernel hands the
  // mark's destruction to a workqueue), a quarter of a hand-off when it ran
  // between the wake-up and the return of Acquire, and it slowed the next
  // wake-up when it ran at the end of Release. The stale watch costs little:
  // that anchor changes only when its owner leaves or dies, and inotify
  // merges repeats of the same event; a wait that reads one scans once more.
  UnwatchDirectory();
}

void Driver::set_own_nonce(Id128 nonce) {
  own_nonce_ = nonce;
  has_own_nonce_ = true;
}

bool Driver::IsOwnName(const ParsedName& name) const {
  return has_own_nonce_ && name.kind != NameKind::kForeign &&
         name.kind != NameKind::kFenceCounter && name.nonce == own_nonce_;
}

bool Driver::SawUnclaimedAnchor(const LiveAnchors& live) const {
  if (!snapshot_ready_) return true;
  const std::vector<Id128> claimed = ClaimedNonces(snapshot_);
  for (const std::string& name : snapshot_) {
    const ParsedName parsed = ParseName(name);
    if (parsed.kind != NameKind::kAnchor || IsOwnName(parsed)) continue;
    if (std::binary_search(claimed.begin(), claimed.end(), parsed.nonce)) continue;
    if (!live.Contains(parsed.nonce)) return true;
  }
  return false;
}

Result Driver::Done(Result result) {
  result.mono_ms = MonotonicMs();
  result.wall_ms = WallMs();
  return result;
}

Result Driver::Perform(const Op& op) {
  switch (op.kind) {
    case OpKind::kCreate: return Done(Create(op));
    case OpKind::kRename: return Done(Rename(op));
    case OpKind::kMove: return Done(Move(op));
    case OpKind::kRead: return Done(Read(op));
    case OpKind::kListStart: return Done(ListStart());
    case OpKind::kListNext: return Done(ListNext());
    case OpKind::kRemove: return Done(Remove(op));
    case OpKind::kProbe: {
      Result result;
      result.liveness = op.owner != nullptr ? ProbeOwner(dir_fd_, *op.owner) : Liveness::kUnknown;
      return Done(result);
    }
    case OpKind::kWait: return Done(Wait(op));
    case OpKind::kNone:
    case OpKind::kDone: break;
  }
  return Done(StatusResult(IoStatus::kIo, EINVAL));
}

namespace {
Result FromErrno(int os_error) { return StatusResult(StatusFromErrno(os_error), os_error); }
}  // namespace

Result Driver::Create(const Op& op) {
  scratch_a_.assign(op.record.data, op.record.size);
  scratch_b_.assign(op.name.data, op.name.size);
  if (symlinkat(scratch_a_.c_str(), dir_fd_, scratch_b_.c_str()) != 0) return FromErrno(errno);
  return Result();
}

Result Driver::Rename(const Op& op) {
  scratch_a_.assign(op.from.data, op.from.size);
  scratch_b_.assign(op.name.data, op.name.size);
  if (renameat(dir_fd_, scratch_a_.c_str(), dir_fd_, scratch_b_.c_str()) != 0)
    return FromErrno(errno);
  return Result();
}

// The fence counter's compare-and-swap (core/contender.cc, step 5): one
// renameat2 that refuses to replace, or, where that is not one atomic step
// (set_moves_by_link), a hard link, which fails the same ways (EEXIST,
// ENOENT), then the unlink of the source. A crash between those two leaves a
// lower counter name beside the new one, which the core, run with
// Config::linked_moves, is built to survive (docs/protocol.md, P6).
//
// The trap: a file system that was taken for one with the atomic rename and
// refuses the flag (EINVAL). This move was decided from the scan's listing,
// which is not safe for a move by link; so it is not made. It is answered as
// a counter already moved (kNotFound): the core lists again, while it holds,
// and moves from that listing, by link now, which is the linked-moves
// decision. The caller sees moves_by_link() and keeps it.
Result Driver::Move(const Op& op) {
  scratch_a_.assign(op.from.data, op.from.size);
  scratch_b_.assign(op.name.data, op.name.size);
  if (!moves_by_link_) {
    if (RenameNoReplace(dir_fd_, scratch_a_.c_str(), scratch_b_.c_str()) == 0) return Result();
    if (errno != EINVAL) return FromErrno(errno);
    moves_by_link_ = true;
    return StatusResult(IoStatus::kNotFound, EINVAL);
  }
  if (linkat(dir_fd_, scratch_a_.c_str(), dir_fd_, scratch_b_.c_str(), 0) != 0) {
    return FromErrno(errno);
  }
  if (unlinkat(dir_fd_, scratch_a_.c_str(), 0) != 0 && errno != ENOENT) return FromErrno(errno);
  return Result();
}

Result Driver::Read(const Op& op) {
  scratch_a_.assign(op.name.data, op.name.size);
  ssize_t n = readlinkat(dir_fd_, scratch_a_.c_str(), read_buffer_, sizeof read_buffer_);
  if (n < 0) {
    // EINVAL: the name exists but is not a symlink (a foreign file).
    if (errno == EINVAL) return StatusResult(IoStatus::kNotSymlink, EINVAL);
    return FromErrno(errno);
  }
  if (static_cast<size_t>(n) == sizeof read_buffer_) {
    // readlink truncates silently: a full buffer may be a cut record.
    return StatusResult(IoStatus::kTooLong);
  }
  // Remember what the core saw of each entry, for a wait that names one.
  if (onlyone::ParseName(op.name).kind == NameKind::kEntry) {
    if (reads_used_ == reads_.size()) reads_.emplace_back();
    reads_[reads_used_].first.assign(op.name.data, op.name.size);
    reads_[reads_used_].second.assign(read_buffer_, static_cast<size_t>(n));
    ++reads_used_;
  }
  Result result;
  result.data = Bytes{read_buffer_, static_cast<uint32_t>(n)};
  return result;
}

Result Driver::ListStart() {
  // Events queued before this point are about state this listing sees.
  if (!queue_emptied_) DrainEvents(Bytes{});
  queue_emptied_ = false;
  changed_ = false;
  reads_used_ = 0;
  poll_pause_ms_ = kPollFirstPauseMs;
  directory_watched_since_listing_ = watch_->dir_wd_ >= 0;
  // A private descriptor: its file offset is not shared with dir_fd_'s users.
  int fd = listing_fd_;
  if (fd < 0) fd = openat(dir_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FromErrno(errno);
  const int error = SnapshotDirectory(fd, &snapshot_);
  if (fd != listing_fd_) close(fd);
  snapshot_next_ = 0;
  snapshot_ready_ = error == 0;
  if (error != 0) return FromErrno(error);
  return Result();
}

Result Driver::ListNext() {
  Result result;
  if (!snapshot_ready_) return StatusResult(IoStatus::kIo, EBADF);
  if (snapshot_next_ >= snapshot_.size()) {
    result.status = IoStatus::kEnd;
    return result;
  }
  list_name_ = snapshot_[snapshot_next_++];
  result.data = Bytes{list_name_.data(), static_cast<uint32_t>(list_name_.size())};
  return result;
}

Result Driver::Remove(const Op& op) {
  scratch_a_.assign(op.name.data, op.name.size);
  if (unlinkat(dir_fd_, scratch_a_.c_str(), 0) != 0) return FromErrno(errno);
  return Result();
}

// Whether a change of `name` in the lock directory is news for a wait on
// `target` (the OS file's DrainEvents asks, for each change it reads).
bool Driver::DirectoryChangeIsNews(const char* name, bool closed_for_writing, Bytes target) const {
  const ParsedName changed = onlyone::ParseName(View(name));
  // Our own names (entries, temporary, anchor) change only by our own Ops,
  // which the core knows about: they are no news.
  if (IsOwnName(changed)) return false;
  // A waiting scan reads only the entries of the two rings, so only their
  // changes can change its verdict, and deaths: an anchor closed for
  // writing is its owner releasing or dying. Temporaries reach an entry by
  // a rename that makes its own event; anchors appear before their entry
  // and go after it. Skipping those spares every waiter a wake-up and a
  // scan per publish of every other contender.
  const bool entry = IsRingEntry(changed.kind);
  const bool death = changed.kind == NameKind::kAnchor && closed_for_writing;
  if (target.size != 0) {
    // The core named the one entry that can let us in (WaitReason): only
    // its change or its owner's death is news.
    const ParsedName awaited = onlyone::ParseName(target);
    return changed.nonce == awaited.nonce && ((entry && changed.kind == awaited.kind) || death);
  }
  return entry || death;
}

const std::string* Driver::LastRead(Bytes target) const {
  for (size_t i = reads_used_; i-- > 0;) {
    const std::string& name = reads_[i].first;
    if (name.size() == target.size && memcmp(name.data(), target.data, target.size) == 0) {
      return &reads_[i].second;
    }
  }
  return nullptr;  // not read by the last scan: nothing to rely on
}

// Behind a predecessor with a ticket, only its owner can let us in, by
// leaving (Lock removes the entry, then unlinks and closes the anchor, or
// keeps it untouched for its next acquisition) or by dying (the kernel
// closes the anchor, dropping its flock). So two watches are enough, on the
// entry's own inode (its removal) and on the anchor (its owner's death), and
// no other change of the directory wakes us. (Someone else removing the
// entry comes after a death, which already woke us; a refresh rewrites the
// entry, a spurious wake that lets nobody in.)
//
// The trap: either may have changed after the core's scan and before the
// watches exist. So the watches are armed first, the anchor's on the very file
// (through a descriptor, not its name), and then the file is checked once:
// unlinked (released) or its flock free (released or dead) means scan again
// now; so does an entry whose record is no longer the one the scan read: a
// reused Lock that released and came back has the same entry name, but a
// new record (its state, or a ticket above ours). Otherwise any later
// release or death makes an event.
bool Driver::EntryStillAsRead(Bytes target) {
  const std::string* read = LastRead(target);
  if (read == nullptr) return false;
  scratch_b_.assign(target.data, target.size);
  const ssize_t size = readlinkat(dir_fd_, scratch_b_.c_str(), read_buffer_, sizeof read_buffer_);
  return size >= 0 && static_cast<size_t>(size) == read->size() &&
         memcmp(read_buffer_, read->data(), read->size()) == 0;
}

Driver::AnchorWatch Driver::WatchAnchor(Bytes target) {
  UnwatchAnchor();  // the previous predecessor's, if any
  if (!watch_->Open()) return AnchorWatch::kNoAnchor;
  // The entry's own inode first: its release unlinks it (IN_ATTRIB), and a
  // reused Lock keeps its anchor untouched, so only this watch sees that.
  scratch_b_.assign(target.data, target.size);
  const int entry_error = AddEntryWatch(scratch_b_);
  if (entry_error == ENOENT) return AnchorWatch::kReleased;
  if (entry_error != 0) return AnchorWatch::kNoAnchor;
  scratch_a_ = AnchorName(onlyone::ParseName(target).nonce);
  const int fd =
      openat(dir_fd_, scratch_a_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  // ENOENT: released meanwhile, or an owner without an anchor (another
  // platform wrote the entry): the directory watch covers both.
  if (fd < 0) {
    UnwatchAnchor();
    return AnchorWatch::kNoAnchor;
  }
  AnchorWatch verdict = AnchorWatch::kArmed;
  struct stat st;
  if (!AddAnchorWatch(fd) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    // No watch, or a planted FIFO or device rather than an anchor (H10).
    UnwatchAnchor();
    verdict = AnchorWatch::kNoAnchor;
  } else if (st.st_nlink == 0) {
    verdict = AnchorWatch::kReleased;  // unlinked: its owner is leaving
  } else {
    switch (TryAnchorLock(fd)) {
      case AnchorLock::kFree:
        if (JobStillRuns(fd)) {
          // Its owner is gone but its job runs on without the anchor: no
          // event of this file will tell when the job ends. The directory
          // watch's safety net re-probes it.
          UnwatchAnchor();
          verdict = AnchorWatch::kNoAnchor;
        } else {
          verdict = AnchorWatch::kReleased;  // nobody holds it: released or dead
        }
        break;
      case AnchorLock::kHeld:
        // A held anchor proves its owner alive, not that our predecessor's
        // entry is still there: an owner that keeps its anchor between
        // acquisitions (Anchor::Keep) holds it without an entry, or with a
        // new one under the same name (a reused Lock keeps its nonce), now
        // queued behind us. Its release unlinks the watched entry, which
        // wakes us once the watch exists; one before that shows here, in the
        // record (the name alone may be back).
        if (!EntryStillAsRead(target)) verdict = AnchorWatch::kReleased;
        break;
      case AnchorLock::kError:
        UnwatchAnchor();
        verdict = AnchorWatch::kNoAnchor;
        break;
    }
  }
  close(fd);
  return verdict;
}

// Arms what the wait will sleep on. true: scan again at once (the
// predecessor is already gone, or changes since the listing went unseen).
bool Driver::ArmWaitWatches(const Op& op) {
  // Behind a main-ring predecessor the core read in this scan, its owner's
  // anchor decides (WatchAnchor); a doorway or a fence-ring predecessor
  // goes without touching it.
  if (op.wait_reason == WaitReason::kPredecessor && LastRead(op.name) != nullptr) {
    switch (WatchAnchor(op.name)) {
      case AnchorWatch::kArmed:
        // The anchor alone decides: drop the directory watch, or every
        // change of the directory would wake us for nothing (the herd).
        UnwatchDirectory();
        break;
      case AnchorWatch::kReleased: UnwatchAnchor(); return true;
      case AnchorWatch::kNoAnchor: break;
    }
  } else {
    UnwatchAnchor();
  }
  // Changes since the listing began went unseen: watch now, scan again.
  return watch_->anchor_wd_ < 0 && !directory_watched_since_listing_ && WatchDirectory();
}

// One sleep of at most pause_ms on the cancel pipe and, when event_driven,
// the watch: poll(2)'s result, or -2 when Cancel() ended it.
int Driver::Sleep(uint64_t pause_ms, bool event_driven) {
  struct pollfd fds[2];
  int count = 0;
  if (cancel_fd_ >= 0) fds[count++] = pollfd{cancel_fd_, POLLIN, 0};
  if (event_driven) fds[count++] = pollfd{watch_->fd_, POLLIN, 0};
  const int rc = poll(fds, static_cast<nfds_t>(count), static_cast<int>(pause_ms));
  if (cancel_fd_ >= 0 && rc > 0 && (fds[0].revents & POLLIN) != 0) return kSleepCancelled;
  return rc;
}

Result Driver::Wait(const Op& op) {
  Result result;
  if (ArmWaitWatches(op)) return result;
  for (;;) {
    if (DrainEvents(op.name, /*stop_at_news=*/true)) changed_ = true;
    if (changed_) {
      changed_ = false;
      return result;
    }
    const uint64_t now = MonotonicMs();
    if (op.deadline_mono_ms != kNoDeadline && now >= op.deadline_mono_ms) {
      return StatusResult(IoStatus::kTimedOut);
    }
    const bool event_driven = watch_->fd_ >= 0 && (watch_->anchor_wd_ >= 0 || watch_->dir_wd_ >= 0);
    uint64_t pause_ms = event_driven ? kWaitSafetyNetMs : poll_pause_ms_;
    if (op.deadline_mono_ms != kNoDeadline && op.deadline_mono_ms - now < pause_ms) {
      pause_ms = op.deadline_mono_ms - now;
    }
    const int rc = Sleep(pause_ms, event_driven);
    if (rc == kSleepCancelled) {
      cancelled_ = true;
      return StatusResult(IoStatus::kIo, ECANCELED);
    }
    if (rc < 0 && errno != EINTR) return FromErrno(errno);
    if (rc == 0) {
      // The safety net (or a polling round): re-scan, unless the deadline is
      // what ended the pause.
      if (op.deadline_mono_ms != kNoDeadline && MonotonicMs() >= op.deadline_mono_ms) continue;
      if (!event_driven && poll_pause_ms_ < kPollLongestPauseMs) {
        poll_pause_ms_ =
            poll_pause_ms_ * 2 > kPollLongestPauseMs ? kPollLongestPauseMs : poll_pause_ms_ * 2;
      }
      return result;
    }
  }
}

}  // namespace posix
}  // namespace onlyone
