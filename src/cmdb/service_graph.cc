// CMDB service, part 3: graph questions answered from the in-memory index, with names and
// explanation paths, and the context other domains attach to alerts.
#include <set>

#include "cmdb/service.h"

namespace gantry::cmdb {

namespace {

const char* DirName(HopDirection d) { return d == HopDirection::kForward ? "forward" : "reverse"; }

core::json::array HopsJson(const std::vector<Hop>& hops, const std::map<int64_t, std::string>& labels) {
  core::json::array out;
  auto name = [&](int64_t id) {
    auto it = labels.find(id);
    return it == labels.end() ? std::to_string(id) : it->second;
  };
  for (const auto& h : hops) {
    out.push_back({{"from", name(h.from)}, {"relation", h.relation}, {"direction", DirName(h.direction)},
                   {"to", name(h.to)}, {"from_id", h.from}, {"to_id", h.to}});
  }
  return out;
}

}  // namespace

core::Result<std::vector<Ci>> Service::Named(const std::vector<int64_t>& ids) {
  GANTRY_TRY(auto cis, Store::GetCis(db_, ids));
  std::map<int64_t, Ci> by_id;
  for (auto& c : cis) by_id[c.id] = std::move(c);
  std::vector<Ci> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    auto it = by_id.find(id);
    if (it != by_id.end()) out.push_back(it->second);
  }
  return out;
}

core::Result<core::json::object> Service::TraversalJson(const core::RequestContext& rc, const Ci& origin,
                                                        const TraversalResult& tr, const char* kind) {
  std::vector<int64_t> ids;
  for (const auto& n : tr.nodes) ids.push_back(n.id);
  GANTRY_TRY(auto cis, Named(ids));
  std::map<int64_t, const Ci*> by_id;
  for (const auto& c : cis) by_id[c.id] = &c;
  std::map<int64_t, std::string> labels;
  for (const auto& c : cis) labels[c.id] = Label(c);
  labels[origin.id] = Label(origin);
  auto visible = VisibleTenants(rc);
  std::set<int64_t> seen_ids = VisibleIds(rc, cis);
  auto can_see = [&](const Ci& c) { return seen_ids.count(c.id) > 0; };
  core::json::array items;
  core::json::object by_type;
  std::set<std::string> tenants, services;
  int64_t hidden = 0;
  for (size_t i = 0; i < tr.nodes.size(); ++i) {
    const auto& n = tr.nodes[i];
    if (n.id == origin.id) continue;
    auto it = by_id.find(n.id);
    if (it == by_id.end()) continue;
    const Ci& c = *it->second;
    if (c.tenant) tenants.insert(*c.tenant);
    if (c.type == "tenant") tenants.insert(c.name);
    if (!can_see(c)) {
      ++hidden;
      continue;
    }
    if (c.type == "service") services.insert(c.name);
    int64_t cnt = by_type.contains(c.type) ? by_type[c.type].as_int64() : 0;
    by_type[c.type] = cnt + 1;
    items.push_back({{"ci", ToJson(c)}, {"depth", n.depth}, {"path", HopsJson(tr.PathTo(i), labels)}});
  }
  core::json::array tj, sj;
  if (!visible) {
    for (const auto& t : tenants) tj.push_back(core::json::string(t));
  }
  for (const auto& s : services) sj.push_back(core::json::string(s));
  core::json::object o{{"question", kind}, {"ci", ToJson(origin)}, {"total", static_cast<int64_t>(items.size())},
                       {"truncated", tr.truncated}, {"by_type", by_type}, {"tenants", tj},
                       {"services", sj}, {"items", items}};
  if (visible) o["hidden"] = hidden;  // affected CIs of other tenants: counted, not named
  return o;
}

core::Result<core::json::object> Service::Impact(const core::RequestContext& rc, std::string_view ref,
                                                 int max_depth, int max_results) {
  GANTRY_TRY(auto ci, GetCi(rc, ref));
  GANTRY_TRY_STATUS(Sync());
  auto tr = graph_->ImpactOf(ci.id, TraversalOptions{max_depth, static_cast<size_t>(max_results), {}});
  return TraversalJson(rc, ci, tr, "impact");
}

