#include "auth/http_api.h"

#include "auth/policy.h"
#include "http/params.h"

namespace gantry::auth {

using core::Result;
using http::Context;
using http::Response;

core::Result<core::Principal> HttpAuthenticator::Authenticate(const http::Request& request,
                                                              const core::RequestContext&) {
  std::string_view authz = request.Header("authorization");
  if (!authz.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (!authz.starts_with(kBearer)) {
      return core::Unauthenticated("Authorization header must be 'Bearer <token>'");
    }
    return WithTenants(service_.AuthenticateToken(std::string(authz.substr(kBearer.size()))));
  }
  if (auto cookie = request.Cookie(kSessionCookie); cookie && !cookie->empty()) {
    return WithTenants(service_.AuthenticateSession(*cookie));
  }
  return core::Principal{};
}

core::Result<core::Principal> HttpAuthenticator::WithTenants(core::Result<core::Principal> p) const {
  if (p && memberships_ && p->user_id != 0) p->tenants = memberships_(p->user_id);
  return p;
}

namespace {

std::string SessionCookie(const std::string& value, bool secure, int max_age) {
  return std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age) + (secure ? "; Secure" : "");
}

Result<std::vector<core::Role>> ParseRoles(const std::vector<std::string>& names) {
  std::vector<core::Role> out;
  for (const auto& n : names) {
    auto r = core::ParseRole(n);
    if (!r) {
      std::string valid;
      for (auto role : core::AllRoles()) valid += (valid.empty() ? "" : ", ") + std::string(core::RoleName(role));
      return core::InvalidArgument("unknown role '" + n + "'; valid roles: " + valid, "roles");
    }
    out.push_back(*r);
  }
  return out;
}

core::json::object WhoAmI(const core::Principal& p) {
  core::json::array roles, tenants;
  for (auto r : p.roles) roles.push_back(core::json::string(core::RoleName(r)));
  for (const auto& t : p.tenants) {
    tenants.push_back({{"id", t.tenant_id}, {"tenant", t.tenant}, {"role", core::RoleName(t.role)}});
  }
  core::json::object o{{"id", p.user_id}, {"username", p.username}, {"display_name", p.display_name}, {"roles", roles},
                       {"tenants", tenants}, {"auth", p.auth_method}};
  if (p.auth_method == "session") o["csrf_token"] = p.csrf_token;
  return o;
}

}  // namespace

