#include "monitoring/service.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "auth/policy.h"
#include "core/crypto.h"
#include "monitoring/outbound.h"
#include "monitoring/store.h"

namespace gantry::monitoring {

namespace {

constexpr size_t kMaxLabels = 64;
constexpr size_t kMaxLabelBytes = 4096;
constexpr size_t kMaxNoteBytes = 8192;
constexpr int kMaxActive = 1000;  // active incidents considered for grouping
constexpr core::UnixNanos kReceiptRetention = 7LL * 24 * 3600 * 1'000'000'000;

int SeverityRank(const std::string& s) {
  if (s == "critical") return 3;
  if (s == "warning") return 2;
  if (s == "info") return 1;
  return 0;
}

core::Result<core::json::object> StringMap(const core::json::object& alert, std::string_view key,
                                           bool required) {
  auto* v = alert.if_contains(key);
  if (!v) {
    if (required) return core::InvalidArgument("alert." + std::string(key) + " is required", std::string(key));
    return core::json::object{};
  }
  if (!v->is_object()) return core::InvalidArgument("alert." + std::string(key) + " must be an object", std::string(key));
  const auto& o = v->as_object();
  if (o.size() > kMaxLabels) {
    return core::InvalidArgument("alert." + std::string(key) + " has more than 64 entries", std::string(key));
  }
  for (const auto& [k, val] : o) {
    if (!val.is_string() || k.size() > 256 || val.as_string().size() > kMaxLabelBytes) {
      return core::InvalidArgument("alert." + std::string(key) + "." + std::string(k).substr(0, 64) +
                                       " must be a string of at most 4096 bytes", std::string(key));
    }
  }
  return o;
}

bool IsHex(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string Label(const core::json::object& labels, std::string_view key) {
  auto* v = labels.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

struct Service::Parsed {
  AlertRecord alert;
  std::optional<CiMatch> match;
  std::string severity;
};

Service::Service(store::Database& db, const audit::Service& audit, cmdb::Service& cmdb,
                 const core::Clock& clock, MonitoringConfig config)
    : db_(db),
      audit_(audit),
      cmdb_(cmdb),
      clock_(clock),
      config_(config),
      resolver_(cmdb, config.resolver_refresh),
      targets_(cmdb, config.targets),
      notifier_(config.notify_webhooks),
      metrics_(config.prometheus_url),
      silences_(db, audit, cmdb, clock, config.alertmanager_url),
      maintenance_(db, cmdb, silences_, clock, config.alertmanager_url) {}

PeerStatus Service::Peers() const {
  auto probe = [](const std::string& url) -> std::string {
    if (url.empty()) return "not configured";
    OutboundRequest r;
    r.url = url + "/-/ready";
    r.connect_timeout = std::chrono::milliseconds(1000);
    r.timeout = std::chrono::milliseconds(2000);
    r.max_answer = 4096;
    auto a = Send(r);
    if (!a) return "unreachable: " + a.error().message;
    if (a->status != 200) return "not ready: HTTP " + std::to_string(a->status);
    return "ok";
  };
  return {probe(config_.prometheus_url), probe(config_.alertmanager_url)};
}

core::Result<std::vector<Service::Parsed>> Service::Parse(std::string_view body) const {
  GANTRY_TRY(auto root, core::ParseObject(body));
  auto* version = root.if_contains("version");
  if (!version || !version->is_string() || version->as_string() != "4") {
    return core::InvalidArgument("version must be \"4\" (Alertmanager webhook format)", "version");
  }
  auto* alerts = root.if_contains("alerts");
  if (!alerts || !alerts->is_array()) return core::InvalidArgument("alerts must be an array", "alerts");
  if (alerts->as_array().size() > config_.max_alerts_per_body) {
    return core::InvalidArgument("more than " + std::to_string(config_.max_alerts_per_body) +
                                 " alerts in one body", "alerts");
  }
  std::vector<Parsed> out;
  core::UnixNanos now = clock_.Now();
  for (const auto& v : alerts->as_array()) {
    if (!v.is_object()) return core::InvalidArgument("every alert must be an object", "alerts");
    const auto& a = v.as_object();
    Parsed p;
    GANTRY_TRY(auto status, core::GetString(a, "status"));
    if (status != "firing" && status != "resolved") {
      return core::InvalidArgument("alert.status must be firing or resolved", "status");
    }
    p.alert.status = status;
    GANTRY_TRY(p.alert.labels, StringMap(a, "labels", true));
    GANTRY_TRY(p.alert.annotations, StringMap(a, "annotations", false));
    p.alert.alertname = Label(p.alert.labels, "alertname");
    if (p.alert.alertname.empty()) return core::InvalidArgument("alert.labels.alertname is required", "labels");
    GANTRY_TRY(auto starts, core::GetString(a, "startsAt"));
    GANTRY_TRY(p.alert.starts_at, core::ParseRfc3339(starts));
    GANTRY_TRY(auto ends, core::OptString(a, "endsAt"));
    if (ends && !ends->starts_with("0001-")) {
      GANTRY_TRY(auto e, core::ParseRfc3339(*ends));
      p.alert.ends_at = e;
    }
    GANTRY_TRY(auto fp, core::OptString(a, "fingerprint"));
    if (fp) {
      if (!IsHex(*fp)) return core::InvalidArgument("alert.fingerprint must be hexadecimal", "fingerprint");
      p.alert.fingerprint = *fp;
    } else {
      // Alertmanager always sends one; for other senders: a hash of the sorted labels.
      std::map<std::string, std::string> sorted;
      for (const auto& [k, val] : p.alert.labels) sorted[std::string(k)] = std::string(val.as_string());
      std::string canon;
      for (const auto& [k, val] : sorted) canon += k + '\xff' + val + '\xff';
      p.alert.fingerprint = core::Sha256Hex(canon).substr(0, 16);
    }
    p.alert.received_at = now;
    p.severity = Label(p.alert.labels, "severity");
    out.push_back(std::move(p));
  }
  return out;
}

void Service::Notify(const std::string& event, const Incident& i) {
  if (!notifier_.enabled()) return;
  notifier_.Enqueue(core::json::object{{"event", event}, {"incident", ToJson(i)}});
}

core::Result<IngestReport> Service::IngestAlertmanager(const core::RequestContext& rc,
                                                       std::string_view body) {
  GANTRY_TRY(auto parsed, Parse(body));
  for (auto& p : parsed) {
    p.match = resolver_.Resolve(p.alert.labels);
    if (p.match) {
      p.alert.ci_id = p.match->id;
      p.alert.ci = p.match->ci;
      p.alert.matched_by = p.match->matched_by;
    }
  }
  const std::string sha = core::Sha256Hex(body);
  core::UnixNanos now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kWrite));
  GANTRY_TRY(bool fresh, Store::RecordReceipt(*tx, sha, now));
  if (!fresh) {
    return core::Conflict("this webhook body was already received (sha256 " + sha.substr(0, 16) +
                          "…); nothing changed");
  }
  GANTRY_TRY(auto active, Store::ActiveIncidents(*tx, kMaxActive));
  IngestReport report;
  std::set<int64_t> touched;
  std::vector<Incident> opened;
  auto touch = [&](int64_t id) {
    if (touched.insert(id).second) report.incidents.push_back(id);
  };
  auto timeline = [&](int64_t incident, std::string kind, std::string text) -> core::Status {
    return Store::AddTimeline(*tx, {0, incident, now, "alertmanager", std::move(kind), std::move(text)});
  };
  auto describe = [](const AlertRecord& a) {
    std::string what = a.alertname;
    if (!a.ci.empty()) what += " on " + a.ci;
    else if (auto inst = Label(a.labels, "instance"); !inst.empty()) what += " on " + inst;
    if (auto s = a.annotations.if_contains("summary"); s && s->is_string()) {
      what += ": " + std::string(s->as_string());
    }
    return what;
  };

  // 1. Alerts seen before: only a status change matters (retries and repeats change nothing).
  std::vector<Parsed*> fresh_alerts;
  for (auto& p : parsed) {
    ++report.alerts;
    GANTRY_TRY(auto existing, Store::FindAlert(*tx, p.alert.fingerprint, p.alert.starts_at));
    if (!existing) {
      fresh_alerts.push_back(&p);
      continue;
    }
    if (existing->status == p.alert.status) {
      ++report.unchanged;
      continue;
    }
    GANTRY_TRY_STATUS(Store::UpdateAlertStatus(*tx, existing->id, p.alert.status, p.alert.ends_at));
    GANTRY_TRY_STATUS(timeline(existing->incident_id,
                               p.alert.status == "resolved" ? "alert_resolved" : "alert",
                               describe(p.alert)));
    touch(existing->incident_id);
    ++report.updated;
  }

  // 2. New alerts join an active incident about their CI or a CI upstream of it (same
  //    alertname), or an active unmapped incident of the same alertname.
  std::unordered_map<int64_t, std::unordered_set<int64_t>> upstream_cache;
  auto upstream_of = [&](int64_t ci) -> const std::unordered_set<int64_t>& {
    auto it = upstream_cache.find(ci);
    if (it != upstream_cache.end()) return it->second;
    std::unordered_set<int64_t> ids{ci};
    auto tr = cmdb_.graph().UpstreamOf(ci, cmdb::TraversalOptions{12, 20'000, {}});
    for (const auto& n : tr.nodes) ids.insert(n.id);
    return upstream_cache.emplace(ci, std::move(ids)).first->second;
  };
  auto attach = [&](Parsed& p, Incident& incident) -> core::Status {
    p.alert.incident_id = incident.id;
    GANTRY_TRY_STATUS(Store::InsertAlert(*tx, p.alert));
    GANTRY_TRY_STATUS(timeline(incident.id, p.alert.status == "firing" ? "alert" : "alert_resolved",
                               describe(p.alert)));
    if (SeverityRank(p.severity) > SeverityRank(incident.severity)) incident.severity = p.severity;
    touch(incident.id);
    ++report.created;
    if (!p.match) ++report.unmapped;
    return {};
  };
  std::vector<Parsed*> unplaced;
  for (Parsed* p : fresh_alerts) {
    Incident* target = nullptr;
    for (auto& inc : active) {
      if (inc.alertname != p->alert.alertname && !(p->match && inc.ci_id == p->match->id)) continue;
      if (!p->match) {
        if (inc.unmapped) target = &inc;
      } else if (inc.ci_id && upstream_of(p->match->id).contains(*inc.ci_id)) {
        target = &inc;
      }
      if (target) break;
    }
    if (target) {
      GANTRY_TRY_STATUS(attach(*p, *target));
    } else {
      unplaced.push_back(p);
    }
  }

  // 3. The rest open incidents: per alertname, mapped alerts on several CIs go to their closest
  //    common cause; otherwise one incident per CI; unmapped alerts one per alertname.
  std::map<std::string, std::vector<Parsed*>> by_name;
  for (Parsed* p : unplaced) by_name[p->alert.alertname].push_back(p);
  auto open_incident = [&](const std::string& alertname, std::optional<int64_t> ci,
                           const std::string& title) -> core::Result<Incident*> {
    Incident inc;
    inc.title = title;
    inc.alertname = alertname;
    inc.opened_at = inc.updated_at = now;
    if (ci) {
      inc.ci_id = ci;
      auto info = cmdb_.graph().Find(*ci);
      inc.ci = info ? info->type + "/" + info->name : std::to_string(*ci);
      inc.context = resolver_.Context(*ci);
      if (auto* t = inc.context.if_contains("tenant"); t && t->is_string()) {
        inc.tenant = std::string(t->as_string());
      }
    } else {
      inc.unmapped = true;
    }
    GANTRY_TRY(inc.id, Store::InsertIncident(*tx, inc));
    GANTRY_TRY_STATUS(timeline(inc.id, "opened", title));
    active.push_back(inc);
    opened.push_back(inc);
    return &active.back();
  };
  for (auto& [name, alerts] : by_name) {
    std::vector<Parsed*> unmapped;
    std::map<int64_t, std::vector<Parsed*>> by_ci;
    for (Parsed* p : alerts) {
      if (p->match) by_ci[p->match->id].push_back(p);
      else unmapped.push_back(p);
    }
    if (!unmapped.empty()) {
      std::string where = Label(unmapped[0]->alert.labels, "instance");
      std::string title = name + " (unmapped" + (where.empty() ? "" : ": " + where) + ")";
      GANTRY_TRY(Incident* inc, open_incident(name, std::nullopt, title));
      int64_t id = inc->id;
      for (Parsed* p : unmapped) {
        Incident* cur = nullptr;
        for (auto& a : active) if (a.id == id) cur = &a;
        GANTRY_TRY_STATUS(attach(*p, *cur));
      }
    }
    std::optional<int64_t> common;
    std::vector<std::string> also;
    if (by_ci.size() >= 2 && by_ci.size() <= 64) {
      std::vector<int64_t> ids;
      for (const auto& [id, _] : by_ci) ids.push_back(id);
      auto cu = cmdb_.graph().CommonUpstream(ids, cmdb::TraversalOptions{12, 20'000, {}});
      if (cu && cu->common && !cu->causes.empty()) {
        // Several causes can explain the group (a row holding both racks, and the spine both
        // leaves hang off): a device that fails (switch, PDU, ...) is the better first guess
        // than a place that only contains things; the others are named in the title.
        for (const auto& c : cu->causes) {
          auto info = cmdb_.graph().Find(c.ci);
          bool place = info && (info->type == "site" || info->type == "room" || info->type == "row" ||
                                info->type == "rack");
          if (!place) {
            common = c.ci;
            break;
          }
        }
        if (!common) common = cu->causes.front().ci;
        for (const auto& c : cu->causes) {
          if (c.ci == *common || also.size() >= 3) continue;
          auto info = cmdb_.graph().Find(c.ci);
          if (info) also.push_back(info->type + "/" + info->name);
        }
      }
    }
    if (common) {
      auto info = cmdb_.graph().Find(*common);
      std::string cause = info ? info->type + "/" + info->name : std::to_string(*common);
      std::string title = name + " on " + std::to_string(by_ci.size()) + " CIs; common cause " + cause;
      if (!also.empty()) {
        title += " (or ";
        for (size_t k = 0; k < also.size(); ++k) title += (k ? ", " : "") + also[k];
        title += ")";
      }
      GANTRY_TRY(Incident* inc, open_incident(name, common, title));
      int64_t id = inc->id;
      for (auto& [ci, list] : by_ci) {
        for (Parsed* p : list) {
          Incident* cur = nullptr;
          for (auto& a : active) if (a.id == id) cur = &a;
          GANTRY_TRY_STATUS(attach(*p, *cur));
        }
      }
      continue;
    }
    for (auto& [ci, list] : by_ci) {
      std::string title = name + " on " + list.front()->match->ci;
      GANTRY_TRY(Incident* inc, open_incident(name, ci, title));
      int64_t id = inc->id;
      for (Parsed* p : list) {
        Incident* cur = nullptr;
        for (auto& a : active) if (a.id == id) cur = &a;
        GANTRY_TRY_STATUS(attach(*p, *cur));
      }
    }
  }

  // 4. Recount what was touched; an incident whose alerts have all resolved is resolved.
  std::vector<Incident> resolved_now;
  for (int64_t id : report.incidents) {
    GANTRY_TRY_STATUS(Store::Recount(*tx, id));
    GANTRY_TRY(auto inc, Store::GetIncident(*tx, id, true, db_.backend()));
    if (!inc) continue;
    for (const auto& a : active) {
      if (a.id == id && SeverityRank(a.severity) > SeverityRank(inc->severity)) inc->severity = a.severity;
    }
    inc->updated_at = now;
    if (inc->firing == 0 && inc->state != kResolved) {
      inc->state = kResolved;
      inc->resolved_at = now;
      GANTRY_TRY_STATUS(timeline(id, "resolved", "all alerts resolved"));
      resolved_now.push_back(*inc);
    }
    GANTRY_TRY_STATUS(Store::UpdateIncident(*tx, *inc));
    for (auto& o : opened) {
      if (o.id == id) o = *inc;
    }
  }
  if (now % 64 == 0) GANTRY_TRY_STATUS(Store::PruneReceipts(*tx, now - kReceiptRetention));
  core::json::array ids;
  for (int64_t id : report.incidents) ids.push_back(id);
  auto e = audit::Service::MakeEvent(rc, "monitoring.alerts.ingest", "alertmanager", sha.substr(0, 16),
                                     core::json::object{{"alerts", report.alerts},
                                                        {"created", report.created},
                                                        {"updated", report.updated},
                                                        {"unchanged", report.unchanged},
                                                        {"incidents", ids}});
  GANTRY_TRY_STATUS(audit_.Append(*tx, std::move(e)));
  GANTRY_TRY_STATUS(tx->Commit());
  for (const auto& i : opened) Notify("incident.opened", i);
  for (const auto& i : resolved_now) Notify("incident.resolved", i);
  return report;
}

core::Result<std::string> Service::Targets(const core::RequestContext&, std::string_view kind) {
  return targets_.Targets(kind);
}

core::Result<std::vector<Incident>> Service::ListIncidents(const core::RequestContext& rc,
                                                           IncidentFilter f) {
  if (f.state && *f.state != kOpen && *f.state != kAcknowledged && *f.state != kResolved) {
    return core::InvalidArgument("state must be open, acknowledged or resolved", "state");
  }
  if (!auth::SeesAllTenants(rc.principal)) {
    std::vector<std::string> tenants;
    for (const auto& m : rc.principal.tenants) tenants.push_back(m.tenant);
    f.visible_tenants = tenants;
  }
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListIncidents(*tx, f);
}

core::Result<Incident> Service::Visible(store::Tx& tx, const core::RequestContext& rc, int64_t id,
                                        bool for_update) const {
  GANTRY_TRY(auto inc, Store::GetIncident(tx, id, for_update, db_.backend()));
  bool visible = inc.has_value();
  if (visible && !auth::SeesAllTenants(rc.principal)) {
    visible = false;
    for (const auto& m : rc.principal.tenants) visible = visible || (inc->tenant && m.tenant == *inc->tenant);
  }
  if (!visible) return core::NotFound("no incident " + std::to_string(id));
  return *inc;
}

core::Result<core::json::object> Service::GetIncident(const core::RequestContext& rc, int64_t id) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto inc, Visible(*tx, rc, id, false));
  GANTRY_TRY(auto alerts, Store::AlertsOf(*tx, id, 1000));
  GANTRY_TRY(auto events, Store::TimelineOf(*tx, id, 1000));
  core::json::object o = ToJson(inc);
  core::json::array aj, tj;
  for (const auto& a : alerts) aj.push_back(ToJson(a));
  for (const auto& t : events) tj.push_back(ToJson(t));
  o["alert_list"] = std::move(aj);
  o["timeline"] = std::move(tj);
  return o;
}

core::Result<Incident> Service::Change(
    const core::RequestContext& rc, int64_t id, const std::string& action,
    const std::function<core::Status(Incident&, std::vector<TimelineEntry>&)>& edit) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kWrite));
  GANTRY_TRY(auto inc, Visible(*tx, rc, id, true));
  std::string before = inc.state;
  std::vector<TimelineEntry> entries;
  GANTRY_TRY_STATUS(edit(inc, entries));
  core::UnixNanos now = clock_.Now();
  inc.updated_at = now;
  GANTRY_TRY_STATUS(Store::UpdateIncident(*tx, inc));
  for (auto& e : entries) {
    e.incident_id = id;
    e.at = now;
    e.actor = rc.principal.username;
    GANTRY_TRY_STATUS(Store::AddTimeline(*tx, e));
  }
  auto ev = audit::Service::MakeEvent(rc, action, "incident", std::to_string(id),
                                      core::json::object{{"from", before}, {"to", inc.state}});
  ev.tenant = inc.tenant;
  GANTRY_TRY_STATUS(audit_.Append(*tx, std::move(ev)));
  GANTRY_TRY_STATUS(tx->Commit());
  if (before != inc.state) Notify("incident." + inc.state, inc);
  return inc;
}

namespace {

core::Status CheckText(const std::string& text, const char* field) {
  if (text.size() > kMaxNoteBytes) {
    return core::InvalidArgument(std::string(field) + " must be at most 8192 bytes", field);
  }
  return {};
}

}  // namespace

core::Result<Incident> Service::Acknowledge(const core::RequestContext& rc, int64_t id,
                                            std::optional<std::string> assignee,
                                            std::optional<std::string> note) {
  if (assignee) GANTRY_TRY_STATUS(CheckText(*assignee, "assignee"));
  if (note) GANTRY_TRY_STATUS(CheckText(*note, "note"));
  return Change(rc, id, "incident.acknowledge", [&](Incident& i, std::vector<TimelineEntry>& t) -> core::Status {
    if (i.state == kResolved) return core::FailedPrecondition("incident " + std::to_string(id) + " is resolved");
    if (i.state == kAcknowledged && !assignee && !note) {
      return core::FailedPrecondition("incident " + std::to_string(id) + " is already acknowledged");
    }
    i.state = kAcknowledged;
    i.assignee = assignee ? assignee : (i.assignee ? i.assignee : std::optional<std::string>(rc.principal.username));
    t.push_back({0, 0, 0, "", "acknowledged", "assignee " + *i.assignee});
    if (note) t.push_back({0, 0, 0, "", "note", *note});
    return {};
  });
}

core::Result<Incident> Service::Resolve(const core::RequestContext& rc, int64_t id,
                                        std::optional<std::string> note) {
  if (note) GANTRY_TRY_STATUS(CheckText(*note, "note"));
  return Change(rc, id, "incident.resolve", [&](Incident& i, std::vector<TimelineEntry>& t) -> core::Status {
    if (i.state == kResolved) return core::FailedPrecondition("incident " + std::to_string(id) + " is already resolved");
    i.state = kResolved;
    i.resolved_at = clock_.Now();
    t.push_back({0, 0, 0, "", "resolved", note.value_or("resolved by hand")});
    return {};
  });
}

core::Result<Incident> Service::Assign(const core::RequestContext& rc, int64_t id, std::string assignee) {
  if (assignee.empty()) return core::InvalidArgument("assignee must not be empty", "assignee");
  GANTRY_TRY_STATUS(CheckText(assignee, "assignee"));
  return Change(rc, id, "incident.assign", [&](Incident& i, std::vector<TimelineEntry>& t) -> core::Status {
    i.assignee = assignee;
    t.push_back({0, 0, 0, "", "assigned", assignee});
    return {};
  });
}

core::Result<Incident> Service::AddNote(const core::RequestContext& rc, int64_t id, std::string text) {
  if (text.empty()) return core::InvalidArgument("text must not be empty", "text");
  GANTRY_TRY_STATUS(CheckText(text, "text"));
  return Change(rc, id, "incident.note", [&](Incident&, std::vector<TimelineEntry>& t) -> core::Status {
    t.push_back({0, 0, 0, "", "note", text});
    return {};
  });
}

}  // namespace gantry::monitoring
