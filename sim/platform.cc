#include "sim/platform.h"

namespace onlyone {
namespace sim {

namespace {

WorldConfig EmptyWorld() {
  WorldConfig config;
  config.procs = 0;  // only the directory is used; contenders are driven outside
  return config;
}

Bytes ViewOf(const std::string& text) { return Bytes{text.data(), static_cast<uint32_t>(text.size())}; }

}  // namespace

SimPlatform::SimPlatform() : world_(EmptyWorld()) {}

Identity SimPlatform::NewIdentity(const std::string& command) {
  Identity id;
  id.nonce = Id128{0x51u, next_nonce_++};
  id.pid = next_pid_++;
  id.start_time = next_start_time_++;
  id.boot_id = kSimBootId;
  id.pid_namespace = 1;
  id.host.Assign(View("sim"));
  id.command.Assign(ViewOf(command.substr(0, kCommandBytesMax)));
  pid_table_[id.pid] = id.start_time;
  return id;
}

bool SimPlatform::Enter(const Identity&) { return true; }
void SimPlatform::Leave(const Identity&) {}

void SimPlatform::Kill(const Identity& who) { pid_table_.erase(who.pid); }

void SimPlatform::PlantFile(const std::string& name, const std::string& content) {
  world_.Plant(name, /*symlink=*/false, content);
}

Result SimPlatform::Perform(const Op& op) {
  std::map<std::string, Node>& fs = world_.mutable_fs();
  Result result;
  result.mono_ms = ++now_ms_;
  result.wall_ms = now_ms_;
  const std::string name(op.name.data, op.name.size);
  switch (op.kind) {
    case OpKind::kCreate:
      if (fs.count(name) != 0) {
        result.status = IoStatus::kExists;
      } else {
        world_.Plant(name, /*symlink=*/true, std::string(op.record.data, op.record.size));
      }
      break;
    case OpKind::kRename: {
      auto from = fs.find(std::string(op.from.data, op.from.size));
      if (from == fs.end()) {
        result.status = IoStatus::kNotFound;
        break;
      }
      const Node moved = from->second;
      fs.erase(from);
      world_.Plant(name, moved.symlink, moved.content);
      break;
    }
    case OpKind::kRead: {
      auto it = fs.find(name);
      if (it == fs.end()) {
        result.status = IoStatus::kNotFound;
      } else if (!it->second.symlink) {
        result.status = IoStatus::kNotSymlink;
      } else {
        result_text_ = it->second.content;
        result.data = ViewOf(result_text_);
      }
      break;
    }
    case OpKind::kListStart:
      listing_ = true;
      at_start_ = true;
      cursor_.clear();
      break;
    case OpKind::kListNext: {
      auto it = at_start_ ? fs.begin() : fs.upper_bound(cursor_);
      at_start_ = false;
      if (!listing_ || it == fs.end()) {
        result.status = IoStatus::kEnd;
        listing_ = false;
      } else {
        cursor_ = it->first;
        result_text_ = it->first;
        result.data = ViewOf(result_text_);
      }
      break;
    }
    case OpKind::kRemove:
      if (fs.erase(name) == 0) result.status = IoStatus::kNotFound;
      break;
    case OpKind::kProbe: {
      // World's rule: alive iff the pid runs with the same start time on our
      // (simulated) boot; never Unknown on one simulated machine.
      const Identity& owner = op.owner->owner;
      auto it = pid_table_.find(owner.pid);
      const bool alive = it != pid_table_.end() && it->second == owner.start_time &&
                         owner.boot_id == kSimBootId;
      result.liveness = alive ? Liveness::kAlive : Liveness::kDead;
      break;
    }
    case OpKind::kWait:
      break;
    case OpKind::kNone:
    case OpKind::kDone:
      result.status = IoStatus::kIo;
      break;
  }
  return result;
}

}  // namespace sim
}  // namespace onlyone
