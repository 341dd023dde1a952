#include "verify/oracle.h"

#include <assert.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "core/fingerprint.h"

namespace onlyone {
namespace verify {
namespace internal {
namespace {

// Parked runners are threads: keep few. An evicted one costs a re-run later.
constexpr size_t kParkedRunnersMax = 64;

// Thrown inside a program to unwind it when its runner is no longer needed;
// programs must let it pass (docs/verify.md).
struct Abandoned {};

uint64_t HashStep(uint64_t previous, const Observed& step) {
  Hasher h(previous);
  h.Word(static_cast<uint64_t>(step.action.kind));
  h.Word(step.action.resource);
  h.Word(step.action.op);
  h.Word(static_cast<uint64_t>(step.action.a));
  h.Word(static_cast<uint64_t>(step.action.b));
  h.Word(static_cast<uint64_t>(step.result));
  return h.value();
}

}  // namespace

std::string DescribeRequest(const Action& action) {
  switch (action.kind) {
    case ActionKind::kAcquire: return "Acquire()";
    case ActionKind::kTryAcquire: return "TryAcquire()";
    case ActionKind::kValidate: return "Validate()";
    case ActionKind::kRefresh: return "Refresh()";
    case ActionKind::kRelease: return "Release()";
    case ActionKind::kReadRegister:
    case ActionKind::kReadStore: return "Read(resource " + std::to_string(action.resource) + ")";
    case ActionKind::kWriteRegister:
    case ActionKind::kWriteStore:
      return "Write(resource " + std::to_string(action.resource) + ", " + std::to_string(action.a) +
             ")";
    case ActionKind::kWriteStoreFenced:
      return "Write(resource " + std::to_string(action.resource) + ", " + std::to_string(action.a) +
             ", token " + std::to_string(action.b) + ")";
    case ActionKind::kAccess:
      return "Access(resource " + std::to_string(action.resource) + ", op " +
             std::to_string(action.op) + ")";
    case ActionKind::kAssertFailed: return "Assert(false, \"" + action.text + "\")";
    case ActionKind::kEnd: return "return";
    case ActionKind::kThrew: return "throw";
    case ActionKind::kNondeterministic: return "(not deterministic)";
  }
  return "?";
}

uint64_t EmptyHistoryHash(uint32_t process) {
  Hasher h(0x4157);
  h.Word(process);
  return h.value();
}

History Extend(const History& history, uint32_t process, const Observed& step) {
  auto node = std::make_shared<HistoryNode>();
  node->parent = history;
  node->step = step;
  node->hash = HashStep(HashOf(history, process), step);
  node->length = history == nullptr ? 1 : history->length + 1;
  return node;
}

uint64_t HashOf(const History& history, uint32_t process) {
  return history == nullptr ? EmptyHistoryHash(process) : history->hash;
}

// One program on its own thread. Exactly one of the program and the
// explorer runs at a time: `program_turn_` says which.
class Runner {
 public:
  Runner(const Program& program, uint32_t index, std::vector<Observed> replay)
      : program_(program), index_(index), replay_(std::move(replay)) {
    thread_ = std::thread([this] { Body(); });
  }
  ~Runner() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!finished_) {
        abandon_ = true;
        program_turn_ = true;
        cv_.notify_all();
      }
    }
    thread_.join();
  }

  // The explorer's side: the action the program asks for next.
  const Action& Posted() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !program_turn_; });
    return posted_;
  }
  // Answers the posted action; the program runs to its next request.
  void Answer(int64_t result) {
    std::unique_lock<std::mutex> lock(mu_);
    assert(!program_turn_ && !finished_);
    result_ = result;
    program_turn_ = true;
    cv_.notify_all();
  }

  // The program's side.
  int64_t Ask(const Action& action);

 private:
  class Handle;
  void Body();
  void PostFinal(Action action);

  const Program& program_;
  const uint32_t index_;
  const std::vector<Observed> replay_;
  size_t replayed_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool program_turn_ = true;
  bool abandon_ = false;
  bool finished_ = false;
  Action posted_;
  int64_t result_ = 0;
  std::thread thread_;
};

