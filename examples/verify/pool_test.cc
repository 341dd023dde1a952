// Example 4: a lock with two slots guarding a pool of two units.
//
// With slots = 2 at most two processes hold at once, so a holder always finds
// a free unit. With slots = 3 on the same pool the third holder finds none.
// The pool is a user-defined resource: the Resource interface is all it takes.
#include <iostream>
#include <memory>
#include <string>

#include "core/fingerprint.h"
#include "examples/verify/golden.h"
#include "gtest/gtest.h"
#include "verify/verify.h"

namespace {

using onlyone::verify::Check;
using onlyone::verify::Process;
using onlyone::verify::Report;
using onlyone::verify::Resource;
using onlyone::verify::ResourceId;
using onlyone::verify::Scenario;

// Units 0..size-1, each free or taken.
class Pool : public Resource {
 public:
  enum Op : uint32_t { kTake = 0, kGive = 1 };
  explicit Pool(uint32_t size) : size_(size) {}

  std::unique_ptr<Resource> Clone() const override { return std::make_unique<Pool>(*this); }
  uint64_t Fingerprint() const override { return (uint64_t{size_} << 32) | taken_; }
  // kTake: the lowest free unit, taken, or -1 when all are. kGive: frees unit a.
  int64_t Apply(uint32_t op, int64_t a, int64_t /*b*/) override {
    if (op == kGive) {
      taken_ &= ~(1u << a);
      return 0;
    }
    for (uint32_t unit = 0; unit < size_; ++unit) {
      if ((taken_ & (1u << unit)) == 0) {
        taken_ |= 1u << unit;
        return unit;
      }
    }
    return -1;
  }
  std::string Describe(uint32_t op, int64_t a, int64_t /*b*/, int64_t result) const override {
    if (op == kGive) return "give back unit " + std::to_string(a);
    return result < 0 ? "take -> none free" : "take -> unit " + std::to_string(result);
  }
  std::string State() const override {
    std::string text = "taken:";
    for (uint32_t unit = 0; unit < size_; ++unit) {
      if ((taken_ & (1u << unit)) != 0) text += " " + std::to_string(unit);
    }
    return text;
  }

 private:
  uint32_t size_;
  uint32_t taken_ = 0;
};

Scenario PoolScenario(uint32_t slots) {
  Scenario s;
  s.processes = 3;
  s.lock.slots = slots;
  const ResourceId pool = s.AddResource("pool", std::make_unique<Pool>(2));
  s.Program([pool](Process& p) {
    if (!p.Acquire()) return;
    const int64_t unit = p.Access(pool, Pool::kTake);
    p.Assert(unit >= 0, "a holder found no free unit in the pool");
    if (unit >= 0) p.Access(pool, Pool::kGive, unit);
    p.Release();
  });
  return s;
}

TEST(Pool, TwoSlotsOnTwoUnitsAlwaysFindAFreeUnit) {
  const Report report = Check(PoolScenario(2));
  std::cout << report.Text();
  EXPECT_TRUE(report.passed()) << report.Text();
}

TEST(Pool, ThreeSlotsOnTwoUnitsRunOutOfUnits) {
  const Report report = Check(PoolScenario(3));
  std::cout << report.Text();
  ASSERT_TRUE(report.violated) << report.Text();
  EXPECT_NE(report.violation.find("a holder found no free unit in the pool"), std::string::npos);
  golden::ExpectTrace("pool_three_slots.txt", report);
}

}  // namespace
