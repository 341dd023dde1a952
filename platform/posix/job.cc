// A holder's job: see job.h.
#include "platform/posix/job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "platform/posix/driver.h"

namespace onlyone {
namespace posix {

namespace {

constexpr char kJobGroupFormat[] =
    "onlyone-job v1 pgid=%u sid=%u start=%llu boot=%016llx%016llx pidns=%llu\n";

bool IsLocal(const JobGroup& group) {
  const Id128 zero;
  return group.boot_id != zero && group.boot_id == LocalBootId() && group.pid_namespace != 0 &&
         group.pid_namespace == LocalPidNamespace();
}

// Calls visit(pid) for every process directory in /proc.
template <typename Visit>
void ForEachProcess(Visit visit) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;
  while (struct dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const unsigned long pid = strtoul(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == 0) continue;
    visit(static_cast<uint32_t>(pid));
  }
  closedir(proc);
}

// Whether process `pid` has a descriptor open on the file (device, inode).
bool HasDescriptorOn(uint32_t pid, dev_t device, ino_t inode) {
  char fd_dir[64];
  snprintf(fd_dir, sizeof fd_dir, "/proc/%u/fd", pid);
  DIR* fds = opendir(fd_dir);
  if (fds == nullptr) return false;  // gone, or another user's (not root)
  bool found = false;
  while (struct dirent* entry = readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    struct stat st;
    // fstatat through the magic link: the file itself, even when unlinked.
    if (fstatat(dirfd(fds), entry->d_name, &st, 0) == 0 && st.st_dev == device &&
        st.st_ino == inode) {
      found = true;
      break;
    }
  }
  closedir(fds);
  return found;
}

// A cursor over the job group's text: each Take consumes one part or fails.
class Reader {
 public:
  Reader(const char* text, size_t size) : at_(text), end_(text + size) {}
  bool Literal(const char* literal) {
    const size_t length = strlen(literal);
    if (static_cast<size_t>(end_ - at_) < length || memcmp(at_, literal, length) != 0) return false;
    at_ += length;
    return true;
  }
  // Up to `digits_max` digits in `base`, at least one.
  bool Number(int base, int digits_max, uint64_t* out) {
    uint64_t value = 0;
    int digits = 0;
    for (; at_ < end_ && digits < digits_max; ++at_, ++digits) {
      const char c = *at_;
      uint64_t digit;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint64_t>(c - '0');
      } else if (base == 16 && c >= 'a' && c <= 'f') {
        digit = static_cast<uint64_t>(c - 'a') + 10;
      } else {
        break;
      }
      if (value > (UINT64_MAX - digit) / static_cast<uint64_t>(base)) return false;
      value = value * static_cast<uint64_t>(base) + digit;
    }
    *out = value;
    return digits > 0;
  }
  bool AtEnd() const { return at_ == end_; }

 private:
  const char* at_;
  const char* end_;
};

constexpr int kDecimalDigitsMax = 20;
constexpr int kHexDigitsPerHalf = 16;

}  // namespace

std::string FormatJobGroup(const JobGroup& group) {
  char text[kJobGroupTextBytesMax];
  snprintf(text, sizeof text, kJobGroupFormat, group.process_group, group.session,
           static_cast<unsigned long long>(group.leader_start_time),
           static_cast<unsigned long long>(group.boot_id.hi),
           static_cast<unsigned long long>(group.boot_id.lo),
           static_cast<unsigned long long>(group.pid_namespace));
  return text;
}

bool ParseJobGroup(const char* text, size_t size, JobGroup* out) {
  if (size == 0 || size >= kJobGroupTextBytesMax) return false;
  Reader reader(text, size);
  uint64_t pgid = 0, sid = 0, start = 0, boot_hi = 0, boot_lo = 0, pidns = 0;
  const bool parsed =
      reader.Literal("onlyone-job v1 pgid=") && reader.Number(10, kDecimalDigitsMax, &pgid) &&
      reader.Literal(" sid=") && reader.Number(10, kDecimalDigitsMax, &sid) &&
      reader.Literal(" start=") && reader.Number(10, kDecimalDigitsMax, &start) &&
      reader.Literal(" boot=") && reader.Number(16, kHexDigitsPerHalf, &boot_hi) &&
      reader.Number(16, kHexDigitsPerHalf, &boot_lo) && reader.Literal(" pidns=") &&
      reader.Number(10, kDecimalDigitsMax, &pidns) && reader.Literal("\n") && reader.AtEnd();
  if (!parsed || pgid <= 1 || pgid > UINT32_MAX || sid > UINT32_MAX) return false;
  JobGroup group;
  group.process_group = static_cast<uint32_t>(pgid);
  group.session = static_cast<uint32_t>(sid);
  group.leader_start_time = start;
  group.boot_id = Id128{boot_hi, boot_lo};
  group.pid_namespace = pidns;
  // Exactly what FormatJobGroup writes: no leading zeros, no other spelling.
  if (FormatJobGroup(group) != std::string(text, size)) return false;
  *out = group;
  return true;
}