core::Result<core::json::object> Service::RootCause(const core::RequestContext& rc, std::string_view ref,
                                                    int max_depth, int max_results) {
  GANTRY_TRY(auto ci, GetCi(rc, ref));
  GANTRY_TRY_STATUS(Sync());
  auto tr = graph_->UpstreamOf(ci.id, TraversalOptions{max_depth, static_cast<size_t>(max_results), {}});
  return TraversalJson(rc, ci, tr, "root-cause");
}

core::Result<core::json::object> Service::CommonCause(const core::RequestContext& rc,
                                                      const std::vector<std::string>& refs) {
  std::vector<int64_t> ids;
  for (const auto& r : refs) {
    GANTRY_TRY(auto ci, GetCi(rc, r));
    ids.push_back(ci.id);
  }
  GANTRY_TRY_STATUS(Sync());
  GANTRY_TRY(auto res, graph_->CommonUpstream(ids, TraversalOptions{32, 200000, {}}));
  std::vector<int64_t> all = ids;
  for (const auto& c : res.causes) {
    all.push_back(c.ci);
    for (const auto& p : c.paths) {
      for (const auto& h : p) {
        all.push_back(h.from);
        all.push_back(h.to);
      }
    }
  }
  GANTRY_TRY(auto cis, Named(all));
  std::map<int64_t, std::string> labels;
  std::map<int64_t, Ci> by_id;
  for (const auto& c : cis) {
    labels[c.id] = Label(c);
    by_id[c.id] = c;
  }
  auto names = [&](const std::vector<int64_t>& v) {
    core::json::array a;
    for (int64_t id : v) a.push_back(core::json::string(labels.count(id) ? labels[id] : std::to_string(id)));
    return a;
  };
  core::json::array causes;
  for (const auto& c : res.causes) {
    core::json::array paths;
    for (const auto& p : c.paths) paths.push_back(HopsJson(p, labels));
    core::json::object o{{"ci", by_id.count(c.ci) ? core::json::value(ToJson(by_id[c.ci])) : core::json::value(c.ci)},
                         {"fails_together_with", names(c.fail_together)},
                         {"group_size", static_cast<int64_t>(c.group_size)},
                         {"paths", paths}};
    causes.push_back(std::move(o));
  }
  return core::json::object{{"common", res.common},       {"covered", names(res.covered)},
                            {"uncovered", names(res.uncovered)}, {"causes", causes},
                            {"truncated", res.truncated}};
}

core::Result<core::json::object> Service::Neighbourhood(const core::RequestContext& rc, std::string_view ref,
                                                        int depth, int max_results) {
  GANTRY_TRY(auto ci, GetCi(rc, ref));
  GANTRY_TRY_STATUS(Sync());
  NeighbourhoodOptions opt;
  opt.depth = depth;
  opt.max_results = static_cast<size_t>(max_results);
  auto sg = graph_->Neighbourhood(ci.id, opt);
  std::vector<int64_t> ids{ci.id};  // the answer's nodes are the CIs reached, not the start
  for (const auto& n : sg.nodes) ids.push_back(n.id);
  GANTRY_TRY(auto cis, Named(ids));
  std::set<int64_t> allowed = VisibleIds(rc, cis);
  std::set<int64_t> shown;
  core::json::array nodes, edges;
  for (const auto& c : cis) {
    if (c.id != ci.id && !allowed.count(c.id)) continue;
    shown.insert(c.id);
    auto j = ToJson(c);
    auto pos = sg.Find(c.id);
    j["depth"] = pos ? sg.nodes[*pos].depth : 0;
    nodes.push_back(std::move(j));
  }
  for (const auto& e : sg.edges) {
    if (!shown.count(e.from) || !shown.count(e.to)) continue;
    edges.push_back({{"type", sg.relation_types.at(e.relation)}, {"from_id", e.from}, {"to_id", e.to}});
  }
  return core::json::object{{"ci", ToJson(ci)}, {"depth", depth}, {"nodes", nodes}, {"edges", edges},
                            {"truncated", sg.truncated || sg.edges_truncated}};
}

