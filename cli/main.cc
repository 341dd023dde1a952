// onlyone: run a command while holding a lock, so that at most one copy (or
// --slots N copies) runs at a time. See UsageText() in args.cc, docs/onlyone.1
// and the README's "The onlyone command" for the contract.
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/duration.h"
#include "cli/exit_codes.h"
#include "cli/name.h"
#include "cli/status_format.h"
#include "cli/supervise.h"
#include "cli/zk_backend.h"
#include "core/record.h"
#include "platform/posix/lock.h"
#include "platform/zookeeper/zk_lock.h"

namespace onlyone {
namespace cli {
namespace {

constexpr const char* kVersion = "onlyone 0.1.0";
// --replace: rounds of "stop the holder, wait for the lock". More than one
// because a waiter queued before us may take the lock when the holder leaves.
constexpr int kReplaceRoundsMax = 3;
// --replace: how long to wait for the lock after SIGKILL of the holder: its
// entry must be found dead and removed, which takes a few file operations.
constexpr int64_t kReplaceAfterKillMs = 5000;
constexpr size_t kStatusLineBytesFallback = 79;

uint64_t WallClockMs() {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1000000;
}

std::string LocalHostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

LockOptions MakeLockOptions(const Options& options) {
  LockOptions lock_options;
  lock_options.dir = ChooseLockDirectory(options.dir, getenv("ONLYONE_DIR"));
  lock_options.slots = options.slots;
  lock_options.shared_dir = options.shared_dir;
  lock_options.command = SummarizeCommand(options.command, kCommandBytesMax);
  return lock_options;
}

std::string DisplayDirectory(const LockOptions& lock_options) {
  return lock_options.dir.empty() ? DefaultLockDirectory() : lock_options.dir;
}

// The one-line status shown in place while waiting on a terminal.
class StatusLine {
 public:
  explicit StatusLine(bool enabled) : enabled_(enabled) {}
  ~StatusLine() { Clear(); }

  void Show(const std::string& text) {
    if (!enabled_) return;
    std::string line = text;
    const size_t width = TerminalWidth();
    if (line.size() > width) line = line.substr(0, width);
    fprintf(stderr, "\r\033[K%s", line.c_str());
    fflush(stderr);
    shown_ = true;
  }
  void Clear() {
    if (!shown_) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    shown_ = false;
  }

