// Hand-off latency: from the holder's release to the next waiter running.
//
//   handoff_bench --mode flock|lib --dir DIR --procs P --out FILE [--round R]
//                 [--samples N] [--warmup W] [--hold-us H] [--max-seconds S]
//                 [--count-out FILE]
//
// P processes (forked; P-1 of them wait at each hand-off) take the same lock
// in turn, forever, until N hand-offs are measured or S seconds pass:
//
//   waiting++ ; Acquire (blocking) ; t1 = clock ; waiting--
//   sample = t1 - shared.release_ns          (the previous holder's clock)
//   hold: wait until the P-1 others are all waiting, then H more microseconds
//   shared.release_ns = clock ; Release
//   wait (futex) until another process has acquired; then queue again
//
// The last step makes every hand-off go to another process (never back to the
// releaser), so each sample is a real wake-up of a blocked waiter. The holder
// also records how many processes were waiting when it released. Both clocks
// are CLOCK_MONOTONIC, which all processes share.
//
// Modes:
//   flock  each process opens DIR/handoff.lock once; flock(LOCK_EX) blocks,
//          flock(LOCK_UN) releases (the kernel's blocking lock: the peer)
//   lib    each process has one onlyone::Lock("handoff", dir=DIR);
//          Acquire(kWaitForever), Release()
// Exclusion is checked on the side (a shared holder count): a violation is
// reported and makes the exit status 1.
//
// FILE gets "<round> <ns>" lines; FILE.waiters gets "<round> <waiters>" lines;
// --count-out gets the number of acquisitions (bench/run.sh divides strace's
// syscall counts by it).
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"

#ifndef BENCH_NO_LIB
#include "platform/posix/lock.h"
#endif

namespace onlyone_bench {
namespace {

constexpr int kSamplesMax = 100000;
constexpr int kProcsMax = 512;

struct Shared {
  std::atomic<int> stop;
  std::atomic<int> waiting;
  std::atomic<int> holders;  // exclusion check: must be 0 or 1
  std::atomic<int> violations;
  std::atomic<int> errors;
  std::atomic<uint32_t> acquisitions;  // futex word: bumped by each new holder
  std::atomic<int64_t> release_ns;     // 0: no release to measure from
  std::atomic<int> waiters_at_release;
  std::atomic<int> sample_count;
  int64_t deadline_ns;
  int64_t samples_ns[kSamplesMax];
  int32_t waiters[kSamplesMax];
};

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ns) {
  struct timespec ts;
  ts.tv_sec = timeout_ns / 1000000000;
  ts.tv_nsec = timeout_ns % 1000000000;
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

void SleepNs(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// The lock under test, one per process.
class Locker {
 public:
  virtual ~Locker() = default;
  virtual bool Acquire() = 0;
  virtual bool Release() = 0;
};

class FlockLocker : public Locker {
 public:
  explicit FlockLocker(const std::string& path) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) Die("open " + path + ": " + strerror(errno));
  }
  ~FlockLocker() override { close(fd_); }
  bool Acquire() override {
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) return false;
    }
    return true;
  }
  bool Release() override { return flock(fd_, LOCK_UN) == 0; }

 private:
  int fd_ = -1;
};

#ifndef BENCH_NO_LIB
class LibLocker : public Locker {
 public:
  explicit LibLocker(const std::string& dir) : lock_("handoff", Options(dir)) {}
  bool Acquire() override {
    if (lock_.Acquire(onlyone::kWaitForever)) return true;
    fprintf(stderr, "handoff_bench: Acquire failed: %s\n", lock_.status().message.c_str());
    return false;
  }
  bool Release() override {
    if (lock_.Release()) return true;
    fprintf(stderr, "handoff_bench: Release failed: %s\n", lock_.status().message.c_str());
    return false;
  }

 private:
  static onlyone::LockOptions Options(const std::string& dir) {
    onlyone::LockOptions options;
    options.dir = dir;
    options.command = "handoff_bench";
    return options;
  }
  onlyone::Lock lock_;
};
#endif

