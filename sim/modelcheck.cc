#include "sim/modelcheck.h"

#include <stdio.h>

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/fingerprint.h"

namespace onlyone {
namespace sim {
namespace {

struct Key {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Key& other) const { return hi == other.hi && lo == other.lo; }
};

struct KeyHash {
  size_t operator()(const Key& key) const { return static_cast<size_t>(key.hi ^ (key.lo * 31)); }
};

constexpr uint32_t kNoParent = UINT32_MAX;

struct StateInfo {
  uint32_t parent = kNoParent;
  Transition via;
  uint32_t live_mask = 0;      // processes alive and not done
  uint32_t disabled_mask = 0;  // live processes that cannot step here
};

struct Edge {
  uint32_t from = 0;
  uint32_t to = 0;
  uint32_t proc = 0;
};

struct Frame {
  World world;
  uint32_t index = 0;
  uint32_t crashes_used = 0;
  uint32_t reuses_used = 0;
  std::vector<Transition> enabled;
  size_t next = 0;
  bool reduced = false;  // `enabled` holds one local transition only
  Key key;               // fingerprint of `world` with the fault budgets
  Transition via;        // how the parent frame got here
};

// Visited states for --compact runs: 128-bit fingerprints in one flat
// open-addressing table, 16 bytes a state instead of the ~100 the graph of a
// full run keeps (parents for traces, edges for the livelock check).
class FingerprintSet {
 public:
  explicit FingerprintSet(uint64_t capacity_states) {
    uint64_t slots = 1;
    while (slots < capacity_states + capacity_states / 10) slots <<= 1;
    slots_.assign(slots, Key{});
    mask_ = slots - 1;
  }
  // Returns true when `key` was not yet in the set.
  bool Insert(Key key) {
    if (key.hi == 0 && key.lo == 0) key.lo = 1;  // (0, 0) marks an empty slot
    for (uint64_t at = key.lo & mask_;; at = (at + 1) & mask_) {
      if (slots_[at].hi == 0 && slots_[at].lo == 0) {
        slots_[at] = key;
        return true;
      }
      if (slots_[at] == key) return false;
    }
  }

 private:
  std::vector<Key> slots_;
  uint64_t mask_ = 0;
};

// Fills frame->enabled: one local transition when some process has one
// (partial-order reduction), else every enabled transition.
void Expand(const ModelCheckConfig& config, Frame* frame, bool allow_reduction) {
  const bool crashes_left = frame->crashes_used < config.crashes;
  frame->next = 0;
  frame->reduced = false;
  if (allow_reduction && config.reduce) {
    for (uint32_t i = 0; i < frame->world.procs().size(); ++i) {
      Transition local;
      if (frame->world.LocalTransition(i, crashes_left, &local)) {
        frame->enabled.assign(1, local);
        frame->reduced = true;
        return;
      }
    }
  }
  frame->world.EnabledTransitions(crashes_left, frame->reuses_used < config.reuses,
                                  &frame->enabled);
}

Key KeyOf(const World& world, uint32_t crashes_used, uint32_t reuses_used) {
  Key key;
  world.Fingerprint(&key.hi, &key.lo);
  Hasher budget(key.hi);
  budget.Word(crashes_used);
  budget.Word(reuses_used);
  key.hi = budget.value();
  return key;
}

// Live processes, and those of them that cannot take a step (a waiter that
// has not been woken). Deadlock: live processes but none can move.
void Masks(const World& world, uint32_t* live, uint32_t* disabled) {
  *live = 0;
  *disabled = 0;
  for (const Process& p : world.procs()) {
    // A killed holder's running job is live for fairness: it will end, and
    // a cycle in which it never does is not a fair one. It is never blocked.
    if (p.job_running) {
      *live |= 1u << p.index;
      continue;
    }
    if (!p.alive || p.pc == ProgramCounter::kDone) continue;
    *live |= 1u << p.index;
    const bool can_step = world.IsEnabled(Transition{TransitionKind::kStep, p.index}) ||
                          world.IsEnabled(Transition{TransitionKind::kTimeout, p.index});
    if (!can_step) *disabled |= 1u << p.index;
  }
}

std::string Replay(const ModelCheckConfig& config, const std::vector<Transition>& path) {
  World world(config.world);
  world.set_narrate(true);
  std::string trace;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string step = world.Describe(path[i]);
    world.Apply(path[i]);
    trace += "  " + std::to_string(i + 1) + ". " + step + world.narration() + "\n";
  }
  trace += "  lock directory at the end:\n" + world.DescribeFs();
  return trace;
}

std::string TraceTo(const ModelCheckConfig& config, const std::vector<StateInfo>& states,
                    uint32_t index) {
  std::vector<Transition> path;
  for (uint32_t at = index; states[at].parent != kNoParent; at = states[at].parent) {
    path.push_back(states[at].via);
  }
  std::reverse(path.begin(), path.end());
  return Replay(config, path);
}

// In --compact runs the path to a state is the DFS stack itself.
std::string TraceOfStack(const ModelCheckConfig& config, const std::vector<Frame>& stack,
                         Transition last) {
  std::vector<Transition> path;
  for (size_t i = 1; i < stack.size(); ++i) path.push_back(stack[i].via);
  path.push_back(last);
  return Replay(config, path);
}

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

ModelCheckReport ModelCheck(const ModelCheckConfig& config) {
  ModelCheckReport report;
  const bool compact = config.compact;
  std::unordered_map<Key, uint32_t, KeyHash> seen;  // full runs: state -> index
  std::vector<StateInfo> states;                    // full runs: by index
  std::vector<Edge> edges;     // non-progress, non-fault edges, for the livelock check
  std::vector<bool> on_stack;  // full runs, by state index: the cycle proviso (C3)
  FingerprintSet compact_seen(compact ? config.max_states : 0);
  std::unordered_map<Key, uint32_t, KeyHash> compact_on_stack;  // compact runs
  uint64_t state_count = 0;
  bool first_recorded = false;
  std::vector<Frame> stack;

  // `index` is meaningful in full runs; compact runs trace the stack.
  auto record_violation = [&](uint32_t index, Transition last, const std::string& what) {
    ++report.violations;
    if (first_recorded) return;
    first_recorded = true;
    report.first_violation = what;
    report.trace = compact ? TraceOfStack(config, stack, last) : TraceTo(config, states, index);
  };

  {
    Frame root{World(config.world), 0, 0, 0, {}, 0, false, {}, {}};
    root.key = KeyOf(root.world, 0, 0);
    if (compact) {
      compact_seen.Insert(root.key);
      compact_on_stack[root.key] = 1;
    } else {
      StateInfo info;
      Masks(root.world, &info.live_mask, &info.disabled_mask);
      states.push_back(info);
      on_stack.push_back(true);
      seen.emplace(root.key, 0);
    }
    state_count = 1;
    Expand(config, &root, true);
    stack.push_back(std::move(root));
  }

  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.enabled.size()) {
      if (compact) {
        compact_on_stack.erase(top.key);
      } else {
        on_stack[top.index] = false;
      }
      stack.pop_back();
      continue;
    }
    const Transition t = top.enabled[top.next++];
    Frame child{top.world, 0, top.crashes_used, top.reuses_used, {}, 0, false, {}, t};
    child.world.Apply(t);
    if (t.kind == TransitionKind::kCrash || t.kind == TransitionKind::kCrashLeavingJob) {
      ++child.crashes_used;
    }
    if (t.kind == TransitionKind::kReusePid) ++child.reuses_used;
    ++report.transitions;