 private:
  static size_t TerminalWidth() {
    struct winsize size;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1) return size.ws_col - 1;
    return kStatusLineBytesFallback;
  }
  bool enabled_;
  bool shown_ = false;
};

// true if process `pid` (in our PID namespace) has a descriptor open in the
// lock's directory, as every live contender of the lock does.
//
// This is how --replace makes sure the pid in the holder's record names the
// holder here, before signalling it: the record's pid is a number in the
// holder's own PID namespace, and Holder does not say which one that is (its
// liveness may be known through the kernel lock across namespaces). A pid
// from another namespace, or a pid reused since, belongs to a process that
// has nothing open in this lock's directory.
bool HoldsDescriptorIn(pid_t pid, const std::string& lock_path) {
  char* resolved = realpath(lock_path.c_str(), nullptr);
  if (resolved == nullptr) return false;
  const std::string directory = resolved;
  free(resolved);
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* fds = opendir(fd_dir.c_str());
  if (fds == nullptr) return false;
  bool found = false;
  while (struct dirent* entry = readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    char target[PATH_MAX];
    const std::string link = fd_dir + "/" + entry->d_name;
    const ssize_t length = readlink(link.c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    const std::string path(target, static_cast<size_t>(length));
    if (path == directory || path.compare(0, directory.size() + 1, directory + "/") == 0) {
      found = true;
      break;
    }
  }
  closedir(fds);
  return found;
}

// Why we may not signal this holder, or "" if we may: it must be alive, on
// this host, not us, and its pid verified to be a contender of this lock in
// our PID namespace.
std::string WhyNotReplaceable(const Holder& holder, const std::string& local_host,
                              const std::string& lock_path) {
  if (holder.host != local_host) return "it runs on another host (" + holder.host + ")";
  if (!holder.alive_known) return "its liveness cannot be checked from here";
  // Its job's processes were found by what they hold (the anchor's open
  // file description) or by their process group and session: none of them
  // can be a stranger with a reused pid.
  if (holder.owner_gone) {
    if (!holder.job_pids.empty()) return "";
    return "pid " + std::to_string(holder.pid) +
           " is gone and the processes of its job that hold the lock are not visible here "
           "(another user's?)";
  }
  if (holder.pid <= 1 || static_cast<pid_t>(holder.pid) == getpid() ||
      !HoldsDescriptorIn(static_cast<pid_t>(holder.pid), lock_path)) {
    return "pid " + std::to_string(holder.pid) +
           " here has nothing open in the lock's directory (another PID namespace?)";
  }
  return "";
}

// Signals the processes that hold the lock for `target`: its job's
// processes when its owner is gone (see Holder::owner_gone), else its pid.
void SignalHolder(const Holder& target, int signal_number, bool verbose) {
  if (!target.owner_gone) {
    if (verbose) {
      fprintf(stderr, "onlyone: replacing pid %u: %s\n", target.pid, strsignal(signal_number));
    }
    kill(static_cast<pid_t>(target.pid), signal_number);
    return;
  }
  for (uint32_t pid : target.job_pids) {
    if (verbose) {
      fprintf(stderr, "onlyone: replacing pid %u of the job of gone pid %u: %s\n", pid, target.pid,
              strsignal(signal_number));
    }
    kill(static_cast<pid_t>(pid), signal_number);
  }
}

bool SameHolder(const LockStatus& status, const Holder& target) {
  return status.has_holder && status.holder.pid == target.pid &&
         status.holder.since_ms == target.since_ms;
}

// The holder to stop: the first holding entry of a fresh listing, which
// (unlike the busy status) carries the liveness verdict we need.
bool FindHolderToReplace(const Lock& lock, const LockOptions& lock_options, Holder* target) {
  std::vector<Holder> entries;
  LockStatus status;
  if (!Lock::List(lock.name(), lock_options, &entries, &status)) return false;
  for (const Holder& entry : entries) {
    if (entry.holding && !(entry.alive_known && !entry.alive)) {
      *target = entry;
      return true;
    }
  }
  return false;
}

// --replace: stop whoever holds the lock and take it.
// *refusal: why the holder was not stopped, for the conflict line.
bool AcquireByReplacing(Lock* lock, const Options& options, const LockOptions& lock_options,
                        const std::string& local_host, std::string* refusal) {
  const bool verbose = options.verbosity == Verbosity::kVerbose;
  for (int round = 0; round < kReplaceRoundsMax; ++round) {
    if (lock->TryAcquire()) return true;
    if (lock->status().error != LockError::kBusy) return false;
    Holder target;
    if (!FindHolderToReplace(*lock, lock_options, &target)) continue;  // it just left
    const std::string why_not = WhyNotReplaceable(target, local_host, lock->path());
    if (!why_not.empty()) {
      *refusal = "; not replaced: " + why_not +
                 "; --replace only stops holders on this host and in this PID namespace";
      return false;
    }
    SignalHolder(target, SIGTERM, verbose);
    if (lock->Acquire(options.grace_ms)) return true;
    if (lock->status().error != LockError::kBusy) return false;
    // Look again before SIGKILL: a pid may have been reused meanwhile, and
    // a job's processes are found afresh.
    Holder survivor;
    if (FindHolderToReplace(*lock, lock_options, &survivor) && SameHolder(lock->status(), target) &&
        survivor.since_ms == target.since_ms &&
        WhyNotReplaceable(survivor, local_host, lock->path()).empty()) {
      SignalHolder(survivor, SIGKILL, verbose);
      if (lock->Acquire(kReplaceAfterKillMs)) return true;
      if (lock->status().error != LockError::kBusy) return false;
    }
  }
  return false;
}

bool AcquireLock(LockBackend* lock, const Options& options, const LockOptions& lock_options,
                 const std::string& local_host, std::string* refusal) {
  if (options.replace) {
    // Only a LocalBackend gets here: --replace is refused in ZooKeeper mode.
    return AcquireByReplacing(static_cast<LocalBackend*>(lock)->lock(), options, lock_options,
                              local_host, refusal);
  }
  if (!options.wait) return lock->TryAcquire();
  static_assert(kWaitForeverMs == kWaitForever, "--wait's forever is the library's");
  return lock->Acquire(options.wait_ms);
}

int ReportNotAcquired(const LockBackend& lock, const Options& options,
                      const std::string& local_host, const std::string& refusal) {
  const LockStatus& status = lock.status();
  if (status.error != LockError::kBusy) return lock.ReportFailure();
  if (options.verbosity != Verbosity::kQuiet) {
    std::string line = ConflictLine(lock.name(), status, local_host, WallClockMs());
    if (options.wait && options.wait_ms != kWaitForeverMs) {
      line += " (gave up after waiting " + FormatDurationExact(options.wait_ms) + ")";
    }
    line += refusal;
    fprintf(stderr, "%s\n", line.c_str());
  }
  return options.conflict_exit_code;
}

// The ZooKeeper connect string of this run, or "" for local mode.
std::string ZkConnect(const Options& options) {
  return ChooseZkConnect(options.zk, getenv("ONLYONE_ZK"), getenv("ZKHOSTS"));
}

zookeeper::ZkOptions MakeZkOptions(const Options& options, const std::string& connect) {
  zookeeper::ZkOptions zk;
  zk.connect = connect;
  zk.lock_path = !options.zk_path.empty()
                     ? options.zk_path
                     : std::string(zookeeper::kDefaultLockRoot) + "/" + options.name;
  zk.slots = options.slots;
  zk.session_timeout_ms = options.zk_session_timeout_ms > 0 ? options.zk_session_timeout_ms
                                                            : zookeeper::kSessionTimeoutMsDefault;
  // The command must be stopped (SIGTERM, --grace, SIGKILL) before the
  // session can expire: see "Session safety" in platform/zookeeper/zk_lock.h.
  zk.stop_margin_ms = options.grace_ms;
  // A server may grant less than the default session (tickTime=500 caps it
  // at 10 s), which leaves no room for the default grace. When the user
  // chose neither, the grace is fitted to what was granted; a user's own
  // values that cannot fit stay an error (exit 78).
  zk.fit_stop_margin = options.zk_session_timeout_ms == 0 && !options.grace_given;
  zk.command = SummarizeCommand(options.command, kCommandBytesMax);
  zk.client_log = options.verbosity == Verbosity::kVerbose;
  return zk;
}

// Options that only make sense in one mode; "" when the combination is fine.
std::string ModeConflict(const Options& options, bool zk_mode) {
  if (zk_mode) {
    if (options.replace) return "--replace works on local locks only, not with --zk";
    if (!options.dir.empty()) return "--dir is for local locks; with --zk use --zk-path";
    if (options.shared_dir) return "--shared-dir is for local locks, not with --zk";
    if (options.name.find('/') != std::string::npos) {
      return "bad lock name '" + options.name + "': no '/' (use --zk-path for a node path)";
    }
    if (options.name == "." || options.name == "..") return "bad lock name '" + options.name + "'";
  } else {
    if (!options.zk_path.empty()) return "--zk-path needs --zk (or $ONLYONE_ZK, $ZKHOSTS)";
    if (options.zk_session_timeout_ms > 0) {
      return "--zk-session-timeout needs --zk (or $ONLYONE_ZK, $ZKHOSTS)";
    }
  }
  return "";
}

int RunCommand(Options options) {
  if (options.name.empty()) options.name = DeriveLockName(options.command);
  const LockOptions lock_options = MakeLockOptions(options);
  const std::string local_host = LocalHostName();
  const bool verbose = options.verbosity == Verbosity::kVerbose;
  const std::string zk_connect = ZkConnect(options);
  const std::string conflict = ModeConflict(options, !zk_connect.empty());
  if (!conflict.empty()) {
    fprintf(stderr, "onlyone: %s\n", conflict.c_str());
    return kExitUsage;
  }

  std::string error;
  if (!InstallSignalRelay(&error)) {
    fprintf(stderr, "onlyone: %s\n", error.c_str());
    return kExitOsErr;
  }
  std::unique_ptr<LockBackend> backend;
  if (zk_connect.empty()) {
    backend.reset(new LocalBackend(options.name, lock_options, DisplayDirectory(lock_options)));
  } else {
    // Before the C client opens its socket and pipes (without O_CLOEXEC).
    RememberInheritedDescriptors();
    backend.reset(new ZkBackend(options.name, MakeZkOptions(options, zk_connect)));
  }
  LockBackend& lock = *backend;
  bool acquired = false;
  std::string refusal;
  {
    StatusLine status_line(options.wait && options.verbosity != Verbosity::kQuiet &&
                           isatty(STDERR_FILENO));
    lock.set_wait_observer([&](const Holder* holder, uint64_t waited_ms) {
      status_line.Show(WaitingLine(options.name, holder, waited_ms, local_host, WallClockMs()));
    });
    RelayCancelsWaitOf(&lock);
    if (verbose) fprintf(stderr, "onlyone: %s\n", DescribeWaiting(options, options.name).c_str());
    acquired = AcquireLock(&lock, options, lock_options, local_host, &refusal);
    RelayCancelsWaitOf(nullptr);
  }
  if (CancelSignal() != 0) {
    if (verbose)
      fprintf(stderr, "onlyone: %s while waiting; giving up\n", strsignal(CancelSignal()));
    if (acquired) lock.Release();
    return kExitSignalBase + CancelSignal();
  }
  if (!acquired) return ReportNotAcquired(lock, options, local_host, refusal);

  const std::string fence = lock.fence();
  setenv("ONLYONE_FENCE", fence.c_str(), 1);
  setenv("ONLYONE_NAME", options.name.c_str(), 1);
  if (verbose) {
    fprintf(stderr, "onlyone: acquired '%s' %s (fence %s)\n", options.name.c_str(),
            lock.where().c_str(), fence.c_str());
  }

  SuperviseOptions supervise;
  supervise.command = options.command;
  supervise.grace_ms = options.grace_ms;
  if (!zk_connect.empty()) {
    // The grace must be the stop margin the session was judged with.
    const ZkBackend& zk = static_cast<const ZkBackend&>(lock);
    supervise.grace_ms = zk.grace_ms();
    if (verbose && zk.grace_ms() != options.grace_ms) {
      fprintf(stderr, "onlyone: %s\n", zk.DescribeFittedGrace(options.grace_ms).c_str());
    }
  }
  supervise.verbose = verbose;
  const ChildResult child = RunAndSupervise(&lock, supervise);
  if (!child.error.empty()) fprintf(stderr, "onlyone: %s\n", child.error.c_str());
  if (verbose && child.started) {
    fprintf(stderr, "onlyone: command finished, exit code %d\n", child.exit_code);
  }
  if (!child.lock_lost && !lock.Release()) {
    fprintf(stderr, "onlyone: warning: releasing '%s': %s\n", options.name.c_str(),
            lock.DescribeStatus().c_str());
  }
  return child.exit_code;
}

int RunZkStatus(const Options& options, const std::string& connect) {
  if (!options.name.empty() && options.name.find('/') != std::string::npos) {
    fprintf(stderr, "onlyone: bad lock name '%s': no '/'\n", options.name.c_str());
    return kExitUsage;
  }
  zookeeper::ZkOptions zk = MakeZkOptions(options, connect);
  zk.stop_margin_ms = 0;
  const bool single = !options.zk_path.empty() || !options.name.empty();
  std::string name = options.name;
  if (!options.zk_path.empty() && name.empty()) {
    name = options.zk_path.substr(options.zk_path.rfind('/') + 1);
  }
  const std::string root = !options.zk_path.empty()
                               ? options.zk_path.substr(0, options.zk_path.rfind('/'))
                               : zookeeper::kDefaultLockRoot;
  std::vector<LockListing> locks;
  std::string error_line;
  int exit_code = kExitOk;
  if (!ListZkLocks(zk, root.empty() ? "/" : root, name, single, &locks, &error_line, &exit_code)) {
    fprintf(stderr, "%s\n", error_line.c_str());
    return exit_code;
  }
  const std::string output = options.json
                                 ? FormatZkStatusJson(connect, root.empty() ? "/" : root, locks)
                                 : FormatStatusText(locks, LocalHostName(), WallClockMs());
  fputs(output.c_str(), stdout);
  return kExitOk;
}

int RunStatus(const Options& options) {
  const std::string zk_connect = ZkConnect(options);
  const std::string conflict = ModeConflict(options, !zk_connect.empty());
  if (!conflict.empty()) {
    fprintf(stderr, "onlyone: %s\n", conflict.c_str());
    return kExitUsage;
  }
  if (!zk_connect.empty()) return RunZkStatus(options, zk_connect);
  LockOptions lock_options;
  lock_options.dir = ChooseLockDirectory(options.dir, getenv("ONLYONE_DIR"));
  lock_options.shared_dir = options.shared_dir;
  LockStatus status;
  std::vector<std::string> names;
  if (!options.name.empty()) {
    names.push_back(options.name);
  } else if (!Lock::ListNames(lock_options, &names, &status)) {
    fprintf(stderr, "onlyone: cannot list locks in %s: %s\n",
            DisplayDirectory(lock_options).c_str(), DescribeLockStatus(status).c_str());
    return ExitCodeForLockStatus(status);
  }
  std::vector<LockListing> locks;
  for (const std::string& name : names) {
    LockListing listing;
    listing.name = name;
    if (!Lock::List(name, lock_options, &listing.entries, &status)) {
      fprintf(stderr, "onlyone: cannot read lock '%s' in %s: %s\n", name.c_str(),
              DisplayDirectory(lock_options).c_str(), DescribeLockStatus(status).c_str());
      return ExitCodeForLockStatus(status);
    }
    locks.push_back(listing);
  }
  const std::string output = options.json ? FormatStatusJson(DisplayDirectory(lock_options), locks)
                                          : FormatStatusText(locks, LocalHostName(), WallClockMs());
  fputs(output.c_str(), stdout);
  return kExitOk;
}

}  // namespace
}  // namespace cli
}  // namespace onlyone

int main(int argc, char** argv) {
  using namespace onlyone::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const ParseResult parsed = ParseArgs(args);
  if (!parsed.ok) {
    fprintf(stderr, "onlyone: %s\n", parsed.error.c_str());
    return kExitUsage;
  }
  switch (parsed.options.mode) {
    case Mode::kHelp: fputs(UsageText().c_str(), stdout); return kExitOk;
    case Mode::kVersion: printf("%s\n", kVersion); return kExitOk;
    case Mode::kStatus: return RunStatus(parsed.options);
    case Mode::kRun: return RunCommand(parsed.options);
  }
  return kExitSoftware;
}
