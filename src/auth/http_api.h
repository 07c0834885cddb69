// REST routes for login, whoami, users and tokens, and the pipeline's authenticator.
#pragma once

#include "auth/service.h"
#include "http/pipeline.h"
#include "http/router.h"

namespace gantry::auth {

inline constexpr char kSessionCookie[] = "gantry_session";

void RegisterRoutes(http::Router& router, Service& service);

// Reads "Authorization: Bearer gty_..." first, then the session cookie.
class HttpAuthenticator final : public http::Authenticator {
 public:
  explicit HttpAuthenticator(Service& service) : service_(service) {}
  core::Result<core::Principal> Authenticate(const http::Request& request,
                                             const core::RequestContext& rc) override;

 private:
  Service& service_;
};

}  // namespace gantry::auth
