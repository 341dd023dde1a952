#include "cli/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#ifdef __linux__
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include "cli/duration.h"
#include "cli/exit_codes.h"

namespace onlyone {
namespace cli {

const int kForwardedSignals[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM,
                                 SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};
const int kForwardedSignalCount = sizeof(kForwardedSignals) / sizeof(kForwardedSignals[0]);

namespace {

// State shared with the signal handler: only lock-free atomics and the pipe.
int g_signal_pipe[2] = {-1, -1};
std::atomic<Backend*> g_waiting_lock{nullptr};
// RememberInheritedDescriptors(): which descriptors the command may inherit.
bool g_inherited_known = false;
bool g_inherited[kInheritedFdsTracked] = {};
volatile sig_atomic_t g_cancel_signal = 0;
// Signals we handle. A signal that was ignored when onlyone started (SIGINT
// and SIGQUIT in background jobs of a shell, SIGHUP under nohup) stays
// ignored, for us and for the command, as if onlyone were not there.
bool g_handled[NSIG] = {};

bool CancelsWait(int signal_number) {
  return signal_number != SIGWINCH && signal_number != SIGCHLD;
}

void OnSignal(int signal_number) {
  const int saved_errno = errno;
  Backend* waiting = g_waiting_lock.load();
  if (waiting != nullptr && CancelsWait(signal_number)) {
    if (g_cancel_signal == 0) g_cancel_signal = signal_number;
    waiting->Cancel();
  }
  // Non-blocking: if the pipe is full the loop is awake anyway.
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  ssize_t ignored = write(g_signal_pipe[1], &byte, 1);
  (void)ignored;
  errno = saved_errno;
}

// After SIGKILL of a stopped command's group: how often to look for its end.
constexpr int64_t kStoppedPollMs = 1000;

bool IsTerminalSignal(int signal_number) {
  return signal_number == SIGINT || signal_number == SIGQUIT || signal_number == SIGWINCH;
}

int64_t MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

// Reads every pending signal number from the self-pipe.
std::vector<int> DrainSignals() {
  std::vector<int> signals;
  unsigned char buffer[64];
  for (;;) {
    const ssize_t count = read(g_signal_pipe[0], buffer, sizeof buffer);
    if (count <= 0) break;
    for (ssize_t i = 0; i < count; ++i) signals.push_back(buffer[i]);
  }
  return signals;
}

// Interactive use: when onlyone runs in the foreground of a terminal with
// stdin and stdout on it (`onlyone x -- vim`), the command's group must own
// the terminal, or reading it would stop the command (SIGTTIN). Not done in
// pipelines (`onlyone x -- make | less`), where taking the terminal from our
// own group would stop `less` instead. Ctrl-Z then stops the command's
// group; we take the terminal back and stop ourselves so the shell sees a
// stopped job, and on `fg` give it back and continue the command.
class TerminalHandover {
 public:
  // Decided before the command starts: it takes the terminal itself too,
  // before exec, so that it never runs in the background of it.
  static bool Wanted() {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) return false;
    return tcgetpgrp(STDIN_FILENO) == getpgrp();  // else we are in the background
  }
  void Begin(pid_t group_id) {
    group_id_ = group_id;
    active_ = SetForeground(group_id_);
  }
  bool active() const { return active_; }
  void End() {
    if (active_) SetForeground(getpgrp());
    active_ = false;
  }
  // The command stopped (Ctrl-Z): stop like a foreground job would.
  void StopAlongWithCommand() {
    SetForeground(getpgrp());
    raise(SIGSTOP);
    // Continued (fg): the shell gave the terminal to our group.
    SetForeground(group_id_);
    kill(-group_id_, SIGCONT);
  }

