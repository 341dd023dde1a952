// The exhaustive search, written once for every model it explores: the lock
// protocol's own program (sim/modelcheck.cc) and users' programs (verify/).
//
// A depth-first search over states identified by a 128-bit fingerprint, with
//   - partial-order reduction: where a model offers one local move (it
//     touches nothing another process reads and cannot be disabled), only
//     that move is explored, with the cycle proviso (C3): a reduced state
//     whose move closes a cycle on the stack is expanded fully, so nobody is
//     postponed forever;
//   - on every new state, the model's own safety checks (violation()) and
//     deadlock: live processes remain but none can move;
//   - after a complete full run, the fair-cycle half of deadlock freedom: a
//     cycle without progress along which every live process moves or is
//     blocked somewhere (weak fairness) means they can run forever without
//     anyone getting anywhere.
//
// A Model is a copyable value with
//   using Move = ...;      // a transition; has `uint32_t proc`
//   using Counters = ...;  // rare branches reached
//   static void MaxCounters(const Counters& from, Counters* into);
//   void Fingerprint(uint64_t* hi, uint64_t* lo) const;  // incl. fault budgets
//   bool Moves(bool allow_reduction, std::vector<Move>* out) const;  // true: reduced
//   void Apply(const Move& move);
//   const std::string& violation() const;   // empty while safe
//   void Masks(uint32_t* live, uint32_t* disabled) const;
//   uint64_t progress() const;              // grows when someone gets somewhere
//   bool IsFault(const Move& move) const;   // crashes and the like: not fairness
//   const Counters& counters() const;
//   std::string Trace(const std::vector<Move>& path) const;  // called on the root
#ifndef ONLYONE_SIM_EXPLORE_H_
#define ONLYONE_SIM_EXPLORE_H_

#include <stdint.h>
#include <stdio.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace onlyone {
namespace sim {

struct ExploreLimits {
  uint64_t max_states = 50'000'000;
  bool check_livelock = true;  // the fair-cycle check (needs the graph)
  bool reduce = true;          // partial-order reduction of local moves
  bool progress = false;       // report progress on stderr
  // Keep only 16-byte fingerprints (no graph): for configurations too large
  // for a full run. Checks safety and deadlocks, not fair cycles. The table
  // is sized for max_states up front.
  bool compact = false;
};

template <typename Move, typename Counters>
struct ExploreReport {
  uint64_t states = 0;
  uint64_t transitions = 0;
  uint64_t violations = 0;
  bool complete = true;         // false when max_states stopped the search
  std::string first_violation;  // what was violated
  std::string trace;            // how to get there, one transition per line
  std::vector<Move> path;       // the same, as moves
  Counters reached;             // the largest value of each counter in any state
};

namespace explore_internal {

struct Key {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Key& other) const { return hi == other.hi && lo == other.lo; }
};

struct KeyHash {
  size_t operator()(const Key& key) const { return static_cast<size_t>(key.hi ^ (key.lo * 31)); }
};

// Visited states for compact runs: 128-bit fingerprints in one flat
// open-addressing table, 16 bytes a state instead of the ~100 the graph of a
// full run keeps (parents for traces, edges for the livelock check).
class FingerprintSet {
 public:
  explicit FingerprintSet(uint64_t capacity_states);
  // Returns true when `key` was not yet in the set.
  bool Insert(Key key);

 private:
  std::vector<Key> slots_;
  uint64_t mask_ = 0;
};

constexpr uint32_t kNoParent = UINT32_MAX;

struct StateInfo {
  uint32_t parent = kNoParent;
  uint32_t live_mask = 0;      // processes alive and not done
  uint32_t disabled_mask = 0;  // live processes that cannot step here
};

struct Edge {
  uint32_t from = 0;
  uint32_t to = 0;
  uint32_t proc = 0;
};

// The fair-cycle check over the non-progress, non-fault edges of a complete
// graph: calls `violate(state, text)` for each violating component.
void CheckFairCycles(const std::vector<StateInfo>& states, const std::vector<Edge>& edges,
                     const std::function<void(uint32_t, const std::string&)>& violate);

template <typename Model>
Key KeyOf(const Model& model) {
  Key key;
  model.Fingerprint(&key.hi, &key.lo);
  return key;
}

template <typename Model>
struct Frame {
  Model model;
  uint32_t index = 0;
  std::vector<typename Model::Move> enabled;
  size_t next = 0;
  bool reduced = false;  // `enabled` holds one local move only
  Key key;
  typename Model::Move via{};  // how the parent frame got here
};

}  // namespace explore_internal

template <typename Model>
using ReportOf = ExploreReport<typename Model::Move, typename Model::Counters>;

