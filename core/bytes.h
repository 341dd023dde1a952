// Byte views and fixed-capacity byte buffers for the core.
//
// The core links against no libc (it must build freestanding for wasm32 and
// Cortex-M), so it carries its own copy/compare loops instead of memcpy and
// memcmp. Every buffer is caller-owned and bounded; a write that does not fit
// is refused and reported, never truncated silently.
#ifndef ONLYONE_CORE_BYTES_H_
#define ONLYONE_CORE_BYTES_H_

#include <stddef.h>
#include <stdint.h>

namespace onlyone {

// A read-only view of bytes owned by someone else. Valid only as long as the
// owner says (for driver results: until the next Step call returns).
struct Bytes {
  const char* data = nullptr;
  uint32_t size = 0;
};

// Length of a NUL-terminated string literal, for building views of constants.
constexpr uint32_t LiteralSize(const char* text) {
  uint32_t size = 0;
  while (text[size] != '\0') ++size;
  return size;
}

inline Bytes View(const char* text) { return Bytes{text, LiteralSize(text)}; }

inline bool Equal(Bytes a, Bytes b) {
  if (a.size != b.size) return false;
  for (uint32_t i = 0; i < a.size; ++i) {
    if (a.data[i] != b.data[i]) return false;
  }
  return true;
}

inline bool StartsWith(Bytes text, Bytes prefix) {
  if (text.size < prefix.size) return false;
  return Equal(Bytes{text.data, prefix.size}, prefix);
}

// A fixed-capacity byte string. The bytes past `size` are kept zero so that
// two buffers holding the same text are byte-for-byte identical: the model
// checker hashes whole machine states, and stale tails would split one state
// into many.
template <uint32_t kCapacityBytes>
struct FixedBytes {
  char data[kCapacityBytes] = {};
  uint32_t size = 0;

  static constexpr uint32_t capacity() { return kCapacityBytes; }

  Bytes view() const { return Bytes{data, size}; }

  void Clear() {
    for (uint32_t i = 0; i < size; ++i) data[i] = 0;
    size = 0;
  }

  // REQUIRES: nothing. Returns false (and leaves the buffer empty) when
  // `bytes` does not fit.
  bool Assign(Bytes bytes) {
    Clear();
    return Append(bytes);
  }

  // Returns false and leaves the buffer unchanged when `bytes` does not fit.
  bool Append(Bytes bytes) {
    if (bytes.size > kCapacityBytes - size) return false;
    for (uint32_t i = 0; i < bytes.size; ++i) data[size + i] = bytes.data[i];
    size += bytes.size;
    return true;
  }

  bool AppendChar(char c) { return Append(Bytes{&c, 1}); }
};

}  // namespace onlyone

#endif  // ONLYONE_CORE_BYTES_H_
