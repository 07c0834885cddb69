// SQLite backend: WAL mode, foreign keys on, a busy timeout, a pool of connections and one
// in-process writer at a time (BEGIN IMMEDIATE under a mutex). Prepared statements are cached
// per connection.
#pragma once

#include <memory>
#include <string_view>

#include "store/database.h"

namespace gantry::store {

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path, const OpenOptions& options);

}  // namespace gantry::store
