// PostgreSQL backend over libpq: a bounded connection pool, `?` placeholders rewritten to $n,
// text-format parameters and results, SQLSTATE mapped to core::Code (23505 unique → Conflict,
// 23503 foreign key → Conflict, connection failures → Unavailable). Write transactions are
// plain READ COMMITTED transactions; code that needs a queue claim uses FOR UPDATE SKIP LOCKED.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "store/database.h"

namespace gantry::store {

Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, const OpenOptions& options);

namespace detail {
// Exposed for tests. `?` → $1..$n outside quoted strings, identifiers, comments and
// dollar-quoted strings; *count receives n.
std::string RewritePlaceholders(std::string_view sql, int* count);
// The URL with the password (user:PASSWORD@ or ?password=) replaced by ***.
std::string RedactUrl(std::string_view url);
}  // namespace detail

}  // namespace gantry::store
