// Small helpers shared by the benchmark programs: a monotonic clock in
// nanoseconds, sample files, and argument parsing without dependencies.
//
// Sample files are plain text, one sample per line: "<round> <nanoseconds>",
// appended, so that several rounds (and several programs run back to back by
// bench/run.sh) add up in one file that bench/stats.py summarises.
#ifndef ONLYONE_BENCH_BENCH_UTIL_H_
#define ONLYONE_BENCH_BENCH_UTIL_H_

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

namespace onlyone_bench {

inline int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] inline void Die(const std::string& message) {
  fprintf(stderr, "bench: %s\n", message.c_str());
  exit(2);
}

// Appends "<round> <ns>" lines to `path`.
inline void AppendSamples(const std::string& path, int round,
                          const std::vector<int64_t>& samples_ns) {
  FILE* f = fopen(path.c_str(), "a");
  if (f == nullptr) Die("cannot open " + path + ": " + strerror(errno));
  for (int64_t ns : samples_ns) fprintf(f, "%d %lld\n", round, static_cast<long long>(ns));
  if (fclose(f) != 0) Die("cannot write " + path);
}

// "--key=value" or "--key value" options; the rest are positional.
class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) args_.push_back(argv[i]);
  }
  std::string Get(const std::string& key, const std::string& fallback) {
    for (size_t i = 0; i < args_.size(); ++i) {
      const std::string& a = args_[i];
      if (a == "--" + key && i + 1 < args_.size()) return args_[i + 1];
      if (a.compare(0, key.size() + 3, "--" + key + "=") == 0) return a.substr(key.size() + 3);
    }
    return fallback;
  }
  int64_t GetInt(const std::string& key, int64_t fallback) {
    const std::string v = Get(key, "");
    if (v.empty()) return fallback;
    char* end = nullptr;
    const long long n = strtoll(v.c_str(), &end, 10);
    if (end == v.c_str() || *end != '\0') Die("--" + key + " needs an integer, not \"" + v + "\"");
    return n;
  }
  std::string Require(const std::string& key) {
    const std::string v = Get(key, "");
    if (v.empty()) Die("missing --" + key);
    return v;
  }

 private:
  std::vector<std::string> args_;
};

inline std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : text) {
    if (c == sep) {
      if (!part.empty()) parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  if (!part.empty()) parts.push_back(part);
  return parts;
}

}  // namespace onlyone_bench

#endif  // ONLYONE_BENCH_BENCH_UTIL_H_
