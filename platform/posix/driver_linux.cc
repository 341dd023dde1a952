// The Linux port of the POSIX driver: what driver_os.h asks of an OS.
//   1. listing: the whole directory in one getdents64 call (SnapshotDirectory)
//   2. random bits: getrandom(2)
//   3. rename without replacing: renameat2(RENAME_NOREPLACE)
//   4. cancel pipe: pipe2(O_CLOEXEC | O_NONBLOCK)
//   5. process identity: /proc/sys/kernel/random/boot_id, /proc/self/ns/pid,
//      /proc/PID/stat (state, process group, session, start time), used
//      only where /proc shows our own PID namespace
//   6. wake-up: inotify, on the lock directory or on one anchor
#ifndef __linux__
#error \
    "platform/posix/driver_linux.cc is the Linux port; another OS needs its own (see driver_os.h)"
#endif

#include "platform/posix/driver_os.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "platform/posix/driver.h"

namespace onlyone {
namespace posix {

namespace {

// Reads a small file whole; false on any error (errno set).
bool ReadSmallFile(const char* path, std::string* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      errno = saved;
      return false;
    }
    if (n == 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// /proc shows the PID namespace it was mounted for, not necessarily ours: a
// process started by `unshare --pid --fork` without --mount-proc sees its
// parent namespace's /proc, where its own pids mean other processes. Reading
// pids there would be a false "dead" (H5), so /proc is used only when
// /proc/self names our own pid.
bool ProcIsOurNamespace() {
  char target[64];
  ssize_t n = readlink("/proc/self", target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  char* end = nullptr;
  unsigned long pid = strtoul(target, &end, 10);
  return end != nullptr && *end == '\0' && pid == static_cast<unsigned long>(getpid());
}

// /proc/PID/stat's fields after the ")" that ends the command name (which
// may itself contain spaces and ")"): field 3 is the first.
constexpr int kFirstFieldAfterComm = 3;
constexpr int kStateField = 3;
constexpr int kProcessGroupField = 5;
constexpr int kSessionField = 6;
constexpr int kStartTimeField = 22;

bool ParseStat(const std::string& text, ProcessStat* out) {
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return false;
  const char* cursor = text.c_str() + paren + 1;
  for (int field = kFirstFieldAfterComm; field <= kStartTimeField; ++field) {
    while (*cursor == ' ') ++cursor;
    if (*cursor == '\0') return false;
    const char* start = cursor;
    while (*cursor != ' ' && *cursor != '\0') ++cursor;
    if (field == kStateField) {
      out->state = *start;
      continue;
    }
    if (field != kProcessGroupField && field != kSessionField && field != kStartTimeField) continue;
    char* end = nullptr;
    const unsigned long long value = strtoull(start, &end, 10);
    if (end != cursor) return false;
    if (field == kProcessGroupField) out->process_group = static_cast<uint32_t>(value);
    if (field == kSessionField) out->session = static_cast<uint32_t>(value);
    if (field == kStartTimeField) out->start_time = value;
  }
  return true;
}

bool ParseStartTime(const std::string& text, uint64_t* start_time) {
  ProcessStat stat;
  if (!ParseStat(text, &stat)) return false;
  *start_time = stat.start_time;
  return true;
}

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Appends the names of one getdents64 buffer.
void AppendNames(const char* buffer, long bytes, std::vector<std::string>* names) {
  for (long offset = 0; offset < bytes;) {
    const LinuxDirent64* entry = reinterpret_cast<const LinuxDirent64*>(buffer + offset);
    offset += entry->d_reclen;
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    names->push_back(entry->d_name);
  }
}

// Changes of the lock directory a wait may need to see (see driver.h).
constexpr uint32_t kDirectoryEvents = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
                                      IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
// What an owner's release or death does to its anchor: release unlinks it
// (IN_ATTRIB: the link count) and closes it; death closes it (the kernel's
// close of a descriptor open for writing: IN_CLOSE_WRITE). IN_DELETE_SELF
// and IN_MOVE_SELF: the file is gone or moved by someone else.
constexpr uint32_t kAnchorEvents = IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF;
// The largest inotify event: its header and a name of NAME_MAX bytes with
// its terminating zero.
constexpr size_t kLargestEventBytes = sizeof(struct inotify_event) + NAME_MAX + 1;

// Watches the file open at `fd`, through the descriptor rather than a name:
// the very file the caller opened and checked, even if its name has been
// replaced since. Returns the watch descriptor, or -1.
int AddWatch(int inotify_fd, int fd, uint32_t events) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return inotify_add_watch(inotify_fd, path, events);
}

}  // namespace

// ---------------------------------------------------------------------------
// 1. Listing.

// Reads the whole directory into *names, in one getdents64 call whenever it
// fits kListingBytesMax (see there).
int SnapshotDirectory(int fd, std::vector<std::string>* names) {
  // Reused across listings: a fresh zero-filled 64 KiB buffer per listing
  // cost more than the listing itself.
  thread_local std::vector<char> buffer(kListingBytesFirst);
  for (;;) {
    names->clear();
    if (lseek(fd, 0, SEEK_SET) != 0) return errno;
    long bytes = syscall(SYS_getdents64, fd, buffer.data(), buffer.size());
    if (bytes < 0) return errno;
    if (bytes == 0) return 0;
    AppendNames(buffer.data(), bytes, names);
    long more = syscall(SYS_getdents64, fd, buffer.data(), buffer.size());
    if (more < 0) return errno;
    if (more == 0) return 0;  // the first call had it all: a snapshot
    if (buffer.size() < kListingBytesMax) {
      buffer.resize(buffer.size() * 2);  // read again, in one call this time
      continue;
    }
    // Too large for one call. Several calls are not a snapshot, and a
    // listing that can miss a name present throughout breaks exclusion (H8):
    // refuse rather than guess. No real lock directory gets near this size
    // (about 100k names); one that does is flooded with garbage.
    return EOVERFLOW;
  }
}

// ---------------------------------------------------------------------------
// 2-4. Random bits, rename without replacing, the cancel pipe.

bool RandomBytes(unsigned char* bytes, size_t count, int* os_error) {
  size_t got = 0;
  while (got < count) {
    ssize_t n = getrandom(bytes + got, count - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      *os_error = errno;
      return false;
    }
    got += static_cast<size_t>(n);
  }
  return true;
}

int RenameNoReplace(int dir_fd, const char* from, const char* to) {
  return renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE);
}

bool RenameNoReplaceIsAtomic(int dir_fd) {
  // f_type values (statfs(2), linux/magic.h; zfs and bcachefs are not in
  // every kernel's header).
  constexpr unsigned long kExt4 = 0xEF53;  // ext2 and ext3 too
  constexpr unsigned long kXfs = 0x58465342;
  constexpr unsigned long kBtrfs = 0x9123683E;
  constexpr unsigned long kTmpfs = 0x01021994;
  constexpr unsigned long kF2fs = 0xF2F52010;
  constexpr unsigned long kOverlayfs = 0x794C7630;
  constexpr unsigned long kRamfs = 0x858458F6;
  constexpr unsigned long kZfs = 0x2FC12FC1;
  constexpr unsigned long kBcachefs = 0xCA451A4E;
  struct statfs st;
  if (fstatfs(dir_fd, &st) != 0) return false;
  switch (static_cast<unsigned long>(st.f_type)) {
    case kExt4:
    case kXfs:
    case kBtrfs:
    case kTmpfs:
    case kF2fs:
    case kOverlayfs:
    case kRamfs:
    case kZfs:
    case kBcachefs: return true;
    default: return false;
  }
}

int MakeNonblockingPipe(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }

// ---------------------------------------------------------------------------
// 5. Process identity.

Id128 LocalBootId() {
  Id128 id;
  std::string text;
  if (ReadSmallFile("/proc/sys/kernel/random/boot_id", &text)) ParseHexId(text, &id);
  return id;  // all zero: no boot id to be read
}

uint64_t LocalPidNamespace() {
  struct stat st;
  if (stat("/proc/self/ns/pid", &st) == 0) return static_cast<uint64_t>(st.st_ino);
  return 0;
}

bool ProcShowsOurPids() { return ProcIsOurNamespace(); }

bool ReadProcessStat(uint32_t pid, ProcessStat* out) {
  if (!ProcIsOurNamespace()) return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/stat", pid);
  std::string text;
  return ReadSmallFile(path, &text) && ParseStat(text, out);
}

bool ProcessStartTime(uint32_t pid, uint64_t* start_time, bool* usable) {
  *usable = false;
  std::string text;
  if (pid == static_cast<uint32_t>(getpid())) {
    // /proc/self is right even when /proc belongs to another namespace.
    *usable = ReadSmallFile("/proc/self/stat", &text) && ParseStartTime(text, start_time);
    return true;
  }
  if (!ProcIsOurNamespace()) return true;
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/stat", pid);
  if (!ReadSmallFile(path, &text)) {
    if (errno == ENOENT || errno == ESRCH) {
      *usable = true;
      return false;
    }
    return true;
  }
  ProcessStat stat;
  if (!ParseStat(text, &stat)) return true;
  *usable = true;
  if (HasExited(stat)) return false;
  *start_time = stat.start_time;
  return true;
}

// ---------------------------------------------------------------------------
// 6. Wake-up: inotify.

bool Watch::Open() {
  if (tried_) return fd_ >= 0;
  tried_ = true;
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  return fd_ >= 0;
}

bool Driver::WatchDirectory() {
  if (!watch_->Open()) return false;
  if (watch_->dir_wd_ >= 0) return true;
  watch_->dir_wd_ = AddWatch(watch_->fd_, dir_fd_, kDirectoryEvents);
  return watch_->dir_wd_ >= 0;
}

void Driver::UnwatchDirectory() {
  if (watch_->dir_wd_ >= 0) inotify_rm_watch(watch_->fd_, watch_->dir_wd_);
  watch_->dir_wd_ = -1;
  directory_watched_since_listing_ = false;
}

bool Driver::AddAnchorWatch(int anchor_fd) {
  watch_->anchor_wd_ = AddWatch(watch_->fd_, anchor_fd, kAnchorEvents);
  return watch_->anchor_wd_ >= 0;
}

// What a release does to the entry we queue behind: unlinks it (IN_ATTRIB:
// the link count, then IN_DELETE_SELF and IN_IGNORED as the inode goes); a
// refresh or a new ticket renames another symlink over it (the same).
constexpr uint32_t kEntryEvents = IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW;

int Driver::AddEntryWatch(const std::string& entry) {
  char path[64 + NAME_MAX];
  snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dir_fd_, entry.c_str());
  watch_->entry_wd_ = inotify_add_watch(watch_->fd_, path, kEntryEvents);
  return watch_->entry_wd_ >= 0 ? 0 : errno;
}

void Driver::UnwatchAnchor() {
  // EINVAL when the kernel already dropped one (the file was deleted).
  if (watch_->anchor_wd_ >= 0) inotify_rm_watch(watch_->fd_, watch_->anchor_wd_);
  if (watch_->entry_wd_ >= 0) inotify_rm_watch(watch_->fd_, watch_->entry_wd_);
  watch_->anchor_wd_ = -1;
  watch_->entry_wd_ = -1;
}

bool Driver::DrainEvents(Bytes target, bool stop_at_news) {
  bool relevant = false;
  queue_emptied_ = false;
  if (watch_->fd_ < 0) return false;
  alignas(struct inotify_event) char buffer[8192];
  // A woken wait returns at the first news; what follows it (a release
  // makes up to four events on an anchor) is read by the next kListStart.
  while (!(relevant && stop_at_news)) {
    ssize_t n = read(watch_->fd_, buffer, sizeof buffer);
    if (n <= 0) {
      queue_emptied_ = n < 0 && errno == EAGAIN;
      break;
    }
    // A read returns every queued event that fits: with room left for the
    // largest event, none was left behind.
    queue_emptied_ = sizeof buffer - static_cast<size_t>(n) >= kLargestEventBytes;
    for (ssize_t offset = 0; offset < n;) {
      const struct inotify_event* event =
          reinterpret_cast<const struct inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      if ((event->mask & IN_Q_OVERFLOW) != 0) {
        relevant = true;  // lost events: assume anything changed
        continue;
      }
      int* predecessor_wd = event->wd == watch_->anchor_wd_  ? &watch_->anchor_wd_
                            : event->wd == watch_->entry_wd_ ? &watch_->entry_wd_
                                                             : nullptr;
      if (event->wd >= 0 && predecessor_wd != nullptr) {
        // The entry we queue behind or its anchor: released, rewritten, its
        // owner dead, or the file gone (IN_IGNORED: the kernel dropped the
        // watch).
        if ((event->mask & IN_IGNORED) != 0) *predecessor_wd = -1;
        relevant = true;
        continue;
      }
      // Events of a watch we have since removed are stale.
      if (event->wd < 0 || event->wd != watch_->dir_wd_) continue;
      if (event->len == 0) {
        relevant = true;  // the directory itself moved, went, or lost its watch
        continue;
      }
      if (DirectoryChangeIsNews(event->name, (event->mask & IN_CLOSE_WRITE) != 0, target)) {
        relevant = true;
      }
    }
  }
  return relevant;
}

}  // namespace posix
}  // namespace onlyone
