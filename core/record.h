// The owner record: what a contender publishes about itself in its entry.
//
// A record is stored as the target of a symbolic link, because symlink(2) and
// readlink(2) write and read a whole target atomically on every platform we
// drive (POSIX and WASI preview1): a reader sees the old record or the new
// one, never a torn mix (hazard H2, the empty-record window, cannot happen).
//
// Two versions, both read by every build since version 2 existed:
//
// Version 2, "compact", written where the driver keeps what only `status`
// shows (host, command) elsewhere: the POSIX driver, in the owner's anchor.
// Fields are numbers in base 64 (digits 0-9, a-z, A-Z, '-', '_', most
// significant first, no leading zero), each after a '.':
//
//   onlyone2.<ticket>.<slots>.<pid>.<start>.<boot>.<pidns>.<seen>.<age>.<check>
//
// e.g. "onlyone2.7.3.12i.u90.a6OMZjBZwso.3L___Y.oLfVmxX.1X.LA" (53 bytes).
// A ticket of 0 is "choosing" (in the doorway). `boot` is the first 64 bits
// of the boot id (60 random bits of a UUID v4: see SameBoot), `seen` the wall
// clock of the last refresh in ms, `age` = seen - since. The nonce is the
// entry's name; `check` is a 12-bit fold of it (NonceCheck), so that a copy of
// a record under another name reads as garbage (H10). Typical records are
// 50 to 57 bytes: under ext4's 60-byte limit for a symlink kept in its inode
// (a longer target allocates and journals a block per symlink) and tmpfs's
// 128. The fence record is "onlyone2f.<fence>.<pid>.<start>.<boot>.<pidns>".
//
// Version 1, "full", one line of printable ASCII, fields in this fixed order:
//
//   onlyone1;state=waiting;ticket=7;slots=1;nonce=<32 hex>;pid=4242;
//   start=123456;boot=<32 hex>;pidns=4026531836;host=build-3;since=1700000000000;
//   seen=1700000000000;cmd=make%20all;end
//
// (written without the line breaks), still written where nothing else holds
// the host and command (ZooKeeper nodes, the WASI module: Config::full_records).
// `state` is choosing or waiting: whether a waiting entry holds follows from
// its rank among the live tickets, so the holder does not spend two more
// operations to say so. `host` and `cmd` are percent-encoded; every other value
// is a canonical number (decimal with no leading zero, or exactly 32 lowercase
// hex digits).
//
// An onlyone that knows only version 1 reads "onlyone2" as an unknown version
// and refuses the lock with its "written by a newer onlyone" message: it never
// takes a version 2 entry for garbage (which it would skip, breaking exclusion).
//
// The parser is strict: it accepts exactly what the encoders produce, so any
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

// Whether two boot ids name the same boot. A version 2 record keeps only the
// first 64 bits of its owner's boot id, so every comparison uses those: a
// Linux boot id is a random UUID v4, whose first 64 bits hold 60 random bits,
// and two boots that share them (one chance in 2^60) would be taken for one.
inline bool SameBoot(Id128 a, Id128 b) { return a.hi == b.hi; }

// How an Id128 is spelled in names and version 1 records: exactly 32
// lowercase hex digits, most significant first. One spelling only, so that a
// name or record that parses re-encodes to the same bytes.
constexpr uint32_t kId128HexDigits = 32;
void FormatId128(Id128 id, char (&out)[kId128HexDigits]);
// false unless `hex` is exactly that spelling.
bool ParseId128(Bytes hex, Id128* id);

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
  uint8_t version = 0;  // of a record parsed without error: 1 or 2
};

using RecordText = FixedBytes<kRecordBytesMax>;

// Encodes `record` into `out` as version 1 (full: host, command, since and
// nonce included). Returns false only when a field is out of its documented
// range (host or command too long, slots 0 or above kSlotsMax, a choosing
// record with a ticket or a ticketed one without); every record within
// range fits.
bool EncodeRecord(const OwnerRecord& record, RecordText* out);
// The same as version 2 (compact: no host, command or nonce; what the POSIX
// driver writes). Also false when since_ms is after refreshed_ms.
bool EncodeCompactRecord(const OwnerRecord& record, RecordText* out);

// Parses `text` strictly, either version, as the record of the entry whose
// name spells `nonce`: a version 1 record must name that nonce, a version 2
// record must carry its check; otherwise kMalformed (a planted copy, H10).
// A version 2 record leaves host and command empty. On error `*record` is
// unspecified.
ParseResult ParseRecord(Bytes text, Id128 nonce, OwnerRecord* record);
// Without a name (a ZooKeeper node, a fuzzer): a version 2 record's nonce is
// {0, check}, a stand-in with the same check, so that it re-encodes exactly.
ParseResult ParseRecord(Bytes text, OwnerRecord* record);

// The 12-bit check of a nonce that a version 2 record carries.
uint32_t NonceCheck(Id128 nonce);

// The fence counter: the last fencing token handed out and who took it,
// stored in its own symlink ("fence") and replaced atomically. Version 1:
//   onlyone1;fence=<N>;nonce=..;pid=..;start=..;boot=..;pidns=..;host=..;cmd=..;end
// version 2 (see the top): the fence and the identity a cleaner needs, no
// nonce (the temporary's name has it), host or command.
// The identity lets a cleaner judge a temporary left by a crash mid-publish:
// every temporary holds either an owner record or a fence record, so it
// names its owner.
struct FenceRecord {
  uint64_t fence = 0;
  Identity owner;
};

// The owner line of a POSIX owner's anchor file "k.<nonce>": its full
// (version 1) record and a newline, written when the anchor is made, for
// `status`: the host and command that a version 2 record leaves out. An
// anchor kept for the owner's next acquisitions is renamed, not rewritten,
// so the line names the nonce of its first one: the anchor's name, not the
// line, says whose it is. Parses the first line of `content` (the anchor's
// first bytes, a job group line may follow) into *owner; false when there is
// no such line (an anchor of an older version, or an empty one).
bool ParseAnchorOwner(Bytes content, OwnerRecord* owner);

bool EncodeFence(const FenceRecord& record, RecordText* out);         // version 1
bool EncodeCompactFence(const FenceRecord& record, RecordText* out);  // version 2
// Either version; a version 2 record leaves the nonce, host and command empty.
ParseResult ParseFence(Bytes text, FenceRecord* record);

}  // namespace onlyone

#endif  // ONLYONE_CORE_RECORD_H_
