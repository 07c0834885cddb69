#include "monitoring/maintenance.h"

#include <map>
#include <set>

#include "jobs/worker.h"
#include "monitoring/outbound.h"
#include "monitoring/promql_scope.h"

namespace gantry::monitoring {

namespace {

constexpr auto kSilenceLength = std::chrono::minutes(60 * 24 * 14);
constexpr size_t kMaxGateCis = 5000;

struct Recorded {
  int64_t silence = 0;
  int64_t ci_id = 0;
  std::string ci;
};

// CIs in maintenance (id → "type/name") and the active maintenance silences.
core::Status ReadState(store::Database& db, core::UnixNanos now, std::map<int64_t, std::string>& wanted,
                       std::vector<Recorded>& active) {
  GANTRY_TRY(auto tx, db.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto cis, tx->Exec("SELECT id, type, name FROM cmdb_cis WHERE status = 'maintenance'", {}));
  for (const auto& r : cis.rows) wanted[r.Int(0)] = r.Str(1) + "/" + r.Str(2);
  GANTRY_TRY(auto rs, tx->Exec("SELECT id, ci_id, ci FROM mon_silences WHERE origin = 'maintenance' AND "
                               "removed_at IS NULL AND ends_at > ? ORDER BY id",
                               {now}));
  for (const auto& r : rs.rows) active.push_back({r.Int(0), r.Int(1), r.Str(2)});
  return {};
}

core::json::array Strings(const std::vector<std::string>& v) {
  core::json::array a;
  for (const auto& s : v) a.push_back(core::json::value(s));
  return a;
}

std::string PercentEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

core::json::object ToJson(const MaintenanceReport& r) {
  return {{"in_maintenance", r.in_maintenance},
          {"created", Strings(r.created)},
          {"removed", Strings(r.removed)},
          {"errors", Strings(r.errors)}};
}

Maintenance::Maintenance(store::Database& db, cmdb::Service& cmdb, SilenceManager& silences,
                         const core::Clock& clock, std::string alertmanager_url)
    : db_(db), cmdb_(cmdb), silences_(silences), clock_(clock), url_(std::move(alertmanager_url)) {
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
}

core::Result<bool> Maintenance::Pending() {
  std::map<int64_t, std::string> wanted;
  std::vector<Recorded> active;
  GANTRY_TRY_STATUS(ReadState(db_, clock_.Now(), wanted, active));
  std::set<int64_t> have;
  for (const auto& a : active) {
    if (!wanted.contains(a.ci_id)) return true;
    have.insert(a.ci_id);
  }
  return have.size() != wanted.size();
}

core::Result<MaintenanceReport> Maintenance::Reconcile(const core::RequestContext& rc) {
  std::lock_guard lock(mu_);
  std::map<int64_t, std::string> wanted;
  std::vector<Recorded> active;
  GANTRY_TRY_STATUS(ReadState(db_, clock_.Now(), wanted, active));
  MaintenanceReport report;
  report.in_maintenance = static_cast<int64_t>(wanted.size());
  if (url_.empty() && (!wanted.empty() || !active.empty())) {
    return core::Unavailable("no Alertmanager configured (gantry serve --alertmanager-url): maintenance silences cannot be made");
  }
  std::set<int64_t> have;
  for (const auto& a : active) {
    if (wanted.contains(a.ci_id)) {
      have.insert(a.ci_id);
      continue;
    }
    auto removed = silences_.Remove(rc, a.silence);
    if (removed || removed.error().code == core::Code::kFailedPrecondition) {
      report.removed.push_back(a.ci);
    } else {
      report.errors.push_back("expiring the silence of " + a.ci + ": " + removed.error().message);
    }
  }
  for (const auto& [id, label] : wanted) {
    if (have.contains(id)) continue;
    auto made = silences_.Create(rc, std::to_string(id), kSilenceLength, "CMDB status maintenance", "maintenance");
    if (made) {
      report.created.push_back(label);
    } else {
      report.errors.push_back("silencing " + label + ": " + made.error().message);
    }
  }
  return report;
}

core::Result<MaintenanceReport> Maintenance::SetStatus(const core::RequestContext& rc,
                                                       const std::vector<std::string>& refs,
                                                       const std::string& status) {
  if (refs.empty()) return core::InvalidArgument("no CIs given", "cis");
  if (refs.size() > kMaxGateCis) return core::InvalidArgument("at most 5000 CIs at once", "cis");
  for (const auto& ref : refs) {
    GANTRY_TRY(auto ci, cmdb_.GetCi(rc, ref));
    if (ci.status == status) continue;
    cmdb::CiPatch patch;
    patch.status = status;
    patch.expected_version = ci.version;
    GANTRY_TRY_STATUS(cmdb_.UpdateCi(rc, std::to_string(ci.id), std::move(patch)));
  }
  auto report = Reconcile(core::RequestContext::System("maintenance"));
  if (!report) {
    MaintenanceReport pending;
    pending.errors.push_back(report.error().message);
    return pending;
  }
  return report;
}

core::Result<MaintenanceReport> Maintenance::Enter(const core::RequestContext& rc, const std::vector<std::string>& refs) {
  return SetStatus(rc, refs, "maintenance");
}

core::Result<MaintenanceReport> Maintenance::Leave(const core::RequestContext& rc, const std::vector<std::string>& refs) {
  return SetStatus(rc, refs, "active");
}

core::Result<std::vector<CriticalAlert>> Maintenance::NewCriticalAlertsSince(const core::RequestContext&,
                                                                             const std::vector<int64_t>& ci_ids,
                                                                             core::UnixNanos since) {
  if (ci_ids.empty()) return std::vector<CriticalAlert>{};
  if (ci_ids.size() > kMaxGateCis) return core::InvalidArgument("at most 5000 CIs at once", "cis");
  std::vector<CriticalAlert> out;
  std::map<std::string, int64_t> by_label;  // "type/name" → id
  {
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    std::string in;
    store::Params p;
    for (int64_t id : ci_ids) {
      in += in.empty() ? "?" : ", ?";
      p.emplace_back(id);
    }
    GANTRY_TRY(auto cis, tx->Exec("SELECT id, type, name FROM cmdb_cis WHERE id IN (" + in + ")", p));
    for (const auto& r : cis.rows) by_label[r.Str(1) + "/" + r.Str(2)] = r.Int(0);
    p.emplace_back(since);
    GANTRY_TRY(auto rs, tx->Exec("SELECT alertname, ci, fingerprint, ci_id, starts_at, labels FROM mon_alerts "
                                 "WHERE ci_id IN (" + in + ") AND starts_at >= ? ORDER BY starts_at, id",
                                 p));
    for (const auto& r : rs.rows) {
      auto labels = core::ParseObject(r.Str(5));
      auto* sev = labels ? labels->if_contains("severity") : nullptr;
      if (!sev || !sev->is_string() || sev->as_string() != "critical") continue;
      out.push_back({r.Str(0), r.Str(1), r.Str(2), r.Int(3), r.Int(4), "gantry"});
    }
  }
  if (url_.empty() || by_label.empty()) return out;
  std::set<std::string> seen;
  for (const auto& a : out) seen.insert(a.fingerprint);
  std::string alt;
  for (const auto& [label, _] : by_label) alt += (alt.empty() ? "" : "|") + RegexEscape(label);
  OutboundRequest r;
  r.url = url_ + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true&filter=" +
          PercentEncode("severity=\"critical\"") + "&filter=" + PercentEncode("gantry_ci=~\"" + alt + "\"");
  GANTRY_TRY(auto a, Send(r));
  if (a.status != 200) {
    return core::Unavailable("Alertmanager answered HTTP " + std::to_string(a.status) + " to the alert query");
  }
  auto v = core::ParseJson(a.body);
  if (!v || !v->is_array()) return core::Unavailable("Alertmanager's alert list is not a JSON array");
  for (const auto& x : v->as_array()) {
    if (!x.is_object()) continue;
    const auto& o = x.as_object();
    auto* labels = o.if_contains("labels");
    auto* starts = o.if_contains("startsAt");
    auto* fp = o.if_contains("fingerprint");
    if (!labels || !labels->is_object() || !starts || !starts->is_string() || !fp || !fp->is_string()) continue;
    auto* ci = labels->as_object().if_contains("gantry_ci");
    auto* name = labels->as_object().if_contains("alertname");
    if (!ci || !ci->is_string()) continue;
    auto t = core::ParseRfc3339(starts->as_string());
    if (!t || *t < since) continue;
    auto it = by_label.find(std::string(ci->as_string()));
    if (it == by_label.end() || seen.contains(std::string(fp->as_string()))) continue;
    seen.insert(std::string(fp->as_string()));
    out.push_back({name && name->is_string() ? std::string(name->as_string()) : "", it->first,
                   std::string(fp->as_string()), it->second, *t, "alertmanager"});
  }
  return out;
}

core::Status Maintenance::ServersQuietSince(const std::vector<std::string>& server_names, core::UnixNanos since) {
  auto rc = core::RequestContext::System("maintenance");
  std::vector<int64_t> ids;
  for (const auto& name : server_names) {
    auto ci = cmdb_.GetCi(rc, "server/" + name);
    if (ci) ids.push_back(ci->id);
  }
  GANTRY_TRY(auto alerts, NewCriticalAlertsSince(rc, ids, since));
  if (alerts.empty()) return {};
  const auto& a = alerts.front();
  return core::FailedPrecondition(std::to_string(alerts.size()) + " new critical alert(s) since " +
                                  core::FormatRfc3339(since) + ", first " + a.alertname + " on " + a.ci +
                                  " at " + core::FormatRfc3339(a.starts_at));
}

void RegisterMaintenanceJobType(jobs::Registry& registry, Maintenance& maintenance) {
  registry.Add(jobs::JobType{
      kMaintenanceJobType,
      "Makes the Alertmanager maintenance silences follow the CMDB: a silence for every CI whose "
      "status is maintenance (and what depends on it), expired when it no longer is.",
      [](const core::json::object& params) -> core::Status {
        if (!params.empty()) return core::InvalidArgument("monitoring.maintenance_sync takes no parameters");
        return {};
      },
      [&maintenance](jobs::JobContext& ctx) -> core::Result<core::json::object> {
        ctx.Progress(10, "reconciling maintenance silences");
        GANTRY_TRY(auto report, maintenance.Reconcile(core::RequestContext::System("maintenance")));
        for (const auto& c : report.created) ctx.Log("silenced " + c);
        for (const auto& c : report.removed) ctx.Log("expired the silence of " + c);
        for (const auto& e : report.errors) ctx.Log(e);
        if (report.pending()) {
          return core::Unavailable(std::to_string(report.errors.size()) + " step(s) failed, first: " + report.errors[0]);
        }
        ctx.Progress(100, "done");
        return ToJson(report);
      },
      true});
}

core::Result<bool> EnqueueMaintenanceSyncIfPending(Maintenance& maintenance, jobs::Service& jobs) {
  if (!maintenance.configured()) return false;  // nothing could be done; the job would only fail
  GANTRY_TRY(bool pending, maintenance.Pending());
  if (!pending) return false;
  for (const char* state : {jobs::kQueued, jobs::kRunning}) {
    jobs::ListFilter lf;
    lf.type = kMaintenanceJobType;
    lf.state = state;
    lf.limit = 1;
    GANTRY_TRY(auto l, jobs.List(core::RequestContext::System(), lf));
    if (!l.empty()) return false;
  }
  GANTRY_TRY_STATUS(jobs.Enqueue(core::RequestContext::System(), jobs::NewJob{kMaintenanceJobType, {}, 10, std::nullopt}));
  return true;
}

}  // namespace gantry::monitoring
