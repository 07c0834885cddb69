// Child processes for tests: start a program with arguments and environment, its stdout and
// stderr going to a log file; signal it, wait for it with a deadline. Also: free TCP ports.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gantry::testing {

struct SpawnOptions {
  std::vector<std::string> args;              // args[0] is the program path
  std::map<std::string, std::string> env;     // added to the current environment
  std::string log_file;                       // stdout+stderr; empty: inherit
  std::string stdin_data;                     // written to the child's stdin, then closed
  std::optional<std::string> run_as_user;     // setuid/setgid to this user (when root)
  std::string cwd;
};

class Process {
 public:
  static Process Spawn(const SpawnOptions& options);  // throws std::runtime_error on failure
  Process() = default;
  Process(Process&& o) noexcept;
  Process& operator=(Process&& o) noexcept;
  ~Process();  // SIGKILLs and reaps a child still running

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Exit status (or 128+signal); nullopt if it did not exit within `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion; returns exit status and combined output.
struct RunResult {
  int status = -1;
  std::string output;
};
RunResult Run(const std::vector<std::string>& args, const std::string& stdin_data = {},
              std::chrono::seconds timeout = std::chrono::seconds(60),
              const std::map<std::string, std::string>& env = {});

int FreePort();
std::string ReadFile(const std::string& path);

}  // namespace gantry::testing
