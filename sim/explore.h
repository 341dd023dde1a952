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

namespace explore_internal {

// One depth-first search: the stack of frames, the states seen and, in full
// runs, the graph kept for traces and the livelock check.
template <typename Model>
class Explorer {
 public:
  using Move = typename Model::Move;

  Explorer(const Model& root_model, const ExploreLimits& limits)
      : root_model_(root_model),
        limits_(limits),
        compact_(limits.compact),
        compact_seen_(limits.compact ? limits.max_states : 0) {}

  ReportOf<Model> Run() {
    PushRoot();
    while (!stack_.empty() && Step()) {
    }
    report_.states = state_count_;
    if (limits_.check_livelock && !compact_ && report_.complete) {
      CheckFairCycles(states_, edges_, [&](uint32_t state, const std::string& what) {
        RecordViolation(state, Move{}, what);
      });
    }
    return report_;
  }

 private:
  std::vector<Move> PathTo(uint32_t index, Move last) const {
    std::vector<Move> path;
    if (compact_) {
      for (size_t i = 1; i < stack_.size(); ++i) path.push_back(stack_[i].via);
      path.push_back(last);
      return path;
    }
    for (uint32_t at = index; states_[at].parent != kNoParent; at = states_[at].parent) {
      path.push_back(moves_[at]);
    }
    return std::vector<Move>(path.rbegin(), path.rend());
  }

  void RecordViolation(uint32_t index, Move last, const std::string& what) {
    ++report_.violations;
    if (first_recorded_) return;
    first_recorded_ = true;
    report_.first_violation = what;
    report_.path = PathTo(index, last);
    report_.trace = root_model_.Trace(report_.path);
  }

  void Expand(Frame<Model>* frame, bool allow_reduction) {
    frame->next = 0;
    frame->reduced = frame->model.Moves(allow_reduction && limits_.reduce, &frame->enabled);
  }

  void PushRoot() {
    Frame<Model> root{root_model_, 0, {}, 0, false, {}, {}};
    root.key = KeyOf(root.model);
    if (compact_) {
      compact_seen_.Insert(root.key);
      compact_on_stack_[root.key] = 1;
    } else {
      StateInfo info;
      root.model.Masks(&info.live_mask, &info.disabled_mask);
      states_.push_back(info);
      moves_.push_back(Move{});
      on_stack_.push_back(true);
      seen_.emplace(root.key, 0);
    }
    state_count_ = 1;
    Expand(&root, true);
    stack_.push_back(std::move(root));
  }

  // Takes the top frame's next move, or pops it when it has none left.
  // false: a bound stopped the search.
  bool Step() {
    Frame<Model>& top = stack_.back();
    if (top.next == top.enabled.size()) {
      if (compact_) {
        compact_on_stack_.erase(top.key);
      } else {
        on_stack_[top.index] = false;
      }
      stack_.pop_back();
      return true;
    }
    const Move t = top.enabled[top.next++];
    Frame<Model> child{top.model, 0, {}, 0, false, {}, t};
    child.model.Apply(t);
    ++report_.transitions;
    child.key = KeyOf(child.model);
    uint32_t child_index = 0;
    if (!Insert(top, t, child, &child_index)) {
      // Cycle proviso: a reduced state whose only successor closes a cycle
      // on the stack would postpone everyone else forever; expand it fully.
      const bool closes_cycle =
          compact_ ? compact_on_stack_.count(child.key) != 0 : on_stack_[child_index];
      if (top.reduced && closes_cycle) Expand(&top, false);
      return true;
    }
    return Visit(top.index, t, std::move(child), child_index);
  }

  // Records `child`, reached from `top` by `t`, as seen; true when it is
  // new. Full runs also keep the edge for the livelock check.
  bool Insert(const Frame<Model>& top, Move t, const Frame<Model>& child, uint32_t* child_index) {
    if (compact_) return compact_seen_.Insert(child.key);
    auto [it, is_new] = seen_.emplace(child.key, static_cast<uint32_t>(states_.size()));
    *child_index = it->second;
    const bool progress = child.model.progress() > top.model.progress();
    if (limits_.check_livelock && !progress && !top.model.IsFault(t)) {
      edges_.push_back(Edge{top.index, *child_index, t.proc});
    }
    return is_new;
  }

  // A new state: checks it and, unless it violates, pushes it to be
  // explored. false: max_states reached.
  bool Visit(uint32_t parent_index, Move t, Frame<Model> child, uint32_t child_index) {
    ++state_count_;
    if (limits_.progress && state_count_ % kProgressEveryStates == 0) {
      fprintf(stderr, "explore: %llu states, %zu on the stack, %llu transitions\n",
              static_cast<unsigned long long>(state_count_), stack_.size(),
              static_cast<unsigned long long>(report_.transitions));
    }
    Model::MaxCounters(child.model.counters(), &report_.reached);
    StateInfo info;
    info.parent = parent_index;
    child.model.Masks(&info.live_mask, &info.disabled_mask);
    if (!compact_) {
      states_.push_back(info);
      moves_.push_back(t);
      on_stack_.push_back(false);
    }
    if (state_count_ >= limits_.max_states) {
      report_.complete = false;
      return false;
    }
    if (!child.model.violation().empty()) {
      RecordViolation(child_index, t, child.model.violation());
      return true;
    }
    if (info.live_mask != 0 && info.disabled_mask == info.live_mask) {
      RecordViolation(child_index, t,
                      "P3 violated: deadlock, every live contender waits and nothing will "
                      "wake them");
      return true;
    }
    child.index = child_index;
    Expand(&child, true);
    if (compact_) {
      compact_on_stack_[child.key] = 1;
    } else {
      on_stack_[child_index] = true;
    }
    stack_.push_back(std::move(child));
    return true;
  }

  static constexpr uint64_t kProgressEveryStates = 5'000'000;

  const Model& root_model_;
  const ExploreLimits& limits_;
  const bool compact_;
  ReportOf<Model> report_;
  std::unordered_map<Key, uint32_t, KeyHash> seen_;  // full runs: state -> index
  std::vector<StateInfo> states_;                    // full runs: by index
  std::vector<Move> moves_;                          // full runs: the move into each state
  std::vector<Edge> edges_;     // non-progress, non-fault edges, for the livelock check
  std::vector<bool> on_stack_;  // full runs, by state index: the cycle proviso (C3)
  FingerprintSet compact_seen_;
  std::unordered_map<Key, uint32_t, KeyHash> compact_on_stack_;  // compact runs
  uint64_t state_count_ = 0;
  bool first_recorded_ = false;
  std::vector<Frame<Model>> stack_;
};

}  // namespace explore_internal

template <typename Model>
ReportOf<Model> Explore(const Model& root_model, const ExploreLimits& limits) {
  return explore_internal::Explorer<Model>(root_model, limits).Run();
}

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_EXPLORE_H_
