// The Python package's one addition to the C API (onlyone.h): the status
// of locks as the JSON document `onlyone status --json` prints, so that
// onlyone.status() reads the same fields with the same formatter instead of
// a second copy of the record format in Python.
#include <stdlib.h>
#include <string.h>

#include <string>
#include <utility>
#include <vector>

#include "cli/status_format.h"
#include "platform/posix/lock.h"

namespace {

char* CopyOut(const std::string& text) {
  char* out = static_cast<char*>(malloc(text.size() + 1));
  if (out != nullptr) memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

// {"error": CODE, "message": "..."} with CODE from onlyone.h.
std::string ErrorJson(const onlyone::LockStatus& status) {
  return "{\"error\": " + std::to_string(static_cast<int>(status.error)) +
         ", \"message\": " + onlyone::cli::JsonString(status.message) + "}";
}

}  // namespace

extern "C" {

// name: one lock, or NULL for every lock in dir. dir: NULL for the default.
// Returns a malloc'd document (free it with onlyone_py_free), NULL only when
// out of memory.
char* onlyone_py_status_json(const char* name, const char* dir) {
  onlyone::LockOptions options;
  if (dir != nullptr) options.dir = dir;
  onlyone::LockStatus status;
  std::vector<std::string> names;
  if (name != nullptr) {
    names.push_back(name);
  } else if (!onlyone::Lock::ListNames(options, &names, &status)) {
    return CopyOut(ErrorJson(status));
  }
  std::vector<onlyone::cli::LockListing> locks;
  for (std::string& lock_name : names) {
    onlyone::cli::LockListing listing;
    listing.name = std::move(lock_name);
    if (!onlyone::Lock::List(listing.name, options, &listing.entries, &status)) {
      return CopyOut(ErrorJson(status));
    }
    locks.push_back(std::move(listing));
  }
  const std::string resolved = options.dir.empty() ? onlyone::DefaultLockDirectory() : options.dir;
  return CopyOut(onlyone::cli::FormatStatusJson(resolved, locks));
}

void onlyone_py_free(char* document) { free(document); }

}  // extern "C"
