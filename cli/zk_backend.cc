#include "cli/zk_backend.h"

#include <stdio.h>

#include "cli/duration.h"
#include "cli/exit_codes.h"

namespace onlyone {
namespace cli {

using zookeeper::ZkEntry;
using zookeeper::ZkError;
using zookeeper::ZkLock;

int ExitCodeForZkError(ZkError error) {
  switch (error) {
    case ZkError::kNone: return kExitOk;
    case ZkError::kBusy:
    case ZkError::kCancelled: return kExitTempFail;
    case ZkError::kInvalidArgument: return kExitUsage;
    case ZkError::kUnreachable: return kExitNoHost;
    case ZkError::kNoChroot:
    case ZkError::kTimeoutTooShort: return kExitConfig;
    case ZkError::kSessionExpired:
    case ZkError::kLost:
    case ZkError::kServer: return kExitUnavailable;
    case ZkError::kNoAuth: return kExitNoPerm;
  }
  return kExitSoftware;
}

Holder HolderFromZkEntry(const ZkEntry& entry) {
  Holder holder;
  holder.pid = entry.pid;
  holder.host = entry.host;
  holder.command = entry.command;
  if (!entry.is_onlyone) {
    // Another library's node: say whose, and show its data (kazoo's
    // identifier, Curator's address) in place of a command.
    const char* library = entry.kind == zookeeper::NodeKind::kCurator ? "curator" : "kazoo";
    holder.command = std::string("(") + library + " " + entry.node + ")" +
                     (entry.data.empty() ? "" : " " + entry.data);
  }
  holder.since_ms = entry.since_ms;
  holder.ticket = static_cast<uint64_t>(entry.sequence < 0 ? 0 : entry.sequence);
  holder.slots = entry.slots;
  holder.holding = entry.holding;
  holder.alive_known = true;
  holder.alive = true;
  return holder;
}

ZkBackend::ZkBackend(const std::string& name, const zookeeper::ZkOptions& options)
    : name_(name), options_(options), lock_(options) {}

std::string ZkBackend::where() const {
  return "on ZooKeeper '" + options_.connect + "' at " + options_.lock_path;
}

void ZkBackend::UpdateStatus() {
  const zookeeper::ZkStatus& zk = lock_.status();
  status_ = LockStatus();
  status_.message = zk.message;
  switch (zk.error) {
    case ZkError::kNone: status_.error = LockError::kNone; break;
    case ZkError::kBusy: status_.error = LockError::kBusy; break;
    case ZkError::kCancelled: status_.error = LockError::kCancelled; break;
    default: status_.error = LockError::kIo; break;
  }
  if (zk.has_holder) {
    status_.has_holder = true;
    status_.holder = HolderFromZkEntry(zk.holder);
    status_.holder.holding = true;
  }
}

bool ZkBackend::TryAcquire() {
  const bool acquired = lock_.TryAcquire();
  UpdateStatus();
  return acquired;
}

bool ZkBackend::Acquire(int64_t timeout_ms) {
  const bool acquired =
      lock_.Acquire(timeout_ms == kWaitForever ? zookeeper::kWaitForever : timeout_ms);
  UpdateStatus();
  return acquired;
}

void ZkBackend::set_wait_observer(std::function<void(const Holder*, uint64_t)> observer) {
  lock_.set_wait_observer([observer](const ZkEntry* entry, uint64_t waited_ms) {
    if (entry == nullptr) {
      observer(nullptr, waited_ms);
      return;
    }
    const Holder holder = HolderFromZkEntry(*entry);
    observer(&holder, waited_ms);
  });
}

int ZkBackend::ReportFailure() const {
  const zookeeper::ZkStatus& zk = lock_.status();
  fprintf(stderr, "onlyone: cannot lock '%s' %s: %s\n", name_.c_str(), where().c_str(),
          zk.message.c_str());
  return ExitCodeForZkError(zk.error);
}

std::string ZkBackend::DescribeFittedGrace(int64_t default_grace_ms) const {
  return "the ZooKeeper server granted a " + FormatDurationExact(lock_.session_timeout_ms()) +
         " session (asked for " + FormatDurationExact(options_.session_timeout_ms) +
         "): grace lowered from " + FormatDurationExact(default_grace_ms) + " to " +
         FormatDurationExact(lock_.stop_margin_ms()) +
         " so that the command is stopped before the session can expire; a disconnection " +
         "is ridden out for " + FormatDurationExact(lock_.tolerance_ms());
}

LockBackend::Check ZkBackend::CheckHeld(std::string* why, int64_t* next_check_ms) {
  return lock_.CheckHold(why, next_check_ms) == ZkLock::Hold::kHeld ? Check::kHeld : Check::kLost;
}

bool ListZkLocks(const zookeeper::ZkOptions& options, const std::string& root,
                 const std::string& name, bool single, std::vector<LockListing>* locks,
                 std::string* error_line, int* exit_code) {
  zookeeper::ZkReader reader(options);  // one session for the whole listing
  std::vector<std::string> names;
  if (single) {
    names.push_back(name);
  } else if (!reader.ListChildren(root, &names)) {
    *error_line = "onlyone: cannot list locks under " + root + " on ZooKeeper '" + options.connect +
                  "': " + reader.status().message;
    *exit_code = ExitCodeForZkError(reader.status().error);
    return false;
  }
  for (const std::string& lock_name : names) {
    const std::string lock_path =
        single ? options.lock_path : (root == "/" ? "" : root) + "/" + lock_name;
    std::vector<ZkEntry> entries;
    if (!reader.List(lock_path, &entries)) {
      *error_line = "onlyone: cannot read lock '" + lock_name + "' at " + lock_path +
                    " on ZooKeeper '" + options.connect + "': " + reader.status().message;
      *exit_code = ExitCodeForZkError(reader.status().error);
      return false;
    }
    LockListing listing;
    listing.name = lock_name;
    for (const ZkEntry& entry : entries) {
      listing.entries.push_back(HolderFromZkEntry(entry));
      ZkNodeFields fields;
      fields.node = entry.node;
      fields.czxid = entry.czxid;
      fields.kind = entry.is_onlyone                              ? "onlyone"
                    : entry.kind == zookeeper::NodeKind::kCurator ? "curator"
                                                                  : "kazoo";
      listing.zk_nodes.push_back(fields);
    }
    locks->push_back(listing);
  }
  return true;
}

}  // namespace cli
}  // namespace onlyone
