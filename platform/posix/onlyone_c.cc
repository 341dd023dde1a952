// The C API (onlyone.h) over onlyone::Lock.
#include "platform/posix/onlyone.h"

#include <new>
#include <string>

#include "platform/posix/lock.h"

// The C spelling of "wait forever" is the library's, not a second value.
static_assert(ONLYONE_WAIT_FOREVER == onlyone::kWaitForever, "ONLYONE_WAIT_FOREVER");

struct onlyone_lock {
  onlyone::Lock lock;
  std::string message;  // owned copy for onlyone_error_message
  onlyone_lock(std::string name, onlyone::LockOptions options)
      : lock(std::move(name), std::move(options)) {}
};

namespace {

static_assert(ONLYONE_BUSY == static_cast<int>(onlyone::LockError::kBusy),
              "codes follow LockError");
static_assert(ONLYONE_LOST == static_cast<int>(onlyone::LockError::kLost),
              "codes follow LockError");

int Outcome(onlyone_lock* handle, bool ok) {
  handle->message = ok ? "" : handle->lock.status().message;
  return ok ? ONLYONE_OK : static_cast<int>(handle->lock.status().error);
}

}  // namespace

extern "C" {

onlyone_lock* onlyone_open(const char* name, const char* dir, uint32_t slots) {
  if (name == nullptr) return nullptr;
  onlyone::LockOptions options;
  if (dir != nullptr) options.dir = dir;
  options.slots = slots;
  return new (std::nothrow) onlyone_lock(name, options);
}

int onlyone_try_acquire(onlyone_lock* lock) {
  if (lock == nullptr) return ONLYONE_INVALID_ARGUMENT;
  return Outcome(lock, lock->lock.TryAcquire());
}

int onlyone_acquire(onlyone_lock* lock, int64_t timeout_ms) {
  if (lock == nullptr) return ONLYONE_INVALID_ARGUMENT;
  return Outcome(lock, lock->lock.Acquire(timeout_ms < 0 ? onlyone::kWaitForever : timeout_ms));
}

int onlyone_release(onlyone_lock* lock) {
  if (lock == nullptr) return ONLYONE_INVALID_ARGUMENT;
  return Outcome(lock, lock->lock.Release());
}

void onlyone_cancel(onlyone_lock* lock) {
  if (lock != nullptr) lock->lock.Cancel();
}

uint64_t onlyone_fence(const onlyone_lock* lock) {
  return lock != nullptr && lock->lock.held() ? lock->lock.fence() : 0;
}

const char* onlyone_error_message(const onlyone_lock* lock) {
  return lock != nullptr ? lock->message.c_str() : "onlyone: no lock handle";
}

void onlyone_close(onlyone_lock* lock) { delete lock; }

}  // extern "C"