template <typename Model>
ReportOf<Model> Explore(const Model& root_model, const ExploreLimits& limits) {
  using namespace explore_internal;
  using Move = typename Model::Move;
  ReportOf<Model> report;
  const bool compact = limits.compact;
  std::unordered_map<Key, uint32_t, KeyHash> seen;  // full runs: state -> index
  std::vector<StateInfo> states;                    // full runs: by index
  std::vector<Move> moves;                          // full runs: the move into each state
  std::vector<Edge> edges;     // non-progress, non-fault edges, for the livelock check
  std::vector<bool> on_stack;  // full runs, by state index: the cycle proviso (C3)
  FingerprintSet compact_seen(compact ? limits.max_states : 0);
  std::unordered_map<Key, uint32_t, KeyHash> compact_on_stack;  // compact runs
  uint64_t state_count = 0;
  bool first_recorded = false;
  std::vector<Frame<Model>> stack;

  auto path_to = [&](uint32_t index, Move last) {
    std::vector<Move> path;
    if (compact) {
      for (size_t i = 1; i < stack.size(); ++i) path.push_back(stack[i].via);
      path.push_back(last);
      return path;
    }
    for (uint32_t at = index; states[at].parent != kNoParent; at = states[at].parent) {
      path.push_back(moves[at]);
    }
    return std::vector<Move>(path.rbegin(), path.rend());
  };
  auto record_violation = [&](uint32_t index, Move last, const std::string& what) {
    ++report.violations;
    if (first_recorded) return;
    first_recorded = true;
    report.first_violation = what;
    report.path = path_to(index, last);
    report.trace = root_model.Trace(report.path);
  };
  auto expand = [&](Frame<Model>* frame, bool allow_reduction) {
    frame->next = 0;
    frame->reduced = frame->model.Moves(allow_reduction && limits.reduce, &frame->enabled);
  };

  {
    Frame<Model> root{root_model, 0, {}, 0, false, {}, {}};
    root.key = KeyOf(root.model);
    if (compact) {
      compact_seen.Insert(root.key);
      compact_on_stack[root.key] = 1;
    } else {
      StateInfo info;
      root.model.Masks(&info.live_mask, &info.disabled_mask);
      states.push_back(info);
      moves.push_back(Move{});
      on_stack.push_back(true);
      seen.emplace(root.key, 0);
    }
    state_count = 1;
    expand(&root, true);
    stack.push_back(std::move(root));
  }

  while (!stack.empty()) {
    Frame<Model>& top = stack.back();
    if (top.next == top.enabled.size()) {
      if (compact) {
        compact_on_stack.erase(top.key);
      } else {
        on_stack[top.index] = false;
      }
      stack.pop_back();
      continue;
    }
    const Move t = top.enabled[top.next++];
    Frame<Model> child{top.model, 0, {}, 0, false, {}, t};
    child.model.Apply(t);
    ++report.transitions;

    child.key = KeyOf(child.model);
    bool inserted = false;
    uint32_t child_index = 0;
    if (compact) {
      inserted = compact_seen.Insert(child.key);
    } else {
      auto [it, is_new] = seen.emplace(child.key, static_cast<uint32_t>(states.size()));
      inserted = is_new;
      child_index = it->second;
      const bool progress = child.model.progress() > top.model.progress();
      if (limits.check_livelock && !progress && !top.model.IsFault(t)) {
        edges.push_back(Edge{top.index, child_index, t.proc});
      }
    }
    if (!inserted) {
      // Cycle proviso: a reduced state whose only successor closes a cycle
      // on the stack would postpone everyone else forever; expand it fully.
      const bool closes_cycle =
          compact ? compact_on_stack.count(child.key) != 0 : on_stack[child_index];
      if (top.reduced && closes_cycle) expand(&top, false);
      continue;
    }
    ++state_count;
    if (limits.progress && state_count % 5'000'000 == 0) {
      fprintf(stderr, "explore: %llu states, %zu on the stack, %llu transitions\n",
              static_cast<unsigned long long>(state_count), stack.size(),
              static_cast<unsigned long long>(report.transitions));
    }
    Model::MaxCounters(child.model.counters(), &report.reached);

    StateInfo info;
    info.parent = top.index;
    child.model.Masks(&info.live_mask, &info.disabled_mask);
    if (!compact) {
      states.push_back(info);
      moves.push_back(t);
      on_stack.push_back(false);
    }
    if (state_count >= limits.max_states) {
      report.complete = false;
      break;
    }
    if (!child.model.violation().empty()) {
      record_violation(child_index, t, child.model.violation());
      continue;
    }
    if (info.live_mask != 0 && info.disabled_mask == info.live_mask) {
      record_violation(child_index, t,
                       "P3 violated: deadlock, every live contender waits and nothing will "
                       "wake them");
      continue;
    }
    child.index = child_index;
    expand(&child, true);
    if (compact) {
      compact_on_stack[child.key] = 1;
    } else {
      on_stack[child_index] = true;
    }
    stack.push_back(std::move(child));
  }
  report.states = state_count;

  if (limits.check_livelock && !compact && report.complete) {
    CheckFairCycles(states, edges, [&](uint32_t state, const std::string& what) {
      record_violation(state, Move{}, what);
    });
  }
  return report;
}

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_EXPLORE_H_
