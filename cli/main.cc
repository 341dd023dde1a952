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
#include "cli/backends.h"
#include "cli/duration.h"
#include "cli/exit_codes.h"
#include "cli/name.h"
#include "cli/status_format.h"
#include "cli/supervise.h"
#include "platform/backend.h"
#include "platform/posix/backend.h"
#include "platform/posix/lock.h"

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

bool AcquireLock(Backend* lock, const Options& options, const std::string& local_host,
                 std::string* refusal) {
  if (options.replace) {
    // Only a local lock gets here: --replace is refused in ZooKeeper mode.
    auto* local = static_cast<posix::PosixBackend*>(lock);
    return AcquireByReplacing(local->lock(), options, local->options(), local_host, refusal);
  }
  if (!options.wait) return lock->TryAcquire();
  return lock->Acquire(options.wait_ms);
}

int ReportNotAcquired(const Backend& lock, const Options& options, const std::string& local_host,
                      const std::string& refusal) {
  const BackendStatus& status = lock.status();
  if (status.error != BackendError::kBusy) return ReportFailure(lock);
  if (options.verbosity != Verbosity::kQuiet) {
    std::string line = ConflictLine(lock.name(), status, local_host, WallClockMs());
    if (options.wait && options.wait_ms != kWaitForever) {
      line += " (gave up after waiting " + FormatDurationExact(options.wait_ms) + ")";
    }
    line += refusal;
    fprintf(stderr, "%s\n", line.c_str());
  }
  return options.conflict_exit_code;
}

// Acquires `lock` as the options say, with a status line on a terminal
// while waiting; signals that end onlyone cancel the wait.
bool WaitForLock(Backend* lock, const Options& options, const std::string& local_host,
                 std::string* refusal) {
  StatusLine status_line(options.wait && options.verbosity != Verbosity::kQuiet &&
                         isatty(STDERR_FILENO));
  lock->set_wait_observer([&](const Holder* holder, uint64_t waited_ms) {
    status_line.Show(WaitingLine(options.name, holder, waited_ms, local_host, WallClockMs()));
  });
  RelayCancelsWaitOf(lock);
  if (options.verbosity == Verbosity::kVerbose) {
    fprintf(stderr, "onlyone: %s\n", DescribeWaiting(options, options.name).c_str());
  }
  const bool acquired = AcquireLock(lock, options, local_host, refusal);
  RelayCancelsWaitOf(nullptr);
  return acquired;
}

// Runs the command while holding `lock`, then releases it.
int RunHolding(const BackendKind& kind, Backend* lock, const Options& options) {
  const bool verbose = options.verbosity == Verbosity::kVerbose;
  const std::string fence = std::to_string(lock->fence());
  setenv("ONLYONE_FENCE", fence.c_str(), 1);
  setenv("ONLYONE_NAME", options.name.c_str(), 1);
  if (verbose) {
    fprintf(stderr, "onlyone: acquired '%s' %s (fence %s)\n", options.name.c_str(),
            lock->where().c_str(), fence.c_str());
  }
  SuperviseOptions supervise;
  supervise.command = options.command;
  // The grace must be the stop margin the backend judges the holding with.
  supervise.grace_ms = lock->stop_margin_ms(options.grace_ms);
  if (verbose && supervise.grace_ms != options.grace_ms) {
    fprintf(stderr, "onlyone: %s\n", kind.DescribeFit(*lock, options).c_str());
  }
  supervise.verbose = verbose;
  const ChildResult child = RunAndSupervise(lock, supervise);
  if (!child.error.empty()) fprintf(stderr, "onlyone: %s\n", child.error.c_str());
  if (verbose && child.started) {
    fprintf(stderr, "onlyone: command finished, exit code %d\n", child.exit_code);
  }
  if (!child.lock_lost && !lock->Release()) {
    fprintf(stderr, "onlyone: warning: releasing '%s': %s\n", options.name.c_str(),
            DescribeBackendStatus(lock->status()).c_str());
  }
  return child.exit_code;
}

int RunCommand(Options options) {
  if (options.name.empty()) options.name = DeriveLockName(options.command);
  const std::string local_host = LocalHostName();
  const std::unique_ptr<BackendKind> kind = ChooseBackend(options);
  const std::string conflict = kind->Conflict(options);
  if (!conflict.empty()) {
    fprintf(stderr, "onlyone: %s\n", conflict.c_str());
    return kExitUsage;
  }
  std::string error;
  if (!InstallSignalRelay(&error)) {
    fprintf(stderr, "onlyone: %s\n", error.c_str());
    return kExitOsErr;
  }
  const std::unique_ptr<Backend> lock = kind->Make(options);
  std::string refusal;
  const bool acquired = WaitForLock(lock.get(), options, local_host, &refusal);
  if (CancelSignal() != 0) {
    if (options.verbosity == Verbosity::kVerbose) {
      fprintf(stderr, "onlyone: %s while waiting; giving up\n", strsignal(CancelSignal()));
    }
    if (acquired) lock->Release();
    return kExitSignalBase + CancelSignal();
  }
  if (!acquired) return ReportNotAcquired(*lock, options, local_host, refusal);
  return RunHolding(*kind, lock.get(), options);
}

int RunStatus(const Options& options) {
  const std::unique_ptr<BackendKind> kind = ChooseBackend(options);
  const std::string conflict = kind->Conflict(options);
  if (!conflict.empty()) {
    fprintf(stderr, "onlyone: %s\n", conflict.c_str());
    return kExitUsage;
  }
  return kind->RunStatus(options);
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
