// gantry_micro_bench: Google Benchmark micro-benchmarks behind the figures in docs/benchmarks.md.
// They isolate the per-event CPU cost of the audit hash chain (what `gantry admin audit verify`
// and every audited write pay) from SQLite and I/O.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "audit/chain.h"
#include "audit/service.h"
#include "core/crypto.h"
#include "http/params.h"
#include "http/pipeline.h"
#include "jobs/types.h"
#include "store/database.h"

namespace {

using namespace gantry;

audit::Event Realistic() {
  core::RequestContext rc;
  rc.principal.user_id = 2;
  rc.principal.username = "alice.operator";
  rc.source_ip = "10.20.30.40";
  rc.user_agent = "gantry-cli/0.1.0 (linux; x86_64)";
  rc.request_id = "5eed00000000000000000001";
  core::json::object params{{"seconds", 5}, {"node", "gpu-node-17"},
                            {"reason", "burn-in after DIMM replacement"}};
  auto e = audit::Service::MakeEvent(rc, "job.create", "job", "100017",
                                     {{"type", "demo.sleep"}, {"params", params}});
  e.seq = 123456;
  e.time = 1764072000123456789;
  e.prev_hash = std::string(64, 'a');
  return e;
}

// What Gantry does per event today: core::Sha256Hex -> EVP_Digest(..., EVP_sha256(), ...).
void BM_Sha256Hex_OneShot(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(core::Sha256Hex(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256Hex_OneShot)->Arg(450)->Arg(1024);

// The same digest with the algorithm fetched once and one context reused (what openssl speed does).
void BM_Sha256_FetchedReusedCtx(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[32];
  unsigned int len = 0;
  for (auto _ : state) {
    EVP_DigestInit_ex2(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, out, &len);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256_FetchedReusedCtx)->Arg(450)->Arg(1024);

// The hash-chain step per event: canonical encoding + SHA-256 + hex.
void BM_ComputeHash(benchmark::State& state) {
  audit::Event e = Realistic();
  std::string scratch;
  for (auto _ : state) benchmark::DoNotOptimize(audit::ComputeHash(e, e.prev_hash, scratch));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(scratch.size()));
  state.counters["canonical_bytes"] = static_cast<double>(scratch.size());
}
BENCHMARK(BM_ComputeHash);

// Building an event (details redaction + JSON serialisation), paid by every audited write.
void BM_MakeEvent(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Realistic());
}
BENCHMARK(BM_MakeEvent);

// ---- GET /api/v1/jobs?limit=50: the response body ----

std::vector<jobs::Job> FiftyJobs() {
  std::vector<jobs::Job> out;
  for (int i = 0; i < 50; ++i) {
    jobs::Job j;
    j.id = 200 - i;
    j.type = "demo.sleep";
    j.state = "succeeded";
    j.progress = 100;
    j.message = "step 20 of 20";
    j.params = R"({"seconds":5})";
    j.result = R"({"slept_seconds":5})";
    j.attempts = 1;
    j.created_by = "alice.operator";
    j.created_at = 1764072000123456789;
    j.updated_at = j.created_at + 5000000000;
    j.started_at = j.created_at;
    j.finished_at = j.updated_at;
    out.push_back(j);
  }
  return out;
}

// What the route does today: ToJson per job, then http::ListResponse (which converts the object to
// a json::value by copy before serialising it).
void BM_JobsList50_AsToday(benchmark::State& state) {
  auto jobs = FiftyJobs();
  size_t bytes = 0;
  for (auto _ : state) {
    core::json::array items;
    for (const auto& j : jobs) items.push_back(jobs::ToJson(j));
    auto r = http::ListResponse(std::move(items), std::string("150"));
    bytes = r.body.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_JobsList50_AsToday);

// The same body with the object moved into the value that is serialised (no deep copy).
void BM_JobsList50_NoCopy(benchmark::State& state) {
  auto jobs = FiftyJobs();
  for (auto _ : state) {
    core::json::array items;
    for (const auto& j : jobs) items.push_back(jobs::ToJson(j));
    core::json::object o;
    o["items"] = std::move(items);
    o["next_cursor"] = "150";
    core::json::value v(std::move(o));
    benchmark::DoNotOptimize(core::json::serialize(v));
  }
}
BENCHMARK(BM_JobsList50_NoCopy);

// Only the per-job ToJson (4 timestamps formatted, params/result re-parsed).
void BM_JobToJson(benchmark::State& state) {
  auto j = FiftyJobs()[0];
  for (auto _ : state) benchmark::DoNotOptimize(jobs::ToJson(j));
}
BENCHMARK(BM_JobToJson);

void BM_FormatRfc3339(benchmark::State& state) {
  core::UnixNanos t = 1764072000123456789;
  for (auto _ : state) benchmark::DoNotOptimize(core::FormatRfc3339(t++));
}
BENCHMARK(BM_FormatRfc3339);

// ---- per-request overheads ----

// Every request without an X-Request-Id header: 12 bytes from the CSPRNG, hex-encoded.
void BM_RequestIdFor(benchmark::State& state) {
  http::Request r;
  for (auto _ : state) benchmark::DoNotOptimize(http::RequestIdFor(r));
}
BENCHMARK(BM_RequestIdFor);

// The token lookup of every authenticated request, on a small WAL database with one token:
// through store::Database::Query (BEGIN / statement / ROLLBACK, the first and last re-parsed by
// sqlite3_exec every time) vs. the cached prepared statement run in autocommit.
constexpr char kTokenSql[] =
    "SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.username, "
    "u.display_name, u.roles, u.disabled, u.created_at, u.last_login_at "
    "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?";

std::string g_token_db;  // removed at exit

void RemoveTokenDb() {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    std::filesystem::remove(g_token_db + suffix, ec);
  }
}

const std::string& TokenDb() {
  if (!g_token_db.empty()) return g_token_db;
  g_token_db = (std::filesystem::temp_directory_path() /
                ("gantry-micro-" + std::to_string(::getpid()) + ".db")).string();
  RemoveTokenDb();
  std::atexit(RemoveTokenDb);
  sqlite3* db = nullptr;
  sqlite3_open(g_token_db.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL;"
               "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE,"
               " display_name TEXT NOT NULL DEFAULT '', password_hash TEXT, roles TEXT NOT NULL DEFAULT '',"
               " disabled INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
               " last_login_at BIGINT);"
               "CREATE TABLE api_tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id BIGINT NOT NULL"
               " REFERENCES users(id), name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,"
               " created_at BIGINT NOT NULL, expires_at BIGINT, last_used_at BIGINT, revoked_at BIGINT);"
               "INSERT INTO users (username, roles, created_at, updated_at) VALUES ('admin', 'admin', 1, 1);"
               "INSERT INTO api_tokens (user_id, name, token_hash, created_at, last_used_at)"
               " VALUES (1, 'bench', 'abc', 1, 1);",
               nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return g_token_db;
}

void BM_TokenLookup_DatabaseQuery(benchmark::State& state) {
  auto db = store::Open("sqlite:" + TokenDb());
  if (!db) { state.SkipWithError("open failed"); return; }
  for (auto _ : state) {
    auto rs = (*db)->Query(kTokenSql, {std::string("abc")});
    if (!rs || rs->rows.size() != 1) { state.SkipWithError("lookup failed"); break; }
    benchmark::DoNotOptimize(rs);
  }
}
BENCHMARK(BM_TokenLookup_DatabaseQuery);

void BM_TokenLookup_RawPrepared(benchmark::State& state) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(TokenDb().c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v3(db, kTokenSql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  for (auto _ : state) {
    sqlite3_bind_text(st, 1, "abc", 3, SQLITE_STATIC);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      ++rows;
      benchmark::DoNotOptimize(sqlite3_column_text(st, 5));
    }
    sqlite3_reset(st);
    if (rows != 1) { state.SkipWithError("lookup failed"); break; }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}
BENCHMARK(BM_TokenLookup_RawPrepared);

}  // namespace

BENCHMARK_MAIN();
