#include "monitoring/targets.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <unordered_map>

namespace gantry::monitoring {

namespace {

struct Place {
  std::string type, name;
  int64_t parent = 0;
};

// The CIs of one type that the answer needs, in one query (no paging, no per-CI lookups) with
// only the attributes it uses taken from the JSON.
struct Row {
  int64_t id = 0;
  std::string name, status;
  std::optional<std::string> tenant;
  std::string a, b, c;  // the three attributes asked for, "" when absent or not strings
};

core::Result<std::vector<Row>> AllOfType(cmdb::Service& cmdb, const char* type,
                                         const std::array<std::string_view, 3>& keys) {
  GANTRY_TRY(auto tx, cmdb.db().Begin(store::TxMode::kRead));
  GANTRY_TRY(auto rs, tx->Exec("SELECT id, name, status, tenant, attrs FROM cmdb_cis WHERE type = ? AND "
                               "status <> 'retired' ORDER BY id",
                               {std::string(type)}));
  std::vector<Row> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) {
    Row row{r.Int(0), r.Str(1), r.Str(2), r.OptStr(3), {}, {}, {}};
    std::string attrs = r.Str(4);
    if (attrs.size() > 2) {
      auto o = core::ParseObject(attrs);
      if (o) {
        std::string* dst[3] = {&row.a, &row.b, &row.c};
        for (size_t i = 0; i < 3; ++i) {
          if (keys[i].empty()) continue;
          auto* v = o->if_contains(keys[i]);
          if (v && v->is_string()) *dst[i] = std::string(v->as_string());
        }
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

// Appends `v` as a JSON string.
void Quote(std::string& out, std::string_view v) {
  out += '"';
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

}  // namespace

TargetDirectory::TargetDirectory(cmdb::Service& cmdb, TargetsOptions options)
    : cmdb_(cmdb), options_(options) {}

TargetDirectory::~TargetDirectory() {
  std::thread t;
  {
    std::lock_guard lock(mu_);
    t = std::move(refresher_);
  }
  if (t.joinable()) t.join();
}

void TargetDirectory::Invalidate() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

void TargetDirectory::Refresh(std::string kind) {
  core::Result<std::string> body = [&]() -> core::Result<std::string> {
    std::lock_guard build(build_mu_);
    return Build(kind);
  }();
  std::lock_guard lock(mu_);
  if (body) cache_[kind] = {std::move(*body), std::chrono::steady_clock::now()};
  refreshing_ = false;
}

core::Result<std::string> TargetDirectory::Targets(std::string_view kind) {
  if (kind != "agent" && kind != "bmc") {
    return core::InvalidArgument("kind must be agent or bmc", "kind");
  }
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(std::string(kind));
    if (it != cache_.end()) {
      if (now - it->second.at >= options_.ttl && !refreshing_) {
        // Stale: answer with it and rebuild in the background (one refresher at a time).
        refreshing_ = true;
        if (refresher_.joinable()) refresher_.join();  // finished: it cleared refreshing_
        refresher_ = std::thread([this, k = std::string(kind)] { Refresh(k); });
      }
      return it->second.body;
    }
  }
  // Nothing cached yet: build now (concurrent first callers wait for one build).
  std::lock_guard build(build_mu_);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(std::string(kind));
    if (it != cache_.end()) return it->second.body;
  }
  GANTRY_TRY(auto body, Build(kind));
  std::lock_guard lock(mu_);
  cache_[std::string(kind)] = {body, std::chrono::steady_clock::now()};
  return body;
}

core::Result<std::string> TargetDirectory::Build(std::string_view kind) {
  GANTRY_TRY_STATUS(cmdb_.Sync());
  GANTRY_TRY(auto servers, AllOfType(cmdb_, "server", {"role", "gpu_model", "primary_ip"}));
  std::unordered_map<int64_t, Row> bmcs;
  if (kind == "bmc") {
    GANTRY_TRY(auto list, AllOfType(cmdb_, "bmc", {"address", "protocol", ""}));
    for (auto& b : list) bmcs.emplace(b.id, std::move(b));
  }
  cmdb::GraphIndex& graph = cmdb_.graph();
  // Racks, rows, rooms, sites seen so far, each with its location labels and path computed once.
  struct Location {
    std::vector<std::pair<std::string, std::string>> labels;  // type → name, outermost first
    std::string path;
  };
  std::unordered_map<int64_t, Place> places;
  std::unordered_map<int64_t, Location> locations;
  auto place_of = [&](int64_t id) -> const Place* {
    auto it = places.find(id);
    if (it != places.end()) return &it->second;
    auto info = graph.Find(id);
    if (!info) return nullptr;
    Place p{info->type, info->name, 0};
    cmdb::NeighbourhoodOptions o;
    o.depth = 1;
    o.relation_types = {"located_in"};
    o.max_results = 100'000;
    auto sub = graph.Neighbourhood(id, o);
    for (const auto& e : sub.edges) {
      if (e.from == id) p.parent = e.to;
    }
    return &places.emplace(id, std::move(p)).first->second;
  };
  auto location_of = [&](int64_t located) -> const Location& {
    auto it = locations.find(located);
    if (it != locations.end()) return it->second;
    std::vector<const Place*> chain;
    for (int64_t cur = located; cur && chain.size() < 8;) {
      const Place* p = place_of(cur);
      if (!p) break;
      chain.push_back(p);
      cur = p->parent;
    }
    Location l;
    for (auto p = chain.rbegin(); p != chain.rend(); ++p) {
      if ((*p)->type == "site" || (*p)->type == "room" || (*p)->type == "row" || (*p)->type == "rack") {
        l.labels.emplace_back((*p)->type, (*p)->name);
      }
      l.path += (l.path.empty() ? "" : "/") + (*p)->name;
    }
    return locations.emplace(located, std::move(l)).first->second;
  };

  cmdb::NeighbourhoodOptions around;
  around.depth = 1;
  around.relation_types = {"located_in", "member_of", "owned_by"};
  if (kind == "bmc") around.relation_types.push_back("contains");
  around.max_results = 10'000;
  around.include_edges = false;
  std::string out = "[";
  out.reserve(servers.size() * 320);
  const std::string port = ":" + std::to_string(options_.agent_port);
  std::vector<std::pair<std::string_view, std::string>> labels;
  for (const auto& s : servers) {
    labels.clear();
    std::optional<std::string> tenant = s.tenant;
    std::vector<std::string> partitions;
    int64_t located = 0, bmc_id = 0;
    // Depth 1 without the edge list: each neighbour carries the relationship that reached it.
    auto sub = graph.Neighbourhood(s.id, around);
    for (const auto& n : sub.nodes) {
      if (n.depth != 1 || n.direction != cmdb::HopDirection::kForward) continue;
      const std::string& rel = sub.relation_types[n.relation];
      const std::string& type = sub.ci_types[n.type];
      if (rel == "located_in") {
        located = n.id;
      } else if (rel == "member_of" && type == "slurm_partition") {
        if (auto info = graph.Find(n.id)) partitions.push_back(info->name);
      } else if (rel == "owned_by" && type == "tenant" && !tenant) {
        if (auto info = graph.Find(n.id)) tenant = info->name;
      } else if (rel == "contains" && type == "bmc") {
        bmc_id = n.id;
      }
    }
    std::string target;
    const Row* bmc = nullptr;
    if (kind == "agent") {
      target = (s.c.empty() ? s.name : s.c) + port;
    } else {
      auto b = bmcs.find(bmc_id);
      if (b == bmcs.end() || b->second.a.empty()) continue;
      bmc = &b->second;
      target = bmc->a;
    }
    labels.emplace_back("gantry_ci", bmc ? "bmc/" + bmc->name : "server/" + s.name);
    labels.emplace_back("node", s.name);
    labels.emplace_back("status", s.status);
    if (!s.a.empty()) labels.emplace_back("role", s.a);
    if (!s.b.empty()) labels.emplace_back("gpu_model", s.b);
    if (located) {
      const Location& l = location_of(located);
      for (const auto& [type, name] : l.labels) labels.emplace_back(type, name);
      if (!l.path.empty()) labels.emplace_back("location", l.path);
    }
    if (tenant) labels.emplace_back("tenant", *tenant);
    if (!partitions.empty()) {
      std::sort(partitions.begin(), partitions.end());
      std::string joined;
      for (const auto& p : partitions) joined += (joined.empty() ? "" : ",") + p;
      labels.emplace_back("slurm_partition", std::move(joined));
    }
    if (bmc) {
      labels.emplace_back("bmc", bmc->name);
      if (!bmc->b.empty()) labels.emplace_back("bmc_protocol", bmc->b);
    }
    // By name; of a name given twice (a rack inside a rack) the later, inner one wins.
    std::stable_sort(labels.begin(), labels.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    if (out.size() > 1) out += ',';
    out += "{\"targets\":[";
    Quote(out, target);
    out += "],\"labels\":{";
    bool first = true;
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i + 1 < labels.size() && labels[i + 1].first == labels[i].first) continue;
      if (!first) out += ',';
      first = false;
      Quote(out, labels[i].first);
      out += ':';
      Quote(out, labels[i].second);
    }
    out += "}}";
  }
  out += ']';
  return out;
}

}  // namespace gantry::monitoring
