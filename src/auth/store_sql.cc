#include "auth/store.h"

#include <charconv>

namespace gantry::auth {

namespace {

constexpr char kUserColumns[] =
    "id, username, display_name, roles, disabled, created_at, last_login_at";

User UserFromRow(const store::Row& r, size_t o = 0) {
  User u;
  u.id = r.Int(o + 0);
  u.username = r.Str(o + 1);
  u.display_name = r.Str(o + 2);
  u.roles = RolesFromString(r.Str(o + 3));
  u.disabled = r.Bool(o + 4);
  u.created_at = r.Int(o + 5);
  u.last_login_at = r.OptInt(o + 6);
  return u;
}

Token TokenFromRow(const store::Row& r) {
  Token t;
  t.id = r.Int(0);
  t.user_id = r.Int(1);
  t.username = r.Str(2);
  t.name = r.Str(3);
  t.created_at = r.Int(4);
  t.expires_at = r.OptInt(5);
  t.last_used_at = r.OptInt(6);
  t.revoked_at = r.OptInt(7);
  return t;
}

constexpr char kTokenSelect[] =
    "SELECT t.id, t.user_id, u.username, t.name, t.created_at, t.expires_at, t.last_used_at, "
    "t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

core::Result<int64_t> Store::InsertUser(store::Tx& tx, const NewUser& u,
                                        const std::optional<std::string>& hash,
                                        core::UnixNanos now) {
  auto rs = tx.Exec(
      "INSERT INTO users (username, display_name, password_hash, roles, disabled, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id",
      {u.username, u.display_name, store::Opt(hash), RolesToString(u.roles), now, now});
  if (!rs) {
    if (rs.error().code == core::Code::kConflict) {
      return core::Conflict("user '" + u.username + "' already exists");
    }
    return rs.error();
  }
  return rs->rows.at(0).Int(0);
}

core::Result<std::optional<User>> Store::FindUser(store::Tx& tx, std::string_view id_or_name) {
  std::string sql = std::string("SELECT ") + kUserColumns + " FROM users WHERE ";
  store::Params p;
  if (AllDigits(id_or_name)) {
    int64_t id = 0;
    std::from_chars(id_or_name.data(), id_or_name.data() + id_or_name.size(), id);
    sql += "id = ?";
    p.emplace_back(id);
  } else {
    sql += "username = ?";
    p.emplace_back(std::string(id_or_name));
  }
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  if (rs.rows.empty()) return std::optional<User>{};
  return std::optional<User>(UserFromRow(rs.rows[0]));
}

core::Result<std::optional<std::pair<User, std::string>>> Store::FindUserWithHash(
    store::Database& db, std::string_view username) {
  GANTRY_TRY(auto rs, db.Query(std::string("SELECT ") + kUserColumns +
                                   ", password_hash FROM users WHERE username = ?",
                               {std::string(username)}));
  if (rs.rows.empty()) return std::optional<std::pair<User, std::string>>{};
  return std::optional<std::pair<User, std::string>>(
      std::make_pair(UserFromRow(rs.rows[0]), rs.rows[0].Str(7)));
}

core::Result<std::vector<User>> Store::ListUsers(store::Database& db, int limit,
                                                 std::optional<int64_t> after_id) {
  GANTRY_TRY(auto rs, db.Query(std::string("SELECT ") + kUserColumns +
                                   " FROM users WHERE id > ? ORDER BY id LIMIT ?",
                               {after_id.value_or(0), int64_t{limit}}));
  std::vector<User> out;
  for (const auto& r : rs.rows) out.push_back(UserFromRow(r));
  return out;
}

core::Status Store::SetDisabled(store::Tx& tx, int64_t user_id, bool disabled,
                                core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?",
                            {int64_t{disabled ? 1 : 0}, now, user_id}));
  return {};
}

core::Status Store::SetPasswordHash(store::Tx& tx, int64_t user_id, const std::string& hash,
                                    core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                            {hash, now, user_id}));
  return {};
}

core::Status Store::RevokeAllCredentials(store::Tx& tx, int64_t user_id, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
      {now, user_id}));
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
      {now, user_id}));
  return {};
}

core::Status Store::TouchLogin(store::Tx& tx, int64_t user_id, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec("UPDATE users SET last_login_at = ? WHERE id = ?", {now, user_id}));
  return {};
}

