// Uncontended acquire+release cycle: onlyone::Lock against a raw flock(2)
// cycle, interleaved in one process on one file system.
//
//   cycle_bench --dir DIR --out PREFIX [--round R] [--cycles N] [--batch B]
//               [--warmup W] [--variants raw,lib_reuse,lib_fresh] [--rusage-out FILE]
//
// Variants (each cycle is timed on its own with CLOCK_MONOTONIC):
//   raw        open(DIR/raw.lock, O_RDWR|O_CREAT|O_CLOEXEC) + flock(LOCK_EX|LOCK_NB) + close
//   excl       an O_EXCL record file: open(O_CREAT|O_EXCL) + write 18 bytes + close + unlink,
//              the floor of any lock that writes an owner record
//   lib_reuse  one onlyone::Lock for the whole run: TryAcquire() + Release()
//   lib_fresh  a new onlyone::Lock per cycle: construct, TryAcquire(), Release(), destroy
//   inotify    (context, not run by default) inotify_init1 + inotify_add_watch(DIR) + close
// The variants take turns in batches of B cycles (the order rotates every
// batch), so a change of machine load hits all of them alike. Samples are
// appended to PREFIX.<variant>.ns as "<round> <ns>" lines (bench/stats.py).
//
// Built twice by bench/BUILD.bazel: :cycle_bench (with the library) and
// :cycle_bench_raw (BENCH_NO_LIB: raw only, for before the library exists).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"

#ifndef BENCH_NO_LIB
#include "platform/posix/lock.h"
#endif

namespace onlyone_bench {
namespace {

struct Variant {
  std::string name;
  std::vector<int64_t> samples_ns;
};

class Cycler {
 public:
  explicit Cycler(const std::string& dir)
      : dir_(dir), raw_path_(dir + "/raw.lock"), excl_path_(dir + "/excl.lock") {
#ifndef BENCH_NO_LIB
    options_.dir = dir;
    options_.command = "cycle_bench";
    reused_.reset(new onlyone::Lock("bench-reuse", options_));
#endif
  }

  // One timed cycle of `variant`; dies if the lock is not acquired (nothing
  // else holds it: a failure is a bug or a broken setup, not a data point).
  int64_t Cycle(const std::string& variant) {
    const int64_t start = NowNs();
    if (variant == "raw") {
      const int fd = open(raw_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) Die("open " + raw_path_ + ": " + strerror(errno));
      if (flock(fd, LOCK_EX | LOCK_NB) != 0) Die("flock " + raw_path_ + ": " + strerror(errno));
      close(fd);
    } else if (variant == "excl") {
      // What SoftFileLock-style locks do, written in C: the least a lock with
      // an owner record can cost (one create and one unlink of a name).
      const int fd = open(excl_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) Die("open " + excl_path_ + ": " + strerror(errno));
      static const char kRecord[] = "4242 1700000000.5\n";  // 18 bytes; the NUL is not written
      if (write(fd, kRecord, sizeof kRecord - 1) < 0) Die("write: " + std::string(strerror(errno)));
      close(fd);
      if (unlink(excl_path_.c_str()) != 0) Die("unlink " + excl_path_ + ": " + strerror(errno));
    } else if (variant == "inotify") {
      // Context, not a peer: the cost of one inotify watch's life (see
      // docs/performance.md); the library keeps one per Lock.
      const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (fd < 0) Die(std::string("inotify_init1: ") + strerror(errno));
      if (inotify_add_watch(fd, dir_.c_str(), IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM) <
          0) {
        Die("inotify_add_watch " + dir_ + ": " + strerror(errno));
      }
      close(fd);
#ifndef BENCH_NO_LIB
    } else if (variant == "lib_reuse") {
      if (!reused_->TryAcquire()) Die("lib_reuse: TryAcquire failed: " + reused_->status().message);
      if (!reused_->Release()) Die("lib_reuse: Release failed: " + reused_->status().message);
    } else if (variant == "lib_fresh") {
      onlyone::Lock lock("bench-fresh", options_);
      if (!lock.TryAcquire()) Die("lib_fresh: TryAcquire failed: " + lock.status().message);
      if (!lock.Release()) Die("lib_fresh: Release failed: " + lock.status().message);
#endif
    } else {
      Die("unknown variant " + variant +
#ifdef BENCH_NO_LIB
          " (this build has only: raw, excl, inotify)"
#else
          " (use raw, excl, lib_reuse, lib_fresh, inotify)"
#endif
      );
    }
    return NowNs() - start;
  }

