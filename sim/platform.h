// A platform: what a driver does for a Contender, as one interface, so that
// one typed contract suite (tests/posix/contract_test.cc) can hold the
// simulated file system and the real POSIX driver to the same semantics
// (DESIGN.md section 6): if the fake drifts from the real thing, the suite
// fails on one side.
//
// SimPlatform is a single-process adapter over sim::World's lock directory
// (World::mutable_fs, World::Plant) with World's semantics for each Op:
// exclusive symlink create, replacing rename, whole-record readlink, unlink,
// a name-ordered cursor for listings, and liveness by (pid, start time, boot
// id) from a process table. Differences from World::Perform, on purpose:
//   - listings return every name. World's listings hide names the core skips
//     anyway (foreign files, other contenders' temporaries, our own entries),
//     a model-checking reduction; a real directory hides nothing.
//   - kWait returns at once (kOk): a spurious wake-up, which the kWait
//     contract allows; World models the passing of time as a transition.
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
  std::map<uint32_t, uint64_t> pid_table_;  // live pid -> start time
  uint32_t next_pid_ = 100;
  uint64_t next_start_time_ = 5000;
  uint64_t next_nonce_ = 1;
  uint64_t now_ms_ = 1;
  // The listing's cursor, as World keeps one per process.
  bool at_start_ = false;
  bool listing_ = false;
  std::string cursor_;
  std::string result_text_;
};

}  // namespace sim
}  // namespace onlyone

#endif  // ONLYONE_SIM_PLATFORM_H_
