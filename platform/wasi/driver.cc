#include "platform/wasi/driver.h"

#include <wasi/api.h>

#include "platform/wasi/host.h"

namespace onlyone {
namespace wasi {

namespace {

constexpr uint64_t kNanosPerMs = 1000000;
// Size of a WASI dirent header before its name (d_next, d_ino, d_namlen,
// d_type, padding).
constexpr uint32_t kDirentHeaderBytes = sizeof(__wasi_dirent_t);
static_assert(kDirentHeaderBytes == 24, "WASI preview1 dirent header is 24 bytes");
static_assert(kDirentBytesMax == kDirentHeaderBytes + 255, "a dirent with a NAME_MAX name");
static_assert(kListingTooLargeErrno == __WASI_ERRNO_OVERFLOW, "errno value must match api.h");

uint64_t ClockMs(__wasi_clockid_t clock) {
  __wasi_timestamp_t nanos = 0;
  if (__wasi_clock_time_get(clock, /*precision=*/kNanosPerMs, &nanos) != 0) return 0;
  return nanos / kNanosPerMs;
}

Result FromErrno(__wasi_errno_t wasi_errno) {
  return StatusResult(StatusFromWasiErrno(wasi_errno), static_cast<int32_t>(wasi_errno));
}

Result TooLong() { return StatusResult(IoStatus::kTooLong); }

// Copies `bytes` into `out` (capacity `capacity` including the NUL). A view
// holding a NUL would name another file than the Op means: refused too.
bool ToCString(Bytes bytes, char* out, uint32_t capacity) {
  if (bytes.size >= capacity) return false;
  for (uint32_t i = 0; i < bytes.size; ++i) {
    if (bytes.data[i] == '\0') return false;
    out[i] = bytes.data[i];
  }
  out[bytes.size] = '\0';
  return true;
}

}  // namespace

uint64_t MonotonicMs() { return ClockMs(__WASI_CLOCKID_MONOTONIC); }

uint64_t WallMs() {
  const uint64_t ms = ClockMs(__WASI_CLOCKID_REALTIME);
  return ms == 0 ? 1 : ms;
}

bool RandomNonce(Id128* nonce, int32_t* os_error) {
  uint8_t bytes[16] = {};
  const __wasi_errno_t error = __wasi_random_get(bytes, sizeof bytes);
  if (error != 0) {
    *os_error = static_cast<int32_t>(error);
    return false;
  }
  Id128 id;
  for (int i = 0; i < 8; ++i) id.hi = (id.hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) id.lo = (id.lo << 8) | bytes[i];
  *nonce = id;
  return true;
}

bool FindLockDirectory(int32_t* dir_fd) {
  // Preopens are numbered from 3 (after stdin, stdout, stderr) without gaps;
  // the first EBADF ends them.
  constexpr int32_t kFirstPreopenFd = 3;
  constexpr int32_t kPreopensMax = 64;
  for (int32_t fd = kFirstPreopenFd; fd < kFirstPreopenFd + kPreopensMax; ++fd) {
    __wasi_prestat_t prestat;
    if (__wasi_fd_prestat_get(fd, &prestat) != 0) return false;
    if (prestat.tag == __WASI_PREOPENTYPE_DIR) {
      *dir_fd = fd;
      return true;
    }
  }
  return false;
}

IoStatus StatusFromWasiErrno(uint32_t wasi_errno) {
  switch (wasi_errno) {
    case 0: return IoStatus::kOk;
    case __WASI_ERRNO_NOSPC:
    case __WASI_ERRNO_DQUOT: return IoStatus::kNoSpace;
    case __WASI_ERRNO_ROFS: return IoStatus::kReadOnly;
    case __WASI_ERRNO_ACCES:
    case __WASI_ERRNO_PERM:
    // The runtime refused a right it did not grant: to the caller that is
    // the same as a permission problem, never "not found".
    case __WASI_ERRNO_NOTCAPABLE: return IoStatus::kPermission;
    case __WASI_ERRNO_NAMETOOLONG: return IoStatus::kTooLong;
    case __WASI_ERRNO_EXIST: return IoStatus::kExists;
    case __WASI_ERRNO_NOENT: return IoStatus::kNotFound;
    default: return IoStatus::kIo;
  }
}

Result Driver::Perform(const Op& op) {
  Result result;
  switch (op.kind) {
    case OpKind::kCreate: result = Create(op); break;
    case OpKind::kRename: result = Rename(op); break;
    case OpKind::kMove: result = Move(op); break;
    case OpKind::kRead: result = Read(op); break;
    case OpKind::kListStart: result = ListStart(); break;
    case OpKind::kListNext: result = ListNext(); break;
    case OpKind::kRemove: result = Remove(op); break;
    case OpKind::kProbe: result = Probe(op); break;
    case OpKind::kWait:  // the module's caller waits (host.h)
    case OpKind::kNone:
    case OpKind::kDone: result = StatusResult(IoStatus::kIo, __WASI_ERRNO_INVAL); break;
  }
  result.mono_ms = MonotonicMs();
  result.wall_ms = WallMs();
  return result;
}

Result Driver::Create(const Op& op) {
  if (!ToCString(op.record, record_, sizeof record_) ||
      !ToCString(op.name, name_a_, sizeof name_a_)) {
    return TooLong();
  }
  // symlink: fails with EEXIST if the name exists, which is the doorway's
  // exclusive create (H1).
  const __wasi_errno_t error = __wasi_path_symlink(record_, dir_fd_, name_a_);
  return error != 0 ? FromErrno(error) : Result();
}

Result Driver::Rename(const Op& op) {
  if (!ToCString(op.from, name_a_, sizeof name_a_) ||
      !ToCString(op.name, name_b_, sizeof name_b_)) {
    return TooLong();
  }
  const __wasi_errno_t error = __wasi_path_rename(dir_fd_, name_a_, dir_fd_, name_b_);
  return error != 0 ? FromErrno(error) : Result();
}

// The fence counter's compare-and-swap (core/contender.cc, step 5). WASI
// preview1 has no rename that refuses to replace; a hard link fails the
// same ways (EEXIST, ENOENT), then the source goes. Not one step: a crash
// between the two leaves a lower counter name beside the new one, so the
// module runs the core with Config::linked_moves (module.cc), which decides
// every move from a listing made while holding and removes such leftovers.
Result Driver::Move(const Op& op) {
  if (!ToCString(op.from, name_a_, sizeof name_a_) ||
      !ToCString(op.name, name_b_, sizeof name_b_)) {
    return TooLong();
  }
  __wasi_errno_t error = __wasi_path_link(dir_fd_, 0, name_a_, dir_fd_, name_b_);
  if (error != 0) return FromErrno(error);
  error = __wasi_path_unlink_file(dir_fd_, name_a_);
  return error != 0 && error != __WASI_ERRNO_NOENT ? FromErrno(error) : Result();
}

Result Driver::Read(const Op& op) {
  if (!ToCString(op.name, name_a_, sizeof name_a_)) return TooLong();
  __wasi_size_t used = 0;
  const __wasi_errno_t error = __wasi_path_readlink(
      dir_fd_, name_a_, reinterpret_cast<uint8_t*>(read_buffer_), sizeof read_buffer_, &used);
  if (error == __WASI_ERRNO_INVAL) {
    // The name exists but is not a symlink: a foreign file (H10).
    return StatusResult(IoStatus::kNotSymlink, static_cast<int32_t>(error));
  }
  if (error == __WASI_ERRNO_NOBUFS) return TooLong();
  if (error != 0) return FromErrno(error);
  // A full buffer may be a cut target (readlink truncates silently).
  if (used >= sizeof read_buffer_) return TooLong();
  Result result;
  result.data = Bytes{read_buffer_, static_cast<uint32_t>(used)};
  return result;
}

Result Driver::ListStart() {
  listing_ready_ = false;
  listing_next_ = 0;
  __wasi_size_t used = 0;
  const __wasi_errno_t error =
      __wasi_fd_readdir(dir_fd_, listing_, sizeof listing_, /*cookie=*/0, &used);
  if (error != 0) return FromErrno(error);
  if (used > sizeof listing_ - kDirentBytesMax) {
    // (Nearly) filled: more names may follow, in a second call that would not
    // be a snapshot (see kListingBytesMax). Refuse rather than list unsafely.
    return StatusResult(IoStatus::kIo, kListingTooLargeErrno);
  }
  listing_bytes_ = used;
  listing_ready_ = true;
  return Result();
}

Result Driver::ListNext() {
  Result result;
  if (!listing_ready_) return StatusResult(IoStatus::kIo, __WASI_ERRNO_BADF);
  while (listing_next_ + kDirentHeaderBytes <= listing_bytes_) {
    __wasi_dirent_t dirent;
    uint8_t* header = reinterpret_cast<uint8_t*>(&dirent);
    for (uint32_t i = 0; i < kDirentHeaderBytes; ++i) header[i] = listing_[listing_next_ + i];
    const uint32_t name_offset = listing_next_ + kDirentHeaderBytes;
    if (dirent.d_namlen > listing_bytes_ - name_offset)
      break;  // torn last entry: impossible below the limit
    listing_next_ = name_offset + dirent.d_namlen;
    const Bytes name{reinterpret_cast<const char*>(listing_ + name_offset), dirent.d_namlen};
    if (Equal(name, View(".")) || Equal(name, View(".."))) continue;
    result.data = name;
    return result;
  }
  result.status = IoStatus::kEnd;
  return result;
}

Result Driver::Remove(const Op& op) {
  if (!ToCString(op.name, name_a_, sizeof name_a_)) return TooLong();
  const __wasi_errno_t error = __wasi_path_unlink_file(dir_fd_, name_a_);
  return error != 0 ? FromErrno(error) : Result();
}

namespace {

// The name of the anchor of the owner `nonce` (core/names.h), NUL-terminated
// in `out`'s spare byte: the WASI wrappers take C strings.
void MakeAnchorName(Id128 nonce, FixedBytes<kNameBytesMax + 1>* out) {
  FixedBytes<kNameBytesMax> name;
  MakeOwnerName(NameKind::kAnchor, nonce, &name);
  out->Assign(name.view());
}

}  // namespace

void Driver::ReadAnchorOwner(OwnerRecord* record) {
  if (record->owner.host.size != 0 || record->owner.command.size != 0) return;
  // The anchor the POSIX driver keeps for this owner.
  FixedBytes<kNameBytesMax + 1> anchor;  // one byte spare: NUL-terminated
  MakeAnchorName(record->owner.nonce, &anchor);
  const char* name = anchor.data;
  __wasi_fd_t fd = 0;
  // No O_NONBLOCK in WASI: a planted FIFO would block here, so only a
  // regular file is read (H10).
  __wasi_filestat_t stat = {};
  if (__wasi_path_filestat_get(dir_fd_, 0, name, &stat) != 0 ||
      stat.filetype != __WASI_FILETYPE_REGULAR_FILE) {
    return;
  }
  if (__wasi_path_open(dir_fd_, 0, name, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd) != 0) return;
  __wasi_iovec_t iov = {reinterpret_cast<uint8_t*>(read_buffer_), sizeof read_buffer_};
  __wasi_size_t used = 0;
  const __wasi_errno_t error = __wasi_fd_read(fd, &iov, 1, &used);
  (void)__wasi_fd_close(fd);
  OwnerRecord line;
  if (error != 0 || !ParseAnchorOwner(Bytes{read_buffer_, used}, &line)) {
    return;
  }
  record->owner.host = line.owner.host;
  record->owner.command = line.owner.command;
}

Result Driver::Probe(const Op& op) {
  Result result;
  result.liveness = Liveness::kUnknown;
  if (op.owner == nullptr) return result;
  const Identity& owner = op.owner->owner;
  HostProcess process = {};
  process.pid = owner.pid;
  process.start_time = owner.start_time;
  process.boot_id_hi = owner.boot_id.hi;
  process.boot_id_lo = owner.boot_id.lo;
  process.pid_namespace = owner.pid_namespace;
  process.nonce_hi = owner.nonce.hi;
  process.nonce_lo = owner.nonce.lo;
  process.host_bytes = owner.host.size;
  for (uint32_t i = 0; i < owner.host.size; ++i) process.host[i] = owner.host.data[i];
  MakeAnchorName(owner.nonce, &probe_anchor_name_);
  const int32_t verdict = onlyone_host_process_alive(&process);
  probe_anchor_name_.Clear();
  switch (verdict) {
    case 0: result.liveness = Liveness::kAlive; break;
    // Only the host's proof of death lets anyone remove an entry.
    case 1: result.liveness = Liveness::kDead; break;
    default: result.liveness = Liveness::kUnknown; break;  // 2, or anything unexpected
  }
  return result;
}

}  // namespace wasi
}  // namespace onlyone
