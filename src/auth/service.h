// Authentication and account management: users, passwords, API tokens and web sessions.
//
// Every change appends its audit event in the same transaction (audit::Service::Append).
// Secrets (passwords, token values, session cookies) are never stored in clear, never logged
// and never written to audit details. Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "audit/service.h"
#include "auth/store.h"
#include "auth/throttle.h"
#include "auth/types.h"
#include "core/clock.h"
#include "core/principal.h"

namespace gantry::auth {

inline constexpr char kTokenPrefix[] = "gty_";
inline constexpr int64_t kSessionLifetime = 12LL * 3600 * core::kNanosPerSecond;

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, const core::Clock& clock,
          ThrottleOptions throttle = {})
      : db_(db), audit_(audit), clock_(clock), throttle_(clock, throttle) {}

  // Users (admin).
  core::Result<CreatedUser> CreateUser(const core::RequestContext& rc, NewUser u);
  core::Result<User> GetUser(const core::RequestContext& rc, std::string_view id_or_name);
  core::Result<std::vector<User>> ListUsers(int limit, std::optional<int64_t> after_id);
  core::Result<User> SetDisabled(const core::RequestContext& rc, std::string_view id_or_name,
                                 bool disabled);
  core::Result<int64_t> CountUsers();

  // Password login. With `want_token`, issues an API token instead of a session.
  core::Result<LoginResult> Login(const core::RequestContext& rc, const std::string& username,
                                  const std::string& password, bool want_token,
                                  const std::string& token_name);
  core::Status Logout(const core::RequestContext& rc);

  // Tokens. `owner` empty: the caller's own.
  core::Result<CreatedToken> CreateToken(const core::RequestContext& rc, const std::string& name,
                                         std::optional<int64_t> expires_in_days,
                                         std::optional<std::string> owner = {});
  core::Result<std::vector<Token>> ListTokens(const core::RequestContext& rc,
                                              std::optional<std::string> user, bool all);
  core::Status RevokeToken(const core::RequestContext& rc, int64_t token_id);

  // Resolves "Authorization: Bearer ..." or the session cookie value to a principal.
  core::Result<core::Principal> AuthenticateToken(const std::string& secret);
  core::Result<core::Principal> AuthenticateSession(const std::string& cookie);

  // Offline bootstrap (gantry admin init): creates the first admin when there is no user.
  core::Result<CreatedUser> Bootstrap(const std::string& username,
                                      std::optional<std::string> password);

 private:
  core::Result<core::Principal> FromCredential(const std::optional<CredentialRow>& row,
                                               std::string_view kind, bool is_session);
  store::Database& db_;
  const audit::Service& audit_;
  const core::Clock& clock_;
  LoginThrottle throttle_;
};

core::Status ValidateUsername(std::string_view name);

}  // namespace gantry::auth
