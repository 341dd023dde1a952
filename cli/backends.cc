#include "cli/backends.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "cli/duration.h"
#include "cli/exit_codes.h"
#include "cli/name.h"
#include "cli/status_format.h"
#include "cli/supervise.h"
#include "core/record.h"
#include "platform/posix/backend.h"
#include "platform/zookeeper/backend.h"

namespace onlyone {
namespace cli {

uint64_t WallClockMs() {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1000000;
}

std::string LocalHostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

namespace {

// --- A lock directory on this host -----------------------------------------

LockOptions MakeLockOptions(const Options& options) {
  LockOptions lock_options;
  lock_options.dir = ChooseLockDirectory(options.dir, getenv("ONLYONE_DIR"));
  lock_options.slots = options.slots;
  lock_options.shared_dir = options.shared_dir;
  lock_options.command = SummarizeCommand(options.command, kCommandBytesMax);
  return lock_options;
}

std::string DisplayDirectory(const LockOptions& lock_options) {
  return lock_options.dir.empty() ? DefaultLockDirectory() : lock_options.dir;
}

// Prints why listing failed; returns the exit code.
int ReportListFailure(const std::string& what, const LockOptions& lock_options,
                      const LockStatus& status) {
  const BackendStatus failed = posix::ToBackendStatus(status);
  fprintf(stderr, "onlyone: cannot %s in %s: %s\n", what.c_str(),
          DisplayDirectory(lock_options).c_str(), DescribeBackendStatus(failed).c_str());
  return ExitCodeForBackendStatus(failed);
}

class LocalKind : public BackendKind {
 public:
  std::string Conflict(const Options& options) const override {
    if (!options.zk_path.empty()) return "--zk-path needs --zk (or $ONLYONE_ZK, $ZKHOSTS)";
    if (options.zk_session_timeout_ms > 0) {
      return "--zk-session-timeout needs --zk (or $ONLYONE_ZK, $ZKHOSTS)";
    }
    return "";
  }

  std::unique_ptr<Backend> Make(const Options& options) const override {
    const LockOptions lock_options = MakeLockOptions(options);
    return std::unique_ptr<Backend>(
        new posix::PosixBackend(options.name, lock_options, DisplayDirectory(lock_options)));
  }

  int RunStatus(const Options& options) const override {
    LockOptions lock_options;
    lock_options.dir = ChooseLockDirectory(options.dir, getenv("ONLYONE_DIR"));
    lock_options.shared_dir = options.shared_dir;
    LockStatus status;
    std::vector<std::string> names;
    if (!options.name.empty()) {
      names.push_back(options.name);
    } else if (!Lock::ListNames(lock_options, &names, &status)) {
      return ReportListFailure("list locks", lock_options, status);
    }
    std::vector<LockListing> locks;
    for (const std::string& name : names) {
      LockListing listing;
      listing.name = name;
      if (!Lock::List(name, lock_options, &listing.entries, &status)) {
        return ReportListFailure("read lock '" + name + "'", lock_options, status);
      }
      locks.push_back(listing);
    }
    const std::string output = options.json
                                   ? FormatStatusJson(DisplayDirectory(lock_options), locks)
                                   : FormatStatusText(locks, LocalHostName(), WallClockMs());
    fputs(output.c_str(), stdout);
    return kExitOk;
  }
};

// --- A ZooKeeper ensemble ----------------------------------------------------

zookeeper::ZkOptions MakeZkOptions(const Options& options, const std::string& connect) {
  zookeeper::ZkOptions zk;
  zk.connect = connect;
  zk.lock_path = !options.zk_path.empty()
                     ? options.zk_path
                     : std::string(zookeeper::kDefaultLockRoot) + "/" + options.name;
  zk.slots = options.slots;
  zk.session_timeout_ms = options.zk_session_timeout_ms > 0 ? options.zk_session_timeout_ms
                                                            : zookeeper::kSessionTimeoutMsDefault;
  // The command must be stopped (SIGTERM, --grace, SIGKILL) before the
  // session can expire: see "Session safety" in platform/zookeeper/zk_lock.h.
  zk.stop_margin_ms = options.grace_ms;
  // A server may grant less than the default session (tickTime=500 caps it
  // at 10 s), which leaves no room for the default grace. When the user
  // chose neither, the grace is fitted to what was granted; a user's own
  // values that cannot fit stay an error (exit 78).
  zk.fit_stop_margin = options.zk_session_timeout_ms == 0 && !options.grace_given;
  zk.command = SummarizeCommand(options.command, kCommandBytesMax);
  zk.client_log = options.verbosity == Verbosity::kVerbose;
  return zk;
}

// One lock of a ZooKeeper listing, as `status` shows it.
LockListing ZkListing(const std::string& name, const std::vector<zookeeper::ZkEntry>& entries) {
  LockListing listing;
  listing.name = name;
  for (const zookeeper::ZkEntry& entry : entries) {
    listing.entries.push_back(zookeeper::HolderFromZkEntry(entry));
    ZkNodeFields fields;
    fields.node = entry.node;
    fields.czxid = entry.czxid;
    fields.kind = entry.is_onlyone                              ? "onlyone"
                  : entry.kind == zookeeper::NodeKind::kCurator ? "curator"
                                                                : "kazoo";
    listing.zk_nodes.push_back(fields);
  }
  return listing;
}

// The locks under `root` (or the one lock at options.lock_path when `single`
// is set). false: *error_line and *exit_code say why.
bool ListZkLocks(const zookeeper::ZkOptions& options, const std::string& root,
                 const std::string& name, bool single, std::vector<LockListing>* locks,
                 std::string* error_line, int* exit_code) {
  zookeeper::ZkReader reader(options);  // one session for the whole listing
  std::vector<std::string> names;
  BackendStatus failed;
  if (single) {
    names.push_back(name);
  } else if (!reader.ListChildren(root, &names)) {
    *error_line = "onlyone: cannot list locks under " + root + " on ZooKeeper '" + options.connect +
                  "': " + reader.status().message;
    failed.error = zookeeper::ToBackendError(reader.status().error);
    *exit_code = ExitCodeForBackendStatus(failed);
    return false;
  }
  for (const std::string& lock_name : names) {
    const std::string lock_path =
        single ? options.lock_path : (root == "/" ? "" : root) + "/" + lock_name;
    std::vector<zookeeper::ZkEntry> entries;
    if (!reader.List(lock_path, &entries)) {
      *error_line = "onlyone: cannot read lock '" + lock_name + "' at " + lock_path +
                    " on ZooKeeper '" + options.connect + "': " + reader.status().message;
      failed.error = zookeeper::ToBackendError(reader.status().error);
      *exit_code = ExitCodeForBackendStatus(failed);
      return false;
    }
    locks->push_back(ZkListing(lock_name, entries));
  }
  return true;
}

class ZkKind : public BackendKind {
 public:
  explicit ZkKind(std::string connect) : connect_(std::move(connect)) {}

