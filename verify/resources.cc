#include "verify/resources.h"

#include "core/fingerprint.h"

namespace onlyone {
namespace verify {
namespace internal {

std::unique_ptr<Resource> RegisterResource::Clone() const {
  return std::make_unique<RegisterResource>(*this);
}

uint64_t RegisterResource::Fingerprint() const {
  Hasher h(0x7E6);
  h.Word(static_cast<uint64_t>(value));
  h.Word(writers);
  return h.value();
}

int64_t RegisterResource::Apply(uint32_t op, int64_t a, int64_t /*b*/) {
  if (op == kWrite) {
    value = a;
    return 0;
  }
  return value;
}

std::string RegisterResource::Describe(uint32_t op, int64_t a, int64_t /*b*/,
                                       int64_t result) const {
  if (op == kWrite) return ":= " + std::to_string(a);
  return "-> " + std::to_string(result);
}

std::unique_ptr<Resource> StoreResource::Clone() const {
  return std::make_unique<StoreResource>(*this);
}

uint64_t StoreResource::Fingerprint() const {
  Hasher h(0x5707E);
  h.Word(static_cast<uint64_t>(value));
  h.Word(max_token);
  h.Word(last_writer);
  h.Word(last_writer_fence);
  return h.value();
}

int64_t StoreResource::Apply(uint32_t op, int64_t a, int64_t b) {
  if (op == kRead) return value;
  if (op == kWriteFenced) {
    const uint64_t token = static_cast<uint64_t>(b);
    if (token < max_token) return 0;
    max_token = token;
  }
  value = a;
  return 1;
}

std::string StoreResource::Describe(uint32_t op, int64_t a, int64_t b, int64_t result) const {
  if (op == kRead) return "-> " + std::to_string(result);
  std::string text = ":= " + std::to_string(a);
  if (op == kWrite) return text + " (no token) -> accepted";
  text += " with token " + std::to_string(b);
  if (result == 1) return text + " -> accepted";
  return text + " -> refused (it has accepted token " + std::to_string(max_token) + ")";
}

std::string StoreResource::State() const {
  std::string text = std::to_string(value);
  if (max_token != 0) text += " (largest token " + std::to_string(max_token) + ")";
  return text;
}

}  // namespace internal
}  // namespace verify
}  // namespace onlyone
