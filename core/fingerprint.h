// State fingerprints for the model checker: a hash over exactly the fields
// that decide a machine's future, so that equal states are explored once.
#ifndef ONLYONE_CORE_FINGERPRINT_H_
#define ONLYONE_CORE_FINGERPRINT_H_

#include <stdint.h>

#include "core/bytes.h"
#include "core/record.h"

namespace onlyone {

// A small multiply-xorshift mixer (the finalizer of MurmurHash3, applied per
// word). Not cryptographic; two independent seeds give the model checker a
// 128-bit fingerprint.
class Hasher {
 public:
  explicit Hasher(uint64_t seed) : state_(seed ^ 0x9E3779B97F4A7C15ull) {}
  void Word(uint64_t value) {
    state_ ^= value + 0x9E3779B97F4A7C15ull + (state_ << 6) + (state_ >> 2);
    state_ ^= state_ >> 33;
    state_ *= 0xFF51AFD7ED558CCDull;
    state_ ^= state_ >> 33;
    state_ *= 0xC4CEB9FE1A85EC53ull;
    state_ ^= state_ >> 33;
  }
  void Text(Bytes bytes) {
    Word(bytes.size);
    uint64_t word = 0;
    for (uint32_t i = 0; i < bytes.size; ++i) {
      word = (word << 8) | static_cast<uint8_t>(bytes.data[i]);
      if (i % 8 == 7) {
        Word(word);
        word = 0;
      }
    }
    Word(word);
  }
  void Id(Id128 id) {
    Word(id.hi);
    Word(id.lo);
  }
  uint64_t value() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace onlyone

#endif  // ONLYONE_CORE_FINGERPRINT_H_
