// The Database contract, checked on both backends (GANTRY_TEST_BACKENDS picks which).
#include "store/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "store/migrate.h"
#include "store/postgres/pg_database.h"
#include "support/process.h"
#include "support/test_db.h"

namespace gantry::store {
namespace {

using core::Code;
using ::gantry::testing::NewTestDatabase;
using ::gantry::testing::NewTestDatabaseUrl;

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { db_ = NewTestDatabase(GetParam()); }

  bool pg() const { return GetParam() == Backend::kPostgres; }

  // Runs a DDL script in its own transaction, {{pk}} rendered for the backend.
  void Script(const std::string& sql) {
    auto tx = db_->Begin();
    ASSERT_TRUE(tx) << tx.error().message;
    auto st = (*tx)->ExecScript(RenderMigration(sql, GetParam()));
    ASSERT_TRUE(st) << st.error().message;
    ASSERT_TRUE((*tx)->Commit());
  }

  int64_t Count(const std::string& sql, const Params& params = {}) {
    auto rs = db_->Query(sql, params);
    EXPECT_TRUE(rs) << rs.error().message;
    if (!rs || rs->rows.empty()) return -1;
    return rs->rows[0].Int(0);
  }

  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, MigrationsApplyOnceAndAreIdempotent) {
  auto fresh = Open(NewTestDatabaseUrl(GetParam()));
  ASSERT_TRUE(fresh) << fresh.error().message;
  auto v0 = CurrentVersion(**fresh);
  ASSERT_TRUE(v0);
  EXPECT_EQ(*v0, 0);

  auto first = Migrate(**fresh);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->size(), KnownMigrations().size());
  for (size_t i = 0; i < first->size(); ++i) EXPECT_EQ((*first)[i], KnownMigrations()[i].version);

  auto second = Migrate(**fresh);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->empty());
  auto v = CurrentVersion(**fresh);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, LatestVersion());
  EXPECT_GT(LatestVersion(), 0);

  auto rs = (*fresh)->Query("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->rows[0].Int(0), static_cast<int64_t>(KnownMigrations().size()));
}

TEST_P(DatabaseTest, ConcurrentMigrateAppliesEachVersionOnce) {
  std::string url = NewTestDatabaseUrl(GetParam());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::atomic<size_t> applied{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      auto db = Open(url);
      if (!db) {
        ++failures;
        return;
      }
      // SQLite serialises writers with a busy timeout; PostgreSQL uses an advisory lock.
      auto r = Migrate(**db);
      if (!r) {
        ADD_FAILURE() << r.error().message;
        ++failures;
        return;
      }
      applied += r->size();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), KnownMigrations().size());
}

TEST_P(DatabaseTest, RoundTripsEveryValueType) {
  Script("CREATE TABLE vals (id {{pk}}, i BIGINT, d DOUBLE PRECISION, s TEXT)");
  std::string big(1 << 20, 'x');
  for (size_t k = 0; k < big.size(); k += 97) big[k] = static_cast<char>('a' + k % 26);
  const std::string unicode =
      "h\xC3\xA9llo w\xC3\xB6rld \xE2\x80\x94 \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC "
      "\xF0\x9F\x9A\x80";
  struct Case {
    Value i, d, s;
  };
  std::vector<Case> cases = {
      {int64_t{0}, 0.0, std::string("")},
      {int64_t{-1}, -1.5, std::string("plain")},
      {std::numeric_limits<int64_t>::max(), 0.1, unicode},
      {std::numeric_limits<int64_t>::min(), 1.0 / 3.0, big},
      {int64_t{42}, -1e300, std::string("it's \"quoted\" ? $1 -- not a comment")},
      {int64_t{7}, 5e-324, std::string("\\backslash\\ and \ttab\nnewline")},
      {Null(), Null(), Null()},
  };
  std::vector<int64_t> ids;
  for (const auto& c : cases) {
    auto rs =
        db_->Exec("INSERT INTO vals (i, d, s) VALUES (?, ?, ?) RETURNING id", {c.i, c.d, c.s});
    ASSERT_TRUE(rs) << rs.error().message;
    ASSERT_EQ(rs->rows.size(), 1u);
    EXPECT_EQ(rs->affected, 1);
    ids.push_back(rs->rows[0].Int(0));
    EXPECT_GT(ids.back(), 0);
  }
  for (size_t k = 1; k < ids.size(); ++k) EXPECT_GT(ids[k], ids[k - 1]);

  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE(k);
    auto rs = db_->Query("SELECT i, d, s FROM vals WHERE id = ?", {ids[k]});
    ASSERT_TRUE(rs) << rs.error().message;
    ASSERT_EQ(rs->rows.size(), 1u);
    const Row& row = rs->rows[0];
    const Case& c = cases[k];
    if (std::holds_alternative<std::monostate>(c.i)) {
      EXPECT_TRUE(row.IsNull(0));
      EXPECT_TRUE(row.IsNull(1));
      EXPECT_TRUE(row.IsNull(2));
      EXPECT_EQ(row.OptInt(0), std::nullopt);
      EXPECT_EQ(row.OptStr(2), std::nullopt);
      continue;
    }
    EXPECT_EQ(row.Int(0), std::get<int64_t>(c.i));
    EXPECT_EQ(row.Double(1), std::get<double>(c.d));  // exact: doubles round-trip
    EXPECT_EQ(row.Str(2), std::get<std::string>(c.s));
    EXPECT_FALSE(row.IsNull(2));
  }

  // Typed results: integers and doubles come back as numbers, not text.
  auto rs = db_->Query("SELECT i + 1, d * 2, LENGTH(s) FROM vals WHERE id = ?", {ids[1]});
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->rows[0].Int(0), 0);
  EXPECT_EQ(rs->rows[0].Double(1), -3.0);
  EXPECT_EQ(rs->rows[0].Int(2), 5);
  // LENGTH counts characters on both backends.
  rs = db_->Query("SELECT LENGTH(s) FROM vals WHERE id = ?", {ids[2]});
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->rows[0].Int(0), 20);
}

