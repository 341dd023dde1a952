// Fuzz target: what `onlyone` prints about other processes (cli/status_format.h).
//
// A holder's host and command come from its record, which in a shared lock
// directory another user writes, and lock names are directory names anyone
// can create there. Printed to a terminal, such bytes must not act on it.
// Properties, for any holders, lock names and clocks:
//   - the conflict line, the waiting line, the holder description and the
//     status table are valid UTF-8 and hold no terminal control: no C0
//     control (except the table's line ends), no DEL, no C1 control, neither
//     as a raw byte (8-bit terminals read 0x9B as CSI) nor encoded;
//   - the status table has one line per entry, whatever the lengths;
//   - `status --json` is valid UTF-8 without raw control characters.
#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/status_format.h"
#include "fuzz/check.h"
#include "fuzz/input.h"

namespace onlyone {
namespace fuzz {
namespace {

// Lines of the status table end in '\n'; nothing else may.
enum class Newlines : uint8_t { kForbidden, kAllowed };

// The code points of `text`; false if it is not valid UTF-8 (overlong forms,
// surrogates and values above U+10FFFF are invalid too). A byte that is not
// UTF-8 matters: a raw 0x80-0x9F is a C1 control to an 8-bit terminal.
// Written apart from status_format.cc's own UTF-8 code on purpose: an
// oracle that shared the code under test would share its mistakes.
bool DecodeUtf8(const std::string& text, std::vector<uint32_t>* code_points) {
  code_points->clear();
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    uint32_t code_point = 0;
    size_t length = 0;
    if (lead < 0x80) {
      code_point = lead;
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      code_point = lead & 0x1F;
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      code_point = lead & 0x0F;
      length = 3;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      code_point = lead & 0x07;
      length = 4;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (length == 3 && (code_point < 0x800 || (code_point >= 0xD800 && code_point <= 0xDFFF))) {
      return false;
    }
    if (length == 4 && (code_point < 0x10000 || code_point > 0x10FFFF)) return false;
    code_points->push_back(code_point);
    i += length;
  }
  return true;
}

// Valid UTF-8 with no C0 control (but '\n' where allowed), DEL or C1 control.
bool IsSafeForTerminal(const std::string& text, Newlines newlines) {
  std::vector<uint32_t> code_points;
  if (!DecodeUtf8(text, &code_points)) return false;
  for (const uint32_t c : code_points) {
    if (c == '\n' && newlines == Newlines::kAllowed) continue;
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return false;
  }
  return true;
}

// Valid UTF-8 with every control character escaped (JSON strings may hold C1
// controls; JsonString escapes DEL too). The final line end is the output's.
bool IsJsonSafe(const std::string& text) {
  std::vector<uint32_t> code_points;
  if (!DecodeUtf8(text, &code_points)) return false;
  for (size_t i = 0; i < code_points.size(); ++i) {
    const uint32_t c = code_points[i];
    const bool final_newline = c == '\n' && i + 1 == code_points.size();
    if ((c < 0x20 && !final_newline) || c == 0x7F) return false;
  }
  return true;
}

Holder MakeHolder(FuzzInput* input) {
  Holder holder;
  holder.pid = input->U32();
  holder.host = input->ShortString();
  holder.command = input->ShortString();
  holder.since_ms = input->Bool() ? input->U64() : 1700000000000ull + input->U32();
  holder.ticket = input->Below(4);
  holder.slots = 1 + input->Below(4);
  const uint8_t flags = input->Byte();
  holder.holding = (flags & 1) != 0;
  holder.alive_known = (flags & 2) != 0;
  holder.alive = (flags & 4) != 0;
  return holder;
}

}  // namespace
}  // namespace fuzz
}  // namespace onlyone

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using onlyone::fuzz::IsSafeForTerminal;
  using onlyone::fuzz::Newlines;
  namespace cli = onlyone::cli;
  onlyone::fuzz::FuzzInput input(data, size);
  const uint64_t now_ms = input.Bool() ? input.U64() : 1700000000000ull + input.U32();
  const std::string local_host = input.ShortString();
  std::vector<cli::LockListing> locks(1 + input.Below(3));
  for (cli::LockListing& lock : locks) {
    lock.name = input.ShortString();
    const uint32_t entries = input.Below(3);
    for (uint32_t i = 0; i < entries; ++i)
      lock.entries.push_back(onlyone::fuzz::MakeHolder(&input));
  }
  const onlyone::Holder holder = onlyone::fuzz::MakeHolder(&input);

  FUZZ_CHECK(
      IsSafeForTerminal(cli::DescribeHolder(holder, local_host, now_ms), Newlines::kForbidden));
  onlyone::BackendStatus status;
  status.has_holder = true;
  status.holder = holder;
  // The lock name in these two lines is the user's own argument, not another
  // user's bytes: the name is checked without it.
  FUZZ_CHECK(IsSafeForTerminal(cli::ConflictLine("job", status, local_host, now_ms),
                               Newlines::kForbidden));
  FUZZ_CHECK(IsSafeForTerminal(cli::WaitingLine("job", &holder, input.U32(), local_host, now_ms),
                               Newlines::kForbidden));
  const std::string table = cli::FormatStatusText(locks, local_host, now_ms);
  FUZZ_CHECK(IsSafeForTerminal(table, Newlines::kAllowed));
  // One line per entry (a free lock: one line), between a header and a
  // legend, whatever the lengths of names, hosts and commands.
  size_t rows = 0;
  for (const cli::LockListing& lock : locks) rows += lock.entries.empty() ? 1 : lock.entries.size();
  FUZZ_CHECK(static_cast<size_t>(std::count(table.begin(), table.end(), '\n')) == rows + 2);
  const std::string json = cli::FormatStatusJson("/run/onlyone", locks);
  FUZZ_CHECK(onlyone::fuzz::IsJsonSafe(json));
  return 0;
}
