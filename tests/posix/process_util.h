// Helpers for tests that run real processes: scratch directories, spawning
// with output to a log, running a command and capturing its output.
#ifndef ONLYONE_TESTS_POSIX_PROCESS_UTIL_H_
#define ONLYONE_TESTS_POSIX_PROCESS_UTIL_H_

#include <stdint.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace onlyone {
namespace testing_posix {

// A fresh directory under $TEST_TMPDIR; "" on failure.
std::string MakeScratchDir(const char* prefix);
// Absolute path of tests/posix/contender_main in the runfiles; "" if missing.
std::string ContenderPath();
// Sorted names in `dir` (without "." and ".."); empty if it cannot be read.
std::vector<std::string> NamesIn(const std::string& dir);
// What a lock directory that nobody holds any more must hold: the fence
// counter at `fence` and the format marker (core/names.h), sorted as NamesIn.
std::vector<std::string> FreeLockNames(uint64_t fence);
// NamesIn, with the one fence counter, whatever its token, spelled
// "fence.<N>": for runs whose number of acquisitions is not known.
std::vector<std::string> NamesWithAnyCounter(const std::string& dir);
// fork + execvp(args), stdout and stderr appended to `log`. Returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log);
// The exit code of a waitpid status; 128 + signal if killed.
int ExitCode(int wstatus);

struct ShellResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// Runs `args` with extra environment variables, waits at most
// kRunTimeoutMs (then kills it: exit_code 124), and captures its output.
constexpr int kRunTimeoutMs = 60000;
ShellResult RunShell(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env);
// Polls `path` until it contains `text`, at most timeout_ms.
bool WaitForText(const std::string& path, const std::string& text, int timeout_ms);
// Whole contents of a file, "" if unreadable.
std::string ReadFile(const std::string& path);

}  // namespace testing_posix
}  // namespace onlyone

#endif  // ONLYONE_TESTS_POSIX_PROCESS_UTIL_H_