// What a program holds: its Process. Results are interpreted here, the same
// way on every re-run, so fence() and holding() need no round trip.
class Runner::Handle : public Process {
 public:
  explicit Handle(Runner* runner) : runner_(runner) {}
  uint32_t index() const override { return runner_->index_; }
  bool Acquire() override { return Acquired(Ask(ActionKind::kAcquire)); }
  bool TryAcquire() override { return Acquired(Ask(ActionKind::kTryAcquire)); }
  uint64_t fence() const override { return holding_ ? fence_ : 0; }
  bool holding() const override { return holding_; }
  bool Validate() override { return Kept(Ask(ActionKind::kValidate)); }
  bool Refresh() override { return Kept(Ask(ActionKind::kRefresh)); }
  bool Release() override {
    const bool released = Ask(ActionKind::kRelease) == 1;
    holding_ = false;
    return released;
  }
  int64_t Read(RegisterId r) override { return Ask(ActionKind::kReadRegister, r.index); }
  void Write(RegisterId r, int64_t value) override {
    Ask(ActionKind::kWriteRegister, r.index, 0, value);
  }
  int64_t Read(StoreId s) override { return Ask(ActionKind::kReadStore, s.index); }
  void Write(StoreId s, int64_t value) override { Ask(ActionKind::kWriteStore, s.index, 0, value); }
  bool Write(StoreId s, int64_t value, uint64_t token) override {
    return Ask(ActionKind::kWriteStoreFenced, s.index, 0, value, static_cast<int64_t>(token)) == 1;
  }
  int64_t Access(ResourceId r, uint32_t op, int64_t a, int64_t b) override {
    return Ask(ActionKind::kAccess, r.index, op, a, b);
  }
  void Assert(bool holds, const std::string& what) override {
    if (holds) return;
    Action action;
    action.kind = ActionKind::kAssertFailed;
    action.text = what;
    runner_->Ask(action);
  }

 private:
  int64_t Ask(ActionKind kind, uint32_t resource = 0, uint32_t op = 0, int64_t a = 0,
              int64_t b = 0) {
    Action action;
    action.kind = kind;
    action.resource = resource;
    action.op = op;
    action.a = a;
    action.b = b;
    return runner_->Ask(action);
  }
  bool Acquired(int64_t result) {
    holding_ = result > 0;
    if (holding_) fence_ = static_cast<uint64_t>(result);
    return holding_;
  }
  bool Kept(int64_t result) {
    if (result != 1) holding_ = false;
    return result == 1;
  }

  Runner* runner_;
  bool holding_ = false;
  uint64_t fence_ = 0;
};

int64_t Runner::Ask(const Action& action) {
  // A destructor that asks while the program unwinds (a guard releasing the
  // lock): the process is gone, nothing it asks for happens.
  if (std::uncaught_exceptions() > 0) return 0;
  {
    // A program that caught Abandoned and asks again is unwound again.
    std::unique_lock<std::mutex> lock(mu_);
    if (abandon_) throw Abandoned{};
  }
  if (replayed_ < replay_.size()) {
    const Observed& recorded = replay_[replayed_++];
    if (recorded.action.SameRequest(action)) return recorded.result;
    Action wrong;
    wrong.kind = ActionKind::kNondeterministic;
    wrong.text = "process " + std::to_string(index_) +
                 "'s program is not deterministic: run again, " + "its request " +
                 std::to_string(replayed_) + " was " + DescribeRequest(action) +
                 ", the first time " + DescribeRequest(recorded.action) +
                 ". A program may depend only on what its Process returns: no variables shared "
                 "with other processes, no clocks, no randomness";
    PostFinal(wrong);
    throw Abandoned{};
  }
  std::unique_lock<std::mutex> lock(mu_);
  posted_ = action;
  program_turn_ = false;
  cv_.notify_all();
  cv_.wait(lock, [this] { return program_turn_; });
  if (abandon_) throw Abandoned{};
  return result_;
}