  std::string Conflict(const Options& options) const override {
    if (options.replace) return "--replace works on local locks only, not with --zk";
    if (!options.dir.empty()) return "--dir is for local locks; with --zk use --zk-path";
    if (options.shared_dir) return "--shared-dir is for local locks, not with --zk";
    if (options.name.find('/') != std::string::npos) {
      return "bad lock name '" + options.name + "': no '/' (use --zk-path for a node path)";
    }
    if (options.name == "." || options.name == "..") return "bad lock name '" + options.name + "'";
    return "";
  }

  std::unique_ptr<Backend> Make(const Options& options) const override {
    // Before the C client opens its socket and pipes (without O_CLOEXEC).
    RememberInheritedDescriptors();
    return std::unique_ptr<Backend>(
        new zookeeper::ZkBackend(options.name, MakeZkOptions(options, connect_)));
  }

  int RunStatus(const Options& options) const override {
    if (!options.name.empty() && options.name.find('/') != std::string::npos) {
      fprintf(stderr, "onlyone: bad lock name '%s': no '/'\n", options.name.c_str());
      return kExitUsage;
    }
    zookeeper::ZkOptions zk = MakeZkOptions(options, connect_);
    zk.stop_margin_ms = 0;
    const bool single = !options.zk_path.empty() || !options.name.empty();
    std::string name = options.name;
    if (!options.zk_path.empty() && name.empty()) {
      name = options.zk_path.substr(options.zk_path.rfind('/') + 1);
    }
    std::string root = !options.zk_path.empty()
                           ? options.zk_path.substr(0, options.zk_path.rfind('/'))
                           : zookeeper::kDefaultLockRoot;
    if (root.empty()) root = "/";
    std::vector<LockListing> locks;
    std::string error_line;
    int exit_code = kExitOk;
    if (!ListZkLocks(zk, root, name, single, &locks, &error_line, &exit_code)) {
      fprintf(stderr, "%s\n", error_line.c_str());
      return exit_code;
    }
    const std::string output = options.json
                                   ? FormatZkStatusJson(connect_, root, locks)
                                   : FormatStatusText(locks, LocalHostName(), WallClockMs());
    fputs(output.c_str(), stdout);
    return kExitOk;
  }

  std::string DescribeFit(const Backend& backend, const Options& options) const override {
    const auto& zk = static_cast<const zookeeper::ZkBackend&>(backend);
    const zookeeper::ZkLock& lock = zk.zk_lock();
    const int64_t requested_ms = zk.options().session_timeout_ms;
    return "the ZooKeeper server granted a " + FormatDurationExact(lock.session_timeout_ms()) +
           " session (asked for " + FormatDurationExact(requested_ms) + "): grace lowered from " +
           FormatDurationExact(options.grace_ms) + " to " +
           FormatDurationExact(lock.stop_margin_ms()) +
           " so that the command is stopped before the session can expire; a disconnection " +
           "is ridden out for " + FormatDurationExact(lock.tolerance_ms());
  }

 private:
  std::string connect_;
};

}  // namespace

std::unique_ptr<BackendKind> ChooseBackend(const Options& options) {
  const std::string connect = ChooseZkConnect(options.zk, getenv("ONLYONE_ZK"), getenv("ZKHOSTS"));
  if (!connect.empty()) return std::unique_ptr<BackendKind>(new ZkKind(connect));
  return std::unique_ptr<BackendKind>(new LocalKind());
}

int ReportFailure(const Backend& lock) {
  const BackendStatus& status = lock.status();
  std::string line = "onlyone: cannot lock '" + lock.name() + "' " + lock.where() + ": " +
                     DescribeBackendStatus(status);
  // The library's messages usually say what to do; add ours when it did not.
  const std::string advice = AdviceForBackendStatus(status);
  if (status.message.empty() && !advice.empty()) line += "; " + advice;
  fprintf(stderr, "%s\n", line.c_str());
  if (status.entry_left_behind) {
    fprintf(stderr,
            "onlyone: our entry in '%s' could not be removed; it blocks others until "
            "this process exits\n",
            lock.name().c_str());
  }
  return ExitCodeForBackendStatus(status);
}

}  // namespace cli
}  // namespace onlyone
