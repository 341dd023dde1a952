// guard DIR NAME HOLD_MS: holds the lock NAME (in DIR) for HOLD_MS, or exits
// 75 naming the holder when it is busy. The C++ guard as a user writes it.
#include <stdio.h>
#include <stdlib.h>

#include <chrono>
#include <thread>

#include "platform/posix/lock.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: guard DIR NAME HOLD_MS\n");
    return 64;
  }
  char* end = nullptr;
  const long long hold_ms = strtoll(argv[3], &end, 10);
  if (*argv[3] == '\0' || *end != '\0' || hold_ms < 0) {
    fprintf(stderr, "guard: HOLD_MS must be a number of milliseconds, got '%s'\n", argv[3]);
    return 64;
  }
  onlyone::LockOptions options;
  options.dir = argv[1];
  options.command = "guard";
  onlyone::Lock lock(argv[2], options);
  if (!lock.TryAcquire()) {
    fprintf(stderr, "%s\n", lock.status().message.c_str());
    return lock.status().error == onlyone::LockError::kBusy ? 75 : 1;
  }
  printf("acquired %s fence %llu\n", lock.name().c_str(),
         static_cast<unsigned long long>(lock.fence()));
  fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
  return lock.Release() ? 0 : 1;
}
