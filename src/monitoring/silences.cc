#include "monitoring/silences.h"

#include <set>

#include "monitoring/outbound.h"
#include "monitoring/promql_scope.h"

namespace gantry::monitoring {

namespace {

constexpr size_t kPerSilence = 500;
constexpr size_t kMaxCovered = 20'000;

// CI types whose alerts carry a gantry_ci label (targets of the HTTP SD and exporters).
bool Alerting(const std::string& type) {
  return type == "server" || type == "switch" || type == "pdu" || type == "bmc" || type == "gpu";
}

core::json::array Strings(const std::vector<std::string>& v) {
  core::json::array a;
  for (const auto& s : v) a.push_back(core::json::value(s));
  return a;
}

std::vector<std::string> FromJson(const std::string& text) {
  std::vector<std::string> out;
  auto v = core::ParseJson(text);
  if (v && v->is_array()) {
    for (const auto& x : v->as_array()) {
      if (x.is_string()) out.emplace_back(x.as_string());
    }
  }
  return out;
}

Silence FromRow(const store::Row& r) {
  Silence s;
  s.id = r.Int(0);
  s.ci_id = r.Int(1);
  s.ci = r.Str(2);
  s.silence_ids = FromJson(r.Str(3));
  auto m = core::ParseObject(r.Str(4));
  if (m) {
    if (auto* c = m->if_contains("covered"); c && c->is_array()) {
      for (const auto& x : c->as_array()) s.covered.emplace_back(x.as_string());
    }
    if (auto* c = m->if_contains("comment"); c && c->is_string()) s.comment = std::string(c->as_string());
  }
  s.created_by = r.Str(5);
  s.created_at = r.Int(6);
  s.ends_at = r.Int(7);
  s.removed_at = r.OptInt(8);
  s.origin = r.Str(9);
  return s;
}

constexpr char kColumns[] = "id, ci_id, ci, silence_id, matchers, created_by, created_at, ends_at, removed_at, origin";

core::Status Expire(const std::string& url, const std::string& id) {
  OutboundRequest r;
  r.method = "DELETE";
  r.url = url + "/api/v2/silence/" + id;
  auto a = Send(r);
  if (!a) return core::Unavailable("Alertmanager unreachable: " + a.error().message);
  if (a->status != 200 && a->status != 404) {
    return core::Unavailable("Alertmanager answered HTTP " + std::to_string(a->status) + " to expiring silence " + id);
  }
  return {};
}

}  // namespace

core::json::object ToJson(const Silence& s) {
  return {{"id", s.id},
          {"ci_id", s.ci_id},
          {"ci", s.ci},
          {"silence_ids", Strings(s.silence_ids)},
          {"covered", Strings(s.covered)},
          {"created_by", s.created_by},
          {"comment", s.comment},
          {"created_at", core::FormatRfc3339(s.created_at)},
          {"ends_at", core::FormatRfc3339(s.ends_at)},
          {"removed_at", s.removed_at ? core::json::value(core::FormatRfc3339(*s.removed_at)) : core::json::value(nullptr)},
          {"origin", s.origin}};
}

SilenceManager::SilenceManager(store::Database& db, const audit::Service& audit, cmdb::Service& cmdb,
                               const core::Clock& clock, std::string alertmanager_url)
    : db_(db), audit_(audit), cmdb_(cmdb), clock_(clock), url_(std::move(alertmanager_url)) {
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
}

core::Result<Silence> SilenceManager::Create(const core::RequestContext& rc, std::string_view ci_ref,
                                             std::chrono::minutes duration, std::string comment,
                                             std::string origin) {
  if (duration.count() < 1 || duration.count() > 60 * 24 * 14) {
    return core::InvalidArgument("minutes must be between 1 and 20160 (14 days)", "minutes");
  }
  if (comment.size() > 1000) return core::InvalidArgument("comment must be at most 1000 bytes", "comment");
  GANTRY_TRY(auto ci, cmdb_.GetCi(rc, ci_ref));
  if (url_.empty()) {
    return core::Unavailable("no Alertmanager configured (gantry serve --alertmanager-url)");
  }
  GANTRY_TRY_STATUS(cmdb_.Sync());
  std::set<std::string> covered;
  if (Alerting(ci.type)) covered.insert(ci.type + "/" + ci.name);
  auto impact = cmdb_.graph().ImpactOf(ci.id, cmdb::TraversalOptions{0, 200'000, {}});
  for (size_t i = 0; i < impact.nodes.size() && covered.size() < kMaxCovered; ++i) {
    const std::string& type = impact.TypeOf(i);
    if (!Alerting(type)) continue;
    auto info = cmdb_.graph().Find(impact.nodes[i].id);
    if (info) covered.insert(type + "/" + info->name);
  }
  if (covered.empty()) covered.insert(ci.type + "/" + ci.name);
  std::vector<std::string> list(covered.begin(), covered.end());

  core::UnixNanos now = clock_.Now();
  core::UnixNanos ends = now + std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
  std::string text = "Gantry maintenance of " + ci.type + "/" + ci.name + (comment.empty() ? "" : ": " + comment);
  std::vector<std::string> ids;
  auto undo = [&] {
    for (const auto& id : ids) (void)Expire(url_, id);
  };
  for (size_t start = 0; start < list.size(); start += kPerSilence) {
    std::string alt;
    for (size_t i = start; i < std::min(list.size(), start + kPerSilence); ++i) {
      alt += (alt.empty() ? "" : "|") + RegexEscape(list[i]);
    }
    core::json::object body{
        {"matchers", core::json::array{core::json::object{
                         {"name", "gantry_ci"}, {"value", alt}, {"isRegex", true}, {"isEqual", true}}}},
        {"startsAt", core::FormatRfc3339(now)},
        {"endsAt", core::FormatRfc3339(ends)},
        {"createdBy", "gantry:" + rc.principal.username},
        {"comment", text}};
    OutboundRequest r;
    r.method = "POST";
    r.url = url_ + "/api/v2/silences";
    r.body = core::ToJson(body);
    r.headers = {"Content-Type: application/json"};
    auto a = Send(r);
    if (!a || a->status != 200) {
      undo();
      if (!a) return core::Unavailable("Alertmanager unreachable: " + a.error().message);
      return core::Unavailable("Alertmanager refused the silence: HTTP " + std::to_string(a->status) + " " +
                               a->body.substr(0, 200));
    }
    auto parsed = core::ParseObject(a->body);
    auto* sid = parsed ? parsed->if_contains("silenceID") : nullptr;
    if (!sid || !sid->is_string()) {
      undo();
      return core::Unavailable("Alertmanager's answer has no silenceID");
    }
    ids.emplace_back(sid->as_string());
  }
  Silence s;
  s.ci_id = ci.id;
  s.ci = ci.type + "/" + ci.name;
  s.silence_ids = ids;
  s.covered = list;
  s.created_by = rc.principal.username;
  s.comment = comment;
  s.created_at = now;
  s.ends_at = ends;
  s.origin = origin;
  auto stored = [&]() -> core::Result<int64_t> {
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kWrite));
    core::json::object matchers{{"covered", Strings(list)}, {"comment", comment}};
    GANTRY_TRY(auto rs, tx->Exec("INSERT INTO mon_silences (ci_id, ci, silence_id, matchers, created_by, created_at, "
                                 "ends_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                 {s.ci_id, s.ci, core::ToJson(Strings(ids)), core::ToJson(matchers),
                                  s.created_by, s.created_at, s.ends_at, s.origin}));
    int64_t id = rs.rows.at(0).Int(0);
    auto e = audit::Service::MakeEvent(rc, "monitoring.silence.create", "ci", s.ci,
                                       core::json::object{{"silence", id}, {"covered", static_cast<int64_t>(list.size())},
                                                          {"ends_at", core::FormatRfc3339(ends)},
                                                          {"origin", origin}});
    e.tenant = ci.tenant;
    GANTRY_TRY_STATUS(audit_.Append(*tx, std::move(e)));
    GANTRY_TRY_STATUS(tx->Commit());
    return id;
  }();
  if (!stored) {
    undo();
    return stored.error();
  }
  s.id = *stored;
  return s;
}

