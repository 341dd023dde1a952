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
  id.pid_namespace = 1;
  id.host.Assign(View("sim"));
  id.command.Assign(ViewOf(command.substr(0, kCommandBytesMax)));
  world_.AddOutsideProcess(id.pid, id.start_time);
  return id;
}

bool SimPlatform::Enter(const Identity&) { return true; }
void SimPlatform::Leave(const Identity&) {}

void SimPlatform::Kill(const Identity& who) { world_.RemoveOutsideProcess(who.pid); }

void SimPlatform::PlantFile(const std::string& name, const std::string& content) {
  world_.Plant(name, /*symlink=*/false, content);
}

Result SimPlatform::Perform(const Op& op) {
  world_.AdvanceClock(1);
  return world_.PerformFor(&driver_, op);
}

}  // namespace sim
}  // namespace onlyone
