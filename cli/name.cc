#include "cli/name.h"

#include <stdio.h>

namespace onlyone {
namespace cli {
namespace {

constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

void HashByte(uint64_t* hash, uint8_t byte) {
  *hash ^= byte;
  *hash *= kFnvPrime;
}

bool IsPortableNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '+' || c == '-';
}

bool NeedsNoQuoting(const std::string& word) {
  if (word.empty()) return false;
  for (char c : word) {
    if (!IsPortableNameChar(c) && c != '/' && c != '=' && c != ':' && c != ',' && c != '@' &&
        c != '%') {
      return false;
    }
  }
  return true;
}

std::string ShellQuote(const std::string& word) {
  if (NeedsNoQuoting(word)) return word;
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string Basename(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

uint64_t HashArgv(const std::vector<std::string>& argv) {
  uint64_t hash = kFnvOffsetBasis;
  for (const std::string& word : argv) {
    uint64_t length = word.size();
    for (int i = 0; i < 8; ++i) HashByte(&hash, static_cast<uint8_t>(length >> (8 * i)));
    for (char c : word) HashByte(&hash, static_cast<uint8_t>(c));
  }
  return hash;
}

std::string DeriveLockName(const std::vector<std::string>& argv) {
  std::string prefix;
  if (!argv.empty()) {
    for (char c : Basename(argv[0])) {
      if (prefix.size() == kDerivedPrefixBytesMax) break;
      prefix += IsPortableNameChar(c) ? c : '_';
    }
  }
  // A leading '.' would hide the lock from `ls` and make "." or ".." possible.
  if (!prefix.empty() && prefix[0] == '.') prefix[0] = '_';
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(HashArgv(argv)));
  return prefix.empty() ? "cmd-" + std::string(hex) : "cmd-" + prefix + "-" + hex;
}

std::string SummarizeCommand(const std::vector<std::string>& argv, size_t max_bytes) {
  std::string summary;
  for (const std::string& word : argv) {
    if (!summary.empty()) summary += ' ';
    summary += ShellQuote(word);
  }
  // Replace control characters: the summary ends up on terminals and in logs.
  for (char& c : summary) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  const std::string ellipsis = "...";
  if (summary.size() > max_bytes && max_bytes >= ellipsis.size()) {
    size_t cut = max_bytes - ellipsis.size();
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(summary[cut]) & 0xC0) == 0x80) --cut;
    summary = summary.substr(0, cut) + ellipsis;
  }
  return summary;
}

}  // namespace cli
}  // namespace onlyone
