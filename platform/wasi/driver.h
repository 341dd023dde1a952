// The WASI driver: performs a Contender's Ops through WASI preview1 calls on
// the preopened lock directory, the sandboxed counterpart of
// platform/posix/driver.h.
//
// Every Op is one WASI call relative to the lock directory's descriptor
// (path_symlink, path_rename, path_readlink, path_unlink_file, one
// fd_readdir), so every interleaving the model checker explores is one real
// processes can produce, exactly as with the POSIX driver. Records and entry
// names are byte-for-byte those of the POSIX driver: a native process and a
// sandboxed one read each other's entries.
//
// Liveness (kProbe) is the host's: onlyone_host.process_alive (host.h). There
// is no anchor flock under WASI, so a native prober judges our entries by
// (boot id, PID namespace, pid, start time) of the host process, its tier 2.
//
// Waiting (kWait) is not performed here: the module hands it to the host as
// a pause (see host.h), so this driver refuses it.
//
// Dependencies: no heap, no exceptions, no C++ library; wasi-libc only for
// the generated __wasi_* wrappers (and the strlen they call).
#ifndef ONLYONE_PLATFORM_WASI_DRIVER_H_
#define ONLYONE_PLATFORM_WASI_DRIVER_H_

#include <stdint.h>

#include "core/contender.h"
#include "core/record.h"

namespace onlyone {
namespace wasi {

// readlink buffer: our records are at most kRecordBytesMax; a longer target is
// someone else's and is reported kTooLong rather than cut (a cut record could
// parse as a different owner).
constexpr uint32_t kReadBufferBytes = 4096;
// A listing is one fd_readdir call into this buffer, or it is refused.
// Why one call: a listing must contain every name present throughout (H8),
// and a listing spread over several calls is not a snapshot (on tmpfs a
// rename over a name moves it; see core/contender.cc). Node's WASI (uvwasi)
// serves one fd_readdir from one opendir whose first getdents64 reads 32 KiB
// (glibc's readdir buffer): a directory whose WASI dirents (24-byte header +
// name) fit in 28 KiB has Linux dirents (at most 3 bytes more each, about
// 1100 of them at most) that fit in 32 KiB, so the host read it in one
// getdents64 call, atomically. A fuller buffer is refused (EOVERFLOW) rather
// than listed unsafely: about 480 entries of 34-byte names, 160 contenders.
constexpr uint32_t kListingBytesMax = 28u << 10;
// The largest WASI dirent: its 24-byte header and a name of NAME_MAX (255)
// bytes. A listing that leaves less room than this unused may have stopped
// because the next entry did not fit (a runtime may stop short of the end of
// the buffer rather than write part of an entry), so it is refused too.
constexpr uint32_t kDirentBytesMax = 24 + 255;
// WASI errno reported for a listing too large for one call.
constexpr int32_t kListingTooLargeErrno = 61;  // __WASI_ERRNO_OVERFLOW

uint64_t MonotonicMs();
// Never 0 (a record's `since` of 0 would read as "unknown").
uint64_t WallMs();
// 128 bits from random_get. false: *os_error is the WASI errno.
bool RandomNonce(Id128* nonce, int32_t* os_error);
// The first preopened directory: the lock directory. false if there is none.
bool FindLockDirectory(int32_t* dir_fd);
// A WASI errno as the core's IoStatus.
IoStatus StatusFromWasiErrno(uint32_t wasi_errno);

class Driver {
 public:
  void Open(int32_t dir_fd) { dir_fd_ = dir_fd; }
  // Performs every Op but kWait (and kNone/kDone), which it answers kIo.
  Result Perform(const Op& op);
  // Fills the host and command of `record`'s owner from its anchor's owner
  // line (core/record.h, ParseAnchorOwner) when the record left them out (a
  // native owner's version 2 record); otherwise leaves them.
  void ReadAnchorOwner(OwnerRecord* record);
  // While onlyone_host_process_alive runs: the NUL-terminated name of the
  // probed owner's anchor (core/names.h), so that a host looks for the file
  // the POSIX driver makes without spelling its name itself.
  const char* probe_anchor_name() const { return probe_anchor_name_.data; }

 private:
  Result Create(const Op& op);
  Result Rename(const Op& op);
  Result Move(const Op& op);
  Result Read(const Op& op);
  Result ListStart();
  Result ListNext();
  Result Remove(const Op& op);
  Result Probe(const Op& op);

  int32_t dir_fd_ = 0;
  // NUL-terminated copies of an Op's names and record: the WASI wrappers
  // take C strings.
  char name_a_[kNameBytesMax + 1] = {};
  char name_b_[kNameBytesMax + 1] = {};
  // One byte spare, zeroed by Clear(): NUL-terminated.
  FixedBytes<kNameBytesMax + 1> probe_anchor_name_;
  char record_[kRecordBytesMax + 1] = {};
  char read_buffer_[kReadBufferBytes] = {};
  // The listing read at kListStart, walked by kListNext.
  uint8_t listing_[kListingBytesMax] = {};
  uint32_t listing_bytes_ = 0;
  uint32_t listing_next_ = 0;
  bool listing_ready_ = false;
};

}  // namespace wasi
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_WASI_DRIVER_H_
