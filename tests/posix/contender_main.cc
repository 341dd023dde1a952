// A contender for the real-process tests: acquires a lock, proves inside the
// critical section that at most `slots` processes are in it, and releases.
//
//   contender_main --dir DIR --name NAME [--slots K] [--timeout-ms T | --try]
//                  [--witness-dir W] [--hold-ms M] [--rounds R] [--hold-forever]
//                  [--tokens FILE]
//
// The proof: each holder creates a witness file of its own, W/witness.<pid>.<round>
// naming its pid, after it acquires and removes it before it releases; then it
// counts the others whose owners live. More than slots-1, still there with
// live owners at a second look, is a violation. A witness left by a holder
// that was killed (kill -9 chaos) names a dead pid and is removed.
//
// Exit codes: 0 every round acquired and released; 75 not acquired (busy);
// 3 exclusion violated; 1 any other failure (message on stderr).
// --tokens FILE: append each acquisition's fencing token to FILE, one line,
// while holding: the lines are in the order of the holdings, so a test can
// check that tokens strictly increase (P6).
// --hold-forever: print "held <pid>" on stdout once acquired and sleep until
// killed.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "platform/posix/lock.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitViolation = 3;
constexpr int kExitBusy = 75;

// Linux task flag: the process has begun exiting (set before its files,
// and so its anchor flock, are released).
constexpr unsigned long kTaskExiting = 0x4;

// Dead, a zombie, or already exiting: its witness is stale. A holder killed
// with SIGKILL drops its anchor flock while still exiting, before it turns
// into a zombie: a successor may legitimately hold the lock by then, and
// must not mistake the dying process for a live second holder.
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* file = fopen(path, "re");
  if (file == nullptr) return true;
  char line[1024] = {};
  const bool read_ok = fgets(line, sizeof line, file) != nullptr;
  fclose(file);
  const char* paren = strrchr(line, ')');
  if (!read_ok || paren == nullptr) return true;
  char state = 0;
  unsigned long flags = 0;
  // Fields after the command: state (3), ppid, pgrp, session, tty, tpgid, flags (9).
  // NOLINTNEXTLINE(cert-err34-c): the kernel writes these fields; the count is checked.
  if (sscanf(paren + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2) return false;
  return state == 'Z' || state == 'X' || (flags & kTaskExiting) != 0;
}

// The pid a witness names, or 0 when it is gone (its holder released).
pid_t WitnessOwner(const std::string& path) {
  char text[32] = {};
  const int in = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return 0;
  const ssize_t n = read(in, text, sizeof text - 1);
  close(in);
  if (n <= 0) return 0;
  char* end = nullptr;
  const long pid = strtol(text, &end, 10);
  return end != text && pid > 0 ? static_cast<pid_t>(pid) : 0;
}

struct Witness {
  std::string path;
  pid_t owner;
};

// The witnesses in `dir` other than `mine` whose owners live. A witness
// whose owner is gone was left by a holder killed inside its critical
// section: it is removed (its name is its dead owner's alone).
std::vector<Witness> LiveWitnesses(const std::string& dir, const std::string& mine) {
  std::vector<Witness> live;
  DIR* listing = opendir(dir.c_str());
  if (listing == nullptr) return live;
  while (const dirent* entry = readdir(listing)) {
    if (strncmp(entry->d_name, "witness.", strlen("witness.")) != 0) continue;
    const std::string path = dir + "/" + entry->d_name;
    if (path == mine) continue;
    const pid_t owner = WitnessOwner(path);
    if (owner <= 0) continue;  // removed meanwhile: its holder released
    if (!ProcessGone(owner)) {
      live.push_back({path, owner});
      continue;
    }
    unlink(path.c_str());
    // The chaos test counts these: proof that holders were killed in
    // their critical section and the lock was taken over after them.
    fprintf(stderr, "contender_main: took over from holder %d, killed inside\n",
            static_cast<int>(owner));
  }
  closedir(listing);
  return live;
}

