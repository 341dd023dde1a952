#include "platform/zookeeper/lock_node.h"

#include <algorithm>

namespace onlyone {
namespace zookeeper {
namespace {

struct Marker {
  const char* text;
  NodeKind kind;
};

// Longest first is not needed: "__rlock__" does not end in "__lock__", and
// the marker must sit right before the sequence.
constexpr Marker kMarkers[] = {
    {"__lock__", NodeKind::kLock},
    {"__rlock__", NodeKind::kReadLock},
    {"-lock-", NodeKind::kCurator},
};

bool EndsWith(const std::string& text, size_t end, const std::string& suffix) {
  return end >= suffix.size() && text.compare(end - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const char* NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kLock: return "lock";
    case NodeKind::kReadLock: return "kazoo-read-lock";
    case NodeKind::kCurator: return "curator";
  }
  return "unknown";
}

std::string OwnNodePrefix(const std::string& uuid_hex) { return uuid_hex + "__lock__"; }

bool ParseLockNode(const std::string& name, LockNode* node) {
  if (name.size() < kSequenceDigits) return false;
  size_t digits_start = name.size() - kSequenceDigits;
  for (size_t i = digits_start; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  bool negative = digits_start > 0 && name[digits_start - 1] == '-';
  // "...-lock-0000000001": the '-' before the digits ends Curator's marker,
  // it is not a sign. Try the unsigned reading first, then the signed one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool signed_reading = attempt == 1;
    if (signed_reading && !negative) break;
    const size_t text_start = signed_reading ? digits_start - 1 : digits_start;
    for (const Marker& marker : kMarkers) {
      if (!EndsWith(name, text_start, marker.text)) continue;
      node->name = name;
      node->kind = marker.kind;
      node->sequence_text = name.substr(text_start);
      int64_t value = 0;
      for (size_t i = digits_start; i < name.size(); ++i) value = value * 10 + (name[i] - '0');
      node->sequence = signed_reading ? -value : value;
      return true;
    }
  }
  return false;
}

std::vector<LockNode> SortContenders(const std::vector<std::string>& children) {
  std::vector<LockNode> contenders;
  for (const std::string& child : children) {
    LockNode node;
    if (ParseLockNode(child, &node)) contenders.push_back(node);
  }
  // The sequence text first (kazoo's and Curator's order); the name breaks
  // ties, which only a hand-made node can create, so that every reader of
  // the same listing agrees anyway.
  std::sort(contenders.begin(), contenders.end(), [](const LockNode& a, const LockNode& b) {
    if (a.sequence_text != b.sequence_text) return a.sequence_text < b.sequence_text;
    return a.name < b.name;
  });
  return contenders;
}

QueuePlace FindPlace(const std::vector<LockNode>& contenders, const std::string& own_name,
                     uint32_t slots) {
  QueuePlace place;
  for (size_t i = 0; i < contenders.size(); ++i) {
    if (contenders[i].name == own_name) {
      place.found = true;
      place.index = i;
      break;
    }
  }
  if (!place.found) return place;
  place.holding = place.index < slots;
  if (place.holding) return place;
  for (size_t i = place.index - slots; i < place.index; ++i) {
    place.watch.push_back(contenders[i].name);
  }
  return place;
}

}  // namespace zookeeper
}  // namespace onlyone
