// Where the client commands find their server URL and token.
//
// Each setting is taken from the first source that has it:
//   1. the flags --server / --token / --ca-file,
//   2. the environment: GANTRY_SERVER / GANTRY_TOKEN,
//   3. the config file written by `gantry login` (ConfigPath), keys `server:` `token:`
//      `token_id:` `username:` `ca_file:`,
//   4. for the server only, kDefaultServer.
// The file's token (and CA file) belong to the file's server: they are used only when the
// resolved server is that server, so `--server https://other` never sends the stored token
// to another host.
//
// The file holds a secret. SaveConfig creates missing directories with mode 0700 and replaces
// the file atomically (temporary file + rename) with mode 0600.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::app::client {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";

struct ConfigFile {
  std::string server;
  std::string username;  // who logged in, for messages only
  std::string token;
  std::optional<int64_t> token_id;  // lets `gantry logout` revoke the token
  std::string ca_file;
};

// Reads one environment variable; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup ProcessEnv();

// $GANTRY_CONFIG, else $XDG_CONFIG_HOME/gantry/config.yaml, else
// $HOME/.config/gantry/config.yaml. Fails when none of the three is set.
core::Result<std::filesystem::path> ConfigPath(const EnvLookup& env);

// A missing file is an empty ConfigFile; a malformed one is kInvalidArgument naming the path.
core::Result<ConfigFile> LoadConfig(const std::filesystem::path& path);
core::Status SaveConfig(const std::filesystem::path& path, const ConfigFile& config);

// Values given on the command line; empty when the flag was not given.
struct ConnectionFlags {
  std::string server;
  std::string token;
  std::string ca_file;
};

struct Connection {
  std::string server;  // normalised: no trailing '/'
  std::string token;   // empty: anonymous
  std::string ca_file;
  std::string server_source;  // "--server", "GANTRY_SERVER", "config file" or "default"
  std::string token_source;   // "--token", "GANTRY_TOKEN", "config file" or "" (none)
};

// Applies the precedence above. Fails only on a malformed server URL.
core::Result<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env,
                                           const ConfigFile& file);

}  // namespace gantry::app::client
