// A contender for the real-process tests: acquires a lock, proves inside the
// critical section that at most `slots` processes are in it, and releases.
//
//   contender_main --dir DIR --name NAME [--slots K] [--timeout-ms T | --try]
//                  [--witness-dir W] [--hold-ms M] [--rounds R] [--hold-forever]
//
// The proof: each holder creates a witness file of its own, W/witness.<pid>.<round>
// naming its pid, after it acquires and removes it before it releases; then it
// counts the others whose owners live. More than slots-1, still there with
// live owners at a second look, is a violation. A witness left by a holder
// that was killed (kill -9 chaos) names a dead pid and is removed.
//
// Exit codes: 0 every round acquired and released; 75 not acquired (busy);
// 3 exclusion violated; 1 any other failure (message on stderr).
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

}  // namespace

int main(int argc, char** argv) {
  onlyone::LockOptions options;
  std::string name = "job";
  std::string witness_dir;
  int64_t timeout_ms = onlyone::kWaitForever;
  bool try_once = false;
  bool hold_forever = false;
  long hold_ms = 0;
  long rounds = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    if (arg == "--dir") {
      options.dir = value, ++i;
    } else if (arg == "--name") {
      name = value, ++i;
    } else if (arg == "--slots") {
      options.slots = static_cast<uint32_t>(atoi(value)), ++i;
    } else if (arg == "--timeout-ms") {
      timeout_ms = atoll(value), ++i;
    } else if (arg == "--witness-dir") {
      witness_dir = value, ++i;
    } else if (arg == "--hold-ms") {
      hold_ms = atol(value), ++i;
    } else if (arg == "--rounds") {
      rounds = atol(value), ++i;
    } else if (arg == "--try") {
      try_once = true;
    } else if (arg == "--hold-forever") {
      hold_forever = true;
    } else {
      fprintf(stderr, "contender_main: unknown argument %s\n", arg.c_str());
      return kExitFailure;
    }
  }
  options.command = "contender_main " + name;
  onlyone::Lock lock(name, options);
  for (long round = 0; round < rounds; ++round) {
    const bool acquired = try_once ? lock.TryAcquire() : lock.Acquire(timeout_ms);
    if (!acquired) {
      fprintf(stderr, "%s\n", lock.status().message.c_str());
      return lock.status().error == onlyone::LockError::kBusy ? kExitBusy : kExitFailure;
    }
    if (hold_forever) {
      printf("held %d fence %llu\n", static_cast<int>(getpid()),
             static_cast<unsigned long long>(lock.fence()));
      fflush(stdout);
      for (;;) pause();
    }
    std::string witness;
    if (!witness_dir.empty()) {
      witness = TakeWitness(witness_dir, options.slots, round);
      if (witness.empty()) {
        fprintf(stderr, "contender_main: VIOLATION: more than %u holders of \"%s\" at once\n",
                options.slots, name.c_str());
        return kExitViolation;
      }
    }
    if (hold_ms > 0) usleep(static_cast<useconds_t>(hold_ms) * 1000);
    if (!witness.empty()) unlink(witness.c_str());
    if (!lock.Release()) {
      fprintf(stderr, "%s\n", lock.status().message.c_str());
      return kExitFailure;
    }
  }
  return kExitOk;
}
