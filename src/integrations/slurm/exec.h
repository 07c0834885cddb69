// Runs one command-line program to completion: fork/exec with the arguments as argv (never a
// shell), stdin from /dev/null, stdout and stderr captured through pipes, and a deadline after
// which the child's process group is SIGKILLed. Safe to call from several threads at once.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gantry::slurm {

struct ExecRequest {
  std::vector<std::string> argv;  // argv[0]: a path, or a name searched in the PATH of `env`
  // The child's environment: this process's, with these entries set over it. An entry whose
  // value is std::nullopt removes that variable.
  std::map<std::string, std::optional<std::string>> env;
  std::chrono::milliseconds timeout{10'000};
  size_t max_output = 64u << 20;  // bytes of stdout+stderr; more kills the child
};

struct ExecResult {
  enum class Outcome {
    kExited,    // exit_code is valid (128+N when killed by signal N)
    kTimedOut,  // killed at the deadline
    kTooMuchOutput,
    kNotFound,     // the program does not exist or cannot be executed
    kSpawnFailed,  // pipe/fork failed (message in error)
  };
  Outcome outcome = Outcome::kSpawnFailed;
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string error;  // for kNotFound / kSpawnFailed
  std::chrono::milliseconds elapsed{0};
};

ExecResult Exec(const ExecRequest& request);

// The path execve() would run for `name` given a PATH value ("" when none is executable).
std::string FindProgram(const std::string& name, const std::string& path_var);

}  // namespace gantry::slurm
