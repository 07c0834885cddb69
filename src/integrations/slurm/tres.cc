#include "integrations/slurm/tres.h"

#include <limits>

namespace gantry::slurm {

namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A GPU model or similar: [a-z0-9._-]{1,64}, starting with a letter or digit.
bool IsValidModel(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || IsDigit(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

core::Error Bad(std::string msg) { return core::InvalidArgument(std::move(msg)); }

// "1", "1.5", with an optional K/M/G/T/P suffix for sizes. Returns bytes for sizes, the count
// otherwise.
core::Result<int64_t> ParseAmount(std::string_view name, std::string_view v) {
  const bool size = IsSizeTres(name);
  std::string ctx = "TRES " + std::string(name) + "=" + std::string(v);
  if (v.empty()) return Bad(ctx + ": empty amount");
  size_t i = 0;
  __int128 mantissa = 0;
  int frac_digits = 0;
  bool any = false;
  while (i < v.size() && IsDigit(v[i])) {
    mantissa = mantissa * 10 + (v[i] - '0');
    if (mantissa > std::numeric_limits<int64_t>::max()) return Bad(ctx + ": amount too large");
    ++i;
    any = true;
  }
  if (!any) return Bad(ctx + ": not a non-negative integer");
  if (i < v.size() && v[i] == '.') {
    if (!size) return Bad(ctx + ": a count must be an integer");
    ++i;
    bool frac = false;
    while (i < v.size() && IsDigit(v[i])) {
      if (frac_digits < 12) {
        mantissa = mantissa * 10 + (v[i] - '0');
        ++frac_digits;
      }
      ++i;
      frac = true;
    }
    if (!frac) return Bad(ctx + ": digits expected after '.'");
  }
  int shift = 20;  // sizes without a unit are MiB
  if (i < v.size()) {
    if (!size) return Bad(ctx + ": a count takes no unit");
    switch (v[i]) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      case 'P':
      case 'p':
        shift = 50;
        break;
      default:
        return Bad(ctx + ": unknown unit '" + std::string(1, v[i]) + "'");
    }
    ++i;
    if (i != v.size()) return Bad(ctx + ": trailing characters after the unit");
  }
  __int128 value = mantissa;
  if (size) {
    if (value >= ((__int128{1} << 120) >> shift)) return Bad(ctx + ": amount too large");
    value <<= shift;
  }
  for (int k = 0; k < frac_digits; ++k) value /= 10;
  if (value > std::numeric_limits<int64_t>::max()) return Bad(ctx + ": amount too large");
  return static_cast<int64_t>(value);
}

}  // namespace

bool IsValidTresName(std::string_view name) {
  if (name.empty() || name.size() > 128 || !IsAlnum(name[0])) return false;
  for (char c : name) {
    if (!(IsAlnum(c) || c == '_' || c == '.' || c == '/' || c == ':' || c == '-')) return false;
  }
  return true;
}

bool IsSizeTres(std::string_view name) {
  return name == "mem" || name.starts_with("bb/") || name.starts_with("fs/");
}

core::Result<TresMap> ParseTres(std::string_view text) {
  TresMap out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(',', start);
    std::string_view item = text.substr(start, end == std::string_view::npos ? end : end - start);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Bad("TRES list '" + std::string(text) + "': item '" + std::string(item) +
                 "' is not name=amount");
    }
    std::string_view name = item.substr(0, eq);
    if (!IsValidTresName(name)) {
      return Bad("TRES list '" + std::string(text) + "': invalid TRES name '" + std::string(name) +
                 "'");
    }
    auto amount = ParseAmount(name, item.substr(eq + 1));
    if (!amount) return amount.error();
    if (!out.emplace(std::string(name), *amount).second) {
      return Bad("TRES list '" + std::string(text) + "': " + std::string(name) + " appears twice");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string FormatTres(const TresMap& tres) {
  std::string out;
  for (const auto& [name, value] : tres) {
    if (!out.empty()) out += ',';
    out += name;
    out += '=';
    if (value < 0) {
      out += "-1";
    } else if (IsSizeTres(name)) {
      out += std::to_string(value / kMiB) + "M";
    } else {
      out += std::to_string(value);
    }
  }
  return out;
}

TresMap NormalizeTres(const TresMap& tres) {
  TresMap out = tres;
  for (auto& [name, value] : out) {
    if (IsSizeTres(name) && value > 0) value = value / kMiB * kMiB;
  }
  return out;
}

core::Result<std::string> ToSlurmTresName(std::string_view g) {
  if (g == "cpu") return std::string("cpu");
  if (g == "memory") return std::string("mem");
  if (g == "nodes") return std::string("node");
  if (g == "gpu") return std::string("gres/gpu");
  if (g.starts_with("gpu/")) {
    std::string_view model = g.substr(4);
    if (!IsValidModel(model)) {
      return core::InvalidArgument("resource '" + std::string(g) +
                                   "': a GPU model is [a-z0-9._-]{1,64}");
    }
    return "gres/gpu:" + std::string(model);
  }
  return core::InvalidArgument("resource '" + std::string(g) +
                               "' has no Slurm TRES; valid: cpu, memory, nodes, gpu, gpu/<model>");
}

core::Result<TresMap> ToSlurmTres(const std::map<std::string, int64_t>& gantry,
                                  std::vector<std::string>* unmapped) {
  TresMap out;
  for (const auto& [name, amount] : gantry) {
    auto slurm_name = ToSlurmTresName(name);
    if (!slurm_name) {
      if (unmapped && !name.starts_with("gpu/")) {
        unmapped->push_back(name);
        continue;
      }
      return slurm_name.error();
    }
    if (amount < 0) {
      return core::InvalidArgument("resource '" + name + "': amount must not be negative");
    }
    int64_t value = *slurm_name == "mem" ? amount / kMiB * kMiB : amount;
    if (!out.emplace(*slurm_name, value).second) {
      return core::InvalidArgument("resource '" + name + "' maps to " + *slurm_name + " twice");
    }
  }
  return out;
}

std::map<std::string, int64_t> FromSlurmTres(const TresMap& tres,
                                             std::vector<std::string>* unmapped) {
  std::map<std::string, int64_t> out;
  for (const auto& [name, amount] : tres) {
    std::string g;
    if (name == "cpu") {
      g = "cpu";
    } else if (name == "mem") {
      g = "memory";
    } else if (name == "node") {
      g = "nodes";
    } else if (name == "gres/gpu") {
      g = "gpu";
    } else if (name.starts_with("gres/gpu:") && IsValidModel(std::string_view(name).substr(9))) {
      g = "gpu/" + name.substr(9);
    }
    if (g.empty()) {
      if (unmapped) unmapped->push_back(name);
      continue;
    }
    out[g] = amount;
  }
  return out;
}

}  // namespace gantry::slurm
