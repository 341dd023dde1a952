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
  char* end = NULL;
  const long hold_ms = strtol(argv[3], &end, 10);
  if (*argv[3] == '\0' || *end != '\0' || hold_ms < 0) {
    fprintf(stderr, "guard_c: HOLD_MS must be a number of milliseconds, got '%s'\n", argv[3]);
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
  struct timespec pause = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
  rc = onlyone_release(lock);
  onlyone_close(lock);
  return rc == ONLYONE_OK ? 0 : 1;
}