void Runner::PostFinal(Action action) {
  std::unique_lock<std::mutex> lock(mu_);
  posted_ = std::move(action);
  finished_ = true;
  program_turn_ = false;
  cv_.notify_all();
}

void Runner::Body() {
  Handle handle(this);
  Action last;
  try {
    program_(handle);
    last.kind = ActionKind::kEnd;
  } catch (const Abandoned&) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!finished_) {  // abandoned by the explorer, not by a failed replay
      finished_ = true;
      program_turn_ = false;
      cv_.notify_all();
    }
    return;
  } catch (const std::exception& e) {
    last.kind = ActionKind::kThrew;
    last.text = e.what();
  } catch (...) {
    last.kind = ActionKind::kThrew;
    last.text = "an exception that is not a std::exception";
  }
  PostFinal(last);
}

Oracle::Oracle(const Scenario& scenario) : scenario_(scenario) {}
Oracle::~Oracle() = default;

void Oracle::Park(Key key, std::unique_ptr<Runner> runner) {
  if (parked_.count(key) != 0) return;  // an equal runner is parked: drop this one
  if (parked_.size() >= kParkedRunnersMax) {
    parked_.erase(parked_order_.front());
    parked_order_.pop_front();
  }
  parked_order_.push_back(key);
  parked_.emplace(key, std::move(runner));
}

const Action& Oracle::Next(uint32_t process, const History& history) {
  const Key key{process, HashOf(history, process)};
  auto known = answers_.find(key);
  if (known != answers_.end()) return known->second.action;

  std::unique_ptr<Runner> runner;
  if (history != nullptr) {
    auto parked = parked_.find(Key{process, HashOf(history->parent, process)});
    if (parked != parked_.end()) {
      runner = std::move(parked->second);
      parked_.erase(parked);
      for (auto it = parked_order_.begin(); it != parked_order_.end(); ++it) {
        if (it->first == process && it->second == HashOf(history->parent, process)) {
          parked_order_.erase(it);
          break;
        }
      }
      runner->Answer(history->step.result);
    }
  }
  if (runner == nullptr) runner = Start(process, history);
  const Action action = runner->Posted();
  if (!action.Final()) Park(key, std::move(runner));
  return answers_.emplace(key, Answer{action, history}).first->second.action;
}

std::unique_ptr<Runner> Oracle::Start(uint32_t process, const History& history) {
  std::vector<Observed> replay(history == nullptr ? 0 : history->length);
  for (const HistoryNode* at = history.get(); at != nullptr; at = at->parent.get()) {
    replay[at->length - 1] = at->step;
  }
  const Program* program = scenario_.ProgramOf(process);
  assert(program != nullptr);
  ++programs_started_;
  return std::make_unique<Runner>(*program, process, std::move(replay));
}

std::string Oracle::CheckDeterminism(uint32_t runs_max) {
  if (answers_.empty() || runs_max == 0) return "";
  const size_t stride = std::max<size_t>(1, answers_.size() / runs_max);
  size_t index = 0;
  for (const auto& [key, answer] : answers_) {
    if (index++ % stride != 0) continue;
    std::unique_ptr<Runner> runner = Start(key.first, answer.history);
    const Action again = runner->Posted();
    if (again.kind == ActionKind::kNondeterministic) return again.text;
    if (!again.SameRequest(answer.action)) {
      return "process " + std::to_string(key.first) +
             "'s program is not deterministic: run again on the same history, it asked for " +
             DescribeRequest(again) + ", the first time for " + DescribeRequest(answer.action) +
             ". A program may depend only on what its Process returns: no variables shared "
             "with other processes or runs, no clocks, no randomness";
    }
  }
  return "";
}

}  // namespace internal
}  // namespace verify
}  // namespace onlyone