// Creates this holding's witness, W/witness.<pid>.<round>, and returns it,
// or "" when more than `slots` holders are proven at once: a violation.
//
// Each witness has a name of its own, so no holder ever removes another
// live holder's file: with one name per slot, a holder that judged a
// slot's previous owner gone (it had just released and exited) removed the
// witness a new holder had put there meanwhile.
std::string TakeWitness(const std::string& dir, uint32_t slots, long round) {
  // Written under a private name, then renamed into place: a kill between
  // create and write cannot leave an ownerless witness.
  const std::string pid = std::to_string(getpid());
  const std::string pending = dir + "/pending." + pid;
  const std::string mine = dir + "/witness." + pid + "." + std::to_string(round);
  const int fd = open(pending.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return "";
  const bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
  close(fd);
  if (!written || rename(pending.c_str(), mine.c_str()) != 0) return "";
  const std::vector<Witness> others = LiveWitnesses(dir, mine);
  if (others.size() + 1 <= slots) return mine;
  // A second look: present at the first read and still there with a live
  // owner means present throughout, so all of them existed at once.
  size_t still = 0;
  for (const Witness& other : others) {
    if (access(other.path.c_str(), F_OK) == 0 && !ProcessGone(other.owner)) ++still;
  }
  if (still + 1 <= slots) return mine;
  unlink(mine.c_str());
  return "";
}

// One line, "<token>\n", in one write(2) to a file opened O_APPEND.
bool AppendToken(const std::string& path, uint64_t token) {
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  char line[32];
  const int size = snprintf(line, sizeof line, "%llu\n", static_cast<unsigned long long>(token));
  const bool written = write(fd, line, static_cast<size_t>(size)) == size;
  close(fd);
  return written;
}

// The command line (see the top of this file).
struct Arguments {
  onlyone::LockOptions options;
  std::string name = "job";
  std::string witness_dir;
  std::string tokens_path;
  int64_t timeout_ms = onlyone::kWaitForever;
  bool try_once = false;
  bool hold_forever = false;
  long hold_ms = 0;
  long rounds = 1;
};

// A whole decimal number, or false.
bool ParseNumber(const char* text, long long* out) {
  char* end = nullptr;
  errno = 0;
  *out = strtoll(text, &end, 10);
  return errno == 0 && end != text && *end == '\0';
}

bool ParseArguments(int argc, char** argv, Arguments* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool takes_value = arg != "--try" && arg != "--hold-forever";
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    long long number = 0;
    const bool numeric = ParseNumber(value, &number);
    if (takes_value) ++i;
    if (arg == "--dir") {
      a->options.dir = value;
    } else if (arg == "--name") {
      a->name = value;
    } else if (arg == "--witness-dir") {
      a->witness_dir = value;
    } else if (arg == "--tokens") {
      a->tokens_path = value;
    } else if (arg == "--try") {
      a->try_once = true;
    } else if (arg == "--hold-forever") {
      a->hold_forever = true;
    } else if (!numeric) {
      fprintf(stderr, "contender_main: %s needs a number, not \"%s\"\n", arg.c_str(), value);
      return false;
    } else if (arg == "--slots") {
      a->options.slots = static_cast<uint32_t>(number);
    } else if (arg == "--timeout-ms") {
      a->timeout_ms = number;
    } else if (arg == "--hold-ms") {
      a->hold_ms = static_cast<long>(number);
    } else if (arg == "--rounds") {
      a->rounds = static_cast<long>(number);
    } else {
      fprintf(stderr, "contender_main: unknown argument %s\n", arg.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments a;
  if (!ParseArguments(argc, argv, &a)) return kExitFailure;
  onlyone::LockOptions& options = a.options;
  const std::string& name = a.name;
  options.command = "contender_main " + name;
  onlyone::Lock lock(name, options);
  for (long round = 0; round < a.rounds; ++round) {
    const bool acquired = a.try_once ? lock.TryAcquire() : lock.Acquire(a.timeout_ms);
    if (!acquired) {
      fprintf(stderr, "%s\n", lock.status().message.c_str());
      return lock.status().error == onlyone::LockError::kBusy ? kExitBusy : kExitFailure;
    }
    if (a.hold_forever) {
      printf("held %d fence %llu\n", static_cast<int>(getpid()),
             static_cast<unsigned long long>(lock.fence()));
      fflush(stdout);
      for (;;) pause();
    }
    if (!a.tokens_path.empty() && !AppendToken(a.tokens_path, lock.fence())) {
      fprintf(stderr, "contender_main: cannot append to %s: %s\n", a.tokens_path.c_str(),
              strerror(errno));
      return kExitFailure;
    }
    std::string witness;
    if (!a.witness_dir.empty()) {
      witness = TakeWitness(a.witness_dir, options.slots, round);
      if (witness.empty()) {
        fprintf(stderr, "contender_main: VIOLATION: more than %u holders of \"%s\" at once\n",
                options.slots, name.c_str());
        return kExitViolation;
      }
    }
    if (a.hold_ms > 0) usleep(static_cast<useconds_t>(a.hold_ms) * 1000);
    if (!witness.empty()) unlink(witness.c_str());
    if (!lock.Release()) {
      fprintf(stderr, "%s\n", lock.status().message.c_str());
      return kExitFailure;
    }
  }
  return kExitOk;
}
