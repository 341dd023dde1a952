// The backends the command can run under, and the one place that chooses
// between them: a ZooKeeper ensemble when a connect string is given (--zk,
// $ONLYONE_ZK, $ZKHOSTS), else a lock directory on this host. Each kind
// knows its options, builds its Backend (platform/backend.h) and runs
// `status`; everything else in the command is written once, against Backend.
#ifndef ONLYONE_CLI_BACKENDS_H_
#define ONLYONE_CLI_BACKENDS_H_

#include <stdint.h>

#include <memory>
#include <string>

#include "cli/args.h"
#include "platform/backend.h"

namespace onlyone {
namespace cli {

class BackendKind {
 public:
  virtual ~BackendKind() = default;
  // The usage error of options that make no sense for this backend, or "".
  virtual std::string Conflict(const Options& options) const = 0;
  // The lock this run takes. Called once, after the signal relay is set up.
  virtual std::unique_ptr<Backend> Make(const Options& options) const = 0;
  // `onlyone status [--json] [NAME]`: prints the listing, returns the exit code.
  virtual int RunStatus(const Options& options) const = 0;
  // For -v once acquired, when the stop margin in force is not --grace:
  // why (the backend fitted it to what it was granted).
  virtual std::string DescribeFit(const Backend& backend, const Options& options) const {
    (void)backend;
    (void)options;
    return "";
  }
};

std::unique_ptr<BackendKind> ChooseBackend(const Options& options);

// What the command's messages compare holders against.
std::string LocalHostName();
uint64_t WallClockMs();  // ms since the epoch

// After a failed acquire other than busy: prints why (one line, what to do)
// and returns the exit code.
int ReportFailure(const Backend& lock);

}  // namespace cli
}  // namespace onlyone

#endif  // ONLYONE_CLI_BACKENDS_H_
