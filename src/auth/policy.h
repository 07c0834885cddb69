// The single authorisation policy table: which role may perform which action.
// Routes name their action (RouteSpec::action); services add the tenant check on every
// tenant-owned row. Later domains add their actions here, nowhere else.
#pragma once

#include <string_view>
#include <vector>

#include "core/principal.h"
#include "http/pipeline.h"

namespace gantry::auth {

struct PolicyRule {
  std::string_view action;
  std::vector<core::Role> roles;
};

const std::vector<PolicyRule>& PolicyTable();
bool Allowed(const core::Principal& p, std::string_view action);
// True for the operator-level roles that see every tenant's rows.
bool SeesAllTenants(const core::Principal& p);

class PolicyAuthorizer final : public http::Authorizer {
 public:
  bool Allowed(const core::Principal& p, std::string_view action) const override {
    return auth::Allowed(p, action);
  }
};

}  // namespace gantry::auth
