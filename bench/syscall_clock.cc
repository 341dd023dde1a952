// An LD_PRELOAD timer for the hand-off's split (docs/performance.md, "The
// hand-off"): stamps CLOCK_MONOTONIC before and after the system calls on a
// hand-off's path, into a file per process that survives _exit (a shared
// mapping: handoff_bench's children never run destructors).
//
//   SYSCALL_CLOCK_DIR=DIR LD_PRELOAD=libsyscall_clock.so handoff_bench ...
//   python3 bench/handoff_split.py DIR
//
// DIR/<pid> holds a count, then (nanoseconds, tag) pairs; tags are the Tag
// values below. Each stamp costs a vDSO clock read, well under a microsecond.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

namespace {

// Shared with bench/handoff_split.py.
enum Tag : int64_t {
  kPollEnd = 1,
  kReadEnd = 2,
  kListBegin = 3,  // a getdents64 call
  kListEnd = 4,
  kMoveBegin = 5,  // renameat2: the fence counter's move
  kMoveEnd = 6,
  kUnlinkBegin = 7,  // unlinkat: the release's entry removal
  kUnlinkEnd = 8,    // the unlink also wakes the waiter (its watch on the entry)
};

constexpr int64_t kStampsMax = 1 << 20;

struct Stamp {
  int64_t ns;
  int64_t tag;
};

Stamp* stamps = nullptr;  // stamps[0].ns is the count
pid_t mapped_for = 0;

void MapForThisProcess() {
  const pid_t pid = getpid();
  if (pid == mapped_for) return;
  mapped_for = pid;
  stamps = nullptr;
  const char* dir = getenv("SYSCALL_CLOCK_DIR");
  if (dir == nullptr) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/%d", dir, static_cast<int>(pid));
  const int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const size_t bytes = (kStampsMax + 1) * sizeof(Stamp);
  void* memory = ftruncate(fd, static_cast<off_t>(bytes)) == 0
                     ? mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                     : MAP_FAILED;
  close(fd);
  if (memory != MAP_FAILED) stamps = static_cast<Stamp*>(memory);
}

void Record(Tag tag) {
  MapForThisProcess();
  if (stamps == nullptr || stamps[0].ns >= kStampsMax) return;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  Stamp& stamp = stamps[1 + stamps[0].ns++];
  stamp.ns = now.tv_sec * 1000000000LL + now.tv_nsec;
  stamp.tag = tag;
}

template <typename Function>
Function Next(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
  static auto real = Next<int (*)(struct pollfd*, nfds_t, int)>("poll");
  const int result = real(fds, count, timeout_ms);
  Record(kPollEnd);
  return result;
}

ssize_t read(int fd, void* buffer, size_t bytes) {
  static auto real = Next<ssize_t (*)(int, void*, size_t)>("read");
  const ssize_t result = real(fd, buffer, bytes);
  Record(kReadEnd);
  return result;
}

int renameat2(int from_dir, const char* from, int to_dir, const char* to, unsigned flags) {
  static auto real = Next<int (*)(int, const char*, int, const char*, unsigned)>("renameat2");
  Record(kMoveBegin);
  const int result = real(from_dir, from, to_dir, to, flags);
  Record(kMoveEnd);
  return result;
}

int unlinkat(int dir, const char* name, int flags) {
  static auto real = Next<int (*)(int, const char*, int)>("unlinkat");
  Record(kUnlinkBegin);
  const int result = real(dir, name, flags);
  Record(kUnlinkEnd);
  return result;
}

// The driver lists with syscall(SYS_getdents64, ...); every other use passes
// through untouched. Six arguments: as many as any system call takes.
long syscall(long number, ...) {
  static auto real = Next<long (*)(long, ...)>("syscall");
  va_list args;
  va_start(args, number);
  long a[6];
  for (long& arg : a) arg = va_arg(args, long);
  va_end(args);
  const bool listing = number == SYS_getdents64;
  if (listing) Record(kListBegin);
  const long result = real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (listing) Record(kListEnd);
  return result;
}

}  // extern "C"
