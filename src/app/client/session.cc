#include "app/client/session.h"

#include "app/commands.h"

namespace gantry::app::client {

void AddGlobalFlags(CLI::App* cmd, GlobalFlags& flags, bool output_format) {
  const std::string group = "Connection";
  cmd->add_option("--server", flags.server,
                  "Server URL (env GANTRY_SERVER, then the config file; default " +
                      std::string(kDefaultServer) + ")")
      ->group(group);
  cmd->add_option("--token", flags.token,
                  "API token (env GANTRY_TOKEN, then the config file written by 'gantry login')")
      ->group(group);
  if (output_format) {
    cmd->add_option("-o,--output", flags.output, "Output format: table or json")
        ->check(CLI::IsMember({"table", "json"}))
        ->group(group);
  }
  cmd->add_option("--ca-file", flags.ca_file,
                  "PEM file with the CA that signed the server's certificate")
      ->check(CLI::ExistingFile)
      ->group(group);
  cmd->add_flag("--insecure", flags.insecure,
                "Do not verify the server's TLS certificate (unsafe; for test set-ups only)")
      ->group(group);
  cmd->add_option("--timeout", flags.timeout_s, "Seconds to wait for each answer (default 30)")
      ->check(CLI::Range(1, 3600))
      ->group(group);
}

int ExitCodeFor(core::Code code) {
  using core::Code;
  switch (code) {
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
      return kExitAuth;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return kExitConflict;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
      return kExitUnavailable;
    case Code::kInvalidArgument:
    case Code::kTooLarge:
    case Code::kUnsupportedMedia:
      return kExitInvalid;
    default:
      return kExitError;
  }
}

std::string ErrorText(const core::Error& error, const std::string& server, bool sent_token) {
  if (error.code != core::Code::kUnauthenticated) return error.message;
  if (!sent_token) return "not logged in to " + server + ": run 'gantry login' or set GANTRY_TOKEN";
  return error.message + "; run 'gantry login'";
}

void FailWith(const core::Error& error) { app::Fail(ExitCodeFor(error.code), error.message); }

std::unique_ptr<Session> Session::Open(const GlobalFlags& flags, const Io& io) {
  return Open(flags, io, Options{});
}

std::unique_ptr<Session> Session::Open(const GlobalFlags& flags, const Io& io,
                                       const Options& session_options) {
  auto path = ConfigPath(io.env);
  ConfigFile file;
  if (path) {
    auto loaded = LoadConfig(*path);
    if (!loaded) FailWith(loaded.error());
    file = std::move(*loaded);
  }
  auto format = ParseOutputFormat(flags.output);
  if (!format) FailWith(format.error());
  auto conn = ResolveConnection({flags.server, flags.token, flags.ca_file}, io.env, file);
  if (!conn) FailWith(conn.error());
  if (session_options.anonymous) {
    conn->token.clear();
    conn->token_source.clear();
  }

  ClientOptions options;
  options.server = conn->server;
  options.token = conn->token;
  options.ca_file = conn->ca_file;
  options.insecure = flags.insecure;
  options.timeout = std::chrono::seconds(flags.timeout_s);
  options.connect_timeout =
      std::min<std::chrono::milliseconds>(options.connect_timeout, options.timeout);
  options.cancel = session_options.cancel;
  auto api = ApiClient::Make(std::move(options));
  if (!api) FailWith(api.error());

  std::unique_ptr<Session> s(new Session(io, std::move(*api)));
  s->connection_ = std::move(*conn);
  if (path) s->config_path_ = std::move(*path);
  s->config_ = std::move(file);
  s->format_ = *format;
  return s;
}

void Session::Fail(const core::Error& error) const {
  app::Fail(ExitCodeFor(error.code),
            ErrorText(error, connection_.server, !connection_.token.empty()));
}

void Session::PrintJson(const core::json::value& v) const { out() << PrettyJson(v); }

}  // namespace gantry::app::client
