// Who is acting, and from where. Filled by the HTTP authentication step (auth module) or by the
// CLI's offline admin commands; read by services for authorisation and by the audit trail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gantry::core {

enum class Role { kAdmin, kOperator, kAuditor, kTenantAdmin, kTenantMember, kViewer };

const char* RoleName(Role r);
std::optional<Role> ParseRole(std::string_view name);
const std::vector<Role>& AllRoles();

struct TenantMembership {
  int64_t tenant_id = 0;
  std::string tenant;  // slug
  Role role = Role::kTenantMember;
};

struct Principal {
  int64_t user_id = 0;  // 0: nobody / system
  std::string username;
  std::string display_name;
  std::vector<Role> roles;                     // global roles
  std::vector<TenantMembership> tenants;       // filled by the tenancy module
  std::string auth_method;                     // "token", "session", "local" (offline CLI), "system"
  int64_t token_id = 0;
  int64_t session_id = 0;
  std::string csrf_token;                      // for session authentication

  bool authenticated() const { return user_id != 0 || auth_method == "system"; }
  bool HasRole(Role r) const;
  static Principal System(std::string name = "system");
};

// Everything a service needs to know about the caller of one operation.
struct RequestContext {
  Principal principal;
  std::string source_ip;
  std::string user_agent;
  std::string request_id;

  static RequestContext System(std::string name = "system");
};

}  // namespace gantry::core
