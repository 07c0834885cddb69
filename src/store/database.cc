#include "store/database.h"

#include <charconv>

#include "store/postgres/pg_database.h"
#include "store/sqlite/sqlite_database.h"

namespace gantry::store {

bool Row::IsNull(size_t i) const {
  return i >= values_.size() || std::holds_alternative<std::monostate>(values_[i]);
}

int64_t Row::Int(size_t i) const {
  if (i >= values_.size()) return 0;
  const Value& v = values_[i];
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return static_cast<int64_t>(*p);
  if (auto p = std::get_if<std::string>(&v)) {
    if (*p == "t" || *p == "true") return 1;
    if (*p == "f" || *p == "false") return 0;
    int64_t out = 0;
    std::from_chars(p->data(), p->data() + p->size(), out);
    return out;
  }
  return 0;
}

double Row::Double(size_t i) const {
  if (i >= values_.size()) return 0;
  const Value& v = values_[i];
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (auto p = std::get_if<std::string>(&v)) return std::strtod(p->c_str(), nullptr);
  return 0;
}

std::string Row::Str(size_t i) const {
  if (i >= values_.size()) return {};
  const Value& v = values_[i];
  if (auto p = std::get_if<std::string>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) return std::to_string(*p);
  return {};
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

std::optional<std::string> Row::OptStr(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Str(i);
}

Result<ResultSet> Database::Exec(std::string_view sql, const Params& params) {
  GANTRY_TRY(auto tx, Begin(TxMode::kWrite));
  GANTRY_TRY(auto rs, tx->Exec(sql, params));
  GANTRY_TRY_STATUS(tx->Commit());
  return rs;
}

Result<ResultSet> Database::Query(std::string_view sql, const Params& params) {
  GANTRY_TRY(auto tx, Begin(TxMode::kRead));
  return tx->Exec(sql, params);
}

Result<std::unique_ptr<Database>> Open(std::string_view url, const OpenOptions& options) {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    return OpenPostgres(url, options);
  }
  if (url.starts_with("sqlite:")) return OpenSqlite(url.substr(7), options);
  if (url.ends_with(".db") || url.ends_with(".sqlite")) return OpenSqlite(url, options);
  return core::InvalidArgument("unknown database URL '" + std::string(url) +
                               "'; use sqlite:PATH or postgres://USER@HOST:PORT/DB");
}

std::string EscapeLike(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace gantry::store
