#include "auth/service.h"

#include <spdlog/spdlog.h>

#include "auth/password.h"
#include "core/crypto.h"

namespace gantry::auth {

namespace {

// Touch last-used times at most this often: a read-mostly hot path must not write every time.
constexpr int64_t kTouchInterval = 60 * core::kNanosPerSecond;

// A real Argon2id hash of a random password, so unknown users cost the same time as known ones.
const std::string& DummyHash() {
  static const std::string h = HashPassword(core::RandomToken(16)).value();
  return h;
}

core::Principal PrincipalFor(const User& u, std::string method) {
  core::Principal p;
  p.user_id = u.id;
  p.username = u.username;
  p.display_name = u.display_name;
  p.roles = u.roles;
  p.auth_method = std::move(method);
  return p;
}

}  // namespace

core::Status ValidateUsername(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 &&
            ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'));
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                c == '_' || c == '@');
  }
  if (!ok) {
    return core::InvalidArgument(
        "username must be 1-64 characters of a-z, 0-9, '.', '-', '_' or '@', starting with a "
        "letter or digit",
        "username");
  }
  return {};
}

core::Result<CreatedUser> Service::CreateUser(const core::RequestContext& rc, NewUser u) {
  GANTRY_TRY_STATUS(ValidateUsername(u.username));
  if (u.display_name.size() > 200) {
    return core::InvalidArgument("display_name must be at most 200 characters", "display_name");
  }
  CreatedUser out;
  if (u.password) {
    GANTRY_TRY_STATUS(CheckPasswordPolicy(*u.password));
  } else {
    out.generated_password = GeneratePassword();
    u.password = out.generated_password;
  }
  GANTRY_TRY(auto hash, HashPassword(*u.password));
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto id, Store::InsertUser(*tx, u, hash, now));
  core::json::array roles;
  for (auto r : u.roles) roles.push_back(core::json::string(core::RoleName(r)));
  GANTRY_TRY_STATUS(audit_.Append(
      *tx, audit::Service::MakeEvent(rc, "user.create", "user", u.username,
                                     {{"id", id}, {"roles", roles}})));
  GANTRY_TRY_STATUS(tx->Commit());
  out.user = User{id, u.username, u.display_name, u.roles, false, now, std::nullopt};
  return out;
}

core::Result<User> Service::GetUser(const core::RequestContext&, std::string_view id_or_name) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto u, Store::FindUser(*tx, id_or_name));
  if (!u) return core::NotFound("no user '" + std::string(id_or_name) + "'");
  return *u;
}

core::Result<std::vector<User>> Service::ListUsers(int limit, std::optional<int64_t> after_id) {
  return Store::ListUsers(db_, limit, after_id);
}

core::Result<int64_t> Service::CountUsers() { return Store::CountUsers(db_); }

core::Result<User> Service::SetDisabled(const core::RequestContext& rc,
                                        std::string_view id_or_name, bool disabled) {
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto u, Store::FindUser(*tx, id_or_name));
  if (!u) return core::NotFound("no user '" + std::string(id_or_name) + "'");
  if (disabled && u->id == rc.principal.user_id) {
    return core::FailedPrecondition("you cannot disable your own account");
  }
  GANTRY_TRY_STATUS(Store::SetDisabled(*tx, u->id, disabled, now));
  if (disabled) GANTRY_TRY_STATUS(Store::RevokeAllCredentials(*tx, u->id, now));
  GANTRY_TRY_STATUS(audit_.Append(
      *tx, audit::Service::MakeEvent(rc, disabled ? "user.disable" : "user.enable", "user",
                                     u->username, {{"id", u->id}})));
  GANTRY_TRY_STATUS(tx->Commit());
  u->disabled = disabled;
  return *u;
}