 private:
  std::string dir_;
  std::string raw_path_;
  std::string excl_path_;
#ifndef BENCH_NO_LIB
  onlyone::LockOptions options_;
  std::unique_ptr<onlyone::Lock> reused_;
#endif
};

int Main(int argc, char** argv) {
  Args args(argc, argv);
  const std::string dir = args.Require("dir");
  const std::string out = args.Get("out", "");
  const int round = static_cast<int>(args.GetInt("round", 0));
  const int64_t cycles = args.GetInt("cycles", 2000);
  const int64_t batch = args.GetInt("batch", 100);
  const int64_t warmup = args.GetInt("warmup", 200);
#ifdef BENCH_NO_LIB
  const std::string default_variants = "raw,excl";
#else
  const std::string default_variants = "raw,excl,lib_reuse,lib_fresh";
#endif
  std::vector<Variant> variants;
  for (const std::string& name : Split(args.Get("variants", default_variants), ',')) {
    variants.push_back(Variant{name, {}});
  }
  if (variants.empty() || cycles < 0 || batch <= 0) Die("bad --variants, --cycles or --batch");

  Cycler cycler(dir);
  for (Variant& v : variants) {
    for (int64_t i = 0; i < warmup; ++i) cycler.Cycle(v.name);
    v.samples_ns.reserve(static_cast<size_t>(cycles));
  }
  // --rusage-out: CPU time and context switches of the timed cycles (one
  // variant per run, so that they are that variant's alone).
  const std::string rusage_out = args.Get("rusage-out", "");
  if (!rusage_out.empty() && variants.size() != 1) Die("--rusage-out needs exactly one variant");
  struct rusage usage_before;
  getrusage(RUSAGE_SELF, &usage_before);
  const int64_t wall_before = NowNs();
  // Batches, rotating which variant goes first.
  int64_t done = 0;
  size_t first = 0;
  while (done < cycles) {
    const int64_t n = std::min(batch, cycles - done);
    for (size_t k = 0; k < variants.size(); ++k) {
      Variant& v = variants[(first + k) % variants.size()];
      for (int64_t i = 0; i < n; ++i) v.samples_ns.push_back(cycler.Cycle(v.name));
    }
    done += n;
    first = (first + 1) % variants.size();
  }
  if (!rusage_out.empty()) {
    const int64_t wall_ns = NowNs() - wall_before;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    auto ns = [](const struct timeval& tv) {
      return static_cast<int64_t>(tv.tv_sec) * 1000000000 + tv.tv_usec * 1000;
    };
    FILE* f = fopen(rusage_out.c_str(), "a");
    if (f == nullptr) Die("cannot open " + rusage_out);
    // variant cycles wall_ns user_ns sys_ns voluntary_switches involuntary_switches
    fprintf(f, "%s %lld %lld %lld %lld %ld %ld\n", variants[0].name.c_str(),
            static_cast<long long>(cycles), static_cast<long long>(wall_ns),
            static_cast<long long>(ns(usage.ru_utime) - ns(usage_before.ru_utime)),
            static_cast<long long>(ns(usage.ru_stime) - ns(usage_before.ru_stime)),
            usage.ru_nvcsw - usage_before.ru_nvcsw, usage.ru_nivcsw - usage_before.ru_nivcsw);
    fclose(f);
  }
  for (Variant& v : variants) {
    if (!out.empty()) AppendSamples(out + "." + v.name + ".ns", round, v.samples_ns);
    std::vector<int64_t> sorted = v.samples_ns;
    std::sort(sorted.begin(), sorted.end());
    if (!sorted.empty()) {
      fprintf(stderr, "cycle_bench: round %d %-10s n=%zu median=%.2fus\n", round, v.name.c_str(),
              sorted.size(), static_cast<double>(sorted[sorted.size() / 2]) / 1000.0);
    }
  }
  return 0;
}

}  // namespace
}  // namespace onlyone_bench

int main(int argc, char** argv) { return onlyone_bench::Main(argc, argv); }
