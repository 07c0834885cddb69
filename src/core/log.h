// Logging set-up: spdlog, text or JSON lines on stderr. Secrets must never reach a log call:
// log identifiers (user name, token id), never passwords or token values.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace gantry::core {

enum class LogFormat { kText, kJson };

// Configures the default logger. level: trace|debug|info|warn|error.
void InitLogging(std::string_view level, LogFormat format);

}  // namespace gantry::core