void Child(Shared* shared, const std::string& mode, const std::string& dir, int procs, int warmup,
           int samples_wanted, int64_t hold_ns) {
  std::unique_ptr<Locker> locker;
  if (mode == "flock") {
    locker.reset(new FlockLocker(dir + "/handoff.lock"));
#ifndef BENCH_NO_LIB
  } else if (mode == "lib") {
    locker.reset(new LibLocker(dir));
#endif
  } else {
    Die("unknown --mode " + mode);
  }
  int handoffs_seen = 0;
  for (;;) {
    shared->waiting.fetch_add(1);
    if (!locker->Acquire()) {
      shared->errors.fetch_add(1);
      shared->stop.store(1);
      FutexWakeAll(&shared->acquisitions);
      _exit(1);
    }
    const int64_t acquired_ns = NowNs();
    shared->waiting.fetch_sub(1);
    if (shared->holders.fetch_add(1) != 0) shared->violations.fetch_add(1);
    const int64_t released_ns = shared->release_ns.exchange(0);
    const int waiters = shared->waiters_at_release.load();
    const uint32_t my_acquisition = shared->acquisitions.fetch_add(1) + 1;
    FutexWakeAll(&shared->acquisitions);
    const bool stopping = shared->stop.load() != 0;
    if (!stopping && released_ns != 0) {
      handoffs_seen = static_cast<int>(my_acquisition);
      if (handoffs_seen > warmup) {
        const int index = shared->sample_count.fetch_add(1);
        if (index < kSamplesMax) {
          shared->samples_ns[index] = acquired_ns - released_ns;
          shared->waiters[index] = waiters;
        }
        if (index + 1 >= samples_wanted || index + 1 >= kSamplesMax) shared->stop.store(1);
      }
    }
    if (NowNs() > shared->deadline_ns) shared->stop.store(1);
    if (shared->stop.load() == 0) {
      // Hold until the others are all queued (bounded), then a little more.
      const int64_t settle_until = NowNs() + 200 * 1000000LL;
      while (shared->waiting.load() < procs - 1 && NowNs() < settle_until &&
             shared->stop.load() == 0) {
        SleepNs(100 * 1000);
      }
      SleepNs(hold_ns);
    }
    shared->waiters_at_release.store(shared->waiting.load());
    shared->holders.fetch_sub(1);
    shared->release_ns.store(shared->stop.load() != 0 ? 0 : NowNs());
    if (!locker->Release()) {
      shared->errors.fetch_add(1);
      shared->stop.store(1);
      FutexWakeAll(&shared->acquisitions);
      _exit(1);
    }
    // Let another process take it before queueing again.
    while (shared->acquisitions.load() == my_acquisition && shared->stop.load() == 0) {
      FutexWait(&shared->acquisitions, my_acquisition, 5 * 1000000LL);
    }
    if (shared->stop.load() != 0) _exit(0);
  }
}

int Main(int argc, char** argv) {
  Args args(argc, argv);
  const std::string mode = args.Require("mode");
  const std::string dir = args.Require("dir");
  const std::string out = args.Get("out", "");
  const int round = static_cast<int>(args.GetInt("round", 0));
  const int procs = static_cast<int>(args.GetInt("procs", 2));
  const int samples_wanted = static_cast<int>(args.GetInt("samples", 2000));
  const int warmup = static_cast<int>(args.GetInt("warmup", 2 * procs));
  const int64_t hold_ns = args.GetInt("hold-us", 1000) * 1000;
  const int64_t max_seconds = args.GetInt("max-seconds", 30);
  // Where to write the number of acquisitions (for per-acquisition syscall
  // counts under strace).
  const std::string count_out = args.Get("count-out", "");
  if (procs < 2 || procs > kProcsMax) Die("--procs must be 2.." + std::to_string(kProcsMax));
#ifdef BENCH_NO_LIB
  if (mode == "lib") Die("this build has no library (BENCH_NO_LIB): only --mode flock");
#endif

  void* memory =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) Die(std::string("mmap: ") + strerror(errno));
  Shared* shared = new (memory) Shared();
  shared->deadline_ns = NowNs() + max_seconds * 1000000000LL;

  std::vector<pid_t> children;
  for (int i = 0; i < procs; ++i) {
    const pid_t pid = fork();
    if (pid < 0) Die(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
      Child(shared, mode, dir, procs, warmup, samples_wanted, hold_ns);
      _exit(0);
    }
    children.push_back(pid);
  }
  // Reap; past the deadline plus a grace period, kill what is left (a hang
  // is reported, not waited for).
  const int64_t kill_at = shared->deadline_ns + 20 * 1000000000LL;
  size_t alive = children.size();
  bool killed = false;
  while (alive > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      --alive;
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (!killed && NowNs() > kill_at) {
      fprintf(stderr,
              "handoff_bench: %zu processes still running 20 s past the deadline: killing them\n",
              alive);
      for (pid_t child : children) kill(child, SIGKILL);
      killed = true;
    }
    SleepNs(2 * 1000000LL);
  }

  const int n = std::min(shared->sample_count.load(), kSamplesMax);
  std::vector<int64_t> samples(shared->samples_ns, shared->samples_ns + n);
  std::vector<int64_t> waiters(shared->waiters, shared->waiters + n);
  if (!out.empty()) {
    AppendSamples(out, round, samples);
    AppendSamples(out + ".waiters", round, waiters);
  }
  if (!count_out.empty()) {
    FILE* f = fopen(count_out.c_str(), "w");
    if (f == nullptr) Die("cannot open " + count_out);
    fprintf(f, "%u\n", shared->acquisitions.load());
    fclose(f);
  }
  std::vector<int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> sorted_waiters = waiters;
  std::sort(sorted_waiters.begin(), sorted_waiters.end());
  fprintf(stderr,
          "handoff_bench: mode=%s procs=%d n=%d median=%.1fus p99=%.1fus "
          "waiters_at_release[min/median]=%lld/%lld "
          "violations=%d errors=%d\n",
          mode.c_str(), procs, n, n ? static_cast<double>(sorted[n / 2]) / 1000.0 : 0.0,
          n ? static_cast<double>(sorted[std::min(n - 1, (n * 99) / 100)]) / 1000.0 : 0.0,
          n ? static_cast<long long>(sorted_waiters[0]) : 0LL,
          n ? static_cast<long long>(sorted_waiters[n / 2]) : 0LL, shared->violations.load(),
          shared->errors.load());
  if (shared->violations.load() != 0 || shared->errors.load() != 0 || killed) return 1;
  return 0;
}

}  // namespace
}  // namespace onlyone_bench

int main(int argc, char** argv) { return onlyone_bench::Main(argc, argv); }
