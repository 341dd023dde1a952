// Lock names derived from a command line, and the command summary that
// `onlyone status` shows.
#ifndef ONLYONE_CLI_NAME_H_
#define ONLYONE_CLI_NAME_H_

#include <stdint.h>

#include <string>
#include <vector>

namespace onlyone {
namespace cli {

// Longest readable prefix (taken from the program's basename) of a derived name.
constexpr size_t kDerivedPrefixBytesMax = 32;

// 64-bit FNV-1a over the argv, each element preceded by its length as 8
// little-endian bytes. Length prefixes make the encoding injective: ["a b"]
// and ["a", "b"] hash different byte strings. The definition is fixed: a
// derived name must stay the same across onlyone versions and machines, or
// two versions running the same cron job would not exclude each other.
uint64_t HashArgv(const std::vector<std::string>& argv);

// "cmd-<prefix>-<16 hex digits>", where prefix is the program's basename with
// characters outside [A-Za-z0-9._+-] replaced by '_' (the prefix only helps
// people; the hash decides). "cmd-<16 hex>" if the basename gives nothing.
std::string DeriveLockName(const std::vector<std::string>& argv);

// The command line as a shell would need it, for people: words that need it
// are single-quoted. Truncated to at most max_bytes (ending in "...").
std::string SummarizeCommand(const std::vector<std::string>& argv, size_t max_bytes);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_NAME_H_
