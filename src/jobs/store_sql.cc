#include "jobs/store.h"

namespace gantry::jobs {

namespace {

constexpr char kColumns[] =
    "id, type, state, progress, message, params, result, error, attempts, max_attempts, "
    "run_after, lease_owner, lease_expires, cancel_requested, created_by, tenant, created_at, "
    "updated_at, started_at, finished_at";

Job FromRow(const store::Row& r) {
  Job j;
  j.id = r.Int(0);
  j.type = r.Str(1);
  j.state = r.Str(2);
  j.progress = static_cast<int>(r.Int(3));
  j.message = r.Str(4);
  j.params = r.Str(5);
  j.result = r.OptStr(6);
  j.error = r.OptStr(7);
  j.attempts = static_cast<int>(r.Int(8));
  j.max_attempts = static_cast<int>(r.Int(9));
  j.run_after = r.Int(10);
  j.lease_owner = r.OptStr(11);
  j.lease_expires = r.OptInt(12);
  j.cancel_requested = r.Bool(13);
  j.created_by = r.Str(14);
  j.tenant = r.OptStr(15);
  j.created_at = r.Int(16);
  j.updated_at = r.Int(17);
  j.started_at = r.OptInt(18);
  j.finished_at = r.OptInt(19);
  return j;
}

}  // namespace

core::Result<int64_t> Store::Insert(store::Tx& tx, const NewJob& j, const std::string& created_by,
                                    core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec(
      "INSERT INTO jobs (type, state, params, max_attempts, run_after, created_by, tenant, "
      "created_at, updated_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {j.type, core::json::serialize(j.params), int64_t{j.max_attempts}, now, created_by,
       store::Opt(j.tenant), now, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<bool> Store::HasQueued(store::Tx& tx, std::string_view type) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id FROM jobs WHERE state = 'queued' AND type = ? "
                              "AND attempts = 0 LIMIT 1",
                              {std::string(type)}));
  return !rs.rows.empty();
}

core::Result<std::optional<Job>> Store::Get(store::Tx& tx, int64_t id) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kColumns + " FROM jobs WHERE id = ?", {id}));
  if (rs.rows.empty()) return std::optional<Job>{};
  return std::optional<Job>(FromRow(rs.rows[0]));
}

core::Result<std::vector<LogLine>> Store::Log(store::Database& db, int64_t id, int limit) {
  GANTRY_TRY(auto rs, db.Query(
      "SELECT id, time, line FROM (SELECT id, time, line FROM job_logs WHERE job_id = ? "
      "ORDER BY id DESC LIMIT ?) last ORDER BY id",
      {id, int64_t{limit}}));
  std::vector<LogLine> out;
  for (const auto& r : rs.rows) out.push_back({r.Int(0), r.Int(1), r.Str(2)});
  return out;
}

core::Result<std::vector<Job>> Store::List(store::Database& db, const ListFilter& f) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM jobs WHERE 1=1";
  store::Params p;
  if (f.state) { sql += " AND state = ?"; p.emplace_back(*f.state); }
  if (f.type) { sql += " AND type = ?"; p.emplace_back(*f.type); }
  if (f.created_by) { sql += " AND created_by = ?"; p.emplace_back(*f.created_by); }
  if (f.before_id) { sql += " AND id < ?"; p.emplace_back(*f.before_id); }
  sql += " ORDER BY id DESC LIMIT ?";
  p.emplace_back(int64_t{f.limit});
  GANTRY_TRY(auto rs, db.Query(sql, p));
  std::vector<Job> out;
  for (const auto& r : rs.rows) out.push_back(FromRow(r));
  return out;
}

