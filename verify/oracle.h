// Users' programs as oracles: what a process asks for next, given what it has
// observed so far.
//
// A program is sequential C++ that blocks in the middle of itself, at every
// lock operation and resource access, so each runs on a thread of its own
// (a Runner) and hands control back and forth with the explorer: exactly one
// side runs at a time, so nothing in a program ever races. The explorer's
// states cannot contain a thread, only the program's history (the results it
// was given), which determines the program's future because programs are
// deterministic. So a state asks the Oracle "what does process i ask for
// after history h?": answers are cached by history; a runner parked at h's
// parent answers by taking h's last result; otherwise a new runner re-runs
// the program from its start, handing back h's recorded results without
// stopping, and checks the program asks for the same things as it did the
// first time (a program that does not is not deterministic: reported).
#ifndef ONLYONE_VERIFY_ORACLE_H_
#define ONLYONE_VERIFY_ORACLE_H_

#include <stdint.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "verify/verify.h"

namespace onlyone {
namespace verify {
namespace internal {

enum class ActionKind : uint8_t {
  kAcquire = 0,
  kTryAcquire,
  kValidate,
  kRefresh,
  kRelease,
  kReadRegister,
  kWriteRegister,
  kReadStore,
  kWriteStore,        // without a token
  kWriteStoreFenced,  // b: the token
  kAccess,            // a user resource: op, a, b
  kAssertFailed,      // the program's own check failed: text
  kEnd,               // the program returned
  kThrew,             // the program threw: text
  kNondeterministic,  // a re-run asked for something else: text
};

struct Action {
  ActionKind kind = ActionKind::kEnd;
  uint32_t resource = 0;
  uint32_t op = 0;
  int64_t a = 0;
  int64_t b = 0;
  std::string text;

  bool SameRequest(const Action& other) const {
    return kind == other.kind && resource == other.resource && op == other.op && a == other.a &&
           b == other.b;
  }
  // Actions after which the program never runs again.
  bool Final() const {
    return kind == ActionKind::kEnd || kind == ActionKind::kThrew ||
           kind == ActionKind::kNondeterministic;
  }
};

std::string DescribeRequest(const Action& action);

// One observation: what the program asked for and what it was answered.
struct Observed {
  Action action;
  int64_t result = 0;
};

// A program's history as a persistent list: explorer states copy a pointer.
struct HistoryNode {
  std::shared_ptr<const HistoryNode> parent;
  Observed step;
  uint64_t hash = 0;  // of the whole history up to and including `step`
  uint32_t length = 0;
};
using History = std::shared_ptr<const HistoryNode>;

// The hash of an empty history, and of `history` extended by one step.
uint64_t EmptyHistoryHash(uint32_t process);
History Extend(const History& history, uint32_t process, const Observed& step);
uint64_t HashOf(const History& history, uint32_t process);

class Runner;

class Oracle {
 public:
  explicit Oracle(const Scenario& scenario);
  ~Oracle();
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;

  // What process `process` asks for after `history` (nullptr: nothing yet).
  const Action& Next(uint32_t process, const History& history);

  uint64_t programs_started() const { return programs_started_; }

  // Re-runs programs from their start, for up to `runs_max` of the
  // histories answered so far (spread over all of them), and compares what
  // they ask for with the first answers: a program that depends on anything
  // but its Process (a variable shared with other runs, a clock) differs.
  // Returns what differed, or an empty string.
  std::string CheckDeterminism(uint32_t runs_max);

 private:
  using Key = std::pair<uint32_t, uint64_t>;  // process, history hash
  void Park(Key key, std::unique_ptr<Runner> runner);
  std::unique_ptr<Runner> Start(uint32_t process, const History& history);

  const Scenario& scenario_;
  struct Answer {
    Action action;
    History history;  // what the program had observed when it asked
  };
  std::map<Key, Answer> answers_;
  std::map<Key, std::unique_ptr<Runner>> parked_;
  std::deque<Key> parked_order_;  // oldest first, for eviction
  uint64_t programs_started_ = 0;
};

}  // namespace internal
}  // namespace verify
}  // namespace onlyone

#endif  // ONLYONE_VERIFY_ORACLE_H_
