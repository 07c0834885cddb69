#include "store/postgres/pg_database.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace gantry::store {

namespace detail {

// Rewrites `?` placeholders to $1..$n. Skipped: '...' strings (with '' escapes, and backslash
// escapes in E'...'), "..." identifiers, -- and /* */ comments (nested, as PostgreSQL allows)
// and $tag$...$tag$ dollar-quoted strings.
std::string RewritePlaceholders(std::string_view in, int* count) {
  std::string out;
  out.reserve(in.size() + 16);
  int n = 0;
  auto ident = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  size_t i = 0;
  const size_t len = in.size();
  while (i < len) {
    char c = in[i];
    if (c == '\'') {
      bool escapes =
          i > 0 && (in[i - 1] == 'E' || in[i - 1] == 'e') && (i < 2 || !ident(in[i - 2]));
      size_t j = i + 1;
      while (j < len) {
        if (escapes && in[j] == '\\' && j + 1 < len) {
          j += 2;
          continue;
        }
        if (in[j] == '\'') {
          if (j + 1 < len && in[j + 1] == '\'') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      size_t end = j < len ? j + 1 : len;
      out.append(in.substr(i, end - i));
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < len) {
        if (in[j] == '"') {
          if (j + 1 < len && in[j + 1] == '"') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      size_t end = j < len ? j + 1 : len;
      out.append(in.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < len && in[i + 1] == '-') {
      size_t j = in.find('\n', i);
      size_t end = j == std::string_view::npos ? len : j + 1;
      out.append(in.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < len && in[i + 1] == '*') {
      size_t j = i + 2;
      int depth = 1;
      while (j < len && depth > 0) {
        if (in[j] == '/' && j + 1 < len && in[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (in[j] == '*' && j + 1 < len && in[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      out.append(in.substr(i, j - i));
      i = j;
    } else if (c == '$' && (i == 0 || !ident(in[i - 1]))) {
      // $tag$ or $$: a dollar-quoted string. $1 (a positional parameter) is copied as it is.
      size_t j = i + 1;
      if (j < len && !(in[j] >= '0' && in[j] <= '9')) {
        while (j < len && ident(in[j])) ++j;
      }
      if (j < len && in[j] == '$' && (j == i + 1 || !(in[i + 1] >= '0' && in[i + 1] <= '9'))) {
        std::string_view tag = in.substr(i, j - i + 1);
        size_t close = in.find(tag, j + 1);
        size_t end = close == std::string_view::npos ? len : close + tag.size();
        out.append(in.substr(i, end - i));
        i = end;
      } else {
        out += c;
        ++i;
      }
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
      ++i;
    } else {
      out += c;
      ++i;
    }
  }
  if (count) *count = n;
  return out;
}

std::string RedactUrl(std::string_view url) {
  std::string s(url);
  size_t scheme = s.find("://");
  if (scheme == std::string::npos) return s;
  size_t start = scheme + 3;
  size_t end = s.find_first_of("/?", start);
  if (end == std::string::npos) end = s.size();
  // user:password@host — the last '@' before the path ends the user info.
  size_t at = s.rfind('@', end);
  if (at != std::string::npos && at >= start) {
    size_t colon = s.find(':', start);
    if (colon != std::string::npos && colon < at) s.erase(colon, at - colon);
  }
  // ?password=...&...
  size_t q = s.find('?');
  if (q != std::string::npos) {
    std::string query = s.substr(q + 1), kept;
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      if (amp == std::string::npos) amp = query.size();
      std::string item = query.substr(pos, amp - pos);
      if (!item.empty() && !item.starts_with("password=")) {
        if (!kept.empty()) kept += '&';
        kept += item;
      }
      pos = amp + 1;
    }
    s.resize(q);
    if (!kept.empty()) s += "?" + kept;
  }
  return s;
}

}  // namespace detail

namespace {

using detail::RedactUrl;
using detail::RewritePlaceholders;

constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Prepared statements per connection; past this, statements run unprepared (dynamic SQL such
// as IN lists of varying length must not grow every connection's cache without bound).
constexpr size_t kMaxPreparedPerConn = 1024;
constexpr size_t kMaxRewriteCache = 4096;
// How long Begin waits for a free connection before giving up with kUnavailable.
constexpr auto kPoolWaitTimeout = std::chrono::seconds(30);

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

struct Prepared {
  std::string name;
  int nparams = 0;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Conn {
  PGconn* pg = nullptr;
  // Keyed by the original SQL text; looked up without copying it.
  std::unordered_map<std::string, Prepared, StringHash, std::equal_to<>> stmts;
  uint64_t next_stmt = 0;
  uint64_t generation = 0;  // schema generation the cached statements were prepared under
  bool broken = false;
  ~Conn() {
    if (pg) PQfinish(pg);
  }
  bool Ok() const { return !broken && pg && PQstatus(pg) == CONNECTION_OK; }
};

struct Rewritten {
  std::string sql;
  int nparams = 0;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

void NoticeProcessor(void*, const char* message) {
  spdlog::debug("postgres: {}", Trim(message ? message : ""));
}

bool StartsWithWord(std::string_view sql, std::string_view word) {
  size_t i = 0;
  while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t' || sql[i] == '\r'))
    ++i;
  if (sql.size() - i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    char c = sql[i + k];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != word[k]) return false;
  }
  return true;
}

bool IsDdl(std::string_view sql) {
  return StartsWithWord(sql, "CREATE") || StartsWithWord(sql, "ALTER") ||
         StartsWithWord(sql, "DROP") || StartsWithWord(sql, "TRUNCATE") ||
         StartsWithWord(sql, "COMMENT");
}

Value ConvertValue(Oid type, const char* text, int length) {
  const char* end = text + length;
  switch (type) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid: {
      int64_t v = 0;
      std::from_chars(text, end, v);
      return v;
    }
    case kBoolOid:
      return int64_t{length > 0 && (text[0] == 't' || text[0] == 'T') ? 1 : 0};
    case kNumericOid: {
      // Integral NUMERIC values (SUM of BIGINT, for example) stay exact when they fit in int64,
      // as they do on SQLite.
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text, end, v);
      if (ec == std::errc() && p == end) return v;
      [[fallthrough]];
    }
    case kFloat8Oid:
    case kFloat4Oid: {
      double d = 0;
      auto [p, ec] = std::from_chars(text, end, d);
      if (ec != std::errc()) {
        std::string_view sv(text, length);
        if (sv == "NaN") return std::nan("");
        if (sv == "Infinity") return HUGE_VAL;
        if (sv == "-Infinity") return -HUGE_VAL;
      }
      return d;
    }
    default:
      return std::string(text, length);
  }
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general, 17);
  (void)ec;
  return std::string(buf, p);
}

class PgDatabase;

// BEGIN is sent lazily, in one pipeline with the first statement (one round trip instead of
// two); a Tx that runs nothing costs nothing.
class PgTx final : public Tx {
 public:
  PgTx(PgDatabase* owner, std::unique_ptr<Conn> conn) : owner_(owner), conn_(std::move(conn)) {}
  ~PgTx() override;
  Result<ResultSet> Exec(std::string_view sql, const Params& params) override;
  Status ExecScript(std::string_view sql) override;
  Status Commit() override;

 private:
  Result<PgResult> Run(std::string_view sql, int n, const char* const* values);
  Result<PgResult> RunPipelined(std::string_view sql, int n, const char* const* values);
  Status Usable();
  bool Reconnect();
  core::Error Fail(PGresult* res, std::string_view what);
  void Finish();

  PgDatabase* owner_;
  std::unique_ptr<Conn> conn_;
  bool begun_ = false;                 // BEGIN has been sent
  std::optional<core::Error> failed_;  // the error that aborted this transaction
};

class PgDatabase final : public Database {
 public:
  PgDatabase(std::string url, std::string password, const OpenOptions& options)
      : url_(std::move(url)),
        password_(std::move(password)),
        described_(RedactUrl(url_)),
        size_(options.pool_size < 1 ? 1 : options.pool_size),
        connect_timeout_(
            std::to_string(options.connect_timeout_s < 1 ? 1 : options.connect_timeout_s)) {}

  ~PgDatabase() override = default;

  Backend backend() const override { return Backend::kPostgres; }

  Result<std::unique_ptr<Tx>> Begin(TxMode) override {
    // Plain BEGIN for reads too (some read paths call functions that write); it is sent with
    // the first statement.
    GANTRY_TRY(auto conn, Acquire());
    Refresh(*conn);
    return std::unique_ptr<Tx>(new PgTx(this, std::move(conn)));
  }

  // Drops the connection's prepared statements when the schema changed since they were made.
  void Refresh(Conn& c) {
    if (c.generation == generation_.load() || !c.Ok()) return;
    PgResult r(PQexec(c.pg, "DEALLOCATE ALL"));
    c.stmts.clear();
    c.generation = generation_.load();
  }

  Status Ping() override {
    GANTRY_TRY(auto rs, Query("SELECT 1"));
    (void)rs;
    return {};
  }

  PoolStats Stats() const override {
    std::lock_guard lock(mu_);
    return PoolStats{size_, in_use_, waits_};
  }

  std::string Describe() const override { return described_; }

  Result<std::unique_ptr<Conn>> Acquire() {
    std::unique_lock lock(mu_);
    if (free_.empty() && open_ >= size_) {
      ++waits_;
      if (!cv_.wait_for(lock, kPoolWaitTimeout, [&] { return !free_.empty() || open_ < size_; })) {
        return core::Unavailable("no free database connection after " +
                                 std::to_string(kPoolWaitTimeout.count()) + " s (pool of " +
                                 std::to_string(size_) + ")");
      }
    }
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      ++in_use_;
      return c;
    }
    ++open_;
    ++in_use_;
    lock.unlock();
    auto c = Connect();
    if (!c) {
      lock.lock();
      --open_;
      --in_use_;
      lock.unlock();
      cv_.notify_one();
    }
    return c;
  }

  void Release(std::unique_ptr<Conn> c) {
    const bool lost = !c->Ok();
    const bool discard = lost || PQtransactionStatus(c->pg) != PQTRANS_IDLE;
    std::vector<std::unique_ptr<Conn>> dead;
    {
      std::lock_guard lock(mu_);
      --in_use_;
      if (discard) {
        --open_;
        dead.push_back(std::move(c));
        if (lost) {
          // The server probably went away for every connection: drop the idle ones too, so
          // that the next transactions connect afresh instead of finding them dead one by one.
          for (auto& f : free_) dead.push_back(std::move(f));
          open_ -= static_cast<int>(free_.size());
          free_.clear();
        }
      } else {
        free_.push_back(std::move(c));
      }
    }
    if (discard) {
      spdlog::warn("postgres {}: discarding a broken connection", described_);
      cv_.notify_all();
    } else {
      cv_.notify_one();
    }
    dead.clear();  // PQfinish outside the lock
  }

  std::shared_ptr<const Rewritten> Rewrite(std::string_view sql) {
    {
      std::lock_guard lock(rewrite_mu_);
      auto it = rewrites_.find(sql);
      if (it != rewrites_.end()) return it->second;
    }
    auto r = std::make_shared<Rewritten>();
    r->sql = RewritePlaceholders(sql, &r->nparams);
    std::lock_guard lock(rewrite_mu_);
    if (rewrites_.size() >= kMaxRewriteCache) rewrites_.clear();
    rewrites_.emplace(std::string(sql), r);
    return r;
  }

  // Tells every connection that cached plans may now have the wrong result type.
  void SchemaChanged() { generation_.fetch_add(1); }

  std::string Redact(std::string msg) const {
    if (!password_.empty()) {
      for (size_t pos = msg.find(password_); pos != std::string::npos;
           pos = msg.find(password_, pos + 3)) {
        msg.replace(pos, password_.size(), "***");
      }
    }
    return msg;
  }

  Result<std::unique_ptr<Conn>> Connect() {
    // Defaults before "dbname" (the URL, expanded) can be overridden by the URL.
    const char* keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "application_name",
                          "client_encoding",     "dbname",           nullptr};
    const char* values[] = {
        connect_timeout_.c_str(), "1", "30", "10", "3", "gantry", "UTF8", url_.c_str(), nullptr};
    auto c = std::make_unique<Conn>();
    c->pg = PQconnectdbParams(keys, values, 1);
    if (!c->pg) return core::Unavailable("cannot connect to " + described_ + ": out of memory");
    if (PQstatus(c->pg) != CONNECTION_OK) {
      std::string msg = Redact(Trim(PQerrorMessage(c->pg)));
      if (msg.starts_with("invalid ")) {
        return core::InvalidArgument("bad PostgreSQL URL " + described_ + ": " + msg);
      }
      return core::Unavailable("cannot connect to " + described_ + ": " + msg);
    }
    PQsetNoticeProcessor(c->pg, NoticeProcessor, nullptr);
    c->generation = generation_.load();
    return c;
  }

 private:
  const std::string url_;
  const std::string password_;
  const std::string described_;
  const int size_;
  const std::string connect_timeout_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> free_;
  int open_ = 0;
  int in_use_ = 0;
  int64_t waits_ = 0;

  std::mutex rewrite_mu_;
  std::unordered_map<std::string, std::shared_ptr<const Rewritten>, StringHash, std::equal_to<>>
      rewrites_;
  std::atomic<uint64_t> generation_{0};
};

core::Error PgTx::Fail(PGresult* res, std::string_view what) {
  PGconn* pg = conn_->pg;
  std::string msg;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  msg = primary ? primary : Trim(PQerrorMessage(pg));
  msg = owner_->Redact(msg);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view sqlstate = state ? state : "";
  core::Error err;
  if (conn_->broken || PQstatus(pg) != CONNECTION_OK) {
    conn_->broken = true;
    err = core::Unavailable("database connection lost: " + msg);
  } else if (sqlstate == "23505") {
    err = core::Conflict("already exists (" + msg + ")");
  } else if (sqlstate.starts_with("23")) {
    err = core::Conflict("constraint violated (" + msg + ")");
  } else if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" ||
             sqlstate.starts_with("08") || sqlstate.starts_with("53") ||
             sqlstate.starts_with("57P")) {
    // Serialization failure, deadlock, lock not available, connection or resource trouble,
    // server shutting down: worth retrying.
    err = core::Unavailable(std::string(what) + ": " + msg + " (SQLSTATE " + std::string(sqlstate) +
                            ")");
  } else {
    err = core::Internal(std::string(what) + ": " + msg +
                         (sqlstate.empty() ? "" : " (SQLSTATE " + std::string(sqlstate) + ")"));
  }
  if (sqlstate == "0A000" || sqlstate == "26000") {
    // "cached plan must not change result type" (a table changed under a prepared statement)
    // or a statement that vanished: forget this connection's statements before the next use.
    conn_->generation = UINT64_MAX;
  }
  if (conn_->broken || PQtransactionStatus(pg) == PQTRANS_INERROR) failed_ = err;
  return err;
}

Status PgTx::Usable() {
  if (!conn_) return core::Internal("transaction already finished");
  if (failed_) {
    return core::Error(failed_->code,
                       "transaction aborted by an earlier error: " + failed_->message);
  }
  return {};
}

// Before anything ran in this transaction, a lost connection (the server closed it while it was
// idle in the pool: a restart, a failover, an idle timeout) is replaced by a new one and the
// first statement tried again. That is safe even if the server got to run it: it ran inside the
// transaction that BEGIN opened, and a dropped connection rolls that back.
bool PgTx::Reconnect() {
  if (begun_ || !conn_ || conn_->Ok()) return false;
  owner_->Release(std::move(conn_));
  auto c = owner_->Acquire();
  if (!c) {
    failed_ = c.error();
    return false;
  }
  conn_ = std::move(*c);
  owner_->Refresh(*conn_);
  return true;
}

Result<ResultSet> PgTx::Exec(std::string_view sql, const Params& params) {
  GANTRY_TRY_STATUS(Usable());

  // Parameters as text.
  std::vector<std::string> storage(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (auto p = std::get_if<int64_t>(&v)) {
      storage[i] = std::to_string(*p);
      values[i] = storage[i].c_str();
    } else if (auto p = std::get_if<double>(&v)) {
      storage[i] = FormatDouble(*p);
      values[i] = storage[i].c_str();
    } else if (auto p = std::get_if<std::string>(&v)) {
      if (p->find('\0') != std::string::npos) {
        return core::InvalidArgument("text parameter " + std::to_string(i + 1) +
                                     " contains a NUL byte");
      }
      values[i] = p->c_str();
    }
  }
  const int n = static_cast<int>(params.size());

  Result<PgResult> res = core::Internal("not run");
  if (begun_) {
    res = Run(sql, n, values.data());
  } else {
    Reconnect();
    if (!conn_) return *failed_;
    res = RunPipelined(sql, n, values.data());
    if (!res && conn_->broken) {
      // Lost before anything of this transaction could have been committed: start it afresh.
      begun_ = false;
      auto first_error = res.error();
      failed_.reset();
      if (!Reconnect()) {
        failed_ = first_error;
        return first_error;
      }
      res = RunPipelined(sql, n, values.data());
    }
  }
  if (!res) return res.error();
  if (IsDdl(sql)) owner_->SchemaChanged();

  ResultSet rs;
  PGresult* r = res->get();
  const int ncol = PQnfields(r);
  const int nrow = PQntuples(r);
  std::vector<Oid> types(ncol);
  for (int c = 0; c < ncol; ++c) types[c] = PQftype(r, c);
  rs.rows.reserve(nrow);
  for (int i = 0; i < nrow; ++i) {
    std::vector<Value> row;
    row.reserve(ncol);
    for (int c = 0; c < ncol; ++c) {
      if (PQgetisnull(r, i, c)) {
        row.emplace_back(std::monostate{});
      } else {
        row.push_back(ConvertValue(types[c], PQgetvalue(r, i, c), PQgetlength(r, i, c)));
      }
    }
    rs.rows.emplace_back(std::move(row));
  }
  std::string_view tag = PQcmdStatus(r);
  if (tag.starts_with("INSERT") || tag.starts_with("UPDATE") || tag.starts_with("DELETE") ||
      tag.starts_with("MERGE")) {
    const char* t = PQcmdTuples(r);
    int64_t affected = 0;
    std::from_chars(t, t + std::strlen(t), affected);
    rs.affected = affected;
  }
  return rs;
}

// How one statement runs on this connection: its prepared name, or its rewritten text.
struct Plan {
  std::string name;                       // prepared statement (cached or to prepare now)
  bool prepare = false;                   // not prepared on this connection yet
  std::shared_ptr<const Rewritten> text;  // set unless cached
};

Result<Plan> PlanFor(Conn& c, PgDatabase& db, std::string_view sql, int n) {
  Plan plan;
  auto it = c.stmts.find(sql);
  int expected;
  if (it != c.stmts.end()) {
    plan.name = it->second.name;
    expected = it->second.nparams;
  } else {
    plan.text = db.Rewrite(sql);
    expected = plan.text->nparams;
    if (c.stmts.size() < kMaxPreparedPerConn) {
      plan.name = "g" + std::to_string(++c.next_stmt);
      plan.prepare = true;
    }
  }
  if (expected != n) {
    return core::Internal("statement has " + std::to_string(expected) + " placeholders but " +
                          std::to_string(n) + " parameters were given: " + std::string(sql));
  }
  return plan;
}

Result<PgResult> PgTx::Run(std::string_view sql, int n, const char* const* values) {
  PGconn* pg = conn_->pg;
  GANTRY_TRY(Plan plan, PlanFor(*conn_, *owner_, sql, n));
  PgResult res;
  if (plan.prepare) {
    PgResult prep(PQprepare(pg, plan.name.c_str(), plan.text->sql.c_str(), 0, nullptr));
    if (!prep || PQresultStatus(prep.get()) != PGRES_COMMAND_OK) return Fail(prep.get(), "prepare");
    conn_->stmts.emplace(std::string(sql), Prepared{plan.name, n});
  }
  if (plan.name.empty()) {
    res.reset(PQexecParams(pg, plan.text->sql.c_str(), n, nullptr, values, nullptr, nullptr, 0));
  } else {
    res.reset(PQexecPrepared(pg, plan.name.c_str(), n, values, nullptr, nullptr, 0));
  }
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Fail(res.get(), "query");
  return res;
}

// BEGIN, [PREPARE], EXECUTE and a Sync in one round trip (libpq pipeline mode).
Result<PgResult> PgTx::RunPipelined(std::string_view sql, int n, const char* const* values) {
  PGconn* pg = conn_->pg;
  GANTRY_TRY(Plan plan, PlanFor(*conn_, *owner_, sql, n));
  begun_ = true;
  bool sent = PQenterPipelineMode(pg) == 1;
  sent = sent && PQsendQueryParams(pg, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  if (plan.prepare) {
    sent = sent && PQsendPrepare(pg, plan.name.c_str(), plan.text->sql.c_str(), 0, nullptr) == 1;
  }
  if (plan.name.empty()) {
    sent = sent && PQsendQueryParams(pg, plan.text->sql.c_str(), n, nullptr, values, nullptr,
                                     nullptr, 0) == 1;
  } else {
    sent = sent && PQsendQueryPrepared(pg, plan.name.c_str(), n, values, nullptr, nullptr, 0) == 1;
  }
  sent = sent && PQpipelineSync(pg) == 1;

  // One result (then a NULL) per query, then the Sync.
  const int queries = plan.prepare ? 3 : 2;
  std::vector<PgResult> results;
  bool synced = false;
  if (sent) {
    for (int q = 0; q < queries && PQstatus(pg) == CONNECTION_OK; ++q) {
      PgResult first;
      while (PGresult* r = PQgetResult(pg)) {
        if (!first) {
          first.reset(r);
        } else {
          PQclear(r);
        }
      }
      results.push_back(std::move(first));
    }
    for (int nulls = 0; PQstatus(pg) == CONNECTION_OK && nulls < 4;) {
      PgResult r(PQgetResult(pg));
      if (!r) {
        ++nulls;
        continue;
      }
      if (PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) {
        synced = true;
        break;
      }
    }
  }
  if (!synced || PQexitPipelineMode(pg) != 1) {
    conn_->broken = true;
    // Report the first error the server sent, if any, else the connection's.
    for (auto& r : results) {
      if (r && PQresultStatus(r.get()) == PGRES_FATAL_ERROR) return Fail(r.get(), "query");
    }
    return Fail(nullptr, "query");
  }
  results.resize(queries);
  auto ok = [](const PgResult& r, bool tuples) {
    if (!r) return false;
    ExecStatusType st = PQresultStatus(r.get());
    return st == PGRES_COMMAND_OK || (tuples && st == PGRES_TUPLES_OK);
  };
  if (!ok(results[0], false)) return Fail(results[0].get(), "BEGIN");
  if (plan.prepare) {
    if (!ok(results[1], false)) return Fail(results[1].get(), "prepare");
    conn_->stmts.emplace(std::string(sql), Prepared{plan.name, n});
  }
  PgResult& res = results.back();
  if (!ok(res, true)) return Fail(res.get(), "query");
  return std::move(res);
}

Status PgTx::ExecScript(std::string_view sql) {
  GANTRY_TRY_STATUS(Usable());
  // Several statements in one simple query; a first script carries its own BEGIN.
  for (int attempt = 0;; ++attempt) {
    if (!begun_) {
      Reconnect();
      if (!conn_) return *failed_;
    }
    std::string s = begun_ ? std::string(sql) : "BEGIN;\n" + std::string(sql);
    bool first = !begun_;
    begun_ = true;
    PgResult res(PQexec(conn_->pg, s.c_str()));
    owner_->SchemaChanged();
    ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return {};
    if (first && attempt == 0 && PQstatus(conn_->pg) != CONNECTION_OK) {
      conn_->broken = true;
      begun_ = false;
      if (Reconnect()) continue;
    }
    return Fail(res.get(), "script failed");
  }
}

Status PgTx::Commit() {
  if (!conn_) {
    if (failed_) return *failed_;  // the connection was lost and could not be replaced
    return core::Internal("transaction already finished");
  }
  if (failed_ || (begun_ && PQtransactionStatus(conn_->pg) == PQTRANS_INERROR)) {
    // COMMIT of an aborted transaction "succeeds" as a ROLLBACK; report the real outcome.
    core::Error e = failed_ ? *failed_ : core::Internal("transaction aborted");
    Finish();
    return core::Error(e.code, "transaction rolled back after an earlier error: " + e.message);
  }
  Status out;
  if (begun_) {
    PgResult res(PQexec(conn_->pg, "COMMIT"));
    ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK) {
      out = Fail(res.get(), "commit");
    } else if (std::string_view(PQcmdStatus(res.get())) == "ROLLBACK") {
      out = core::Internal("commit: the transaction was rolled back");
    }
  }
  failed_.reset();
  // A failed COMMIT ends the transaction too; Finish() rolls back whatever might be left.
  Finish();
  return out;
}

void PgTx::Finish() {
  if (!conn_) return;
  if (begun_ && conn_->Ok() && PQtransactionStatus(conn_->pg) != PQTRANS_IDLE) {
    PgResult r(PQexec(conn_->pg, "ROLLBACK"));
  }
  owner_->Release(std::move(conn_));
}

PgTx::~PgTx() { Finish(); }

std::string PasswordOf(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (err) PQfreemem(err);
  std::string pw;
  if (!opts) return pw;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val) pw = o->val;
  }
  PQconninfoFree(opts);
  return pw;
}

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, const OpenOptions& options) {
  std::string u(url);
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(u.c_str(), &err);
  if (!opts) {
    std::string msg = err ? Trim(err) : "cannot parse";
    if (err) PQfreemem(err);
    // libpq quotes the URL in some messages: never let a password through.
    std::string raw(url);
    size_t pos = msg.find(raw);
    if (pos != std::string::npos) msg.replace(pos, raw.size(), RedactUrl(raw));
    return core::InvalidArgument("bad PostgreSQL URL " + RedactUrl(url) + ": " + msg);
  }
  PQconninfoFree(opts);
  auto db = std::make_unique<PgDatabase>(u, PasswordOf(u), options);
  // One connection now, so that a wrong URL or an unreachable server shows at start-up; the
  // rest of the pool is opened on demand.
  GANTRY_TRY(auto conn, db->Acquire());
  db->Release(std::move(conn));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace gantry::store
