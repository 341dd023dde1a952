// The owner record: what a contender publishes about itself in its entry.
//
// A record is stored as the target of a symbolic link, because symlink(2) and
// readlink(2) write and read a whole target atomically on every platform we
// drive (POSIX and WASI preview1): a reader sees the old record or the new
// one, never a torn mix (hazard H2, the empty-record window, cannot happen).
//
// Format, version 1, one line of printable ASCII, fields in this fixed order:
//
//   onlyone1;state=waiting;ticket=7;slots=1;nonce=<32 hex>;pid=4242;
//   start=123456;boot=<32 hex>;pidns=4026531836;host=build-3;since=1700000000000;
//   seen=1700000000000;cmd=make%20all;end
//
// (written without the line breaks). `state` is choosing or waiting: whether
// a waiting entry holds follows from its rank among the live tickets, so the
// holder does not spend two more operations to say so.
// `host` and `cmd` are percent-encoded; every other value is a canonical number
// (decimal with no leading zero, or exactly 32 lowercase hex digits).
//
// The parser is strict: it accepts exactly what the encoder produces, so any
// record it accepts re-encodes to the same bytes. Garbage, truncation and
// unknown versions are reported as such and never misread as an owner: a
// misread owner could be judged dead by mistake and its lock removed.
#ifndef ONLYONE_CORE_RECORD_H_
#define ONLYONE_CORE_RECORD_H_

#include <stdint.h>

#include "core/bytes.h"

namespace onlyone {

// Longest record the encoder writes. Symlink targets may be up to 1023 bytes
// on macOS (PATH_MAX 1024) and 4095 on Linux; staying below both keeps records
// portable across every file system we share a lock directory with.
constexpr uint32_t kRecordBytesMax = 960;
// Raw (decoded) limits of the free-text fields. Worst-case percent encoding
// triples them; the sum still fits in kRecordBytesMax with the fixed fields.
constexpr uint32_t kHostBytesMax = 64;
constexpr uint32_t kCommandBytesMax = 96;
constexpr uint32_t kSlotsMax = 1024;

// A 128-bit identifier, rendered as 32 lowercase hex digits.
struct Id128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
};

inline bool operator==(Id128 a, Id128 b) { return a.hi == b.hi && a.lo == b.lo; }
inline bool operator!=(Id128 a, Id128 b) { return !(a == b); }
inline bool operator<(Id128 a, Id128 b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }

enum class EntryState : uint8_t {
  kChoosing = 0,  // in the doorway: its ticket is not chosen yet
  kWaiting = 1,   // has a ticket: waits, or holds if among the first `slots`
};

// Who a contender is: everything another process needs to judge whether the
// owner of an entry is still alive (see the liveness rules at the top of
// core/contender.cc and ProbeOwner in platform/posix/driver.h).
struct Identity {
  Id128 nonce;  // random, unique per acquisition; names the entry
  uint32_t pid = 0;
  uint64_t start_time = 0;     // process start time in the platform's units
  Id128 boot_id;               // all zero when the platform has none
  uint64_t pid_namespace = 0;  // inode of the PID namespace; 0 when unknown
  FixedBytes<kHostBytesMax> host;
  FixedBytes<kCommandBytesMax> command;  // a summary of argv, for humans
};

struct OwnerRecord {
  EntryState state = EntryState::kChoosing;
  uint64_t ticket = 0;  // bakery ticket; 0 while choosing
  uint32_t slots = 1;   // the k of k-exclusion this contender uses
  Identity owner;
  uint64_t since_ms = 0;      // wall clock when the entry was created
  uint64_t refreshed_ms = 0;  // wall clock of the last refresh (for leases)
};

enum class ParseError : uint8_t {
  kNone = 0,
  kNotARecord,      // does not start with "onlyone": a foreign or garbage entry
  kUnknownVersion,  // "onlyone<N>" with a version this build cannot read
  kMalformed,       // a field is missing, out of order, or not canonical
  kTooLong,         // longer than kRecordBytesMax
};

const char* ParseErrorName(ParseError error);

struct ParseResult {
  ParseError error = ParseError::kNone;
  uint32_t offset = 0;  // where in the input the problem was found
};

using RecordText = FixedBytes<kRecordBytesMax>;

// Encodes `record` into `out`. Returns false only when a field is out of its
// documented range (host or command too long, slots 0 or above kSlotsMax, a
// choosing record with a ticket or a ticketed one without); every record
// within range fits.
bool EncodeRecord(const OwnerRecord& record, RecordText* out);

// Parses `text` strictly. On error `*record` is unspecified.
ParseResult ParseRecord(Bytes text, OwnerRecord* record);

// The fence counter: the last fencing token handed out and who took it,
// stored in its own symlink ("fence") and replaced atomically. Format:
//   onlyone1;fence=<N>;nonce=..;pid=..;start=..;boot=..;pidns=..;host=..;cmd=..;end
// The identity makes `status` able to say who fenced last, and lets a
// cleaner judge a temporary left by a crash mid-publish: every temporary
// holds either an owner record or a fence record, so it names its owner.
struct FenceRecord {
  uint64_t fence = 0;
  Identity owner;
};

bool EncodeFence(const FenceRecord& record, RecordText* out);
ParseResult ParseFence(Bytes text, FenceRecord* record);

}  // namespace onlyone

#endif  // ONLYONE_CORE_RECORD_H_