core::Result<std::optional<Job>> Store::Claim(store::Database& db, const std::string& owner,
                                              core::UnixNanos now, int64_t lease_nanos) {
  std::string pick =
      "SELECT id FROM jobs WHERE (state = 'queued' AND run_after <= ?) OR "
      "(state = 'running' AND lease_expires < ?) ORDER BY run_after, id LIMIT 1";
  if (db.backend() == store::Backend::kPostgres) pick += " FOR UPDATE SKIP LOCKED";
  GANTRY_TRY(auto tx, db.Begin());
  GANTRY_TRY(auto rs, tx->Exec(
      "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, "
      "attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ? "
      "WHERE id = (" + pick + ") RETURNING " + kColumns,
      {owner, now + lease_nanos, now, now, now, now}));
  if (rs.rows.empty()) return std::optional<Job>{};
  Job j = FromRow(rs.rows[0]);
  GANTRY_TRY_STATUS(AppendLog(*tx, j.id,
                              "attempt " + std::to_string(j.attempts) + " started on " + owner, now));
  GANTRY_TRY_STATUS(tx->Commit());
  return std::optional<Job>(std::move(j));
}

core::Result<std::optional<bool>> Store::Heartbeat(store::Database& db, int64_t id,
                                                   const std::string& owner, core::UnixNanos now,
                                                   int64_t lease_nanos) {
  GANTRY_TRY(auto rs, db.Exec(
      "UPDATE jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ? AND state = 'running' "
      "RETURNING cancel_requested",
      {now + lease_nanos, id, owner}));
  if (rs.rows.empty()) return std::optional<bool>{};
  return std::optional<bool>(rs.rows[0].Bool(0));
}

core::Status Store::SetProgress(store::Database& db, int64_t id, const std::string& owner,
                                int progress, const std::string& message, core::UnixNanos now) {
  GANTRY_TRY_STATUS(db.Exec(
      "UPDATE jobs SET progress = ?, message = ?, updated_at = ? WHERE id = ? AND lease_owner = ?",
      {int64_t{progress}, message, now, id, owner}));
  return {};
}

core::Status Store::AppendLog(store::Database& db, int64_t id, const std::string& line,
                              core::UnixNanos now) {
  GANTRY_TRY_STATUS(db.Exec("INSERT INTO job_logs (job_id, time, line) VALUES (?, ?, ?)",
                            {id, now, line}));
  return {};
}

core::Status Store::AppendLog(store::Tx& tx, int64_t id, const std::string& line,
                              core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec("INSERT INTO job_logs (job_id, time, line) VALUES (?, ?, ?)",
                            {id, now, line}));
  return {};
}

core::Result<bool> Store::Finish(store::Tx& tx, int64_t id, const std::string& owner,
                                 const std::string& state, int progress,
                                 const std::optional<std::string>& result,
                                 const std::optional<std::string>& error, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec(
      "UPDATE jobs SET state = ?, progress = ?, result = ?, error = ?, lease_owner = NULL, "
      "lease_expires = NULL, finished_at = ?, updated_at = ? "
      "WHERE id = ? AND lease_owner = ? AND state = 'running'",
      {state, int64_t{progress}, store::Opt(result), store::Opt(error), now, now, id, owner}));
  return rs.affected > 0;
}

core::Result<bool> Store::Requeue(store::Tx& tx, int64_t id, const std::string& owner,
                                  const std::string& error, core::UnixNanos run_after,
                                  core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec(
      "UPDATE jobs SET state = 'queued', error = ?, lease_owner = NULL, lease_expires = NULL, "
      "run_after = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
      {error, run_after, now, id, owner}));
  return rs.affected > 0;
}

core::Status Store::RequestCancel(store::Tx& tx, int64_t id, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE jobs SET cancel_requested = 1, updated_at = ?, "
      "state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END, "
      "finished_at = CASE WHEN state = 'queued' THEN ? ELSE finished_at END WHERE id = ?",
      {now, now, id}));
  return {};
}

core::Result<std::vector<QueueCount>> Store::CountByState(store::Database& db) {
  GANTRY_TRY(auto rs, db.Query("SELECT state, COUNT(*) FROM jobs GROUP BY state"));
  std::vector<QueueCount> out;
  for (const auto& r : rs.rows) out.push_back({r.Str(0), r.Int(1)});
  return out;
}

}  // namespace gantry::jobs
