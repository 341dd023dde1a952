// What the POSIX driver needs from the operating system: the port contract.
//
// driver.cc, job.cc and lock.cc are the same on every OS. What differs is in
// one file per OS, chosen by select() in platform/posix/BUILD.bazel:
//   driver_linux.cc   Linux, the only port; built and tested here.
// An OS without a file there does not build: the select() has no branch for
// it and fails with a message naming this contract. That is on purpose:
// every piece below has an obvious, portable-looking replacement (a readdir
// loop, plain renameat, pipe then fcntl) that compiles, passes a quick test
// and breaks exclusion under a race. macOS and the BSDs are not ported, and
// nothing about them is tested here.
//
// A port (driver_<os>.cc) defines everything declared "by the OS file"
// below and in driver.h, with these guarantees (H1..H10: docs/protocol.md):
//
//  1. A snapshot listing (SnapshotDirectory): every name present in the
//     directory for the whole call is returned, including a name that
//     another process renames over meanwhile. This is what the core's
//     "Listing" contract (core/contender.cc) asks; without it two
//     contenders can both hold (a waiting entry missed while its owner
//     publishes its ticket, H8). A readdir stream does NOT give it: on tmpfs
//     a rename over an existing name moves its directory entry, and a
//     listing spread over several getdents calls can miss it. Linux reads
//     the whole directory in one getdents64 call, which runs under the
//     directory's lock, and refuses (EOVERFLOW) a directory too large for
//     one call of kListingBytesMax. A port needs a call its kernel
//     documents as atomic against rename; if there is none, the port must
//     not exist.
//  2. 128 random bits from the kernel (RandomBytes): entry names are nonces,
//     and two contenders drawing the same one would share an entry.
//  3. A rename that refuses to replace an existing name (RenameNoReplace):
//     the fence counter moves from fence.<N> to fence.<N+1> only if nobody
//     moved it first, a compare-and-swap (core/contender.cc, step 5). And a
//     verdict on whether a directory's file system does that in one atomic
//     step (RenameNoReplaceIsAtomic); where it does not, the driver moves
//     by a hard link and an unlink, and the core decides those moves as
//     core/contender.h's Config::linked_moves says.
//  4. A pipe whose ends are close-on-exec and non-blocking from birth
//     (MakeNonblockingPipe): flags set afterwards leave a window in which a
//     fork and exec on another thread inherits the descriptor (H9).
//  5. Process identity, for records and for probing owners without an
//     anchor (driver.h: LocalBootId, LocalPidNamespace, ProcessStartTime,
//     ReadProcessStat, ProcShowsOurPids): a boot id, so that a record of an
//     earlier boot reads as dead; a process start time, so that a reused
//     pid is never taken for its former owner (H4); and the PID namespace,
//     so that a pid is only read where it means the same process (H5).
//     Answering "cannot tell" (a zero boot id, *usable false, false) is
//     safe: such owners are kUnknown, counted alive. The price is that a
//     dead owner without an anchor (a WASI owner) is never removed.
//  6. A wake-up mechanism (Watch::Open and the Driver members marked "by the
//     OS file" in driver.h): a pollable descriptor that becomes readable
//     when an entry of the lock directory changes, an anchor is closed after
//     writing (its owner died), or the watched entry or anchor changes (see
//     driver.h's "Waiting"). Optional for safety: a port whose Watch::Open
//     returns false waits by polling with a backoff, slower to hand over.
// The rest is POSIX that the neutral files use directly: *at() calls with
// O_NOFOLLOW and O_CLOEXEC, symlinks, flock() whose lock the kernel drops
// when the last descriptor of its open file description closes (liveness,
// H4, H5), poll(), clock_gettime() with CLOCK_MONOTONIC, /proc for job.cc
// (which answers "nothing found" without it).
//
// Hints for a porter, untested: macOS has arc4random_buf (2),
// renameatx_np(RENAME_EXCL) (3), sysctl(KERN_PROC_PID)'s p_starttime (5)
// and kqueue's EVFILT_VNODE (6), but no call documented as a snapshot
// listing (1), which is why it has no port.
#ifndef ONLYONE_PLATFORM_POSIX_DRIVER_OS_H_
#define ONLYONE_PLATFORM_POSIX_DRIVER_OS_H_

#include <stddef.h>

#include <string>
#include <vector>

#include "core/record.h"

namespace onlyone {
namespace posix {

// --- By the OS file ----------------------------------------------------------

// 1. The names in the directory open at `fd`, without "." and "..", as a
// snapshot (see above). Moves fd's file offset: the driver passes a
// descriptor of its own. Returns 0 or an errno; EOVERFLOW: too large to be
// listed as a snapshot.
int SnapshotDirectory(int fd, std::vector<std::string>* names);

// 2. `count` bytes from the kernel's random source. false: *os_error says why.
bool RandomBytes(unsigned char* bytes, size_t count, int* os_error);

// 3. Renames `from` to `to` in dir_fd unless `to` exists. 0, or -1 with errno
// (EEXIST when `to` exists; the caller retries EINTR).
int RenameNoReplace(int dir_fd, const char* from, const char* to);

// 3. Whether renameat2(RENAME_NOREPLACE) in the directory open at dir_fd is
// one atomic step: only on the local file systems known to implement it so
// (ext2/3/4, xfs, btrfs, tmpfs, f2fs, overlayfs, ramfs, zfs, bcachefs).
// The trap it defends against: NFS refuses the flag (EINVAL), a FUSE daemon
// may, and CIFS emulates it with a check and then a rename, which another
// client can race; any of them can then leave or miss a second counter name
// (docs/protocol.md, P6). false for those and for anything not known, which
// costs only a listing per acquisition. false, too, when fstatfs fails.
bool RenameNoReplaceIsAtomic(int dir_fd);

// 4. A pipe, both ends O_CLOEXEC and O_NONBLOCK from creation. 0, or -1 with
// errno.
int MakeNonblockingPipe(int fds[2]);

// --- By driver.cc, for the OS files -------------------------------------------

// 32 hex digits, in either case, with '-' and '\n' ignored (a boot id file
// spells it 8-4-4-4-12): false for anything else.
bool ParseHexId(const std::string& text, Id128* out);

}  // namespace posix
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_POSIX_DRIVER_OS_H_
