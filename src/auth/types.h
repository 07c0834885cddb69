// Users, API tokens and web sessions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/principal.h"

namespace gantry::auth {

struct User {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  std::vector<core::Role> roles;
  bool disabled = false;
  core::UnixNanos created_at = 0;
  std::optional<core::UnixNanos> last_login_at;
};

struct Token {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string username;
  std::string name;
  core::UnixNanos created_at = 0;
  std::optional<core::UnixNanos> expires_at;
  std::optional<core::UnixNanos> last_used_at;
  std::optional<core::UnixNanos> revoked_at;
};

struct NewUser {
  std::string username;
  std::string display_name;
  std::optional<std::string> password;  // none: one is generated and returned once
  std::vector<core::Role> roles;
};

struct CreatedUser {
  User user;
  std::optional<std::string> generated_password;
};

struct CreatedToken {
  Token token;
  std::string secret;  // "gty_..." shown once, stored only as a SHA-256 hash
};

struct LoginResult {
  User user;
  std::string session_cookie;  // set when a session was created
  std::string csrf_token;
  std::optional<CreatedToken> token;  // set when a token was asked for
};

core::json::object ToJson(const User& u);
core::json::object ToJson(const Token& t);
std::string RolesToString(const std::vector<core::Role>& roles);
std::vector<core::Role> RolesFromString(std::string_view s);

}  // namespace gantry::auth