TEST_P(DatabaseTest, SpecialDoublesRoundTrip) {
  Script("CREATE TABLE dbl (id {{pk}}, d DOUBLE PRECISION)");
  for (double d :
       {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min()}) {
    auto ins = db_->Exec("INSERT INTO dbl (d) VALUES (?) RETURNING id", {d});
    ASSERT_TRUE(ins) << ins.error().message;
    auto rs = db_->Query("SELECT d FROM dbl WHERE id = ?", {ins->rows[0].Int(0)});
    ASSERT_TRUE(rs) << rs.error().message;
    EXPECT_EQ(rs->rows[0].Double(0), d);
  }
}

TEST_P(DatabaseTest, AggregatesBooleansAndAffectedRows) {
  Script("CREATE TABLE nums (id {{pk}}, n BIGINT NOT NULL, flag INTEGER NOT NULL DEFAULT 0)");
  for (int64_t n : {int64_t{1} << 40, int64_t{1} << 40, int64_t{3}}) {
    ASSERT_TRUE(db_->Exec("INSERT INTO nums (n) VALUES (?)", {n}));
  }
  auto rs = db_->Query("SELECT COUNT(*), SUM(n), MAX(n), (1 = 1), (1 = 2) FROM nums");
  ASSERT_TRUE(rs) << rs.error().message;
  const Row& r = rs->rows[0];
  EXPECT_EQ(r.Int(0), 3);
  EXPECT_EQ(r.Int(1), (int64_t{1} << 41) + 3);  // SUM(BIGINT) is NUMERIC on PostgreSQL
  EXPECT_EQ(r.Int(2), int64_t{1} << 40);
  EXPECT_TRUE(r.Bool(3));
  EXPECT_FALSE(r.Bool(4));

  auto up = db_->Exec("UPDATE nums SET flag = ? WHERE n > ?", {int64_t{1}, int64_t{10}});
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(up->affected, 2);
  auto del = db_->Exec("DELETE FROM nums WHERE flag = 0");
  ASSERT_TRUE(del) << del.error().message;
  EXPECT_EQ(del->affected, 1);
  auto sel = db_->Query("SELECT n FROM nums");
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->rows.size(), 2u);
  EXPECT_EQ(sel->affected, 0);  // a SELECT changes nothing
  auto none = db_->Exec("UPDATE nums SET flag = 2 WHERE n < 0");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->affected, 0);
}

