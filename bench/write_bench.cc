// gantry_write_bench: in-process write benchmarks for docs/benchmarks.md (driven by bench/run-core.sh).
//
//   gantry_write_bench audit    --db PATH --data-dir DIR --n N   N x audit::Service::AppendStandalone
//   gantry_write_bench enqueue  --db PATH --data-dir DIR --n N   N x jobs::Service::Enqueue (demo.sleep)
//   gantry_write_bench raw      --db PATH --n N                  N x plain INSERT of the same audit rows
//   gantry_write_bench raw-jobs --db PATH --n N                  N x plain INSERT of an equivalent job row
//   gantry_write_bench populate --db PATH --data-dir DIR --n N [--batch B] [--checkpoint-every C]
//                                                                N audit events through the real
//                                                                hash chain, B per transaction
//   gantry_write_bench verify-proto --db PATH [--order seq|rowid] [--mmap-mb MB]
//                                                                a prototype of a faster chain check
//                                                                (see docs/benchmarks.md), not Gantry
//
// Every timed write commits in its own transaction. "raw" and "raw-jobs" use the sqlite3 C API
// directly with the pragmas of the Gantry SQLite backend (WAL, synchronous=FULL, foreign_keys=ON)
// on a table with the same DDL (columns and indexes) as audit_events / jobs.
//
// Prints one line: RESULT mode=<mode> n=<N> seconds=<S> ops_per_s=<X>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "app/platform.h"
#include "audit/chain.h"
#include "core/crypto.h"

#include <openssl/evp.h>

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode;
  std::string db;
  std::string data_dir = "data";
  long n = 1000;
  long batch = 1000;
  long checkpoint_every = 10000;
  std::string order = "seq";
  long mmap_mb = 0;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "gantry_write_bench: %s\n", msg.c_str());
  std::exit(1);
}

Args Parse(int argc, char** argv) {
  if (argc < 2) Die("usage: gantry_write_bench audit|enqueue|raw|raw-jobs|populate --db PATH [--data-dir DIR] [--n N]");
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Die("missing value for " + k);
    std::string v = argv[++i];
    if (k == "--db") a.db = v;
    else if (k == "--data-dir") a.data_dir = v;
    else if (k == "--n") a.n = std::atol(v.c_str());
    else if (k == "--batch") a.batch = std::atol(v.c_str());
    else if (k == "--checkpoint-every") a.checkpoint_every = std::atol(v.c_str());
    else if (k == "--order") a.order = v;
    else if (k == "--mmap-mb") a.mmap_mb = std::atol(v.c_str());
    else Die("unknown option " + k);
  }
  if (a.db.empty()) Die("--db is required");
  if (a.n < 1 || a.batch < 1) Die("--n and --batch must be positive");
  return a;
}

void Report(const Args& a, Clock::time_point start) {
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("RESULT mode=%s n=%ld seconds=%.6f ops_per_s=%.1f\n", a.mode.c_str(), a.n, s, a.n / s);
}

// A realistic request: an operator's CLI creating a job.
core::RequestContext Caller(long i) {
  core::RequestContext rc;
  rc.principal.user_id = 2;
  rc.principal.username = "alice.operator";
  rc.principal.roles = {core::Role::kOperator};
  rc.principal.auth_method = "token";
  rc.principal.token_id = 7;
  rc.source_ip = "10.20.30.40";
  rc.user_agent = "gantry-cli/0.1.0 (linux; x86_64)";
  char rid[32];
  std::snprintf(rid, sizeof rid, "%024lx", 0x5eed0000000000L + i);
  rc.request_id = rid;
  return rc;
}

// The event a job enqueue records (see jobs::Service::EnqueueInTx): ~420 canonical bytes.
audit::Event RealisticEvent(long i) {
  core::json::object params{{"seconds", 5}, {"node", "gpu-node-" + std::to_string(i % 512)},
                            {"reason", "burn-in after DIMM replacement"}};
  return audit::Service::MakeEvent(Caller(i), "job.create", "job", std::to_string(100000 + i),
                                   {{"type", "demo.sleep"}, {"params", params}});
}

