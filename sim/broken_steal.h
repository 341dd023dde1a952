// A deliberately broken lock, kept to prove the model checker can fail.
//
// This is the "unlink-then-create steal" of highlander, pidlock and
// Chromium's ProcessSingleton: one lock file holds the owner's record; a
// contender that finds it owned by a dead process removes it by name and
// creates its own. Two contenders that both judged the same dead owner can
// interleave so that the second removes the first one's fresh lock (H3, ABA)
// and both hold. The model checker must find that trace.
//
// Same driver interface as Contender, so the same world runs both.
#ifndef ONLYONE_SIM_BROKEN_STEAL_H_
#define ONLYONE_SIM_BROKEN_STEAL_H_

#include <stdint.h>

#include "core/contender.h"
#include "core/record.h"

namespace onlyone {
namespace sim {

class BrokenSteal {
 public:
  void Init(const Identity& identity);
  Op Acquire(bool try_mode);
  Op Release();
  Op Step(const Result& result);
  Outcome outcome() const { return outcome_; }
  uint64_t ProtocolFingerprint(uint64_t seed) const;

 private:
  enum class Phase : uint8_t {
    kIdle,
    kCreate,
    kRead,
    kProbe,
    kRemoveStale,
    kWait,
    kRelease,
    kDone
  };

  Op Create();
  Op Finish(Outcome outcome);

  OwnerRecord mine_;
  OwnerRecord other_;
  RecordText text_;
  Phase phase_ = Phase::kIdle;
  Outcome outcome_ = Outcome::kRunning;
  bool try_mode_ = false;
};

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_BROKEN_STEAL_H_
