#include "tests/posix/process_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "core/names.h"

namespace onlyone {
namespace testing_posix {

namespace {
long long NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
}  // namespace

std::string MakeScratchDir(const char* prefix) {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(&pattern[0]) == nullptr) return "";
  return pattern;
}

std::string ContenderPath() {
  char resolved[PATH_MAX];
  if (realpath("tests/posix/contender_main", resolved) == nullptr) return "";
  return resolved;
}

std::vector<std::string> NamesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* stream = opendir(dir.c_str());
  if (stream == nullptr) return names;
  while (struct dirent* entry = readdir(stream)) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
      names.push_back(entry->d_name);
  }
  closedir(stream);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> FreeLockNames(uint64_t fence) {
  FixedBytes<kNameBytesMax> counter;
  FenceCounterName(fence, &counter);
  return {std::string(counter.data, counter.size),
          std::string(FormatMarkerName().data, FormatMarkerName().size)};
}

std::vector<std::string> NamesWithAnyCounter(const std::string& dir) {
  std::vector<std::string> names = NamesIn(dir);
  for (std::string& name : names) {
    const Bytes view{name.data(), static_cast<uint32_t>(name.size())};
    if (ParseName(view).kind == NameKind::kFenceCounter) name = "fence.<N>";
  }
  std::sort(names.begin(), names.end());
  return names;
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  // A failed fork must stop the test here: -1 handed to kill() by a caller
  // would signal every process we may signal (as root: the whole machine).
  if (pid < 0) {
    perror("fork");
    abort();
  }
  if (pid != 0) return pid;
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  _exit(127);
}

int ExitCode(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

ShellResult RunShell(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env) {
  ShellResult result;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  const long long deadline = NowMs() + kRunTimeoutMs;
  char buffer[4096];
  bool timed_out = false;
  for (;;) {
    const long long left = deadline - NowMs();
    if (left <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    struct pollfd fd = {out[0], POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  close(out[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  result.exit_code = timed_out ? 124 : ExitCode(wstatus);
  return result;
}

std::string ReadFile(const std::string& path) {
  std::string text;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  close(fd);
  return text;
}

bool WaitForText(const std::string& path, const std::string& text, int timeout_ms) {
  const long long deadline = NowMs() + timeout_ms;
  while (NowMs() < deadline) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    usleep(20 * 1000);
  }
  return false;
}

}  // namespace testing_posix
}  // namespace onlyone
