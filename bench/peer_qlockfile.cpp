// Uncontended acquire+release cycle of Qt's QLockFile (Debian qtbase5-dev).
// Not built by Bazel (Qt is not in the WORKSPACE): bench/run.sh compiles it
// with g++ $(pkg-config --cflags --libs Qt5Core).
//
//   peer_qlockfile --dir DIR --out PREFIX [--round R] [--cycles N] [--batch B] [--warmup W]
//
// Variants, each cycle timed on its own with CLOCK_MONOTONIC:
//   qt_qlockfile        one QLockFile: tryLock(0) + unlock()
//   qt_qlockfile_fresh  a new QLockFile per cycle
// QLockFile creates the file exclusively, writes pid/host/app into it, holds
// a flock on it, and removes it on unlock. Samples are appended to
// PREFIX.<variant>.ns as "<round> <ns>" lines.
#include <QCoreApplication>
#include <QLockFile>
#include <QString>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"

using onlyone_bench::Args;
using onlyone_bench::Die;
using onlyone_bench::NowNs;

int main(int argc, char** argv) {
  Args args(argc, argv);
  const std::string dir = args.Require("dir");
  const std::string out = args.Get("out", "");
  const int round = static_cast<int>(args.GetInt("round", 0));
  const int64_t cycles = args.GetInt("cycles", 2000);
  const int64_t batch = args.GetInt("batch", 100);
  const int64_t warmup = args.GetInt("warmup", 200);
  // QLockFile records the application name; give it a real application.
  int qt_argc = 1;
  QCoreApplication app(qt_argc, argv);

  const QString path = QString::fromStdString(dir + "/qt.lock");
  const QString fresh_path = QString::fromStdString(dir + "/qt-fresh.lock");
  QLockFile reused(path);
  reused.setStaleLockTime(0);

  struct Variant {
    std::string name;
    std::vector<int64_t> samples_ns;
  };
  std::vector<Variant> variants = {{"qt_qlockfile", {}}, {"qt_qlockfile_fresh", {}}};
  auto cycle = [&](const std::string& name) -> int64_t {
    const int64_t start = NowNs();
    if (name == "qt_qlockfile") {
      if (!reused.tryLock(0)) Die("QLockFile::tryLock failed, error " + std::to_string(reused.error()));
      reused.unlock();
    } else {
      QLockFile lock(fresh_path);
      if (!lock.tryLock(0)) Die("QLockFile::tryLock failed, error " + std::to_string(lock.error()));
      lock.unlock();
    }
    return NowNs() - start;
  };
  for (Variant& v : variants) {
    for (int64_t i = 0; i < warmup; ++i) cycle(v.name);
  }
  int64_t done = 0;
  size_t first = 0;
  while (done < cycles) {
    const int64_t n = std::min(batch, cycles - done);
    for (size_t k = 0; k < variants.size(); ++k) {
      Variant& v = variants[(first + k) % variants.size()];
      for (int64_t i = 0; i < n; ++i) v.samples_ns.push_back(cycle(v.name));
    }
    done += n;
    first = (first + 1) % variants.size();
  }
  for (Variant& v : variants) {
    if (!out.empty()) onlyone_bench::AppendSamples(out + "." + v.name + ".ns", round, v.samples_ns);
    std::vector<int64_t> sorted = v.samples_ns;
    std::sort(sorted.begin(), sorted.end());
    fprintf(stderr, "peer_qlockfile: round %d %-20s n=%zu median=%.2fus (Qt %s)\n", round, v.name.c_str(),
            sorted.size(), static_cast<double>(sorted[sorted.size() / 2]) / 1000.0, qVersion());
  }
  return 0;
}
