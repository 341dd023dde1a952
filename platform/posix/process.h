// This process and the others on this host, as every POSIX-hosted lock
// sees them: clocks, a fresh nonce, our identity for records, and what /proc
// says of a pid. The lock directory's driver (driver.h) and the ZooKeeper
// lock (platform/zookeeper) both describe themselves and judge others with
// these, so a holder looks the same to `status` whichever backend took it.
// Defined in driver.cc, and by the OS file (driver_<os>.cc, see driver_os.h)
// where marked.
#ifndef ONLYONE_PLATFORM_POSIX_PROCESS_H_
#define ONLYONE_PLATFORM_POSIX_PROCESS_H_

#include <stdint.h>

#include <string>

#include "core/record.h"

namespace onlyone {
namespace posix {

uint64_t MonotonicMs();
// Never 0 (a record's `since` of 0 would read as "unknown").
uint64_t WallMs();

// 128 bits from the kernel (RandomBytes in driver_os.h). false: no entropy
// source, *os_error says why.
bool RandomNonce(Id128* nonce, int* os_error);

// What this process is, for its records: pid, start time, boot id, PID
// namespace, host, and `command` cut to kCommandBytesMax on a UTF-8 boundary.
Identity LocalIdentity(Id128 nonce, const std::string& command);

// This machine's boot id (all zero where there is none) and our PID
// namespace's inode number (0 where there is none): what makes a pid
// meaningful to us (H4, H5). By the OS file.
Id128 LocalBootId();
uint64_t LocalPidNamespace();

// Facts about a running process in our PID namespace, read from /proc (by
// the OS file). Returns false when the process does not exist (ENOENT) or has exited and
// waits to be reaped (a zombie: it holds nothing); *usable false when
// /proc cannot tell (not mounted, or mounted for another namespace).
bool ProcessStartTime(uint32_t pid, uint64_t* start_time, bool* usable);

// The fields of /proc/PID/stat that say which job a process belongs to.
struct ProcessStat {
  char state = '?';  // 'R', 'S', ...; 'Z' (zombie) and 'X' (dead) run no more
  uint32_t process_group = 0;
  uint32_t session = 0;
  uint64_t start_time = 0;  // clock ticks since boot
};
// Whether /proc shows the processes of our own PID namespace (it may have
// been mounted for another: `unshare --pid` without --mount-proc). By the OS
// file.
bool ProcShowsOurPids();
// A zombie (Z) its parent has not reaped yet, or one being reaped (X): it
// keeps its pid and start time until reaped, but it has closed every
// descriptor and runs no code. Counting it alive would keep an owner without
// an anchor (a WASI owner) holding for as long as its parent fails to wait.
inline bool HasExited(const ProcessStat& stat) { return stat.state == 'Z' || stat.state == 'X'; }
// Reads process `pid` of our PID namespace. false when it does not exist or
// /proc cannot tell (not mounted, or mounted for another namespace). By the
// OS file.
bool ReadProcessStat(uint32_t pid, ProcessStat* out);

// The text of `bytes` truncated to at most `max_bytes` without splitting a
// UTF-8 sequence.
std::string TruncateUtf8(const std::string& text, uint32_t max_bytes);

}  // namespace posix
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_POSIX_PROCESS_H_
