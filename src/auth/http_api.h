// REST routes for login, whoami, users and tokens, and the pipeline's authenticator.
#pragma once

#include <functional>
#include <vector>

#include "auth/service.h"
#include "http/pipeline.h"
#include "http/router.h"

namespace gantry::auth {

inline constexpr char kSessionCookie[] = "gantry_session";

void RegisterRoutes(http::Router& router, Service& service);

// A user's tenant memberships, for Principal::tenants. The app wires it to the tenancy module
// (auth does not depend on tenancy; the dependency points the other way). It must be
// thread-safe and fail closed: on a database error, return no memberships.
using MembershipSource = std::function<std::vector<core::TenantMembership>(int64_t user_id)>;

// Reads "Authorization: Bearer gty_..." first, then the session cookie. With a MembershipSource
// the authenticated principal's `tenants` are filled from it on every request, so a change of
// membership takes effect at once.
class HttpAuthenticator final : public http::Authenticator {
 public:
  explicit HttpAuthenticator(Service& service, MembershipSource memberships = {})
      : service_(service), memberships_(std::move(memberships)) {}
  core::Result<core::Principal> Authenticate(const http::Request& request,
                                             const core::RequestContext& rc) override;

 private:
  core::Result<core::Principal> WithTenants(core::Result<core::Principal> p) const;
  Service& service_;
  MembershipSource memberships_;
};

}  // namespace gantry::auth
