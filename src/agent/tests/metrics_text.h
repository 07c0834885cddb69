// Test helpers over a scraped exposition: find a sample by name and labels.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace gantry::agent::testing {

// The value of the first sample named `name` whose labels include every pair of `labels`.
std::optional<double> Find(const std::string& text, const std::string& name,
                           const std::map<std::string, std::string>& labels = {});
// How many samples are named `name` (exactly).
int Count(const std::string& text, const std::string& name);

}  // namespace gantry::agent::testing
