// FUZZ_CHECK: the fuzz targets' assertion. Unlike assert() it is never
// compiled out (the targets check properties, not debug invariants), and it
// says which property failed before aborting, which both libFuzzer (it saves
// the input as a crash) and the replay test (the test fails, naming the
// corpus file it was replaying) report.
#ifndef ONLYONE_FUZZ_CHECK_H_
#define ONLYONE_FUZZ_CHECK_H_

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(condition)                                                            \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
      abort();                                                                           \
    }                                                                                    \
  } while (0)

// As FUZZ_CHECK, with a message (a simulator violation, a trace).
#define FUZZ_CHECK_MSG(condition, message)                                                  \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      fprintf(stderr, "%s:%d: property violated: %s\n%s\n", __FILE__, __LINE__, #condition, \
              (message));                                                                   \
      abort();                                                                              \
    }                                                                                       \
  } while (0)

#endif  // ONLYONE_FUZZ_CHECK_H_
