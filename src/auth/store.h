// SQL for users, tokens and sessions (store_sql.cc is the only file with auth SQL).
#pragma once

#include <optional>
#include <vector>

#include "auth/types.h"
#include "store/database.h"

namespace gantry::auth {

struct CredentialRow {
  int64_t cred_id = 0;  // token or session id
  User user;
  std::optional<core::UnixNanos> expires_at;
  std::optional<core::UnixNanos> revoked_at;
  std::optional<core::UnixNanos> last_used_at;
  std::string csrf_token;  // sessions only
};

class Store {
 public:
  static core::Result<int64_t> InsertUser(store::Tx& tx, const NewUser& u,
                                          const std::optional<std::string>& password_hash,
                                          core::UnixNanos now);
  static core::Result<std::optional<User>> FindUser(store::Tx& tx, std::string_view id_or_name);
  static core::Result<std::optional<std::pair<User, std::string>>> FindUserWithHash(
      store::Database& db, std::string_view username);
  static core::Result<std::vector<User>> ListUsers(store::Database& db, int limit,
                                                   std::optional<int64_t> after_id);
  static core::Status SetDisabled(store::Tx& tx, int64_t user_id, bool disabled,
                                  core::UnixNanos now);
  static core::Status SetPasswordHash(store::Tx& tx, int64_t user_id, const std::string& hash,
                                      core::UnixNanos now);
  static core::Status RevokeAllCredentials(store::Tx& tx, int64_t user_id, core::UnixNanos now);
  static core::Status TouchLogin(store::Tx& tx, int64_t user_id, core::UnixNanos now);
  static core::Result<int64_t> CountUsers(store::Database& db);

  static core::Result<int64_t> InsertToken(store::Tx& tx, int64_t user_id, const std::string& name,
                                           const std::string& hash, core::UnixNanos now,
                                           std::optional<core::UnixNanos> expires_at);
  static core::Result<std::optional<CredentialRow>> FindToken(store::Database& db,
                                                              const std::string& hash);
  static core::Result<std::optional<Token>> GetToken(store::Tx& tx, int64_t id);
  static core::Result<std::vector<Token>> ListTokens(store::Database& db,
                                                     std::optional<int64_t> user_id);
  static core::Status RevokeToken(store::Tx& tx, int64_t id, core::UnixNanos now);
  static core::Status TouchToken(store::Database& db, int64_t id, core::UnixNanos now);

  static core::Result<int64_t> InsertSession(store::Tx& tx, int64_t user_id, const std::string& hash,
                                             const std::string& csrf, const std::string& ip,
                                             const std::string& ua, core::UnixNanos now,
                                             core::UnixNanos expires_at);
  static core::Result<std::optional<CredentialRow>> FindSession(store::Database& db,
                                                                const std::string& hash);
  static core::Status RevokeSession(store::Tx& tx, int64_t id, core::UnixNanos now);
  static core::Status TouchSession(store::Database& db, int64_t id, core::UnixNanos now);
};

}  // namespace gantry::auth
