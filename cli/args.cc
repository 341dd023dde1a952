#include "cli/args.h"

#include "cli/duration.h"
#include "core/record.h"

namespace onlyone {
namespace cli {
namespace {

constexpr const char* kSeeHelp = "; see 'onlyone --help'";

// Strict unsigned decimal in [min, max]: no sign, no spaces, no leading '+'.
bool ParseBoundedInt(const std::string& text, int64_t min, int64_t max, int64_t* value) {
  if (text.empty() || text.size() > 10) return false;
  int64_t parsed = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    parsed = parsed * 10 + (c - '0');
  }
  if (parsed < min || parsed > max) return false;
  *value = parsed;
  return true;
}

// Walks the arguments before "--", handing out options and their values.
class Parser {
 public:
  explicit Parser(const std::vector<std::string>& args) : args_(args) {}

  ParseResult Run() {
    while (index_ < args_.size() && !failed_) {
      const std::string& arg = args_[index_++];
      if (arg == "--") {
        separator_seen_ = true;
        break;
      }
      if (arg.size() > 1 && arg[0] == '-') {
        if (arg[1] == '-') {
          LongOption(arg);
        } else {
          ShortOptions(arg);
        }
      } else {
        positionals_.push_back(arg);
      }
    }
    if (failed_) return Failure();
    if (options_.nonblock) options_.wait = false;  // -n wins, in either order (see args.h)
    if (options_.mode == Mode::kHelp || options_.mode == Mode::kVersion) return Success();
    if (separator_seen_) {
      options_.command.assign(args_.begin() + static_cast<std::ptrdiff_t>(index_), args_.end());
      return FinishRun();
    }
    return FinishWithoutCommand();
  }

 private:
  ParseResult Success() {
    result_.ok = true;
    result_.options = options_;
    return result_;
  }
  ParseResult Failure() {
    result_.ok = false;
    return result_;
  }
  void Fail(const std::string& error) {
    if (!failed_) result_.error = error;
    failed_ = true;
  }

  ParseResult FinishRun() {
    if (options_.command.empty()) {
      Fail("no command after '--': write onlyone [NAME] -- COMMAND [ARG...]");
      return Failure();
    }
    if (options_.json) {
      Fail("--json only applies to 'onlyone status'");
      return Failure();
    }
    if (positionals_.size() > 1) {
      Fail("expected at most one NAME before '--', found '" + positionals_[0] + "' and '" +
           positionals_[1] + "'" + kSeeHelp);
      return Failure();
    }
    if (positionals_.size() == 1) options_.name = positionals_[0];
    return Success();
  }

  ParseResult FinishWithoutCommand() {
    if (!positionals_.empty() && positionals_[0] == "status") {
      if (positionals_.size() > 2) {
        Fail("'onlyone status' takes at most one NAME" + std::string(kSeeHelp));
        return Failure();
      }
      options_.mode = Mode::kStatus;
      if (positionals_.size() == 2) options_.name = positionals_[1];
      return Success();
    }
    if (positionals_.empty()) {
      Fail("missing command: write onlyone [OPTIONS] [NAME] -- COMMAND [ARG...]" +
           std::string(kSeeHelp));
    } else {
      Fail("missing '--' before the command: write onlyone [OPTIONS] " + positionals_[0] +
           " -- COMMAND [ARG...]");
    }
    return Failure();
  }

  // The value of an option that requires one: after '=' or the next argument.
  bool TakeValue(const std::string& option, bool has_inline, const std::string& inline_value,
                 std::string* value) {
    if (has_inline) {
      *value = inline_value;
      return true;
    }
    if (index_ >= args_.size() || args_[index_] == "--") {
      Fail("option " + option + " needs a value" + kSeeHelp);
      return false;
    }
    *value = args_[index_++];
    return true;
  }

  void SetInt(const std::string& option, const std::string& value, int64_t min, int64_t max,
              int64_t* out) {
    if (!ParseBoundedInt(value, min, max, out)) {
      Fail("bad value '" + value + "' for " + option + ": expected a whole number from " +
           std::to_string(min) + " to " + std::to_string(max));
    }
  }