core::Result<Silence> SilenceManager::Remove(const core::RequestContext& rc, int64_t id) {
  Silence s;
  {
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(auto rs, tx->Exec(std::string("SELECT ") + kColumns + " FROM mon_silences WHERE id = ?", {id}));
    if (rs.rows.empty()) return core::NotFound("no silence " + std::to_string(id));
    s = FromRow(rs.rows[0]);
  }
  if (s.removed_at) return core::FailedPrecondition("silence " + std::to_string(id) + " was already removed");
  if (url_.empty()) return core::Unavailable("no Alertmanager configured (gantry serve --alertmanager-url)");
  for (const auto& sid : s.silence_ids) GANTRY_TRY_STATUS(Expire(url_, sid));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kWrite));
  core::UnixNanos now = clock_.Now();
  GANTRY_TRY(auto upd, tx->Exec("UPDATE mon_silences SET removed_at = ? WHERE id = ? AND removed_at IS NULL", {now, id}));
  if (upd.affected == 0) return core::FailedPrecondition("silence " + std::to_string(id) + " was already removed");
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "monitoring.silence.remove", "ci", s.ci,
                                                                 core::json::object{{"silence", id}})));
  GANTRY_TRY_STATUS(tx->Commit());
  s.removed_at = now;
  return s;
}

core::Result<std::vector<Silence>> SilenceManager::List(const core::RequestContext&, bool active_only) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  std::string sql = std::string("SELECT ") + kColumns + " FROM mon_silences";
  store::Params p;
  if (active_only) {
    sql += " WHERE removed_at IS NULL AND ends_at > ?";
    p.emplace_back(clock_.Now());
  }
  sql += " ORDER BY id DESC LIMIT 1000";
  GANTRY_TRY(auto rs, tx->Exec(sql, p));
  std::vector<Silence> out;
  for (const auto& r : rs.rows) out.push_back(FromRow(r));
  return out;
}

}  // namespace gantry::monitoring