TEST_P(DatabaseTest, UpsertAndLikeWorkAlikeOnBothBackends) {
  Script("CREATE TABLE kv (id {{pk}}, k TEXT NOT NULL UNIQUE, v BIGINT NOT NULL)");
  auto a =
      db_->Exec("INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING", {"a", int64_t{1}});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->affected, 1);
  auto b =
      db_->Exec("INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING", {"a", int64_t{2}});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->affected, 0);
  auto c = db_->Exec(
      "INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = kv.v + excluded.v",
      {"a", int64_t{10}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(Count("SELECT v FROM kv WHERE k = ?", {"a"}), 11);

  ASSERT_TRUE(db_->Exec("INSERT INTO kv (k, v) VALUES (?, 0), (?, 0), (?, 0)",
                        {"Node_1", "node%2", "NODEX1"}));
  // LIKE is case-insensitive for ASCII on SQLite and case-sensitive on PostgreSQL: portable
  // code lower-cases both sides. The escape character must be named on SQLite.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM kv WHERE LOWER(k) LIKE LOWER(?) ESCAPE '\\'",
                  {EscapeLike("node_") + "%"}),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM kv WHERE LOWER(k) LIKE LOWER(?) ESCAPE '\\'",
                  {"%" + EscapeLike("%") + "%"}),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM kv WHERE LOWER(k) LIKE ? ESCAPE '\\'", {"node%"}), 3);
}

TEST_P(DatabaseTest, UniqueViolationIsConflictAndRollsBackTheTransaction) {
  ASSERT_TRUE(
      db_->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)", {"dup"}));
  {
    auto tx = db_->Begin();
    ASSERT_TRUE(tx) << tx.error().message;
    auto first = (*tx)->Exec(
        "INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)", {"new1"});
    ASSERT_TRUE(first) << first.error().message;
    auto dup = (*tx)->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)",
                           {"dup"});
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, Code::kConflict) << dup.error().message;
    EXPECT_NE(dup.error().message.find("already exists"), std::string::npos) << dup.error().message;
    // Destroyed without Commit: rolled back.
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users WHERE username = ?", {"new1"}), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users WHERE username = ?", {"dup"}), 1);

  auto again =
      db_->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)", {"dup"});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kConflict);
}

TEST_P(DatabaseTest, CommitAfterAFailedStatement) {
  ASSERT_TRUE(
      db_->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)", {"dup"}));
  auto tx = db_->Begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE((*tx)->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)",
                          {"kept?"}));
  ASSERT_FALSE((*tx)->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)",
                           {"dup"}));
  auto st = (*tx)->Commit();
  if (pg()) {
    // PostgreSQL aborts the whole transaction at the first error: nothing is committed, and
    // Commit says so (with the first error's code) instead of pretending.
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Code::kConflict) << st.error().message;
    EXPECT_EQ(Count("SELECT COUNT(*) FROM users WHERE username = ?", {"kept?"}), 0);
  } else {
    // SQLite undoes only the failed statement.
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(Count("SELECT COUNT(*) FROM users WHERE username = ?", {"kept?"}), 1);
  }
  auto after = (*tx)->Exec("SELECT 1");
  EXPECT_FALSE(after);
}

TEST_P(DatabaseTest, ForeignKeyViolationIsConflict) {
  auto rs = db_->Exec(
      "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
      {int64_t{999999}, "t", "hash", int64_t{1}});
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().code, Code::kConflict) << rs.error().message;

  auto user = db_->Exec(
      "INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1) RETURNING id", {"u"});
  ASSERT_TRUE(user) << user.error().message;
  int64_t uid = user->rows[0].Int(0);
  ASSERT_TRUE(db_->Exec(
      "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
      {uid, "t", "hash", int64_t{1}}));
  auto del = db_->Exec("DELETE FROM users WHERE id = ?", {uid});
  ASSERT_FALSE(del);
  EXPECT_EQ(del.error().code, Code::kConflict) << del.error().message;

  auto notnull =
      db_->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)", {Null()});
  ASSERT_FALSE(notnull);
  EXPECT_EQ(notnull.error().code, Code::kConflict) << notnull.error().message;
}

TEST_P(DatabaseTest, UncommittedTransactionRollsBack) {
  {
    auto tx = db_->Begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*tx)->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)",
                            {"ghost"}));
    auto inside = (*tx)->Exec("SELECT COUNT(*) FROM users WHERE username = ?", {"ghost"});
    ASSERT_TRUE(inside);
    EXPECT_EQ(inside->rows[0].Int(0), 1);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users WHERE username = ?", {"ghost"}), 0);

  auto tx = db_->Begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE((*tx)->Exec("INSERT INTO users (username, created_at, updated_at) VALUES (?, 1, 1)",
                          {"real"}));
  ASSERT_TRUE((*tx)->Commit());
  EXPECT_FALSE((*tx)->Commit());  // only once
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users WHERE username = ?", {"real"}), 1);
}

