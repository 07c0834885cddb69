#include "store/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <unordered_map>

namespace gantry::store {

namespace {

struct Conn {
  sqlite3* db = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> stmts;
  // Runs a parameterless statement (BEGIN, COMMIT, ROLLBACK) from a prepared-statement cache,
  // so the hot path never re-parses it.
  int Run(const char* sql) {
    sqlite3_stmt*& st = stmts[sql];
    if (!st) {
      int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
      if (rc != SQLITE_OK) {
        stmts.erase(sql);
        return rc;
      }
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  ~Conn() {
    for (auto& [_, s] : stmts) sqlite3_finalize(s);
    sqlite3_close_v2(db);
  }
};

core::Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  int ext = sqlite3_extended_errcode(db);
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return core::Conflict("already exists (" + std::string(sqlite3_errmsg(db)) + ")");
    }
    return core::Conflict("constraint violated (" + std::string(sqlite3_errmsg(db)) + ")");
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return core::Unavailable(msg);
  return core::Internal(msg);
}

class SqliteDatabase;

class SqliteTx final : public Tx {
 public:
  SqliteTx(SqliteDatabase* owner, std::unique_ptr<Conn> conn, std::unique_lock<std::mutex> wl)
      : owner_(owner), conn_(std::move(conn)), write_lock_(std::move(wl)) {}
  ~SqliteTx() override;
  Result<ResultSet> Exec(std::string_view sql, const Params& params) override;
  Status ExecScript(std::string_view sql) override;
  Status Commit() override;

 private:
  SqliteDatabase* owner_;
  std::unique_ptr<Conn> conn_;
  std::unique_lock<std::mutex> write_lock_;
  bool done_ = false;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, int pool_size) : path_(std::move(path)), size_(pool_size) {}

  Backend backend() const override { return Backend::kSqlite; }

  Status Init(const OpenOptions& options) {
    for (int i = 0; i < size_; ++i) {
      auto c = std::make_unique<Conn>();
      int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
      int rc = sqlite3_open_v2(path_.c_str(), &c->db, flags, nullptr);
      if (rc != SQLITE_OK) {
        return core::Unavailable("cannot open SQLite database '" + path_ +
                                 "': " + (c->db ? sqlite3_errmsg(c->db) : "out of memory"));
      }
      sqlite3_busy_timeout(c->db, options.busy_timeout_ms);
      const char* pragmas =
          "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";
      char* err = nullptr;
      if (sqlite3_exec(c->db, pragmas, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown";
        sqlite3_free(err);
        return core::Unavailable("cannot configure SQLite database '" + path_ + "': " + msg);
      }
      free_.push_back(std::move(c));
    }
    return {};
  }

  Result<std::unique_ptr<Tx>> Begin(TxMode mode) override {
    std::unique_lock<std::mutex> wl;
    if (mode == TxMode::kWrite) wl = std::unique_lock(write_mu_);
    auto conn = Acquire();
    const char* begin = mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN";
    int rc = conn->Run(begin);
    if (rc != SQLITE_OK) {
      auto e = SqliteError(conn->db, rc, "begin");
      Release(std::move(conn));
      return e;
    }
    return std::unique_ptr<Tx>(new SqliteTx(this, std::move(conn), std::move(wl)));
  }

  Status Ping() override {
    GANTRY_TRY(auto rs, Query("SELECT 1"));
    (void)rs;
    return {};
  }

  PoolStats Stats() const override {
    std::lock_guard lock(mu_);
    return PoolStats{size_, size_ - static_cast<int>(free_.size()), waits_};
  }

  std::string Describe() const override { return "sqlite:" + path_; }

  std::unique_ptr<Conn> Acquire() {
    std::unique_lock lock(mu_);
    if (free_.empty()) ++waits_;
    cv_.wait(lock, [&] { return !free_.empty(); });
    auto c = std::move(free_.back());
    free_.pop_back();
    return c;
  }

  void Release(std::unique_ptr<Conn> c) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(c));
    }
    cv_.notify_one();
  }

 private:
  std::string path_;
  int size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> free_;
  int64_t waits_ = 0;
  std::mutex write_mu_;
};

SqliteTx::~SqliteTx() {
  if (!done_) conn_->Run("ROLLBACK");
  owner_->Release(std::move(conn_));
}

Result<ResultSet> SqliteTx::Exec(std::string_view sql, const Params& params) {
  if (done_) return core::Internal("transaction already finished");
  sqlite3_stmt* st = nullptr;
  std::string key(sql);
  auto it = conn_->stmts.find(key);
  if (it != conn_->stmts.end()) {
    st = it->second;
  } else {
    int rc = sqlite3_prepare_v3(conn_->db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) return SqliteError(conn_->db, rc, "prepare");
    conn_->stmts.emplace(std::move(key), st);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    const Value& v = params[i];
    if (auto p = std::get_if<int64_t>(&v)) {
      sqlite3_bind_int64(st, idx, *p);
    } else if (auto p = std::get_if<double>(&v)) {
      sqlite3_bind_double(st, idx, *p);
    } else if (auto p = std::get_if<std::string>(&v)) {
      sqlite3_bind_text(st, idx, p->data(), static_cast<int>(p->size()), SQLITE_STATIC);
    } else {
      sqlite3_bind_null(st, idx);
    }
  }
  ResultSet rs;
  const int64_t changes_before = sqlite3_total_changes64(conn_->db);
  while (true) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      auto e = SqliteError(conn_->db, rc, "step");
      sqlite3_reset(st);
      return e;
    }
    // Read after the step: a schema change re-prepares the statement inside sqlite3_step, and
    // `SELECT *` may then have more columns than before.
    const int ncol = sqlite3_column_count(st);
    std::vector<Value> row;
    row.reserve(ncol);
    for (int c = 0; c < ncol; ++c) {
      switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(st, c))); break;
        case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(st, c)); break;
        case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
        default: {
          auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          row.emplace_back(std::string(t ? t : "", sqlite3_column_bytes(st, c)));
        }
      }
    }
    rs.rows.emplace_back(std::move(row));
  }
  // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, also after a SELECT or
  // an UPDATE that matched nothing: only report it when this statement changed something.
  rs.affected = sqlite3_total_changes64(conn_->db) != changes_before ? sqlite3_changes64(conn_->db) : 0;
  sqlite3_reset(st);
  return rs;
}

Status SqliteTx::ExecScript(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  if (sqlite3_exec(conn_->db, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return core::Internal("script failed: " + msg);
  }
  return {};
}

Status SqliteTx::Commit() {
  if (done_) return core::Internal("transaction already finished");
  int rc = conn_->Run("COMMIT");
  if (rc != SQLITE_OK) return SqliteError(conn_->db, rc, "commit");
  done_ = true;
  if (write_lock_.owns_lock()) write_lock_.unlock();
  return {};
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path, const OpenOptions& options) {
  std::string p(path);
  if (p.empty()) return core::InvalidArgument("empty SQLite path");
  int pool = options.pool_size;
  if (p == ":memory:") pool = 1;
  auto db = std::make_unique<SqliteDatabase>(p, pool < 1 ? 1 : pool);
  GANTRY_TRY_STATUS(db->Init(options));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace gantry::store
