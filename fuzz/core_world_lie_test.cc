// The core_world fuzz target must be able to fail: with a driver that tells
// the one lie the protocol cannot survive (a live owner reported dead, so its
// entry is removed under it), random schedules must trip the simulator's
// safety checks within a few thousand inputs. Without this, a harness that
// checked nothing would look exactly like a protocol that is safe.
#include <gtest/gtest.h>
#include <stddef.h>
#include <stdint.h>

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace onlyone {
namespace fuzz {

extern bool g_driver_reports_live_owners_dead;

namespace {

// Random schedules to try; the lie is usually caught within a few hundred.
constexpr int kInputsMax = 20000;
constexpr size_t kInputBytes = 2000;
// Honest runs of the same schedules: enough to show they pass, quickly.
constexpr int kHonestInputs = 500;

// SplitMix64: the same inputs on every machine.
uint64_t Next(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void RunRandomSchedules() {
  uint64_t state = 1;
  std::vector<uint8_t> input(kInputBytes);
  for (int i = 0; i < kInputsMax; ++i) {
    for (uint8_t& byte : input) byte = static_cast<uint8_t>(Next(&state));
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
}

TEST(CoreWorldFuzzer, CatchesADriverThatReportsALiveOwnerDead) {
  g_driver_reports_live_owners_dead = true;
  EXPECT_DEATH(RunRandomSchedules(), "property violated: world.violation\\(\\).empty\\(\\)");
}

TEST(CoreWorldFuzzer, AcceptsTheSameSchedulesFromAnHonestDriver) {
  g_driver_reports_live_owners_dead = false;
  uint64_t state = 1;
  std::vector<uint8_t> input(kInputBytes);
  for (int i = 0; i < kHonestInputs; ++i) {
    for (uint8_t& byte : input) byte = static_cast<uint8_t>(Next(&state));
    EXPECT_EQ(LLVMFuzzerTestOneInput(input.data(), input.size()), 0);
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace onlyone
