// A platform: what a driver does for a Contender, as one interface, so that
// one typed contract suite (tests/posix/contract_test.cc) can hold the
// simulated file system and the real POSIX driver to the same semantics
// (docs/verification.md): if the fake drifts from the real thing, the suite
// fails on one side.
//
// SimPlatform performs each Op through World::PerformFor, the very code the
// simulator and the model checker run, on an outside process whose
// listings hide nothing (World's own contenders skip names the core ignores,
// a model-checking reduction; a real directory hides nothing). kWait returns
// at once (kOk): a spurious wake-up, which the kWait contract allows.
#ifndef ONLYONE_SIM_PLATFORM_H_
#define ONLYONE_SIM_PLATFORM_H_

#include <stdint.h>

#include <map>
#include <string>

#include "core/contender.h"
#include "sim/world.h"

namespace onlyone {
namespace sim {

class Platform {
 public:
  virtual ~Platform() = default;
  // A fresh identity for a new contender "process" on this platform.
  virtual Identity NewIdentity(const std::string& command) = 0;
  // Called before a contender's first Op, and after it left (released, or
  // gave up): where the platform keeps per-owner state (POSIX: the anchor).
  virtual bool Enter(const Identity& who) = 0;
  virtual void Leave(const Identity& who) = 0;
  // kill -9 of that contender: it never acts again and becomes provably dead.
  virtual void Kill(const Identity& who) = 0;
  // Puts a regular file (not a symlink) in the lock directory, as a hostile
  // or careless user would.
  virtual void PlantFile(const std::string& name, const std::string& content) = 0;
  virtual Result Perform(const Op& op) = 0;
};

class SimPlatform : public Platform {
 public:
  SimPlatform();
  Identity NewIdentity(const std::string& command) override;
  bool Enter(const Identity& who) override;
  void Leave(const Identity& who) override;
  void Kill(const Identity& who) override;
  void PlantFile(const std::string& name, const std::string& content) override;
  Result Perform(const Op& op) override;

  const World& world() const { return world_; }

 private:
  World world_;
  Process driver_;  // the outside process every Op is performed as
  uint32_t next_pid_ = 100;
  uint64_t next_start_time_ = 5000;
  uint64_t next_nonce_ = 1;
};

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_PLATFORM_H_
