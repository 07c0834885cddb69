#include "cmdb/validate.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

namespace gantry::cmdb {

namespace {

core::Error Bad(std::string_view owner, const AttrDef& def, std::string_view want) {
  return core::InvalidArgument(std::string(owner) + ": attribute '" + def.name + "' must be " +
                                   std::string(want),
                               def.name);
}

std::optional<std::string> NormaliseMac(std::string_view s) {
  std::string hex;
  for (char c : s) {
    if (c == ':' || c == '-' || c == '.') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 12) return std::nullopt;
  std::string out;
  for (int i = 0; i < 6; ++i) {
    if (i) out += ':';
    out += hex.substr(i * 2, 2);
  }
  return out;
}

std::optional<std::string> NormaliseIp(std::string_view s, int family) {
  std::string str(s);
  unsigned char buf[16];
  if (inet_pton(family, str.c_str(), buf) != 1) return std::nullopt;
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, buf, out, sizeof out)) return std::nullopt;
  return std::string(out);
}

std::optional<std::string> NormaliseCidr(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view addr = s.substr(0, slash), len = s.substr(slash + 1);
  int prefix = -1;
  auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (ec != std::errc() || p != len.data() + len.size()) return std::nullopt;
  bool v6 = addr.find(':') != std::string_view::npos;
  if (prefix < 0 || prefix > (v6 ? 128 : 32)) return std::nullopt;
  auto a = NormaliseIp(addr, v6 ? AF_INET6 : AF_INET);
  if (!a) return std::nullopt;
  return *a + "/" + std::to_string(prefix);
}

bool ValidDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y = 0, m = 0, d = 0;
  std::from_chars(s.data(), s.data() + 4, y);
  std::from_chars(s.data() + 5, s.data() + 7, m);
  std::from_chars(s.data() + 8, s.data() + 10, d);
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1];
}

}  // namespace

core::Status ValidateName(std::string_view name, std::string_view what) {
  bool ok = !name.empty() && name.size() <= 200;
  for (char c : name) {
    ok = ok && static_cast<unsigned char>(c) >= 0x20 && c != '/' && c != '\x7f';
  }
  if (!ok || name.front() == ' ' || name.back() == ' ') {
    return core::InvalidArgument(std::string(what) +
                                     " must be 1-200 printable characters without '/' or "
                                     "leading/trailing spaces",
                                 "name");
  }
  return {};
}

core::Result<core::json::value> ValidateValue(const AttrDef& def, const core::json::value& v,
                                              std::string_view owner) {
  switch (def.kind) {
    case AttrKind::kString:
      if (!v.is_string()) return Bad(owner, def, "a string");
      if (v.as_string().size() > 4096) return Bad(owner, def, "at most 4096 characters");
      return v;
    case AttrKind::kInt: {
      int64_t n = 0;
      if (v.is_int64()) n = v.as_int64();
      else if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) n = static_cast<int64_t>(v.as_uint64());
      else return Bad(owner, def, "an integer");
      if ((def.min && n < *def.min) || (def.max && n > *def.max)) {
        return Bad(owner, def, "between " + std::to_string(def.min.value_or(INT64_MIN)) + " and " +
                                   std::to_string(def.max.value_or(INT64_MAX)));
      }
      return core::json::value(n);
    }
    case AttrKind::kBool:
      if (!v.is_bool()) return Bad(owner, def, "true or false");
      return v;
    case AttrKind::kEnum: {
      if (v.is_string()) {
        for (const auto& allowed : def.values) {
          if (v.as_string() == allowed) return v;
        }
      }
      std::string list;
      for (const auto& a : def.values) list += (list.empty() ? "" : ", ") + a;
      return Bad(owner, def, "one of: " + list);
    }
    case AttrKind::kIpv4:
    case AttrKind::kIpv6: {
      bool v4 = def.kind == AttrKind::kIpv4;
      auto n = v.is_string() ? NormaliseIp(v.as_string(), v4 ? AF_INET : AF_INET6) : std::nullopt;
      if (!n) return Bad(owner, def, v4 ? "an IPv4 address such as 10.0.0.1" : "an IPv6 address such as fd00::1");
      return core::json::value(*n);
    }
    case AttrKind::kCidr: {
      auto n = v.is_string() ? NormaliseCidr(v.as_string()) : std::nullopt;
      if (!n) return Bad(owner, def, "a CIDR block such as 10.0.0.0/24");
      return core::json::value(*n);
    }
    case AttrKind::kMac: {
      auto n = v.is_string() ? NormaliseMac(v.as_string()) : std::nullopt;
      if (!n) return Bad(owner, def, "a MAC address such as 52:54:00:12:34:56");
      return core::json::value(*n);
    }
    case AttrKind::kDate:
      if (!v.is_string() || !ValidDate(v.as_string())) return Bad(owner, def, "a date YYYY-MM-DD");
      return v;
    case AttrKind::kReference:
      // A CI id (integer) or "type/name"; existence is checked by the service.
      if (v.is_int64() && v.as_int64() > 0) return v;
      if (v.is_string() && !v.as_string().empty()) return v;
      return Bad(owner, def, "a CI id or \"type/name\"" +
                                 (def.ref_type.empty() ? std::string() : " of type " + def.ref_type));
  }
  return v;
}

core::Result<core::json::object> ValidateAttrs(const std::vector<AttrDef>& defs,
                                               const core::json::object& attrs,
                                               std::string_view owner, bool partial) {
  core::json::object out;
  for (const auto& kv : attrs) {
    const AttrDef* def = nullptr;
    for (const auto& d : defs) {
      if (d.name == kv.key()) def = &d;
    }
    if (!def) {
      std::string valid;
      for (const auto& d : defs) valid += (valid.empty() ? "" : ", ") + d.name;
      return core::InvalidArgument(std::string(owner) + ": unknown attribute '" +
                                       std::string(kv.key()) + "'; valid attributes: " +
                                       (valid.empty() ? "(none)" : valid),
                                   std::string(kv.key()));
    }
    if (kv.value().is_null()) {
      if (!partial && def->required) {
        return core::InvalidArgument(std::string(owner) + ": attribute '" + def->name + "' is required", def->name);
      }
      if (partial) out[kv.key()] = nullptr;
      continue;
    }
    GANTRY_TRY(out[kv.key()], ValidateValue(*def, kv.value(), owner));
  }
  if (!partial) {
    for (const auto& d : defs) {
      if (d.required && !out.contains(d.name)) {
        return core::InvalidArgument(std::string(owner) + ": attribute '" + d.name + "' is required", d.name);
      }
    }
  }
  return out;
}

core::Status ValidateAttrDef(const AttrDef& def) {
  bool ok = !def.name.empty() && def.name.size() <= 64 && std::islower(static_cast<unsigned char>(def.name[0]));
  for (char c : def.name) ok = ok && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) {
    return core::InvalidArgument("attribute name '" + def.name +
                                     "' must be 1-64 characters of a-z, 0-9 and '_', starting with a letter",
                                 "name");
  }
  if (def.kind == AttrKind::kEnum && def.values.empty()) {
    return core::InvalidArgument("enum attribute '" + def.name + "' needs a non-empty 'values' list", "values");
  }
  if (def.min && def.max && *def.min > *def.max) {
    return core::InvalidArgument("attribute '" + def.name + "': min is larger than max", "min");
  }
  return {};
}

}  // namespace gantry::cmdb