 private:
  // tcsetpgrp from a background group raises SIGTTOU unless it is blocked.
 public:
  static bool SetForeground(pid_t group_id) {
    sigset_t ttou, original_mask;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &original_mask);
    const bool done = tcsetpgrp(STDIN_FILENO, group_id) == 0;
    sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    return done;
  }
  pid_t group_id_ = 0;
  bool active_ = false;
};

// In the child: every descriptor opened after start (the lock's, a client
// library's) becomes close-on-exec. close_range(2) over each gap between
// inherited descriptors, fcntl one by one where it is missing (ENOSYS).
// Async-signal-safe (system calls only).
void MarkNotInheritedCloseOnExec() {
  if (!g_inherited_known) return;
  int gap_start = 0;
  for (int fd = 0; fd <= kInheritedFdsTracked; ++fd) {
    const bool inherited = fd < kInheritedFdsTracked && g_inherited[fd];
    if (!inherited && fd < kInheritedFdsTracked) continue;
    if (gap_start < fd) {
      const unsigned int last = static_cast<unsigned int>(fd - 1);
      if (syscall(SYS_close_range, static_cast<unsigned int>(gap_start), last,
                  CLOSE_RANGE_CLOEXEC) != 0) {
        for (int each = gap_start; each <= static_cast<int>(last); ++each) {
          fcntl(each, F_SETFD, FD_CLOEXEC);
        }
      }
    }
    gap_start = fd + 1;
  }
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(char* const* argv, pid_t parent_pid, pid_t group_id, bool take_terminal,
                            int job_fd, const sigset_t& original_mask, int exec_error_fd) {
  ResetSignalDispositions();
  // The job's process group (led by the watchdog), so that stopping the
  // command reaches its helpers, and terminal signals aimed at onlyone are
  // not delivered twice.
  setpgid(0, group_id);
  if (take_terminal) TerminalHandover::SetForeground(group_id);
#ifdef __linux__
  // If onlyone dies (even by SIGKILL), the kernel kills the command, so the
  // lock never looks free while it runs. The prctl only covers deaths after
  // it: if the parent already died, getppid() is no longer parent_pid.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent_pid) _exit(kExitOsErr);
#else
  (void)parent_pid;
#endif
  MarkNotInheritedCloseOnExec();
  // The one lock descriptor the command inherits: the anchor's, whose kernel
  // lock keeps the lock held while any process of the job holds it, even
  // when onlyone and the watchdog are both killed (platform/posix/job.h).
  // Cleared here, in the child's own descriptor table: ours keeps
  // FD_CLOEXEC, so nothing else we start inherits it.
  if (job_fd >= 0 && fcntl(job_fd, F_SETFD, 0) != 0) _exit(kExitOsErr);
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  execvp(argv[0], argv);
  const int exec_errno = errno;
  ssize_t ignored = write(exec_error_fd, &exec_errno, sizeof exec_errno);
  (void)ignored;
  _exit(ExitCodeForExecErrno(exec_errno));
}

// Reads the child's exec errno: 0 when exec succeeded (the close-on-exec
// pipe reached end of file without data).
int ReadExecErrno(int fd) {
  int exec_errno = 0;
  ssize_t count;
  do {
    count = read(fd, &exec_errno, sizeof exec_errno);
  } while (count < 0 && errno == EINTR);
  return count == static_cast<ssize_t>(sizeof exec_errno) ? exec_errno : 0;
}

// The watchdog leads the job's process group and outlives onlyone by a
// moment: it blocks reading a pipe whose only writer is onlyone. A byte means
// "disarm" (normal end); end of file without a byte means onlyone died
// without saying so (SIGKILL, a crash), and the watchdog then SIGKILLs the
// whole group: the command and whatever it started that stayed in the group.
// Being the group's leader, it keeps the group id from being reused while it
// lives. It is a fork of onlyone, so it shares the lock's kernel lock (the
// anchor's flock): the lock keeps looking held until the group is dead.
[[noreturn]] void RunWatchdog(int disarm_fd) {
  // Signals for the group (our own SIGTERM on a lost lock, a terminal's
  // SIGINT or SIGTSTP) are for the command, not for the watchdog. It was
  // forked with every signal blocked and keeps them blocked for its whole
  // life: none is ever delivered (no handler of ours runs here, no stop),
  // which is what ignoring each of them did, in no system call instead of
  // twelve. SIGKILL cannot be blocked: kill -9 of the group still ends it.
  // Hold no end of the caller's pipes: `$(onlyone ...)` must see EOF when
  // onlyone and the command are done, whatever the watchdog does.
  close(STDIN_FILENO);
  close(STDOUT_FILENO);
  close(STDERR_FILENO);
  char byte;
  ssize_t count;
  do {
    count = read(disarm_fd, &byte, 1);
  } while (count < 0 && errno == EINTR);
  if (count == 1) _exit(0);
  kill(0, SIGKILL);  // our group: the command, its group-mates, and us
  _exit(kExitSoftware);
}

// The watchdog and our end of its disarm pipe.
struct Watchdog {
  pid_t pid = -1;
  int disarm_fd = -1;
};

// Forks a watchdog: with group_id 0 as the leader of a new process group
// (the job's), else into the job's existing group `group_id`, to replace
// one that was killed. false: *error set.
bool StartWatchdog(pid_t group_id, Watchdog* watchdog, std::string* error) {
  int disarm_pipe[2];
  if (pipe2(disarm_pipe, O_CLOEXEC) != 0) {
    *error = std::string("cannot create a pipe: ") + strerror(errno);
    return false;
  }
  sigset_t all_signals, original_mask;
  sigfillset(&all_signals);
  sigprocmask(SIG_BLOCK, &all_signals, &original_mask);
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, group_id);
    close(disarm_pipe[1]);
    RunWatchdog(disarm_pipe[0]);
  }
  const int fork_errno = errno;
  // Both sides: the group exists before the command joins it.
  if (pid > 0) setpgid(pid, group_id == 0 ? pid : group_id);
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  close(disarm_pipe[0]);
  if (pid < 0) {
    close(disarm_pipe[1]);
    *error = std::string("cannot start the watchdog (fork): ") + strerror(fork_errno);
    return false;
  }
  watchdog->pid = pid;
  watchdog->disarm_fd = disarm_pipe[1];
  return true;
}

