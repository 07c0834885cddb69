#include "support/test_db.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "store/migrate.h"
#include "support/pg_server.h"

namespace gantry::testing {

namespace {

std::mutex g_dirs_mu;
std::vector<std::string>* g_dirs = nullptr;  // leaked: used from atexit
pid_t g_dirs_owner = 0;

void RemoveTempDirs() {
  std::lock_guard lock(g_dirs_mu);
  if (!g_dirs || getpid() != g_dirs_owner) return;  // not in a forked child
  for (const auto& d : *g_dirs) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
  }
  g_dirs->clear();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<store::Backend> TestBackends() {
  const char* env = std::getenv("GANTRY_TEST_BACKENDS");
  std::string spec = env ? env : "";
  if (spec.empty()) return {store::Backend::kSqlite, store::Backend::kPostgres};
  std::vector<store::Backend> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    std::string item = Lower(spec.substr(pos, comma - pos));
    while (!item.empty() && item.back() == ' ') item.pop_back();
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    if (!item.empty()) {
      store::Backend b;
      if (item == "sqlite") {
        b = store::Backend::kSqlite;
      } else if (item == "postgres" || item == "postgresql" || item == "pg") {
        b = store::Backend::kPostgres;
      } else {
        throw std::invalid_argument("GANTRY_TEST_BACKENDS: unknown backend '" + item +
                                    "' (use sqlite, postgres or sqlite,postgres)");
      }
      if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
    }
    pos = comma + 1;
  }
  return out;
}

std::string BackendName(const ::testing::TestParamInfo<store::Backend>& info) {
  return info.param == store::Backend::kSqlite ? "sqlite" : "postgres";
}

std::string NewTestDatabaseUrl(store::Backend backend) {
  if (backend == store::Backend::kPostgres) {
    PgServer& pg = PgServer::Get();
    return pg.Url(pg.CreateDatabase());
  }
  static const std::string dir = MakeTempDir("gantry-db");
  static std::atomic<int> next{0};
  return "sqlite:" + dir + "/" + std::to_string(++next) + ".db";
}

std::unique_ptr<store::Database> NewTestDatabase(store::Backend backend) {
  std::string url = NewTestDatabaseUrl(backend);
  auto db = store::Open(url);
  if (!db) throw std::runtime_error("NewTestDatabase: open " + url + ": " + db.error().message);
  auto applied = store::Migrate(**db);
  if (!applied) {
    throw std::runtime_error("NewTestDatabase: migrate " + url + ": " + applied.error().message);
  }
  return std::move(*db);
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    throw std::runtime_error("MakeTempDir: mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  std::lock_guard lock(g_dirs_mu);
  if (!g_dirs) {
    g_dirs = new std::vector<std::string>();
    g_dirs_owner = getpid();
    std::atexit(RemoveTempDirs);
  }
  g_dirs->push_back(tmpl);
  return tmpl;
}

}  // namespace gantry::testing