  void SetDuration(const std::string& option, const std::string& value, int64_t* out_ms) {
    std::string error;
    if (!ParseDuration(value, out_ms, &error)) Fail(option + ": " + error);
  }

  // -w VALUE, --timeout VALUE, --wait=VALUE: wait up to VALUE.
  void WaitUpTo(const std::string& typed, const std::string& value) {
    SetDuration(typed, value, &options_.wait_ms);
    options_.wait = true;
    options_.wait_option = typed + (typed == "--wait" ? "=" : " ") + value;
  }

  // --wait without '=': no limit. A duration after it is refused, because
  // flock(1) users mean a limit (its --wait takes one) and everyone else
  // means a lock of that name: the word is ambiguous either way.
  void WaitForever() {
    if (index_ < args_.size() && !args_[index_].empty() && args_[index_][0] != '-') {
      const std::string& next = args_[index_];
      int64_t ignored_ms = 0;
      std::string ignored_error;
      if (ParseDuration(next, &ignored_ms, &ignored_error)) {
        Fail("'--wait " + next + "' is ambiguous: for a time limit write --wait=" + next +
             " or -w " + next + "; to wait with no limit for a lock named '" + next +
             "', put the name first: onlyone " + next + " --wait -- COMMAND");
        return;
      }
    }
    options_.wait = true;
    options_.wait_ms = kWaitForever;
    options_.wait_option = "--wait";
  }

  void LongOption(const std::string& arg) {
    const size_t equals = arg.find('=');
    const bool has_inline = equals != std::string::npos;
    const std::string option = arg.substr(0, equals);
    const std::string inline_value = has_inline ? arg.substr(equals + 1) : "";
    if (option == "--wait") {
      if (has_inline) {
        WaitUpTo("--wait", inline_value);
      } else {
        WaitForever();
      }
    } else if (!LongFlag(option, has_inline) &&
               !LongOptionWithValue(option, has_inline, inline_value)) {
      Fail("unknown option '" + option + "'" + kSeeHelp);
    }
  }

  // A long option that takes no value. false: not one of them.
  bool LongFlag(const std::string& option, bool has_inline) {
    auto flag = [&](bool* target) {
      if (has_inline) {
        Fail("option " + option + " takes no value");
      } else {
        *target = true;
      }
    };
    if (option == "--help") {
      options_.mode = Mode::kHelp;
    } else if (option == "--version") {
      options_.mode = Mode::kVersion;
    } else if (option == "--nonblock" || option == "--nonblocking" || option == "--nb") {
      flag(&options_.nonblock);  // all of flock(1)'s spellings
    } else if (option == "--shared-dir") {
      flag(&options_.shared_dir);
    } else if (option == "--replace") {
      flag(&options_.replace);
    } else if (option == "--json") {
      flag(&options_.json);
    } else if (option == "--verbose") {
      if (has_inline) Fail("option --verbose takes no value");
      options_.verbosity = Verbosity::kVerbose;
    } else if (option == "--quiet") {
      if (has_inline) Fail("option --quiet takes no value");
      options_.verbosity = Verbosity::kQuiet;
    } else {
      return false;
    }
    return true;
  }