// Normal end: tell the watchdog to exit quietly, and reap it.
void DisarmWatchdog(const Watchdog& watchdog) {
  if (watchdog.pid < 0) return;  // killed, and none could replace it
  // The watchdog is gone if a stop SIGKILLed its group: then the write fails
  // with EPIPE and raises SIGPIPE, which must not end onlyone. Block it and
  // consume it rather than changing its disposition, which the command
  // inherits.
  sigset_t pipe_signal, original_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_signal, &original_mask);
  const char byte = 'd';
  if (write(watchdog.disarm_fd, &byte, 1) < 0 && errno == EPIPE) {
    const struct timespec no_wait = {0, 0};
    sigtimedwait(&pipe_signal, nullptr, &no_wait);
  }
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  close(watchdog.disarm_fd);
  while (waitpid(watchdog.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// vfork, not fork: the child only makes system calls and then execs, so it
// need not copy our page tables (fork's cost, and copy-on-write faults in
// both processes afterwards, was most of what the command added to a run of
// `true`). The traps vfork sets:
//  - until it execs, the child runs in our memory while we are suspended.
//    ExecChild therefore writes nothing but its own stack frames (below
//    ours) and errno, which the caller reads only when vfork itself failed;
//    its sigaction calls change its own disposition table, not ours (vfork
//    does not share it);
//  - vfork returns twice, like setjmp: a C++ object alive across it (a
//    std::string's capacity, say) may be clobbered, and GCC says so
//    (-Wclobbered, at -O1 and above). So vfork lives in this function of
//    plain values alone, never inlined into a caller that has objects.
__attribute__((noinline)) pid_t VforkExec(char* const* argv, pid_t parent_pid, pid_t group_id,
                                          bool take_terminal, int job_fd,
                                          const sigset_t& original_mask, int exec_error_fd) {
  const pid_t pid = vfork();
  if (pid == 0) {
    // The analyzer allows only exec and _exit after vfork; ExecChild makes
    // system calls only (setpgid, tcsetpgrp, prctl, close_range, fcntl,
    // sigprocmask, sigaction, execvp, write, _exit), no allocation and no
    // lock, as above.
    // NOLINTNEXTLINE(clang-analyzer-unix.Vfork)
    ExecChild(argv, parent_pid, group_id, take_terminal, job_fd, original_mask, exec_error_fd);
  }
  return pid;
}

// fork+exec into process group group_id. Returns the pid, or -1 with *error
// set. *exec_errno is the errno of a failed exec (the child has exited then).
pid_t StartChild(const std::vector<std::string>& command, pid_t group_id, bool take_terminal,
                 int job_fd, int* exec_errno, std::string* error) {
  std::vector<char*> argv;
  for (const std::string& word : command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);

  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    *error = std::string("cannot create a pipe: ") + strerror(errno);
    return -1;
  }
  const pid_t parent_pid = getpid();
  // Block every signal across fork so the child cannot run our handlers
  // before it has reset them.
  sigset_t all_signals, original_mask;
  sigfillset(&all_signals);
  sigprocmask(SIG_BLOCK, &all_signals, &original_mask);
  const pid_t pid = VforkExec(argv.data(), parent_pid, group_id, take_terminal, job_fd,
                              original_mask, exec_pipe[1]);
  const int fork_errno = errno;
  if (pid > 0) setpgid(pid, group_id);  // also here: no race with signalling the group
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  close(exec_pipe[1]);
  if (pid < 0) {
    close(exec_pipe[0]);
    *error = std::string("cannot start the command (fork): ") + strerror(fork_errno);
    return -1;
  }
  *exec_errno = ReadExecErrno(exec_pipe[0]);
  close(exec_pipe[0]);
  return pid;
}

// true when the child has exited; it is NOT reaped (WNOWAIT), so its pid and
// process group id cannot be reused while we still signal them.
bool ChildHasExited(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  int result;
  do {
    result = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (result < 0 && errno == EINTR);
  return result == 0 && info.si_pid == pid;
}

int ReapChild(pid_t pid) {
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  return wait_status;
}

// true when the child stopped (consumes that report; exits stay unreported).
bool ChildHasStopped(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  return waitid(P_PID, static_cast<id_t>(pid), &info, WSTOPPED | WNOHANG) == 0 &&
         info.si_pid == pid;
}

// Supervision of one running child.
class Supervisor {
 public:
  Supervisor(Backend* lock, pid_t pid, pid_t group_id, Watchdog* watchdog,
             const SuperviseOptions& options, TerminalHandover* terminal)
      : lock_(lock),
        pid_(pid),
        group_id_(group_id),
        watchdog_(*watchdog),
        options_(options),
        terminal_(*terminal) {}

  ChildResult Run() {
    int64_t next_check_ms = MonotonicMs() + lock_->first_check_ms();
    while (!ChildHasExited(pid_)) {
      if (terminal_.active() && ChildHasStopped(pid_)) terminal_.StopAlongWithCommand();
      int64_t now_ms = MonotonicMs();
      if (stopping_ && !killed_ && now_ms >= kill_at_ms_) KillGroup();
      if (!stopping_ && (now_ms >= next_check_ms || backend_woke_)) {
        backend_woke_ = false;
        int64_t check_in_ms = 0;
        CheckLock(&check_in_ms);
        now_ms = MonotonicMs();
        next_check_ms = now_ms + check_in_ms;
      }
      int64_t wake_ms = stopping_ && !killed_ ? kill_at_ms_ : next_check_ms;
      if (stopping_ && killed_) wake_ms = now_ms + kStoppedPollMs;
      WaitForSignal(wake_ms - now_ms);
      ForwardPendingSignals();
      // In a stop, our own SIGKILL of the group ends the watchdog too.
      if (!stopping_) ReplaceWatchdogIfDead();
    }
    terminal_.End();
    // The command is gone (not yet reaped, so the group still exists); in a
    // stop, nothing of its group may outlive it.
    if (stopping_) kill(-group_id_, SIGKILL);
    ChildResult result;
    result.started = true;
    result.exit_code = ExitCodeForWaitStatus(ReapChild(pid_));
    if (stopping_) {
      result.lock_lost = true;
      result.exit_code = kExitUnavailable;
    }
    return result;
  }

 private:
  // Sleeps until a signal, the backend's wake descriptor (session events of
  // the ZooKeeper client) or the timeout.
  void WaitForSignal(int64_t timeout_ms) {
    if (timeout_ms < 0) timeout_ms = 0;
    struct pollfd wake[2] = {{g_signal_pipe[0], POLLIN, 0}, {lock_->wake_fd(), POLLIN, 0}};
    const nfds_t count = !stopping_ && lock_->wake_fd() >= 0 ? 2 : 1;
    poll(wake, count, static_cast<int>(timeout_ms));  // EINTR is as good as a wakeup
    if (count == 2 && (wake[1].revents & POLLIN) != 0) backend_woke_ = true;
  }

  void ForwardPendingSignals() {
    for (int signal_number : DrainSignals()) {
      if (signal_number == SIGCHLD) continue;
      if (options_.verbose) {
        fprintf(stderr, "onlyone: forwarding %s to pid %d\n", strsignal(signal_number),
                static_cast<int>(pid_));
      }
      // Keyboard and terminal signals go to the whole group, as a terminal
      // delivers them to a foreground job; the rest to the command only, as
      // `kill PID` would (a supervisor's SIGTERM is for the main process).
      kill(IsTerminalSignal(signal_number) ? -group_id_ : pid_, signal_number);
    }
  }

  void CheckLock(int64_t* check_in_ms) {
    std::string why;
    if (lock_->CheckHold(&why, check_in_ms) == Backend::Hold::kHeld) return;
    fprintf(stderr,
            "onlyone: lost the lock '%s': %s; stopping the command (SIGTERM, then "
            "SIGKILL after %s)\n",
            lock_->name().c_str(), why.c_str(), FormatDuration(options_.grace_ms).c_str());
    stopping_ = true;
    kill_at_ms_ = MonotonicMs() + options_.grace_ms;
    kill(-group_id_, SIGTERM);
  }

  // The watchdog died while the command runs: someone killed it (`kill -9`,
  // `killall -9 onlyone`), leaving nobody to stop the command if we are
  // killed next. The lock stays held all the same (the command holds the
  // anchor); say so at once, and start another watchdog in the job's group.
  void ReplaceWatchdogIfDead() {
    if (watchdog_.pid < 0) return;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, static_cast<id_t>(watchdog_.pid), &info, WEXITED | WNOHANG) != 0 ||
        info.si_pid != watchdog_.pid) {
      return;
    }
    const pid_t dead = watchdog_.pid;
    close(watchdog_.disarm_fd);
    watchdog_ = Watchdog();
    const bool signalled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    const std::string how = signalled ? "was killed by signal " + std::to_string(info.si_status) +
                                            " (" + strsignal(info.si_status) + ")"
                                      : "exited with status " + std::to_string(info.si_status);
    std::string error;
    if (StartWatchdog(group_id_, &watchdog_, &error)) {
      fprintf(stderr, "onlyone: the watchdog (pid %d) %s; started another (pid %d)\n",
              static_cast<int>(dead), how.c_str(), static_cast<int>(watchdog_.pid));
    } else {
      fprintf(stderr,
              "onlyone: the watchdog (pid %d) %s, and no other could be started (%s): if "
              "onlyone is killed now, the command runs on, unsupervised, holding the lock\n",
              static_cast<int>(dead), how.c_str(), error.c_str());
    }
  }

  void KillGroup() {
    if (options_.verbose) fprintf(stderr, "onlyone: grace period over, sending SIGKILL\n");
    kill(-group_id_, SIGKILL);
    killed_ = true;
  }

  Backend* lock_;
  pid_t pid_;
  pid_t group_id_;
  Watchdog& watchdog_;
  const SuperviseOptions& options_;
  TerminalHandover& terminal_;
  bool stopping_ = false;
  bool killed_ = false;
  int64_t kill_at_ms_ = 0;
  bool backend_woke_ = false;
};

}  // namespace

