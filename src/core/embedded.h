// A file compiled into the binary (migrations, the OpenAPI document).
#pragma once

#include <string_view>

namespace gantry::core {

struct EmbeddedFile {
  std::string_view name;
  std::string_view data;
};

}  // namespace gantry::core
