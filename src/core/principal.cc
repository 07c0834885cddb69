#include "core/principal.h"

#include <algorithm>

namespace gantry::core {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kOperator: return "operator";
    case Role::kAuditor: return "auditor";
    case Role::kTenantAdmin: return "tenant-admin";
    case Role::kTenantMember: return "tenant-member";
    case Role::kViewer: return "viewer";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : AllRoles()) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

const std::vector<Role>& AllRoles() {
  static const std::vector<Role> all = {Role::kAdmin,       Role::kOperator,
                                        Role::kAuditor,     Role::kTenantAdmin,
                                        Role::kTenantMember, Role::kViewer};
  return all;
}

bool Principal::HasRole(Role r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

Principal Principal::System(std::string name) {
  Principal p;
  p.username = std::move(name);
  p.roles = {Role::kAdmin};
  p.auth_method = "system";
  return p;
}

RequestContext RequestContext::System(std::string name) {
  RequestContext c;
  c.principal = Principal::System(std::move(name));
  c.source_ip = "local";
  return c;
}

}  // namespace gantry::core
