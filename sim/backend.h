// onlyone::sim::SimBackend: the protocol core (a Contender) on the simulated
// file system of sim/platform.h, behind platform/backend.h's interface, so
// that the backend contract suite (tests/backend/contract_test.cc) runs the
// model-checked core itself next to the real backends.
//
// Contenders of one lock share a SimLock (its platform and a mutex: each Op
// is one atomic step, as in the simulator, and contenders may run on
// threads). The simulated clock advances 1 ms per Op, and kWait returns at
// once (a spurious wake-up): a wait costs CPU, never wall time, and a
// timeout is counted in simulated milliseconds.
#ifndef ONLYONE_SIM_BACKEND_H_
#define ONLYONE_SIM_BACKEND_H_

#include <stdint.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "core/contender.h"
#include "platform/backend.h"
#include "sim/platform.h"

namespace onlyone {
namespace sim {

// One simulated lock directory, shared by the SimBackends of that lock.
class SimLock {
 public:
  explicit SimLock(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // Each runs under the lock's mutex.
  Identity NewIdentity(const std::string& command);
  // Trap: a Result's data (a record read, a listed name) is a view into the
  // simulated directory, which another contender may change as soon as the
  // mutex is released: it is copied into *data, which the Result views.
  Result Perform(const Op& op, std::string* data);
  bool Remove(Bytes entry_name);  // an operator's rm of one entry
  std::vector<Holder> List();

 private:
  std::string name_;
  std::mutex mutex_;
  SimPlatform platform_;
};

class SimBackend : public Backend {
 public:
  SimBackend(SimLock* lock, uint32_t slots, const std::string& command);

  // The entry that stands for our holding (for a test that removes it).
  Bytes entry_name() const { return contender_.entry_name(); }

  const std::string& name() const override { return lock_->name(); }
  std::string where() const override { return "in the simulator"; }
  bool TryAcquire() override { return AcquireUntil(true, kNoDeadline); }
  bool Acquire(int64_t timeout_ms) override;
  bool Release() override;
  void Cancel() override { cancelled_.store(true); }
  void set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) override {
    observer_ = std::move(observer);
  }
  uint64_t fence() const override { return held_ ? contender_.fence() : 0; }
  bool Validate() override;
  const BackendStatus& status() const override { return status_; }
  Hold CheckHold(std::string* why, int64_t* next_check_ms) override;
  int64_t first_check_ms() const override { return kCheckIntervalMs; }
  bool List(std::vector<Holder>* entries) override;

  // How often CheckHold asks to be called, in simulated and real ms alike.
  static constexpr int64_t kCheckIntervalMs = 1000;

 private:
  bool AcquireUntil(bool try_once, uint64_t deadline_mono_ms);
  // Steps the contender to kDone; false when cancelled while waiting.
  bool Run(Op op, uint64_t started_mono_ms);
  bool Fail(BackendError error, const std::string& message);

  SimLock* lock_;
  Identity identity_;
  Contender contender_;
  std::string data_;  // what the last Result's data views (see SimLock::Perform)
  bool held_ = false;
  std::atomic<bool> cancelled_{false};
  std::function<void(const Holder*, uint64_t)> observer_;
  BackendStatus status_;
};

// A record's owner as `status` shows it.
Holder HolderFromRecord(const OwnerRecord& record);

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_BACKEND_H_
