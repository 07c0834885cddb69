#include "audit/store.h"

namespace gantry::audit {

namespace {

constexpr char kColumns[] =
    "seq, time, actor, actor_id, source_ip, user_agent, action, target_type, target, tenant, "
    "request_id, result, details, prev_hash, hash";

Event FromRow(const store::Row& r) {
  Event e;
  e.seq = r.Int(0);
  e.time = r.Int(1);
  e.actor = r.Str(2);
  e.actor_id = r.OptInt(3);
  e.source_ip = r.Str(4);
  e.user_agent = r.Str(5);
  e.action = r.Str(6);
  e.target_type = r.Str(7);
  e.target = r.Str(8);
  e.tenant = r.OptStr(9);
  e.request_id = r.Str(10);
  e.result = r.Str(11);
  e.details = r.Str(12);
  e.prev_hash = r.Str(13);
  e.hash = r.Str(14);
  return e;
}

}  // namespace

core::Result<Head> Store::LockHead(store::Tx& tx, store::Backend backend) {
  GANTRY_TRY(auto rs, tx.Exec(backend == store::Backend::kPostgres
                                  ? "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
                                  : "SELECT seq, hash FROM audit_head WHERE id = 1"));
  if (rs.rows.empty()) return core::Internal("audit_head row missing");
  return Head{rs.rows[0].Int(0), rs.rows[0].Str(1)};
}

core::Status Store::Insert(store::Tx& tx, const Event& e) {
  GANTRY_TRY_STATUS(tx.Exec(
      std::string("INSERT INTO audit_events (") + kColumns +
          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {e.seq, e.time, e.actor, store::Opt(e.actor_id), e.source_ip, e.user_agent, e.action,
       e.target_type, e.target, store::Opt(e.tenant), e.request_id, e.result, e.details,
       e.prev_hash, e.hash}));
  return {};
}

core::Status Store::SetHead(store::Tx& tx, const Head& head) {
  GANTRY_TRY_STATUS(
      tx.Exec("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", {head.seq, head.hash}));
  return {};
}

core::Result<Head> Store::ReadHead(store::Database& db) {
  GANTRY_TRY(auto rs, db.Query("SELECT seq, hash FROM audit_head WHERE id = 1"));
  if (rs.rows.empty()) return core::Internal("audit_head row missing");
  return Head{rs.rows[0].Int(0), rs.rows[0].Str(1)};
}

core::Result<std::vector<Event>> Store::Search(store::Database& db, const SearchFilter& f) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_events WHERE 1=1";
  store::Params p;
  if (f.actor) { sql += " AND actor = ?"; p.emplace_back(*f.actor); }
  if (f.action) {
    if (f.action->ends_with("*")) {
      sql += " AND action LIKE ? ESCAPE '\\'";
      p.emplace_back(store::EscapeLike(f.action->substr(0, f.action->size() - 1)) + "%");
    } else {
      sql += " AND action = ?";
      p.emplace_back(*f.action);
    }
  }
  if (f.target) { sql += " AND target = ?"; p.emplace_back(*f.target); }
  if (f.tenant) { sql += " AND tenant = ?"; p.emplace_back(*f.tenant); }
  if (f.result) { sql += " AND result = ?"; p.emplace_back(*f.result); }
  if (f.since) { sql += " AND time >= ?"; p.emplace_back(*f.since); }
  if (f.until) { sql += " AND time < ?"; p.emplace_back(*f.until); }
  if (f.before_seq) { sql += " AND seq < ?"; p.emplace_back(*f.before_seq); }
  sql += " ORDER BY seq DESC LIMIT ?";
  p.emplace_back(int64_t{f.limit});
  GANTRY_TRY(auto rs, db.Query(sql, p));
  std::vector<Event> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) out.push_back(FromRow(r));
  return out;
}

core::Status Store::Scan(store::Database& db, const std::function<bool(const Event&)>& fn) {
  int64_t after = -1;
  constexpr int64_t kBatch = 5000;
  while (true) {
    GANTRY_TRY(auto rs, db.Query(std::string("SELECT ") + kColumns +
                                     " FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                                 {after, kBatch}));
    for (const auto& r : rs.rows) {
      Event e = FromRow(r);
      after = e.seq;
      if (!fn(e)) return {};
    }
    if (static_cast<int64_t>(rs.rows.size()) < kBatch) return {};
  }
}

core::Result<std::vector<Checkpoint>> Store::Checkpoints(store::Database& db) {
  GANTRY_TRY(auto rs, db.Query(
      "SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq"));
  std::vector<Checkpoint> out;
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), r.Str(1), r.Int(2), r.Str(3), r.Str(4)});
  }
  return out;
}

core::Status Store::InsertCheckpoint(store::Database& db, const Checkpoint& c) {
  GANTRY_TRY_STATUS(db.Exec(
      "INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (seq) DO NOTHING",
      {c.seq, c.hash, c.time, c.key_id, c.signature}));
  return {};
}

}  // namespace gantry::audit