void RegisterRoutes(http::Router& router, Service& service) {
  router.Add({"POST", "/api/v1/auth/login", "", http::Auth::kPublic},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"username", "password", "issue_token", "token_name"}));
               GANTRY_TRY(auto username, core::GetString(body, "username"));
               GANTRY_TRY(auto password, core::GetString(body, "password"));
               GANTRY_TRY(auto issue_token, core::OptBool(body, "issue_token"));
               GANTRY_TRY(auto token_name, core::OptString(body, "token_name"));
               if (username.size() > 64 || password.size() > 256) {
                 return core::Unauthenticated("wrong username or password");
               }
               GANTRY_TRY(auto res, service.Login(c.rc, username, password, issue_token.value_or(false),
                                                  token_name.value_or("")));
               core::json::object o{{"user", ToJson(res.user)}};
               if (res.token) {
                 o["token"] = res.token->secret;
                 o["token_id"] = res.token->token.id;
                 o["expires_at"] = core::FormatRfc3339(*res.token->token.expires_at);
               } else {
                 o["csrf_token"] = res.csrf_token;
                 c.set_cookies.push_back(SessionCookie(res.session_cookie, c.request.tls,
                                                       static_cast<int>(kSessionLifetime / core::kNanosPerSecond)));
               }
               return Response::Json(o);
             });

  router.Add({"POST", "/api/v1/auth/logout", "", http::Auth::kOptional},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(service.Logout(c.rc));
               c.set_cookies.push_back(SessionCookie("", c.request.tls, 0));
               return Response::NoContent();
             });

  router.Add({"GET", "/api/v1/whoami", "self.read"}, [](Context& c) -> Result<Response> {
    return Response::Json(WhoAmI(c.rc.principal));
  });

  router.Add({"GET", "/api/v1/users", "users.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"limit", "cursor"}));
    GANTRY_TRY(auto limit, http::LimitParam(c.request));
    GANTRY_TRY(auto cursor, http::IntParam(c.request, "cursor"));
    GANTRY_TRY(auto users, service.ListUsers(limit, cursor));
    core::json::array items;
    for (const auto& u : users) items.push_back(ToJson(u));
    std::optional<std::string> next;
    if (static_cast<int>(users.size()) == limit) next = std::to_string(users.back().id);
    return http::ListResponse(std::move(items), next);
  });

  router.Add({"POST", "/api/v1/users", "users.write"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"username", "password", "display_name", "roles"}));
    NewUser u;
    GANTRY_TRY(u.username, core::GetString(body, "username"));
    GANTRY_TRY(u.password, core::OptString(body, "password"));
    GANTRY_TRY(auto display, core::OptString(body, "display_name"));
    u.display_name = display.value_or("");
    GANTRY_TRY(auto role_names, core::OptStringArray(body, "roles"));
    GANTRY_TRY(u.roles, ParseRoles(role_names));
    // No role given: a tenant member, who sees only what their tenants give them (the global
    // viewer role sees the whole estate and must be asked for).
    if (u.roles.empty()) u.roles = {core::Role::kTenantMember};
    GANTRY_TRY(auto created, service.CreateUser(c.rc, std::move(u)));
    core::json::object o = ToJson(created.user);
    if (created.generated_password) o["generated_password"] = *created.generated_password;
    return Response::Json(o, 201);
  });

  router.Add({"GET", "/api/v1/users/{id}", "self.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto u, service.GetUser(c.rc, c.Param("id")));
    if (u.id != c.rc.principal.user_id && !Allowed(c.rc.principal, "users.read")) {
      return core::PermissionDenied("you may only read your own account");
    }
    return Response::Json(ToJson(u));
  });

  for (bool disable : {true, false}) {
    router.Add({"POST", disable ? "/api/v1/users/{id}/disable" : "/api/v1/users/{id}/enable", "users.write"},
               [&service, disable](Context& c) -> Result<Response> {
                 if (!c.request.body.empty()) {
                   GANTRY_TRY(auto body, core::ParseObject(c.request.body));
                   GANTRY_TRY_STATUS(core::OnlyFields(body, {}));
                 }
                 GANTRY_TRY(auto u, service.SetDisabled(c.rc, c.Param("id"), disable));
                 return Response::Json(ToJson(u));
               });
  }

  router.Add({"GET", "/api/v1/tokens", "tokens.own"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"user", "all"}));
    GANTRY_TRY(auto all, http::BoolParam(c.request, "all"));
    GANTRY_TRY(auto tokens, service.ListTokens(c.rc, c.request.Query("user"), all));
    core::json::array items;
    for (const auto& t : tokens) items.push_back(ToJson(t));
    return http::ListResponse(std::move(items), std::nullopt);
  });

  router.Add({"POST", "/api/v1/tokens", "tokens.own"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"name", "expires_in_days", "user"}));
    GANTRY_TRY(auto name, core::GetString(body, "name"));
    GANTRY_TRY(auto days, core::OptInt(body, "expires_in_days"));
    GANTRY_TRY(auto user, core::OptString(body, "user"));
    GANTRY_TRY(auto created, service.CreateToken(c.rc, name, days, user));
    core::json::object o = ToJson(created.token);
    o["token"] = created.secret;
    return Response::Json(o, 201);
  });

  router.Add({"DELETE", "/api/v1/tokens/{id}", "tokens.own"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY_STATUS(service.RevokeToken(c.rc, id));
    return Response::NoContent();
  });
}

}  // namespace gantry::auth
