// What every client command shares: the connection flags (--server, --token, -o, --insecure,
// --ca-file, --timeout), the Session they resolve to (connection, ApiClient, output format), and
// the one way a command fails: a line "gantry: <message>" on stderr and an exit code that
// follows the error (see ExitCodeFor).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "app/client/api_client.h"
#include "app/client/config.h"
#include "app/client/output.h"
#include "app/client/terminal.h"
#include "core/error.h"

namespace gantry::app::client {

// Exit code after Ctrl-C (128 + SIGINT), as shells report it.
inline constexpr int kExitInterrupted = 130;

struct GlobalFlags {
  std::string server;
  std::string token;
  std::string output = "table";
  std::string ca_file;
  bool insecure = false;
  int timeout_s = 30;
};

// Adds the connection and output flags to one command, in a "Connection" help group. Without
// `output_format` the command has no -o/--output (it uses -o for something else, e.g. a file).
void AddGlobalFlags(CLI::App* cmd, GlobalFlags& flags, bool output_format = true);

// Exit code for an error: 401/403 kExitAuth, 404 kExitNotFound, 409 kExitConflict,
// unreachable/5xx/timeouts kExitUnavailable, 400/413/415 kExitInvalid, else kExitError.
int ExitCodeFor(core::Code code);

// The message printed after "gantry: ". A 401 gets the hint "run 'gantry login'"; when no
// token was sent at all, the message says that nobody is logged in to `server`.
std::string ErrorText(const core::Error& error, const std::string& server, bool sent_token);

// Prints the error and throws CLI::RuntimeError with its exit code (through app::Fail).
[[noreturn]] void FailWith(const core::Error& error);

// One command's connection to the server, resolved from flags, environment and config file.
class Session {
 public:
  struct Options {
    // When given, a request in flight is aborted once it becomes true.
    const std::atomic<bool>* cancel = nullptr;
    // Send no token (login).
    bool anonymous = false;
  };

  // Resolves the connection and builds the ApiClient; on failure prints and exits (FailWith).
  static std::unique_ptr<Session> Open(const GlobalFlags& flags, const Io& io);
  static std::unique_ptr<Session> Open(const GlobalFlags& flags, const Io& io,
                                       const Options& options);

  ApiClient& api() { return api_; }
  const Connection& connection() const { return connection_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const ConfigFile& config() const { return config_; }
  OutputFormat format() const { return format_; }
  bool json() const { return format_ == OutputFormat::kJson; }
  const Io& io() const { return io_; }
  std::ostream& out() const { return *io_.out; }
  std::ostream& err() const { return *io_.err; }

  // Returns the value, or fails the command with ErrorText/ExitCodeFor.
  template <class T>
  T Check(core::Result<T> r) const {
    if (!r) Fail(r.error());
    return std::move(*r);
  }
  void Check(const core::Status& s) const {
    if (!s) Fail(s.error());
  }
  [[noreturn]] void Fail(const core::Error& error) const;

  // Prints `v` pretty-printed (for -o json).
  void PrintJson(const core::json::value& v) const;

 private:
  Session(const Io& io, ApiClient api) : io_(io), api_(std::move(api)) {}

  Io io_;
  ApiClient api_;
  Connection connection_;
  std::filesystem::path config_path_;
  ConfigFile config_;
  OutputFormat format_ = OutputFormat::kTable;
};

}  // namespace gantry::app::client