bool LocalJobGroup(pid_t process_group, JobGroup* out) {
  // 0 where the session's leader is outside our PID namespace (Bazel's
  // sandbox, `unshare --pid`): /proc/PID/stat shows 0 there too, so members
  // still compare equal.
  const pid_t session = getsid(0);
  if (process_group <= 1 || session < 0) return false;
  // 0 where /proc cannot tell (it shows another PID namespace): the group
  // is then judged by whether it has any process at all.
  ProcessStat leader;
  if (!ReadProcessStat(static_cast<uint32_t>(process_group), &leader)) leader.start_time = 0;
  out->process_group = static_cast<uint32_t>(process_group);
  out->session = static_cast<uint32_t>(session);
  out->leader_start_time = leader.start_time;
  out->boot_id = LocalBootId();
  out->pid_namespace = LocalPidNamespace();
  return IsLocal(*out);
}

bool ReadJobGroup(int anchor_fd, JobGroup* out) {
  // The anchor's owner line (core/record.h, ParseAnchorOwner) comes first
  // when there is one; anchors of older versions hold the job line alone.
  char text[kRecordBytesMax + 1 + kJobGroupTextBytesMax];
  ssize_t size;
  do {
    size = pread(anchor_fd, text, sizeof text, 0);
  } while (size < 0 && errno == EINTR);
  if (size <= 0) return false;
  size_t start = 0;
  static const char kOwnerLine[] = "onlyone1;";
  if (static_cast<size_t>(size) >= sizeof kOwnerLine - 1 &&
      memcmp(text, kOwnerLine, sizeof kOwnerLine - 1) == 0) {
    const void* end = memchr(text, '\n', static_cast<size_t>(size));
    if (end == nullptr) return false;
    start = static_cast<size_t>(static_cast<const char*>(end) - text) + 1;
  }
  return ParseJobGroup(text + start, static_cast<size_t>(size) - start, out);
}

std::vector<uint32_t> LiveJobGroupMembers(const JobGroup& group) {
  std::vector<uint32_t> members;
  // Its pids mean other processes here (H5), or /proc cannot tell us which.
  if (!IsLocal(group) || !ProcShowsOurPids()) return members;
  // One system call answers the common case, a group that is gone.
  if (kill(-static_cast<pid_t>(group.process_group), 0) != 0 && errno == ESRCH) return members;
  bool reused = false;
  ForEachProcess([&](uint32_t pid) {
    ProcessStat stat;
    if (!ReadProcessStat(pid, &stat) || stat.process_group != group.process_group) return;
    if (pid == group.process_group && group.leader_start_time != 0 &&
        stat.start_time != group.leader_start_time) {
      reused = true;
    }
    if (stat.session == group.session && !HasExited(stat)) members.push_back(pid);
  });
  if (reused) members.clear();
  std::sort(members.begin(), members.end());
  return members;
}

bool JobStillRuns(int anchor_fd) {
  JobGroup group;
  if (!ReadJobGroup(anchor_fd, &group) || !IsLocal(group)) return false;
  if (ProcShowsOurPids()) return !LiveJobGroupMembers(group).empty();
  // /proc shows another PID namespace's processes (`unshare --pid` without
  // --mount-proc, Bazel's sandbox): no states or sessions to read. Any
  // process in the group, zombies included, keeps the owner alive: the
  // safe side, until they are reaped.
  return kill(-static_cast<pid_t>(group.process_group), 0) == 0 || errno == EPERM;
}

std::vector<uint32_t> ProcessesKeepingAnchor(int dir_fd, Id128 nonce) {
  std::vector<uint32_t> pids;
  const std::string name = AnchorName(nonce);
  const int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return pids;
  struct stat anchor;
  JobGroup group;
  const bool has_group = ReadJobGroup(fd, &group);
  if (fstat(fd, &anchor) != 0 || !S_ISREG(anchor.st_mode)) {
    close(fd);
    return pids;
  }
  const uint32_t self = static_cast<uint32_t>(getpid());
  ForEachProcess([&](uint32_t pid) {
    if (pid == self) return;  // our own descriptor, opened just now
    ProcessStat stat;
    if (!ReadProcessStat(pid, &stat) || HasExited(stat)) return;
    if (HasDescriptorOn(pid, anchor.st_dev, anchor.st_ino)) pids.push_back(pid);
  });
  close(fd);
  if (has_group) {
    for (uint32_t pid : LiveJobGroupMembers(group)) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

}  // namespace posix
}  // namespace onlyone