std::unique_ptr<app::Platform> OpenPlatform(const Args& a) {
  std::error_code ec;
  std::filesystem::create_directories(a.data_dir, ec);
  std::filesystem::permissions(a.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  app::PlatformOptions po;
  po.db_url = "sqlite:" + a.db;
  po.data_dir = a.data_dir;
  po.create_key = true;
  po.require_key = true;
  po.pool_size = 4;
  auto p = app::Platform::Open(po);
  if (!p) Die("cannot open platform: " + p.error().message);
  return std::move(*p);
}

int RunAudit(const Args& a) {
  auto p = OpenPlatform(a);
  auto start = Clock::now();
  for (long i = 0; i < a.n; ++i) {
    if (auto st = p->audit().AppendStandalone(RealisticEvent(i)); !st) Die(st.error().message);
  }
  Report(a, start);
  return 0;
}

int RunEnqueue(const Args& a) {
  auto p = OpenPlatform(a);
  auto start = Clock::now();
  for (long i = 0; i < a.n; ++i) {
    jobs::NewJob j;
    j.type = "demo.sleep";
    j.params = {{"seconds", 5}};
    if (auto r = p->jobs().Enqueue(Caller(i), std::move(j)); !r) Die(r.error().message);
  }
  Report(a, start);
  return 0;
}

int RunPopulate(const Args& a) {
  auto p = OpenPlatform(a);
  if (auto st = p->audit().PublishPublicKey(); !st) Die(st.error().message);
  auto start = Clock::now();
  long done = 0, since_cp = 0;
  while (done < a.n) {
    auto tx = p->db().Begin(store::TxMode::kWrite);
    if (!tx) Die(tx.error().message);
    long k = std::min(a.batch, a.n - done);
    for (long i = 0; i < k; ++i) {
      if (auto st = p->audit().Append(**tx, RealisticEvent(done + i)); !st) Die(st.error().message);
    }
    if (auto st = (*tx)->Commit(); !st) Die(st.error().message);
    done += k;
    since_cp += k;
    if (since_cp >= a.checkpoint_every || done == a.n) {
      if (auto cp = p->audit().Checkpoint(); !cp) Die(cp.error().message);
      since_cp = 0;
    }
  }
  Report(a, start);
  return 0;
}

// ---- raw sqlite3 peers ----

sqlite3* OpenRaw(const std::string& path, const char* ddl) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Die("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const char* pragmas = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";
  if (sqlite3_exec(db, pragmas, nullptr, nullptr, &err) != SQLITE_OK ||
      sqlite3_exec(db, ddl, nullptr, nullptr, &err) != SQLITE_OK) {
    Die(std::string("setup: ") + (err ? err : "?"));
  }
  return db;
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
    Die(std::string("prepare: ") + sqlite3_errmsg(db));
  }
  return st;
}

void Step(sqlite3* db, sqlite3_stmt* st) {
  if (sqlite3_step(st) != SQLITE_DONE) Die(std::string("step: ") + sqlite3_errmsg(db));
  sqlite3_reset(st);
}

