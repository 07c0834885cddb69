// The client commands of the gantry binary, registered on a CLI11 app. app::RegisterClientCommands
// calls RegisterCommands with the process' terminal; tests pass an Io over string streams.
//
//   login logout whoami token user   commands_core.cc
//   jobs                             commands_jobs.cc
//   audit                            commands_audit.cc
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "app/client/terminal.h"
#include "core/json.h"

namespace gantry::app::client {

using IoPtr = std::shared_ptr<const Io>;

void RegisterCommands(CLI::App& app, IoPtr io);

void RegisterAuthCommands(CLI::App& app, IoPtr io);   // login, logout, whoami
void RegisterTokenCommands(CLI::App& app, IoPtr io);  // token create|list|revoke
void RegisterUserCommands(CLI::App& app, IoPtr io);   // user create|list|show|disable|enable
void RegisterJobCommands(CLI::App& app, IoPtr io);    // jobs list|show|cancel|run|watch
void RegisterAuditCommands(CLI::App& app, IoPtr io);  // audit search

// `jobs run --param key=value ...` → {"key": value}; a value that is a whole number becomes a
// JSON integer, anything else a string. kInvalidArgument on a missing '=' or a repeated key.
core::Result<core::json::object> ParseJobParams(const std::vector<std::string>& pairs);

}  // namespace gantry::app::client
