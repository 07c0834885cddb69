// Sub-command registration. Each Register* adds its sub-commands to the CLI11 app; a command's
// callback does its work and throws CLI::RuntimeError(exit_code) on failure after printing a
// one-line error to stderr. Exit codes are listed in kExit*.
#pragma once

#include <CLI/CLI.hpp>

namespace gantry::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;        // anything else
inline constexpr int kExitUsage = 2;        // bad flags or arguments (CLI11's own)
inline constexpr int kExitAuth = 3;         // 401/403: log in again or ask for a role
inline constexpr int kExitNotFound = 4;     // 404
inline constexpr int kExitConflict = 5;     // 409
inline constexpr int kExitUnavailable = 6;  // server or database not reachable, 5xx
inline constexpr int kExitInvalid = 7;      // 400/413/415: the request was refused as invalid
inline constexpr int kExitVerifyFailed = 8; // audit verify found tampering

void RegisterServe(CLI::App& app);
void RegisterAdmin(CLI::App& app);
void RegisterAgent(CLI::App& app);  // cmd_agent.cc
void RegisterClientCommands(CLI::App& app);

// Prints "gantry: <message>" to stderr and throws CLI::RuntimeError(code).
[[noreturn]] void Fail(int code, const std::string& message);

}  // namespace gantry::app