void BindText(sqlite3_stmt* st, int idx, const std::string& s) {
  sqlite3_bind_text(st, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

// Same columns and indexes as audit_events in src/store/migrations/0001_core.sql.
constexpr char kAuditDdl[] = R"(
CREATE TABLE IF NOT EXISTS audit_events (
  seq BIGINT PRIMARY KEY, time BIGINT NOT NULL, actor TEXT NOT NULL, actor_id BIGINT,
  source_ip TEXT NOT NULL, user_agent TEXT NOT NULL, action TEXT NOT NULL,
  target_type TEXT NOT NULL, target TEXT NOT NULL, tenant TEXT, request_id TEXT NOT NULL,
  result TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events(time);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events(actor, seq);
CREATE INDEX IF NOT EXISTS audit_events_action ON audit_events(action, seq);
CREATE INDEX IF NOT EXISTS audit_events_target ON audit_events(target, seq);
CREATE INDEX IF NOT EXISTS audit_events_tenant ON audit_events(tenant, seq);
)";

int RunRaw(const Args& a) {
  sqlite3* db = OpenRaw(a.db, kAuditDdl);
  // The same rows Gantry writes, built (and hashed) up front: the peer is the bare insert.
  std::vector<audit::Event> rows;
  rows.reserve(a.n);
  std::string prev(64, '0'), scratch;
  for (long i = 0; i < a.n; ++i) {
    audit::Event e = RealisticEvent(i);
    e.seq = i + 1;
    e.time = core::NowNanos();
    e.prev_hash = prev;
    e.hash = audit::ComputeHash(e, prev, scratch);
    prev = e.hash;
    rows.push_back(std::move(e));
  }
  sqlite3_stmt* begin = Prepare(db, "BEGIN");
  sqlite3_stmt* commit = Prepare(db, "COMMIT");
  sqlite3_stmt* ins = Prepare(db,
      "INSERT INTO audit_events (seq, time, actor, actor_id, source_ip, user_agent, action, "
      "target_type, target, tenant, request_id, result, details, prev_hash, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto start = Clock::now();
  for (const auto& e : rows) {
    Step(db, begin);
    sqlite3_bind_int64(ins, 1, e.seq);
    sqlite3_bind_int64(ins, 2, e.time);
    BindText(ins, 3, e.actor);
    if (e.actor_id) sqlite3_bind_int64(ins, 4, *e.actor_id); else sqlite3_bind_null(ins, 4);
    BindText(ins, 5, e.source_ip);
    BindText(ins, 6, e.user_agent);
    BindText(ins, 7, e.action);
    BindText(ins, 8, e.target_type);
    BindText(ins, 9, e.target);
    if (e.tenant) BindText(ins, 10, *e.tenant); else sqlite3_bind_null(ins, 10);
    BindText(ins, 11, e.request_id);
    BindText(ins, 12, e.result);
    BindText(ins, 13, e.details);
    BindText(ins, 14, e.prev_hash);
    BindText(ins, 15, e.hash);
    Step(db, ins);
    Step(db, commit);
  }
  Report(a, start);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return 0;
}

// Same columns and index as jobs in src/store/migrations/0001_core.sql.
constexpr char kJobsDdl[] = R"(
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, state TEXT NOT NULL,
  progress INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',
  params TEXT NOT NULL DEFAULT '{}', result TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3, run_after BIGINT NOT NULL, lease_owner TEXT,
  lease_expires BIGINT, cancel_requested INTEGER NOT NULL DEFAULT 0, created_by TEXT NOT NULL,
  tenant TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, started_at BIGINT,
  finished_at BIGINT);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs(state, run_after);
)";

int RunRawJobs(const Args& a) {
  sqlite3* db = OpenRaw(a.db, kJobsDdl);
  sqlite3_stmt* begin = Prepare(db, "BEGIN");
  sqlite3_stmt* commit = Prepare(db, "COMMIT");
  sqlite3_stmt* ins = Prepare(db,
      "INSERT INTO jobs (type, state, params, max_attempts, run_after, created_by, tenant, "
      "created_at, updated_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)");
  const std::string type = "demo.sleep", params = R"({"seconds":5})", by = "alice.operator";
  auto start = Clock::now();
  for (long i = 0; i < a.n; ++i) {
    int64_t now = core::NowNanos();
    Step(db, begin);
    BindText(ins, 1, type);
    BindText(ins, 2, params);
    sqlite3_bind_int64(ins, 3, 3);
    sqlite3_bind_int64(ins, 4, now);
    BindText(ins, 5, by);
    sqlite3_bind_null(ins, 6);
    sqlite3_bind_int64(ins, 7, now);
    sqlite3_bind_int64(ins, 8, now);
    Step(db, ins);
    Step(db, commit);
  }
  Report(a, start);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return 0;
}

// The chain check of audit::Service::Verify (hash of each event over its stored prev_hash, equal
// to its stored hash, prev_hash equal to the previous hash, contiguous seq) without the overheads
// found in the profile: one statement streamed with sqlite3_step instead of materialised 5000-row
// ResultSets of std::variant values copied again into Events; SHA-256 fetched once and one
// EVP_MD_CTX reused instead of EVP_Digest(EVP_sha256()) (an implicit fetch per event); the event and
// the canonical buffer reused. Checkpoint signatures are not checked (20 of them: negligible).
// Prints RESULT like the other modes plus bytes_per_s (the same byte count `audit verify` reports).
int RunVerifyProto(const Args& a) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(a.db.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    Die("cannot open " + a.db);
  }
  if (a.mmap_mb > 0) {
    std::string pragma = "PRAGMA mmap_size=" + std::to_string(a.mmap_mb * 1024 * 1024);
    sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr);
  }
  std::string sql =
      "SELECT seq, time, actor, actor_id, source_ip, user_agent, action, target_type, target, tenant, "
      "request_id, result, details, prev_hash, hash FROM audit_events ORDER BY " +
      std::string(a.order == "rowid" ? "rowid" : "seq");
  sqlite3_stmt* st = Prepare(db, sql.c_str());
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  auto text = [&](int c, std::string& out) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
    out.assign(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, c)));
  };
  audit::Event e;
  std::string scratch, prev(64, '0'), hex(64, '\0');
  int64_t expected = 1, bytes = 0;
  auto start = Clock::now();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    e.seq = sqlite3_column_int64(st, 0);
    e.time = sqlite3_column_int64(st, 1);
    text(2, e.actor);
    if (sqlite3_column_type(st, 3) == SQLITE_NULL) e.actor_id.reset(); else e.actor_id = sqlite3_column_int64(st, 3);
    text(4, e.source_ip);
    text(5, e.user_agent);
    text(6, e.action);
    text(7, e.target_type);
    text(8, e.target);
    if (sqlite3_column_type(st, 9) == SQLITE_NULL) e.tenant.reset(); else { e.tenant.emplace(); text(9, *e.tenant); }
    text(10, e.request_id);
    text(11, e.result);
    text(12, e.details);
    text(13, e.prev_hash);
    auto* stored = reinterpret_cast<const char*>(sqlite3_column_text(st, 14));
    if (e.seq != expected) Die("seq " + std::to_string(e.seq) + " out of order");
    if (e.prev_hash != prev) Die("event " + std::to_string(e.seq) + " does not follow its predecessor");
    scratch.clear();
    scratch.append(e.prev_hash);
    scratch += '\n';
    audit::AppendCanonical(e, scratch);
    unsigned char d[32];
    unsigned int len = 0;
    EVP_DigestInit_ex2(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, scratch.data(), scratch.size());
    EVP_DigestFinal_ex(ctx, d, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 32; ++i) {
      hex[2 * i] = kHex[d[i] >> 4];
      hex[2 * i + 1] = kHex[d[i] & 15];
    }
    if (!stored || sqlite3_column_bytes(st, 14) != 64 || std::memcmp(stored, hex.data(), 64) != 0) {
      Die("event " + std::to_string(e.seq) + " was altered");
    }
    prev.assign(hex);
    bytes += static_cast<int64_t>(scratch.size());
    ++expected;
  }
  if (rc != SQLITE_DONE) Die(std::string("scan: ") + sqlite3_errmsg(db));
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("RESULT mode=verify-proto order=%s mmap_mb=%ld n=%ld seconds=%.6f ops_per_s=%.1f bytes=%ld bytes_per_s=%.0f\n",
              a.order.c_str(), a.mmap_mb, static_cast<long>(expected - 1), s, (expected - 1) / s,
              static_cast<long>(bytes), bytes / s);
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  if (a.mode == "audit") return RunAudit(a);
  if (a.mode == "enqueue") return RunEnqueue(a);
  if (a.mode == "populate") return RunPopulate(a);
  if (a.mode == "raw") return RunRaw(a);
  if (a.mode == "raw-jobs") return RunRawJobs(a);
  if (a.mode == "verify-proto") return RunVerifyProto(a);
  Die("unknown mode '" + a.mode + "'");
}
