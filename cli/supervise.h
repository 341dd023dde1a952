// Running the guarded command: signal relay, child start, supervision.
//
// One thread does everything. Signal handlers only write the signal number
// to a self-pipe (and, while we still wait for the lock, call Lock::Cancel,
// which is async-signal-safe); the supervision loop polls that pipe with a
// timeout, so it also wakes up to re-check that we still hold the lock.
//
// Guarantee: the lock must never look free while a process of the job runs,
// whatever kills onlyone and the watchdog, together or one by one.
//  - The command inherits one lock descriptor, the liveness anchor's
//    (Backend::job_fd): every process of the job shares its flock, and
//    probers judge the owner alive while any of them holds it, setsid
//    children included. The lock's other descriptors are O_CLOEXEC (H9:
//    a child holding the directory or the inotify instance would be noise).
//    A normal end drops the flock for all of them (LOCK_UN in Release), so
//    leftovers do not keep the lock, which is what flock(1) gets wrong.
//  - The anchor records the job's process group (Backend::
//    RecordJobGroup): a process that closed its descriptors but stayed in
//    the group keeps the owner alive too (platform/posix/job.h).
//  - The command runs in a process group of its own, led by a watchdog (a
//    fork of onlyone that never execs). If onlyone dies without disarming it
//    (SIGKILL, a crash), the watchdog SIGKILLs the whole group, so the job
//    does not run on unsupervised. If the watchdog dies, onlyone says so and
//    forks another into the group.
//  - Linux: the command also sets PR_SET_PDEATHSIG(SIGKILL) before exec, then
//    checks getppid() to close the race with our death before the prctl; this
//    still covers the command if it leaves the group (setsid).
//  - When we stop the command ourselves (lock lost), the whole group gets
//    SIGTERM, then SIGKILL after the grace period.
// What escapes: a process that both leaves the group and closes its
// inherited descriptors (a daemon's double fork); and, after a normal end of
// the command, whatever it left running (the lock is released then).
#ifndef ONLYONE_CLI_SUPERVISE_H_
#define ONLYONE_CLI_SUPERVISE_H_

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "platform/backend.h"

namespace onlyone {
namespace cli {

// Signals forwarded to the command. All but SIGWINCH also cancel a wait for
// the lock (their default action would end onlyone).
extern const int kForwardedSignals[];
extern const int kForwardedSignalCount;

// Installs the handlers (SA_RESTART) and the self-pipe. false: *error set.
bool InstallSignalRelay(std::string* error);

// While waiting for `lock`, terminating signals cancel the wait. Pass null
// to switch to forwarding mode (before starting the command).
void RelayCancelsWaitOf(Backend* lock);

// The terminating signal that cancelled the wait, or 0.
int CancelSignal();

// Restores the default disposition of every signal we handle (in the child,
// before exec). Signals ignored at start stay ignored.
void ResetSignalDispositions();

struct ChildResult {
  int exit_code = 0;       // what onlyone should exit with
  bool lock_lost = false;  // we stopped the command because the lock was lost
  bool started = false;    // exec succeeded
  std::string error;       // when onlyone itself failed (spawn error)
};

struct SuperviseOptions {
  std::vector<std::string> command;
  int64_t grace_ms = 10000;
  bool verbose = false;
};

// Remembers the descriptors open now (at start, before any lock or client
// library opens its own): the command inherits these and no others. The
// ZooKeeper C client opens its socket and pipes without O_CLOEXEC, so a
// child would otherwise inherit them (hazard H9's cousin: a command holding
// the session's socket). Fds at or above kInheritedFdsTracked are left alone.
constexpr int kInheritedFdsTracked = 1024;
void RememberInheritedDescriptors();

// Starts the command (own process group, parent-death signal, lock fds not
// inherited) and supervises it until it exits: forwards signals, checks
// `lock` when its backend asks (CheckHold) and stops the command's group
// (SIGTERM, grace_ms, SIGKILL) if the lock is lost.
ChildResult RunAndSupervise(Backend* lock, const SuperviseOptions& options);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_SUPERVISE_H_
