// Numbered schema migrations shared by both backends (src/store/migrations/NNNN_name.sql,
// compiled into the binary). Each migration runs in its own transaction together with its row
// in schema_migrations, so a crash leaves the schema at a whole version.
#pragma once

#include <string>
#include <vector>

#include "store/database.h"

namespace gantry::store {

struct MigrationInfo {
  int version = 0;
  std::string name;
};

const std::vector<MigrationInfo>& KnownMigrations();

// Applies every migration not yet applied; returns the versions applied now.
Result<std::vector<int>> Migrate(Database& db);

// The highest applied version, or 0 for an empty database.
Result<int> CurrentVersion(Database& db);
int LatestVersion();

// Rewrites the backend-neutral tokens of a migration for one backend.
std::string RenderMigration(std::string_view sql, Backend backend);

}  // namespace gantry::store
