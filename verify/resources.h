// The built-in simulated resources. Each carries, besides its value, what the
// built-in checks need to remember (model.cc).
#ifndef ONLYONE_VERIFY_RESOURCES_H_
#define ONLYONE_VERIFY_RESOURCES_H_

#include <stdint.h>

#include <memory>
#include <string>

#include "verify/verify.h"

namespace onlyone {
namespace verify {
namespace internal {

enum ResourceOp : uint32_t { kRead = 0, kWrite = 1, kWriteFenced = 2 };

// A plain register (a file, a row): reads and writes, no protection.
class RegisterResource : public Resource {
 public:
  explicit RegisterResource(int64_t initial) : value(initial) {}
  std::unique_ptr<Resource> Clone() const override;
  uint64_t Fingerprint() const override;
  int64_t Apply(uint32_t op, int64_t a, int64_t b) override;
  std::string Describe(uint32_t op, int64_t a, int64_t b, int64_t result) const override;
  std::string State() const override { return std::to_string(value); }

  int64_t value = 0;
  // Bit i: process i wrote this register during its current critical section.
  uint32_t writers = 0;
};

// A store that orders writes by fencing token (Kleppmann): a write carrying a
// token lower than the largest it has accepted is refused. A write without a
// token is accepted whatever came before.
class StoreResource : public Resource {
 public:
  explicit StoreResource(int64_t initial) : value(initial) {}
  std::unique_ptr<Resource> Clone() const override;
  uint64_t Fingerprint() const override;
  int64_t Apply(uint32_t op, int64_t a, int64_t b) override;
  std::string Describe(uint32_t op, int64_t a, int64_t b, int64_t result) const override;
  std::string State() const override;

  int64_t value = 0;
  uint64_t max_token = 0;  // the largest token of an accepted fenced write
  // Who made the last accepted write, and the fence that writer actually
  // held then (0: it held none): the stale-write check compares these.
  uint32_t last_writer = UINT32_MAX;
  uint64_t last_writer_fence = 0;
};

}  // namespace internal
}  // namespace verify
}  // namespace onlyone

#endif  // ONLYONE_VERIFY_RESOURCES_H_
