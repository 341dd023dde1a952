#include "cli/status_format.h"

#include <stdio.h>
#include <time.h>

#include "cli/duration.h"
#include "platform/posix/lock.h"  // JobHoldsText

namespace onlyone {
namespace cli {
namespace {

// Length of the UTF-8 sequence starting at bytes[i], or 0 if it is invalid
// (overlong forms, surrogates and values above U+10FFFF are invalid too).
size_t Utf8SequenceLength(const std::string& bytes, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  uint32_t code_point = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > bytes.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  if (length == 3 && (code_point < 0x800 || (code_point >= 0xD800 && code_point <= 0xDFFF))) {
    return 0;
  }
  if (length == 4 && (code_point < 0x10000 || code_point > 0x10FFFF)) return 0;
  return length;
}

// Text from another process's record, made safe for a terminal: in a shared
// directory another user writes those records, and an escape sequence in a
// "command" must not reach our terminal as one. Besides C0 controls and DEL
// that means C1 controls (U+0080-U+009F: U+009B is CSI, U+009D OSC), encoded
// or as raw bytes, which an 8-bit terminal reads as C1 too; so every byte
// that is not UTF-8 goes, not only 0x80-0x9F. Each becomes '?'.
std::string Printable(const std::string& text) {
  std::string safe;
  safe.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t length = Utf8SequenceLength(text, i);
    // A two-byte sequence C2 80..C2 9F is the encoding of U+0080..U+009F.
    const bool c1 = length == 2 && lead == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (length == 0 || c1 || lead < 0x20 || lead == 0x7f) {
      safe += '?';
      i += length == 0 ? 1 : length;
      continue;
    }
    safe.append(text, i, length);
    i += length;
  }
  return safe;
}

// `text` padded with spaces to `width` bytes, never cut: a long lock name
// (up to NAME_MAX) shifts the rest of its row instead of losing the row's end.
std::string PadRight(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string PadLeft(const std::string& text, size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string Age(uint64_t since_ms, uint64_t now_ms) {
  if (since_ms == 0) return "";
  const int64_t age_ms = now_ms > since_ms ? static_cast<int64_t>(now_ms - since_ms) : 0;
  return FormatDuration(age_ms) + " ago";
}

}  // namespace

std::string JsonString(const std::string& bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char escape[8];
      snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(bytes, i);
      if (length == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        ++i;
        continue;
      }
      out.append(bytes, i, length);
      i += length;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out + "\"";
}

std::string FormatUtcTime(uint64_t epoch_ms) {
  const time_t seconds = static_cast<time_t>(epoch_ms / 1000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string DescribeHolder(const Holder& holder, const std::string& local_host, uint64_t now_ms) {
  std::string text = "pid " + std::to_string(holder.pid);
  if (!holder.host.empty() && holder.host != local_host) text += " on " + Printable(holder.host);
  if (!holder.command.empty()) text += " (" + Printable(holder.command) + ")";
  if (holder.since_ms != 0) {
    text += " since " + FormatUtcTime(holder.since_ms) + ", " + Age(holder.since_ms, now_ms);
  }
  if (holder.owner_gone) text += "; " + JobHoldsText(holder);
  return text;
}

std::string ConflictLine(const std::string& name, const BackendStatus& status,
                         const std::string& local_host, uint64_t now_ms) {
  std::string line = "onlyone: '" + name + "' is held";
  if (status.has_holder && status.holder.slots > 1) {
    line += " (all " + std::to_string(status.holder.slots) + " slots)";
  }
  if (status.has_holder) {
    line += " by " + DescribeHolder(status.holder, local_host, now_ms);
  } else if (!status.message.empty()) {
    line += ": " + status.message;
  }
  return line;
}

std::string WaitingLine(const std::string& name, const Holder* holder, uint64_t waited_ms,
                        const std::string& local_host, uint64_t now_ms) {
  std::string line =
      "onlyone: waiting " + FormatDuration(static_cast<int64_t>(waited_ms)) + " for '" + name + "'";
  if (holder != nullptr) line += ", held by " + DescribeHolder(*holder, local_host, now_ms);
  return line;
}

const char* EntryStateName(const Holder& holder) {
  if (holder.alive_known && !holder.alive) return "dead";
  // A ZooKeeper node's first sequence number is 0: holding says it is not choosing.
  if (holder.ticket == 0 && !holder.holding) return "choosing";
  return holder.holding ? "holding" : "waiting";
}

std::string FormatStatusText(const std::vector<LockListing>& locks, const std::string& local_host,
                             uint64_t now_ms) {
  if (locks.empty()) return "no locks\n";
  // Columns as printf's "%-24s %-8s %8s %-16s %-30s %s", without its
  // fixed-size buffer (found by //fuzz:status_format: rows were cut short).
  std::string out = PadRight("LOCK", 24) + " " + PadRight("STATE", 8) + " " + PadLeft("PID", 8) +
                    " " + PadRight("HOST", 16) + " " + PadRight("SINCE", 30) + " COMMAND\n";
  for (const LockListing& lock : locks) {
    if (lock.entries.empty()) {
      out += PadRight(Printable(lock.name), 24) + " " + PadRight("free", 8) + "\n";
      continue;
    }
    for (const Holder& entry : lock.entries) {
      std::string since;
      if (entry.since_ms != 0) {
        since = FormatUtcTime(entry.since_ms) + " (" + Age(entry.since_ms, now_ms) + ")";
      }
      std::string host = entry.host.empty() ? "-" : Printable(entry.host);
      if (entry.host == local_host) host += "*";
      if (!entry.alive_known) host += "?";
      out += PadRight(Printable(lock.name), 24) + " " + PadRight(EntryStateName(entry), 8) + " " +
             PadLeft(std::to_string(entry.pid), 8) + " " + PadRight(host, 16) + " " +
             PadRight(since, 30) + " " + Printable(entry.command) + "\n";
      if (entry.owner_gone) out += "  " + JobHoldsText(entry) + "\n";
    }
  }
  out += "(* this host, ? liveness not checkable from here)\n";
  return out;
}

namespace {

std::string LocksJson(const std::vector<LockListing>& locks) {
  std::string out = "\"locks\": [";
  for (size_t l = 0; l < locks.size(); ++l) {
    const LockListing& lock = locks[l];
    if (l > 0) out += ", ";
    out += "{\"name\": " + JsonString(lock.name) + ", \"entries\": [";
    for (size_t e = 0; e < lock.entries.size(); ++e) {
      const Holder& entry = lock.entries[e];
      if (e > 0) out += ", ";
      out += "{\"state\": " + JsonString(EntryStateName(entry));
      out += ", \"pid\": " + std::to_string(entry.pid);
      out += ", \"host\": " + JsonString(entry.host);
      out += ", \"command\": " + JsonString(entry.command);
      out += ", \"since_ms\": " + std::to_string(entry.since_ms);
      out +=
          ", \"since\": " + (entry.since_ms ? JsonString(FormatUtcTime(entry.since_ms)) : "null");
      out += ", \"ticket\": " + std::to_string(entry.ticket);
      out += ", \"slots\": " + std::to_string(entry.slots);
      out += ", \"holding\": " + std::string(entry.holding ? "true" : "false");
      out += ", \"alive\": " + std::string(!entry.alive_known ? "null"
                                           : entry.alive      ? "true"
                                                              : "false");
      out += ", \"owner_gone\": " + std::string(entry.owner_gone ? "true" : "false");
      out += ", \"job_pids\": [";
      for (size_t i = 0; i < entry.job_pids.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(entry.job_pids[i]);
      }
      out += "]";
      if (e < lock.zk_nodes.size()) {
        const ZkNodeFields& zk = lock.zk_nodes[e];
        out += ", \"node\": " + JsonString(zk.node);
        out += ", \"czxid\": " + std::to_string(zk.czxid);
        out += ", \"owner\": " + JsonString(zk.kind);
      }
      out += "}";
    }
    out += "]}";
  }
  return out + "]";
}

}  // namespace

std::string FormatStatusJson(const std::string& dir, const std::vector<LockListing>& locks) {
  return "{\"dir\": " + JsonString(dir) + ", " + LocksJson(locks) + "}\n";
}

std::string FormatZkStatusJson(const std::string& connect, const std::string& root,
                               const std::vector<LockListing>& locks) {
  return "{\"zk\": " + JsonString(connect) + ", \"root\": " + JsonString(root) + ", " +
         LocksJson(locks) + "}\n";
}

}  // namespace cli
}  // namespace onlyone
