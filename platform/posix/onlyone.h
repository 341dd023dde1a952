/* onlyone C API: the lock protocol for programs in any language (see lock.h,
 * which this wraps). Link with libonlyone.so.
 *
 *   onlyone_lock* lock = onlyone_open("nightly-backup", NULL, 1);
 *   int rc = onlyone_try_acquire(lock);
 *   if (rc == ONLYONE_BUSY) { fprintf(stderr, "%s\n", onlyone_error_message(lock)); ... }
 *   ... onlyone_fence(lock) is this holding's fencing token ...
 *   onlyone_release(lock);
 *   onlyone_close(lock);   // also releases if still held
 *
 * Every function returns 0 (ONLYONE_OK) or one of the codes below; the
 * message of the last failure (one line, says what to do) is
 * onlyone_error_message(). A handle is used by one thread at a time, except
 * onlyone_cancel(), which is async-signal-safe. */
#ifndef ONLYONE_PLATFORM_POSIX_ONLYONE_H_
#define ONLYONE_PLATFORM_POSIX_ONLYONE_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct onlyone_lock onlyone_lock;

enum {
  ONLYONE_OK = 0,
  ONLYONE_BUSY = 1,               /* held by others: try mode, or the timeout passed */
  ONLYONE_CANCELLED = 2,          /* onlyone_cancel() interrupted the wait */
  ONLYONE_INVALID_ARGUMENT = 3,   /* bad name, slots, NULL handle, or not held */
  ONLYONE_UNSAFE_DIRECTORY = 4,   /* the directory failed a safety check */
  ONLYONE_IO = 5,                 /* a file system operation failed */
  ONLYONE_INCOMPATIBLE_ENTRY = 6, /* an entry written by a newer onlyone */
  ONLYONE_FENCE_CORRUPT = 7,      /* the fence counter cannot be read */
  ONLYONE_LOST = 8                /* our entry was removed while we held the lock */
};

/* Timeouts: wait forever. */
#define ONLYONE_WAIT_FOREVER (-1)

/* dir: parent directory of locks, or NULL for the default. slots >= 1.
 * Touches no file; returns NULL only when out of memory or name is NULL. */
onlyone_lock* onlyone_open(const char* name, const char* dir, uint32_t slots);
int onlyone_try_acquire(onlyone_lock* lock);
/* timeout_ms: ONLYONE_WAIT_FOREVER, or milliseconds. */
int onlyone_acquire(onlyone_lock* lock, int64_t timeout_ms);
int onlyone_release(onlyone_lock* lock);
/* Interrupts a waiting onlyone_acquire (async-signal-safe). */
void onlyone_cancel(onlyone_lock* lock);
/* Fencing token of the current holding; 0 when not held. */
uint64_t onlyone_fence(const onlyone_lock* lock);
/* Message of the last failure ("" after a success); valid until the next call. */
const char* onlyone_error_message(const onlyone_lock* lock);
/* Releases if held, then frees the handle. */
void onlyone_close(onlyone_lock* lock);

#ifdef __cplusplus
}
#endif

#endif /* ONLYONE_PLATFORM_POSIX_ONLYONE_H_ */