core::Result<int64_t> Store::CountUsers(store::Database& db) {
  GANTRY_TRY(auto rs, db.Query("SELECT COUNT(*) FROM users"));
  return rs.rows.at(0).Int(0);
}

core::Result<int64_t> Store::InsertToken(store::Tx& tx, int64_t user_id, const std::string& name,
                                         const std::string& hash, core::UnixNanos now,
                                         std::optional<core::UnixNanos> expires_at) {
  GANTRY_TRY(auto rs, tx.Exec(
      "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?) RETURNING id",
      {user_id, name, hash, now, store::Opt(expires_at)}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<CredentialRow>> Store::FindToken(store::Database& db,
                                                            const std::string& hash) {
  GANTRY_TRY(auto rs, db.Query(
      "SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.username, "
      "u.display_name, u.roles, u.disabled, u.created_at, u.last_login_at "
      "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
      {hash}));
  if (rs.rows.empty()) return std::optional<CredentialRow>{};
  const auto& r = rs.rows[0];
  CredentialRow c;
  c.cred_id = r.Int(0);
  c.expires_at = r.OptInt(1);
  c.revoked_at = r.OptInt(2);
  c.last_used_at = r.OptInt(3);
  c.user = UserFromRow(r, 4);
  return std::optional<CredentialRow>(std::move(c));
}

core::Result<std::optional<Token>> Store::GetToken(store::Tx& tx, int64_t id) {
  GANTRY_TRY(auto rs, tx.Exec(std::string(kTokenSelect) + " WHERE t.id = ?", {id}));
  if (rs.rows.empty()) return std::optional<Token>{};
  return std::optional<Token>(TokenFromRow(rs.rows[0]));
}

core::Result<std::vector<Token>> Store::ListTokens(store::Database& db,
                                                   std::optional<int64_t> user_id) {
  std::string sql = kTokenSelect;
  store::Params p;
  if (user_id) {
    sql += " WHERE t.user_id = ?";
    p.emplace_back(*user_id);
  }
  sql += " ORDER BY t.id";
  GANTRY_TRY(auto rs, db.Query(sql, p));
  std::vector<Token> out;
  for (const auto& r : rs.rows) out.push_back(TokenFromRow(r));
  return out;
}

core::Status Store::RevokeToken(store::Tx& tx, int64_t id, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", {now, id}));
  return {};
}

core::Status Store::TouchToken(store::Database& db, int64_t id, core::UnixNanos now) {
  GANTRY_TRY_STATUS(db.Exec("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", {now, id}));
  return {};
}

core::Result<int64_t> Store::InsertSession(store::Tx& tx, int64_t user_id, const std::string& hash,
                                           const std::string& csrf, const std::string& ip,
                                           const std::string& ua, core::UnixNanos now,
                                           core::UnixNanos expires_at) {
  GANTRY_TRY(auto rs, tx.Exec(
      "INSERT INTO sessions (user_id, session_hash, csrf_token, source_ip, user_agent, "
      "created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {user_id, hash, csrf, ip, ua, now, expires_at, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<CredentialRow>> Store::FindSession(store::Database& db,
                                                              const std::string& hash) {
  GANTRY_TRY(auto rs, db.Query(
      "SELECT s.id, s.expires_at, s.revoked_at, s.last_seen_at, u.id, u.username, "
      "u.display_name, u.roles, u.disabled, u.created_at, u.last_login_at, s.csrf_token "
      "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_hash = ?",
      {hash}));
  if (rs.rows.empty()) return std::optional<CredentialRow>{};
  const auto& r = rs.rows[0];
  CredentialRow c;
  c.cred_id = r.Int(0);
  c.expires_at = r.OptInt(1);
  c.revoked_at = r.OptInt(2);
  c.last_used_at = r.OptInt(3);
  c.user = UserFromRow(r, 4);
  c.csrf_token = r.Str(11);
  return std::optional<CredentialRow>(std::move(c));
}

core::Status Store::RevokeSession(store::Tx& tx, int64_t id, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", {now, id}));
  return {};
}

core::Status Store::TouchSession(store::Database& db, int64_t id, core::UnixNanos now) {
  GANTRY_TRY_STATUS(db.Exec("UPDATE sessions SET last_seen_at = ? WHERE id = ?", {now, id}));
  return {};
}

}  // namespace gantry::auth
