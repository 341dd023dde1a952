#include "sim/explore.h"

#include <algorithm>

namespace onlyone {
namespace sim {
namespace explore_internal {
namespace {

// Tarjan's strongly connected components, iteratively (the graph may have
// millions of states; recursion would overflow the stack). Calls `on_scc`
// with each component's members.
template <typename OnScc>
void StronglyConnected(uint32_t node_count, const std::vector<uint32_t>& offsets,
                       const std::vector<uint32_t>& targets, OnScc on_scc) {
  constexpr uint32_t kUnvisited = UINT32_MAX;
  std::vector<uint32_t> order(node_count, kUnvisited);
  std::vector<uint32_t> low(node_count, 0);
  std::vector<bool> on_stack(node_count, false);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, uint32_t>> call;  // node, next edge offset
  uint32_t counter = 0;
  std::vector<uint32_t> members;
  for (uint32_t root = 0; root < node_count; ++root) {
    if (order[root] != kUnvisited) continue;
    call.push_back({root, offsets[root]});
    order[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!call.empty()) {
      auto& [node, edge] = call.back();
      if (edge < offsets[node + 1]) {
        const uint32_t next = targets[edge++];
        if (order[next] == kUnvisited) {
          order[next] = low[next] = counter++;
          stack.push_back(next);
          on_stack[next] = true;
          call.push_back({next, offsets[next]});
        } else if (on_stack[next]) {
          low[node] = std::min(low[node], order[next]);
        }
        continue;
      }
      const uint32_t done = node;
      call.pop_back();
      if (!call.empty()) low[call.back().first] = std::min(low[call.back().first], low[done]);
      if (low[done] == order[done]) {
        members.clear();
        uint32_t member = 0;
        do {
          member = stack.back();
          stack.pop_back();
          on_stack[member] = false;
          members.push_back(member);
        } while (member != done);
        on_scc(members);
      }
    }
  }
}

}  // namespace

FingerprintSet::FingerprintSet(uint64_t capacity_states) {
  uint64_t slots = 1;
  while (slots < capacity_states + capacity_states / 10) slots <<= 1;
  slots_.assign(slots, Key{});
  mask_ = slots - 1;
}

bool FingerprintSet::Insert(Key key) {
  if (key.hi == 0 && key.lo == 0) key.lo = 1;  // (0, 0) marks an empty slot
  for (uint64_t at = key.lo & mask_;; at = (at + 1) & mask_) {
    if (slots_[at].hi == 0 && slots_[at].lo == 0) {
      slots_[at] = key;
      return true;
    }
    if (slots_[at] == key) return false;
  }
}

void CheckFairCycles(const std::vector<StateInfo>& states, const std::vector<Edge>& edges,
                     const std::function<void(uint32_t, const std::string&)>& violate) {
  const uint32_t node_count = static_cast<uint32_t>(states.size());
  std::vector<uint32_t> offsets(node_count + 1, 0);
  for (const Edge& e : edges) ++offsets[e.from + 1];
  for (uint32_t i = 0; i < node_count; ++i) offsets[i + 1] += offsets[i];
  std::vector<uint32_t> targets(edges.size());
  std::vector<uint32_t> procs(edges.size());
  {
    std::vector<uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (const Edge& e : edges) {
      targets[fill[e.from]] = e.to;
      procs[fill[e.from]++] = e.proc;
    }
  }
  std::vector<uint32_t> component(node_count, UINT32_MAX);
  uint32_t component_id = 0;
  StronglyConnected(node_count, offsets, targets, [&](const std::vector<uint32_t>& members) {
    const uint32_t id = component_id++;
    for (uint32_t m : members) component[m] = id;
    uint32_t moved = 0;
    uint32_t blocked_somewhere = 0;
    bool has_cycle = members.size() > 1;
    for (uint32_t m : members) {
      blocked_somewhere |= states[m].disabled_mask;
      for (uint32_t e = offsets[m]; e < offsets[m + 1]; ++e) {
        if (component[targets[e]] != id) continue;
        moved |= 1u << procs[e];
        if (targets[e] == m) has_cycle = true;
      }
    }
    if (!has_cycle) return;
    const uint32_t live = states[members[0]].live_mask;
    if ((live & ~(moved | blocked_somewhere)) != 0) return;  // someone starved: unfair
    violate(members[0], "P3 violated: a fair cycle of " + std::to_string(members.size()) +
                            " states in which nobody ever acquires");
  });
}

}  // namespace explore_internal
}  // namespace sim
}  // namespace onlyone