TEST_P(DatabaseTest, PlaceholdersInsideQuotesAreNotRewritten) {
  auto rs = db_->Query("SELECT '?' , ?", {int64_t{5}});
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->rows[0].Str(0), "?");
  EXPECT_EQ(rs->rows[0].Int(1), 5);  // text on PostgreSQL (untyped parameter), read as a number

  rs = db_->Query("SELECT 'it''s ?' AS \"what?\", ? /* ? */, ? -- ?\n", {"a", "b"});
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->rows[0].Str(0), "it's ?");
  EXPECT_EQ(rs->rows[0].Str(1), "a");
  EXPECT_EQ(rs->rows[0].Str(2), "b");

  // A parameter cast so that PostgreSQL knows its type (both backends accept CAST).
  rs = db_->Query("SELECT CAST(? AS TEXT) IS NULL, CAST(? AS BIGINT) + 1", {Null(), int64_t{41}});
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_TRUE(rs->rows[0].Bool(0));
  EXPECT_EQ(rs->rows[0].Int(1), 42);
}

TEST(RewritePlaceholders, SkipsStringsIdentifiersCommentsAndDollarQuotes) {
  int n = -1;
  EXPECT_EQ(detail::RewritePlaceholders("SELECT ?", &n), "SELECT $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(detail::RewritePlaceholders("SELECT '?' , ?", &n), "SELECT '?' , $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(detail::RewritePlaceholders("a = ? AND b IN (?, ?)", &n), "a = $1 AND b IN ($2, $3)");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(detail::RewritePlaceholders("'it''s ?' ? \"a?\"\"?\" ?", &n),
            "'it''s ?' $1 \"a?\"\"?\" $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(detail::RewritePlaceholders("E'\\'?' ?", &n), "E'\\'?' $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(detail::RewritePlaceholders("'\\' ?", &n), "'\\' $1");  // standard strings
  EXPECT_EQ(n, 1);
  EXPECT_EQ(detail::RewritePlaceholders("? -- ?\n? /* ? /* ? */ ? */ ?", &n),
            "$1 -- ?\n$2 /* ? /* ? */ ? */ $3");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(detail::RewritePlaceholders("$$ ? $$ ? $f$ ?$$? $f$ ?", &n),
            "$$ ? $$ $1 $f$ ?$$? $f$ $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(detail::RewritePlaceholders("x$y ? $1", &n), "x$y $1 $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(detail::RewritePlaceholders("'unterminated ?", &n), "'unterminated ?");
  EXPECT_EQ(n, 0);
}

TEST(RedactUrl, RemovesPasswords) {
  EXPECT_EQ(detail::RedactUrl("postgres://u:s3cret@h:5432/db"), "postgres://u@h:5432/db");
  EXPECT_EQ(detail::RedactUrl("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(detail::RedactUrl("postgresql://u:p%40ss@h/db?sslmode=require&password=x&a=b"),
            "postgresql://u@h/db?sslmode=require&a=b");
  EXPECT_EQ(detail::RedactUrl("postgres://h/db?password=x"), "postgres://h/db");
}

TEST_P(DatabaseTest, ConcurrentWritersDoNotLoseUpdates) {
  Script("CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)");
  ASSERT_TRUE(db_->Exec("INSERT INTO counter (id, n) VALUES (1, 0)"));
  constexpr int kThreads = 8, kIncrements = 100;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        auto tx = db_->Begin(TxMode::kWrite);
        if (!tx) {
          ++errors;
          continue;
        }
        if (!(*tx)->Exec("UPDATE counter SET n = n + 1 WHERE id = ?", {int64_t{1}}) ||
            !(*tx)->Commit()) {
          ++errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(Count("SELECT n FROM counter WHERE id = 1"), kThreads * kIncrements);
  PoolStats s = db_->Stats();
  EXPECT_EQ(s.in_use, 0);
  EXPECT_GE(s.size, 1);
}

TEST_P(DatabaseTest, PoolStatsAndWaits) {
  OpenOptions opts;
  opts.pool_size = 2;
  auto db = Open(NewTestDatabaseUrl(GetParam()), opts);
  ASSERT_TRUE(db) << db.error().message;
  PoolStats s = (*db)->Stats();
  EXPECT_EQ(s.size, 2);
  EXPECT_EQ(s.in_use, 0);
  EXPECT_EQ(s.waits, 0);
  {
    auto a = (*db)->Begin(TxMode::kRead);
    ASSERT_TRUE(a);
    EXPECT_EQ((*db)->Stats().in_use, 1);
    auto b = (*db)->Begin(TxMode::kRead);
    ASSERT_TRUE(b);
    EXPECT_EQ((*db)->Stats().in_use, 2);

    std::atomic<bool> got{false};
    std::thread waiter([&] {
      auto c = (*db)->Begin(TxMode::kRead);
      got = static_cast<bool>(c);
    });
    while ((*db)->Stats().waits == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_FALSE(got.load());
    a->reset();  // frees a connection for the waiter
    waiter.join();
    EXPECT_TRUE(got.load());
  }
  s = (*db)->Stats();
  EXPECT_EQ(s.in_use, 0);
  EXPECT_EQ(s.waits, 1);
  EXPECT_TRUE((*db)->Ping());
}

TEST_P(DatabaseTest, ScriptsRunSeveralStatements) {
  auto tx = db_->Begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE((*tx)->ExecScript(
      "CREATE TABLE s1 (a BIGINT); INSERT INTO s1 VALUES (1); INSERT INTO s1 VALUES (2);"));
  ASSERT_TRUE((*tx)->Commit());
  EXPECT_EQ(Count("SELECT SUM(a) FROM s1"), 3);

  auto bad = db_->Begin();
  ASSERT_TRUE(bad);
  auto st = (*bad)->ExecScript("INSERT INTO s1 VALUES (3); SELECT * FROM no_such_table;");
  EXPECT_FALSE(st);
  bad->reset();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM s1"), 2);
}

TEST_P(DatabaseTest, SchemaChangeUnderCachedStatements) {
  Script("CREATE TABLE wide (id {{pk}}, a BIGINT)");
  ASSERT_TRUE(db_->Exec("INSERT INTO wide (a) VALUES (1)"));
  auto before = db_->Query("SELECT * FROM wide");
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->rows[0].size(), 2u);
  Script("ALTER TABLE wide ADD COLUMN b BIGINT NOT NULL DEFAULT 7");
  // Every pooled connection may hold the old statement; all must see the new shape.
  for (int i = 0; i < 10; ++i) {
    auto after = db_->Query("SELECT * FROM wide");
    ASSERT_TRUE(after) << after.error().message;
    ASSERT_EQ(after->rows[0].size(), 3u);
    EXPECT_EQ(after->rows[0].Int(2), 7);
  }
}

TEST_P(DatabaseTest, ParameterCountMismatchIsAnError) {
  auto rs = db_->Query("SELECT ?, ?", {int64_t{1}});
  if (pg()) {
    ASSERT_FALSE(rs);
    EXPECT_EQ(rs.error().code, Code::kInternal);
  }
  // SQLite binds NULL to a missing parameter; either way nothing crashes.
  EXPECT_TRUE(db_->Ping());
}

TEST_P(DatabaseTest, TextWithANulByte) {
  std::string nul("a\0b", 3);
  auto rs = db_->Query("SELECT CAST(? AS TEXT)", {nul});
  if (pg()) {
    ASSERT_FALSE(rs);
    EXPECT_EQ(rs.error().code, Code::kInvalidArgument);
  } else {
    ASSERT_TRUE(rs) << rs.error().message;
    EXPECT_EQ(rs->rows[0].Str(0), nul);
  }
}

TEST_P(DatabaseTest, BadUrlIsInvalidArgument) {
  auto bad = Open("mysql://localhost/db");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  if (pg()) {
    for (const char* url :
         {"postgres://u:hunter2@127.0.0.1/db?no_such_option=1", "postgres://u:hunter2@[::1/db",
          "postgres://u:hunter2@127.0.0.1:notaport/db"}) {
      auto r = Open(url);
      ASSERT_FALSE(r) << url;
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << url << ": " << r.error().message;
      EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
    }
  } else {
    auto r = Open("sqlite:");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  }
}

TEST_P(DatabaseTest, UnreachableServerIsUnavailable) {
  OpenOptions opts;
  opts.connect_timeout_s = 2;
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<Database>> r = core::Internal("unset");
  if (pg()) {
    int port = ::gantry::testing::FreePort();  // nothing listens there
    r = Open("postgres://postgres:hunter2@127.0.0.1:" + std::to_string(port) + "/x", opts);
  } else {
    r = Open("sqlite:/nonexistent-dir/sub/x.db", opts);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnavailable) << r.error().message;
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(opts.connect_timeout_s + 1));
}

TEST_P(DatabaseTest, DescribeHidesThePassword) {
  if (!pg()) {
    EXPECT_EQ(db_->Describe().rfind("sqlite:", 0), 0u);
    return;
  }
  std::string url = NewTestDatabaseUrl(Backend::kPostgres);
  // The test server trusts every local connection, so any password is accepted.
  std::string with_pw = url;
  with_pw.replace(with_pw.find("postgres@"), 9, "postgres:hunter2@");
  auto db = Open(with_pw + "?application_name=t&password=hunter3");
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->Describe().find("hunter"), std::string::npos) << (*db)->Describe();
  EXPECT_NE((*db)->Describe().find("127.0.0.1"), std::string::npos);
  EXPECT_TRUE((*db)->Ping());
}

// PostgreSQL only: a server-side disconnect is noticed, the connection is dropped, and the pool
// recovers (prepared statements are prepared again on the new connection).
TEST_P(DatabaseTest, RecoversFromAConnectionReset) {
  if (!pg()) GTEST_SKIP() << "PostgreSQL only";
  std::string url = NewTestDatabaseUrl(Backend::kPostgres);
  OpenOptions opts;
  opts.pool_size = 1;
  auto db = Open(url, opts);
  ASSERT_TRUE(db);
  auto admin = Open(url);
  ASSERT_TRUE(admin);
  auto pid_of = [&]() -> int64_t {
    auto rs = (*db)->Query("SELECT pg_backend_pid() + ?", {int64_t{0}});
    EXPECT_TRUE(rs) << rs.error().message;
    return rs ? rs->rows[0].Int(0) : -1;
  };
  int64_t pid = pid_of();
  ASSERT_GT(pid, 0);

  // Killed while idle in the pool: the next Begin reconnects transparently.
  ASSERT_TRUE((*admin)->Query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", {pid}));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int64_t pid2 = pid_of();
  ASSERT_GT(pid2, 0);
  EXPECT_NE(pid2, pid);

  // Killed between Begin and the first statement: nothing has run yet, so the transaction
  // starts again on a new connection.
  int64_t pid3;
  {
    auto tx = (*db)->Begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*admin)->Query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", {pid2}));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto rs = (*tx)->Exec("SELECT pg_backend_pid() + ?", {int64_t{0}});
    ASSERT_TRUE(rs) << rs.error().message;
    pid3 = rs->rows[0].Int(0);
    EXPECT_NE(pid3, pid2);
    ASSERT_TRUE((*tx)->Commit());
  }

  // Killed in the middle of a transaction: kUnavailable, and the connection is not reused.
  {
    auto tx = (*db)->Begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*tx)->Exec("SELECT 1"));
    ASSERT_TRUE((*admin)->Query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", {pid3}));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto rs = (*tx)->Exec("SELECT pg_backend_pid() + ?", {int64_t{0}});
    ASSERT_FALSE(rs);
    EXPECT_EQ(rs.error().code, Code::kUnavailable) << rs.error().message;
    auto again = (*tx)->Exec("SELECT 1");
    EXPECT_FALSE(again);
    EXPECT_FALSE((*tx)->Commit());
  }
  EXPECT_EQ((*db)->Stats().in_use, 0);
  int64_t pid4 = pid_of();
  EXPECT_GT(pid4, 0);
  EXPECT_NE(pid4, pid3);

  // Scripts recover the same way when they come first.
  ASSERT_TRUE((*admin)->Query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", {pid4}));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto tx = (*db)->Begin();
  ASSERT_TRUE(tx);
  auto st =
      (*tx)->ExecScript("CREATE TABLE after_reset (a BIGINT); INSERT INTO after_reset VALUES (1);");
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_TRUE((*tx)->Commit());
  tx->reset();
  auto rs = (*db)->Query("SELECT a FROM after_reset");
  ASSERT_TRUE(rs) << rs.error().message;
  EXPECT_EQ(rs->rows.size(), 1u);
}

GANTRY_INSTANTIATE_BACKENDS(DatabaseTest);

}  // namespace
}  // namespace gantry::store
