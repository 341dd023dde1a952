#include "platform/zookeeper/backend.h"

namespace onlyone {
namespace zookeeper {

BackendError ToBackendError(ZkError error) {
  switch (error) {
    case ZkError::kNone: return BackendError::kNone;
    case ZkError::kBusy: return BackendError::kBusy;
    case ZkError::kCancelled: return BackendError::kCancelled;
    case ZkError::kInvalidArgument: return BackendError::kInvalidArgument;
    case ZkError::kUnreachable: return BackendError::kUnreachable;
    case ZkError::kNoChroot: return BackendError::kNoChroot;
    case ZkError::kTimeoutTooShort: return BackendError::kSessionTooShort;
    case ZkError::kSessionExpired: return BackendError::kSessionExpired;
    case ZkError::kLost: return BackendError::kLost;
    case ZkError::kNoAuth: return BackendError::kPermission;
    case ZkError::kServer: return BackendError::kServer;
  }
  return BackendError::kServer;
}

Holder HolderFromZkEntry(const ZkEntry& entry) {
  Holder holder;
  holder.pid = entry.pid;
  holder.host = entry.host;
  holder.command = entry.command;
  if (!entry.is_onlyone) {
    // Another library's node: say whose, and show its data (kazoo's
    // identifier, Curator's address) in place of a command.
    const char* library = entry.kind == NodeKind::kCurator ? "curator" : "kazoo";
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

ZkBackend::ZkBackend(const std::string& name, const ZkOptions& options)
    : name_(name), options_(options), lock_(options) {}

std::string ZkBackend::where() const {
  return "on ZooKeeper '" + options_.connect + "' at " + options_.lock_path;
}

void ZkBackend::SetStatus(const ZkStatus& zk) {
  status_ = BackendStatus();
  status_.error = ToBackendError(zk.error);
  status_.server_code = zk.zk_code;
  status_.message = zk.message;
  if (zk.has_holder) {
    status_.has_holder = true;
    status_.holder = HolderFromZkEntry(zk.holder);
    status_.holder.holding = true;
  }
}

bool ZkBackend::Track(bool ok) {
  SetStatus(lock_.status());
  return ok;
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

Backend::Hold ZkBackend::CheckHold(std::string* why, int64_t* next_check_ms) {
  return lock_.CheckHold(why, next_check_ms) == ZkLock::Hold::kHeld ? Hold::kHeld : Hold::kLost;
}

bool ZkBackend::List(std::vector<Holder>* entries) {
  ZkReader reader(options_);
  std::vector<ZkEntry> listed;
  entries->clear();
  const bool ok = reader.List(options_.lock_path, &listed);
  SetStatus(reader.status());
  for (const ZkEntry& entry : listed) entries->push_back(HolderFromZkEntry(entry));
  return ok;
}

int64_t ZkBackend::stop_margin_ms(int64_t wanted_ms) const {
  (void)wanted_ms;  // asked for through ZkOptions::stop_margin_ms, fitted on connecting
  return lock_.stop_margin_ms();
}

}  // namespace zookeeper
}  // namespace onlyone
