#include "monitoring/store.h"

namespace gantry::monitoring::Store {

namespace {

constexpr char kIncidentColumns[] =
    "id, title, state, severity, unmapped, ci_id, ci, tenant, alertname, assignee, context, alerts, "
    "firing, opened_at, updated_at, resolved_at";
constexpr char kAlertColumns[] =
    "id, incident_id, fingerprint, alertname, status, labels, annotations, ci_id, ci, matched_by, "
    "starts_at, ends_at, received_at";

core::json::object ObjectOr(const std::string& text) {
  auto o = core::ParseObject(text);
  return o ? std::move(*o) : core::json::object{};
}

Incident IncidentFromRow(const store::Row& r) {
  Incident i;
  i.id = r.Int(0);
  i.title = r.Str(1);
  i.state = r.Str(2);
  i.severity = r.Str(3);
  i.unmapped = r.Bool(4);
  i.ci_id = r.OptInt(5);
  i.ci = r.Str(6);
  i.tenant = r.OptStr(7);
  i.alertname = r.Str(8);
  i.assignee = r.OptStr(9);
  i.context = ObjectOr(r.Str(10));
  i.alerts = r.Int(11);
  i.firing = r.Int(12);
  i.opened_at = r.Int(13);
  i.updated_at = r.Int(14);
  i.resolved_at = r.OptInt(15);
  return i;
}

AlertRecord AlertFromRow(const store::Row& r) {
  AlertRecord a;
  a.id = r.Int(0);
  a.incident_id = r.Int(1);
  a.fingerprint = r.Str(2);
  a.alertname = r.Str(3);
  a.status = r.Str(4);
  a.labels = ObjectOr(r.Str(5));
  a.annotations = ObjectOr(r.Str(6));
  a.ci_id = r.OptInt(7);
  a.ci = r.Str(8);
  a.matched_by = r.Str(9);
  a.starts_at = r.Int(10);
  a.ends_at = r.OptInt(11);
  a.received_at = r.Int(12);
  return a;
}

}  // namespace

core::Result<bool> RecordReceipt(store::Tx& tx, const std::string& sha256, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT 1 FROM mon_webhook_receipts WHERE body_sha256 = ?", {sha256}));
  if (!rs.rows.empty()) return false;
  GANTRY_TRY_STATUS(tx.Exec("INSERT INTO mon_webhook_receipts (body_sha256, received_at) VALUES (?, ?)",
                            {sha256, now}));
  return true;
}

core::Status PruneReceipts(store::Tx& tx, core::UnixNanos older_than) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM mon_webhook_receipts WHERE received_at < ?", {older_than}));
  return {};
}

core::Result<std::optional<AlertRecord>> FindAlert(store::Tx& tx, const std::string& fingerprint,
                                                   core::UnixNanos starts_at) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kAlertColumns +
                                  " FROM mon_alerts WHERE fingerprint = ? AND starts_at = ?",
                              {fingerprint, starts_at}));
  if (rs.rows.empty()) return std::optional<AlertRecord>();
  return std::optional<AlertRecord>(AlertFromRow(rs.rows[0]));
}

core::Result<int64_t> InsertAlert(store::Tx& tx, const AlertRecord& a) {
  GANTRY_TRY(auto rs,
             tx.Exec("INSERT INTO mon_alerts (incident_id, fingerprint, alertname, status, labels, "
                     "annotations, ci_id, ci, matched_by, starts_at, ends_at, received_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     {a.incident_id, a.fingerprint, a.alertname, a.status,
                      core::ToJson(a.labels), core::ToJson(a.annotations), store::Opt(a.ci_id),
                      a.ci, a.matched_by, a.starts_at, store::Opt(a.ends_at), a.received_at}));
  return rs.rows.at(0).Int(0);
}

core::Status UpdateAlertStatus(store::Tx& tx, int64_t id, const std::string& status,
                               std::optional<core::UnixNanos> ends_at) {
  GANTRY_TRY_STATUS(tx.Exec("UPDATE mon_alerts SET status = ?, ends_at = ? WHERE id = ?",
                            {status, store::Opt(ends_at), id}));
  return {};
}

core::Result<std::vector<AlertRecord>> AlertsOf(store::Tx& tx, int64_t incident_id, int limit) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kAlertColumns +
                                  " FROM mon_alerts WHERE incident_id = ? ORDER BY id LIMIT ?",
                              {incident_id, int64_t{limit}}));
  std::vector<AlertRecord> out;
  for (const auto& r : rs.rows) out.push_back(AlertFromRow(r));
  return out;
}

