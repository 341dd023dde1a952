/* guard_c DIR NAME HOLD_MS: guard.cc in C, on the C API. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "platform/posix/onlyone.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: guard_c DIR NAME HOLD_MS\n");
    return 64;
  }
  onlyone_lock* lock = onlyone_open(argv[2], argv[1], 1);
  if (lock == NULL) return 1;
  int rc = onlyone_try_acquire(lock);
  if (rc != ONLYONE_OK) {
    fprintf(stderr, "%s\n", onlyone_error_message(lock));
    onlyone_close(lock);
    return rc == ONLYONE_BUSY ? 75 : 1;
  }
  printf("acquired %s fence %llu\n", argv[2], (unsigned long long)onlyone_fence(lock));
  fflush(stdout);
  long hold_ms = atol(argv[3]);
  struct timespec pause = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
  rc = onlyone_release(lock);
  onlyone_close(lock);
  return rc == ONLYONE_OK ? 0 : 1;
}
