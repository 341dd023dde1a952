// A holder's job: how a lock stays held while the job it guards still runs,
// after the holder itself is gone, and how to find the processes doing it.
//
// The onlyone command holds the lock and runs a job. If onlyone and its
// watchdog are killed (kill -9, `killall -9 onlyone`, the OOM killer) while
// processes of the job live on, those processes are still inside the
// critical section, so the lock must not look free. Two pieces of evidence
// keep the owner alive to a prober (ProbeOwner in driver.h):
//   1. the job inherits the anchor's descriptor (Anchor::fd). The kernel
//      keeps the anchor's flock while any process holds that open file
//      description, including a process that left the job's process group
//      (setsid) and one that does not exist yet when onlyone dies (a fork
//      inherits it too);
//   2. the anchor names the job's process group (JobGroup, written with
//      Anchor::RecordJobGroup). When the flock is free, the owner still
//      counts as alive while a live (non-zombie) process of that group and
//      session remains: a process that closed the descriptors it inherited
//      (a daemon's close-all loop, Python's subprocess with close_fds) but
//      stayed in the group.
// Only a process that both leaves the group and closes its descriptors (a
// double-forking daemon) escapes both; a cgroup (systemd) catches it.
//
// The trap in 2 is process group reuse: once the group is empty, its number
// can become a new process's pid and group. A reused group has a leader
// with another start time; a reused group without its leader in the same
// session is still read as ours, which errs toward "alive" (the lock stays
// taken while that unrelated group lives; `status` names its processes).
//
// A normal end is not affected: the owner removes its entry and drops the
// flock for every holder of the description (LOCK_UN in Anchor::Remove), so
// what the job left running in the background does not keep the lock.
#ifndef ONLYONE_PLATFORM_POSIX_JOB_H_
#define ONLYONE_PLATFORM_POSIX_JOB_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "core/record.h"

namespace onlyone {
namespace posix {

// The longest text FormatJobGroup writes, with room to spare.
constexpr size_t kJobGroupTextBytesMax = 192;

// A job's process group as its owner records it in its anchor. Meaningful
// only on the same boot and in the same PID namespace.
struct JobGroup {
  uint32_t process_group = 0;      // the group's id: its leader's pid
  uint32_t session = 0;            // the session the group lives in; 0: its
                                   // leader is outside our PID namespace
  uint64_t leader_start_time = 0;  // start time of the group's leader; 0: unknown
  Id128 boot_id;
  uint64_t pid_namespace = 0;
};

// "onlyone-job v1 pgid=P sid=S start=T boot=<32 hex> pidns=N\n".
std::string FormatJobGroup(const JobGroup& group);
// Strict: false for anything FormatJobGroup does not write.
bool ParseJobGroup(const char* text, size_t size, JobGroup* out);

// The group `process_group` of this process's session, as the anchor
// records it. false when its leader cannot be read (/proc missing).
bool LocalJobGroup(pid_t process_group, JobGroup* out);

// The job group recorded in the anchor open at `anchor_fd`. false: none.
bool ReadJobGroup(int anchor_fd, JobGroup* out);

// The live processes of `group` (zombies excluded), sorted; empty when the
// group is gone, was reused, or belongs to another boot or PID namespace.
std::vector<uint32_t> LiveJobGroupMembers(const JobGroup& group);

// Whether the anchor open at `anchor_fd` records a job group that still has
// a live process: evidence that its owner's job still runs. Where /proc
// shows another PID namespace, any process of the group counts.
bool JobStillRuns(int anchor_fd);

// The processes that keep the owner with this nonce alive although it is
// gone: those holding its anchor's open file description, and the live
// members of its recorded job group. Sorted, without the caller. Empty when
// there is no anchor. Reads /proc: processes of other users are seen only
// by root.
std::vector<uint32_t> ProcessesKeepingAnchor(int dir_fd, Id128 nonce);

}  // namespace posix
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_POSIX_JOB_H_
