// The lock recipe's pure part: which children of a lock node are contenders,
// in what order, who holds, and which nodes a waiter watches. No ZooKeeper
// headers and no I/O, so every rule here is unit-tested without a server.
//
// The recipe (ZooKeeper's "Locks" recipe, as kazoo's Lock and Curator's
// InterProcessMutex implement it): each contender creates one
// EPHEMERAL_SEQUENTIAL child of the lock node; the server appends a 10-digit
// sequence number from the parent's counter, so creation order is queue
// order. The `slots` contenders with the lowest sequence numbers hold.
//
// Names, so that processes using those libraries on the same path exclude
// with us:
//   ours and kazoo's Lock:     <32 hex uuid>__lock__<10 digits>
//   kazoo's ReadLock:          <32 hex uuid>__rlock__<10 digits>
//   Curator's InterProcessMutex: _c_<36-char uuid>-lock-<10 digits>
// A sequence that overflowed 2^31 is written with a '-' (11 characters).
// kazoo orders contenders by the text of the sequence (so "-..." sorts first)
// and Curator by the text after "lock-": we order by the same text, so all
// three agree on who is first. Children that match none of the patterns
// (kazoo's lease nodes, anything else) are not contenders, as for kazoo.
#ifndef ONLYONE_PLATFORM_ZOOKEEPER_LOCK_NODE_H_
#define ONLYONE_PLATFORM_ZOOKEEPER_LOCK_NODE_H_

#include <stdint.h>

#include <string>
#include <vector>

namespace onlyone {
namespace zookeeper {

constexpr size_t kSequenceDigits = 10;

enum class NodeKind : uint8_t {
  kLock,      // "__lock__": onlyone or kazoo's Lock (the same scheme)
  kReadLock,  // "__rlock__": kazoo's ReadLock; excludes an exclusive lock all the same
  kCurator,   // "-lock-": Curator's InterProcessMutex
};

const char* NodeKindName(NodeKind kind);

struct LockNode {
  std::string name;  // the child's name, as listed
  NodeKind kind = NodeKind::kLock;
  std::string sequence_text;  // "0000000007" or "-2147483647": the sort key
  int64_t sequence = 0;       // its value
};

// The "<32 hex>__lock__" prefix we create our node with; the server appends
// the sequence. Finding a child with this prefix after a connection loss
// tells whether our create went through (the reply may be what was lost).
std::string OwnNodePrefix(const std::string& uuid_hex);

// Parses a child's name. false: not a contender (a foreign or unknown node).
bool ParseLockNode(const std::string& name, LockNode* node);

// The contenders among `children`, in queue order (the holders first).
std::vector<LockNode> SortContenders(const std::vector<std::string>& children);

struct QueuePlace {
  bool found = false;    // our node is among the contenders
  size_t index = 0;      // our place in the queue (0: first)
  bool holding = false;  // index < slots
  // Waiting: the nodes to watch. With one slot, only the node just ahead of
  // us (no herd: a release wakes one waiter). With `slots` > 1, the `slots`
  // nodes just ahead: we become eligible when fewer than `slots` nodes are
  // ahead, which cannot happen while all of those are still there, and can
  // happen as soon as one of them leaves (watching fewer misses that: with
  // 2 slots, the first waiter must hear from both holders).
  std::vector<std::string> watch;
};

// Where `own_name` stands among `contenders` (from SortContenders).
QueuePlace FindPlace(const std::vector<LockNode>& contenders, const std::string& own_name,
                     uint32_t slots);

}  // namespace zookeeper
}  // namespace onlyone

#endif  // ONLYONE_PLATFORM_ZOOKEEPER_LOCK_NODE_H_
