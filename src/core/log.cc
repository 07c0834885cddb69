#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace gantry::core {

void InitLogging(std::string_view level, LogFormat format) {
  auto logger = spdlog::stderr_logger_mt("gantry");
  if (format == LogFormat::kJson) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace gantry::core
