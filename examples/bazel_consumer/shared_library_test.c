/* libonlyone.so as a dynamically loaded library: resolve the C API by name,
 * take a lock, see a second handle refused, release. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/posix/onlyone.h" /* codes only; functions come from dlsym */

typedef onlyone_lock* (*open_fn)(const char*, const char*, uint32_t);
typedef int (*lock_fn)(onlyone_lock*);
typedef uint64_t (*fence_fn)(const onlyone_lock*);
typedef void (*close_fn)(onlyone_lock*);

static void* must(void* library, const char* name) {
  void* symbol = dlsym(library, name);
  if (symbol == NULL) {
    fprintf(stderr, "libonlyone.so does not export %s\n", name);
    exit(1);
  }
  return symbol;
}

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  open_fn open_lock = (open_fn)must(library, "onlyone_open");
  lock_fn try_acquire = (lock_fn)must(library, "onlyone_try_acquire");
  lock_fn release = (lock_fn)must(library, "onlyone_release");
  fence_fn fence = (fence_fn)must(library, "onlyone_fence");
  close_fn close_lock = (close_fn)must(library, "onlyone_close");

  const char* dir = getenv("TEST_TMPDIR");
  onlyone_lock* first = open_lock("dlopen", dir, 1);
  onlyone_lock* second = open_lock("dlopen", dir, 1);
  if (try_acquire(first) != ONLYONE_OK || fence(first) == 0) {
    fprintf(stderr, "the first handle did not acquire a free lock\n");
    return 1;
  }
  if (try_acquire(second) != ONLYONE_BUSY) {
    fprintf(stderr, "a second handle acquired a held lock\n");
    return 1;
  }
  if (release(first) != ONLYONE_OK || try_acquire(second) != ONLYONE_OK) {
    fprintf(stderr, "the lock was not free after release\n");
    return 1;
  }
  close_lock(second);
  close_lock(first);
  printf("shared_library_test: ok\n");
  return 0;
}
