// Helpers shared by the client tests: a fake environment, a temporary directory, and RunCli,
// which runs `gantry <args>` in process against string streams and reports the exit code.
#pragma once

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "app/client/config.h"

namespace gantry::app::testing {

client::EnvLookup MapEnv(std::map<std::string, std::string> vars);

// A fresh directory under $TMPDIR (or /tmp), removed with its content at the end of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CliResult {
  int exit_code = 0;
  std::string out;
  std::string err;  // what the commands wrote to stderr, then the "gantry: ..." line of Fail
};

// Runs the client commands as `gantry args...` with `env` as the whole environment, `input` as
// stdin, and stdout/stdin not terminals.
CliResult RunCli(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::string& input = "");

}  // namespace gantry::app::testing
