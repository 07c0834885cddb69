#include "metrics_text.h"

#include <cstdlib>
#include <sstream>

namespace gantry::agent::testing {

namespace {

bool Matches(const std::string& line, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  if (line.compare(0, name.size(), name) != 0) return false;
  if (line.size() <= name.size() || (line[name.size()] != '{' && line[name.size()] != ' ')) {
    return false;
  }
  for (const auto& [k, v] : labels) {
    std::string needle = k + "=\"" + v + "\"";
    size_t at = line.find(needle);
    if (at == std::string::npos || (line[at - 1] != '{' && line[at - 1] != ',')) return false;
  }
  return true;
}

}  // namespace

std::optional<double> Find(const std::string& text, const std::string& name,
                           const std::map<std::string, std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (!Matches(line, name, labels)) continue;
    return std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
  }
  return std::nullopt;
}

int Count(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#' && Matches(line, name, {})) ++n;
  }
  return n;
}

}  // namespace gantry::agent::testing
