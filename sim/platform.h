// A platform: what a driver does for a Contender, as one interface, so that
// one typed contract suite (tests/posix/contract_test.cc) can hold the
// simulated file system and the real POSIX driver to the same semantics
// (docs/verification.md): if the fake drifts from the real thing, the suite
// fails on one side.
//
// SimPlatform performs each Op through World::PerformFor, the very code the
// simulator and the model checker run, on an outside process whose
// listings hide nothing (World's own contenders skip names the core ignores,
// a model-checking reduction; a real directory hides nothing). Its clock
// moves 1 ms per Op, and further only when told (AdvanceClock). Where the
// World's own model is narrower than a real driver, SimPlatform answers as
// the POSIX driver does, and the contract suite checks that it does:
//   - kWait returns at once: kTimedOut once its deadline has passed, else kOk
//     (a spurious wake-up, which the kWait contract allows). One thread
//     drives every simulated process, so nothing could change while it
//     blocked; whoever drives it lets others act between Ops instead.
//   - kProbe of an owner recorded in another pid namespace answers kUnknown:
//     the simulated machine has one namespace, and a process in one it
//     cannot see into is neither alive nor dead to it (H5).
// It also fails Ops on request (FailNext), for tests of a contender's error
// paths, which no real directory produces on demand.
#ifndef ONLYONE_SIM_PLATFORM_H_
#define ONLYONE_SIM_PLATFORM_H_

#include <stdint.h>

#include <map>
#include <string>
#include <vector>

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

  // A process with an identity of the caller's choosing (a nonce that sorts
  // where a test needs it) runs from now on, until Kill. Probes find it
  // alive only if its boot id and pid namespace are the simulated
  // machine's: kSimBootId, kSimPidNamespace.
  void Spawn(const Identity& who);
  // The next Op of `kind` on `name` (empty: on any name) fails with
  // `status`, and the errno Linux reports with it, instead of being
  // performed. Faults wait in the order they were set, each for its own Op.
  void FailNext(OpKind kind, const std::string& name, IoStatus status);
  // Time passes (the wall and the monotonic clock are one here).
  void AdvanceClock(uint64_t ms) { world_.AdvanceClock(ms); }
  uint64_t now_ms() const { return world_.now_ms(); }

  const World& world() const { return world_; }

 private:
  struct Fault {
    OpKind kind;
    std::string name;
    IoStatus status;
  };
  bool TakeFault(const Op& op, Result* result);
  // The answer where POSIX's semantics are wider than the World's (see the
  // top of this file); false: the World answers.
  bool AnswerAsPosix(const Op& op, Result* result) const;

  World world_;
  Process driver_;  // the outside process every Op is performed as
  std::vector<Fault> faults_;
  uint32_t next_pid_ = 100;
  uint64_t next_start_time_ = 5000;
  uint64_t next_nonce_ = 1;
};

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_PLATFORM_H_