  // A long option that requires a value (after '=' or as the next argument).
  // false: not one of them.
  bool LongOptionWithValue(const std::string& option, bool has_inline,
                           const std::string& inline_value) {
    std::string value;
    if (option == "--timeout") {
      if (TakeValue(option, has_inline, inline_value, &value)) WaitUpTo("--timeout", value);
    } else if (option == "--conflict-exit-code") {
      int64_t code = 0;
      if (TakeValue(option, has_inline, inline_value, &value)) SetInt(option, value, 0, 255, &code);
      options_.conflict_exit_code = static_cast<int>(code);
    } else if (option == "--slots") {
      int64_t slots = 1;
      if (TakeValue(option, has_inline, inline_value, &value)) {
        SetInt(option, value, 1, kSlotsMax, &slots);
      }
      options_.slots = static_cast<uint32_t>(slots);
    } else if (option == "--dir") {
      if (TakeValue(option, has_inline, inline_value, &value)) {
        if (value.empty()) Fail("--dir needs a directory, not an empty string");
        options_.dir = value;
      }
    } else if (option == "--grace") {
      if (TakeValue(option, has_inline, inline_value, &value)) {
        SetDuration("--grace", value, &options_.grace_ms);
        options_.grace_given = true;
      }
    } else if (option == "--zk") {
      if (TakeValue(option, has_inline, inline_value, &value)) {
        if (value.empty()) Fail("--zk needs a connect string: HOST:PORT[,HOST:PORT...][/chroot]");
        options_.zk = value;
      }
    } else if (option == "--zk-path") {
      if (TakeValue(option, has_inline, inline_value, &value)) {
        if (value.empty() || value[0] != '/' || value == "/") {
          Fail("--zk-path needs an absolute node path below the root, e.g. /app/locks/backup");
        }
        options_.zk_path = value;
      }
    } else if (option == "--zk-session-timeout") {
      if (TakeValue(option, has_inline, inline_value, &value)) {
        SetDuration("--zk-session-timeout", value, &options_.zk_session_timeout_ms);
        if (!failed_ && options_.zk_session_timeout_ms <= 0) {
          Fail("--zk-session-timeout must be longer than 0");
        }
      }
    } else {
      return false;
    }
    return true;
  }

  // "-v", "-q", "-n", "-vq", "-E 3", "-E3", "-w 0.5", "-w0.5", "-h", "-V".
  void ShortOptions(const std::string& arg) {
    for (size_t i = 1; i < arg.size() && !failed_; ++i) {
      const char letter = arg[i];
      if (letter == 'w') {
        std::string value;
        if (TakeValue("-w", i + 1 < arg.size(), arg.substr(i + 1), &value)) WaitUpTo("-w", value);
        return;
      }
      if (letter == 'n') {
        options_.nonblock = true;
      } else if (letter == 'v') {
        options_.verbosity = Verbosity::kVerbose;
      } else if (letter == 'q') {
        options_.verbosity = Verbosity::kQuiet;
      } else if (letter == 'h') {
        options_.mode = Mode::kHelp;
      } else if (letter == 'V') {
        options_.mode = Mode::kVersion;
      } else if (letter == 'E') {
        const bool has_inline = i + 1 < arg.size();
        std::string value;
        int64_t code = 0;
        if (TakeValue("-E", has_inline, arg.substr(i + 1), &value)) {
          SetInt("-E", value, 0, 255, &code);
        }
        options_.conflict_exit_code = static_cast<int>(code);
        return;
      } else {
        Fail("unknown option '-" + std::string(1, letter) + "'" + kSeeHelp);
      }
    }
  }

