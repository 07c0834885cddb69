// The Database interface: one SQL dialect subset, two backends (SQLite, PostgreSQL).
//
// SQL is written once, with `?` placeholders; the PostgreSQL backend rewrites them to $1..$n.
// Values are NULL, 64-bit integers, doubles or text (binary data is stored as hex or base64).
// Times are stored as int64 nanoseconds since the epoch; ids come from `INSERT ... RETURNING id`.
//
// Thread-safety: a Database is shared by all threads; a Tx belongs to one thread at a time.
// A Tx that is destroyed without Commit() rolls back. Write transactions are serialised per
// process on SQLite (one writer at a time, as SQLite itself requires) and use row locks on
// PostgreSQL.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace gantry::store {

using core::Result;
using core::Status;

using Value = std::variant<std::monostate, int64_t, double, std::string>;
using Params = std::vector<Value>;

inline Value Null() { return std::monostate{}; }
inline Value Opt(const std::optional<std::string>& s) { return s ? Value(*s) : Null(); }
inline Value Opt(const std::optional<int64_t>& v) { return v ? Value(*v) : Null(); }

class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const;
  int64_t Int(size_t i) const;             // NULL reads as 0; text is parsed
  double Double(size_t i) const;
  std::string Str(size_t i) const;         // NULL reads as ""
  std::optional<int64_t> OptInt(size_t i) const;
  std::optional<std::string> OptStr(size_t i) const;
  bool Bool(size_t i) const { return Int(i) != 0; }

 private:
  std::vector<Value> values_;
};

struct ResultSet {
  std::vector<Row> rows;
  int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

class Tx {
 public:
  virtual ~Tx() = default;
  virtual Result<ResultSet> Exec(std::string_view sql, const Params& params = {}) = 0;
  // Runs several statements separated by ';' with no parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
  virtual Status Commit() = 0;
};

enum class Backend { kSqlite, kPostgres };
enum class TxMode { kRead, kWrite };

struct PoolStats {
  int size = 0;
  int in_use = 0;
  int64_t waits = 0;  // times a caller had to wait for a connection
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Backend backend() const = 0;
  virtual Result<std::unique_ptr<Tx>> Begin(TxMode mode = TxMode::kWrite) = 0;
  virtual Status Ping() = 0;
  virtual PoolStats Stats() const = 0;
  // A URL with any password removed, for logs.
  virtual std::string Describe() const = 0;

  // One statement in its own transaction.
  Result<ResultSet> Exec(std::string_view sql, const Params& params = {});
  // A read in its own read transaction.
  Result<ResultSet> Query(std::string_view sql, const Params& params = {});
};

struct OpenOptions {
  int pool_size = 8;
  int busy_timeout_ms = 5000;
  int connect_timeout_s = 5;
};

// "sqlite:PATH" (or a path ending in .db), "sqlite::memory:", "postgres://..." / "postgresql://...".
Result<std::unique_ptr<Database>> Open(std::string_view url, const OpenOptions& options = {});

// Table-name-safe check for LIKE patterns: escapes % and _ with '\'.
std::string EscapeLike(std::string_view s);

}  // namespace gantry::store
