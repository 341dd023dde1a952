// Context for the cycle: what each file operation of one uncontended
// acquire+release costs on this file system, by itself, next to the raw
// open+flock+close cycle it is compared with. Not a peer comparison: it
// answers "which of the protocol's operations could be cheaper, and what is
// the floor of any protocol made of them" (docs/performance.md).
//
//   fileops_bench --dir DIR [--cycles N] [--record-bytes B] [--out FILE]
//
// Each cycle runs, in order, the system calls the library makes for one
// TryAcquire() + Release() on an empty lock directory, each timed on its own
// (CLOCK_MONOTONIC, nanoseconds); names and records are the library's sizes
// (an entry name of 34 bytes, a record of B bytes, 56 by default: a version 2
// record, core/record.h). Then the same symlink, rename-over and unlink with
// a 220-byte target, a version 1 record (host and command included), to show
// what the records over the file system's inline-symlink limit (59 bytes on
// ext4, about 128 on tmpfs) cost. Prints one line
// per operation: "<operation> <median ns> <p99 ns>"; with --out, also
// writes them there.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace onlyone_bench {
namespace {

constexpr size_t kListingBufferBytes = 64 << 10;  // as the library's first getdents64 buffer
constexpr size_t kFullRecordBytes = 220;          // a version 1 record, over both limits

struct Timed {
  std::string operation;
  std::vector<int64_t> samples_ns;
};

class Timer {
 public:
  explicit Timer(std::vector<Timed>* table) : table_(table) {}
  // Times `body` as operation number `index` of the cycle.
  template <typename Body>
  void Step(size_t index, const char* operation, Body body) {
    if (table_->size() <= index) table_->push_back(Timed{operation, {}});
    const int64_t start = NowNs();
    body();
    (*table_)[index].samples_ns.push_back(NowNs() - start);
  }

 private:
  std::vector<Timed>* table_;
};

// A timed operation that failed measured an error path, not the operation:
// stop rather than print its figure. (The check costs a compare, next to
// system calls of microseconds.)
void MustSucceed(bool ok, const char* operation) {
  if (!ok) Die(std::string(operation) + " failed: " + strerror(errno));
}

int64_t Percentile(std::vector<int64_t> values, double fraction) {
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(fraction * static_cast<double>(values.size()));
  if (rank >= values.size()) rank = values.size() - 1;
  return values[rank];
}

void Run(Args& args) {
  const std::string dir = args.Require("dir");
  const int64_t cycles = args.GetInt("cycles", 5000);
  const int64_t record_bytes = args.GetInt("record-bytes", 56);
  const std::string out = args.Get("out", "");
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) Die("cannot open " + dir);
  const int listing_fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const std::string record(static_cast<size_t>(record_bytes), 'r');
  const std::string full_record(kFullRecordBytes, 'r');
  const std::string entry = "o." + std::string(32, 'a');
  const std::string temp = "t." + std::string(32, 'a');
  const std::string anchor = "k." + std::string(32, 'a');
  std::vector<char> listing(kListingBufferBytes);
  // The fence counter (core/names.h): a name, moved one up per holding.
  uint64_t token = 1;
  auto counter = [](uint64_t n) { return "fence." + std::to_string(n); };
  if (symlinkat("c", dir_fd, counter(token).c_str()) != 0) Die("cannot create a counter in " + dir);
  auto list = [&] {
    lseek(listing_fd, 0, SEEK_SET);
    syscall(SYS_getdents64, listing_fd, listing.data(), listing.size());
    syscall(SYS_getdents64, listing_fd, listing.data(), listing.size());
  };

  std::vector<Timed> table;
  Timer timer(&table);
  for (int64_t i = 0; i < cycles; ++i) {
    size_t k = 0;
    int fd = -1;
    timer.Step(k++, "raw_cycle_open_flock_close", [&] {
      const int raw = openat(dir_fd, "raw.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      flock(raw, LOCK_EX | LOCK_NB);
      close(raw);
    });
    timer.Step(k++, "getrandom_nonce", [&] {
      char nonce[16];
      syscall(SYS_getrandom, nonce, sizeof nonce, 0);
    });
    timer.Step(k++, "fstat_lock_dir", [&] {
      struct stat st;
      fstat(dir_fd, &st);
    });
    timer.Step(k++, "anchor_create", [&] {
      fd = openat(dir_fd, anchor.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    });
    timer.Step(k++, "anchor_flock", [&] { flock(fd, LOCK_EX); });
    timer.Step(k++, "entry_symlink_choosing", [&] {
      MustSucceed(symlinkat(record.c_str(), dir_fd, entry.c_str()) == 0, "entry_symlink_choosing");
    });
    timer.Step(k++, "listing_doorway", list);
    timer.Step(k++, "temp_symlink_ticket", [&] {
      MustSucceed(symlinkat(record.c_str(), dir_fd, temp.c_str()) == 0, "temp_symlink_ticket");
    });
    timer.Step(k++, "rename_temp_over_entry",
               [&] { renameat(dir_fd, temp.c_str(), dir_fd, entry.c_str()); });
    timer.Step(k++, "listing_scan", list);
    const std::string from = counter(token);
    const std::string to = counter(token + 1);
    timer.Step(k++, "fence_move_noreplace", [&] {
      MustSucceed(renameat2(dir_fd, from.c_str(), dir_fd, to.c_str(), RENAME_NOREPLACE) == 0,
                  "fence_move_noreplace");
    });
    ++token;
    timer.Step(k++, "entry_unlink", [&] { unlinkat(dir_fd, entry.c_str(), 0); });
    timer.Step(k++, "anchor_unlink", [&] { unlinkat(dir_fd, anchor.c_str(), 0); });
    timer.Step(k++, "anchor_close", [&] { close(fd); });
    timer.Step(k++, "v1_symlink_220B", [&] {
      MustSucceed(symlinkat(full_record.c_str(), dir_fd, entry.c_str()) == 0, "v1_symlink_220B");
    });
    timer.Step(k++, "v1_temp_symlink_220B", [&] {
      MustSucceed(symlinkat(full_record.c_str(), dir_fd, temp.c_str()) == 0,
                  "v1_temp_symlink_220B");
    });
    timer.Step(k++, "v1_rename_over_220B",
               [&] { renameat(dir_fd, temp.c_str(), dir_fd, entry.c_str()); });
    timer.Step(k++, "v1_unlink_220B", [&] { unlinkat(dir_fd, entry.c_str(), 0); });
  }
  FILE* file = out.empty() ? nullptr : fopen(out.c_str(), "w");
  for (const Timed& row : table) {
    const int64_t median = Percentile(row.samples_ns, 0.5);
    const int64_t p99 = Percentile(row.samples_ns, 0.99);
    printf("%s %lld %lld\n", row.operation.c_str(), static_cast<long long>(median),
           static_cast<long long>(p99));
    if (file != nullptr) {
      fprintf(file, "%s %lld %lld\n", row.operation.c_str(), static_cast<long long>(median),
              static_cast<long long>(p99));
    }
  }
  if (file != nullptr && fclose(file) != 0) Die("cannot write " + out);
  unlinkat(dir_fd, counter(token).c_str(), 0);
  unlinkat(dir_fd, "raw.lock", 0);
  close(listing_fd);
  close(dir_fd);
}

}  // namespace
}  // namespace onlyone_bench

int main(int argc, char** argv) {
  onlyone_bench::Args args(argc, argv);
  onlyone_bench::Run(args);
  return 0;
}
