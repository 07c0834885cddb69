#include "auth/types.h"

namespace gantry::auth {

std::string RolesToString(const std::vector<core::Role>& roles) {
  std::string out;
  for (auto r : roles) out += (out.empty() ? "" : ",") + std::string(core::RoleName(r));
  return out;
}

std::vector<core::Role> RolesFromString(std::string_view s) {
  std::vector<core::Role> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    if (auto r = core::ParseRole(s.substr(0, comma))) out.push_back(*r);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

namespace {
core::json::value OptTime(const std::optional<core::UnixNanos>& t) {
  return t ? core::json::value(core::FormatRfc3339(*t)) : core::json::value(nullptr);
}
}  // namespace

core::json::object ToJson(const User& u) {
  core::json::array roles;
  for (auto r : u.roles) roles.push_back(core::json::string(core::RoleName(r)));
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"roles", roles},
          {"disabled", u.disabled},
          {"created_at", core::FormatRfc3339(u.created_at)},
          {"last_login_at", OptTime(u.last_login_at)}};
}

core::json::object ToJson(const Token& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"user", t.username},
          {"created_at", core::FormatRfc3339(t.created_at)},
          {"expires_at", OptTime(t.expires_at)},
          {"last_used_at", OptTime(t.last_used_at)},
          {"revoked", t.revoked_at.has_value()}};
}

}  // namespace gantry::auth
