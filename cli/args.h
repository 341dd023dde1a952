// The onlyone command line, parsed into Options without side effects: no
// exit(), no output, no environment. main() decides what to do with it.
#ifndef ONLYONE_CLI_ARGS_H_
#define ONLYONE_CLI_ARGS_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "platform/backend.h"

namespace onlyone {
namespace cli {

constexpr int64_t kDefaultGraceMs = int64_t{10} * 1000;
constexpr int kConflictExitCodeDefault = 75;  // EX_TEMPFAIL

enum class Mode : uint8_t {
  kRun,      // onlyone [OPTIONS] [NAME] -- COMMAND...
  kStatus,   // onlyone [OPTIONS] status [--json] [NAME]
  kHelp,     // --help
  kVersion,  // --version
};

enum class Verbosity : uint8_t { kQuiet, kNormal, kVerbose };

struct Options {
  Mode mode = Mode::kRun;
  std::string name;                  // empty in kRun: derived from `command`
  std::vector<std::string> command;  // kRun: what to run, argv[0] first
  bool wait = false;                 // wait for the lock (--wait, -w, --timeout; not with -n)
  int64_t wait_ms = kWaitForever;    // with wait: the limit (--wait alone: kWaitForever)
  // -n, --nonblock: never wait, whatever the order of -n and the wait
  // options, as in flock(1) (where -n makes every attempt non-blocking).
  bool nonblock = false;
  std::string wait_option;  // the last wait option as typed ("--wait", "-w 0.5"); for -v
  int conflict_exit_code = kConflictExitCodeDefault;
  uint32_t slots = 1;
  std::string dir;  // --dir; empty: $ONLYONE_DIR or the default
  bool shared_dir = false;
  int64_t grace_ms = kDefaultGraceMs;
  bool replace = false;
  bool json = false;  // status --json
  Verbosity verbosity = Verbosity::kNormal;
  // Distributed mode: --zk, else $ONLYONE_ZK, else $ZKHOSTS.
  std::string zk;                     // --zk connect string; empty: not given
  std::string zk_path;                // --zk-path: the lock's node path (NAME is then only a label)
  int64_t zk_session_timeout_ms = 0;  // --zk-session-timeout; 0: the default
  bool grace_given = false;           // --grace was given (the ZooKeeper margin depends on it)
};

struct ParseResult {
  bool ok = false;
  Options options;
  std::string error;  // when !ok: what is wrong and what to do, one line
};

// Parses the arguments after argv[0].
ParseResult ParseArgs(const std::vector<std::string>& args);

// The lock directory to use: --dir, else $ONLYONE_DIR (env_dir, may be null),
// else empty, meaning the library's DefaultLockDirectory().
std::string ChooseLockDirectory(const std::string& flag_dir, const char* env_dir);

// The ZooKeeper connect string to use: --zk, else $ONLYONE_ZK, else lockex's
// $ZKHOSTS (either may be null); empty: local mode.
std::string ChooseZkConnect(const std::string& flag_zk, const char* env_onlyone_zk,
                            const char* env_zkhosts);

// What this run will do about a held lock, for -v: "waiting up to 1.5s for
// 'backup'", "not waiting for 'backup': -n overrides --wait=30", ...
std::string DescribeWaiting(const Options& options, const std::string& name);

// The text of --help.
std::string UsageText();

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_ARGS_H_