core::Result<LoginResult> Service::Login(const core::RequestContext& rc,
                                         const std::string& username,
                                         const std::string& password, bool want_token,
                                         const std::string& token_name) {
  auto record_failure = [&](const std::string& reason) {
    auto e = audit::Service::MakeEvent(rc, "auth.login", "user", username.substr(0, 64),
                                       {{"reason", reason}}, audit::kFailure);
    e.actor = "anonymous";
    if (auto st = audit_.AppendStandalone(std::move(e)); !st) {
      spdlog::error("cannot audit a failed login: {}", st.error().message);
    }
  };
  if (!throttle_.Allow(username, rc.source_ip)) {
    record_failure("throttled: too many failed attempts");
    return core::Error(core::Code::kResourceExhausted,
                       "too many failed logins for this account or address; try again later");
  }
  GANTRY_TRY(auto found, Store::FindUserWithHash(db_, username));
  bool ok = found && !found->second.empty() && VerifyPassword(found->second, password);
  if (!found) VerifyPassword(DummyHash(), password);
  if (!ok || found->first.disabled) {
    throttle_.RecordFailure(username, rc.source_ip);
    record_failure(!ok ? "wrong username or password" : "account disabled");
    return core::Unauthenticated("wrong username or password");
  }
  throttle_.RecordSuccess(username);
  User user = found->first;
  auto now = clock_.Now();
  core::RequestContext actor = rc;
  actor.principal = PrincipalFor(user, want_token ? "password" : "session");

  LoginResult out;
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY_STATUS(Store::TouchLogin(*tx, user.id, now));
  core::json::object details{{"method", want_token ? "password+token" : "password+session"}};
  if (want_token) {
    std::string secret = kTokenPrefix + core::RandomToken(32);
    std::string name = token_name.empty() ? "login" : token_name;
    auto expires = now + 30LL * 86400 * core::kNanosPerSecond;
    GANTRY_TRY(auto id, Store::InsertToken(*tx, user.id, name, core::Sha256Hex(secret), now, expires));
    out.token = CreatedToken{Token{id, user.id, user.username, name, now, expires, {}, {}}, secret};
    details["issued_credential_id"] = id;
  } else {
    out.session_cookie = core::RandomToken(32);
    out.csrf_token = core::RandomToken(24);
    GANTRY_TRY(auto sid, Store::InsertSession(*tx, user.id, core::Sha256Hex(out.session_cookie),
                                              out.csrf_token, rc.source_ip, rc.user_agent, now,
                                              now + kSessionLifetime));
    details["session_id"] = sid;
  }
  GANTRY_TRY_STATUS(audit_.Append(
      *tx, audit::Service::MakeEvent(actor, "auth.login", "user", user.username, details)));
  GANTRY_TRY_STATUS(tx->Commit());
  user.last_login_at = now;
  out.user = user;
  return out;
}

core::Status Service::Logout(const core::RequestContext& rc) {
  if (rc.principal.auth_method != "session" || rc.principal.session_id == 0) return {};
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY_STATUS(Store::RevokeSession(*tx, rc.principal.session_id, clock_.Now()));
  GANTRY_TRY_STATUS(audit_.Append(
      *tx, audit::Service::MakeEvent(rc, "auth.logout", "user", rc.principal.username,
                                     {{"session_id", rc.principal.session_id}})));
  return tx->Commit();
}

core::Result<CreatedToken> Service::CreateToken(const core::RequestContext& rc,
                                                const std::string& name,
                                                std::optional<int64_t> expires_in_days,
                                                std::optional<std::string> owner) {
  if (name.empty() || name.size() > 100) {
    return core::InvalidArgument("name must be 1-100 characters", "name");
  }
  if (expires_in_days && (*expires_in_days < 1 || *expires_in_days > 3650)) {
    return core::InvalidArgument("expires_in_days must be between 1 and 3650", "expires_in_days");
  }
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  User user;
  if (owner && *owner != rc.principal.username) {
    if (!rc.principal.HasRole(core::Role::kAdmin)) {
      return core::PermissionDenied("only admins create tokens for other users");
    }
    GANTRY_TRY(auto u, Store::FindUser(*tx, *owner));
    if (!u) return core::NotFound("no user '" + *owner + "'");
    if (u->disabled) return core::FailedPrecondition("user '" + *owner + "' is disabled");
    user = *u;
  } else {
    GANTRY_TRY(auto u, Store::FindUser(*tx, std::to_string(rc.principal.user_id)));
    if (!u) return core::NotFound("your account no longer exists");
    user = *u;
  }
  std::string secret = kTokenPrefix + core::RandomToken(32);
  std::optional<core::UnixNanos> expires;
  if (expires_in_days) expires = now + *expires_in_days * 86400 * core::kNanosPerSecond;
  GANTRY_TRY(auto id, Store::InsertToken(*tx, user.id, name, core::Sha256Hex(secret), now, expires));
  GANTRY_TRY_STATUS(audit_.Append(
      *tx, audit::Service::MakeEvent(rc, "token.create", "token", std::to_string(id),
                                     {{"name", name}, {"owner", user.username}})));
  GANTRY_TRY_STATUS(tx->Commit());
  return CreatedToken{Token{id, user.id, user.username, name, now, expires, {}, {}}, secret};
}