    child.key = KeyOf(child.world, child.crashes_used, child.reuses_used);
    bool inserted = false;
    uint32_t child_index = 0;
    if (compact) {
      inserted = compact_seen.Insert(child.key);
    } else {
      auto [it, is_new] = seen.emplace(child.key, static_cast<uint32_t>(states.size()));
      inserted = is_new;
      child_index = it->second;
      const bool progress = child.world.counters().acquisitions > top.world.counters().acquisitions;
      const bool fault = t.kind == TransitionKind::kCrash ||
                         t.kind == TransitionKind::kCrashLeavingJob ||
                         t.kind == TransitionKind::kReusePid;
      if (config.check_livelock && !progress && !fault) {
        edges.push_back(Edge{top.index, child_index, t.proc});
      }
    }
    if (!inserted) {
      // Cycle proviso: a reduced state whose only successor closes a cycle
      // on the stack would postpone everyone else forever; expand it fully.
      const bool closes_cycle =
          compact ? compact_on_stack.count(child.key) != 0 : on_stack[child_index];
      if (top.reduced && closes_cycle) Expand(config, &top, false);
      continue;
    }
    ++state_count;
    if (config.progress && state_count % 5'000'000 == 0) {
      fprintf(stderr, "modelcheck: %llu states, %zu on the stack, %llu transitions\n",
              static_cast<unsigned long long>(state_count), stack.size(),
              static_cast<unsigned long long>(report.transitions));
    }
    MaxCounters(child.world.counters(), &report.reached);

    StateInfo info;
    info.parent = top.index;
    info.via = t;
    Masks(child.world, &info.live_mask, &info.disabled_mask);
    if (!compact) {
      states.push_back(info);
      on_stack.push_back(false);
    }
    if (state_count >= config.max_states) {
      report.complete = false;
      break;
    }

    if (!child.world.violation().empty()) {
      record_violation(child_index, t, child.world.violation());
      continue;
    }
    if (info.live_mask != 0 && info.disabled_mask == info.live_mask) {
      record_violation(child_index, t,
                       "P3 violated: deadlock, every live contender waits and nothing will "
                       "wake them");
      continue;
    }
    child.index = child_index;
    Expand(config, &child, true);
    if (compact) {
      compact_on_stack[child.key] = 1;
    } else {
      on_stack[child_index] = true;
    }
    stack.push_back(std::move(child));
  }
  report.states = state_count;

  if (config.check_livelock && !compact && report.complete) {
    // P3, second half: a cycle with no acquisition along which every live
    // contender either moves or is blocked at some point (weak fairness)
    // means the contenders can run forever without anyone acquiring.
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
      record_violation(members[0], Transition{},
                       "P3 violated: a fair cycle of " + std::to_string(members.size()) +
                           " states in which nobody ever acquires");
    });
  }
  return report;
}

}  // namespace sim
}  // namespace onlyone
