#include "sim/platform.h"

namespace onlyone {
namespace sim {

namespace {

WorldConfig EmptyWorld() {
  WorldConfig config;
  config.procs = 0;  // only the directory is used; contenders are driven outside
  return config;
}

Bytes ViewOf(const std::string& text) {
  return Bytes{text.data(), static_cast<uint32_t>(text.size())};
}

}  // namespace

SimPlatform::SimPlatform() : world_(EmptyWorld()) { driver_.lists_everything = true; }

Identity SimPlatform::NewIdentity(const std::string& command) {
  Identity id;
  id.nonce = Id128{0x51u, next_nonce_++};
  id.pid = next_pid_++;
  id.start_time = next_start_time_++;
  id.boot_id = kSimBootId;
  id.pid_namespace = kSimPidNamespace;
  id.host.Assign(View("sim"));
  id.command.Assign(ViewOf(command.substr(0, kCommandBytesMax)));
  Spawn(id);
  return id;
}

void SimPlatform::Spawn(const Identity& who) { world_.AddOutsideProcess(who.pid, who.start_time); }

bool SimPlatform::Enter(const Identity&) { return true; }
void SimPlatform::Leave(const Identity&) {}

void SimPlatform::Kill(const Identity& who) { world_.RemoveOutsideProcess(who.pid); }

void SimPlatform::PlantFile(const std::string& name, const std::string& content) {
  world_.Plant(name, /*symlink=*/false, content);
}

void SimPlatform::FailNext(OpKind kind, const std::string& name, IoStatus status) {
  faults_.push_back(Fault{kind, name, status});
}

Result SimPlatform::Perform(const Op& op) {
  world_.AdvanceClock(1);
  Result result;
  result.mono_ms = world_.now_ms();
  result.wall_ms = world_.now_ms();
  if (TakeFault(op, &result) || AnswerAsPosix(op, &result)) return result;
  return world_.PerformFor(&driver_, op);
}

bool SimPlatform::TakeFault(const Op& op, Result* result) {
  const std::string name(op.name.data, op.name.size);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->kind != op.kind || (!it->name.empty() && it->name != name)) continue;
    result->status = it->status;
    result->os_error = LinuxErrno(it->status);
    faults_.erase(it);
    return true;
  }
  return false;
}

bool SimPlatform::AnswerAsPosix(const Op& op, Result* result) const {
  if (op.kind == OpKind::kWait && op.deadline_mono_ms != kNoDeadline &&
      world_.now_ms() >= op.deadline_mono_ms) {
    result->status = IoStatus::kTimedOut;
    return true;
  }
  if (op.kind == OpKind::kProbe && op.owner != nullptr &&
      op.owner->owner.pid_namespace != kSimPidNamespace) {
    result->liveness = Liveness::kUnknown;
    return true;
  }
  return false;
}

}  // namespace sim
}  // namespace onlyone