core::Result<core::json::object> Service::Path(const core::RequestContext& rc, std::string_view from,
                                               std::string_view to) {
  GANTRY_TRY(auto a, GetCi(rc, from));
  GANTRY_TRY(auto b, GetCi(rc, to));
  GANTRY_TRY_STATUS(Sync());
  auto p = graph_->ShortestPath(a.id, b.id, PathOptions{64, 2'000'000, {}});
  std::vector<int64_t> ids;
  for (const auto& h : p.hops) {
    ids.push_back(h.from);
    ids.push_back(h.to);
  }
  GANTRY_TRY(auto cis, Named(ids));
  // Hops through CIs the caller may not see (shared infrastructure) are shown unnamed.
  std::set<int64_t> allowed = VisibleIds(rc, cis);
  std::map<int64_t, std::string> labels;
  for (const auto& c : cis) labels[c.id] = allowed.count(c.id) ? Label(c) : std::string("(not visible)");
  return core::json::object{{"from", ToJson(a)}, {"to", ToJson(b)}, {"found", p.found},
                            {"length", static_cast<int64_t>(p.hops.size())}, {"hops", HopsJson(p.hops, labels)},
                            {"truncated", p.truncated}};
}

core::Result<core::json::object> Service::Context(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY(auto ci, GetCi(rc, ref));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  // A part (GPU, NIC, port, outlet) takes its location and owner from its container.
  Ci anchor = ci;
  GANTRY_TRY(auto up, tx->Exec("SELECT from_id FROM cmdb_relations WHERE type = 'contains' AND to_id = ?", {ci.id}));
  std::optional<Ci> container;
  if (!up.rows.empty()) {
    GANTRY_TRY(auto c, Store::GetCi(*tx, up.rows[0].Int(0)));
    if (c) {
      container = *c;
      anchor = *c;
    }
  }
  core::json::array location;
  int64_t cur = anchor.id;
  for (int step = 0; step < 8; ++step) {
    GANTRY_TRY(auto rs, tx->Exec("SELECT to_id, attrs FROM cmdb_relations WHERE type = 'located_in' AND from_id = ?", {cur}));
    if (rs.rows.empty()) break;
    GANTRY_TRY(auto place, Store::GetCi(*tx, rs.rows[0].Int(0)));
    if (!place) break;
    core::json::object hop{{"type", place->type}, {"name", place->name}, {"id", place->id}};
    auto attrs = core::ParseObject(rs.rows[0].Str(1));
    if (attrs && attrs->contains("position_u")) hop["position_u"] = attrs->at("position_u");
    location.push_back(std::move(hop));
    cur = place->id;
  }
  std::reverse(location.begin(), location.end());  // site first
  GANTRY_TRY(auto svc, tx->Exec(
      "SELECT from_id FROM cmdb_relations WHERE type = 'deployed_on' AND to_id IN (?, ?)", {ci.id, anchor.id}));
  std::vector<int64_t> svc_ids;
  for (const auto& r : svc.rows) svc_ids.push_back(r.Int(0));
  tx.reset();
  GANTRY_TRY(auto services, Named(svc_ids));
  core::json::array sj;
  for (const auto& s : services) sj.push_back(ToJson(s));
  GANTRY_TRY_STATUS(Sync());
  auto tr = graph_->ImpactOf(ci.id, TraversalOptions{32, 100000, {}});
  std::map<std::string, int64_t> counts;
  for (const auto& n : tr.nodes) {
    if (n.id != ci.id) ++counts[tr.ci_types.at(n.type)];
  }
  core::json::object by_type;
  int64_t total = 0;
  for (const auto& [t, n] : counts) {
    by_type[t] = n;
    total += n;
  }
  std::optional<std::string> tenant = ci.tenant ? ci.tenant : (container ? container->tenant : std::nullopt);
  if (!tenant) {
    // Ownership may also be modelled as a relationship to a tenant CI.
    GANTRY_TRY(auto tx2, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(auto owned, tx2->Exec(
        "SELECT t.name FROM cmdb_relations r JOIN cmdb_cis t ON t.id = r.to_id "
        "WHERE r.type = 'owned_by' AND r.from_id IN (?, ?) LIMIT 1", {ci.id, anchor.id}));
    if (!owned.rows.empty()) tenant = owned.rows[0].Str(0);
  }
  core::json::object o{{"ci", ToJson(ci)},
                       {"location", location},
                       {"tenant", core::OptValue(tenant)},
                       {"services", sj},
                       {"dependents", core::json::object{{"total", total}, {"by_type", by_type}, {"truncated", tr.truncated}}}};
  if (container) o["container"] = ToJson(*container);
  std::string path;
  for (const auto& l : location) {
    path += (path.empty() ? "" : "/") + std::string(l.as_object().at("name").as_string());
  }
  o["location_path"] = path;
  return o;
}

}  // namespace gantry::cmdb