core::Result<int64_t> InsertIncident(store::Tx& tx, const Incident& i) {
  GANTRY_TRY(auto rs,
             tx.Exec("INSERT INTO mon_incidents (title, state, severity, unmapped, ci_id, ci, tenant, "
                     "alertname, assignee, context, alerts, firing, opened_at, updated_at, resolved_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     {i.title, i.state, i.severity, int64_t{i.unmapped ? 1 : 0}, store::Opt(i.ci_id),
                      i.ci, store::Opt(i.tenant), i.alertname, store::Opt(i.assignee),
                      core::ToJson(i.context), i.alerts, i.firing, i.opened_at, i.updated_at,
                      store::Opt(i.resolved_at)}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Incident>> GetIncident(store::Tx& tx, int64_t id, bool for_update,
                                                  store::Backend backend) {
  std::string sql = std::string("SELECT ") + kIncidentColumns + " FROM mon_incidents WHERE id = ?";
  if (for_update && backend == store::Backend::kPostgres) sql += " FOR UPDATE";
  GANTRY_TRY(auto rs, tx.Exec(sql, {id}));
  if (rs.rows.empty()) return std::optional<Incident>();
  return std::optional<Incident>(IncidentFromRow(rs.rows[0]));
}

core::Status UpdateIncident(store::Tx& tx, const Incident& i) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE mon_incidents SET title = ?, state = ?, severity = ?, assignee = ?, alerts = ?, "
      "firing = ?, updated_at = ?, resolved_at = ? WHERE id = ?",
      {i.title, i.state, i.severity, store::Opt(i.assignee), i.alerts, i.firing, i.updated_at,
       store::Opt(i.resolved_at), i.id}));
  return {};
}

core::Result<std::vector<Incident>> ActiveIncidents(store::Tx& tx, int limit) {
  // The context column is not needed for grouping (and is the bulk of a row): read '{}'.
  std::string columns = kIncidentColumns;
  columns.replace(columns.find("context"), 7, "'{}'");
  GANTRY_TRY(auto rs, tx.Exec("SELECT " + columns +
                                  " FROM mon_incidents WHERE state <> 'resolved' ORDER BY id DESC LIMIT ?",
                              {int64_t{limit}}));
  std::vector<Incident> out;
  for (const auto& r : rs.rows) out.push_back(IncidentFromRow(r));
  return out;
}

core::Result<std::vector<Incident>> ListIncidents(store::Tx& tx, const IncidentFilter& f) {
  std::string sql = std::string("SELECT ") + kIncidentColumns + " FROM mon_incidents WHERE 1 = 1";
  store::Params p;
  if (f.state) {
    sql += " AND state = ?";
    p.emplace_back(*f.state);
  }
  if (f.before_id) {
    sql += " AND id < ?";
    p.emplace_back(*f.before_id);
  }
  if (f.visible_tenants) {
    if (f.visible_tenants->empty()) return std::vector<Incident>{};
    sql += " AND tenant IN (";
    for (size_t i = 0; i < f.visible_tenants->size(); ++i) {
      sql += i ? ", ?" : "?";
      p.emplace_back((*f.visible_tenants)[i]);
    }
    sql += ")";
  }
  sql += " ORDER BY id DESC LIMIT ?";
  p.emplace_back(int64_t{f.limit});
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Incident> out;
  for (const auto& r : rs.rows) out.push_back(IncidentFromRow(r));
  return out;
}

core::Status Recount(store::Tx& tx, int64_t incident_id) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE mon_incidents SET alerts = (SELECT COUNT(*) FROM mon_alerts WHERE incident_id = ?), "
      "firing = (SELECT COUNT(*) FROM mon_alerts WHERE incident_id = ? AND status = 'firing') "
      "WHERE id = ?",
      {incident_id, incident_id, incident_id}));
  return {};
}

core::Status AddTimeline(store::Tx& tx, const TimelineEntry& e) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO mon_timeline (incident_id, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)",
      {e.incident_id, e.at, e.actor, e.kind, e.text}));
  return {};
}

core::Result<std::vector<TimelineEntry>> TimelineOf(store::Tx& tx, int64_t incident_id, int limit) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id, incident_id, at, actor, kind, text FROM mon_timeline "
                              "WHERE incident_id = ? ORDER BY id LIMIT ?",
                              {incident_id, int64_t{limit}}));
  std::vector<TimelineEntry> out;
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), r.Int(1), r.Int(2), r.Str(3), r.Str(4), r.Str(5)});
  }
  return out;
}

}  // namespace gantry::monitoring::Store