core::Result<std::vector<Token>> Service::ListTokens(const core::RequestContext& rc,
                                                     std::optional<std::string> user, bool all) {
  bool admin = rc.principal.HasRole(core::Role::kAdmin);
  if ((all || (user && *user != rc.principal.username)) && !admin) {
    return core::PermissionDenied("only admins list other users' tokens");
  }
  if (all) return Store::ListTokens(db_, std::nullopt);
  int64_t uid = rc.principal.user_id;
  if (user && *user != rc.principal.username) {
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(auto u, Store::FindUser(*tx, *user));
    if (!u) return core::NotFound("no user '" + *user + "'");
    uid = u->id;
  }
  return Store::ListTokens(db_, uid);
}

core::Status Service::RevokeToken(const core::RequestContext& rc, int64_t token_id) {
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, Store::GetToken(*tx, token_id));
  // Someone else's token looks the same as a missing one to a non-admin.
  if (!t || (t->user_id != rc.principal.user_id && !rc.principal.HasRole(core::Role::kAdmin))) {
    return core::NotFound("no token " + std::to_string(token_id));
  }
  if (t->revoked_at) return core::FailedPrecondition("token " + std::to_string(token_id) + " is already revoked");
  GANTRY_TRY_STATUS(Store::RevokeToken(*tx, token_id, clock_.Now()));
  GANTRY_TRY_STATUS(audit_.Append(
      *tx, audit::Service::MakeEvent(rc, "token.revoke", "token", std::to_string(token_id),
                                     {{"name", t->name}, {"owner", t->username}})));
  return tx->Commit();
}

core::Result<core::Principal> Service::FromCredential(const std::optional<CredentialRow>& row,
                                                      std::string_view kind, bool is_session) {
  auto now = clock_.Now();
  if (!row) return core::Unauthenticated("unknown " + std::string(kind));
  if (row->revoked_at) return core::Unauthenticated(std::string(kind) + " was revoked");
  if (row->expires_at && *row->expires_at <= now) {
    return core::Unauthenticated(std::string(kind) + " has expired");
  }
  if (row->user.disabled) return core::Unauthenticated("account is disabled");
  if (!row->last_used_at || *row->last_used_at + kTouchInterval < now) {
    auto st = is_session ? Store::TouchSession(db_, row->cred_id, now)
                         : Store::TouchToken(db_, row->cred_id, now);
    if (!st) spdlog::warn("cannot update last-used time of {} {}: {}", kind, row->cred_id, st.error().message);
  }
  core::Principal p = PrincipalFor(row->user, is_session ? "session" : "token");
  if (is_session) {
    p.session_id = row->cred_id;
    p.csrf_token = row->csrf_token;
  } else {
    p.token_id = row->cred_id;
  }
  return p;
}

core::Result<core::Principal> Service::AuthenticateToken(const std::string& secret) {
  if (!secret.starts_with(kTokenPrefix) || secret.size() > 200) {
    return core::Unauthenticated("malformed API token");
  }
  GANTRY_TRY(auto row, Store::FindToken(db_, core::Sha256Hex(secret)));
  return FromCredential(row, "API token", false);
}

core::Result<core::Principal> Service::AuthenticateSession(const std::string& cookie) {
  if (cookie.empty() || cookie.size() > 200) return core::Unauthenticated("malformed session");
  GANTRY_TRY(auto row, Store::FindSession(db_, core::Sha256Hex(cookie)));
  return FromCredential(row, "session", true);
}

core::Result<CreatedUser> Service::Bootstrap(const std::string& username,
                                             std::optional<std::string> password) {
  GANTRY_TRY(auto n, Store::CountUsers(db_));
  if (n > 0) return core::FailedPrecondition("users already exist; the first admin was created before");
  auto rc = core::RequestContext::System("gantry-admin-init");
  return CreateUser(rc, NewUser{username, "Administrator", std::move(password), {core::Role::kAdmin}});
}

}  // namespace gantry::auth
