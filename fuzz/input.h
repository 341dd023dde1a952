// FuzzInput: reads a fuzzer's bytes as a sequence of small decisions.
//
// libFuzzer's FuzzedDataProvider ships with clang only, and the targets must
// also build with GCC for the replay tests, so this is a minimal stand-in:
// every read takes bytes from the front, and an exhausted input reads as
// zeros (the targets stop at Empty(), so zeros only finish a last decision).
#ifndef ONLYONE_FUZZ_INPUT_H_
#define ONLYONE_FUZZ_INPUT_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace onlyone {
namespace fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool Empty() const { return offset_ >= size_; }
  size_t remaining() const { return Empty() ? 0 : size_ - offset_; }

  uint8_t Byte() { return Empty() ? 0 : data_[offset_++]; }

  // Little-endian, as many bytes as the type has.
  uint64_t U64() {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= uint64_t{Byte()} << (8 * i);
    return value;
  }
  uint32_t U32() {
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value |= uint32_t{Byte()} << (8 * i);
    return value;
  }

  // In [0, bound): one byte for bounds up to 256, four above. REQUIRES:
  // bound > 0.
  uint32_t Below(uint32_t bound) {
    constexpr uint32_t kByteValues = 256;
    return (bound <= kByteValues ? Byte() : U32()) % bound;
  }
  bool Bool() { return (Byte() & 1) != 0; }

  // A length byte, then that many bytes (fewer at the end of the input).
  std::string ShortString() {
    const size_t length = Byte();
    std::string text;
    while (text.size() < length && !Empty()) text.push_back(static_cast<char>(Byte()));
    return text;
  }

  // The rest of the input, split at zero bytes: how a command line reaches
  // main(), where no argument can contain a NUL.
  std::vector<std::string> RestAsArgs(size_t args_max) {
    std::vector<std::string> args(1);
    while (!Empty()) {
      const char c = static_cast<char>(Byte());
      if (c != '\0') {
        args.back().push_back(c);
      } else if (args.size() < args_max) {
        args.emplace_back();
      } else {
        break;
      }
    }
    return args;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

}  // namespace fuzz
}  // namespace onlyone

#endif  // ONLYONE_FUZZ_INPUT_H_