bool InstallSignalRelay(std::string* error) {
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    *error = std::string("cannot create the signal pipe: ") + strerror(errno);
    return false;
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = OnSignal;
  sigfillset(&action.sa_mask);
  // SA_RESTART: the library's blocking calls are woken by Cancel(), not by
  // EINTR, so they need not be interrupted.
  action.sa_flags = SA_RESTART;
  // One pass: each sigaction installs our handler and returns the previous
  // disposition, which is put back when it was SIG_IGN (one call per signal
  // instead of a query and an install). The signals are blocked meanwhile,
  // so one sent to an ignoring onlyone in between stays pending and is then
  // discarded, as if it had been ignored all along.
  sigset_t relayed, original_mask;
  sigemptyset(&relayed);
  for (int i = 0; i < kForwardedSignalCount; ++i) sigaddset(&relayed, kForwardedSignals[i]);
  sigprocmask(SIG_BLOCK, &relayed, &original_mask);
  bool installed = true;
  for (int i = 0; i < kForwardedSignalCount && installed; ++i) {
    struct sigaction previous;
    if (sigaction(kForwardedSignals[i], &action, &previous) != 0) {
      installed = false;
    } else if (previous.sa_handler == SIG_IGN) {
      installed = sigaction(kForwardedSignals[i], &previous, nullptr) == 0;
    } else {
      g_handled[kForwardedSignals[i]] = true;
    }
  }
  const int install_errno = errno;
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  if (!installed) {
    *error = std::string("cannot install a signal handler: ") + strerror(install_errno);
    return false;
  }
  // Without SA_NOCLDSTOP: a stopped command (Ctrl-Z) must wake the loop.
  action.sa_flags = SA_RESTART;
  if (sigaction(SIGCHLD, &action, nullptr) != 0) {
    *error = std::string("cannot install the SIGCHLD handler: ") + strerror(errno);
    return false;
  }
  return true;
}

