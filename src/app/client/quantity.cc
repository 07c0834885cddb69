#include "app/client/quantity.h"

#include <cctype>
#include <charconv>

namespace gantry::app::client {

namespace {

constexpr int64_t kMax = int64_t{1} << 60;

struct UnitDef {
  std::string_view name;
  int64_t factor;
};

constexpr UnitDef kUnits[] = {
    {"", 1},           {"B", 1},
    {"K", 1000},       {"KB", 1000},       {"k", 1000},        {"kB", 1000},
    {"M", 1000000},    {"MB", 1000000},    {"G", 1000000000},  {"GB", 1000000000},
    {"T", 1000000000000},                  {"TB", 1000000000000},
    {"P", 1000000000000000},               {"PB", 1000000000000000},
    {"Ki", int64_t{1} << 10},              {"KiB", int64_t{1} << 10},
    {"Mi", int64_t{1} << 20},              {"MiB", int64_t{1} << 20},
    {"Gi", int64_t{1} << 30},              {"GiB", int64_t{1} << 30},
    {"Ti", int64_t{1} << 40},              {"TiB", int64_t{1} << 40},
    {"Pi", int64_t{1} << 50},              {"PiB", int64_t{1} << 50},
};

core::Error Bad(std::string_view resource, std::string_view text, std::string_view why) {
  return core::InvalidArgument("'" + std::string(text.substr(0, 64)) + "' is not a valid amount of " +
                               std::string(resource) + ": " + std::string(why));
}

}  // namespace

bool IsByteResource(std::string_view resource) {
  return resource == "memory" || resource == "storage";
}

core::Result<int64_t> ParseQuantity(std::string_view resource, std::string_view text) {
  if (!IsByteResource(resource)) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0 || v > kMax) {
      return Bad(resource, text, "expected a whole number from 0 to 2^60");
    }
    return v;
  }
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  std::string_view whole = text.substr(0, i), fraction;
  if (i < text.size() && text[i] == '.') {
    size_t start = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    fraction = text.substr(start, i - start);
    if (fraction.empty()) return Bad(resource, text, "a digit must follow '.'");
  }
  if (whole.empty()) return Bad(resource, text, "expected a number such as 512GiB or 2TB");
  std::string_view unit = text.substr(i);
  const UnitDef* u = nullptr;
  for (const auto& d : kUnits) {
    if (d.name == unit) u = &d;
  }
  if (!u) return Bad(resource, text, "unknown unit '" + std::string(unit) + "' (use B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB or PiB)");
  if (whole.size() > 19 || fraction.size() > 18) return Bad(resource, text, "too large");
  __int128 w = 0, f = 0, scale = 1;
  for (char c : whole) w = w * 10 + (c - '0');
  for (char c : fraction) {
    f = f * 10 + (c - '0');
    scale *= 10;
  }
  __int128 num = f * u->factor;
  if (num % scale != 0) return Bad(resource, text, "not a whole number of bytes");
  __int128 bytes = w * u->factor + num / scale;
  if (bytes > kMax) return Bad(resource, text, "above 2^60 bytes");
  return static_cast<int64_t>(bytes);
}

std::string FormatQuantity(std::string_view resource, int64_t value) {
  if (!IsByteResource(resource) || value <= 0) return std::to_string(value);
  static constexpr std::string_view kBinary[] = {"PiB", "TiB", "GiB", "MiB", "KiB"};
  int shift = 50;
  for (auto name : kBinary) {
    int64_t f = int64_t{1} << shift;
    if (value % f == 0) return std::to_string(value / f) + std::string(name);
    shift -= 10;
  }
  return std::to_string(value) + "B";
}

}  // namespace gantry::app::client