  const std::vector<std::string>& args_;
  size_t index_ = 0;
  bool separator_seen_ = false;
  bool failed_ = false;
  std::vector<std::string> positionals_;
  Options options_;
  ParseResult result_;
};

}  // namespace

ParseResult ParseArgs(const std::vector<std::string>& args) { return Parser(args).Run(); }

std::string ChooseLockDirectory(const std::string& flag_dir, const char* env_dir) {
  if (!flag_dir.empty()) return flag_dir;
  if (env_dir != nullptr && env_dir[0] != '\0') return env_dir;
  return "";
}

std::string ChooseZkConnect(const std::string& flag_zk, const char* env_onlyone_zk,
                            const char* env_zkhosts) {
  if (!flag_zk.empty()) return flag_zk;
  if (env_onlyone_zk != nullptr && env_onlyone_zk[0] != '\0') return env_onlyone_zk;
  if (env_zkhosts != nullptr && env_zkhosts[0] != '\0') return env_zkhosts;
  return "";
}

std::string DescribeWaiting(const Options& options, const std::string& name) {
  const std::string quoted = "'" + name + "'";
  if (options.replace) return "taking " + quoted + " over from its holder, if any (--replace)";
  if (options.nonblock && !options.wait_option.empty()) {
    return "not waiting for " + quoted + ": -n overrides " + options.wait_option;
  }
  if (!options.wait) return "not waiting for " + quoted + " (no --wait or -w): trying once";
  if (options.wait_ms == kWaitForever) return "waiting for " + quoted + " with no time limit";
  if (options.wait_ms == 0) return "not waiting for " + quoted + " (" + options.wait_option + ")";
  return "waiting up to " + FormatDurationExact(options.wait_ms) + " for " + quoted;
}

std::string UsageText() {
  return R"(Usage:
  onlyone [OPTIONS] NAME -- COMMAND [ARG...]
  onlyone [OPTIONS] -- COMMAND [ARG...]     NAME from the exact command line
  onlyone [OPTIONS] status [--json] [NAME]  holders and waiters

Runs COMMAND while holding the lock NAME: at most one copy (or --slots N copies)
runs at a time. By default, if the lock is held, exits at once with code 75 and
one line naming the holder.

Options:
  -n, --nonblock             exit at once if the lock is held (the default);
                             wins over -w and --wait in any order (flock(1))
  -w, --timeout SECONDS      wait for the lock up to SECONDS, a DURATION (30,
                             0.5, 250ms, 5m); not acquired in time: 75
      --wait[=DURATION]      wait for the lock, forever or up to DURATION; note
                             the '=': '--wait 30' is refused as ambiguous
  -E, --conflict-exit-code N exit with N (0-255) instead of 75 when not acquired
      --slots N              at most N holders at once (default 1)
      --dir DIR              lock directory (default: $ONLYONE_DIR, else
                             /run/onlyone for root, $XDG_RUNTIME_DIR/onlyone,
                             else ~/.cache/onlyone); if others can write to
                             it, it must be sticky, like /tmp
      --shared-dir           DIR is shared by several users (sticky, like /tmp)
      --replace              stop the current holder (SIGTERM, grace, SIGKILL)
                             and take over; local holders only
      --grace DURATION       time between SIGTERM and SIGKILL when stopping a
                             command (default 10s; see --zk-session-timeout)
      --zk HOST:PORT[,HOST:PORT...][/chroot]
                             distributed mode: the lock is on this ZooKeeper
                             ensemble (else $ONLYONE_ZK, else $ZKHOSTS), at
                             /onlyone/locks/NAME; kazoo and Curator locks on
                             the same path exclude with it
      --zk-path PATH         ZooKeeper: the lock's node path instead
      --zk-session-timeout DURATION
                             ZooKeeper session timeout (default 30s); the
                             command is stopped once the ensemble has been out
                             of reach for this minus --grace minus 2s. If the
                             server grants less and neither option is given,
                             the grace is lowered to fit (-v says so)
      --json                 status: print JSON
  -v, --verbose              say what happens (waiting, acquired, fence, exit)
  -q, --quiet                no conflict line, no waiting status line
  -h, --help                 this text
  -V, --version              version

DURATION: seconds (30, 0.5) or numbers with units, largest first (250ms,
1.5s, 5m, 1h30m, 2d); only the last number may have a fraction; rounded up
to a whole millisecond; at most 1000d.

The command gets ONLYONE_NAME and ONLYONE_FENCE (a token larger than every
earlier holder's) in its environment. Signals sent to onlyone are forwarded to
it. If onlyone is killed, the command is killed too; if the lock is lost, the
command is stopped (SIGTERM, grace, SIGKILL) and onlyone exits 69.

Exit status: the command's status (128+N if killed by signal N); 75 not
acquired; 64 usage error; 65 unreadable lock data; 69 lock lost; 70 internal
error; 71 system error; 73 unsafe or unwritable lock directory; 74 I/O error;
68 ZooKeeper ensemble unreachable; 77 ZooKeeper refused access; 78 ZooKeeper
chroot missing or session timeout too short; 126 command not executable; 127
command not found.
See onlyone(1).
)";
}

}  // namespace cli
}  // namespace onlyone