void RememberInheritedDescriptors() {
  for (int fd = 0; fd < kInheritedFdsTracked; ++fd) {
    g_inherited[fd] = fcntl(fd, F_GETFD) >= 0;
  }
  g_inherited_known = true;
}

void RelayCancelsWaitOf(Backend* lock) {
  if (lock == nullptr) {
    g_waiting_lock.store(nullptr);
    return;
  }
  DrainSignals();  // stale wakeups (SIGWINCH, SIGCHLD) from before
  g_waiting_lock.store(lock);
}

int CancelSignal() { return g_cancel_signal; }

void ResetSignalDispositions() {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < kForwardedSignalCount; ++i) {
    if (g_handled[kForwardedSignals[i]]) sigaction(kForwardedSignals[i], &action, nullptr);
  }
  sigaction(SIGCHLD, &action, nullptr);
}

ChildResult RunAndSupervise(Backend* lock, const SuperviseOptions& options) {
  ChildResult result;
  Watchdog watchdog;
  if (!StartWatchdog(0, &watchdog, &result.error)) {
    result.exit_code = kExitOsErr;
    return result;
  }
  const pid_t group_id = watchdog.pid;
  std::string uncovered;
  if (!lock->RecordJobGroup(group_id, &uncovered)) {
    fprintf(stderr, "onlyone: warning: %s\n", uncovered.c_str());
  }
  int exec_errno = 0;
  const bool take_terminal = TerminalHandover::Wanted();
  const pid_t pid = StartChild(options.command, group_id, take_terminal, lock->job_fd(),
                               &exec_errno, &result.error);
  TerminalHandover terminal;
  if (pid > 0 && take_terminal) terminal.Begin(group_id);
  if (pid < 0) {
    DisarmWatchdog(watchdog);
    result.exit_code = kExitOsErr;
    return result;
  }
  if (exec_errno != 0) {
    terminal.End();
    ReapChild(pid);
    DisarmWatchdog(watchdog);
    result.exit_code = ExitCodeForExecErrno(exec_errno);
    result.error = "cannot run '" + options.command[0] + "': " + strerror(exec_errno);
    return result;
  }
  if (options.verbose) {
    fprintf(stderr, "onlyone: started pid %d in process group %d: %s\n", static_cast<int>(pid),
            static_cast<int>(group_id), options.command[0].c_str());
  }
  result = Supervisor(lock, pid, group_id, &watchdog, options, &terminal).Run();
  DisarmWatchdog(watchdog);
  return result;
}

}  // namespace cli
}  // namespace onlyone
