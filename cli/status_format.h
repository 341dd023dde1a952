// What onlyone prints about holders: the one-line conflict message, the
// waiting status line, and `onlyone status` as text or JSON. Pure functions
// of their inputs (the clock is a parameter) so they are unit-tested.
#ifndef ONLYONE_CLI_STATUS_FORMAT_H_
#define ONLYONE_CLI_STATUS_FORMAT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "platform/backend.h"

namespace onlyone {
namespace cli {

// What a ZooKeeper lock's entry has beyond a Holder: its node, the node's
// creation zxid (the fence of that holding), and whose node it is.
struct ZkNodeFields {
  std::string node;
  int64_t czxid = 0;
  std::string kind;  // "onlyone", "kazoo" or "curator"
};

struct LockListing {
  std::string name;
  std::vector<Holder> entries;         // holders first, as Lock::List returns them
  std::vector<ZkNodeFields> zk_nodes;  // ZooKeeper locks: one per entry; else empty
};

// A JSON string literal (with the quotes) for arbitrary bytes: control
// characters, quotes and backslashes escaped; bytes that are not valid UTF-8
// become U+FFFD so the output is always valid JSON.
std::string JsonString(const std::string& bytes);

// "2026-11-22T22:55:01Z" for a wall-clock time in ms since the epoch.
std::string FormatUtcTime(uint64_t epoch_ms);

// "pid 4242 on build-3 (make all) since 2026-11-22T22:55:01Z, 3m12s ago".
// The host is left out when it is `local_host`.
std::string DescribeHolder(const Holder& holder, const std::string& local_host, uint64_t now_ms);

// The line printed when the lock is not acquired:
// "onlyone: 'NAME' is held by pid 4242 (make all) since ..., 3m12s ago".
std::string ConflictLine(const std::string& name, const BackendStatus& status,
                         const std::string& local_host, uint64_t now_ms);

// The terminal status line while waiting (no newline, no escapes).
std::string WaitingLine(const std::string& name, const Holder* holder, uint64_t waited_ms,
                        const std::string& local_host, uint64_t now_ms);

// "holding", "waiting", "choosing" or "dead".
const char* EntryStateName(const Holder& holder);

// `onlyone status`: a table, one row per entry.
std::string FormatStatusText(const std::vector<LockListing>& locks, const std::string& local_host,
                             uint64_t now_ms);

// `onlyone status --json`: {"dir": ..., "locks": [{"name": ..., "entries": [...]}]}.
// ZooKeeper locks: {"zk": CONNECT, "root": PATH, "locks": [...]}, and each
// entry also has "node", "czxid" and "owner" ("onlyone", "kazoo", "curator").
std::string FormatStatusJson(const std::string& dir, const std::vector<LockListing>& locks);
std::string FormatZkStatusJson(const std::string& connect, const std::string& root,
                               const std::vector<LockListing>& locks);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_STATUS_FORMAT_H_
